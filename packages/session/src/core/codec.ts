/**
 * FrameCodec: how a connection's bytes become messages and back, sans-IO.
 *
 * Two codecs sit behind this one interface: v1 framing (magic, command,
 * length, checksum; `V1Codec` below) and BIP324's v2 transport (from
 * `@bitp2p/bip324`). The connection machine (connection.ts) owns one and
 * nothing above it knows which.
 *
 * A codec is a push decoder and a queued encoder:
 *  - `push(bytes)` returns the events the bytes completed (often none:
 *    "need more" is a normal result). Block payloads always come as
 *    pieces (payload-start, chunks, payload-end), so the peer machine can
 *    tie a block to its request at its header and count every piece as
 *    progress; a codec that only has whole payloads (v2 packets) gives one
 *    piece. A fatal error is the last event.
 *  - `write(command, payload)` queues one message; `poll()` hands out the
 *    bytes to send, in order. A codec may hold writes back (v2 before its
 *    keys exist) and may have bytes of its own to send (v2's handshake).
 *  - `ready` is false while a codec's own handshake runs (v2); the peer
 *    machine's version/verack start only once it is true.
 */
import { isWireError, PROTOCOL_VERSION, type FramingParams, type KnownMessage, type MessageEvent, type WireError } from '@bitp2p/wire'
import {
  decodePayloadRange,
  encodeExtHeader,
  encodeFrame,
  encodeMessageFrame,
  encodePayload,
  FrameDecoder,
  maxPayloadFor,
  type CodecContext,
  type FrameErrorEvent,
  type FrameSink,
  type PayloadChunkEvent,
  type PayloadEndEvent,
  type PayloadStartEvent,
} from '@bitp2p/wire/codecs'
import type { Random } from './ports.js'

/** One frame in or out, for metering: its command and its size on the wire (headers or packet overhead included). */
export interface FrameMeterEvent {
  readonly type: 'frame'
  readonly direction: 'in' | 'out'
  readonly command: string
  readonly wireBytes: number
}

/** A v2 transport failure: BIP324's error code (or V1_RESPONDER), words, and whether retrying the peer with v1 makes sense. */
export interface V2Failure {
  readonly code: string
  readonly message: string
  readonly retryV1: boolean
}

/** What `FrameCodec.push` returns. */
export type CodecEvent =
  | MessageEvent
  | FrameMeterEvent
  /** A v2 responder found a v1 peer: the connection carries on in v1 with `bytes` (what arrived so far). */
  | { readonly type: 'fallback-v1'; readonly bytes: Uint8Array }
  /** The codec's own handshake completed (v2); `sessionId` identifies the encrypted session. */
  | { readonly type: 'codec-ready'; readonly sessionId: Uint8Array | undefined }
  /** The v2 transport failed (handshake or packet); fatal, the last event. */
  | { readonly type: 'v2-error'; readonly failure: V2Failure }

/** The interface both transports' framings implement; see the module comment. */
export interface FrameCodec {
  /** 'v1' or 'v2'. */
  readonly version: 1 | 2
  /** False while the codec's own handshake runs. */
  readonly ready: boolean
  /** Bytes received: the events they complete, in order. Never throws for bad input. */
  push(bytes: Uint8Array): CodecEvent[]
  /** Queue one message for sending; returns its size on the wire. Throws WireError when it does not fit the framing. */
  write(command: string, payload: Uint8Array): number
  /**
   * Optional: encode `message` and queue it in one go (a codec that can
   * frame a message without first holding its payload apart: v1 encodes it
   * straight into its frame). Same result and errors as
   * `write(command, encodePayload(message, ctx))`.
   */
  writeMessage?(message: KnownMessage, ctx: CodecContext): number
  /** The next bytes to send, or undefined. */
  poll(): Uint8Array | undefined
  /** Decode payloads with this protocol version from now on (the negotiated one, after the handshake). */
  setProtocolVersion(v: number): void
}

/** Options of a V1Codec. */
export interface V1CodecOptions {
  readonly network: FramingParams
  readonly protocolVersion?: number
  /** Cap for commands without a codec. */
  readonly unknownCommandLimit?: number
}

/** The payload commands v1 streams to the machine: blocks, the only ones that grow large. */
const STREAMED = new Set(['block'])

/** Largest payload a plain v1 header can announce (wire's encodeMessage switches to extmsg above it). */
const MAX_V1_LENGTH = 0xfffffffe

/** Default cap for commands without a codec (wire's DEFAULT_UNKNOWN_COMMAND_LIMIT). */
const UNKNOWN_COMMAND_LIMIT = 1_000_000

/**
 * v1 framing: wire's FrameDecoder (checks in a fixed order before anything
 * is buffered: magic, command, caps, checksum) and the codec table; block
 * payloads streamed.
 */
export class V1Codec implements FrameCodec {
  readonly version = 1
  readonly ready = true
  readonly #network: FramingParams
  readonly #frames: FrameDecoder
  #ctx: CodecContext
  readonly #out = new SendQueue()

