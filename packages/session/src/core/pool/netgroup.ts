/**
 * Peer addresses as the pool keeps them, and the network group of each.
 *
 * An `Endpoint` is one reachable place on one BIP155 network: IPv4 (4
 * bytes), IPv6 (16), Tor v3 (32-byte public key), I2P (32-byte hash) or
 * CJDNS (16 bytes in fc00::/8), plus a port. Legacy `addr` entries (16-byte
 * hosts), `addrv2` entries and text `PeerAddress`es all normalise to it, so
 * an IPv4 address is the same endpoint whichever message carried it.
 *
 * The network group follows the idea of Core's NetGroupManager::GetGroup:
 * addresses an attacker can obtain cheaply together fall into one group.
 * - IPv4: the /16.
 * - IPv6: the /32 (Hurricane Electric's tunnel range 2001:470::/32 at /36,
 *   since one user can get a /48 there for free). IPv6 forms that embed an
 *   IPv4 address (6to4, Teredo, NAT64) take the group of that IPv4, so a
 *   tunnel does not escape the /16.
 * - Tor, I2P: the first 4 bits (the bytes are a key or hash, all alike).
 * - CJDNS: the constant fc byte and the next 4 bits.
 * - Local and unroutable addresses: one group each.
 * A source we only know by DNS name (a seed) gets a group from its name.
 *
 * A group is bytes: a class byte (the BIP155 network id, or one of the
 * GROUP_CLASS_* values) then the prefix, with unused trailing bits zero.
 */
import { BIP155Network, WireError, addrV2FromString, addrV2ToString } from '@bitp2p/wire'
import { bip155AddressLength, ipv4Mapped, isIPv4Mapped } from '@bitp2p/wire/codecs'
import { sha256 } from '@bitp2p/wire/hash'
import type { NetAddress, TimestampedNetAddress } from '@bitp2p/wire'
import type { AddrV2Entry } from '@bitp2p/wire/messages'
import { unbracketHost } from '../peer-address.js'
import type { PeerAddress } from '../ports.js'

/** Group class of loopback and "this host" addresses (127/8, 0/8, ::1, ::). */
export const GROUP_CLASS_LOCAL = 0xfe
/** Group class of every other address we will not connect to (private, reserved, documentation...). */
export const GROUP_CLASS_UNROUTABLE = 0xff
/** Group class of a source known only by its DNS name; the prefix is 4 bytes of SHA-256 of the lower-cased name. */
export const GROUP_CLASS_NAME = 0xfd
/** Longest group: class byte + 5 prefix bytes (HE.net /36). */
export const MAX_GROUP_BYTES = 6

/** One address on one BIP155 network, with its port. */
export interface Endpoint {
  /** BIP155 network id: IPV4, IPV6, TORV3, I2P or CJDNS. */
  readonly network: number
  /** Address bytes of the network's length (IPv4 as 4 bytes, never mapped). */
  readonly bytes: Uint8Array
  /** TCP port, 0..65535. */
  readonly port: number
}

/** Anything that names a peer: an endpoint, a legacy NetAddress, an addrv2 entry, or host text and port. */
export type AddressLike = Endpoint | NetAddress | AddrV2Entry | PeerAddress

/** Networks an Endpoint may be on (Tor v2 and unknown ids are refused). */
const ENDPOINT_NETWORKS: readonly number[] = [BIP155Network.IPV4, BIP155Network.IPV6, BIP155Network.TORV3, BIP155Network.I2P, BIP155Network.CJDNS]

/** Short lower-case name of a BIP155 network, used in keys ('ipv4', 'onion', ...). */
export function networkName(network: number): string {
  switch (network) {
    case BIP155Network.IPV4:
      return 'ipv4'
    case BIP155Network.IPV6:
      return 'ipv6'
    case BIP155Network.TORV2:
      return 'onionv2'
    case BIP155Network.TORV3:
      return 'onion'
    case BIP155Network.I2P:
      return 'i2p'
    case BIP155Network.CJDNS:
      return 'cjdns'
    default:
      return `net${network}`
  }
}

/** True when `ep` has a supported network, the network's byte length, and a port in 0..65535. */
export function isValidEndpoint(ep: Endpoint): boolean {
  if (!ENDPOINT_NETWORKS.includes(ep.network)) return false
  if (ep.bytes.length !== bip155AddressLength(ep.network)) return false
  if (ep.network === BIP155Network.CJDNS && ep.bytes[0] !== 0xfc) return false
  return Number.isInteger(ep.port) && ep.port >= 0 && ep.port <= 0xffff
}

