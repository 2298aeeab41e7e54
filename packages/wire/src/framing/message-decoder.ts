/**
 * Bytes in, typed messages out: the frame decoder plus the codec table.
 *
 * A framing error (bad magic, bad command, oversize, bad checksum) is fatal
 * for the stream. A payload that frames correctly but does not decode is
 * reported as 'invalid' and the stream continues: the session decides what
 * that costs the peer.
 */
import type { WireError } from '../errors.js'
import { isWireError } from '../errors.js'
import type { CodecContext, UnknownMessage } from '../messages/codec.js'
import { decodePayloadRange, encodePayload, encodePayloadTo, maxPayloadFor, type KnownMessage, type Message } from '../messages/registry.js'
import { ByteWriter } from '../bytes/writer.js'
import {
  FrameDecoder,
  type FrameErrorEvent,
  type FrameSink,
  type PayloadChunkEvent,
  type PayloadEndEvent,
  type PayloadStartEvent,
} from './decoder.js'
import { encodeExtHeader, encodeFrame, HEADER_BYTES, writeHeaderInPlace } from './header.js'
import { PROTOCOL_VERSION } from '../protocol.js'

/** What framing needs to know about a network. NetworkParams satisfies it. */
export interface FramingParams {
  readonly magic: Uint8Array
  /** Global payload cap. */
  readonly maxMessageBytes: number
  /** Block-sized payload cap (block, cmpctblock, blocktxn, merkleblock). */
  readonly maxBlockPayload: number
  /** BSV extended messages. */
  readonly supportsExtMsg?: boolean
}

/** What a `MessageDecoder` needs: the network, and optionally the protocol version and caps to start with. */
export interface MessageDecoderOptions {
  readonly network: FramingParams
  /** Starts at PROTOCOL_VERSION; set to the negotiated version after the handshake. */
  readonly protocolVersion?: number
  /** Deliver 'block' payloads as chunks instead of decoding them whole. */
  readonly streamBlocks?: boolean
  /** Cap for commands without a codec. Default 1 MB: enough for any sane extension, small for a flood. */
  readonly unknownCommandLimit?: number
}

/**
 * What `MessageDecoder.push` returns: decoded messages, non-fatal 'invalid'
 * payloads, the streamed-block events when `streamBlocks` is on, and at most
 * one fatal 'error', always last.
 */
export type MessageEvent =
  | { readonly type: 'message'; readonly message: Message; readonly wireBytes: number }
  /** A well-framed payload that failed to decode. Not fatal. */
  | { readonly type: 'invalid'; readonly command: string; readonly error: WireError; readonly wireBytes: number }
  | PayloadStartEvent
  | PayloadChunkEvent
  | PayloadEndEvent
  /** Fatal framing error; the last event this decoder will produce. */
  | { readonly type: 'error'; readonly error: WireError }

/** Default cap for unknown commands. */
export const DEFAULT_UNKNOWN_COMMAND_LIMIT = 1_000_000

/**
 * Turns a peer's byte stream into typed messages: a `FrameDecoder` for
 * framing, then the codec table for payloads, decoded with the current
 * `context` (protocol version, block payload cap). A framing error is fatal
 * and sticky; an undecodable payload is an 'invalid' event and decoding
 * continues with the next frame.
 */
export class MessageDecoder {
  private readonly frames: FrameDecoder
  private ctx: CodecContext
  private readonly sink: MessageSink

  constructor(opts: MessageDecoderOptions) {
    const { network } = opts
    this.ctx = {
      protocolVersion: opts.protocolVersion ?? PROTOCOL_VERSION,
      maxBlockPayload: network.maxBlockPayload,
    }
    this.sink = new MessageSink(this.ctx)
    this.frames = new FrameDecoder({
      magic: network.magic,
      maxPayload: network.maxMessageBytes,
      commandLimit: (command) => maxPayloadFor(command, this.ctx),
      unknownCommandLimit: opts.unknownCommandLimit ?? DEFAULT_UNKNOWN_COMMAND_LIMIT,
      streamCommands: opts.streamBlocks ? new Set(['block']) : undefined,
      extmsg: network.supportsExtMsg ?? false,
    })
  }

  /** The context payloads are decoded with now; replaced (not mutated) by `setProtocolVersion`. */
  get context(): CodecContext {
    return this.ctx
  }

  /** Use the negotiated protocol version for payloads decoded from now on. */
  setProtocolVersion(v: number): void {
    this.ctx = { ...this.ctx, protocolVersion: v }
  }

