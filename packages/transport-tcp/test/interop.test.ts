// The interop suite (test/interop/*.ts at the repo root) against bcoin 1.0.2
// on 127.0.0.1: one regtest node for all eight steps, run in order. Each
// step checks itself (it throws InteropError naming what differed) and
// returns what it measured; the assertions here restate the key facts.
// Every step's runtime and the suite's are printed.
import { Services, InvType } from '@bitp2p/wire'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { scaled } from '../../../test/harness/timing.js'
import { badActors } from '../../../test/interop/bad-actors.js'
import { blockDownload } from '../../../test/interop/block-download.js'
import { broadcastTx } from '../../../test/interop/broadcast.js'
import { BCOIN_PROTOCOL_VERSION, handshakeAndPing } from '../../../test/interop/handshake.js'
import { headerSync, MAX_HEADERS_RESULTS } from '../../../test/interop/header-sync.js'
import { inboundFromBcoin } from '../../../test/interop/inbound.js'
import { mempoolTx } from '../../../test/interop/mempool.js'
import { sendHeadersAnnouncements } from '../../../test/interop/sendheaders.js'

/** Blocks bcoin mines at start-up; step 2 syncs all of them from genesis. */
const START_BLOCKS = 2_500
/** Per-step vitest timeout (each step takes 25 to 700 ms on an idle machine; its waits have their own deadlines). */
const STEP_TIMEOUT_MS = scaled(60_000)

let node: BcoinNode
let suiteStart = 0
let startupMs = 0
const runtimes: [string, number][] = []

/** Runs one step, prints and records its runtime. */
async function timed<T>(name: string, step: () => Promise<T>): Promise<T> {
  const t0 = performance.now()
  try {
    return await step()
  } finally {
    const ms = Math.round(performance.now() - t0)
    runtimes.push([name, ms])
    console.log(`[interop] ${name}: ${ms} ms`)
  }
}

