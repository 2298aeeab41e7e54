/**
 * Banned addresses and subnets, each until an expiry time.
 *
 * A ban covers a host, never a port (as Core's banlist): banning 1.2.3.4
 * bans it on every port. A subnet ban ('10.0.0.0/8', '2001:db8::/32')
 * covers every address under the prefix. Times are Unix seconds as u32;
 * BAN_FOREVER never expires. Sans-IO: the caller passes `now`.
 *
 * `serialize` / `BanList.deserialize` use the framed, checksummed format of
 * the address book (magic 'BPBL'); corrupt bytes throw `WireError`.
 */
import { BIP155Network, WireError, addrV2FromString, addrV2ToString } from '@bitp2p/wire'
import { ByteReader, ByteWriter, bip155AddressLength } from '@bitp2p/wire/codecs'
import { frameStore, unframeStore } from './addrman.js'
import { type AddressLike, type Endpoint, isValidEndpoint, networkName, toEndpoint } from './netgroup.js'

/** An `until` that never expires (largest u32). */
export const BAN_FOREVER = 0xffffffff
/** Most bans a list holds; when full, the ban expiring soonest makes room. */
export const MAX_BANS = 100_000
/** Longest stored reason, in UTF-8 bytes (longer reasons are cut). */
export const MAX_BAN_REASON_BYTES = 256
/** Format magic of a serialized ban list: 'BPBL'. */
export const BAN_LIST_MAGIC = Uint8Array.of(0x42, 0x50, 0x42, 0x4c)
/** Current format version of `serialize`. */
export const BAN_LIST_FORMAT_VERSION = 1
/** Smallest stored ban: network 1, bits 2, IPv4 4, until 4, created 4, empty reason 1. */
const MIN_BAN_BYTES = 16

/** A prefix of one network's addresses. A single host has bits = 8 x its length. */
export interface Subnet {
  readonly network: number
  /** Address bytes with every bit past `bits` zero. */
  readonly bytes: Uint8Array
  readonly bits: number
}

/** One ban. */
export interface Ban {
  readonly subnet: Subnet
  /** Unix seconds; banned while now < until. */
  readonly until: number
  /** When the ban was made (or last extended). */
  readonly created: number
  readonly reason: string
}

/** What `ban` accepts: an address (its host is banned), a Subnet, or text ('1.2.3.4', '10.0.0.0/8', 'x.onion'). */
export type BanTarget = AddressLike | Subnet | string

/** Zero every bit of `bytes` past `bits` (copy). */
function mask(bytes: Uint8Array, bits: number): Uint8Array {
  const out = bytes.slice()
  for (let i = 0; i < out.length; i++) {
    const keep = bits - i * 8
    if (keep >= 8) continue
    out[i] = keep <= 0 ? 0 : out[i]! & ((0xff << (8 - keep)) & 0xff)
  }
  return out
}

function badTarget(text: string, why: string): WireError {
  const shown = text.length > 80 ? `${text.slice(0, 80)}...` : text
  return new WireError('INVALID_VALUE', `ban target: ${why}: '${shown}'`, { field: 'subnet' })
}

/**
 * Parse subnet text: a host ('1.2.3.4', '2001:db8::1', '<name>.onion') or
 * CIDR ('10.0.0.0/8', '2001:db8::/32'). Host bits past the prefix are
 * cleared. Throws WireError INVALID_VALUE on anything else.
 */
export function parseSubnet(text: string): Subnet {
  const slash = text.indexOf('/')
  const hostText = slash < 0 ? text : text.slice(0, slash)
  const h = addrV2FromString(hostText)
  const full = h.addr.length * 8
  let bits = full
  if (slash >= 0) {
    const b = text.slice(slash + 1)
    if (!/^(0|[1-9][0-9]{0,2})$/.test(b) || Number(b) > full) throw badTarget(text, `prefix must be 0..${full}`)
    bits = Number(b)
  }
  return { network: h.networkId, bytes: mask(h.addr, bits), bits }
}

/** Text of a subnet: the host, with '/bits' unless it is a single host. */
export function subnetToString(s: Subnet): string {
  const host = addrV2ToString(s.network, s.bytes)
  return s.bits === s.bytes.length * 8 ? host : `${host}/${s.bits}`
}

