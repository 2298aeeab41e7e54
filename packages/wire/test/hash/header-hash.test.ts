import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as compact from '../../src/hash/header-hash.js'
import * as unrolled from '../../src/hash/header-hash.node.js'
import * as pure from '../../src/hash/sha256.js'
import * as native from '../../src/hash/sha256.node.js'
import { fromHex, hashToHex, toHex } from '../../src/bytes/hex.js'
import { BLOCKS_PRESENT, readBlock, readFixtures, SKIP_MESSAGE } from '../block/blocks-data.js'
// @ts-expect-error: a plain-JS build script without type declarations
import { generate, OUTPUT } from '../../scripts/gen-header-hash.mjs'
import { readFileSync } from 'node:fs'

const header80 = fc.uint8Array({ minLength: 80, maxLength: 80 })

// The browser variant (a loop) and the Node variant (generated, unrolled): one specification.
describe.each([
  ['compact (browsers)', compact],
  ['unrolled (Node)', unrolled],
] as const)('sha256dHeader / HeaderHasher, %s', (_name, impl) => {
  const { createHeaderHasher, HEADER_HASH_INPUT_BYTES, HEADER_HASH_OUTPUT_BYTES, sha256dHeader } = impl

  it('hashes the mainnet genesis header to the genesis block hash', () => {
    const genesis = fromHex(
      '01000000' + '00'.repeat(32) +
        '3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a' +
        '29ab5f49' + 'ffff001d' + '1dac2b7c',
    )
    expect(hashToHex(sha256dHeader(genesis))).toBe('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f')
  })

  it('property: equals sha256d of both backends (noble and node:crypto) on any 80 bytes', () => {
    const hasher = createHeaderHasher()
    const out = new Uint8Array(32)
    fc.assert(
      fc.property(header80, (h) => {
        const expected = toHex(pure.sha256d(h))
        expect(toHex(native.sha256d(h))).toBe(expected)
        expect(toHex(sha256dHeader(h))).toBe(expected)
        // The same hasher, reused across every run: no state carries over.
        hasher.hashInto(h, 0, out, 0)
        expect(toHex(out)).toBe(expected)
      }),
      { numRuns: 500, seed: 7 },
    )
  })

  it('property: equals sha256d on headers made of edge words (sign bit, all ones, zero) in both blocks of the header', () => {
    // Each of the three compressions is its own code (blocks 2 and 3 fold
    // their padding into constants); words that set the sign bit or carry
    // out of every addition exercise the wrap-around of each sum, in the
    // header's last 16 bytes (block 2) as much as in its first 64.
    const edgeWord = fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0x00000080, 0x80808080)
    const edgeHeader = fc.array(fc.oneof(edgeWord, fc.nat({ max: 0xffffffff })), { minLength: 20, maxLength: 20 }).map((words) => {
      const h = new Uint8Array(80)
      const view = new DataView(h.buffer)
      words.forEach((w, i) => view.setUint32(4 * i, w, i % 2 === 0))
      return h
    })
    const hasher = createHeaderHasher()
    const out = new Uint8Array(32)
    fc.assert(
      fc.property(edgeHeader, (h) => {
        const expected = toHex(native.sha256d(h))
        expect(toHex(pure.sha256d(h))).toBe(expected)
        expect(toHex(sha256dHeader(h))).toBe(expected)
        hasher.hashInto(h, 0, out, 0)
        expect(toHex(out)).toBe(expected)
      }),
      { numRuns: 500, seed: 9 },
    )
    // The extremes outright: every byte 0x00, every byte 0xff, every byte 0x80.
    for (const fill of [0x00, 0xff, 0x80]) {
      const h = new Uint8Array(80).fill(fill)
      expect(toHex(sha256dHeader(h))).toBe(toHex(pure.sha256d(h)))
    }
  })

  it('property: hashInto reads and writes at any offsets and touches nothing else', () => {
    const hasher = createHeaderHasher()
    fc.assert(
      fc.property(header80, fc.nat(100), fc.nat(100), fc.nat(64), fc.nat(64), (h, before, after, outBefore, outAfter) => {
        const src = new Uint8Array(before + 80 + after).fill(0xa5)
        src.set(h, before)
        const srcCopy = src.slice()
        const out = new Uint8Array(outBefore + 32 + outAfter).fill(0x5a)
        hasher.hashInto(src, before, out, outBefore)
        expect(toHex(out.subarray(outBefore, outBefore + 32))).toBe(toHex(pure.sha256d(h)))
        expect(out.subarray(0, outBefore).every((b) => b === 0x5a)).toBe(true)
        expect(out.subarray(outBefore + 32).every((b) => b === 0x5a)).toBe(true)
        expect(src).toEqual(srcCopy)
      }),
      { numRuns: 200, seed: 8 },
    )
  })

  it('hashes a header into the same array it reads from (disjoint ranges)', () => {
    const h = Uint8Array.from({ length: 80 }, (_, i) => (i * 37 + 11) & 0xff)
    const buf = new Uint8Array(112)
    buf.set(h, 0)
    createHeaderHasher().hashInto(buf, 0, buf, 80)
    expect(toHex(buf.subarray(80))).toBe(toHex(pure.sha256d(h)))
    expect(toHex(buf.subarray(0, 80))).toBe(toHex(h))
  })

  it('refuses inputs that are not one whole header and offsets outside the arrays', () => {
    expect(HEADER_HASH_INPUT_BYTES).toBe(80)
    expect(HEADER_HASH_OUTPUT_BYTES).toBe(32)
    expect(() => sha256dHeader(new Uint8Array(79))).toThrow(RangeError)
    expect(() => sha256dHeader(new Uint8Array(81))).toThrow(RangeError)
    const hasher = createHeaderHasher()
    const src = new Uint8Array(100)
    const out = new Uint8Array(40)
    expect(() => hasher.hashInto(src, 21, out, 0)).toThrow(RangeError)
    expect(() => hasher.hashInto(src, -1, out, 0)).toThrow(RangeError)
    expect(() => hasher.hashInto(src, 0.5, out, 0)).toThrow(RangeError)
    expect(() => hasher.hashInto(src, 0, out, 9)).toThrow(RangeError)
    expect(() => hasher.hashInto(src, 0, out, -1)).toThrow(RangeError)
    // The largest offsets that fit are fine.
    hasher.hashInto(src, 20, out, 8)
    expect(toHex(out.subarray(8))).toBe(toHex(pure.sha256d(src.subarray(20))))
  })

  it.skipIf(!BLOCKS_PRESENT)(`hashes the headers of the real mainnet blocks to their block hashes (${BLOCKS_PRESENT ? 'data present' : SKIP_MESSAGE})`, () => {
    const fixtures = readFixtures()
    expect(fixtures.length).toBeGreaterThan(0)
    const hasher = createHeaderHasher()
    const out = new Uint8Array(32)
    for (const f of fixtures) {
      const header = readBlock(f.file).subarray(0, 80)
      expect(hashToHex(sha256dHeader(header))).toBe(f.hash)
      hasher.hashInto(header, 0, out, 0)
      expect(hashToHex(out)).toBe(f.hash)
      expect(toHex(out)).toBe(toHex(native.sha256d(header)))
    }
  })
})

describe('header-hash.node.ts is generated', () => {
  it('is exactly what scripts/gen-header-hash.mjs writes from its template (edit those, not the output)', () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(generate())
  })
})
