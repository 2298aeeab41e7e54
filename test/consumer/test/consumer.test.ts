/**
 * The consumer job: the packages as a user gets them from the registry.
 *
 * Every published package is packed (`npm pack`, what `npm publish`
 * uploads), and the tarballs are installed into a fresh app in a temporary
 * folder (`npm ci --offline`: from the npm cache the root `npm ci` filled;
 * see lib/app.ts). Nothing of this repository is visible to the app but the
 * tarballs and its own files (test/consumer/app/). Then:
 *
 *  - tarballs: LICENSE, README.md, package.json and dist/ in each, no test
 *    or tooling file, every file "exports" names present; a size table;
 *  - publint and @arethetypeswrong/cli on each tarball;
 *  - the install: one copy of each package, a valid tree (`npm ls`);
 *  - TypeScript, strictest flags and skipLibCheck false, with NodeNext and
 *    with bundler resolution, over an app that imports every entry point of
 *    every package; the browser entries without any Node types;
 *  - the app on Node, Deno and Bun against a bcoin regtest node on
 *    127.0.0.1: every entry point loads, handshake, header sync;
 *  - browser bundles with esbuild and with Vite: nothing left outside the
 *    bundle (no node: import), no Node global, the gzip budgets of
 *    test/harness/bundle-check.ts (one helper alone under 2 KB);
 *  - workerd: the marked place at the end.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { build as esbuild, type Metafile } from 'esbuild'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../harness/bcoin.js'
import { importedSpecifiers, LIGHT_CLIENT_GZIP_BUDGET, nodeGlobalReferences, ONE_HELPER_GZIP_BUDGET, V2_LIGHT_CLIENT_GZIP_BUDGET } from '../../harness/bundle-check.js'
import { needs } from '../../harness/needs.js'
import { startWorkerd } from '../../harness/workerd.js'
import { scaled } from '../../harness/timing.js'
import {
  binsOf,
  BROWSER_IMPORTS,
  contentProblems,
  createApp,
  entrySpecifiers,
  NODE_ONLY_ENTRIES,
  packAll,
  publishedPackageJsons,
  rootBin,
  run,
  tarballTable,
  type EntryPoints,
  type Packed,
  type Run,
} from '../lib/app.js'

/** npm pack of every package (about 3 s on an idle machine), scaled. */
const PACK_TIMEOUT_MS = scaled(60_000)
/** npm ci --offline of the app (about 3 s), scaled. */
const INSTALL_TIMEOUT_MS = scaled(60_000)
/** One tsc run over the app, libraries checked (about 5 s), scaled. */
const TSC_TIMEOUT_MS = scaled(90_000)
/** One attw run on one tarball (about 3 s), scaled. */
const ATTW_TIMEOUT_MS = scaled(60_000)
/** One runtime's smoke run, start-up included (about 1 s), scaled: its kill timer. */
const SMOKE_TIMEOUT_MS = scaled(30_000)
/** A request deadline inside the smoke app (connect, handshake, one getheaders). */
const SMOKE_REQUEST_TIMEOUT_MS = scaled(10_000)
/** Bundling the worker and starting workerd (about 1 s on an idle machine), scaled. */
const WORKERD_TIMEOUT_MS = scaled(40_000)
/** One Vite build of one entry (about 2 s), scaled. */
const VITE_TIMEOUT_MS = scaled(60_000)
/** Deno without its update check (no traffic beyond the registry): packages come from the app's node_modules. */
const DENO_ENV = { DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' }
/** Blocks bcoin mines at start: the headers each runtime syncs. */
const BLOCKS = 30

/** attw's analysis profile: the packages are ESM only (see docs/consumer-job.md). */
const ATTW_PROFILE = 'esm-only'
/** The resolutions that profile leaves out: CommonJS require (ESM only) and TypeScript's legacy node10 resolution (no "exports"). */
const ATTW_IGNORED_RESOLUTIONS = new Set(['node10', 'node16-cjs'])

const kb = (n: number): string => `${(n / 1024).toFixed(2)} KiB`

let work: string
let appDir: string
let packs: Packed[]
let install: Run
let eps: EntryPoints

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'bitp2p-consumer-'))
  appDir = join(work, 'app')
  packs = await packAll(join(work, 'tarballs'), PACK_TIMEOUT_MS)
  ;({ install, entryPoints: eps } = await createApp(appDir, packs, INSTALL_TIMEOUT_MS))
}, PACK_TIMEOUT_MS + INSTALL_TIMEOUT_MS)

