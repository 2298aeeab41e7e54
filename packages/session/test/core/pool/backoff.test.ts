import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { SeededRandom } from '../../../src/core/random.js'
import { Backoff, DEFAULT_BACKOFF, RetryTracker, backoffCeiling, retryKey, type BackoffPolicy } from '../../../src/core/pool/backoff.js'
import { ip4 } from './fixtures.js'

const policy = (p: Partial<BackoffPolicy>): BackoffPolicy => ({ ...DEFAULT_BACKOFF, ...p })

describe('backoffCeiling', () => {
  it('doubles from base until the cap, then stays there', () => {
    const p = policy({ base: 1, cap: 60, factor: 2 })
    expect(Array.from({ length: 9 }, (_, n) => backoffCeiling(n, p))).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60])
    expect(backoffCeiling(5000, p)).toBe(60) // factor^n overflows; the cap holds
  })

  it('is monotone non-decreasing and never above the cap (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 100, noNaN: true }),
        fc.double({ min: 1.5, max: 10, noNaN: true }),
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        (base, factor, capMul) => {
          const p = policy({ base, factor, cap: base * capMul })
          let prev = 0
          for (let n = 0; n < 80; n++) {
            const c = backoffCeiling(n, p)
            expect(c).toBeGreaterThanOrEqual(prev)
            expect(c).toBeLessThanOrEqual(p.cap)
            prev = c
          }
          expect(prev).toBe(p.cap)
        },
      ),
    )
  })
})

describe('Backoff', () => {
  it('without jitter returns the ceiling, and gives up at maxAttempts', () => {
    const b = new Backoff(new SeededRandom(1), { base: 2, cap: 30, maxAttempts: 6, jitter: 'none' })
    expect([0, 1, 2, 3, 4, 5].map((n) => b.nextDelay(n))).toEqual([2, 4, 8, 16, 30, 30])
    expect(b.nextDelay(6)).toBeUndefined()
    expect(b.nextDelay(100)).toBeUndefined()
    expect(b.nextDelay(-1)).toBeUndefined()
  })

  it('keeps full, equal and decorrelated jitter within their bounds', () => {
    const base = 1
    const cap = 100
    for (const jitter of ['full', 'equal', 'decorrelated'] as const) {
      const b = new Backoff(new SeededRandom(`jitter-${jitter}`), { base, cap, maxAttempts: Infinity, jitter })
      let prev: number | undefined
      for (let n = 0; n < 2000; n++) {
        const attempt = n % 20
        const c = backoffCeiling(attempt, b.policy)
        const d = b.nextDelay(attempt, prev)!
        if (jitter === 'full') {
          expect(d).toBeGreaterThanOrEqual(0)
          expect(d).toBeLessThan(c)
        } else if (jitter === 'equal') {
          expect(d).toBeGreaterThanOrEqual(c / 2)
          expect(d).toBeLessThan(c)
        } else {
          expect(d).toBeGreaterThanOrEqual(base)
          expect(d).toBeLessThanOrEqual(Math.min(cap, 3 * (prev ?? base)))
        }
        prev = d
      }
    }
  })

  it('actually spreads delays (full jitter uses the whole range)', () => {
    const b = new Backoff(new SeededRandom(3), { base: 1, cap: 64, jitter: 'full', maxAttempts: Infinity })
    const ds = Array.from({ length: 1000 }, () => b.nextDelay(6)!)
    expect(Math.min(...ds)).toBeLessThan(4)
    expect(Math.max(...ds)).toBeGreaterThan(60)
    expect(new Set(ds).size).toBe(1000)
  })

  it('is deterministic for a seed', () => {
    const draw = (seed: number) => {
      const b = new Backoff(new SeededRandom(seed), { jitter: 'decorrelated' })
      let prev: number | undefined
      return Array.from({ length: 10 }, (_, n) => (prev = b.nextDelay(n, prev)))
    }
    expect(draw(5)).toEqual(draw(5))
    expect(draw(5)).not.toEqual(draw(6))
  })

  it('rejects impossible policies', () => {
    const r = new SeededRandom(1)
    expect(() => new Backoff(r, { base: 0 })).toThrow(RangeError)
    expect(() => new Backoff(r, { base: 10, cap: 5 })).toThrow(RangeError)
    expect(() => new Backoff(r, { factor: 0.5 })).toThrow(RangeError)
    expect(() => new Backoff(r, { maxAttempts: -1 })).toThrow(RangeError)
  })
})

describe('RetryTracker', () => {
  const T = 1_000_000
  const a = ip4(23, 1, 1, 1)

  it('does not retry a failed address before its time, then gives up after maxAttempts', () => {
    const t = new RetryTracker({ random: new SeededRandom(1), policy: { base: 10, cap: 1000, maxAttempts: 3, jitter: 'none' } })
    expect(t.canTry(a, T)).toBe(true)
    expect(t.failed(a, T)).toBe(T + 10)
    expect(t.canTry(a, T + 9)).toBe(false)
    expect(t.canTry(a, T + 10)).toBe(true)
    expect(t.failed(a, T + 10)).toBe(T + 30)
    expect(t.failed(a, T + 30)).toBe(T + 70)
    expect(t.failed(a, T + 70)).toBe(Infinity) // fourth failure: given up
    expect(t.canTry(a, T + 1e9)).toBe(false)
    expect(t.get(a)!.failures).toBe(4)
    t.succeeded(a)
    expect(t.canTry(a, T + 71)).toBe(true)
    expect(t.size).toBe(0)
  })

  it('keys an address the same whatever form names it; the port matters', () => {
    const t = new RetryTracker({ random: new SeededRandom(1), policy: { jitter: 'none' } })
    t.failed({ host: '23.1.1.1', port: 8333 }, T)
    expect(t.canTry(a, T)).toBe(false)
    expect(retryKey(a)).toBe('ipv4:23.1.1.1:8333')
    expect(retryKey({ host: 'Seed.Example', port: 8333 })).toBe('name:seed.example:8333')
    expect(t.canTry(ip4(23, 1, 1, 1, 8334), T)).toBe(true)
  })

  it('holds a banned address until the ban ends, even through failures', () => {
    const t = new RetryTracker({ random: new SeededRandom(1), policy: { base: 1, jitter: 'none' } })
    t.holdUntil(a, T + 3600, T)
    expect(t.canTry(a, T + 3599)).toBe(false)
    expect(t.failed(a, T + 10)).toBe(T + 3600) // a short backoff does not shorten the hold
    t.holdUntil(a, T + 100, T) // nor does a shorter hold
    expect(t.canTry(a, T + 3599)).toBe(false)
    expect(t.canTry(a, T + 3600)).toBe(true)
    expect(t.nextReadyAt(T)).toBe(T + 3600)
    expect(t.nextReadyAt(T + 3600)).toBeUndefined()
  })

  it('forgets old records on sweep and bounds how many it keeps', () => {
    const t = new RetryTracker({ random: new SeededRandom(1), policy: { base: 1, jitter: 'none' }, maxTracked: 3, forgetAfter: 100 })
    for (let i = 1; i <= 5; i++) t.failed(ip4(23, 1, 1, i), T)
    expect(t.size).toBe(3)
    expect(t.get(ip4(23, 1, 1, 1))).toBeUndefined() // least recently updated went first
    expect(t.get(ip4(23, 1, 1, 5))).toBeDefined()
    t.failed(ip4(23, 1, 1, 5), T + 200)
    expect(t.sweep(T + 150)).toBe(2)
    expect(t.size).toBe(1)
  })
})
