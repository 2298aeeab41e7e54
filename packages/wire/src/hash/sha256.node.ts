// node:crypto SHA-256 for Node, Deno and Bun, selected by the "node" export
// condition (see rollup.shared.mjs). Same API and results as sha256.ts.
import { createHash } from 'node:crypto'
import type { Sha256Hasher } from './sha256.js'

export type { Sha256Hasher }

export const SHA256_BACKEND: 'noble' | 'node:crypto' = 'node:crypto'

// Digests come back as Buffer; expose them as plain Uint8Array views so no
// Buffer semantics (e.g. shared-memory slice) leak to users.
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

export function sha256(data: Uint8Array): Uint8Array {
  return plain(createHash('sha256').update(data).digest())
}

export function sha256d(data: Uint8Array): Uint8Array {
  return plain(createHash('sha256').update(createHash('sha256').update(data).digest()).digest())
}

export function createSha256(): Sha256Hasher {
  const h = createHash('sha256')
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

export function sha256dParts(parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return plain(createHash('sha256').update(h.digest()).digest())
}

export function sha256dPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  return plain(createHash('sha256').update(createHash('sha256').update(a).update(b).digest()).digest())
}
