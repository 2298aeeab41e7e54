// Inbound eviction (Core's SelectNodeToEvict). Each protection rule is shown
// by a pair of cases: without the property the candidate V is the one
// evicted; with it, V is kept by that rule and someone else goes. A rule
// that did not protect would fail the second half.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  EVICTION_PROTECT_BLOCKS,
  EVICTION_PROTECT_NETGROUPS,
  EVICTION_PROTECT_PING,
  EVICTION_PROTECT_TX,
  explainEviction,
  selectInboundToEvict,
  type EvictionCandidate,
} from '../../../src/core/pool/eviction.js'

/** A plain inbound candidate: its own group, keyed low, connected at `id` s, nothing measured. */
function cand(id: number, over: Partial<EvictionCandidate> = {}): EvictionCandidate {
  return {
    id,
    netgroup: `g${id}`,
    keyedNetgroup: id,
    connectedAt: id * 1_000,
    minPingMs: undefined,
    lastBlockAt: 0,
    lastTxAt: 0,
    relayTxs: true,
    relevantServices: true,
    inbound: true,
    noBan: false,
    manual: false,
    ...over,
  }
}

/**
 * 20 old peers (ids 101..120, connected before everyone else) that take
 * every place of steps 1, 2, 3 and 5: 4 groups with the highest keys, the
 * 8 lowest pings, the 4 latest txs, the 4 latest blocks.
 */
function filler(): EvictionCandidate[] {
  const out: EvictionCandidate[] = []
  for (let i = 0; i < 20; i++) {
    const id = 101 + i
    const over: { -readonly [K in keyof EvictionCandidate]?: EvictionCandidate[K] } = { connectedAt: -100_000 + i, keyedNetgroup: 0 }
    if (i < 4) over.keyedNetgroup = 1_000_000 + i
    else if (i < 12) over.minPingMs = 10 + i
    else if (i < 16) over.lastTxAt = 50_000 + i
    else over.lastBlockAt = 50_000 + i
    out.push(cand(id, over))
  }
  return out
}

/** filler + six unprotected singletons r1..r6 (r6 youngest): after halving by uptime, r6 goes. */
function population(v: Partial<EvictionCandidate> = {}): EvictionCandidate[] {
  const rest = [1, 2, 3, 4, 5].map((id) => cand(id))
  return [...filler(), ...rest, cand(6, v)]
}

describe('explainEviction: the base case', () => {
  it('protects the 20 filler peers by their rules, then the older half of the rest; the youngest singleton goes', () => {
    const d = explainEviction(population())
    expect(d.evict).toBe(6)
    const reasons = [...d.protected.entries()]
    expect(reasons.filter(([, r]) => r === 'netgroup').map(([id]) => id).sort()).toEqual([101, 102, 103, 104])
    expect(reasons.filter(([, r]) => r === 'ping')).toHaveLength(EVICTION_PROTECT_PING)
    expect(reasons.filter(([, r]) => r === 'tx')).toHaveLength(EVICTION_PROTECT_TX)
    expect(reasons.filter(([, r]) => r === 'block')).toHaveLength(EVICTION_PROTECT_BLOCKS)
    // 6 left after step 5: the 3 oldest are kept by uptime.
    expect(reasons.filter(([, r]) => r === 'uptime').map(([id]) => id).sort()).toEqual([1, 2, 3])
    expect(d.protected.has(6)).toBe(false)
  })
})