needs('bcoin').describe('interop with bcoin 1.0.2 over TCP (regtest, 127.0.0.1)', () => {
  beforeAll(async () => {
    suiteStart = performance.now()
    node = await startBcoin({ mine: START_BLOCKS, wallet: true, invMs: 50 })
    startupMs = Math.round(performance.now() - suiteStart)
    console.log(`[interop] bcoin ${node.info.bcoin} up with ${node.info.height} blocks: ${startupMs} ms`)
  }, bcoinBudget(START_BLOCKS))

  afterAll(async () => {
    await node?.stop()
    const total = Math.round(performance.now() - suiteStart)
    const steps = runtimes.reduce((n, [, ms]) => n + ms, 0)
    console.log(`[interop] suite: ${total} ms (bcoin start ${startupMs} ms, ${runtimes.length} steps ${steps} ms)`)
  })

  it('1. handshake, ping/pong with RTT, and the features bcoin negotiates', { timeout: STEP_TIMEOUT_MS }, async () => {
    const r = await timed('1 handshake+ping', () => handshakeAndPing(node))
    console.log(`[interop]   ${r.userAgent} v${r.peerVersion}, handshake ${r.handshakeMs} ms, rtt ${r.firstRttMs.toFixed(2)} / ${r.pingRttMs.toFixed(2)} ms, after verack: ${r.commandsAfterVerack.join(' ')}`)
    expect(r.userAgent).toMatch(/^\/bcoin:v?1\.0\.2\/$/)
    expect(r.negotiatedVersion).toBe(BCOIN_PROTOCOL_VERSION)
    expect(r.peerServices & Services.NODE_WITNESS).toBe(Services.NODE_WITNESS)
    expect(r.firstRttMs).toBeGreaterThan(0)
    expect(r.pingRttMs).toBeGreaterThan(0)
    // bcoin 1.0.2: sendcmpct(0, 1) yes; sendheaders, feefilter, wtxidrelay, sendaddrv2 no.
    expect(r.features).toMatchObject({ sendHeaders: false, wtxidRelay: false, addrv2: false, compactBlocks: { announce: false, version: 1n } })
    expect(r.features.feeFilter).toBeUndefined()
  })

  it(`2. header sync from genesis over >= ${START_BLOCKS} blocks with locators; tip equals bcoin's`, { timeout: STEP_TIMEOUT_MS }, async () => {
    const r = await timed('2 header sync', () => headerSync(node, { minBlocks: START_BLOCKS }))
    console.log(`[interop]   ${r.headers} headers in ${r.rounds} rounds, ${r.syncMs} ms (${r.headersPerSec} headers/s), tip ${r.tipHash}`)
    expect(r.height).toBeGreaterThanOrEqual(START_BLOCKS)
    expect(r.headers).toBe(r.height)
    expect(r.rounds).toBeGreaterThanOrEqual(Math.ceil(START_BLOCKS / MAX_HEADERS_RESULTS))
    expect(r.tipHash).toBe(await node.rpc('getbestblockhash', []))
  })

  it('3. block download by getdata(MSG_WITNESS_BLOCK), streamed and parsed, txids equal bcoin getblock', { timeout: STEP_TIMEOUT_MS }, async () => {
    const r = await timed('3 block download', () => blockDownload(node))
    console.log(`[interop]   ${r.blocks.length} blocks, ${r.txs} txs, ${r.bytes} bytes in ${r.downloadMs} ms; chunks per block ${r.blocks.map((b) => b.chunks).join('/')}`)
    expect(r.blocks).toHaveLength(3)
    for (const b of r.blocks) expect(b.txids).toEqual((await node.rpc('getblock', [b.hash, true])).tx)
    expect(r.blocks[2]!.txids.length).toBeGreaterThanOrEqual(3)
    expect(r.blocks[2]!.chunks).toBeGreaterThan(1)
  })

  it('4. a wallet transaction is announced by inv, fetched by getdata(MSG_WITNESS_TX) and decoded', { timeout: STEP_TIMEOUT_MS }, async () => {
    const r = await timed('4 mempool tx', () => mempoolTx(node))
    console.log(`[interop]   ${r.txid}: inv after ${r.announceMs} ms, fetched in ${r.fetchMs} ms, vsize ${r.vsize}, ${r.inputs} in / ${r.outputs.length} out`)
    expect(await node.mempool()).toContain(r.txid)
    expect(r.outputs.some((o) => o.sats === 50_000_000n)).toBe(true)
  })

  it('5. we announce a wallet-signed, unbroadcast transaction; bcoin fetches it and takes it into its mempool', { timeout: STEP_TIMEOUT_MS }, async () => {
    const r = await timed('5 broadcast', () => broadcastTx(node))
    console.log(`[interop]   ${r.txid}: getdata after ${r.getdataMs} ms (type 0x${r.requestedType.toString(16)}), in mempool ${r.acceptMs} ms later`)
    expect(await node.mempool()).toContain(r.txid)
    expect(r.requestedType & 0xff).toBe(InvType.MSG_TX)
  })

  it('6. sendheaders: newly mined blocks are announced as headers (bcoin 1.0.2 honours BIP130)', { timeout: STEP_TIMEOUT_MS }, async () => {
    const r = await timed('6 sendheaders', () => sendHeadersAnnouncements(node, 3))
    console.log(`[interop]   ${r.mined} blocks announced by ${r.announcedBy} in ${r.messages} messages within ${r.announceMs} ms`)
    expect(r.announcedBy).toBe('headers')
    expect(r.messages).toBeGreaterThanOrEqual(1)
  })

  it('7. inbound: bcoin dials our TcpListener and Peer.accept completes the handshake', { timeout: STEP_TIMEOUT_MS }, async () => {
    const r = await timed('7 inbound', () => inboundFromBcoin(node))
    console.log(`[interop]   ${r.userAgent} dialled in, handshake ${r.handshakeMs} ms, rtt ${r.rttMs.toFixed(2)} ms, then sent: ${r.commandsAfterVerack.join(' ')}`)
    expect(r.rttMs).toBeGreaterThan(0)
    expect(r.startHeight).toBe(await node.rpc('getblockcount', []))
  })

  it('8. garbage, wrong magic and oversized frames on a real socket are dropped with typed reasons; a good peer still works', { timeout: STEP_TIMEOUT_MS }, async () => {
    const r = await timed('8 bad actors', () => badActors(node))
    for (const a of r.attacks) console.log(`[interop]   ${a.name}: ${a.reason} ${a.code}, dropped in ${a.droppedMs} ms`)
    console.log(`[interop]   then bcoin connected: handshake ${r.goodHandshakeMs} ms, rtt ${r.goodRttMs.toFixed(2)} ms`)
    expect(r.attacks.map((a) => [a.name, a.reason, a.code])).toEqual([
      ['garbage', 'framing', 'BAD_MAGIC'],
      ['wrong-magic', 'framing', 'BAD_MAGIC'],
      ['oversize', 'framing', 'OVERSIZE'],
      ['oversize-cmd', 'framing', 'OVERSIZE'],
    ])
    expect(r.goodRttMs).toBeGreaterThan(0)
  })
})
