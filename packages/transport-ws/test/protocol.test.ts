// The bridge protocol's pure helpers: peer names, tokens, subprotocols, close names.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  bridgeUrl,
  clientSubprotocols,
  closeCodeName,
  formatPeer,
  isValidToken,
  parsePeer,
  BridgeCloseCode,
  BRIDGE_CLOSE_NAMES,
} from '../src/protocol.js'
import { ipToString, ipv6ToString } from '@bitp2p/wire'

describe('parsePeer / formatPeer', () => {
  it('parses host:port, bracketed IPv6 and names', () => {
    expect(parsePeer('203.0.113.5:8333')).toEqual({ host: '203.0.113.5', port: 8333 })
    expect(parsePeer('[2001:DB8::1]:18444')).toEqual({ host: '2001:db8::1', port: 18444 })
    expect(parsePeer('Seed.Example.org:8333')).toEqual({ host: 'seed.example.org', port: 8333 })
    expect(parsePeer('[::ffff:1.2.3.4]:1')).toEqual({ host: '::ffff:1.2.3.4', port: 1 })
  })
  it.each([
    '',
    '8333',
    'host',
    'host:',
    ':8333',
    'host:0',
    'host:65536',
    'host:08333',
    'host:+1',
    '::1:8333', // unbracketed IPv6
    '[::1]8333',
    '[::1]',
    '[fe80::1%eth0]:8333', // zone ids
    '[not:hex:zz]:1',
    '[1.2.3.4]:1', // brackets are for IPv6
    'a b:1',
    'a/b:1',
    'user@host:1',
  ])('refuses %j', (text) => {
    expect(parsePeer(text)).toBeUndefined()
  })
  it('round-trips every IP literal and port', () => {
    const ip = fc.oneof(
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }).filter((b) => !(b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff)),
    )
    fc.assert(
      fc.property(ip, fc.integer({ min: 1, max: 65535 }), (bytes, port) => {
        const peer = { host: bytes.length === 4 ? ipToString(bytes) : ipv6ToString(bytes), port }
        expect(parsePeer(formatPeer(peer))).toEqual(peer)
      }),
    )
  })
  it('formats bracketed or bare hosts the same way', () => {
    expect(formatPeer({ host: '[::1]', port: 1 })).toBe('[::1]:1')
    expect(formatPeer({ host: '::1', port: 1 })).toBe('[::1]:1')
    expect(formatPeer({ host: 'a.example', port: 2 })).toBe('a.example:2')
  })
})

describe('bridgeUrl', () => {
  it('sets the peer parameter and keeps the rest of the URL', () => {
    expect(bridgeUrl('wss://b.example/p2p?region=eu', { host: '::1', port: 18444 })).toBe(
      'wss://b.example/p2p?region=eu&peer=%5B%3A%3A1%5D%3A18444',
    )
    // An existing peer parameter is replaced, not duplicated.
    expect(bridgeUrl('ws://b/?peer=evil:1', { host: '1.2.3.4', port: 8333 })).toBe('ws://b/?peer=1.2.3.4%3A8333')
  })
})

describe('tokens and subprotocols', () => {
  it('accepts base64url-like tokens only', () => {
    expect(isValidToken('abc-DEF_123.~')).toBe(true)
    expect(isValidToken('x'.repeat(256))).toBe(true)
    for (const bad of ['', 'x'.repeat(257), 'a b', 'a,b', 'a/b', 'a=b', 'é']) expect(isValidToken(bad)).toBe(false)
  })
  it('offers v1, refused, then the token', () => {
    expect(clientSubprotocols()).toEqual(['bitp2p.v1', 'bitp2p.refused'])
    expect(clientSubprotocols('t0k')).toEqual(['bitp2p.v1', 'bitp2p.refused', 'bitp2p.token.t0k'])
  })
})

describe('close codes', () => {
  it('gives every BridgeCloseCode a distinct name', () => {
    const codes = Object.values(BridgeCloseCode)
    expect(new Set(codes).size).toBe(codes.length)
    const names = codes.map(closeCodeName)
    expect(new Set(names).size).toBe(codes.length)
    for (const n of names) expect(n).not.toMatch(/^code-/)
    expect(closeCodeName(4001)).toBe('not-allowed')
    expect(closeCodeName(1001)).toBe('going-away')
    expect(closeCodeName(4999)).toBe('code-4999')
    // Private-range codes stay in 4000-4999.
    for (const c of codes) if (c >= 4000) expect(c).toBeLessThan(5000)
    expect(Object.keys(BRIDGE_CLOSE_NAMES).length).toBeGreaterThanOrEqual(codes.length)
  })
})
