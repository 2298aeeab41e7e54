import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { BIP155Network, addrV2ToString, ipFromString } from '@bitp2p/wire'
import { ipv4Mapped } from '@bitp2p/wire/codecs'
import {
  GROUP_CLASS_LOCAL,
  GROUP_CLASS_NAME,
  GROUP_CLASS_UNROUTABLE,
  endpointFromNetAddress,
  endpointFromPeerAddress,
  endpointKey,
  endpointToNetAddress,
  endpointToPeerAddress,
  endpointsEqual,
  groupToString,
  hostKey,
  isLocalEndpoint,
  isRoutable,
  isValidEndpoint,
  nameGroup,
  netGroup,
  sourceGroup,
  toEndpoint,
  type Endpoint,
} from '../../../src/core/pool/netgroup.js'
import { ip4 } from './fixtures.js'

const v6 = (text: string, port = 8333): Endpoint => ({ network: BIP155Network.IPV6, bytes: ipFromString(text), port })
const group = (ep: Endpoint) => groupToString(netGroup(ep))

describe('endpoints', () => {
  it('normalises the same IPv4 address from addr, addrv2 and text to one key', () => {
    const fromLegacy = endpointFromNetAddress({ services: 1n, host: ipv4Mapped(Uint8Array.of(1, 2, 3, 4)), port: 8333 })
    const fromV2 = toEndpoint({ time: 0, services: 1n, networkId: BIP155Network.IPV4, addr: Uint8Array.of(1, 2, 3, 4), port: 8333 })!
    const fromText = endpointFromPeerAddress({ host: '1.2.3.4', port: 8333 })!
    expect(fromLegacy.network).toBe(BIP155Network.IPV4)
    expect(endpointKey(fromLegacy)).toBe('ipv4:1.2.3.4:8333')
    expect(endpointKey(fromV2)).toBe('ipv4:1.2.3.4:8333')
    expect(endpointKey(fromText)).toBe('ipv4:1.2.3.4:8333')
    expect(hostKey(fromText)).toBe('ipv4:1.2.3.4')
  })

  it('keys IPv6 in brackets and onion by name, and parses bracketed text', () => {
    expect(endpointKey(v6('2001:db8::1'))).toBe('ipv6:[2001:db8::1]:8333')
    expect(endpointKey(endpointFromPeerAddress({ host: '[2a00:1450::5]', port: 18333 })!)).toBe('ipv6:[2a00:1450::5]:18333')
    const onion: Endpoint = { network: BIP155Network.TORV3, bytes: new Uint8Array(32).fill(7), port: 8333 }
    const name = addrV2ToString(BIP155Network.TORV3, onion.bytes)
    expect(endpointKey(onion)).toBe(`onion:${name}:8333`)
    expect(endpointsEqual(endpointFromPeerAddress({ host: name, port: 8333 })!, onion)).toBe(true)
  })

  it('gives no endpoint for a DNS name', () => {
    expect(endpointFromPeerAddress({ host: 'seed.bitcoin.sipa.be', port: 8333 })).toBeUndefined()
  })

  it('converts back to host text and legacy addr entries', () => {
    expect(endpointToPeerAddress(ip4(8, 8, 4, 4, 18444))).toEqual({ host: '8.8.4.4', port: 18444 })
    const legacy = endpointToNetAddress(ip4(8, 8, 4, 4), 9n, 123)!
    expect(legacy.host).toEqual(ipv4Mapped(Uint8Array.of(8, 8, 4, 4)))
    expect(endpointsEqual(endpointFromNetAddress(legacy), ip4(8, 8, 4, 4))).toBe(true)
    expect(endpointToNetAddress({ network: BIP155Network.TORV3, bytes: new Uint8Array(32), port: 1 }, 0n, 0)).toBeUndefined()
  })

  it('keys are equal exactly when endpoints are equal (IPv4 and IPv6)', () => {
    const arbEp = fc.oneof(
      fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 3 })).map(([b, p]) => ({ network: BIP155Network.IPV4, bytes: b, port: 8330 + p })),
      fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 3 })).map(([b, p]) => ({ network: BIP155Network.IPV6, bytes: b, port: 8330 + p })),
    )
    fc.assert(
      fc.property(arbEp, arbEp, (a, b) => {
        expect(endpointKey(a) === endpointKey(b)).toBe(endpointsEqual(a, b))
      }),
    )
  })

  it('validates network, length and port', () => {
    expect(isValidEndpoint(ip4(1, 2, 3, 4))).toBe(true)
    expect(isValidEndpoint({ network: BIP155Network.IPV4, bytes: new Uint8Array(16), port: 1 })).toBe(false)
    expect(isValidEndpoint({ network: BIP155Network.TORV2, bytes: new Uint8Array(10), port: 1 })).toBe(false)
    expect(isValidEndpoint({ network: 99, bytes: new Uint8Array(4), port: 1 })).toBe(false)
    expect(isValidEndpoint(ip4(1, 2, 3, 4, 70000))).toBe(false)
    expect(isValidEndpoint({ network: BIP155Network.CJDNS, bytes: ipFromString('fd00::1'), port: 1 })).toBe(false)
  })
})

