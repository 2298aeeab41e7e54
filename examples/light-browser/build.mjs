#!/usr/bin/env node
// Bundles the page (main.ts) into dist/main.js, one minified file, from the
// packages' built dist files with examples/browser's bundler (rollup with a
// browser resolver, esbuild to strip the types and minify): run
// `npm run build` at the repository root first.
//
// Usage: node examples/light-browser/build.mjs   (writes examples/light-browser/dist/main.js)
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleForBrowser, shippedSizes } from '../browser/build.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))

/** Build examples/light-browser/dist/main.js (minified); returns its path and sizes. */
export async function buildExample() {
  // One file for the page: the v2 transport, loaded on demand elsewhere, inlined.
  const { code: chunks, imports, warnings } = await bundleForBrowser(join(HERE, 'main.ts'), { inline: true })
  if (imports.length > 0) throw new Error(`the bundle still imports ${imports.join(', ')}`)
  const sizes = await shippedSizes(chunks.join('\n'))
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
