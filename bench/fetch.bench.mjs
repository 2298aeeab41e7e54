// Block download benchmark: blocks/s and MB/s through the session's
// BlockFetcher, on loopback, from a bcoin 1.0.2 regtest node; then the same
// bytes through BlockStreamParser alone, to show what the network path
// (TCP, framing, checksum, the fetcher's scheduling and chunk events) adds
// to parsing. Uses the built packages (run `npm run build` first):
//
//   node bench/fetch.bench.mjs            # 300 blocks, 5 to 15 timed rounds (until fetch / parse holds)
//   node bench/fetch.bench.mjs --quick    # 100 blocks, 2 to 3 rounds, writes nothing
//
// bcoin runs as test/harness/bcoin-regtest-server.cjs (in-memory chain,
// every socket on 127.0.0.1; the script refuses any other host). Its wallet
// fills the blocks: before each block is mined it sends payments with many
// outputs to a key hash nobody holds, so blocks range from a few KB to
// ~100 KB. Each round downloads the blocks once and parses them once: rounds
// repeat until the fetch time over the parse time agrees within 10 % over
// the last rounds, or the bench says it could not (bench/lib/harness.mjs,
// which also prints and records the load and the machine's reference rates).
// Nothing is asserted; results go to stdout and bench/fetch-results.json.
import { spawnBcoin } from '../test/harness/spawn-bcoin.mjs'
import { finishRun, median, ownCpuMs, processCpuMs, startRun, untilStable, writeResults } from './lib/harness.mjs'
import { hexToHash, hashToHex, regtest, concatBytes, toHex } from '@bitp2p/wire'
import { BlockStreamParser } from '@bitp2p/wire/codecs'
import { BlockFetcher, Peer, singlePeer } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'

const quick = process.argv.includes('--quick')
/** Empty blocks mined at start so the wallet has mature coinbases to spend. */
const STARTUP_BLOCKS = 200
/** Blocks with wallet payments: the ones downloaded. */
const BENCH_BLOCKS = quick ? 100 : 300
/** Timed rounds, at least and at most (each a download on a fresh connection and fetcher, then a parse of the same bytes). */
const ROUNDS = quick ? [2, 3] : [5, 15]
/** Wall-time cap on the rounds, ms. */
const ROUNDS_MAX_MS = quick ? 60_000 : 240_000
/** Wallet payments per block, and their output counts (cycled): ~34 bytes per output. */
const TXS_PER_BLOCK = 2
const OUTPUT_COUNTS = [20, 200, 600, 1_200, 2_000]
const OUTPUT_SATS = 10_000
/** Where the payments go: P2PKH to a key hash no wallet holds, so bcoin's wallet does not track the coins. */
const NOBODY_P2PKH = `76a914${'42'.repeat(20)}88ac`
/** The chunk size the parser-only run pushes (the fetcher's default chunk size). */
const PARSE_CHUNK = 64 * 1024
const LOOPBACK = '127.0.0.1'
const RESULTS = new URL('./fetch-results.json', import.meta.url)

// --- bcoin -------------------------------------------------------------------

function startBcoin() {
  return spawnBcoin({
    API_KEY: `bitp2p-bench-${process.pid}`, MINE: String(STARTUP_BLOCKS), WALLET: '1', LOG_LEVEL: 'error', INV_MS: '50',
  })
}

async function http(port, apiKey, path, body) {
  const res = await fetch(`http://${LOOPBACK}:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`x:${apiKey}`)}` },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  let json
  try { json = JSON.parse(text) } catch { throw new Error(`bcoin ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`) }
  if (res.status !== 200) throw new Error(`bcoin ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`)
  return json
}

function rpcClient(info) {
  return async (method, params = []) => {
    const json = await http(info.http, info.apiKey, '/', { method, params, id: 1 })
    if (json.error) throw new Error(`bcoin rpc ${method}: ${json.error.message}`)
    return json.result
  }
}

