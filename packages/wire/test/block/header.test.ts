import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { blockHash, parseBlockHeader, serializeBlockHeader, writeBlockHeader, type BlockHeader } from '../../src/block/header.js'
import { hashToHex, hexToHash, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { sha256d } from '../../src/hash/sha256.js'

// Mainnet genesis header fields (Bitcoin Core chainparams.cpp).
const genesis: BlockHeader = {
  version: 1,
  prevBlock: new Uint8Array(32),
  merkleRoot: hexToHash('4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b'),
  time: 1231006505,
  bits: 0x1d00ffff,
  nonce: 2083236893,
}

describe('block header', () => {
  it('serializes the genesis header to the bytes that hash to the genesis block hash', () => {
    const bytes = serializeBlockHeader(genesis)
    expect(bytes.length).toBe(80)
    expect(hashToHex(blockHash(genesis))).toBe('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f')
    expect(parseBlockHeader(bytes)).toEqual(genesis)
  })

  it('writes a negative version as two’s complement', () => {
    const h = { ...genesis, version: -2 }
    expect(parseBlockHeader(serializeBlockHeader(h)).version).toBe(-2)
  })

  it('refuses fields out of range instead of truncating them', () => {
    const bad: Partial<BlockHeader>[] = [
      { time: 2 ** 32 },
      { bits: -1 },
      { nonce: 1.5 },
      { version: 2 ** 31 },
      { prevBlock: new Uint8Array(31) },
      { merkleRoot: new Uint8Array(33) },
    ]
    for (const b of bad) {
      let err: unknown
      try {
        serializeBlockHeader({ ...genesis, ...b })
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(WireError)
      expect((err as WireError).code).toBe('ENCODE_RANGE')
    }
  })

  const arbHeader: fc.Arbitrary<BlockHeader> = fc.record({
    version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    prevBlock: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    merkleRoot: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    time: fc.integer({ min: 0, max: 0xffffffff }),
    bits: fc.integer({ min: 0, max: 0xffffffff }),
    nonce: fc.integer({ min: 0, max: 0xffffffff }),
  })

  it('property: blockHash is sha256d of the serialization, and it round-trips', () => {
    fc.assert(
      fc.property(arbHeader, (h) => {
        const bytes = serializeBlockHeader(h)
        expect(toHex(blockHash(h))).toBe(toHex(sha256d(bytes)))
        expect(parseBlockHeader(bytes)).toEqual(h)
      }),
      { numRuns: 300, seed: 3 },
    )
  })

  it('property: writeBlockHeader writes the serialization at an offset and nothing around it', () => {
    fc.assert(
      fc.property(arbHeader, fc.nat(200), fc.nat(50), (h, offset, after) => {
        const out = new Uint8Array(offset + 80 + after).fill(0xcc)
        writeBlockHeader(h, out, offset)
        expect(toHex(out.subarray(offset, offset + 80))).toBe(toHex(serializeBlockHeader(h)))
        expect(out.subarray(0, offset).every((b) => b === 0xcc)).toBe(true)
        expect(out.subarray(offset + 80).every((b) => b === 0xcc)).toBe(true)
      }),
      { numRuns: 200, seed: 4 },
    )
  })

  it('writeBlockHeader checks every field before writing anything, and the room it needs', () => {
    const out = new Uint8Array(100).fill(0xcc)
    for (const b of [{ time: -1 }, { nonce: 2 ** 32 }, { version: -(2 ** 31) - 1 }, { merkleRoot: new Uint8Array(31) }]) {
      expect(() => writeBlockHeader({ ...genesis, ...b }, out, 0)).toThrow(WireError)
      expect(out.every((x) => x === 0xcc)).toBe(true)
    }
    expect(() => writeBlockHeader(genesis, out, 21)).toThrow(RangeError)
    expect(() => writeBlockHeader(genesis, out, -1)).toThrow(RangeError)
    expect(out.every((x) => x === 0xcc)).toBe(true)
    writeBlockHeader(genesis, out, 20)
    expect(hashToHex(sha256d(out.subarray(20)))).toBe('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f')
  })
})
