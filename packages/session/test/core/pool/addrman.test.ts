import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { BIP155Network, WireError, isWireError } from '@bitp2p/wire'
import { ByteWriter } from '@bitp2p/wire/codecs'
import { SeededRandom } from '../../../src/core/random.js'
import {
  ADDRESS_BOOK_FORMAT_VERSION,
  ADDRESS_BOOK_MAGIC,
  AddressBook,
  BUCKET_SIZE,
  FEELER_GRACE_SECONDS,
  NEW_BUCKETS_PER_ADDRESS,
  NEW_BUCKETS_PER_SOURCE_GROUP,
  NEW_BUCKET_COUNT,
  REPLACEMENT_SECONDS,
  TEST_WINDOW_SECONDS,
  frameStore,
  isTerrible,
  selectionChance,
  unframeStore,
} from '../../../src/core/pool/addrman.js'
import { endpointKey, type Endpoint } from '../../../src/core/pool/netgroup.js'
import { DAY, NOW, input, ip4, randomIPv4, randomOnion } from './fixtures.js'
import { forWork } from '../../../../../test/harness/timing.js'

const HOUR = 3600
const src = (a: number, b: number, c = 1, d = 1) => ({ host: `${a}.${b}.${c}.${d}`, port: 8333 })
const keyOf = (e: { addr: Endpoint } | undefined) => (e ? endpointKey(e.addr) : 'none')

/** Catch what `fn` throws, for asserting on a typed error. */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

/** Two distinct public addresses with the same tried slot in `book`. */
function triedTwins(book: AddressBook, r: SeededRandom): [Endpoint, Endpoint] {
  const seen = new Map<string, Endpoint>()
  for (;;) {
    const ep = randomIPv4(r)
    const s = book.triedSlotFor(ep)!
    const k = `${s.bucket}/${s.position}`
    const other = seen.get(k)
    if (other && endpointKey(other) !== endpointKey(ep)) return [other, ep]
    seen.set(k, ep)
  }
}

/** A book with `n` addresses from 50 sources, `tried` of them moved to tried. */
function populated(seed: number, n = 2000, tried = 100): { book: AddressBook; addrs: Endpoint[] } {
  const r = new SeededRandom(seed)
  const book = new AddressBook({ random: new SeededRandom(seed + 1) })
  const addrs: Endpoint[] = []
  for (let i = 0; i < n; i++) {
    const ep = randomIPv4(r)
    if (book.add([input(ep)], src(150 + (i % 50), 7), NOW) === 1) addrs.push(ep)
  }
  for (let i = 0; i < tried && i < addrs.length; i++) book.good(addrs[i]!, NOW)
  return { book, addrs }
}

