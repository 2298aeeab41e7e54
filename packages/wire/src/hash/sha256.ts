// Pure-JS SHA-256 (the default on every runtime). A Node/Deno/Bun build swaps
// in sha256.node.ts (node:crypto) through the package's "node" export condition;
// test/hash.test.ts checks both give identical results.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { SHORT_HASH_MAX_BYTES, sha256dShortInto } from './short-hash.js'
import { checkRange, sha256dPairJs, sha256dRange3Js, sha256dRangeJs } from './sha256d-ranges.js'

/** An incremental SHA-256 (from `createSha256`): feed pieces with `update`, then take `digest` once. */
export interface Sha256Hasher {
  /** Adds `data` to the hashed input and returns the same hasher, for chaining. */
  update(data: Uint8Array): Sha256Hasher
  /** The 32-byte digest; the hasher must not be used afterwards. */
  digest(): Uint8Array
  /** An independent hasher with the same input so far (a digest of the input up to here, while this one goes on). */
  clone(): Sha256Hasher
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
  return wrapNoble(nobleSha256.create())
}

function wrapNoble(h: ReturnType<typeof nobleSha256.create>): Sha256Hasher {
  const api: Sha256Hasher = {
    update(data) {
      h.update(data)
      return api
    },
    digest() {
      return h.digest()
    },
    clone() {
      return wrapNoble(h.clone())
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

/**
 * sha256d(a || b) for two 32-byte merkle children: sha256d-ranges.ts, which
 * does the three compressions with no allocation but the result (about
 * three times as fast as @noble/hashes on these 64 bytes).
 */
export function sha256dPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  return sha256dPairJs(a, b)
}

/**
 * sha256d(src[start, end)) without a view or a copy of the range: a
 * transaction's wtxid (or a legacy one's txid) hashed where it lies in its
 * block. Plain JS at every length here (sha256d-ranges.ts, two to three
 * times as fast as @noble/hashes on transaction-sized inputs).
 *
 * @throws RangeError unless 0 <= start <= end <= src.length.
 */
export function sha256dRange(src: Uint8Array, start: number, end: number): Uint8Array {
  checkRange(src, start, end)
  return sha256dRangeJs(src, start, end)
}

/**
 * sha256d(src[a0, a1) || src[b0, b1) || src[c0, c1)) without joining the
 * pieces: the txid of a segwit transaction, whose legacy serialization is
 * its bytes without the marker, flag and witness.
 *
 * @throws RangeError unless each range lies inside src.
 */
export function sha256dRange3(src: Uint8Array, a0: number, a1: number, b0: number, b1: number, c0: number, c1: number): Uint8Array {
  checkRange(src, a0, a1)
  checkRange(src, b0, b1)
  checkRange(src, c0, c1)
  return sha256dRange3Js(src, a0, a1, b0, b1, c0, c1)
}
