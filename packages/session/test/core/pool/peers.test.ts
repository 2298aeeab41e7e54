import { describe, expect, it } from 'vitest'
import { PeerTable } from '../../../src/core/pool/peers.js'
import { retryKey } from '../../../src/core/pool/backoff.js'

describe('PeerTable', () => {
  it('numbers connections from 1 and keeps them in id order', () => {
    const t = new PeerTable()
    const a = t.add({ host: '11.0.0.1', port: 8333 }, 'full-relay', 'connecting')
    const b = t.add({ host: '12.0.0.1', port: 8333 }, 'inbound', 'handshaking')
    expect([a.id, b.id]).toEqual([1, 2])
    expect([...t.values()].map((p) => p.id)).toEqual([1, 2])
    expect(a).toMatchObject({ key: retryKey({ host: '11.0.0.1', port: 8333 }), group: 'ipv4:11.0', state: 'connecting', wasReady: false, services: 0n })
  })

  it('a name has no endpoint and a group of its own', () => {
    const t = new PeerTable()
    const p = t.add({ host: 'node.example', port: 8333 }, 'full-relay', 'connecting')
    expect(p.endpoint).toBeUndefined()
    expect(p.group.startsWith('name:')).toBe(true)
  })

  it('counts by state and slot; feelers hold no outbound group', () => {
    const t = new PeerTable()
    t.add({ host: '11.0.0.1', port: 8333 }, 'full-relay', 'connecting').state = 'ready'
    t.add({ host: '12.0.0.1', port: 8333 }, 'limited', 'connecting')
    t.add({ host: '13.0.0.1', port: 8333 }, 'feeler', 'connecting')
    t.add({ host: '14.0.0.1', port: 8333 }, 'inbound', 'handshaking').state = 'closing'
    expect(t.counts()).toEqual({ connecting: 2, handshaking: 0, ready: 1, closing: 1, outbound: 2, inbound: 1, fullRelay: 1, limited: 1, feeler: 1, total: 4 })
    expect([...t.outboundGroups()].sort()).toEqual(['ipv4:11.0', 'ipv4:12.0'])
    expect(t.readyIds()).toEqual([1])
    expect(t.slotCount('feeler')).toBe(1)
  })

  it('an address stays taken while a newer connection holds it', () => {
    const t = new PeerTable()
    const addr = { host: '11.0.0.1', port: 8333 }
    const old = t.add(addr, 'inbound', 'handshaking')
    const fresh = t.add(addr, 'inbound', 'handshaking')
    t.delete(old)
    expect(t.hasKey(fresh.key)).toBe(true)
    t.delete(fresh)
    expect(t.hasKey(fresh.key)).toBe(false)
    expect(t.size).toBe(0)
    expect(t.get(fresh.id)).toBeUndefined()
  })
})
