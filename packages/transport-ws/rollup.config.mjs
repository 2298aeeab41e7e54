import { config } from '../../rollup.shared.mjs'
import esbuild from 'rollup-plugin-esbuild'
import { readFileSync } from 'node:fs'

// index: the browser-clean client. bridge: the Node server ('./bridge').
// bin: the bitp2p-bridge command.
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'))
const deps = Object.keys(pkg.dependencies ?? {})
const external = (id) => id.startsWith('node:') || deps.some((d) => id === d || id.startsWith(d + '/'))

export default [
  ...config(new URL('./', import.meta.url), { entries: { bridge: 'src/bridge.ts' } }),
  {
    input: 'src/bin.ts',
    external,
    plugins: [esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' })],
    output: [{ file: 'dist/bin.js', format: 'es', banner: '#!/usr/bin/env node' }],
  },
]
