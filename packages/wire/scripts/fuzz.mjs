#!/usr/bin/env node
// `npm run fuzz`: bundles fuzz/cli.ts from the TypeScript sources with
// esbuild (no package build needed; the Node variant of the sources, as in
// dist/node-variant/, so hashing uses node:crypto) into a temporary file,
// then runs it. Arguments are passed through: see fuzz/README.md.
import { build } from 'esbuild'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const pkg = resolve(here, '..')
// packages/wire/scripts -> the directory holding the checkout, then shared/data/blocks.
const dataDir = resolve(pkg, '../../../shared/data/blocks')

/** Relative `./x.js` imports resolve to `./x.node.ts` when it exists (rollup.shared.mjs does the same). */
const nodeVariant = {
  name: 'bitp2p-node-variant',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      const ts = resolve(args.resolveDir, args.path.slice(0, -3) + '.ts')
      const node = resolve(args.resolveDir, args.path.slice(0, -3) + '.node.ts')
      if (existsSync(node)) return { path: node }
      if (existsSync(ts)) return { path: ts }
      return undefined
    })
  },
}

const dir = mkdtempSync(join(tmpdir(), 'bitp2p-fuzz-'))
const outfile = join(dir, 'fuzz.mjs')
let code = 1
try {
  await build({
    entryPoints: [join(pkg, 'fuzz/cli.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    sourcemap: 'inline',
    logLevel: 'warning',
    plugins: [nodeVariant],
  })
  const { main } = await import(pathToFileURL(outfile).href)
  code = await main(process.argv.slice(2), { dataDir })
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exit(code)
