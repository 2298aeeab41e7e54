// The SDK as a web app ships it: wire + session + the WsConnector bundled
// with rollup from the packages' built dist files under the browser export
// conditions (examples/browser/build.mjs), minified with esbuild, gzipped.
// Checks the bundles are browser-clean and prints their sizes; the light
// client's must stay under its gzip budget.
import { describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { bundleForBrowser, shippedSizes } from '../../../examples/browser/build.mjs'
import { scaled } from '../../../test/harness/timing.js'
import { sourceAliases } from '../../../vitest.aliases.js'
import {
  LIGHT_CLIENT as LIGHT_CLIENT_IMPORTS,
  LIGHT_CLIENT_GZIP_BUDGET,
  nodeGlobalReferences,
  reexportModule,
  V2_LIGHT_CLIENT as V2_LIGHT_CLIENT_IMPORTS,
  V2_LIGHT_CLIENT_GZIP_BUDGET,
} from '../../../test/harness/bundle-check.js'

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url))
const PACKAGES = ['wire', 'session', 'transport-ws'] as const
const DIST = PACKAGES.map((p) => here(`../../${p}/dist/index.js`))
const built = DIST.every((f) => existsSync(f))

/** What a browser light client imports, with and without the v2 transport: the budgets are shared with the consumer job (test/consumer). */
const LIGHT_CLIENT = reexportModule(LIGHT_CLIENT_IMPORTS)
const V2_LIGHT_CLIENT = reexportModule(V2_LIGHT_CLIENT_IMPORTS)
/** Every browser entry point of the three packages (session's Node-only /node aside): the upper bound. */
const WHOLE_SDK = [
  '@bitp2p/wire',
  ...['messages', 'codecs', 'hash', 'filters', 'consensus', 'limits'].map((e) => `@bitp2p/wire/${e}`),
  '@bitp2p/session',
  ...['core', 'chain', 'limits', 'v2'].map((e) => `@bitp2p/session/${e}`),
  '@bitp2p/transport-ws',
]
  .map((e) => `export * from '${e}'\n`)
  .join('')

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`

describe('nodeGlobalReferences (the checker used below)', () => {
  it('finds Node globals used as variables, not as member names or keys', () => {
    expect(nodeGlobalReferences('const a = process.env.X; Buffer.from([1]); typeof global')).toEqual(['Buffer', 'global', 'process'])
    expect(nodeGlobalReferences('x.process(1); ({ process: 1, Buffer }); class C { process() {} Buffer = 1 }')).toEqual(['Buffer'])
    expect(nodeGlobalReferences('o[process] = 1')).toEqual(['process'])
  })
})

describe.skipIf(!built)('browser bundle of wire + session + transport-ws (from dist; run `npm run build` first)', () => {
  for (const [name, code, budget] of [
    ['light client', LIGHT_CLIENT, LIGHT_CLIENT_GZIP_BUDGET],
    ['v2 light client', V2_LIGHT_CLIENT, V2_LIGHT_CLIENT_GZIP_BUDGET],
    ['whole SDK', WHOLE_SDK, undefined],
  ] as const) {
    it(`${name}: self-contained, no node:* import, no Node globals${budget ? `, gzip < ${kb(budget)}` : ''}`, { timeout: scaled(60_000) }, async () => {
      const b = await bundleForBrowser({ id: `\0bitp2p-${name.replaceAll(' ', '-')}`, code })
      // One file: nothing is loaded on demand.
      expect(b.lazy).toEqual([])
      expect(b.warnings).toEqual([])
      // Everything is inside: no import left, of node:* or anything else.
      expect(b.imports).toEqual([])
      for (const c of b.code) expect(c).not.toMatch(/\bfrom\s*["']node:|\bimport\(\s*["']node:|\brequire\(/)
      // Built from the dist files (one module per source module), the browser build of wire (not dist/node-variant).
      const ids = b.modules.map((m) => m.id)
      for (const p of PACKAGES) expect(ids.some((id) => id.startsWith(here(`../../${p}/dist/`))), p).toBe(true)
      // The ciphers only where v2 is asked for.
      expect(ids.some((id) => id.includes('/bip324/dist/') || id.includes('@noble/curves'))).toBe(name !== 'light client')
      expect(ids.filter((id) => /\/dist\/node-variant\/|\.node\.js$|\/bridge\.js$|node_modules\/ws\//.test(id))).toEqual([])

      const s = await shippedSizes(b.code)
      for (const m of s.minified) expect(nodeGlobalReferences(m)).toEqual([])
      expect(s.gzipBytes).toBeLessThan(s.minifiedBytes)
      console.log(
        `[bundle-size] ${name}: ${s.bytes} B bundled, ${s.minifiedBytes} B minified (${kb(s.minifiedBytes)}), ` +
          `${s.gzipBytes} B gzipped (${kb(s.gzipBytes)})\n` +
          b.modules.map((m) => `    ${String(m.bytes).padStart(7)} B  ${m.id.replace(/^.*?\/(packages|node_modules)\//, '$1/')}`).join('\n'),
      )
      if (budget !== undefined) expect(s.gzipBytes).toBeLessThan(budget)
    })
  }
})

describe('what dominates the minified bundle (per source module)', () => {
  it('lists the biggest modules of the whole SDK, all of them browser code', { timeout: scaled(60_000) }, async () => {
    // The dist files are one module per package, so the per-module view
    // comes from an esbuild bundle of the sources (same exports, minified).
    // Every entry of the three packages to its source (bip324 stays its build).
    const alias = Object.fromEntries(Object.entries(sourceAliases).filter(([k]) => PACKAGES.some((p) => k === `@bitp2p/${p}` || k.startsWith(`@bitp2p/${p}/`))))
    const r = await build({
      stdin: { contents: WHOLE_SDK, resolveDir: here('.'), loader: 'ts' },
      absWorkingDir: here('../../../'), // input paths relative to the repository root
      bundle: true,
      write: false,
      minify: true,
      format: 'esm',
      platform: 'browser',
      metafile: true,
      alias,
      logLevel: 'silent',
    })
    const out = Object.values(r.metafile!.outputs)[0]!
    const rows = Object.entries(out.inputs)
      .map(([file, v]) => ({ file, bytes: v.bytesInOutput }))
      .filter((x) => x.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes)
    // Only the packages' sources (bip324 from its build, under session's v2 entry) and their dependencies, no Node-only module.
    for (const { file } of rows) {
      expect(file).toMatch(/packages\/(wire|session|transport-ws)\/src\/|packages\/bip324\/dist\/|node_modules\/(@noble\/(hashes|curves|ciphers)|@scure\/(base|btc-signer)|eventemitter3)\//)
      expect(file).not.toMatch(/\.node\.ts$|packages\/bridge\/|node_modules\/ws\//)
    }
    const byPackage = new Map<string, number>()
    for (const { file, bytes } of rows) {
      const pkg = /packages\/([^/]+)\/(src|dist)\//.exec(file)?.[1] ?? /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(file)![1]!
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytes)
    }
    const total = rows.reduce((a, x) => a + x.bytes, 0)
    expect(total).toBeLessThanOrEqual(out.bytes)
    console.log(
      `[bundle-size] whole SDK from sources: ${out.bytes} B minified; by package: ` +
        [...byPackage].sort((a, b) => b[1] - a[1]).map(([p, b]) => `${p} ${b}`).join(', ') +
        '\n  largest modules (minified bytes):\n' +
        rows.slice(0, 15).map((x) => `    ${String(x.bytes).padStart(6)}  ${x.file}`).join('\n'),
    )
  })
})
