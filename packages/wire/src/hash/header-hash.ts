/**
 * sha256d of an 80-byte block header, specialised for that one message
 * length (SHA-256 from FIPS 180-4, section 6.2).
 *
 * A general SHA-256 buffers input, pads at the end and allocates its output;
 * node:crypto adds a per-call cost far above the hashing itself for inputs
 * this small. Header validation hashes every header it sees, so this module
 * does exactly the three compressions sha256d of 80 bytes needs, with the
 * padding known in advance:
 *
 *   1. block 1 of the header: bytes 0..63;
 *   2. block 2: bytes 64..79, then the 0x80 marker, zeros, and the message
 *      length (640 bits) in the last word;
 *   3. the second SHA-256 over the 32-byte digest: one block of the digest,
 *      0x80, zeros and the length 256 bits.
 *
 * The state and the message schedule live in Int32 locals and one reused
 * Int32Array, so a hasher made by `createHeaderHasher` allocates nothing per
 * header (nor per call, while it is given the same arrays). Results are identical to `sha256d` (test/hash/header-hash.test.ts
 * checks both backends on random inputs and on real mainnet headers).
 */

/** Bytes of the message this module hashes: one serialized block header. */
export const HEADER_HASH_INPUT_BYTES = 80

/** Bytes of the digest. */
export const HEADER_HASH_OUTPUT_BYTES = 32

/** Message length of pass 1 in bits (80 bytes), as the padding's length word. */
const PASS1_BITS = HEADER_HASH_INPUT_BYTES * 8
/** Message length of pass 2 in bits (the 32-byte digest of pass 1). */
const PASS2_BITS = HEADER_HASH_OUTPUT_BYTES * 8
/** The 1 bit that ends a message, as the first byte of a word (0x80). */
const END_MARKER = 0x80000000 | 0

/**
 * FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. Read-only.
 */
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
const IV0 = 0x6a09e667 | 0
const IV1 = 0xbb67ae85 | 0
const IV2 = 0x3c6ef372 | 0
const IV3 = 0xa54ff53a | 0
const IV4 = 0x510e527f | 0
const IV5 = 0x9b05688c | 0
const IV6 = 0x1f83d9ab | 0
const IV7 = 0x5be0cd19 | 0

/** Scratch of one hasher: the 16 words of a block, then the 8 state words. */
const BLOCK_WORDS = 16
const STATE_OFFSET = BLOCK_WORDS
const SCRATCH_WORDS = BLOCK_WORDS + 8

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
 * A header hasher with its own scratch (24 words), reused across calls: no
 * allocation per header. It keeps a DataView of the last input and output
 * arrays (so it holds them until it is given others). Each hasher belongs
 * to one owner; nothing is shared between hashers.
 */
export function createHeaderHasher(): HeaderHasher {
  const scratch = new Int32Array(SCRATCH_WORDS)
  // Words are read and written big-endian through DataViews (one load and a
  // byte swap per word instead of four byte loads). The views of the last
  // input and output arrays are kept: a HeaderTree passes the same few
  // arrays call after call.
  let input: Uint8Array | undefined
  let inputView: DataView | undefined
  let output: Uint8Array | undefined
  let outputView: DataView | undefined
  return {
    hashInto(src, srcOffset, out, outOffset) {
      if (
        !(srcOffset >= 0 && srcOffset + HEADER_HASH_INPUT_BYTES <= src.length && Number.isInteger(srcOffset)) ||
        !(outOffset >= 0 && outOffset + HEADER_HASH_OUTPUT_BYTES <= out.length && Number.isInteger(outOffset))
      ) {
        // Out of line: the messages would make this hot function too big for V8 to inline.
        throw rangeError(src, srcOffset, out, outOffset)
      }
      if (src !== input) {
        input = src
        inputView = new DataView(src.buffer, src.byteOffset, src.byteLength)
      }
      if (out !== output) {
        output = out
        outputView = new DataView(out.buffer, out.byteOffset, out.byteLength)
      }
      headerHash(scratch, inputView!, srcOffset, outputView!, outOffset)
    },
  }
}

/** The RangeError hashInto throws for offsets outside its arrays. */
function rangeError(src: Uint8Array, srcOffset: number, out: Uint8Array, outOffset: number): RangeError {
  return srcOffset >= 0 && srcOffset + HEADER_HASH_INPUT_BYTES <= src.length && Number.isInteger(srcOffset)
    ? new RangeError(`header hash: 32 bytes at ${outOffset} are outside a ${out.length}-byte output`)
    : new RangeError(`header hash: 80 bytes at ${srcOffset} are outside a ${src.length}-byte input`)
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
  const src = new DataView(header.buffer, header.byteOffset, HEADER_HASH_INPUT_BYTES)
  headerHash(new Int32Array(SCRATCH_WORDS), src, 0, new DataView(out.buffer), 0)
  return out
}

