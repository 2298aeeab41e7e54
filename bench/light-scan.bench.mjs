// The light client's full scan of a btcd chain: a ScriptWatcher from
// genesis, over one TCP peer (btcd 0.25.0 on 127.0.0.1), watching the
// interop key's P2PKH address (paid by a few `interopspend` transactions
// spread over the chain). Reports the wall time to caught up, split into
// block headers, filter headers and the filter scan; the CPU it took (ours
// and btcd's, from /proc), so you see where the time goes; the rate of
// filters scanned; and our peak memory (max RSS). Uses the built packages
// (run `npm run build` first):
//
//   node bench/light-scan.bench.mjs            # 5,000 blocks, 3 rounds
//   node bench/light-scan.bench.mjs --quick    # 1,200 blocks, 1 round; writes nothing
//
// Regtest blocks are nearly empty, so this measures the protocol path
// (round trips, checks, matching one small filter per block), not the
// matching of mainnet-size filters: bench/filters.bench.mjs measures that.
// Nothing is asserted; results go to stdout and bench/light-scan-results.json.
// Skipped, with a message, when the btcd binaries are absent.
import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Peer, RealtimeClock, singlePeer } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { fromHex, regtest } from '@bitp2p/wire'
import { MemoryLightStore, ScriptWatcher, scriptToAddress } from '@bitp2p/light'
import { btcdAbsence, btcdRpcClient, interopSpend, spawnBtcd } from '../test/harness/spawn-btcd.mjs'

const quick = process.argv.includes('--quick')
/** Blocks in the chain scanned. */
const BLOCKS = quick ? 1_200 : 5_000
/** Rounds (each a fresh connection and a fresh watcher); the median is reported. */
const ROUNDS = quick ? 1 : 3
/** Payments to the watched address, spread over the chain (after segwit, at 432). */
const PAYMENTS = 4
const START_BLOCKS = 440
const LOOPBACK = '127.0.0.1'
const RESULTS = new URL('./light-scan-results.json', import.meta.url)

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const r1 = (x) => Math.round(x * 10) / 10
/** CPU ms (user + system) a process has used, from /proc on Linux; undefined elsewhere. */
function procCpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) * 10
  } catch {
    return undefined
  }
}
const ourCpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** One scan from genesis: times of each phase, CPU, what was found. */
async function scanOnce(addr, address, btcdPid) {
  const clock = new RealtimeClock()
  const t0 = performance.now()
  const cpu0 = ourCpuMs()
  const btcd0 = procCpuMs(btcdPid)
  const peer = await Peer.connect(addr, { connector: new TcpConnector(), network: regtest, clock, transport: 'v1' })
  const watcher = new ScriptWatcher({ source: singlePeer(peer), network: regtest, clock, store: new MemoryLightStore() })
  let headersAt
  let filterHeadersAt
  watcher.on('progress', (p) => {
    if (filterHeadersAt === undefined && p.filterHeaders >= BLOCKS) filterHeadersAt = performance.now()
  })
  await watcher.start()
  watcher.headerSync.once('synced', () => (headersAt = performance.now()))
  await watcher.watch([address])
  const tip = await watcher.synced(AbortSignal.timeout(600_000))
  const t1 = performance.now()
  const result = {
    ms: t1 - t0,
    headersMs: (headersAt ?? t1) - t0,
    filterHeadersMs: (filterHeadersAt ?? t1) - (headersAt ?? t0),
    scanMs: t1 - (filterHeadersAt ?? t0),
    oursCpuMs: ourCpuMs() - cpu0,
    btcdCpuMs: btcd0 === undefined ? undefined : procCpuMs(btcdPid) - btcd0,
    found: watcher.transactions().length,
    blocksFetched: watcher.machine.progress().blocks,
    height: tip.height,
  }
  await watcher.stop()
  peer.close()
  return result
}

if (btcdAbsence() !== undefined) {
  console.log(`light-scan bench skipped: ${btcdAbsence()}`)
  process.exit(0)
}

console.log(`Node ${process.version}; load average ${load()}`)
const { child, info } = await spawnBtcd({ MINE: String(START_BLOCKS) }, { readyTimeoutMs: 300_000 })
try {
  const rpc = btcdRpcClient(info.rpc)
  const addr = { host: LOOPBACK, port: info.p2p }
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

  const rounds = []
  for (let i = 0; i < ROUNDS; i++) {
    const r = await scanOnce(addr, address, info.btcdPid)
    if (r.found !== PAYMENTS) throw new Error(`round ${i}: found ${r.found} transactions, expected ${PAYMENTS}`)
    rounds.push(r)
    console.log(`  round ${i + 1}: ${Math.round(r.ms)} ms (headers ${Math.round(r.headersMs)}, filter headers ${Math.round(r.filterHeadersMs)}, filters and blocks ${Math.round(r.scanMs)}); CPU bitp2p ${Math.round(r.oursCpuMs)} ms, btcd ${r.btcdCpuMs ?? 'n/a'} ms`)
  }
  const m = (k) => r1(median(rounds.map((r) => r[k])))
  const maxRssMB = r1(process.resourceUsage().maxRSS / 1024)
  const results = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    loadAverage: load(),
    btcd: info.btcd,
    setup: `TCP ${LOOPBACK}, one peer (v1), ScriptWatcher defaults (getcfheaders 2,000, getcfilters 1,000), MemoryLightStore, one watched P2PKH address`,
    blocks: height,
    payments: PAYMENTS,
    rounds: ROUNDS,
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
  console.log(`scan of ${height} blocks from genesis (median of ${ROUNDS}): ${results.median.wallMs} ms, ${results.median.blocksPerSecond} blocks/s`)
  console.log(`  headers ${results.median.headersMs} ms, filter headers ${results.median.filterHeadersMs} ms, filters and matching blocks ${results.median.filtersAndBlocksMs} ms`)
  console.log(`  CPU: bitp2p ${results.median.bitp2pCpuMs} ms, btcd ${results.median.btcdCpuMs ?? 'n/a'} ms; ${results.blocksFetched} blocks fetched; peak RSS ${maxRssMB} MB; load average after ${load()}`)
  if (!quick) {
    writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n')
    console.log(`wrote ${fileURLToPath(RESULTS)}`)
  }
} finally {
  child.kill('SIGTERM')
}
