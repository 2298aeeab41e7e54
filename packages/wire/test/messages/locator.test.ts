import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { hashToHex, hexToHash, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import {
  getblocksCodec,
  getheadersCodec,
  type GetheadersMessage,
  isNullHashStop,
  MAX_LOCATOR_PAYLOAD,
  MAX_LOCATOR_SZ,
} from '../../src/messages/locator.js'
import { errorOf, decode, encode, hex, CTX, expectRandomBytesThrowOnlyWireError, expectTruncatedAtEveryOffset } from '../util.js'

const GENESIS = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f'
const BLOCK_1 = '00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048'

// A getheaders as a fresh node sends it after syncing block 1: locator
// [block 1, genesis], no stop hash.
const GETHEADERS_FIXTURE = hex(
  '80110100', // version 70016
  '02', // locator length
  '4860eb18bf1b1620e37e9490fc8a427514416fd75159ab86688e9a8300000000', // block 1 hash, internal order
  '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000', // genesis hash, internal order
  '0000000000000000000000000000000000000000000000000000000000000000', // hashStop: none, as many as allowed
)

describe('getheaders / getblocks', () => {
  it('decodes the fixture field by field', () => {
    const m = decode(getheadersCodec, GETHEADERS_FIXTURE)
    expect(m.command).toBe('getheaders')
    expect(m.version).toBe(70016)
    expect(m.locator.map(hashToHex)).toEqual([BLOCK_1, GENESIS])
    expect(isNullHashStop(m.hashStop)).toBe(true)
  })

  it('encodes the same bytes', () => {
    const m: GetheadersMessage = {
      command: 'getheaders',
      version: 70016,
      locator: [hexToHash(BLOCK_1), hexToHash(GENESIS)],
      hashStop: new Uint8Array(32),
    }
    expect(toHex(encode(getheadersCodec, m))).toBe(toHex(GETHEADERS_FIXTURE))
  })

  it('shares the layout with getblocks', () => {
    expect(decode(getblocksCodec, GETHEADERS_FIXTURE)).toEqual({ ...decode(getheadersCodec, GETHEADERS_FIXTURE), command: 'getblocks' })
  })

  it('accepts an empty locator (ask for just the hashStop header)', () => {
    const m = decode(getheadersCodec, hex('80110100', '00', toHex(hexToHash(BLOCK_1))))
    expect(m.locator).toEqual([])
    expect(hashToHex(m.hashStop)).toBe(BLOCK_1)
    expect(isNullHashStop(m.hashStop)).toBe(false)
  })

  it('tells a null hashStop from others', () => {
    expect(isNullHashStop(new Uint8Array(32))).toBe(true)
    const one = new Uint8Array(32)
    one[31] = 1
    expect(isNullHashStop(one)).toBe(false)
    expect(isNullHashStop(new Uint8Array(31))).toBe(false)
  })

  it('gives TRUNCATED at every cut of the fixture', () => {
    expectTruncatedAtEveryOffset(getheadersCodec, GETHEADERS_FIXTURE)
  })

  it("accepts Core's MAX_LOCATOR_SZ hashes and rejects one more (OVERSIZE)", () => {
    const at = (n: number) => hex('80110100', n.toString(16).padStart(2, '0'), '11'.repeat(32 * n), '00'.repeat(32))
    expect(decode(getblocksCodec, at(MAX_LOCATOR_SZ)).locator).toHaveLength(MAX_LOCATOR_SZ)
    expect(at(MAX_LOCATOR_SZ).length).toBe(MAX_LOCATOR_PAYLOAD)
    expect(getblocksCodec.maxPayload(CTX)).toBe(MAX_LOCATOR_PAYLOAD)
    const e = errorOf(() => decode(getblocksCodec, at(MAX_LOCATOR_SZ + 1)))
    expect(e?.code).toBe('OVERSIZE')
    expect(e?.detail.limit).toBe(MAX_LOCATOR_SZ)
  })

  it('fails fast on a locator count of 0xffffffff (OVERSIZE)', () => {
    const e = errorOf(() => decode(getheadersCodec, hex('80110100', 'feffffffff')))
    expect(e?.code).toBe('OVERSIZE')
    expect(e?.detail.actual).toBe(0xffffffff)
  })

  it('rejects a non-canonical locator count (NON_CANONICAL) and trailing bytes', () => {
    const body = toHex(GETHEADERS_FIXTURE.subarray(5))
    expect(errorOf(() => decode(getheadersCodec, hex('80110100', 'fd0200', body)))?.code).toBe('NON_CANONICAL')
    expect(errorOf(() => decode(getheadersCodec, hex(toHex(GETHEADERS_FIXTURE), '00')))?.code).toBe('TRAILING_BYTES')
  })

  it('refuses to encode more than MAX_LOCATOR_SZ hashes or a hash of the wrong size', () => {
    const base = { command: 'getheaders' as const, version: 70016, locator: [], hashStop: new Uint8Array(32) }
    const many = new Array(MAX_LOCATOR_SZ + 1).fill(new Uint8Array(32))
    expect(errorOf(() => encode(getheadersCodec, { ...base, locator: many }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(getheadersCodec, { ...base, hashStop: new Uint8Array(20) }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(getheadersCodec, { ...base, locator: [new Uint8Array(33)] }))?.code).toBe('ENCODE_RANGE')
  })

  const hash = fc.uint8Array({ minLength: 32, maxLength: 32 })
  const msg = fc.record({
    version: fc.integer({ min: 0, max: 0xffffffff }),
    locator: fc.array(hash, { maxLength: MAX_LOCATOR_SZ }),
    hashStop: hash,
  })

  it('property: decode(encode(m)) equals m for both commands', () => {
    fc.assert(
      fc.property(msg, (fields) => {
        const h = { command: 'getheaders' as const, ...fields }
        const b = { command: 'getblocks' as const, ...fields }
        expect(decode(getheadersCodec, encode(getheadersCodec, h))).toEqual(h)
        expect(decode(getblocksCodec, encode(getblocksCodec, b))).toEqual(b)
      }),
    )
  })

  it('property: random bytes decode or throw only WireError', () => {
    expectRandomBytesThrowOnlyWireError([getheadersCodec], { maxLength: 200, numRuns: 2000 })
  })
})