describe('AddressBook: new-table bucketing', () => {
  it('confines one source group flooding 10,000 addresses from many groups to its share of new buckets', () => {
    const r = new SeededRandom(1)
    const book = new AddressBook({ random: new SeededRandom(2) })
    const flood: Endpoint[] = []
    for (let i = 0; i < 10_000; i++) flood.push(randomIPv4(r))
    const groups = new Set(flood.map((e) => `${e.bytes[0]}.${e.bytes[1]}`))
    const added = book.add(flood.map((e) => input(e)), src(44, 1, 2, 3), NOW)

    const buckets = new Set<number>()
    let stored = 0
    for (const e of flood) {
      const pos = book.positions(e)
      if (pos.length === 0) continue
      stored++
      for (const p of pos) buckets.add(p.bucket)
    }
    const share = buckets.size / NEW_BUCKET_COUNT
    console.log(
      `bucketing: 1 source, ${flood.length} addresses from ${groups.size} /16 groups -> ${stored} stored in ` +
        `${buckets.size}/${NEW_BUCKET_COUNT} new buckets (share ${(share * 100).toFixed(2)} % of buckets, ` +
        `${((stored / (NEW_BUCKET_COUNT * BUCKET_SIZE)) * 100).toFixed(2)} % of new slots)`,
    )
    expect(groups.size).toBeGreaterThan(5000)
    expect(added).toBe(stored)
    expect(buckets.size).toBeLessThanOrEqual(NEW_BUCKETS_PER_SOURCE_GROUP)
    // 10,000 addresses reach all 64 of the source's choices; a few of those
    // hash to the same bucket (64 draws from 1024 collide about twice).
    expect(buckets.size).toBeGreaterThan(NEW_BUCKETS_PER_SOURCE_GROUP - 8)
    expect(stored).toBeLessThanOrEqual(NEW_BUCKETS_PER_SOURCE_GROUP * BUCKET_SIZE)
    expect(book.counts().new).toBe(stored)

    // Another host of the same /16 is the same source group: no new buckets.
    const more = Array.from({ length: 2000 }, () => randomIPv4(r))
    book.add(more.map((e) => input(e)), src(44, 1, 200, 200), NOW)
    const before = buckets.size
    for (const e of more) for (const p of book.positions(e)) buckets.add(p.bucket)
    expect(buckets.size).toBe(before)
  })

  it('bounds the buckets of any one source, whatever addresses it sends (property)', () => {
    const book = new AddressBook({ random: new SeededRandom(3) })
    fc.assert(
      fc.property(fc.integer({ min: 11, max: 99 }), fc.nat(255), fc.nat(), (a, b, seed) => {
        const r = new SeededRandom(seed)
        const buckets = new Set<number>()
        for (let i = 0; i < 1500; i++) buckets.add(book.newSlotFor(randomIPv4(r), src(a, b))!.bucket)
        expect(buckets.size).toBeLessThanOrEqual(NEW_BUCKETS_PER_SOURCE_GROUP)
      }),
      { numRuns: 20 },
    )
  })

  it('keys bucket placement on the secret key', () => {
    const a = new AddressBook({ random: new SeededRandom(1), key: new Uint8Array(32).fill(1) })
    const b = new AddressBook({ random: new SeededRandom(1), key: new Uint8Array(32).fill(2) })
    const r = new SeededRandom(9)
    let same = 0
    for (let i = 0; i < 200; i++) {
      const ep = randomIPv4(r)
      const sa = a.newSlotFor(ep, src(44, 1))!
      const sb = b.newSlotFor(ep, src(44, 1))!
      if (sa.bucket === sb.bucket && sa.position === sb.position) same++
    }
    expect(same).toBeLessThan(5)
  })

  it('refuses unroutable addresses and port 0', () => {
    const book = new AddressBook({ random: new SeededRandom(1) })
    const n = book.add([input(ip4(10, 0, 0, 1)), input(ip4(127, 0, 0, 1)), input(ip4(192, 168, 1, 1)), input(ip4(8, 8, 8, 8, 0))], src(44, 1), NOW)
    expect(n).toBe(0)
    expect(book.size).toBe(0)
  })

  it('stores a widely gossiped address in several new buckets, at most NEW_BUCKETS_PER_ADDRESS', () => {
    const book = new AddressBook({ random: new SeededRandom(5) })
    const ep = ip4(23, 45, 67, 89)
    expect(book.add([input(ep)], src(150, 0), NOW)).toBe(1)
    for (let i = 1; i < 300; i++) expect(book.add([input(ep)], src(150, i % 256, i >> 8), NOW)).toBe(0)
    const refs = book.get(ep)!.refs
    expect(refs).toBeGreaterThan(1)
    expect(refs).toBeLessThanOrEqual(NEW_BUCKETS_PER_ADDRESS)
    expect(book.positions(ep)).toHaveLength(refs)
    expect(book.size).toBe(1)
    expect(book.counts().new).toBe(1)
  })

  it('applies the time penalty to relayed addresses but not to a peer advertising itself', () => {
    const book = new AddressBook({ random: new SeededRandom(1) })
    book.add([input(ip4(23, 1, 1, 1), NOW - 100)], src(44, 1), NOW)
    book.add([input(ip4(44, 1, 1, 1), NOW - 100)], src(44, 1), NOW)
    expect(book.get(ip4(23, 1, 1, 1))!.time).toBe(NOW - 100 - 2 * HOUR)
    expect(book.get(ip4(44, 1, 1, 1))!.time).toBe(NOW - 100)
  })

  it('ORs in new service bits for a known address', () => {
    const book = new AddressBook({ random: new SeededRandom(1) })
    book.add([input(ip4(23, 1, 1, 1), NOW, 1n)], src(44, 1), NOW)
    book.add([input(ip4(23, 1, 1, 1), NOW, 8n)], src(45, 1), NOW)
    expect(book.get(ip4(23, 1, 1, 1))!.services).toBe(9n)
  })
})

