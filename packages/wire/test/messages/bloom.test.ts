import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { fromHex, hashToHex, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import type { BlockHeader } from '../../src/block/header.js'
import { BloomFilter, BloomFlags, MAX_BLOOM_FILTER_SIZE, MAX_HASH_FUNCS } from '../../src/block/bloom-filter.js'
import { verifyMerkleBlock } from '../../src/block/partial-merkle.js'
import {
  filteraddCodec,
  filterclearCodec,
  filterloadCodec,
  MAX_FILTERADD_PAYLOAD,
  MAX_FILTERLOAD_PAYLOAD,
  MAX_SCRIPT_ELEMENT_SIZE,
  merkleblockCodec,
  type FilteraddMessage,
  type FilterloadMessage,
  type MerkleblockMessage,
} from '../../src/messages/bloom.js'
import { errorOf, decode, encode, expectTruncatedAtEveryOffset, hex, CTX, expectRandomBytesThrowOnlyWireError, type AnyCodec } from '../util.js'

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
const u32 = fc.nat({ max: 0xffffffff })
const headerArb: fc.Arbitrary<BlockHeader> = fc.record({
  version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  prevBlock: bytes32,
  merkleRoot: bytes32,
  time: u32,
  bits: u32,
  nonce: u32,
})

// Bitcoin Core src/test/bloom_tests.cpp, bloom_create_insert_serialize: the
// serialized CBloomFilter(3, 0.01, 0, BLOOM_UPDATE_ALL) after three inserts.
const CORE_FILTERLOAD = hex(
  '03', // filter length 3
  '614e9b', // filter bits
  '05000000', // nHashFuncs 5
  '00000000', // nTweak 0
  '01', // nFlags BLOOM_UPDATE_ALL
)
// Same test with nTweak 2147483649 (bloom_create_insert_serialize_with_tweak).
const CORE_FILTERLOAD_TWEAK = hex('03', 'ce4299', '05000000', '01000080', '01')

// The bitcoin.org developer reference merkleblock (block 100014), field by field.
const DEVREF_MERKLEBLOCK = hex(
  '01000000', // version 1
  '82bb869cf3a793432a66e826e05a6fc37469f8efb7421dc88067010000000000', // previous block
  '7f16c5962e8bd963659c793ce370d95f093bc7e367117b3c30c1f8fdd0d97287', // merkle root
  '76381b4d', // time 1293629558
  '4c86041b', // bits 0x1b04864c
  '554b8529', // nonce
  '07000000', // 7 transactions in the block
  '04', // 4 hashes
  '3612262624047ee87660be1a707519a443b1c1ce3d248cbfc6c15870f6c5daa2',
  '019f5b01d4195ecbc9398fbf3c3b1fa9bb3183301d7a1fb3bd174fcfa40a2b65',
  '41ed70551dd7e841883ab8f0b16bf04176b7d1480e4f0af9f3d4c3595768d068',
  '20d2a7bc994987302e5b1ac80fc425fe25f8b63169ea78e68fbaaefa59379bbf',
  '01', // 1 flag byte
  '1d', // flags 1 0 1 1 1 0 0 0 (LSB first)
)

describe('filterload', () => {
  it('decodes Core\'s serialized bloom filter field by field', () => {
    const m = decode(filterloadCodec, CORE_FILTERLOAD)
    expect(m).toEqual({ command: 'filterload', filter: fromHex('614e9b'), nHashFuncs: 5, nTweak: 0, nFlags: BloomFlags.UPDATE_ALL })
    expect(decode(filterloadCodec, CORE_FILTERLOAD_TWEAK).nTweak).toBe(2147483649)
  })

  it('encodes a BloomFilter built like Core\'s to the same bytes', () => {
    const f = BloomFilter.create(3, 0.01, 2147483649, BloomFlags.UPDATE_ALL)
    for (const h of ['99108ad8ed9bb6274d3980bab5a85c048f0950c8', 'b5a2c786d9ef4658287ced5914b37a1b4aa32eee', 'b9300670b4c5366e95b2699e8b18bc75e5f729c5']) f.insert(fromHex(h))
    const m: FilterloadMessage = { command: 'filterload', ...f.toParams() }
    expect(toHex(encode(filterloadCodec, m))).toBe(toHex(CORE_FILTERLOAD_TWEAK))
  })

  it('accepts the largest filter and 50 hash functions; refuses one byte or one function more', () => {
    const max: FilterloadMessage = { command: 'filterload', filter: new Uint8Array(MAX_BLOOM_FILTER_SIZE), nHashFuncs: MAX_HASH_FUNCS, nTweak: 1, nFlags: 2 }
    const bytes = encode(filterloadCodec, max)
    expect(bytes.length).toBe(MAX_FILTERLOAD_PAYLOAD)
    expect(decode(filterloadCodec, bytes)).toEqual(max)

    const tooBig = hex('fda18c', '00'.repeat(MAX_BLOOM_FILTER_SIZE + 1), '01000000', '00000000', '00')
    expect(errorOf(() => decode(filterloadCodec, tooBig))?.code).toBe('OVERSIZE')
    const tooManyFuncs = hex('01', 'ff', '33000000', '00000000', '00')
    const e = errorOf(() => decode(filterloadCodec, tooManyFuncs))
    expect(e?.code).toBe('OVERSIZE')
    expect(e?.detail.field).toBe('MAX_HASH_FUNCS')
    expect(errorOf(() => encode(filterloadCodec, { ...max, nHashFuncs: 51 }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(filterloadCodec, { ...max, filter: new Uint8Array(MAX_BLOOM_FILTER_SIZE + 1) }))?.code).toBe('ENCODE_RANGE')
  })

  it('refuses a hostile filter length before reading it (0xffffffff)', () => {
    expect(errorOf(() => decode(filterloadCodec, hex('feffffffff', '00')))?.code).toBe('OVERSIZE')
  })

  it('truncation at every offset gives TRUNCATED', () => {
    expectTruncatedAtEveryOffset(filterloadCodec, CORE_FILTERLOAD)
  })

  it('round-trips any valid message', () => {
    const arb = fc.record({
      command: fc.constant('filterload' as const),
      filter: fc.uint8Array({ maxLength: 600 }),
      nHashFuncs: fc.nat({ max: MAX_HASH_FUNCS }),
      nTweak: u32,
      nFlags: fc.nat({ max: 255 }),
    })
    fc.assert(
      fc.property(arb, (m) => {
        expect(decode(filterloadCodec, encode(filterloadCodec, m))).toEqual(m)
      }),
    )
  })
})

describe('filteradd', () => {
  it('decodes a 20-byte pubkey hash item', () => {
    const m = decode(filteraddCodec, hex('14', '99108ad8ed9bb6274d3980bab5a85c048f0950c8'))
    expect(toHex(m.data)).toBe('99108ad8ed9bb6274d3980bab5a85c048f0950c8')
  })

  it('accepts 520 bytes and refuses 521 (MAX_SCRIPT_ELEMENT_SIZE)', () => {
    const max: FilteraddMessage = { command: 'filteradd', data: new Uint8Array(MAX_SCRIPT_ELEMENT_SIZE).fill(7) }
    const bytes = encode(filteraddCodec, max)
    expect(bytes.length).toBe(MAX_FILTERADD_PAYLOAD)
    expect(decode(filteraddCodec, bytes)).toEqual(max)
    const e = errorOf(() => decode(filteraddCodec, hex('fd0902', '00'.repeat(521))))
    expect(e?.code).toBe('OVERSIZE')
    expect(errorOf(() => encode(filteraddCodec, { command: 'filteradd', data: new Uint8Array(521) }))?.code).toBe('ENCODE_RANGE')
  })

  it('truncation at every offset gives TRUNCATED', () => {
    expectTruncatedAtEveryOffset(filteraddCodec, hex('14', '99108ad8ed9bb6274d3980bab5a85c048f0950c8'))
  })

  it('round-trips any valid item', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: MAX_SCRIPT_ELEMENT_SIZE }), (data) => {
        const m: FilteraddMessage = { command: 'filteradd', data }
        expect(decode(filteraddCodec, encode(filteraddCodec, m))).toEqual(m)
      }),
    )
  })
})

