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
 * Speed: a frame that lies whole inside one chunk (the common case for
 * small messages) is read in place: its header is checked where it lies,
 * its command string comes from a small per-decoder cache of the commands
 * seen, a payload of up to 55 bytes is checksummed with the two-compression
 * short hasher (no allocation), and `pushTo` hands the frame to a sink as a
 * range of the chunk, without an event object or a subarray. Anything else,
 * including every failing check, takes the byte-by-byte path, so errors
 * are the same whatever the path.
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
import { SHORT_HASH_MAX_BYTES, shortChecksum } from '../hash/short-hash.js'
import { CODECS } from '../messages/registry.js'
import {
  COMMAND_BYTES,
  EXT_HEADER_EXTRA_BYTES,
  EXTMSG_COMMAND,
  EXTMSG_LENGTH_MARKER,
  HEADER_BYTES,
  isCommandByte,
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

/**
 * Where `FrameDecoder.pushTo` delivers, in stream order: whole frames as a
 * range of the bytes that hold them (no event object, no subarray), and
 * every other event as `push` would return it.
 */
export interface FrameSink {
  /**
   * A whole, checksum-verified frame whose payload is `bytes[start .. end]`.
   * `bytes` is the pushed chunk or a joined copy; it is not copied, so the
   * sink must copy what it keeps beyond the pushing caller's use of it.
   */
  frame(command: string, bytes: Uint8Array, start: number, end: number, wireBytes: number): void
  /** A streamed-payload event, or the fatal error (always the last). */
  event(ev: PayloadStartEvent | PayloadChunkEvent | PayloadEndEvent | FrameErrorEvent): void
}

/** Bits of a slot number of the known-command table: 2^6 = 64 slots for the registry's commands (about 35). */
const KNOWN_BITS = 6
/** Slots of the known-command table. */
const KNOWN_SLOTS = 1 << KNOWN_BITS
/**
 * Every command the registry has a codec for, by the 12 bytes of its
 * command field (three little-endian words) and its string: an
 * open-addressed table filled once, when the module loads, and only read
 * after that (constant data, not state). Every decoder looks here first, so
 * a new connection finds 'version', 'ping' and the rest without making its
 * own strings or tables. A slot whose string is '' is empty.
 */
const KNOWN_WORDS = new Int32Array(KNOWN_SLOTS * 3)
const KNOWN_NAMES: string[] = new Array<string>(KNOWN_SLOTS).fill('')
for (const { command } of CODECS) {
  const field = new Uint8Array(12)
  for (let i = 0; i < command.length; i++) field[i] = command.charCodeAt(i)
  const w0 = wordAt(field, 0)
  const w1 = wordAt(field, 4)
  const w2 = wordAt(field, 8)
  let slot = slotOf(w0, w1, w2, KNOWN_BITS)
  while (KNOWN_NAMES[slot] !== '') slot = (slot + 1) & (KNOWN_SLOTS - 1)
  KNOWN_WORDS[slot * 3] = w0
  KNOWN_WORDS[slot * 3 + 1] = w1
  KNOWN_WORDS[slot * 3 + 2] = w2
  KNOWN_NAMES[slot] = command
}

/** Bits of a slot number of a decoder's own cache, for commands the registry lacks: 2^4 = 16. */
const COMMAND_CACHE_BITS = 4
/** Commands a decoder's own cache keeps. */
const COMMAND_CACHE_SLOTS = 1 << COMMAND_CACHE_BITS

/** The little-endian word of bytes[o .. o + 4]. */
function wordAt(bytes: Uint8Array, o: number): number {
  return bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)
}

/** A multiplicative hash of a command's three words; its top `bits` bits pick a slot. */
function slotOf(w0: number, w1: number, w2: number, bits: number): number {
  return Math.imul(w0 ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35), 0x9e3779b1) >>> (32 - bits)
}

