// The session services (HeaderSync, MempoolMonitor, Broadcaster,
// BlockFetcher) against bcoin 1.0.2 on 127.0.0.1, over TcpConnector. One
// regtest node for the whole file; the tests run in order and build on each
// other (the chain the header sync follows is the chain the fetcher
// downloads). Every test's runtime and the suite's are printed.
//
// bcoin quirks this file relies on (see test/harness/bcoin.ts):
//  - it announces new blocks to us as `headers` (we send sendheaders);
//  - invalidateblock rewinds its chain to the block's parent; the next
//    blocks it mines build on that parent;
//  - it stays silent on a getheaders when it has nothing new, so HeaderSync
//    must reach 'synced' from short replies alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BlockFetcher,
  HeaderSync,
  MempoolMonitor,
  Broadcaster,
  formatPeerAddress,
  RealtimeClock,
  singlePeer,
  type BlockDoneEvent,
  type MempoolTx,
  type Peer,
  type SyncProgress,
  type SyncReorg,
} from '@bitp2p/session'
import { type HeaderEntry } from '@bitp2p/session/chain'
import { bytesEqual, fromHex, hashToHex, hexToHash, parseTx, regtest, serializeTx, toHex, txid } from '@bitp2p/wire'
import { merkleRoot } from '@bitp2p/wire/hash'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { forWork, scaled } from '../../../test/harness/timing.js'
import { createSignedTx, waitForWalletTx } from '../../../test/interop/node.js'
import { connectPeer, waitUntil, within } from '../../../test/interop/util.js'

/** Height bcoin's chain has when the header sync starts. */
const START_BLOCKS = 5_000
/** Mined at start-up (coinbases of the first blocks mature while the rest is mined); the rest by one RPC, timed. */
const STARTUP_BLOCKS = 101
/** Blocks the BlockFetcher downloads (the last ones of the chain). */
const FETCH_BLOCKS = 200
/** Per-test vitest timeout (each test takes 0.1 to 2.3 s on an idle machine). */
const TEST_TIMEOUT_MS = scaled(60_000)
/** How long one wait on bcoin may take before a test fails. */
const WAIT_MS = scaled(15_000)
/**
 * The Broadcaster's deadline: bcoin never announces a tx back to the peer
 * that announced it to bcoin, so the broadcast ends here. bcoin's getdata
 * must come before it (a few ms on an idle machine), so it is scaled too.
 */
const BROADCAST_DEADLINE_MS = scaled(2_000)
/** Budget per block the BlockFetcher downloads and checks (about 1.3 ms on an idle machine). */
const FETCH_BUDGET_MS = 100

let node: BcoinNode
let suiteStart = 0
const runtimes: [string, number][] = []
const clock = new RealtimeClock()
/** Runs the header sync and the mempool monitor. */
let headersPeer: Peer
let sync: HeaderSync
let monitor: MempoolMonitor | undefined
/** Every tx the monitor reported, by txid (RPC hex order). */
const monitored = new Map<string, MempoolTx>()
const tips: HeaderEntry[] = []
const reorgs: SyncReorg[] = []
const progress: SyncProgress[] = []
const peers: Peer[] = []

/** Runs a test body, prints and records its runtime. */
async function timed<T>(name: string, body: () => Promise<T>): Promise<T> {
  const t0 = performance.now()
  try {
    return await body()
  } finally {
    const ms = Math.round(performance.now() - t0)
    runtimes.push([name, ms])
    console.log(`[services] ${name}: ${ms} ms`)
  }
}

async function connect(streamBlocks = false): Promise<Peer> {
  const p = await connectPeer(node, { streamBlocks })
  peers.push(p)
  return p
}

const bestHash = (): Promise<string> => node.rpc('getbestblockhash', [])
const hashAt = (h: number): Promise<string> => node.rpc('getblockhash', [h])

/** Waits until the header sync's tip is bcoin's best block. */
async function tipIsBcoins(what: string): Promise<string> {
  const best = await bestHash()
  await waitUntil(() => hashToHex(sync.tree.tip.hash) === best, what, WAIT_MS)
  return best
}

