import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { FEEFILTER_PAYLOAD_BYTES, feefilterCodec, isFeerateInMoneyRange, MAX_MONEY } from '../../src/messages/feefilter.js'
import { errorOf, decode, encode, hex, CTX, expectOnlyWireError, expectTruncatedAtEveryOffset } from '../util.js'

// Core's default -minrelaytxfee, 1000 sat/kvB, as a peer announces it.
const FEEFILTER_FIXTURE = hex(
  'e803000000000000', // feerate 1000 sat/kvB (i64 LE)
)

describe('feefilter', () => {
  it('decodes 1000 sat/kvB and encodes it back', () => {
    expect(decode(feefilterCodec, FEEFILTER_FIXTURE)).toEqual({ command: 'feefilter', feerate: 1000n })
    expect(toHex(encode(feefilterCodec, { command: 'feefilter', feerate: 1000n }))).toBe('e803000000000000')
  })

  it('reads the fee rate as signed i64 (Core CAmount), leaving range policy to the caller', () => {
    const neg = decode(feefilterCodec, hex('ffffffffffffffff'))
    expect(neg.feerate).toBe(-1n)
    expect(isFeerateInMoneyRange(neg.feerate)).toBe(false)
    const max = decode(feefilterCodec, hex('ffffffffffffff7f'))
    expect(max.feerate).toBe((1n << 63n) - 1n)
    expect(isFeerateInMoneyRange(max.feerate)).toBe(false)
    expect(isFeerateInMoneyRange(0n)).toBe(true)
    expect(isFeerateInMoneyRange(MAX_MONEY)).toBe(true)
    expect(isFeerateInMoneyRange(MAX_MONEY + 1n)).toBe(false)
    expect(MAX_MONEY).toBe(2_100_000_000_000_000n)
  })

  it('gives TRUNCATED at every cut and TRAILING_BYTES on a ninth byte', () => {
    expectTruncatedAtEveryOffset(feefilterCodec, FEEFILTER_FIXTURE)
    expect(errorOf(() => decode(feefilterCodec, hex('e80300000000000000')))?.code).toBe('TRAILING_BYTES')
  })

  it('caps the payload at 8 bytes', () => {
    expect(feefilterCodec.maxPayload(CTX)).toBe(FEEFILTER_PAYLOAD_BYTES)
    expect(FEEFILTER_PAYLOAD_BYTES).toBe(8)
  })

  it('refuses to encode a value outside i64 (ENCODE_RANGE)', () => {
    expect(errorOf(() => encode(feefilterCodec, { command: 'feefilter', feerate: 1n << 63n }))?.code).toBe('ENCODE_RANGE')
  })

  it('property: decode(encode(m)) equals m for any i64', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (feerate) => {
        const m = { command: 'feefilter' as const, feerate }
        expect(decode(feefilterCodec, encode(feefilterCodec, m))).toEqual(m)
      }),
    )
  })

  it('property: random bytes decode or throw only WireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (b) => {
        expectOnlyWireError(() => {
          expect(decode(feefilterCodec, b).command).toBe('feefilter')
          expect(b.length).toBe(8)
        })
      }),
    )
  })
})
