/**
 * Just enough of vitest's API for the shared transport compliance suite
 * (test/compliance/transport.ts) to run inside a worker, where vitest does
 * not: the worker bundle maps `vitest` to this module. describe/it collect
 * the cases; runCollected() runs them in order, each under its timeout, and
 * reports each one as passed or failed with the error's message.
 *
 * The matchers are the ones the suite uses, with vitest's meaning:
 * toBe (Object.is), toEqual (deep, typed arrays element-wise), toBeDefined,
 * toBeUndefined, toContain, toBeGreaterThan, toBeGreaterThanOrEqual,
 * toBeLessThanOrEqual, and `not.toThrow`.
 */

type Fn = () => unknown

interface Case {
  readonly name: string
  readonly fn: Fn
  readonly timeout: number | undefined
}

interface Suite {
  readonly name: string
  readonly cases: Case[]
  readonly before: Fn[]
  readonly after: Fn[]
}

/** One case's outcome. */
export interface CaseResult {
  readonly suite: string
  readonly name: string
  readonly ok: boolean
  readonly error?: string
  readonly ms: number
}

/** A case's timeout when it names none (vitest's default is 5 s; the suite names its own). */
const DEFAULT_TIMEOUT_MS = 30_000

const suites: Suite[] = []
let current: Suite | undefined

/** A failed expectation. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError'
}

/** Collect the cases registered by `fn` as one suite. Nested describes are flattened into the outer one. */
export function describe(name: string, fn: Fn): void {
  if (current !== undefined) {
    fn()
    return
  }
  const s: Suite = { name, cases: [], before: [], after: [] }
  suites.push(s)
  current = s
  try {
    fn()
  } finally {
    current = undefined
  }
}

/** Register a case: it(name, fn) or it(name, { timeout }, fn). */
export function it(name: string, a: Fn | { timeout?: number }, b?: Fn): void {
  const [opts, fn] = typeof a === 'function' ? [{}, a] : [a, b!]
  suiteOf('it').cases.push({ name, fn, timeout: (opts as { timeout?: number }).timeout })
}

/** Run `fn` once before the suite's first case. */
export function beforeAll(fn: Fn): void {
  suiteOf('beforeAll').before.push(fn)
}

/** Run `fn` once after the suite's last case. */
export function afterAll(fn: Fn): void {
  suiteOf('afterAll').after.push(fn)
}

function suiteOf(what: string): Suite {
  if (current === undefined) throw new Error(`${what}() outside describe() is not supported by the worker shim`)
  return current
}

/** Run every collected suite; a hook that fails fails every case of its suite. */
export async function runCollected(): Promise<CaseResult[]> {
  const results: CaseResult[] = []
  for (const s of suites) {
    let hookError: string | undefined
    for (const h of s.before) {
      try {
        await h()
      } catch (e) {
        hookError = `beforeAll failed: ${message(e)}`
        break
      }
    }
    for (const c of s.cases) {
      const t0 = performance.now()
      if (hookError !== undefined) {
        results.push({ suite: s.name, name: c.name, ok: false, error: hookError, ms: 0 })
        continue
      }
      const error = await runCase(c)
      results.push({ suite: s.name, name: c.name, ok: error === undefined, ...(error !== undefined ? { error } : {}), ms: Math.round(performance.now() - t0) })
    }
    for (const h of s.after) {
      try {
        await h()
      } catch {
        // an afterAll failure does not change the cases' results
      }
    }
  }
  return results
}

async function runCase(c: Case): Promise<string | undefined> {
  const ms = c.timeout ?? DEFAULT_TIMEOUT_MS
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
  })
  try {
    await Promise.race([Promise.resolve().then(c.fn), timeout])
    return undefined
  } catch (e) {
    return message(e)
  } finally {
    clearTimeout(timer)
  }
}

function message(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e)
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'object' && v !== null && 'kind' in v) return `${(v as { name?: string }).name ?? 'object'}(${String((v as { kind: unknown }).kind)})`
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

/** Deep equality as toEqual sees it, for the values the suite compares. */
function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    if (a.constructor !== b.constructor) return false
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
    if (x.length !== y.length) return false
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false
    return true
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => equal(v, b[i]))
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    return ka.length === kb.length && ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return false
}

/** The matchers of one expect() call. */
export interface Matchers {
  toBe(expected: unknown): void
  toEqual(expected: unknown): void
  toBeDefined(): void
  toBeUndefined(): void
  toContain(item: unknown): void
  toBeGreaterThan(n: number): void
  toBeGreaterThanOrEqual(n: number): void
  toBeLessThanOrEqual(n: number): void
  readonly not: { toThrow(): void }
}

/** expect(actual, message?): throws AssertionError on a failed match. */
export function expect(actual: unknown, msg?: string): Matchers {
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new AssertionError(`${msg !== undefined ? `${msg}: ` : ''}expected ${show(actual)} ${what}`)
  }
  return {
    toBe: (e) => check(Object.is(actual, e), `to be ${show(e)}`),
    toEqual: (e) => check(equal(actual, e), `to equal ${show(e)}`),
    toBeDefined: () => check(actual !== undefined, 'to be defined'),
    toBeUndefined: () => check(actual === undefined, 'to be undefined'),
    toContain: (item) => check((Array.isArray(actual) || typeof actual === 'string') && (actual as unknown[]).includes(item as never), `to contain ${show(item)}`),
    toBeGreaterThan: (n) => check(typeof actual === 'number' && actual > n, `to be > ${n}`),
    toBeGreaterThanOrEqual: (n) => check(typeof actual === 'number' && actual >= n, `to be >= ${n}`),
    toBeLessThanOrEqual: (n) => check(typeof actual === 'number' && actual <= n, `to be <= ${n}`),
    not: {
      toThrow: () => {
        if (typeof actual !== 'function') throw new AssertionError('not.toThrow: expected a function')
        try {
          ;(actual as () => unknown)()
        } catch (e) {
          throw new AssertionError(`${msg !== undefined ? `${msg}: ` : ''}expected no throw, got ${message(e)}`)
        }
      },
    },
  }
}
