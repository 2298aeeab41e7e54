// BIP152 compact block relay against bcoin 1.0.2 on 127.0.0.1 over TCP
// (regtest). bcoin's wallet puts transactions into its mempool; our
// MempoolMonitor fetches them; bcoin mines a block and sends it to us as a
// cmpctblock (pushed in high-bandwidth mode, asked for after its inv in
// low-bandwidth mode); CompactRelay rebuilds it. Every rebuilt block must be
// byte for byte bcoin's own (`getblock <hash> false`).
//
// bcoin quirks this file relies on:
//  - it honours only the first sendcmpct of a connection, so each mode gets
//    its own connection;
//  - with sendcmpct version 2 (we see NODE_WITNESS) it sends short ids of
//    wtxids and transactions with witness;
//  - in mode 0 it announces a new block with inv (we send no sendheaders)
//    and answers getdata(MSG_CMPCT_BLOCK) with a cmpctblock for recent blocks.
//
// The bytes received per block against the full block, and the time from
// cmpctblock to block, are printed, never asserted as timings
// (bench/compact.bench.mjs measures reconstruction).
import { afterAll, beforeAll, expect, it } from 'vitest'
import { MempoolMonitor, RealtimeClock, singlePeer, type Peer } from '@bitp2p/session'
import { CompactRelay, type CompactBlockEvent } from '@bitp2p/session/compact'
import { hashToHex, hexToHash, regtest, serializeBlock, toHex, Services } from '@bitp2p/wire'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { scaled } from '../../../test/harness/timing.js'
import { connectPeer, waitUntil } from '../../../test/interop/util.js'

/** Coinbases of the first blocks must mature before the wallet can spend. */
const STARTUP_BLOCKS = 110
/** Per-test vitest timeout. */
const TEST_TIMEOUT_MS = scaled(60_000)
/** How long one wait on bcoin may take before a test fails. */
const WAIT_MS = scaled(15_000)

let node: BcoinNode
const clock = new RealtimeClock()
const cleanups: (() => void)[] = []

/** One connection running a MempoolMonitor and a CompactRelay in the given mode. */
async function relayOn(highBandwidth: boolean): Promise<{ peer: Peer; monitor: MempoolMonitor; relay: CompactRelay; blocks: CompactBlockEvent[]; failures: unknown[] }> {
  const peer = await connectPeer(node)
  const source = singlePeer(peer)
  const monitor = new MempoolMonitor({ source, clock }).start()
  // High-bandwidth: only what bcoin pushes (no getdata for announcements), so a block proves the push.
  const relay = new CompactRelay({ source, clock, mempool: monitor, network: regtest, highBandwidth, requestAnnounced: !highBandwidth }).start()
  const blocks: CompactBlockEvent[] = []
  const failures: unknown[] = []
  relay.on('block', (e) => blocks.push(e))
  relay.on('failed', (f) => failures.push(f))
  relay.on('offense', (o) => failures.push(o))
  cleanups.push(() => {
    relay.stop()
    monitor.stop()
    peer.close('compact suite done')
  })
  return { peer, monitor, relay, blocks, failures }
}

/** Sends `n` wallet payments and waits until the relay holds each; returns their txids (RPC hex). */
async function paymentsSeenBy(relay: CompactRelay | undefined, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) ids.push(await node.sendFromWallet(0.1 + i / 100))
  if (relay) {
    for (const id of ids) await waitUntil(() => relay.hasTx(hexToHash(id)), `the relay holds ${id}`, WAIT_MS)
  }
  return ids
}

/** Mines one block and waits for the relay's block event of it; checks it is bcoin's block byte for byte. */
async function mineAndRebuild(blocks: CompactBlockEvent[], what: string): Promise<CompactBlockEvent> {
  const [hash] = await node.mine(1)
  await waitUntil(() => blocks.some((b) => hashToHex(b.hash) === hash), `${what}: the relay delivers ${hash}`, WAIT_MS)
  const ev = blocks.find((b) => hashToHex(b.hash) === hash)!
  const raw: string = await node.rpc('getblock', [hash, false])
  expect(toHex(serializeBlock(ev.block))).toBe(raw)
  const s = ev.stats
  console.log(
    `[compact] ${what}: ${ev.how}${ev.fallback ? ` (${ev.fallback})` : ''}, v${ev.version}, ${s.txs} txs (${s.prefilled} prefilled, ${s.fromMempool} from mempool, ${s.fetched} fetched), ` +
      `${s.bytesReceived} bytes received vs ${s.fullBlockBytes} for the full block (${((100 * s.bytesReceived) / s.fullBlockBytes).toFixed(1)} %), ` +
      `${(s.finishedAt - s.startedAt).toFixed(2)} ms from first message to block`,
  )
  return ev
}

needs('bcoin').describe('CompactRelay against bcoin 1.0.2 (BIP152, regtest, 127.0.0.1)', () => {
  beforeAll(async () => {
    node = await startBcoin({ mine: STARTUP_BLOCKS, wallet: true, invMs: 50 })
  }, bcoinBudget(STARTUP_BLOCKS))

  afterAll(async () => {
    for (const c of cleanups) c()
    await node?.stop()
  })

  it('high-bandwidth: bcoin pushes cmpctblock; blocks of mempool transactions rebuild without a round trip, then with getblocktxn', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { peer, monitor, relay, blocks, failures } = await relayOn(true)
    expect((peer.info!.peer.services & Services.NODE_WITNESS) !== 0n).toBe(true)

    await paymentsSeenBy(relay, 5)
    const full = await mineAndRebuild(blocks, 'high-bandwidth, all in mempool')
    expect(full).toMatchObject({ how: 'mempool', version: 2 })
    expect(full.stats).toMatchObject({ txs: 6, prefilled: 1, fromMempool: 5, fetched: 0 })
    expect(full.stats.bytesReceived).toBeLessThan(full.stats.fullBlockBytes)
    expect(relay.poolSize).toBe(0) // the block's transactions left the candidates

    // One payment the relay holds, then two it never sees: getblocktxn fetches those from bcoin.
    await paymentsSeenBy(relay, 1)
    monitor.stop()
    await paymentsSeenBy(undefined, 2)
    const partial = await mineAndRebuild(blocks, 'high-bandwidth, 2 of 3 missing')
    expect(partial.how).toBe('blocktxn')
    expect(partial.stats).toMatchObject({ txs: 4, fromMempool: 1, fetched: 2 })
    expect(failures).toEqual([])
    expect(peer.misbehaviorScore).toBe(0)
    expect(peer.state).toBe('ready')
  })

  it('low-bandwidth: bcoin announces with inv, we ask for the cmpctblock and rebuild it', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const c of cleanups.splice(0)) c()
    const { peer, relay, blocks, failures } = await relayOn(false)
    await paymentsSeenBy(relay, 4)
    const ev = await mineAndRebuild(blocks, 'low-bandwidth, all in mempool')
    expect(ev).toMatchObject({ how: 'mempool', version: 2 })
    expect(ev.stats).toMatchObject({ txs: 5, fromMempool: 4, fetched: 0 })
    // An empty block (coinbase only) too.
    const empty = await mineAndRebuild(blocks, 'low-bandwidth, coinbase only')
    expect(empty.stats).toMatchObject({ txs: 1, prefilled: 1, fromMempool: 0 })
    expect(failures).toEqual([])
    expect(peer.misbehaviorScore).toBe(0)
  })
})