describe('explainEviction: each protection keeps a peer that would otherwise be evicted', () => {
  const cases: [string, Partial<EvictionCandidate>, string][] = [
    ['a group among the 4 with the highest keyed hash', { keyedNetgroup: 9_999_999 }, 'netgroup'],
    ['the lowest minimum ping', { minPingMs: 1 }, 'ping'],
    ['the most recent novel transaction', { lastTxAt: 99_000 }, 'tx'],
    ['block-relay-only (no tx relay, useful services)', { relayTxs: false }, 'block-relay-only'],
    ['the most recent novel block', { lastBlockAt: 99_000 }, 'block'],
    ['the noban permission', { noBan: true }, 'noban'],
    ['a manual connection', { manual: true }, 'manual'],
    ['an outbound connection', { inbound: false }, 'outbound'],
  ]
  for (const [what, over, why] of cases) {
    it(`${why}: ${what}`, () => {
      expect(selectInboundToEvict(population())).toBe(6)
      const d = explainEviction(population(over))
      expect(d.protected.get(6)).toBe(why)
      expect(d.evict).toBeDefined()
      expect(d.evict).not.toBe(6)
    })
  }

  it('block-relay-only protection needs useful services (Core: fRelevantServices)', () => {
    const d = explainEviction(population({ relayTxs: false, relevantServices: false }))
    expect(d.protected.has(6)).toBe(false)
    expect(d.evict).toBe(6)
  })

  it('the netgroup rule keeps one peer in each of 4 distinct groups, the oldest of each', () => {
    // 8 peers in 2 groups with the highest keys, then 30 singletons keyed low.
    const list: EvictionCandidate[] = []
    for (let i = 0; i < 4; i++) list.push(cand(200 + i, { netgroup: 'top-a', keyedNetgroup: 900, connectedAt: 5_000 + i }))
    for (let i = 0; i < 4; i++) list.push(cand(300 + i, { netgroup: 'top-b', keyedNetgroup: 800, connectedAt: 6_000 + i }))
    for (let i = 0; i < 30; i++) list.push(cand(i + 1, { keyedNetgroup: i }))
    const d = explainEviction(list)
    const byGroup = [...d.protected.entries()].filter(([, r]) => r === 'netgroup').map(([id]) => id)
    expect(byGroup).toHaveLength(EVICTION_PROTECT_NETGROUPS)
    // Core would protect the last four by keyed group: all four of 'top-a'. We protect 4 groups.
    expect(byGroup.sort((a, b) => a - b)).toEqual([29, 30, 200, 300])
  })

  it('uptime: the older half of what is left is kept, so an old clique is not evicted as the biggest group', () => {
    // After the filler, 10 remain: 5 old peers in group 'old' and 5 young singletons.
    const rest: EvictionCandidate[] = []
    for (let i = 0; i < 5; i++) rest.push(cand(1 + i, { netgroup: 'old', connectedAt: 1_000 + i }))
    for (let i = 0; i < 5; i++) rest.push(cand(10 + i, { connectedAt: 20_000 + i }))
    const d = explainEviction([...filler(), ...rest])
    for (let i = 0; i < 5; i++) expect(d.protected.get(1 + i)).toBe('uptime')
    // Without the uptime rule 'old' (5 peers) would be the biggest group and lose peer 5.
    expect(d.evict).toBe(14)
  })
})

describe('explainEviction: the pick', () => {
  it('evicts the youngest member of the group with the most connections left', () => {
    // 20 protected, then 3 singletons and an attacker group of 4; the older half (3) of the 7 is kept.
    const rest = [cand(1), cand(2), cand(3)]
    for (let i = 0; i < 4; i++) rest.push(cand(40 + i, { netgroup: 'attacker', connectedAt: 10_000 + i * 10 }))
    const d = explainEviction([...filler(), ...rest])
    expect([1, 2, 3].map((id) => d.protected.get(id))).toEqual(['uptime', 'uptime', 'uptime'])
    expect(d.evict).toBe(43)
    expect(d.netgroup).toBe('attacker')
  })

  it('between groups of equal size, the one whose youngest member is youngest loses it', () => {
    const rest: EvictionCandidate[] = []
    // Four old peers kept by uptime, then two groups of two: 'b' holds the youngest peer.
    for (let i = 0; i < 4; i++) rest.push(cand(1 + i, { connectedAt: 100 + i }))
    rest.push(cand(50, { netgroup: 'a', connectedAt: 5_000 }), cand(51, { netgroup: 'a', connectedAt: 7_000 }))
    rest.push(cand(60, { netgroup: 'b', connectedAt: 4_000 }), cand(61, { netgroup: 'b', connectedAt: 8_000 }))
    const d = explainEviction([...filler(), ...rest])
    expect(d.evict).toBe(61)
    // Make 'a' hold the youngest instead: it loses.
    const flipped = rest.map((c) => (c.id === 51 ? { ...c, connectedAt: 9_000 } : c))
    expect(selectInboundToEvict([...filler(), ...flipped])).toBe(51)
  })

  it('returns undefined when everyone is protected (20 relaying inbound peers, even all in one group)', () => {
    expect(selectInboundToEvict(filler())).toBeUndefined()
    const same = Array.from({ length: 20 }, (_, i) => cand(i + 1, { netgroup: 'one', keyedNetgroup: 7 }))
    expect(selectInboundToEvict(same)).toBeUndefined()
    // The 21st is evictable: 21 - 20 = 1 left, half of 1 is 0.
    const more = Array.from({ length: 21 }, (_, i) => cand(i + 1, { netgroup: 'one', keyedNetgroup: 7 }))
    expect(selectInboundToEvict(more)).toBe(21)
    expect(selectInboundToEvict([])).toBeUndefined()
    expect(selectInboundToEvict(population().map((c) => ({ ...c, noBan: true })))).toBeUndefined()
  })
})

