// node:crypto SHA-256 for Node, Deno and Bun, selected by the "node" export
// condition (see rollup.shared.mjs). Same API and results as sha256.ts.
//
// Speed notes (bench/README.md): node:crypto's per-call cost dominates for
// the small inputs Bitcoin hashes (80-byte headers, ~250-byte txs), and the
// one-shot crypto.hash() (Node >= 20.12) costs about half of createHash().
// So whole inputs go through crypto.hash() when the runtime has it, and
// split inputs are joined into one small array rather than streamed.
import * as nodeCrypto from 'node:crypto'
import type { Sha256Hasher } from './sha256.js'
import { SHORT_HASH_MAX_BYTES, sha256dShortInto } from './short-hash.js'
// Not from './sha256.js': in the Node variant build that path resolves to this file.
import { checkRange, sha256dPairJs, sha256dRange3Js, sha256dRangeJs, sha256OfLatin1Js } from './sha256d-ranges.js'

export type { Sha256Hasher }

/** Which SHA-256 implementation this build uses: here 'node:crypto' (see sha256.ts for the pure-JS one). */
export const SHA256_BACKEND: 'noble' | 'node:crypto' = 'node:crypto'

type OneShot = (data: Uint8Array) => Uint8Array

// Digests come back as Buffer; expose them as plain Uint8Array views so no
// Buffer semantics (e.g. shared-memory slice) leak to users.
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

const hashFn = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Uint8Array }).hash
/** The same function, asked for a string: 'binary' is Node's name for latin1 (one character per byte). */
const hashStringFn = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'binary') => string }).hash
const once: OneShot =
  typeof hashFn === 'function'
    ? (data) => hashFn('sha256', data, 'buffer')
    : (data) => nodeCrypto.createHash('sha256').update(data).digest()

/** Single SHA-256 of `data`: a fresh 32-byte digest. */
export function sha256(data: Uint8Array): Uint8Array {
  return plain(once(data))
}

/**
 * SHA-256 applied twice: Bitcoin's hash for txids, block hashes, checksums,
 * merkle nodes. Inputs of up to 55 bytes (most message payloads) take the
 * two-compression short hasher (short-hash.node.ts): at that size it is
 * several times faster than two node:crypto calls, whose fixed cost
 * dominates. Longer ones go to node:crypto.
 */
export function sha256d(data: Uint8Array): Uint8Array {
  if (data.length <= SHORT_HASH_MAX_BYTES) {
    const out = new Uint8Array(32)
    sha256dShortInto(data, 0, data.length, out, 0)
    return out
  }
  return plain(once(once(data)))
}

/** Incremental SHA-256, for hashing data that arrives in pieces. */
export function createSha256(): Sha256Hasher {
  return wrapNode(nodeCrypto.createHash('sha256'))
}

function wrapNode(h: nodeCrypto.Hash): Sha256Hasher {
  const api: Sha256Hasher = {
    update(data) {
      h.update(data)
      return api
    },
    digest() {
      return plain(h.digest())
    },
    clone() {
      return wrapNode(h.copy())
    },
  }
  return api
}

/** Inputs up to this size are joined and hashed in one call; larger ones are streamed. */
const JOIN_LIMIT = 16 * 1024

/** sha256d of the concatenation of `parts` (joined first when small, streamed when large; see JOIN_LIMIT). */
export function sha256dParts(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  if (n > JOIN_LIMIT) {
    const h = nodeCrypto.createHash('sha256')
    for (const p of parts) h.update(p)
    return plain(once(h.digest()))
  }
  const joined = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    joined.set(p, o)
    o += p.length
  }
  return plain(once(once(joined)))
}

/**
 * sha256d(a || b) for two 32-byte merkle children, in plain JS
 * (sha256d-ranges.ts): its three compressions cost about what a node:crypto
 * call and the JS second pass cost, without joining the two halves.
 */
export function sha256dPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  return sha256dPairJs(a, b)
}

/**
 * The first pass of sha256d as a 32-character latin1 string. A digest as a
 * string costs about half a digest as a Buffer (no ArrayBuffer to allocate
 * and later collect), and the JS second pass reads it as well as bytes.
 */
const onceLatin1: (data: Uint8Array) => string =
  typeof hashStringFn === 'function'
    ? (data) => hashStringFn('sha256', data, 'binary')
    : (data) => nodeCrypto.createHash('sha256').update(data).digest('binary')

/**
 * Inputs up to this many bytes are hashed in plain JS (sha256d-ranges.ts),
 * longer ones by node:crypto. 55 bytes are the most one block holds with its
 * padding. Measured in CPU time on the project's machine (Node 20, AMD EPYC
 * with SHA extensions): plain JS takes 0.93x the time of one node:crypto
 * call (latin1 digest) plus the JS second pass on an empty input, 1.03x at 55
 * bytes, 1.32x at 87, 1.7x at 183.
 */
export const JS_FIRST_PASS_MAX_BYTES = 55

/**
 * sha256d(src[start, end)) without copying the range: plain JS for short
 * inputs (JS_FIRST_PASS_MAX_BYTES), else one node:crypto call on a view of
 * the range; the second pass, a single compression of 32 bytes, is always
 * plain JS (cheaper than a second node:crypto call).
 *
 * @throws RangeError unless 0 <= start <= end <= src.length.
 */
export function sha256dRange(src: Uint8Array, start: number, end: number): Uint8Array {
  checkRange(src, start, end)
  const n = end - start
  if (n <= JS_FIRST_PASS_MAX_BYTES) return sha256dRangeJs(src, start, end)
  return sha256OfLatin1Js(onceLatin1(new Uint8Array(src.buffer, src.byteOffset + start, n)))
}

/** Reused for joining the pieces of a medium-sized input (up to JOIN_LIMIT): no allocation per call. */
let joinScratch = new Uint8Array(0)

/**
 * sha256d(src[a0, a1) || src[b0, b1) || src[c0, c1)) (the txid of a segwit
 * transaction): plain JS for short inputs; up to JOIN_LIMIT the pieces are
 * copied into one reused scratch array and hashed in one node:crypto call;
 * longer ones are streamed piece by piece. The second pass is plain JS.
 *
 * @throws RangeError unless each range lies inside src.
 */
export function sha256dRange3(src: Uint8Array, a0: number, a1: number, b0: number, b1: number, c0: number, c1: number): Uint8Array {
  checkRange(src, a0, a1)
  checkRange(src, b0, b1)
  checkRange(src, c0, c1)
  const n = a1 - a0 + (b1 - b0) + (c1 - c0)
  if (n <= JS_FIRST_PASS_MAX_BYTES) return sha256dRange3Js(src, a0, a1, b0, b1, c0, c1)
  if (n > JOIN_LIMIT) {
    const h = nodeCrypto.createHash('sha256')
    h.update(src.subarray(a0, a1)).update(src.subarray(b0, b1)).update(src.subarray(c0, c1))
    return sha256OfLatin1Js(h.digest('binary'))
  }
  if (joinScratch.length < n) joinScratch = new Uint8Array(JOIN_LIMIT)
  const j = joinScratch
  let o = 0
  // The short first and last pieces (a version, a locktime) byte by byte, the long middle one with set().
  for (let i = a0; i < a1; i++) j[o++] = src[i]!
  if (b1 > b0) {
    j.set(src.subarray(b0, b1), o)
    o += b1 - b0
  }
  for (let i = c0; i < c1; i++) j[o++] = src[i]!
  return sha256OfLatin1Js(onceLatin1(new Uint8Array(j.buffer, 0, n)))
}
