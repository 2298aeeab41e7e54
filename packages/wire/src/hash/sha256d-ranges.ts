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

import { compress as compressBlock } from './sha256-compress.js'

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

/** FIPS 180-4 5.3.3: the initial hash value. */
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

/** The scratch: the state words s[0..8), then the block being compressed s[8..24). */
const s = new Int32Array(8 + 16)
/** Bytes of the current block not yet compressed (the edges of pieces), and how many. */
const pending = new Uint8Array(BLOCK_BYTES)
let pendingLen = 0
/** Message bytes fed so far in the current first pass. */
let total = 0

/** One compression of the block s[8..24) into the state s[0..8) (sha256-compress.ts, generated). */
function compress(): void {
  compressBlock(s)
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
  lengthAndLastCompress(total)
}

/** The message length in bits into s[22..24), the last compression of the first pass, then the second pass. */
function lengthAndLastCompress(messageBytes: number): void {
  // messageBytes < 2^53, so messageBytes * 8 < 2^56: the high word is exact from a division.
  s[22] = Math.floor(messageBytes / 0x20000000) | 0
  s[23] = (messageBytes * 8) | 0
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
  // One piece: whole blocks straight from src, then the tail read into the
  // last block's words directly (no pass through `pending`).
  s.set(IV)
  let o = start
  for (; end - o >= BLOCK_BYTES; o += BLOCK_BYTES) {
    loadBlock(src, o)
    compress()
  }
  const tail = end - o
  let i = 8
  for (; end - o >= 4; o += 4, i++) s[i] = (src[o]! << 24) | (src[o + 1]! << 16) | (src[o + 2]! << 8) | src[o + 3]!
  // The 0..3 bytes left and the 0x80 end marker make one more word.
  const left = end - o
  s[i++] =
    left === 0
      ? END_MARKER
      : left === 1
        ? (src[o]! << 24) | 0x800000
        : left === 2
          ? (src[o]! << 24) | (src[o + 1]! << 16) | 0x8000
          : (src[o]! << 24) | (src[o + 1]! << 16) | (src[o + 2]! << 8) | 0x80
  s.fill(0, i, 24)
  if (tail >= LENGTH_AT) {
    // No room for the length: this block ends with the marker, a block of zeros and the length follows.
    compress()
    s.fill(0, 8, 24)
  }
  lengthAndLastCompress(end - start)
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
