import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MedianTimeWindow } from '../../../src/core/chain/median-time.js'
import { MEDIAN_TIME_SPAN, medianTimePastOf } from '../../../src/core/chain/validation.js'

describe('MedianTimeWindow', () => {
  it('property: after every push, the median is medianTimePastOf over the last 11 times', () => {
    // Times from a small range, so ties and out-of-order times are common.
    const times = fc.array(fc.integer({ min: 0, max: 30 }).map((t) => 1_700_000_000 + t), { minLength: 1, maxLength: 60 })
    fc.assert(
      fc.property(times, (ts) => {
        const w = new MedianTimeWindow()
        expect(w.median()).toBeUndefined()
        ts.forEach((t, h) => {
          w.push(t)
          expect(w.size).toBe(Math.min(h + 1, MEDIAN_TIME_SPAN))
          expect(w.median()).toBe(medianTimePastOf(h, { timeAt: (x) => ts[x] }))
        })
        // Refilled after clear(), it starts over.
        w.clear()
        expect(w.median()).toBeUndefined()
        w.push(5)
        expect(w.median()).toBe(5)
      }),
      { seed: 21, numRuns: 300 },
    )
  })

  it('keeps times above 2^31 exactly (u32 block times)', () => {
    const w = new MedianTimeWindow()
    for (const t of [0xfffffff0, 0xfffffff5, 0x80000001]) w.push(t)
    expect(w.median()).toBe(0xfffffff0)
  })
})