/** True when `ep` lies in `s`. */
export function subnetContains(s: Subnet, ep: Endpoint): boolean {
  if (s.network !== ep.network || s.bytes.length !== ep.bytes.length) return false
  let bits = s.bits
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if ((ep.bytes[i]! & m) !== s.bytes[i]) return false
  }
  return true
}

function hostSubnet(ep: Endpoint): Subnet {
  return { network: ep.network, bytes: ep.bytes.slice(), bits: ep.bytes.length * 8 }
}

function toSubnet(target: BanTarget): Subnet {
  if (typeof target === 'string') return parseSubnet(target)
  if ('bits' in target) {
    const len = bip155AddressLength(target.network)
    if (len === undefined || target.network === BIP155Network.TORV2 || target.bytes.length !== len || !(target.bits >= 0 && target.bits <= len * 8)) {
      throw new WireError('INVALID_VALUE', 'ban target: invalid subnet', { field: 'subnet' })
    }
    return { network: target.network, bytes: mask(target.bytes, target.bits), bits: target.bits }
  }
  const ep = toEndpoint(target)
  if (!ep || !isValidEndpoint(ep)) throw new WireError('INVALID_VALUE', 'ban target: not an address', { field: 'subnet' })
  return hostSubnet(ep)
}

function subnetKey(s: Subnet): string {
  let hex = ''
  for (const b of s.bytes) hex += b.toString(16).padStart(2, '0')
  return `${networkName(s.network)}/${hex}/${s.bits}`
}

const TEXT = new TextEncoder()
const TEXT_DECODER = new TextDecoder('utf-8', { fatal: false })

/** Cut a reason to MAX_BAN_REASON_BYTES of UTF-8 (at a character boundary). */
function clampReason(reason: string): string {
  if (TEXT.encode(reason).length <= MAX_BAN_REASON_BYTES) return reason
  let out = ''
  let bytes = 0
  for (const ch of reason) {
    const n = TEXT.encode(ch).length
    if (bytes + n > MAX_BAN_REASON_BYTES) break
    out += ch
    bytes += n
  }
  return out
}

function u32Seconds(t: number): number {
  if (!(t > 0)) return 0
  return t >= BAN_FOREVER ? BAN_FOREVER : Math.floor(t)
}

/** Options of a BanList. */
export interface BanListOptions {
  /** Most bans held (default MAX_BANS). */
  readonly maxBans?: number
}

/** Banned hosts and subnets with expiry times. */
export class BanList {
  /** Insertion order: oldest ban first. */
  readonly #bans = new Map<string, Ban>()
  readonly #max: number
  /** Bans wider than one host; `isBanned` scans these. */
  #subnetBans = 0

  constructor(options: BanListOptions = {}) {
    this.#max = options.maxBans ?? MAX_BANS
    if (!Number.isInteger(this.#max) || this.#max < 1 || this.#max > MAX_BANS) {
      throw new RangeError(`BanList: maxBans must be an integer in [1, ${MAX_BANS}], got ${this.#max}`)
    }
  }

  /** Bans held (expired ones stay until `sweep`). */
  get size(): number {
    return this.#bans.size
  }

  /**
   * Ban `target` until `until` (Unix seconds, BAN_FOREVER for ever). An
   * existing ban of the same subnet is only ever extended, never shortened.
   * @throws WireError INVALID_VALUE for a target that is not an address or subnet.
   */
  ban(target: BanTarget, until: number, reason = '', now = 0): void {
    const subnet = toSubnet(target)
    const key = subnetKey(subnet)
    const prev = this.#bans.get(key)
    const t = u32Seconds(until)
    if (prev && prev.until >= t) return
    if (!prev && this.#bans.size >= this.#max) this.#evictSoonest()
    if (prev) this.#bans.delete(key)
    else if (subnet.bits < subnet.bytes.length * 8) this.#subnetBans++
    this.#bans.set(key, { subnet, until: t, created: u32Seconds(now), reason: clampReason(reason) })
  }

  #evictSoonest(): void {
    let worst: string | undefined
    let worstUntil = Infinity
    for (const [k, b] of this.#bans) {
      if (b.until < worstUntil) {
        worst = k
        worstUntil = b.until
      }
    }
    if (worst !== undefined) this.#remove(worst)
  }

  #remove(key: string): boolean {
    const b = this.#bans.get(key)
    if (!b) return false
    this.#bans.delete(key)
    if (b.subnet.bits < b.subnet.bytes.length * 8) this.#subnetBans--
    return true
  }

