// What every benchmark shares so its figures can be judged (issue 17,
// "Figures that hold"): the machine's load average before and after, the
// machine's reference rates (a node:crypto sha256d floor and a fixed
// hashing loop), rounds repeated until the figures agree, and a results
// writer that records all of that beside the bench's own figures.
//
// A bench uses it like this:
//
//   const run = startRun('pool')                     // prints Node, load, reference rates
//   const stable = await untilStable(async (i) => {  // one round: its ratios
//     const r = await oneRound()
//     return { fifoOverAddressBookAdds: r.fifo / r.ab }
//   }, { minRounds: 3, maxRounds: 10, maxMs: 120_000 })
//   writeResults(RESULTS, run, stable, { ...the bench's own fields })  // adds date, node, load, reference, stability
//
// Nothing here asserts a speed: benches print and record, tests never time.
import { hash as nodeHash, createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'

/** The spread (max - min over the median) under which a bench's ratios count as stable: 10 %. */
export const STABLE_SPREAD = 0.1

/** Size of the inputs the reference loops hash: one SHA-256 block's worth of message (64 bytes). */
export const REFERENCE_INPUT_BYTES = 64

/** Calls in one pass of each reference loop; the rate is the best of REFERENCE_PASSES passes. */
export const REFERENCE_CALLS = 50_000

/** Passes of each reference loop (the best one counts: the floor is what the machine can do). */
export const REFERENCE_PASSES = 3

const r2 = (x) => Math.round(x * 100) / 100

/** The machine's 1-, 5- and 15-minute load averages, rounded to two decimals. */
export function loadAverage() {
  return loadavg().map(r2)
}

/** Load averages as "1.23 0.98 0.80". */
export function formatLoad(load) {
  return load.map((l) => l.toFixed(2)).join(' ')
}

/**
 * node:crypto's fastest sha256d call: the one-shot hash (Node >= 20.12) where
 * there is one, else createHash; both digests as Buffers. The reference rate
 * and the benches' node:crypto floors use it.
 */
export const nodeSha256d =
  typeof nodeHash === 'function'
    ? (bytes) => nodeHash('sha256', nodeHash('sha256', bytes, 'buffer'), 'buffer')
    : (bytes) => createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest()

/** Calls per second of `fn` over REFERENCE_CALLS distinct 64-byte inputs, best of REFERENCE_PASSES passes. */
function rateOf(fn, inputs) {
  let sink = 0
  // One untimed pass over a tenth of the inputs first, so the timed passes run compiled code.
  for (let i = 0; i < inputs.length / 10; i++) sink ^= fn(inputs[i])[0]
  let best = Infinity
  for (let p = 0; p < REFERENCE_PASSES; p++) {
    const t0 = performance.now()
    for (let i = 0; i < inputs.length; i++) sink ^= fn(inputs[i])[0]
    best = Math.min(best, performance.now() - t0)
  }
  if (sink === -1) console.log('') // keeps the results live; never true for a byte
  return Math.round((inputs.length * 1000) / best)
}

/**
 * The machine's reference rates right now, in calls per second on 64-byte
 * inputs (best of REFERENCE_PASSES passes of REFERENCE_CALLS calls each):
 * `nodeSha256d`, node:crypto's sha256d (the floor any node:crypto hashing
 * pays per call), and `nobleSha256`, a fixed pure-JS hashing loop
 * (@noble/hashes sha256). They say how fast the machine was during a run:
 * two runs' absolute figures compare only as well as their reference rates
 * do. Takes about 0.1-0.5 s.
 */
export function referenceRates() {
  const inputs = Array.from({ length: REFERENCE_CALLS }, (_, i) => {
    const b = new Uint8Array(REFERENCE_INPUT_BYTES)
    new DataView(b.buffer).setUint32(0, i, true)
    return b
  })
  return { nodeSha256d: rateOf(nodeSha256d, inputs), nobleSha256: rateOf(nobleSha256, inputs) }
}

/** Reference rates as "node:crypto sha256d 412,000/s, noble sha256 301,000/s (64-byte inputs)". */
export function formatReference(ref) {
  const n = (x) => x.toLocaleString('en-US')
  return `node:crypto sha256d ${n(ref.nodeSha256d)}/s, noble sha256 ${n(ref.nobleSha256)}/s (${REFERENCE_INPUT_BYTES}-byte inputs)`
}

/**
 * The start of a bench run: prints the Node version, the load average and
 * the reference rates, and returns them (`{ name, node, date, loadStart,
 * referenceStart }`) for `finishRun` / `writeResults`.
 */
export function startRun(name) {
  const run = { name, node: process.version, date: new Date().toISOString(), loadStart: loadAverage(), referenceStart: referenceRates() }
  console.log(`${name}: Node ${run.node}; load average ${formatLoad(run.loadStart)}; reference rates: ${formatReference(run.referenceStart)}`)
  return run
}

/**
 * The end of a bench run started with `startRun`: measures the load average
 * and the reference rates again, prints them, and returns the run with
 * `loadEnd` and `referenceEnd` (once; later calls return the same).
 */
export function finishRun(run) {
  if (run.loadEnd === undefined) {
    run.referenceEnd = referenceRates()
    run.loadEnd = loadAverage()
    console.log(`${run.name}: load average at the end ${formatLoad(run.loadEnd)}; reference rates: ${formatReference(run.referenceEnd)}`)
  }
  return run
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** (max - min) / median of `xs`: 0 for one value, Infinity when the median is 0 and the values differ. */
export function spread(xs) {
  const m = median(xs)
  const d = Math.max(...xs) - Math.min(...xs)
  return d === 0 ? 0 : Math.abs(d / m)
}

/**
 * Runs rounds until the figures they return hold: `round(i)` (may be async)
 * runs round i and returns its ratios, `{ name: number }` (a ratio measured
 * within the round, e.g. bitp2p's time over a baseline's on the same input;
 * a bench with no such counterpart may return its figure itself, e.g. KiB
 * per connection). After each round from `minRounds` on, the last `window`
 * rounds are judged: stable when every ratio's spread (max - min over the
 * median) is under `tolerance`. It stops when stable, or at `maxRounds`
 * rounds or once `maxMs` of wall time has passed, and then says it could not.
 *
 * Options: `minRounds` (3), `maxRounds` (10), `maxMs` (300,000), `window`
 * (= minRounds), `tolerance` (STABLE_SPREAD), `label` (for the printed lines).
 *
 * Returns `{ stable, rounds, window, tolerance, ratios, spread, perRound,
 * reason }`: `ratios` are the medians over the judged window, `spread` each
 * ratio's spread over it, `perRound` every round's ratios, `reason` why it
 * stopped. Prints one line when it stops.
 */
export async function untilStable(round, options = {}) {
  const minRounds = options.minRounds ?? 3
  const maxRounds = Math.max(minRounds, options.maxRounds ?? 10)
  const maxMs = options.maxMs ?? 300_000
  const window = Math.min(options.window ?? minRounds, minRounds)
  const tolerance = options.tolerance ?? STABLE_SPREAD
  const label = options.label ?? 'rounds'
  const t0 = performance.now()
  const perRound = []
  let judged
  let reason
  for (let i = 0; ; i++) {
    const ratios = await round(i)
    const bad = Object.entries(ratios).filter(([, v]) => typeof v !== 'number' || !Number.isFinite(v))
    if (bad.length > 0) throw new Error(`${label}: round ${i + 1} returned non-finite ratios ${JSON.stringify(Object.fromEntries(bad))}`)
    perRound.push(ratios)
    if (perRound.length < minRounds) continue
    judged = judge(perRound.slice(-window))
    const worst = Object.entries(judged.spread).sort((a, b) => b[1] - a[1])[0]
    if (worst === undefined || worst[1] < tolerance) {
      reason = `every ratio's spread under ${pct(tolerance)} over the last ${window} rounds`
      break
    }
    const elapsed = performance.now() - t0
    if (perRound.length >= maxRounds || elapsed >= maxMs) {
      const cap = perRound.length >= maxRounds ? `the cap of ${maxRounds} rounds` : `the cap of ${Math.round(maxMs / 1000)} s`
      reason = `not stable at ${cap}: ${worst[0]} spread ${pct(worst[1])} over the last ${window} rounds (tolerance ${pct(tolerance)})`
      break
    }
  }
  const stable = reason.startsWith('every')
  const shown = Object.entries(judged.ratios)
    .map(([k, v]) => `${k} ${fmtRatio(v)} (spread ${pct(judged.spread[k])})`)
    .join(', ')
  console.log(`${label}: ${stable ? 'stable' : 'COULD NOT STABILISE'} after ${perRound.length} rounds: ${shown}${stable ? '' : `; ${reason}`}`)
  return { stable, rounds: perRound.length, window, tolerance, ratios: judged.ratios, spread: judged.spread, perRound, reason }
}

/** Medians and spreads of each ratio over `rounds`. */
function judge(rounds) {
  const names = Object.keys(rounds[rounds.length - 1])
  const ratios = {}
  const spreads = {}
  for (const k of names) {
    const xs = rounds.map((r) => r[k]).filter((x) => x !== undefined)
    ratios[k] = roundRatio(median(xs))
    spreads[k] = Math.round(spread(xs) * 1000) / 1000
  }
  return { ratios, spread: spreads }
}

/** Four significant digits: enough for a ratio, short in a table. */
function roundRatio(x) {
  if (x === 0) return 0
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(x))))
  return Math.round(x * 10 ** digits) / 10 ** digits
}
const fmtRatio = (x) => String(roundRatio(x))
const pct = (x) => `${Math.round(x * 1000) / 10} %`

