/**
 * sha256d (SHA-256 twice, FIPS 180-4 section 6.2) in plain JS, tuned for
 * what a block parser hashes: thousands of small and medium inputs that are
 * ranges of one large array (transactions in a block), some of them in
 * pieces (the txid preimage of a segwit transaction skips the marker, flag
 * and witness), and 64-byte merkle pairs.
 *
 * A general hasher allocates a state object, buffers and pads through
 * copies, and returns a digest that the second pass hashes again as a new
 * input. Here one module-wide scratch (the state and the message schedule
 * in one Int32Array, a 64-byte block buffer for the edges of pieces) is
 * reused by every call: blocks inside a range are read straight from the
 * caller's array, only the bytes at the edges of a piece pass through the
 * block buffer, and the second pass is the single compression a 32-byte
 * message needs, run on the first pass's state words without leaving the
 * scratch. Each call allocates only its 32-byte result.
 *
 * Both builds use it: the pure-JS (browser) build for every transaction id
 * and merkle node, the Node build for the second pass, the merkle pairs and
 * the first pass of inputs short enough that node:crypto's per-call cost
 * exceeds the hashing (sha256.node.ts). test/hash/sha256d-ranges.test.ts
 * checks it against @noble/hashes and node:crypto on inputs of every length
 * class and every split into pieces.
 *
 * Not reentrant, and it need not be: nothing here calls out, so no other
 * hash can start while one is in progress.
 */

/** Bytes of a SHA-256 message block. */
const BLOCK_BYTES = 64
/** Bytes of a digest. */
const DIGEST_BYTES = 32
/** The last 8 bytes of the final block hold the message length in bits: message bytes must end before this. */
const LENGTH_AT = 56
/** The 1 bit that ends a message, as the first byte of a word. */
const END_MARKER = 0x80000000 | 0
/** The second pass hashes a 32-byte digest: 256 bits, the length word of its one block. */
const DIGEST_BITS = DIGEST_BYTES * 8

/** FIPS 180-4 4.2.2: the round constants. */
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

/** FIPS 180-4 5.3.3: the initial hash value. */
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

/** The scratch: state words s[0..8), then the message schedule s[8..72) (the block being compressed is s[8..24)). */
const s = new Int32Array(8 + 64)
/** Bytes of the current block not yet compressed (the edges of pieces), and how many. */
const pending = new Uint8Array(BLOCK_BYTES)
let pendingLen = 0
/** Message bytes fed so far in the current first pass. */
let total = 0

