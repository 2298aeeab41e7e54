/**
 * The one place a block filter meets the watched scripts.
 *
 * Everything that asks "may this block pay or spend one of ours?" goes
 * through here: `ScriptMatcher` for the scan (wire's FilterMatcher,
 * prepared once per watched set and reused from filter to filter: the
 * scripts are not hashed again per filter beyond the SipRounds, and
 * nothing is sorted or allocated per filter), and `filterMatchesAny` for a
 * one-off question.
 */
import { FilterMatcher } from '@bitp2p/wire/filters'

/**
 * True when the basic filter `filter` of block `blockHash` (internal byte
 * order) may contain any of `scripts` (false positives about 1 in 784,931
 * per script; never a false negative). Throws wire's WireError when the
 * filter does not decode.
 */
export function filterMatchesAny(blockHash: Uint8Array, filter: Uint8Array, scripts: readonly Uint8Array[]): boolean {
  if (scripts.length === 0) return false
  return new FilterMatcher(scripts).matchAny(blockHash, filter)
}

/**
 * Matches filters against a watched set that changes now and then: the
 * FilterMatcher is built again only when it is given another `scripts`
 * array (WatchWallet.scripts() returns the same array until the set
 * changes).
 */
export class ScriptMatcher {
  #scripts: readonly Uint8Array[] | undefined
  #matcher: FilterMatcher | undefined

  /** As filterMatchesAny, reusing the matcher while `scripts` is the same array. Throws wire's WireError for a filter that does not decode. */
  matches(blockHash: Uint8Array, filter: Uint8Array, scripts: readonly Uint8Array[]): boolean {
    if (scripts.length === 0) return false
    if (this.#scripts !== scripts || !this.#matcher) {
      this.#matcher = new FilterMatcher(scripts)
      this.#scripts = scripts
    }
    return this.#matcher.matchAny(blockHash, filter)
  }
}
