/**
 * addrv2 / sendaddrv2 (BIP155): address gossip for networks whose addresses
 * do not fit the 16 bytes of `addr` (Tor v3, I2P, CJDNS).
 *
 * `sendaddrv2` is empty and, sent before verack, asks for addrv2 instead of
 * addr. Each addrv2 entry is:
 *   u32 time | CompactSize services | u8 network id | CompactSize length
 *   | address bytes | u16 port (big-endian)
 *
 * Validation follows Core's CNetAddr::UnserializeV2Stream:
 * - an address longer than MAX_ADDRV2_SIZE is OVERSIZE (Core throws);
 * - a supported network (all but Tor v2) with the wrong address length is
 *   INVALID_VALUE (Core throws, failing the whole message);
 * - entries Core reads but deems invalid are dropped and counted in
 *   `skipped`, never fatal: unknown network ids (BIP155: "ignore"), Tor v2
 *   of any length (Core 22+ treats it as unknown), CJDNS not in fc00::/8, and IPv6
 *   carrying an IPv4-mapped or Tor-v2 prefix (those must use their own id).
 *
 * Dropped entries are kept aside in `skippedEntries`, each with its position
 * in the message, so a decoded addrv2 re-encodes to the bytes received
 * (relaying or re-serializing never loses them). A message built by hand
 * leaves that field out.
 */
import { sha3_256 } from '@noble/hashes/sha3.js'
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { compactSizeLength } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import { MAX_ADDR_TO_SEND } from './addr.js'
import { type Codec, emptyCodec } from './codec.js'
import { ipFromString, ipToString, isIPv4Mapped, ipv6ToString } from './netaddr.js'

/** Core's MAX_ADDRV2_SIZE: longest address (bytes) of any network, known or not. */
export const MAX_ADDRV2_SIZE = 512

/** BIP155 network ids. */
export const BIP155Network = {
  IPV4: 1,
  IPV6: 2,
  /** Deprecated: Tor v2 onion services no longer exist; entries of any length are skipped. */
  TORV2: 3,
  TORV3: 4,
  I2P: 5,
  CJDNS: 6,
} as const

/** Address length of each known network id (BIP155 table). */
export function bip155AddressLength(networkId: number): number | undefined {
  switch (networkId) {
    case BIP155Network.IPV4:
      return 4
    case BIP155Network.IPV6:
      return 16
    case BIP155Network.TORV2:
      return 10
    case BIP155Network.TORV3:
      return 32
    case BIP155Network.I2P:
      return 32
    case BIP155Network.CJDNS:
      return 16
    default:
      return undefined
  }
}

/** Smallest entry: time 4, services 1, network 1, length 1, port 2. */
export const MIN_ADDRV2_ENTRY_BYTES = 9
/** Largest entry: time 4, services 9, network 1, length 3, address 512, port 2. */
export const MAX_ADDRV2_ENTRY_BYTES = 4 + 9 + 1 + compactSizeLength(MAX_ADDRV2_SIZE) + MAX_ADDRV2_SIZE + 2
/** Largest addrv2 payload: MAX_ADDR_TO_SEND entries of the largest size. */
export const MAX_ADDRV2_PAYLOAD = compactSizeLength(MAX_ADDR_TO_SEND) + MAX_ADDR_TO_SEND * MAX_ADDRV2_ENTRY_BYTES

/** One address as addrv2 carries it. */
export interface AddrV2Entry {
  /** Unix time in seconds (u32) the address was last seen. */
  readonly time: number
  /** Service flags (u64, a CompactSize on the wire). */
  readonly services: bigint
  /** A BIP155Network id. */
  readonly networkId: number
  /** The address bytes, of the network's length. */
  readonly addr: Uint8Array
  readonly port: number
}

/** An addrv2 entry the decoder read but does not offer as usable (see the module doc), and where it was. */
export interface AddrV2SkippedEntry extends AddrV2Entry {
  /** Its index among all the message's entries, usable and skipped, in wire order. */
  readonly position: number
}

