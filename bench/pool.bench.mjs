// Per-peer cost of the session driver and address-book rates. Uses the
// built packages (run `npm run build` first):
//
//   node --expose-gc bench/pool.bench.mjs          # 1,000 peers, 100k addresses, 3 to 8 rounds; writes bench/pool-results.json
//   node --expose-gc bench/pool.bench.mjs --quick  # 200 peers, 20k addresses, 2 to 3 rounds, writes nothing
//
// 1. Peers: 1,000 remote nodes (real session Peers accepted on their own
//    MockNetwork listener) and 1,000 client Peers dialing them, in virtual
//    time. Memory per connection is the growth of the V8 heap (after GC)
//    from before the first dial to after the last handshake, divided by the
//    number of connections: it counts BOTH ends (client Peer and remote
//    Peer, their machines, decoders and mock transports). CPU is process
//    CPU time (user + system) over 10 virtual minutes of idle connections,
//    where the only traffic is each side's ping every 2 minutes (Core's
//    PING_INTERVAL), per virtual minute and per connection.
// 2. Address books: 100,000 distinct routable IPv4 addresses added in addr
//    messages of 1,000 from 500 sources, then 10,000 marked good (tried
//    table), then 100,000 select() calls; AddressBook (Core's bucketed
//    addrman) against FifoAddressBook (a bounded ring, uniform pick).
// Each round runs both parts afresh; rounds repeat until the figures agree
// within 10 % over the last rounds (bench/lib/harness.mjs untilStable), or
// the bench says it could not: heap per connection, CPU per connection (in
// the machine's node:crypto sha256d calls, measured at the start, so the
// figure travels between machines) and FifoAddressBook's rates over
// AddressBook's. The figures recorded are the medians over every round.
import { regtest } from '@bitp2p/wire'
import { Peer, SeededRandom } from '@bitp2p/session'
import { AddressBook, FifoAddressBook } from '@bitp2p/session/core'
import { MockNetwork } from '@bitp2p/transport-mock'
import { finishRun, median, startRun, untilStable, writeResults } from './lib/harness.mjs'

const quick = process.argv.includes('--quick')
const PEERS = quick ? 200 : 1_000
const ADDRESSES = quick ? 20_000 : 100_000
const SELECTS = quick ? 20_000 : 100_000
const GOOD = ADDRESSES / 10
const ADDR_BATCH = 1_000
const SOURCES = 500
const IDLE_MINUTES = 10
const MINUTE = 60_000
/** Unix seconds of the address-book run. */
const NOW = 1_763_000_000
/** Rounds: at least, at most; and the wall-time cap on them, ms. */
const ROUNDS = quick ? [2, 3] : [3, 8]
const ROUNDS_MAX_MS = quick ? 60_000 : 300_000
const RESULTS = new URL('./pool-results.json', import.meta.url)