describe('AddressBook: new -> tried', () => {
  it('moves an address to tried on good, and counts per table and network', () => {
    const book = new AddressBook({ random: new SeededRandom(1) })
    const a = ip4(23, 1, 1, 1)
    const onion = randomOnion(new SeededRandom(2))
    expect(book.add([input(a), input(onion)], src(44, 1), NOW)).toBe(2)
    expect(book.counts()).toEqual({
      new: 2,
      tried: 0,
      byNetwork: [
        { network: BIP155Network.IPV4, new: 1, tried: 0 },
        { network: BIP155Network.TORV3, new: 1, tried: 0 },
      ],
    })
    book.attempt(a, NOW)
    expect(book.get(a)!.attempts).toBe(1)
    expect(book.good(a, NOW + 10)).toBe('tried')
    const e = book.get(a)!
    expect(e.table).toBe('tried')
    expect(e.attempts).toBe(0)
    expect(e.lastSuccess).toBe(NOW + 10)
    expect(e.refs).toBe(0)
    expect(book.positions(a)).toEqual([{ table: 'tried', ...book.triedSlotFor(a)! }])
    expect(book.counts().new).toBe(1)
    expect(book.counts().tried).toBe(1)
    expect(book.counts().byNetwork[0]).toEqual({ network: BIP155Network.IPV4, new: 0, tried: 1 })
    expect(book.good(a, NOW + 20)).toBe('already-tried')
    expect(book.good(ip4(99, 9, 9, 9), NOW)).toBe('unknown')
    // A tried address gets no new-table copies from further gossip.
    expect(book.add([input(a, NOW)], src(46, 1), NOW + 30)).toBe(0)
    expect(book.get(a)!.refs).toBe(0)
  })

  it('counts one failed attempt per round of successes', () => {
    const book = new AddressBook({ random: new SeededRandom(1) })
    const a = ip4(23, 1, 1, 1)
    const b = ip4(24, 1, 1, 1)
    book.add([input(a), input(b)], src(44, 1), NOW)
    book.attempt(a, NOW)
    book.attempt(a, NOW + 100)
    expect(book.get(a)!.attempts).toBe(1)
    book.good(b, NOW + 200) // we are online again: the next failure counts
    book.attempt(a, NOW + 300)
    expect(book.get(a)!.attempts).toBe(2)
    book.attempt(a, NOW + 400, false)
    expect(book.get(a)!.attempts).toBe(2)
    expect(book.get(a)!.lastTry).toBe(NOW + 400)
  })

  it('refreshes time on connected at most every 20 minutes', () => {
    const book = new AddressBook({ random: new SeededRandom(1) })
    const a = ip4(44, 1, 1, 1)
    book.add([input(a, NOW)], src(44, 1), NOW)
    book.connected(a, NOW + 600)
    expect(book.get(a)!.time).toBe(NOW)
    book.connected(a, NOW + 1300)
    expect(book.get(a)!.time).toBe(NOW + 1300)
  })
})

