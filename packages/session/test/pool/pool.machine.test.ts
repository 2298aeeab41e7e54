import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { encodeMessage, InvType, Services, type KnownMessage } from '@bitp2p/wire'
import type { HandshakeInfo } from '../../src/fsm/handshake.js'
import { SeededRandom } from '../../src/random.js'
import { AddrRateLimiter } from '../../src/pool/addr-rate.js'
import { FrameMeter } from '../../src/pool/meter.js'
import { PoolMachine, type PoolAction } from '../../src/pool/machine.js'
import { NET, hostIn } from './sim.js'

const FULL = Services.NODE_NETWORK | Services.NODE_WITNESS
const UNIX0 = 1_750_000_000_000

function info(services = FULL): HandshakeInfo {
  return {
    direction: 'outbound',
    peer: { version: 70016, services, userAgent: '/x/', startHeight: 0, relay: true, nonce: 1n, timestamp: 0n, addrRecv: { services: 0n, host: new Uint8Array(16), port: 0 } },
    negotiatedVersion: 70016,
    features: { wtxidRelay: true, addrv2: false, sendHeaders: false },
    nonce: 2n,
  }
}

function drain(m: PoolMachine): PoolAction[] {
  const out: PoolAction[] = []
  for (let a = m.poll(); a; a = m.poll()) out.push(a)
  return out
}

function machine(seeds: number, groups: number, extra = {}) {
  const addrs = Array.from({ length: seeds }, (_, i) => ({ host: hostIn(i % groups, i + 1), port: 8333 }))
  return new PoolMachine({ seeds: addrs, unixTimeOffsetMs: UNIX0, ...extra }, new SeededRandom('machine'))
}

describe('AddrRateLimiter (Core token bucket)', () => {
  it('starts with one token, earns 0.1 per second up to 1000, and a getaddr grants 1000', () => {
    const b = new AddrRateLimiter(0)
    expect(b.take(0, 5)).toBe(1)
    expect(b.dropped).toBe(4)
    expect(b.take(9_999, 1)).toBe(0) // 0.9999 tokens
    expect(b.take(10_000, 3)).toBe(1)
    expect(b.tokens(20_000_000)).toBe(1000) // capped
    b.grant(20_000_000)
    expect(b.tokens(20_000_000)).toBe(2000) // a grant is not capped
    expect(b.take(20_000_000, 1500)).toBe(1500)
  })
})

describe('FrameMeter', () => {
  const msgs: KnownMessage[] = [
    { command: 'getaddr' },
    { command: 'inv', items: [{ type: InvType.MSG_TX, hash: new Uint8Array(32).fill(1) }] },
    { command: 'ping', nonce: 5n },
    { command: 'inv', items: [] },
  ]
  const frames = msgs.map((m) => encodeMessage(m, NET, 70016))
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0))
  frames.reduce((o, f) => (stream.set(f, o), o + f.length), 0)

  it('counts messages and bytes per command, whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), (cuts) => {
        const m = new FrameMeter()
        let o = 0
        for (let i = 0; o < stream.length; i++) {
          const n = cuts[i % cuts.length]!
          m.push(stream.subarray(o, o + n))
          o += n
        }
        expect(m.totalBytes).toBe(stream.length)
        expect([...m.counts]).toEqual([
          ['getaddr', { messages: 1, bytes: frames[0]!.length }],
          ['inv', { messages: 2, bytes: frames[1]!.length + frames[3]!.length }],
          ['ping', { messages: 1, bytes: frames[2]!.length }],
        ])
      }),
    )
  })
})

