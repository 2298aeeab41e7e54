import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { hashToHex, hexToHash, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import {
  MAX_REJECT_COMMAND_LENGTH,
  MAX_REJECT_MESSAGE_LENGTH,
  MAX_REJECT_PAYLOAD,
  RejectCode,
  rejectCodeName,
  rejectCodec,
  type RejectMessage,
} from '../../src/messages/reject.js'
import { errorOf, decode, encode, hex, CTX, expectRandomBytesThrowOnlyWireError } from '../util.js'

const ascii = (s: string) => toHex(new TextEncoder().encode(s))

const TXID = '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b'
const REASON = 'non-mandatory-script-verify-flag'

// A tx reject as old Core (0.10-0.19) and btcd sent it.
const TX_REJECT = hex(
  '02', // message length
  ascii('tx'), // message
  '40', // ccode REJECT_NONSTANDARD
  '20', // reason length 32
  ascii(REASON), // reason
  toHex(hexToHash(TXID)), // data: the txid, internal order
)
const REASON_END = 1 + 2 + 1 + 1 + REASON.length

// Core's answer to a too-old version, which carries no data.
const VERSION_REJECT = hex(
  '07', // message length
  ascii('version'), // message
  '11', // ccode REJECT_OBSOLETE
  '20', // reason length 32
  ascii('Version must be 31800 or greater'), // reason
)

describe('reject', () => {
  it('decodes a tx reject with its txid', () => {
    const m = decode(rejectCodec, TX_REJECT)
    expect(m).toMatchObject({ command: 'reject', message: 'tx', ccode: RejectCode.NONSTANDARD, reason: REASON })
    expect(hashToHex(m.data!)).toBe(TXID)
    expect(rejectCodeName(m.ccode)).toBe('NONSTANDARD')
  })

  it('decodes a version reject without data', () => {
    const m = decode(rejectCodec, VERSION_REJECT)
    expect(m).toEqual({ command: 'reject', message: 'version', ccode: RejectCode.OBSOLETE, reason: 'Version must be 31800 or greater' })
    expect('data' in m).toBe(false)
  })

  it('encodes both back to the same bytes', () => {
    expect(toHex(encode(rejectCodec, decode(rejectCodec, TX_REJECT)))).toBe(toHex(TX_REJECT))
    expect(toHex(encode(rejectCodec, decode(rejectCodec, VERSION_REJECT)))).toBe(toHex(VERSION_REJECT))
  })

  it('names the BIP61 codes and keeps unknown ones', () => {
    expect(RejectCode).toEqual({
      MALFORMED: 0x01,
      INVALID: 0x10,
      OBSOLETE: 0x11,
      DUPLICATE: 0x12,
      NONSTANDARD: 0x40,
      DUST: 0x41,
      INSUFFICIENTFEE: 0x42,
      CHECKPOINT: 0x43,
    })
    expect(rejectCodeName(0x42)).toBe('INSUFFICIENTFEE')
    expect(rejectCodeName(0x07)).toBe('UNKNOWN(0x07)')
    expect(decode(rejectCodec, hex('00', '07', '00')).ccode).toBe(7)
  })

  it('gives TRUNCATED at every cut except right after the reason (data is optional)', () => {
    for (let k = 0; k < TX_REJECT.length; k++) {
      const e = errorOf(() => decode(rejectCodec, TX_REJECT.subarray(0, k)))
      if (k === REASON_END) expect(e, `cut at ${k}`).toBeUndefined()
      else expect(e?.code, `cut at ${k}`).toBe('TRUNCATED')
    }
  })

  it('rejects a message longer than 12 bytes and a reason longer than 111 (OVERSIZE)', () => {
    const longCmd = errorOf(() => decode(rejectCodec, hex('0d', ascii('thirteenchars'), '01', '00')))
    expect(longCmd?.code).toBe('OVERSIZE')
    expect(longCmd?.detail.limit).toBe(MAX_REJECT_COMMAND_LENGTH)
    const longReason = errorOf(() => decode(rejectCodec, hex('02', ascii('tx'), '10', '70', '61'.repeat(112))))
    expect(longReason?.code).toBe('OVERSIZE')
    expect(longReason?.detail.limit).toBe(MAX_REJECT_MESSAGE_LENGTH)
  })

  it('fails fast on a reason length of 0xffffffff (OVERSIZE)', () => {
    expect(errorOf(() => decode(rejectCodec, hex('02', ascii('tx'), '10', 'feffffffff')))?.code).toBe('OVERSIZE')
  })

  it('rejects non-canonical string lengths (NON_CANONICAL)', () => {
    expect(errorOf(() => decode(rejectCodec, hex('fd0200', ascii('tx'), '10', '00')))?.code).toBe('NON_CANONICAL')
    expect(errorOf(() => decode(rejectCodec, hex('02', ascii('tx'), '10', 'fd0000')))?.code).toBe('NON_CANONICAL')
  })

  it('rejects bytes after the data (TRAILING_BYTES)', () => {
    expect(errorOf(() => decode(rejectCodec, hex(toHex(TX_REJECT), '00')))?.code).toBe('TRAILING_BYTES')
  })

  it('encodes the largest reject in exactly MAX_REJECT_PAYLOAD bytes', () => {
    const m: RejectMessage = {
      command: 'reject',
      message: 'a'.repeat(MAX_REJECT_COMMAND_LENGTH),
      ccode: 0xff,
      reason: 'b'.repeat(MAX_REJECT_MESSAGE_LENGTH),
      data: new Uint8Array(32),
    }
    expect(encode(rejectCodec, m).length).toBe(MAX_REJECT_PAYLOAD)
    expect(rejectCodec.maxPayload(CTX)).toBe(MAX_REJECT_PAYLOAD)
  })

  it('refuses to encode over-long strings, a bad ccode or data that is not 32 bytes (ENCODE_RANGE)', () => {
    const base: RejectMessage = { command: 'reject', message: 'tx', ccode: 0x10, reason: '' }
    expect(errorOf(() => encode(rejectCodec, { ...base, message: 'a'.repeat(13) }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(rejectCodec, { ...base, reason: 'é'.repeat(56) }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(rejectCodec, { ...base, ccode: 256 }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(rejectCodec, { ...base, data: new Uint8Array(31) }))?.code).toBe('ENCODE_RANGE')
  })

  const msg = fc
    .record({
      message: fc.string({ maxLength: MAX_REJECT_COMMAND_LENGTH }),
      ccode: fc.integer({ min: 0, max: 255 }),
      reason: fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => new TextEncoder().encode(s).length <= MAX_REJECT_MESSAGE_LENGTH),
      data: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
    })
    .map(({ data, ...rest }): RejectMessage => (data ? { command: 'reject', ...rest, data } : { command: 'reject', ...rest }))

  it('property: decode(encode(m)) equals m', () => {
    fc.assert(
      fc.property(msg, (m) => {
        expect(decode(rejectCodec, encode(rejectCodec, m))).toStrictEqual(m)
      }),
    )
  })

  it('property: random bytes decode or throw only WireError', () => {
    expectRandomBytesThrowOnlyWireError([rejectCodec], { maxLength: 200, numRuns: 2000 })
  })
})
