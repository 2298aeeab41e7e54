/**
 * The one place a block filter meets the watched scripts.
 *
 * Everything that asks "may this block pay or spend one of ours?" calls
 * `filterMatchesAny`. Today it decodes the BIP158 filter and runs wire's
 * one-pass `GcsFilter.matchAny`; a faster, reusable matcher from wire drops
 * in here and nowhere else.
 */
import { decodeBasicFilter } from '@bitp2p/wire'

/**
 * True when the basic filter `filter` of block `blockHash` (internal byte
 * order) may contain any of `scripts` (false positives about 1 in 784,931
 * per script; never a false negative). Throws wire's WireError when the
 * filter does not decode.
 */
export function filterMatchesAny(blockHash: Uint8Array, filter: Uint8Array, scripts: readonly Uint8Array[]): boolean {
  if (scripts.length === 0) return false
  return decodeBasicFilter(blockHash, filter).matchAny(scripts)
}