// ---------------------------------------------------------------------------
// Conversions

/** The endpoint of a legacy 16-byte address: IPv4-mapped becomes IPV4, the rest IPV6. */
export function endpointFromNetAddress(a: NetAddress): Endpoint {
  if (a.host.length !== 16) {
    throw new WireError('INVALID_VALUE', `a legacy host is 16 bytes, got ${a.host.length}`, { expected: 16, actual: a.host.length })
  }
  if (isIPv4Mapped(a.host)) return { network: BIP155Network.IPV4, bytes: a.host.slice(12), port: a.port }
  return { network: BIP155Network.IPV6, bytes: a.host.slice(), port: a.port }
}

/** The endpoint of an addrv2 entry (bytes copied). */
export function endpointFromAddrV2(e: AddrV2Entry): Endpoint {
  return { network: e.networkId, bytes: e.addr.slice(), port: e.port }
}

/**
 * The endpoint of host text and port: an IP literal (IPv6 optionally in
 * brackets), a Tor v3 .onion or an I2P .b32.i2p name. Undefined for a DNS
 * name or anything else that is not an address.
 */
export function endpointFromPeerAddress(p: PeerAddress): Endpoint | undefined {
  try {
    const h = addrV2FromString(unbracketHost(p.host))
    return { network: h.networkId, bytes: h.addr, port: p.port }
  } catch {
    return undefined
  }
}

/** Normalise any AddressLike to an endpoint; undefined when it names no address (a DNS name). */
export function toEndpoint(a: AddressLike): Endpoint | undefined {
  if ('network' in a) return a
  if ('networkId' in a) return endpointFromAddrV2(a)
  if (typeof a.host === 'string') return endpointFromPeerAddress(a as PeerAddress)
  return endpointFromNetAddress(a as NetAddress)
}

/** Host text and port for a connector: dotted IPv4, RFC 5952 IPv6, or the .onion / .b32.i2p name. */
export function endpointToPeerAddress(ep: Endpoint): PeerAddress {
  return { host: addrV2ToString(ep.network, ep.bytes), port: ep.port }
}

/** An addrv2 entry for an endpoint (for answering getaddr with addrv2). */
export function endpointToAddrV2(ep: Endpoint, services: bigint, time: number): AddrV2Entry {
  return { time, services, networkId: ep.network, addr: ep.bytes, port: ep.port }
}

/**
 * A legacy `addr` entry for an endpoint, or undefined when the network has
 * no 16-byte form (Tor v3, I2P; CJDNS is sent as addrv2 only, as Core does).
 */
export function endpointToNetAddress(ep: Endpoint, services: bigint, time: number): TimestampedNetAddress | undefined {
  if (ep.network === BIP155Network.IPV4) return { time, services, host: ipv4Mapped(ep.bytes), port: ep.port }
  if (ep.network === BIP155Network.IPV6) return { time, services, host: ep.bytes, port: ep.port }
  return undefined
}

/** True when two endpoints are the same network, bytes and port. */
export function endpointsEqual(a: Endpoint, b: Endpoint): boolean {
  if (a.network !== b.network || a.port !== b.port || a.bytes.length !== b.bytes.length) return false
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false
  return true
}

/**
 * A stable text key for an endpoint: 'ipv4:1.2.3.4:8333',
 * 'ipv6:[2001:db8::1]:8333', 'onion:<name>.onion:8333'. Equal endpoints give
 * equal keys and different ones different keys.
 */
export function endpointKey(ep: Endpoint): string {
  return `${hostKey(ep)}:${ep.port}`
}

/** The key of an endpoint without its port ('ipv4:1.2.3.4'): bans and per-host state ignore the port. */
export function hostKey(ep: Endpoint): string {
  const text = addrV2ToString(ep.network, ep.bytes)
  const host = ep.network === BIP155Network.IPV6 || ep.network === BIP155Network.CJDNS ? `[${text}]` : text
  return `${networkName(ep.network)}:${host}`
}

/** Compact bytes of an endpoint: network id, address bytes, port (big-endian). Used as hash input. */
export function endpointBytes(ep: Endpoint): Uint8Array {
  const out = new Uint8Array(ep.bytes.length + 3)
  out[0] = ep.network
  out.set(ep.bytes, 1)
  out[ep.bytes.length + 1] = ep.port >> 8
  out[ep.bytes.length + 2] = ep.port & 0xff
  return out
}

