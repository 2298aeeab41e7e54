import { describe, expect, it } from 'vitest'
import { Services } from '@bitp2p/wire'
import type { DisconnectReason } from '../../../src/core/fsm/reasons.js'
import { disconnectPolicy } from '../../../src/core/fsm/reasons.js'
import { OutboundSlots, NON_TRANSIENT_HOLD_MS, REFILL_IDLE_MS, REFILL_INTERVAL_MS, type SlotsConfig } from '../../../src/core/pool/slots.js'
import { toEndpoint } from '../../../src/core/pool/netgroup.js'
import type { PoolAction } from '../../../src/core/pool/types.js'
import { hostIn } from './fixtures.js'
import { drainOut, unix, world } from './harness.js'

const FULL = Services.NODE_NETWORK | Services.NODE_WITNESS
type Connect = Extract<PoolAction, { type: 'connect' }>

function slots(config: Partial<SlotsConfig> = {}, book: { groups: number; perGroup: number; services?: bigint } = { groups: 0, perGroup: 0 }) {
  const w = world()
  const entries = []
  for (let g = 0; g < book.groups; g++) for (let h = 1; h <= book.perGroup; h++) entries.push({ addr: { host: hostIn(g, h), port: 8333 }, services: book.services ?? FULL, time: unix(0) })
  if (entries.length > 0) w.book.add(entries, { host: 'test', port: 0 }, unix(0), { timePenalty: 0 })
  let collisions = 0
  const s = new OutboundSlots(
    w.out,
    w.peers,
    w.book,
    w.bans,
    w.retry,
    unix,
    { fullRelay: 8, limited: 0, maxPeers: 125, fullServices: FULL, limitedServices: Services.NODE_NETWORK_LIMITED, diverse: true, transport: 'v2-first', peers: [], ...config },
    { open: (_now, addr, slot) => w.peers.add(addr, slot, 'connecting'), collision: () => collisions++ },
  )
  s.start()
  const connects = (): Connect[] => drainOut(w.out).filter((a): a is Connect => a.type === 'connect')
  return { ...w, s, connects, collisions: () => collisions }
}