/** Mines BENCH_BLOCKS blocks, each on top of TXS_PER_BLOCK wallet payments; returns their hashes (RPC hex). */
async function fillChain(info, rpc) {
  const hashes = []
  for (let i = 0; i < BENCH_BLOCKS; i++) {
    const sent = []
    for (let k = 0; k < TXS_PER_BLOCK; k++) {
      const n = OUTPUT_COUNTS[(i * TXS_PER_BLOCK + k) % OUTPUT_COUNTS.length]
      const outputs = Array.from({ length: n }, () => ({ script: NOBODY_P2PKH, value: OUTPUT_SATS }))
      const tx = await http(info.wallet, info.apiKey, '/wallet/primary/send', { outputs })
      sent.push(tx.hash)
    }
    // The wallet hands its tx to the node without awaiting the mempool insert.
    for (let tries = 0; ; tries++) {
      const pool = await rpc('getrawmempool', [false])
      if (sent.every((h) => pool.includes(h))) break
      if (tries > 500) throw new Error(`wallet txs ${sent} not in the mempool`)
      await new Promise((r) => setTimeout(r, 10))
    }
    hashes.push(...(await rpc('generatetoaddress', [1, info.mineAddress])))
  }
  return hashes
}

// --- measurements -------------------------------------------------------------

/** One download of every block over a fresh connection; `keep` collects each block's bytes. */
async function downloadOnce(info, hashes, keep) {
  const peer = await Peer.connect({ host: LOOPBACK, port: info.p2p }, {
    connector: new TcpConnector({ connectTimeoutMs: 5_000 }),
    network: regtest,
    streamBlocks: true,
  })
  try {
    const fetcher = new BlockFetcher({ source: singlePeer(peer), network: regtest })
    const parts = new Map()
    let txs = 0
    const t0 = performance.now()
    const download = fetcher.fetch(hashes.map(hexToHash))
    download.on('chunk', (c) => {
      if (!keep) return
      const key = hashToHex(c.hash)
      const list = c.chunkIndex === 0 ? [] : parts.get(key)
      list.push(c.bytes.slice())
      parts.set(key, list)
    })
    download.on('block', (b) => {
      txs += b.txCount
    })
    const summary = await download.done
    const ms = performance.now() - t0
    const blocks = keep ? hashes.map((h) => concatBytes(...parts.get(h))) : undefined
    return { ms, bytes: summary.bytes, blocks: summary.blocks, txs, raw: blocks }
  } finally {
    peer.close('bench done')
  }
}

/** Every block through a fresh BlockStreamParser in PARSE_CHUNK pieces, as the fetcher would see them. */
function parseOnce(raws) {
  let txs = 0
  const t0 = performance.now()
  for (const raw of raws) {
    const p = new BlockStreamParser({ totalLength: raw.length })
    for (let off = 0; off < raw.length; off += PARSE_CHUNK) {
      for (const ev of p.push(raw.subarray(off, off + PARSE_CHUNK))) {
        if (ev.type === 'tx') txs++
        else if (ev.type === 'error') throw ev.error
      }
    }
    p.end()
  }
  return { ms: performance.now() - t0, txs }
}

const rate = (n, ms) => (n * 1000) / ms
const mb = (bytes) => bytes / 1e6
const r2 = (x) => Math.round(x * 100) / 100

// --- run ------------------------------------------------------------------------

