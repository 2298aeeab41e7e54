import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromHex, toHex } from '@bitp2p/wire'
import { HashIndex, type HashSource, hashKey } from '../../../src/core/chain/hash-index.js'

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

  /** Full hashes kept contiguously, 32 bytes per value. */
  function contiguous(hashes: Uint8Array): HashSource {
    return {
      hashEquals(v, hash, offset) {
        for (let i = 0; i < 32; i++) if (hashes[v * 32 + i] !== hash[offset + i]) return false
        return true
      },
    }
  }

  it('findHash asks the source for full-hash equality: finds every stored hash, not lookalikes that share a key', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 1500 }), fc.nat(3), (list, keyBits) => {
        // Force collisions: keep only a few distinct keys (first 4 bytes).
        const hashes = new Uint8Array(list.length * 32)
        list.forEach((h, i) => {
          const x = h.slice()
          x.set([i & keyBits, 0, 0, 0])
          hashes.set(x, i * 32)
        })
        const index = new HashIndex()
        const source = contiguous(hashes)
        const seen = new Map<string, number>()
        for (let i = 0; i < list.length; i++) {
          const hex = toHex(hashes.subarray(i * 32, i * 32 + 32))
          if (seen.has(hex)) continue
          seen.set(hex, i)
          index.insert(hashKey(hashes, i * 32), i)
        }
        for (const [hex, i] of seen) {
          const h = fromHex(hex)
          expect(index.findHash(source, h)).toBe(i)
          // The same hash read in place from a larger array.
          const padded = new Uint8Array(40)
          padded.set(h, 8)
          expect(index.findHash(source, padded, 8)).toBe(i)
          // Same key, one other byte: not found.
          const other = h.slice()
          other[31]! ^= 0x80
          if (!seen.has(toHex(other))) expect(index.findHash(source, other)).toBe(-1)
        }
        // A hash that runs past the end of its array is never looked up.
        expect(index.findHash(source, hashes.subarray(0, 31))).toBe(-1)
        expect(index.findHash(source, hashes.subarray(0, 32), 1)).toBe(-1)
      }),
      { seed: 11, numRuns: 40 },
    )
  })
})
