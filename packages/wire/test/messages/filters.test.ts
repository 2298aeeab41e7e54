import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { fromHex, hexToHash, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { filterHash } from '../../src/block/gcs.js'
import {
  cfcheckptCodec,
  cfheadersCodec,
  cfilterCodec,
  FilterType,
  GETCF_RANGE_PAYLOAD_BYTES,
  GETCFCHECKPT_PAYLOAD_BYTES,
  getcfcheckptCodec,
  getcfheadersCodec,
  getcfiltersCodec,
  MAX_CFCHECKPT_HEADERS,
  MAX_CFCHECKPT_PAYLOAD,
  MAX_CFHEADERS_PAYLOAD,
  MAX_GETCFHEADERS_SIZE,
  type CfcheckptMessage,
  type CfheadersMessage,
  type CfilterMessage,
} from '../../src/messages/filters.js'
import { errorOf, decode, encode, expectTruncatedAtEveryOffset, hex, CTX, expectRandomBytesThrowOnlyWireError, type AnyCodec } from '../util.js'

// Real testnet3 values from the BIP158 test vectors (bip-0158 testnet-19.json):
// block 0 (genesis) and block 2, with the genesis basic filter 019dfca8.
const TESTNET_GENESIS = hexToHash('000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943')
const TESTNET_BLOCK2 = hexToHash('000000006c02c8ea6e4ff69651f7fcde348fb9d557a06e6957b65552002a7820')
const GENESIS_FILTER = fromHex('019dfca8')
const GENESIS_FILTER_HEADER = hexToHash('21584579b7eb08997773e5aeff3a7f932700042d0ed2a6129012b7d7ae81b750')

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
const u8 = fc.nat({ max: 255 })
const u32 = fc.nat({ max: 0xffffffff })

describe('getcfilters / getcfheaders', () => {
  const payload = hex(
    '00', // filter type BASIC
    '00000000', // start height 0
    toHex(TESTNET_BLOCK2), // stop hash, internal order
  )

  it('decode type, start height and stop hash', () => {
    expect(payload.length).toBe(GETCF_RANGE_PAYLOAD_BYTES)
    expect(decode(getcfiltersCodec, payload)).toEqual({ command: 'getcfilters', filterType: FilterType.BASIC, startHeight: 0, stopHash: TESTNET_BLOCK2 })
    expect(decode(getcfheadersCodec, payload)).toEqual({ command: 'getcfheaders', filterType: FilterType.BASIC, startHeight: 0, stopHash: TESTNET_BLOCK2 })
  })

  it('encode the same 37 bytes; the height is little-endian', () => {
    expect(toHex(encode(getcfiltersCodec, { command: 'getcfilters', filterType: 0, startHeight: 0, stopHash: TESTNET_BLOCK2 }))).toBe(toHex(payload))
    const m = { command: 'getcfheaders' as const, filterType: 0, startHeight: 0x0102f3, stopHash: TESTNET_BLOCK2 }
    expect(toHex(encode(getcfheadersCodec, m)).slice(2, 10)).toBe('f3020100')
  })

  it('keep unknown filter types (policy, not layout)', () => {
    const p = payload.slice()
    p[0] = 0x2a
    expect(decode(getcfiltersCodec, p).filterType).toBe(0x2a)
  })

  it('truncation at every offset gives TRUNCATED', () => {
    expectTruncatedAtEveryOffset(getcfiltersCodec, payload)
    expectTruncatedAtEveryOffset(getcfheadersCodec, payload)
  })

  it('round-trip', () => {
    fc.assert(
      fc.property(u8, u32, bytes32, (filterType, startHeight, stopHash) => {
        const a = { command: 'getcfilters' as const, filterType, startHeight, stopHash }
        expect(decode(getcfiltersCodec, encode(getcfiltersCodec, a))).toEqual(a)
        const b = { command: 'getcfheaders' as const, filterType, startHeight, stopHash }
        expect(decode(getcfheadersCodec, encode(getcfheadersCodec, b))).toEqual(b)
      }),
    )
  })
})

describe('cfilter', () => {
  const payload = hex(
    '00', // filter type BASIC
    toHex(TESTNET_GENESIS), // block hash
    '04', // filter length
    '019dfca8', // filter: N = 1, then the Golomb-Rice bits
  )

  it('decodes the testnet genesis basic filter', () => {
    const m = decode(cfilterCodec, payload)
    expect(m).toEqual({ command: 'cfilter', filterType: 0, blockHash: TESTNET_GENESIS, filter: GENESIS_FILTER })
    expect(toHex(encode(cfilterCodec, m))).toBe(toHex(payload))
  })

  it('bounds the filter by the profile\'s block payload', () => {
    const small = { ...CTX, maxBlockPayload: 1000 }
    const big = hex('00', toHex(TESTNET_GENESIS), 'fde903', '00'.repeat(1001))
    expect(errorOf(() => decode(cfilterCodec, big, small))?.code).toBe('OVERSIZE')
    expect(errorOf(() => decode(cfilterCodec, hex('00', toHex(TESTNET_GENESIS), 'feffffffff'), CTX))?.code).toBe('OVERSIZE')
    const m: CfilterMessage = { command: 'cfilter', filterType: 0, blockHash: TESTNET_GENESIS, filter: new Uint8Array(1000) }
    expect(encode(cfilterCodec, m, small).length).toBe(cfilterCodec.maxPayload(small))
    expect(errorOf(() => encode(cfilterCodec, { ...m, filter: new Uint8Array(1001) }, small))?.code).toBe('ENCODE_RANGE')
  })

  it('truncation at every offset gives TRUNCATED', () => {
    expectTruncatedAtEveryOffset(cfilterCodec, payload)
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(u8, bytes32, fc.uint8Array({ maxLength: 300 }), (filterType, blockHash, filter) => {
        const m: CfilterMessage = { command: 'cfilter', filterType, blockHash, filter }
        expect(decode(cfilterCodec, encode(cfilterCodec, m))).toEqual(m)
      }),
    )
  })
})

