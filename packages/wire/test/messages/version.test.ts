import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ByteWriter } from '../../src/bytes/writer.js'
import { toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { ipFromString, ipToString } from '../../src/messages/netaddr.js'
import {
  MAX_SUBVERSION_LENGTH,
  MAX_VERSION_PAYLOAD,
  MIN_VERSION_PAYLOAD,
  verackCodec,
  versionCodec,
  type VersionMessage,
} from '../../src/messages/version.js'
import { Services } from '../../src/protocol.js'
import { errorOf, decode, encode, hex, CTX, expectOnlyWireError, expectRandomBytesThrowOnlyWireError } from '../util.js'

const ascii = (s: string) => toHex(new TextEncoder().encode(s))

// What Bitcoin Core 27.0 sends on an outbound connection to 203.0.113.7:8333
// (net_processing.cpp PushNodeVersion), built by hand field by field.
const CORE_27_VERSION = hex(
  '80110100', // version 70016 (WTXID_RELAY_VERSION)
  '090c000000000000', // services NETWORK | WITNESS | NETWORK_LIMITED | P2P_V2 (0xc09)
  '80d4286600000000', // timestamp 0x6628d480 = 1713951872
  '0900000000000000', // addrRecv services: what we knew of the peer (NETWORK | WITNESS)
  '00000000000000000000ffffcb007107', // addrRecv host ::ffff:203.0.113.7
  '208d', // addrRecv port 8333 (big-endian)
  '090c000000000000', // addrFrom services: Core repeats its own services
  '00000000000000000000000000000000', // addrFrom host: Core sends an empty CService
  '0000', // addrFrom port 0
  'efbeaddeefbeadde', // nonce 0xdeadbeefdeadbeef
  '10', // user agent length 16
  ascii('/Satoshi:27.0.0/'), // user agent
  '40d10c00', // start height 840000
  '01', // relay true
)

const CORE_27: VersionMessage = {
  command: 'version',
  version: 70016,
  services: Services.NODE_NETWORK | Services.NODE_WITNESS | Services.NODE_NETWORK_LIMITED | Services.NODE_P2P_V2,
  timestamp: 1713951872n,
  addrRecv: { services: Services.NODE_NETWORK | Services.NODE_WITNESS, host: ipFromString('203.0.113.7'), port: 8333 },
  addrFrom: {
    services: Services.NODE_NETWORK | Services.NODE_WITNESS | Services.NODE_NETWORK_LIMITED | Services.NODE_P2P_V2,
    host: new Uint8Array(16),
    port: 0,
  },
  nonce: 0xdeadbeefdeadbeefn,
  userAgent: '/Satoshi:27.0.0/',
  startHeight: 840000,
  relay: true,
}

/** The first 46 bytes (through addrRecv) of a version with the given protocol version. */
function head(version: number): string {
  const w = new ByteWriter()
  w.i32le(version)
  return toHex(w.finish()) + toHex(CORE_27_VERSION.subarray(4, MIN_VERSION_PAYLOAD))
}
const ADDR_FROM_AND_NONCE = toHex(CORE_27_VERSION.subarray(46, 80))
const UA_AND_HEIGHT = '10' + ascii('/Satoshi:27.0.0/') + '40d10c00'

describe('version', () => {
  it('decodes a Bitcoin Core 27.0 version payload field by field', () => {
    expect(CORE_27_VERSION.length).toBe(102)
    const m = decode(versionCodec, CORE_27_VERSION)
    expect(m).toEqual(CORE_27)
    expect(ipToString(m.addrRecv.host)).toBe('203.0.113.7')
  })

  it('encodes the same 102 bytes', () => {
    expect(toHex(encode(versionCodec, CORE_27))).toBe(toHex(CORE_27_VERSION))
  })

  it('accepts a missing relay byte at 70001+ as relay = true (BIP37)', () => {
    const m = decode(versionCodec, CORE_27_VERSION.subarray(0, 101))
    expect(m.relay).toBe(true)
    expect(m.startHeight).toBe(840000)
  })

  it('reads relay 0 as false, and any non-zero byte as true as Core does', () => {
    const noRelay = CORE_27_VERSION.slice()
    noRelay[101] = 0
    expect(decode(versionCodec, noRelay).relay).toBe(false)
    noRelay[101] = 2
    expect(decode(versionCodec, noRelay).relay).toBe(true)
  })

  it('ignores a relay byte from a pre-BIP37 (< 70001) peer: such peers always relay', () => {
    const m = decode(versionCodec, hex(head(60002), ADDR_FROM_AND_NONCE, UA_AND_HEIGHT, '00'))
    expect(m.version).toBe(60002)
    expect(m.relay).toBe(true)
    expect(m.userAgent).toBe('/Satoshi:27.0.0/')
  })

  it('decodes a version < 106 that stops after addrRecv, with documented defaults', () => {
    const m = decode(versionCodec, hex(head(105)))
    expect(m.version).toBe(105)
    expect(m.addrFrom).toEqual({ services: 0n, host: new Uint8Array(16), port: 0 })
    expect(m.nonce).toBe(0n)
    expect(m.userAgent).toBe('')
    expect(m.startHeight).toBe(0)
    expect(m.relay).toBe(true)
  })

  it('decodes a version 106..208 that stops after the nonce', () => {
    const m = decode(versionCodec, hex(head(106), ADDR_FROM_AND_NONCE))
    expect(m.nonce).toBe(0xdeadbeefdeadbeefn)
    expect(m.addrFrom.services).toBe(0xc09n)
    expect(m.userAgent).toBe('')
    expect(m.startHeight).toBe(0)
  })

  it('still reads fields an old peer sent anyway (Core reads whatever is present)', () => {
    const m = decode(versionCodec, hex(head(100), ADDR_FROM_AND_NONCE, UA_AND_HEIGHT))
    expect(m.nonce).toBe(0xdeadbeefdeadbeefn)
    expect(m.userAgent).toBe('/Satoshi:27.0.0/')
    expect(m.startHeight).toBe(840000)
    // A user agent without a height is also fine for a pre-209 peer.
    expect(decode(versionCodec, hex(head(200), ADDR_FROM_AND_NONCE, '00')).startHeight).toBe(0)
  })

  it('requires the fields the declared version includes', () => {
    expect(errorOf(() => decode(versionCodec, hex(head(106))))?.code).toBe('TRUNCATED')
    expect(errorOf(() => decode(versionCodec, hex(head(209), ADDR_FROM_AND_NONCE)))?.code).toBe('TRUNCATED')
    expect(errorOf(() => decode(versionCodec, hex(head(209), ADDR_FROM_AND_NONCE, '00')))?.code).toBe('TRUNCATED')
    // An old peer's partial addrFrom group is truncated, not silently dropped.
    expect(errorOf(() => decode(versionCodec, hex(head(100), '0900')))?.code).toBe('TRUNCATED')
  })

  it('gives TRUNCATED at every cut before the optional relay byte', () => {
    for (let k = 0; k < CORE_27_VERSION.length - 1; k++) {
      const e = errorOf(() => decode(versionCodec, CORE_27_VERSION.subarray(0, k)))
      expect(e?.code, `cut at ${k}`).toBe('TRUNCATED')
    }
  })

  it('rejects bytes after the relay byte (TRAILING_BYTES)', () => {
    expect(errorOf(() => decode(versionCodec, hex(toHex(CORE_27_VERSION), '00')))?.code).toBe('TRAILING_BYTES')
  })

  it('accepts a user agent of exactly MAX_SUBVERSION_LENGTH bytes and rejects one more (OVERSIZE)', () => {
    const ua256 = 'a'.repeat(MAX_SUBVERSION_LENGTH)
    const m256 = { ...CORE_27, userAgent: ua256 }
    const bytes = encode(versionCodec, m256)
    expect(bytes.length).toBe(MAX_VERSION_PAYLOAD)
    expect(decode(versionCodec, bytes).userAgent).toBe(ua256)
    const over = hex(head(70016), ADDR_FROM_AND_NONCE, 'fd0101', '61'.repeat(257), '40d10c00', '01')
    const e = errorOf(() => decode(versionCodec, over))
    expect(e?.code).toBe('OVERSIZE')
    expect(e?.detail.limit).toBe(MAX_SUBVERSION_LENGTH)
  })

  it('fails fast on a user agent length of 0xffffffff (OVERSIZE before allocation)', () => {
    const e = errorOf(() => decode(versionCodec, hex(head(70016), ADDR_FROM_AND_NONCE, 'feffffffff')))
    expect(e?.code).toBe('OVERSIZE')
    expect(e?.detail.actual).toBe(0xffffffff)
  })

  it('rejects a non-canonical user agent length (NON_CANONICAL)', () => {
    const e = errorOf(() => decode(versionCodec, hex(head(70016), ADDR_FROM_AND_NONCE, 'fd1000', ascii('/Satoshi:27.0.0/'), '40d10c00')))
    expect(e?.code).toBe('NON_CANONICAL')
  })

  it('refuses to encode an over-long user agent or out-of-range numbers (ENCODE_RANGE)', () => {
    expect(errorOf(() => encode(versionCodec, { ...CORE_27, userAgent: 'é'.repeat(129) }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(versionCodec, { ...CORE_27, version: 2 ** 31 }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(versionCodec, { ...CORE_27, timestamp: 1n << 63n }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => encode(versionCodec, { ...CORE_27, nonce: -1n }))?.code).toBe('ENCODE_RANGE')
  })

  it('reads timestamp as signed i64 and version, startHeight as signed i32', () => {
    const m = { ...CORE_27, version: -1, timestamp: -5n, startHeight: -1 }
    const bytes = encode(versionCodec, m)
    expect(toHex(bytes.subarray(0, 4))).toBe('ffffffff')
    expect(toHex(bytes.subarray(12, 20))).toBe('fbffffffffffffff')
    // version -1 is "legacy": fields still present are read, relay ignored.
    expect(decode(versionCodec, bytes)).toEqual({ ...m, relay: true })
  })

  it('declares a payload cap that the largest message meets exactly', () => {
    expect(versionCodec.maxPayload(CTX)).toBe(MAX_VERSION_PAYLOAD)
    expect(MAX_VERSION_PAYLOAD).toBe(344)
  })

  const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 })
  const netAddr = fc.record({
    services: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    host: bytes16,
    port: fc.integer({ min: 0, max: 0xffff }),
  })
  const userAgent = fc
    .string({ unit: 'grapheme', maxLength: 60 })
    .filter((s) => new TextEncoder().encode(s).length <= MAX_SUBVERSION_LENGTH)
  const versionMsg = (minVersion: number, maxVersion: number) =>
    fc.record({
      command: fc.constant('version' as const),
      version: fc.integer({ min: minVersion, max: maxVersion }),
      services: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      timestamp: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
      addrRecv: netAddr,
      addrFrom: netAddr,
      nonce: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      userAgent,
      startHeight: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      relay: fc.boolean(),
    })

  it('property: decode(encode(m)) equals m for any modern (>= 70001) version', () => {
    fc.assert(
      fc.property(versionMsg(70001, 0x7fffffff), (m) => {
        expect(decode(versionCodec, encode(versionCodec, m))).toEqual(m)
      }),
    )
  })

  it('property: for older versions everything round-trips except relay, which reads as true (a 0 byte is kept)', () => {
    fc.assert(
      fc.property(versionMsg(-0x80000000, 70000), (m) => {
        expect(decode(versionCodec, encode(versionCodec, m))).toEqual({ ...m, relay: true, ...(m.relay ? {} : { relayByte: 0 }) })
      }),
    )
  })

  it('property: random bytes decode or throw only WireError', () => {
    expectRandomBytesThrowOnlyWireError([versionCodec], { maxLength: 400, numRuns: 2000 })
  })

  it('property: a valid payload with one byte changed or cut decodes or throws only WireError', () => {
    fc.assert(
      fc.property(
        versionMsg(-0x80000000, 0x7fffffff),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        (m, at, v, cut) => {
          const b = encode(versionCodec, m).slice()
          b[at % b.length] = v
          for (const input of [b, b.subarray(0, cut % (b.length + 1))]) {
            expectOnlyWireError(() => decode(versionCodec, input))
          }
        },
      ),
    )
  })
})

describe('verack', () => {
  it('is empty both ways and caps its payload at 0', () => {
    expect(encode(verackCodec, { command: 'verack' }).length).toBe(0)
    expect(decode(verackCodec, new Uint8Array(0))).toEqual({ command: 'verack' })
    expect(verackCodec.maxPayload(CTX)).toBe(0)
  })
  it('leaves any payload byte unread, so the caller sees TRAILING_BYTES', () => {
    expect(errorOf(() => decode(verackCodec, Uint8Array.of(0)))?.code).toBe('TRAILING_BYTES')
  })
})
