// One rollup config for every package: an ESM bundle plus one bundled .d.ts.
//
// `entries` adds further entry points (e.g. { node: 'src/node.ts' } for
// Node-only extras exported as "<pkg>/node").
//
// With { nodeVariant: true } a second bundle dist/index.node.js is built in
// which every relative import of `./x.js` is replaced by `./x.node.ts` when
// that file exists. That is how Node-only speed-ups (node:crypto hashing) sit
// behind the package's "node" export condition while the default stays pure.
import esbuild from 'rollup-plugin-esbuild'
import { dts } from 'rollup-plugin-dts'
import { readFileSync, existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

function nodeVariantPlugin() {
  return {
    name: 'bitp2p-node-variant',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.') || !source.endsWith('.js')) return null
      const candidate = resolve(dirname(importer), source.slice(0, -3) + '.node.ts')
      return existsSync(candidate) ? candidate : null
    },
  }
}

export function config(pkgDir, { nodeVariant = false, entries = {} } = {}) {
  const pkg = JSON.parse(readFileSync(new URL('package.json', pkgDir), 'utf8'))
  const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]
  const external = (id) =>
    id.startsWith('node:') || deps.some((d) => id === d || id.startsWith(d + '/'))
  const js = (file, extra = [], input = 'src/index.ts') => ({
    input,
    external,
    plugins: [...extra, esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' })],
    output: [{ file, format: 'es', sourcemap: true }],
  })
  return [
    js('dist/index.js'),
    ...(nodeVariant ? [js('dist/index.node.js', [nodeVariantPlugin()])] : []),
    ...Object.entries({ index: 'src/index.ts', ...entries }).flatMap(([name, input]) => [
      ...(name === 'index' ? [] : [js(`dist/${name}.js`, [], input)]),
      {
        input,
        external,
        plugins: [dts({ tsconfig: 'tsconfig.json' })],
        output: [{ file: `dist/${name}.d.ts`, format: 'es' }],
      },
    ]),
  ]
}
