// Bundles a bench entry from the sources with esbuild, as the Node builds
// resolve it: @bitp2p/wire and @bitp2p/session (and their subpaths) from
// their src/, and relative imports of `./x.js` to `./x.node.ts` where such
// a file exists (node:crypto SHA-256), else `./x.ts`. Other packages come
// from their built dist/ (run `npm run build` once).
import { build } from 'esbuild'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const packages = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

const nodeVariant = {
  name: 'node-variant',
  setup(b) {
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

/** Bundle `entry` (a path) into `outfile`, an ES module for Node. */
export async function bundleBench(entry, outfile) {
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    outfile,
    plugins: [nodeVariant],
    logLevel: 'warning',
  })
}
