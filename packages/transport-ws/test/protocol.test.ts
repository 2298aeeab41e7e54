// The bridge protocol's pure helpers: tokens, subprotocols, close names, the bridge URL
// (the peer parameter's text is @bitp2p/session's formatPeerAddress, tested there).
import { describe, expect, it } from 'vitest'
import {
  bridgeUrl,
  clientSubprotocols,
  closeCodeName,
  isValidToken,
  BridgeCloseCode,
  BRIDGE_CLOSE_NAMES,
} from '../src/protocol.js'

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
