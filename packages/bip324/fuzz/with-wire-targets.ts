/**
 * The wire fuzzer's targets module with this package's targets added.
 * scripts/fuzz.mjs bundles the wire fuzzer's CLI with its `./targets.js`
 * import pointed here, so the same runner (worker, watchdog, allocation
 * guard, reports, --seed/--target/--iteration) runs the bip324 targets, and
 * wire needs no dependency on this package.
 */
import { buildTargets as wireTargets, type FuzzData, type FuzzTarget } from '../../wire/fuzz/targets.js'
import { bip324Targets } from './targets.js'

export * from '../../wire/fuzz/targets.js'

/** Wire's targets, then 'bip324:packets' and 'bip324:handshake'. */
export function buildTargets(data: FuzzData): FuzzTarget[] {
  return [...wireTargets(data), ...bip324Targets()]
}