describe('AddressBook: tried collisions (test-before-evict)', () => {
  const setup = (testBeforeEvict = true) => {
    const book = new AddressBook({ random: new SeededRandom(11), triedBuckets: 4, bucketSize: 4, testBeforeEvict })
    const [a, b] = triedTwins(book, new SeededRandom(12))
    book.add([input(a), input(b)], src(44, 1), NOW)
    expect(book.good(a, NOW)).toBe('tried')
    return { book, a, b }
  }

  it('keeps the old entry and queues the newcomer', () => {
    const { book, a, b } = setup()
    const t = NOW + 5 * HOUR
    expect(book.good(b, t)).toBe('collision')
    expect(book.get(b)!.table).toBe('new')
    expect(book.collisionCount).toBe(1)
    expect(keyOf(book.selectTriedCollision())).toBe(endpointKey(a))
  })

  it('keeps the old entry when the feeler to it succeeds', () => {
    const { book, a, b } = setup()
    const t = NOW + 5 * HOUR
    book.good(b, t)
    expect(book.good(a, t + 5)).toBe('already-tried') // the feeler connected
    expect(book.resolveCollisions(t + 10)).toBe(1)
    expect(book.get(a)!.table).toBe('tried')
    expect(book.get(b)!.table).toBe('new')
    expect(book.collisionCount).toBe(0)
  })

  it('evicts the old entry when the feeler fails, after the grace period', () => {
    const { book, a, b } = setup()
    const t = NOW + 5 * HOUR
    book.good(b, t)
    book.attempt(a, t + 5) // the feeler failed
    expect(book.resolveCollisions(t + 5 + FEELER_GRACE_SECONDS - 1)).toBe(0)
    expect(book.get(b)!.table).toBe('new')
    expect(book.resolveCollisions(t + 5 + FEELER_GRACE_SECONDS + 1)).toBe(1)
    expect(book.get(b)!.table).toBe('tried')
    expect(book.get(a)!.table).toBe('new') // back to new, not forgotten
    expect(book.counts()).toMatchObject({ new: 1, tried: 1 })
  })

  it('evicts an untested old entry once the test window has passed', () => {
    const { book, a, b } = setup()
    const t = NOW + 5 * HOUR
    book.good(b, t)
    expect(book.resolveCollisions(t + TEST_WINDOW_SECONDS - 1)).toBe(0)
    expect(book.resolveCollisions(t + TEST_WINDOW_SECONDS + 1)).toBe(1)
    expect(book.get(b)!.table).toBe('tried')
    expect(book.get(a)!.table).toBe('new')
  })

  it('never evicts an entry that connected within REPLACEMENT_SECONDS', () => {
    const { book, a, b } = setup()
    book.good(b, NOW + 60)
    expect(book.resolveCollisions(NOW + REPLACEMENT_SECONDS - 1)).toBe(1)
    expect(book.get(a)!.table).toBe('tried')
  })

  it('evicts at once without test-before-evict', () => {
    const { book, a, b } = setup(false)
    expect(book.good(b, NOW + 10)).toBe('tried')
    expect(book.get(a)!.table).toBe('new')
    expect(book.collisionCount).toBe(0)
  })
})

