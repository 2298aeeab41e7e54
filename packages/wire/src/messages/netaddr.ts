/**
 * The legacy network address structures shared by `version` and `addr`
 * (Core's CAddress in V1 format), and text forms of 16-byte addresses.
 *
 * On the wire a NetAddress is 26 bytes: services (u64 LE), a 16-byte IPv6
 * address (IPv4 as the IPv4-mapped ::ffff:a.b.c.d), and the port as a
 * big-endian u16 (network byte order, the one big-endian field of the
 * protocol). In `addr` each entry is prefixed by a u32 timestamp.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { WireError } from '../errors.js'

/** Bytes of an address without a timestamp (services 8 + host 16 + port 2). */
export const NET_ADDRESS_BYTES = 26
/** Bytes of an address with its u32 timestamp, as in `addr`. */
export const TIMESTAMPED_NET_ADDRESS_BYTES = 30
/** Bytes of the host field: one IPv6 address. */
export const IP_BYTES = 16

/** A peer address as carried by `version` (no timestamp). */
export interface NetAddress {
  /** Service flags the address is believed to offer (u64). */
  readonly services: bigint
  /** 16 bytes: an IPv6 address, or IPv4 as IPv4-mapped (::ffff:a.b.c.d). */
  readonly host: Uint8Array
  /** TCP port, 0..65535. */
  readonly port: number
}

/** A peer address with the time it was last seen, as carried by `addr`. */
export interface TimestampedNetAddress extends NetAddress {
  /** Unix time in seconds (u32). */
  readonly time: number
}

/** Read a 26-byte NetAddress. */
export function decodeNetAddress(r: ByteReader): NetAddress {
  r.need(NET_ADDRESS_BYTES, 'net address')
  const services = r.u64le()
  const host = r.copy(IP_BYTES, 'host')
  const port = r.u16be()
  return { services, host, port }
}

/** Write a 26-byte NetAddress. Throws ENCODE_RANGE if the host is not 16 bytes. */
export function encodeNetAddress(w: ByteWriter, a: NetAddress): void {
  if (a.host.length !== IP_BYTES) {
    throw new WireError('ENCODE_RANGE', `host must be ${IP_BYTES} bytes, got ${a.host.length}`, { expected: IP_BYTES, actual: a.host.length })
  }
  w.u64le(a.services).bytes(a.host).u16be(a.port)
}

/** Read a 30-byte timestamped address (u32 time, then a NetAddress). */
export function decodeTimestampedNetAddress(r: ByteReader): TimestampedNetAddress {
  r.need(TIMESTAMPED_NET_ADDRESS_BYTES, 'timestamped net address')
  const time = r.u32le()
  const { services, host, port } = decodeNetAddress(r)
  return { time, services, host, port }
}

/** Write a 30-byte timestamped address. */
export function encodeTimestampedNetAddress(w: ByteWriter, a: TimestampedNetAddress): void {
  w.u32le(a.time)
  encodeNetAddress(w, a)
}

// ---------------------------------------------------------------------------
// Text forms

/** The 12-byte prefix of an IPv4-mapped IPv6 address (::ffff:0:0/96). */
const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] as const

/** True when 16 bytes hold an IPv4-mapped address (::ffff:a.b.c.d). */
export function isIPv4Mapped(host: Uint8Array): boolean {
  if (host.length !== IP_BYTES) return false
  for (let i = 0; i < 12; i++) if (host[i] !== IPV4_MAPPED_PREFIX[i]) return false
  return true
}

/** 16 bytes for an IPv4 address given as 4 bytes (IPv4-mapped form). */
export function ipv4Mapped(v4: Uint8Array): Uint8Array<ArrayBuffer> {
  if (v4.length !== 4) throw new WireError('ENCODE_RANGE', `IPv4 address must be 4 bytes, got ${v4.length}`, { actual: v4.length })
  const out = new Uint8Array(IP_BYTES)
  out.set(IPV4_MAPPED_PREFIX)
  out.set(v4, 12)
  return out
}

