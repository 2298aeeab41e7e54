/// <reference types="node" />
/**
 * The consumer job's building blocks: pack every published package as
 * `npm publish` would, check what each tarball holds, and install the
 * tarballs into a fresh app in a temporary folder as a user would, with
 * nothing from this repository but the tarballs and the app's own files
 * (test/consumer/app/).
 *
 * The install is `npm ci --offline`: no network. The app's lockfile is
 * written here from the tarballs (their integrity, as `npm pack` reports
 * it) and from the root package-lock.json (the third-party packages:
 * versions, registry URLs, integrity), so npm finds every package in the
 * cache that the root `npm ci` filled. (`npm install --offline` without a
 * lockfile cannot work: resolving `^2.4.0` needs the registry's package
 * document, which `npm ci` never fetches.)
 */
import { execFile, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
// @ts-expect-error: a plain .mjs script without types
import { publishedPackages } from '../../../scripts/package-metadata.mjs'
import { importedSpecifiers, LIGHT_CLIENT, ONE_HELPER, retainModule, V2_LIGHT_CLIENT, type ImportSet } from '../../harness/bundle-check.js'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
/** The consumer app's checked-in files, copied into each fresh app. */
const TEMPLATE = fileURLToPath(new URL('../app/', import.meta.url))
/** A binary installed by the root `npm ci`. */
export const rootBin = (name: string): string => join(ROOT, 'node_modules', '.bin', name)

/**
 * Entry points that are Node-only by design (they import node:net, node:fs
 * or node:http): left out of the browser bundles. The bundle test checks
 * each one really does need Node (a browser bundle of it fails on a node:
 * import), so nothing lands here by mistake.
 */
export const NODE_ONLY_ENTRIES: readonly string[] = ['@bitp2p/session/node', '@bitp2p/light/node', '@bitp2p/transport-tcp', '@bitp2p/bridge', '@bitp2p/jetstream', '@bitp2p/jetstream/limits']

/** The devDependencies of the app, at the root lockfile's versions: what a TypeScript user on Node installs. */
const APP_DEV_DEPENDENCIES = ['typescript', '@types/node'] as const

/** One packed package, as `npm pack --json` describes it. */
export interface Packed {
  readonly name: string
  readonly version: string
  /** The tarball's file name (in the pack folder). */
  readonly filename: string
  /** Absolute path of the tarball. */
  readonly path: string
  /** Bytes of the .tgz. */
  readonly size: number
  readonly unpackedSize: number
  readonly entryCount: number
  /** sha512 SRI of the tarball (what the lockfile records). */
  readonly integrity: string
  /** Paths inside the package (no 'package/' prefix). */
  readonly files: readonly string[]
  /** The package.json that was packed. */
  readonly json: PackageJson
}

/** The parts of a package.json read here. */
export interface PackageJson {
  readonly name: string
  readonly version: string
  readonly license?: string
  readonly private?: boolean
  readonly exports?: Readonly<Record<string, unknown>>
  readonly dependencies?: Readonly<Record<string, string>>
  readonly peerDependencies?: Readonly<Record<string, string>>
  readonly optionalDependencies?: Readonly<Record<string, string>>
  readonly engines?: Readonly<Record<string, string>>
  readonly bin?: string | Readonly<Record<string, string>>
}

/** A finished child process. */
export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/**
 * Runs `cmd args` in `cwd` (environment: ours plus `env`, no colour) and
 * collects its output; the child is killed after `timeoutMs` (a hang net,
 * not a speed check).
 */
export function run(cmd: string, args: readonly string[], opts: { cwd: string; timeoutMs: number; env?: Readonly<Record<string, string>> }): Promise<Run> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Math.round(performance.now() - t0) })
    })
  })
}

/** The published packages (not "private"), in folder order. */
export function publishedPackageJsons(): PackageJson[] {
  return (publishedPackages() as { json: PackageJson }[]).map((p) => p.json)
}

/**
 * `npm pack` of every published package into `dest` (one npm process, all
 * workspaces), as `npm publish` would pack them (lifecycle scripts run).
 */
