// The headline scenario at a smaller scale: 2,000 virtual nodes gossiping
// addresses, 30 % of them churning, 2 % misbehaving, and a Pool keeping its
// 8 outbound slots full while it fetches blocks with failover. Seeded, in
// virtual time; the trace hash of a run is printed and must be the same for
// two runs of the same seed.
import { describe, expect, it } from 'vitest'
import { blockHash, InvType, toHex, type Message } from '@bitp2p/wire'
import { Pool, SeededRandom } from '@bitp2p/session'
import { Node, PORT, hostIn, makeChain, run, setup, watchCaps, checkCaps } from './sim.js'
import { forWork } from '../../../../../harness/timing.js'

const NODES = 2_000
const GROUPS = 400 // /16 groups, 5 nodes each
const KNOWN_PER_NODE = 40
const ANSWER_SIZE = 20
const CHURN_SHARE = 0.3
const MISBEHAVING_SHARE = 0.04
const STALLING_SHARE = 0.02
/** Churning nodes flipped (down or up) per step: each flips about every 50 s. */
const FLIPS_PER_STEP = 60
const SERVE_DELAY_MS = 3_000
const BLOCKS = 360
/** Every this many ms the node of one of the pool's peers restarts (down now, up RESTART_DOWN_MS later). */
const RESTART_EVERY_MS = 30_000
const RESTART_DOWN_MS = 120_000
const DURATION_MS = 30 * 60_000
const STEP_MS = 5_000
const WARMUP_MS = 30_000
/** Runs of the simulation in the test (a and its replay b). */
const RUNS = 2
/** Wall-clock budget per virtual step of one run (about 2 ms on an idle machine): the test's hang net. */
const STEP_BUDGET_MS = 25

interface SimResult {
  hash: string
  samples: number
  fullSlotSamples: number
  readyEightSamples: number
  minReady: number
  violations: string[]
  banned: Set<string>
  misbehavingContacted: Set<string>
  misbehaving: Set<string>
  blocksOk: number
  failovers: number
  attempts: number
  bookSize: number
  groupsUsed: number
  churnEvents: number
  restarts: number
  peersAdded: number
  peersRemoved: number
}

async function simulate(seed: string): Promise<SimResult> {
  const { net, options } = setup(seed)
  const r = new SeededRandom(`scenario:${seed}`)
  const chain = makeChain(BLOCKS)
  const misbehaving = new Set<string>()
  const misbehavingContacted = new Set<string>()
  const nodes: Node[] = []
  for (let i = 0; i < NODES; i++) {
    const x = r.float()
    const bad = x < MISBEHAVING_SHARE
    const stall = !bad && x < MISBEHAVING_SHARE + STALLING_SHARE
    const addr = { host: hostIn(i % GROUPS, i), port: PORT }
    if (bad) misbehaving.add(addr.host)
    nodes.push(
      new Node(
        net,
        addr,
        { chain, answerSize: ANSWER_SIZE, stall, serveDelayMs: SERVE_DELAY_MS, misbehave: bad ? 5 : 0, setup: bad ? () => misbehavingContacted.add(addr.host) : undefined },
        `${seed}:n${i}`,
      ),
    )
  }
  for (const n of nodes) {
    const known = []
    for (let k = 0; k < KNOWN_PER_NODE; k++) known.push(nodes[r.int(NODES)]!.addr)
    n.behaviour.known = known
    n.up()
  }
  const churners = nodes.filter(() => r.float() < CHURN_SHARE)
  const byHost = new Map(nodes.map((n) => [n.addr.host, n]))
  let restarts = 0

  const seeds = Array.from({ length: 10 }, () => nodes[r.int(NODES)]!.addr)
  // Feelers off: this scenario predates them and its trace stays as it was. (A feeler to a
  // misbehaving node closes after the handshake, before the misbehaviour: contacted, not banned.)
  // pool.feelers.sim.test.ts runs feelers and eviction.
  const pool = new Pool({ ...options, seeds, requestAttempts: 8, feelers: false })
  const violations = watchCaps(pool)
  const banned = new Set<string>()
  let failovers = 0
  let peersAdded = 0
  let peersRemoved = 0
  const groupsUsed = new Set<string>()
  pool.on('ban', (host) => banned.add(host.slice('ipv4:'.length)))
  pool.on('failover', () => failovers++)
  pool.on('peer-added', (_p, info) => {
    peersAdded++
    groupsUsed.add(info.group)
  })
  pool.on('peer-removed', () => peersRemoved++)
  pool.start()

  let samples = 0
  let fullSlotSamples = 0
  let readyEightSamples = 0
  let minReady = Infinity
  let churnEvents = 0
  let blocksOk = 0
  const requests: Promise<void>[] = []
  let nextBlock = 0

  for (let t = 0; t < DURATION_MS; t += STEP_MS) {
    // Churn: some churning nodes leave (dropping their connections), some come back.
    for (let k = 0; k < FLIPS_PER_STEP; k++) {
      const n = churners[r.int(churners.length)]!
      if (n.online) n.down()
      else n.up()
      churnEvents++
    }
    // Rolling restarts of the pool's own peers, so slots must be refilled again and again.
    if (t > 0 && t % RESTART_EVERY_MS === 0) {
      const conns = pool.connections().filter((c) => c.state === 'ready')
      if (conns.length > 0) {
        const victim = byHost.get(conns[r.int(conns.length)]!.addr.host)!
        victim.down()
        restarts++
        net.clock.setTimer(RESTART_DOWN_MS, () => victim.up())
      }
    }
    // Fetch blocks as we go: 2 per step, each must arrive whatever happens to its peer.
    if (t >= WARMUP_MS) {
      for (let k = 0; k < 2 && nextBlock < BLOCKS; k++, nextBlock++) {
        const i = nextBlock
        requests.push(
          pool.getData([{ type: InvType.MSG_BLOCK, hash: chain.hashes[i]! }], { timeoutMs: 10_000 }).then((res) => {
            const m = res.found[0]?.message as (Message & { command: 'block' }) | undefined
            if (m && toHex(blockHash(m.block.header)) === toHex(chain.hashes[i]!)) blocksOk++
          }),
        )
      }
    }
    await run(net, STEP_MS)
    const v = checkCaps(pool)
    if (v) violations.push(v)
    if (t >= WARMUP_MS) {
      const c = pool.stats().peers
      samples++
      if (c.fullRelay === 8) fullSlotSamples++
      if (c.ready === 8) readyEightSamples++
      minReady = Math.min(minReady, c.ready)
    }
  }
  await Promise.all(requests)
  const stats = pool.stats()
  await pool.stop()
  await run(net, 1_000)
  return {
    hash: net.traceHash(),
    samples,
    fullSlotSamples,
    readyEightSamples,
    minReady,
    violations,
    banned,
    misbehavingContacted,
    misbehaving,
    blocksOk,
    failovers,
    attempts: stats.attempts,
    bookSize: stats.addressBook,
    groupsUsed: groupsUsed.size,
    churnEvents,
    restarts,
    peersAdded,
    peersRemoved,
  }
}

