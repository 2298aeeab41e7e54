// JetStream pipeline benchmark: blocks/s and MB/s from a bcoin regtest node
// through BlockProducer -> nats-server -> N `bitp2p index-worker` processes
// (the example block-stats handler: every transaction parsed, one
// compare-and-set KV merge per part), with 1, 2 and 4 workers, against
// BlockFetcher alone on the same blocks; and where the time goes: the
// producer alone (publishing into the stream with no worker) and the
// workers alone (draining a stream filled beforehand).
//
//   npm run build && node bench/jetstream.bench.mjs [--quick]   # --quick: 30 blocks, writes nothing
//
// The core three (BlockFetcher alone, the producer alone, the pipeline with
// one worker) run in rounds, fresh stream names each, until the producer's
// and the pipeline's times over BlockFetcher's agree within 10 % over the
// last rounds, or the bench says they could not (bench/lib/harness.mjs,
// which also prints and records the load and the machine's reference
// rates); the worker sweeps run once after them.
//
// Everything on 127.0.0.1: bcoin (test/harness/bcoin-regtest-server.cjs),
// one nats-server with JetStream in a temporary directory
// (test/harness/nats-server-guard.mjs). Nothing is asserted; results go to
// stdout and bench/jetstream-results.json.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnBcoin } from '../test/harness/spawn-bcoin.mjs'
import { hexToHash, regtest } from '@bitp2p/wire'
import { BlockFetcher, HeaderSync, Peer, RealtimeClock, singlePeer } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { BlockProducer, connectNats, jetStreamNames } from '@bitp2p/jetstream'
import { jetstreamManager } from '@nats-io/jetstream'
import { finishRun, median, startRun, untilStable, writeResults } from './lib/harness.mjs'

const quick = process.argv.includes('--quick')
/** Empty blocks first, so the wallet has mature coinbases. */
const STARTUP_BLOCKS = 110
/** Blocks with wallet payments: the ones indexed. */
const BENCH_BLOCKS = quick ? 30 : 100
/** Payments per block and their output counts (cycled): blocks of a few KB to ~100 KB. */
const TXS_PER_BLOCK = 2
const OUTPUT_COUNTS = [20, 200, 600, 1_200, 2_000]
const NOBODY_P2PKH = `76a914${'42'.repeat(20)}88ac`
/** Worker counts measured. */
const WORKERS = [1, 2, 4]
/** Rounds of the core three (BlockFetcher alone, producer alone, pipeline with one worker): at least, at most; medians reported. */
const ROUNDS = quick ? [2, 3] : [3, 6]
/** Wall-time cap on those rounds, ms. */
const ROUNDS_MAX_MS = quick ? 90_000 : 240_000
/** How long a worker process takes to start (Node, the CLI, the handler): waited before a pipeline is timed. */
const WORKER_START_MS = 1_500
const CLI = fileURLToPath(new URL('../packages/cli/bitp2p.mjs', import.meta.url))
const HANDLER = fileURLToPath(new URL('../examples/jetstream/block-stats-handler.mjs', import.meta.url))
const GUARD = fileURLToPath(new URL('../test/harness/nats-server-guard.mjs', import.meta.url))
const RESULTS = new URL('./jetstream-results.json', import.meta.url)
const LOOPBACK = '127.0.0.1'

const r1 = (x) => Math.round(x * 10) / 10
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, LOOPBACK, () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** nats-server under its guard on a free loopback port. */
async function startNats() {
  const dir = mkdtempSync(join(tmpdir(), 'bitp2p-nats-bench-'))
  const port = await freePort()
  const child = spawn(process.execPath, [GUARD], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NATS_DIR: dir, NATS_PORT: String(port), EXIT_ON_STDIN_CLOSE: '1' } })
  await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', resolve)
    child.once('exit', () => reject(new Error('nats-server did not start')))
  })
  return { url: `nats://${LOOPBACK}:${port}`, stop: () => (child.kill('SIGTERM'), new Promise((r) => child.once('exit', r))).then(() => rmSync(dir, { recursive: true, force: true })) }
}

