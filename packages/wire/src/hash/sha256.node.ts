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
  const h = nodeCrypto.createHash('sha256')
  const api: Sha256Hasher = {
    update(data) {
      h.update(data)
      return api
    },
    digest() {
      return plain(h.digest())
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

/** sha256d(a || b) for two 32-byte merkle children. */
export function sha256dPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length)
  joined.set(a, 0)
  joined.set(b, a.length)
  return plain(once(once(joined)))
}
