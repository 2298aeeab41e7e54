// Header sync benchmark: headers/s from a bcoin 1.0.2 regtest full node on
// loopback, for (a) bitp2p (one Peer over TcpConnector, a HeaderTree,
// getheaders loops) and (b) bcoin's own SPV node, run in this process,
// syncing the same chain from the same full node. Uses the built packages
// (run `npm run build` first):
//
//   node bench/sync.bench.mjs            # 10,000 blocks, 3 to 8 rounds each (until the ratio holds)
//   node bench/sync.bench.mjs --quick    # 2,000 blocks, 2 to 3 rounds each, writes nothing
//
// The full node is test/harness/bcoin-regtest-server.cjs (in-memory chain,
// every socket on 127.0.0.1). The SPV node keeps the same loopback guards:
// createSocket refuses any non-loopback host, discoverExternal is
// neutralised, getHost hands out only the one configured loopback node,
// no seeds, no listener, HTTP on 127.0.0.1.
//
// What each side does on the wire differs, and that is part of the result:
// bitp2p sends getheaders and gets 2,000 headers per round trip; bcoin's SPV
// node on regtest (a network without checkpoints, so no headers-first
// phase) sends getblocks, gets 500-entry invs and downloads a merkleblock
// per block. Each round is timed from the connect call to the moment the
// client's chain reaches the full node's height. Rounds (one sync of each
// client) repeat until bcoin's time over ours agrees within 10 % over the
// last rounds, or the bench says it could not (bench/lib/harness.mjs, which
// also prints and records the load and the machine's reference rates).
// Nothing is asserted beyond
// both ending at the full node's best hash; results go to stdout and
// bench/sync-results.json, with how busy each process was (CPU time / wall
// time, from /proc on Linux) so the figures say which side was the limit.
import { spawnBcoin } from '../test/harness/spawn-bcoin.mjs'
import { createRequire } from 'node:module'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { hashToHex, regtest } from '@bitp2p/wire'
import { formatPeerAddress, Peer } from '@bitp2p/session'
import { HeaderTree } from '@bitp2p/session/chain'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { finishRun, median, ownCpuMs, processCpuMs, startRun, untilStable, writeResults } from './lib/harness.mjs'

const quick = process.argv.includes('--quick')
/** Chain length synced: mined by the full node at start-up. */
const BLOCKS = quick ? 2_000 : 10_000
/** Timed rounds per client (each a fresh connection and an empty chain): at least, at most. */
const ROUNDS = quick ? [2, 3] : [3, 8]
/** Wall-time cap on the rounds, ms. */
const ROUNDS_MAX_MS = quick ? 120_000 : 300_000
/** Core's MAX_HEADERS_RESULTS: a shorter reply means the peer has no more. */
const MAX_HEADERS = 2_000
/** Deadline of one getheaders. */
const GETHEADERS_TIMEOUT_MS = 30_000
/** How long one bcoin SPV sync may take before the bench gives up. */
const SPV_TIMEOUT_MS = 600_000
/** Full-node start-up (mining included) deadline. */
const READY_TIMEOUT_MS = 600_000
const LOOPBACK = '127.0.0.1'
const RESULTS = new URL('./sync-results.json', import.meta.url)

const isLoopback = (h) => h === 'localhost' || h === '::1' || /^127\./.test(h)

// --- bcoin full node (child process) -------------------------------------------

function startFullNode() {
  return spawnBcoin(
    { API_KEY: `bitp2p-bench-${process.pid}`, MINE: String(BLOCKS), WALLET: '0', LOG_LEVEL: 'error' },
    { readyTimeoutMs: READY_TIMEOUT_MS },
  )
}

function rpcClient(info) {
  return async (method, params = []) => {
    const res = await fetch(`http://${LOOPBACK}:${info.http}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`x:${info.apiKey}`)}` },
      body: JSON.stringify({ method, params, id: 1 }),
    })
    const json = await res.json()
    if (json.error) throw new Error(`bcoin rpc ${method}: ${json.error.message}`)
    return json.result
  }
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
  child.stdin?.destroy()
}

// --- (a) bitp2p ---------------------------------------------------------------