afterAll(() => {
  // BITP2P_CONSUMER_KEEP=1 keeps the app and tarballs to look at (the path is printed).
  if (work === undefined) return
  if (process.env.BITP2P_CONSUMER_KEEP === '1') console.log(`[consumer] kept ${work}`)
  else rmSync(work, { recursive: true, force: true })
})

describe('the tarballs', () => {
  it('one per published package', () => {
    expect(packs.map((p) => p.name).sort()).toEqual(publishedPackageJsons().map((j) => j.name).sort())
    expect(packs.length).toBeGreaterThanOrEqual(8)
  })

  it('each is a devDependency of this job (so turbo builds it before the job runs)', () => {
    const own = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string> }
    for (const p of packs) expect(own.devDependencies[p.name], p.name).toBe(p.version)
  })

  it('each holds LICENSE, README.md, package.json, dist/ and every file its exports name, and no test or tooling file', () => {
    console.log(`[consumer] tarballs\n${tarballTable(packs)}`)
    for (const p of packs) expect(contentProblems(p), p.name).toEqual([])
  })

  it('the content check finds what it is for (a test file, a missing LICENSE, an export with no file)', () => {
    const p = packs.find((q) => q.name === '@bitp2p/wire')!
    const broken: Packed = {
      ...p,
      files: [...p.files.filter((f) => f !== 'LICENSE' && f !== 'dist/index.js'), 'test/x.test.ts', 'dist/a.spec.js'],
    }
    expect(contentProblems(broken)).toEqual(
      expect.arrayContaining(['no LICENSE', 'ships test/x.test.ts', 'ships dist/a.spec.js', './dist/index.js is named in package.json but not in the tarball']),
    )
  })

  it('publint finds nothing on any tarball (errors, warnings or suggestions)', async () => {
    for (const p of packs) {
      const buf = readFileSync(p.path)
      const r = await publint({ pack: { tarball: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer }, level: 'suggestion', strict: true })
      const lines = r.messages.map((m) => `${m.type} ${m.code}: ${formatMessage(m, r.pkg, { color: false }) ?? ''}`)
      console.log(`[consumer] publint ${p.filename}: ${lines.length === 0 ? 'clean' : lines.join('; ')}`)
      expect(lines, p.name).toEqual([])
    }
  })

  it('publint does report a broken package (types after default, a missing file)', async () => {
    const pkg = { name: 'broken', version: '1.0.0', type: 'module', exports: { '.': { default: './dist/index.js', types: './dist/index.d.ts' }, './x': './dist/x.js' } }
    const r = await publint({
      pkgDir: 'package',
      pack: { files: [{ name: 'package/package.json', data: JSON.stringify(pkg) }, { name: 'package/dist/index.js', data: 'export {}' }, { name: 'package/dist/index.d.ts', data: 'export {}' }] },
      strict: true,
    })
    expect(r.messages.map((m) => m.code)).toEqual(expect.arrayContaining(['EXPORTS_TYPES_SHOULD_BE_FIRST', 'FILE_DOES_NOT_EXIST']))
  })

  it(`attw (--profile ${ATTW_PROFILE}) finds no problem with any entry point of any tarball`, { timeout: ATTW_TIMEOUT_MS * 10 }, async () => {
    // Two at a time (two cores). --no-definitely-typed: no registry look-up for @types.
    const results: { p: Packed; r: Run }[] = []
    // attw checks the types of code entry points; a command-only package (the CLI) has none.
    const libraries = packs.filter((p) => entrySpecifiers(p.json).length > 0)
    for (const p of packs) if (!libraries.includes(p)) console.log(`[consumer] attw ${p.filename}: skipped, no code entry point (bin: ${Object.keys(binsOf(p.json)).join(', ')})`)
    expect(libraries.length).toBeGreaterThanOrEqual(8)
    const queue = [...libraries]
    const worker = async (): Promise<void> => {
      for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
        const r = await run(rootBin('attw'), [p.path, '--profile', ATTW_PROFILE, '--format', 'json', '--no-definitely-typed'], { cwd: work, timeoutMs: ATTW_TIMEOUT_MS })
        results.push({ p, r })
      }
    }
    await Promise.all([worker(), worker()])
    for (const { p, r } of results) {
      const out = JSON.parse(r.stdout) as { analysis: { entrypoints: Record<string, unknown>; problems: { kind: string; entrypoint?: string; resolutionKind?: string }[] } }
      // Every entry point of "exports" was analysed.
      expect(Object.keys(out.analysis.entrypoints).sort(), p.name).toEqual(Object.keys(p.json.exports ?? {}).sort())
      const counted = out.analysis.problems.filter((x) => x.resolutionKind === undefined || !ATTW_IGNORED_RESOLUTIONS.has(x.resolutionKind))
      const ignored = out.analysis.problems.filter((x) => x.resolutionKind !== undefined && ATTW_IGNORED_RESOLUTIONS.has(x.resolutionKind))
      const summary = [...new Set(ignored.map((x) => `${x.kind}@${x.resolutionKind}`))].join(', ')
      console.log(`[consumer] attw ${p.filename}: ${counted.length} problems${summary ? ` (outside the profile: ${summary})` : ''} (${r.ms} ms)`)
      expect(counted, p.name).toEqual([])
      expect(r.code, r.stderr).toBe(0)
    }
  })

  it(`attw (--profile ${ATTW_PROFILE}) does report a broken package (an entry point without types)`, { timeout: PACK_TIMEOUT_MS + ATTW_TIMEOUT_MS }, async () => {
    const dir = join(work, 'broken')
    mkdirSync(join(dir, 'dist'), { recursive: true })
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'broken', version: '1.0.0', type: 'module', exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './x': './dist/x.js' } }))
    for (const f of ['index.js', 'index.d.ts', 'x.js']) writeFileSync(join(dir, 'dist', f), 'export const a = 1\n')
    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: dir, timeoutMs: PACK_TIMEOUT_MS })
    expect(packed.code, packed.stderr).toBe(0)
    const tgz = join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename)
    const r = await run(rootBin('attw'), [tgz, '--profile', ATTW_PROFILE, '--format', 'json', '--no-definitely-typed'], { cwd: work, timeoutMs: ATTW_TIMEOUT_MS })
    const problems = (JSON.parse(r.stdout) as { analysis: { problems: { kind: string; entrypoint?: string; resolutionKind?: string }[] } }).analysis.problems
    expect(problems.filter((x) => x.resolutionKind !== undefined && !ATTW_IGNORED_RESOLUTIONS.has(x.resolutionKind))).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'UntypedResolution', entrypoint: './x', resolutionKind: 'bundler' })]),
    )
    expect(r.code).not.toBe(0)
  })
})