async function http(port, apiKey, path, body) {
  const res = await fetch(`http://${LOOPBACK}:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`x:${apiKey}`)}` }, body: JSON.stringify(body) })
  const json = await res.json()
  if (json.error) throw new Error(`bcoin ${path}: ${json.error.message}`)
  return json
}

/** BENCH_BLOCKS blocks, each on top of TXS_PER_BLOCK payments with many outputs. */
async function fillChain(info) {
  const rpc = async (method, params = []) => (await http(info.http, info.apiKey, '/', { method, params, id: 1 })).result
  for (let i = 0; i < BENCH_BLOCKS; i++) {
    const sent = []
    for (let k = 0; k < TXS_PER_BLOCK; k++) {
      const n = OUTPUT_COUNTS[(i * TXS_PER_BLOCK + k) % OUTPUT_COUNTS.length]
      sent.push((await http(info.wallet, info.apiKey, '/wallet/primary/send', { outputs: Array.from({ length: n }, () => ({ script: NOBODY_P2PKH, value: 10_000 })) })).hash)
    }
    while (!sent.every((h) => mempool.has(h))) {
      mempool = new Set(await rpc('getrawmempool', [false]))
      if (!sent.every((h) => mempool.has(h))) await sleep(10)
    }
    await rpc('generatetoaddress', [1, info.mineAddress])
  }
  return rpc
}
let mempool = new Set()

async function connectPeer(info) {
  return Peer.connect({ host: LOOPBACK, port: info.p2p }, { connector: new TcpConnector(), network: regtest, streamBlocks: true, transport: 'v1' })
}

/** BlockFetcher alone: every block downloaded and parsed, chunk events dropped. */
async function fetchAlone(info, hashes) {
  const peer = await connectPeer(info)
  try {
    const fetcher = new BlockFetcher({ source: singlePeer(peer), network: regtest })
    const t0 = performance.now()
    const s = await fetcher.fetch(hashes.map(hexToHash)).done
    return { ms: performance.now() - t0, bytes: s.bytes }
  } finally {
    peer.close('done')
  }
}

function worker(url, ns, i, concurrency = 1) {
  return spawn(process.execPath, [CLI, 'index-worker', '--nats', url, '--namespace', ns, '--network', 'regtest', '--handler', HANDLER, '--name', `w${i}`, '--concurrency', String(concurrency)], { stdio: ['ignore', 'ignore', 'ignore'] })
}

/** Wait until the block stream of `ns` is empty and nothing is unacknowledged. */
async function drained(nc, ns) {
  const jsm = await jetstreamManager(nc)
  for (;;) {
    const [s, c] = await Promise.all([jsm.streams.info(`${ns}-blocks`), jsm.consumers.info(`${ns}-blocks`, `${ns}-indexers`).catch(() => undefined)])
    if (s.state.messages === 0 && c && c.num_ack_pending === 0 && c.delivered.stream_seq > 0) return
    await sleep(20)
  }
}

async function produce(nc, ns, info, tree, from, to) {
  const peer = await connectPeer(info)
  try {
    const producer = new BlockProducer({ nc, names: jetStreamNames(ns), source: singlePeer(peer), network: regtest, tree })
    const t0 = performance.now()
    const s = await producer.run({ from, to })
    return { ms: performance.now() - t0, parts: s.parts, bytes: s.bytes }
  } finally {
    peer.close('done')
  }
}