const gc = globalThis.gc
if (!gc) console.log('(run with --expose-gc for heap figures after collection)')
const heap = () => {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const cpuMs = (u) => (u.user + u.system) / 1000

// --- 1. peers on the mock network ----------------------------------------------

async function peers() {
  const net = new MockNetwork({ seed: 'pool-bench', defaultLink: { latency: 20 }, trace: { record: false, hash: false } })
  const clock = net.clock
  const random = new SeededRandom('pool-bench')
  const remotes = []
  const addresses = []
  for (let i = 0; i < PEERS; i++) {
    const listener = net.listen({ host: `10.${(i >> 8) & 255}.${i & 255}.1`, port: 18444 })
    addresses.push(listener.address)
    listener.onConnection((t) => {
      Peer.accept(t, { network: regtest, clock, random: random.fork(`r${i}`), startHeight: 0 }).then((p) => remotes.push(p), () => undefined)
    })
  }
  const connector = net.connector('10.255.255.254')
  const before = heap()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const pending = addresses.map((a, i) => Peer.connect(a, { network: regtest, clock, random: random.fork(`c${i}`), connector }))
  await clock.runAsync({ until: clock.now() + 2_000 })
  const clients = await Promise.all(pending)
  const connectWall = performance.now() - t0
  const connectCpu = cpuMs(process.cpuUsage(cpu0))
  const after = heap()
  if (clients.some((c) => c.state !== 'ready') || remotes.length !== PEERS) throw new Error('not every peer is ready')

  const cpu1 = process.cpuUsage()
  const t1 = performance.now()
  await clock.runAsync({ until: clock.now() + IDLE_MINUTES * MINUTE })
  const idleCpu = cpuMs(process.cpuUsage(cpu1))
  const idleWall = performance.now() - t1
  const alive = clients.filter((c) => c.state === 'ready').length
  const pinged = clients.filter((c) => c.rtt.samples > 0).length
  const afterIdle = heap()
  for (const c of clients) c.close()
  await clock.runAsync({ until: clock.now() + 1_000 })
  return { before, after, afterIdle, connectWall, connectCpu, idleCpu, idleWall, alive, pinged }
}

// --- 2. address books ----------------------------------------------------------

function addressInputs() {
  const rng = new SeededRandom('addr-bench')
  const seen = new Set()
  const out = []
  while (out.length < ADDRESSES) {
    // Routable IPv4 only: first octet 1-99 but not 10 (private), so no reserved range is hit.
    const a = 1 + rng.int(99)
    const host = `${a}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`
    if (a === 10 || seen.has(host)) continue
    seen.add(host)
    out.push({ host, port: 8333, services: 0x409n, time: NOW - rng.int(86_400) })
  }
  const sources = Array.from({ length: SOURCES }, (_, i) => ({ host: `${101 + (i % 100)}.${(i * 7) % 256}.3.4`, port: 8333 }))
  return { out, sources }
}

function book(name, make) {
  const { out, sources } = addressInputs()
  const b = make()
  const h0 = heap()
  let t = performance.now()
  let added = 0
  for (let i = 0; i < out.length; i += ADDR_BATCH) added += b.add(out.slice(i, i + ADDR_BATCH), sources[(i / ADDR_BATCH) % SOURCES], NOW)
  const addMs = performance.now() - t
  const bytes = heap() - h0
  if (typeof b.good === 'function') for (let i = 0; i < GOAL_GOOD(); i++) b.good(out[i * 7 % out.length], NOW)
  t = performance.now()
  let found = 0
  for (let i = 0; i < SELECTS; i++) if (b.select({ now: NOW })) found++
  const selectMs = performance.now() - t
  return { name, added, size: b.size, addRate: out.length / (addMs / 1000), selectRate: SELECTS / (selectMs / 1000), found, bytesPerEntry: bytes / b.size }
}
const GOAL_GOOD = () => GOOD

// --- run -----------------------------------------------------------------------

const run = startRun('pool.bench')
console.log(`${fmt(PEERS)} connections, ${fmt(ADDRESSES)} addresses, ${fmt(SELECTS)} selects`)
/** CPU milliseconds as node:crypto sha256d calls of this machine (64-byte inputs, at the start of the run). */
const inCalls = (ms) => (ms / 1000) * run.referenceStart.nodeSha256d

/** One round: both parts afresh. */
async function oneRound(i) {
  const p = await peers()
  const perConn = (p.after - p.before) / PEERS
  console.log(`round ${i + 1}:`)
  console.log(`  connect ${fmt(PEERS)} peer pairs (handshakes in virtual time): ${fmt(p.connectWall)} ms wall, ${fmt(p.connectCpu)} ms CPU (${fmt(p.connectCpu / PEERS * 1000)} µs per connection)`)
  console.log(`  heap per connection (both ends): ${fmt(perConn / 1024, 1)} KiB (${fmt((p.after - p.before) / 1024 / 1024, 1)} MiB for ${fmt(PEERS)}); after ${IDLE_MINUTES} idle virtual minutes: ${fmt((p.afterIdle - p.before) / PEERS / 1024, 1)} KiB`)
  console.log(`  idle with pings: ${fmt(p.idleCpu / IDLE_MINUTES, 1)} ms CPU per virtual minute for ${fmt(PEERS)} connections = ${fmt(p.idleCpu / IDLE_MINUTES / PEERS * 1000, 1)} µs per connection-minute (${fmt(p.idleWall)} ms wall for ${IDLE_MINUTES} min); ${p.alive}/${PEERS} still ready, ${p.pinged} with an RTT sample`)
  const books = [
    book('AddressBook', () => new AddressBook({ random: new SeededRandom('ab') })),
    book('FifoAddressBook', () => new FifoAddressBook({ random: new SeededRandom('fifo'), capacity: ADDRESSES })),
  ]
  for (const r of books) {
    console.log(
      `  ${r.name.padEnd(16)} add ${fmt(r.addRate)}/s (${fmt(r.added)} new, ${fmt(r.size)} kept, ~${fmt(r.bytesPerEntry)} B heap each), select ${fmt(r.selectRate)}/s (${fmt(r.found)} found)`,
    )
  }
  return { p, perConn, books }
}

const all = []
const stability = await untilStable(
  async (i) => {
    const r = await oneRound(i)
    all.push(r)
    const [ab, fifo] = r.books
    return {
      heapPerConnectionKiB: r.perConn / 1024,
      connectCpuPerConnectionInSha256dCalls: inCalls(r.p.connectCpu / PEERS),
      idleCpuPerConnectionMinuteInSha256dCalls: inCalls(r.p.idleCpu / IDLE_MINUTES / PEERS),
      fifoOverAddressBookAdds: fifo.addRate / ab.addRate,
      fifoOverAddressBookSelects: fifo.selectRate / ab.selectRate,
    }
  },
  { minRounds: ROUNDS[0], maxRounds: ROUNDS[1], maxMs: ROUNDS_MAX_MS, label: 'pool' },
)
// Every figure recorded is its median over the rounds.
const med = (f) => median(all.map(f))
const p = Object.fromEntries(Object.keys(all[0].p).map((k) => [k, med((r) => r.p[k])]))
const perConn = med((r) => r.perConn)
const books = all[0].books.map((b, j) => ({
  name: b.name,
  size: b.size,
  addRate: med((r) => r.books[j].addRate),
  selectRate: med((r) => r.books[j].selectRate),
  bytesPerEntry: med((r) => r.books[j].bytesPerEntry),
}))
// Heap figures mean something only after a collection, so nothing is written without --expose-gc.
if (quick || !gc) finishRun(run)
else {
  const r1 = (x) => Math.round(x * 10) / 10
  const results = {
    rounds: all.length,
    connections: {
      count: PEERS,
      heapPerConnectionKiB: r1(perConn / 1024),
      heapPerConnectionAfterIdleKiB: r1((p.afterIdle - p.before) / PEERS / 1024),
      connectCpuUsPerConnection: Math.round((p.connectCpu / PEERS) * 1000),
      idleMinutes: IDLE_MINUTES,
      idleCpuMsPerMinute: r1(p.idleCpu / IDLE_MINUTES),
      idleCpuUsPerConnectionMinute: r1((p.idleCpu / IDLE_MINUTES / PEERS) * 1000),
      stillReady: p.alive,
      withRtt: p.pinged,
    },
    addressBooks: books.map((r) => ({
      name: r.name,
      addresses: ADDRESSES,
      kept: r.size,
      addsPerSecond: Math.round(r.addRate),
      selectsPerSecond: Math.round(r.selectRate),
      heapBytesPerEntry: Math.round(r.bytesPerEntry),
    })),
  }
  writeResults(RESULTS, run, stability, results)
}