describe('AddressBook: select', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const run = (seed: number) => {
      const { book } = populated(21)
      const r = new SeededRandom(seed)
      const picks: string[] = []
      // Same book contents; only the selection stream differs.
      const b2 = AddressBook.deserialize(book.serialize(), { random: r })
      for (let i = 0; i < 40; i++) picks.push(keyOf(b2.select({ now: NOW })))
      return picks
    }
    const a = run(100)
    expect(run(100)).toEqual(a)
    expect(run(101)).not.toEqual(a)
    expect(new Set(a).size).toBeGreaterThan(30)
  })

  it('draws from both tables, and only from new with newOnly', () => {
    const { book } = populated(22)
    let tried = 0
    for (let i = 0; i < 400; i++) if (book.select({ now: NOW })!.table === 'tried') tried++
    // The coin is fair when both tables are non-empty (binomial(400, 1/2): 4 sigma is 40).
    expect(tried).toBeGreaterThan(150)
    expect(tried).toBeLessThan(250)
    for (let i = 0; i < 100; i++) expect(book.select({ now: NOW, newOnly: true })!.table).toBe('new')
  })

  it('filters by network and services, and ends when nothing matches', () => {
    const r = new SeededRandom(30)
    const book = new AddressBook({ random: new SeededRandom(31) })
    for (let i = 0; i < 300; i++) book.add([input(randomIPv4(r), NOW - 3600, 1n)], src(44, i % 50), NOW)
    const onions = Array.from({ length: 5 }, () => randomOnion(r))
    book.add(onions.map((o) => input(o, NOW - 3600, 1n | 8n)), src(45, 1), NOW)
    for (let i = 0; i < 30; i++) expect(book.select({ now: NOW, network: BIP155Network.TORV3 })!.addr.network).toBe(BIP155Network.TORV3)
    for (let i = 0; i < 30; i++) expect(book.select({ now: NOW, requiredServices: 8n })!.services & 8n).toBe(8n)
    expect(book.select({ now: NOW, requiredServices: 1n << 20n })).toBeUndefined()
    expect(book.select({ now: NOW, network: BIP155Network.I2P })).toBeUndefined()
    expect(book.select({ now: NOW, newOnly: true, network: BIP155Network.TORV3 })!.addr.network).toBe(BIP155Network.TORV3)
    expect(new AddressBook({ random: new SeededRandom(1) }).select({ now: NOW })).toBeUndefined()
  })

  it('finds the single entry of a nearly empty book', () => {
    const book = new AddressBook({ random: new SeededRandom(3) })
    book.add([input(ip4(23, 1, 1, 1))], src(44, 1), NOW)
    for (let i = 0; i < 20; i++) expect(keyOf(book.select({ now: NOW }))).toBe('ipv4:23.1.1.1:8333')
  })

  it('prefers entries without failures or a very recent try', () => {
    expect(selectionChance({ time: NOW, lastTry: 0, lastSuccess: 0, attempts: 0 }, NOW)).toBe(1)
    expect(selectionChance({ time: NOW, lastTry: NOW - 60, lastSuccess: 0, attempts: 0 }, NOW)).toBeCloseTo(0.01)
    expect(selectionChance({ time: NOW, lastTry: 0, lastSuccess: 0, attempts: 2 }, NOW)).toBeCloseTo(0.66 ** 2)
    expect(selectionChance({ time: NOW, lastTry: 0, lastSuccess: 0, attempts: 50 }, NOW)).toBeCloseTo(0.66 ** 8)

    // 200 addresses, half of them just tried: the fresh half should win most draws.
    const r = new SeededRandom(40)
    const book = new AddressBook({ random: new SeededRandom(41) })
    const addrs = Array.from({ length: 200 }, () => randomIPv4(r))
    for (const [i, a] of addrs.entries()) book.add([input(a)], src(44, i % 64), NOW)
    const tried = new Set<string>()
    for (const [i, a] of addrs.entries()) {
      if (i % 2 === 0 && book.has(a)) {
        book.attempt(a, NOW, false)
        tried.add(endpointKey(a))
      }
    }
    let recent = 0
    for (let i = 0; i < 500; i++) if (tried.has(keyOf(book.select({ now: NOW + 10 })))) recent++
    expect(recent).toBeLessThan(100)
  })
})

