// The package must bundle for a browser with no polyfill and stay
// deterministic under a seeded Random: no Node built-ins, no Buffer, no
// process, no wall clock, no Math.random, no global crypto in src/.
// Files named *.node.ts are the Node variant (the "node" export condition,
// see rollup.shared.mjs): they may import node:* built-ins, nothing else
// of that list, and each replaces a pure module of the same name, which no
// default-build file may bypass by importing the .node file itself.
import { describe, expect, it } from 'vitest'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
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
/** The rules a *.node.ts file is exempt from. */
const NODE_VARIANT_MAY = new Set(['node: import', 'Node built-in import'])
/** An import of a Node variant file by name, which would put it into the default build. */
const NODE_FILE_IMPORT = /from\s+['"][^'"]*\.node(\.js|\.ts)?['"]/

/** Offences in one source file: "file:line what". */
function offences(f: string, text: string): string[] {
  const nodeVariant = f.endsWith('.node.ts')
  const out: string[] = []
  text.split('\n').forEach((line, i) => {
    if (/^\s*(\*|\/\*|\/\/)/.test(line)) return // comments may name these things
    const code = line.replace(/\/\/.*$/, '')
    for (const [re, what] of FORBIDDEN) if (re.test(code) && !(nodeVariant && NODE_VARIANT_MAY.has(what))) out.push(`${f}:${i + 1} ${what}`)
    if (NODE_FILE_IMPORT.test(code)) out.push(`${f}:${i + 1} imports a Node variant file by name`)
  })
  return out
}

describe('source purity', () => {
  it('packages/bip324/src uses no Node built-in, Buffer, process, clock, Math.random or other randomness', () => {
    const files = readdirSync(SRC).filter((f) => f.endsWith('.ts'))
    expect(files.length).toBeGreaterThan(5)
    const offenders = files.flatMap((f) => offences(f, readFileSync(join(SRC, f), 'utf8')))
    expect(offenders).toEqual([])
  })

  it('every *.node.ts has its pure module beside it (the default build takes that one)', () => {
    const variants = readdirSync(SRC).filter((f) => f.endsWith('.node.ts'))
    expect(variants).toContain('aead.node.ts')
    expect(variants.filter((f) => !existsSync(join(SRC, f.replace(/\.node\.ts$/, '.ts'))))).toEqual([])
  })

  it('a *.node.ts may import node:crypto but not use Buffer or the clock; a pure file may do neither', () => {
    expect(offences('x.node.ts', "import { createCipheriv } from 'node:crypto'")).toEqual([])
    expect(offences('x.node.ts', 'const b = Buffer.alloc(1)')).toEqual(['x.node.ts:1 Buffer'])
    expect(offences('x.ts', "import { createCipheriv } from 'node:crypto'")).toEqual(['x.ts:1 node: import'])
    expect(offences('x.ts', "import { aeadOpen } from './aead.node.js'")).toEqual(['x.ts:1 imports a Node variant file by name'])
  })

  it('the check sees an offence (it is not vacuous)', () => {
    const [re] = FORBIDDEN.find(([, w]) => w === 'unseeded randomness')!
    expect(re.test('const x = Math.random()')).toBe(true)
  })
})
