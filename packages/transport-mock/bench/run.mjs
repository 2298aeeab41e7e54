// Bundle peers.bench.ts from the sources (no build needed) and run it.
// Relative imports of `./x.js` become `./x.node.ts` where such a file
// exists, as in the Node builds (node:crypto SHA-256), so the numbers are
// those of the package as Node users get it. With the default peer count,
// the figures go to bench/peers-results.json with the date and the
// machine's load averages (1, 5, 15 min) at the start and the end.
import { build } from 'esbuild'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const packages = resolve(here, '../..')
const nodeVariant = {
  name: 'node-variant',
  setup(b) {
    // @bitp2p/wire, @bitp2p/session and their subpaths (@bitp2p/wire/codecs -> wire/src/codecs.ts).
    b.onResolve({ filter: /^@bitp2p\/(wire|session)(\/[\w-]+)?$/ }, (a) => {
      const [, pkg, sub = 'index'] = /^@bitp2p\/(wire|session)(?:\/([\w-]+))?$/.exec(a.path)
      return { path: join(packages, pkg, 'src', `${sub}.ts`) }
    })
    b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (a) => {
      const base = resolve(a.resolveDir, a.path.slice(0, -3))
      if (existsSync(base + '.node.ts')) return { path: base + '.node.ts' }
      if (existsSync(base + '.ts')) return { path: base + '.ts' }
      return undefined
    })
  },
}
const RESULTS = join(here, 'peers-results.json')
const dir = mkdtempSync(join(tmpdir(), 'bitp2p-bench-'))
const out = join(dir, 'peers.bench.mjs')
try {
  await build({
    entryPoints: [join(here, 'peers.bench.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    outfile: out,
    plugins: [nodeVariant],
    logLevel: 'warning',
  })
  const loadStart = loadavg()
  console.log(`Node ${process.version}; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`)
  const { results } = await import(pathToFileURL(out).href)
  const loadEnd = loadavg()
  console.log(`load average at the end: ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`)
  // Only the default run (10,000 peers) is the recorded figure.
  if (process.argv[2] === undefined) {
    writeFileSync(RESULTS, JSON.stringify({ date: new Date().toISOString(), node: process.version, loadStart, loadEnd, ...results }, null, 2) + '\n')
    console.log(`wrote ${RESULTS}`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
