/**
 * The documentation builds and says what it should:
 *  - TypeDoc (the root typedoc.json, as `npm run docs` runs it) converts the
 *    packages without an error or a warning;
 *  - every public entry point (each "exports" subpath of each package.json)
 *    is documented, and every name it exports, as the TypeScript compiler
 *    lists them, is in the reflection with a doc comment;
 *  - each package page is the package's README with an API overview, and
 *    the guides are pages of the site;
 *  - the relative links of README.md, docs/*.md and packages/*\/README.md
 *    point to files that exist inside the repository;
 *  - the simulation guide's example is the code of test/guide-example.test.ts.
 *
 * TypeDoc runs once, as a child process, with `--json` (no HTML is written)
 * and warnings reported instead of fatal, so each check below can name what
 * is missing. It takes 10-20 s.
 */
/// <reference types="node" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { scaled } from '../../../test/harness/timing.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const PACKAGES = ['wire', 'bip324', 'session', 'transport-tcp', 'transport-ws', 'bridge', 'transport-cloudflare', 'transport-mock', 'light', 'jetstream']
/** TypeDoc's ReflectionKind values used here. */
const KIND_MODULE = 2
const KIND_REFERENCE = 4194304
/** TypeDoc plus the TypeScript program (about 16 s on an idle machine), scaled: the hook's hang net. */
const BUILD_TIMEOUT_MS = scaled(180_000)

/** The parts of TypeDoc's JSON output these checks read. */
interface Reflection {
  readonly id: number
  readonly name: string
  readonly kind: number
  readonly children?: readonly Reflection[]
  readonly signatures?: readonly Reflection[]
  readonly getSignature?: Reflection
  readonly comment?: { readonly summary: readonly { readonly text: string }[] }
  readonly readme?: readonly { readonly text: string }[]
  readonly documents?: readonly Reflection[]
  readonly target?: number
}

/** A public entry point: package name, import specifier, source file. */
interface Entry {
  readonly pkg: string
  readonly specifier: string
  /** 'index', 'node', 'bridge'. */
  readonly file: string
  readonly source: string
}

/** Every "exports" subpath of every package, mapped from dist/X.js to src/X.ts. */
function entryPoints(): Entry[] {
  const out: Entry[] = []
  for (const dir of PACKAGES) {
    const pj = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as { name: string; exports: Record<string, { default: string }> }
    for (const [subpath, target] of Object.entries(pj.exports)) {
      if (subpath === './package.json') continue // metadata, not code
      const m = /^\.\/dist\/([\w-]+)\.js$/.exec(target.default)
      if (m === null) throw new Error(`${pj.name}: export ${subpath} -> ${target.default} does not map to a source file`)
      const file = m[1]!
      out.push({ pkg: pj.name, specifier: subpath === '.' ? pj.name : `${pj.name}/${subpath.slice(2)}`, file, source: join(ROOT, 'packages', dir, 'src', `${file}.ts`) })
    }
  }
  return out
}

/** The names each entry exports (values and types), from the TypeScript program TypeDoc documents. */
function exportedNames(entries: readonly Entry[]): Map<Entry, string[]> {
  const configPath = join(ROOT, 'tsconfig.docs.json')
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p))
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT, undefined, configPath)
  const program = ts.createProgram(entries.map((e) => e.source), parsed.options)
  const checker = program.getTypeChecker()
  const out = new Map<Entry, string[]>()
  for (const e of entries) {
    const sf = program.getSourceFile(e.source)
    const symbol = sf && checker.getSymbolAtLocation(sf)
    if (symbol === undefined) throw new Error(`${e.specifier}: ${e.source} is not a module`)
    out.set(e, checker.getExportsOfModule(symbol).map((s) => s.name).sort())
  }
  return out
}

/** Runs the TypeDoc CLI from the repository root. */
function runTypedoc(args: readonly string[]): Promise<{ code: number; output: string }> {
  const bin = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc')
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [bin, ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolvePromise({ code, output: `${stdout}\n${stderr}` })
    })
  })
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '')

function hasText(parts: readonly { readonly text: string }[] | undefined): boolean {
  return parts !== undefined && parts.some((p) => p.text.trim() !== '')
}

