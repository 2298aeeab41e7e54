/**
 * sendtxrcncl (BIP330, Erlay): sent between version and verack to offer
 * set reconciliation of transaction announcements.
 *   u32 version | u64 salt
 * The salt is the sender's half of the key of the short transaction ids;
 * both halves are combined, so each side must pick its salt at random.
 * Core requires version >= 1 and disconnects on a sendtxrcncl after verack.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import type { Codec } from './codec.js'

/** The reconciliation protocol version BIP330 defines. */
export const TXRECONCILIATION_VERSION = 1
/** Payload size: u32 version + u64 salt. */
export const SENDTXRCNCL_PAYLOAD_BYTES = 12

/** sendtxrcncl: offer Erlay reconciliation. */
export interface SendtxrcnclMessage {
  readonly command: 'sendtxrcncl'
  /** Highest reconciliation version the sender supports (u32). */
  readonly version: number
  /** The sender's random salt (u64). */
  readonly salt: bigint
}

/** sendtxrcncl (BIP330). */
export const sendtxrcnclCodec: Codec<SendtxrcnclMessage> = {
  command: 'sendtxrcncl',
  maxPayload: () => SENDTXRCNCL_PAYLOAD_BYTES,
  encode(w: ByteWriter, m: SendtxrcnclMessage) {
    w.u32le(m.version).u64le(m.salt)
  },
  decode(r: ByteReader): SendtxrcnclMessage {
    r.need(SENDTXRCNCL_PAYLOAD_BYTES, 'sendtxrcncl')
    return { command: 'sendtxrcncl', version: r.u32le(), salt: r.u64le() }
  },
}
