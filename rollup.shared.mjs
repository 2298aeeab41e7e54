// One rollup config for every package: ESM with the source modules preserved
// (dist/<path>.js per src/<path>.ts, so that with "sideEffects": false a
// bundler drops every module an app does not reach), plus a .d.ts per entry
// point (dist/<entry>.d.ts) with the declarations entries share in
// dist/types/.
//
// `entries` adds further entry points (e.g. { node: 'src/node.ts' } for
// Node-only extras exported as "<pkg>/node"; { codecs: 'src/codecs.ts' }
// for a subpath "<pkg>/codecs"), each also listed in package.json "exports".
//
// `external` names further modules the runtime provides and that must never
// be bundled (e.g. 'cloudflare:sockets'); node:* and the package's
// dependencies are always external.
//
// With { nodeVariant: true } a second tree dist/node-variant/ is built in
// which every relative import of `./x.js` is replaced by `./x.node.ts` when
// that file exists. That is how Node-only speed-ups (node:crypto hashing and
// ChaCha20-Poly1305) sit behind the package's "node" export condition while
// the default stays pure. A vitest config can run tests against the Node
// variant with the same plugin (packages/bip324/vitest.config.ts).
import esbuild from 'rollup-plugin-esbuild'
import { dts } from 'rollup-plugin-dts'
import { readFileSync, existsSync, rmSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

/** The resolver of the Node variant: `./x.js` -> `./x.node.ts` where that file exists (a rollup and vite plugin). */
export function nodeVariantPlugin() {
  return {
    name: 'bitp2p-node-variant',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.') || !source.endsWith('.js')) return null
      const candidate = resolve(dirname(importer), source.slice(0, -3) + '.node.ts')
      return existsSync(candidate) ? candidate : null
    },
  }
}

export function config(pkgDir, { nodeVariant = false, entries = {}, external: runtimeModules = [] } = {}) {
  // A clean dist every build: a module removed from src must not linger in
  // dist (and so in the tarball).
  rmSync(new URL('dist', pkgDir), { recursive: true, force: true })
  const pkg = JSON.parse(readFileSync(new URL('package.json', pkgDir), 'utf8'))
  const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]
  const external = (id) =>
    id.startsWith('node:') || runtimeModules.includes(id) || deps.some((d) => id === d || id.startsWith(d + '/'))
  const inputs = { index: 'src/index.ts', ...entries }
  const js = (dir, extra = []) => ({
    input: inputs,
    external,
    plugins: [...extra, esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' })],
    output: [{ dir, format: 'es', sourcemap: true, preserveModules: true, preserveModulesRoot: 'src', entryFileNames: '[name].js' }],
  })
  return [
    js('dist'),
    ...(nodeVariant ? [js('dist/node-variant', [nodeVariantPlugin()])] : []),
    // One declaration build over every entry: a declaration two entries share
    // (a class both reach) goes to one chunk both import, never a copy in
    // each, so a class with private members stays one type to the compiler.
    {
      input: inputs,
      external,
      plugins: [dts({ tsconfig: 'tsconfig.json' })],
      output: [{ dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: 'types/[name].d.ts' }],
    },
  ]
}
