// The session core runs unchanged in Node, Deno, Bun, browsers and workers,
// and in virtual time: no Node built-ins, no Buffer, no process, no wall
// clock, no timers and no unseeded randomness in src/. Exactly three kinds
// of file may touch those, and each is named here:
//  - realtime-clock.ts: the one real-time Clock (performance.now, the time
//    origin, setTimeout);
//  - random.ts: system randomness (crypto.getRandomValues) beside the seeded one;
//  - *.node.ts and node.ts: the Node-only extras behind '@bitp2p/session/node'.
/// <reference types="node" />
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = new URL('../src/', import.meta.url).pathname
const FORBIDDEN: [RegExp, string][] = [
  [/from\s+['"]node:/, 'node: import'],
  [/from\s+['"](fs|net|crypto|buffer|os|path|stream|events|dns|http)['"]/, 'Node built-in import'],
  [/\bBuffer\b/, 'Buffer'],
  [/\bprocess\./, 'process global'],
  [/Date\.now\(|new Date\(|\bperformance\./, 'wall clock'],
  [/\bset(Timeout|Interval|Immediate)\(/, 'a timer outside the Clock'],
  [/Math\.random\(/, 'unseeded randomness'],
  [/globalThis\.crypto|\bcrypto\.getRandomValues/, 'system randomness outside random.ts'],
]
/** Files allowed to touch the platform, with what each may use. */
const ALLOWED: [RegExp, string[]][] = [
  [/^realtime-clock\.ts$/, ['wall clock', 'a timer outside the Clock']],
  [/^random\.ts$/, ['system randomness outside random.ts']],
  [/(^|\/)node\.ts$|\.node\.ts$/, ['node: import', 'Node built-in import', 'Buffer', 'process global']],
]

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Every forbidden use in `file` that its allowance doesn't cover, as "path:line what". */
export function offenses(file: string, text: string): string[] {
  const allowed = ALLOWED.filter(([re]) => re.test(file)).flatMap(([, what]) => what)
  const out: string[] = []
  text.split('\n').forEach((line, i) => {
    if (/^\s*(\*|\/\*|\/\/)/.test(line)) return // comments may name these things
    const code = line.replace(/\/\/.*$/, '').replace(/'[^']*'|"[^"]*"|`[^`]*`/g, (q) => (/^['"]node:|^['"](fs|net|crypto|buffer|os|path|stream|events|dns|http)['"]$/.test(q) ? q : "''"))
    for (const [re, what] of FORBIDDEN) if (re.test(code) && !allowed.includes(what)) out.push(`${file}:${i + 1} ${what}`)
  })
  return out
}

describe('source purity', () => {
  it('packages/session/src touches the platform only in the files named above', () => {
    const files = sources(SRC)
    expect(files.length).toBeGreaterThan(30)
    const found = files.flatMap((f) => offenses(relative(SRC, f), readFileSync(f, 'utf8')))
    expect(found).toEqual([])
  })

  it('the check sees each kind of use (a check that cannot fail proves nothing)', () => {
    expect(offenses('pool/pool.ts', 'const t = performance.timeOrigin')).toEqual(['pool/pool.ts:1 wall clock'])
    expect(offenses('peer.ts', 'setTimeout(f, 10)')).toEqual(['peer.ts:1 a timer outside the Clock'])
    expect(offenses('core/x.ts', "import { x } from 'node:net'")).toEqual(['core/x.ts:1 node: import'])
    expect(offenses('fsm/x.ts', 'Math.random()')).toEqual(['fsm/x.ts:1 unseeded randomness'])
    expect(offenses('realtime-clock.ts', 'performance.now(); setTimeout(f, 1)')).toEqual([])
    expect(offenses('chain/file-store.node.ts', "import { open } from 'node:fs/promises'")).toEqual([])
    expect(offenses('peer.ts', "const s = 'performance.now() in a string'")).toEqual([])
  })
})
