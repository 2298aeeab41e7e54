import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { hashToHex, hexToHash, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import type { Codec } from '../../src/messages/codec.js'
import {
  getdataCodec,
  INV_ITEM_BYTES,
  invCodec,
  type InvMessage,
  InvType,
  invTypeName,
  MAX_INV_PAYLOAD,
  MAX_INV_SIZE,
  MSG_WITNESS_FLAG,
  notfoundCodec,
} from '../../src/messages/inventory.js'
import { errorOf, decode, encode, hex, CTX, expectRandomBytesThrowOnlyWireError, expectTruncatedAtEveryOffset } from '../util.js'

// Mainnet genesis block hash and the txid of its coinbase (display order).
const GENESIS = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f'
const GENESIS_COINBASE = '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b'

// An inv as a node announces a block and a witness-relayed transaction.
const INV_FIXTURE = hex(
  '02', // number of items
  '02000000', // type MSG_BLOCK
  '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000', // genesis hash, internal order
  '05000000', // type MSG_WTX (BIP339)
  '3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a', // genesis coinbase, internal order
)

describe('inv / getdata / notfound', () => {
  it('decodes the fixture field by field', () => {
    const m = decode(invCodec, INV_FIXTURE)
    expect(m.command).toBe('inv')
    expect(m.items.map((i) => [invTypeName(i.type), hashToHex(i.hash)])).toEqual([
      ['MSG_BLOCK', GENESIS],
      ['MSG_WTX', GENESIS_COINBASE],
    ])
  })

  it('encodes the same bytes', () => {
    const m: InvMessage = {
      command: 'inv',
      items: [
        { type: InvType.MSG_BLOCK, hash: hexToHash(GENESIS) },
        { type: InvType.MSG_WTX, hash: hexToHash(GENESIS_COINBASE) },
      ],
    }
    expect(toHex(encode(invCodec, m))).toBe(toHex(INV_FIXTURE))
  })

  it('shares one layout across the three commands', () => {
    expect(decode(getdataCodec, INV_FIXTURE)).toEqual({ ...decode(invCodec, INV_FIXTURE), command: 'getdata' })
    expect(decode(notfoundCodec, INV_FIXTURE)).toEqual({ ...decode(invCodec, INV_FIXTURE), command: 'notfound' })
    expect([invCodec.command, getdataCodec.command, notfoundCodec.command]).toEqual(['inv', 'getdata', 'notfound'])
  })

  it('writes the witness flag types as u32 with bit 30 set (getdata for a witness block)', () => {
    const bytes = encode(getdataCodec, { command: 'getdata', items: [{ type: InvType.MSG_WITNESS_BLOCK, hash: hexToHash(GENESIS) }] })
    expect(toHex(bytes.subarray(0, 5))).toBe('01' + '02000040')
    expect(decode(getdataCodec, bytes).items[0]!.type).toBe(0x40000002)
  })

  it('keeps unknown types, including those with the top bit set, as u32', () => {
    const m = decode(invCodec, hex('01', 'ffffffff', '00'.repeat(32)))
    expect(m.items[0]!.type).toBe(0xffffffff)
    expect(invTypeName(0xffffffff)).toBe('UNKNOWN(0xffffffff)')
  })

  it('names every type constant', () => {
    expect(InvType).toEqual({
      ERROR: 0,
      MSG_TX: 1,
      MSG_BLOCK: 2,
      MSG_FILTERED_BLOCK: 3,
      MSG_CMPCT_BLOCK: 4,
      MSG_WTX: 5,
      MSG_WITNESS_TX: 0x40000001,
      MSG_WITNESS_BLOCK: 0x40000002,
      MSG_FILTERED_WITNESS_BLOCK: 0x40000003,
    })
    expect(MSG_WITNESS_FLAG).toBe(0x40000000)
    for (const [name, v] of Object.entries(InvType)) expect(invTypeName(v)).toBe(name)
    expect(invTypeName(6)).toBe('UNKNOWN(0x6)')
  })

  it('decodes an empty list', () => {
    expect(decode(notfoundCodec, hex('00'))).toEqual({ command: 'notfound', items: [] })
  })

  it('gives TRUNCATED at every cut of the fixture', () => {
    expectTruncatedAtEveryOffset(invCodec, INV_FIXTURE)
  })

  it('rejects MAX_INV_SIZE + 1 items and a count of 0xffffffff before reading items (OVERSIZE)', () => {
    const e1 = errorOf(() => decode(invCodec, hex('fd51c3'))) // 50001
    expect(e1?.code).toBe('OVERSIZE')
    expect(e1?.detail.limit).toBe(MAX_INV_SIZE)
    const e2 = errorOf(() => decode(getdataCodec, hex('feffffffff')))
    expect(e2?.code).toBe('OVERSIZE')
    expect(e2?.detail.actual).toBe(0xffffffff)
  })

  it('rejects a count that the bytes cannot hold (TRUNCATED, checked up front)', () => {
    const e = errorOf(() => decode(invCodec, hex('fd0001', toHex(INV_FIXTURE.subarray(1)))))
    expect(e?.code).toBe('TRUNCATED')
    expect(e?.detail.expected).toBe(256 * INV_ITEM_BYTES)
  })

  it('rejects a non-canonical count (NON_CANONICAL) and trailing bytes', () => {
    expect(errorOf(() => decode(invCodec, hex('fd0200', toHex(INV_FIXTURE.subarray(1)))))?.code).toBe('NON_CANONICAL')
    expect(errorOf(() => decode(invCodec, hex(toHex(INV_FIXTURE), '00')))?.code).toBe('TRAILING_BYTES')
  })

  it('encodes MAX_INV_SIZE items in exactly MAX_INV_PAYLOAD bytes and refuses one more', () => {
    const item = { type: InvType.MSG_TX, hash: new Uint8Array(32) }
    const bytes = encode(invCodec, { command: 'inv', items: new Array(MAX_INV_SIZE).fill(item) })
    expect(bytes.length).toBe(MAX_INV_PAYLOAD)
    expect(invCodec.maxPayload(CTX)).toBe(MAX_INV_PAYLOAD)
    expect(decode(invCodec, bytes).items).toHaveLength(MAX_INV_SIZE)
    const over = { command: 'inv' as const, items: new Array(MAX_INV_SIZE + 1).fill(item) }
    expect(errorOf(() => encode(invCodec, over))?.code).toBe('ENCODE_RANGE')
  })

  it('refuses to encode a hash that is not 32 bytes or a type outside u32', () => {
    expect(errorOf(() => encode(invCodec, { command: 'inv', items: [{ type: 1, hash: new Uint8Array(31) }] }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(invCodec, { command: 'inv', items: [{ type: -1, hash: new Uint8Array(32) }] }))?.code).toBe('ENCODE_RANGE')
  })

  const item = fc.record({
    type: fc.oneof(fc.constantFrom(...Object.values(InvType)), fc.integer({ min: 0, max: 0xffffffff })),
    hash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  })

  it('property: decode(encode(m)) equals m for each command', () => {
    fc.assert(
      fc.property(fc.constantFrom(invCodec, getdataCodec, notfoundCodec), fc.array(item, { maxLength: 50 }), (codec, items) => {
        const m = { command: codec.command, items }
        expect(decode(codec as Codec<InvMessage>, encode(codec as Codec<InvMessage>, m as InvMessage))).toEqual(m)
      }),
    )
  })

  it('property: random bytes decode or throw only WireError', () => {
    expectRandomBytesThrowOnlyWireError([invCodec], { maxLength: 200, numRuns: 2000 })
  })
})