/** The sink `push` uses: events into an array, frames as FrameEvents. */
class EventCollector implements FrameSink {
  out: FrameDecoderEvent[] = []
  frame(command: string, bytes: Uint8Array, start: number, end: number, wireBytes: number): void {
    const payload = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)
    this.out.push({ type: 'frame', command, payload, wireBytes })
  }
  event(ev: PayloadStartEvent | PayloadChunkEvent | PayloadEndEvent | FrameErrorEvent): void {
    this.out.push(ev)
  }
}

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
  // The magic's bytes, compared in place by the whole-frame path.
  private readonly magic0: number
  private readonly magic1: number
  private readonly magic2: number
  private readonly magic3: number
  private state: State = State.Header
  // The header being gathered when one arrives split across chunks; made on
  // first need (whole frames in one chunk, the common case, never need it).
  private header: Uint8Array | null = null
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
  /**
   * This decoder's cache of commands the registry lacks (see KNOWN_WORDS for
   * the rest): their 12 bytes as three words and their strings, so a
   * repeated one costs a compare instead of a validation and a new string.
   * A slot whose string is '' is empty. Made at the first such command.
   */
  private cacheWords: Int32Array | null = null
  private cacheNames: string[] | null = null
  /** Total bytes consumed since creation. */
  bytesConsumed = 0

  constructor(opts: FrameDecoderOptions) {
    if (opts.magic.length !== 4) throw new WireError('ENCODE_RANGE', 'magic must be 4 bytes')
    this.opts = opts
    this.unknownLimit = Math.min(opts.unknownCommandLimit ?? opts.maxPayload, opts.maxPayload)
    this.magic0 = opts.magic[0]!
    this.magic1 = opts.magic[1]!
    this.magic2 = opts.magic[2]!
    this.magic3 = opts.magic[3]!
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
    const sink = new EventCollector()
    this.pushTo(chunk, sink)
    return sink.out
  }

  /**
   * Feed bytes, delivering to `sink` instead of returning events: the same
   * frames and events in the same order as `push`, without an object per
   * frame (for the layer that decodes payloads, e.g. MessageDecoder). The
   * chunk is not copied. An exception thrown by the sink fails the stream
   * like a framing error (a WireError as itself, anything else as STATE).
   */
  pushTo(chunk: Uint8Array, sink: FrameSink): void {
    if (this.state === State.Failed) {
      sink.event({ type: 'error', error: this.error! })
      return
    }
    let i = 0
    try {
      while (i < chunk.length) {
        if (this.state === State.Header) {
          if (this.headerLen === 0) {
            const next = this.readWholeFrame(chunk, i, sink)
            if (next !== i) {
              i = next
              continue
            }
          }
          i = this.readHeader(chunk, i)
        } else if (this.state === State.ExtHeader) i = this.readExtHeader(chunk, i)
        else i = this.readPayload(chunk, i, sink)
        if (this.state === State.Payload && this.payloadLength === this.received) this.finishPayload(sink)
      }
    } catch (e) {
      this.fail(e instanceof WireError ? e : new WireError('STATE', String(e)), sink)
    } finally {
      this.bytesConsumed += i
    }
  }

  private fail(err: WireError, sink: FrameSink): void {
    this.state = State.Failed
    this.error = err
    this.pieces = []
    this.hasher = null
    sink.event({ type: 'error', error: err })
  }

  /**
   * The whole-frame path: a frame whose header and payload both lie in
   * `chunk` from `i`, that passes every check, is delivered straight from
   * the chunk; returns the offset after it. Returns `i` itself (nothing
   * consumed) for anything else: a frame split across chunks, an extended
   * or streamed one, and every frame that fails a check, which the
   * byte-by-byte path then reads again and reports with its usual error.
   */
  private readWholeFrame(chunk: Uint8Array, i: number, sink: FrameSink): number {
    if (chunk.length - i < HEADER_BYTES) return i
    if (chunk[i] !== this.magic0 || chunk[i + 1] !== this.magic1 || chunk[i + 2] !== this.magic2 || chunk[i + 3] !== this.magic3) {
      return i
    }
    const length = (chunk[i + 16]! | (chunk[i + 17]! << 8) | (chunk[i + 18]! << 16)) + chunk[i + 19]! * 0x1000000
    const start = i + HEADER_BYTES
    const end = start + length
    if (end > chunk.length) return i
    const command = this.cachedCommand(chunk, i + 4)
    if (command === undefined || command === EXTMSG_COMMAND) return i
    if (length > this.opts.maxPayload || length > (this.opts.commandLimit?.(command) ?? this.unknownLimit)) return i
    if (this.opts.streamCommands !== undefined && this.opts.streamCommands.has(command)) return i
    const expected = (chunk[i + 20]! << 24) | (chunk[i + 21]! << 16) | (chunk[i + 22]! << 8) | chunk[i + 23]!
    if (length <= SHORT_HASH_MAX_BYTES) {
      if (shortChecksum(chunk, start, end) !== expected) return i
    } else {
      const digest = sha256d(chunk.subarray(start, end))
      if (((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) !== expected) return i
    }
    sink.frame(command, chunk, start, end, HEADER_BYTES + length)
    return end
  }

  /**
   * The command in the 12 bytes at `o`, from the cache when these bytes were
   * seen before; undefined when they are no valid command (readCommand then
   * says why).
   */
  private cachedCommand(bytes: Uint8Array, o: number): string | undefined {
    const w0 = wordAt(bytes, o)
    const w1 = wordAt(bytes, o + 4)
    const w2 = wordAt(bytes, o + 8)
    // The registry's commands: probe the known table until a match or an empty slot.
    for (let slot = slotOf(w0, w1, w2, KNOWN_BITS); ; slot = (slot + 1) & (KNOWN_SLOTS - 1)) {
      const name = KNOWN_NAMES[slot]!
      if (name === '') break
      const k = slot * 3
      if (KNOWN_WORDS[k] === w0 && KNOWN_WORDS[k + 1] === w1 && KNOWN_WORDS[k + 2] === w2) return name
    }
    // Anything else: this decoder's own cache, made at its first such command.
    const words = (this.cacheWords ??= new Int32Array(COMMAND_CACHE_SLOTS * 3))
    const names = (this.cacheNames ??= new Array<string>(COMMAND_CACHE_SLOTS).fill(''))
    const slot = slotOf(w0, w1, w2, COMMAND_CACHE_BITS)
    const k = slot * 3
    if (words[k] === w0 && words[k + 1] === w1 && words[k + 2] === w2) {
      const name = names[slot]!
      if (name !== '') return name
    }
    const name = commandAt(bytes, o)
    if (name === undefined) return undefined
    words[k] = w0
    words[k + 1] = w1
    words[k + 2] = w2
    names[slot] = name
    return name
  }

  private readHeader(chunk: Uint8Array, i: number): number {
    const h = (this.header ??= new Uint8Array(HEADER_BYTES + EXT_HEADER_EXTRA_BYTES))
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
    // readHeader made it.
    const h = this.header!
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

  private readPayload(chunk: Uint8Array, i: number, sink: FrameSink): number {
    const take = Math.min(this.payloadLength - this.received, chunk.length - i)
    const piece = chunk.subarray(i, i + take)
    if (this.streaming) {
      if (this.received === 0) sink.event({ type: 'payload-start', command: this.command, length: this.payloadLength })
      if (this.checksummed) (this.hasher ??= createSha256()).update(piece)
      sink.event({ type: 'payload-chunk', command: this.command, offset: this.received, bytes: piece })
    } else {
      // Hash incrementally only when a long payload spans chunks; a payload
      // inside one chunk, or a short one (joined cheaply), is hashed in one
      // call at the end.
      if (this.checksummed && (this.hasher !== null || (take < this.payloadLength && this.payloadLength > SHORT_HASH_MAX_BYTES))) {
        ;(this.hasher ??= createSha256()).update(piece)
      }
      this.pieces.push(piece)
    }
    this.received += take
    return i + take
  }

  private finishPayload(sink: FrameSink): void {
    const command = this.command
    const length = this.payloadLength
    let payload: Uint8Array | null = null
    if (!this.streaming) payload = joinPieces(this.pieces, length)
    if (this.checksummed) {
      // readHeader made it: a payload in progress always went through it.
      const h = this.header!
      const expected = (h[20]! << 24) | (h[21]! << 16) | (h[22]! << 8) | h[23]!
      let actual: number
      if (this.hasher === null && length <= SHORT_HASH_MAX_BYTES) {
        actual = shortChecksum(payload ?? EMPTY, 0, length)
      } else {
        const digest = this.hasher ? sha256(this.hasher.digest()) : sha256d(payload ?? EMPTY)
        actual = (digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!
      }
      if (actual !== expected) {
        throw new WireError('BAD_CHECKSUM', `${command}: checksum mismatch`, {
          command,
          expected: hexWord(expected),
          actual: hexWord(actual),
        })
      }
    }
    const wireBytes = this.headerBytes + length
    // Reset before delivering: the frame is done whatever the sink does.
    this.state = State.Header
    this.headerLen = 0
    this.pieces = []
    this.hasher = null
    this.received = 0
    this.payloadLength = 0
    if (this.streaming) {
      if (length === 0) sink.event({ type: 'payload-start', command, length })
      sink.event({ type: 'payload-end', command, length, wireBytes })
    } else {
      sink.frame(command, payload!, 0, length, wireBytes)
    }
  }
}

/** The payload of an empty streamed frame, for its checksum. */
const EMPTY = new Uint8Array(0)

/**
 * The command in the 12-byte field at `offset` (printable ASCII, then only
 * NUL padding, as readCommand), or undefined when the field is not one.
 */
function commandAt(bytes: Uint8Array, offset: number): string | undefined {
  let end = offset
  const stop = offset + COMMAND_BYTES
  while (end < stop && bytes[end] !== 0) {
    if (!isCommandByte(bytes[end]!)) return undefined
    end++
  }
  if (end === offset) return undefined
  for (let i = end; i < stop; i++) if (bytes[i] !== 0) return undefined
  let s = ''
  for (let i = offset; i < end; i++) s += String.fromCharCode(bytes[i]!)
  return s
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

/** A checksum word (the first 4 digest bytes, big-endian) as 8 hex digits, as the bytes read. */
function hexWord(w: number): string {
  return (w >>> 0).toString(16).padStart(8, '0')
}
