// Tests run against the sibling packages' sources, so a change in wire or
// session is seen without a rebuild. The built bundles are exercised by the
// runtime smoke tests and the browser bundle check.
//
// Every "exports" subpath of every package.json (./dist/X.js) maps to its
// source (src/X.ts), so a new entry point needs no edit here.
import { readdirSync, readFileSync, existsSync } from 'node:fs'

const root = new URL('./packages/', import.meta.url)

/** [specifier, source path] of every entry point, subpaths before their package's bare name. */
function entryAliases(): [string, string][] {
  const subpaths: [string, string][] = []
  const bare: [string, string][] = []
  for (const dir of readdirSync(root).sort()) {
    const pjUrl = new URL(`${dir}/package.json`, root)
    if (!existsSync(pjUrl)) continue
    const pj = JSON.parse(readFileSync(pjUrl, 'utf8')) as { name: string; exports?: Record<string, string | { default: string }> }
    for (const [subpath, target] of Object.entries(pj.exports ?? {})) {
      const m = /^\.\/dist\/([\w-]+)\.js$/.exec(typeof target === 'string' ? target : target.default)
      if (m === null) continue // ./package.json
      const source = new URL(`${dir}/src/${m[1]}.ts`, root).pathname
      if (subpath === '.') bare.push([pj.name, source])
      else subpaths.push([`${pj.name}/${subpath.slice(2)}`, source])
    }
  }
  // Subpath entries first: '@bitp2p/session' would match '@bitp2p/session/core' as a prefix.
  return [...subpaths, ...bare]
}

/** resolve.alias for every package's vitest config. */
export const sourceAliases: Record<string, string> = Object.fromEntries(entryAliases())