const run = startRun('jetstream.bench')
const { child: bcoin, info } = await spawnBcoin({ API_KEY: `bitp2p-bench-${process.pid}`, MINE: String(STARTUP_BLOCKS), WALLET: '1', LOG_LEVEL: 'error', INV_MS: '50' })
const nats = await startNats()
const kids = []
try {
  const tFill = performance.now()
  await fillChain(info)
  console.log(`bcoin ${info.bcoin}: mined ${BENCH_BLOCKS} blocks with ${TXS_PER_BLOCK} payments each in ${Math.round(performance.now() - tFill)} ms`)
  const clock = new RealtimeClock()
  const syncPeer = await connectPeer(info)
  const sync = new HeaderSync({ source: singlePeer(syncPeer), network: regtest, clock, unixTimeOffsetMs: performance.timeOrigin })
  await sync.start()
  const tip = await sync.synced()
  sync.stop()
  syncPeer.close('synced')
  const from = tip.height - BENCH_BLOCKS + 1
  const hashes = []
  for (let h = from; h <= tip.height; h++) hashes.push(Buffer.from(sync.tree.getByHeight(h).hash).reverse().toString('hex'))

  const nc = await connectNats(nats.url)
  /** The pipeline: `w` workers started first, then the producer; timed until the last part is handled. */
  async function pipeline(ns, w, concurrency) {
    const ws = Array.from({ length: w }, (_, i) => worker(nats.url, ns, i, concurrency))
    kids.push(...ws)
    await sleep(WORKER_START_MS) // not part of the throughput
    const t0 = performance.now()
    await produce(nc, ns, info, sync.tree, from, tip.height)
    await drained(nc, ns)
    const ms = performance.now() - t0
    for (const k of ws) k.kill('SIGINT')
    return ms
  }

  const core = { fetch: [], producer: [], pipeline: [] }
  let pAlone
  const stability = await untilStable(
    async (i) => {
      const f = await fetchAlone(info, hashes)
      // The producer alone: into the stream, no worker.
      pAlone = await produce(nc, `alone${i}`, info, sync.tree, from, tip.height)
      const pipe = await pipeline(`pipe1c1r${i}`, 1, 1)
      core.fetch.push(f)
      core.producer.push(pAlone.ms)
      core.pipeline.push(pipe)
      console.log(`  round ${i + 1}: BlockFetcher ${Math.round(f.ms)} ms, producer alone ${Math.round(pAlone.ms)} ms, pipeline with 1 worker ${Math.round(pipe)} ms`)
      return { producerOverFetch: pAlone.ms / f.ms, pipelineOneWorkerOverFetch: pipe / f.ms }
    },
    { minRounds: ROUNDS[0], maxRounds: ROUNDS[1], maxMs: ROUNDS_MAX_MS, label: 'jetstream core' },
  )
  const fetchMs = median(core.fetch.map((f) => f.ms))
  const bytes = core.fetch[0].bytes
  const row = (what, ms, extra = {}) => ({ what, ms: Math.round(ms), blocksPerS: r1((BENCH_BLOCKS * 1000) / ms), mbPerS: r1(bytes / 1e3 / ms), ...extra })
  const results = [row('BlockFetcher alone', fetchMs)]
  results.push(row('producer alone (fetch, cut, publish, acks)', median(core.producer), { parts: pAlone.parts }))
  // The workers alone: draining that stream.
  for (const w of WORKERS) {
    const ns = `drain${w}`
    await produce(nc, ns, info, sync.tree, from, tip.height)
    const t0 = performance.now()
    const ws = Array.from({ length: w }, (_, i) => worker(nats.url, ns, i))
    kids.push(...ws)
    await drained(nc, ns)
    results.push(row(`${w} worker(s) alone, draining a filled stream (start-up included)`, performance.now() - t0))
    for (const k of ws) k.kill('SIGINT')
  }
  // The pipeline with more workers, and with concurrency inside the workers (one worker, concurrency 1: the core rounds' median).
  for (const concurrency of [1, 8]) {
    for (const w of WORKERS) {
      const what = `pipeline: producer + ${w} worker(s), --concurrency ${concurrency}`
      if (w === 1 && concurrency === 1) results.push(row(what, median(core.pipeline)))
      else results.push(row(what, await pipeline(`pipe${w}c${concurrency}`, w, concurrency)))
    }
  }
  await nc.close()
  console.log(`\n${BENCH_BLOCKS} blocks, ${r1(bytes / 1e6)} MB, ${pAlone.parts} parts (64 KiB chunks); ${core.fetch.length} rounds of the core three (medians)\n`)
  for (const r of results) console.log(`${r.what.padEnd(64)} ${String(r.ms).padStart(7)} ms  ${String(r.blocksPerS).padStart(7)} blocks/s  ${String(r.mbPerS).padStart(6)} MB/s`)
  if (quick) finishRun(run)
  else writeResults(RESULTS, run, stability, { blocks: BENCH_BLOCKS, bytes, parts: pAlone.parts, rounds: core.fetch.length, results })
} finally {
  for (const k of kids) k.kill('SIGKILL')
  bcoin.kill('SIGTERM')
  await nats.stop()
}
