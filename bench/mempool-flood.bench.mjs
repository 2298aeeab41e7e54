// MempoolMonitor under an announcement flood (issue 12, item 1). Uses the
// built packages (run `npm run build` first):
//
//   node --expose-gc bench/mempool-flood.bench.mjs                # 2 flooders, 20 honest txs; writes bench/mempool-flood-results.json
//   node --expose-gc bench/mempool-flood.bench.mjs --quick        # 1 flooder, 8 honest txs, writes nothing
//   node --expose-gc bench/mempool-flood.bench.mjs --flooders 4   # more flooding connections
//   node --expose-gc --max-old-space-size=48 bench/mempool-flood.bench.mjs --no-machine
//        # the TCP part under a 48 MiB heap limit (the machine part alone holds 2 x 100,000 announcements)
//   node --expose-gc bench/mempool-flood.bench.mjs --session /path/to/other/packages/session/dist/index.js
//        # the same run against another build of @bitp2p/session (e.g. the code before the fix)
//
// 1. The machine alone (TxRequestMachine, no network): heap per tracked
//    announcement, after GC, for 20 peers x 5,000 announcements of distinct
//    hashes (the worst case: every announcement also creates its hash's
//    record) and of the same 5,000 hashes (each hash shared by 20 peers),
//    against the documented bound ANNOUNCEMENT_BYTES; and the seen LRU per
//    entry (50,000 transactions received, two keys each) against SEEN_ENTRY_BYTES.
// 2. Over TCP on 127.0.0.1: each flooder is a child process (its memory and
//    CPU are not this process's) that completes the handshake with a session
//    Peer, then writes maximal inv frames (50,000 fresh hashes each) as fast
//    as its socket drains and never answers a getdata. The honest node runs
//    in this process (a session Peer behind a TcpListener) and holds the
//    honest transactions. The measured process is what a user runs:
//    Peer.connect over TcpConnector to every node, one MempoolMonitor on
//    them. Once the flood has run for WARMUP_MS, the honest node announces
//    one transaction every SPACING_MS; the latency of each is from the
//    honest node's send of its inv to the monitor's 'tx' event (one clock:
//    both ends are in this process). RSS and heap are sampled every
//    SAMPLE_MS; growth is against a baseline after GC with only the honest
//    node connected. After the last honest transaction, a GC with the
//    flooders still connected (at their caps) gives the heap each flooding
//    connection holds.
// The TCP part runs first, so its RSS baseline is not the machine part's
// leftovers. It runs in rounds (fresh flooders, a fresh monitor each) until
// the honest latency, the share fetched and the heap held per flooder agree
// within 10 % over the last rounds, or the bench says they could not
// (bench/lib/harness.mjs, which also prints and records the load and the
// machine's reference rates); the round recorded is the one of median
// latency. Nothing is asserted; the figures go to stdout and (not with
// --quick, --session or --no-machine) bench/mempool-flood-results.json.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { InvType, regtest, toHex, txid, wtxid } from '@bitp2p/wire'
import { MAX_INV_SIZE } from '@bitp2p/wire/limits'
import { TcpConnector, TcpListener } from '@bitp2p/transport-tcp'
import { TxFactory } from '@bitp2p/transport-mock'
import { txFloodFrame } from '@bitp2p/transport-mock/peers'
import { finishRun, startRun, untilStable, writeResults } from './lib/harness.mjs'

const argv = process.argv.slice(2)
const arg = (name) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}
const quick = argv.includes('--quick')
const sessionPath = arg('--session')
/**
 * One entry of the session under test: `@bitp2p/session/<name>`, or with
 * --session the file beside the given index.js (an older build without
 * subpath entries had every name on its main entry).
 */
async function sessionEntry(name) {
  if (!sessionPath) return await import(name === 'index' ? '@bitp2p/session' : `@bitp2p/session/${name}`)
  const file = new URL(`${name}.js`, pathToFileURL(sessionPath))
  return await import(existsSync(file) ? file.href : pathToFileURL(sessionPath).href)
}
const S = { ...(await sessionEntry('core')), ...(await sessionEntry('limits')), ...(await sessionEntry('index')) }
const { MempoolMonitor, Peer, PeerList, RealtimeClock, SeededRandom } = S

