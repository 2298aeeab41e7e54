import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { SeededRandom, MAX_RANDOM_INT } from '../../src/core/random.js'
import { systemRandom } from '../../src/driver/system-random.js'

const draw = (r: { u32(): number }, n: number) => Array.from({ length: n }, () => r.u32())

describe('SeededRandom', () => {
  it('matches the xoshiro128** reference outputs for state {1, 2, 3, 4}', () => {
    // First outputs of the reference C code (prng.di.unimi.it/xoshiro128starstar.c)
    // started from s = {1, 2, 3, 4}; the first two follow by hand:
    // rotl(2 * 5, 7) * 9 = 11520, and after one step s1 = 0 so the next is 0.
    const r = SeededRandom.fromState(1, 2, 3, 4)
    expect(draw(r, 4)).toEqual([11520, 0, 5927040, 70819200])
  })

  it('gives the same sequence for the same seed, number or string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: 0xffffffff }), fc.string()), (seed) => {
        expect(draw(new SeededRandom(seed), 16)).toEqual(draw(new SeededRandom(seed), 16))
      }),
    )
  })

  it('gives different sequences for different seeds', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (a, b) => {
        fc.pre(a !== b)
        expect(draw(new SeededRandom(a), 4)).not.toEqual(draw(new SeededRandom(b), 4))
      }),
    )
    expect(draw(new SeededRandom('alice'), 4)).not.toEqual(draw(new SeededRandom('bob'), 4))
    // A string seed is not read as the number it spells.
    expect(draw(new SeededRandom('7'), 4)).not.toEqual(draw(new SeededRandom(7), 4))
  })

  it('rejects seeds that are not u32', () => {
    for (const bad of [-1, 2 ** 32, 1.5, Number.NaN]) {
      expect(() => new SeededRandom(bad)).toThrow(RangeError)
    }
  })

  it('u32 stays in [0, 2^32) and int(n) in [0, n)', () => {
    const r = new SeededRandom(42)
    for (let i = 0; i < 1000; i++) {
      const x = r.u32()
      expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true)
    }
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_RANDOM_INT }), fc.nat({ max: 0xffffffff }), (n, seed) => {
        const g = new SeededRandom(seed)
        for (let i = 0; i < 8; i++) {
          const x = g.int(n)
          expect(Number.isInteger(x) && x >= 0 && x < n).toBe(true)
        }
      }),
    )
  })

  it('int(n) rejects n outside [1, 2^53] and non-integers', () => {
    const r = new SeededRandom(1)
    for (const bad of [0, -3, 2.5, MAX_RANDOM_INT + 2, Number.POSITIVE_INFINITY]) {
      expect(() => r.int(bad)).toThrow(RangeError)
    }
    expect(r.int(1)).toBe(0)
  })

  it('int(n) is roughly uniform (chi-square, fixed seed)', () => {
    // n = 3 * 2^30 is the worst case for plain modulo: x % n would hit
    // [0, 2^30) twice as often as the rest. Bucket by thirds of the range.
    const r = new SeededRandom(2024)
    const n = 3 * 2 ** 30
    const draws = 30_000
    const buckets = [0, 0, 0]
    for (let i = 0; i < draws; i++) buckets[Math.floor(r.int(n) / 2 ** 30)]++
    const expected = draws / 3
    const chi2 = buckets.reduce((acc, b) => acc + (b - expected) ** 2 / expected, 0)
    // 2 degrees of freedom: p = 0.001 at 13.8. Modulo bias would give ~5000.
    expect(chi2).toBeLessThan(13.8)

    const small = new Array(10).fill(0)
    for (let i = 0; i < draws; i++) small[r.int(10)]++
    const e10 = draws / 10
    const chi10 = small.reduce((acc, b) => acc + (b - e10) ** 2 / e10, 0)
    // 9 degrees of freedom: p = 0.001 at 27.9.
    expect(chi10).toBeLessThan(27.9)
  })

  it('float is in [0, 1) with mean near 1/2; u64 spans 64 bits', () => {
    const r = new SeededRandom(9)
    let sum = 0
    let highBitSeen = false
    for (let i = 0; i < 10_000; i++) {
      const f = r.float()
      expect(f >= 0 && f < 1).toBe(true)
      sum += f
      const v = r.u64()
      expect(v >= 0n && v < 1n << 64n).toBe(true)
      if (v >> 63n === 1n) highBitSeen = true
    }
    // Standard error of the mean is 0.0029; 0.015 is over 5 sigma.
    expect(Math.abs(sum / 10_000 - 0.5)).toBeLessThan(0.015)
    expect(highBitSeen).toBe(true)
  })

  it('u64 is the high then low u32 of the same stream', () => {
    const a = new SeededRandom(5)
    const b = new SeededRandom(5)
    const hi = BigInt(b.u32())
    const lo = BigInt(b.u32())
    expect(a.u64()).toBe((hi << 32n) | lo)
  })
})

describe('SeededRandom.fork', () => {
  it('is deterministic per (seed, label) and does not depend on the parent position', () => {
    const a = new SeededRandom('sim')
    const b = new SeededRandom('sim')
    draw(b, 100) // b has advanced, a has not
    expect(draw(a.fork('peer:1'), 8)).toEqual(draw(b.fork('peer:1'), 8))
  })

  it('does not advance the parent', () => {
    const a = new SeededRandom(3)
    const b = new SeededRandom(3)
    a.fork('x')
    expect(draw(a, 8)).toEqual(draw(b, 8))
  })

  it('gives streams independent of each other and of the parent', () => {
    const root = new SeededRandom(77)
    const p1 = draw(root.fork('peer:1'), 64)
    const p2 = draw(root.fork('peer:2'), 64)
    const parent = draw(new SeededRandom(77), 64)
    const other = draw(new SeededRandom(78).fork('peer:1'), 64)
    // Independent 32-bit streams share a value at the same index with
    // probability ~64 / 2^32; any match means the streams are related.
    const sameAt = (x: number[], y: number[]) => x.filter((v, i) => v === y[i]).length
    expect(sameAt(p1, p2)).toBe(0)
    expect(sameAt(p1, parent)).toBe(0)
    expect(sameAt(p1, other)).toBe(0)
    // Nested forks are distinct from flat ones with a similar label.
    expect(draw(root.fork('a').fork('b'), 8)).not.toEqual(draw(root.fork('ab'), 8))
  })
})

describe('systemRandom', () => {
  it('draws values in range and not a constant stream', () => {
    const r = systemRandom()
    const xs = draw(r, 200) // crosses the batch boundary of 64 words
    for (const x of xs) expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true)
    expect(new Set(xs).size).toBeGreaterThan(190)
    const k = r.int(6)
    expect(k >= 0 && k < 6).toBe(true)
    expect(typeof r.u64()).toBe('bigint')
  })
})
