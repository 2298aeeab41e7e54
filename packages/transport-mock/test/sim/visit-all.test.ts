import { describe, it, expect } from 'vitest'
import { Simulation, type VisitResult } from '../../src/peers/simulation.js'
import { forWork } from '../../../../test/harness/timing.js'

const PEERS = 300
/** Wall-clock budget per peer visited: the tests' hang net, not a speed check. */
const VISIT_BUDGET_MS = 20

/** Visits every peer with `sim.visitAll`, sampling the live connections whenever a visit ends. */
async function runVisitAll(seed: string, concurrency: number | undefined, upTo: 'ping' | 'block' = 'ping') {
  const sim = new Simulation({ seed, peers: PEERS })
  const results: VisitResult[] = []
  let maxLive = 0
  const done = sim.visitAll({
    upTo,
    concurrency,
    onResult: (r) => {
      results.push(r)
      maxLive = Math.max(maxLive, sim.net.connections().length)
    },
  })
  await sim.run()
  return { sim, summary: await done, results, maxLive }
}

describe('Simulation.visitAll', () => {
  it('visits every peer once, each visit ok, and counts them by step', async () => {
    const { summary, results } = await runVisitAll('visit-all-a', 25)
    expect(summary).toEqual({ visits: PEERS, ok: PEERS, byStep: { connect: 0, ping: 0, headers: 0, block: 0, done: PEERS } })
    expect(new Set(results.map((r) => r.peer)).size).toBe(PEERS)
    expect(results.every((r) => r.ok && r.step === 'done' && r.reason.kind === 'local')).toBe(true)
  }, forWork(PEERS, VISIT_BUDGET_MS))

  it('never holds more than `concurrency` connections at once; all at once by default', async () => {
    const bounded = await runVisitAll('visit-all-b', 10)
    expect(bounded.maxLive).toBeGreaterThan(0)
    expect(bounded.maxLive).toBeLessThanOrEqual(10)
    const unbounded = await runVisitAll('visit-all-b', undefined)
    // Every connection opens in the first virtual instants, before any visit ends.
    expect(unbounded.maxLive).toBeGreaterThan(10)
  }, forWork(2 * PEERS, VISIT_BUDGET_MS))

  it('gives the same trace for the same seed and concurrency, another for another concurrency', async () => {
    const a1 = await runVisitAll('visit-all-c', 7, 'block')
    const a2 = await runVisitAll('visit-all-c', 7, 'block')
    const b = await runVisitAll('visit-all-c', 50, 'block')
    expect(a1.summary.ok).toBe(PEERS)
    expect(a1.sim.traceHash()).toBe(a2.sim.traceHash())
    expect(a1.sim.clock.eventsRun).toBe(a2.sim.clock.eventsRun)
    expect(b.sim.traceHash()).not.toBe(a1.sim.traceHash())
    // Fewer in flight: the same visits take longer in virtual time.
    expect(a1.sim.now()).toBeGreaterThan(b.sim.now())
  }, forWork(3 * PEERS, VISIT_BUDGET_MS))

  it('reports what a failed visit reached, and rejects a bad concurrency', async () => {
    const sim = new Simulation({ seed: 'visit-all-d', peers: 20, behaviors: (i) => (i % 4 === 0 ? 'no-verack' : 'honest') })
    const done = sim.visitAll({ concurrency: 3 })
    await sim.run()
    const summary = await done
    expect(summary.visits).toBe(20)
    expect(summary.ok).toBe(15)
    expect(summary.byStep.connect).toBe(5)
    expect(summary.byStep.done).toBe(15)
    expect(() => sim.visitAll({ concurrency: 0 })).toThrow(RangeError)
    expect(() => sim.visitAll({ concurrency: 1.5 })).toThrow(RangeError)
  })

  it('rejects, once, when onResult throws, and starts no more visits', async () => {
    const sim = new Simulation({ seed: 'visit-all-e', peers: 30 })
    let calls = 0
    const done = sim.visitAll({
      concurrency: 2,
      upTo: 'ping',
      onResult: () => {
        calls++
        throw new Error('boom')
      },
    })
    const settled = done.then(
      () => 'resolved',
      (e: Error) => e.message,
    )
    await sim.run()
    expect(await settled).toBe('boom')
    // The other visit in flight ends too; no third starts.
    expect(calls).toBe(1)
    expect(sim.peers.reduce((n, p) => n + p.stats.connections, 0)).toBe(2)
  })

  it('an empty simulation resolves at once', async () => {
    const sim = new Simulation({ seed: 'visit-all-f', peers: 0 })
    await expect(sim.visitAll()).resolves.toEqual({ visits: 0, ok: 0, byStep: { connect: 0, ping: 0, headers: 0, block: 0, done: 0 } })
  })
})
