/**
 * IP literals for the bridge's target policy: strict parsing, one canonical
 * text form per address, and the scope of an address (is it on the public
 * Internet, or loopback, private, link-local...?).
 *
 * Pure (no node:*), so it is tested on its own. The text itself is read and
 * written by @bitp2p/wire's netaddr functions; this module adds brackets,
 * the 4-byte form of IPv4 and the scopes. IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) are the IPv4 address: one host has one key in the
 * allowlist, and a mapped loopback is loopback.
 */
import { unbracketHost } from '@bitp2p/session/core'
import { ipFromString, ipToString, WireError } from '@bitp2p/wire'
import { ipv6ToString, isIPv4Mapped } from '@bitp2p/wire/codecs'

/** Where an address lives. Everything but 'global' is refused unless the bridge allows private targets. */
export type IpScope =
  | 'global'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'documentation'
  | 'reserved'

/** A parsed address: 4 bytes (IPv4, including mapped) or 16 bytes (IPv6). */
export type IpBytes = Uint8Array

/** Non-global IPv4 ranges: [first octets, prefix length, scope], checked in order. */
const IPV4_RANGES: ReadonlyArray<readonly [readonly number[], number, IpScope]> = [
  [[0], 8, 'unspecified'], // "this network"
  [[10], 8, 'private'],
  [[100, 64], 10, 'cgnat'], // RFC 6598 shared address space
  [[127], 8, 'loopback'],
  [[169, 254], 16, 'link-local'],
  [[172, 16], 12, 'private'],
  [[192, 0, 0], 24, 'reserved'], // IETF protocol assignments
  [[192, 0, 2], 24, 'documentation'],
  [[192, 88, 99], 24, 'reserved'], // 6to4 relay anycast (deprecated)
  [[192, 168], 16, 'private'],
  [[198, 18], 15, 'reserved'], // benchmarking
  [[198, 51, 100], 24, 'documentation'],
  [[203, 0, 113], 24, 'documentation'],
  [[224], 4, 'multicast'],
  [[240], 4, 'reserved'], // includes 255.255.255.255
]

/** Non-global IPv6 ranges, checked in order, after ::, ::1 and the embedded-IPv4 forms. */
const IPV6_RANGES: ReadonlyArray<readonly [readonly number[], number, IpScope]> = [
  [[0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48, 'private'], // 64:ff9b:1::/48 local-use NAT64
  [[0x00], 8, 'reserved'], // ::/8 other than ::, ::1, mapped (IPv4-compatible, deprecated)
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'reserved'], // 100::/64 discard
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation'],
  [[0x20, 0x01, 0x00], 23, 'reserved'], // IETF protocol assignments, incl. Teredo 2001::/32
  [[0xfc], 7, 'unique-local'],
  [[0xfe, 0x80], 10, 'link-local'],
  [[0xfe, 0xc0], 10, 'private'], // site-local (deprecated)
  [[0xff], 8, 'multicast'],
]

/**
 * Parse an IP literal: dotted-quad IPv4 (no leading zeros, no shorthand)
 * or IPv6 (RFC 4291 text forms, optionally in brackets, with an optional
 * trailing dotted quad). No zone ids. Returns undefined for anything else,
 * including DNS names. The text rules are @bitp2p/wire's `ipFromString`.
 */
export function parseIp(text: string): IpBytes | undefined {
  const s = unbracketHost(text)
  let b: Uint8Array
  try {
    b = ipFromString(s)
  } catch (e) {
    if (e instanceof WireError) return undefined
    throw e
  }
  // ipFromString returns IPv4 mapped; one host has one key, its 4 bytes.
  return isIPv4Mapped(b) ? b.slice(12) : b
}

/**
 * Canonical text: dotted quad for IPv4, RFC 5952 for IPv6 (lowercase,
 * leading zeros dropped, the longest run of two or more zero groups as '::').
 * 16 bytes always print as IPv6, mapped ones too ('::ffff:102:304').
 */
export function formatIp(b: IpBytes): string {
  if (b.length === 4) return ipToString(b)
  if (b.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, got ${b.length}`)
  return ipv6ToString(b)
}

/** The canonical form of an IP literal, or undefined if `text` is not one. */
export function canonicalIp(text: string): string | undefined {
  const b = parseIp(text)
  return b === undefined ? undefined : formatIp(b)
}

/** The scope of an address. IPv4 embedded in NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses is judged as IPv4. */
export function ipScope(b: IpBytes): IpScope {
  if (b.length === 4) return matchRanges(b, IPV4_RANGES)
  if (b.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, got ${b.length}`)
  let zeroPrefix = true
  for (let i = 0; i < 15; i++) if (b[i] !== 0) zeroPrefix = false
  if (zeroPrefix && b[15] === 0) return 'unspecified'
  if (zeroPrefix && b[15] === 1) return 'loopback'
  if (isIPv4Mapped(b)) return matchRanges(b.subarray(12), IPV4_RANGES)
  // 64:ff9b::/96: the gateway would reach the embedded IPv4 address.
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96)) return matchRanges(b.subarray(12), IPV4_RANGES)
  // 2002::/16 (6to4): the relay would reach the embedded IPv4 address.
  if (b[0] === 0x20 && b[1] === 0x02) return matchRanges(b.subarray(2, 6), IPV4_RANGES)
  const special = matchRanges(b, IPV6_RANGES)
  if (special !== 'global') return special
  // Only 2000::/3 is allocated as global unicast.
  return (b[0]! & 0xe0) === 0x20 ? 'global' : 'reserved'
}

function matchRanges(b: Uint8Array, ranges: ReadonlyArray<readonly [readonly number[], number, IpScope]>): IpScope {
  for (const [prefix, bits, scope] of ranges) if (startsWith(b, prefix, bits)) return scope
  return 'global'
}

/** True if the first `bits` bits of `b` equal those of `prefix` (missing prefix bytes are 0). */
function startsWith(b: Uint8Array, prefix: readonly number[], bits: number): boolean {
  const whole = bits >> 3
  for (let i = 0; i < whole; i++) if (b[i] !== (prefix[i] ?? 0)) return false
  const rest = bits & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return ((b[whole]! ^ (prefix[whole] ?? 0)) & mask) === 0
}
