/**
 * The range hasher (src/hash/sha256d-ranges.ts) is a second SHA-256: it must
 * give what @noble/hashes and node:crypto give, for every length class the
 * padding treats differently (empty, inside one block, the last byte before
 * the length field, exactly one block, several blocks, long inputs), for
 * ranges anywhere inside a larger array, and for every way a message is cut
 * into the three pieces of a txid preimage.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { sha256dPairJs, sha256dRange3Js, sha256dRangeJs, sha256Of32Js } from '../../src/hash/sha256d-ranges.js'
import { toHex } from '../../src/bytes/hex.js'
import { readFileSync } from 'node:fs'
// @ts-expect-error: a plain-JS build script without type declarations
import { generate, OUTPUT } from '../../scripts/gen-sha256-compress.mjs'

const nobleD = (b: Uint8Array) => toHex(nobleSha256(nobleSha256(b)))
const nodeD = (b: Uint8Array) => toHex(createHash('sha256').update(createHash('sha256').update(b).digest()).digest())

/** Lengths at every edge of the padding: 55 is the last that pads in one block, 56..63 need a second, 64 is one block exactly. */
const EDGE_LENGTHS = [0, 1, 31, 32, 33, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 183, 184, 191, 192, 255, 256, 1000, 4095, 4096, 65_537]

/** Deterministic bytes (a xorshift stream) so a failure names its input by length and seed. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed | 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x
  }
  return out
}

describe('sha256d of ranges, in plain JS', () => {
  it('hashes the empty range to the checksum of every empty payload (5df6e0e2...)', () => {
    expect(toHex(sha256dRangeJs(new Uint8Array(0), 0, 0)).slice(0, 8)).toBe('5df6e0e2')
  })

  it('equals @noble/hashes and node:crypto at every length class of the padding', () => {
    for (const n of EDGE_LENGTHS) {
      const b = bytes(n, n + 1)
      expect(toHex(sha256dRangeJs(b, 0, n)), `length ${n}`).toBe(nobleD(b))
      expect(toHex(sha256dRangeJs(b, 0, n)), `length ${n}`).toBe(nodeD(b))
    }
  })

  it('property: a range anywhere in a larger array hashes as a copy of it would', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(), fc.nat(), (buf, x, y) => {
        const start = buf.length === 0 ? 0 : x % (buf.length + 1)
        const end = start + (buf.length - start === 0 ? 0 : y % (buf.length - start + 1))
        expect(toHex(sha256dRangeJs(buf, start, end))).toBe(nobleD(buf.slice(start, end)))
      }),
      { numRuns: 1000, seed: 17 },
    )
  })

  it('property: three pieces hash as their concatenation, for every cut (pieces across block edges, empty pieces)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), (buf, cuts) => {
        // Six sorted offsets into buf: three ranges with gaps between them.
        const o = cuts.map((c) => c % (buf.length + 1)).sort((a, b) => a - b) as [number, number, number, number, number, number]
        const joined = new Uint8Array([...buf.subarray(o[0], o[1]), ...buf.subarray(o[2], o[3]), ...buf.subarray(o[4], o[5])])
        expect(toHex(sha256dRange3Js(buf, o[0], o[1], o[2], o[3], o[4], o[5]))).toBe(nobleD(joined))
      }),
      { numRuns: 1000, seed: 18 },
    )
  })

  it('property: merkle pairs and the second pass alone equal the reference', () => {
    const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
    fc.assert(
      fc.property(hash32, hash32, fc.nat({ max: 40 }), (a, b, pad) => {
        expect(toHex(sha256dPairJs(a, b))).toBe(nobleD(new Uint8Array([...a, ...b])))
        // The 32 bytes at an offset inside a larger array.
        const host = new Uint8Array(pad + 32 + 5)
        host.set(a, pad)
        expect(toHex(sha256Of32Js(host, pad))).toBe(toHex(nobleSha256(a)))
      }),
      { numRuns: 500, seed: 19 },
    )
  })

  it('keeps no state between calls: interleaved calls of every kind give the digests of fresh runs', () => {
    const inputs = EDGE_LENGTHS.map((n) => bytes(n, 3 * n + 7))
    const expected = inputs.map(nobleD)
    const a = bytes(32, 1)
    const b = bytes(32, 2)
    const pair = nobleD(new Uint8Array([...a, ...b]))
    for (let round = 0; round < 3; round++) {
      inputs.forEach((input, i) => {
        // A pair or a three-piece hash between two range hashes, ended at every padding state.
        if ((i + round) % 2 === 0) expect(toHex(sha256dPairJs(a, b))).toBe(pair)
        else {
          const one = Math.min(1, input.length)
          const half = Math.max(one, input.length >> 1)
          expect(toHex(sha256dRange3Js(input, 0, one, one, half, half, input.length))).toBe(expected[i])
        }
        expect(toHex(sha256dRangeJs(input, 0, input.length)), `length ${input.length}`).toBe(expected[i])
      })
    }
  })

  it('hashes words with the sign bit and carries through every sum (all 0xff, 0x80 and zero blocks)', () => {
    for (const fill of [0x00, 0x80, 0xff, 0x7f]) {
      for (const n of [55, 64, 128, 200]) {
        const b = new Uint8Array(n).fill(fill)
        expect(toHex(sha256dRangeJs(b, 0, n)), `${n} x ${fill}`).toBe(nodeD(b))
      }
    }
  })
})

describe('sha256-compress.ts is generated', () => {
  it('matches what scripts/gen-sha256-compress.mjs writes (edit the script, not the file)', () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(generate())
  })
})
