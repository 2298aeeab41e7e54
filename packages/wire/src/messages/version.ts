/**
 * version / verack: the handshake. Each side sends `version` first and
 * answers the other's with `verack`.
 *
 * Layout (Core's net_processing, "VERSION"):
 *   i32 version | u64 services | i64 timestamp | addrRecv (26)
 *   | addrFrom (26) | u64 nonce                        (version >= 106)
 *   | varstr userAgent | i32 startHeight              (version >= 209)
 *   | bool relay                                       (BIP37, version >= 70001)
 *
 * Decoding is tolerant of short legacy messages, as Core is: a field a peer's
 * declared version predates may be absent, and then takes the default below.
 * A field the declared version includes must be present (TRUNCATED
 * otherwise), except `relay`, which BIP37 makes optional: absent means true.
 * Core reads a trailing relay byte from any version; we read it too, but
 * honour it only from BIP0037_VERSION on (older peers have no filters and
 * always relay), so it is then reported as true.
 *
 * Defaults for absent fields:
 *   addrFrom  { services: 0n, host: 16 zero bytes, port: 0 }   (Core ignores it)
 *   nonce     0n  (never matches a nonce of ours: no self-connection check)
 *   userAgent ''
 *   startHeight 0
 *   relay     true
 *
 * Encoding writes the full modern form, relay byte included, for a message
 * built by hand. A decoded message re-encodes to the bytes received (see
 * "Round trip" in codec.ts): the decoder records what the plain fields
 * cannot say in three optional fields, set only when needed:
 *   userAgentBytes  the user agent when it is not valid UTF-8
 *   relayByte       the relay byte when not 0/1 as `relay` says (any
 *                   non-zero byte reads true; before BIP37 any byte does)
 *   lastField       the last field present, when the message ended before
 *                   the relay byte (a legacy or pre-BIP37 short form)
 * Each is honoured only while it agrees with the plain fields, so editing a
 * decoded message never sends stale bytes.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import { BIP0037_VERSION } from '../protocol.js'
import { readText, textBytes } from '../bytes/text.js'
import { type Codec, emptyCodec } from './codec.js'
import { decodeNetAddress, encodeNetAddress, IP_BYTES, NET_ADDRESS_BYTES, type NetAddress } from './netaddr.js'

/** Core's MAX_SUBVERSION_LENGTH: longest user agent (bytes) a peer may send. */
export const MAX_SUBVERSION_LENGTH = 256
/** addrFrom and nonce are on the wire from this version (Core 0.1.x era, "106"). */
export const VERSION_ADDR_FROM_VERSION = 106
/** userAgent and startHeight are on the wire from this version ("209"). */
export const VERSION_USER_AGENT_VERSION = 209
/**
 * Largest version payload: 4 + 8 + 8 + 26 + 26 + 8 + CompactSize(256) (3)
 * + 256 + 4 + 1.
 */
export const MAX_VERSION_PAYLOAD = 4 + 8 + 8 + NET_ADDRESS_BYTES * 2 + 8 + 3 + MAX_SUBVERSION_LENGTH + 4 + 1
/** Bytes every version message has: version, services, timestamp, addrRecv. */
export const MIN_VERSION_PAYLOAD = 4 + 8 + 8 + NET_ADDRESS_BYTES