/** Flooding connections, one child process each. */
const FLOODERS = Number(arg('--flooders') ?? (quick ? 1 : 2))
/** Honest transactions announced during the flood. */
const HONEST_TXS = quick ? 8 : 20
/** Flood time before the first honest announcement, ms. */
const WARMUP_MS = 3_000
/** Between two honest announcements, ms. */
const SPACING_MS = 250
/** After the last announcement, how long to wait for stragglers, ms. */
const DRAIN_MS = 10_000
/** Memory sampling period, ms. */
const SAMPLE_MS = 20
/** A flooder waits while more than this many bytes sit in its socket buffer. */
const FLOOD_HIGH_WATER = 4 * 1024 * 1024
/** A flooder's bounds: it stops after this many invs or this long, whichever first. */
const FLOOD_MAX_INVS = 100_000
const FLOOD_MAX_MS = 120_000
/** Machine section: peers x announcements each. */
const MACHINE_PEERS = 20
/** Rounds of the TCP part: at least, at most; and their wall-time cap, ms. */
const ROUNDS = quick ? [2, 3] : [3, 6]
const ROUNDS_MAX_MS = quick ? 60_000 : 180_000
const LOOPBACK = '127.0.0.1'
const MiB = 1024 * 1024
const RESULTS = new URL('./mempool-flood-results.json', import.meta.url)

const gc = globalThis.gc
const heap = () => {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const mib = (b) => +(b / MiB).toFixed(1)
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]
}

// --- flooder (child process) -----------------------------------------------------

async function flooder() {
  const listener = await TcpListener.listen({ host: LOOPBACK, port: 0 })
  const random = new SeededRandom(`flood-bench-${process.pid}`)
  const started = performance.now()
  listener.onConnection((t) => {
    void Peer.accept(t, { network: regtest, startHeight: 0 }).then(async (peer) => {
      // getdata is never answered; the inv frames go straight to the socket.
      const byWtxid = peer.features?.wtxidRelay ?? false
      let sent = 0
      while (peer.state === 'ready' && sent < FLOOD_MAX_INVS && performance.now() - started < FLOOD_MAX_MS) {
        if (t.bufferedAmount > FLOOD_HIGH_WATER) {
          await new Promise((r) => setTimeout(r, 2))
          continue
        }
        t.send(txFloodFrame(regtest, random, byWtxid))
        sent++
        await new Promise((r) => setImmediate(r))
      }
    }, () => undefined)
  })
  process.stdout.write(`${JSON.stringify({ port: listener.address.port })}\n`)
  // The parent closes our stdin when it is done (or dies): stop then.
  process.stdin.resume()
  process.stdin.on('end', () => process.exit(0))
  setTimeout(() => process.exit(0), FLOOD_MAX_MS + 10_000).unref()
}

function startFlooder() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--flooder'], { stdio: ['pipe', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`flooder exited with ${code}`)))
    child.stdout.setEncoding('utf8').on('data', (s) => {
      out += s
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve({ child, ...JSON.parse(out.slice(0, nl)) })
    })
  })
}

// --- 1. the machine alone -----------------------------------------------------------

function machineBytes() {
  const { TxRequestMachine, DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER: cap } = S
  if (!TxRequestMachine) return undefined
  const hashOf = (n) => {
    const b = new Uint8Array(32)
    new DataView(b.buffer).setUint32(0, n, true)
    b[31] = 0x5a
    return b
  }
  const run = (shared) => {
    // The baseline is taken before the invs are built; they are garbage by the end, so only what the machine keeps is counted.
    const before = heap()
    let invs = Array.from({ length: MACHINE_PEERS }, (_, p) =>
      Array.from({ length: cap }, (_, i) => ({ type: InvType.MSG_WTX, hash: hashOf(shared ? i : p * cap + i) })),
    )
    const m = new TxRequestMachine({ maxInFlightPerPeer: 1 }, new SeededRandom('machine-bench'))
    for (let p = 0; p < MACHINE_PEERS; p++) m.addPeer(0, p, { preferred: true })
    for (let p = 0; p < MACHINE_PEERS; p++) m.announce(1, p, invs[p])
    m.drain()
    invs = undefined
    const after = heap()
    if (m.size !== MACHINE_PEERS * cap) throw new Error(`machine tracks ${m.size}, expected ${MACHINE_PEERS * cap}`)
    return { announcements: m.size, hashes: m.pending, bytesPerAnnouncement: Math.round((after - before) / m.size) }
  }
  const distinct = run(false)
  const shared = run(true)
  // The seen LRU: SEEN transactions received (txid and wtxid differ: two keys each).
  const SEEN = 50_000
  const m = new TxRequestMachine({ seenCapacity: 2 * SEEN }, new SeededRandom('machine-bench'))
  m.addPeer(0, 0, { preferred: true })
  const before = heap()
  for (let i = 0; i < SEEN; i++) {
    const id = hashOf(i)
    m.announce(1, 0, [{ type: InvType.MSG_TX, hash: id }])
    m.received(1, 0, id, hashOf(i + SEEN))
    m.drain()
  }
  const seenBytes = Math.round((heap() - before) / m.seenCount)
  return { cap, distinct, shared, seen: { entries: m.seenCount, bytesPerEntry: seenBytes } }
}

