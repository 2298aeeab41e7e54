// IP literal parsing, canonical text and scopes.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { isIP } from 'node:net'
import { canonicalIp, formatIp, ipScope, parseIp, type IpScope } from '../src/ip.js'

const scopeOf = (text: string): IpScope => {
  const b = parseIp(text)
  if (b === undefined) throw new Error(`not an IP: ${text}`)
  return ipScope(b)
}

describe('parseIp', () => {
  it('parses IPv4 and IPv6 text forms', () => {
    expect(parseIp('1.2.3.4')).toEqual(Uint8Array.of(1, 2, 3, 4))
    expect(parseIp('::')).toEqual(new Uint8Array(16))
    expect(parseIp('[::1]')).toEqual(Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0)))
    expect(formatIp(parseIp('2001:0DB8:0000:0000:0000:0000:0000:0001')!)).toBe('2001:db8::1')
    expect(formatIp(parseIp('64:ff9b::192.0.2.33')!)).toBe('64:ff9b::c000:221')
  })
  it('treats IPv4-mapped IPv6 as IPv4', () => {
    expect(parseIp('::ffff:127.0.0.1')).toEqual(Uint8Array.of(127, 0, 0, 1))
    expect(parseIp('::FFFF:7f00:1')).toEqual(Uint8Array.of(127, 0, 0, 1))
    expect(canonicalIp('[::ffff:10.0.0.1]')).toBe('10.0.0.1')
  })
  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '256.1.1.1',
    '1.2.3.-1',
    '0x7f.0.0.1',
    '127.1',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7::8',
    '12345::',
    'fe80::1%eth0',
    '::1.2.3',
    '1.2.3.4::',
    'localhost',
    'example.com',
  ])('refuses %j', (text) => {
    expect(parseIp(text)).toBeUndefined()
  })
  it('agrees with node:net isIP on random strings over the IP alphabet', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.'), maxLength: 45 }), (s) => {
        // Node accepts leading zeros in IPv4 ("01.2.3.4"); we do not (ambiguous: octal to some parsers).
        if (/(^|[.:])0\d/.test(s) && s.includes('.')) return
        expect(parseIp(s) !== undefined).toBe(isIP(s) !== 0)
      }),
      { numRuns: 3000 },
    )
  })
})

describe('formatIp', () => {
  it('writes RFC 5952 text, matching the WHATWG URL serializer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const text = formatIp(b)
        const viaUrl = new URL(`http://[${text}]/`).hostname.slice(1, -1)
        const back = parseIp(text)!
        // Mapped addresses come back as IPv4; everything else round-trips.
        if (back.length === 16) {
          expect(back).toEqual(b)
          expect(text).toBe(viaUrl)
        } else {
          expect(Uint8Array.from([...new Uint8Array(10), 0xff, 0xff, ...back])).toEqual(b)
        }
      }),
      { numRuns: 2000 },
    )
  })
  it('compresses only the first longest run of two or more zero groups', () => {
    expect(formatIp(parseIp('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3')
    expect(formatIp(parseIp('1:0:0:2:0:0:3:4')!)).toBe('1::2:0:0:3:4')
    expect(formatIp(parseIp('1:0:2:3:4:5:6:7')!)).toBe('1:0:2:3:4:5:6:7')
  })
})

describe('ipScope', () => {
  it.each<[string, IpScope]>([
    ['8.8.8.8', 'global'],
    ['1.1.1.1', 'global'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'global'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'global'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'], // cloud metadata endpoints
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'reserved'],
    ['198.51.100.1', 'documentation'],
    ['203.0.113.1', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.1.1.1', 'private'],
    ['::127.0.0.1', 'reserved'], // IPv4-compatible (deprecated)
    ['64:ff9b::7f00:1', 'loopback'], // NAT64 of 127.0.0.1
    ['64:ff9b::808:808', 'global'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
    ['2002:808:808::1', 'global'],
    ['2001::1', 'reserved'], // Teredo
    ['2001:db8::1', 'documentation'],
    ['2606:4700::1111', 'global'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'], // outside 2000::/3
  ])('%s is %s', (text, scope) => {
    expect(scopeOf(text)).toBe(scope)
  })
})
