/**
 * Byte and message counts per command, taken from the frames as they pass
 * through a transport.
 *
 * `FrameMeter` walks a byte stream frame by frame: it reads each 24-byte
 * header (magic 4, command 12, length 4, checksum 4), attributes the header
 * and `length` payload bytes to the command, and skips the payload. It
 * never buffers a payload, so it costs O(1) memory however big the frames.
 *
 * Without a network it validates nothing (the peer's decoder does that and
 * closes a broken stream): a command that is not NUL-padded printable ASCII
 * is counted as UNKNOWN_COMMAND_LABEL. Given the network, it also checks the
 * magic (a stream that loses it cannot be followed: the rest is counted as
 * UNFRAMED_LABEL) and, where the network has BSV extended messages, reads
 * their second header (real command, u64 length) as the decoder does.
 *
 * An optional `onFrame(command, frameBytes)` hears each frame once its last
 * byte has passed (a view or a log can show messages in stream order).
 *
 * `CommandMeter` keeps the same totals from whole frames a connection
 * reports (what the pool uses: it works for v2's encrypted stream too).
 */
import { type FramingParams } from '@bitp2p/wire'
import { EXTMSG_COMMAND, EXTMSG_LENGTH_MARKER, isCommandByte } from '@bitp2p/wire/codecs'
import { COMMAND_BYTES, EXT_HEADER_EXTRA_BYTES, HEADER_BYTES } from '@bitp2p/wire/limits'
import { UNKNOWN_OTHER } from './fsm/peer.js'

/** Bytes of a v1 frame header (wire's HEADER_BYTES). */
export const FRAME_HEADER_BYTES = HEADER_BYTES
/** Label of frames whose command field is not printable ASCII. */
export const UNKNOWN_COMMAND_LABEL = '(invalid)'
/** Label of valid commands beyond MAX_METERED_COMMANDS (the same bucket as the peer's unknown-command counts). */
export const OVERFLOW_COMMAND_LABEL = UNKNOWN_OTHER
/** Label of what follows a frame header with the wrong magic (only checked when the meter knows the network). */
export const UNFRAMED_LABEL = '(unframed)'
/** Distinct commands counted by name per meter; the rest go under OVERFLOW_COMMAND_LABEL (bounds memory). */
export const MAX_METERED_COMMANDS = 64

/** Offset of the length field in the v1 header (after magic and command). */
const LENGTH_OFFSET = 4 + COMMAND_BYTES
/** Largest high word of a u64 extmsg length that still gives an exact JS number (2^53 - 1). */
const MAX_SAFE_HIGH_WORD = 0x1fffff

/** Totals for one command in one direction. */
export interface CommandCount {
  messages: number
  bytes: number
}

/** Counts per command, in order of first appearance. */
export type CommandCounts = Map<string, CommandCount>

/** Options of a FrameMeter. */
export interface FrameMeterOptions {
  /**
   * The stream's network: its magic is checked, and with `supportsExtMsg`
   * BSV extended messages are read. Without it the meter trusts the framing.
   */
  readonly network?: Pick<FramingParams, 'magic' | 'supportsExtMsg'>
  /**
   * Called once per frame when its last byte has passed, with the label it
   * was counted under and its size (headers included). Once for the
   * UNFRAMED_LABEL header too, never for the bytes after it.
   */
  readonly onFrame?: (command: string, frameBytes: number) => void
}

/** Add `from` into `into` (for pool-wide totals). */
export function addCounts(into: CommandCounts, from: ReadonlyMap<string, CommandCount>): void {
  for (const [cmd, c] of from) {
    const t = into.get(cmd)
    if (t) {
      t.messages += c.messages
      t.bytes += c.bytes
    } else into.set(cmd, { messages: c.messages, bytes: c.bytes })
  }
}

/** The command at `offset` (12 bytes), or undefined when it is not printable ASCII then NUL padding. */
function commandAt(h: Uint8Array, offset: number): string | undefined {
  let s = ''
  let end = false
  for (let i = offset; i < offset + COMMAND_BYTES; i++) {
    const b = h[i]!
    if (b === 0) {
      end = true
      continue
    }
    if (end || !isCommandByte(b)) return undefined
    s += String.fromCharCode(b)
  }
  return s === '' ? undefined : s
}

/** u32 little-endian at `o`. */
function u32At(h: Uint8Array, o: number): number {
  return (h[o]! | (h[o + 1]! << 8) | (h[o + 2]! << 16)) + h[o + 3]! * 0x1000000
}

