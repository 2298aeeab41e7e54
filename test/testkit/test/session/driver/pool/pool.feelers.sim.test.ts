// Feelers and inbound eviction over six virtual hours, on the mock network.
//
// 300 gossiping nodes (15 % of them never online) fill the pool's book and
// its 8 outbound slots; feelers (Core's every-2-minutes test connections)
// walk the book's new table. On
// the listener side, 12 honest clients on fast links (each in its own /16)
// relay novel transactions (credited through Pool.creditRelay, as an
// application would after accepting them), while an attacker in three /16s opens three
// connections a minute and never leaves on its own; later, more honest
// clients arrive into a full pool. Seeded: the same seed gives the same
// trace, byte for byte.
import { describe, expect, it } from 'vitest'
import { InvType, toHex, txid, type Transaction } from '@bitp2p/wire'
import { Peer, Pool, SeededRandom } from '@bitp2p/session'
import { NET, Node, PORT, hostIn, run, setup, watchCaps, checkCaps } from './sim.js'
import { forWork } from '../../../../../harness/timing.js'

const NODES = 300
const GROUPS = 150
const KNOWN_PER_NODE = 30
/** Share of nodes that are gossiped about but never online: some feelers fail. */
const DEAD_SHARE = 0.15
const DURATION_MS = 6 * 3600_000
const STEP_MS = 60_000
const WARMUP_MS = 5 * 60_000
const MAX_INBOUND = 30
const LISTEN_HOST = '11.240.0.1'
const HONEST_EARLY = 12
const HONEST_LATE = 4
/** Late honest clients arrive once the attacker has filled the pool. */
const LATE_FROM_MS = 2 * 3600_000
const ATTACK_GROUPS = [220, 221, 222]
const ATTACKS_PER_STEP = 3
/** Runs of the simulation in the test (a, its replay b, another seed c). */
const RUNS = 3
/** Wall-clock budget per virtual step of one run (about 3 ms on an idle machine): the test's hang net. */
const STEP_BUDGET_MS = 40

interface SimResult {
  hash: string
  log: string[]
  violations: string[]
  feelers: { ok: number; failed: number; tried: number; notTriedAfter: number; failedUncounted: number; dialsBesideFullSlots: number; maxLive: number }
  evictions: { victim: string; by: string }[]
  honestHosts: string[]
  honestClosed: string[]
  honestIn: number
  fullSlotSamples: number
  samples: number
  maxFeelersSampled: number
  getaddrs: number
  outboundAdded: number
  triedAtEnd: number
  refused: number
  txCredits: number
}

/** A transaction unique to (client, n). */
function makeTx(client: number, n: number): Transaction {
  return {
    version: 1,
    inputs: [{ prevout: { txid: new Uint8Array(32).fill(client + 1), index: n }, scriptSig: Uint8Array.of(2, client & 255, n & 255), sequence: 0xffffffff, witness: [] }],
    outputs: [{ value: 1_000n + BigInt(n), scriptPubKey: Uint8Array.of(0x51) }],
    locktime: 0,
  }
}

