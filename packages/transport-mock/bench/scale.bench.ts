/**
 * The simulation at scale (issue 17's goal: 100,000 virtual peers through
 * handshake and first ping at <= 10 µs of CPU per event and under 2 GiB of
 * heap, the same trace hash for the same seed; how far 1,000,000 get).
 *
 * One run: a Simulation of `peers` virtual peers with the labelled, hashed
 * trace; the driver visits every one (`Simulation.visitAll`, `upTo: 'ping'`:
 * handshake, its first ping round trip, close), all at once, or with
 * `concurrency` at most that many at a time (the next starts as one ends),
 * which bounds the connections held at once and so the heap. Measured:
 *
 * - CPU µs per event: process CPU (user + system) over the run, building
 *   the simulation excluded, divided by the events the virtual clock ran;
 * - peak heap: the largest `heapUsed` sampled every HEAP_SAMPLE_MS during
 *   build and run (garbage included, so an upper bound of the live heap),
 *   and the live heap after a full GC at the end (with --expose-gc);
 * - peak RSS of the process (resourceUsage().maxRSS);
 * - the trace hash, to compare runs of the same seed.
 *
 * With `capSeconds`, the run stops after that many wall seconds, or when
 * the used heap passes HEAP_STOP_FRACTION of V8's heap limit (set it with
 * --max-old-space-size), and says how far it got. It then runs the clock
 * in slices of SLICE_EVENTS events, so its trace compares only with runs of
 * the same slicing (a slice's end lets promise continuations run inside a
 * virtual instant).
 *
 * Node only (process, node:os). Run through bench/scale.mjs.
 */
import { loadavg } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import { Simulation } from '../src/peers/simulation.js'

/** How often the heap is sampled, wall ms. */
export const HEAP_SAMPLE_MS = 200
/** Events per slice of a capped run (the cap is checked between slices). */
export const SLICE_EVENTS = 50_000
/** A capped run stops when the used heap passes this fraction of V8's heap limit (before V8 aborts the process). */
export const HEAP_STOP_FRACTION = 0.85
/** Progress lines of a capped run, one every this many slices. */
const PROGRESS_SLICES = 40
const MIB = 1024 * 1024
/** The seed of every scale run. */
const SEED = 'bench-scale'

/** `gc()` when node runs with --expose-gc. */
const gc = (globalThis as { gc?: () => void }).gc

/** What one scale run measured. */
export interface ScaleResult {
  readonly date: string
  readonly node: string
  readonly peers: number
  /** False when the wall-time cap or the heap guard stopped the run. */
  readonly completed: boolean
  /** What stopped an incomplete run. */
  readonly stoppedBy: 'time' | 'heap' | null
  /** The cap, wall seconds (null: none). */
  readonly capSeconds: number | null
  /** Visits in flight at most (null: all at once). */
  readonly concurrency: number | null
  /** Connections the virtual peers accepted. */
  readonly connections: number
  /** Handshakes the virtual peers completed. */
  readonly handshakes: number
  /** Visits (handshake, first ping, close) that ended well. */
  readonly visitsOk: number
  readonly events: number
  readonly buildMs: number
  readonly wallMs: number
  readonly cpuMs: number
  readonly cpuUsPerEvent: number
  /** Largest sampled heapUsed, MiB (garbage included). */
  readonly peakHeapMiB: number
  /** heapUsed after a full GC at the end, MiB (null without --expose-gc). */
  readonly liveHeapAfterMiB: number | null
  /** Peak RSS of the process, MiB. */
  readonly peakRssMiB: number
  readonly traceHash: string
  readonly loadStart: number[]
  readonly loadEnd: number[]
}

