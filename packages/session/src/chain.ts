/**
 * @bitp2p/session/chain: the header chain. Contextual header validation
 * (proof of work, retargets, median time past, versions, checkpoints), the
 * most-work HeaderTree, block locators, the hash index, and the checks a
 * HeaderStore implementation runs on what it loads.
 * @module @bitp2p/session/chain
 */

export { HashIndex, hashKey, type HashSource } from './core/chain/hash-index.js'
export { locatorHeights } from './core/chain/locator.js'
export { checkBatch, type HeaderRecord, type StoredHeader } from './core/chain/store.js'
export {
  HeaderTree,
  type AcceptManyResult,
  type AcceptResult,
  type HeaderEntry,
  type HeaderTreeOptions,
  type TreeParams,
  type TrustedBase,
} from './core/chain/tree.js'
export {
  checkCheckpoint,
  checkHeaderPow,
  checksDifficulty,
  contextualCheck,
  lastCheckpointAtOrBelow,
  medianTimePastOf,
  minimumVersion,
  nextWorkRequired,
  retargetBits,
  type AncestorView,
  type ChainPoint,
  type CheckOptions,
  type CheckResult,
  type HeaderError,
  type HeaderErrorKind,
  type HeaderRuleParams,
} from './core/chain/validation.js'
