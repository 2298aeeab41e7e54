// Test vectors: the BIP155 text itself carries none, so the byte vectors
// here come from Bitcoin Core's unit tests, read at commit 2d500ee (and
// unchanged for years before):
// - src/test/netbase_tests.cpp: `stream_addrv2_hex` and `fixture_addresses`
//   (a whole addrv2 payload);
// - src/test/net_tests.cpp: `cnetaddr_unserialize_v2` and
//   `cnetaddr_serialize_v2` (network id, length and address of every
//   network, valid and invalid, with Core's text form).
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ByteWriter } from '../../src/bytes/writer.js'
import { fromHex, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { MAX_ADDR_TO_SEND } from '../../src/messages/addr.js'
import {
  type AddrV2Entry,
  addrV2FromString,
  addrV2ToString,
  addrv2Codec,
  type Addrv2Message,
  bip155AddressLength,
  BIP155Network,
  MAX_ADDRV2_ENTRY_BYTES,
  MAX_ADDRV2_PAYLOAD,
  MAX_ADDRV2_SIZE,
  sendaddrv2Codec,
} from '../../src/messages/addrv2.js'
import { Services } from '../../src/protocol.js'
import { errorOf, decode, encode, hex, CTX, expectOnlyWireError, expectRandomBytesThrowOnlyWireError, expectTruncatedAtEveryOffset } from '../util.js'

const LOOPBACK6 = '00000000000000000000000000000001'

// netbase_tests.cpp `stream_addrv2_hex`.
const CORE_STREAM_ADDRV2 = hex(
  '03', // number of entries
  '61bc6649', // time, Fri Jan  9 02:54:25 UTC 2009
  '00', // services, CompactSize(NODE_NONE)
  '02', // network id, IPv6
  '10', // address length, CompactSize(16)
  LOOPBACK6, // address ::1
  '0000', // port 0
  '79627683', // time, Tue Nov 22 11:22:33 UTC 2039
  '01', // services, CompactSize(NODE_NETWORK)
  '02', // network id, IPv6
  '10', // address length, CompactSize(16)
  LOOPBACK6, // address ::1
  '00f1', // port 0x00f1
  'ffffffff', // time, Sun Feb  7 06:28:15 UTC 2106
  'fd4804', // services, CompactSize(NODE_WITNESS | NODE_COMPACT_FILTERS | NODE_NETWORK_LIMITED)
  '02', // network id, IPv6
  '10', // address length, CompactSize(16)
  LOOPBACK6, // address ::1
  'f1f2', // port 0xf1f2
)
const loopback = fromHex(LOOPBACK6)
const CORE_FIXTURE: Addrv2Message = {
  command: 'addrv2',
  addresses: [
    { time: 0x4966bc61, services: Services.NONE, networkId: BIP155Network.IPV6, addr: loopback, port: 0 },
    { time: 0x83766279, services: Services.NODE_NETWORK, networkId: BIP155Network.IPV6, addr: loopback, port: 0x00f1 },
    {
      time: 0xffffffff,
      services: Services.NODE_WITNESS | Services.NODE_COMPACT_FILTERS | Services.NODE_NETWORK_LIMITED,
      networkId: BIP155Network.IPV6,
      addr: loopback,
      port: 0xf1f2,
    },
  ],
  skipped: 0,
}

/** An addrv2 payload of one entry around a (network id, length, address) from net_tests.cpp. */
function oneEntry(netLenAddr: string, port = '208d'): Uint8Array {
  return hex(
    '01', // number of entries
    '80d42866', // time 1713951872
    '09', // services, CompactSize(NODE_NETWORK | NODE_WITNESS)
    netLenAddr, // network id | address length | address
    port, // port
  )
}

const TORV3_PUBKEY = '79bcc625184b05194975c28b66b66b0469f7f6556fb1ac3189a79b40dda32f1f'
const I2P_HASH = 'a2894dabaec08c0051a481a6dac88b64f98232ae42d4b6fd2fa81952dfe36a87'

describe('addrv2', () => {
  it("decodes Core's stream_addrv2_hex to its fixture_addresses", () => {
    expect(decode(addrv2Codec, CORE_STREAM_ADDRV2)).toEqual(CORE_FIXTURE)
  })

  it("encodes Core's fixture_addresses to stream_addrv2_hex", () => {
    expect(toHex(encode(addrv2Codec, CORE_FIXTURE))).toBe(toHex(CORE_STREAM_ADDRV2))
  })

  describe('every network of cnetaddr_unserialize_v2', () => {
    const valid: [string, string, number, string][] = [
      ['IPv4', '01' + '04' + '01020304', BIP155Network.IPV4, '1.2.3.4'],
      ['IPv6', '02' + '10' + '0102030405060708090a0b0c0d0e0f10', BIP155Network.IPV6, '102:304:506:708:90a:b0c:d0e:f10'],
      ['Tor v3', '04' + '20' + TORV3_PUBKEY, BIP155Network.TORV3, 'pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion'],
      ['I2P', '05' + '20' + I2P_HASH, BIP155Network.I2P, 'ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p'],
      ['CJDNS', '06' + '10' + 'fc000001000200030004000500060007', BIP155Network.CJDNS, 'fc00:1:2:3:4:5:6:7'],
    ]
    for (const [name, body, net, text] of valid) {
      it(`keeps a valid ${name} address and prints it as Core does`, () => {
        const m = decode(addrv2Codec, oneEntry(body))
        expect(m.skipped).toBe(0)
        expect(m.addresses).toHaveLength(1)
        const e = m.addresses[0]!
        expect(e).toMatchObject({ time: 1713951872, services: 9n, networkId: net, port: 8333 })
        expect(toHex(e.addr)).toBe(body.slice(4))
        expect(addrV2ToString(e.networkId, e.addr)).toBe(text)
        expect(toHex(encode(addrv2Codec, m))).toBe(toHex(oneEntry(body)))
      })
    }

    const skipped: [string, string][] = [
      ['IPv6 carrying an IPv4-mapped address', '02' + '10' + '00000000000000000000ffff01020304'],
      ['IPv6 carrying a Tor v2 address', '02' + '10' + 'fd87d87eeb430102030405060708090a'],
      ['Tor v2 (no longer supported)', '03' + '0a' + 'f1f2f3f4f5f6f7f8f9fa'],
      // Core 22+ no longer knows network 3, so its length is not checked either.
      ['Tor v2 of a length other than 10', '03' + '04' + '01020304'],
      ['CJDNS with a wrong prefix', '06' + '10' + 'aa000001000200030004000500060007'],
      ['an unknown network with a reasonable length', 'aa' + '04' + '01020304'],
      ['an unknown network with zero length', 'aa' + '00'],
    ]
    for (const [name, body] of skipped) {
      it(`skips ${name} without failing the message, and keeps it to re-encode`, () => {
        const m = decode(addrv2Codec, oneEntry(body))
        expect(m).toMatchObject({ command: 'addrv2', addresses: [], skipped: 1 })
        expect(m.skippedEntries).toHaveLength(1)
        expect(m.skippedEntries![0]!.position).toBe(0)
        expect(toHex(encode(addrv2Codec, m))).toBe(toHex(oneEntry(body)))
      })
    }

    const wrongLength: [string, string, number, number][] = [
      ['IPv4 of length 5', '01' + '05' + '01020304', 5, 4],
      ['IPv6 of length 4', '02' + '04' + '00', 4, 16],
      ['Tor v3 of length 0', '04' + '00' + '00', 0, 32],
      ['I2P of length 3', '05' + '03' + '00', 3, 32],
      ['CJDNS of length 1', '06' + '01' + '00', 1, 16],
    ]
    for (const [name, body, actual, expected] of wrongLength) {
      it(`fails the message on ${name} (INVALID_VALUE)`, () => {
        // Core checks the length before reading the address: INVALID_VALUE, not TRUNCATED.
        const e = errorOf(() => decode(addrv2Codec, oneEntry(body)))
        expect(e?.code).toBe('INVALID_VALUE')
        expect(e?.detail).toMatchObject({ actual, expected })
      })
    }

    it('fails on an IPv4 whose bytes are cut short (TRUNCATED)', () => {
      expect(errorOf(() => decode(addrv2Codec, oneEntry('01' + '04' + '0102', '')))?.code).toBe('TRUNCATED')
    })

    it('fails on an address length of 513 (OVERSIZE: "Address too long: 513 > 512")', () => {
      const e = errorOf(() => decode(addrv2Codec, oneEntry('01' + 'fd0102' + '01020304', '')))
      expect(e?.code).toBe('OVERSIZE')
      expect(e?.detail).toMatchObject({ limit: MAX_ADDRV2_SIZE, actual: 513 })
    })

    it("fails on an unknown network with CompactSize's MAX_SIZE length, before allocating", () => {
      const e = errorOf(() => decode(addrv2Codec, oneEntry('aa' + 'fe00000002' + '01020304050607', '')))
      expect(e?.code).toBe('OVERSIZE')
      expect(e?.detail.actual).toBe(33554432)
    })

    it('accepts an unknown network of exactly MAX_ADDRV2_SIZE bytes and skips it', () => {
      const m = decode(addrv2Codec, oneEntry('ff' + 'fd0002' + '00'.repeat(512)))
      expect(m).toMatchObject({ command: 'addrv2', addresses: [], skipped: 1 })
      expect(m.skippedEntries![0]!.addr.length).toBe(MAX_ADDRV2_SIZE)
    })
  })

  it('keeps valid entries in order around skipped ones and counts the skipped', () => {
    const payload = hex(
      '04', // number of entries
      '01000000', '00', 'aa', '02', 'abcd', '0001', // unknown network 0xaa: skipped
      '02000000', '01', '01', '04', '7f000001', '208d', // IPv4 127.0.0.1:8333
      '03000000', '00', '03', '0a', 'f1f2f3f4f5f6f7f8f9fa', '0002', // Tor v2: skipped
      '04000000', '01', '05', '20', I2P_HASH, '0000', // I2P, port 0
    )
    const m = decode(addrv2Codec, payload)
    expect(m.skipped).toBe(2)
    expect(m.addresses.map((e) => [e.time, e.networkId, addrV2ToString(e.networkId, e.addr), e.port])).toEqual([
      [2, BIP155Network.IPV4, '127.0.0.1', 8333],
      [4, BIP155Network.I2P, 'ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p', 0],
    ])
    expect(m.skippedEntries!.map((e) => [e.position, e.time, e.networkId])).toEqual([
      [0, 1, 0xaa],
      [2, 3, BIP155Network.TORV2],
    ])
    // Re-encoded with the skipped entries back in their places.
    expect(toHex(encode(addrv2Codec, m))).toBe(toHex(payload))
    // With a usable entry removed, the skipped ones still go out, none lost.
    const fewer = decode(addrv2Codec, encode(addrv2Codec, { ...m, addresses: m.addresses.slice(1) }))
    expect(fewer.addresses.map((e) => e.networkId)).toEqual([BIP155Network.I2P])
    expect(fewer.skippedEntries!.map((e) => e.networkId)).toEqual([0xaa, BIP155Network.TORV2])
  })

  it('refuses to encode as skipped an entry the decoder would keep or fail on (ENCODE_RANGE)', () => {
    const usable = { position: 0, time: 0, services: 0n, networkId: BIP155Network.IPV4, addr: Uint8Array.of(1, 2, 3, 4), port: 1 }
    const wrongLength = { ...usable, addr: Uint8Array.of(1, 2, 3) }
    const tooLong = { ...usable, networkId: 0xaa, addr: new Uint8Array(MAX_ADDRV2_SIZE + 1) }
    for (const e of [usable, wrongLength, tooLong]) {
      expect(errorOf(() => encode(addrv2Codec, { command: 'addrv2', addresses: [], skipped: 1, skippedEntries: [e] }))?.code).toBe('ENCODE_RANGE')
    }
  })

  it('reads services as a full 64-bit CompactSize', () => {
    const all = decode(addrv2Codec, hex('01', '00000000', 'ffffffffffffffffff', '01', '04', '01020304', '0000'))
    expect(all.addresses[0]!.services).toBe((1n << 64n) - 1n)
    expect(toHex(encode(addrv2Codec, all))).toBe('0100000000ffffffffffffffffff01040102030400' + '00')
  })

  it('rejects a non-canonical services CompactSize (NON_CANONICAL)', () => {
    for (const services of ['fd0100', 'fe01000000', 'ff0100000000000000', 'ffffffffff00000000']) {
      const payload = hex('01', '00000000', services, '01', '04', '01020304', '0000')
      expect(errorOf(() => decode(addrv2Codec, payload))?.code, services).toBe('NON_CANONICAL')
    }
  })

  it('rejects a non-canonical address length (NON_CANONICAL)', () => {
    expect(errorOf(() => decode(addrv2Codec, oneEntry('01' + 'fd0400' + '01020304')))?.code).toBe('NON_CANONICAL')
  })

  it('gives TRUNCATED at every cut of the Core fixture', () => {
    expectTruncatedAtEveryOffset(addrv2Codec, CORE_STREAM_ADDRV2)
  })

  it('rejects more than MAX_ADDR_TO_SEND entries, and a count of 0xffffffff, before reading any (OVERSIZE)', () => {
    expect(errorOf(() => decode(addrv2Codec, hex('fde903')))?.code).toBe('OVERSIZE')
    const e = errorOf(() => decode(addrv2Codec, hex('feffffffff')))
    expect(e?.code).toBe('OVERSIZE')
    expect(e?.detail.actual).toBe(0xffffffff)
  })

  it('rejects a count the bytes cannot hold at 9 bytes per entry (TRUNCATED)', () => {
    const e = errorOf(() => decode(addrv2Codec, hex('03', '00'.repeat(26))))
    expect(e?.code).toBe('TRUNCATED')
    expect(e?.detail.expected).toBe(27)
  })

  it('caps the payload at MAX_ADDR_TO_SEND entries of the largest size', () => {
    expect(MAX_ADDRV2_ENTRY_BYTES).toBe(4 + 9 + 1 + 3 + 512 + 2)
    expect(addrv2Codec.maxPayload(CTX)).toBe(MAX_ADDRV2_PAYLOAD)
    expect(MAX_ADDRV2_PAYLOAD).toBe(3 + MAX_ADDR_TO_SEND * MAX_ADDRV2_ENTRY_BYTES)
  })

  it('refuses to encode what it would not decode (ENCODE_RANGE)', () => {
    const ok: AddrV2Entry = { time: 0, services: 0n, networkId: BIP155Network.IPV4, addr: Uint8Array.of(1, 2, 3, 4), port: 1 }
    const bad: AddrV2Entry[] = [
      { ...ok, addr: new Uint8Array(16) }, // wrong length
      { ...ok, networkId: BIP155Network.TORV2, addr: new Uint8Array(10) }, // deprecated
      { ...ok, networkId: 0xaa }, // unknown
      { ...ok, networkId: BIP155Network.CJDNS, addr: new Uint8Array(16) }, // not fc00::/8
      { ...ok, networkId: BIP155Network.IPV6, addr: fromHex('00000000000000000000ffff01020304') }, // IPv4-mapped
      { ...ok, services: 1n << 64n },
      { ...ok, port: 0x10000 },
    ]
    for (const e of bad) {
      expect(errorOf(() => encode(addrv2Codec, { command: 'addrv2', addresses: [e], skipped: 0 }))?.code).toBe('ENCODE_RANGE')
    }
    const tooMany = { command: 'addrv2' as const, addresses: new Array(MAX_ADDR_TO_SEND + 1).fill(ok), skipped: 0 }
    expect(errorOf(() => encode(addrv2Codec, tooMany))?.code).toBe('ENCODE_RANGE')
  })

  const usableEntry = fc
    .record({
      time: fc.integer({ min: 0, max: 0xffffffff }),
      services: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      networkId: fc.constantFrom(BIP155Network.IPV4, BIP155Network.IPV6, BIP155Network.TORV3, BIP155Network.I2P, BIP155Network.CJDNS),
      raw: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      port: fc.integer({ min: 0, max: 0xffff }),
    })
    .map(({ raw, ...rest }): AddrV2Entry => {
      const addr = raw.slice(0, bip155AddressLength(rest.networkId))
      if (rest.networkId === BIP155Network.CJDNS) addr[0] = 0xfc
      // Keep IPv6 clear of the IPv4-mapped and Tor v2 prefixes.
      if (rest.networkId === BIP155Network.IPV6) addr[0] = 0x20
      return { ...rest, addr }
    })

  it('property: decode(encode(m)) equals m for any usable entries', () => {
    fc.assert(
      fc.property(fc.array(usableEntry, { maxLength: 30 }), (addresses) => {
        const m: Addrv2Message = { command: 'addrv2', addresses, skipped: 0 }
        expect(decode(addrv2Codec, encode(addrv2Codec, m))).toEqual(m)
      }),
    )
  })

  it('property: entries of unknown networks are skipped, counted, and leave the rest intact', () => {
    const unknown = fc.record({
      networkId: fc.integer({ min: 7, max: 255 }),
      addr: fc.uint8Array({ maxLength: 40 }),
    })
    fc.assert(
      fc.property(fc.array(fc.oneof(usableEntry, unknown), { maxLength: 30 }), (mixed) => {
        const w = new ByteWriter()
        w.compactSize(mixed.length)
        for (const e of mixed) {
          const full = 'time' in e ? e : { time: 7, services: 1n, port: 9, ...e }
          w.u32le(full.time).compactSize(full.services).u8(full.networkId).varBytes(full.addr).u16be(full.port)
        }
        const m = decode(addrv2Codec, w.finish())
        const kept = mixed.filter((e) => 'time' in e)
        expect(m.addresses).toEqual(kept)
        expect(m.skipped).toBe(mixed.length - kept.length)
      }),
    )
  })

  it('property: random bytes decode or throw only WireError', () => {
    expectRandomBytesThrowOnlyWireError([addrv2Codec], { maxLength: 300, numRuns: 2000 })
  })

  it('property: a valid payload with one byte changed or cut decodes or throws only WireError', () => {
    fc.assert(
      fc.property(fc.array(usableEntry, { minLength: 1, maxLength: 8 }), fc.nat(), fc.nat({ max: 255 }), fc.nat(), (addresses, at, v, cut) => {
        const b = encode(addrv2Codec, { command: 'addrv2', addresses, skipped: 0 }).slice()
        b[at % b.length] = v
        for (const input of [b, b.subarray(0, cut % (b.length + 1))]) {
          expectOnlyWireError(() => decode(addrv2Codec, input))
        }
      }),
    )
  })
})

describe('addrv2 text forms', () => {
  it('parses the Tor v3 name of cnetaddr_serialize_v2 to its public key', () => {
    const h = addrV2FromString('kpgvmscirrdqpekbqjsvw5teanhatztpp2gl6eee4zkowvwfxwenqaid.onion')
    expect(h.networkId).toBe(BIP155Network.TORV3)
    // Core serializes it as 04 | 20 | pubkey.
    expect('0420' + toHex(h.addr)).toBe('042053cd5648488c4707914182655b7664034e09e66f7e8cbf1084e654eb56c5bd88')
  })

  it('parses the Tor v3 and I2P names of cnetaddr_unserialize_v2 back to their bytes, in either case', () => {
    const tor = addrV2FromString('PG6MMJIYJMCRSSLVYKFWNNTLARU7P5SVN6Y2YMMJU6NUBXNDF4PSCRYD.onion')
    expect(tor).toEqual({ networkId: BIP155Network.TORV3, addr: fromHex(TORV3_PUBKEY) })
    const i2p = addrV2FromString('ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p')
    expect(i2p).toEqual({ networkId: BIP155Network.I2P, addr: fromHex(I2P_HASH) })
  })

  it('parses IP text to IPV4 (4 bytes) or IPV6', () => {
    expect(addrV2FromString('1.2.3.4')).toEqual({ networkId: BIP155Network.IPV4, addr: Uint8Array.of(1, 2, 3, 4) })
    expect(addrV2FromString('::ffff:1.2.3.4')).toEqual({ networkId: BIP155Network.IPV4, addr: Uint8Array.of(1, 2, 3, 4) })
    expect(addrV2FromString('fc00:1:2:3:4:5:6:7')).toEqual({
      networkId: BIP155Network.IPV6,
      addr: fromHex('fc000001000200030004000500060007'),
    })
  })

  it('prints a Tor v2 address as its 16-character .onion name', () => {
    expect(addrV2ToString(BIP155Network.TORV2, fromHex('f1f2f3f4f5f6f7f8f9fa'))).toMatch(/^[a-z2-7]{16}\.onion$/)
  })

  const badNames = [
    // The Core vector with its last character changed: checksum/version byte no longer match.
    'pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryc.onion',
    // One character of the public key changed: checksum mismatch.
    'ag6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion',
    // Tor v2 names are no longer accepted.
    '6hzph5hv6337r6p2.onion',
    // Wrong length, bad alphabet.
    'pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscry.onion',
    'pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscry1.onion',
    // I2P: 51 characters; a non-zero spare bit in the last character.
    'keu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p',
    'ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdr.b32.i2p',
    'example.com',
    '',
  ]
  for (const name of badNames) {
    it(`rejects '${name}' (INVALID_VALUE)`, () => {
      expect(errorOf(() => addrV2FromString(name))?.code).toBe('INVALID_VALUE')
    })
  }

  it('refuses text for unknown networks or wrong lengths (INVALID_VALUE)', () => {
    expect(errorOf(() => addrV2ToString(0xaa, new Uint8Array(4)))?.code).toBe('INVALID_VALUE')
    expect(errorOf(() => addrV2ToString(BIP155Network.TORV3, new Uint8Array(31)))?.code).toBe('INVALID_VALUE')
  })

  it('property: every Tor v3, I2P, IPv4 and IPv6 address survives text and back', () => {
    const b32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
    fc.assert(
      fc.property(b32, fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (k, v4, v6) => {
        const tor = addrV2ToString(BIP155Network.TORV3, k)
        expect(tor).toMatch(/^[a-z2-7]{55}d\.onion$/) // the version byte 3 always ends in 'd'
        expect(addrV2FromString(tor)).toEqual({ networkId: BIP155Network.TORV3, addr: k })
        const i2p = addrV2ToString(BIP155Network.I2P, k)
        expect(i2p).toMatch(/^[a-z2-7]{52}\.b32\.i2p$/)
        expect(addrV2FromString(i2p)).toEqual({ networkId: BIP155Network.I2P, addr: k })
        expect(addrV2FromString(addrV2ToString(BIP155Network.IPV4, v4))).toEqual({ networkId: BIP155Network.IPV4, addr: v4 })
        v6[0] = 0x20
        expect(addrV2FromString(addrV2ToString(BIP155Network.IPV6, v6))).toEqual({ networkId: BIP155Network.IPV6, addr: v6 })
      }),
    )
  })
})

describe('sendaddrv2', () => {
  it('is empty both ways with a 0-byte cap', () => {
    expect(encode(sendaddrv2Codec, { command: 'sendaddrv2' }).length).toBe(0)
    expect(decode(sendaddrv2Codec, new Uint8Array(0))).toEqual({ command: 'sendaddrv2' })
    expect(sendaddrv2Codec.maxPayload(CTX)).toBe(0)
    expect(errorOf(() => decode(sendaddrv2Codec, Uint8Array.of(0)))?.code).toBe('TRAILING_BYTES')
  })
})
