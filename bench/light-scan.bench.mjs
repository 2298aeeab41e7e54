// The light client's full scan of a btcd chain: a ScriptWatcher from
// genesis, over one TCP peer (btcd 0.25.0 on 127.0.0.1), watching the
// interop key's P2PKH address (paid by a few `interopspend` transactions
// spread over the chain). Reports the wall time to caught up, split into
// block headers, filter headers and the filter scan; the CPU it took (ours
// and btcd's, from /proc), so you see where the time goes; the rate of
// filters scanned; and our peak memory (max RSS). Uses the built packages
// (run `npm run build` first):
//
//   node bench/light-scan.bench.mjs            # 5,000 blocks, 3 to 10 rounds (until the figures hold)
//   node bench/light-scan.bench.mjs --quick    # 1,200 blocks, 2 to 3 rounds; writes nothing
//
// Regtest blocks are nearly empty, so this measures the protocol path
// (round trips, checks, matching one small filter per block), not the
// matching of mainnet-size filters: bench/filters.bench.mjs measures that.
// Rounds repeat until the wall time and our CPU per block (in the machine's
// node:crypto sha256d calls, so the figure travels between machines) and the
// share of the wall time btcd's CPU takes agree within 10 % over the last
// rounds, or the bench says it could not (bench/lib/harness.mjs).
// Nothing is asserted; results go to stdout and bench/light-scan-results.json.
// Skipped, with a message, when the btcd binaries are absent.
import { Peer, RealtimeClock, singlePeer } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { fromHex, regtest } from '@bitp2p/wire'
import { MemoryLightStore, ScriptWatcher, scriptToAddress } from '@bitp2p/light'
import { interopSpend } from '../test/harness/spawn-btcd.mjs'
import { finishRun, median, startRun, untilStable, writeResults } from './lib/harness.mjs'
import { meteredByBtcd, startBenchBtcd } from './lib/btcd.mjs'

const quick = process.argv.includes('--quick')
/** Blocks in the chain scanned. */
const BLOCKS = quick ? 1_200 : 5_000
/** Rounds (each a fresh connection and a fresh watcher): at least, at most; the median of the last ones is reported. */
const ROUNDS = quick ? [2, 3] : [3, 10]
/** Wall-time cap on the rounds, ms. */
const ROUNDS_MAX_MS = quick ? 60_000 : 180_000
/** Payments to the watched address, spread over the chain (after segwit, at 432). */
const PAYMENTS = 4
const START_BLOCKS = 440
const LOOPBACK = '127.0.0.1'
const RESULTS = new URL('./light-scan-results.json', import.meta.url)

const r1 = (x) => Math.round(x * 10) / 10

/** One scan from genesis: times of each phase, CPU, what was found. */
async function scanOnce(btcd, address) {
  const clock = new RealtimeClock()
  let t0
  let headersAt
  let filterHeadersAt
  let watcher
  let peer
  const m = await meteredByBtcd(btcd, async () => {
    t0 = performance.now()
    peer = await Peer.connect(btcd.addr, { connector: new TcpConnector(), network: regtest, clock, transport: 'v1' })
    watcher = new ScriptWatcher({ source: singlePeer(peer), network: regtest, clock, store: new MemoryLightStore() })
    watcher.on('progress', (p) => {
      if (filterHeadersAt === undefined && p.filterHeaders >= BLOCKS) filterHeadersAt = performance.now()
    })
    await watcher.start()
    watcher.headerSync.once('synced', () => (headersAt = performance.now()))
    await watcher.watch([address])
    return watcher.synced(AbortSignal.timeout(600_000))
  })
  const t1 = t0 + m.wallMs
  const result = {
    ms: m.wallMs,
    headersMs: (headersAt ?? t1) - t0,
    filterHeadersMs: (filterHeadersAt ?? t1) - (headersAt ?? t0),
    scanMs: t1 - (filterHeadersAt ?? t0),
    oursCpuMs: m.oursCpuMs,
    btcdCpuMs: Number.isNaN(m.btcdCpuMs) ? undefined : m.btcdCpuMs,
    found: watcher.transactions().length,
    blocksFetched: watcher.machine.progress().blocks,
    height: m.value.height,
  }
  await watcher.stop()
  peer.close()
  return result
}