describe('filterclear', () => {
  it('is empty and refuses any payload byte', () => {
    expect(encode(filterclearCodec, { command: 'filterclear' }).length).toBe(0)
    expect(decode(filterclearCodec, new Uint8Array(0))).toEqual({ command: 'filterclear' })
    expect(errorOf(() => decode(filterclearCodec, Uint8Array.of(0)))?.code).toBe('TRAILING_BYTES')
    expect(filterclearCodec.maxPayload(CTX)).toBe(0)
  })
})

describe('merkleblock', () => {
  it('decodes the bitcoin.org example field by field, and the proof verifies', () => {
    const m = decode(merkleblockCodec, DEVREF_MERKLEBLOCK)
    expect(m.header.version).toBe(1)
    expect(m.header.time).toBe(1293629558)
    expect(m.header.bits).toBe(0x1b04864c)
    expect(hashToHex(m.header.prevBlock)).toBe('0000000000016780c81d42b7eff86974c36f5ae026e8662a4393a7f39c86bb82')
    expect(m.totalTxs).toBe(7)
    expect(m.hashes.map(toHex)).toEqual([
      '3612262624047ee87660be1a707519a443b1c1ce3d248cbfc6c15870f6c5daa2',
      '019f5b01d4195ecbc9398fbf3c3b1fa9bb3183301d7a1fb3bd174fcfa40a2b65',
      '41ed70551dd7e841883ab8f0b16bf04176b7d1480e4f0af9f3d4c3595768d068',
      '20d2a7bc994987302e5b1ac80fc425fe25f8b63169ea78e68fbaaefa59379bbf',
    ])
    expect(toHex(m.flags)).toBe('1d')
    const matched = verifyMerkleBlock(m)
    expect(matched.map((x) => [x.index, hashToHex(x.txid)])).toEqual([[4, '652b0aa4cf4f17bdb31f7a1d308331bba91f3b3cbf8f39c9cb5e19d4015b9f01']])
  })

  it('encodes the same bytes', () => {
    expect(toHex(encode(merkleblockCodec, decode(merkleblockCodec, DEVREF_MERKLEBLOCK)))).toBe(toHex(DEVREF_MERKLEBLOCK))
  })

  it('truncation at every offset gives TRUNCATED', () => {
    expectTruncatedAtEveryOffset(merkleblockCodec, DEVREF_MERKLEBLOCK)
  })

  it('hostile hash counts fail before allocation: above the block limit OVERSIZE, above the bytes present TRUNCATED', () => {
    const head = DEVREF_MERKLEBLOCK.subarray(0, 84)
    const huge = hex(toHex(head), 'feffffffff')
    expect(errorOf(() => decode(merkleblockCodec, huge))?.code).toBe('OVERSIZE')
    // 66,666 hashes fit the 4 MB profile but only 10 bytes follow.
    const many = hex(toHex(head), 'fe6a040100', '00'.repeat(10))
    const e = errorOf(() => decode(merkleblockCodec, many))
    expect(e?.code).toBe('TRUNCATED')
    // The same count is OVERSIZE under a small-block profile.
    expect(errorOf(() => decode(merkleblockCodec, many, { ...CTX, maxBlockPayload: 60_000 }))?.code).toBe('OVERSIZE')
  })

  it('hostile flag byte counts fail: OVERSIZE beyond what a tree of the profile can use', () => {
    const noHashes = hex(toHex(DEVREF_MERKLEBLOCK.subarray(0, 84)), '00', 'fe00000001')
    expect(errorOf(() => decode(merkleblockCodec, noHashes))?.code).toBe('OVERSIZE')
  })

  it('maxPayload covers the largest encodable message of the profile', () => {
    const small = { ...CTX, maxBlockPayload: 6000 } // 100 transactions
    const m: MerkleblockMessage = {
      command: 'merkleblock',
      header: decode(merkleblockCodec, DEVREF_MERKLEBLOCK).header,
      totalTxs: 100,
      hashes: Array.from({ length: 100 }, () => new Uint8Array(32)),
      flags: new Uint8Array(Math.ceil((2 * 100 + 32) / 8)),
    }
    const bytes = encode(merkleblockCodec, m, small)
    expect(bytes.length).toBeLessThanOrEqual(merkleblockCodec.maxPayload(small))
    expect(errorOf(() => encode(merkleblockCodec, { ...m, hashes: [...m.hashes, new Uint8Array(32)] }, small))?.code).toBe('ENCODE_RANGE')
  })

  it('round-trips any valid message', () => {
    const arb = fc.record({
      command: fc.constant('merkleblock' as const),
      header: headerArb,
      totalTxs: u32,
      hashes: fc.array(bytes32, { maxLength: 20 }),
      flags: fc.uint8Array({ maxLength: 10 }),
    })
    fc.assert(
      fc.property(arb, (m) => {
        expect(decode(merkleblockCodec, encode(merkleblockCodec, m))).toEqual(m)
      }),
    )
  })

  it('truncating any random valid message gives TRUNCATED', () => {
    const arb = fc.record({
      command: fc.constant('merkleblock' as const),
      header: headerArb,
      totalTxs: u32,
      hashes: fc.array(bytes32, { maxLength: 3 }),
      flags: fc.uint8Array({ maxLength: 3 }),
    })
    fc.assert(
      fc.property(arb, fc.nat(), (m, cut) => {
        const bytes = encode(merkleblockCodec, m)
        const n = cut % bytes.length
        expect(errorOf(() => decode(merkleblockCodec, bytes.subarray(0, n)))?.code).toBe('TRUNCATED')
      }),
    )
  })
})

describe('BIP37 decoders on random bytes', () => {
  const codecs: AnyCodec[] = [filterloadCodec, filteraddCodec, filterclearCodec, merkleblockCodec]
  it('throw only WireError (or decode)', () => {
    expectRandomBytesThrowOnlyWireError(codecs, { maxLength: 400, numRuns: 1000 })
  })
})
