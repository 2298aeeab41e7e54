/**
 * A virtual BSV miner sends a block of more than 2 GiB (2^31 bytes) in one
 * BSV extended message; the client, a real Peer with streamBlocks, downloads
 * it through a BlockFetcher that parses it as a stream and checks its merkle
 * root, without ever holding it.
 *
 * The block comes from streamSyntheticBlock (two passes over seeded 1 MB
 * transactions, never stored) and is written to the mock transport chunk by
 * chunk: the 44-byte extmsg header, then raw payload chunks, pausing at a
 * high-water mark until the transport drains. Resident memory is sampled
 * during the run; its growth must stay under 256 MB.
 *
 * Hashing goes through node:crypto here (the sha256 module is swapped for
 * its .node twin below): every txid is hashed twice, once by the sender's
 * pass 1 and once by the receiving parser (~4.3 GB through sha256), which
 * the pure-JS hasher makes several times slower.
 */
import { describe, expect, it, vi } from 'vitest'
import { bsv, hashToHex, regtest, type NetworkParams } from '@bitp2p/wire'
import { encodeExtHeader } from '@bitp2p/wire/codecs'
import { SHA256_BACKEND } from '@bitp2p/wire/hash'
import { MockNetwork, SyntheticBlockStream, type MockTransport } from '@bitp2p/transport-mock'
import { type BlockDoneEvent, BlockFetcher, Peer, SeededRandom, singlePeer } from '@bitp2p/session'
import { forWork } from '../../../../harness/timing.js'

// The module to swap is wire's own (the alias resolves @bitp2p/wire to its sources, without the
// "node" export condition that picks the .node twin); wire is a declared dependency of this package.
vi.mock('../../../../../packages/wire/src/hash/sha256.js', async () => await import('../../../../../packages/wire/src/hash/sha256.node.js'))

/** Bytes of each streamed transaction. */
const TX_BYTES = 1_000_000
/** 2,148 transactions of 1 MB (plus the coinbase and header): just over 2^31 bytes. */
const TX_COUNT = Number(process.env.BIG_BLOCK_TXS ?? 2_149)
/** Bytes per write to the transport (a typical socket read). */
const CHUNK_BYTES = 256 * 1024
/** The writer pauses above this many buffered bytes, until the transport drains. */
const HIGH_WATER_MARK = 8 * 1024 * 1024
/** Virtual link: 1 GB/s, 10 ms. */
const BANDWIDTH = 1_000_000_000
/** Resident memory may grow at most this much during the transfer. */
const MAX_RSS_GROWTH = 256 * 1024 * 1024
const MB = 1024 * 1024
/** Wall-clock budget per 1 MB transaction, hashed by the sender and the parser (about 3 ms on an idle machine): the test's hang net. */
const TX_BUDGET_MS = 30

/** BSV framing and limits, with regtest's easy target so the synthetic block can be mined. */
const bsvSim: NetworkParams = { ...bsv, powLimit: regtest.powLimit, powLimitBits: regtest.powLimitBits }

