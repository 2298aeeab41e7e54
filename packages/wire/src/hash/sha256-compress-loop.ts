/**
 * One SHA-256 compression (FIPS 180-4 6.2.2) as a loop over the round
 * constants: the compact form browser builds use for the header and frame
 * hashers (a few hundred bytes gzipped, against about 2 KB for the
 * written-out sha256-compress.ts the block hasher uses for speed), with
 * what both hashers do alike: start from the initial value, the second pass
 * of sha256d over a digest, and writing a digest out.
 *
 * The scratch layout: the state in s[0..8], the block in s[8..24], the rest
 * of the message schedule in s[24..72].
 */

/** Words of a scratch: the state (8), then the message schedule (64). */
export const LOOP_SCRATCH_WORDS = 8 + 64

/** FIPS 180-4 5.3.3: the initial hash value (fractional parts of the square roots of the first 8 primes). */
export const SHA256_IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

/** The 1 bit that ends a message, as the first byte of a word (0x80). */
export const END_MARKER = 0x80000000 | 0

/** Message length of sha256d's second pass in bits: a 32-byte digest. */
const DIGEST_BITS = 32 * 8

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

/** FIPS 180-4 6.2.2: one compression of the block in s[8..24] into the state s[0..8] (s[8..72] is the schedule). */
export function compressLoop(s: Int32Array): void {
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

/**
 * Pass 2 of sha256d: replaces the digest in s[0..8] with the SHA-256 of its
 * 32 bytes (one block: the digest, 0x80, zeros and the length 256 bits,
 * from the initial value).
 */
export function hashDigestInPlace(s: Int32Array): void {
  s.copyWithin(8, 0, 8)
  s[16] = END_MARKER
  s.fill(0, 17, 23)
  s[23] = DIGEST_BITS
  s.set(SHA256_IV)
  compressLoop(s)
}

/** Writes the digest in s[0..8] to out[p .. p + 32], big-endian words. The range is checked by the callers. */
export function storeDigest(s: Int32Array, out: Uint8Array, p: number): void {
  for (let i = 0; i < 8; i++) {
    const w = s[i]!
    out[p + 4 * i] = w >>> 24
    out[p + 4 * i + 1] = w >>> 16
    out[p + 4 * i + 2] = w >>> 8
    out[p + 4 * i + 3] = w
  }
}
