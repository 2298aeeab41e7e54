/**
 * The fuzz loop: runs the targets for a time budget and stops at the first
 * finding. Every input is built from its own generator, seeded from
 * (run seed, target name, iteration), so an input is reproduced from those
 * three values alone (`runOne`), whatever ran before it and however the
 * time was shared between targets.
 *
 * Time is shared by weight: the next slice (SLICE_MS) goes to the target
 * that has had the least time for its weight. The loop reports where it is
 * in a small shared array (`progress`), so a watchdog in another thread can
 * name the input it is stuck on.
 */
import { FuzzFinding, type FuzzTarget } from './targets.js'
import { FuzzRng, inputSeed } from './rng.js'
import type { AllocGuard } from './alloc-guard.js'

/** Time given to one target before the scheduler picks again. */
export const SLICE_MS = 25

/** Slots of the progress array (an Int32Array over a SharedArrayBuffer). */
export const PROGRESS_TARGET = 0
/** Low 31 bits of the iteration being run. */
export const PROGRESS_ITER_LO = 1
/** The iteration above 2^31. */
export const PROGRESS_ITER_HI = 2
/** Incremented after every input: a watchdog seeing it stand still knows the loop is stuck. */
export const PROGRESS_BEAT = 3
/** Length of the progress array. */
export const PROGRESS_SLOTS = 4

/** Per-target counts of a run. */
export interface TargetStats {
  readonly name: string
  /** Inputs run. */
  inputs: number
  /** Inputs the code accepted (the rest were refused with a WireError). */
  accepted: number
  /** Time spent in this target, in milliseconds. */
  ms: number
}

/** A finding, with what it takes to reproduce it. */
export interface FindingReport {
  readonly target: string
  readonly iteration: number
  readonly kind: string
  readonly message: string
  readonly inputHex: string
  readonly stack?: string
}

/** What a run returns. */
export interface RunResult {
  readonly stats: TargetStats[]
  readonly finding?: FindingReport
  /** Wall time of the run, in milliseconds. */
  readonly ms: number
}

/** How to run. */
export interface RunOptions {
  readonly seed: number
  readonly targets: readonly FuzzTarget[]
  /** Time budget, in milliseconds. */
  readonly budgetMs: number
  /** Stop each target after this many inputs (for reproduction); no cap when absent. */
  readonly maxIterations?: number
  /** The clock (performance.now in the runner). */
  readonly now: () => number
  /** Where the loop reports its position (see PROGRESS_*); optional. */
  readonly progress?: Int32Array
  /** The allocation guard, when installed (see alloc-guard.ts). */
  readonly guard?: AllocGuard
  /** Called about every 100 ms; returns a message when memory is out of bounds. */
  readonly checkMemory?: () => string | undefined
  /** Called about every second with the stats so far. */
  readonly onTick?: (stats: readonly TargetStats[], elapsedMs: number) => void
}

/** The input of `target` at `iteration` of run `seed`, and the generator to run it with. */
export function inputFor(target: FuzzTarget, seed: number, iteration: number): { input: Uint8Array; rng: FuzzRng } {
  const rng = new FuzzRng(inputSeed(seed, target.name, iteration))
  return { input: target.generate(rng), rng }
}

function report(target: FuzzTarget, iteration: number, input: Uint8Array, e: unknown): FindingReport {
  const kind = e instanceof FuzzFinding ? e.kind : 'exception'
  const message = e instanceof Error ? e.message : String(e)
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e instanceof Error ? e : undefined
  return { target: target.name, iteration, kind, message, inputHex: hex(input), ...(cause?.stack ? { stack: cause.stack } : {}) }
}

/**
 * Run one input of one target: the finding it gives, if any. With `guard`,
 * an oversized allocation is a finding even when the code under test
 * caught the guard's throw and carried on.
 */
export function runOne(target: FuzzTarget, seed: number, iteration: number, guard?: AllocGuard): { finding?: FindingReport; accepted: boolean; input: Uint8Array } {
  let input: Uint8Array = new Uint8Array(0)
  guard?.reset()
  try {
    const made = inputFor(target, seed, iteration)
    input = made.input
    const accepted = target.run(input, made.rng)
    if (guard?.tripped !== undefined) throw new FuzzFinding('memory', guard.tripped)
    return { accepted, input }
  } catch (e) {
    const err = guard?.tripped !== undefined && !(e instanceof FuzzFinding && e.kind === 'memory') ? new FuzzFinding('memory', guard.tripped, { cause: e }) : e
    return { finding: report(target, iteration, input, err), accepted: false, input }
  }
}

/** Run the targets until the budget is spent, the iteration caps are reached, or a finding. */
export function runFuzz(opts: RunOptions): RunResult {
  const { seed, targets, budgetMs, now, progress } = opts
  const stats: TargetStats[] = targets.map((t) => ({ name: t.name, inputs: 0, accepted: 0, ms: 0 }))
  const start = now()
  let lastTick = start
  let lastMemory = start
  const cap = opts.maxIterations ?? Number.POSITIVE_INFINITY
  for (;;) {
    const t0 = now()
    if (t0 - start >= budgetMs) break
    // The target with the least time for its weight, among those not at their cap.
    let pick = -1
    for (let i = 0; i < targets.length; i++) {
      if (stats[i]!.inputs >= cap) continue
      if (pick < 0 || stats[i]!.ms / targets[i]!.weight < stats[pick]!.ms / targets[pick]!.weight) pick = i
    }
    if (pick < 0) break
    const target = targets[pick]!
    const st = stats[pick]!
    if (progress) Atomics.store(progress, PROGRESS_TARGET, pick)
    let t = t0
    do {
      const iteration = st.inputs
      if (progress) {
        Atomics.store(progress, PROGRESS_ITER_LO, iteration % 0x80000000)
        Atomics.store(progress, PROGRESS_ITER_HI, Math.floor(iteration / 0x80000000))
      }
      const r = runOne(target, seed, iteration, opts.guard)
      st.inputs++
      if (r.accepted) st.accepted++
      if (progress) Atomics.add(progress, PROGRESS_BEAT, 1)
      if (r.finding) {
        st.ms += now() - t0
        return { stats, finding: r.finding, ms: now() - start }
      }
      t = now()
    } while (t - t0 < SLICE_MS && st.inputs < cap)
    st.ms += t - t0
    if (opts.checkMemory && t - lastMemory >= 100) {
      lastMemory = t
      const problem = opts.checkMemory()
      if (problem !== undefined) {
        // The culprit is among this slice's inputs (or it is a leak): report the last one.
        const last = st.inputs - 1
        const { input } = inputFor(target, seed, last)
        return { stats, finding: { target: target.name, iteration: last, kind: 'memory', message: problem, inputHex: hex(input) }, ms: now() - start }
      }
    }
    if (opts.onTick && t - lastTick >= 1000) {
      lastTick = t
      opts.onTick(stats, t - start)
    }
  }
  return { stats, ms: now() - start }
}

const HEX = '0123456789abcdef'
function hex(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!
  return s
}