  /** True once a framing error has occurred; every later `push` returns only that error. */
  get failed(): boolean {
    return this.frames.failed
  }

  /** Bytes held for the frame in progress. */
  get bufferedBytes(): number {
    return this.frames.bufferedBytes
  }

  /** Total bytes consumed since creation, including those of the frame in progress. */
  get bytesConsumed(): number {
    return this.frames.bytesConsumed
  }

  /**
   * Feed bytes in any chunking; returns the events that became complete
   * (often none). The chunk is not copied when a whole payload lies inside
   * it, so the caller must not modify it afterwards. Never throws for bad
   * input: errors are events.
   */
  push(chunk: Uint8Array): MessageEvent[] {
    const sink = this.sink
    const out: MessageEvent[] = []
    sink.out = out
    sink.ctx = this.ctx
    try {
      // Frames come back through the sink, in stream order.
      this.frames.pushTo(chunk, sink)
    } finally {
      sink.out = NO_EVENTS
    }
    return out
  }
}

/** Where a MessageDecoder's frames arrive during a push: each decoded in place into the push's events. */
class MessageSink implements FrameSink {
  /** The events of the push in progress. */
  out: MessageEvent[] = NO_EVENTS
  constructor(
    /** The decoder's context, set again at each push. */
    public ctx: CodecContext,
  ) {}

  /** A whole frame: decoded without a payload copy (nor a subarray, for a small known command). */
  frame(command: string, bytes: Uint8Array, start: number, end: number, wireBytes: number): void {
    try {
      this.out.push({ type: 'message', message: decodePayloadRange(command, bytes, start, end, this.ctx), wireBytes })
    } catch (e) {
      if (!isWireError(e)) throw e
      this.out.push({ type: 'invalid', command, error: e, wireBytes })
    }
  }

  /** Streamed-block events and the fatal error, as they are. */
  event(ev: PayloadStartEvent | PayloadChunkEvent | PayloadEndEvent | FrameErrorEvent): void {
    this.out.push(ev)
  }
}

/** The events array outside a push: frames only arrive during one. */
const NO_EVENTS: MessageEvent[] = []

/** Frame a message for `network`: header + payload in one array. */
export function encodeMessage(
  msg: KnownMessage | UnknownMessage,
  network: FramingParams,
  protocolVersion = PROTOCOL_VERSION,
): Uint8Array<ArrayBuffer> {
  const ctx: CodecContext = { protocolVersion, maxBlockPayload: network.maxBlockPayload }
  if (!network.supportsExtMsg) return encodeMessageFrame(network.magic, msg, ctx)
  const payload = encodePayload(msg, ctx)
  const command = msg.command === 'unknown' ? (msg as UnknownMessage).rawCommand : msg.command
  if (payload.length > 0xfffffffe) {
    const h = encodeExtHeader(network.magic, command, payload.length)
    const out = new Uint8Array(h.length + payload.length)
    out.set(h)
    out.set(payload, h.length)
    return out
  }
  return encodeFrame(network.magic, command, payload)
}

/** Zeros the frame encoder writes first: the room its header then takes. */
const HEADER_ROOM = new Uint8Array(HEADER_BYTES)

/**
 * A v1 frame of `msg` (header and payload, plain header: no extended
 * message) in one array: the payload is encoded after room for the header,
 * which is then written in place, so there is no second array and no copy.
 * The array may be a view of a larger buffer (with at most MAX_SPARE_BYTES
 * to spare). Throws WireError as
 * `encodePayload` does, and ENCODE_RANGE for a payload a v1 header cannot
 * announce.
 */
export function encodeMessageFrame(magic: Uint8Array, msg: KnownMessage | UnknownMessage, ctx: CodecContext): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter(HEADER_BYTES + 64)
  w.bytes(HEADER_ROOM)
  encodePayloadTo(w, msg, ctx)
  const frame = w.finish()
  writeHeaderInPlace(frame, magic, msg.command === 'unknown' ? (msg as UnknownMessage).rawCommand : msg.command)
  // The writer doubles as it grows: a large frame is copied out rather than keep up to twice its size alive while queued.
  return frame.buffer.byteLength - frame.length > MAX_SPARE_BYTES ? frame.slice() : frame
}

/** Spare bytes a frame from encodeMessageFrame may keep behind it in its buffer. */
const MAX_SPARE_BYTES = 4096

export { HEADER_BYTES }
