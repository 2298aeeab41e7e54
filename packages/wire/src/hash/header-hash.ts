/**
 * sha256d of an 80-byte block header, specialised for that one message
 * length (SHA-256 from FIPS 180-4, section 6.2): the compact variant.
 *
 * A general SHA-256 buffers input, pads at the end and allocates its
 * output; for 80 bytes that overhead is most of the cost. This module does
 * exactly the three compressions sha256d of 80 bytes needs, with the
 * padding known in advance:
 *
 *   1. block 1 of the header: bytes 0..63, from the initial hash value;
 *   2. block 2: bytes 64..79, then the 0x80 marker, zeros, and the message
 *      length (640 bits) in the last word;
 *   3. the second SHA-256 over the 32-byte digest: one block of the digest,
 *      0x80, zeros and the length 256 bits, from the initial hash value.
 *
 * This is what browser builds get: one compression function, a loop over
 * the round constants, a few KB of code. The Node variant
 * (header-hash.node.ts, generated) writes every round out and folds the
 * constant padding in, 8-10 % faster for about 45 KB more code, a price
 * worth paying on a server, not in a page. Both export the same API and
 * give identical results (test/hash/header-hash.test.ts checks both).
 *
 * A hasher made by `createHeaderHasher` keeps its state and message
 * schedule in reused Int32Arrays: it allocates nothing per header.
 */

/** Bytes of the message this module hashes: one serialized block header. */
export const HEADER_HASH_INPUT_BYTES = 80

/** Bytes of the digest. */
export const HEADER_HASH_OUTPUT_BYTES = 32

/** Message length of pass 1 in bits (80 bytes), as the padding's length word (W[15] of block 2). */
const PASS1_BITS = HEADER_HASH_INPUT_BYTES * 8
/** Message length of pass 2 in bits (the 32-byte digest of pass 1), W[15] of block 3. */
const PASS2_BITS = HEADER_HASH_OUTPUT_BYTES * 8
/** The 1 bit that ends a message, as the first byte of a word (0x80): W[4] of block 2, W[8] of block 3. */
const END_MARKER = 0x80000000 | 0

/** FIPS 180-4 4.2.2: the round constants (fractional parts of the cube roots of the first 64 primes). */
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
])

/** FIPS 180-4 5.3.3: the initial hash value (fractional parts of the square roots of the first 8 primes). */
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

/** Words of one hasher's scratch: the state (8), then the message schedule (64). */
const SCRATCH_WORDS = 8 + 64

/** A reusable header hasher; see createHeaderHasher. */
export interface HeaderHasher {
  /**
   * Writes sha256d(src[srcOffset .. srcOffset + 80]) to out[outOffset ..
   * outOffset + 32], in the usual (internal) byte order. `out` may be `src`
   * as long as the ranges do not overlap.
   *
   * @throws RangeError when either range is outside its array.
   */
  hashInto(src: Uint8Array, srcOffset: number, out: Uint8Array, outOffset: number): void
}

/**
 * A header hasher with its own scratch, reused across calls: no allocation
 * per header. Each hasher belongs to one owner; nothing is shared between
 * hashers.
 */
export function createHeaderHasher(): HeaderHasher {
  const scratch = new Int32Array(SCRATCH_WORDS)
  return {
    hashInto(src, srcOffset, out, outOffset) {
      if (!(srcOffset >= 0 && srcOffset + HEADER_HASH_INPUT_BYTES <= src.length && Number.isInteger(srcOffset))) {
        throw new RangeError(`header hash: 80 bytes at ${srcOffset} are outside a ${src.length}-byte input`)
      }
      if (!(outOffset >= 0 && outOffset + HEADER_HASH_OUTPUT_BYTES <= out.length && Number.isInteger(outOffset))) {
        throw new RangeError(`header hash: 32 bytes at ${outOffset} are outside a ${out.length}-byte output`)
      }
      headerHash(scratch, src, srcOffset, out, outOffset)
    },
  }
}

/**
 * sha256d of one 80-byte header, as a new 32-byte array. Same result as
 * `sha256d(header)`; for many headers, a HeaderHasher avoids the scratch
 * allocation of each call.
 *
 * @throws RangeError unless `header` is exactly 80 bytes.
 */
export function sha256dHeader(header: Uint8Array): Uint8Array {
  if (header.length !== HEADER_HASH_INPUT_BYTES) {
    throw new RangeError(`header hash: a header is ${HEADER_HASH_INPUT_BYTES} bytes, got ${header.length}`)
  }
  const out = new Uint8Array(HEADER_HASH_OUTPUT_BYTES)
  headerHash(new Int32Array(SCRATCH_WORDS), header, 0, out, 0)
  return out
}

/** Big-endian word at `o`. */
function word(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!
}

/** The three compressions; offsets are checked by the callers. */
function headerHash(s: Int32Array, src: Uint8Array, o: number, out: Uint8Array, p: number): void {
  // Pass 1, block 1: the header's first 64 bytes.
  s.set(IV)
  for (let i = 0; i < 16; i++) s[8 + i] = word(src, o + 4 * i)
  compress(s)
  // Pass 1, block 2: its last 16 bytes and the padding.
  for (let i = 0; i < 4; i++) s[8 + i] = word(src, o + 64 + 4 * i)
  s[12] = END_MARKER
  s.fill(0, 13, 23)
  s[23] = PASS1_BITS
  compress(s)
  // Pass 2: the 32-byte digest and its padding, from the initial value.
  s.copyWithin(8, 0, 8)
  s[16] = END_MARKER
  s.fill(0, 17, 23)
  s[23] = PASS2_BITS
  s.set(IV)
  compress(s)
  for (let i = 0; i < 8; i++) {
    const w = s[i]!
    out[p + 4 * i] = w >>> 24
    out[p + 4 * i + 1] = w >>> 16
    out[p + 4 * i + 2] = w >>> 8
    out[p + 4 * i + 3] = w
  }
}

/** FIPS 180-4 6.2.2: one compression of the block in s[8..24] into the state s[0..8] (s[8..72] is the schedule). */
function compress(s: Int32Array): void {
  for (let t = 24; t < 72; t++) {
    const w15 = s[t - 15]!
    const w2 = s[t - 2]!
    const sigma0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3)
    const sigma1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10)
    s[t] = (sigma1 + s[t - 7]! + sigma0 + s[t - 16]!) | 0
  }
  let a = s[0]!
  let b = s[1]!
  let c = s[2]!
  let d = s[3]!
  let e = s[4]!
  let f = s[5]!
  let g = s[6]!
  let h = s[7]!
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t]! + s[8 + t]!) | 0
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  s[0] = (s[0]! + a) | 0
  s[1] = (s[1]! + b) | 0
  s[2] = (s[2]! + c) | 0
  s[3] = (s[3]! + d) | 0
  s[4] = (s[4]! + e) | 0
  s[5] = (s[5]! + f) | 0
  s[6] = (s[6]! + g) | 0
  s[7] = (s[7]! + h) | 0
}