export async function packAll(dest: string, timeoutMs: number): Promise<Packed[]> {
  mkdirSync(dest, { recursive: true })
  const jsons = publishedPackageJsons()
  const args = ['pack', '--json', '--pack-destination', dest, ...jsons.flatMap((j) => ['--workspace', j.name])]
  const { stdout } = await promisify(execFile)('npm', args, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 })
  const out = JSON.parse(stdout) as { name: string; version: string; filename: string; size: number; unpackedSize: number; entryCount: number; integrity: string; files: { path: string }[] }[]
  return out.map((p) => {
    const json = jsons.find((j) => j.name === p.name)
    if (json === undefined) throw new Error(`npm pack returned ${p.name}, not a published package`)
    return {
      name: p.name,
      version: p.version,
      filename: p.filename,
      path: join(dest, p.filename),
      size: p.size,
      unpackedSize: p.unpackedSize,
      entryCount: p.entryCount,
      integrity: p.integrity,
      files: p.files.map((f) => f.path),
      json,
    }
  })
}

/** A path a tarball must not ship: tests, fixtures, configs of the repository's own tooling. */
const NOT_SHIPPED = /(^|\/)(test|tests|__tests__|fixtures?|bench|fuzz)\/|\.(test|spec|bench)\.[cm]?[jt]s$|(^|\/)(vitest|rollup)\.config\.|(^|\/)tsconfig(\.[^/]*)?\.json$/

/** Every file an "exports" value names (conditions and nesting walked). */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(exportTargets)
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(exportTargets)
  return []
}

/**
 * What is wrong with a tarball's contents, one line each (empty when
 * nothing): LICENSE, README.md, package.json present, and dist/ for a
 * library; no test, fixture or tooling file; every file "exports" and
 * "bin" name present.
 */
export function contentProblems(p: Packed): string[] {
  const problems: string[] = []
  const files = new Set(p.files)
  for (const f of ['LICENSE', 'README.md', 'package.json']) if (!files.has(f)) problems.push(`no ${f}`)
  // A library (code entry points in "exports") ships its build in dist/; a command-only package (the CLI) its own files.
  if (entrySpecifiers(p.json).length > 0 && !p.files.some((f) => f.startsWith('dist/'))) problems.push('no dist/')
  for (const f of p.files) if (NOT_SHIPPED.test(f)) problems.push(`ships ${f}`)
  const bins = typeof p.json.bin === 'string' ? [p.json.bin] : Object.values(p.json.bin ?? {})
  for (const t of [...exportTargets(p.json.exports), ...bins]) {
    const path = t.replace(/^\.\//, '')
    if (!files.has(path)) problems.push(`${t} is named in package.json but not in the tarball`)
  }
  return problems
}

/** A table of the tarballs: name, packed and unpacked size, file count. */
export function tarballTable(packs: readonly Packed[]): string {
  const rows = packs.map((p) => [p.filename, `${(p.size / 1024).toFixed(1)} KiB`, `${(p.unpackedSize / 1024).toFixed(1)} KiB`, String(p.entryCount)])
  const head = ['tarball', 'packed', 'unpacked', 'files']
  const total = ['total', `${(packs.reduce((n, p) => n + p.size, 0) / 1024).toFixed(1)} KiB`, `${(packs.reduce((n, p) => n + p.unpackedSize, 0) / 1024).toFixed(1)} KiB`, String(packs.reduce((n, p) => n + p.entryCount, 0))]
  const all = [head, ...rows, total]
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)))
  const line = (r: readonly string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), ...rows.map(line), line(total)].join('\n')
}

/** The commands a package installs (name -> file), as npm links them into node_modules/.bin. */
export function binsOf(json: PackageJson): Record<string, string> {
  if (json.bin === undefined) return {}
  return typeof json.bin === 'string' ? { [json.name.split('/').pop()!]: json.bin } : { ...json.bin }
}

/** Every import specifier a package's "exports" offers for code (./package.json left out). */
export function entrySpecifiers(json: PackageJson): string[] {
  return Object.keys(json.exports ?? { '.': null })
    .filter((k) => k !== './package.json')
    .map((k) => (k === '.' ? json.name : `${json.name}/${k.slice(2)}`))
}

/** An entry in package-lock.json's "packages". */
interface LockEntry {
  version?: string
  resolved?: string
  integrity?: string
  license?: string
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  engines?: Record<string, string>
  bin?: Record<string, string>
  dev?: boolean
  optional?: boolean
  [key: string]: unknown
}

