// The session runs unchanged in Node, Deno, Bun, browsers and workers, and
// in virtual time: no Node built-ins, no Buffer, no process, no wall clock,
// no timers and no unseeded randomness in src/. Exactly three kinds of file
// may touch those, all in src/driver/, and each is named here:
//  - driver/realtime-clock.ts: the one real-time Clock (performance.now, the
//    time origin, setTimeout);
//  - driver/system-random.ts: system randomness (crypto.getRandomValues);
//  - *.node.ts and node.ts: the Node-only extras behind '@bitp2p/session/node'.
// The tree shows the sans-IO line: src/core/ holds the state machines, chain,
// pool policy and the ports (Clock, Random, Transport) and imports nothing
// from src/driver/ (Peer, Pool, the services, the real clock), nor an event
// emitter: a core module takes (now, input) and queues outputs.
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
  [/globalThis\.crypto|\bcrypto\.getRandomValues/, 'system randomness outside system-random.ts'],
]
/** Files allowed to touch the platform, with what each may use. */
const ALLOWED: [RegExp, string[]][] = [
  [/^driver\/realtime-clock\.ts$/, ['wall clock', 'a timer outside the Clock']],
  [/^driver\/system-random\.ts$/, ['system randomness outside system-random.ts']],
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
    expect(offenses('driver/pool.ts', 'const t = performance.timeOrigin')).toEqual(['driver/pool.ts:1 wall clock'])
    expect(offenses('driver/peer.ts', 'setTimeout(f, 10)')).toEqual(['driver/peer.ts:1 a timer outside the Clock'])
    expect(offenses('core/x.ts', "import { x } from 'node:net'")).toEqual(['core/x.ts:1 node: import'])
    expect(offenses('core/fsm/x.ts', 'Math.random()')).toEqual(['core/fsm/x.ts:1 unseeded randomness'])
    expect(offenses('core/random.ts', 'crypto.getRandomValues(b)')).toEqual(['core/random.ts:1 system randomness outside system-random.ts'])
    expect(offenses('realtime-clock.ts', 'setTimeout(f, 1)')).toEqual(['realtime-clock.ts:1 a timer outside the Clock'])
    expect(offenses('driver/realtime-clock.ts', 'performance.now(); setTimeout(f, 1)')).toEqual([])
    expect(offenses('driver/system-random.ts', 'globalThis.crypto.getRandomValues(b)')).toEqual([])
    expect(offenses('driver/file-store.node.ts', "import { open } from 'node:fs/promises'")).toEqual([])
    expect(offenses('driver/peer.ts', "const s = 'performance.now() in a string'")).toEqual([])
  })
})

/** Every import in a core file that crosses the sans-IO line, as "path:line specifier". */
export function crossings(file: string, text: string): string[] {
  const out: string[] = []
  text.split('\n').forEach((line, i) => {
    const m = /\bfrom\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/.exec(line)
    if (m === null) return
    const spec = m[1] ?? m[2]
    if (/(^|\/)driver\//.test(spec) || spec === 'eventemitter3') out.push(`${file}:${i + 1} ${spec}`)
  })
  return out
}

describe('the sans-IO line', () => {
  it('src/core imports nothing from src/driver and no event emitter', () => {
    const files = sources(join(SRC, 'core'))
    expect(files.length).toBeGreaterThan(20)
    const found = files.flatMap((f) => crossings(relative(SRC, f), readFileSync(f, 'utf8')))
    expect(found).toEqual([])
  })

  it('the IO layer is in src/driver: Peer, Pool, the services and the real clock', () => {
    const driver = sources(join(SRC, 'driver')).map((f) => relative(SRC, f))
    for (const f of ['driver/peer.ts', 'driver/pool.ts', 'driver/realtime-clock.ts', 'driver/system-random.ts', 'driver/services/header-sync.ts'])
      expect(driver).toContain(f)
    // Every file that may touch the platform lives in driver/ (the entry node.ts re-exports it).
    const platform = sources(SRC).map((f) => relative(SRC, f)).filter((f) => ALLOWED.some(([re]) => re.test(f)))
    expect(platform.filter((f) => !f.startsWith('driver/') && f !== 'node.ts')).toEqual([])
  })

  it('the check sees a crossing', () => {
    expect(crossings('core/pool/machine.ts', "import { Peer } from '../../driver/peer.js'")).toEqual([
      "core/pool/machine.ts:1 ../../driver/peer.js",
    ])
    expect(crossings('core/x.ts', "import { EventEmitter } from 'eventemitter3'")).toEqual(['core/x.ts:1 eventemitter3'])
    expect(crossings('core/x.ts', "} from '../driver/pool.js'")).toEqual(["core/x.ts:1 ../driver/pool.js"])
    expect(crossings('core/x.ts', "const m = await import('../driver/pool.js')")).toEqual(["core/x.ts:1 ../driver/pool.js"])
    expect(crossings('core/x.ts', "import type { Clock } from '../ports.js'")).toEqual([])
  })
})
