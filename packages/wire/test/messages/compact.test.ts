import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ByteReader } from '../../src/bytes/reader.js'
import { fromHex, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { sha256d } from '../../src/hash/sha256.js'
import { siphash24 } from '../../src/hash/siphash.js'
import { type BlockHeader, decodeBlockHeader, parseBlockHeader } from '../../src/block/header.js'
import type { Transaction } from '../../src/tx/types.js'
import type { CodecContext } from '../../src/messages/codec.js'
import {
  blocktxnCodec,
  CMPCT_VERSION_2,
  cmpctblockCodec,
  getblocktxnCodec,
  MAX_CMPCT_INDEX,
  maxCompactTxs,
  SENDCMPCT_PAYLOAD_BYTES,
  sendcmpctCodec,
  shortId,
  shortIdKey,
} from '../../src/messages/compact.js'
import { errorOf, decode, encode, expectTruncatedAtEveryOffset, hex, CTX, expectOnlyWireError, expectRandomBytesThrowOnlyWireError, type AnyCodec } from '../util.js'

/** A small-block profile: 600 / 60 = 10 transactions at most. */
const SMALL: CodecContext = { protocolVersion: 70016, maxBlockPayload: 600 }


// Compact block vector of rust-bitcoin (bitcoin/src/bip152.rs,
// test_compact_block_vector: "Tested with Elements implementation of compact
// blocks"). A regtest block of two transactions (a segwit coinbase and one
// segwit spend) and its version-2 cmpctblock with nonce 18053200567810711460.
const VECTOR_BLOCK = fromHex(
  '000000206c750a364035aefd5f81508a08769975116d9195312ee4520dceac39e1fdc62c4dc67473b8e354358c1e610afeaff7410858bd45df43e2940f8a62bd3d5e3ac943c2975cffff7f200000000002020000000001010000000000000000000000000000000000000000000000000000000000000000ffffffff04016b0101ffffffff020006062a0100000001510000000000000000266a24aa21a9ed4a3d9f3343dafcc0d6f6d4310f2ee5ce273ed34edca6c75db3a73e7f368734200120000000000000000000000000000000000000000000000000000000000000000000000000020000000001021fc20ba2bd745507b8e00679e3b362558f9457db374ca28ffa5243f4c23a4d5f00000000171600147c9dea14ffbcaec4b575e03f05ceb7a81cd3fcbffdffffff915d689be87b43337f42e26033df59807b768223368f189a023d0242d837768900000000171600147c9dea14ffbcaec4b575e03f05ceb7a81cd3fcbffdffffff0200cdf5050000000017a9146803c72d9154a6a20f404bed6d3dcee07986235a8700e1f5050000000017a9144e6a4c7cb5b5562904843bdf816342f4db9f5797870247304402205e9bf6e70eb0e4b495bf483fd8e6e02da64900f290ef8aaa64bb32600d973c450220670896f5d0e5f33473e5f399ab680cc1d25c2d2afd15abd722f04978f28be887012103e4e4d9312b2261af508b367d8ba9be4f01b61d6d6e78bec499845b4f410bcf2702473044022045ac80596a6ac9c8c572f94708709adaf106677221122e08daf8b9741a04f66a022003ccd52a3b78f8fd08058fc04fc0cffa5f4c196c84eae9e37e2a85babe731b57012103e4e4d9312b2261af508b367d8ba9be4f01b61d6d6e78bec499845b4f410bcf276a000000',
)
const VECTOR_NONCE = 18053200567810711460n
const VECTOR_CMPCT = hex(
  '000000206c750a364035aefd5f81508a08769975116d9195312ee4520dceac39e1fdc62c4dc67473b8e354358c1e610afeaff7410858bd45df43e2940f8a62bd3d5e3ac943c2975cffff7f2000000000', // header
  'a4df3c3744da89fa', // nonce (LE)
  '01', // one short id
  '0a6979e97145', // short id of tx 1's wtxid (LE)
  '01', // one prefilled tx
  '00', // at index 0 (differential: 0)
  // the coinbase, with its witness (witness reserved value)
  '020000000001010000000000000000000000000000000000000000000000000000000000000000ffffffff04016b0101ffffffff020006062a0100000001510000000000000000266a24aa21a9ed4a3d9f3343dafcc0d6f6d4310f2ee5ce273ed34edca6c75db3a73e7f368734200120000000000000000000000000000000000000000000000000000000000000000000000000',
)
/** Offset of the prefilled coinbase in VECTOR_CMPCT. */
const COINBASE_AT = 80 + 8 + 1 + 6 + 1 + 1

describe(`BIP152 short ids`, () => {
  it('reproduce the Elements/rust-bitcoin vector: short id of tx 1 = 0a6979e97145', () => {
    const header = parseBlockHeader(VECTOR_BLOCK.subarray(0, 80))
    expect(toHex(VECTOR_CMPCT.subarray(0, 80))).toBe(toHex(VECTOR_BLOCK.subarray(0, 80)))
    // Block = header | 02 | coinbase | tx 1; the coinbase bytes are the ones prefilled in the cmpctblock.
    const coinbase = VECTOR_CMPCT.subarray(COINBASE_AT)
    expect(toHex(VECTOR_BLOCK.subarray(81, 81 + coinbase.length))).toBe(toHex(coinbase))
    const tx1 = VECTOR_BLOCK.subarray(81 + coinbase.length)
    const wtxid = sha256d(tx1) // the full (witness) serialization
    const key = shortIdKey(header, VECTOR_NONCE)
    expect(shortId(key, wtxid)).toBe(0x4571e979690a)
  })

  it('key = first 16 bytes of sha256(header || nonce LE); id = low 48 bits of SipHash-2-4', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 80, maxLength: 80 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (hdr, nonce, txid) => {
        const header = parseBlockHeader(hdr)
        const key = shortIdKey(header, nonce)
        const id = shortId(key, txid)
        expect(id).toBe(Number(siphash24(key, txid) & 0xffffffffffffn))
        expect(Number.isSafeInteger(id) && id >= 0 && id < 2 ** 48).toBe(true)
      }),
      { numRuns: 100 },
    )
  })
})