/** addrv2: up to MAX_ADDR_TO_SEND addresses of any BIP155 network. */
export interface Addrv2Message {
  readonly command: 'addrv2'
  /** The usable entries, in wire order. */
  readonly addresses: readonly AddrV2Entry[]
  /** How many entries were read but dropped (unknown network, Tor v2, invalid, see module doc). Not encoded. */
  readonly skipped: number
  /**
   * The dropped entries themselves, in wire order; set by the decoder only
   * when there are any. The encoder writes them back at their positions
   * (or after the usable ones when `addresses` has become shorter), so a
   * decoded message re-encodes as received.
   */
  readonly skippedEntries?: readonly AddrV2SkippedEntry[]
}

/** sendaddrv2: please gossip addresses to me with addrv2. */
export interface Sendaddrv2Message {
  readonly command: 'sendaddrv2'
}

/** Tor v2's IPv6 prefix (OnionCat), refused inside a BIP155 IPv6 address like IPv4-mapped ones. */
const TORV2_IN_IPV6_PREFIX = [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43] as const
/** Every CJDNS address is in fc00::/8. */
const CJDNS_PREFIX = 0xfc

function hasPrefix(a: Uint8Array, p: readonly number[]): boolean {
  for (let i = 0; i < p.length; i++) if (a[i] !== p[i]) return false
  return true
}

/**
 * True when an entry of a network and length we accept is still one Core
 * would mark invalid (and we drop). Length is already checked.
 */
function isUnusable(networkId: number, addr: Uint8Array): boolean {
  switch (networkId) {
    case BIP155Network.IPV4:
    case BIP155Network.TORV3:
    case BIP155Network.I2P:
      return false
    case BIP155Network.IPV6:
      return isIPv4Mapped(addr) || hasPrefix(addr, TORV2_IN_IPV6_PREFIX)
    case BIP155Network.CJDNS:
      return addr[0] !== CJDNS_PREFIX
    default:
      // TORV2 and unknown ids.
      return true
  }
}

/** A CompactSize read as a full u64 (bigint), shortest form required. Core reads services this way. */
function compactSizeU64(r: ByteReader): bigint {
  const start = r.offset
  const first = r.u8()
  if (first < 0xfd) return BigInt(first)
  let v: bigint
  let min: bigint
  if (first === 0xfd) {
    v = BigInt(r.u16le())
    min = 0xfdn
  } else if (first === 0xfe) {
    v = BigInt(r.u32le())
    min = 0x10000n
  } else {
    v = r.u64le()
    min = 0x100000000n
  }
  if (v < min) throw new WireError('NON_CANONICAL', `CompactSize ${v} not in shortest form`, { offset: start, actual: v })
  return v
}

/** Throws ENCODE_RANGE unless the entry is one our decoder would keep. */
function checkEncodable(e: AddrV2Entry): void {
  const len = bip155AddressLength(e.networkId)
  if (len === undefined || e.networkId === BIP155Network.TORV2) {
    throw new WireError('ENCODE_RANGE', `addrv2: cannot encode network id ${e.networkId}`, { actual: e.networkId })
  }
  if (e.addr.length !== len) {
    throw new WireError('ENCODE_RANGE', `addrv2: network ${e.networkId} address must be ${len} bytes, got ${e.addr.length}`, {
      expected: len,
      actual: e.addr.length,
    })
  }
  if (isUnusable(e.networkId, e.addr)) {
    throw new WireError('ENCODE_RANGE', `addrv2: address is not valid for network ${e.networkId}`, { actual: e.networkId })
  }
}

/**
 * Throws ENCODE_RANGE unless the entry is one our decoder would skip: its
 * address no longer than MAX_ADDRV2_SIZE, of the right length for a known
 * network, and unusable (see isUnusable).
 */
function checkSkippable(e: AddrV2Entry): void {
  const len = bip155AddressLength(e.networkId)
  const known = len !== undefined && e.networkId !== BIP155Network.TORV2
  if (e.addr.length > MAX_ADDRV2_SIZE || (known && e.addr.length !== len) || (known && !isUnusable(e.networkId, e.addr))) {
    throw new WireError('ENCODE_RANGE', `addrv2: skipped entry of network ${e.networkId} (${e.addr.length} bytes) is not one the decoder skips`, {
      field: 'skippedEntries',
      actual: e.networkId,
    })
  }
}

function writeEntry(w: ByteWriter, e: AddrV2Entry): void {
  w.u32le(e.time).compactSize(e.services).u8(e.networkId).varBytes(e.addr).u16be(e.port)
}