/** The three compressions, big-endian words in and out; offsets are checked by the callers. */
function headerHash(s: Int32Array, src: DataView, o: number, out: DataView, p: number): void {
  // Pass 1, block 1: the first 64 header bytes.
  for (let i = 0; i < 16; i++) s[i] = src.getInt32(o + 4 * i)
  setState(s, IV0, IV1, IV2, IV3, IV4, IV5, IV6, IV7)
  compress(s)
  // Pass 1, block 2: the last 16 bytes, then the padding of an 80-byte message.
  for (let i = 0; i < 4; i++) s[i] = src.getInt32(o + 64 + 4 * i)
  s[4] = END_MARKER
  for (let i = 5; i < 15; i++) s[i] = 0
  s[15] = PASS1_BITS
  compress(s)
  // Pass 2: the 8 digest words, padded as a 32-byte message, from the IV again.
  for (let i = 0; i < 8; i++) s[i] = s[STATE_OFFSET + i]!
  s[8] = END_MARKER
  for (let i = 9; i < 15; i++) s[i] = 0
  s[15] = PASS2_BITS
  setState(s, IV0, IV1, IV2, IV3, IV4, IV5, IV6, IV7)
  compress(s)
  // The digest: the state words, big-endian.
  for (let i = 0; i < 8; i++) out.setInt32(p + 4 * i, s[STATE_OFFSET + i]!)
}

function setState(s: Int32Array, a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number): void {
  s[STATE_OFFSET] = a
  s[STATE_OFFSET + 1] = b
  s[STATE_OFFSET + 2] = c
  s[STATE_OFFSET + 3] = d
  s[STATE_OFFSET + 4] = e
  s[STATE_OFFSET + 5] = f
  s[STATE_OFFSET + 6] = g
  s[STATE_OFFSET + 7] = h
}

/**
 * One SHA-256 compression (FIPS 180-4 6.2.2): s[0..15] holds the block's
 * words and the state words at STATE_OFFSET are updated in place.
 *
 * Written out 16 rounds at a time, with the schedule in 16 rolling locals
 * (w[t % 16]), because that is what V8 compiles to straight Int32 code: a
 * loop over one round with the schedule in an array runs ~1.6x slower, and
 * helper functions for the sigmas are not inlined at this size (4x slower).
 * Each round is, with the names rotating one place per round:
 *
 *   T1 = (h + K[t] + W[t]) + Sigma1(e) + Ch(e, f, g)
 *   d += T1
 *   h  = T1 + (Sigma0(a) + Maj(a, b, c))
 *
 * and from round 16 on, before it:
 *
 *   W[t] = sigma1(W[t-2]) + W[t-7] + sigma0(W[t-15]) + W[t-16]
 *
 * where Sigma0(x) = ROTR2 ^ ROTR13 ^ ROTR22, Sigma1(x) = ROTR6 ^ ROTR11 ^
 * ROTR25, sigma0(x) = ROTR7 ^ ROTR18 ^ SHR3, sigma1(x) = ROTR17 ^ ROTR19 ^
 * SHR10. Ch and Maj are written in equivalent forms with fewer operations:
 * Ch(x, y, z) = (x & y) ^ (~x & z) = z ^ (x & (y ^ z)), and Maj(x, y, z) =
 * (x & y) ^ (x & z) ^ (y & z) = (x & y) | (z & (x | y)). The sums are
 * grouped so that h + K[t] + W[t], known a round early, is added off the
 * critical path through e and a (CPUs do not reassociate additions; this
 * is ~10% faster). All sums are modulo 2^32 (`| 0`).
 */
