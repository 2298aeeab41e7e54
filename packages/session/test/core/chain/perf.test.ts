/**
 * Micro-measures, printed and not asserted (timings depend on the machine):
 * headers validated per second, and bytes held per header. The assertions
 * only check that the work measured was really done.
 */
import { describe, expect, it } from 'vitest'
import { regtest, serializeBlockHeader } from '@bitp2p/wire'
import { sha256d } from '@bitp2p/wire/hash'
import type { BlockHeader } from '@bitp2p/wire'
import { HeaderTree } from '../../../src/core/chain/tree.js'
import { mineChain } from './helpers.js'
import { forWork } from '../../../../../test/harness/timing.js'

const N = 100_000
/** Headers per simulated headers message (Core's MAX_HEADERS_RESULTS). */
const BATCH = 2000
/** Wall-clock budgets per header (mining and validating; linking a trusted one), about 20 and 7 µs on an idle machine: hang nets. */
const VALIDATE_BUDGET_MS = 0.25
const TRUSTED_BUDGET_MS = 0.1
/** Headers in the trusted tree. */
const TRUSTED_N = 200_000

describe('measure', () => {
  it(`validates ${N} mined regtest headers (prints headers/s)`, { timeout: forWork(N, VALIDATE_BUDGET_MS) }, () => {
    const chain: BlockHeader[] = mineChain(regtest.genesis, 0, N, { bits: regtest.powLimitBits, spacing: 600 })
    const tree = new HeaderTree(regtest)
    const start = performance.now()
    for (let i = 0; i < N; i += BATCH) {
      const r = tree.acceptMany(chain.slice(i, i + BATCH))
      expect(r.rejected).toBeUndefined()
    }
    const ms = performance.now() - start
    expect(tree.height).toBe(N)
    console.log(`[chain] validated ${N} regtest headers in ${ms.toFixed(0)} ms: ${Math.round((N / ms) * 1000)} headers/s`)
  })

  it('bytes per header of a trusted 200k-header tree (prints)', { timeout: forWork(TRUSTED_N, TRUSTED_BUDGET_MS) }, () => {
    // Linked headers without proof of work: a trusted base is not PoW-checked,
    // which is what a restart from the file store does.
    const n = TRUSTED_N
    const raw = new Uint8Array(n * 80)
    let prev: Uint8Array = new Uint8Array(32)
    for (let i = 0; i < n; i++) {
      const h = serializeBlockHeader({ version: 4, prevBlock: prev, merkleRoot: prev, time: 1_600_000_000 + i, bits: 0x207fffff, nonce: i })
      raw.set(h, i * 80)
      prev = sha256d(h)
    }
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    const before = process.memoryUsage()
    const tree = new HeaderTree(regtest, { base: { height: 0, headers: raw, chainWork: 2n } })
    gc?.()
    const after = process.memoryUsage()
    expect(tree.height).toBe(n - 1)
    const heap = after.heapUsed - before.heapUsed
    const buffers = after.arrayBuffers - before.arrayBuffers
    console.log(
      `[chain] ${n} headers: typed arrays ${(tree.byteLength / n).toFixed(0)} B/header reserved; ` +
        `heap+arrayBuffers growth ${((heap + buffers) / n).toFixed(0)} B/header${gc ? '' : ' (no --expose-gc: rough)'}`,
    )
  })
})