describe('isRoutable', () => {
  const cases: [string, Endpoint, boolean][] = [
    ['public IPv4', ip4(8, 8, 8, 8), true],
    ['this network 0/8', ip4(0, 1, 2, 3), false],
    ['loopback', ip4(127, 0, 0, 1), false],
    ['RFC1918 10/8', ip4(10, 1, 2, 3), false],
    ['RFC1918 172.16/12 low', ip4(172, 16, 0, 1), false],
    ['RFC1918 172.16/12 high', ip4(172, 31, 255, 1), false],
    ['just outside 172.16/12', ip4(172, 32, 0, 1), true],
    ['RFC1918 192.168/16', ip4(192, 168, 1, 1), false],
    ['RFC6598 100.64/10', ip4(100, 127, 0, 1), false],
    ['just outside 100.64/10', ip4(100, 128, 0, 1), true],
    ['RFC3927 link-local', ip4(169, 254, 3, 4), false],
    ['RFC2544 198.18/15', ip4(198, 19, 0, 1), false],
    ['RFC5737 192.0.2/24', ip4(192, 0, 2, 7), false],
    ['RFC5737 198.51.100/24', ip4(198, 51, 100, 7), false],
    ['RFC5737 203.0.113/24', ip4(203, 0, 113, 7), false],
    ['multicast', ip4(224, 0, 0, 1), false],
    ['broadcast', ip4(255, 255, 255, 255), false],
    ['public IPv6', v6('2a00:1450:4001::1'), true],
    ['IPv6 loopback', v6('::1'), false],
    ['IPv6 unspecified', v6('::'), false],
    ['IPv6 link-local', v6('fe80::1'), false],
    ['IPv6 ULA', v6('fd12:3456::1'), false],
    ['Tor v2 OnionCat in IPv6', v6('fd87:d87e:eb43::1'), false],
    ['RFC3849 documentation', v6('2001:db8::1'), false],
    ['RFC4843 ORCHID', v6('2001:10::1'), false],
    ['RFC7343 ORCHIDv2', v6('2001:20::1'), false],
    ['IPv6 multicast', v6('ff02::1'), false],
    ['IPv4-mapped carried as IPv6', v6('::ffff:8.8.8.8'), false],
    ['CJDNS', { network: BIP155Network.CJDNS, bytes: ipFromString('fc00::1'), port: 8333 }, true],
    ['Tor v3', { network: BIP155Network.TORV3, bytes: new Uint8Array(32).fill(1), port: 8333 }, true],
    ['I2P', { network: BIP155Network.I2P, bytes: new Uint8Array(32).fill(2), port: 0 }, true],
  ]
  for (const [name, ep, routable] of cases) {
    it(`${name} -> ${routable}`, () => expect(isRoutable(ep)).toBe(routable))
  }

  it('marks only loopback and this-host as local', () => {
    expect(isLocalEndpoint(ip4(127, 9, 9, 9))).toBe(true)
    expect(isLocalEndpoint(v6('::1'))).toBe(true)
    expect(isLocalEndpoint(ip4(10, 0, 0, 1))).toBe(false)
  })
})

