/**
 * The streaming (push) frame decoder.
 *
 * `push(chunk)` consumes bytes in any chunking and returns the events that
 * became complete; needing more bytes is a normal, empty result. Checks run
 * in a fixed order, each as soon as its bytes are present and before any
 * payload is buffered:
 *
 *   1. magic           (byte by byte: garbage is dropped at its first byte)
 *   2. command         (printable ASCII, NUL padded)
 *   3. global cap      (network maxMessageBytes)
 *   4. per-command cap (the codec's maxPayload; unknown commands get their own cap)
 *   5. checksum        (hashed incrementally as payload bytes arrive)
 *
 * Decoding the payload into a typed message is the next layer's job
 * (MessageDecoder). Because every check depends only on the bytes, the same
 * bytes in any chunking give the same frames and the same error (tested).
 *
 * A framing error is fatal: the stream has lost sync and the decoder stays
 * failed, returning the same error for any later push.
 *
 * Memory: payload bytes are kept as the chunks that carried them and joined
 * once when the frame completes, so a peer must actually send N bytes to make
 * us hold N bytes; no buffer is sized from the length field alone. At most
 * one frame is held. Payloads of `streamCommands` are not held at all: they
 * are handed out chunk by chunk as 'payload-chunk' events.
 */
import { WireError } from '../errors.js'
import { toHex } from '../bytes/hex.js'
import { createSha256, sha256, sha256d, type Sha256Hasher } from '../hash/sha256.js'
import {
  COMMAND_BYTES,
  EXT_HEADER_EXTRA_BYTES,
  EXTMSG_COMMAND,
  EXTMSG_LENGTH_MARKER,
  HEADER_BYTES,
  readCommand,
} from './header.js'

/** What a `FrameDecoder` accepts: the network, the payload caps, and which commands to stream. */
export interface FrameDecoderOptions {
  /** The network's 4 magic bytes. */
  readonly magic: Uint8Array
  /** Global cap on any payload, in bytes (network maxMessageBytes). */
  readonly maxPayload: number
  /**
   * Per-command cap. Return undefined for a command without a codec; such
   * frames are capped by `unknownCommandLimit`.
   */
  readonly commandLimit?: (command: string) => number | undefined
  /** Cap for commands `commandLimit` does not know. Default: `maxPayload`. */
  readonly unknownCommandLimit?: number
  /** Commands whose payload is streamed in pieces instead of buffered (e.g. 'block'). */
  readonly streamCommands?: ReadonlySet<string>
  /** Accept BSV extended messages ('extmsg' header with a u64 length). Default false. */
  readonly extmsg?: boolean
}

/** A complete frame with its (checksum-verified) payload. */
export interface FrameEvent {
  readonly type: 'frame'
  readonly command: string
  readonly payload: Uint8Array
  /** Total bytes on the wire including the header. */
  readonly wireBytes: number
}
/** Start of a streamed payload. `length` may exceed 2^32 for extended messages. */
export interface PayloadStartEvent {
  readonly type: 'payload-start'
  readonly command: string
  readonly length: number
}
/** Part of a streamed payload; `offset` is its position within the payload. */
export interface PayloadChunkEvent {
  readonly type: 'payload-chunk'
  readonly command: string
  readonly offset: number
  readonly bytes: Uint8Array
}
/** End of a streamed payload; its checksum (if any) has been verified. */
export interface PayloadEndEvent {
  readonly type: 'payload-end'
  readonly command: string
  readonly length: number
  readonly wireBytes: number
}
/** A fatal framing error; always the last event. */
export interface FrameErrorEvent {
  readonly type: 'error'
  readonly error: WireError
}

/**
 * What `FrameDecoder.push` returns: whole frames, or for `streamCommands` a
 * payload-start / payload-chunk... / payload-end run; an 'error' event is
 * always the last one.
 */
export type FrameDecoderEvent = FrameEvent | PayloadStartEvent | PayloadChunkEvent | PayloadEndEvent | FrameErrorEvent

const enum State {
  Header,
  ExtHeader,
  Payload,
  Failed,
}

/**
 * Splits a byte stream into v1 frames (see the module comment for the order
 * of checks). Push chunks as they arrive; each `push` returns the events that
 * became complete. The first framing error is fatal and sticky.
 *
 * The constructor throws ENCODE_RANGE unless `magic` is 4 bytes.
 */
