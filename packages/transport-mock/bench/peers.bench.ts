/**
 * Throughput of the simulation: how fast the production driver and the
 * virtual peers run on the mock network, in wall time on one core.
 *
 *  1. handshakes: N virtual peers (default 10,000), one production Peer
 *     each, through the version handshake and the first ping round trip,
 *     then closed. Reports peers per wall second.
 *  2. pinging: 1,000 connected peers left open for VIRTUAL_MINUTES of
 *     virtual time, both sides pinging every 2 minutes (Core's interval).
 *     Reports virtual seconds simulated per wall second.
 *  3. visits: 1,000 full visits (handshake, ping, getheaders, getdata of a
 *     real block), for reference.
 *
 * Run: node bench/run.mjs [peers]   (bundles this file with esbuild from the
 * sources, with the node:crypto SHA-256 that Node builds use). One call of
 * `benchRound` runs all three once and returns the figures; run.mjs runs
 * rounds until they hold (bench/lib/harness.mjs) and writes the median
 * round to bench/peers-results.json when run with the default 10,000 peers.
 * Goal from the issue: 10,000 peers through handshake and ping in < 3 s.
 */
import type { Peer } from '@bitp2p/session'
import { Simulation } from '../src/peers/simulation.js'

/** Node's process, when there is one (the bench also runs under Deno and Bun). */
const proc = (globalThis as { process?: { argv: string[]; cpuUsage(): { user: number; system: number } } }).process

const HANDSHAKE_PEERS = Number(proc?.argv[2] ?? 10_000)
const PINGING_PEERS = 1_000
const VIRTUAL_MINUTES = 60
const VISIT_PEERS = 1_000
const GOAL_MS = 3_000

/** One handshake run: `peers` through handshake and first ping, with or without the labelled, hashed trace. */
export interface HandshakeResult {
  readonly trace: boolean
  readonly peers: number
  readonly wallMs: number
  readonly cpuMs: number | null
  readonly buildMs: number
  readonly peersPerSecond: number
  readonly events: number
  readonly goalMs: number
}

/** What one run of the bench measured (what run.mjs writes to peers-results.json). */
export interface PeersBenchResults {
  handshakes: HandshakeResult[]
  pinging?: { peers: number; virtualMinutes: number; wallMs: number; virtualSecondsPerWallSecond: number; pongs: number; events: number }
  visits?: { peers: number; ok: number; wallMs: number; visitsPerSecond: number }
}

/** Filled in as the runs of the current round complete. */
let results: PeersBenchResults = { handshakes: [] }

function ms(t: number): string {
  return `${t.toFixed(0)} ms`
}

/** CPU ms used by this process so far (user + system), or NaN off Node. */
function cpuMs(): number {
  const usage = proc?.cpuUsage()
  return usage === undefined ? Number.NaN : (usage.user + usage.system) / 1000
}

async function handshakes(n: number, trace: boolean): Promise<void> {
  const t0 = performance.now()
  const sim = new Simulation({ seed: 'bench-handshakes', peers: n, label: trace, trace: { record: false, hash: trace } })
  const tBuilt = performance.now()
  const c0 = cpuMs()
  const visits = sim.peers.map((_, i) => sim.visit(i, { upTo: 'ping' }))
  await sim.run()
  const outcomes = await Promise.all(visits)
  const t1 = performance.now()
  const cpu = cpuMs() - c0
  const ok = outcomes.filter((r) => r.ok).length
  if (ok !== n) throw new Error(`only ${ok} of ${n} handshakes completed`)
  const wall = t1 - tBuilt
  results.handshakes.push({
    trace,
    peers: n,
    wallMs: Math.round(wall),
    cpuMs: Number.isNaN(cpu) ? null : Math.round(cpu),
    buildMs: Math.round(tBuilt - t0),
    peersPerSecond: Math.round((n * 1000) / wall),
    events: sim.clock.eventsRun,
    goalMs: GOAL_MS,
  })
  console.log(
    `handshake+ping (${trace ? 'labelled, hashed trace' : 'no trace'}): ${n} peers in ${ms(wall)} wall, ${ms(cpu)} CPU (+ ${ms(tBuilt - t0)} to build), ` +
      `${Math.round((n * 1000) / wall)} peers/s, ${sim.clock.eventsRun} events; goal < ${GOAL_MS} ms: ${wall < GOAL_MS ? 'met' : 'NOT met'}`,
  )
}

async function pinging(n: number): Promise<void> {
  const sim = new Simulation({ seed: 'bench-pinging', peers: n })
  const drivers: Peer[] = []
  const opening = sim.peers.map((_, i) => sim.connect(i).then((p) => drivers.push(p)))
  await sim.run({ until: 1_000 })
  await Promise.all(opening)
  let pongs = 0
  for (const p of drivers) p.on('latency', () => pongs++)
  const v0 = sim.now()
  const events0 = sim.clock.eventsRun
  const t0 = performance.now()
  await sim.run({ until: v0 + VIRTUAL_MINUTES * 60_000 })
  const wall = performance.now() - t0
  const virtualS = (sim.now() - v0) / 1000
  for (const p of drivers) p.close('bench done')
  await sim.run()
  results.pinging = {
    peers: n,
    virtualMinutes: VIRTUAL_MINUTES,
    wallMs: Math.round(wall),
    virtualSecondsPerWallSecond: Math.round(virtualS / (wall / 1000)),
    pongs,
    events: sim.clock.eventsRun - events0,
  }
  console.log(
    `pinging: ${n} peers for ${VIRTUAL_MINUTES} virtual min in ${ms(wall)} wall: ` +
      `${Math.round(virtualS / (wall / 1000))} virtual s per wall s, ${pongs} pongs, ${sim.clock.eventsRun - events0} events`,
  )
}

async function visits(n: number): Promise<void> {
  const sim = new Simulation({ seed: 'bench-visits', peers: n })
  const t0 = performance.now()
  const all = sim.peers.map((_, i) => sim.visit(i))
  await sim.run()
  const outcomes = await Promise.all(all)
  const wall = performance.now() - t0
  const ok = outcomes.filter((r) => r.ok).length
  results.visits = { peers: n, ok, wallMs: Math.round(wall), visitsPerSecond: Math.round((n * 1000) / wall) }
  console.log(`full visits: ${ok}/${n} in ${ms(wall)} wall, ${Math.round((n * 1000) / wall)} visits/s`)
}

/** One round: the handshakes with and without the trace, the pinging peers and the visits, each once; their figures. */
export async function benchRound(): Promise<PeersBenchResults> {
  results = { handshakes: [] }
  await handshakes(HANDSHAKE_PEERS, true)
  await handshakes(HANDSHAKE_PEERS, false)
  await pinging(PINGING_PEERS)
  await visits(VISIT_PEERS)
  return results
}