/** FIPS 180-4 6.2.2: one compression of the block in s[8..24) into the state s[0..8). */
function compress(): void {
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

/** Load the 64 bytes at src[o..o+64) as the block s[8..24) (big-endian words). */
function loadBlock(src: Uint8Array, o: number): void {
  for (let i = 8; i < 24; i++, o += 4) s[i] = (src[o]! << 24) | (src[o + 1]! << 16) | (src[o + 2]! << 8) | src[o + 3]!
}

/** Start a first pass. */
function begin(): void {
  s.set(IV)
  pendingLen = 0
  total = 0
}

/** Feed src[from, to) to the first pass: whole blocks straight from `src`, the edges through `pending`. */
function feed(src: Uint8Array, from: number, to: number): void {
  total += to - from
  if (pendingLen !== 0) {
    while (pendingLen < BLOCK_BYTES && from < to) pending[pendingLen++] = src[from++]!
    if (pendingLen < BLOCK_BYTES) return
    loadBlock(pending, 0)
    compress()
    pendingLen = 0
  }
  for (; to - from >= BLOCK_BYTES; from += BLOCK_BYTES) {
    loadBlock(src, from)
    compress()
  }
  while (from < to) pending[pendingLen++] = src[from++]!
}

/** Pad and compress the end of the first pass, then run the second pass: the digest is s[0..8). */
function finish(): void {
  // FIPS 180-4 5.1.1: the 1 bit, zeros, and the length in bits as a 64-bit big-endian number.
  pending[pendingLen] = 0x80
  pending.fill(0, pendingLen + 1)
  if (pendingLen >= LENGTH_AT) {
    loadBlock(pending, 0)
    compress()
    pending.fill(0)
  }
  loadBlock(pending, 0)
  // total < 2^53, so total * 8 < 2^56: the high word is exact from a division.
  s[22] = Math.floor(total / 0x20000000) | 0
  s[23] = (total * 8) | 0
  compress()
  // Second pass: one block of the 32-byte digest, the 1 bit, zeros and the length 256.
  s.copyWithin(8, 0, 8)
  secondPassOfBlock()
}

/** The digest in s[0..8) as a new 32-byte array. */
function digest(): Uint8Array {
  const out = new Uint8Array(DIGEST_BYTES)
  for (let i = 0, o = 0; i < 8; i++, o += 4) {
    const w = s[i]!
    out[o] = w >>> 24
    out[o + 1] = w >>> 16
    out[o + 2] = w >>> 8
    out[o + 3] = w
  }
  return out
}

/** sha256d(src[start, end)): a new 32-byte array. The range must lie inside `src` (callers check it). */
export function sha256dRangeJs(src: Uint8Array, start: number, end: number): Uint8Array {
  begin()
  feed(src, start, end)
  finish()
  return digest()
}

/**
 * sha256d of src[a0, a1) || src[b0, b1) || src[c0, c1), without joining
 * them: the txid preimage of a segwit transaction is its version, its
 * inputs and outputs, and its locktime. Ranges must lie inside `src`.
 */
export function sha256dRange3Js(src: Uint8Array, a0: number, a1: number, b0: number, b1: number, c0: number, c1: number): Uint8Array {
  begin()
  feed(src, a0, a1)
  feed(src, b0, b1)
  feed(src, c0, c1)
  finish()
  return digest()
}

/** sha256d(a || b) for two 32-byte arrays (a merkle node): the 64 bytes are one block, then the padding block and the second pass. */
export function sha256dPairJs(a: Uint8Array, b: Uint8Array): Uint8Array {
  begin()
  feed(a, 0, a.length)
  feed(b, 0, b.length)
  finish()
  return digest()
}

/**
 * SHA-256 of the 32 bytes at d[o, o + 32), a new 32-byte array: the second
 * pass of sha256d after a first pass done elsewhere (node:crypto).
 */
export function sha256Of32Js(d: Uint8Array, o: number): Uint8Array {
  for (let i = 8; i < 16; i++, o += 4) s[i] = (d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!
  secondPassOfBlock()
  return digest()
}

/** SHA-256 of the 32-byte message in s[8..16): its padding, then one compression from the initial value. */
function secondPassOfBlock(): void {
  s[16] = END_MARKER
  s.fill(0, 17, 23)
  s[23] = DIGEST_BITS
  s.set(IV)
  compress()
}

/**
 * SHA-256 of a 32-byte digest given as a 32-character latin1 string (one
 * character per byte), a new 32-byte array: the second pass after a first
 * pass by node:crypto, whose string output costs much less than a Buffer.
 */
export function sha256OfLatin1Js(d: string): Uint8Array {
  for (let i = 8, o = 0; i < 16; i++, o += 4) s[i] = (d.charCodeAt(o) << 24) | (d.charCodeAt(o + 1) << 16) | (d.charCodeAt(o + 2) << 8) | d.charCodeAt(o + 3)
  secondPassOfBlock()
  return digest()
}

/** Throws RangeError unless [start, end) is a range of integer offsets inside `src`. */
export function checkRange(src: Uint8Array, start: number, end: number): void {
  if (!(start >= 0 && start <= end && end <= src.length && Number.isInteger(start) && Number.isInteger(end))) {
    throw new RangeError(`sha256d: range [${start}, ${end}) is outside a ${src.length}-byte input`)
  }
}
