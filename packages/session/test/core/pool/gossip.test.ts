import { describe, expect, it } from 'vitest'
import { Services, type TimestampedNetAddress } from '@bitp2p/wire'
import { AddrRelay } from '../../../src/core/pool/gossip.js'
import { toEndpoint, endpointToNetAddress } from '../../../src/core/pool/netgroup.js'
import { hostIn } from './fixtures.js'
import { drainOut, eventsOf, unix, world } from './harness.js'

const FULL = Services.NODE_NETWORK | Services.NODE_WITNESS
const SOURCE = { host: '10.0.0.1', port: 8333 }

/** `n` gossip entries in distinct groups, seen just now. */
function addrs(n: number, now = 0): TimestampedNetAddress[] {
  return Array.from({ length: n }, (_, i) => endpointToNetAddress(toEndpoint({ host: hostIn(i, 1), port: 8333 })!, FULL, unix(now))!)
}

function relay() {
  const w = world()
  return { ...w, g: new AddrRelay(w.out, w.book, unix) }
}

describe('AddrRelay', () => {
  it('asks each outbound peer for addresses once, and makes room for the answer', () => {
    const { out, g } = relay()
    g.added(0, 1)
    g.askAddresses(0, 1)
    g.askAddresses(5, 1)
    expect(drainOut(out)).toEqual([{ type: 'send', peerId: 1, message: { command: 'getaddr' } }])
    // The answer (up to 1000 entries) passes the rate limit whole.
    const added = g.message(10, 1, SOURCE, false, { command: 'addr', addresses: addrs(300, 10) })
    expect(eventsOf(drainOut(out))).toEqual([{ type: 'addr', peerId: 1, received: 300, accepted: 300, added }])
    expect(added).toBeGreaterThan(0)
    expect(g.learned(1)).toBe(300)
    expect(g.dropped(1)).toBe(0)
  })

  it('rate limits unasked gossip: one token to start, the rest dropped and counted', () => {
    const { out, g, book } = relay()
    g.added(0, 1)
    const added = g.message(0, 1, SOURCE, true, { command: 'addr', addresses: addrs(5) })
    expect(eventsOf(drainOut(out))).toEqual([{ type: 'addr', peerId: 1, received: 5, accepted: 1, added: 1 }])
    expect(added).toBe(1)
    expect(book.size).toBe(1)
    expect(g.learned(1)).toBe(1)
    expect(g.dropped(1)).toBe(4)
  })

  it('answers getaddr from inbound peers only, once per connection, in the form the peer asked for', () => {
    const { out, g, book } = relay()
    // The answer holds at most 23 % of the book (Core's MAX_PCT_ADDR_TO_SEND).
    expect(book.add(addrs(100), SOURCE, unix(0), { timePenalty: 0 })).toBe(100)
    g.added(0, 1) // outbound
    g.added(0, 2) // inbound, v1 addr
    g.added(0, 3) // inbound, sendaddrv2
    g.ready(0, 3, true)
    g.message(1, 1, SOURCE, false, { command: 'getaddr' })
    expect(drainOut(out)).toEqual([])
    g.message(1, 2, SOURCE, true, { command: 'getaddr' })
    g.message(2, 2, SOURCE, true, { command: 'getaddr' })
    const [v1, ...rest] = drainOut(out)
    expect(rest).toEqual([])
    expect(v1).toMatchObject({ type: 'send', peerId: 2, message: { command: 'addr' } })
    expect(v1?.type === 'send' && v1.message.command === 'addr' && v1.message.addresses.length).toBe(23)
    g.message(3, 3, SOURCE, true, { command: 'getaddr' })
    const [v2] = drainOut(out)
    expect(v2).toMatchObject({ type: 'send', peerId: 3, message: { command: 'addrv2', skipped: 0 } })
    expect(v2?.type === 'send' && v2.message.command === 'addrv2' && v2.message.addresses.length).toBe(23)
  })

  it('ignores other commands and forgets a removed peer', () => {
    const { out, g } = relay()
    g.added(0, 1)
    expect(g.message(0, 1, SOURCE, true, { command: 'ping', nonce: 1n })).toBe(0)
    g.removed(1)
    expect(g.message(0, 1, SOURCE, true, { command: 'addr', addresses: addrs(1) })).toBe(0)
    expect(drainOut(out)).toEqual([])
    expect(g.learned(1)).toBe(0)
  })
})
