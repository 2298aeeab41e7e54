// Pure-JS SHA-256 (the default on every runtime). A Node/Deno/Bun build swaps
// in sha256.node.ts (node:crypto) through the package's "node" export condition;
// test/hash.test.ts checks both give identical results.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { SHORT_HASH_MAX_BYTES, sha256dShortInto } from './short-hash.js'

/** An incremental SHA-256 (from `createSha256`): feed pieces with `update`, then take `digest` once. */
export interface Sha256Hasher {
  /** Adds `data` to the hashed input and returns the same hasher, for chaining. */
  update(data: Uint8Array): Sha256Hasher
  /** The 32-byte digest; the hasher must not be used afterwards. */
  digest(): Uint8Array
}

/**
 * Which SHA-256 implementation this build uses: 'noble' (pure JS,
 * @noble/hashes) by default, 'node:crypto' when the package's "node" export
 * condition selected the native twin. Results are identical; this is for
 * diagnostics and benchmarks.
 */
export const SHA256_BACKEND: 'noble' | 'node:crypto' = 'noble'

/** Single SHA-256 of `data` (32 bytes). Bitcoin mostly hashes with `sha256d`; one round is for e.g. BIP152 short-ID keys. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data)
}

/**
 * SHA-256 applied twice: Bitcoin's hash for txids, block hashes, checksums,
 * merkle nodes. Inputs of up to 55 bytes (most message payloads) take the
 * two-compression short hasher (short-hash.ts), which allocates only the
 * digest; longer ones @noble/hashes.
 */
export function sha256d(data: Uint8Array): Uint8Array {
  if (data.length <= SHORT_HASH_MAX_BYTES) {
    const out = new Uint8Array(32)
    sha256dShortInto(data, 0, data.length, out, 0)
    return out
  }
  return nobleSha256(nobleSha256(data))
}

/** Incremental SHA-256, for hashing data that arrives in pieces. */
export function createSha256(): Sha256Hasher {
  const h = nobleSha256.create()
  const api: Sha256Hasher = {
    update(data) {
      h.update(data)
      return api
    },
    digest() {
      return h.digest()
    },
  }
  return api
}

/** sha256d of the concatenation of `parts`, without concatenating them. */
export function sha256dParts(parts: readonly Uint8Array[]): Uint8Array {
  const h = nobleSha256.create()
  for (const p of parts) h.update(p)
  return nobleSha256(h.digest())
}

/** sha256d(a || b) for two 32-byte merkle children. */
export function sha256dPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  return nobleSha256(nobleSha256.create().update(a).update(b).digest())
}
