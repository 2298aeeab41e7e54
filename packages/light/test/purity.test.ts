// The package must bundle for a browser with no polyfill: no Node built-ins,
// no Buffer, no process, no wall clock, no Math.random in src/.
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

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

describe('source purity', () => {
  it('packages/light/src uses no Node built-in, Buffer, process, clock or Math.random', () => {
    const files = sources(SRC)
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

  it('the check sees an offence (it is not vacuous)', () => {
    const hit = (s: string) => FORBIDDEN.some(([re]) => re.test(s))
    expect(hit("import { readFileSync } from 'node:fs'")).toBe(true)
    expect(hit('Buffer.from(x)')).toBe(true)
    expect(hit('const t = Date.now()')).toBe(true)
  })
})