async function simulate(seed: string): Promise<SimResult> {
  const { net, options } = setup(seed)
  const r = new SeededRandom(`scenario:${seed}`)
  const nodes: Node[] = []
  for (let i = 0; i < NODES; i++) nodes.push(new Node(net, { host: hostIn(i % GROUPS, i), port: PORT }, { answerSize: 20 }, `${seed}:n${i}`))
  const live: Node[] = []
  for (const n of nodes) {
    n.behaviour.known = Array.from({ length: KNOWN_PER_NODE }, () => nodes[r.int(NODES)]!.addr)
    if (r.float() >= DEAD_SHARE) live.push(n.up())
  }
  const listener = net.listen({ host: LISTEN_HOST, port: PORT })
  const seeds = Array.from({ length: 10 }, () => live[r.int(live.length)]!.addr)
  const feelers = { ok: 0, failed: 0, tried: 0, notTriedAfter: 0, failedUncounted: 0, dialsBesideFullSlots: 0, maxLive: 0 }
  const dialViolations: string[] = []
  // Look at the pool at every dial: the machine has registered the new connection by then.
  const inner = options.connector
  const connector: typeof inner = {
    connect: (addr, signal) => {
      const c = pool.stats().peers
      feelers.maxLive = Math.max(feelers.maxLive, c.feeler)
      if (c.feeler === 1 && c.fullRelay === 8 && c.outbound === 8) feelers.dialsBesideFullSlots++
      const v = checkCaps(pool)
      if (v) dialViolations.push(`dial: ${v}`)
      return inner.connect(addr, signal)
    },
  }
  const pool: Pool = new Pool({ ...options, connector, listener, seeds, maxInbound: MAX_INBOUND, maxPeers: 60 })
  const violations = watchCaps(pool)
  const log: string[] = []
  const stamp = (): string => `${net.now()}`

  // Feelers: what each did to the book, checked when it ends.
  pool.on('feeler', (info, ok, reason, book) => {
    log.push(`${stamp()} feeler ${info.addr.host} ${ok ? book : reason.kind}`)
    if (!ok) {
      feelers.failed++
      if (!(pool.machine.book.get(info.addr)!.attempts > 0)) feelers.failedUncounted++
      return
    }
    feelers.ok++
    if (book === 'tried') {
      feelers.tried++
      if (pool.machine.book.get(info.addr)?.table !== 'tried') feelers.notTriedAfter++
    }
  })
  let outboundAdded = 0
  pool.on('peer-added', (_p, info) => {
    if (info.direction === 'outbound') outboundAdded++
    if (info.slot === 'feeler') violations.push(`feeler ${info.id} announced as a peer`)
  })
  const evictions: { victim: string; by: string }[] = []
  pool.on('evicted', (info, by) => {
    evictions.push({ victim: info.addr.host, by: by.host })
    log.push(`${stamp()} evict ${info.addr.host} for ${by.host}`)
  })
  pool.on('peer-removed', (info, reason) => {
    if (reason.kind === 'evicted' && info.direction !== 'inbound') violations.push(`outbound ${info.id} evicted`)
  })
  // A mempool service in miniature: fetch announced transactions and, for each one new to it,
  // tell the pool who delivered it (the pool credits no transaction on its own).
  const accepted = new Set<string>()
  let txCredits = 0
  pool.on('message', (m, peer) => {
    if (m.command !== 'inv') return
    const items = m.items.filter((i) => i.type === InvType.MSG_TX)
    if (items.length === 0) return
    void peer.getData(items).then(
      (r) => {
        for (const f of r.found) {
          if (f.message?.command !== 'tx') continue
          const key = toHex(txid(f.message.tx))
          if (accepted.has(key)) continue
          accepted.add(key)
          if (pool.creditRelay(peer, 'tx')) txCredits++
        }
      },
      () => undefined,
    )
  })
  pool.start()

  // Clients of the listener.
  let refused = 0
  const honestHosts: string[] = []
  const honestClosed: string[] = []
  const honestPeers = new Map<string, Peer>()
  const client = (host: string, latency: number, honest: number | undefined): void => {
    net.setLink(host, LISTEN_HOST, { latency })
    const served = new Map<string, Transaction>()
    let n = 0
    void Peer.connect(listener.address, {
      network: NET,
      clock: net.clock,
      random: new SeededRandom(`${seed}:${host}`),
      connector: net.connector(host),
      transport: CLIENT_TRANSPORT,
      setup: (p) => {
        p.on('getdata', (m) => {
          for (const item of m.items) {
            const tx = served.get(toHex(item.hash))
            if (tx) p.send({ command: 'tx', tx })
          }
        })
        if (honest === undefined) return
        p.once('close', () => honestClosed.push(host))
        // Announce a fresh transaction every few minutes, for as long as connected.
        const announce = (): void => {
          if (p.state !== 'ready') return
          const tx = makeTx(honest, n++)
          const id = txid(tx)
          served.set(toHex(id), tx)
          p.send({ command: 'inv', items: [{ type: InvType.MSG_TX, hash: id }] })
          net.clock.setTimer(4 * 60_000 + honest * 17_000, announce)
        }
        p.once('ready', () => net.clock.setTimer(60_000 + honest * 5_000, announce))
      },
    }).then(
      (p) => {
        if (honest !== undefined) honestPeers.set(host, p)
      },
      () => {
        refused++
      },
    )
  }

  let attackSerial = 0
  let samples = 0
  let fullSlotSamples = 0
  let maxFeelersSampled = 0
  for (let t = 0; t < DURATION_MS; t += STEP_MS) {
    if (t >= 60_000 && t < 60_000 + HONEST_EARLY * STEP_MS) {
      const i = (t - 60_000) / STEP_MS
      const host = hostIn(160 + i, 1)
      honestHosts.push(host)
      client(host, 3, i)
    }
    if (t >= LATE_FROM_MS && t < LATE_FROM_MS + HONEST_LATE * 15 * STEP_MS && (t - LATE_FROM_MS) % (15 * STEP_MS) === 0) {
      const i = HONEST_EARLY + (t - LATE_FROM_MS) / (15 * STEP_MS)
      const host = hostIn(160 + i, 1)
      honestHosts.push(host)
      client(host, 3, i)
    }
    if (t >= 20 * STEP_MS) {
      for (let k = 0; k < ATTACKS_PER_STEP; k++) {
        const g = ATTACK_GROUPS[attackSerial % ATTACK_GROUPS.length]!
        client(hostIn(g, 1 + Math.floor(attackSerial / ATTACK_GROUPS.length)), 60, undefined)
        attackSerial++
      }
    }
    await run(net, STEP_MS)
    const v = checkCaps(pool)
    if (v) violations.push(`${net.now()}: ${v}`)
    if (t >= WARMUP_MS) {
      const c = pool.stats().peers
      samples++
      if (c.fullRelay === 8 && c.outbound === 8) fullSlotSamples++
      maxFeelersSampled = Math.max(maxFeelersSampled, c.feeler)
    }
  }
  const honestIn = [...honestPeers.values()].filter((p) => p.state === 'ready').length
  const triedAtEnd = pool.machine.book.counts().tried
  const closedBeforeStop = [...honestClosed]
  await pool.stop()
  await run(net, 1_000)
  return {
    hash: net.traceHash(),
    log,
    violations: [...violations, ...dialViolations],
    feelers,
    evictions,
    honestHosts,
    honestClosed: closedBeforeStop,
    honestIn,
    fullSlotSamples,
    samples,
    maxFeelersSampled,
    getaddrs: nodes.reduce((n, x) => n + x.getaddrs, 0),
    outboundAdded,
    triedAtEnd,
    refused,
    txCredits,
  }
}

