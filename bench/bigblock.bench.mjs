// Peak memory while streaming a 2 GB block: a Peer with streamBlocks and a
// BlockFetcher download a > 2^31-byte BSV block (one extended message) over
// TCP on 127.0.0.1 and verify its merkle root; the bench samples the
// receiving process's resident memory the whole time. Uses the built
// packages (run `npm run build` first):
//
//   node --expose-gc bench/bigblock.bench.mjs           # 2,149 x 1 MB transactions (2,148,000,179 bytes)
//   node --expose-gc bench/bigblock.bench.mjs --quick   # 257 x 1 MB (~256 MiB)
//
// The sender is a child process (this file with --serve), so its memory is
// not counted: it builds the block with SyntheticBlockStream (two passes
// over seeded 1 MB transactions, never stored), answers the handshake with
// a real Peer.accept and, on getdata, writes the extmsg header and the raw
// payload in 256 KiB chunks, pausing whenever its socket buffers more than
// 8 MiB. The receiver is what a user runs: Peer.connect + BlockFetcher,
// chunks counted and dropped. Baseline: the receiver's RSS after a full GC
// before the first download; the figure is each round's peak above it,
// sampled every 10 ms and on every 16th chunk event (5 to 8 rounds, each on
// a fresh connection, until the peak and the MiB/s agree within 10 % over
// the last rounds or the bench says they could not: bench/lib/harness.mjs;
// median and worst reported). Nothing is asserted; the result goes to
// stdout and bench/bigblock-results.json (not with --quick).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { bsv, hashToHex, hexToHash, regtest } from '@bitp2p/wire'
import { encodeExtHeader } from '@bitp2p/wire/codecs'
import { SHA256_BACKEND } from '@bitp2p/wire/hash'
import { BlockFetcher, Peer, SeededRandom, singlePeer } from '@bitp2p/session'
import { TcpConnector, TcpListener } from '@bitp2p/transport-tcp'
import { SyntheticBlockStream } from '@bitp2p/transport-mock'
import { finishRun, startRun, untilStable, writeResults } from './lib/harness.mjs'

const quick = process.argv.includes('--quick')
/** Transactions after the coinbase are this big. */
const TX_BYTES = 1_000_000
/** 2,149 transactions: the block is just over 2^31 bytes. */
const TX_COUNT = quick ? 257 : 2_149
/** Sender's write size. */
const CHUNK_BYTES = 256 * 1024
/** The sender pauses above this many bytes buffered in its socket. */
const HIGH_WATER_MARK = 8 * 1024 * 1024
/** The goal: peak resident memory above the baseline while streaming. */
const GOAL_BYTES = 64 * 1024 * 1024
/** Downloads, each on a fresh connection (the sender builds the block once): at least, at most. */
const ROUNDS = quick ? [2, 3] : [5, 8]
/** Wall-time cap on the downloads, ms. */
const ROUNDS_MAX_MS = quick ? 60_000 : 240_000
/** RSS sampling period, ms. */
const SAMPLE_MS = 10
const LOOPBACK = '127.0.0.1'
const MB = 1024 * 1024
const RESULTS = new URL('./bigblock-results.json', import.meta.url)

/** BSV framing and limits, with regtest's easy target so the synthetic block can be mined. */
const bsvSim = { ...bsv, powLimit: regtest.powLimit, powLimitBits: regtest.powLimitBits }

// --- sender (child process) ----------------------------------------------------

async function serve() {
  const stream = new SyntheticBlockStream({ txCount: TX_COUNT, txBytes: TX_BYTES, chunkBytes: CHUNK_BYTES, params: bsvSim, random: new SeededRandom('bigblock-bench') })
  const hash = stream.hash // pass 1: every txid, the merkle root, the header mined
  const listener = await TcpListener.listen({ host: LOOPBACK, port: 0 })
  listener.onConnection((t) => {
    void Peer.accept(t, {
      network: bsvSim,
      userAgent: '/bitp2p-bench:bigblock/',
      startHeight: 1,
      setup: (peer) => {
        peer.on('getdata', () => void send(t))
      },
    }).catch(() => undefined)
  })
  // The peer sends nothing else during the transfer (no ping falls due in
  // these few seconds), so the raw payload cannot interleave with its frames.
  async function send(t) {
    let drained
    t.onDrain(() => drained?.())
    t.send(encodeExtHeader(bsvSim.magic, 'block', stream.totalBytes))
    for (const chunk of stream.chunks()) {
      t.send(chunk)
      if (t.bufferedAmount > HIGH_WATER_MARK) await new Promise((r) => (drained = r))
    }
  }
  process.stdout.write(`${JSON.stringify({ port: listener.address.port, hash: hashToHex(hash), bytes: stream.totalBytes })}\n`)
}