  /** Lift the ban of exactly this host or subnet. @returns whether there was one. */
  unban(target: BanTarget): boolean {
    return this.#remove(subnetKey(toSubnet(target)))
  }

  /** The latest expiry of any ban covering `addr` that is in force at `now`, or 0 when none. */
  bannedUntil(addr: AddressLike, now: number): number {
    const ep = toEndpoint(addr)
    if (!ep || !isValidEndpoint(ep)) return 0
    let until = 0
    const own = this.#bans.get(subnetKey(hostSubnet(ep)))
    if (own && own.until > now) until = own.until
    if (this.#subnetBans > 0) {
      for (const b of this.#bans.values()) {
        if (b.until > now && b.until > until && subnetContains(b.subnet, ep)) until = b.until
      }
    }
    return until
  }

  /** True when a ban in force at `now` covers `addr`. */
  isBanned(addr: AddressLike, now: number): boolean {
    return this.bannedUntil(addr, now) > 0
  }

  /** Drop bans that expired at or before `now`. @returns how many. */
  sweep(now: number): number {
    let n = 0
    for (const [k, b] of [...this.#bans]) {
      if (b.until <= now && this.#remove(k)) n++
    }
    return n
  }

  /** Every ban, oldest first. */
  list(): Ban[] {
    return [...this.#bans.values()]
  }

  /**
   * 'BPBL' | version u8 | body length u32 | body | sha256d(all before)[0..4]
   * body: count CompactSize | per ban: network u8 | bits u16le | address
   * bytes | until u32 | created u32 | reason (CompactSize length, UTF-8).
   */
  serialize(): Uint8Array {
    const w = new ByteWriter(16 + this.#bans.size * 32)
    w.compactSize(this.#bans.size)
    for (const b of this.#bans.values()) {
      w.u8(b.subnet.network).u16le(b.subnet.bits).bytes(b.subnet.bytes).u32le(b.until).u32le(b.created).varString(b.reason)
    }
    return frameStore(BAN_LIST_MAGIC, BAN_LIST_FORMAT_VERSION, w.finish())
  }

  /**
   * Restore a list from `serialize` output.
   * @throws WireError: TRUNCATED, TRAILING_BYTES, BAD_MAGIC, BAD_CHECKSUM,
   *   INVALID_VALUE (version, network, prefix, duplicate), OVERSIZE.
   */
  static deserialize(bytes: Uint8Array, options: BanListOptions = {}): BanList {
    const list = new BanList(options)
    const r = new ByteReader(unframeStore(bytes, BAN_LIST_MAGIC, BAN_LIST_FORMAT_VERSION, 'ban list'))
    const n = r.count(list.#max, 'bans', MIN_BAN_BYTES)
    for (let i = 0; i < n; i++) {
      const network = r.u8()
      const len = bip155AddressLength(network)
      if (len === undefined || network === BIP155Network.TORV2) {
        throw new WireError('INVALID_VALUE', `ban list: unsupported network ${network}`, { field: 'network', actual: network })
      }
      const bits = r.u16le()
      if (bits > len * 8) throw new WireError('INVALID_VALUE', `ban list: prefix /${bits} too long`, { field: 'bits', actual: bits })
      const raw = r.copy(len, 'address')
      const subnet: Subnet = { network, bytes: mask(raw, bits), bits }
      if (!sameBytes(raw, subnet.bytes)) throw new WireError('INVALID_VALUE', 'ban list: bits set past the prefix', { field: 'address' })
      const until = r.u32le()
      const created = r.u32le()
      const reason = TEXT_DECODER.decode(r.view(r.count(MAX_BAN_REASON_BYTES, 'reason', 1), 'reason'))
      const key = subnetKey(subnet)
      if (list.#bans.has(key)) throw new WireError('INVALID_VALUE', `ban list: duplicate ${subnetToString(subnet)}`, { field: 'subnet' })
      list.#bans.set(key, { subnet, until, created, reason })
      if (bits < len * 8) list.#subnetBans++
    }
    r.done('ban list')
    return list
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
