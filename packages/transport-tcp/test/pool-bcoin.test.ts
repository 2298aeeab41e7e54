// Pool against bcoin 1.0.2 over TCP on 127.0.0.1: it loses its one peer,
// backs off while the peer is down, reconnects when it returns on the same
// port, and the HeaderSync running on the pool resumes to the new tip.
//
// The restarted bcoin is a NEW in-memory chain: it mines its blocks from
// regtest genesis again, so it shares only genesis with the first one.
// Mining more blocks than the first node had makes its chain the most-work
// one, and the HeaderTree reorganises from genesis to it. The test asserts
// that reorg (fork at height 0, every block of the first chain
// disconnected) rather than a plain extension; the first chain is kept
// shorter than the tree's default max reorg depth (288) for that reason.
import { afterAll, describe, expect, it } from 'vitest'
import {
  disconnectPolicy,
  HeaderSync,
  Pool,
  RealtimeClock,
  type DisconnectPolicy,
  type DisconnectReason,
  type PoolPeerInfo,
  type SyncReorg,
} from '@bitp2p/session'
import { hashToHex, regtest } from '@bitp2p/wire'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { scaled } from '../../../test/harness/timing.js'
import { waitUntil, within } from '../../../test/interop/util.js'

/** Blocks of the first node (below DEFAULT_MAX_REORG_DEPTH, see the file comment). */
const FIRST_BLOCKS = 100
/** The restarted node mines FIRST_BLOCKS + EXTRA_BLOCKS from genesis. */
const EXTRA_BLOCKS = 50
/** Reconnect backoff: fast, un-jittered (so the delays are known), never giving up. */
const BACKOFF = { base: 200, cap: 2_000, factor: 2, jitter: 'none', maxAttempts: Infinity } as const
/** Failed reconnects to see while bcoin is down: delays 400, 800, 1600 ms (the 200 ms one follows the removal). */
const FAILURES_WHILE_DOWN = 3
/** TCP connect deadline (a refused connect on loopback fails at once; an accepted one takes a millisecond). */
const CONNECT_TIMEOUT_MS = scaled(2_000)
/** How long one wait may take before the test fails. */
const WAIT_MS = scaled(20_000)
/**
 * Slack when comparing the pool's clock readings with ours, ms: a busy
 * machine can preempt this process between the two, so it is scaled, but
 * kept under half of the 400 ms by which the expected delays differ.
 */
const SLACK_MS = Math.min(scaled(25), 150)

const nodes: BcoinNode[] = []
let pool: Pool | undefined
let sync: HeaderSync | undefined

afterAll(async () => {
  sync?.stop()
  await pool?.stop()
  for (const n of nodes) await n.stop()
})

interface Failed {
  readonly at: number
  readonly retryAt: number
  readonly reason: DisconnectReason
}

