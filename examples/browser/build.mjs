#!/usr/bin/env node
// Bundles the example page (main.ts) into dist/main.js with rollup, from the
// packages' built dist files: run `npm run build` at the repository root
// first.
//
// No @rollup/plugin-node-resolve: `browserResolve()` below resolves bare
// imports the way a browser bundler does. It walks up node_modules from the
// importer, reads the package's "exports" and takes the first of the
// conditions "browser", "import", "default" (never "node": wire's
// dist/index.node.js uses node:crypto). node:* imports are left as external
// imports, so a bundle that needs one shows it instead of failing here;
// packages/transport-ws/test/bundle-size.test.ts checks there is none.
//
// Usage: node examples/browser/build.mjs   (writes examples/browser/dist/main.js)
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { rollup } from 'rollup'
import { transform } from 'esbuild'

const HERE = dirname(fileURLToPath(import.meta.url))

/** Export conditions tried, in order, for a browser bundle. */
export const BROWSER_CONDITIONS = Object.freeze(['browser', 'import', 'default'])

/**
 * Packages whose "import" entry is only an ESM wrapper around CommonJS
 * (which rollup cannot bundle without the commonjs plugin), mapped to the
 * ESM build they ship. eventemitter3's index.mjs imports its CommonJS
 * index.js; dist/eventemitter3.esm.js is the same code as a module.
 */
export const ESM_BUILDS = Object.freeze({ eventemitter3: 'dist/eventemitter3.esm.js' })

/** Split a bare specifier into package name and subpath ('./x.js' or '.'). */
function splitSpecifier(source) {
  const parts = source.split('/')
  const n = source.startsWith('@') ? 2 : 1
  const name = parts.slice(0, n).join('/')
  const rest = parts.slice(n).join('/')
  return { name, subpath: rest === '' ? '.' : `./${rest}` }
}

/** The package directory of `name` seen from `fromDir` (Node's node_modules walk). */
function findPackageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

/** The target of an "exports" entry under the browser conditions (strings, arrays and nested condition objects). */
function pickTarget(entry) {
  if (typeof entry === 'string') return entry
  if (Array.isArray(entry)) {
    for (const e of entry) {
      const t = pickTarget(e)
      if (t !== undefined) return t
    }
    return undefined
  }
  if (entry === null || typeof entry !== 'object') return undefined
  for (const c of BROWSER_CONDITIONS) {
    if (c in entry) {
      const t = pickTarget(entry[c])
      if (t !== undefined) return t
    }
  }
  return undefined
}

/** The file a bare specifier means in a browser bundle, or undefined. */
export function resolveBrowserEntry(source, fromDir) {
  const { name, subpath } = splitSpecifier(source)
  const dir = findPackageDir(name, fromDir)
  if (dir === undefined) return undefined
  if (subpath === '.' && Object.hasOwn(ESM_BUILDS, name)) return join(dir, ESM_BUILDS[name])
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  let target
  if (pkg.exports !== undefined) {
    const exp = typeof pkg.exports === 'string' || Array.isArray(pkg.exports) || !Object.keys(pkg.exports).some((k) => k.startsWith('.'))
      ? { '.': pkg.exports }
      : pkg.exports
    target = pickTarget(exp[subpath])
  } else {
    target = subpath === '.' ? (pkg.module ?? pkg.main ?? 'index.js') : subpath
  }
  return target === undefined ? undefined : join(dir, target)
}

/** A rollup plugin: bare imports to their browser ESM files; node:* stays an external import. */
export function browserResolve() {
  return {
    name: 'bitp2p-browser-resolve',
    resolveId(source, importer) {
      if (source.startsWith('node:')) return { id: source, external: true }
      if (source.startsWith('.') || source.startsWith('/') || source.startsWith('\0') || importer === undefined) return null
      // An entry given as text ('\0...') resolves from this folder.
      const fromDir = importer.startsWith('\0') ? HERE : dirname(importer)
      const file = resolveBrowserEntry(source, fromDir)
      if (file === undefined) this.error(`cannot resolve '${source}' for the browser (imported by ${importer})`)
      return realpathSync(file)
    },
  }
}

/** A rollup plugin that strips TypeScript with esbuild (only for .ts files of the example itself). */
export function stripTypes() {
  return {
    name: 'bitp2p-strip-types',
    async transform(code, id) {
      if (!id.endsWith('.ts')) return null
      const out = await transform(code, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: id })
      return { code: out.code, map: null }
    },
  }
}