/**
 * The listener's clients speak v1 here: v2 is specified elsewhere, its
 * handshake costs CPU this long simulation does not need, and its keys
 * would draw on the pool's random stream (another scenario for the seed).
 */
const CLIENT_TRANSPORT = 'v1'

describe('Pool simulation: feelers and inbound eviction over six virtual hours', () => {
  it('feelers test the new table without taking slots; an attacker flood evicts only its own; same seed, same trace', async () => {
    const a = await simulate('feelers-1')
    const { log, evictions, honestHosts, ...rest } = a
    console.log('feeler sim:', JSON.stringify({ ...rest, log: log.length, evictions: evictions.length, honest: honestHosts.length }))

    // Caps at every event and every dial (one feeler at most among them); no feeler announced as a peer.
    expect(a.violations).toEqual([])
    expect(a.feelers.maxLive).toBe(1)
    // Feelers ran all along: each that answered moved its address from new to tried; each that
    // did not answer counts a failed attempt against the address.
    expect(a.feelers.notTriedAfter).toBe(0)
    expect(a.feelers.failedUncounted).toBe(0)
    // ...without taking an outbound slot: every feeler was dialled beside 8 full-relay peers, the
    // slots stayed full at every sample, and only slot peers sent getaddr (feelers do not).
    expect(a.feelers.dialsBesideFullSlots).toBe(a.feelers.ok + a.feelers.failed)
    expect(a.fullSlotSamples).toBe(a.samples)
    expect(a.maxFeelersSampled).toBeLessThanOrEqual(1)
    expect(a.getaddrs).toBe(a.outboundAdded)
    // The flood was felt (many evictions, many refusals), every victim the attacker's own.
    const attackerGroups = ATTACK_GROUPS.map((g) => hostIn(g, 1).split('.').slice(0, 2).join('.'))
    for (const e of evictions) expect(attackerGroups).toContain(e.victim.split('.').slice(0, 2).join('.'))
    // Every honest client, early or late, got in and was never closed.
    expect(honestHosts).toHaveLength(HONEST_EARLY + HONEST_LATE)
    expect(a.honestClosed).toEqual([])
    expect(a.honestIn).toBe(HONEST_EARLY + HONEST_LATE)
    // The rest is exact for this seed (design rule 8): feelers ran all along (each that answered
    // moved its address from new to tried, each that did not counted a failed attempt), the flood
    // was felt, and the honest clients' transactions were credited. A change shows here and is a
    // regression or re-pinned on purpose (read the new numbers off the console line above).
    expect({
      feelers: a.feelers,
      triedAtEnd: a.triedAtEnd,
      evictions: evictions.length,
      refused: a.refused,
      txCredits: a.txCredits,
      samples: a.samples,
      log: log.length,
      hash: a.hash,
    }).toEqual({
      feelers: { ok: 101, failed: 94, tried: 101, notTriedAfter: 0, failedUncounted: 0, dialsBesideFullSlots: 195, maxLive: 1 },
      triedAtEnd: 109,
      evictions: 1006,
      refused: 668,
      txCredits: 906,
      samples: 355,
      log: 1201,
      hash: 'a973c18bee21e3dd3309146dcc5c83424afda4e3ea879add22ba6bc2ebbca3b8',
    })

    const b = await simulate('feelers-1')
    expect(b.hash).toBe(a.hash)
    expect(b.log).toEqual(a.log)
    const c = await simulate('feelers-2')
    expect(c.hash).not.toBe(a.hash)
  }, forWork(RUNS * (DURATION_MS / STEP_MS), STEP_BUDGET_MS))
})
