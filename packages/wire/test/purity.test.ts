// The sans-IO core must bundle for a browser with no polyfill: no Node
// built-ins, no Buffer, no process, no wall clock, no Math.random, in
// packages/wire/src and packages/session/src, except files named *.node.ts
// (selected by the "node" export condition) and the driver's real-time clock.
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('../../../', import.meta.url).pathname
const FORBIDDEN: [RegExp, string][] = [
  [/from\s+['"]node:/, 'node: import'],
  [/from\s+['"](fs|net|crypto|buffer|os|path|stream|events)['"]/, 'Node built-in import'],
  [/\bBuffer\./, 'Buffer'],
  [/\bprocess\./, 'process global'],
  [/Date\.now\(\)/, 'wall clock'],
  [/new Date\(/, 'wall clock'],
  [/Math\.random\(/, 'unseeded randomness'],
]
const ALLOWED_FILES = [/\.node\.ts$/, /realtime-clock\.ts$/]

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []
  })
}

describe('core purity', () => {
  for (const pkg of ['wire', 'session']) {
    it(`packages/${pkg}/src touches no Node built-in, Buffer, process, clock or Math.random`, () => {
      const offenders: string[] = []
      const list = files(join(root, 'packages', pkg, 'src'))
      expect(list.length).toBeGreaterThan(0)
      for (const f of list) {
        if (ALLOWED_FILES.some((re) => re.test(f))) continue
        const lines = readFileSync(f, 'utf8').split('\n')
        lines.forEach((line, i) => {
          // Comments may name these things; only code counts.
          if (/^\s*(\*|\/\*)/.test(line)) return
          const code = line.replace(/\/\/.*$/, '')
          for (const [re, what] of FORBIDDEN) if (re.test(code)) offenders.push(`${f.slice(root.length)}:${i + 1} ${what}`)
        })
      }
      expect(offenders).toEqual([])
    })
  }
})