describe('Pool simulation: 2,000 gossiping nodes, 30 % churn', () => {
  it('keeps its slots full within its caps, bans the misbehaving, loses no block; same seed, same trace', async () => {
    const a = await simulate('pool-sim-1')
    const { misbehaving, misbehavingContacted, banned, violations, ...numbers } = a
    console.log('pool sim:', JSON.stringify({ ...numbers, banned: banned.size, misbehaving: misbehaving.size, misbehavingContacted: misbehavingContacted.size }))
    console.log('pool sim trace hash:', a.hash)

    // Invariants, tight by construction.
    expect(violations).toEqual([])
    // Slots: occupied (connecting or ready) at every sample after warm-up.
    expect(a.fullSlotSamples).toBe(a.samples)
    // Every misbehaving node the pool reached is banned; nobody else is.
    expect([...banned].sort()).toEqual([...misbehavingContacted].sort())
    // Every block arrived.
    expect(a.blocksOk).toBe(BLOCKS)
    // The rest is exact for this seed (design rule 8): any change in pool
    // behaviour shows here, and is either a regression or re-pinned on
    // purpose (with the new numbers read off the console line above).
    expect({
      samples: a.samples,
      readyEightSamples: a.readyEightSamples,
      minReady: a.minReady,
      restarts: a.restarts, // churn was felt: peers came and went many times
      peersAdded: a.peersAdded,
      peersRemoved: a.peersRemoved,
      misbehavingContacted: misbehavingContacted.size,
      groupsUsed: a.groupsUsed, // outbound peers came from many /16 groups
      bookSize: a.bookSize, // gossip filled the book far beyond the 10 seeds
      failovers: a.failovers, // blocks failed over when their peer went away
      attempts: a.attempts,
      churnEvents: a.churnEvents,
      hash: a.hash,
    }).toEqual({
      samples: 354,
      readyEightSamples: 354,
      minReady: 8,
      restarts: 59,
      peersAdded: 81,
      peersRemoved: 81,
      misbehavingContacted: 3,
      groupsUsed: 55,
      bookSize: 964,
      failovers: 8,
      attempts: 104,
      churnEvents: 21600,
      hash: '4790a99ad3797923ba3537faaca702c8eb7b2fa2635a11927a6417167c35616f',
    })

    const b = await simulate('pool-sim-1')
    expect(b.hash).toBe(a.hash)
    expect(b.blocksOk).toBe(a.blocksOk)
    expect(b.peersAdded).toBe(a.peersAdded)
  }, forWork(RUNS * (DURATION_MS / STEP_MS), STEP_BUDGET_MS))
})