let tmp = ''
let project: Reflection
let byId: Map<number, Reflection>
let typedocCode = 0
let diagnostics: string[] = []
let entries: Entry[] = []
let exportsOf: Map<Entry, string[]>

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'bitp2p-docs-'))
  const json = join(tmp, 'api.json')
  entries = entryPoints()
  // TypeDoc in a child process while this one builds the TypeScript program.
  const run = runTypedoc(['--json', json, '--treatWarningsAsErrors', 'false'])
  exportsOf = exportedNames(entries)
  const { code, output } = await run
  typedocCode = code
  diagnostics = stripAnsi(output)
    .split('\n')
    .filter((l) => /\[(warning|error)\]/.test(l) && !/Found \d+ errors and \d+ warnings/.test(l))
    .map((l) => l.trim())
  if (!existsSync(json)) throw new Error(`typedoc wrote no JSON (exit ${code}):\n${stripAnsi(output)}`)
  project = JSON.parse(readFileSync(json, 'utf8')) as Reflection
  byId = new Map()
  const walk = (r: Reflection): void => {
    byId.set(r.id, r)
    for (const c of r.children ?? []) walk(c)
    for (const s of r.signatures ?? []) walk(s)
  }
  walk(project)
}, BUILD_TIMEOUT_MS)

afterAll(() => {
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true })
})

/** The module that documents `e`: the package itself, or its sub-module when the package has several entry points. */
function moduleOf(e: Entry): Reflection | undefined {
  const pkg = project.children?.find((c) => c.name === e.pkg)
  if (pkg === undefined) return undefined
  const subs = (pkg.children ?? []).filter((c) => c.kind === KIND_MODULE)
  if (subs.length === 0) return e.file === 'index' ? pkg : undefined
  // Named after the file, or after the import specifier when the entry file says `@module <specifier>`.
  return subs.find((m) => m.name === e.file || m.name === e.specifier)
}

/** True when `r` (or what it documents: signatures, getter, the target of a re-export) has a doc comment. */
function documented(r: Reflection): boolean {
  if (r.kind === KIND_REFERENCE && r.target !== undefined) {
    const target = byId.get(r.target)
    return target !== undefined && documented(target)
  }
  return hasText(r.comment?.summary) || (r.signatures ?? []).some((s) => hasText(s.comment?.summary)) || hasText(r.getSignature?.comment?.summary)
}