/**
 * The results object a bench records: `fields` (the bench's own figures,
 * in the shape its readers expect) with the run's facts in front: `date`
 * (ISO), `node`, `loadStart` / `loadEnd` (1-, 5-, 15-minute load averages),
 * `reference` (`{ start, end }` reference rates) and `stability` (what
 * `untilStable` returned; a bench with several stabilised parts passes them
 * as `{ part: result }`, one with none passes undefined and gets null). Finishes the run (`finishRun`) if
 * that was not done.
 */
export function resultsOf(run, stability, fields) {
  finishRun(run)
  const strip = (s) => ({ stable: s.stable, rounds: s.rounds, window: s.window, tolerance: s.tolerance, ratios: s.ratios, spread: s.spread, reason: s.reason, perRound: s.perRound })
  const isOne = stability !== undefined && typeof stability.stable === 'boolean'
  return {
    date: run.date,
    node: run.node,
    loadStart: run.loadStart,
    loadEnd: run.loadEnd,
    reference: { start: run.referenceStart, end: run.referenceEnd },
    stability: stability === undefined ? null : isOne ? strip(stability) : Object.fromEntries(Object.entries(stability).map(([k, s]) => [k, strip(s)])),
    ...fields,
  }
}

/** Writes `resultsOf(run, stability, fields)` as JSON to `url` (a file URL or path) and prints where. */
export function writeResults(url, run, stability, fields) {
  const results = resultsOf(run, stability, fields)
  writeFileSync(url, `${JSON.stringify(results, null, 2)}\n`)
  console.log(`wrote ${url instanceof URL ? fileURLToPath(url) : url}`)
  return results
}

/** CPU milliseconds (user + system) this process has used so far. */
export function ownCpuMs() {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/**
 * CPU milliseconds (user + system) another process has used, from
 * /proc/<pid>/stat (Linux; 10 ms ticks); undefined where there is no /proc
 * or the process is gone.
 */
export function processCpuMs(pid) {
  try {
    // Fields after the ')' that ends the command name: utime is the 12th, stime the 13th (clock ticks, 100/s on Linux).
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) * 10
  } catch {
    return undefined
  }
}
