/**
 * The complete example of docs/simulation-testing.md, run as a test so the
 * guide's code is known to work. Keep the two in step: the code between the
 * "guide:start" and "guide:end" markers is the guide's snippet.
 */
// guide:start
import { describe, expect, it } from 'vitest'
import { HeaderSync, PeerList } from '@bitp2p/session'
import { hashToHex } from '@bitp2p/wire'
import { Simulation, type VirtualPeerBehavior } from '@bitp2p/transport-mock'

const PEERS = 12
const MINUTE = 60_000
/** Peer 2 answers getheaders with headers that connect to nothing; peer 5 sends garbage once its handshake is done. */
const behaviors = (i: number): VirtualPeerBehavior => (i === 2 ? 'non-connecting-headers' : i === 5 ? 'garbage' : 'honest')

/** One seeded world: a HeaderSync on the production driver against 12 virtual peers, behind a partition that heals. */
async function syncWorld(seed: string) {
  const sim = new Simulation({ seed, peers: PEERS, chainLength: 40, behaviors, link: { latency: 30, jitter: 20, maxChunk: 700 } })
  // Faults are scheduled in virtual time: peers 0 and 1 are cut off from the driver from 400 ms to 2 min.
  const cut = [sim.peers[0]!.address.host, sim.peers[1]!.address.host]
  sim.clock.setTimer(400, () => sim.net.partition([sim.driverHost], cut))
  sim.clock.setTimer(2 * MINUTE, () => sim.net.heal())

  const dials = sim.peers.map((_, i) => sim.connect(i))
  await sim.run({ until: 500 }) // virtual ms; the handshakes need a few round trips
  const peers = (await Promise.allSettled(dials)).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))

  const sync = new HeaderSync({ source: new PeerList(peers), network: sim.network, clock: sim.clock })
  const stalled: string[] = []
  for (const p of peers) p.on('stalled', (request) => stalled.push(`${p.remote.host} ${request.kind}`))
  let syncedAt = -1
  sync.on('synced', () => (syncedAt = sim.now()))
  await sync.start()
  await sim.run({ until: 10 * MINUTE }) // pings every 2 min never let the clock go idle: run to a time

  const result = {
    tip: `${sync.tree.height}:${hashToHex(sync.tree.tip.hash)}`,
    closed: peers.filter((p) => p.state === 'closed').map((p) => `${p.remote.host} ${p.closeReason?.kind}`),
    stalled,
    syncedAt,
    traceHash: sim.traceHash(),
  }
  // Tear down and check that nothing is left behind: no timer, no connection.
  sync.stop()
  for (const p of peers) p.close('done')
  await sim.run()
  expect(sim.clock.pendingTimers).toBe(0)
  expect(sim.net.connections()).toHaveLength(0)
  return { sim, result }
}

describe('header sync on a faulty simulated network', () => {
  it('reaches the chain tip past two stalled peers; the misbehaving ones are disconnected', async () => {
    const { sim, result } = await syncWorld('guide-1')
    const host = (i: number) => sim.peers[i]!.address.host
    expect(result.tip).toBe(`40:${hashToHex(sim.chain.tip.hash)}`)
    // HeaderSync asks one peer at a time: the two cut-off peers each stall a getheaders for 30 s first.
    expect(result.stalled).toEqual([`${host(0)} headers`, `${host(1)} headers`])
    expect(result.syncedAt).toBeGreaterThan(2 * 30_000)
    expect(result.closed).toEqual([`${host(2)} misbehaving`, `${host(5)} framing`])
  })

  it('replays byte for byte: same seed, same trace hash; another seed, another hash', async () => {
    const a = await syncWorld('guide-1')
    const b = await syncWorld('guide-1')
    const c = await syncWorld('guide-2')
    expect(b.result).toEqual(a.result)
    expect(c.result.traceHash).not.toBe(a.result.traceHash)
  })
})
// guide:end