function compress(s: Int32Array): void {
  let a = s[STATE_OFFSET]!
  let b = s[STATE_OFFSET + 1]!
  let c = s[STATE_OFFSET + 2]!
  let d = s[STATE_OFFSET + 3]!
  let e = s[STATE_OFFSET + 4]!
  let f = s[STATE_OFFSET + 5]!
  let g = s[STATE_OFFSET + 6]!
  let h = s[STATE_OFFSET + 7]!
  let w0 = s[0]!
  let w1 = s[1]!
  let w2 = s[2]!
  let w3 = s[3]!
  let w4 = s[4]!
  let w5 = s[5]!
  let w6 = s[6]!
  let w7 = s[7]!
  let w8 = s[8]!
  let w9 = s[9]!
  let w10 = s[10]!
  let w11 = s[11]!
  let w12 = s[12]!
  let w13 = s[13]!
  let w14 = s[14]!
  let w15 = s[15]!
  let t1: number
  // Rounds 0..15: the block's own words.
  t1 = (((h + K[0]! + w0) | 0) + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g)))) | 0
  d = (d + t1) | 0
  h = (t1 + (((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0)) | 0
  t1 = (((g + K[1]! + w1) | 0) + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + (f ^ (d & (e ^ f)))) | 0
  c = (c + t1) | 0
  g = (t1 + (((((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) | (b & (h | a)))) | 0)) | 0
  t1 = (((f + K[2]! + w2) | 0) + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + (e ^ (c & (d ^ e)))) | 0
  b = (b + t1) | 0
  f = (t1 + (((((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) | (a & (g | h)))) | 0)) | 0
  t1 = (((e + K[3]! + w3) | 0) + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + (d ^ (b & (c ^ d)))) | 0
  a = (a + t1) | 0
  e = (t1 + (((((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) | (h & (f | g)))) | 0)) | 0
  t1 = (((d + K[4]! + w4) | 0) + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + (c ^ (a & (b ^ c)))) | 0
  h = (h + t1) | 0
  d = (t1 + (((((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) | (g & (e | f)))) | 0)) | 0
  t1 = (((c + K[5]! + w5) | 0) + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + (b ^ (h & (a ^ b)))) | 0
  g = (g + t1) | 0
  c = (t1 + (((((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) | (f & (d | e)))) | 0)) | 0
  t1 = (((b + K[6]! + w6) | 0) + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + (a ^ (g & (h ^ a)))) | 0
  f = (f + t1) | 0
  b = (t1 + (((((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) | (e & (c | d)))) | 0)) | 0
  t1 = (((a + K[7]! + w7) | 0) + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + (h ^ (f & (g ^ h)))) | 0
  e = (e + t1) | 0
  a = (t1 + (((((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) | (d & (b | c)))) | 0)) | 0
  t1 = (((h + K[8]! + w8) | 0) + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g)))) | 0
  d = (d + t1) | 0
  h = (t1 + (((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0)) | 0
  t1 = (((g + K[9]! + w9) | 0) + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + (f ^ (d & (e ^ f)))) | 0
  c = (c + t1) | 0
  g = (t1 + (((((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) | (b & (h | a)))) | 0)) | 0
  t1 = (((f + K[10]! + w10) | 0) + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + (e ^ (c & (d ^ e)))) | 0
  b = (b + t1) | 0
  f = (t1 + (((((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) | (a & (g | h)))) | 0)) | 0
  t1 = (((e + K[11]! + w11) | 0) + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + (d ^ (b & (c ^ d)))) | 0
  a = (a + t1) | 0
  e = (t1 + (((((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) | (h & (f | g)))) | 0)) | 0
  t1 = (((d + K[12]! + w12) | 0) + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + (c ^ (a & (b ^ c)))) | 0
  h = (h + t1) | 0
  d = (t1 + (((((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) | (g & (e | f)))) | 0)) | 0
  t1 = (((c + K[13]! + w13) | 0) + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + (b ^ (h & (a ^ b)))) | 0
  g = (g + t1) | 0
  c = (t1 + (((((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) | (f & (d | e)))) | 0)) | 0
  t1 = (((b + K[14]! + w14) | 0) + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + (a ^ (g & (h ^ a)))) | 0
  f = (f + t1) | 0
  b = (t1 + (((((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) | (e & (c | d)))) | 0)) | 0
  t1 = (((a + K[15]! + w15) | 0) + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + (h ^ (f & (g ^ h)))) | 0
  e = (e + t1) | 0
  a = (t1 + (((((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) | (d & (b | c)))) | 0)) | 0
  // Rounds 16..63, 16 per pass: W[t] replaces W[t-16] in w[t % 16].
  for (let t = 16; t < 64; t += 16) {
    w0 = ((((w14 >>> 17) | (w14 << 15)) ^ ((w14 >>> 19) | (w14 << 13)) ^ (w14 >>> 10)) + w9 + (((w1 >>> 7) | (w1 << 25)) ^ ((w1 >>> 18) | (w1 << 14)) ^ (w1 >>> 3)) + w0) | 0
    t1 = (((h + K[t + 0]! + w0) | 0) + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g)))) | 0
    d = (d + t1) | 0
    h = (t1 + (((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0)) | 0
    w1 = ((((w15 >>> 17) | (w15 << 15)) ^ ((w15 >>> 19) | (w15 << 13)) ^ (w15 >>> 10)) + w10 + (((w2 >>> 7) | (w2 << 25)) ^ ((w2 >>> 18) | (w2 << 14)) ^ (w2 >>> 3)) + w1) | 0
    t1 = (((g + K[t + 1]! + w1) | 0) + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + (f ^ (d & (e ^ f)))) | 0
    c = (c + t1) | 0
    g = (t1 + (((((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) | (b & (h | a)))) | 0)) | 0
    w2 = ((((w0 >>> 17) | (w0 << 15)) ^ ((w0 >>> 19) | (w0 << 13)) ^ (w0 >>> 10)) + w11 + (((w3 >>> 7) | (w3 << 25)) ^ ((w3 >>> 18) | (w3 << 14)) ^ (w3 >>> 3)) + w2) | 0
    t1 = (((f + K[t + 2]! + w2) | 0) + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + (e ^ (c & (d ^ e)))) | 0
    b = (b + t1) | 0
    f = (t1 + (((((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) | (a & (g | h)))) | 0)) | 0
    w3 = ((((w1 >>> 17) | (w1 << 15)) ^ ((w1 >>> 19) | (w1 << 13)) ^ (w1 >>> 10)) + w12 + (((w4 >>> 7) | (w4 << 25)) ^ ((w4 >>> 18) | (w4 << 14)) ^ (w4 >>> 3)) + w3) | 0
    t1 = (((e + K[t + 3]! + w3) | 0) + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + (d ^ (b & (c ^ d)))) | 0
    a = (a + t1) | 0
    e = (t1 + (((((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) | (h & (f | g)))) | 0)) | 0
    w4 = ((((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10)) + w13 + (((w5 >>> 7) | (w5 << 25)) ^ ((w5 >>> 18) | (w5 << 14)) ^ (w5 >>> 3)) + w4) | 0
    t1 = (((d + K[t + 4]! + w4) | 0) + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + (c ^ (a & (b ^ c)))) | 0
    h = (h + t1) | 0
    d = (t1 + (((((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) | (g & (e | f)))) | 0)) | 0
    w5 = ((((w3 >>> 17) | (w3 << 15)) ^ ((w3 >>> 19) | (w3 << 13)) ^ (w3 >>> 10)) + w14 + (((w6 >>> 7) | (w6 << 25)) ^ ((w6 >>> 18) | (w6 << 14)) ^ (w6 >>> 3)) + w5) | 0
    t1 = (((c + K[t + 5]! + w5) | 0) + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + (b ^ (h & (a ^ b)))) | 0
    g = (g + t1) | 0
    c = (t1 + (((((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) | (f & (d | e)))) | 0)) | 0
    w6 = ((((w4 >>> 17) | (w4 << 15)) ^ ((w4 >>> 19) | (w4 << 13)) ^ (w4 >>> 10)) + w15 + (((w7 >>> 7) | (w7 << 25)) ^ ((w7 >>> 18) | (w7 << 14)) ^ (w7 >>> 3)) + w6) | 0
    t1 = (((b + K[t + 6]! + w6) | 0) + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + (a ^ (g & (h ^ a)))) | 0
    f = (f + t1) | 0
    b = (t1 + (((((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) | (e & (c | d)))) | 0)) | 0
    w7 = ((((w5 >>> 17) | (w5 << 15)) ^ ((w5 >>> 19) | (w5 << 13)) ^ (w5 >>> 10)) + w0 + (((w8 >>> 7) | (w8 << 25)) ^ ((w8 >>> 18) | (w8 << 14)) ^ (w8 >>> 3)) + w7) | 0
    t1 = (((a + K[t + 7]! + w7) | 0) + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + (h ^ (f & (g ^ h)))) | 0
    e = (e + t1) | 0
    a = (t1 + (((((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) | (d & (b | c)))) | 0)) | 0
    w8 = ((((w6 >>> 17) | (w6 << 15)) ^ ((w6 >>> 19) | (w6 << 13)) ^ (w6 >>> 10)) + w1 + (((w9 >>> 7) | (w9 << 25)) ^ ((w9 >>> 18) | (w9 << 14)) ^ (w9 >>> 3)) + w8) | 0
    t1 = (((h + K[t + 8]! + w8) | 0) + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g)))) | 0
    d = (d + t1) | 0
    h = (t1 + (((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)))) | 0)) | 0
    w9 = ((((w7 >>> 17) | (w7 << 15)) ^ ((w7 >>> 19) | (w7 << 13)) ^ (w7 >>> 10)) + w2 + (((w10 >>> 7) | (w10 << 25)) ^ ((w10 >>> 18) | (w10 << 14)) ^ (w10 >>> 3)) + w9) | 0
    t1 = (((g + K[t + 9]! + w9) | 0) + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + (f ^ (d & (e ^ f)))) | 0
    c = (c + t1) | 0
    g = (t1 + (((((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) | (b & (h | a)))) | 0)) | 0
    w10 = ((((w8 >>> 17) | (w8 << 15)) ^ ((w8 >>> 19) | (w8 << 13)) ^ (w8 >>> 10)) + w3 + (((w11 >>> 7) | (w11 << 25)) ^ ((w11 >>> 18) | (w11 << 14)) ^ (w11 >>> 3)) + w10) | 0
    t1 = (((f + K[t + 10]! + w10) | 0) + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + (e ^ (c & (d ^ e)))) | 0
    b = (b + t1) | 0
    f = (t1 + (((((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) | (a & (g | h)))) | 0)) | 0
    w11 = ((((w9 >>> 17) | (w9 << 15)) ^ ((w9 >>> 19) | (w9 << 13)) ^ (w9 >>> 10)) + w4 + (((w12 >>> 7) | (w12 << 25)) ^ ((w12 >>> 18) | (w12 << 14)) ^ (w12 >>> 3)) + w11) | 0
    t1 = (((e + K[t + 11]! + w11) | 0) + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + (d ^ (b & (c ^ d)))) | 0
    a = (a + t1) | 0
    e = (t1 + (((((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) | (h & (f | g)))) | 0)) | 0
    w12 = ((((w10 >>> 17) | (w10 << 15)) ^ ((w10 >>> 19) | (w10 << 13)) ^ (w10 >>> 10)) + w5 + (((w13 >>> 7) | (w13 << 25)) ^ ((w13 >>> 18) | (w13 << 14)) ^ (w13 >>> 3)) + w12) | 0
    t1 = (((d + K[t + 12]! + w12) | 0) + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + (c ^ (a & (b ^ c)))) | 0
    h = (h + t1) | 0
    d = (t1 + (((((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) | (g & (e | f)))) | 0)) | 0
    w13 = ((((w11 >>> 17) | (w11 << 15)) ^ ((w11 >>> 19) | (w11 << 13)) ^ (w11 >>> 10)) + w6 + (((w14 >>> 7) | (w14 << 25)) ^ ((w14 >>> 18) | (w14 << 14)) ^ (w14 >>> 3)) + w13) | 0
    t1 = (((c + K[t + 13]! + w13) | 0) + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) + (b ^ (h & (a ^ b)))) | 0
    g = (g + t1) | 0
    c = (t1 + (((((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) | (f & (d | e)))) | 0)) | 0
    w14 = ((((w12 >>> 17) | (w12 << 15)) ^ ((w12 >>> 19) | (w12 << 13)) ^ (w12 >>> 10)) + w7 + (((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3)) + w14) | 0
    t1 = (((b + K[t + 14]! + w14) | 0) + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + (a ^ (g & (h ^ a)))) | 0
    f = (f + t1) | 0
    b = (t1 + (((((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) | (e & (c | d)))) | 0)) | 0
    w15 = ((((w13 >>> 17) | (w13 << 15)) ^ ((w13 >>> 19) | (w13 << 13)) ^ (w13 >>> 10)) + w8 + (((w0 >>> 7) | (w0 << 25)) ^ ((w0 >>> 18) | (w0 << 14)) ^ (w0 >>> 3)) + w15) | 0
    t1 = (((a + K[t + 15]! + w15) | 0) + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + (h ^ (f & (g ^ h)))) | 0
    e = (e + t1) | 0
    a = (t1 + (((((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) | (d & (b | c)))) | 0)) | 0
  }
  s[STATE_OFFSET] = (s[STATE_OFFSET]! + a) | 0
  s[STATE_OFFSET + 1] = (s[STATE_OFFSET + 1]! + b) | 0
  s[STATE_OFFSET + 2] = (s[STATE_OFFSET + 2]! + c) | 0
  s[STATE_OFFSET + 3] = (s[STATE_OFFSET + 3]! + d) | 0
  s[STATE_OFFSET + 4] = (s[STATE_OFFSET + 4]! + e) | 0
  s[STATE_OFFSET + 5] = (s[STATE_OFFSET + 5]! + f) | 0
  s[STATE_OFFSET + 6] = (s[STATE_OFFSET + 6]! + g) | 0
  s[STATE_OFFSET + 7] = (s[STATE_OFFSET + 7]! + h) | 0
}