describe('cfheaders', () => {
  // Filter hashes for blocks 0..0 with the all-zero header before genesis.
  const payload = hex(
    '00', // filter type BASIC
    toHex(TESTNET_GENESIS), // stop hash
    '00'.repeat(32), // previous filter header (before genesis: zero)
    '01', // one filter hash
    toHex(filterHash(GENESIS_FILTER)),
  )

  it('decodes type, stop hash, previous header and filter hashes', () => {
    const m = decode(cfheadersCodec, payload)
    expect(m.filterType).toBe(0)
    expect(toHex(m.stopHash)).toBe(toHex(TESTNET_GENESIS))
    expect(toHex(m.prevFilterHeader)).toBe('00'.repeat(32))
    expect(m.filterHashes.map(toHex)).toEqual([toHex(filterHash(GENESIS_FILTER))])
    expect(toHex(encode(cfheadersCodec, m))).toBe(toHex(payload))
  })

  it('accepts 2000 filter hashes, refuses 2001 (MAX_GETCFHEADERS_SIZE)', () => {
    const m: CfheadersMessage = {
      command: 'cfheaders',
      filterType: 0,
      stopHash: TESTNET_GENESIS,
      prevFilterHeader: GENESIS_FILTER_HEADER,
      filterHashes: Array.from({ length: MAX_GETCFHEADERS_SIZE }, (_, i) => new Uint8Array(32).fill(i & 0xff)),
    }
    const bytes = encode(cfheadersCodec, m)
    expect(bytes.length).toBe(MAX_CFHEADERS_PAYLOAD)
    expect(decode(cfheadersCodec, bytes)).toEqual(m)
    const over = hex(toHex(payload.subarray(0, 65)), 'fdd107', '00'.repeat(32 * 2001))
    expect(errorOf(() => decode(cfheadersCodec, over))?.code).toBe('OVERSIZE')
    expect(errorOf(() => encode(cfheadersCodec, { ...m, filterHashes: [...m.filterHashes, new Uint8Array(32)] }))?.code).toBe('ENCODE_RANGE')
  })

  it('a hostile count within the limit but beyond the bytes present fails as TRUNCATED before allocating', () => {
    const e = errorOf(() => decode(cfheadersCodec, hex(toHex(payload.subarray(0, 65)), 'fdd007', '00'.repeat(64))))
    expect(e?.code).toBe('TRUNCATED')
    expect(e?.detail.expected).toBe(2000 * 32)
  })

  it('truncation at every offset gives TRUNCATED', () => {
    expectTruncatedAtEveryOffset(cfheadersCodec, payload)
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(u8, bytes32, bytes32, fc.array(bytes32, { maxLength: 30 }), (filterType, stopHash, prevFilterHeader, filterHashes) => {
        const m: CfheadersMessage = { command: 'cfheaders', filterType, stopHash, prevFilterHeader, filterHashes }
        expect(decode(cfheadersCodec, encode(cfheadersCodec, m))).toEqual(m)
      }),
    )
  })
})