describe('BSV multi-gigabyte block over an extended message', () => {
  it('streams a > 2 GiB block through extmsg with backpressure; merkle root verified, RSS growth < 256 MB', async () => {
    expect(SHA256_BACKEND).toBe('node:crypto')
    const streamOpts = { txCount: TX_COUNT, txBytes: TX_BYTES, chunkBytes: CHUNK_BYTES, params: bsvSim, random: new SeededRandom('bsv-big') }
    const stream = new SyntheticBlockStream(streamOpts)
    const totalBytes = stream.totalBytes
    expect(totalBytes).toBeGreaterThan((TX_COUNT - 1) * TX_BYTES)

    const net = new MockNetwork({ seed: 'bsv-big', defaultLink: { latency: 10, bandwidth: BANDWIDTH }, trace: { record: false } })
    const clock = net.clock
    const random = new SeededRandom('bsv-big-peers')
    const listener = net.listen({ host: '10.0.2.1', port: 8333 })
    let remoteTransport: MockTransport | undefined
    let remote: Peer | undefined
    listener.onConnection((t) => {
      remoteTransport = t as MockTransport
      void Peer.accept(t, { network: bsvSim, clock, random: random.fork('miner'), userAgent: '/bsv-miner/', startHeight: 1, setup: (p) => (remote = p) }).catch(() => undefined)
    })
    const pending = Peer.connect(listener.address, { network: bsvSim, clock, random: random.fork('client'), connector: net.connector('10.0.9.9'), streamBlocks: true })
    await clock.runAsync({ until: clock.now() + 1_000 })
    const client = await pending
    expect(client.state).toBe('ready')

    // Pass 1: every txid into the merkle tree, then the header is mined. Pass 2 is the sending below.
    const rss0 = process.memoryUsage().rss
    let peakRss = rss0
    const started = performance.now()
    const blockHash = stream.hash
    const prepared = performance.now()

    // Sender: on getdata, the ext header then raw chunks, pausing at the mark until 'drain'.
    // The remote Peer sends nothing during the transfer (no ping is due in its few virtual seconds),
    // so raw bytes written to its transport cannot interleave with its frames.
    let sent = 0
    let drained: (() => void) | undefined
    let maxBuffered = 0
    let pauses = 0
    let finished = false
    const send = async (t: MockTransport): Promise<void> => {
      t.onDrain(() => drained?.())
      t.send(encodeExtHeader(bsvSim.magic, 'block', totalBytes))
      for (const chunk of stream.chunks()) {
        t.send(chunk)
        sent += chunk.length
        maxBuffered = Math.max(maxBuffered, t.bufferedAmount)
        if (t.bufferedAmount > HIGH_WATER_MARK) {
          pauses++
          await new Promise<void>((r) => (drained = r))
          drained = undefined
        }
      }
      finished = true
    }
    remote!.on('getdata', () => void send(remoteTransport!))

    // Receiver: a BlockFetcher on the streaming peer; chunks are counted, not kept.
    const fetcher = new BlockFetcher({ source: singlePeer(client), network: bsvSim, clock })
    let received = 0
    let done: BlockDoneEvent | undefined
    let samples = 0
    const download = fetcher.fetch([blockHash])
    download.on('chunk', (ev) => {
      received += ev.bytes.length
      if (++samples % 64 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss)
    })
    download.on('block', (ev) => (done = ev))
    let failure: unknown
    download.done.catch((e: unknown) => (failure = e))
    while (done === undefined && failure === undefined) await clock.runAsync({ until: clock.now() + 1_000 })
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
    const seconds = (performance.now() - started) / 1000

    expect(failure).toBeUndefined()
    expect(finished).toBe(true)
    expect(sent).toBe(totalBytes)
    expect(received).toBe(totalBytes)
    expect(done!.size).toBe(totalBytes)
    expect(done!.txCount).toBe(TX_COUNT)
    expect(done!.merkleRootVerified).toBe(true)
    expect(hashToHex(done!.hash)).toBe(hashToHex(blockHash))
    // Backpressure was used: the writer paused, and never buffered much past the mark.
    expect(pauses).toBeGreaterThanOrEqual(Math.floor(totalBytes / (HIGH_WATER_MARK + CHUNK_BYTES)))
    expect(maxBuffered).toBeLessThanOrEqual(HIGH_WATER_MARK + CHUNK_BYTES)
    const growth = peakRss - rss0
    console.log(
      `bsv big block: ${(totalBytes / MB).toFixed(0)} MiB in ${seconds.toFixed(1)} s ` +
        `(pass 1 ${((prepared - started) / 1000).toFixed(1)} s; ${(totalBytes / MB / seconds).toFixed(0)} MB/s end to end, ` +
        `${(totalBytes / MB / (seconds - (prepared - started) / 1000)).toFixed(0)} MB/s transfer); peak RSS growth ${(growth / MB).toFixed(1)} MB, ` +
        `${pauses} drain pauses, virtual ${(clock.now() / 1000).toFixed(1)} s`,
    )
    expect(growth).toBeLessThan(MAX_RSS_GROWTH)
    client.close()
  }, forWork(TX_COUNT, TX_BUDGET_MS))
})