describe(`sendcmpct`, () => {
  // What Core sends after the handshake: not high-bandwidth, version 2.
  const CORE = hex('00', '0200000000000000')

  it('decodes and encodes announce + u64 version', () => {
    expect(CORE.length).toBe(SENDCMPCT_PAYLOAD_BYTES)
    const m = decode(sendcmpctCodec, CORE)
    expect(m).toEqual({ command: 'sendcmpct', announce: false, version: CMPCT_VERSION_2 })
    expect(toHex(encode(sendcmpctCodec, m))).toBe(toHex(CORE))
    expect(toHex(encode(sendcmpctCodec, { command: 'sendcmpct', announce: true, version: 1n }))).toBe('010100000000000000')
  })

  it('reads any non-zero announce byte as true, keeps the byte to re-encode it, and keeps unknown versions', () => {
    const bytes = hex('02', '0300000000000000')
    const m = decode(sendcmpctCodec, bytes)
    expect(m).toEqual({ command: 'sendcmpct', announce: true, version: 3n, announceByte: 2 })
    expect(toHex(encode(sendcmpctCodec, m))).toBe(toHex(bytes))
    // Edited to false, the stale byte no longer agrees and is not sent.
    expect(toHex(encode(sendcmpctCodec, { ...m, announce: false }))).toBe('000300000000000000')
  })

  it('truncation at every offset gives TRUNCATED; round-trips', () => {
    expectTruncatedAtEveryOffset(sendcmpctCodec, CORE)
    fc.assert(
      fc.property(fc.boolean(), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (announce, version) => {
        const m = { command: 'sendcmpct' as const, announce, version }
        expect(decode(sendcmpctCodec, encode(sendcmpctCodec, m))).toEqual(m)
      }),
    )
  })
})

