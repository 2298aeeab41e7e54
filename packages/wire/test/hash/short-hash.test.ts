import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import * as compact from '../../src/hash/short-hash.js'
import * as unrolled from '../../src/hash/short-hash.node.js'
import * as pure from '../../src/hash/sha256.js'
import * as native from '../../src/hash/sha256.node.js'
import { toHex } from '../../src/bytes/hex.js'
// @ts-expect-error: a plain-JS build script without type declarations
import { generateShort, SHORT_OUTPUT } from '../../scripts/gen-header-hash.mjs'
import { readFileSync } from 'node:fs'

// Two independent references: node:crypto's and @noble/hashes' SHA-256,
// applied twice (wire's own sha256d routes short inputs to the code under test).
const nodeSha256d = (b: Uint8Array) => createHash('sha256').update(createHash('sha256').update(b).digest()).digest().toString('hex')
const nobleSha256d = (b: Uint8Array) => toHex(nobleSha256(nobleSha256(b)))

/** `length` bytes of a fixed, varied pattern (each length its own bytes). */
const pattern = (length: number, salt: number) => Uint8Array.from({ length }, (_, i) => (i * 151 + length * 29 + salt * 7 + 13) & 0xff)

/** The digest's first 4 bytes as shortChecksum returns them: one big-endian word, signed. */
const word0 = (hex: string) => parseInt(hex.slice(0, 8), 16) | 0

describe.each([
  ['compact (browsers)', compact],
  ['unrolled (Node)', unrolled],
] as const)('short sha256d, %s', (_name, impl) => {
  const { SHORT_HASH_MAX_BYTES, sha256dShortInto, shortChecksum } = impl

  it('hashes one block per pass: up to 55 bytes', () => {
    expect(SHORT_HASH_MAX_BYTES).toBe(55)
  })

  it('equals node:crypto and @noble/hashes for every length 0..55, with every byte value 0x00, 0xff, 0x80 and a pattern', () => {
    const out = new Uint8Array(32)
    for (let length = 0; length <= 55; length++) {
      for (const msg of [new Uint8Array(length), new Uint8Array(length).fill(0xff), new Uint8Array(length).fill(0x80), pattern(length, 1)]) {
        const expected = nodeSha256d(msg)
        expect(nobleSha256d(msg)).toBe(expected)
        sha256dShortInto(msg, 0, length, out, 0)
        expect(toHex(out), `length ${length}`).toBe(expected)
        expect(shortChecksum(msg, 0, length), `length ${length}`).toBe(word0(expected))
      }
    }
  })

  it('a message after a longer one hashes as if alone: no word of the longer one is left in the block', () => {
    // Longest first, then every shorter length, each right after a 55-byte
    // message of 0xff: a leftover word would change the digest.
    const long = new Uint8Array(55).fill(0xff)
    for (let length = 55; length >= 0; length--) {
      shortChecksum(long, 0, 55)
      const msg = pattern(length, 5)
      expect(shortChecksum(msg, 0, length), `length ${length}`).toBe(word0(nodeSha256d(msg)))
    }
  })

  it('the empty message has the checksum seen in every verack header (5df6e0e2)', () => {
    expect(shortChecksum(new Uint8Array(0), 0, 0)).toBe(0x5df6e0e2)
  })

  it('property: any message of up to 55 bytes at any offset hashes as node:crypto, touching nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 55 }), fc.nat(40), fc.nat(40), fc.nat(40), fc.nat(40), (msg, before, after, outBefore, outAfter) => {
        const src = new Uint8Array(before + msg.length + after).fill(0xa5)
        src.set(msg, before)
        const srcCopy = src.slice()
        const out = new Uint8Array(outBefore + 32 + outAfter).fill(0x5a)
        const expected = nodeSha256d(msg)
        sha256dShortInto(src, before, before + msg.length, out, outBefore)
        expect(toHex(out.subarray(outBefore, outBefore + 32))).toBe(expected)
        expect(out.subarray(0, outBefore).every((b) => b === 0x5a)).toBe(true)
        expect(out.subarray(outBefore + 32).every((b) => b === 0x5a)).toBe(true)
        expect(shortChecksum(src, before, before + msg.length)).toBe(word0(expected))
        expect(src).toEqual(srcCopy)
      }),
      { numRuns: 1000, seed: 17 },
    )
  })

  it('property: messages made of edge words (sign bit, all ones, zero) hash as @noble/hashes', () => {
    // Words that set the sign bit or carry out of every addition exercise the
    // wrap-around of each sum; lengths not a multiple of 4 put the end
    // marker inside a word.
    const edgeWord = fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0x00000080, 0x80808080)
    const edgeMessage = fc
      .tuple(fc.array(fc.oneof(edgeWord, fc.nat({ max: 0xffffffff })), { minLength: 14, maxLength: 14 }), fc.nat(55))
      .map(([words, length]) => {
        const m = new Uint8Array(56)
        const view = new DataView(m.buffer)
        words.forEach((w, i) => view.setUint32(4 * i, w))
        return m.subarray(0, length)
      })
    const out = new Uint8Array(32)
    fc.assert(
      fc.property(edgeMessage, (msg) => {
        sha256dShortInto(msg, 0, msg.length, out, 0)
        expect(toHex(out)).toBe(nobleSha256d(msg))
      }),
      { numRuns: 500, seed: 19 },
    )
  })

  it('refuses ranges longer than 55 bytes or outside the arrays', () => {
    const src = new Uint8Array(100)
    const out = new Uint8Array(40)
    expect(() => shortChecksum(src, 0, 56)).toThrow(RangeError)
    expect(() => shortChecksum(src, 10, 9)).toThrow(RangeError)
    expect(() => shortChecksum(src, -1, 10)).toThrow(RangeError)
    expect(() => shortChecksum(src, 90, 101)).toThrow(RangeError)
    expect(() => shortChecksum(src, 0.5, 10)).toThrow(RangeError)
    expect(() => sha256dShortInto(src, 0, 56, out, 0)).toThrow(RangeError)
    expect(() => sha256dShortInto(src, 0, 10, out, 9)).toThrow(RangeError)
    expect(() => sha256dShortInto(src, 0, 10, out, -1)).toThrow(RangeError)
    // The largest ranges that fit are fine.
    sha256dShortInto(src, 45, 100, out, 8)
    expect(toHex(out.subarray(8))).toBe(nodeSha256d(src.subarray(45)))
  })
})