// ---------------------------------------------------------------------------
// Routability

/** A prefix of `bits` bits; `name` says which RFC reserves it. */
interface Range {
  readonly prefix: readonly number[]
  readonly bits: number
  readonly name: string
}

/** IPv4 "this host" and loopback: Core's IsLocal. */
const IPV4_LOCAL: readonly Range[] = [
  { prefix: [0], bits: 8, name: 'this network (RFC 1122)' },
  { prefix: [127], bits: 8, name: 'loopback' },
]

/**
 * IPv4 ranges never reachable on the public internet. Core's list (RFC 1918,
 * 2544, 3927, 5737, 6598) plus multicast and the reserved 240/4 (ours: Core
 * rejects only the broadcast address there).
 */
const IPV4_UNROUTABLE: readonly Range[] = [
  { prefix: [10], bits: 8, name: 'RFC 1918' },
  { prefix: [172, 16], bits: 12, name: 'RFC 1918' },
  { prefix: [192, 168], bits: 16, name: 'RFC 1918' },
  { prefix: [100, 64], bits: 10, name: 'RFC 6598 shared address space' },
  { prefix: [169, 254], bits: 16, name: 'RFC 3927 link-local' },
  { prefix: [198, 18], bits: 15, name: 'RFC 2544 benchmarking' },
  { prefix: [192, 0, 2], bits: 24, name: 'RFC 5737 documentation' },
  { prefix: [198, 51, 100], bits: 24, name: 'RFC 5737 documentation' },
  { prefix: [203, 0, 113], bits: 24, name: 'RFC 5737 documentation' },
  { prefix: [224], bits: 4, name: 'multicast' },
  { prefix: [240], bits: 4, name: 'reserved and broadcast' },
]

/** IPv6 ranges never reachable on the public internet (Core's list plus multicast). */
const IPV6_UNROUTABLE: readonly Range[] = [
  { prefix: [0xfe, 0x80], bits: 10, name: 'RFC 4862 link-local' },
  { prefix: [0xfc], bits: 7, name: 'RFC 4193 unique local (also Tor v2 OnionCat and Core internal)' },
  { prefix: [0x20, 0x01, 0x00, 0x10], bits: 28, name: 'RFC 4843 ORCHID' },
  { prefix: [0x20, 0x01, 0x00, 0x20], bits: 28, name: 'RFC 7343 ORCHIDv2' },
  { prefix: [0x20, 0x01, 0x0d, 0xb8], bits: 32, name: 'RFC 3849 documentation' },
  { prefix: [0xff], bits: 8, name: 'multicast' },
]

function inRange(bytes: Uint8Array, r: Range): boolean {
  let bits = r.bits
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if ((bytes[i]! & mask) !== (r.prefix[i]! & mask)) return false
  }
  return true
}

function isZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false
  return true
}

/** True for loopback and "this host" addresses (127/8, 0/8, ::1, ::). */
export function isLocalEndpoint(ep: Endpoint): boolean {
  if (ep.network === BIP155Network.IPV4) return IPV4_LOCAL.some((r) => inRange(ep.bytes, r))
  if (ep.network === BIP155Network.IPV6) return isZero(ep.bytes, 0, 15) && (ep.bytes[15] === 1 || ep.bytes[15] === 0)
  return false
}

/**
 * True when the address could be a peer on the public networks: a valid
 * endpoint that is not local, private, reserved or documentation space.
 * Tor, I2P and CJDNS addresses are routable on their own networks.
 * The port is not judged here (the address book refuses port 0 itself).
 */
export function isRoutable(ep: Endpoint): boolean {
  if (!isValidEndpoint(ep) || isLocalEndpoint(ep)) return false
  if (ep.network === BIP155Network.IPV4) return !IPV4_UNROUTABLE.some((r) => inRange(ep.bytes, r))
  if (ep.network === BIP155Network.IPV6) {
    // An IPv4-mapped address carried as IPv6 is a malformed duplicate of an IPv4 one.
    if (isIPv4Mapped(ep.bytes)) return false
    return !IPV6_UNROUTABLE.some((r) => inRange(ep.bytes, r))
  }
  return true
}

// ---------------------------------------------------------------------------
// Groups

