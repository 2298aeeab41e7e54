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
 * Encoding always writes the full modern form, relay byte included.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import { BIP0037_VERSION } from '../protocol.js'
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
}

/** verack: the answer to the peer's version. */
export interface VerackMessage {
  readonly command: 'verack'
}

/** The address used when a peer's version predates addrFrom. */
function nullNetAddress(): NetAddress {
  return { services: 0n, host: new Uint8Array(IP_BYTES), port: 0 }
}

const textEncoder = new TextEncoder()

/** version: tolerant decode of legacy forms, full modern encode (see module doc). */
export const versionCodec: Codec<VersionMessage> = {
  command: 'version',
  maxPayload: () => MAX_VERSION_PAYLOAD,
  encode(w: ByteWriter, m: VersionMessage) {
    const ua = textEncoder.encode(m.userAgent)
    if (ua.length > MAX_SUBVERSION_LENGTH) {
      throw new WireError('ENCODE_RANGE', `user agent is ${ua.length} bytes, limit ${MAX_SUBVERSION_LENGTH}`, {
        field: 'MAX_SUBVERSION_LENGTH',
        limit: MAX_SUBVERSION_LENGTH,
        actual: ua.length,
      })
    }
    w.i32le(m.version).u64le(m.services).i64le(m.timestamp)
    encodeNetAddress(w, m.addrRecv)
    encodeNetAddress(w, m.addrFrom)
    w.u64le(m.nonce).varBytes(ua).i32le(m.startHeight).u8(m.relay ? 1 : 0)
  },
  decode(r: ByteReader): VersionMessage {
    r.need(MIN_VERSION_PAYLOAD, 'version')
    const version = r.i32le()
    const services = r.u64le()
    const timestamp = r.i64le()
    const addrRecv = decodeNetAddress(r)

    // A field group is read when the declared version includes it, or when
    // an older peer sent it anyway (Core reads whatever is present).
    let addrFrom = nullNetAddress()
    let nonce = 0n
    if (version >= VERSION_ADDR_FROM_VERSION || r.remaining > 0) {
      r.need(NET_ADDRESS_BYTES + 8, 'addrFrom and nonce')
      addrFrom = decodeNetAddress(r)
      nonce = r.u64le()
    }
    let userAgent = ''
    if (version >= VERSION_USER_AGENT_VERSION || r.remaining > 0) {
      userAgent = r.varString(MAX_SUBVERSION_LENGTH, 'user agent')
    }
    let startHeight = 0
    if (version >= VERSION_USER_AGENT_VERSION || r.remaining > 0) {
      startHeight = r.i32le()
    }
    let relay = true
    if (r.remaining > 0) {
      // Core reads the byte as a bool: any non-zero value is true.
      const b = r.u8()
      if (version >= BIP0037_VERSION) relay = b !== 0
    }
    return { command: 'version', version, services, timestamp, addrRecv, addrFrom, nonce, userAgent, startHeight, relay }
  },
}

/** verack: empty; acknowledges the peer's version. */
export const verackCodec: Codec<VerackMessage> = emptyCodec('verack')