describe(`getblocktxn`, () => {
  const ZERO = '00'.repeat(32)
  // rust-bitcoin bip152.rs test_getblocktx_differential_encoding_de_and_serialization:
  // (differentially encoded CompactSizes, absolute indexes).
  const CASES: ReadonlyArray<readonly [string, number[]]> = [
    ['04' + '00' + '05' + '01' + '0a', [0, 6, 8, 19]],
    ['01' + '00', [0]],
    ['05' + '00'.repeat(5), [0, 1, 2, 3, 4]],
    ['03' + '01' + '01' + '01', [1, 3, 5]],
    ['03' + '00' + '00' + 'fd0001', [0, 1, 258]],
  ]

  it.each(CASES)('differential %s <-> absolute %j', (wire, indexes) => {
    const m = decode(getblocktxnCodec, hex(ZERO, wire))
    expect(m.indexes).toEqual(indexes)
    expect(toHex(encode(getblocktxnCodec, { command: 'getblocktxn', blockHash: new Uint8Array(32), indexes }))).toBe(ZERO + wire)
  })

  it('index 65535 is the last one allowed; 65536 is INVALID_VALUE', () => {
    expect(decode(getblocktxnCodec, hex(ZERO, '01', 'fdffff')).indexes).toEqual([MAX_CMPCT_INDEX])
    const e = errorOf(() => decode(getblocktxnCodec, hex(ZERO, '02', 'fdffff', '00')))
    expect(e?.code).toBe('INVALID_VALUE')
    expect(e?.detail.actual).toBe(0x10000)
    expect(errorOf(() => decode(getblocktxnCodec, hex(ZERO, '01', 'fe00000100')))?.code).toBe('INVALID_VALUE')
    // rust-bitcoin's error cases: differences near u64::MAX are refused (above 2^53: OVERSIZE from the reader).
    expect(errorOf(() => decode(getblocktxnCodec, hex(ZERO, '02', 'fffeffffffffffffff', '00')))?.code).toBe('OVERSIZE')
    expect(errorOf(() => decode(getblocktxnCodec, hex(ZERO, '01', 'ffffffffffffffffff')))?.code).toBe('OVERSIZE')
  })

  it('refuses to encode indexes that are not ascending or do not fit 16 bits', () => {
    const m = (indexes: number[]) => ({ command: 'getblocktxn' as const, blockHash: new Uint8Array(32), indexes })
    expect(errorOf(() => encode(getblocktxnCodec, m([3, 3])))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(getblocktxnCodec, m([5, 2])))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(getblocktxnCodec, m([0x10000])))?.code).toBe('ENCODE_RANGE')
  })

  it('hostile counts: above the profile limit OVERSIZE, above the bytes present TRUNCATED', () => {
    expect(maxCompactTxs(CTX)).toBe(MAX_CMPCT_INDEX)
    expect(errorOf(() => decode(getblocktxnCodec, hex(ZERO, 'fe00000100')))?.code).toBe('OVERSIZE')
    expect(errorOf(() => decode(getblocktxnCodec, hex(ZERO, 'fdffff', '00')))?.code).toBe('TRUNCATED')
    expect(maxCompactTxs(SMALL)).toBe(10)
    expect(errorOf(() => decode(getblocktxnCodec, hex(ZERO, '0b', '00'.repeat(11)), SMALL))?.code).toBe('OVERSIZE')
  })

  it('truncation at every offset gives TRUNCATED; round-trips ascending index sets', () => {
    expectTruncatedAtEveryOffset(getblocktxnCodec, hex(ZERO, CASES[4]![0]))
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uniqueArray(fc.nat({ max: MAX_CMPCT_INDEX }), { maxLength: 60 }), (blockHash, xs) => {
        const m = { command: 'getblocktxn' as const, blockHash, indexes: xs.sort((a, b) => a - b) }
        const bytes = encode(getblocktxnCodec, m)
        expect(bytes.length).toBeLessThanOrEqual(getblocktxnCodec.maxPayload(CTX))
        expect(decode(getblocktxnCodec, bytes)).toEqual(m)
      }),
    )
  })
})

