/**
 * @bitp2p/wire/hash: SHA-256 and double SHA-256 (node:crypto under the
 * package's "node" export condition, @noble/hashes elsewhere), the 80-byte
 * header hasher, SipHash-2-4, merkle roots, and BIP152 short transaction ids.
 * @module @bitp2p/wire/hash
 */

export { createSha256, sha256, SHA256_BACKEND, sha256d, sha256dPair, sha256dParts, type Sha256Hasher } from './hash/sha256.js'
export { createHeaderHasher, sha256dHeader, type HeaderHasher } from './hash/header-hash.js'
export { siphash24, siphash24Hash32Into, siphash24Into, sipHashKey, sipHashKeyFromBytes, type SipHashKey } from './hash/siphash.js'
export { shortId, shortIdKey } from './messages/compact.js'
export { MerkleBuilder, merkleRoot, merkleRootMutated, type MerkleResult } from './block/merkle.js'
export { witnessMerkleRoot } from './block/witness.js'
