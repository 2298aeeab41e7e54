/**
 * @bitp2p/wire/filters: BIP37 bloom filters and partial merkle trees
 * (merkleblock), and BIP158 compact block filters (Golomb-coded sets, the
 * basic filter, filter hashes and headers).
 * @module @bitp2p/wire/filters
 */

export { BLOOM_SEED_MULTIPLIER, BloomFilter, BloomFlags, murmur3, type BloomFilterParams } from './block/bloom-filter.js'
export {
  buildPartialMerkleTree,
  extractMatches,
  maxBlockTxs,
  verifyMerkleBlock,
  type MatchedTx,
  type PartialMerkleResult,
  type PartialMerkleTree,
} from './block/partial-merkle.js'
export {
  BASIC_FILTER_M,
  BASIC_FILTER_P,
  BASIC_FILTER_PARAMS,
  basicFilterItems,
  buildBasicFilter,
  buildGcsFilter,
  decodeBasicFilter,
  filterHash,
  filterHeader,
  FilterMatcher,
  GcsFilter,
  gcsHashToRange,
  gcsKey,
  type GcsParams,
} from './block/gcs.js'
export { FilterType } from './messages/filters.js'
