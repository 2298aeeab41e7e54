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
}
/** The answer to a ping (BIP31). */
export interface PongMessage {
  readonly command: 'pong'
  /** The nonce of the ping being answered. */
  readonly nonce: bigint
}

/** Payload size: the u64 nonce. */
export const PING_PAYLOAD_BYTES = 8

/**
 * Codec for 'ping'. Encodes the nonce only above BIP0031_VERSION (older
 * peers expect an empty ping); decodes an empty payload as nonce 0n.
 */
export const pingCodec: Codec<PingMessage> = {
  command: 'ping',
  maxPayload: () => PING_PAYLOAD_BYTES,
  encode(w: ByteWriter, m: PingMessage, ctx: CodecContext) {
    if (ctx.protocolVersion > BIP0031_VERSION) w.u64le(m.nonce)
  },
  decode(r: ByteReader): PingMessage {
    // Pre-BIP31 pings are empty.
    return { command: 'ping', nonce: r.remaining === 0 ? 0n : r.u64le() }
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