describe('netGroup', () => {
  it('groups IPv4 by /16', () => {
    expect(group(ip4(1, 2, 3, 4))).toBe('ipv4:1.2')
    expect(netGroup(ip4(1, 2, 3, 4))).toEqual(netGroup(ip4(1, 2, 200, 9, 1)))
    expect(netGroup(ip4(1, 2, 3, 4))).not.toEqual(netGroup(ip4(1, 3, 3, 4)))
  })

  it('groups IPv6 by /32, Hurricane Electric by /36', () => {
    expect(group(v6('2a00:1450:4001::1'))).toBe('ipv6:2a00:1450')
    expect(netGroup(v6('2a00:1450:4001::1'))).toEqual(netGroup(v6('2a00:1450:ffff::2')))
    expect(netGroup(v6('2001:470:1000::1'))).not.toEqual(netGroup(v6('2001:470:2000::1')))
    expect(netGroup(v6('2001:470:1000::1'))).toEqual(netGroup(v6('2001:470:1fff::1')))
  })

  it('groups 6to4, Teredo and NAT64 by their embedded IPv4 /16', () => {
    expect(group(v6('2002:0102:0304::1'))).toBe('ipv4:1.2')
    // Teredo stores the client address inverted: ~(1.2.3.4) = fe.fd.fc.fb
    expect(group(v6('2001:0:4136:e378:8000:63bf:fefd:fcfb'))).toBe('ipv4:1.2')
    expect(group(v6('64:ff9b::102:304'))).toBe('ipv4:1.2')
  })

  it('groups Tor and I2P by 4 bits, CJDNS by fc plus 4 bits', () => {
    const tor = (b0: number): Endpoint => ({ network: BIP155Network.TORV3, bytes: new Uint8Array(32).fill(b0), port: 1 })
    expect(netGroup(tor(0xa1))).toEqual(netGroup(tor(0xaf)))
    expect(netGroup(tor(0xa1))).not.toEqual(netGroup(tor(0xb1)))
    expect(netGroup(tor(0xa1))[0]).toBe(BIP155Network.TORV3)
    const cj = (t: string): Endpoint => ({ network: BIP155Network.CJDNS, bytes: ipFromString(t), port: 1 })
    expect(netGroup(cj('fc12::1'))).toEqual(netGroup(cj('fc1f::1')))
    expect(netGroup(cj('fc12::1'))).not.toEqual(netGroup(cj('fc22::1')))
  })

  it('puts local and unroutable addresses in one group each', () => {
    expect(netGroup(ip4(127, 0, 0, 1))).toEqual(Uint8Array.of(GROUP_CLASS_LOCAL))
    expect(netGroup(v6('::1'))).toEqual(Uint8Array.of(GROUP_CLASS_LOCAL))
    expect(netGroup(ip4(10, 1, 1, 1))).toEqual(Uint8Array.of(GROUP_CLASS_UNROUTABLE))
    expect(netGroup(v6('fe80::1'))).toEqual(Uint8Array.of(GROUP_CLASS_UNROUTABLE))
  })

  it('gives a DNS-named source a stable, case-insensitive name group', () => {
    const g = sourceGroup({ host: 'Seed.Example.org', port: 8333 })
    expect(g[0]).toBe(GROUP_CLASS_NAME)
    expect(g).toEqual(nameGroup('seed.example.org'))
    expect(g).not.toEqual(nameGroup('other.example.org'))
    expect(sourceGroup({ host: '1.2.3.4', port: 1 })).toEqual(netGroup(ip4(1, 2, 9, 9)))
  })
})