needs('bcoin').describe('Pool against bcoin 1.0.2 over TCP (regtest, 127.0.0.1)', () => {
  it('loses bcoin, backs off while it is down, reconnects on its port and syncs headers to the restarted chain', { timeout: bcoinBudget(FIRST_BLOCKS) + bcoinBudget(FIRST_BLOCKS + EXTRA_BLOCKS) + 4 * WAIT_MS }, async () => {
    const first = await startBcoin({ mine: FIRST_BLOCKS })
    nodes.push(first)
    const firstBest: string = await first.rpc('getbestblockhash', [])
    const port = first.p2p.port

    const clock = new RealtimeClock()
    pool = new Pool({
      network: regtest,
      connector: new TcpConnector({ connectTimeoutMs: CONNECT_TIMEOUT_MS }),
      clock,
      peers: [first.p2p],
      outboundFullRelay: 1,
      backoff: BACKOFF,
    })
    const added: PoolPeerInfo[] = []
    const removed: { info: PoolPeerInfo; reason: DisconnectReason; policy: DisconnectPolicy; at: number }[] = []
    const failed: Failed[] = []
    pool.on('peer-added', (_peer, info) => added.push(info))
    pool.on('peer-removed', (info, reason, policy) => removed.push({ info, reason, policy, at: clock.now() }))
    pool.on('connect-failed', (_info, reason, retryAt) => failed.push({ at: clock.now(), retryAt, reason }))

    sync = new HeaderSync({ source: pool, network: regtest, clock })
    const reorgs: SyncReorg[] = []
    sync.on('reorg', (r) => reorgs.push(r))
    const firstSynced = sync.synced()
    pool.start()
    await sync.start()

    // 1. Synced to the first node.
    const tip1 = await within(firstSynced, 'HeaderSync synced to the first node', WAIT_MS)
    expect(tip1.height).toBe(FIRST_BLOCKS)
    expect(hashToHex(tip1.hash)).toBe(firstBest)
    expect(added).toHaveLength(1)
    expect(added[0]!.addr).toEqual(first.p2p)
    expect(failed).toEqual([])

    // 2. bcoin goes away: the peer is removed with a transient reason.
    await first.stop()
    await waitUntil(() => removed.length === 1, 'peer-removed after bcoin stopped', WAIT_MS)
    const gone = removed[0]!
    expect(gone.info.id).toBe(added[0]!.id)
    expect(gone.reason.kind).toBe('transport')
    expect(gone.policy.transient).toBe(true)
    expect(gone.policy.banScore).toBe(0)
    expect(pool.peers()).toEqual([])

    // 3. While it is down: failed reconnects, each after the previous retryAt, with growing delays.
    await waitUntil(() => failed.length >= FAILURES_WHILE_DOWN, `${FAILURES_WHILE_DOWN} failed reconnects`, WAIT_MS)
    const down = failed.slice(0, FAILURES_WHILE_DOWN)
    for (const f of down) {
      expect(f.reason.kind).toBe('transport')
      expect(disconnectPolicy(f.reason).transient).toBe(true)
    }
    // The removal itself counted the first failure (delay base = 200 ms); the
    // failed connects continue the doubling: 400, 800, 1600 ms (cap 2 s).
    const delays = down.map((f) => f.retryAt - f.at)
    down.forEach((_, i) => expect(Math.abs(delays[i]! - BACKOFF.base * BACKOFF.factor ** (i + 1))).toBeLessThanOrEqual(SLACK_MS))
    for (let i = 1; i < down.length; i++) {
      // Strictly growing delays, and growing gaps between the scheduled retries.
      expect(delays[i]!).toBeGreaterThan(delays[i - 1]!)
      if (i >= 2) expect(down[i]!.retryAt - down[i - 1]!.retryAt).toBeGreaterThan(down[i - 1]!.retryAt - down[i - 2]!.retryAt)
      // No attempt before its backoff ran out.
      expect(down[i]!.at).toBeGreaterThanOrEqual(down[i - 1]!.retryAt - SLACK_MS)
    }
    expect(down[0]!.at).toBeGreaterThanOrEqual(gone.at + BACKOFF.base - SLACK_MS)
    expect(added).toHaveLength(1)

    // 4. bcoin comes back on the same port with a longer, different chain from genesis.
    const second = await startBcoin({ mine: FIRST_BLOCKS + EXTRA_BLOCKS, p2pPort: port })
    nodes.push(second)
    expect(second.p2p.port).toBe(port)
    const secondBest: string = await second.rpc('getbestblockhash', [])
    expect(secondBest).not.toBe(firstBest)
    await waitUntil(() => added.length === 2, 'peer-added after bcoin came back', WAIT_MS)
    expect(added[1]!.addr).toEqual(first.p2p)
    expect(added[1]!.id).not.toBe(added[0]!.id)
    // Every failed reconnect, including any after those checked above, kept to the cap.
    for (const f of failed) expect(f.retryAt - f.at).toBeLessThanOrEqual(BACKOFF.cap + SLACK_MS)

    // 5. Header sync resumed on the reconnected peer: a reorg from genesis to the new chain.
    await waitUntil(() => hashToHex(sync!.tree.tip.hash) === secondBest, "HeaderSync tip at the restarted node's best block", WAIT_MS)
    expect(sync.tree.height).toBe(FIRST_BLOCKS + EXTRA_BLOCKS)
    expect(reorgs).toHaveLength(1)
    const reorg = reorgs[0]!
    expect(reorg.fork.height).toBe(0)
    expect(hashToHex(reorg.fork.hash)).toBe(regtest.genesisHashHex)
    expect(reorg.disconnected).toHaveLength(FIRST_BLOCKS)
    expect(hashToHex(reorg.disconnected[FIRST_BLOCKS - 1]!.hash)).toBe(firstBest)
    expect(hashToHex(sync.tree.getByHeight(1)!.hash)).toBe(await second.rpc('getblockhash', [1]))
    expect(pool.peers()).toHaveLength(1)
    expect(removed).toHaveLength(1)
    console.log(
      `[pool-bcoin] last failed reconnect ${Math.round(failed[failed.length - 1]!.at - gone.at)} ms after the removal; ${failed.length} failed reconnects, ` +
        `delays ${failed.map((f) => Math.round(f.retryAt - f.at)).join('/')} ms; reorg from genesis: -${reorg.disconnected.length} +${sync.tree.height}`,
    )
  })
})