describe('AddressBook: horizon and terrible entries', () => {
  it('judges entries as Core does', () => {
    const base = { time: NOW - DAY, lastTry: 0, lastSuccess: 0, attempts: 0 }
    expect(isTerrible(base, NOW)).toBe(false)
    expect(isTerrible({ ...base, time: NOW - 31 * DAY }, NOW)).toBe(true)
    expect(isTerrible({ ...base, time: NOW + 11 * 60 }, NOW)).toBe(true)
    expect(isTerrible({ ...base, attempts: 3 }, NOW)).toBe(true)
    expect(isTerrible({ ...base, attempts: 3, lastSuccess: NOW - DAY }, NOW)).toBe(false)
    expect(isTerrible({ ...base, attempts: 10, lastSuccess: NOW - 8 * DAY }, NOW)).toBe(true)
    // Tried in the last minute: never terrible.
    expect(isTerrible({ ...base, time: NOW - 31 * DAY, lastTry: NOW - 30 }, NOW)).toBe(false)
  })

  it('ignores addresses past the horizon and forgets them once they pass it', () => {
    const book = new AddressBook({ random: new SeededRandom(1) })
    expect(book.add([input(ip4(23, 1, 1, 1), NOW - 31 * DAY)], src(44, 1), NOW)).toBe(0)
    expect(book.add([input(ip4(23, 1, 1, 2), NOW - 29 * DAY + 2 * 3600)], src(44, 1), NOW)).toBe(1)
    expect(book.add([input(ip4(23, 1, 1, 3), NOW)], src(44, 1), NOW)).toBe(1)
    expect(book.getAddr({ now: NOW, maxPct: 100 })).toHaveLength(2)
    const later = NOW + 2 * DAY
    expect(book.getAddr({ now: later, maxPct: 100 }).map(keyOf)).toEqual(['ipv4:23.1.1.3:8333'])
    expect(book.prune(later)).toBe(1)
    expect(book.has(ip4(23, 1, 1, 2))).toBe(false)
    expect(book.size).toBe(1)
    expect(book.counts().new).toBe(1)
  })

  it('replaces an implausible time with five days ago', () => {
    const book = new AddressBook({ random: new SeededRandom(1) })
    book.add([input(ip4(23, 1, 1, 1), NOW + DAY), input(ip4(23, 1, 1, 2), 5)], src(23, 1), NOW, { timePenalty: 0 })
    expect(book.get(ip4(23, 1, 1, 1))!.time).toBe(NOW - 5 * DAY)
    expect(book.get(ip4(23, 1, 1, 2))!.time).toBe(NOW - 5 * DAY)
  })

  it('lets a newcomer take the new slot of a terrible entry', () => {
    // One new slot; an address that was never reached after one try is terrible.
    const book = new AddressBook({ random: new SeededRandom(1), newBuckets: 1, bucketSize: 1, maxRetries: 1 })
    const a = ip4(23, 1, 1, 1)
    const b = ip4(24, 1, 1, 1)
    book.add([input(a)], src(44, 1), NOW)
    expect(book.add([input(b)], src(44, 1), NOW)).toBe(0) // slot taken by a healthy entry
    expect(book.has(b)).toBe(false)
    book.attempt(a, NOW)
    expect(book.get(a)!.attempts).toBe(1)
    // Within a minute of the try it is still protected.
    expect(book.add([input(b)], src(44, 1), NOW + 30)).toBe(0)
    expect(book.add([input(b)], src(44, 1), NOW + 1000)).toBe(1)
    expect(book.has(a)).toBe(false)
    expect(book.size).toBe(1)
  })
})

describe('AddressBook: getAddr', () => {
  it('returns 23 % of the book, at most max, distinct and known', () => {
    const { book } = populated(50, 3000, 0)
    const n = book.size
    const out = book.getAddr({ now: NOW })
    expect(out).toHaveLength(Math.floor((n * 23) / 100))
    const keys = out.map(keyOf)
    expect(new Set(keys).size).toBe(keys.length)
    for (const e of out) expect(book.has(e.addr)).toBe(true)
    expect(book.getAddr({ now: NOW, max: 100 })).toHaveLength(100)
    expect(book.getAddr({ now: NOW, maxPct: 100, max: 0 })).toHaveLength(n)
  })
})