// A minimal legacy transaction: 1 input, 1 output, empty scripts (60 bytes).
function tinyTx(seed: number): Transaction {
  return {
    version: 1,
    inputs: [{ prevout: { txid: new Uint8Array(32).fill(seed & 0xff), index: seed }, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] }],
    outputs: [{ value: BigInt(seed), scriptPubKey: new Uint8Array(0) }],
    locktime: 0,
  }
}

const txArb: fc.Arbitrary<Transaction> = fc.record({
  version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  inputs: fc.array(
    fc.record({
      prevout: fc.record({ txid: fc.uint8Array({ minLength: 32, maxLength: 32 }), index: fc.nat({ max: 0xffffffff }) }),
      scriptSig: fc.uint8Array({ maxLength: 20 }),
      sequence: fc.nat({ max: 0xffffffff }),
      witness: fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 2 }),
    }),
    { minLength: 1, maxLength: 2 },
  ),
  outputs: fc.array(fc.record({ value: fc.bigInt({ min: 0n, max: 21_000_000n * 100_000_000n }), scriptPubKey: fc.uint8Array({ maxLength: 30 }) }), { minLength: 1, maxLength: 2 }),
  locktime: fc.nat({ max: 0xffffffff }),
})

const headerArb: fc.Arbitrary<BlockHeader> = fc
  .uint8Array({ minLength: 80, maxLength: 80 })
  .map((b) => decodeBlockHeader(new ByteReader(b)))