describe('explainEviction: properties', () => {
  const candidate = fc.record({
    group: fc.integer({ min: 0, max: 6 }),
    connectedAt: fc.integer({ min: 0, max: 50 }),
    minPingMs: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    lastBlockAt: fc.constantFrom(0, 0, 10, 20),
    lastTxAt: fc.constantFrom(0, 0, 10, 20),
    relayTxs: fc.boolean(),
    relevantServices: fc.boolean(),
    inbound: fc.boolean(),
    noBan: fc.boolean(),
  })
  const list = fc.array(candidate, { maxLength: 60 }).map((xs) =>
    xs.map((x, i): EvictionCandidate => ({
      id: i + 1,
      netgroup: `g${x.group}`,
      keyedNetgroup: (x.group * 7919) % 13,
      connectedAt: x.connectedAt,
      minPingMs: x.minPingMs,
      lastBlockAt: x.lastBlockAt,
      lastTxAt: x.lastTxAt,
      relayTxs: x.relayTxs,
      relevantServices: x.relevantServices,
      inbound: x.inbound,
      noBan: x.noBan,
      manual: false,
    })),
  )

  it('the same candidates in any order give the same decision (ties never depend on input order)', () => {
    fc.assert(
      fc.property(list, fc.integer(), (xs, seed) => {
        const shuffled = [...xs]
        let s = seed >>> 0
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0
          const j = s % (i + 1)
          ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
        }
        const a = explainEviction(xs)
        const b = explainEviction(shuffled)
        expect(b.evict).toBe(a.evict)
        expect([...b.protected.entries()].sort((x, y) => x[0] - y[0])).toEqual([...a.protected.entries()].sort((x, y) => x[0] - y[0]))
      }),
    )
  })

  it('the victim is an unprotected inbound non-noban candidate from a largest remaining group; everyone else is protected or left', () => {
    fc.assert(
      fc.property(list, (xs) => {
        const d = explainEviction(xs)
        const eligible = xs.filter((c) => c.inbound && !c.noBan)
        // Steps 1, 2, 3 and 5 alone keep 4 + 8 + 4 + 4 peers whatever their facts.
        if (eligible.length <= 20) expect(d.evict).toBeUndefined()
        if (d.evict === undefined) return
        const v = xs.find((c) => c.id === d.evict)!
        expect(v.inbound && !v.noBan).toBe(true)
        expect(d.protected.has(v.id)).toBe(false)
        const left = eligible.filter((c) => !d.protected.has(c.id))
        const size = (g: string) => left.filter((c) => c.netgroup === g).length
        for (const c of left) expect(size(c.netgroup)).toBeLessThanOrEqual(size(v.netgroup))
        // Youngest of its group.
        for (const c of left) if (c.netgroup === v.netgroup) expect(c.connectedAt).toBeLessThanOrEqual(v.connectedAt)
        for (const c of xs) if (!c.inbound) expect(d.protected.get(c.id)).toBe('outbound')
      }),
    )
  })
})
