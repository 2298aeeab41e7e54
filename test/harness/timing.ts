/**
 * Test deadlines: one scale factor, and budgets from the work a test does.
 *
 * A wall-clock deadline in a test is a safety net against a hang, never an
 * assertion about speed: no test asserts how fast anything ran. Every such
 * deadline (vitest's testTimeout and hookTimeout in each package's config,
 * a per-test `{ timeout }`, a kill timer on a child process, a poller such
 * as `until` or `waitUntil`, bcoin's ready wait, an SDK request's
 * `timeoutMs` against a real node) is written as one of
 *
 *   scaled(ms)                          a budget for fixed work
 *   forWork(count, perUnitMs, fixedMs)  fixedMs + count x perUnitMs: work that grows with a count
 *
 * A budget is about ten times what the work takes on the reference
 * machine (2 cores, idle): at load 20 on 2 cores a CPU-bound process gets
 * a tenth of a core, and still finishes inside its budget without help.
 * `forWork` derives a budget from the work (a per-unit budget times the
 * count), so a test that does twice the work does not share a constant
 * guessed for half of it. The result is multiplied by TIME_SCALE:
 *
 * - BITP2P_TIME_SCALE, when set to a positive number, is used as is.
 * - Otherwise it is measured once per vitest run (`npm test` runs one per
 *   package): the first process that loads this module, the package's
 *   vitest config before any worker starts, times a fixed CPU-bound
 *   workload, divides the median of a few samples by what the workload
 *   takes on the idle reference machine, and rounds the ratio up to a
 *   tenth within [1, MAX_MEASURED_SCALE]. It then sets BITP2P_TIME_SCALE,
 *   so vitest's workers, their child processes and the browser project use
 *   the same factor instead of measuring again, and prints it on one line
 *   ("[timing] ...").
 *
 * So a machine that is slower, or already busy when the run starts, gets
 * proportionally longer deadlines; a faster one keeps the budgets; load
 * that arrives during the run is absorbed by the budgets' own headroom.
 * The measurement changes only how long a hung test takes to fail, never
 * what any test asserts.
 *
 * Virtual-time tests (transport-mock, session simulations) depend on none
 * of this: their outcome depends only on their seed. Their one wall-clock
 * limit is vitest's hang net, from this module like every other.
 *
 * Runtime-neutral: runs under Node (vitest and its configs), in Chromium
 * (vitest's browser mode, where the config hands over the factor as
 * `import.meta.env.BITP2P_TIME_SCALE`), and under Deno and Bun (the
 * runtime smoke children, which inherit the variable).
 */

/** Name of the environment variable that sets (or, once measured, carries) TIME_SCALE. */
export const TIME_SCALE_ENV = 'BITP2P_TIME_SCALE'

/** The largest factor the measurement may give: beyond it a sample is more likely noise than load. */
export const MAX_MEASURED_SCALE = 10

/** Iterations of the calibration loop in one sample (about 20 ms on the reference machine). */
const CALIBRATION_ITERATIONS = 12_000_000

/** Timed samples of the calibration loop; their median is used. */
const CALIBRATION_SAMPLES = 5

/** One sample's time on the reference machine (2 cores, idle; Node 20): 19.8 to 20.1 ms over repeated runs. */
const REFERENCE_SAMPLE_MS = 20

/** A fixed, allocation-free CPU workload (xorshift32); returns its state so it cannot be optimised away. */
function calibrationLoop(): number {
  let x = 0x9e3779b9
  for (let i = 0; i < CALIBRATION_ITERATIONS; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
  }
  return x
}

/** Median wall time of CALIBRATION_SAMPLES runs of the workload, after one untimed warm-up run. */
export function measureCalibrationMs(): number {
  let sink = calibrationLoop()
  const times: number[] = []
  for (let i = 0; i < CALIBRATION_SAMPLES; i++) {
    const t0 = performance.now()
    sink ^= calibrationLoop()
    times.push(performance.now() - t0)
  }
  if (sink === 0.5) times.push(0) // never true (sink is an integer); keeps the loops observable
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

/** A positive number parsed from `raw`, or undefined. */
function positive(raw: unknown): number | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return undefined
  const n = Number(raw)
  return Number.isFinite(n) && n > 0 ? n : undefined
}

interface Env {
  [name: string]: string | undefined
}

/** process.env where there is one (Node, Bun, Deno with --allow-env); undefined in a browser or without permission. */
function processEnv(): Env | undefined {
  try {
    return (globalThis as { process?: { env?: Env } }).process?.env
  } catch {
    return undefined // Deno without --allow-env throws on access
  }
}

/** The factor handed to the browser by vitest's `env` option (there is no process there). */
function browserEnvScale(): number | undefined {
  try {
    return positive((import.meta as { env?: Env }).env?.BITP2P_TIME_SCALE)
  } catch {
    return undefined
  }
}

function resolveScale(): number {
  const env = processEnv()
  const set = positive(env?.[TIME_SCALE_ENV]) ?? browserEnvScale()
  if (set !== undefined) return set
  const ms = measureCalibrationMs()
  const scale = Math.min(MAX_MEASURED_SCALE, Math.max(1, Math.ceil((ms / REFERENCE_SAMPLE_MS) * 10) / 10))
  if (env !== undefined) {
    try {
      env[TIME_SCALE_ENV] = String(scale)
    } catch {
      // a read-only environment: each process measures for itself
    }
  }
  console.log(`[timing] TIME_SCALE ${scale}: calibration sample ${ms.toFixed(1)} ms, ${REFERENCE_SAMPLE_MS} ms on the idle reference machine (set ${TIME_SCALE_ENV} to override)`)
  return scale
}

/** The factor every wall-clock test deadline is multiplied by (see the module comment). */
export const TIME_SCALE: number = resolveScale()

/** A wall-clock deadline for fixed work with a budget of `ms` on the reference machine, times TIME_SCALE. */
export function scaled(ms: number): number {
  return Math.ceil(ms * TIME_SCALE)
}

/**
 * A wall-clock deadline for work that grows with `count`: `fixedMs` (start-up,
 * a handshake) plus `perUnitMs` for each of `count` units (a child process,
 * a thousand headers, a virtual peer), times TIME_SCALE.
 */
export function forWork(count: number, perUnitMs: number, fixedMs = 0): number {
  return scaled(fixedMs + count * perUnitMs)
}

/**
 * vitest's testTimeout and hookTimeout, for every package's config: the
 * hang net of a test or hook that names no budget of its own. Unit tests
 * and virtual-time simulations take milliseconds to a second or two; a
 * test or hook that does more (a child process, a bcoin node, a big
 * simulation) names its budget, derived from its work.
 */
export const vitestTimeouts: { readonly testTimeout: number; readonly hookTimeout: number } = {
  testTimeout: scaled(20_000),
  hookTimeout: scaled(30_000),
}
