import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as pure from '../../src/hash/sha256.js'
import * as native from '../../src/hash/sha256.node.js'
import { fromHex, toHex } from '../../src/bytes/hex.js'

const ascii = (s: string) => new TextEncoder().encode(s)

describe('sha256 backends', () => {
  it('are what they say they are', () => {
    expect(pure.SHA256_BACKEND).toBe('noble')
    expect(native.SHA256_BACKEND).toBe('node:crypto')
  })

  for (const [name, impl] of [['noble', pure], ['node:crypto', native]] as const) {
    describe(name, () => {
      it('matches the FIPS 180-2 "abc" vector', () => {
        expect(toHex(impl.sha256(ascii('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
      })
      it('sha256d of the empty string is the checksum seen in every verack header', () => {
        expect(toHex(impl.sha256d(new Uint8Array(0))).slice(0, 8)).toBe('5df6e0e2')
      })
      it('hashes the mainnet genesis header to the genesis block hash', () => {
        const header = fromHex(
          '01000000' + '00'.repeat(32) +
            '3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a' +
            '29ab5f49' + 'ffff001d' + '1dac2b7c',
        )
        expect(toHex(impl.sha256d(header).slice().reverse())).toBe(
          '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
        )
      })
      it('clone() digests the input so far while the original goes on, and each clone goes on by itself', () => {
        const h = impl.createSha256().update(ascii('ab'))
        const c = h.clone()
        h.update(ascii('c'))
        const c2 = c.clone().update(ascii('c'))
        expect(toHex(c.digest())).toBe(toHex(impl.sha256(ascii('ab'))))
        expect(toHex(h.digest())).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
        expect(toHex(c2.digest())).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
      })
      it('returns plain Uint8Array values, never Buffer', () => {
        expect(Object.getPrototypeOf(impl.sha256(ascii('x')))).toBe(Uint8Array.prototype)
        expect(Object.getPrototypeOf(impl.createSha256().update(ascii('x')).digest())).toBe(Uint8Array.prototype)
      })
    })
  }

  it('property: both backends agree on every function, for any input split', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 5 }), (parts) => {
        const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
        let o = 0
        for (const p of parts) {
          joined.set(p, o)
          o += p.length
        }
        const a = pure.createSha256()
        const b = native.createSha256()
        for (const p of parts) {
          a.update(p)
          b.update(p)
        }
        expect(toHex(a.digest())).toBe(toHex(b.digest()))
        expect(toHex(pure.sha256(joined))).toBe(toHex(native.sha256(joined)))
        expect(toHex(pure.sha256d(joined))).toBe(toHex(native.sha256d(joined)))
        expect(toHex(pure.sha256dParts(parts))).toBe(toHex(native.sha256d(joined)))
        expect(toHex(native.sha256dParts(parts))).toBe(toHex(pure.sha256d(joined)))
        const x = joined.subarray(0, Math.min(32, joined.length))
        expect(toHex(pure.sha256dPair(x, x))).toBe(toHex(native.sha256dPair(x, x)))
      }),
      { numRuns: 200, seed: 1 },
    )
  })
})