describe('the fresh app', () => {
  it('installs from the tarballs with npm ci --offline (no network)', () => {
    expect(install.code, install.stdout + install.stderr).toBe(0)
  })

  it('has one copy of each package and a valid tree (npm ls: peers satisfied, nothing missing or invalid)', async () => {
    const r = await run('npm', ['ls', '--all'], { cwd: appDir, timeoutMs: INSTALL_TIMEOUT_MS })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    // ws's optional peers (bufferutil, utf-8-validate) are left out, as npm leaves them for every user.
    const problems = r.stdout.split('\n').filter((l) => /UNMET|invalid|extraneous|missing/i.test(l) && !/UNMET OPTIONAL DEPENDENCY (bufferutil|utf-8-validate)@/.test(l))
    expect(problems, r.stdout).toEqual([])
    // Every package.json under node_modules named like one of ours: one of each, at the top.
    const found: string[] = []
    const scan = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue
        const sub = join(dir, e.name)
        if (e.name.startsWith('@')) {
          scan(sub)
          continue
        }
        try {
          const name = (JSON.parse(readFileSync(join(sub, 'package.json'), 'utf8')) as { name?: string }).name
          if (packs.some((p) => p.name === name)) found.push(sub.slice(appDir.length + 1))
        } catch {
          // not a package folder
        }
        if (readdirSync(sub).includes('node_modules')) scan(join(sub, 'node_modules'))
      }
    }
    scan(join(appDir, 'node_modules'))
    expect(found.sort()).toEqual(packs.map((p) => `node_modules/${p.name}`).sort())
    // Installed from the tarballs: nothing from a registry or the workspace.
    const lock = JSON.parse(readFileSync(join(appDir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string }> }
    for (const p of packs) expect(lock.packages[`node_modules/${p.name}`]?.resolved).toBe(`file:../tarballs/${p.filename}`)
  })
})

