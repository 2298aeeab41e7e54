// The package must bundle for a browser with no polyfill: no Node built-ins,
// no Buffer, no process, no wall clock, no Math.random in src/, except the
// Node-only store files (*.node.ts) behind the `@bitp2p/light/node` entry
// (src/node.ts), which the main and IndexedDB entries never import.
/// <reference types="node" />
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const SRC = new URL('../src/', import.meta.url).pathname
const FORBIDDEN: [RegExp, string][] = [
  [/from\s+['"]node:/, 'node: import'],
  [/from\s+['"](fs|net|crypto|buffer|os|path|stream|events)['"]/, 'Node built-in import'],
  [/\bBuffer\b/, 'Buffer'],
  [/\bprocess\./, 'process global'],
  [/Date\.now\(\)|new Date\(|performance\.now\(\)/, 'wall clock'],
  [/Math\.random\(/, 'unseeded randomness'],
]

/** The Node-only files: the `./node` entry and what only it imports. */
const NODE_ONLY = [/\.node\.ts$/, /^node\.ts$/]

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

describe('source purity', () => {
  it('packages/light/src uses no Node built-in, Buffer, process, clock or Math.random (Node-only files aside)', () => {
    const files = sources(SRC).filter((f) => !NODE_ONLY.some((re) => re.test(relative(SRC, f))))
    expect(files.length).toBeGreaterThanOrEqual(4)
    const offenders: string[] = []
    for (const f of files) {
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\*|\/\*|\/\/)/.test(line)) return // comments may name these things
          const code = line.replace(/\/\/.*$/, '')
          for (const [re, what] of FORBIDDEN) if (re.test(code)) offenders.push(`${relative(SRC, f)}:${i + 1} ${what}`)
        })
    }
    expect(offenders).toEqual([])
  })

  it('only Node-only files import a *.node.js module (the main and IndexedDB entries never reach node:fs)', () => {
    const offenders: string[] = []
    for (const f of sources(SRC)) {
      if (NODE_ONLY.some((re) => re.test(relative(SRC, f)))) continue
      if (/from\s+['"][^'"]*\.node\.js['"]/.test(readFileSync(f, 'utf8'))) offenders.push(relative(SRC, f))
    }
    expect(offenders).toEqual([])
    // And the Node entry does reach one (the filter above is not vacuous).
    expect(readFileSync(join(SRC, 'node.ts'), 'utf8')).toMatch(/from '\.\/store\/file\.node\.js'/)
  })

  it('the check sees an offence (it is not vacuous)', () => {
    const hit = (s: string) => FORBIDDEN.some(([re]) => re.test(s))
    expect(hit("import { readFileSync } from 'node:fs'")).toBe(true)
    expect(hit('Buffer.from(x)')).toBe(true)
    expect(hit('const t = Date.now()')).toBe(true)
  })
})