  constructor(opts: V1CodecOptions) {
    this.#network = opts.network
    this.#ctx = { protocolVersion: opts.protocolVersion ?? PROTOCOL_VERSION, maxBlockPayload: opts.network.maxBlockPayload }
    this.#frames = new FrameDecoder({
      magic: opts.network.magic,
      maxPayload: opts.network.maxMessageBytes,
      commandLimit: (command) => maxPayloadFor(command, this.#ctx),
      unknownCommandLimit: opts.unknownCommandLimit ?? UNKNOWN_COMMAND_LIMIT,
      streamCommands: STREAMED,
      extmsg: opts.network.supportsExtMsg ?? false,
    })
  }

  setProtocolVersion(v: number): void {
    this.#ctx = { ...this.#ctx, protocolVersion: v }
  }

  push(bytes: Uint8Array): CodecEvent[] {
    const sink = this.#sink
    const out: CodecEvent[] = []
    sink.out = out
    sink.ctx = this.#ctx
    try {
      this.#frames.pushTo(bytes, sink)
    } finally {
      sink.out = NO_EVENTS
    }
    return out
  }

  // The decoder delivers straight into push's array (see V1Sink).
  readonly #sink = new V1Sink()

  writeMessage(message: KnownMessage, ctx: CodecContext): number {
    // An extended-message network may need the payload's length before the header: the general path.
    if (this.#network.supportsExtMsg) return this.write(message.command, encodePayload(message, ctx))
    const frame = encodeMessageFrame(this.#network.magic, message, ctx)
    this.#out.push(frame)
    return frame.length
  }

  write(command: string, payload: Uint8Array): number {
    const net = this.#network
    if (net.supportsExtMsg && payload.length > MAX_V1_LENGTH) {
      // BSV extended message: the second header carries a 64-bit length.
      const header = encodeExtHeader(net.magic, command, payload.length)
      this.#out.push(header, payload)
      return header.length + payload.length
    }
    const frame = encodeFrame(net.magic, command, payload)
    this.#out.push(frame)
    return frame.length
  }

  poll(): Uint8Array | undefined {
    return this.#out.poll()
  }
}

const EMPTY = new Uint8Array(0)

/** A sink's array between pushes: frames only arrive during one, so it is never written. */
const NO_EVENTS: CodecEvent[] = []

/**
 * Where a V1Codec's frame decoder delivers during one push: whole frames as
 * a range of the chunk, decoded in place (no frame event or subarray per
 * message), each as a meter event and a message (or 'invalid'); streamed
 * payload events as they are, a meter event before each payload's end. One
 * small object per codec rather than two closures.
 */
class V1Sink implements FrameSink {
  out: CodecEvent[] = NO_EVENTS
  /** The codec's context, set by each push. */
  ctx: CodecContext | undefined = undefined

  frame(command: string, bytes: Uint8Array, start: number, end: number, wireBytes: number): void {
    const out = this.out
    out.push({ type: 'frame', direction: 'in', command, wireBytes })
    try {
      out.push({ type: 'message', message: decodePayloadRange(command, bytes, start, end, this.ctx!), wireBytes })
    } catch (e) {
      if (!isWireError(e)) throw e
      out.push({ type: 'invalid', command, error: e as WireError, wireBytes })
    }
  }

  event(ev: PayloadStartEvent | PayloadChunkEvent | PayloadEndEvent | FrameErrorEvent): void {
    if (ev.type === 'payload-end') this.out.push({ type: 'frame', direction: 'in', command: ev.command, wireBytes: ev.wireBytes })
    this.out.push(ev)
  }
}

/**
 * The bytes a codec has queued to send, in order: `poll` hands them out one
 * array at a time (a FrameCodec's poll), dropping each reference as it goes
 * and reusing the array once it is empty. Both codecs queue through it.
 */
export class SendQueue {
  readonly #items: Uint8Array[] = []
  #head = 0

  /** Queues `bytes` (not copied: the caller gives them up). */
  push(...bytes: Uint8Array[]): void {
    for (const b of bytes) this.#items.push(b)
  }

  /** The next queued array, or undefined when all were handed out. */
  poll(): Uint8Array | undefined {
    if (this.#head >= this.#items.length) {
      this.#items.length = 0
      this.#head = 0
      return undefined
    }
    const b = this.#items[this.#head]!
    this.#items[this.#head++] = EMPTY
    return b
  }
}

/** What a v2 codec is made from (a connection's network, randomness and tuning). */
export interface V2CodecContext {
  readonly network: FramingParams
  /** Keys, their encoding and the garbage come from here (seeded in simulations). */
  readonly random: Random
  readonly protocolVersion?: number
  /** Garbage bytes to send (default: uniform in 0..4094). */
  readonly garbageLen?: number
  /** Content lengths of decoy packets to send before the version packet. */
  readonly decoys?: readonly number[]
}

/**
 * BIP324 v2 support, given to a Peer (or Pool) to speak the encrypted
 * transport: `v2` from `@bitp2p/session/v2`. It is an object passed in,
 * not a default, so an app that never speaks v2 carries none of its code.
 */
export interface V2Support {
  /** A codec for one connection in `role`. */
  codecFor(role: 'initiator' | 'responder', ctx: V2CodecContext): FrameCodec
}
