// The package must bundle for a browser with no polyfill and stay
// deterministic under a seeded Random: no Node built-ins, no Buffer, no
// process, no wall clock, no Math.random, no global crypto in src/.
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const SRC = new URL('../src/', import.meta.url).pathname
const FORBIDDEN: [RegExp, string][] = [
  [/from\s+['"]node:/, 'node: import'],
  [/from\s+['"](fs|net|crypto|buffer|os|path|stream|events)['"]/, 'Node built-in import'],
  [/\bBuffer\b/, 'Buffer'],
  [/\bprocess\./, 'process global'],
  [/Date\.now\(\)|new Date\(|performance\.now\(\)/, 'wall clock'],
  [/Math\.random\(/, 'unseeded randomness'],
  [/getRandomValues|randomBytes\(\d|@noble\/hashes\/utils/, 'randomness not from the injected Random'],
  [/@scure\/btc-signer['"]|@scure\/btc-signer\/(?!p2p\.js)/, 'a @scure/btc-signer entry other than p2p.js'],
]

describe('source purity', () => {
  it('packages/bip324/src uses no Node built-in, Buffer, process, clock, Math.random or other randomness', () => {
    const files = readdirSync(SRC).filter((f) => f.endsWith('.ts'))
    expect(files.length).toBeGreaterThan(5)
    const offenders: string[] = []
    for (const f of files) {
      readFileSync(join(SRC, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\*|\/\*|\/\/)/.test(line)) return // comments may name these things
          const code = line.replace(/\/\/.*$/, '')
          for (const [re, what] of FORBIDDEN) if (re.test(code)) offenders.push(`${f}:${i + 1} ${what}`)
        })
    }
    expect(offenders).toEqual([])
  })

  it('the check sees an offence (it is not vacuous)', () => {
    const [re] = FORBIDDEN.find(([, w]) => w === 'unseeded randomness')!
    expect(re.test('const x = Math.random()')).toBe(true)
  })
})
