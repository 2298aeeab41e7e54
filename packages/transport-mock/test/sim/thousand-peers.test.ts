import { describe, it, expect } from 'vitest'
import { bytesEqual } from '@bitp2p/wire'
import { Simulation, type SimulationOptions, type VisitResult } from '../../src/peers/simulation.js'
import { ipv4Group16 } from '../../src/peers/addresses.js'
import { forWork } from '../../../../test/harness/timing.js'

const PEERS = 1000
const LINK = { latency: 20, jitter: 15, maxChunk: 512 }
const CHAIN_LENGTH = 6
const TXS_PER_BLOCK = 3
/** Wall-clock budget per peer visited (about 1.5 ms on an idle machine): the tests' hang net. */
const VISIT_BUDGET_MS = 20

/** One driver visits every peer at once; returns the simulation and the results. */
async function visitAll(seed: SimulationOptions['seed']): Promise<{ sim: Simulation; results: VisitResult[] }> {
  const sim = new Simulation({ seed, peers: PEERS, link: LINK, chainLength: CHAIN_LENGTH, txsPerBlock: TXS_PER_BLOCK })
  const visits = sim.peers.map((_, i) => sim.visit(i))
  await sim.run()
  return { sim, results: await Promise.all(visits) }
}

describe('one driver against 1,000 virtual peers', () => {
  it('completes every handshake, ping, getheaders and getdata(block), then leaves nothing behind', async () => {
    const { sim, results } = await visitAll('thousand-a')
    const tip = sim.chain.tip
    expect(tip.height).toBe(CHAIN_LENGTH)
    for (const r of results) {
      expect(r, `peer ${r.peer}`).toMatchObject({ ok: true, step: 'done', headers: CHAIN_LENGTH, blockTxs: 1 + TXS_PER_BLOCK, reason: { kind: 'local' } })
      expect(bytesEqual(r.blockHash!, tip.hash)).toBe(true)
      // A round trip is two one-way delays of latency plus jitter in [0, 15).
      expect(r.rttMs).toBeGreaterThanOrEqual(2 * LINK.latency)
      expect(r.rttMs).toBeLessThan(2 * (LINK.latency + LINK.jitter))
    }
    // Jitter is drawn per transmission, so round trips differ between peers.
    expect(new Set(results.map((r) => r.rttMs)).size).toBeGreaterThan(1)
    for (const p of sim.peers) {
      expect(p.stats).toMatchObject({ connections: 1, handshakes: 1, headersServed: CHAIN_LENGTH, blocksServed: 1, notFound: 0 })
    }
    // Peers sit in 1,000 distinct /16 groups.
    expect(new Set(sim.peers.map((p) => ipv4Group16(p.address.host))).size).toBe(PEERS)
    // No leak: every timer, connection, session and labeller state is gone.
    expect(sim.clock.pendingTimers).toBe(0)
    expect(sim.net.connections()).toHaveLength(0)
    expect(sim.peers.every((p) => p.sessionCount === 0)).toBe(true)
    expect(sim.labeler!.tracked).toBe(0)
  }, forWork(PEERS, VISIT_BUDGET_MS))

  it('gives the same trace hash for the same seed and a different one for another seed', async () => {
    const a1 = await visitAll('thousand-b')
    const a2 = await visitAll('thousand-b')
    const b = await visitAll('thousand-c')
    expect(a1.sim.traceHash()).toMatch(/^[0-9a-f]{64}$/)
    expect(a2.sim.traceHash()).toBe(a1.sim.traceHash())
    expect(a2.sim.clock.eventsRun).toBe(a1.sim.clock.eventsRun)
    expect(a2.results.map((r) => r.rttMs)).toEqual(a1.results.map((r) => r.rttMs))
    expect(b.sim.traceHash()).not.toBe(a1.sim.traceHash())
  }, forWork(3 * PEERS, VISIT_BUDGET_MS))
})

describe('pinned traces', () => {
  // The hashes below were taken before the simulation's speed work (issue
  // 17): a faster scheduler, network or driver must deliver the same events
  // in the same order at the same virtual times. A change that moves one is
  // either a regression or a deliberate change of event order, re-pinned
  // with the reason in its commit.
  it('2,000 handshakes and first pings at once give the pinned trace', async () => {
    const sim = new Simulation({ seed: 'pin-handshakes', peers: 2_000 })
    const visits = sim.peers.map((_, i) => sim.visit(i, { upTo: 'ping' }))
    await sim.run()
    expect((await Promise.all(visits)).every((r) => r.ok)).toBe(true)
    expect(sim.clock.eventsRun).toBe(36_000)
    expect(sim.traceHash()).toBe('3e93995fec8af71fc76a68daae84ebecdaf0c1eda11742f5e787875151e57308')
  }, forWork(2_000, VISIT_BUDGET_MS))

  it('300 full visits over a jittery, chunking link give the pinned trace', async () => {
    const sim = new Simulation({ seed: 'pin-visits', peers: 300, link: LINK })
    const visits = sim.peers.map((_, i) => sim.visit(i))
    await sim.run()
    expect((await Promise.all(visits)).every((r) => r.ok)).toBe(true)
    expect(sim.clock.eventsRun).toBe(10_779)
    expect(sim.traceHash()).toBe('ef1ee8a3e7657300f27eddf9265c58bdf66d4c9c260f8b869acccad1dc6b3484')
  }, forWork(300, VISIT_BUDGET_MS))
})

describe('labelled trace of one visit', () => {
  it('names every P2P command in delivery order, in both directions', async () => {
    const sim = new Simulation({ seed: 'labels', peers: 1, trace: { record: true } })
    const visit = sim.visit(0)
    await sim.run()
    expect((await visit).ok).toBe(true)
    const host = sim.peers[0]!.address.host
    const labels = (toVirtual: boolean) =>
      sim.net.trace.events
        .filter((e) => e.kind === 'data' && e.to.startsWith(host) === toVirtual)
        .flatMap((e) => e.label!.split('+'))
    expect(labels(true)).toEqual(['version', 'wtxidrelay', 'sendaddrv2', 'verack', 'sendheaders', 'ping', 'pong', 'getheaders', 'getdata'])
    expect(labels(false)).toEqual(['version', 'wtxidrelay', 'sendaddrv2', 'verack', 'sendheaders', 'ping', 'pong', 'headers', 'block'])
  })

  it('labels a frame split over chunks once, and its continuations with ~', async () => {
    const sim = new Simulation({ seed: 'labels-chunked', peers: 1, link: { maxChunk: 7 }, trace: { record: true } })
    const visit = sim.visit(0)
    await sim.run()
    expect((await visit).ok).toBe(true)
    const data = sim.net.trace.events.filter((e) => e.kind === 'data')
    expect(data.every((e) => e.size <= 7)).toBe(true)
    const whole = data.filter((e) => !e.label!.endsWith('~')).flatMap((e) => e.label!.split('+'))
    // Each of the 18 frames of the visit is named exactly once.
    expect(whole.filter((l) => l === 'version')).toHaveLength(2)
    expect(whole.filter((l) => l === 'block')).toHaveLength(1)
    expect(whole).toHaveLength(18)
    expect(data.some((e) => e.label === 'block~')).toBe(true)
  })
})
