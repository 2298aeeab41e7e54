import { describe, expect, it } from 'vitest'
import { Services } from '@bitp2p/wire'
import { Admission, type AdmissionConfig } from '../../../src/core/pool/admission.js'
import type { DisconnectReason } from '../../../src/core/fsm/reasons.js'
import { hostKey } from '../../../src/core/pool/netgroup.js'
import type { PoolPeer } from '../../../src/core/pool/peers.js'
import { hostIn } from './fixtures.js'
import { drainOut, eventsOf, unix, viewOf, world } from './harness.js'

const FULL = Services.NODE_NETWORK | Services.NODE_WITNESS

function admission(config: Partial<AdmissionConfig> = {}) {
  const w = world()
  const closes: [number, DisconnectReason][] = []
  const a = new Admission(
    w.out,
    w.peers,
    w.bans,
    w.retry,
    w.random,
    unix,
    { maxInbound: 4, maxPeers: 10, evictInbound: true, noEvict: undefined, fullServices: FULL, limitedServices: Services.NODE_NETWORK_LIMITED, ...config },
    {
      // As the pool does: a closed peer stays in the table, closing, until its transport is gone.
      close: (_now, p, reason) => {
        p.state = 'closing'
        closes.push([p.id, reason])
      },
      view: viewOf,
    },
  )
  /** Admit and take an inbound peer from group `g`, as the pool does. */
  const take = (now: number, g: number, h = 1): PoolPeer | undefined => {
    const remote = { host: hostIn(g, h), port: 8333 }
    if (!a.admit(now, remote)) return undefined
    const p = w.peers.add(remote, 'inbound', 'handshaking')
    a.admitted(now, p)
    return p
  }
  return { ...w, a, closes, take }
}

describe('Admission', () => {
  it('a ban holds the host, closes its live peers and is reported', () => {
    const { a, out, peers, retry, closes, take } = admission()
    const p = take(0, 1)!
    const other = take(0, 2)!
    const until = a.ban(1_000, p.endpoint!, 60_000, 'misbehaving')
    expect(until).toBe(unix(1_000) + 60)
    expect(closes).toEqual([[p.id, { kind: 'banned', reason: 'misbehaving' }]])
    expect(other.state).toBe('handshaking')
    expect(eventsOf(drainOut(out))).toEqual([{ type: 'ban', host: hostKey(p.endpoint!), until, reason: 'misbehaving' }])
    expect(a.isBanned(1_000, p.addr)).toBe(true)
    expect(a.isBanned(61_000, p.addr)).toBe(false)
    expect(retry.canTry(p.endpoint!, 60_999)).toBe(false)
    // A banned host may not come back in.
    expect(take(2_000, 1)).toBeUndefined()
    expect(peers.size).toBe(2)
  })

  it('inbound slots full: the eviction victim is closed and reported, and the newcomer taken', () => {
    // Enough peers that eviction's protections (group, ping, relay, age) leave some unprotected.
    const { a, out, closes, take } = admission({ maxInbound: 40, maxPeers: 50 })
    for (let g = 0; g < 40; g++) take(g * 10, g)
    drainOut(out)
    const victim = a.decision().evict
    expect(victim).toBeDefined()
    const p = take(1_000, 99)
    expect(p).toBeDefined()
    expect(closes).toEqual([[victim, { kind: 'evicted' }]])
    expect(eventsOf(drainOut(out))).toEqual([expect.objectContaining({ type: 'evicted', peer: expect.objectContaining({ id: victim }), by: { host: hostIn(99, 1), port: 8333 } })])
    // The victim is closing: it no longer counts, so the next newcomer evicts another.
    expect(a.candidates().map((c) => c.id)).not.toContain(victim)
  })

  it('refuses instead when eviction is off, or when every inbound peer is protected', () => {
    // As many peers as above, where eviction would find a victim.
    const off = admission({ maxInbound: 40, maxPeers: 50, evictInbound: false })
    for (let g = 0; g < 40; g++) off.take(g * 10, g)
    expect(off.a.decision().evict).toBeDefined()
    expect(off.take(1_000, 99)).toBeUndefined()
    expect(off.closes).toEqual([])

    const kept = admission({ maxInbound: 2, noEvict: () => true })
    kept.take(0, 0)
    kept.take(0, 1)
    expect(kept.take(1, 2)).toBeUndefined()
    expect(kept.closes).toEqual([])
    expect(kept.a.candidates().every((c) => c.noBan)).toBe(true)
  })

  it('the total cap counts outbound connections, closing ones included', () => {
    const { peers, take } = admission({ maxInbound: 10, maxPeers: 2, evictInbound: false })
    peers.add({ host: hostIn(50, 1), port: 8333 }, 'full-relay', 'connecting').state = 'closing'
    take(0, 1)
    expect(take(1, 2)).toBeUndefined()
  })

  it('keeps the facts eviction decides on: best ping, last block and transaction, relay, services', () => {
    const { a, take } = admission()
    const p = take(5, 1)!
    p.services = FULL
    a.ready(p.id, true)
    a.latency(10, p.id, 80)
    a.latency(11, p.id, 120)
    a.latency(12, p.id, Number.NaN)
    a.relayed(20, p.id, 'tx')
    a.relayed(30, p.id, 'block')
    expect(a.candidates()).toEqual([
      expect.objectContaining({ id: p.id, connectedAt: 5, minPingMs: 80, lastTxAt: 20, lastBlockAt: 30, relayTxs: true, relevantServices: true, inbound: true, noBan: false }),
    ])
    a.removed(p.id)
    a.latency(40, p.id, 1) // a gone peer is ignored
  })

  it('keys the group hash with a secret drawn once: same group, same key; different group, different key', () => {
    const { a, take } = admission({ maxInbound: 10 })
    take(0, 1, 1)
    take(0, 1, 2)
    take(0, 2, 1)
    const [x, y, z] = a.candidates().map((c) => c.keyedNetgroup)
    expect(x).toBe(y)
    expect(x).not.toBe(z)
    expect(a.candidates().map((c) => c.keyedNetgroup)).toEqual([x, y, z])
  })
})