/** addrv2 (BIP155): usable entries in `addresses`, dropped ones counted in `skipped` and kept in `skippedEntries`. */
export const addrv2Codec: Codec<Addrv2Message> = {
  command: 'addrv2',
  maxPayload: () => MAX_ADDRV2_PAYLOAD,
  encode(w: ByteWriter, m: Addrv2Message) {
    const skipped = m.skippedEntries ?? []
    const total = m.addresses.length + skipped.length
    if (total > MAX_ADDR_TO_SEND) {
      throw new WireError('ENCODE_RANGE', `addrv2: ${total} entries exceeds ${MAX_ADDR_TO_SEND}`, {
        field: 'MAX_ADDR_TO_SEND',
        limit: MAX_ADDR_TO_SEND,
        actual: total,
      })
    }
    for (const e of m.addresses) checkEncodable(e)
    for (const e of skipped) checkSkippable(e)
    w.compactSize(total)
    // Merge in wire order: a skipped entry goes out when its position comes
    // up, or once the usable entries run out.
    let a = 0
    let s = 0
    for (let k = 0; k < total; k++) {
      if (s < skipped.length && (skipped[s]!.position <= k || a === m.addresses.length)) writeEntry(w, skipped[s++]!)
      else writeEntry(w, m.addresses[a++]!)
    }
  },
  decode(r: ByteReader): Addrv2Message {
    const n = r.count(MAX_ADDR_TO_SEND, 'addrv2 entries', MIN_ADDRV2_ENTRY_BYTES)
    const addresses: AddrV2Entry[] = []
    const skippedEntries: AddrV2SkippedEntry[] = []
    for (let i = 0; i < n; i++) {
      const time = r.u32le()
      const services = compactSizeU64(r)
      const networkId = r.u8()
      // Core's order: the size limit, then the network's length, then the bytes.
      const lenAt = r.offset
      const len = r.compactSize()
      if (len > MAX_ADDRV2_SIZE) {
        throw new WireError('OVERSIZE', `addrv2 address too long: ${len} > ${MAX_ADDRV2_SIZE}`, {
          field: 'MAX_ADDRV2_SIZE',
          offset: lenAt,
          limit: MAX_ADDRV2_SIZE,
          actual: len,
        })
      }
      // Core no longer knows Tor v2: like an unknown id, any length is dropped.
      const expected = networkId === BIP155Network.TORV2 ? undefined : bip155AddressLength(networkId)
      if (expected !== undefined && len !== expected) {
        throw new WireError('INVALID_VALUE', `BIP155 network ${networkId} address with length ${len} (should be ${expected})`, {
          field: 'addrv2 address',
          offset: lenAt,
          expected,
          actual: len,
        })
      }
      // copy() checks the bytes are present before slicing.
      const addr = r.copy(len, 'addrv2 address')
      const port = r.u16be()
      if (expected === undefined || isUnusable(networkId, addr)) skippedEntries.push({ position: i, time, services, networkId, addr, port })
      else addresses.push({ time, services, networkId, addr, port })
    }
    if (skippedEntries.length === 0) return { command: 'addrv2', addresses, skipped: 0 }
    return { command: 'addrv2', addresses, skipped: skippedEntries.length, skippedEntries }
  },
}

/** sendaddrv2: empty; asks the peer to gossip addresses with addrv2. */
export const sendaddrv2Codec: Codec<Sendaddrv2Message> = emptyCodec('sendaddrv2')

// ---------------------------------------------------------------------------
// Text forms

/** RFC 4648 base32 alphabet, lower case as Tor and I2P print it. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** Unpadded lower-case base32. */
function base32Encode(bytes: Uint8Array): string {
  let out = ''
  let acc = 0
  let bits = 0
  for (let i = 0; i < bytes.length; i++) {
    acc = ((acc << 8) | bytes[i]!) & 0xfff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += BASE32[(acc >> bits) & 31]
    }
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31]
  return out
}

/** Unpadded base32 (either case) to bytes; undefined if a character is invalid or spare bits are set. */
function base32Decode(text: string): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8))
  let acc = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < text.length; i++) {
    const v = BASE32.indexOf(text[i]!.toLowerCase())
    if (v < 0) return undefined
    acc = ((acc << 5) | v) & 0xfff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  // Leftover bits must be zero padding, so each address has one spelling.
  if (bits >= 5 || (acc & ((1 << bits) - 1)) !== 0) return undefined
  return out
}