/**
 * Text form of an address: 4 bytes, or 16 bytes holding IPv4-mapped, print
 * as dotted IPv4 ("1.2.3.4", as Core prints them); any other 16 bytes print
 * as RFC 5952 IPv6 (lower case, the longest run of two or more zero groups,
 * the first on a tie, shortened to "::").
 * Throws WireError INVALID_VALUE for any other length.
 */
export function ipToString(bytes: Uint8Array): string {
  if (bytes.length === 4) return dotted(bytes, 0)
  if (bytes.length !== IP_BYTES) {
    throw new WireError('INVALID_VALUE', `an IP address is 4 or 16 bytes, got ${bytes.length}`, { actual: bytes.length })
  }
  if (isIPv4Mapped(bytes)) return dotted(bytes, 12)
  return ipv6ToString(bytes)
}

function dotted(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`
}

/** RFC 5952 text of 16 bytes, without the IPv4-mapped special case. */
export function ipv6ToString(bytes: Uint8Array): string {
  if (bytes.length !== IP_BYTES) {
    throw new WireError('INVALID_VALUE', `an IPv6 address is 16 bytes, got ${bytes.length}`, { actual: bytes.length })
  }
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!)
  // Longest run of zero groups (length >= 2); the first wins a tie.
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (g: number) => g.toString(16)
  if (bestStart < 0) return groups.map(hex).join(':')
  const head = groups.slice(0, bestStart).map(hex).join(':')
  const tail = groups.slice(bestStart + bestLen).map(hex).join(':')
  return `${head}::${tail}`
}

/**
 * 16 bytes from an address's text: dotted IPv4 ("1.2.3.4", returned
 * IPv4-mapped) or IPv6 ("2001:db8::1", "::ffff:1.2.3.4"; hex digits in either
 * case). Decimal parts of IPv4 must be 0..255 without leading zeros (some
 * parsers read those as octal). No brackets, ports or zone ids.
 * Throws WireError INVALID_VALUE on anything else.
 */
export function ipFromString(text: string): Uint8Array<ArrayBuffer> {
  if (text.includes(':')) return parseIPv6(text)
  const v4 = parseIPv4(text)
  if (!v4) throw invalidIp(text)
  return ipv4Mapped(v4)
}

function invalidIp(text: string): WireError {
  // Keep the message bounded: the text may come from anywhere.
  const shown = text.length > 64 ? `${text.slice(0, 64)}...` : text
  return new WireError('INVALID_VALUE', `not an IP address: '${shown}'`, { field: 'ip' })
}

/** Four bytes of dotted IPv4, or undefined when `text` is not one. */
function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  const out = new Uint8Array(4)
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined
    const v = Number(p)
    if (v > 255) return undefined
    out[i] = v
  }
  return out
}

function parseIPv6(text: string): Uint8Array<ArrayBuffer> {
  const halves = text.split('::')
  if (halves.length > 2) throw invalidIp(text)
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return []
    const out: number[] = []
    const parts = s.split(':')
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!
      if (i === parts.length - 1 && p.includes('.')) {
        // A trailing dotted IPv4 fills the last two groups.
        const v4 = parseIPv4(p)
        if (!v4) return undefined
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16))
      } else {
        return undefined
      }
    }
    return out
  }
  const head = parseGroups(halves[0]!)
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : []
  if (!head || !tail) throw invalidIp(text)
  // A dotted IPv4 may only end the address, never sit before "::".
  if (halves.length === 2 && halves[0]!.includes('.')) throw invalidIp(text)
  const n = head.length + tail.length
  // Without "::" all 8 groups are spelled out; with it, it stands for one or more.
  if (halves.length === 1 ? n !== 8 : n > 7) throw invalidIp(text)
  const groups = [...head, ...new Array<number>(8 - n).fill(0), ...tail]
  const out = new Uint8Array(IP_BYTES)
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8
    out[2 * i + 1] = groups[i]! & 0xff
  }
  return out
}
