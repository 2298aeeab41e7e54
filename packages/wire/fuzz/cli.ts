/// <reference types="node" />
/**
 * `npm run fuzz`: the command line of the fuzzer (Node only; see README.md).
 *
 *   npm run fuzz -- [--seed N] [--seconds S] [--target NAME[,NAME...]]
 *                   [--iteration I] [--runs N] [--hang-seconds S]
 *                   [--max-rss-mb M] [--no-alloc-guard] [--list] [--data DIR]
 *
 * The loop runs in a worker thread; this thread is the watchdog. It reads
 * the worker's position (target, iteration) from shared memory, so when the
 * worker hangs (no input finished for --hang-seconds) or dies of memory,
 * the input is rebuilt here from (seed, target, iteration) and printed like
 * any other finding. Exit code: 0 no finding, 1 a finding, 2 bad usage.
 */
import { randomInt } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { type AllocGuard, installAllocGuard } from './alloc-guard.js'
import {
  type FindingReport,
  inputFor,
  PROGRESS_BEAT,
  PROGRESS_ITER_HI,
  PROGRESS_ITER_LO,
  PROGRESS_SLOTS,
  PROGRESS_TARGET,
  runFuzz,
  runOne,
  type RunResult,
  type TargetStats,
} from './run.js'
import { buildTargets, type FuzzTarget } from './targets.js'

/** What the launcher knows that the bundle cannot: where the real blocks are. */
export interface CliDefaults {
  /** Directory of the real blocks (shared/data/blocks); missing means synthetic seeds only. */
  readonly dataDir: string
}

interface Args {
  seed: number
  seconds: number
  targets: string[]
  iteration: number | undefined
  runs: number | undefined
  hangSeconds: number
  maxRssMb: number
  allocGuard: boolean
  list: boolean
  dataDir: string
}

/** What the worker is given. */
interface WorkerInput {
  readonly bitp2pFuzz: true
  readonly args: Args
  readonly progress: SharedArrayBuffer
}

type WorkerMessage = { type: 'tick'; stats: TargetStats[]; elapsedMs: number } | { type: 'done'; result: RunResult } | { type: 'one'; findings: FindingReport[]; accepted: number }

const USAGE = `usage: npm run fuzz -- [--seed N] [--seconds S] [--target NAME[,NAME...]] [--iteration I]
                    [--runs N] [--hang-seconds S] [--max-rss-mb M] [--no-alloc-guard] [--list] [--data DIR]
  --seed N          run seed, 0..4294967295 (default: random, printed)
  --seconds S       time budget (default 60)
  --target NAMES    only these targets; 'codec:' (a trailing ':') selects every codec (default: all)
  --iteration I     run only input I of each selected target (reproduce a finding)
  --runs N          at most N inputs per target
  --hang-seconds S  an input still running after S seconds is a hang (default 30)
  --max-rss-mb M    resident memory above M MiB is a finding (default 1536)
  --no-alloc-guard  do not wrap the typed-array and Array constructors (faster, blind to big allocations)
  --list            list the targets and exit
  --data DIR        real blocks to seed from (default: shared/data/blocks)`

class UsageError extends Error {}

function parseArgs(argv: readonly string[], defaults: CliDefaults): Args {
  const a: Args = {
    seed: randomInt(0x100000000),
    seconds: 60,
    targets: [],
    iteration: undefined,
    runs: undefined,
    hangSeconds: 30,
    maxRssMb: 1536,
    allocGuard: true,
    list: false,
    dataDir: defaults.dataDir,
  }
  const int = (v: string | undefined, name: string, max: number): number => {
    const n = Number(v)
    if (v === undefined || !/^\d+$/.test(v) || !Number.isSafeInteger(n) || n > max) throw new UsageError(`${name} needs an integer 0..${max}, got ${v ?? 'nothing'}`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!
    const v = argv[i + 1]
    switch (k) {
      case '--seed':
        a.seed = int(v, k, 0xffffffff)
        i++
        break
      case '--seconds':
        a.seconds = int(v, k, 7 * 24 * 3600)
        i++
        break
      case '--target':
        if (v === undefined) throw new UsageError('--target needs a name')
        a.targets.push(...v.split(',').filter((s) => s !== ''))
        i++
        break
      case '--iteration':
        a.iteration = int(v, k, Number.MAX_SAFE_INTEGER)
        i++
        break
      case '--runs':
        a.runs = int(v, k, Number.MAX_SAFE_INTEGER)
        i++
        break
      case '--hang-seconds':
        a.hangSeconds = Math.max(1, int(v, k, 3600))
        i++
        break
      case '--max-rss-mb':
        a.maxRssMb = int(v, k, 1 << 20)
        i++
        break
      case '--data':
        if (v === undefined) throw new UsageError('--data needs a directory')
        a.dataDir = v
        i++
        break
      case '--no-alloc-guard':
        a.allocGuard = false
        break
      case '--list':
        a.list = true
        break
      case '--help':
      case '-h':
        throw new UsageError('')
      default:
        throw new UsageError(`unknown option ${k}`)
    }
  }
  return a
}

/** The real blocks of `dir` (files *.raw, by name), or none when it does not exist. */
function loadBlocks(dir: string): Uint8Array[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith('.raw'))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(dir, f))))
}