describe(`cmpctblock`, () => {
  it('decodes the Elements/rust-bitcoin vector: one short id, the coinbase prefilled at 0', () => {
    const m = decode(cmpctblockCodec, VECTOR_CMPCT)
    expect(toHex(VECTOR_CMPCT.subarray(0, 80))).toBe(toHex(VECTOR_BLOCK.subarray(0, 80)))
    expect(m.nonce).toBe(VECTOR_NONCE)
    expect(m.shortIds).toEqual([0x4571e979690a])
    expect(m.prefilledTxs.length).toBe(1)
    expect(m.prefilledTxs[0]!.index).toBe(0)
    const cb = m.prefilledTxs[0]!.tx
    expect(cb.inputs.length).toBe(1)
    expect(cb.inputs[0]!.witness.map(toHex)).toEqual(['00'.repeat(32)])
    expect(cb.outputs.length).toBe(2)
  })

  it('encodes the vector back to the same bytes (prefilled tx keeps its witness)', () => {
    expect(toHex(encode(cmpctblockCodec, decode(cmpctblockCodec, VECTOR_CMPCT)))).toBe(toHex(VECTOR_CMPCT))
  })

  it('truncation at every offset gives TRUNCATED', () => {
    expectTruncatedAtEveryOffset(cmpctblockCodec, VECTOR_CMPCT)
  })

  it('prefilled indexes are differential on the wire and absolute when decoded', () => {
    const header = parseBlockHeader(VECTOR_BLOCK.subarray(0, 80))
    const m = { command: 'cmpctblock' as const, header, nonce: 7n, shortIds: [1, 2, 3], prefilledTxs: [0, 2, 5].map((i) => ({ index: i, tx: tinyTx(i) })) }
    const bytes = encode(cmpctblockCodec, m)
    // header | nonce | 03 | 3 x 6 bytes | 03 | 00 tx(60) | 01 tx | 02 tx
    let o = 80 + 8 + 1 + 18
    expect(bytes[o]).toBe(3)
    o += 1
    expect(bytes[o]).toBe(0)
    o += 61
    expect(bytes[o]).toBe(1)
    o += 61
    expect(bytes[o]).toBe(2)
    expect(decode(cmpctblockCodec, bytes).prefilledTxs.map((p) => p.index)).toEqual([0, 2, 5])
  })

  it('a prefilled index at or beyond the tx count (short ids + prefilled) is INVALID_VALUE', () => {
    const head = toHex(VECTOR_CMPCT.subarray(0, 88))
    const tx = toHex(encodeTxBytes(tinyTx(1)))
    // 1 short id + 1 prefilled = 2 transactions: index 1 is fine, index 2 is not.
    expect(decode(cmpctblockCodec, hex(head, '01', '010000000000', '01', '01', tx)).prefilledTxs[0]!.index).toBe(1)
    const e = errorOf(() => decode(cmpctblockCodec, hex(head, '01', '010000000000', '01', '02', tx)))
    expect(e?.code).toBe('INVALID_VALUE')
    expect(e?.detail.limit).toBe(2)
    // Second index = 0 + 1 + 1 = 2 with only 2 transactions.
    expect(errorOf(() => decode(cmpctblockCodec, hex(head, '00', '02', '00', tx, '01', tx)))?.code).toBe('INVALID_VALUE')
  })

  it('a differential index overflowing 16 bits is INVALID_VALUE', () => {
    const head = toHex(VECTOR_CMPCT.subarray(0, 88))
    const tx = toHex(encodeTxBytes(tinyTx(1)))
    const e = errorOf(() => decode(cmpctblockCodec, hex(head, '00', '01', 'fe00000100', tx)))
    expect(e?.code).toBe('INVALID_VALUE')
    expect(e?.detail.limit).toBe(MAX_CMPCT_INDEX)
  })

  it('hostile counts: short ids or prefilled txs above the profile limit OVERSIZE, above the bytes TRUNCATED', () => {
    const head = toHex(VECTOR_CMPCT.subarray(0, 88))
    expect(errorOf(() => decode(cmpctblockCodec, hex(head, 'feffffffff')))?.code).toBe('OVERSIZE')
    expect(errorOf(() => decode(cmpctblockCodec, hex(head, 'fdffff', '00'.repeat(60))))?.code).toBe('TRUNCATED')
    // Small profile: 10 transactions; 4 short ids leave room for 6 prefilled, not 7.
    expect(errorOf(() => decode(cmpctblockCodec, hex(head, '0b', '00'.repeat(66)), SMALL))?.code).toBe('OVERSIZE')
    const e = errorOf(() => decode(cmpctblockCodec, hex(head, '04', '00'.repeat(24), '07', '00'.repeat(7 * 61)), SMALL))
    expect(e?.code).toBe('OVERSIZE')
    expect(e?.detail.limit).toBe(6)
  })

  it('refuses to encode bad short ids, unordered or out-of-block indexes, or too many transactions', () => {
    const header = parseBlockHeader(VECTOR_BLOCK.subarray(0, 80))
    const base = { command: 'cmpctblock' as const, header, nonce: 0n, shortIds: [0], prefilledTxs: [{ index: 0, tx: tinyTx(0) }] }
    expect(errorOf(() => encode(cmpctblockCodec, { ...base, shortIds: [2 ** 48] }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(cmpctblockCodec, { ...base, prefilledTxs: [{ index: 2, tx: tinyTx(0) }] }))?.code).toBe('ENCODE_RANGE')
    const twice = [{ index: 1, tx: tinyTx(0) }, { index: 1, tx: tinyTx(1) }]
    expect(errorOf(() => encode(cmpctblockCodec, { ...base, shortIds: [1, 2], prefilledTxs: twice }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(cmpctblockCodec, { ...base, shortIds: Array.from({ length: 10 }, (_, i) => i) }, SMALL))?.code).toBe('ENCODE_RANGE')
  })

  it('round-trips (transactions compared by their encoding)', () => {
    const arb = fc
      .tuple(headerArb, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.array(fc.integer({ min: 0, max: 2 ** 48 - 1 }), { maxLength: 20 }), fc.array(txArb, { maxLength: 4 }))
      .chain(([header, nonce, shortIds, txs]) =>
        fc.uniqueArray(fc.nat({ max: Math.max(0, shortIds.length + txs.length - 1) }), { minLength: txs.length, maxLength: txs.length }).map((idx) => {
          const sorted = idx.sort((a, b) => a - b)
          return { command: 'cmpctblock' as const, header, nonce, shortIds, prefilledTxs: txs.map((tx, i) => ({ index: sorted[i]!, tx })) }
        }),
      )
    fc.assert(
      fc.property(arb, (m) => {
        const bytes = encode(cmpctblockCodec, m)
        const back = decode(cmpctblockCodec, bytes)
        expect(back.header).toEqual(m.header)
        expect(back.nonce).toBe(m.nonce)
        expect(back.shortIds).toEqual(m.shortIds)
        expect(back.prefilledTxs.map((p) => p.index)).toEqual(m.prefilledTxs.map((p) => p.index))
        expect(toHex(encode(cmpctblockCodec, back))).toBe(toHex(bytes))
      }),
      { numRuns: 150 },
    )
  })
})

/** A transaction's bytes through the blocktxn codec (strips the hash and count). */
function encodeTxBytes(tx: Transaction): Uint8Array {
  const b = encode(blocktxnCodec, { command: 'blocktxn', blockHash: new Uint8Array(32), txs: [tx] })
  return b.subarray(33)
}

describe(`blocktxn`, () => {
  it('carries the block hash and the transactions (the vector\'s coinbase, witness kept)', () => {
    const coinbase = toHex(VECTOR_CMPCT.subarray(COINBASE_AT))
    const payload = hex('11'.repeat(32), '02', coinbase, toHex(encodeTxBytes(tinyTx(9))))
    const m = decode(blocktxnCodec, payload)
    expect(toHex(m.blockHash)).toBe('11'.repeat(32))
    expect(m.txs.length).toBe(2)
    expect(toHex(encode(blocktxnCodec, m))).toBe(toHex(payload))
    expectTruncatedAtEveryOffset(blocktxnCodec, payload)
  })

  it('a 60-byte legacy transaction is 60 bytes', () => {
    expect(encodeTxBytes(tinyTx(3)).length).toBe(60)
  })

  it('hostile counts: above the profile limit OVERSIZE, above the bytes present TRUNCATED', () => {
    expect(errorOf(() => decode(blocktxnCodec, hex('00'.repeat(32), 'feffffffff')))?.code).toBe('OVERSIZE')
    expect(errorOf(() => decode(blocktxnCodec, hex('00'.repeat(32), 'fd0010', '00'.repeat(100))))?.code).toBe('TRUNCATED')
    expect(errorOf(() => decode(blocktxnCodec, hex('00'.repeat(32), '0b'), SMALL))?.code).toBe('OVERSIZE')
    const many = { command: 'blocktxn' as const, blockHash: new Uint8Array(32), txs: Array.from({ length: 11 }, (_, i) => tinyTx(i)) }
    expect(errorOf(() => encode(blocktxnCodec, many, SMALL))?.code).toBe('ENCODE_RANGE')
  })

  it('round-trips (transactions compared by their encoding)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(txArb, { maxLength: 4 }), (blockHash, txs) => {
        const bytes = encode(blocktxnCodec, { command: 'blocktxn', blockHash, txs })
        const back = decode(blocktxnCodec, bytes)
        expect(back.txs.length).toBe(txs.length)
        expect(toHex(encode(blocktxnCodec, back))).toBe(toHex(bytes))
      }),
    )
  })
})

describe(`BIP152 decoders on random bytes`, () => {
  it('throw only WireError (or decode)', () => {
    const codecs: AnyCodec[] = [sendcmpctCodec, cmpctblockCodec, getblocktxnCodec, blocktxnCodec]
    expectRandomBytesThrowOnlyWireError(codecs, { maxLength: 300, numRuns: 1000, contexts: [CTX, SMALL] })
  })

  it('random bytes after a valid cmpctblock head throw only WireError', () => {
    const head = VECTOR_CMPCT.subarray(0, 88)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
        const bytes = new Uint8Array(head.length + tail.length)
        bytes.set(head)
        bytes.set(tail, head.length)
        expectOnlyWireError(() => decode(cmpctblockCodec, bytes))
      }),
      { numRuns: 1000 },
    )
  })
})