// --- 2. over TCP -------------------------------------------------------------------

async function network() {
  const clock = new RealtimeClock()
  // The honest node, in this process.
  const factory = new TxFactory(new SeededRandom('mempool-flood-bench'))
  const txs = Array.from({ length: HONEST_TXS }, () => factory.next())
  const honestListener = await TcpListener.listen({ host: LOOPBACK, port: 0 })
  let honestPeer
  honestListener.onConnection((t) => {
    void Peer.accept(t, {
      network: regtest,
      startHeight: 0,
      setup: (peer) => {
        honestPeer = peer
        peer.on('getdata', (m) => {
          for (const it of m.items) {
            const tx = txs.find((x) => toHex(it.type === InvType.MSG_WTX ? wtxid(x) : txid(x)) === toHex(it.hash))
            if (tx) peer.send({ command: 'tx', tx })
          }
        })
      },
    }).catch(() => undefined)
  })
  const flooders = await Promise.all(Array.from({ length: FLOODERS }, startFlooder))
  const connector = new TcpConnector()
  const dial = (port) => Peer.connect({ host: LOOPBACK, port }, { network: regtest, clock, connector })
  const clients = []
  const source = new PeerList()
  const monitor = new MempoolMonitor({ source, clock })
  try {
    clients.push(await dial(honestListener.address.port))
    source.add(clients[0])
    while (honestPeer?.state !== 'ready') await new Promise((r) => setTimeout(r, 5))
    monitor.start()
    const base = { heap: heap(), rss: process.memoryUsage().rss }
    const peak = { rss: base.rss, heap: base.heap }
    const sample = () => {
      const m = process.memoryUsage()
      if (m.rss > peak.rss) peak.rss = m.rss
      if (m.heapUsed > peak.heap) peak.heap = m.heapUsed
    }
    const sampler = setInterval(sample, SAMPLE_MS)

    // The flood starts as each flooder's handshake completes.
    let floodInvs = 0
    const floodClients = []
    for (const f of flooders) {
      const c = await dial(f.port)
      c.on('inv', () => floodInvs++)
      floodClients.push(c)
      clients.push(c)
      source.add(c)
    }
    const floodT0 = performance.now()
    await new Promise((r) => setTimeout(r, WARMUP_MS))

    const announced = new Map()
    const fetched = new Map()
    monitor.on('tx', (t) => fetched.set(toHex(t.txid), performance.now()))
    for (const tx of txs) {
      announced.set(toHex(txid(tx)), performance.now())
      honestPeer.send({ command: 'inv', items: [{ type: InvType.MSG_WTX, hash: wtxid(tx) }] })
      await new Promise((r) => setTimeout(r, SPACING_MS))
    }
    const deadline = performance.now() + DRAIN_MS
    while (fetched.size < txs.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    const floodSeconds = (performance.now() - floodT0) / 1000
    clearInterval(sampler)
    sample()
    const flooding = floodClients.filter((c) => c.state === 'ready').length
    const held = heap()
    const latencies = [...announced].filter(([id]) => fetched.has(id)).map(([id, t]) => fetched.get(id) - t)
    const perPeer = typeof monitor.announcementsOf === 'function' ? floodClients.map((c) => monitor.announcementsOf(c)) : undefined
    return {
      flooders: FLOODERS,
      floodersStillConnected: flooding,
      floodInvsReceived: floodInvs,
      announcementsPerSecond: Math.round((floodInvs * MAX_INV_SIZE) / floodSeconds),
      honestTxs: txs.length,
      fetched: latencies.length,
      latencyMs: latencies.length ? { median: +quantile(latencies, 0.5).toFixed(1), p95: +quantile(latencies, 0.95).toFixed(1), max: +Math.max(...latencies).toFixed(1) } : undefined,
      pending: monitor.pending,
      dropped: monitor.ignoredAnnouncements,
      announcementsPerFlooder: perPeer,
      baselineRssMiB: mib(base.rss),
      peakRssGrowthMiB: mib(peak.rss - base.rss),
      peakHeapGrowthMiB: mib(peak.heap - base.heap),
      heapHeldPerFlooderMiB: +((held - base.heap) / FLOODERS / MiB).toFixed(2),
    }
  } finally {
    monitor.stop()
    for (const c of clients) c.close('bench done')
    await honestListener.close()
    for (const f of flooders) {
      f.child.removeAllListeners('exit')
      f.child.stdin.end()
    }
  }
}

async function main() {
  if (!gc) console.log('(run with node --expose-gc for heap figures after collection)')
  const run = startRun('mempool-flood.bench')
  console.log(`@bitp2p/session from ${sessionPath ?? 'the workspace build'}; ${FLOODERS} flooder(s), ${HONEST_TXS} honest txs`)
  const result = { session: sessionPath ?? 'workspace' }

  const rounds = []
  const stability = await untilStable(
    async (i) => {
      const r = await network()
      rounds.push(r)
      console.log(`round ${i + 1}: ${r.fetched}/${r.honestTxs} fetched, median latency ${r.latencyMs?.median ?? 'n/a'} ms, heap held per flooder ${r.heapHeldPerFlooderMiB} MiB`)
      return { fetchedShare: r.fetched / r.honestTxs, honestLatencyMedianMs: r.latencyMs?.median ?? DRAIN_MS, heapHeldPerFlooderMiB: r.heapHeldPerFlooderMiB }
    },
    { minRounds: ROUNDS[0], maxRounds: ROUNDS[1], maxMs: ROUNDS_MAX_MS, label: 'flood over TCP' },
  )
  // The round of median latency stands for the run (its figures belong together).
  const n = [...rounds].sort((a, b) => (a.latencyMs?.median ?? DRAIN_MS) - (b.latencyMs?.median ?? DRAIN_MS))[rounds.length >> 1]
  result.rounds = rounds.length
  result.network = n
  console.log(
    `TCP: ${n.flooders} flooder(s) sent ${fmt(n.floodInvsReceived)} maximal invs (${fmt(n.announcementsPerSecond)} announcements/s received), ` +
      `${n.floodersStillConnected} still connected at the end; dropped ${fmt(n.dropped)}; pending ${fmt(n.pending)}` +
      (n.announcementsPerFlooder ? `; announcements per flooder ${n.announcementsPerFlooder.map((x) => fmt(x)).join(', ')}` : ''),
  )
  console.log(
    `honest txs fetched under flood: ${n.fetched}/${n.honestTxs}` +
      (n.latencyMs ? `; latency from announcement: median ${n.latencyMs.median} ms, p95 ${n.latencyMs.p95} ms, max ${n.latencyMs.max} ms` : ''),
  )
  console.log(
    `memory under flood: RSS ${n.baselineRssMiB} MiB at the start, peak +${n.peakRssGrowthMiB} MiB; heap peak +${n.peakHeapGrowthMiB} MiB; ` +
      `heap held after GC per flooding connection ${n.heapHeldPerFlooderMiB} MiB`,
  )
  const m = argv.includes('--no-machine') ? undefined : machineBytes()
  if (m) {
    const documented = S.ANNOUNCEMENT_BYTES
    result.machine = {
      documentedBytesPerAnnouncement: documented,
      documentedBytesPerPeer: documented * m.cap,
      distinctHashes: { announcements: m.distinct.announcements, bytesPerAnnouncement: m.distinct.bytesPerAnnouncement, bytesPerPeer: m.distinct.bytesPerAnnouncement * m.cap },
      sharedHashes: { announcements: m.shared.announcements, hashes: m.shared.hashes, bytesPerAnnouncement: m.shared.bytesPerAnnouncement },
      seen: { entries: m.seen.entries, bytesPerEntry: m.seen.bytesPerEntry, documentedBytesPerEntry: S.SEEN_ENTRY_BYTES },
    }
    console.log(
      `machine: ${fmt(m.distinct.announcements)} announcements of distinct hashes: ${fmt(m.distinct.bytesPerAnnouncement)} B each, ` +
        `${fmt(m.distinct.bytesPerAnnouncement * m.cap / MiB, 2)} MiB per peer at the cap of ${fmt(m.cap)} ` +
        `(documented bound ${fmt(documented)} B, ${fmt((documented * m.cap) / MiB, 2)} MiB per peer: ${m.distinct.bytesPerAnnouncement <= documented ? 'within' : 'OVER'}); ` +
        `${fmt(m.shared.announcements)} announcements of ${fmt(m.shared.hashes)} shared hashes: ${fmt(m.shared.bytesPerAnnouncement)} B each; ` +
        `seen LRU: ${fmt(m.seen.entries)} entries, ${fmt(m.seen.bytesPerEntry)} B each (documented bound ${S.SEEN_ENTRY_BYTES} B)`,
    )
  } else {
    console.log(argv.includes('--no-machine') ? 'machine: skipped (--no-machine)' : 'machine: this build of @bitp2p/session has no TxRequestMachine (skipped)')
  }

  if (!quick && !sessionPath && !argv.includes('--no-machine')) writeResults(RESULTS, run, stability, result)
  else finishRun(run)
}

if (argv.includes('--flooder')) await flooder()
else {
  await main()
  process.exit(0)
}