/** The targets `names` select (all when empty); UsageError for a name that matches none. */
function selectTargets(all: readonly FuzzTarget[], names: readonly string[]): FuzzTarget[] {
  if (names.length === 0) return [...all]
  const out: FuzzTarget[] = []
  for (const n of names) {
    const hits = all.filter((t) => (n.endsWith(':') ? t.name.startsWith(n) : t.name === n))
    if (hits.length === 0) throw new UsageError(`no target '${n}'; --list shows them`)
    for (const h of hits) if (!out.includes(h)) out.push(h)
  }
  return out
}

// ---------------------------------------------------------------------------
// Worker side

function workerMain(input: WorkerInput): void {
  const { args } = input
  const progress = new Int32Array(input.progress)
  const targets = selectTargets(buildTargets({ blocks: loadBlocks(args.dataDir) }), args.targets)
  let guard: AllocGuard | undefined
  if (args.allocGuard) guard = installAllocGuard()
  if (args.iteration !== undefined) {
    const findings: FindingReport[] = []
    let accepted = 0
    for (const t of targets) {
      const r = runOne(t, args.seed, args.iteration, guard)
      if (r.finding) findings.push(r.finding)
      if (r.accepted) accepted++
    }
    post({ type: 'one', findings, accepted })
    return
  }
  const maxRss = args.maxRssMb * 1024 * 1024
  const result = runFuzz({
    seed: args.seed,
    targets,
    budgetMs: args.seconds * 1000,
    ...(args.runs !== undefined ? { maxIterations: args.runs } : {}),
    now: () => performance.now(),
    progress,
    ...(guard ? { guard } : {}),
    checkMemory: () => {
      const rss = process.memoryUsage.rss()
      return rss > maxRss ? `resident memory ${Math.round(rss / 1048576)} MiB above --max-rss-mb ${args.maxRssMb}` : undefined
    },
    onTick: (stats, elapsedMs) => post({ type: 'tick', stats: stats.map((s) => ({ ...s })), elapsedMs }),
  })
  post({ type: 'done', result })
}

function post(m: WorkerMessage): void {
  parentPort!.postMessage(m)
}

if (!isMainThread && (workerData as Partial<WorkerInput> | undefined)?.bitp2pFuzz === true) workerMain(workerData as WorkerInput)

// ---------------------------------------------------------------------------
// Main side