describe('PoolMachine (sans-IO)', () => {
  it('dials one address per network group, and no more than the slots', () => {
    const m = machine(40, 5)
    m.start(0)
    const dials = drain(m).filter((a) => a.type === 'connect')
    expect(dials).toHaveLength(5) // 8 slots, but only 5 groups
    expect(new Set(dials.map((a) => a.type === 'connect' && a.addr.host.split('.').slice(0, 2).join('.'))).size).toBe(5)
    expect(m.counts()).toMatchObject({ connecting: 5, fullRelay: 5, total: 5 })
    // Slots open, nothing dialable: a refill is scheduled, never sooner than 500 ms.
    expect(m.nextDeadline()).toBeGreaterThanOrEqual(500)
    const m2 = machine(40, 40)
    m2.start(0)
    expect(drain(m2).filter((a) => a.type === 'connect')).toHaveLength(8)
  })

  it('bans on a ban score, never on unresponsiveness', () => {
    const m = machine(2, 2, { outboundFullRelay: 2 })
    m.start(0)
    const [a, b] = drain(m).filter((x) => x.type === 'connect') as Extract<PoolAction, { type: 'connect' }>[]
    m.ready(10, a!.peerId, info())
    m.ready(10, b!.peerId, info())
    drain(m)
    m.closed(100, a!.peerId, { kind: 'misbehaving', score: 100, threshold: 100, last: { kind: 'duplicate-version' } })
    const events = drain(m).filter((x) => x.type === 'event').map((x) => x.type === 'event' && x.event.type)
    expect(events).toContain('ban')
    expect(m.isBanned(100, a!.addr)).toBe(true)
    expect(m.isBanned(100 + 24 * 3600_000 + 1000, a!.addr)).toBe(false)
    m.closed(200, b!.peerId, { kind: 'ping-timeout', nonce: 1n, waitedMs: 120_000 })
    expect(drain(m).some((x) => x.type === 'event' && x.event.type === 'ban')).toBe(false)
    expect(m.isBanned(200, b!.addr)).toBe(false)
    expect(m.book.get(b!.addr)!.attempts).toBe(1)
    expect(m.retry.canTry(b!.addr, 200)).toBe(false)
  })

  it('fails a request over to another peer, and gives up after maxAttempts', () => {
    const m = machine(3, 3, { outboundFullRelay: 3 })
    m.start(0)
    const ids = drain(m).flatMap((x) => (x.type === 'connect' ? [x.peerId] : []))
    for (const id of ids) m.ready(10, id, info())
    drain(m)
    const req = m.submit(20, { kind: 'data', items: [{ type: InvType.MSG_BLOCK, hash: new Uint8Array(32) }] }, { maxAttempts: 2 })
    const first = drain(m).find((x) => x.type === 'request') as Extract<PoolAction, { type: 'request' }>
    expect(first.requestId).toBe(req)
    m.closed(30, first.peerId, { kind: 'transport', error: undefined })
    const after = drain(m)
    const second = after.find((x) => x.type === 'request') as Extract<PoolAction, { type: 'request' }>
    expect(second.peerId).not.toBe(first.peerId)
    expect(after.some((x) => x.type === 'event' && x.event.type === 'failover')).toBe(true)
    m.requestFailed(40, req, second.peerId, { kind: 'stalled', waitedMs: 60_000 })
    const end = drain(m).find((x) => x.type === 'request-failed')
    expect(end).toMatchObject({ type: 'request-failed', requestId: req, failure: { kind: 'exhausted', attempts: 2, last: { kind: 'stalled' } } })
    expect(m.pendingRequests).toBe(0)
  })

  it('least-loaded spreads requests; a late answer from a former peer still settles the request', () => {
    const m = machine(3, 3, { outboundFullRelay: 3 })
    m.start(0)
    const ids = drain(m).flatMap((x) => (x.type === 'connect' ? [x.peerId] : []))
    for (const id of ids) m.ready(10, id, info())
    drain(m)
    for (let i = 0; i < 9; i++) m.submit(20, { kind: 'ping' })
    const load = new Map<number, number>()
    for (const a of drain(m)) if (a.type === 'request') load.set(a.peerId, (load.get(a.peerId) ?? 0) + 1)
    expect([...load.values()]).toEqual([3, 3, 3])
    const r = m.submit(30, { kind: 'ping' })
    const a1 = drain(m).find((x) => x.type === 'request') as Extract<PoolAction, { type: 'request' }>
    m.requestFailed(31, r, a1.peerId, { kind: 'stalled', waitedMs: 1 })
    const a2 = drain(m).find((x) => x.type === 'request') as Extract<PoolAction, { type: 'request' }>
    expect(m.requestDone(32, r, a1.peerId)).toBe(true)
    expect(drain(m)).toContainEqual({ type: 'cancel-request', requestId: r, peerId: a2.peerId })
    expect(m.requestDone(33, r, a2.peerId)).toBe(false)
  })

  it('refuses inbound peers past the caps and from banned hosts', () => {
    const m = new PoolMachine({ outboundFullRelay: 0, maxInbound: 2, maxPeers: 5, unixTimeOffsetMs: UNIX0 }, new SeededRandom(1))
    m.start(0)
    const banned = { host: hostIn(9, 9), port: 1 }
    m.ban(0, banned, 3600_000, 'test')
    expect(m.inbound(1, banned)).toBeUndefined()
    expect(m.inbound(1, { host: hostIn(1, 1), port: 50_000 })).toBeDefined()
    expect(m.inbound(1, { host: hostIn(2, 1), port: 50_000 })).toBeDefined()
    expect(m.inbound(1, { host: hostIn(3, 1), port: 50_000 })).toBeUndefined()
    expect(m.counts().inbound).toBe(2)
  })
})