/** 6to4 (RFC 3056): 2002:AABB:CCDD::/48 carries IPv4 AA.BB.CC.DD. */
const RANGE_6TO4: Range = { prefix: [0x20, 0x02], bits: 16, name: 'RFC 3056 6to4' }
/** Teredo (RFC 4380): 2001:0::/32, the client IPv4 is the last 4 bytes inverted. */
const RANGE_TEREDO: Range = { prefix: [0x20, 0x01, 0x00, 0x00], bits: 32, name: 'RFC 4380 Teredo' }
/** NAT64 well-known prefix (RFC 6052): 64:ff9b::/96, IPv4 in the last 4 bytes. */
const RANGE_NAT64: Range = { prefix: [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], bits: 96, name: 'RFC 6052 NAT64' }
/** Hurricane Electric's tunnel broker range, grouped at /36 instead of /32. */
const RANGE_HENET: Range = { prefix: [0x20, 0x01, 0x04, 0x70], bits: 32, name: 'Hurricane Electric' }

/** The IPv4 address embedded in a 6to4, Teredo or NAT64 IPv6 address, if any. */
function embeddedIPv4(b: Uint8Array): Uint8Array | undefined {
  if (inRange(b, RANGE_6TO4)) return b.slice(2, 6)
  if (inRange(b, RANGE_TEREDO)) return b.slice(12, 16).map((x) => x ^ 0xff)
  if (inRange(b, RANGE_NAT64)) return b.slice(12, 16)
  return undefined
}

/** Group bytes: class, then the first `bits` bits of `bytes` (trailing bits of the last byte zeroed). */
function prefixGroup(cls: number, bytes: Uint8Array, bits: number): Uint8Array {
  const n = Math.ceil(bits / 8)
  const out = new Uint8Array(1 + n)
  out[0] = cls
  for (let i = 0; i < n; i++) {
    const keep = Math.min(8, bits - i * 8)
    out[1 + i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff)
  }
  return out
}

/**
 * The network group of an address (see the module doc). Addresses in one
 * group are treated as one operator: the address book spreads them over a
 * bounded number of buckets.
 */
export function netGroup(ep: Endpoint): Uint8Array {
  if (isLocalEndpoint(ep)) return Uint8Array.of(GROUP_CLASS_LOCAL)
  if (!isRoutable(ep)) return Uint8Array.of(GROUP_CLASS_UNROUTABLE)
  switch (ep.network) {
    case BIP155Network.IPV4:
      return prefixGroup(BIP155Network.IPV4, ep.bytes, 16)
    case BIP155Network.IPV6: {
      const v4 = embeddedIPv4(ep.bytes)
      if (v4) return prefixGroup(BIP155Network.IPV4, v4, 16)
      return prefixGroup(BIP155Network.IPV6, ep.bytes, inRange(ep.bytes, RANGE_HENET) ? 36 : 32)
    }
    case BIP155Network.CJDNS:
      return prefixGroup(BIP155Network.CJDNS, ep.bytes, 12)
    default:
      // Tor v3 and I2P: 4 bits of a key or hash.
      return prefixGroup(ep.network, ep.bytes, 4)
  }
}

const TEXT = new TextEncoder()

/** The group of a source known only by DNS name: class GROUP_CLASS_NAME and 4 bytes of SHA-256(lower-case name). */
export function nameGroup(name: string): Uint8Array {
  const out = new Uint8Array(5)
  out[0] = GROUP_CLASS_NAME
  out.set(sha256(TEXT.encode(name.toLowerCase())).subarray(0, 4), 1)
  return out
}

/** The group of whoever told us about an address: its network group, or its name group for a DNS name. */
export function sourceGroup(source: AddressLike): Uint8Array {
  const ep = toEndpoint(source)
  if (ep) return netGroup(ep)
  return nameGroup((source as PeerAddress).host)
}

/** Readable text of group bytes, e.g. 'ipv4:1.2', 'ipv6:2001:db8', 'onion:a0', 'local'. For logs and tests. */
export function groupToString(group: Uint8Array): string {
  const cls = group[0]
  if (cls === GROUP_CLASS_LOCAL) return 'local'
  if (cls === GROUP_CLASS_UNROUTABLE) return 'unroutable'
  const rest = group.subarray(1)
  if (cls === BIP155Network.IPV4) return `ipv4:${Array.from(rest).join('.')}`
  const hex = Array.from(rest, (b) => b.toString(16).padStart(2, '0')).join('')
  if (cls === GROUP_CLASS_NAME) return `name:${hex}`
  if (cls === BIP155Network.IPV6) return `ipv6:${hex.slice(0, 4)}:${hex.slice(4)}`
  return `${networkName(cls ?? 0)}:${hex}`
}