describe('sha256d of both backends around the one-block boundary', () => {
  // sha256d sends inputs of up to 55 bytes to the short hasher and longer
  // ones to the general SHA-256: both sides of the boundary, and views into
  // a larger buffer, must hash as the references do.
  it('equals node:crypto for every length 0..200', () => {
    const big = pattern(300, 3)
    for (let length = 0; length <= 200; length++) {
      for (const msg of [pattern(length, 2), big.subarray(50, 50 + length)]) {
        const expected = nodeSha256d(msg)
        expect(toHex(pure.sha256d(msg)), `noble build, length ${length}`).toBe(expected)
        expect(toHex(native.sha256d(msg)), `node build, length ${length}`).toBe(expected)
      }
    }
  })

  it('returns a fresh plain Uint8Array each call, for short and long inputs', () => {
    for (const impl of [pure, native]) {
      for (const length of [0, 55, 56]) {
        const a = impl.sha256d(new Uint8Array(length))
        const b = impl.sha256d(new Uint8Array(length))
        expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype)
        expect(a.length).toBe(32)
        expect(a).not.toBe(b)
        expect(a).toEqual(b)
      }
    }
  })
})

describe('the generated Node variant', () => {
  it('is exactly what scripts/gen-header-hash.mjs writes from scripts/short-hash.template.ts', () => {
    expect(readFileSync(SHORT_OUTPUT, 'utf8')).toBe(generateShort())
  })
})