/** The lockfile key of `name` as seen from the package at lockfile key `from` (Node's node_modules walk). */
function findInLock(lock: Readonly<Record<string, LockEntry>>, name: string, from: string): string | undefined {
  for (let dir = from; ; ) {
    const key = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`
    if (lock[key] !== undefined) return key
    if (dir === '') return undefined
    const i = dir.lastIndexOf('/node_modules/')
    dir = i < 0 ? '' : dir.slice(0, i)
  }
}

/**
 * The app's package.json and package-lock.json: the tarballs as `file:`
 * dependencies, typescript and @types/node as devDependencies, and every
 * third-party package they need at the version the root lockfile has,
 * all hoisted to the app's node_modules.
 */
export function appManifest(packs: readonly Packed[], appDir: string): { packageJson: object; lock: object } {
  const rootLock = (JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages
  const folderOf = (name: string): string => {
    const key = Object.keys(rootLock).find((k) => !k.includes('node_modules/') && (rootLock[k] as { name?: string }).name === name)
    if (key === undefined) throw new Error(`${name} is not a workspace in package-lock.json`)
    return key
  }
  const dependencies: Record<string, string> = {}
  const packages: Record<string, LockEntry> = {}
  /** [dependency name, lockfile key of the package that needs it, dev]. */
  const queue: [string, string, boolean][] = []
  for (const p of packs) {
    const spec = `file:${relative(appDir, p.path)}`
    dependencies[p.name] = spec
    packages[`node_modules/${p.name}`] = {
      version: p.version,
      resolved: spec,
      integrity: p.integrity,
      ...(p.json.license !== undefined && { license: p.json.license }),
      ...(p.json.dependencies !== undefined && { dependencies: { ...p.json.dependencies } }),
      ...(p.json.peerDependencies !== undefined && { peerDependencies: { ...p.json.peerDependencies } }),
      ...(p.json.engines !== undefined && { engines: { ...p.json.engines } }),
      // npm ci links node_modules/.bin from the lockfile's "bin".
      ...(p.json.bin !== undefined && { bin: binsOf(p.json) }),
    }
    // Our own packages come from their tarballs (peers, or the CLI's plain dependencies): only third-party ones from the root lock.
    const ours = (d: string): boolean => packs.some((q) => q.name === d)
    for (const d of Object.keys(p.json.dependencies ?? {})) if (!ours(d)) queue.push([d, folderOf(p.name), false])
    for (const d of Object.keys(p.json.peerDependencies ?? {})) if (!ours(d)) queue.push([d, folderOf(p.name), false])
  }
  const devDependencies: Record<string, string> = {}
  for (const d of APP_DEV_DEPENDENCIES) {
    const e = rootLock[`node_modules/${d}`]
    if (e?.version === undefined) throw new Error(`${d} is not in the root package-lock.json`)
    devDependencies[d] = e.version
    queue.push([d, '', true])
  }
  while (queue.length > 0) {
    const [name, from, dev] = queue.shift()!
    const key = findInLock(rootLock, name, from)
    if (key === undefined) throw new Error(`${name} (needed by ${from || 'the app'}) is not in the root package-lock.json: add it to a package and run npm install`)
    const src = rootLock[key]!
    const dest = `node_modules/${name}`
    const have = packages[dest]
    if (have !== undefined) {
      if (have.version !== src.version) throw new Error(`two versions of ${name} needed (${have.version}, ${src.version}): the app's lockfile hoists every package`)
      if (!dev) delete have.dev
      continue
    }
    const { dev: _d, peer: _p, devOptional: _o, ...entry } = src
    packages[dest] = { ...entry, ...(dev && { dev: true }) }
    for (const d of Object.keys(src.dependencies ?? {})) queue.push([d, key, dev])
    for (const d of Object.keys(src.optionalDependencies ?? {})) if (findInLock(rootLock, d, key) !== undefined) queue.push([d, key, dev])
  }
  const packageJson = { name: 'bitp2p-consumer-app', version: '0.0.0', private: true, type: 'module', dependencies, devDependencies }
  const lock = {
    name: packageJson.name,
    version: packageJson.version,
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: packageJson.name, version: packageJson.version, dependencies, devDependencies }, ...packages },
  }
  return { packageJson, lock }
}