export class FrameDecoder {
  private readonly opts: FrameDecoderOptions
  private readonly unknownLimit: number
  private state: State = State.Header
  private readonly header = new Uint8Array(HEADER_BYTES + EXT_HEADER_EXTRA_BYTES)
  private headerLen = 0
  private command = ''
  private payloadLength = 0
  private received = 0
  private headerBytes = HEADER_BYTES
  private streaming = false
  private extended = false
  private checksummed = true
  private pieces: Uint8Array[] = []
  private hasher: Sha256Hasher | null = null
  private error: WireError | null = null
  /** Total bytes consumed since creation. */
  bytesConsumed = 0

  constructor(opts: FrameDecoderOptions) {
    if (opts.magic.length !== 4) throw new WireError('ENCODE_RANGE', 'magic must be 4 bytes')
    this.opts = opts
    this.unknownLimit = Math.min(opts.unknownCommandLimit ?? opts.maxPayload, opts.maxPayload)
  }

  /** True once a framing error has occurred. */
  get failed(): boolean {
    return this.state === State.Failed
  }

  /** Bytes held for the frame in progress (header + buffered payload). */
  get bufferedBytes(): number {
    return this.state === State.Payload && !this.streaming ? this.headerBytes + this.received : this.headerLen
  }

  /** The command of the frame in progress, once its header has been read. */
  get currentCommand(): string | undefined {
    return this.state === State.Payload ? this.command : undefined
  }

  /**
   * Feed bytes. The chunk is not copied when a whole payload lies inside it,
   * so the caller must not modify it afterwards.
   */
  push(chunk: Uint8Array): FrameDecoderEvent[] {
    const out: FrameDecoderEvent[] = []
    if (this.state === State.Failed) {
      out.push({ type: 'error', error: this.error! })
      return out
    }
    let i = 0
    try {
      while (i < chunk.length) {
        if (this.state === State.Header) i = this.readHeader(chunk, i)
        else if (this.state === State.ExtHeader) i = this.readExtHeader(chunk, i)
        else i = this.readPayload(chunk, i, out)
        if (this.state === State.Payload && this.payloadLength === this.received) this.finishPayload(out)
      }
    } catch (e) {
      this.fail(e instanceof WireError ? e : new WireError('STATE', String(e)), out)
    } finally {
      this.bytesConsumed += i
    }
    return out
  }

  private fail(err: WireError, out: FrameDecoderEvent[]): void {
    this.state = State.Failed
    this.error = err
    this.pieces = []
    this.hasher = null
    out.push({ type: 'error', error: err })
  }

  private readHeader(chunk: Uint8Array, i: number): number {
    const h = this.header
    const magic = this.opts.magic
    // Magic: judged once all four bytes are in, so the error names them all
    // (which network they belong to, if any) whatever the chunking.
    if (this.headerLen < 4) {
      while (this.headerLen < 4 && i < chunk.length) h[this.headerLen++] = chunk[i++]!
      if (this.headerLen < 4) return i
      for (let k = 0; k < 4; k++) {
        if (h[k] === magic[k]) continue
        throw new WireError('BAD_MAGIC', 'wrong network magic', {
          offset: k,
          expected: magic[k],
          actual: h[k],
          received: toHex(h.subarray(0, 4)),
        })
      }
    }
    const take = Math.min(HEADER_BYTES - this.headerLen, chunk.length - i)
    h.set(chunk.subarray(i, i + take), this.headerLen)
    const before = this.headerLen
    this.headerLen += take
    i += take
    // Command as soon as its 12 bytes are here, the caps as soon as the length is.
    if (before < 16 && this.headerLen >= 16) this.command = readCommand(h, 4)
    if (before < 20 && this.headerLen >= 20) {
      const length = (h[16]! | (h[17]! << 8) | (h[18]! << 16)) + h[19]! * 0x1000000
      this.extended = this.opts.extmsg === true && this.command === EXTMSG_COMMAND && length === EXTMSG_LENGTH_MARKER
      if (!this.extended) this.checkLimits(this.command, length)
      this.payloadLength = length
    }
    if (this.headerLen < HEADER_BYTES) return i
    if (this.extended) this.state = State.ExtHeader
    else this.beginPayload(this.command, this.payloadLength, HEADER_BYTES, true)
    return i
  }