/** version: the first message each side sends. */
export interface VersionMessage {
  readonly command: 'version'
  /** The sender's protocol version (i32 on the wire). */
  readonly version: number
  /** The sender's service flags (u64). */
  readonly services: bigint
  /** The sender's clock, Unix seconds (i64). */
  readonly timestamp: bigint
  /** The receiver's address as the sender sees it. */
  readonly addrRecv: NetAddress
  /** The sender's own address (Core sends a null one and ignores it). */
  readonly addrFrom: NetAddress
  /** Random nonce, used to detect connections to self (u64). */
  readonly nonce: bigint
  /** BIP14 user agent, e.g. "/Satoshi:27.0.0/", at most MAX_SUBVERSION_LENGTH bytes. */
  readonly userAgent: string
  /** The sender's best block height (i32). */
  readonly startHeight: number
  /** BIP37: false asks us not to announce transactions until a filter is loaded. */
  readonly relay: boolean
  /**
   * The user agent's bytes as received, set by the decoder only when they
   * are not valid UTF-8 (`userAgent` then shows U+FFFD for the bad bytes).
   * Encoded instead of `userAgent` while they still decode to it; leave
   * unset to send `userAgent` as UTF-8.
   */
  readonly userAgentBytes?: Uint8Array
  /**
   * The relay byte as received, set by the decoder only when it is not the
   * byte `relay` encodes to (0 or 1): any other non-zero value, or any value
   * from a pre-BIP37 peer (`relay` is then true whatever the byte). Encoded
   * instead of `relay ? 1 : 0` while it still reads as `relay`.
   */
  readonly relayByte?: number
  /**
   * The last field present, set by the decoder only when the message ended
   * before the relay byte (a pre-BIP37 or legacy short form; absent fields
   * read as their defaults). The encoder then stops after this field too,
   * unless a later field holds a value other than its default: it then
   * writes every field up to that one.
   */
  readonly lastField?: VersionLastField
}

/** Where a short version message ends: the last field it carries (see VersionMessage.lastField). */
export type VersionLastField = 'addrRecv' | 'nonce' | 'userAgent' | 'startHeight'

/** verack: the answer to the peer's version. */
export interface VerackMessage {
  readonly command: 'verack'
}

/** The address used when a peer's version predates addrFrom. */
function nullNetAddress(): NetAddress {
  return { services: 0n, host: new Uint8Array(IP_BYTES), port: 0 }
}

/** Optional field groups after addrRecv, in wire order; `relay` is the last. */
const GROUPS = ['nonce', 'userAgent', 'startHeight', 'relay'] as const
/** The short forms: LAST_FIELDS[i] ends a message carrying the first i optional groups. */
const LAST_FIELDS: readonly VersionLastField[] = ['addrRecv', 'nonce', 'userAgent', 'startHeight']

/** Whether the BIP37 relay byte `b` reads as relay, for a peer of `version` (Core reads it as a bool). */
function relayFromByte(b: number, version: number): boolean {
  // Older peers have no filters and always relay: the byte is not honoured.
  return version >= BIP0037_VERSION ? b !== 0 : true
}

function isNullNetAddress(a: NetAddress): boolean {
  if (a.services !== 0n || a.port !== 0 || a.host.length !== IP_BYTES) return false
  for (let i = 0; i < IP_BYTES; i++) if (a.host[i] !== 0) return false
  return true
}

/** Whether group `g` of `m` differs from what the decoder gives when the group is absent. */
function groupHasValue(m: VersionMessage, g: (typeof GROUPS)[number], ua: Uint8Array): boolean {
  switch (g) {
    case 'nonce':
      return m.nonce !== 0n || !isNullNetAddress(m.addrFrom)
    case 'userAgent':
      return ua.length !== 0
    case 'startHeight':
      return m.startHeight !== 0
    case 'relay':
      return !m.relay
  }
}

/**
 * How many optional groups to write: all of them, or for a short form
 * (`lastField`) the groups it carries, plus any later group holding a value
 * and every group the declared version requires (so the bytes decode).
 */
function groupsToWrite(m: VersionMessage, ua: Uint8Array): number {
  const short = m.lastField === undefined ? -1 : LAST_FIELDS.indexOf(m.lastField)
  if (short < 0) return GROUPS.length
  let n = short
  if (m.version >= VERSION_USER_AGENT_VERSION) n = Math.max(n, 3)
  else if (m.version >= VERSION_ADDR_FROM_VERSION) n = Math.max(n, 1)
  for (let i = n; i < GROUPS.length; i++) if (groupHasValue(m, GROUPS[i]!, ua)) n = i + 1
  return n
}