describe('CommonJS on Node (require of ES modules, Node >= 20.19: the engines floor)', () => {
  it('require() of every entry point gives the same module as import()', async () => {
    const r = await run(process.execPath, ['require-check.cjs'], { cwd: appDir, timeoutMs: SMOKE_TIMEOUT_MS })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    // No ExperimentalWarning or any other noise.
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout) as Record<string, [number, boolean]>
    expect(Object.keys(out).sort()).toEqual([...eps.runnable].sort())
    for (const [spec, [n, same]] of Object.entries(out)) {
      expect(n, spec).toBeGreaterThan(0)
      expect(same, spec).toBe(true)
    }
    console.log(`[consumer] require() on node ${process.versions.node}: ${Object.keys(out).length} entry points, each the same module as import()`)
  })
})

describe('the installed commands', () => {
  it('each package bin runs from node_modules/.bin and prints its help (exit 0)', async () => {
    const bins = packs.flatMap((p) => Object.keys(binsOf(p.json)).map((b) => ({ pkg: p.name, bin: b })))
    expect(bins.map((b) => b.bin)).toContain('bitp2p-bridge')
    for (const { pkg, bin } of bins) {
      const r = await run(join(appDir, 'node_modules', '.bin', bin), ['--help'], { cwd: appDir, timeoutMs: SMOKE_TIMEOUT_MS })
      expect(r.code, `${pkg} ${bin} --help: ${r.stdout}${r.stderr}`).toBe(0)
      expect(r.stdout).toMatch(/usage/i)
      expect(r.stdout).toContain(bin)
      console.log(`[consumer] ${bin} --help (${pkg}): ${r.stdout.split('\n')[0]}`)
    }
  })
})

describe('the bitp2p command (npx, from the tarball)', () => {
  it('npx bitp2p --version prints the packed version', async () => {
    const cli = packs.find((p) => p.name === 'bitp2p')
    expect(cli, 'the bitp2p package is published').toBeDefined()
    const r = await run('npx', ['--offline', 'bitp2p', '--version'], { cwd: appDir, timeoutMs: SMOKE_TIMEOUT_MS })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout.trim()).toBe(`bitp2p ${cli!.version}`)
  })

  it('npx bitp2p demo --sim runs the simulated walkthrough to its end', { timeout: SMOKE_TIMEOUT_MS }, async () => {
    const r = await run('npx', ['--offline', 'bitp2p', 'demo', '--sim'], { cwd: appDir, timeoutMs: SMOKE_TIMEOUT_MS })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/trace hash [0-9a-f]{64}/)
    expect(r.stdout.trim().split('\n').at(-1)).toBe('done')
    console.log(`[consumer] npx bitp2p demo --sim: ${r.stdout.trim().split('\n').length} lines, ${r.stdout.match(/trace hash [0-9a-f]{64}/)![0]} (${r.ms} ms)`)
  })
})

describe('TypeScript (strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes, skipLibCheck false)', () => {
  const tsc = (project: string): Promise<Run> => run(join(appDir, 'node_modules', '.bin', 'tsc'), ['-p', project, '--pretty', 'false'], { cwd: appDir, timeoutMs: TSC_TIMEOUT_MS })
  /** The three projects, two at a time (two cores): started once, awaited by each test. */
  let runs: Record<'nodenext' | 'bundler' | 'browser', Promise<Run>> | undefined
  const started = (): NonNullable<typeof runs> => {
    if (runs === undefined) {
      const nodenext = tsc('tsconfig.nodenext.json')
      const bundler = tsc('tsconfig.bundler.json')
      runs = { nodenext, bundler, browser: nodenext.then(() => tsc('tsconfig.browser.json')) }
    }
    return runs
  }

  it('the app imports every entry point of every package (worker-only ones in worker-entries.ts: type-checked, not run)', () => {
    const entries = readFileSync(join(appDir, 'src', 'entries.ts'), 'utf8')
    const workerEntries = readFileSync(join(appDir, 'src', 'worker-entries.ts'), 'utf8')
    const specs = packs.flatMap((p) => entrySpecifiers(p.json))
    expect(specs).toEqual(expect.arrayContaining(['@bitp2p/wire', '@bitp2p/session', '@bitp2p/session/v2', '@bitp2p/session/node', '@bitp2p/bridge']))
    expect([...eps.all].sort()).toEqual([...specs].sort())
    expect([...eps.runnable, ...eps.workerOnly].sort()).toEqual([...specs].sort())
    for (const s of eps.runnable) expect(entries).toContain(`from '${s}'`)
    for (const s of eps.workerOnly) expect(workerEntries).toContain(`from '${s}'`)
    for (const p of packs) expect(entries).toContain(`from '${p.name}/package.json' with { type: 'json' }`)
    console.log(`[consumer] entry points: ${eps.runnable.length} runnable on Node/Deno/Bun, ${eps.browser.length} for the browser, ${eps.workerOnly.length} worker-only${eps.workerOnly.length > 0 ? ` (${eps.workerOnly.join(', ')})` : ''}`)
  })

  for (const [key, title] of [
    ['nodenext', 'moduleResolution NodeNext: the whole app type-checks and compiles (out/ is what Node runs)'],
    ['bundler', 'moduleResolution bundler: the whole app type-checks'],
    ['browser', 'the browser entries type-check with DOM types and no Node types at all'],
  ] as const) {
    it(title, { timeout: 2 * TSC_TIMEOUT_MS }, async () => {
      const r = await started()[key]
      const { ours, upstream } = splitUpstream(r.stdout + r.stderr)
      expect(ours, `tsc -p tsconfig.${key}.json`).toBe('')
      // tsc's exit code is 2 when only the upstream declarations fail (emit still happens).
      expect(r.code).toBe(upstream.length > 0 ? 2 : 0)
      if (upstream.length > 0) console.log(`[consumer] tsc ${key}: ${upstream.length} error(s) in upstream declarations only (see UPSTREAM_DECLARATION_ERRORS):\n  ${upstream.join('\n  ')}`)
      console.log(`[consumer] tsc ${key}: clean${upstream.length > 0 ? " apart from those" : ""} (${r.ms} ms)`)
    })
  }
})