/** Run the fuzzer as `argv` asks; resolves to the exit code. */
export async function main(argv: readonly string[], defaults: CliDefaults): Promise<number> {
  let args: Args
  try {
    args = parseArgs(argv, defaults)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    if (e.message) console.error(`fuzz: ${e.message}`)
    console.error(USAGE)
    return 2
  }
  const blocks = loadBlocks(args.dataDir)
  let targets: FuzzTarget[]
  try {
    targets = selectTargets(buildTargets({ blocks }), args.targets)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    console.error(`fuzz: ${e.message}`)
    return 2
  }
  if (args.list) {
    for (const t of targets) console.log(`${t.name}  (weight ${t.weight})`)
    return 0
  }
  console.log(
    `fuzz: seed ${args.seed}, ${args.iteration !== undefined ? `iteration ${args.iteration}` : `${args.seconds} s`}, ${targets.length} targets, ` +
      `${blocks.length} real blocks from ${args.dataDir}${blocks.length === 0 ? ' (none found: synthetic seeds only)' : ''}` +
      `${args.allocGuard ? '' : ', allocation guard off'}`,
  )

  const progress = new SharedArrayBuffer(PROGRESS_SLOTS * 4)
  const view = new Int32Array(progress)
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { bitp2pFuzz: true, args, progress } satisfies WorkerInput,
    // Headroom for the largest blocks; a runaway JS heap dies here, not the machine.
    resourceLimits: { maxOldGenerationSizeMb: Math.max(512, args.maxRssMb) },
  })

  /** The finding for an input the worker never finished: rebuilt from where it stood. */
  const lost = (kind: string, message: string): FindingReport => {
    const t = targets[Atomics.load(view, PROGRESS_TARGET)]!
    const iteration = Atomics.load(view, PROGRESS_ITER_LO) + Atomics.load(view, PROGRESS_ITER_HI) * 0x80000000
    const { input } = inputFor(t, args.seed, iteration)
    return { target: t.name, iteration, kind, message, inputHex: Buffer.from(input).toString('hex') }
  }

  const outcome = await new Promise<{ result?: RunResult; one?: { findings: FindingReport[]; accepted: number }; lostFinding?: FindingReport }>((resolve) => {
    let settled = false
    const finish = (v: Parameters<typeof resolve>[0]): void => {
      if (settled) return
      settled = true
      clearInterval(watchdog)
      resolve(v)
    }
    let lastBeat = -1
    let lastChange = performance.now()
    let lastPrint = performance.now()
    const watchdog = setInterval(() => {
      const beat = Atomics.load(view, PROGRESS_BEAT)
      const now = performance.now()
      if (beat !== lastBeat) {
        lastBeat = beat
        lastChange = now
      } else if (now - lastChange > args.hangSeconds * 1000) {
        const f = lost('hang', `no input finished for ${args.hangSeconds} s`)
        void worker.terminate()
        finish({ lostFinding: f })
      }
    }, 500)
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'tick') {
        if (performance.now() - lastPrint >= 10_000) {
          lastPrint = performance.now()
          const n = m.stats.reduce((s, t) => s + t.inputs, 0)
          console.log(`fuzz: ${(m.elapsedMs / 1000).toFixed(0)} s, ${n} inputs (${Math.round(n / (m.elapsedMs / 1000))}/s)`)
        }
      } else if (m.type === 'done') finish({ result: m.result })
      else finish({ one: { findings: m.findings, accepted: m.accepted } })
    })
    worker.on('error', (e: Error & { code?: string }) => {
      const kind = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'exception'
      finish({ lostFinding: lost(kind, `worker died: ${e.code ?? ''} ${e.message}`) })
    })
    worker.on('exit', (code) => {
      if (!settled) finish({ lostFinding: lost('exception', `worker exited with code ${code}`) })
    })
  })
  await worker.terminate()

  if (outcome.one) {
    const { findings, accepted } = outcome.one
    console.log(`fuzz: iteration ${args.iteration}: ${targets.length} inputs run, ${accepted} accepted, ${findings.length} findings`)
    for (const f of findings) printFinding(f, args)
    return findings.length > 0 ? 1 : 0
  }
  const finding = outcome.result?.finding ?? outcome.lostFinding
  if (outcome.result) printStats(outcome.result)
  if (finding) {
    printFinding(finding, args)
    return 1
  }
  console.log(`fuzz: no findings (seed ${args.seed})`)
  return 0
}

function printStats(r: RunResult): void {
  const rows = r.stats.filter((s) => s.inputs > 0)
  const width = Math.max(...rows.map((s) => s.name.length), 6)
  const total = rows.reduce((n, s) => n + s.inputs, 0)
  console.log(`\n${'target'.padEnd(width)}  ${'inputs'.padStart(10)}  ${'inputs/s'.padStart(9)}  ${'accepted'.padStart(8)}  ${'time'.padStart(7)}`)
  for (const s of rows) {
    const rate = s.ms > 0 ? Math.round(s.inputs / (s.ms / 1000)) : 0
    const acc = ((100 * s.accepted) / s.inputs).toFixed(1) + '%'
    console.log(`${s.name.padEnd(width)}  ${String(s.inputs).padStart(10)}  ${String(rate).padStart(9)}  ${acc.padStart(8)}  ${(s.ms / 1000).toFixed(1).padStart(6)}s`)
  }
  console.log(`${'total'.padEnd(width)}  ${String(total).padStart(10)}  ${String(Math.round(total / (r.ms / 1000))).padStart(9)}  ${''.padStart(8)}  ${(r.ms / 1000).toFixed(1).padStart(6)}s\n`)
}

/** Longest input hex printed in full; longer ones are cut (the whole is in the file named). */
const MAX_PRINTED_HEX = 200_000

function printFinding(f: FindingReport, args: Args): void {
  const file = join(tmpdir(), `bitp2p-fuzz-${f.target.replace(/[^\w-]/g, '_')}-${args.seed}-${f.iteration}.hex`)
  writeFileSync(file, f.inputHex + '\n')
  console.log(`FINDING (${f.kind}) in target ${f.target}`)
  console.log(`  seed ${args.seed}, target ${f.target}, iteration ${f.iteration}`)
  console.log(`  ${f.message}`)
  console.log(`  input (${f.inputHex.length / 2} bytes, also in ${file}):`)
  console.log(`  ${f.inputHex.length > MAX_PRINTED_HEX ? `${f.inputHex.slice(0, MAX_PRINTED_HEX)}... (cut)` : f.inputHex}`)
  if (f.stack) console.log(`  ${f.stack.split('\n').slice(0, 8).join('\n  ')}`)
  const guard = args.allocGuard ? '' : ' --no-alloc-guard'
  console.log(`  reproduce: npm run fuzz -- --seed ${args.seed} --target ${f.target} --iteration ${f.iteration}${guard}`)
}