const run = startRun('light-scan.bench')
const btcd = await startBenchBtcd('light-scan.bench', { MINE: String(START_BLOCKS) })
if (btcd === undefined) process.exit(0)
const { info, rpc } = btcd
try {
  const address = scriptToAddress(fromHex(`76a914${info.mineKeyHash}88ac`), regtest)
  // Payments spread over the chain: interopspend pays the P2PKH address from a mature coinbase.
  const gap = Math.floor((BLOCKS - START_BLOCKS) / PAYMENTS)
  for (let i = 1; i <= PAYMENTS; i++) {
    const block = await rpc('getblock', [await rpc('getblockhash', [i]), 2])
    const cb = block.rawtx[0]
    await rpc('sendrawtransaction', [await interopSpend(cb.txid, 0, BigInt(Math.round(cb.vout[0].value * 1e8)))])
    await rpc('generate', [i === PAYMENTS ? BLOCKS - (await rpc('getblockcount')) : gap])
  }
  const height = await rpc('getblockcount')
  console.log(`btcd ${info.btcd} regtest on ${LOOPBACK}:${info.p2p}: ${height} blocks, ${PAYMENTS} payments to ${address}`)

  const all = []
  // Our CPU per block in sha256d calls of this machine (node:crypto, 64-byte inputs, at the start of the run).
  const perCall = 1000 / run.referenceStart.nodeSha256d
  const stability = await untilStable(
    async (i) => {
      const r = await scanOnce(btcd, address)
      if (r.found !== PAYMENTS) throw new Error(`round ${i}: found ${r.found} transactions, expected ${PAYMENTS}`)
      all.push(r)
      console.log(`  round ${i + 1}: ${Math.round(r.ms)} ms (headers ${Math.round(r.headersMs)}, filter headers ${Math.round(r.filterHeadersMs)}, filters and blocks ${Math.round(r.scanMs)}); CPU bitp2p ${Math.round(r.oursCpuMs)} ms, btcd ${r.btcdCpuMs ?? 'n/a'} ms`)
      return {
        wallMs: r.ms,
        bitp2pCpuPerBlockInSha256dCalls: r.oursCpuMs / r.height / perCall,
        ...(r.btcdCpuMs === undefined ? {} : { btcdCpuOverWall: r.btcdCpuMs / r.ms }),
      }
    },
    { minRounds: ROUNDS[0], maxRounds: ROUNDS[1], maxMs: ROUNDS_MAX_MS, label: 'light scan' },
  )
  const rounds = all
  const m = (k) => r1(median(rounds.map((r) => r[k])))
  const maxRssMB = r1(process.resourceUsage().maxRSS / 1024)
  const results = {
    btcd: info.btcd,
    setup: `TCP ${LOOPBACK}, one peer (v1), ScriptWatcher defaults (getcfheaders 2,000, getcfilters 1,000), MemoryLightStore, one watched P2PKH address`,
    blocks: height,
    payments: PAYMENTS,
    rounds: rounds.length,
    median: {
      wallMs: m('ms'),
      headersMs: m('headersMs'),
      filterHeadersMs: m('filterHeadersMs'),
      filtersAndBlocksMs: m('scanMs'),
      bitp2pCpuMs: m('oursCpuMs'),
      btcdCpuMs: rounds.every((r) => r.btcdCpuMs !== undefined) ? m('btcdCpuMs') : null,
      blocksPerSecond: r1(height / (median(rounds.map((r) => r.ms)) / 1000)),
    },
    blocksFetched: rounds[0].blocksFetched,
    maxRssMB,
  }
  console.log(`scan of ${height} blocks from genesis (median of ${rounds.length}): ${results.median.wallMs} ms, ${results.median.blocksPerSecond} blocks/s`)
  console.log(`  headers ${results.median.headersMs} ms, filter headers ${results.median.filterHeadersMs} ms, filters and matching blocks ${results.median.filtersAndBlocksMs} ms`)
  console.log(`  CPU: bitp2p ${results.median.bitp2pCpuMs} ms, btcd ${results.median.btcdCpuMs ?? 'n/a'} ms; ${results.blocksFetched} blocks fetched; peak RSS ${maxRssMB} MB`)
  if (quick) finishRun(run)
  else writeResults(RESULTS, run, stability, results)
} finally {
  btcd.stop()
}
