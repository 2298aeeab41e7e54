#!/usr/bin/env node
// `npm run fuzz` in packages/bip324: the wire fuzzer (packages/wire/fuzz)
// with the bip324 targets added. Like packages/wire/scripts/fuzz.mjs it
// bundles the CLI from the TypeScript sources with esbuild into a temporary
// file and runs it; one difference: the CLI's `./targets.js` resolves to
// fuzz/with-wire-targets.ts (wire's targets plus ours). Arguments pass
// through, e.g. `npm run fuzz -- --target bip324: --seconds 60 --seed 42`.
import { build } from 'esbuild'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const pkg = resolve(here, '..')
const wire = resolve(pkg, '../wire')
const dataDir = resolve(pkg, '../../../shared/data/blocks')
const wireCli = join(wire, 'fuzz/cli.ts')
const wireRun = join(wire, 'fuzz/run.ts')

const plugin = {
  name: 'bitp2p-bip324-fuzz',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      // The CLI and the runner take their targets module from here (one module, so one FuzzFinding class).
      if (args.path === './targets.js' && (args.importer === wireCli || args.importer === wireRun)) {
        return { path: join(pkg, 'fuzz/with-wire-targets.ts') }
      }
      // Node variants of the sources (*.node.ts), as wire's script does; .js imports resolve to .ts.
      const ts = resolve(args.resolveDir, args.path.slice(0, -3) + '.ts')
      const node = resolve(args.resolveDir, args.path.slice(0, -3) + '.node.ts')
      if (existsSync(node)) return { path: node }
      if (existsSync(ts)) return { path: ts }
      return undefined
    })
  },
}

const dir = mkdtempSync(join(tmpdir(), 'bitp2p-bip324-fuzz-'))
const outfile = join(dir, 'fuzz.mjs')
let code = 1
try {
  await build({
    entryPoints: [wireCli],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    sourcemap: 'inline',
    logLevel: 'warning',
    plugins: [plugin],
  })
  const { main } = await import(pathToFileURL(outfile).href)
  code = await main(process.argv.slice(2), { dataDir })
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exit(code)
