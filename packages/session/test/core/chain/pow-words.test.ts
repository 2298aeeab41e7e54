import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashToBigInt } from '@bitp2p/wire/consensus'
import { WORDS_256, fromWords256, hashAtMostWords, toWords256 } from '../../../src/core/chain/pow-words.js'

const u256 = fc.bigInt({ min: 0n, max: 2n ** 256n - 1n })
/** 256-bit numbers with long runs of zero or one bits, where word-by-word comparisons go wrong. */
const edgy = fc.oneof(u256, fc.nat(256).map((k) => 2n ** BigInt(k) - 1n), fc.nat(255).map((k) => 2n ** BigInt(k)))

/** A hash in internal byte order whose little-endian value is `v`. */
function hashOf(v: bigint): Uint8Array {
  const h = new Uint8Array(32)
  for (let i = 0; i < 32; i++) h[i] = Number((v >> BigInt(8 * i)) & 0xffn)
  return h
}

describe('256-bit words', () => {
  it('property: toWords256 / fromWords256 round-trip, least significant word first', () => {
    fc.assert(
      fc.property(edgy, fc.nat(3), (v, at) => {
        const w = new Uint32Array(WORDS_256)
        toWords256(v, w)
        expect(fromWords256(w)).toBe(v)
        expect(w[0]).toBe(Number(v & 0xffffffffn))
        const wide = new Uint32Array(WORDS_256 * 4)
        wide.set(w, at * WORDS_256)
        expect(fromWords256(wide, at * WORDS_256)).toBe(v)
      }),
      { seed: 5, numRuns: 300 },
    )
  })

  it('refuses values outside [0, 2^256)', () => {
    const w = new Uint32Array(WORDS_256)
    expect(() => toWords256(-1n, w)).toThrow(RangeError)
    expect(() => toWords256(2n ** 256n, w)).toThrow(RangeError)
  })

  it('property: hashAtMostWords is hash <= target for the little-endian value of the hash', () => {
    fc.assert(
      fc.property(edgy, edgy, fc.integer({ min: -2, max: 2 }), (h, t, nudge) => {
        // Half the cases compare a hash with a target right next to it.
        const target = nudge === 0 ? t : h + BigInt(nudge) >= 0n && h + BigInt(nudge) < 2n ** 256n ? h + BigInt(nudge) : t
        const w = new Uint32Array(WORDS_256)
        toWords256(target, w)
        const hash = hashOf(h)
        expect(hashToBigInt(hash)).toBe(h)
        expect(hashAtMostWords(hash, 0, w)).toBe(h <= target)
        const padded = new Uint8Array(64)
        padded.set(hash, 16)
        expect(hashAtMostWords(padded, 16, w)).toBe(h <= target)
      }),
      { seed: 6, numRuns: 500 },
    )
  })
})
