import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { SENDTXRCNCL_PAYLOAD_BYTES, sendtxrcnclCodec, TXRECONCILIATION_VERSION } from '../../src/messages/txrcncl.js'
import { errorOf, decode, encode, hex, CTX, expectOnlyWireError, expectTruncatedAtEveryOffset } from '../util.js'

// A BIP330 sendtxrcncl as Core 26+ sends it (with -txreconciliation).
const SENDTXRCNCL_FIXTURE = hex(
  '01000000', // version 1 (TXRECONCILIATION_VERSION)
  'efcdab8967452301', // salt 0x0123456789abcdef (u64 LE)
)

describe('sendtxrcncl', () => {
  it('decodes the fixture field by field and encodes it back', () => {
    const m = decode(sendtxrcnclCodec, SENDTXRCNCL_FIXTURE)
    expect(m).toEqual({ command: 'sendtxrcncl', version: TXRECONCILIATION_VERSION, salt: 0x0123456789abcdefn })
    expect(toHex(encode(sendtxrcnclCodec, m))).toBe(toHex(SENDTXRCNCL_FIXTURE))
  })

  it('reads version as u32 and salt as u64', () => {
    expect(decode(sendtxrcnclCodec, hex('ffffffff', 'ffffffffffffffff'))).toEqual({
      command: 'sendtxrcncl',
      version: 0xffffffff,
      salt: 0xffffffffffffffffn,
    })
  })

  it('gives TRUNCATED at every cut and TRAILING_BYTES on an extra byte', () => {
    expectTruncatedAtEveryOffset(sendtxrcnclCodec, SENDTXRCNCL_FIXTURE)
    expect(errorOf(() => decode(sendtxrcnclCodec, hex(toHex(SENDTXRCNCL_FIXTURE), '00')))?.code).toBe('TRAILING_BYTES')
  })

  it('caps the payload at 12 bytes', () => {
    expect(sendtxrcnclCodec.maxPayload(CTX)).toBe(SENDTXRCNCL_PAYLOAD_BYTES)
    expect(SENDTXRCNCL_PAYLOAD_BYTES).toBe(12)
  })

  it('refuses to encode out-of-range fields (ENCODE_RANGE)', () => {
    expect(errorOf(() => encode(sendtxrcnclCodec, { command: 'sendtxrcncl', version: -1, salt: 0n }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(sendtxrcnclCodec, { command: 'sendtxrcncl', version: 1, salt: 1n << 64n }))?.code).toBe('ENCODE_RANGE')
  })

  it('property: decode(encode(m)) equals m', () => {
    const msg = fc.record({
      command: fc.constant('sendtxrcncl' as const),
      version: fc.integer({ min: 0, max: 0xffffffff }),
      salt: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    })
    fc.assert(
      fc.property(msg, (m) => {
        expect(decode(sendtxrcnclCodec, encode(sendtxrcnclCodec, m))).toEqual(m)
      }),
    )
  })

  it('property: random bytes decode or throw only WireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (b) => {
        expectOnlyWireError(() => {
          decode(sendtxrcnclCodec, b)
          expect(b.length).toBe(12)
        })
      }),
    )
  })
})
