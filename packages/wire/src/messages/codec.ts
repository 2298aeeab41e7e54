import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'

/**
 * What a codec may depend on besides the bytes: the negotiated protocol
 * version and the size limits of the network profile.
 */
export interface CodecContext {
  /** Negotiated protocol version (min of ours and the peer's). */
  readonly protocolVersion: number
  /**
   * Largest block-sized payload accepted (block, cmpctblock, blocktxn,
   * merkleblock). Bitcoin: 4,000,000 (MAX_BLOCK_SERIALIZED_SIZE). Larger on
   * BSV profiles.
   */
  readonly maxBlockPayload: number
}

/**
 * One message type: its command, its payload cap, and how to turn the
 * payload into a typed value and back.
 *
 * Rules every codec follows:
 * - `decode` reads from a ByteReader positioned at the payload start and
 *   throws only WireError. The caller checks no trailing bytes remain.
 * - Every count is read with `ByteReader.count(limit, field, minItemBytes)`
 *   so nothing is allocated from an unchecked length.
 * - `maxPayload` is checked by the frame decoder before the payload is buffered.
 *
 * Round trip: for every payload `decode` accepts under a context,
 * `encode` of the result under the same context gives back the same bytes.
 * Where the typed fields cannot say everything the bytes did, the decoded
 * message carries an optional field for the rest, set only when needed, so
 * a message in the usual form equals one built by hand:
 * - text fields that are not valid UTF-8: the bytes beside the string
 *   (`VersionMessage.userAgentBytes`, `RejectMessage.messageBytes` and
 *   `reasonBytes`);
 * - booleans sent as a byte other than 0/1 (`VersionMessage.relayByte`,
 *   `SendcmpctMessage.announceByte`);
 * - optional trailing fields left out (`VersionMessage.lastField`,
 *   `PingMessage.hasNonce`; reject's `data` is simply absent);
 * - entries the decoder drops (`Addrv2Message.skippedEntries`).
 * The encoder honours such a field only while it agrees with the typed
 * fields, so an edited message sends what it now says. A non-canonical
 * CompactSize is refused (NON_CANONICAL), as Core refuses it, so it never
 * needs preserving.
 */
export interface Codec<M extends { readonly command: string }> {
  readonly command: M['command']
  /** Largest payload this message may have under `ctx`, in bytes; larger frames are rejected unread. */
  maxPayload(ctx: CodecContext): number
  /** Appends the payload of `msg` (no frame header) to `w`. Throws WireError (ENCODE_RANGE) for a value the wire cannot carry. */
  encode(w: ByteWriter, msg: M, ctx: CodecContext): void
  /** Reads one payload from `r`; throws only WireError. Does not check for trailing bytes (the caller does). */
  decode(r: ByteReader, ctx: CodecContext): M
}

/** A command we have no codec for: kept whole, counted, never fatal. */
export interface UnknownMessage {
  readonly command: 'unknown'
  /** The command string as it appeared on the wire. */
  readonly rawCommand: string
  readonly payload: Uint8Array
}

/** Helper for payload-less messages (verack, getaddr, mempool, sendheaders, ...). */
export function emptyCodec<C extends string>(command: C): Codec<{ readonly command: C }> {
  const value = Object.freeze({ command })
  return {
    command,
    maxPayload: () => 0,
    encode: () => {},
    decode: () => value,
  }
}