describe('AddressBook: serialize / deserialize', () => {
  const build = () => {
    const { book, addrs } = populated(60, 1500, 80)
    for (let i = 100; i < 140; i++) book.attempt(addrs[i]!, NOW + i)
    // Multi-ref entries.
    for (let i = 0; i < 200; i++) book.add([input(addrs[300]!)], src(160, i), NOW)
    return book
  }

  it('round-trips byte for byte, and the restored book behaves the same', () => {
    const book = build()
    const bytes = book.serialize()
    const copy = AddressBook.deserialize(bytes, { random: new SeededRandom(5) })
    expect(copy.serialize()).toEqual(bytes)
    expect(copy.size).toBe(book.size)
    expect(copy.counts()).toEqual(book.counts())
    expect(copy.entries()).toEqual(book.entries())
    const again = AddressBook.deserialize(bytes, { random: new SeededRandom(5) })
    for (let i = 0; i < 50; i++) expect(keyOf(copy.select({ now: NOW }))).toBe(keyOf(again.select({ now: NOW })))
    console.log(`serialize: ${book.size} entries (${book.counts().tried} tried) -> ${bytes.length} bytes`)
  })

  it('re-buckets when asked for another key or geometry', () => {
    const book = build()
    const copy = AddressBook.deserialize(book.serialize(), { random: new SeededRandom(5), key: new Uint8Array(32).fill(9), newBuckets: 512 })
    expect(copy.size).toBeGreaterThan(book.size * 0.8)
    expect(copy.size).toBeLessThanOrEqual(book.size)
    for (const e of copy.entries()) {
      for (const p of copy.positions(e.addr)) {
        if (p.table === 'tried') expect(p).toEqual({ table: 'tried', ...copy.triedSlotFor(e.addr)! })
        else expect(p.bucket).toBeLessThan(512)
      }
    }
    // And the re-bucketed book round-trips in turn.
    expect(AddressBook.deserialize(copy.serialize(), { random: new SeededRandom(1) }).serialize()).toEqual(copy.serialize())
  })

  it('rejects corrupt bytes with a typed error', () => {
    const bytes = build().serialize()
    const code = (b: Uint8Array) => (thrown(() => AddressBook.deserialize(b, { random: new SeededRandom(1) })) as WireError).code

    const flipped = bytes.slice()
    flipped[200] ^= 0x40
    expect(code(flipped)).toBe('BAD_CHECKSUM')
    const magic = bytes.slice()
    magic[0] = 0
    expect(code(magic)).toBe('BAD_MAGIC')
    const version = bytes.slice()
    version[4] = ADDRESS_BOOK_FORMAT_VERSION + 1
    expect(code(version)).toBe('INVALID_VALUE')
    expect(code(bytes.subarray(0, bytes.length - 1))).toBe('TRUNCATED')
    expect(code(bytes.subarray(0, 5))).toBe('TRUNCATED')
    expect(code(new Uint8Array(0))).toBe('TRUNCATED')
    const longer = new Uint8Array(bytes.length + 1)
    longer.set(bytes)
    expect(code(longer)).toBe('TRAILING_BYTES')
  })

  it('throws only WireError for any truncation or any flipped byte', () => {
    const bytes = build().serialize()
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), (n) => {
        const e = thrown(() => AddressBook.deserialize(bytes.subarray(0, n), { random: new SeededRandom(1) }))
        expect(isWireError(e) && (e as WireError).code).toBe('TRUNCATED')
      }),
      { numRuns: 60 },
    )
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const b = bytes.slice()
        b[i] ^= x
        expect(isWireError(thrown(() => AddressBook.deserialize(b, { random: new SeededRandom(1) })))).toBe(true)
      }),
      { numRuns: 60 },
    )
  })

  it('rejects a well-sealed file whose entries are inconsistent', () => {
    const book = new AddressBook({ random: new SeededRandom(1) })
    book.add([input(ip4(23, 1, 1, 1))], src(44, 1), NOW)
    const body = unframeStore(book.serialize(), ADDRESS_BOOK_MAGIC, ADDRESS_BOOK_FORMAT_VERSION, 'address book').slice()
    const reseal = (b: Uint8Array) => frameStore(ADDRESS_BOOK_MAGIC, ADDRESS_BOOK_FORMAT_VERSION, b)
    const load = (b: Uint8Array) => thrown(() => AddressBook.deserialize(reseal(b), { random: new SeededRandom(1) })) as WireError

    // The last 4 bytes are the entry's new slot: move it by one position.
    const moved = body.slice()
    const dv = new DataView(moved.buffer)
    const slot = dv.getUint32(moved.length - 4, true)
    dv.setUint32(moved.length - 4, slot % BUCKET_SIZE === 0 ? slot + 1 : slot - 1, true)
    expect(load(moved).code).toBe('INVALID_VALUE')
    expect(load(moved).detail.field).toBe('slot')

    // An unroutable address (10.x) where the entry's address sits (after key 32, 4 u32, count 1, network 1).
    const priv = body.slice()
    priv[32 + 16 + 1 + 1] = 10
    expect(load(priv).code).toBe('INVALID_VALUE')

    // The same entry twice (count 2, entry bytes repeated).
    const head = body.subarray(0, 48)
    const entry = body.subarray(49)
    const twice = new ByteWriter().bytes(head).compactSize(2).bytes(entry).bytes(entry).finish()
    expect(load(twice).code).toBe('INVALID_VALUE')

    // A geometry the limits refuse, before anything is allocated.
    const huge = body.slice()
    new DataView(huge.buffer).setUint32(32, 0xffffffff, true)
    expect(load(huge).code).toBe('INVALID_VALUE')

    // A count larger than the bytes could hold.
    const many = new ByteWriter().bytes(head).compactSize(1000).bytes(entry).finish()
    expect(load(many).code).toBe('TRUNCATED')
  })
})

