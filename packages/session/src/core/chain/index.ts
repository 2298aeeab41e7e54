/**
 * The header chain of SPV header sync: validation rules, the most-work
 * header tree, and header storage. The Node flat-file store is not exported
 * here (it imports node:fs): it is on '@bitp2p/session/node'.
 */
export * from './validation.js'
export * from './tree.js'
export * from './locator.js'
export * from './store.js'
export { HashIndex, hashKey, HASH_INDEX_INITIAL_BUCKETS, type HashSource } from './hash-index.js'