describe('API reference (TypeDoc)', () => {
  it('builds: no errors, and typedoc.json treats warnings as errors', () => {
    expect(diagnostics.filter((d) => d.includes('[error]'))).toEqual([])
    expect(typedocCode).toBe(0)
    const config = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8')) as { treatWarningsAsErrors?: boolean }
    expect(config.treatWarningsAsErrors).toBe(true)
  })

  it('builds without warnings (undocumented or unexported names), so `npm run docs` passes', () => {
    expect(diagnostics).toEqual([])
  })

  it('documents every entry point of every package.json "exports"', () => {
    expect(entries.map((e) => e.specifier)).toEqual(
      expect.arrayContaining(['@bitp2p/wire', '@bitp2p/session', '@bitp2p/session/node', '@bitp2p/transport-ws', '@bitp2p/bridge']),
    )
    expect(entries.filter((e) => moduleOf(e) === undefined).map((e) => e.specifier)).toEqual([])
    // And nothing else: a documented module is an entry point someone can import.
    for (const pkg of project.children ?? []) {
      const subs = (pkg.children ?? []).filter((c) => c.kind === KIND_MODULE)
      expect(Math.max(subs.length, 1), pkg.name).toBe(entries.filter((e) => e.pkg === pkg.name).length)
    }
    expect((project.children ?? []).map((c) => c.name).sort()).toEqual(PACKAGES.map((p) => `@bitp2p/${p}`).sort())
  })

  it('every exported name is in the reflection, with a doc comment', () => {
    const missing: string[] = []
    const undocumented: string[] = []
    for (const e of entries) {
      const mod = moduleOf(e)
      const names = exportsOf.get(e)!
      expect(names.length, e.specifier).toBeGreaterThan(0)
      for (const name of names) {
        const r = mod?.children?.find((c) => c.name === name)
        if (r === undefined) missing.push(`${e.specifier}: ${name}`)
        else if (!documented(r)) undocumented.push(`${e.specifier}: ${name}`)
      }
    }
    expect(missing, 'exported but absent from the API reference').toEqual([])
    expect(undocumented, 'exported without a doc comment').toEqual([])
  })

  it('documents the main entry points and their members', () => {
    const member = (specifier: string, path: string): Reflection | undefined => {
      const e = entries.find((x) => x.specifier === specifier)
      let r = e && moduleOf(e)
      for (const part of path.split('.')) r = r?.children?.find((c) => c.name === part)
      return r
    }
    const wanted: [string, string][] = [
      ['@bitp2p/session', 'Peer.connect'],
      ['@bitp2p/session', 'Peer.getHeaders'],
      ['@bitp2p/session/chain', 'HeaderTree.acceptMany'],
      ['@bitp2p/session', 'HeaderSync.synced'],
      ['@bitp2p/session/core', 'PoolMachine'],
      ['@bitp2p/session/limits', 'DEFAULT_MAX_PEERS'],
      ['@bitp2p/session/node', 'FileHeaderStore'],
      ['@bitp2p/wire/codecs', 'FrameDecoder'],
      ['@bitp2p/wire', 'MessageDecoder'],
      ['@bitp2p/wire/codecs', 'BlockStreamParser'],
      ['@bitp2p/wire/filters', 'GcsFilter'],
      ['@bitp2p/wire/hash', 'sha256d'],
      ['@bitp2p/transport-tcp', 'TcpConnector'],
      ['@bitp2p/transport-ws', 'WsConnector'],
      ['@bitp2p/transport-cloudflare', 'CloudflareConnector'],
      ['@bitp2p/bridge', 'createBridge'],
      ['@bitp2p/transport-mock', 'MockNetwork.partition'],
      ['@bitp2p/transport-mock', 'Simulation.visit'],
      ['@bitp2p/transport-mock', 'VirtualClock.runAsync'],
    ]
    const bad = wanted.filter(([s, p]) => {
      const r = member(s, p)
      return r === undefined || !documented(r)
    })
    expect(bad.map(([s, p]) => `${s}: ${p}`)).toEqual([])
  })

  it('each package page is its README, with an API overview; the guides are pages too', () => {
    const text = (parts: readonly { readonly text: string }[] | undefined) => (parts ?? []).map((p) => p.text).join('')
    expect(text(project.readme)).toMatch(/^# bitp2p\n/)
    for (const dir of PACKAGES) {
      const name = `@bitp2p/${dir}`
      const readme = text(project.children?.find((c) => c.name === name)?.readme)
      expect(readme, name).toMatch(new RegExp(`^# ${name.replace('/', '\\/')}\\n`))
      expect(readme, name).toContain('\n## API overview\n')
    }
    expect((project.documents ?? []).map((d) => d.name).sort()).toEqual(['bridge-deployment', 'indexing-across-machines', 'simulation-testing'])
  })
})

/** README.md, docs/*.md and packages/*\/README.md. */
function markdownFiles(): string[] {
  const files = [join(ROOT, 'README.md')]
  const docs = join(ROOT, 'docs')
  if (existsSync(docs)) for (const f of readdirSync(docs)) if (f.endsWith('.md')) files.push(join(docs, f))
  for (const dir of PACKAGES) files.push(join(ROOT, 'packages', dir, 'README.md'))
  return files
}

/** Link targets of a markdown file, outside fenced code blocks and inline code: [text](target) and [label]: target. */
function linkTargets(markdown: string): string[] {
  const prose = markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .replace(/`[^`\n]*`/g, '')
  const out: string[] = []
  for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]!)
  for (const m of prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm)) out.push(m[1]!)
  return out
}

describe('markdown links', () => {
  it('the link finder sees links and skips code', () => {
    const sample = 'see [a](docs/a.md#x) and [b][r]\n\n```sh\n[c](nope.md)\n```\n`[d](nope.md)`\n[r]: ../b.md\n[e](https://x.example/)'
    expect(linkTargets(sample)).toEqual(['docs/a.md#x', 'https://x.example/', '../b.md'])
  })

  it('relative links in README.md, docs/*.md and packages/*/README.md point to files inside the repository', () => {
    const broken: string[] = []
    let checked = 0
    for (const file of markdownFiles()) {
      expect(existsSync(file), relative(ROOT, file)).toBe(true)
      for (const target of linkTargets(readFileSync(file, 'utf8'))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue // URLs, mailto:, same-page anchors
        const path = decodeURIComponent(target.replace(/[?#].*$/, ''))
        const abs = resolve(dirname(file), path)
        checked++
        const inside = abs === ROOT.replace(/[\\/]$/, '') || abs.startsWith(ROOT.endsWith(sep) ? ROOT : ROOT + sep)
        if (!inside || !existsSync(abs)) broken.push(`${relative(ROOT, file)}: ${target}${inside ? '' : ' (outside the repository)'}`)
      }
    }
    expect(checked).toBeGreaterThan(10)
    expect(broken).toEqual([])
  })
})

describe('simulation guide', () => {
  it("its example is the code of test/guide-example.test.ts (between the guide:start and guide:end markers)", () => {
    const test = readFileSync(join(ROOT, 'packages', 'transport-mock', 'test', 'guide-example.test.ts'), 'utf8')
    const m = /\/\/ guide:start\n([\s\S]*?)\/\/ guide:end\n/.exec(test)
    expect(m).not.toBeNull()
    const guide = readFileSync(join(ROOT, 'docs', 'simulation-testing.md'), 'utf8')
    expect(guide).toContain('```ts\n' + m![1]! + '```\n')
  })
})
