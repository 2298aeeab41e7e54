// Import cycles among the runtime imports of a package's sources (`import
// type` and type-only specifiers are erased by the compiler, so they don't
// count). Used by packages/transport-tcp/test/packages.test.ts; run it
// directly to list the cycles of every package: node scripts/import-cycles.mjs
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?([^'";]*?)\s*from\s+['"](\.[^'"]+)['"]/gm

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** True when an `import { ... }` / `export { ... }` names only types. */
function typeOnly(clause) {
  const braces = /^\{([^}]*)\}$/.exec(clause.trim())
  if (!braces) return false
  const names = braces[1].split(',').map((x) => x.trim()).filter((x) => x !== '')
  return names.length > 0 && names.every((x) => x.startsWith('type '))
}

/** The runtime import graph of the .ts files under `src`: file -> files it imports. */
export function importGraph(src) {
  const graph = new Map()
  for (const f of sources(src)) {
    const deps = []
    for (const m of readFileSync(f, 'utf8').matchAll(IMPORT)) {
      if (m[1] || typeOnly(m[2])) continue
      deps.push(resolve(dirname(f), m[3].replace(/\.js$/, '.ts')))
    }
    graph.set(f, deps)
  }
  return graph
}

/** Every cycle a depth-first search meets in `graph`, as lists of nodes (first = last). */
export function cyclesIn(graph) {
  const state = new Map()
  const stack = []
  const cycles = []
  const visit = (n) => {
    state.set(n, 'open')
    stack.push(n)
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d])
      else if (!state.has(d)) visit(d)
    }
    stack.pop()
    state.set(n, 'done')
  }
  for (const n of graph.keys()) if (!state.has(n)) visit(n)
  return cycles
}

/** The cycles of the package sources in `src`, as "a.ts -> b.ts -> a.ts". */
export function importCycles(src) {
  return cyclesIn(importGraph(src)).map((c) => c.map((f) => relative(src, f)).join(' -> '))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = new URL('../packages/', import.meta.url).pathname
  let found = 0
  for (const pkg of readdirSync(root)) {
    const src = join(root, pkg, 'src')
    if (!existsSync(src)) continue
    for (const c of importCycles(src)) console.log(`${pkg}: ${c}`, found++)
  }
  if (found === 0) console.log('no import cycles')
  process.exitCode = found === 0 ? 0 : 1
}