/** A browser entry of the app: a name and its source. */
export interface BrowserEntry {
  /** File stem under src/browser/ ('light', 'v2-light', 'one-helper', 'whole'). */
  readonly name: string
  readonly source: string
}

/**
 * The entry points of the packages, by where they can run. Worker-only
 * entry points import a `cloudflare:` module (cloudflare:sockets), which
 * exists only in Cloudflare-style workers (workerd): found by reading the
 * installed packages' dist files, so a new package of that kind is
 * sorted without a list to keep.
 */
export interface EntryPoints {
  /** Every entry point of every package. */
  readonly all: readonly string[]
  /** Those that load on Node, Deno and Bun: all but the worker-only ones. */
  readonly runnable: readonly string[]
  /** Those bundled for the browser: all but the Node-only and worker-only ones. */
  readonly browser: readonly string[]
  /** Those that need a Cloudflare-style worker runtime. */
  readonly workerOnly: readonly string[]
  /** Those a worker loads: the browser ones and the worker-only ones. */
  readonly worker: readonly string[]
}

/** Names of the packages installed in `appDir` whose dist files import a `cloudflare:` module. */
export function workerOnlyPackages(appDir: string, packs: readonly Packed[]): string[] {
  return packs
    .filter((p) =>
      p.files
        .filter((f) => f.startsWith('dist/') && f.endsWith('.js'))
        .some((f) => importedSpecifiers(readFileSync(join(appDir, 'node_modules', p.name, f), 'utf8')).some((spec) => spec.startsWith('cloudflare:'))),
    )
    .map((p) => p.name)
}

/** Sorts every entry point of `packs` (see EntryPoints); `workerOnly` names whole packages. */
export function classifyEntryPoints(packs: readonly Packed[], workerOnlyPkgs: readonly string[]): EntryPoints {
  const all = packs.flatMap((p) => entrySpecifiers(p.json))
  const workerOnly = packs.filter((p) => workerOnlyPkgs.includes(p.name)).flatMap((p) => entrySpecifiers(p.json))
  const runnable = all.filter((s) => !workerOnly.includes(s))
  const browser = runnable.filter((s) => !NODE_ONLY_ENTRIES.includes(s))
  return { all, runnable, browser, workerOnly, worker: [...browser, ...workerOnly] }
}

/** The app's generated sources, see generatedSources. */
export interface GeneratedSources {
  readonly entries: string
  readonly workerEntries: string
  readonly browser: BrowserEntry[]
  readonly requireCheck: string
}

/**
 * The app's generated sources: src/entries.ts (a namespace import of every
 * runnable entry point, and every package.json), src/worker-entries.ts
 * (every entry point a worker loads: the browser ones and the worker-only
 * ones, which are never run on Node, Deno or Bun),
 * the browser entries (the light clients and the one helper of
 * bundle-check.ts, and every browser entry point) and require-check.cjs
 * (every runnable entry point through require()).
 */
