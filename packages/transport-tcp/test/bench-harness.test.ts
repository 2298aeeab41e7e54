/**
 * bench/lib/harness.mjs, the benches' shared harness (issue 17, "Figures
 * that hold"): how it decides that a bench's ratios hold, and what it
 * records beside a bench's own figures. The rounds here are scripted
 * sequences of ratios, not timings: nothing in this file measures speed.
 */
import { describe, expect, it, vi } from 'vitest'
// @ts-expect-error: a plain .mjs module without types
import { median, resultsOf, spread, untilStable } from '../../../bench/lib/harness.mjs'

/** A round function that returns the scripted ratios in turn. */
const scripted = (seq: Array<Record<string, number>>) => {
  let i = 0
  return async () => seq[Math.min(i++, seq.length - 1)]
}
const quiet = () => vi.spyOn(console, 'log').mockImplementation(() => undefined)

describe('the bench harness', () => {
  it('median and spread: spread is (max - min) over the median', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 2, 3])).toBe(2.5)
    expect(spread([1, 1.05, 0.95])).toBeCloseTo(0.1, 10)
    expect(spread([7])).toBe(0)
  })

  it('stops at the minimum number of rounds when the ratios already agree within 10 %', async () => {
    const log = quiet()
    const r = await untilStable(scripted([{ a: 2.0 }, { a: 2.1 }, { a: 1.95 }, { a: 9 }]), { minRounds: 3, maxRounds: 10 })
    log.mockRestore()
    expect(r.stable).toBe(true)
    expect(r.rounds).toBe(3)
    expect(r.ratios.a).toBe(2)
    expect(r.spread.a).toBeCloseTo(0.075, 3)
  })

  it('judges only the last rounds: an early outlier (a cold JIT) does not keep it from holding', async () => {
    const log = quiet()
    const r = await untilStable(scripted([{ a: 5 }, { a: 1 }, { a: 1.02 }, { a: 0.99 }]), { minRounds: 3, maxRounds: 10 })
    log.mockRestore()
    expect(r.stable).toBe(true)
    expect(r.rounds).toBe(4)
    expect(r.perRound).toHaveLength(4)
    expect(r.ratios.a).toBe(1)
  })

  it('every ratio must hold, not just one', async () => {
    const log = quiet()
    const seq = [{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 1, b: 1 }, { a: 1, b: 1.05 }, { a: 1, b: 1 }]
    const r = await untilStable(scripted(seq), { minRounds: 3, maxRounds: 10 })
    log.mockRestore()
    expect(r.rounds).toBe(5)
    expect(r.stable).toBe(true)
  })

  it('says it could not at the round cap, naming the worst ratio and its spread', async () => {
    const log = quiet()
    const seq = Array.from({ length: 20 }, (_, i) => ({ steady: 3, noisy: i % 2 ? 1 : 2 }))
    const r = await untilStable(scripted(seq), { minRounds: 3, maxRounds: 6, label: 'noisy bench' })
    const printed = log.mock.calls.map((c) => String(c[0])).join('\n')
    log.mockRestore()
    expect(r.stable).toBe(false)
    expect(r.rounds).toBe(6)
    expect(r.reason).toMatch(/^not stable at the cap of 6 rounds: noisy spread 100 % over the last 3 rounds/)
    expect(printed).toContain('noisy bench: COULD NOT STABILISE after 6 rounds')
  })

  it('says it could not at the time cap', async () => {
    const log = quiet()
    const r = await untilStable(scripted([{ a: 1 }, { a: 2 }]), { minRounds: 2, maxRounds: 100, maxMs: 0 })
    log.mockRestore()
    expect(r.stable).toBe(false)
    expect(r.rounds).toBe(2)
    expect(r.reason).toMatch(/^not stable at the cap of 0 s/)
  })

  it('refuses a round whose ratio is not a finite number', async () => {
    const log = quiet()
    await expect(untilStable(scripted([{ a: Number.NaN }]), { minRounds: 1 })).rejects.toThrow(/non-finite ratios \{"a":null\}/)
    log.mockRestore()
  })

  it("records the run's facts in front of the bench's own fields", () => {
    const run = { name: 'x', node: 'v20.0.0', date: '2031-02-03T04:05:06.000Z', loadStart: [1, 2, 3], loadEnd: [4, 5, 6], referenceStart: { nodeSha256d: 10, nobleSha256: 20 }, referenceEnd: { nodeSha256d: 11, nobleSha256: 21 } }
    const stability = { stable: true, rounds: 3, window: 3, tolerance: 0.1, ratios: { a: 1 }, spread: { a: 0 }, perRound: [{ a: 1 }], reason: 'r' }
    const one = resultsOf(run, stability, { figure: 7 })
    expect(Object.keys(one)).toEqual(['date', 'node', 'loadStart', 'loadEnd', 'reference', 'stability', 'figure'])
    expect(one.reference).toEqual({ start: run.referenceStart, end: run.referenceEnd })
    expect(one.stability.ratios).toEqual({ a: 1 })
    expect(resultsOf(run, { part: stability }, {}).stability.part.rounds).toBe(3)
    expect(resultsOf(run, undefined, {}).stability).toBeNull()
  })
})