const loads = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100)
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** One scale run of `peers` virtual peers; prints a line and returns the figures. */
export async function scaleRun(peers: number, opts: { readonly capSeconds?: number; readonly concurrency?: number } = {}): Promise<ScaleResult> {
  gc?.()
  const loadStart = loads()
  let peakHeap = 0
  const sample = (): void => {
    const h = process.memoryUsage().heapUsed
    if (h > peakHeap) peakHeap = h
  }
  const sampler = setInterval(sample, HEAP_SAMPLE_MS)
  const t0 = performance.now()
  const sim = new Simulation({ seed: SEED, peers, label: true, trace: { record: false, hash: true } })
  const tBuilt = performance.now()
  sample()
  const c0 = cpuMs()
  let visitsOk = 0
  const visits = sim.visitAll({
    upTo: 'ping',
    concurrency: opts.concurrency,
    onResult: (r) => {
      if (r.ok) visitsOk++
    },
  })
  let stoppedBy: 'time' | 'heap' | null = null
  const heapStop = getHeapStatistics().heap_size_limit * HEAP_STOP_FRACTION
  if (opts.capSeconds === undefined) {
    await sim.run()
    await visits
  } else {
    for (let slice = 1; ; slice++) {
      const ran = await sim.run({ maxEvents: SLICE_EVENTS })
      if (ran === 0) break
      const wallS = (performance.now() - tBuilt) / 1000
      if (wallS > opts.capSeconds) stoppedBy = 'time'
      else if (process.memoryUsage().heapUsed > heapStop) stoppedBy = 'heap'
      if (stoppedBy !== null) break
      if (slice % PROGRESS_SLICES === 0) {
        console.log(`  ${Math.round(wallS)} s: ${sim.clock.eventsRun} events, ${visitsOk} visits done, heap ${Math.round(process.memoryUsage().heapUsed / MIB)} MiB`)
      }
    }
  }
  const t1 = performance.now()
  const cpu = cpuMs() - c0
  clearInterval(sampler)
  sample()
  let handshakes = 0
  let connections = 0
  for (const p of sim.peers) {
    handshakes += p.stats.handshakes
    connections += p.stats.connections
  }
  const events = sim.clock.eventsRun
  const traceHash = sim.traceHash()
  let liveHeapAfter: number | null = null
  if (gc !== undefined) {
    gc()
    liveHeapAfter = process.memoryUsage().heapUsed
  }
  const completed = stoppedBy === null
  const r: ScaleResult = {
    date: new Date().toISOString(),
    node: process.version,
    peers,
    completed,
    stoppedBy,
    capSeconds: opts.capSeconds ?? null,
    concurrency: opts.concurrency ?? null,
    connections,
    handshakes,
    visitsOk,
    events,
    buildMs: Math.round(tBuilt - t0),
    wallMs: Math.round(t1 - tBuilt),
    cpuMs: Math.round(cpu),
    cpuUsPerEvent: Math.round((cpu * 100_000) / events) / 100,
    peakHeapMiB: Math.round(peakHeap / MIB),
    liveHeapAfterMiB: liveHeapAfter === null ? null : Math.round(liveHeapAfter / MIB),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    traceHash,
    loadStart,
    loadEnd: loads(),
  }
  console.log(
    `${peers} peers${opts.concurrency === undefined ? '' : ` (${opts.concurrency} at a time)`}: ${completed ? 'completed' : stoppedBy === 'time' ? `stopped at the ${opts.capSeconds} s cap` : `stopped at ${HEAP_STOP_FRACTION * 100}% of the heap limit`}; ${connections} connections accepted, ${handshakes} handshakes, ${visitsOk} visits ok, ${events} events; ` +
      `build ${r.buildMs} ms, run ${r.wallMs} ms wall, ${r.cpuMs} ms CPU = ${r.cpuUsPerEvent} µs/event; ` +
      `peak heap ${r.peakHeapMiB} MiB, live after ${r.liveHeapAfterMiB ?? '?'} MiB, peak RSS ${r.peakRssMiB} MiB; ` +
      `load ${loadStart[0]} -> ${r.loadEnd[0]}; trace ${traceHash}`,
  )
  return r
}