/** One sync from genesis over a fresh connection; returns timings and the tip. */
async function bitp2pOnce(addr, target) {
  const t0 = performance.now()
  const peer = await Peer.connect(addr, { connector: new TcpConnector({ connectTimeoutMs: 5_000 }), network: regtest })
  const t1 = performance.now()
  try {
    const tree = new HeaderTree(regtest)
    let requests = 0
    // bcoin 1.0.2 stays silent on a getheaders it has nothing for, so stop on a
    // short batch, or at the height it announced (a chain of a multiple of 2,000).
    for (;;) {
      const batch = await peer.getHeaders(tree.locator(), { timeoutMs: GETHEADERS_TIMEOUT_MS })
      requests++
      const r = tree.acceptMany(batch)
      if (r.rejected) throw new Error(`bitp2p: header ${r.rejected.index} of batch ${requests} rejected: ${r.rejected.error.kind}`)
      if (batch.length < MAX_HEADERS || tree.height >= target) break
    }
    const t2 = performance.now()
    return { connectMs: t1 - t0, syncMs: t2 - t1, totalMs: t2 - t0, height: tree.height, tip: hashToHex(tree.tip.hash), requests }
  } finally {
    peer.close('bench done')
  }
}

// --- (b) bcoin SPV node, in this process -----------------------------------------

function loadBcoin() {
  // bcoin's native backends are not built; bdb requires leveldown even with memory: true.
  process.env.NODE_BACKEND = 'js'
  const require = createRequire(import.meta.url)
  const bdb = require.resolve('bdb')
  const lvl = require.resolve('leveldown', { paths: [path.dirname(bdb)] })
  require.cache[lvl] = { id: lvl, filename: lvl, loaded: true,
    exports: () => { throw new Error('leveldown stubbed out: use memory:true') } }
  return require('bcoin')
}

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer().once('error', reject)
    .listen(0, LOOPBACK, () => { const { port } = s.address(); s.close(() => resolve(port)) })
})

/** One SPV sync from genesis; the node is new and in memory each round. */
async function spvOnce(bcoin, addr, target) {
  const nodeAddr = formatPeerAddress(addr)
  const spv = new bcoin.SPVNode({
    network: 'regtest', memory: true, workers: false,
    prefix: path.join(os.tmpdir(), 'bcoin-spv-bench-unused'),
    logLevel: 'error', logConsole: true,
    seeds: [], only: [nodeAddr], listen: false,
    httpHost: LOOPBACK, httpPort: await freePort(), apiKey: `bitp2p-bench-spv-${process.pid}`,
    createSocket: (port, host) => {
      if (!isLoopback(host)) throw new Error(`blocked non-loopback connect to ${host}:${port}`)
      return net.connect(port, host)
    },
  })
  spv.pool.discoverExternal = async () => {} // would query OpenDNS resolvers
  // No self-chosen outbound peers: only the configured loopback node, while not connected.
  spv.pool.getHost = function () {
    for (const a of this.hosts.nodes) {
      if (isLoopback(a.host) && !this.peers.has(a.hostname)) return a
    }
    return null
  }
  // Count what the SPV node receives, to show how it syncs.
  const received = {}
  const createOutbound = spv.pool.createOutbound.bind(spv.pool)
  spv.pool.createOutbound = (a) => {
    const peer = createOutbound(a)
    peer.on('packet', (pk) => { received[pk.cmd] = (received[pk.cmd] ?? 0) + 1 })
    return peer
  }
  spv.on('error', () => {}) // bcoin reports peer noise as node errors; the timeout below catches real failures
  await spv.open()
  let timer
  try {
    const t0 = performance.now()
    const done = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`bcoin SPV: height ${spv.chain.height} of ${target} after ${SPV_TIMEOUT_MS} ms`)), SPV_TIMEOUT_MS)
      const check = () => { if (spv.chain.height >= target) resolve() }
      spv.chain.on('connect', check)
      check()
    })
    await spv.connect()
    spv.startSync()
    await done
    const t1 = performance.now()
    return { totalMs: t1 - t0, height: spv.chain.height, tip: spv.chain.tip.rhash(), received }
  } finally {
    clearTimeout(timer)
    await spv.close()
  }
}

// --- run ------------------------------------------------------------------------

/** Runs `body`, adding the wall time, this process's CPU time and the full node's CPU time to `acc`. */
async function metered(acc, pid, body) {
  const full0 = processCpuMs(pid)
  const ours0 = ownCpuMs()
  const w0 = performance.now()
  const r = await body()
  acc.wallMs += performance.now() - w0
  acc.clientMs += ownCpuMs() - ours0
  const full1 = processCpuMs(pid)
  acc.fullNodeMs = full0 === undefined || full1 === undefined ? NaN : acc.fullNodeMs + full1 - full0
  return r
}
const busy = (acc) => ({
  clientPct: Math.round((acc.clientMs / acc.wallMs) * 100),
  fullNodePct: Number.isNaN(acc.fullNodeMs) ? null : Math.round((acc.fullNodeMs / acc.wallMs) * 100),
})

const rate = (n, ms) => Math.round((n * 1000) / ms)
const r1 = (x) => Math.round(x * 10) / 10

