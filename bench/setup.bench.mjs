// How long a new user waits: the first build, and the whole suite. The
// README's "Set up" section states both from bench/setup-results.json
// (scripts/perf-table.mjs renders it).
//
//   node bench/setup.bench.mjs                 # deletes every package's dist/ and turbo's caches, times `npm run build`
//   node bench/setup.bench.mjs --ci-log FILE   # records the suite's time from the output of .ci/run (e.g. `.ci/run > FILE`)
//
// The build is timed from a state with nothing built and nothing cached, as
// after `npm ci` on a fresh clone. The suite is not run here (it is CI's
// job, and takes minutes): its figures are read from a .ci/run log, turbo's
// `Time:` line for `npm test` and the pass/fail counts .ci/run prints, dated
// by the log file's modification time. Each part keeps the other's last
// figures in the results file. The build is one round by design (each
// round deletes every build and cache and takes a minute or more), so its
// spread is not judged: the bench says so, and records the load and the
// machine's reference rates before and after (bench/lib/harness.mjs).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { resultsOf, startRun } from './lib/harness.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RESULTS = new URL('./setup-results.json', import.meta.url)

/** The machine, as the README names it: core count and CPU model. */
function machine() {
  const c = cpus()
  return { cores: c.length, cpu: c[0]?.model.trim() ?? 'unknown' }
}

/** Turbo's "Time: 6m54.463s" (or "41.2s", "120ms") in seconds. */
export function turboSeconds(text) {
  const m = /^\s*Time:\s+(?:(\d+)m)?([\d.]+)(ms|s)\s*$/m.exec(text)
  if (!m) return undefined
  const rest = Number(m[2]) / (m[3] === 'ms' ? 1000 : 1)
  return Math.round((Number(m[1] ?? 0) * 60 + rest) * 10) / 10
}

/** The suite's figures from a .ci/run log: npm test's time, .ci/run's total, and the test counts. */
export function suiteFromCiLog(text) {
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '')
  const seconds = turboSeconds(plain)
  const ci = /^CI finished in (\d+) s \(exit (\d+)\)$/m.exec(plain)
  const counts = /^(\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(plain)
  if (seconds === undefined || !ci || !counts) throw new Error("not a complete .ci/run log: no turbo 'Time:' line, 'CI finished in' line or test counts")
  return {
    npmTestSeconds: seconds,
    ciSeconds: Number(ci[1]),
    exitCode: Number(ci[2]),
    passed: Number(counts[1]),
    failed: Number(counts[2]),
    skipped: Number(counts[3]),
  }
}

function previous() {
  try {
    return JSON.parse(readFileSync(RESULTS, 'utf8'))
  } catch {
    return {}
  }
}

function timeBuild() {
  // Nothing built, nothing cached: every package's dist/ and turbo's caches and logs.
  for (const p of readdirSync(join(ROOT, 'packages'))) {
    rmSync(join(ROOT, 'packages', p, 'dist'), { recursive: true, force: true })
    rmSync(join(ROOT, 'packages', p, '.turbo'), { recursive: true, force: true })
  }
  rmSync(join(ROOT, '.turbo'), { recursive: true, force: true })
  rmSync(join(ROOT, 'node_modules/.cache/turbo'), { recursive: true, force: true })
  const run = startRun('setup.bench')
  console.log(`${machine().cores} cores; npm run build from nothing built (one round: its spread is not judged)...`)
  const t0 = performance.now()
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } })
  const seconds = Math.round((performance.now() - t0) / 100) / 10
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status})`)
  console.log(`first build: ${seconds} s`)
  return resultsOf(run, undefined, { ...machine(), seconds })
}

function recordSuite(file) {
  if (!existsSync(file)) throw new Error(`${file}: no such file`)
  const suite = suiteFromCiLog(readFileSync(file, 'utf8'))
  const result = { date: statSync(file).mtime.toISOString(), ...machine(), ...suite }
  console.log(`suite from ${file}: npm test ${suite.npmTestSeconds} s (.ci/run ${suite.ciSeconds} s, exit ${suite.exitCode}), ${suite.passed} passed, ${suite.failed} failed, ${suite.skipped} skipped`)
  return result
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--ci-log')
  const results = previous()
  if (at >= 0) results.suite = recordSuite(process.argv[at + 1] ?? '')
  else results.firstBuild = timeBuild()
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n')
  console.log(`wrote ${fileURLToPath(RESULTS)}`)
}