  private readExtHeader(chunk: Uint8Array, i: number): number {
    const h = this.header
    const end = HEADER_BYTES + EXT_HEADER_EXTRA_BYTES
    const take = Math.min(end - this.headerLen, chunk.length - i)
    h.set(chunk.subarray(i, i + take), this.headerLen)
    const before = this.headerLen
    this.headerLen += take
    i += take
    if (before < HEADER_BYTES + COMMAND_BYTES && this.headerLen >= HEADER_BYTES + COMMAND_BYTES) {
      this.command = readCommand(h, HEADER_BYTES)
    }
    if (this.headerLen < end) return i
    const o = HEADER_BYTES + COMMAND_BYTES
    const lo = (h[o]! | (h[o + 1]! << 8) | (h[o + 2]! << 16)) + h[o + 3]! * 0x1000000
    const hi = (h[o + 4]! | (h[o + 5]! << 8) | (h[o + 6]! << 16)) + h[o + 7]! * 0x1000000
    if (hi > 0x1fffff) {
      throw new WireError('OVERSIZE', 'extended message length exceeds 2^53-1', { command: this.command, field: 'extmsg length' })
    }
    const length = hi * 0x100000000 + lo
    this.checkLimits(this.command, length)
    this.beginPayload(this.command, length, end, false)
    return i
  }

  private checkLimits(command: string, length: number): void {
    const { maxPayload, commandLimit } = this.opts
    if (length > maxPayload) {
      throw new WireError('OVERSIZE', `${command}: payload of ${length} bytes exceeds the network cap ${maxPayload}`, {
        command,
        limit: maxPayload,
        actual: length,
        field: 'maxMessageBytes',
      })
    }
    const known = commandLimit?.(command)
    const limit = known ?? this.unknownLimit
    if (length > limit) {
      throw new WireError('OVERSIZE', `${command}: payload of ${length} bytes exceeds its cap ${limit}`, {
        command,
        limit,
        actual: length,
        field: known === undefined ? 'unknownCommandLimit' : 'maxPayload',
      })
    }
  }

  private beginPayload(command: string, length: number, headerBytes: number, checksummed: boolean): void {
    this.state = State.Payload
    this.payloadLength = length
    this.received = 0
    this.headerBytes = headerBytes
    this.checksummed = checksummed
    this.streaming = this.opts.streamCommands?.has(command) ?? false
    this.pieces = []
    this.hasher = null
  }

  private readPayload(chunk: Uint8Array, i: number, out: FrameDecoderEvent[]): number {
    const take = Math.min(this.payloadLength - this.received, chunk.length - i)
    const piece = chunk.subarray(i, i + take)
    if (this.streaming) {
      if (this.received === 0) out.push({ type: 'payload-start', command: this.command, length: this.payloadLength })
      if (this.checksummed) (this.hasher ??= createSha256()).update(piece)
      out.push({ type: 'payload-chunk', command: this.command, offset: this.received, bytes: piece })
    } else {
      // Hash incrementally only when the payload spans chunks; a payload
      // inside one chunk is hashed in one call at the end.
      if (this.checksummed && (this.hasher !== null || take < this.payloadLength)) {
        ;(this.hasher ??= createSha256()).update(piece)
      }
      this.pieces.push(piece)
    }
    this.received += take
    return i + take
  }

  private finishPayload(out: FrameDecoderEvent[]): void {
    const command = this.command
    const length = this.payloadLength
    let payload: Uint8Array | null = null
    if (!this.streaming) payload = joinPieces(this.pieces, length)
    if (this.checksummed) {
      const digest = this.hasher ? sha256(this.hasher.digest()) : sha256d(payload ?? new Uint8Array(0))
      const h = this.header
      if (digest[0] !== h[20] || digest[1] !== h[21] || digest[2] !== h[22] || digest[3] !== h[23]) {
        throw new WireError('BAD_CHECKSUM', `${command}: checksum mismatch`, {
          command,
          expected: hex4(h, 20),
          actual: hex4(digest, 0),
        })
      }
    }
    const wireBytes = this.headerBytes + length
    if (this.streaming) {
      if (length === 0) out.push({ type: 'payload-start', command, length })
      out.push({ type: 'payload-end', command, length, wireBytes })
    } else {
      out.push({ type: 'frame', command, payload: payload!, wireBytes })
    }
    this.state = State.Header
    this.headerLen = 0
    this.pieces = []
    this.hasher = null
    this.received = 0
    this.payloadLength = 0
  }
}

function joinPieces(pieces: Uint8Array[], length: number): Uint8Array {
  if (pieces.length === 1) return pieces[0]!
  const out = new Uint8Array(length)
  let o = 0
  for (const p of pieces) {
    out.set(p, o)
    o += p.length
  }
  return out
}

function hex4(b: Uint8Array, o: number): string {
  let s = ''
  for (let i = o; i < o + 4; i++) s += b[i]!.toString(16).padStart(2, '0')
  return s
}
