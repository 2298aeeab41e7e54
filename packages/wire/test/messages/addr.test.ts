import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { addrCodec, type AddrMessage, getaddrCodec, MAX_ADDR_PAYLOAD, MAX_ADDR_TO_SEND } from '../../src/messages/addr.js'
import { ipFromString, ipToString } from '../../src/messages/netaddr.js'
import { Services } from '../../src/protocol.js'
import { errorOf, decode, encode, hex, CTX, expectRandomBytesThrowOnlyWireError, expectTruncatedAtEveryOffset } from '../util.js'

const LOOPBACK6 = '00000000000000000000000000000001'

// Bitcoin Core src/test/netbase_tests.cpp, `stream_addrv1_hex` (the V1
// serialization of `fixture_addresses`), read at commit dbbb780 and later.
const CORE_ADDRV1 = hex(
  '03', // number of entries
  '61bc6649', // time 0x4966bc61, Fri Jan  9 02:54:25 UTC 2009
  '0000000000000000', // services NODE_NONE
  LOOPBACK6, // host ::1
  '0000', // port 0
  '79627683', // time 0x83766279, Tue Nov 22 11:22:33 UTC 2039
  '0100000000000000', // services NODE_NETWORK
  LOOPBACK6, // host ::1
  '00f1', // port 0x00f1
  'ffffffff', // time 0xffffffff, Sun Feb  7 06:28:15 UTC 2106
  '4804000000000000', // services NODE_WITNESS | NODE_COMPACT_FILTERS | NODE_NETWORK_LIMITED
  LOOPBACK6, // host ::1
  'f1f2', // port 0xf1f2
)

const loopback = ipFromString('::1')
const CORE_ADDRESSES: AddrMessage = {
  command: 'addr',
  addresses: [
    { time: 0x4966bc61, services: Services.NONE, host: loopback, port: 0 },
    { time: 0x83766279, services: Services.NODE_NETWORK, host: loopback, port: 0x00f1 },
    {
      time: 0xffffffff,
      services: Services.NODE_WITNESS | Services.NODE_COMPACT_FILTERS | Services.NODE_NETWORK_LIMITED,
      host: loopback,
      port: 0xf1f2,
    },
  ],
}

// A typical gossip entry of a mainnet node: one IPv4 peer.
const ONE_IPV4 = hex(
  '01', // number of entries
  '80d42866', // time 1713951872
  '090c000000000000', // services NETWORK | WITNESS | NETWORK_LIMITED | P2P_V2
  '00000000000000000000ffffcb007107', // host ::ffff:203.0.113.7
  '208d', // port 8333
)

describe('addr', () => {
  it("decodes Core's stream_addrv1_hex to its fixture_addresses", () => {
    expect(decode(addrCodec, CORE_ADDRV1)).toEqual(CORE_ADDRESSES)
  })

  it("encodes Core's fixture_addresses to stream_addrv1_hex", () => {
    expect(toHex(encode(addrCodec, CORE_ADDRESSES))).toBe(toHex(CORE_ADDRV1))
  })

  it('decodes a mainnet-shaped IPv4 entry', () => {
    const [a] = decode(addrCodec, ONE_IPV4).addresses
    expect(ipToString(a!.host)).toBe('203.0.113.7')
    expect(a!.port).toBe(8333)
    expect(a!.time).toBe(1713951872)
    expect(a!.services).toBe(0xc09n)
  })

  it('decodes an empty list', () => {
    expect(decode(addrCodec, hex('00'))).toEqual({ command: 'addr', addresses: [] })
  })

  it('gives TRUNCATED at every cut of the fixture', () => {
    expectTruncatedAtEveryOffset(addrCodec, CORE_ADDRV1)
  })

  it('rejects a count above MAX_ADDR_TO_SEND before reading entries (OVERSIZE)', () => {
    const e = errorOf(() => decode(addrCodec, hex('fde903'))) // 1001
    expect(e?.code).toBe('OVERSIZE')
    expect(e?.detail.limit).toBe(MAX_ADDR_TO_SEND)
  })

  it('fails fast on a count of 0xffffffff (OVERSIZE, nothing allocated)', () => {
    const e = errorOf(() => decode(addrCodec, hex('feffffffff')))
    expect(e?.code).toBe('OVERSIZE')
    expect(e?.detail.actual).toBe(0xffffffff)
  })

  it('rejects a count the bytes present cannot hold (TRUNCATED before reading entries)', () => {
    const e = errorOf(() => decode(addrCodec, hex('0a', toHex(ONE_IPV4.subarray(1)))))
    expect(e?.code).toBe('TRUNCATED')
    expect(e?.detail.expected).toBe(300)
  })

  it('rejects a non-canonical count (NON_CANONICAL)', () => {
    expect(errorOf(() => decode(addrCodec, hex('fd0100', toHex(ONE_IPV4.subarray(1)))))?.code).toBe('NON_CANONICAL')
  })

  it('rejects trailing bytes', () => {
    expect(errorOf(() => decode(addrCodec, hex(toHex(ONE_IPV4), '00')))?.code).toBe('TRAILING_BYTES')
  })

  it('encodes MAX_ADDR_TO_SEND entries in exactly MAX_ADDR_PAYLOAD bytes, and refuses one more', () => {
    const entry = CORE_ADDRESSES.addresses[0]!
    const full: AddrMessage = { command: 'addr', addresses: new Array(MAX_ADDR_TO_SEND).fill(entry) }
    const bytes = encode(addrCodec, full)
    expect(bytes.length).toBe(MAX_ADDR_PAYLOAD)
    expect(addrCodec.maxPayload(CTX)).toBe(MAX_ADDR_PAYLOAD)
    expect(decode(addrCodec, bytes).addresses.length).toBe(MAX_ADDR_TO_SEND)
    const over = { command: 'addr' as const, addresses: new Array(MAX_ADDR_TO_SEND + 1).fill(entry) }
    expect(errorOf(() => encode(addrCodec, over))?.code).toBe('ENCODE_RANGE')
  })

  const entry = fc.record({
    time: fc.integer({ min: 0, max: 0xffffffff }),
    services: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    host: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    port: fc.integer({ min: 0, max: 0xffff }),
  })
  const addrMsg = fc.record({ command: fc.constant('addr' as const), addresses: fc.array(entry, { maxLength: 40 }) })

  it('property: decode(encode(m)) equals m', () => {
    fc.assert(
      fc.property(addrMsg, (m) => {
        expect(decode(addrCodec, encode(addrCodec, m))).toEqual(m)
      }),
    )
  })

  it('property: random bytes decode or throw only WireError', () => {
    expectRandomBytesThrowOnlyWireError([addrCodec], { maxLength: 200, numRuns: 2000 })
  })
})

describe('getaddr', () => {
  it('is empty both ways with a 0-byte cap', () => {
    expect(encode(getaddrCodec, { command: 'getaddr' }).length).toBe(0)
    expect(decode(getaddrCodec, new Uint8Array(0))).toEqual({ command: 'getaddr' })
    expect(getaddrCodec.maxPayload(CTX)).toBe(0)
  })
  it('leaves a stray byte for the caller to reject (TRAILING_BYTES)', () => {
    expect(errorOf(() => decode(getaddrCodec, Uint8Array.of(1)))?.code).toBe('TRAILING_BYTES')
  })
})