describe('AddressBook: throughput (printed, not asserted)', () => {
  it('inserts and selects 100k addresses', () => {
    const r = new SeededRandom(70)
    const book = new AddressBook({ random: new SeededRandom(71) })
    const batches: { entries: ReturnType<typeof input>[]; source: ReturnType<typeof src> }[] = []
    for (let i = 0; i < 100; i++) {
      const entries = Array.from({ length: 1000 }, () => input(randomIPv4(r, 11, 223)))
      batches.push({ entries, source: src(100 + (i % 100), i) })
    }
    let t0 = performance.now()
    let added = 0
    for (const b of batches) added += book.add(b.entries, b.source, NOW)
    const insertMs = performance.now() - t0
    t0 = performance.now()
    let picked = 0
    for (let i = 0; i < 10_000; i++) if (book.select({ now: NOW })) picked++
    const selectMs = performance.now() - t0
    t0 = performance.now()
    const bytes = book.serialize()
    const serMs = performance.now() - t0
    t0 = performance.now()
    AddressBook.deserialize(bytes, { random: new SeededRandom(1) })
    const deMs = performance.now() - t0
    console.log(
      `throughput: add 100,000 (${added} stored) in ${insertMs.toFixed(0)} ms = ${Math.round(100_000 / (insertMs / 1000))}/s; ` +
        `select x10,000 in ${selectMs.toFixed(0)} ms = ${Math.round(10_000 / (selectMs / 1000))}/s; ` +
        `serialize ${bytes.length} bytes in ${serMs.toFixed(0)} ms, deserialize in ${deMs.toFixed(0)} ms`,
    )
    expect(picked).toBe(10_000)
  }, forWork(100_000, 0.25)) // about 20 µs per address inserted, selected and serialized on an idle machine
})