const run = startRun('fetch.bench')
const { child, info } = await startBcoin()
try {
  const rpc = rpcClient(info)
  console.log(`bcoin ${info.bcoin} regtest on ${LOOPBACK}:${info.p2p}, ${info.height} start-up blocks in ${info.startup_ms} ms`)
  const tFill = performance.now()
  const hashes = await fillChain(info, rpc)
  const fillMs = performance.now() - tFill
  console.log(`mined ${hashes.length} blocks with ${TXS_PER_BLOCK} wallet payments each in ${Math.round(fillMs)} ms`)

  // Warm-up round, keeping the bytes; checked against bcoin's own serialization of a few blocks.
  const warm = await downloadOnce(info, hashes, true)
  for (const i of [0, hashes.length >> 1, hashes.length - 1]) {
    const hex = await rpc('getblock', [hashes[i], false])
    if (toHex(warm.raw[i]) !== hex) throw new Error(`block ${hashes[i]}: streamed bytes differ from bcoin's getblock`)
  }
  const sizes = warm.raw.map((b) => b.length)
  const totalBytes = sizes.reduce((a, b) => a + b, 0)
  const blockInfo = {
    count: sizes.length,
    txs: warm.txs,
    totalBytes,
    minBytes: Math.min(...sizes),
    medianBytes: median(sizes),
    maxBytes: Math.max(...sizes),
    meanBytes: Math.round(totalBytes / sizes.length),
  }
  console.log(`blocks: ${blockInfo.count}, ${blockInfo.txs} txs, ${r2(mb(totalBytes))} MB; sizes min ${blockInfo.minBytes} / median ${blockInfo.medianBytes} / mean ${blockInfo.meanBytes} / max ${blockInfo.maxBytes} bytes`)

  const rounds = []
  const parses = []
  const cpu = { bcoinMs: 0, oursMs: 0, wallMs: 0 }
  const stability = await untilStable(
    async (i) => {
      const bcoinCpu0 = processCpuMs(child.pid)
      const ours0 = ownCpuMs()
      const w0 = performance.now()
      const r = await downloadOnce(info, hashes, false)
      cpu.wallMs += performance.now() - w0
      cpu.oursMs += ownCpuMs() - ours0
      const bcoinCpu1 = processCpuMs(child.pid)
      cpu.bcoinMs = bcoinCpu0 === undefined || bcoinCpu1 === undefined || Number.isNaN(cpu.bcoinMs) ? NaN : cpu.bcoinMs + bcoinCpu1 - bcoinCpu0
      if (r.bytes !== totalBytes || r.txs !== warm.txs) throw new Error(`round ${i}: ${r.bytes} bytes / ${r.txs} txs, expected ${totalBytes} / ${warm.txs}`)
      rounds.push(r.ms)
      const p = parseOnce(warm.raw)
      if (p.txs !== warm.txs) throw new Error(`parse round ${i}: ${p.txs} txs, expected ${warm.txs}`)
      parses.push(p.ms)
      console.log(`  round ${i + 1}: fetch ${Math.round(r.ms)} ms, ${Math.round(rate(r.blocks, r.ms))} blocks/s, ${r2(rate(mb(r.bytes), r.ms))} MB/s; parse alone ${r2(p.ms)} ms`)
      return { fetchOverParse: r.ms / p.ms }
    },
    { minRounds: ROUNDS[0], maxRounds: ROUNDS[1], maxMs: ROUNDS_MAX_MS, label: 'fetch / parse' },
  )

  const fetchMs = median(rounds)
  const parseMs = median(parses)
  const results = {
    bcoin: info.bcoin,
    transport: `TCP ${LOOPBACK}, one peer, streamBlocks, BlockFetcher defaults (16 blocks in flight, 64 KiB chunk events)`,
    blocks: blockInfo,
    fill: { payloadsPerBlock: TXS_PER_BLOCK, outputsPerPayment: OUTPUT_COUNTS, ms: Math.round(fillMs) },
    fetch: {
      rounds: rounds.map((ms) => r2(ms)),
      medianMs: r2(fetchMs),
      blocksPerSec: Math.round(rate(blockInfo.count, fetchMs)),
      mbPerSec: r2(rate(mb(totalBytes), fetchMs)),
      txsPerSec: Math.round(rate(blockInfo.txs, fetchMs)),
    },
    parseOnly: {
      chunkBytes: PARSE_CHUNK,
      rounds: parses.map((ms) => r2(ms)),
      medianMs: r2(parseMs),
      blocksPerSec: Math.round(rate(blockInfo.count, parseMs)),
      mbPerSec: r2(rate(mb(totalBytes), parseMs)),
    },
    fetchOverParse: r2(fetchMs / parseMs),
    // Over all timed rounds, connect and close included: how busy each side was (bcoin's from /proc, 10 ms ticks).
    cpuShare: {
      bcoin: Number.isNaN(cpu.bcoinMs) ? null : r2(cpu.bcoinMs / cpu.wallMs),
      bitp2p: r2(cpu.oursMs / cpu.wallMs),
    },
  }
  console.log(`BlockFetcher over TCP:     ${results.fetch.blocksPerSec} blocks/s, ${results.fetch.mbPerSec} MB/s (median of ${rounds.length} rounds, ${results.fetch.medianMs} ms)`)
  console.log(`BlockStreamParser alone:   ${results.parseOnly.blocksPerSec} blocks/s, ${results.parseOnly.mbPerSec} MB/s (median of ${parses.length} rounds, ${results.parseOnly.medianMs} ms)`)
  console.log(`fetch time / parse time:   ${results.fetchOverParse}x (medians)`)
  console.log(`CPU busy during the fetch rounds: bcoin ${results.cpuShare.bcoin ?? 'n/a'}, bitp2p ${results.cpuShare.bitp2p} (CPU time / wall time)`)
  if (quick) finishRun(run)
  else writeResults(RESULTS, run, stability, results)
} finally {
  child.kill('SIGTERM')
}
