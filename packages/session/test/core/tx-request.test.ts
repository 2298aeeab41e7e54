/**
 * TxRequestMachine, as a specification: which announced transaction is
 * requested from which peer, and when. Peers are plain strings here; time
 * is a number we pass in; nothing else runs.
 */
import { describe, expect, it } from 'vitest'
import { InvType, type InvItem } from '@bitp2p/wire'
import { MAX_INV_SIZE } from '@bitp2p/wire/limits'
import { SeededRandom } from '../../src/core/random.js'
import {
  DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER,
  DEFAULT_MAX_IN_FLIGHT_PER_PEER,
  DEFAULT_NON_PREFERRED_DELAY_MS,
  DEFAULT_OVERLOADED_DELAY_MS,
  DEFAULT_TX_REQUEST_TIMEOUT_MS,
  MAX_GETDATA_ITEMS,
  MAX_REPORTED_ANNOUNCERS,
  TxRequestMachine,
  type TxRequestAction,
  type TxRequestConfig,
} from '../../src/core/tx-request.js'

/** Hash number n: 32 bytes, n in the first four (little-endian). */
function h(n: number): Uint8Array {
  const b = new Uint8Array(32)
  new DataView(b.buffer).setUint32(0, n, true)
  b[31] = 0xaa
  return b
}
/** The number of a hash made by h(). */
const num = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(0, true)
/** An inv of txids h(n) for each n. */
const inv = (...ns: number[]): InvItem[] => ns.map((n) => ({ type: InvType.MSG_TX, hash: h(n) }))
const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i)

/** Actions as short readable tuples. */
function show(actions: readonly TxRequestAction<string>[]): (string | number | number[])[][] {
  return actions.map((a) => {
    switch (a.type) {
      case 'request':
        return ['request', a.peer, a.items.map((i) => num(i.hash))]
      case 'abandoned':
        return ['abandoned', num(a.hash)]
      default:
        return [a.type, a.peer, num(a.hash)]
    }
  })
}

/** A machine with peers A and B (preferred, i.e. outbound) and C (not preferred), at time 0. */
function machine(config: TxRequestConfig = {}, seed = 'tx-request') {
  const m = new TxRequestMachine<string>(config, new SeededRandom(seed))
  m.addPeer(0, 'A', { preferred: true })
  m.addPeer(0, 'B', { preferred: true })
  m.addPeer(0, 'C', { preferred: false })
  return { m, out: () => show(m.drain()) }
}

