// The simulation at scale (issue 17): N virtual peers through handshake and
// first ping with the labelled, hashed trace, measured for CPU per event and
// memory (see scale.bench.ts for what is measured and how).
//
//   node --expose-gc bench/scale.mjs 10000 50000 100000     # record: writes bench/scale-results.json
//   node --expose-gc bench/scale.mjs 1000000 --cap=900      # stop after 900 wall seconds, say how far it got
//   node --expose-gc --max-old-space-size=2048 bench/scale.mjs 100000   # prove it fits a 2 GiB heap
//   node --expose-gc bench/scale.mjs 1000000 --concurrency=10000 --cap=1500   # at most 10,000 visits in flight
//
// Each size runs in a child process of its own (same node flags), so each
// peak RSS is its own. Each size's figures (with their own date and load)
// go to scale-results.json's `runs`, replacing an earlier run of that size,
// heap limit (--max-old-space-size) and concurrency;
// the file's date, Node version and load averages are those of the latest
// session. Its `before` (runs of the code before a change, same shape, with
// the commit they ran) is kept as it is, for the README's comparison.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { bundleBench } from './bundle.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const RESULTS = join(here, 'scale-results.json')
const args = process.argv.slice(2)
const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number)
const cap = args.find((a) => a.startsWith('--cap='))
const concurrencyArg = args.find((a) => a.startsWith('--concurrency='))
const concurrency = concurrencyArg === undefined ? undefined : Number(concurrencyArg.slice('--concurrency='.length))
const round2 = (xs) => xs.map((x) => Math.round(x * 100) / 100)
/** The --max-old-space-size a run had (MiB), or undefined: a run with a heap limit does not replace one without. */
const heapLimit = (r) => (r.nodeFlags ?? []).find((f) => f.startsWith('--max-old-space-size='))?.split('=')[1]

if (args.includes('--one')) {
  // The child: bundle, run one size, hand the figures back through a file.
  const dir = mkdtempSync(join(tmpdir(), 'bitp2p-scale-'))
  try {
    const out = join(dir, 'scale.bench.mjs')
    await bundleBench(join(here, 'scale.bench.ts'), out)
    const { scaleRun } = await import(pathToFileURL(out).href)
    const r = await scaleRun(sizes[0], { capSeconds: cap === undefined ? undefined : Number(cap.slice('--cap='.length)), concurrency })
    if (process.env.BITP2P_SCALE_OUT !== undefined) writeFileSync(process.env.BITP2P_SCALE_OUT, JSON.stringify(r))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
} else {
  const loadStart = round2(loadavg())
  console.log(`Node ${process.version}; load average ${loadStart.join(' ')}`)
  const tmp = mkdtempSync(join(tmpdir(), 'bitp2p-scale-'))
  const runs = []
  try {
    for (const n of sizes.length > 0 ? sizes : [10_000]) {
      const file = join(tmp, `${n}.json`)
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', String(n), ...(cap ? [cap] : []), ...(concurrencyArg ? [concurrencyArg] : [])], {
        stdio: 'inherit',
        env: { ...process.env, BITP2P_SCALE_OUT: file },
      })
      if (existsSync(file)) runs.push({ ...JSON.parse(readFileSync(file, 'utf8')), nodeFlags: process.execArgv })
      else {
        console.log(`${n} peers: the run died (exit ${child.status}, signal ${child.signal})`)
        runs.push({ peers: n, died: true, exit: child.status, signal: child.signal, nodeFlags: process.execArgv })
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  const loadEnd = round2(loadavg())
  console.log(`load average at the end: ${loadEnd.join(' ')}`)
  // Earlier runs of other sizes stay, and so does `before` (the runs of the code before a change, for comparison).
  const earlier = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : { runs: [] }
  const sameRun = (a, b) => a.peers === b.peers && heapLimit(a) === heapLimit(b) && (a.concurrency ?? null) === (b.concurrency ?? null)
  const kept = earlier.runs.filter((r) => !runs.some((x) => sameRun(x, r)))
  const all = [...kept, ...runs].sort((a, b) => a.peers - b.peers)
  const before = earlier.before === undefined ? {} : { before: earlier.before }
  writeFileSync(RESULTS, JSON.stringify({ date: new Date().toISOString(), node: process.version, loadStart, loadEnd, runs: all, ...before }, null, 2) + '\n')
  console.log(`wrote ${RESULTS}`)
}