/**
 * Errors tsc reports inside third-party declaration files we ship against
 * but cannot change, each with why. @nats-io/nats-core 3.4's own classes do
 * not satisfy its interfaces under exactOptionalPropertyTypes with
 * skipLibCheck false (TS2420 in lib/msg.d.ts and lib/nats.d.ts): a user of
 * @bitp2p/jetstream with those flags sees the same, which its README says.
 * Anything else, and any error in our own files, fails the check.
 */
const UPSTREAM_DECLARATION_ERRORS: readonly RegExp[] = [/^node_modules\/@nats-io\/nats-core\/lib\/(msg|nats)\.d\.ts\(\d+,\d+\): error TS2420: /]

/** tsc's output split into our errors and the known upstream ones above. */
function splitUpstream(output: string): { ours: string; upstream: string[] } {
  // An error is its first line plus the indented lines that explain it.
  const errors: string[] = []
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue
    if (/^\s/.test(line) && errors.length > 0) errors[errors.length - 1] += `\n${line}`
    else errors.push(line)
  }
  const upstream = errors.filter((e) => UPSTREAM_DECLARATION_ERRORS.some((re) => re.test(e)))
  return { ours: errors.filter((e) => !upstream.includes(e)).join('\n'), upstream: upstream.map((e) => e.split('\n')[0]!) }
}

/** The smoke app's JSON report (test/consumer/app/src/smoke.ts). */
interface SmokeReport {
  readonly runtime: string
  readonly entries: Record<string, number>
  readonly userAgent: string
  readonly transportVersion: 1 | 2
  readonly headers: number
  readonly tip: string
  readonly closed: string
}