needs('bcoin').describe('session services against bcoin 1.0.2 over TCP (regtest, 127.0.0.1)', () => {
  beforeAll(async () => {
    suiteStart = performance.now()
    node = await startBcoin({ mine: STARTUP_BLOCKS, wallet: true, invMs: 50 })
    const startMs = Math.round(performance.now() - suiteStart)
    const t0 = performance.now()
    const mined = await node.mine(START_BLOCKS - STARTUP_BLOCKS)
    const mineMs = Math.round(performance.now() - t0)
    expect(mined).toHaveLength(START_BLOCKS - STARTUP_BLOCKS)
    expect(await node.rpc('getblockcount', [])).toBe(START_BLOCKS)
    console.log(
      `[services] bcoin ${node.info.bcoin} up with ${STARTUP_BLOCKS} blocks in ${startMs} ms (its own startup_ms ${node.info.startup_ms}); ` +
        `mining ${mined.length} more by generatetoaddress: ${mineMs} ms (${Math.round((mined.length * 1000) / mineMs)} blocks/s)`,
    )
  }, bcoinBudget(START_BLOCKS))

  afterAll(async () => {
    sync?.stop()
    monitor?.stop()
    for (const p of peers) p.close('services suite done')
    await node?.stop()
    const total = Math.round(performance.now() - suiteStart)
    const tests = runtimes.reduce((n, [, ms]) => n + ms, 0)
    console.log(`[services] suite: ${total} ms (${runtimes.length} tests ${tests} ms)`)
  })

  it(`HeaderSync syncs ${START_BLOCKS} headers from genesis; its tip is bcoin's best block`, { timeout: TEST_TIMEOUT_MS }, async () => {
    await timed('header sync from genesis', async () => {
      headersPeer = await connect()
      expect(headersPeer.info?.peer.startHeight).toBe(START_BLOCKS)
      sync = new HeaderSync({ source: singlePeer(headersPeer), network: regtest, clock })
      sync.on('tip', (t) => tips.push(t))
      sync.on('reorg', (r) => reorgs.push(r))
      sync.on('progress', (p) => progress.push(p))
      const t0 = performance.now()
      const synced = sync.synced()
      await sync.start()
      const tip = await within(synced, 'HeaderSync synced', 45_000)
      const ms = performance.now() - t0
      console.log(`[services]   ${tip.height} headers in ${Math.round(ms)} ms (${Math.round((tip.height * 1000) / ms)} headers/s), progress at ${progress.map((p) => p.height).join('/')}`)
      expect(tip.height).toBe(START_BLOCKS)
      expect(hashToHex(tip.hash)).toBe(await bestHash())
      expect(sync.isSynced).toBe(true)
      // 2000 + 2000 + 1000: the short third reply ends the sync; no empty getheaders is needed.
      expect(progress.map((p) => p.height)).toEqual([2_000, 4_000, 5_000])
      for (const h of [1, 2_000, 4_321]) expect(hashToHex(sync.tree.getByHeight(h)!.hash)).toBe(await hashAt(h))
      expect(headersPeer.state).toBe('ready')
    })
  })

  it('HeaderSync follows blocks bcoin mines: tip events up to the new tip', { timeout: TEST_TIMEOUT_MS }, async () => {
    await timed('header sync live', async () => {
      const before = tips.length
      const t0 = performance.now()
      const mined = await node.mine(3)
      await tipIsBcoins('HeaderSync tip at the 3 mined blocks')
      console.log(`[services]   3 blocks followed in ${Math.round(performance.now() - t0)} ms (mine RPC included), ${tips.length - before} tip events`)
      const seen = tips.slice(before)
      expect(seen.length).toBeGreaterThanOrEqual(1)
      expect(seen.length).toBeLessThanOrEqual(3)
      expect(hashToHex(seen[seen.length - 1]!.hash)).toBe(mined[2])
      expect(seen[seen.length - 1]!.height).toBe(START_BLOCKS + 3)
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.height).toBeGreaterThan(seen[i - 1]!.height)
      for (const [i, h] of mined.entries()) expect(hashToHex(sync.tree.getByHeight(START_BLOCKS + 1 + i)!.hash)).toBe(h)
      expect(headersPeer.state).toBe('ready')
    })
  })

  it("a reorg: bcoin invalidates tip-2 and mines 4 blocks; HeaderSync emits 'reorg' at the fork and ends on bcoin's best", { timeout: TEST_TIMEOUT_MS }, async () => {
    await timed('header sync reorg', async () => {
      const top = sync.tree.height // START_BLOCKS + 3
      const oldHashes = await Promise.all([top - 2, top - 1, top].map(hashAt))
      const forkHash = await hashAt(top - 3)
      await node.rpc('invalidateblock', [oldHashes[0]])
      expect(await bestHash()).toBe(forkHash)
      const t0 = performance.now()
      const mined = await node.mine(4)
      const best = await tipIsBcoins('HeaderSync tip on the new branch')
      console.log(`[services]   reorg seen in ${Math.round(performance.now() - t0)} ms (mine RPC included), ${reorgs.length} reorg event(s)`)
      expect(best).toBe(mined[3])
      expect(reorgs).toHaveLength(1)
      const r = reorgs[0]!
      expect(r.fork.height).toBe(top - 3)
      expect(hashToHex(r.fork.hash)).toBe(forkHash)
      expect(r.disconnected.map((e) => hashToHex(e.hash))).toEqual(oldHashes)
      // The new branch overtakes on its 4th block: all four connect in the reorg.
      expect(r.connected.map((e) => hashToHex(e.hash))).toEqual(mined)
      expect(sync.tree.height).toBe(top + 1)
      for (const h of oldHashes) expect(sync.tree.isActive(sync.tree.getByHash(hexToHash(h))!)).toBe(false)
      expect(headersPeer.state).toBe('ready')
    })
  })

  it('MempoolMonitor sees a bcoin wallet transaction with the same txid', { timeout: TEST_TIMEOUT_MS }, async () => {
    await timed('mempool monitor', async () => {
      monitor = new MempoolMonitor({ source: singlePeer(headersPeer), clock })
      monitor.on('tx', (m) => monitored.set(hashToHex(m.txid), m))
      monitor.start()
      const t0 = performance.now()
      const id = await node.sendFromWallet(1)
      await waitUntil(() => monitored.has(id), `MempoolMonitor reports ${id}`, WAIT_MS)
      console.log(`[services]   ${id} reported ${Math.round(performance.now() - t0)} ms after sendtoaddress`)
      const m = monitored.get(id)!
      expect(hashToHex(txid(m.tx))).toBe(id)
      expect(m.receivedFrom).toBe(formatPeerAddress(headersPeer.remote))
      expect(m.announcedBy).toEqual([formatPeerAddress(headersPeer.remote)])
      // The bytes we decoded re-serialize to what bcoin holds in its mempool.
      const raw: string = await node.rpc('getrawtransaction', [id, false])
      expect(toHex(serializeTx(m.tx))).toBe(raw)
      expect(m.size).toBe(raw.length / 2)
    })
  })

  it("Broadcaster: a wallet-signed, unbroadcast transaction we announce reaches bcoin's mempool", { timeout: TEST_TIMEOUT_MS }, async () => {
    await timed('broadcaster', async () => {
      const signed = await createSignedTx(node, 10_000_000)
      const tx = parseTx(fromHex(signed.hex))
      expect(hashToHex(txid(tx))).toBe(signed.txid)
      expect(await node.mempool()).not.toContain(signed.txid)
      const sender = await connect()
      const broadcaster = new Broadcaster({ source: singlePeer(sender), clock })
      const t0 = performance.now()
      let fetchedMs = -1
      broadcaster.on('fetched', () => (fetchedMs = performance.now() - t0))
      const result = await broadcaster.broadcast(tx, { deadlineMs: BROADCAST_DEADLINE_MS, reannounceMs: 1_000 })
      const inMempool = await waitUntil(async () => (await node.mempool()).includes(signed.txid), `${signed.txid} in bcoin's mempool`, WAIT_MS)
      // bcoin relays it on: the monitor on the other connection gets it from bcoin.
      await waitUntil(() => monitored.has(signed.txid), `the monitor on the other peer reports ${signed.txid}`, WAIT_MS)
      console.log(
        `[services]   ${signed.txid}: outcome ${result.outcome}, fetched after ${Math.round(fetchedMs)} ms, ` +
          `announcements ${result.announcements}, fetchedBy [${result.fetchedBy}], seenFrom [${result.seenFrom}], in mempool (polled ${inMempool} ms after the deadline)`,
      )
      const bcoin = formatPeerAddress(sender.remote)
      expect(result.outcome === 'propagated' || result.fetchedBy.includes(bcoin)).toBe(true)
      expect(result.fetchedBy).toEqual([bcoin])
      expect(result.announcedTo).toEqual([bcoin])
      expect(result.rejectedBy).toEqual([])
      expect(bytesEqual(result.txid, txid(tx))).toBe(true)
      expect(monitored.get(signed.txid)!.receivedFrom).toBe(formatPeerAddress(headersPeer.remote))
      await waitForWalletTx(node, signed.txid)
    })
  })

  it(`BlockFetcher downloads the last ${FETCH_BLOCKS} blocks, each merkle-verified, tx counts and txids equal bcoin getblock`, { timeout: TEST_TIMEOUT_MS }, async () => {
    await timed('block fetcher', async () => {
      // Confirm the two mempool transactions so the newest block carries more than a coinbase.
      await node.mine(1)
      await tipIsBcoins('HeaderSync tip at the confirming block')
      const to = sync.tree.height
      const from = to - FETCH_BLOCKS + 1
      const fetchPeer = await connect(true)
      const fetcher = new BlockFetcher({ source: singlePeer(fetchPeer), network: regtest, tree: sync.tree })
      const txids = new Map<string, string[]>()
      const blocks: BlockDoneEvent[] = []
      let chunks = 0
      const t0 = performance.now()
      const download = fetcher.fetchRange(from, to)
      download.on('chunk', (c) => {
        chunks++
        const key = hashToHex(c.hash)
        const list = txids.get(key) ?? []
        // Chunk events are provisional until 'block'; a retry restarts at chunk 0.
        if (c.chunkIndex === 0) list.length = 0
        for (const t of c.txs) list[t.index] = hashToHex(t.txid)
        txids.set(key, list)
      })
      download.on('block', (b) => blocks.push(b))
      const summary = await within(download.done, `${FETCH_BLOCKS} blocks`, forWork(FETCH_BLOCKS, FETCH_BUDGET_MS))
      const ms = performance.now() - t0
      console.log(
        `[services]   ${summary.blocks} blocks, ${summary.bytes} bytes, ${chunks} chunks in ${Math.round(ms)} ms ` +
          `(${Math.round((summary.blocks * 1000) / ms)} blocks/s); txs per block ${Math.min(...blocks.map((b) => b.txCount))}..${Math.max(...blocks.map((b) => b.txCount))}`,
      )
      expect(summary.blocks).toBe(FETCH_BLOCKS)
      expect(blocks).toHaveLength(FETCH_BLOCKS)
      expect(summary.bytes).toBe(blocks.reduce((n, b) => n + b.size, 0))
      expect(blocks.map((b) => b.height).sort((a, b) => a! - b!)).toEqual(Array.from({ length: FETCH_BLOCKS }, (_, i) => from + i))
      for (const b of blocks) {
        const hex = hashToHex(b.hash)
        expect(b.merkleRootVerified).toBe(true)
        expect(hashToHex(sync.tree.getByHeight(b.height!)!.hash)).toBe(hex)
        // Recompute the merkle root from the txids the chunks carried.
        const ids = txids.get(hex)!
        expect(ids).toHaveLength(b.txCount)
        expect(bytesEqual(merkleRoot(ids.map(hexToHash)), b.header.merkleRoot)).toBe(true)
        const rpcBlock = await node.rpc('getblock', [hex, true])
        expect(b.txCount).toBe(rpcBlock.tx.length)
        expect(ids).toEqual(rpcBlock.tx)
      }
      // The confirming block holds the wallet payment and our broadcast one.
      expect(blocks.find((b) => b.height === to)!.txCount).toBeGreaterThanOrEqual(3)
    })
  })
})