describe('getcfcheckpt / cfcheckpt', () => {
  const get = hex('00', toHex(TESTNET_BLOCK2))
  const cp = hex('00', toHex(TESTNET_BLOCK2), '02', toHex(GENESIS_FILTER_HEADER), '11'.repeat(32))

  it('getcfcheckpt is type + stop hash', () => {
    expect(get.length).toBe(GETCFCHECKPT_PAYLOAD_BYTES)
    const m = decode(getcfcheckptCodec, get)
    expect(m).toEqual({ command: 'getcfcheckpt', filterType: 0, stopHash: TESTNET_BLOCK2 })
    expect(toHex(encode(getcfcheckptCodec, m))).toBe(toHex(get))
    expectTruncatedAtEveryOffset(getcfcheckptCodec, get)
  })

  it('cfcheckpt is type + stop hash + filter headers', () => {
    const m = decode(cfcheckptCodec, cp)
    expect(m.filterHeaders.map(toHex)).toEqual([toHex(GENESIS_FILTER_HEADER), '11'.repeat(32)])
    expect(toHex(encode(cfcheckptCodec, m))).toBe(toHex(cp))
    expectTruncatedAtEveryOffset(cfcheckptCodec, cp)
  })

  it('cfcheckpt header count: MAX_CFCHECKPT_HEADERS fits maxPayload; more is OVERSIZE', () => {
    expect(MAX_CFCHECKPT_PAYLOAD).toBe(1 + 32 + 5 + MAX_CFCHECKPT_HEADERS * 32)
    expect(errorOf(() => decode(cfcheckptCodec, hex('00', toHex(TESTNET_BLOCK2), 'fea1860100')))?.code).toBe('OVERSIZE')
    expect(errorOf(() => decode(cfcheckptCodec, hex('00', toHex(TESTNET_BLOCK2), 'fea0860100')))?.code).toBe('TRUNCATED')
    const zero = new Uint8Array(32)
    const filterHeaders = Array.from({ length: MAX_CFCHECKPT_HEADERS + 1 }, () => zero)
    const tooMany: CfcheckptMessage = { command: 'cfcheckpt', filterType: 0, stopHash: TESTNET_BLOCK2, filterHeaders }
    expect(errorOf(() => encode(cfcheckptCodec, tooMany))?.code).toBe('ENCODE_RANGE')
  })

  it('round-trip', () => {
    fc.assert(
      fc.property(u8, bytes32, fc.array(bytes32, { maxLength: 30 }), (filterType, stopHash, filterHeaders) => {
        const a = { command: 'getcfcheckpt' as const, filterType, stopHash }
        expect(decode(getcfcheckptCodec, encode(getcfcheckptCodec, a))).toEqual(a)
        const b: CfcheckptMessage = { command: 'cfcheckpt', filterType, stopHash, filterHeaders }
        expect(decode(cfcheckptCodec, encode(cfcheckptCodec, b))).toEqual(b)
      }),
    )
  })
})

describe('BIP157 decoders on random bytes', () => {
  const codecs: AnyCodec[] = [getcfiltersCodec, cfilterCodec, getcfheadersCodec, cfheadersCodec, getcfcheckptCodec, cfcheckptCodec]
  it('throw only WireError (or decode)', () => {
    expectRandomBytesThrowOnlyWireError(codecs, { maxLength: 200, numRuns: 1000 })
  })
})
