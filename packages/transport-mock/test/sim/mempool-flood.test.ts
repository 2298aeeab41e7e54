/**
 * Issue 12, item 1: one peer must not blind the mempool monitor.
 *
 * Two 'tx-flood' virtual peers send a maximal inv (50,000 fresh hashes)
 * every 500 virtual ms and never answer a getdata for a transaction; an
 * honest virtual peer announces a transaction now and then during the
 * flood. The production driver (Peer) and MempoolMonitor run on the mock
 * network in virtual time, seeded.
 *
 * Before the per-peer policy, the first flood inv filled the monitor's
 * global pending budget (50,000) and every honest announcement after it was
 * dropped: the honest transactions were never fetched.
 */
import { describe, expect, it } from 'vitest'
import { MempoolMonitor, PeerList, SeededRandom, type Peer } from '@bitp2p/session'
import { DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER, DEFAULT_MAX_IN_FLIGHT_PER_PEER } from '@bitp2p/session/limits'
import { toHex, txid, type Transaction } from '@bitp2p/wire'
import { MAX_INV_SIZE } from '@bitp2p/wire/limits'
import { Simulation } from '../../src/peers/simulation.js'
import { TxFactory } from '../../src/chain/index.js'
import { TX_FLOOD_INTERVAL_MS } from '../../src/peers/behavior.js'

/** Honest transactions announced during the flood. */
const HONEST_TXS = 3
/** Virtual ms between two honest announcements. */
const HONEST_GAP_MS = 1_000
/** The bound under test: an honest transaction is fetched this soon after its announcement (virtual ms). */
const FETCH_WITHIN_MS = 2_000
/** Peers: two flooders around one honest node. */
const FLOODERS = [0, 2]
const HONEST = 1

interface Fetch {
  readonly txid: string
  readonly announcedAt: number
  readonly fetchedAt: number | undefined
  /** Maximal invs the flooders had sent when the transaction arrived. */
  readonly floodAtFetch: number
}

async function floodRun(seed: string, honestTxs = HONEST_TXS) {
  const sim = new Simulation({ seed, peers: 3, behaviors: ['tx-flood', 'honest', 'tx-flood'] })
  const dials = [0, 1, 2].map((i) => sim.connect(i))
  await sim.run({ until: sim.now() + 1_000 })
  const clients: Peer[] = await Promise.all(dials)
  const monitor = new MempoolMonitor({ source: new PeerList(clients), clock: sim.clock, random: new SeededRandom(seed).fork('monitor') }).start()
  const floodSent = (): number => FLOODERS.reduce((n, i) => n + sim.peers[i]!.stats.txFloodInvs, 0)

  // The memory counters, sampled every 50 virtual ms and after every inv.
  const worst = { perPeer: 0, total: 0, inFlight: 0 }
  const sample = (): void => {
    for (const c of clients) {
      worst.perPeer = Math.max(worst.perPeer, monitor.announcementsOf(c))
      worst.inFlight = Math.max(worst.inFlight, monitor.inFlightTo(c))
    }
    worst.total = Math.max(worst.total, monitor.announcements)
  }
  for (const c of clients) c.on('inv', () => sim.clock.setTimer(0, sample))
  const sampler = (): void => {
    sample()
    if (!stopped) sim.clock.setTimer(50, sampler)
  }
  let stopped = false
  sampler()

  const arrived = new Map<string, { at: number; flood: number }>()
  monitor.on('tx', (t) => arrived.set(toHex(t.txid), { at: sim.now(), flood: floodSent() }))

  // Let the flood fill the flooders' budgets first.
  await sim.run({ until: sim.now() + 2_000 })
  const floodBefore = floodSent()
  const filled = FLOODERS.map((i) => ({ announcements: monitor.announcementsOf(clients[i]!), inFlight: monitor.inFlightTo(clients[i]!), dropped: monitor.droppedFrom(clients[i]!) }))

  const factory = new TxFactory(new SeededRandom(seed).fork('honest-txs'))
  const announced: { tx: Transaction; at: number }[] = []
  for (let k = 0; k < honestTxs; k++) {
    const tx = factory.next()
    announced.push({ tx, at: sim.now() })
    sim.peers[HONEST]!.addTransaction(tx)
    await sim.run({ until: sim.now() + HONEST_GAP_MS })
  }
  await sim.run({ until: sim.now() + FETCH_WITHIN_MS })
  stopped = true
  const fetches: Fetch[] = announced.map(({ tx, at }) => {
    const a = arrived.get(toHex(txid(tx)))
    return { txid: toHex(txid(tx)), announcedAt: at, fetchedAt: a?.at, floodAtFetch: a?.flood ?? -1 }
  })
  const result = {
    fetches,
    filled,
    floodBefore,
    floodAfter: floodSent(),
    worst: { ...worst },
    dropped: monitor.ignoredAnnouncements,
    flooderStates: FLOODERS.map((i) => clients[i]!.state),
    ignoredGetdata: FLOODERS.map((i) => sim.peers[i]!.stats.getdataIgnored),
    trace: sim.traceHash(),
  }
  monitor.stop()
  for (const c of clients) c.close('done')
  await sim.run({ until: sim.now() + 1_000 })
  return result
}