// --- receiver (this process) -----------------------------------------------------

function startSender() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`sender exited with ${code}`)))
    child.stdout.setEncoding('utf8').on('data', (s) => {
      out += s
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve({ child, ...JSON.parse(out.slice(0, nl)) })
    })
  })
}

/** One download on a fresh connection; returns its figures. */
async function round(sender, processBase) {
  const peer = await Peer.connect({ host: LOOPBACK, port: sender.port }, { connector: new TcpConnector(), network: bsvSim, streamBlocks: true })
  globalThis.gc?.()
  const base = process.memoryUsage()
  let peakRss = base.rss
  let peakHeap = base.heapUsed + base.external
  const sample = () => {
    const m = process.memoryUsage()
    if (m.rss > peakRss) peakRss = m.rss
    const heap = m.heapUsed + m.external
    if (heap > peakHeap) peakHeap = heap
  }
  const timer = setInterval(sample, SAMPLE_MS)
  try {
    const t0 = performance.now()
    const download = new BlockFetcher({ source: singlePeer(peer), network: bsvSim }).fetch([hexToHash(sender.hash)])
    let received = 0
    let chunks = 0
    let done
    download.on('chunk', (ev) => {
      received += ev.bytes.length
      if (++chunks % 16 === 0) sample()
    })
    download.on('block', (ev) => (done = ev))
    await download.done
    const seconds = (performance.now() - t0) / 1000
    sample()
    if (!done || !done.merkleRootVerified || done.size !== sender.bytes || received !== sender.bytes) {
      throw new Error(`download incomplete or unverified: ${JSON.stringify({ size: done?.size, received, verified: done?.merkleRootVerified })}`)
    }
    return {
      txCount: done.txCount,
      chunks,
      seconds: +seconds.toFixed(2),
      mbPerSecond: +(sender.bytes / MB / seconds).toFixed(1),
      baselineRssMB: +(processBase / MB).toFixed(1),
      // Against the process's baseline before the first download: memory a
      // round leaves with the allocator (RSS rarely shrinks) counts against the next.
      peakRssGrowthMB: +((peakRss - Math.min(processBase, base.rss)) / MB).toFixed(1),
      peakHeapGrowthMB: +((peakHeap - base.heapUsed - base.external) / MB).toFixed(1),
    }
  } finally {
    clearInterval(timer)
    peer.close()
    await peer.closed
  }
}

async function receive() {
  if (typeof globalThis.gc !== 'function') console.log('(run with node --expose-gc for a settled baseline)')
  const run = startRun('bigblock.bench')
  console.log(`hashing ${SHA256_BACKEND}; building a ${TX_COUNT}-transaction block in the sender...`)
  const sender = await startSender()
  try {
    globalThis.gc?.()
    const processBase = process.memoryUsage().rss
    const rounds = []
    const stability = await untilStable(
      async (r) => {
        const x = await round(sender, processBase)
        rounds.push(x)
        console.log(
          `round ${r + 1}: ${(sender.bytes / MB).toFixed(0)} MiB, ${x.txCount} txs, merkle root verified, ${x.seconds} s (${x.mbPerSecond} MiB/s); ` +
            `peak RSS ${x.peakRssGrowthMB} MiB above the baseline of ${x.baselineRssMB} MiB; JS heap + buffers peak growth ${x.peakHeapGrowthMB} MiB`,
        )
        return { peakRssGrowthMB: x.peakRssGrowthMB, mibPerSecond: x.mbPerSecond }
      },
      { minRounds: ROUNDS[0], maxRounds: ROUNDS[1], maxMs: ROUNDS_MAX_MS, label: 'bigblock' },
    )
    const growth = rounds.map((x) => x.peakRssGrowthMB).sort((a, b) => a - b)
    const median = growth[Math.floor(growth.length / 2)]
    const worst = growth[growth.length - 1]
    const goal = GOAL_BYTES / MB
    console.log(`peak RSS growth over ${rounds.length} rounds: median ${median} MiB, worst ${worst} MiB (goal < ${goal} MiB: ${worst < goal ? 'met in every round' : median < goal ? 'met by the median, not by the worst round' : 'NOT met'})`)
    const result = { hashing: SHA256_BACKEND, blockBytes: sender.bytes, goalMB: goal, medianPeakRssGrowthMB: median, worstPeakRssGrowthMB: worst, rounds }
    if (quick) finishRun(run)
    else writeResults(RESULTS, run, stability, result)
  } finally {
    sender.child.removeAllListeners('exit')
    sender.child.kill()
  }
}

if (process.argv.includes('--serve')) await serve()
else await receive()