/** Counts frames in a byte stream (see the module doc). */
export class FrameMeter {
  readonly counts: CommandCounts = new Map()
  /** Every byte seen. */
  totalBytes = 0
  readonly #magic: Uint8Array | undefined
  readonly #extmsg: boolean
  readonly #onFrame: ((command: string, frameBytes: number) => void) | undefined
  /** Room for the v1 header and, for an extended message, its second header. */
  readonly #header = new Uint8Array(HEADER_BYTES + EXT_HEADER_EXTRA_BYTES)
  #headerFill = 0
  /** Header bytes wanted before the current frame's payload: 24, or 44 for an extended message. */
  #headerWant = HEADER_BYTES
  /** Payload bytes of the current frame still to skip. */
  #skip = 0
  /** Label and size of the current frame, reported when its last byte has passed. */
  #label = ''
  #frameBytes = 0
  /** The magic was lost: no more frames in this stream. */
  #unframed = false

  constructor(options: FrameMeterOptions = {}) {
    this.#magic = options.network?.magic
    this.#extmsg = options.network?.supportsExtMsg === true
    this.#onFrame = options.onFrame
  }

  /** Count the frames in `bytes`, the next piece of the stream in any chunking; payloads are skipped, never held. */
  push(bytes: Uint8Array): void {
    this.totalBytes += bytes.length
    let i = 0
    while (i < bytes.length) {
      if (this.#unframed) {
        this.counts.get(UNFRAMED_LABEL)!.bytes += bytes.length - i
        return
      }
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, bytes.length - i)
        this.#skip -= n
        i += n
        if (this.#skip === 0) this.#onFrame?.(this.#label, this.#frameBytes)
        continue
      }
      const n = Math.min(this.#headerWant - this.#headerFill, bytes.length - i)
      this.#header.set(bytes.subarray(i, i + n), this.#headerFill)
      this.#headerFill += n
      i += n
      if (this.#headerFill < this.#headerWant) break
      this.#readHeader()
    }
  }

  /** A whole header is in: count the frame, then skip its payload. */
  #readHeader(): void {
    const h = this.#header
    if (this.#headerWant === HEADER_BYTES) {
      if (this.#magic && !(h[0] === this.#magic[0] && h[1] === this.#magic[1] && h[2] === this.#magic[2] && h[3] === this.#magic[3])) {
        return this.#lose(HEADER_BYTES)
      }
      const length = u32At(h, LENGTH_OFFSET)
      const command = commandAt(h, 4)
      if (this.#extmsg && command === EXTMSG_COMMAND && length === EXTMSG_LENGTH_MARKER) {
        // The real command and length follow in the second header.
        this.#headerWant = HEADER_BYTES + EXT_HEADER_EXTRA_BYTES
        return
      }
      this.#begin(command, HEADER_BYTES, length)
      return
    }
    const o = HEADER_BYTES + COMMAND_BYTES
    const hi = u32At(h, o + 4)
    // A length past 2^53 cannot be skipped exactly (the decoder refuses it too).
    if (hi > MAX_SAFE_HIGH_WORD) return this.#lose(HEADER_BYTES + EXT_HEADER_EXTRA_BYTES)
    this.#begin(commandAt(h, HEADER_BYTES), HEADER_BYTES + EXT_HEADER_EXTRA_BYTES, hi * 0x100000000 + u32At(h, o))
  }

  #begin(command: string | undefined, headerBytes: number, length: number): void {
    this.#headerFill = 0
    this.#headerWant = HEADER_BYTES
    let label = command ?? UNKNOWN_COMMAND_LABEL
    if (!this.counts.has(label) && this.counts.size >= MAX_METERED_COMMANDS) label = command === undefined ? UNKNOWN_COMMAND_LABEL : OVERFLOW_COMMAND_LABEL
    this.#count(label, headerBytes + length)
    this.#label = label
    this.#frameBytes = headerBytes + length
    this.#skip = length
    if (length === 0) this.#onFrame?.(label, headerBytes)
  }

  /** The stream cannot be followed from here: count the header read, and later bytes, as unframed. */
  #lose(headerBytes: number): void {
    this.#unframed = true
    this.#count(UNFRAMED_LABEL, headerBytes)
    this.#onFrame?.(UNFRAMED_LABEL, headerBytes)
  }

  #count(label: string, bytes: number): void {
    const c = this.counts.get(label)
    if (c) {
      c.messages++
      c.bytes += bytes
    } else this.counts.set(label, { messages: 1, bytes })
  }
}

/**
 * Per-command totals of one direction of one connection, fed with whole
 * frames (the Peer's 'frame' events: the connection machine parses the
 * stream, v1 or v2, so nothing else has to). At most MAX_METERED_COMMANDS
 * names are kept; the rest count under OVERFLOW_COMMAND_LABEL.
 */
export class CommandMeter {
  readonly counts: CommandCounts = new Map()
  /** Bytes of every frame counted. */
  totalBytes = 0

  /** Count one frame of `command`, `wireBytes` long. */
  count(command: string, wireBytes: number): void {
    this.totalBytes += wireBytes
    const label = this.counts.has(command) || this.counts.size < MAX_METERED_COMMANDS ? command : OVERFLOW_COMMAND_LABEL
    const c = this.counts.get(label)
    if (c) {
      c.messages++
      c.bytes += wireBytes
    } else this.counts.set(label, { messages: 1, bytes: wireBytes })
  }
}
