// The eclipse comparison: one attacker source floods the address book with
// addresses it controls, while honest peers gossip a few addresses each.
// How much of the book, and of our outbound choices, does the attacker get
// with the bucketed AddressBook, and with a naive FIFO book?
import { describe, it, expect } from 'vitest'
import { SeededRandom } from '../../../src/core/random.js'
import { AddressBook, BUCKET_SIZE, FifoAddressBook, NEW_BUCKETS_PER_SOURCE_GROUP } from '../../../src/core/pool/addrman.js'
import { endpointKey, endpointToPeerAddress, type Endpoint } from '../../../src/core/pool/netgroup.js'
import type { Random } from '../../../src/core/ports.js'
import { NOW, input, randomIPv4 } from './fixtures.js'
import { forWork } from '../../../../../test/harness/timing.js'

/** Outbound connections a node makes: the selections of one round. */
const OUTBOUND = 8
/** Rounds of OUTBOUND selections per seed. */
const ROUNDS = 20
const HONEST_SOURCES = 50
const HONEST_PER_SOURCE = 20
/** The attacker sends full addr messages (MAX_ADDR_TO_SEND). */
const ATTACK_MESSAGE = 1000
/** Wall-clock budget per address added per seed, both books (about 20 µs on an idle machine): the test's hang net. */
const ADDRESS_BUDGET_MS = 0.25

interface Message {
  readonly source: Endpoint
  readonly addrs: Endpoint[]
}

interface Book {
  add(entries: ReturnType<typeof input>[], source: ReturnType<typeof endpointToPeerAddress>, now: number): number
  select(o: { now: number }): { addr: Endpoint } | undefined
  entries(): { addr: Endpoint }[]
}

function shuffle<T>(r: Random, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = r.int(i + 1)
    ;[xs[i], xs[j]] = [xs[j]!, xs[i]!]
  }
  return xs
}

/** The gossip of one run: honest and attacker messages, interleaved at random. */
function gossip(seed: number, flood: number): { messages: Message[]; attacker: Set<string> } {
  const r = new SeededRandom(`eclipse-gossip-${seed}`)
  const attacker = new Set<string>()
  const messages: Message[] = []
  // The attacker: one host, addresses spread over thousands of /16s (a botnet).
  const attackSource = randomIPv4(r, 100, 126)
  const attackAddrs: Endpoint[] = []
  while (attackAddrs.length < flood) {
    const ep = randomIPv4(r, 11, 99)
    if (attacker.has(endpointKey(ep))) continue
    attacker.add(endpointKey(ep))
    attackAddrs.push(ep)
  }
  for (let i = 0; i < flood; i += ATTACK_MESSAGE) messages.push({ source: attackSource, addrs: attackAddrs.slice(i, i + ATTACK_MESSAGE) })
  for (let s = 0; s < HONEST_SOURCES; s++) {
    const source = randomIPv4(r, 128, 191)
    const addrs: Endpoint[] = []
    while (addrs.length < HONEST_PER_SOURCE) {
      const ep = randomIPv4(r, 11, 99)
      if (!attacker.has(endpointKey(ep))) addrs.push(ep)
    }
    messages.push({ source, addrs })
  }
  return { messages: shuffle(r, messages), attacker }
}

interface Outcome {
  /** Attacker entries / all entries, averaged over seeds. */
  bookShare: number
  /** Attacker picks / all picks. */
  selectShare: number
  /** Rounds in which all OUTBOUND picks were the attacker's. */
  eclipsed: number
  rounds: number
  /** Most attacker entries held in any one run. */
  maxAttackerEntries: number
}

function measure(seeds: number, flood: number, make: (seed: number) => Book): Outcome {
  let bookShare = 0
  let picks = 0
  let attackerPicks = 0
  let eclipsed = 0
  let maxAttackerEntries = 0
  for (let seed = 0; seed < seeds; seed++) {
    const { messages, attacker } = gossip(seed, flood)
    const book = make(seed)
    for (const m of messages) book.add(m.addrs.map((a) => input(a, NOW - 600)), endpointToPeerAddress(m.source), NOW)
    const entries = book.entries()
    const mine = entries.filter((e) => attacker.has(endpointKey(e.addr))).length
    maxAttackerEntries = Math.max(maxAttackerEntries, mine)
    bookShare += mine / entries.length
    for (let round = 0; round < ROUNDS; round++) {
      let hits = 0
      for (let i = 0; i < OUTBOUND; i++) {
        const e = book.select({ now: NOW })!
        picks++
        if (attacker.has(endpointKey(e.addr))) hits++
      }
      attackerPicks += hits
      if (hits === OUTBOUND) eclipsed++
    }
  }
  return { bookShare: bookShare / seeds, selectShare: attackerPicks / picks, eclipsed, rounds: seeds * ROUNDS, maxAttackerEntries }
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`
const report = (name: string, o: Outcome) =>
  `${name.padEnd(12)} book share ${pct(o.bookShare).padStart(7)} | share of ${OUTBOUND} picks ${pct(o.selectShare).padStart(7)} | ` +
  `all ${OUTBOUND} picks attacker in ${o.eclipsed}/${o.rounds} rounds | attacker entries max ${o.maxAttackerEntries}`

describe('eclipse: one flooding source vs 50 honest sources', () => {
  for (const [flood, seeds] of [
    [10_000, 30],
    [50_000, 8],
  ] as const) {
    it(`keeps an attacker flooding ${flood} addresses to a small share of selections (${seeds} seeds)`, () => {
      const bucketed = measure(seeds, flood, (seed) => new AddressBook({ random: new SeededRandom(`eclipse-book-${seed}`) }))
      const fifo = measure(seeds, flood, (seed) => new FifoAddressBook({ random: new SeededRandom(`eclipse-fifo-${seed}`) }))
      console.log(
        `eclipse, attacker floods ${flood}, ${HONEST_SOURCES} honest sources x ${HONEST_PER_SOURCE}, ${seeds} seeds x ${ROUNDS} rounds:\n` +
          `  ${report('AddressBook', bucketed)}\n  ${report('FIFO', fifo)}`,
      )
      // The bucket bound: one source group holds at most 64 buckets x 64 slots.
      expect(bucketed.maxAttackerEntries).toBeLessThanOrEqual(NEW_BUCKETS_PER_SOURCE_GROUP * BUCKET_SIZE)
      expect(bucketed.bookShare).toBeLessThan(fifo.bookShare)
      // Selection draws buckets uniformly, so the attacker gets its share of buckets, not of entries.
      expect(bucketed.selectShare).toBeLessThan(0.25)
      expect(bucketed.selectShare).toBeLessThan(fifo.selectShare / 3)
      expect(bucketed.eclipsed).toBe(0)
      expect(fifo.eclipsed).toBeGreaterThan(0)
    }, forWork(seeds * (flood + HONEST_SOURCES * HONEST_PER_SOURCE), ADDRESS_BUDGET_MS))
  }
})
