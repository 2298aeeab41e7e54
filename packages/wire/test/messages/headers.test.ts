import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { bytesEqual, hashToHex, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { blockHash, type BlockHeader } from '../../src/block/header.js'
import {
  HEADERS_ENTRY_BYTES,
  headersCodec,
  type HeadersMessage,
  MAX_HEADERS_PAYLOAD,
  MAX_HEADERS_RESULTS,
  sendheadersCodec,
} from '../../src/messages/headers.js'
import { errorOf, decode, encode, hex, CTX, expectOnlyWireError, expectRandomBytesThrowOnlyWireError, expectTruncatedAtEveryOffset } from '../util.js'

// Mainnet genesis and block 1 headers, each followed by the tx count 0.
const GENESIS_HEADER = [
  '01000000', // version 1
  '0000000000000000000000000000000000000000000000000000000000000000', // prev block: none
  '3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a', // merkle root
  '29ab5f49', // time 1231006505
  'ffff001d', // bits 0x1d00ffff
  '1dac2b7c', // nonce 2083236893
].join('')
const BLOCK_1_HEADER = [
  '01000000', // version 1
  '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000', // prev block: genesis
  '982051fd1e4ba744bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e', // merkle root
  '61bc6649', // time 1231469665
  'ffff001d', // bits 0x1d00ffff
  '01e36299', // nonce 2573394689
].join('')
const HEADERS_FIXTURE = hex(
  '02', // number of headers
  GENESIS_HEADER,
  '00', // tx count, always 0
  BLOCK_1_HEADER,
  '00', // tx count, always 0
)

describe('headers', () => {
  it('decodes mainnet headers 0 and 1, which hash to the known block hashes and chain', () => {
    const { headers } = decode(headersCodec, HEADERS_FIXTURE)
    expect(headers).toHaveLength(2)
    const [g, b1] = headers as [BlockHeader, BlockHeader]
    expect(g).toMatchObject({ version: 1, time: 1231006505, bits: 0x1d00ffff, nonce: 2083236893 })
    expect(b1).toMatchObject({ version: 1, time: 1231469665, bits: 0x1d00ffff, nonce: 2573394689 })
    expect(hashToHex(blockHash(g))).toBe('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f')
    expect(hashToHex(blockHash(b1))).toBe('00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048')
    expect(bytesEqual(b1.prevBlock, blockHash(g))).toBe(true)
  })

  it('encodes the same bytes', () => {
    const m = decode(headersCodec, HEADERS_FIXTURE)
    expect(toHex(encode(headersCodec, m))).toBe(toHex(HEADERS_FIXTURE))
  })

  it('decodes an empty headers message (the peer has nothing newer)', () => {
    expect(decode(headersCodec, hex('00'))).toEqual({ command: 'headers', headers: [] })
  })

  it('rejects a non-zero tx count (INVALID_VALUE)', () => {
    const e = errorOf(() => decode(headersCodec, hex('01', GENESIS_HEADER, '01')))
    expect(e?.code).toBe('INVALID_VALUE')
    expect(e?.detail).toMatchObject({ field: 'tx count', actual: 1, offset: 81 })
  })

  it('rejects a zero tx count in a longer form (NON_CANONICAL)', () => {
    expect(errorOf(() => decode(headersCodec, hex('01', GENESIS_HEADER, 'fd0000')))?.code).toBe('NON_CANONICAL')
  })

  it('gives TRUNCATED at every cut of the fixture', () => {
    expectTruncatedAtEveryOffset(headersCodec, HEADERS_FIXTURE)
  })

  it('rejects MAX_HEADERS_RESULTS + 1 headers and a count of 0xffffffff before reading any (OVERSIZE)', () => {
    const e1 = errorOf(() => decode(headersCodec, hex('fdd107'))) // 2001
    expect(e1?.code).toBe('OVERSIZE')
    expect(e1?.detail.limit).toBe(MAX_HEADERS_RESULTS)
    const e2 = errorOf(() => decode(headersCodec, hex('feffffffff')))
    expect(e2?.code).toBe('OVERSIZE')
    expect(e2?.detail.actual).toBe(0xffffffff)
  })

  it('rejects a count the bytes cannot hold at 81 bytes per header (TRUNCATED up front)', () => {
    const e = errorOf(() => decode(headersCodec, hex('03', toHex(HEADERS_FIXTURE.subarray(1)))))
    expect(e?.code).toBe('TRUNCATED')
    expect(e?.detail.expected).toBe(3 * HEADERS_ENTRY_BYTES)
  })

  it('rejects a non-canonical header count (NON_CANONICAL) and trailing bytes', () => {
    expect(errorOf(() => decode(headersCodec, hex('fd0200', toHex(HEADERS_FIXTURE.subarray(1)))))?.code).toBe('NON_CANONICAL')
    expect(errorOf(() => decode(headersCodec, hex(toHex(HEADERS_FIXTURE), '00')))?.code).toBe('TRAILING_BYTES')
  })

  it('encodes MAX_HEADERS_RESULTS headers in exactly MAX_HEADERS_PAYLOAD bytes and refuses one more', () => {
    const g = decode(headersCodec, HEADERS_FIXTURE).headers[0]!
    const bytes = encode(headersCodec, { command: 'headers', headers: new Array(MAX_HEADERS_RESULTS).fill(g) })
    expect(bytes.length).toBe(MAX_HEADERS_PAYLOAD)
    expect(headersCodec.maxPayload(CTX)).toBe(MAX_HEADERS_PAYLOAD)
    expect(decode(headersCodec, bytes).headers).toHaveLength(MAX_HEADERS_RESULTS)
    const over = { command: 'headers' as const, headers: new Array(MAX_HEADERS_RESULTS + 1).fill(g) }
    expect(errorOf(() => encode(headersCodec, over))?.code).toBe('ENCODE_RANGE')
  })

  const header = fc.record({
    version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    prevBlock: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    merkleRoot: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    time: fc.integer({ min: 0, max: 0xffffffff }),
    bits: fc.integer({ min: 0, max: 0xffffffff }),
    nonce: fc.integer({ min: 0, max: 0xffffffff }),
  })

  it('property: decode(encode(m)) equals m', () => {
    fc.assert(
      fc.property(fc.array(header, { maxLength: 30 }), (headers) => {
        const m: HeadersMessage = { command: 'headers', headers }
        expect(decode(headersCodec, encode(headersCodec, m))).toEqual(m)
      }),
    )
  })

  it('property: random bytes decode or throw only WireError', () => {
    expectRandomBytesThrowOnlyWireError([headersCodec], { maxLength: 300, numRuns: 2000 })
  })

  it('property: a valid payload with one byte changed decodes or throws only WireError', () => {
    fc.assert(
      fc.property(fc.array(header, { minLength: 1, maxLength: 5 }), fc.nat(), fc.nat({ max: 255 }), (headers, at, v) => {
        const b = encode(headersCodec, { command: 'headers', headers }).slice()
        b[at % b.length] = v
        expectOnlyWireError(() => decode(headersCodec, b))
      }),
    )
  })
})

describe('sendheaders', () => {
  it('is empty both ways with a 0-byte cap', () => {
    expect(encode(sendheadersCodec, { command: 'sendheaders' }).length).toBe(0)
    expect(decode(sendheadersCodec, new Uint8Array(0))).toEqual({ command: 'sendheaders' })
    expect(sendheadersCodec.maxPayload(CTX)).toBe(0)
    expect(errorOf(() => decode(sendheadersCodec, Uint8Array.of(0)))?.code).toBe('TRAILING_BYTES')
  })
})
