/**
 * ping / pong (BIP31). A ping carries a random 64-bit nonce; the pong echoes
 * it, so replies can be matched to the ping that asked.
 * Peers below BIP0031_VERSION send an empty ping and expect no pong; we
 * decode that as nonce 0n.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import type { Codec, CodecContext } from './codec.js'
import { BIP0031_VERSION } from '../protocol.js'

/** A keep-alive / latency probe. The peer answers with a pong carrying the same nonce. */
export interface PingMessage {
  readonly command: 'ping'
  /** Random u64 chosen by the sender; 0n for an empty (pre-BIP31) ping. */
  readonly nonce: bigint
  /**
   * Whether the payload carries the nonce. Leave unset: the encoder then
   * follows the protocol version (BIP31: a nonce only above
   * BIP0031_VERSION). The decoder sets it only when the ping it read differs
   * from that: false for an empty ping at a BIP31 version, true for a nonce
   * at an older one. false is honoured only while `nonce` is 0n (otherwise
   * the version rule applies).
   */
  readonly hasNonce?: boolean
}
/** The answer to a ping (BIP31). */
export interface PongMessage {
  readonly command: 'pong'
  /** The nonce of the ping being answered. */
  readonly nonce: bigint
}

/** Payload size: the u64 nonce. */
export const PING_PAYLOAD_BYTES = 8

/** Whether a ping at negotiated version `protocolVersion` carries a nonce (BIP31, as Core: strictly above BIP0031_VERSION). */
function pingHasNonce(protocolVersion: number): boolean {
  return protocolVersion > BIP0031_VERSION
}

/**
 * Codec for 'ping'. Encodes the nonce only above BIP0031_VERSION (older
 * peers expect an empty ping) unless `hasNonce` says otherwise; decodes an
 * empty payload as nonce 0n.
 */
export const pingCodec: Codec<PingMessage> = {
  command: 'ping',
  maxPayload: () => PING_PAYLOAD_BYTES,
  encode(w: ByteWriter, m: PingMessage, ctx: CodecContext) {
    // An explicit form wins; `false` with a nonce to send falls back to the version rule.
    const withNonce = m.hasNonce === true ? true : m.hasNonce === false && m.nonce === 0n ? false : pingHasNonce(ctx.protocolVersion)
    if (withNonce) w.u64le(m.nonce)
  },
  decode(r: ByteReader, ctx: CodecContext): PingMessage {
    // Pre-BIP31 pings are empty.
    const hasNonce = r.remaining !== 0
    const nonce = hasNonce ? r.u64le() : 0n
    // Say so only when the encoder would not choose this form by itself.
    if (hasNonce !== pingHasNonce(ctx.protocolVersion)) return { command: 'ping', nonce, hasNonce }
    return { command: 'ping', nonce }
  },
}

/** Codec for 'pong': exactly the 8-byte nonce. */
export const pongCodec: Codec<PongMessage> = {
  command: 'pong',
  maxPayload: () => PING_PAYLOAD_BYTES,
  encode(w: ByteWriter, m: PongMessage) {
    w.u64le(m.nonce)
  },
  decode(r: ByteReader): PongMessage {
    return { command: 'pong', nonce: r.u64le() }
  },
}