describe('OutboundSlots', () => {
  it('fills the full-relay slots, one peer per network group, and no more', () => {
    const wide = slots({}, { groups: 20, perGroup: 2 })
    wide.s.fill(0)
    const dials = wide.connects()
    expect(dials).toHaveLength(8)
    expect(new Set(dials.map((d) => wide.peers.get(d.peerId)!.group)).size).toBe(8)
    expect(dials.every((d) => d.slot === 'full-relay' && d.requiredServices === FULL)).toBe(true)
    expect(wide.s.full()).toBe(true)
    wide.s.fill(1)
    expect(wide.connects()).toEqual([])
  })

  it('starved, it looks again no sooner than REFILL_INTERVAL_MS, and after REFILL_IDLE_MS with nothing held back', () => {
    const narrow = slots({}, { groups: 3, perGroup: 4 })
    narrow.s.fill(0)
    expect(narrow.connects()).toHaveLength(3)
    expect(narrow.s.nextDeadline()).toBe(REFILL_IDLE_MS)
    const empty = slots()
    empty.retry.failed({ host: hostIn(7, 7), port: 8333 }, 0) // held back 1 s (no jitter in the test policy)
    empty.s.fill(0)
    expect(empty.s.nextDeadline()).toBe(1_000)
    const soon = slots()
    soon.retry.holdUntil({ host: hostIn(7, 7), port: 8333 }, 10, 0)
    soon.s.fill(0)
    expect(soon.s.nextDeadline()).toBe(REFILL_INTERVAL_MS)
    soon.s.timeout(REFILL_INTERVAL_MS - 1)
    expect(soon.s.nextDeadline()).toBe(REFILL_INTERVAL_MS)
  })

  it('dials user-given peers first, and never an address already connected, held back or banned', () => {
    const user = { host: 'node.example', port: 8333 }
    const x = slots({ peers: [user], fullRelay: 3 }, { groups: 10, perGroup: 1 })
    const banned = { host: hostIn(0, 1), port: 8333 }
    x.bans.ban(toEndpoint(banned)!, unix(0) + 3600, 'test', unix(0))
    x.s.fill(0)
    const dials = x.connects()
    expect(dials[0]?.addr).toEqual(user)
    expect(dials.map((d) => d.addr.host)).not.toContain(banned.host)
    expect(x.s.mayTry(0, x.peers.get(dials[1]!.peerId)!.key, undefined)).toBe(false)
  })

  it('fills limited slots with peers that serve recent blocks', () => {
    const x = slots({ fullRelay: 0, limited: 2 }, { groups: 5, perGroup: 1, services: Services.NODE_NETWORK_LIMITED | Services.NODE_WITNESS })
    x.s.fill(0)
    const dials = x.connects()
    expect(dials.map((d) => [d.slot, d.requiredServices])).toEqual([
      ['limited', Services.NODE_NETWORK_LIMITED],
      ['limited', Services.NODE_NETWORK_LIMITED],
    ])
  })

  it("'v2-first' dials v2 where the book shows NODE_P2P_V2, and v1 after the peer refused v2", () => {
    const x = slots({ fullRelay: 1 }, { groups: 1, perGroup: 1, services: FULL | Services.NODE_P2P_V2 })
    x.s.fill(0)
    const [first] = x.connects()
    expect(first?.transport).toBe('v2')
    x.s.v2Refused(1, first!.addr)
    x.peers.delete(x.peers.get(first!.peerId)!)
    x.s.dial(2, first!.addr, 'full-relay', FULL)
    expect(x.connects()[0]?.transport).toBe('v1')
    const v1 = slots({ transport: 'v1', fullRelay: 1 }, { groups: 1, perGroup: 1, services: FULL | Services.NODE_P2P_V2 })
    v1.s.fill(0)
    expect(v1.connects()[0]?.transport).toBe('v1')
  })

  it('a good handshake clears the backoff; a collision in the tried table is handed on', () => {
    const x = slots({ fullRelay: 1 }, { groups: 1, perGroup: 1 })
    x.s.fill(0)
    const p = x.peers.get(x.connects()[0]!.peerId)!
    x.retry.failed(p.key, 0)
    p.services = FULL
    x.s.connected(10, p)
    expect(x.retry.get(p.key)).toBeUndefined()
    expect(x.book.get(p.addr)?.table).toBe('tried')
    expect(x.collisions()).toBe(0)
  })

  it('a peer that will answer the same way is held back NON_TRANSIENT_HOLD_MS; missing services only teach the book', () => {
    const x = slots({ fullRelay: 2 }, { groups: 2, perGroup: 1 })
    x.s.fill(0)
    const [a, b] = x.connects().map((d) => x.peers.get(d.peerId)!)
    const old: DisconnectReason = { kind: 'protocol-version', min: 70001, actual: 60000 }
    expect(x.s.failed(100, a!, old, disconnectPolicy(old), true)).toBe(100 + NON_TRANSIENT_HOLD_MS)
    expect(x.retry.canTry(a!.key, 100 + NON_TRANSIENT_HOLD_MS - 1)).toBe(false)
    const missing: DisconnectReason = { kind: 'missing-services', required: FULL, actual: Services.NODE_NETWORK_LIMITED }
    const at = x.s.failed(100, b!, missing, disconnectPolicy(missing), false)
    expect(at).toBeLessThan(100 + NON_TRANSIENT_HOLD_MS)
    expect(x.book.get(b!.addr)).toMatchObject({ services: Services.NODE_NETWORK_LIMITED, attempts: 1 })
  })

  it('dials nothing before start or after stop', () => {
    const x = slots({}, { groups: 5, perGroup: 1 })
    x.s.stop()
    x.s.fill(0)
    expect(x.connects()).toEqual([])
    expect(x.s.nextDeadline()).toBeUndefined()
  })
})
