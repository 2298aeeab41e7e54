import { describe, it, expect } from 'vitest'
import { disconnectPolicy } from '@bitp2p/session'
import { Simulation, type VisitResult } from '../../src/peers/simulation.js'

/** Every visit either completed or ended with a reason a retry may cure. */
function expectCompletedOrTransient(results: readonly VisitResult[]): void {
  for (const r of results) {
    if (r.ok) continue
    expect(disconnectPolicy(r.reason).transient, `peer ${r.peer}: ${JSON.stringify(r.reason, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`).toBe(true)
  }
}

/** Visit `indices` concurrently and run the simulation until idle. */
async function visitAll(sim: Simulation, indices: readonly number[]): Promise<VisitResult[]> {
  const visits = indices.map((i) => sim.visit(i))
  await sim.run()
  return Promise.all(visits)
}

function expectNothingLeft(sim: Simulation): void {
  expect(sim.clock.pendingTimers).toBe(0)
  expect(sim.net.connections()).toHaveLength(0)
  expect(sim.peers.every((p) => p.sessionCount === 0)).toBe(true)
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('lossy links', () => {
  it('every visit completes or ends with a transient transport reset; the driver then reconnects', async () => {
    const sim = new Simulation({ seed: 'lossy-1', peers: 60, link: { latency: 15, jitter: 10, loss: 0.03 } })
    const first = await visitAll(sim, range(60))
    expectCompletedOrTransient(first)
    const failed = first.filter((r) => !r.ok)
    // With this seed the loss does hit some connections (it is a fault test, not a pass rate).
    expect(failed.length).toBeGreaterThan(0)
    for (const r of failed) expect(r.reason).toMatchObject({ kind: 'transport', error: { code: 'reset' } })
    expectNothingLeft(sim)

    // The path recovers: new connections to the same peers get a clean link, and every retry completes.
    for (const r of failed) sim.net.setLink(sim.driverHost, sim.peers[r.peer]!.address.host, { latency: 15, jitter: 10, loss: 0 })
    const retry = await visitAll(sim, failed.map((r) => r.peer))
    expect(retry.map((r) => r.ok)).toEqual(failed.map(() => true))
    expectNothingLeft(sim)
  })

  it('replays identically for the same seed', async () => {
    const run = async () => {
      const sim = new Simulation({ seed: 'lossy-2', peers: 40, link: { latency: 15, jitter: 10, loss: 0.03, maxChunk: 100 } })
      const results = await visitAll(sim, range(40))
      return { hash: sim.traceHash(), outcome: results.map((r) => `${r.peer}:${r.step}:${r.reason.kind}`) }
    }
    const a = await run()
    const b = await run()
    expect(b).toEqual(a)
  })
})

describe('partitions', () => {
  const PEERS = 30
  const hostsOf = (sim: Simulation) => sim.peers.map((p) => p.address.host)

  it('a short partition during the handshake is survived: every visit completes after the heal', async () => {
    const sim = new Simulation({ seed: 'partition-short', peers: PEERS, link: { latency: 10 } })
    const healAt = 5_025
    sim.clock.callAt(25, () => sim.net.partition([sim.driverHost], hostsOf(sim)), undefined)
    sim.clock.callAt(healAt, () => sim.net.heal(), undefined)
    const done: number[] = []
    const visits = range(PEERS).map((i) => sim.visit(i).then((r) => (done.push(sim.now()), r)))
    await sim.run()
    const results = await Promise.all(visits)
    expect(results.every((r) => r.ok)).toBe(true)
    // Nothing could complete before the heal.
    expect(Math.min(...done)).toBeGreaterThan(healAt)
    expectNothingLeft(sim)
  })

  it('a partition longer than the handshake deadline ends in handshake-timeout; after the heal the driver reconnects', async () => {
    const sim = new Simulation({ seed: 'partition-long', peers: PEERS, link: { latency: 10 } })
    sim.clock.callAt(25, () => sim.net.partition([sim.driverHost], hostsOf(sim)), undefined)
    sim.clock.callAt(10 * 60_000, () => sim.net.heal(), undefined)
    const first = await visitAll(sim, range(PEERS))
    expectCompletedOrTransient(first)
    for (const r of first) {
      expect(r.ok).toBe(false)
      expect(r.reason).toMatchObject({ kind: 'handshake-timeout' })
      expect(disconnectPolicy(r.reason).unresponsive).toBe(true)
    }
    expectNothingLeft(sim)
    const again = await visitAll(sim, range(PEERS))
    expect(again.every((r) => r.ok)).toBe(true)
    expectNothingLeft(sim)
  })

  it('a partition after the handshake with resetAfter resets the connections (transient); after the heal the driver reconnects', async () => {
    const sim = new Simulation({ seed: 'partition-reset', peers: PEERS, link: { latency: 10 } })
    // The driver is ready at 40 ms and its first pong is back at 60 ms: cut at 45 ms, mid-ping.
    sim.clock.callAt(45, () => sim.net.partition([sim.driverHost], hostsOf(sim), { resetAfter: 2_000 }), undefined)
    const first = await visitAll(sim, range(PEERS))
    expectCompletedOrTransient(first)
    for (const r of first) {
      expect(r).toMatchObject({ ok: false, step: 'ping', reason: { kind: 'transport', error: { code: 'reset' } } })
    }
    expect(sim.now()).toBe(45 + 2_000)
    expectNothingLeft(sim)
    sim.net.heal()
    const again = await visitAll(sim, range(PEERS))
    expect(again.every((r) => r.ok)).toBe(true)
    expectNothingLeft(sim)
  })

  it('a partition after the ping stalls the getheaders; the visit gives up (transient) and the driver reconnects', async () => {
    const sim = new Simulation({ seed: 'partition-headers', peers: PEERS, link: { latency: 10 } })
    // Ready at 40 ms, pong back at 60 ms, getheaders sent then: cut at 65 ms for 45 s.
    sim.clock.callAt(65, () => sim.net.partition([sim.driverHost], hostsOf(sim)), undefined)
    sim.clock.callAt(45_065, () => sim.net.heal(), undefined)
    const first = await visitAll(sim, range(PEERS))
    expectCompletedOrTransient(first)
    for (const r of first) {
      expect(r).toMatchObject({ ok: false, step: 'headers', failure: { kind: 'stalled' }, reason: { kind: 'local' } })
    }
    expectNothingLeft(sim)
    expect((await visitAll(sim, range(PEERS))).every((r) => r.ok)).toBe(true)
    expectNothingLeft(sim)
  })

  it('connection attempts into a partition time out (transient) instead of hanging', async () => {
    const sim = new Simulation({ seed: 'partition-connect', peers: 5, connectTimeout: 3_000 })
    sim.net.partition([sim.driverHost], hostsOf(sim))
    const first = await visitAll(sim, range(5))
    for (const r of first) expect(r).toMatchObject({ ok: false, step: 'connect', reason: { kind: 'transport', error: { code: 'timeout' } } })
    expectCompletedOrTransient(first)
    expect(sim.now()).toBe(3_000)
    sim.net.heal()
    expect((await visitAll(sim, range(5))).every((r) => r.ok)).toBe(true)
  })
})