/** Tor v3 address version byte. */
export const TORV3_VERSION = 3
const TORV3_CHECKSUM_PREFIX = '.onion checksum'
const textEncoder = new TextEncoder()

/** Tor rend-spec-v3: CHECKSUM = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2]. */
function torV3Checksum(pubkey: Uint8Array): Uint8Array {
  const h = sha3_256.create()
  h.update(textEncoder.encode(TORV3_CHECKSUM_PREFIX))
  h.update(pubkey)
  h.update(Uint8Array.of(TORV3_VERSION))
  return h.digest().subarray(0, 2)
}

/**
 * Text form of an address of a known network:
 * IPv4 dotted, IPv6 and CJDNS as RFC 5952 IPv6, Tor v3 as
 * base32(pubkey | checksum | 0x03) + ".onion" (56 characters), I2P as
 * base32(hash) + ".b32.i2p" (52 characters), Tor v2 as base32 + ".onion".
 * Throws WireError INVALID_VALUE for an unknown network or a wrong length.
 */
export function addrV2ToString(networkId: number, addr: Uint8Array): string {
  const len = bip155AddressLength(networkId)
  if (len === undefined || addr.length !== len) {
    throw new WireError('INVALID_VALUE', `no text form for network ${networkId} with ${addr.length} bytes`, { actual: networkId })
  }
  switch (networkId) {
    case BIP155Network.IPV4:
      return ipToString(addr)
    case BIP155Network.IPV6:
    case BIP155Network.CJDNS:
      return ipv6ToString(addr)
    case BIP155Network.TORV2:
      return `${base32Encode(addr)}.onion`
    case BIP155Network.TORV3: {
      const full = new Uint8Array(35)
      full.set(addr)
      full.set(torV3Checksum(addr), 32)
      full[34] = TORV3_VERSION
      return `${base32Encode(full)}.onion`
    }
    default:
      return `${base32Encode(addr)}.b32.i2p`
  }
}

/** A network id and address bytes, as `addrV2FromString` returns them. */
export interface AddrV2Host {
  readonly networkId: number
  readonly addr: Uint8Array
}

/**
 * Parse a host's text into a BIP155 network and address: "<56>.onion"
 * (Tor v3; checksum and version checked), "<52>.b32.i2p" (I2P), dotted IPv4,
 * or IPv6 text. IPv4-mapped IPv6 text gives IPV4. CJDNS addresses share
 * IPv6 text, so they come back as IPV6; a caller that knows better sets
 * CJDNS itself. Tor v2 names are refused (no longer supported).
 * Throws WireError INVALID_VALUE on anything else.
 */
export function addrV2FromString(text: string): AddrV2Host {
  const lower = text.toLowerCase()
  if (lower.endsWith('.onion')) {
    const full = lower.length === 56 + 6 ? base32Decode(lower.slice(0, 56)) : undefined
    if (!full || full.length !== 35 || full[34] !== TORV3_VERSION) throw badHost(text, 'not a Tor v3 .onion name')
    const pubkey = full.slice(0, 32)
    const sum = torV3Checksum(pubkey)
    if (sum[0] !== full[32] || sum[1] !== full[33]) throw badHost(text, 'Tor v3 checksum mismatch')
    return { networkId: BIP155Network.TORV3, addr: pubkey }
  }
  if (lower.endsWith('.b32.i2p')) {
    const hash = lower.length === 52 + 8 ? base32Decode(lower.slice(0, 52)) : undefined
    if (!hash || hash.length !== 32) throw badHost(text, 'not an I2P .b32.i2p name')
    return { networkId: BIP155Network.I2P, addr: hash }
  }
  const ip = ipFromString(text)
  if (isIPv4Mapped(ip)) return { networkId: BIP155Network.IPV4, addr: ip.slice(12) }
  return { networkId: BIP155Network.IPV6, addr: ip }
}

function badHost(text: string, why: string): WireError {
  const shown = text.length > 80 ? `${text.slice(0, 80)}...` : text
  return new WireError('INVALID_VALUE', `${why}: '${shown}'`, { field: 'host' })
}