const run = startRun('sync.bench')
const { child, info, readyMs } = await startFullNode()
try {
  const rpc = rpcClient(info)
  const target = await rpc('getblockcount', [])
  const best = await rpc('getbestblockhash', [])
  if (target !== BLOCKS) throw new Error(`full node height ${target}, expected ${BLOCKS}`)
  console.log(`bcoin ${info.bcoin} full node on ${LOOPBACK}:${info.p2p}: ${target} blocks mined at start-up, ready in ${Math.round(readyMs)} ms (its own startup_ms ${info.startup_ms})`)
  const addr = { host: LOOPBACK, port: info.p2p }
  const bcoin = loadBcoin()

  const ours = []
  const theirs = []
  const cpuOurs = { wallMs: 0, clientMs: 0, fullNodeMs: 0 }
  const cpuTheirs = { wallMs: 0, clientMs: 0, fullNodeMs: 0 }
  // Interleaved, so a slow phase of the shared machine hits both sides.
  const stability = await untilStable(
    async (i) => {
      const a = await metered(cpuOurs, child.pid, () => bitp2pOnce(addr, target))
      if (a.height !== target || a.tip !== best) throw new Error(`bitp2p ended at ${a.height} ${a.tip}, expected ${target} ${best}`)
      ours.push(a)
      console.log(`  bitp2p round ${i + 1}: ${Math.round(a.totalMs)} ms (connect ${r1(a.connectMs)} ms, sync ${Math.round(a.syncMs)} ms, ${a.requests} getheaders), ${rate(target, a.totalMs)} headers/s`)
      const b = await metered(cpuTheirs, child.pid, () => spvOnce(bcoin, addr, target))
      if (b.height !== target || b.tip !== best) throw new Error(`bcoin SPV ended at ${b.height} ${b.tip}, expected ${target} ${best}`)
      theirs.push(b)
      console.log(`  bcoin SPV round ${i + 1}: ${Math.round(b.totalMs)} ms, ${rate(target, b.totalMs)} headers/s; received ${JSON.stringify(b.received)}`)
      return { bitp2pOverBcoinSpv: b.totalMs / a.totalMs }
    },
    { minRounds: ROUNDS[0], maxRounds: ROUNDS[1], maxMs: ROUNDS_MAX_MS, label: 'bitp2p / bcoin SPV' },
  )

  const oursMs = median(ours.map((r) => r.totalMs))
  const oursSyncMs = median(ours.map((r) => r.syncMs))
  const theirsMs = median(theirs.map((r) => r.totalMs))
  const results = {
    bcoin: info.bcoin,
    blocks: target,
    rounds: ours.length,
    transport: `TCP ${LOOPBACK}, one peer, bcoin full node in a child process`,
    bitp2p: {
      method: 'Peer + HeaderTree, getheaders loop (2,000 headers per reply)',
      roundsMs: ours.map((r) => r1(r.totalMs)),
      medianMs: r1(oursMs),
      headersPerSec: rate(target, oursMs),
      syncOnlyMedianMs: r1(oursSyncMs),
      syncOnlyHeadersPerSec: rate(target, oursSyncMs),
      getheaders: ours[0].requests,
      busy: busy(cpuOurs),
    },
    bcoinSpv: {
      method: 'bcoin.SPVNode in this process (regtest: getblocks + merkleblock per block, no headers-first)',
      roundsMs: theirs.map((r) => r1(r.totalMs)),
      medianMs: r1(theirsMs),
      headersPerSec: rate(target, theirsMs),
      messagesReceived: theirs[0].received,
      busy: busy(cpuTheirs),
    },
    ratio: Math.round((theirsMs / oursMs) * 100) / 100,
  }
  console.log(`\nbitp2p:    ${results.bitp2p.headersPerSec} headers/s (median ${Math.round(oursMs)} ms from connect; sync alone ${results.bitp2p.syncOnlyHeadersPerSec} headers/s)`)
  console.log(`bcoin SPV: ${results.bcoinSpv.headersPerSec} headers/s (median ${Math.round(theirsMs)} ms from connect)`)
  console.log(`bitp2p is ${results.ratio}x bcoin's SPV node (medians)`)
  const pct = (b) => `client ${b.clientPct}%, full node ${b.fullNodePct ?? '?'}%`
  console.log(`CPU busy (CPU time / wall time over the rounds, this process includes the SPV node's open/close): bitp2p rounds ${pct(results.bitp2p.busy)}; SPV rounds ${pct(results.bcoinSpv.busy)}`)
  if (quick) finishRun(run)
  else writeResults(RESULTS, run, stability, results)
} finally {
  await stopChild(child)
}