needs('bcoin').describe('the app on Node, Deno, Bun and workerd against a bcoin regtest node (127.0.0.1)', () => {
  let node: BcoinNode
  let tip: string
  let env: Record<string, string>
  const reports: SmokeReport[] = []

  beforeAll(async () => {
    node = await startBcoin({ mine: BLOCKS })
    tip = await node.rpc('getbestblockhash', [])
    env = { BITP2P_CONSUMER_PEER: `127.0.0.1:${node.p2p.port}`, BITP2P_CONSUMER_TIMEOUT_MS: String(SMOKE_REQUEST_TIMEOUT_MS) }
  }, bcoinBudget(BLOCKS))

  afterAll(async () => {
    await node?.stop()
  })

  /** Runs the smoke, checks its report against bcoin and returns it. */
  /** Checks a smoke report against bcoin: `runtime` ran it, `expected` entry points loaded, the same exports as the runs before. */
  function checkReport(report: SmokeReport, runtime: string, expected: readonly string[], ms: number): void {
    console.log(`[consumer] ${report.runtime}: ${report.userAgent} transport v${report.transportVersion}, ${report.headers} headers, tip ${report.tip}, ${Object.keys(report.entries).length} entry points loaded (${ms} ms)`)
    expect(report.runtime === runtime || report.runtime.startsWith(`${runtime} `), report.runtime).toBe(true)
    // Every entry point loaded, each exporting something.
    expect(Object.keys(report.entries).sort()).toEqual([...expected].sort())
    for (const [spec, n] of Object.entries(report.entries)) expect(n, spec).toBeGreaterThan(0)
    // bcoin speaks v1 only: the v2 attempt fell back.
    expect(report.userAgent).toBe('/bcoin:v1.0.2/')
    expect(report.transportVersion).toBe(1)
    expect(report.headers).toBe(BLOCKS)
    expect(report.tip).toBe(tip)
    expect(report.closed).toMatch(/done/)
    // The same exports wherever an entry point loaded.
    for (const r of reports) for (const spec of Object.keys(report.entries)) if (spec in r.entries) expect(report.entries[spec], `${spec} on ${report.runtime} and ${r.runtime}`).toBe(r.entries[spec])
    reports.push(report)
  }

  /** Runs the smoke (smoke.ts) under `cmd args` and checks its one-line report. */
  async function smoke(runtime: string, cmd: string, args: readonly string[], extraEnv: Readonly<Record<string, string>> = {}): Promise<void> {
    const r = await run(cmd, args, { cwd: appDir, timeoutMs: SMOKE_TIMEOUT_MS, env: { ...env, ...extraEnv } })
    expect(r.code, `${runtime}: ${r.stdout}${r.stderr}`).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines, r.stdout).toHaveLength(1)
    checkReport(JSON.parse(lines[0]!) as SmokeReport, runtime, eps.runnable, r.ms)
  }

  it('node: the compiled app (tsc NodeNext output)', { timeout: SMOKE_TIMEOUT_MS + scaled(5_000) }, async () => {
    // out/ comes from the NodeNext test above; compile here if that test was filtered out.
    if (!readdirSync(appDir).includes('out')) {
      const c = await run(join(appDir, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.nodenext.json'], { cwd: appDir, timeoutMs: TSC_TIMEOUT_MS })
      expect(c.code, c.stdout).toBe(0)
    }
    await smoke('node', process.execPath, ['out/smoke.js'])
  })

  needs('deno').it('deno: deno check (Deno\'s TypeScript over the packages\' types), then the TypeScript source, packages from node_modules', { timeout: TSC_TIMEOUT_MS + SMOKE_TIMEOUT_MS + scaled(5_000) }, async () => {
    const c = await run(rootBin('deno'), ['check', '--quiet', 'src/smoke.ts'], { cwd: appDir, timeoutMs: TSC_TIMEOUT_MS, env: DENO_ENV })
    expect(c.code, c.stdout + c.stderr).toBe(0)
    expect(c.stdout + c.stderr).toBe('')
    await smoke('deno', rootBin('deno'), ['run', '--no-prompt', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', 'src/smoke.ts'], DENO_ENV)
  })

  needs('bun').it('bun: the TypeScript source', { timeout: SMOKE_TIMEOUT_MS + scaled(5_000) }, async () => {
    await smoke('bun', rootBin('bun'), ['src/smoke.ts'])
  })

  needs('workerd').it('workerd: the worker bundle (worker.ts, the Cloudflare connector), its internet service limited to 127.0.0.1', { timeout: WORKERD_TIMEOUT_MS + SMOKE_TIMEOUT_MS }, async () => {
    const t0 = performance.now()
    const wd = await startWorkerd({ script: (await workerBundle()).code, bindings: { BITP2P_CONSUMER_PEER: env.BITP2P_CONSUMER_PEER!, BITP2P_CONSUMER_TIMEOUT_MS: env.BITP2P_CONSUMER_TIMEOUT_MS! } })
    try {
      const res = await fetch(`${wd.url}/`, { signal: AbortSignal.timeout(SMOKE_TIMEOUT_MS) })
      const body = await res.text()
      expect(res.status, `${body}\n${wd.output()}`).toBe(200)
      checkReport(JSON.parse(body) as SmokeReport, 'workerd', eps.worker, Math.round(performance.now() - t0))
    } finally {
      await wd.stop()
    }
  })
})

/** One browser bundle: its files and what a page loads at once. */
interface Bundle {
  /** Every output JS file: name -> code. */
  readonly files: ReadonlyMap<string, string>
  /** The files loaded at once: the entry and what it imports statically. */
  readonly eager: readonly string[]
  /** Warnings the bundler printed. */
  readonly warnings: readonly string[]
}

/** The eager files of a bundle, from each file's static imports. */
function eagerFiles(entry: string, staticImports: (file: string) => readonly string[]): string[] {
  const seen: string[] = []
  const visit = (f: string): void => {
    if (seen.includes(f)) return
    seen.push(f)
    for (const i of staticImports(f)) visit(i)
  }
  visit(entry)
  return seen
}

/** Gzip (level 9) of each eager file, summed: what a page ships at once. */
function eagerGzip(b: Bundle): number {
  return b.eager.reduce((n, f) => n + gzipSync(b.files.get(f)!, { level: 9 }).length, 0)
}

/** Checks a browser bundle: self-contained (only its own relative chunks imported), no Node global. */
function expectBrowserClean(b: Bundle, label: string): void {
  for (const [file, code] of b.files) {
    const outside = importedSpecifiers(code).filter((s) => !s.startsWith('./') && !s.startsWith('../'))
    expect(outside, `${label} ${file} imports`).toEqual([])
    expect(code, `${label} ${file}`).not.toMatch(/["']node:/)
    expect(nodeGlobalReferences(code), `${label} ${file} Node globals`).toEqual([])
  }
}

/** The gzip budget of a browser entry (undefined: none, the whole SDK is only measured). */
function budgetOf(name: string): number | undefined {
  return { 'one-helper': ONE_HELPER_GZIP_BUDGET, light: LIGHT_CLIENT_GZIP_BUDGET, 'v2-light': V2_LIGHT_CLIENT_GZIP_BUDGET }[name]
}

/** esbuild, as a web app bundles: browser platform, ESM with code splitting (the lazy v2 chunk), minified. */
async function esbuildBundle(entry: string, outdir: string): Promise<Bundle> {
  const r = await esbuild({
    entryPoints: [entry],
    absWorkingDir: appDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    outdir,
    metafile: true,
    write: false,
    logLevel: 'silent',
  })
  const meta: Metafile = r.metafile
  const files = new Map(r.outputFiles.filter((f) => f.path.endsWith('.js')).map((f) => [f.path.slice(join(appDir, outdir).length + 1), f.text]))
  const out = (f: string): string => `${outdir}/${f}`
  const entryFile = [...files.keys()].find((f) => meta.outputs[out(f)]?.entryPoint !== undefined)!
  const eager = eagerFiles(entryFile, (f) => (meta.outputs[out(f)]?.imports ?? []).filter((i) => i.kind === 'import-statement').map((i) => i.path.slice(outdir.length + 1)))
  return { files, eager, warnings: r.warnings.map((w) => w.text) }
}

/** The worker bundle of src/worker.ts (built once): esbuild as a worker is bundled, `cloudflare:*` left to the runtime. */
let workerBuild: Promise<{ code: string; inputs: string[] }> | undefined
function workerBundle(): Promise<{ code: string; inputs: string[] }> {
  workerBuild ??= esbuild({
    entryPoints: ['src/worker.ts'],
    absWorkingDir: appDir,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*'],
    target: 'es2022',
    minify: true,
    metafile: true,
    write: false,
    logLevel: 'silent',
  }).then((r) => ({ code: r.outputFiles[0]!.text, inputs: Object.keys(r.metafile.inputs) }))
  return workerBuild
}

describe('browser bundles of the installed packages', () => {
  const sizes: string[] = []
  afterAll(() => {
    if (sizes.length > 0) console.log(`[consumer] browser bundles (eager chunks, minified, gzip -9)\n${sizes.join('\n')}`)
  })

  describe('esbuild', () => {
    for (const name of Object.keys(BROWSER_IMPORTS)) {
      const budget = budgetOf(name)
      it(`${name}: self-contained, no node: import, no Node global${budget !== undefined ? `, gzip < ${kb(budget)}` : ''}`, async () => {
        const b = await esbuildBundle(`src/browser/${name}.ts`, `dist-esbuild/${name}`)
        expect(b.warnings).toEqual([])
        expectBrowserClean(b, `esbuild ${name}`)
        const gz = eagerGzip(b)
        sizes.push(`  esbuild ${name.padEnd(10)} ${String(gz).padStart(7)} B gz (${kb(gz)}), ${b.eager.length} eager + ${b.files.size - b.eager.length} lazy chunks`)
        if (budget !== undefined) expect(gz).toBeLessThan(budget)
      })
    }

    it('the Node-only entry points really need Node (a browser bundle of each fails on a node: import)', async () => {
      expect(packs.flatMap((p) => entrySpecifiers(p.json))).toEqual(expect.arrayContaining([...NODE_ONLY_ENTRIES]))
      for (const spec of NODE_ONLY_ENTRIES) {
        const err = await esbuild({
          stdin: { contents: `import * as m from '${spec}'\nObject.assign(globalThis, { m })\n`, resolveDir: appDir, loader: 'ts' },
          absWorkingDir: appDir,
          bundle: true,
          format: 'esm',
          platform: 'browser',
          write: false,
          logLevel: 'silent',
        }).then(
          () => undefined,
          (e: { errors?: { text: string }[] }) => (e.errors ?? []).map((x) => x.text).join('\n'),
        )
        expect(err, spec).toMatch(/node:/)
      }
    })
  })

  describe('Vite (vite build, the app as a web app builds it)', () => {
    for (const name of Object.keys(BROWSER_IMPORTS)) {
      const budget = budgetOf(name)
      it(`${name}: self-contained, no node: import, no externalised module, no Node global${budget !== undefined ? `, gzip < ${kb(budget)}` : ''}`, { timeout: VITE_TIMEOUT_MS }, async () => {
        const outDir = `dist-vite/${name}`
        const r = await run(rootBin('vite'), ['build', '--config', 'vite.config.mjs'], { cwd: appDir, timeoutMs: VITE_TIMEOUT_MS, env: { BITP2P_CONSUMER_ENTRY: `src/browser/${name}.ts`, BITP2P_CONSUMER_OUT: outDir } })
        expect(r.code, r.stdout + r.stderr).toBe(0)
        // Nothing printed (logLevel 'warn'): no warning at all, e.g. a Node built-in "externalized for browser compatibility" (left as an empty stub).
        expect((r.stdout + r.stderr).trim()).toBe('')
        const manifest = JSON.parse(readFileSync(join(appDir, outDir, '.vite', 'manifest.json'), 'utf8')) as Record<string, { file: string; isEntry?: boolean; imports?: string[]; dynamicImports?: string[] }>
        const byKey = (k: string): string => manifest[k]!.file
        const files = new Map<string, string>()
        for (const f of readdirSync(join(appDir, outDir, 'assets'))) if (f.endsWith('.js')) files.set(`assets/${f}`, readFileSync(join(appDir, outDir, 'assets', f), 'utf8'))
        const entryKey = Object.keys(manifest).find((k) => manifest[k]!.isEntry === true)!
        const keyOf = (file: string): string => Object.keys(manifest).find((k) => manifest[k]!.file === file)!
        const eager = eagerFiles(byKey(entryKey), (f) => (manifest[keyOf(f)]?.imports ?? []).map(byKey))
        const b: Bundle = { files, eager, warnings: [] }
        expect(statSync(join(appDir, outDir, byKey(entryKey))).size).toBeGreaterThan(0)
        expectBrowserClean(b, `vite ${name}`)
        const gz = eagerGzip(b)
        sizes.push(`  vite    ${name.padEnd(10)} ${String(gz).padStart(7)} B gz (${kb(gz)}), ${b.eager.length} eager + ${b.files.size - b.eager.length} lazy chunks`)
        if (budget !== undefined) expect(gz).toBeLessThan(budget)
      })
    }
  })
})

describe('Cloudflare-style workers', () => {
  it('the worker bundle (esbuild, workerd conditions): every worker entry point in it, only cloudflare: modules left outside, no Node global', async () => {
    expect(eps.workerOnly.length, 'a package importing cloudflare:sockets (@bitp2p/transport-cloudflare)').toBeGreaterThan(0)
    const { code, inputs } = await workerBundle()
    const outside = importedSpecifiers(code)
    expect(outside.filter((x) => !x.startsWith('cloudflare:'))).toEqual([])
    expect(outside).toContain('cloudflare:sockets')
    expect(nodeGlobalReferences(code)).toEqual([])
    // Each package a worker loads is in the bundle, from the installed tarball.
    for (const spec of eps.worker) {
      const pkg = spec.split('/').slice(0, 2).join('/')
      expect(inputs.some((i) => i.startsWith(`node_modules/${pkg}/dist/`)), spec).toBe(true)
    }
    console.log(`[consumer] worker bundle (${eps.worker.length} entry points): ${gzipSync(code, { level: 9 }).length} B gz`)
  })
})
