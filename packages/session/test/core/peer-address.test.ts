// "host:port" text: the one formatter and parser (formatPeerAddress, parsePeerAddress).
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ipToString } from '@bitp2p/wire'
import { ipv6ToString } from '@bitp2p/wire/codecs'
import { formatPeerAddress, parsePeerAddress, PeerAddressError, unbracketHost, type PeerAddressErrorCode } from '../../src/core/peer-address.js'

/** The code parsePeerAddress refuses `text` with (fails the test if it does not throw a PeerAddressError). */
function refusal(text: string, defaultPort?: number): PeerAddressErrorCode {
  try {
    parsePeerAddress(text, defaultPort)
  } catch (e) {
    expect(e).toBeInstanceOf(PeerAddressError)
    expect((e as PeerAddressError).input).toBe(text)
    return (e as PeerAddressError).code
  }
  throw new Error(`parsePeerAddress(${JSON.stringify(text)}) did not throw`)
}

const port = fc.integer({ min: 1, max: 65535 })
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => ipToString(b))
// Not IPv4-mapped: ipv6ToString would print those the same way, and ipToString as IPv4.
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ipv6ToString(b))
const label = fc.stringMatching(/^[a-z_][a-z0-9_-]{0,20}$/)
const hostName = fc.array(label, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('.'))
const host = fc.oneof(ipv4, ipv6, hostName)

describe('formatPeerAddress', () => {
  it('writes host:port, an IPv6 literal in brackets', () => {
    expect(formatPeerAddress({ host: '1.2.3.4', port: 8333 })).toBe('1.2.3.4:8333')
    expect(formatPeerAddress({ host: '::1', port: 18444 })).toBe('[::1]:18444')
    expect(formatPeerAddress({ host: 'seed.example.org', port: 8333 })).toBe('seed.example.org:8333')
  })
  it('keeps one pair of brackets around a host given in brackets', () => {
    expect(formatPeerAddress({ host: '[::1]', port: 1 })).toBe('[::1]:1')
    expect(unbracketHost('[::1]')).toBe('::1')
    expect(unbracketHost('::1')).toBe('::1')
    expect(unbracketHost('[')).toBe('[')
  })
})