describe('MempoolMonitor under an announcement flood (mock network, virtual time)', () => {
  it('fetches every honest transaction within 2 virtual seconds while two peers flood, and keeps each peer within its budget', async () => {
    const r = await floodRun('mempool-flood')
    console.log('[mempool-flood sim]', JSON.stringify({ fetches: r.fetches.map((f) => ({ latencyMs: f.fetchedAt! - f.announcedAt, floodAtFetch: f.floodAtFetch })), floodBefore: r.floodBefore, floodAfter: r.floodAfter, worst: r.worst, dropped: r.dropped }))

    // The flood was on before the first honest announcement: each flooder at its cap, its in-flight cap full, the excess dropped.
    expect(r.floodBefore).toBeGreaterThanOrEqual(2 * Math.floor(2_000 / TX_FLOOD_INTERVAL_MS))
    for (const f of r.filled) {
      expect(f.announcements).toBe(DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER)
      expect(f.inFlight).toBe(DEFAULT_MAX_IN_FLIGHT_PER_PEER)
      expect(f.dropped).toBeGreaterThan(MAX_INV_SIZE)
    }

    // Each honest transaction arrived, within FETCH_WITHIN_MS of its announcement, while the flood went on.
    for (const f of r.fetches) {
      expect(f.fetchedAt, `tx ${f.txid} fetched`).toBeDefined()
      expect(f.fetchedAt! - f.announcedAt).toBeLessThan(FETCH_WITHIN_MS)
      expect(f.floodAtFetch).toBeGreaterThanOrEqual(r.floodBefore)
      expect(r.floodAfter).toBeGreaterThan(f.floodAtFetch)
    }
    expect(r.floodAfter - r.floodBefore).toBeGreaterThanOrEqual(2 * Math.floor((HONEST_TXS * HONEST_GAP_MS) / TX_FLOOD_INTERVAL_MS) - 2)
    expect(r.flooderStates).toEqual(['ready', 'ready'])
    // The flooders were asked for 100 hashes each and answered none of them.
    expect(r.ignoredGetdata).toEqual([DEFAULT_MAX_IN_FLIGHT_PER_PEER, DEFAULT_MAX_IN_FLIGHT_PER_PEER])

    // Memory: never more than the per-peer cap for any peer, and peers x cap in all.
    expect(r.worst.perPeer).toBe(DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER)
    expect(r.worst.total).toBeLessThanOrEqual(3 * DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER)
    expect(r.worst.inFlight).toBe(DEFAULT_MAX_IN_FLIGHT_PER_PEER)
    expect(r.dropped).toBeGreaterThan(r.floodAfter * MAX_INV_SIZE - 2 * DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER - 10 * MAX_INV_SIZE)
  }, 120_000)

  it('replays: the same seed gives the same fetch times and the same trace', async () => {
    const a = await floodRun('mempool-flood-replay', 1)
    const b = await floodRun('mempool-flood-replay', 1)
    expect(b.fetches).toEqual(a.fetches)
    expect(b.worst).toEqual(a.worst)
    expect(b.trace).toBe(a.trace)
  }, 120_000)
})