/** version: tolerant decode of legacy forms, full modern encode (see module doc). */
export const versionCodec: Codec<VersionMessage> = {
  command: 'version',
  maxPayload: () => MAX_VERSION_PAYLOAD,
  encode(w: ByteWriter, m: VersionMessage) {
    const ua = textBytes(m.userAgent, m.userAgentBytes)
    if (ua.length > MAX_SUBVERSION_LENGTH) {
      throw new WireError('ENCODE_RANGE', `user agent is ${ua.length} bytes, limit ${MAX_SUBVERSION_LENGTH}`, {
        field: 'MAX_SUBVERSION_LENGTH',
        limit: MAX_SUBVERSION_LENGTH,
        actual: ua.length,
      })
    }
    const groups = groupsToWrite(m, ua)
    w.i32le(m.version).u64le(m.services).i64le(m.timestamp)
    encodeNetAddress(w, m.addrRecv)
    if (groups < 1) return
    encodeNetAddress(w, m.addrFrom)
    w.u64le(m.nonce)
    if (groups < 2) return
    w.varBytes(ua)
    if (groups < 3) return
    w.i32le(m.startHeight)
    if (groups < 4) return
    const b = m.relayByte
    // The received byte, while it still says what `relay` says.
    const keep = b !== undefined && Number.isInteger(b) && b >= 0 && b <= 0xff && relayFromByte(b, m.version) === m.relay
    w.u8(keep ? b : m.relay ? 1 : 0)
  },
  decode(r: ByteReader): VersionMessage {
    r.need(MIN_VERSION_PAYLOAD, 'version')
    const version = r.i32le()
    const services = r.u64le()
    const timestamp = r.i64le()
    const addrRecv = decodeNetAddress(r)
    let lastField: VersionLastField = 'addrRecv'

    // A field group is read when the declared version includes it, or when
    // an older peer sent it anyway (Core reads whatever is present).
    let addrFrom = nullNetAddress()
    let nonce = 0n
    if (version >= VERSION_ADDR_FROM_VERSION || r.remaining > 0) {
      r.need(NET_ADDRESS_BYTES + 8, 'addrFrom and nonce')
      addrFrom = decodeNetAddress(r)
      nonce = r.u64le()
      lastField = 'nonce'
    }
    let userAgent = ''
    let userAgentBytes: Uint8Array | undefined
    if (version >= VERSION_USER_AGENT_VERSION || r.remaining > 0) {
      const t = readText(r, MAX_SUBVERSION_LENGTH, 'user agent')
      userAgent = t.text
      userAgentBytes = t.raw
      lastField = 'userAgent'
    }
    let startHeight = 0
    if (version >= VERSION_USER_AGENT_VERSION || r.remaining > 0) {
      startHeight = r.i32le()
      lastField = 'startHeight'
    }
    let relay = true
    let relayByte: number | undefined
    const hasRelay = r.remaining > 0
    if (hasRelay) {
      const b = r.u8()
      relay = relayFromByte(b, version)
      // Kept only when `relay ? 1 : 0` would not give the same byte back.
      if (b !== (relay ? 1 : 0)) relayByte = b
    }
    // The wire-form fields appear only when needed, so a message in the
    // usual modern form compares equal to one built by hand.
    const m: { -readonly [K in keyof VersionMessage]: VersionMessage[K] } = {
      command: 'version',
      version,
      services,
      timestamp,
      addrRecv,
      addrFrom,
      nonce,
      userAgent,
      startHeight,
      relay,
    }
    if (userAgentBytes !== undefined) m.userAgentBytes = userAgentBytes
    if (relayByte !== undefined) m.relayByte = relayByte
    if (!hasRelay) m.lastField = lastField
    return m
  },
}

/** verack: empty; acknowledges the peer's version. */
export const verackCodec: Codec<VerackMessage> = emptyCodec('verack')
