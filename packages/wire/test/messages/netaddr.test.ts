import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ByteReader } from '../../src/bytes/reader.js'
import { ByteWriter } from '../../src/bytes/writer.js'
import { fromHex, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import {
  decodeNetAddress,
  decodeTimestampedNetAddress,
  encodeNetAddress,
  encodeTimestampedNetAddress,
  ipFromString,
  ipToString,
  ipv4Mapped,
  ipv6ToString,
  isIPv4Mapped,
  NET_ADDRESS_BYTES,
  type NetAddress,
  TIMESTAMPED_NET_ADDRESS_BYTES,
  type TimestampedNetAddress,
} from '../../src/messages/netaddr.js'
import { errorOf } from '../util.js'

function readAll<T>(bytes: Uint8Array, read: (r: ByteReader) => T): T {
  const r = new ByteReader(bytes)
  const v = read(r)
  r.done()
  return v
}

// A timestamped address as Core serializes it in V1 format (btcd-style annotation).
const FIXTURE = fromHex(
  [
    '29ab5f49', // time 0x495fab29 = 1231006505 (genesis time)
    '0904000000000000', // services NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED (0x409)
    '00000000000000000000ffff7f000001', // host ::ffff:127.0.0.1 (IPv4-mapped)
    '208d', // port 8333, big-endian
  ].join(''),
)

describe('NetAddress wire layout', () => {
  it('decodes a timestamped address field by field', () => {
    const a = readAll(FIXTURE, decodeTimestampedNetAddress)
    expect(a.time).toBe(1231006505)
    expect(a.services).toBe(0x409n)
    expect(ipToString(a.host)).toBe('127.0.0.1')
    expect(a.port).toBe(8333)
  })

  it('encodes to the same 30 bytes, and a bare NetAddress to the last 26', () => {
    const a = readAll(FIXTURE, decodeTimestampedNetAddress)
    const w = new ByteWriter()
    encodeTimestampedNetAddress(w, a)
    expect(toHex(w.finish())).toBe(toHex(FIXTURE))
    const w2 = new ByteWriter()
    encodeNetAddress(w2, a)
    expect(toHex(w2.finish())).toBe(toHex(FIXTURE.subarray(4)))
    expect(FIXTURE.length).toBe(TIMESTAMPED_NET_ADDRESS_BYTES)
    expect(FIXTURE.length - 4).toBe(NET_ADDRESS_BYTES)
  })

  it('matches Core cnetaddr_serialize_v1 for 1.2.3.4 and a full IPv6 address', () => {
    // src/test/net_tests.cpp (cnetaddr_serialize_v1)
    expect(toHex(ipFromString('1.2.3.4'))).toBe('00000000000000000000ffff01020304')
    expect(toHex(ipFromString('1a1b:2a2b:3a3b:4a4b:5a5b:6a6b:7a7b:8a8b'))).toBe('1a1b2a2b3a3b4a4b5a5b6a6b7a7b8a8b')
  })

  it('reads the port big-endian and services little-endian', () => {
    const a = readAll(fromHex('0100000000000080' + '00'.repeat(16) + 'f1f2'), decodeNetAddress)
    expect(a.services).toBe(0x8000000000000001n)
    expect(a.port).toBe(0xf1f2)
  })

  it('gives TRUNCATED at every cut of the fixture', () => {
    for (let k = 0; k < FIXTURE.length; k++) {
      expect(errorOf(() => readAll(FIXTURE.subarray(0, k), decodeTimestampedNetAddress))?.code, `cut at ${k}`).toBe('TRUNCATED')
      if (k < NET_ADDRESS_BYTES) {
        expect(errorOf(() => readAll(FIXTURE.subarray(4, 4 + k), decodeNetAddress))?.code, `bare cut at ${k}`).toBe('TRUNCATED')
      }
    }
  })

  it('refuses to encode a host that is not 16 bytes, or a port or time out of range', () => {
    const base: TimestampedNetAddress = { time: 0, services: 0n, host: new Uint8Array(16), port: 0 }
    expect(errorOf(() => encodeNetAddress(new ByteWriter(), { ...base, host: new Uint8Array(4) }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encodeNetAddress(new ByteWriter(), { ...base, port: 65536 }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encodeTimestampedNetAddress(new ByteWriter(), { ...base, time: -1 }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encodeNetAddress(new ByteWriter(), { ...base, services: 1n << 64n }))?.code).toBe('ENCODE_RANGE')
  })
})

describe('ipToString / ipFromString', () => {
  const cases: [string, string][] = [
    ['00000000000000000000ffff01020304', '1.2.3.4'],
    ['00000000000000000000ffffffffffff', '255.255.255.255'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    // RFC 5952 4.2.2: a single zero group is not shortened.
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    // RFC 5952 4.2.3: the longest run is shortened...
    ['20010000000000010000000000000001', '2001:0:0:1::1'],
    // ...and the first of equal runs.
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['0102030405060708090a0b0c0d0e0f10', '102:304:506:708:90a:b0c:d0e:f10'], // Core net_tests
    ['fc000001000200030004000500060007', 'fc00:1:2:3:4:5:6:7'], // Core net_tests (CJDNS)
    ['fe800000000000000000000000000000', 'fe80::'],
    // IPv4-compatible (not mapped) prints as plain IPv6.
    ['00000000000000000000000001020304', '::102:304'],
  ]
  for (const [hex, text] of cases) {
    it(`${hex} <-> ${text}`, () => {
      expect(ipToString(fromHex(hex))).toBe(text)
      expect(toHex(ipFromString(text))).toBe(hex)
    })
  }

  it('prints 4 bytes as dotted IPv4 and maps them into 16', () => {
    expect(ipToString(Uint8Array.of(10, 0, 0, 1))).toBe('10.0.0.1')
    expect(toHex(ipv4Mapped(Uint8Array.of(10, 0, 0, 1)))).toBe('00000000000000000000ffff0a000001')
    expect(isIPv4Mapped(ipv4Mapped(Uint8Array.of(10, 0, 0, 1)))).toBe(true)
    expect(isIPv4Mapped(fromHex('00000000000000000000fffe0a000001'))).toBe(false)
  })

  it('prints IPv4-mapped as IPv6 only through ipv6ToString', () => {
    expect(ipv6ToString(fromHex('00000000000000000000ffff01020304'))).toBe('::ffff:102:304')
  })

  it('parses other accepted spellings', () => {
    expect(toHex(ipFromString('::ffff:1.2.3.4'))).toBe('00000000000000000000ffff01020304')
    expect(toHex(ipFromString('2001:DB8::A'))).toBe('20010db800000000000000000000000a')
    expect(toHex(ipFromString('0:0:0:0:0:0:0:1'))).toBe('00000000000000000000000000000001')
    expect(toHex(ipFromString('1:2:3:4:5:6:7::'))).toBe('00010002000300040005000600070000')
    expect(toHex(ipFromString('::2:3:4:5:6:7:8'))).toBe('00000002000300040005000600070008')
    expect(toHex(ipFromString('1:2:3:4:5:6:1.2.3.4'))).toBe('00010002000300040005000601020304')
  })

  const bad = [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4', // leading zero: octal in some parsers
    '1.2.3.-4',
    '1.2.3.4 ',
    'a.b.c.d',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8::',
    '12345::',
    'g::',
    ':1::',
    '1.2.3.4::',
    '::1.2.3.4:5',
    '[::1]',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7:1.2.3.4',
  ]
  for (const text of bad) {
    it(`rejects '${text}' with INVALID_VALUE`, () => {
      expect(errorOf(() => ipFromString(text))?.code).toBe('INVALID_VALUE')
    })
  }

  it('rejects byte lengths other than 4 and 16', () => {
    expect(errorOf(() => ipToString(new Uint8Array(5)))?.code).toBe('INVALID_VALUE')
    expect(errorOf(() => ipv6ToString(new Uint8Array(4)))?.code).toBe('INVALID_VALUE')
  })

  it('property: every 16-byte address survives text and back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect(toHex(ipFromString(ipToString(b)))).toBe(toHex(b))
        expect(toHex(ipFromString(ipv6ToString(b)))).toBe(toHex(b))
      }),
      { numRuns: 2000 },
    )
  })

  it('property: sparse addresses (many zero groups) survive text and back', () => {
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }))
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (gs) => {
        const b = new Uint8Array(16)
        gs.forEach((g, i) => {
          b[2 * i] = g >> 8
          b[2 * i + 1] = g & 0xff
        })
        const text = ipv6ToString(b)
        expect(text).not.toMatch(/:::/)
        expect((text.match(/::/g) ?? []).length).toBeLessThanOrEqual(1)
        expect(toHex(ipFromString(text))).toBe(toHex(b))
      }),
      { numRuns: 2000 },
    )
  })

  it('property: arbitrary text either parses to 16 bytes or throws WireError INVALID_VALUE', () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEFg:.%[] '.split(''))
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: chars, maxLength: 45 })), (s) => {
        let out: Uint8Array | undefined
        try {
          out = ipFromString(s)
        } catch (e) {
          expect(e).toBeInstanceOf(WireError)
          expect((e as WireError).code).toBe('INVALID_VALUE')
          return
        }
        expect(out.length).toBe(16)
      }),
      { numRuns: 3000 },
    )
  })

  it('property: any NetAddress round-trips through its 26 bytes', () => {
    const arb = fc.record({
      services: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      host: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      port: fc.integer({ min: 0, max: 0xffff }),
    })
    fc.assert(
      fc.property(arb, (a: NetAddress) => {
        const w = new ByteWriter()
        encodeNetAddress(w, a)
        const bytes = w.finish()
        expect(bytes.length).toBe(NET_ADDRESS_BYTES)
        expect(readAll(bytes, decodeNetAddress)).toEqual(a)
      }),
    )
  })
})