export function generatedSources(packs: readonly Packed[], eps: EntryPoints): GeneratedSources {
  const namespaces = (specs: readonly string[]): string[] => specs.map((s, i) => `import * as e${i} from '${s}'`)
  const record = (specs: readonly string[]): string => `{\n${specs.map((s, i) => `  '${s}': e${i},`).join('\n')}\n}`
  const entries = [
    '// Written by the consumer job (test/consumer/lib/app.ts) from the tarballs\' "exports": every entry point of every package',
    '// that loads on Node, Deno and Bun (worker-only ones are in worker-entries.ts).',
    ...namespaces(eps.runnable),
    ...packs.map((p, i) => `import pkg${i} from '${p.name}/package.json' with { type: 'json' }`),
    '',
    '/** Every runnable entry point, by specifier. */',
    `export const ENTRY_POINTS = ${record(eps.runnable)} as const`,
    '',
    '/** Every package.json, through its "./package.json" export. */',
    `export const PACKAGE_JSONS = [${packs.map((_, i) => `pkg${i}`).join(', ')}] as const`,
    '',
  ].join('\n')
  const workerSpecs = eps.worker
  const workerEntries = [
    '// Written by the consumer job: every entry point a Cloudflare-style worker can load, the browser ones and the worker-only',
    '// ones (they import cloudflare: modules). Type-checked everywhere; loaded only by worker.ts in workerd.',
    ...namespaces(workerSpecs),
    '',
    '/** Every entry point a worker loads, by specifier. */',
    `export const WORKER_ENTRY_POINTS = ${record(workerSpecs)} as const`,
    '',
  ].join('\n')
  const whole = [
    '// Every entry point that is neither Node-only nor worker-only, all of it kept.',
    ...namespaces(eps.browser),
    `Object.assign(globalThis, { __bitp2p: { ${eps.browser.map((s, i) => `'${s}': e${i}`).join(', ')} } })`,
    '',
  ].join('\n')
  // CommonJS on Node >= 20.19 (require of an ES module): what a CommonJS app gets from require().
  const requireCheck = [
    '// Written by the consumer job: require() of every runnable entry point from CommonJS (Node >= 20.19 loads ES modules this way).',
    '// Prints { specifier: [names exported, same namespace as import()] } as JSON.',
    `const SPECS = ${JSON.stringify(eps.runnable)}`,
    'async function main() {',
    '  const out = {}',
    '  for (const s of SPECS) {',
    '    const required = require(s)',
    '    out[s] = [Object.keys(required).length, required === (await import(s))]',
    '  }',
    '  console.log(JSON.stringify(out))',
    '}',
    'main().catch((e) => {',
    '  console.error(e)',
    '  process.exitCode = 1',
    '})',
    '',
  ].join('\n')
  const header = (what: string): string => `// ${what} (written by the consumer job from test/harness/bundle-check.ts).\n`
  const browser: BrowserEntry[] = [
    { name: 'one-helper', source: header('One helper alone') + retainModule(ONE_HELPER) },
    { name: 'light', source: header('The light client') + retainModule(LIGHT_CLIENT) },
    { name: 'v2-light', source: header('The light client with the v2 transport') + retainModule(V2_LIGHT_CLIENT) },
    { name: 'whole', source: whole },
  ]
  return { entries, workerEntries, browser, requireCheck }
}

/** The import set each browser entry stands for (undefined: the whole SDK). */
export const BROWSER_IMPORTS: Readonly<Record<string, ImportSet | undefined>> = {
  'one-helper': ONE_HELPER,
  light: LIGHT_CLIENT,
  'v2-light': V2_LIGHT_CLIENT,
  whole: undefined,
}

/** A fresh app, installed. */
export interface App {
  /** npm ci's run. */
  readonly install: Run
  /** The entry points, sorted by where they run (empty lists when the install failed). */
  readonly entryPoints: EntryPoints
}

/**
 * A fresh app in `appDir`: the template, the manifest and lockfile, `npm ci
 * --offline`; then the sources generated from what was installed.
 */
export async function createApp(appDir: string, packs: readonly Packed[], timeoutMs: number): Promise<App> {
  cpSync(TEMPLATE, appDir, { recursive: true })
  if (!existsSync(join(appDir, 'src', 'smoke.ts'))) throw new Error(`the template at ${TEMPLATE} was not copied`)
  const { packageJson, lock } = appManifest(packs, appDir)
  writeFileSync(join(appDir, 'package.json'), JSON.stringify(packageJson, null, 2) + '\n')
  writeFileSync(join(appDir, 'package-lock.json'), JSON.stringify(lock, null, 2) + '\n')
  const install = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd: appDir, timeoutMs })
  if (install.code !== 0) return { install, entryPoints: { all: [], runnable: [], browser: [], workerOnly: [], worker: [] } }
  const entryPoints = classifyEntryPoints(packs, workerOnlyPackages(appDir, packs))
  const src = generatedSources(packs, entryPoints)
  writeFileSync(join(appDir, 'src', 'entries.ts'), src.entries)
  writeFileSync(join(appDir, 'src', 'worker-entries.ts'), src.workerEntries)
  writeFileSync(join(appDir, 'require-check.cjs'), src.requireCheck)
  mkdirSync(join(appDir, 'src', 'browser'), { recursive: true })
  for (const b of src.browser) writeFileSync(join(appDir, 'src', 'browser', `${b.name}.ts`), b.source)
  return { install, entryPoints }
}