describe('parsePeerAddress', () => {
  it('reads IPv4, bracketed IPv6 and host names, hosts in lower case', () => {
    expect(parsePeerAddress('203.0.113.5:8333')).toEqual({ host: '203.0.113.5', port: 8333 })
    expect(parsePeerAddress('[2001:DB8::1]:18444')).toEqual({ host: '2001:db8::1', port: 18444 })
    expect(parsePeerAddress('[::ffff:1.2.3.4]:1')).toEqual({ host: '::ffff:1.2.3.4', port: 1 })
    expect(parsePeerAddress('Seed.Example.org:8333')).toEqual({ host: 'seed.example.org', port: 8333 })
    expect(parsePeerAddress('localhost:65535')).toEqual({ host: 'localhost', port: 65535 })
    expect(parsePeerAddress('bitcoind_1:18444')).toEqual({ host: 'bitcoind_1', port: 18444 })
  })

  it('uses the default port when the text has none, and refuses the text without one', () => {
    expect(parsePeerAddress('1.2.3.4', 8333)).toEqual({ host: '1.2.3.4', port: 8333 })
    expect(parsePeerAddress('[::1]', 18444)).toEqual({ host: '::1', port: 18444 })
    expect(parsePeerAddress('node.example', 8333)).toEqual({ host: 'node.example', port: 8333 })
    expect(parsePeerAddress('1.2.3.4:1', 8333)).toEqual({ host: '1.2.3.4', port: 1 })
    expect(refusal('1.2.3.4')).toBe('MISSING_PORT')
    expect(refusal('[::1]')).toBe('MISSING_PORT')
    expect(refusal('node.example')).toBe('MISSING_PORT')
  })

  it('refuses a default port out of range, whatever the text', () => {
    expect(refusal('1.2.3.4:1', 0)).toBe('PORT_OUT_OF_RANGE')
    expect(refusal('1.2.3.4', 65536)).toBe('PORT_OUT_OF_RANGE')
    expect(refusal('1.2.3.4', 1.5)).toBe('PORT_OUT_OF_RANGE')
  })

  it.each<[string, PeerAddressErrorCode]>([
    ['', 'EMPTY'],
    // IPv6 without brackets is ambiguous: '::1:8333' could be ::1 port 8333 or ::1:8333 without a port.
    ['::1', 'UNBRACKETED_IPV6'],
    ['::1:8333', 'UNBRACKETED_IPV6'],
    ['2001:db8::1', 'UNBRACKETED_IPV6'],
    ['a:1:2', 'UNBRACKETED_IPV6'],
    // Ports.
    ['host:0', 'PORT_OUT_OF_RANGE'],
    ['host:65536', 'PORT_OUT_OF_RANGE'],
    ['host:99999999999999999999', 'PORT_OUT_OF_RANGE'],
    ['[::1]:0', 'PORT_OUT_OF_RANGE'],
    ['host:', 'BAD_PORT'],
    ['host:08333', 'BAD_PORT'],
    ['host:+1', 'BAD_PORT'],
    ['host:-1', 'BAD_PORT'],
    ['host:1e3', 'BAD_PORT'],
    ['host:0x10', 'BAD_PORT'],
    ['host:port', 'BAD_PORT'],
    ['host:1 ', 'BAD_PORT'],
    ['[::1]8333', 'BAD_PORT'],
    ['[::1]:', 'BAD_PORT'],
    // Hosts.
    [':8333', 'BAD_HOST'],
    ['[]:8333', 'BAD_HOST'],
    ['[::1:8333', 'BAD_HOST'],
    ['[fe80::1%eth0]:8333', 'BAD_HOST'],
    ['[not:hex:zz]:1', 'BAD_HOST'],
    ['[1.2.3.4]:1', 'BAD_HOST'],
    ['[host]:1', 'BAD_HOST'],
    ['1.2.3.256:1', 'BAD_HOST'],
    ['1.2.3:1', 'BAD_HOST'],
    ['01.2.3.4:1', 'BAD_HOST'],
    ['a..b:1', 'BAD_HOST'],
    ['.a:1', 'BAD_HOST'],
    ['a.:1', 'BAD_HOST'],
    ['a b:1', 'BAD_HOST'],
    [' 1.2.3.4:1', 'BAD_HOST'],
    ['\t1.2.3.4:1', 'BAD_HOST'],
    ['a/b:1', 'BAD_HOST'],
    ['user@host:1', 'BAD_HOST'],
    ['h\u00e9te:1', 'BAD_HOST'],
    [`${'a'.repeat(64)}.example:1`, 'BAD_HOST'],
    [`${'a.'.repeat(127)}ab:1`, 'BAD_HOST'],
  ])('refuses %j (%s)', (text, code) => {
    expect(refusal(text)).toBe(code)
  })

  it('says what is wrong in words, quoting at most 64 characters of the text', () => {
    const e = (() => {
      try {
        parsePeerAddress('127.0.0.1')
      } catch (err) {
        return err as PeerAddressError
      }
    })()
    expect(e).toMatchObject({ name: 'PeerAddressError', code: 'MISSING_PORT', input: '127.0.0.1', reason: 'no port' })
    expect(e?.message).toBe("'127.0.0.1' is not a peer address: no port")
    const long = `${'a'.repeat(300)}:1`
    expect(() => parsePeerAddress(long)).toThrow(`'${'a'.repeat(64)}...' is not a peer address: a host longer than 253 characters`)
    expect(() => parsePeerAddress('[::1]:0')).toThrow(/port 0 is not in 1-65535$/)
  })

  it('accepts a host name of 253 characters, not 254', () => {
    const name = `${'a.'.repeat(126)}a`
    expect(name.length).toBe(253)
    expect(parsePeerAddress(`${name}:1`)).toEqual({ host: name, port: 1 })
    expect(refusal(`${name}b:1`)).toBe('BAD_HOST')
  })

  it('throws nothing but PeerAddressError, with a bounded message, on any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.option(port, { nil: undefined }), (text, def) => {
        try {
          const a = parsePeerAddress(text, def)
          expect(a.port).toBeGreaterThanOrEqual(1)
          expect(a.port).toBeLessThanOrEqual(65535)
          expect(a.host.length).toBeGreaterThan(0)
        } catch (e) {
          expect(e).toBeInstanceOf(PeerAddressError)
          expect((e as PeerAddressError).message.length).toBeLessThan(200)
        }
      }),
    )
  })
})

describe('format and parse', () => {
  it('parse(format(a)) is a for IPv4, IPv6 and host names', () => {
    fc.assert(
      fc.property(host, port, (h, p) => {
        expect(parsePeerAddress(formatPeerAddress({ host: h, port: p }))).toEqual({ host: h, port: p })
      }),
    )
  })
  it('format(parse(text)) is the text, in lower case', () => {
    fc.assert(
      fc.property(host, port, fc.boolean(), (h, p, upper) => {
        const text = formatPeerAddress({ host: upper ? h.toUpperCase() : h, port: p })
        expect(formatPeerAddress(parsePeerAddress(text))).toBe(text.toLowerCase())
      }),
    )
  })
})
