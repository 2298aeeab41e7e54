import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HashIndex, hashKey } from '../../src/chain/hash-index.js'

describe('HashIndex', () => {
  it('finds every value under its key, through collisions and growth', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 3000 }), (keys) => {
        // Few distinct keys: most entries collide; 3000 entries force growth past 1024 buckets.
        const index = new HashIndex()
        keys.forEach((k, v) => index.insert(k, v))
        expect(index.size).toBe(keys.length)
        keys.forEach((k, v) => {
          expect(index.find(k, (x) => x === v)).toBe(v)
        })
        // Every value offered under a key was inserted under that key.
        for (const k of new Set(keys)) {
          const seen: number[] = []
          index.find(k, (x) => (seen.push(x), false))
          expect(seen.sort((a, b) => a - b)).toEqual(keys.flatMap((kk, v) => (kk === k ? [v] : [])))
        }
        expect(index.find(41, () => true)).toBe(-1)
      }),
      { seed: 42, numRuns: 30 },
    )
  })

  it('keys a hash by its first four bytes, little-endian', () => {
    const h = new Uint8Array(32)
    h.set([0x01, 0x02, 0x03, 0xf4])
    expect(hashKey(h)).toBe(0xf4030201)
  })

  it('refuses values it cannot store', () => {
    const index = new HashIndex()
    expect(() => index.insert(1, -1)).toThrow(RangeError)
    expect(() => index.insert(1, 0x7fffffff)).toThrow(RangeError)
  })
})