describe('TxRequestMachine', () => {
  it("defaults are Core's: 5,000 announcements and 100 in flight per peer, 60 s per request, 2 s delays", () => {
    expect(DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER).toBe(5_000)
    expect(DEFAULT_MAX_IN_FLIGHT_PER_PEER).toBe(100)
    expect(DEFAULT_TX_REQUEST_TIMEOUT_MS).toBe(60_000)
    expect(DEFAULT_OVERLOADED_DELAY_MS).toBe(2_000)
    expect(DEFAULT_NON_PREFERRED_DELAY_MS).toBe(2_000)
  })

  describe('one request per hash', () => {
    it('asks the first announcer at once, and nobody else while that request is out', () => {
      const { m, out } = machine()
      m.announce(0, 'A', inv(1))
      expect(out()).toEqual([['request', 'A', [1]]])
      m.announce(5, 'B', inv(1))
      expect(out()).toEqual([])
      expect(m.stateOf('B', h(1), false)).toBe('ready')
      expect(m.pending).toBe(1)
      expect(m.size).toBe(2)
    })

    it('requests in announcement order, one getdata per peer and input', () => {
      const { m, out } = machine()
      m.announce(0, 'A', inv(3, 1, 2))
      expect(out()).toEqual([['request', 'A', [3, 1, 2]]])
    })

    it('a transaction that arrives settles its hash, reports every announcer, and is then ignored', () => {
      const { m, out } = machine()
      m.announce(0, 'A', inv(1))
      m.announce(1, 'B', inv(1))
      out()
      // Delivered by anyone (here B, which was not asked): wanted all the same.
      expect(m.received(10, 'B', h(1), h(1))).toEqual({ announcedBy: ['A', 'B'] })
      expect(m.pending).toBe(0)
      expect(m.size).toBe(0)
      expect(m.inFlightOf('A')).toBe(0)
      expect(m.hasSeen(h(1), false)).toBe(true)
      expect(m.announce(20, 'C', inv(1))).toEqual({ added: 0, dropped: 0, known: 1 })
      expect(m.received(30, 'A', h(1), h(1))).toBeUndefined()
      expect(out()).toEqual([])
    })

    it('reports at most MAX_REPORTED_ANNOUNCERS announcers, peers gone since included', () => {
      const m = new TxRequestMachine<string>({}, new SeededRandom('many'))
      const peers = range(0, MAX_REPORTED_ANNOUNCERS + 4).map((i) => `P${i}`)
      for (const p of peers) {
        m.addPeer(0, p, { preferred: true })
        m.announce(0, p, inv(7))
      }
      m.removePeer(1, 'P1')
      expect(m.received(2, 'P0', h(7), h(7))?.announcedBy).toEqual(peers.slice(0, MAX_REPORTED_ANNOUNCERS))
    })
  })

  describe('per-peer announcement cap', () => {
    it('tracks at most maxAnnouncementsPerPeer of a peer; the rest are dropped and counted, other peers unaffected', () => {
      const { m, out } = machine({ maxAnnouncementsPerPeer: 3 })
      expect(m.announce(0, 'A', inv(1, 2, 3, 4, 5))).toEqual({ added: 3, dropped: 2, known: 0 })
      expect(m.announcementsOf('A')).toBe(3)
      expect(m.droppedOf('A')).toBe(2)
      expect(m.announce(0, 'B', inv(4, 5))).toEqual({ added: 2, dropped: 0, known: 0 })
      expect(out()).toEqual([
        ['request', 'A', [1, 2, 3]],
        ['request', 'B', [4, 5]],
      ])
      expect(m.dropped).toBe(2)
    })

    it('counts tracked announcements, in any state: one settled frees room for one more', () => {
      const { m, out } = machine({ maxAnnouncementsPerPeer: 2 })
      m.announce(0, 'A', inv(1, 2))
      m.notFound(1, 'A', [{ hash: h(1), byWtxid: false }])
      // h(1) is abandoned (nobody else announced it): its announcement is gone, so there is room.
      expect(m.announcementsOf('A')).toBe(1)
      expect(m.announce(2, 'A', inv(3, 4))).toEqual({ added: 1, dropped: 1, known: 0 })
      expect(out()).toEqual([['request', 'A', [1, 2]], ['notfound', 'A', 1], ['abandoned', 1], ['request', 'A', [3]]])
    })

    it('a flood of maximal invs leaves the flooder at its cap and an honest announcement is requested at once', () => {
      const { m, out } = machine()
      const flood = (k: number): InvItem[] => range(1_000_000 + k * MAX_INV_SIZE, MAX_INV_SIZE).map((n) => ({ type: InvType.MSG_WTX, hash: h(n) }))
      for (let k = 0; k < 4; k++) {
        const r = m.announce(k * 100, 'A', flood(k))
        expect(r.added + r.dropped).toBe(MAX_INV_SIZE)
        expect(m.announcementsOf('A')).toBe(DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER)
        expect(m.inFlightOf('A')).toBe(DEFAULT_MAX_IN_FLIGHT_PER_PEER)
      }
      expect(m.dropped).toBe(4 * MAX_INV_SIZE - DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER)
      expect(out()).toEqual([['request', 'A', range(1_000_000, DEFAULT_MAX_IN_FLIGHT_PER_PEER)]])
      // The flood goes on; B announces a transaction in the middle of it.
      m.announce(1_000, 'B', inv(42))
      expect(out()).toEqual([['request', 'B', [42]]])
      m.announce(1_050, 'A', flood(4))
      expect(m.received(1_100, 'B', h(42), h(42))).toEqual({ announcedBy: ['B'] })
      // Memory: the total is bounded by peers x cap.
      expect(m.size).toBe(DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER)
      expect(m.size).toBeLessThanOrEqual(m.peerCount * DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER)
    })
  })

  describe('per-peer in-flight cap', () => {
    it('asks one peer for at most maxInFlightPerPeer hashes; the rest go out as answers come', () => {
      const { m, out } = machine({ maxInFlightPerPeer: 2 })
      m.announce(0, 'A', inv(1, 2, 3, 4))
      expect(out()).toEqual([['request', 'A', [1, 2]]])
      expect(m.inFlightOf('A')).toBe(2)
      m.received(10, 'A', h(1), h(1))
      expect(out()).toEqual([['request', 'A', [3]]])
      m.notFound(20, 'A', [{ hash: h(2), byWtxid: false }])
      expect(out()).toEqual([['notfound', 'A', 2], ['abandoned', 2], ['request', 'A', [4]]])
    })

    it('a hash whose first announcer is at its cap goes to another announcer with room', () => {
      const { m, out } = machine({ maxInFlightPerPeer: 1, overloadedDelayMs: 0 })
      m.announce(0, 'A', inv(1))
      m.announce(0, 'A', inv(2))
      m.announce(0, 'B', inv(2))
      expect(out()).toEqual([
        ['request', 'A', [1]],
        ['request', 'B', [2]],
      ])
    })

    it('splits a batch into getdata messages of at most MAX_GETDATA_ITEMS', () => {
      const { m, out } = machine({ maxInFlightPerPeer: 2_500 })
      m.announce(0, 'A', inv(...range(0, 2_500)))
      expect(out().map((a) => (a[2] as number[]).length)).toEqual([MAX_GETDATA_ITEMS, MAX_GETDATA_ITEMS, 500])
    })
  })

  describe('alternate announcers', () => {
    it('after notfound the next announcer is asked at once, and the first is never asked again', () => {
      const { m, out } = machine()
      m.announce(0, 'A', inv(1))
      m.announce(1, 'B', inv(1))
      m.notFound(10, 'A', [{ hash: h(1), byWtxid: false }])
      expect(out()).toEqual([['request', 'A', [1]], ['notfound', 'A', 1], ['request', 'B', [1]]])
      expect(m.stateOf('A', h(1), false)).toBe('done')
      // A announcing it again changes nothing (Core: an announcement is never re-requested).
      expect(m.announce(20, 'A', inv(1))).toEqual({ added: 0, dropped: 0, known: 1 })
      m.notFound(30, 'B', [{ hash: h(1), byWtxid: false }])
      expect(out()).toEqual([['notfound', 'B', 1], ['abandoned', 1]])
      expect(m.pending).toBe(0)
      expect(m.size).toBe(0)
    })

    it('a request unanswered for requestTimeoutMs expires and the next announcer is asked; nextDeadline says when', () => {
      const { m, out } = machine()
      m.announce(1_000, 'A', inv(1))
      m.announce(1_001, 'B', inv(1))
      out()
      expect(m.nextDeadline()).toBe(1_000 + DEFAULT_TX_REQUEST_TIMEOUT_MS)
      m.timeout(1_000 + DEFAULT_TX_REQUEST_TIMEOUT_MS - 1)
      expect(out()).toEqual([])
      m.timeout(1_000 + DEFAULT_TX_REQUEST_TIMEOUT_MS)
      expect(out()).toEqual([['expired', 'A', 1], ['request', 'B', [1]]])
      expect(m.inFlightOf('A')).toBe(0)
      expect(m.nextDeadline()).toBe(1_000 + 2 * DEFAULT_TX_REQUEST_TIMEOUT_MS)
    })

    it('a getdata that failed (stalled, refused) is an expiry now', () => {
      const { m, out } = machine()
      m.announce(0, 'A', inv(1, 2))
      m.announce(0, 'B', inv(2))
      out()
      m.requestFailed(5, 'A', [{ hash: h(1), byWtxid: false }, { hash: h(2), byWtxid: false }])
      expect(out()).toEqual([['expired', 'A', 1], ['abandoned', 1], ['expired', 'A', 2], ['request', 'B', [2]]])
    })

    it("a peer that leaves: its requests go to the next announcer, hashes only it announced are abandoned", () => {
      const { m, out } = machine()
      m.announce(0, 'A', inv(1, 2))
      m.announce(1, 'B', inv(1))
      out()
      m.removePeer(2, 'A')
      expect(out()).toEqual([['abandoned', 2], ['request', 'B', [1]]])
      expect(m.announcementsOf('A')).toBe(0)
      expect(m.peerCount).toBe(2)
      // Inputs about a peer that is gone do nothing.
      expect(m.announce(3, 'A', inv(9))).toEqual({ added: 0, dropped: 0, known: 0 })
    })
  })

  describe('who is asked first', () => {
    it("an announcement made while the peer is at its in-flight cap waits overloadedDelayMs: an honest announcer is asked first", () => {
      const { m, out } = machine({ maxInFlightPerPeer: 2 })
      m.announce(0, 'A', inv(1, 2))
      out()
      // A is overloaded: its announcement of 9 waits until 2,000.
      m.announce(100, 'A', inv(9))
      expect(m.stateOf('A', h(9), false)).toBe('delayed')
      expect(m.nextDeadline()).toBe(100 + DEFAULT_OVERLOADED_DELAY_MS)
      m.announce(500, 'B', inv(9))
      expect(out()).toEqual([['request', 'B', [9]]])
    })

    it('an overloaded peer is still asked once its delay passed and it has room', () => {
      const { m, out } = machine({ maxInFlightPerPeer: 2 })
      m.announce(0, 'A', inv(1, 2))
      m.announce(100, 'A', inv(9))
      out()
      m.timeout(2_100)
      expect(m.stateOf('A', h(9), false)).toBe('ready')
      expect(out()).toEqual([])
      m.received(2_200, 'A', h(1), h(1))
      expect(out()).toEqual([['request', 'A', [9]]])
    })

    it('a non-preferred peer waits nonPreferredDelayMs: a preferred announcer within that time is asked', () => {
      const { m, out } = machine()
      m.announce(0, 'C', inv(1))
      expect(out()).toEqual([])
      expect(m.nextDeadline()).toBe(DEFAULT_NON_PREFERRED_DELAY_MS)
      m.announce(1_500, 'A', inv(1))
      expect(out()).toEqual([['request', 'A', [1]]])
      // Without one, the non-preferred peer is asked when its delay is over.
      m.announce(1_600, 'C', inv(2))
      m.timeout(1_600 + DEFAULT_NON_PREFERRED_DELAY_MS)
      expect(out()).toEqual([['request', 'C', [2]]])
    })

    it('among ready announcers, preferred ones first', () => {
      const { m, out } = machine({ nonPreferredDelayMs: 0 })
      m.announce(0, 'A', inv(1))
      m.announce(1, 'C', inv(1))
      m.announce(2, 'B', inv(1))
      m.notFound(3, 'A', [{ hash: h(1), byWtxid: false }])
      // C announced before B, but B is preferred.
      expect(out()).toEqual([['request', 'A', [1]], ['notfound', 'A', 1], ['request', 'B', [1]]])
    })

    it('ties are broken by the injected Random: the same seed picks the same peer, and each peer gets picked under some seed', () => {
      const pick = (seed: string): string => {
        const m = new TxRequestMachine<string>({}, new SeededRandom(seed))
        for (const p of ['A', 'B', 'C']) m.addPeer(0, p, { preferred: false })
        // All three announce at once; all become ready together at 2,000.
        for (const p of ['A', 'B', 'C']) m.announce(0, p, inv(1))
        m.timeout(2_000)
        const r = m.drain()
        expect(r).toHaveLength(1)
        return r[0]!.type === 'request' ? r[0]!.peer : ''
      }
      const picks = range(0, 30).map((i) => pick(`tie-${i}`))
      expect(picks).toEqual(range(0, 30).map((i) => pick(`tie-${i}`)))
      expect(new Set(picks)).toEqual(new Set(['A', 'B', 'C']))
    })
  })

  describe('rate limit and time', () => {
    it('maxTxPerSecond: a bucket of one second; nextDeadline is the refill when requests wait for it', () => {
      const { m, out } = machine({ maxTxPerSecond: 2 })
      m.announce(0, 'A', inv(1, 2, 3, 4))
      expect(out()).toEqual([['request', 'A', [1, 2]]])
      expect(m.nextDeadline()).toBe(500)
      m.timeout(499)
      expect(out()).toEqual([])
      m.timeout(500)
      expect(out()).toEqual([['request', 'A', [3]]])
      m.timeout(1_000)
      expect(out()).toEqual([['request', 'A', [4]]])
    })

    it('time never goes back: an input with an earlier now is taken at the latest now seen', () => {
      const { m, out } = machine()
      m.announce(10_000, 'A', inv(1))
      m.announce(5_000, 'C', inv(2))
      expect(m.nextDeadline()).toBe(10_000 + DEFAULT_NON_PREFERRED_DELAY_MS)
      out()
    })

    it('a timeout with nothing due does nothing', () => {
      const { m, out } = machine()
      m.timeout(1_000_000)
      expect(out()).toEqual([])
      expect(m.nextDeadline()).toBeUndefined()
    })

    it('rejects limits that make no sense', () => {
      const r = new SeededRandom('x')
      expect(() => new TxRequestMachine({ maxAnnouncementsPerPeer: 0 }, r)).toThrow(RangeError)
      expect(() => new TxRequestMachine({ maxInFlightPerPeer: 0 }, r)).toThrow(RangeError)
      expect(() => new TxRequestMachine({ maxTxPerSecond: 0 }, r)).toThrow(RangeError)
      expect(() => new TxRequestMachine({ requestTimeoutMs: Number.NaN }, r)).toThrow(RangeError)
    })
  })

  it('txid and wtxid announcements are separate hashes; a transaction settles both', () => {
    const { m, out } = machine()
    m.announce(0, 'A', [{ type: InvType.MSG_WTX, hash: h(5) }])
    m.announce(0, 'B', inv(6))
    expect(m.drain().map((a) => (a.type === 'request' ? a.items.map((i) => i.byWtxid) : []))).toEqual([[true], [false]])
    expect(m.received(1, 'A', h(6), h(5))?.announcedBy).toEqual(['A', 'B'])
    expect(m.hasSeen(h(5), true) && m.hasSeen(h(6), false)).toBe(true)
    expect(m.pending).toBe(0)
    expect(out()).toEqual([])
  })

  it('skips items that are not transactions', () => {
    const { m, out } = machine()
    expect(m.announce(0, 'A', [{ type: InvType.MSG_BLOCK, hash: h(1) }])).toEqual({ added: 0, dropped: 0, known: 0 })
    expect(out()).toEqual([])
  })
})