/**
 * Rollup warnings that say nothing about our code: a dependency's
 * `@__PURE__` comment in a place rollup cannot use (@scure/base, under
 * the v2 transport's @scure/btc-signer). Rollup drops the comment; the
 * code is unchanged.
 */
const HARMLESS_WARNINGS = new Set(['INVALID_ANNOTATION'])

/**
 * Bundle `input` (a file, or `{ id, code }` of an entry module given as text)
 * for the browser. Returns the entry chunk's ESM code, its bare and node:*
 * imports left external, and the rendered (unminified) bytes of each of
 * its modules; `lazy` holds the chunks it loads on demand (the v2
 * transport: `Peer` imports it only when a connection speaks v2). With
 * `{ inline: true }` the lazy code is inlined: one file.
 */
export async function bundleForBrowser(input, { inline = false } = {}) {
  const virtual = typeof input === 'string' ? undefined : input
  const entry = {
    name: 'bitp2p-virtual-entry',
    resolveId: (source) => (virtual !== undefined && source === virtual.id ? virtual.id : null),
    load: (id) => (virtual !== undefined && id === virtual.id ? virtual.code : null),
  }
  const warnings = []
  const bundle = await rollup({
    input: virtual === undefined ? input : virtual.id,
    plugins: [entry, browserResolve(), stripTypes()],
    onwarn: (w) => {
      if (!HARMLESS_WARNINGS.has(w.code) || !String(w.id ?? w.loc?.file ?? w.message).includes('node_modules')) warnings.push(w.message)
    },
  })
  try {
    const { output } = await bundle.generate({ format: 'es', inlineDynamicImports: inline })
    const chunks = output.filter((c) => c.type === 'chunk')
    const sizes = (chunk) =>
      Object.entries(chunk.modules)
        .map(([id, m]) => ({ id, bytes: m.renderedLength }))
        .sort((a, b) => b.bytes - a.bytes)
    // What the page loads at once: the entry and the chunks it imports statically (shared code);
    // the rest is loaded on demand.
    const byName = new Map(chunks.map((c) => [c.fileName, c]))
    const eager = []
    const visit = (c) => {
      if (eager.includes(c)) return
      eager.push(c)
      for (const i of c.imports) if (byName.has(i)) visit(byName.get(i))
    }
    visit(chunks.find((c) => c.isEntry))
    const external = [...new Set(eager.flatMap((c) => c.imports.filter((i) => !byName.has(i))))]
    const lazy = chunks.filter((c) => !eager.includes(c)).map((c) => ({ fileName: c.fileName, code: c.code, imports: c.imports, modules: sizes(c) }))
    return {
      code: eager.map((c) => c.code),
      imports: external,
      modules: eager.flatMap((c) => sizes(c)).sort((a, b) => b.bytes - a.bytes),
      lazy,
      warnings,
    }
  } finally {
    await bundle.close()
  }
}

/**
 * Minify with esbuild and gzip (level 9): the sizes a page would ship. Given
 * several chunks, each is minified and gzipped on its own (as served) and
 * the sizes are summed; `minified` is then the chunks' code, one per item.
 */
export async function shippedSizes(code) {
  const parts = typeof code === 'string' ? [code] : code
  const minified = []
  for (const c of parts) minified.push((await transform(c, { minify: true, format: 'esm', target: 'es2022' })).code)
  return {
    minified: typeof code === 'string' ? minified[0] : minified,
    bytes: parts.reduce((n, c) => n + Buffer.byteLength(c), 0),
    minifiedBytes: minified.reduce((n, c) => n + Buffer.byteLength(c), 0),
    gzipBytes: minified.reduce((n, c) => n + gzipSync(c, { level: 9 }).length, 0),
  }
}

/** Build examples/browser/dist/main.js (minified); returns its path and sizes. */
export async function buildExample() {
  // One file for the page: the v2 transport inlined.
  const { code: chunks, imports, warnings } = await bundleForBrowser(join(HERE, 'main.ts'), { inline: true })
  const code = chunks.join('\n')
  if (imports.length > 0) throw new Error(`the example bundle still imports ${imports.join(', ')}`)
  const sizes = await shippedSizes(code)
  mkdirSync(join(HERE, 'dist'), { recursive: true })
  const file = join(HERE, 'dist', 'main.js')
  writeFileSync(file, sizes.minified)
  return { file, warnings, bytes: sizes.bytes, minifiedBytes: sizes.minifiedBytes, gzipBytes: sizes.gzipBytes }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const r = await buildExample()
  for (const w of r.warnings) console.warn(`warning: ${w}`)
  console.log(`wrote ${r.file}: ${r.minifiedBytes} bytes minified, ${r.gzipBytes} bytes gzipped`)
}
