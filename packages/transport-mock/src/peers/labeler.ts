/**
 * Trace labels: the P2P commands carried by each delivered chunk.
 *
 * The mock network never parses bytes (see trace.ts). `CommandLabeler` is a
 * `DeliverHook` that follows the v1 framing of each direction of each
 * connection and labels a data event with the commands whose 24-byte
 * headers completed in that chunk, joined by '+' ("version",
 * "verack+sendheaders"). A chunk that only carries the rest of a payload is
 * labelled with that command and a trailing '~' ("block~").
 *
 * It reads headers only: payloads are skipped by their declared length, not
 * buffered, hashed or decoded, so labelling costs a few comparisons per
 * chunk and never allocates from a length on the wire. A header whose magic
 * is not the network's, or whose command field is not printable ASCII,
 * labels the chunk BAD_FRAME_LABEL and the rest of that direction
 * UNFRAMED_LABEL: the receiving decoder has failed there too.
 *
 * The state of a direction is dropped when its receiving end closes, so a
 * long simulation holds state only for live connections.
 */
import { isCommandByte } from '@bitp2p/wire/codecs'
import { COMMAND_BYTES, HEADER_BYTES } from '@bitp2p/wire/limits'
import type { DeliverHook, TraceEvent } from '../trace.js'

/** Label of a chunk whose frame header is not a valid header of this network. */
export const BAD_FRAME_LABEL = '!bad-frame'
/** Label of every chunk after a bad frame header on the same direction. */
export const UNFRAMED_LABEL = '!unframed'
/** Suffix of a label for a chunk that continues a payload begun earlier. */
export const CONTINUATION_SUFFIX = '~'

// Offsets in the v1 header.
const MAGIC_BYTES = 4
const LENGTH_OFFSET = 16
/** Distinct command names a labeler keeps as strings for reuse (a hostile stream's inventions beyond it are built each time). */
const COMMAND_CACHE_SIZE = 64

/**
 * The command names met so far, so a header's command field becomes a
 * string without building one per frame. Shared by a labeler's scanners.
 */
class CommandNames {
  // Command fields (12 bytes each, zero-padded) and their names, in order of first sight.
  readonly #fields = new Uint8Array(COMMAND_CACHE_SIZE * COMMAND_BYTES)
  readonly #names: string[] = []

  /** The command in `h[at, at + COMMAND_BYTES)`, or undefined if it is not a valid command field. */
  read(h: Uint8Array, at: number): string | undefined {
    const fields = this.#fields
    for (let k = 0, f = 0; k < this.#names.length; k++, f += COMMAND_BYTES) {
      let i = 0
      while (i < COMMAND_BYTES && fields[f + i] === h[at + i]) i++
      if (i === COMMAND_BYTES) return this.#names[k]
    }
    let command = ''
    let i = at
    const end = at + COMMAND_BYTES
    for (; i < end && h[i] !== 0; i++) {
      if (!isCommandByte(h[i]!)) return undefined
      command += String.fromCharCode(h[i]!)
    }
    if (command === '') return undefined
    for (; i < end; i++) if (h[i] !== 0) return undefined
    if (this.#names.length < COMMAND_CACHE_SIZE) {
      fields.set(h.subarray(at, end), this.#names.length * COMMAND_BYTES)
      this.#names.push(command)
    }
    return command
  }
}

/** Framing state of one direction of one connection. */
class DirectionScanner {
  readonly #magic: Uint8Array
  readonly #names: CommandNames
  // A header split over chunks is gathered here (allocated on the first split).
  #header: Uint8Array | undefined
  #headerLen = 0
  /** Payload bytes of the current frame still to skip. */
  #skip = 0
  #command = ''
  #broken = false

  constructor(magic: Uint8Array, names: CommandNames) {
    this.#magic = magic
    this.#names = names
  }

  /** The label of one chunk, advancing the framing state. */
  scan(bytes: Uint8Array): string {
    if (this.#broken) return UNFRAMED_LABEL
    let label: string | undefined
    const continues = this.#skip > 0 || this.#headerLen > 0
    let o = 0
    while (o < bytes.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, bytes.length - o)
        this.#skip -= n
        o += n
        continue
      }
      let command: string | undefined
      if (this.#headerLen === 0 && bytes.length - o >= HEADER_BYTES) {
        // The whole header lies in this chunk: read it where it is.
        command = this.#readHeader(bytes, o)
        o += HEADER_BYTES
      } else {
        const header = (this.#header ??= new Uint8Array(HEADER_BYTES))
        const n = Math.min(HEADER_BYTES - this.#headerLen, bytes.length - o)
        header.set(bytes.subarray(o, o + n), this.#headerLen)
        this.#headerLen += n
        o += n
        if (this.#headerLen < HEADER_BYTES) break
        this.#headerLen = 0
        command = this.#readHeader(header, 0)
      }
      if (command === undefined) {
        this.#broken = true
        return BAD_FRAME_LABEL
      }
      this.#command = command
      label = label === undefined ? command : `${label}+${command}`
    }
    if (label !== undefined) return label
    return continues && this.#command !== '' ? this.#command + CONTINUATION_SUFFIX : CONTINUATION_SUFFIX
  }

  // The command of the complete header at h[o, o + HEADER_BYTES), or
  // undefined if it is not framing of this network. Sets #skip to the
  // payload length.
  #readHeader(h: Uint8Array, o: number): string | undefined {
    for (let i = 0; i < MAGIC_BYTES; i++) if (h[o + i] !== this.#magic[i]) return undefined
    const command = this.#names.read(h, o + MAGIC_BYTES)
    if (command === undefined) return undefined
    const l = o + LENGTH_OFFSET
    this.#skip = (h[l]! | (h[l + 1]! << 8) | (h[l + 2]! << 16) | (h[l + 3]! << 24)) >>> 0
    return command
  }
}

/**
 * Labels trace events with P2P commands. Register it with
 * `net.onDeliver(labeler.hook)`; labels then enter the trace hash.
 */
export class CommandLabeler {
  readonly #magic: Uint8Array
  readonly #names = new CommandNames()
  // Per connection id, the scanners of its two directions, told apart by
  // sender address. A lookup table only, never iterated.
  readonly #connections = new Map<number, ConnectionScanners>()

  /** `magic`: the network's 4-byte message start. */
  constructor(magic: Uint8Array) {
    if (magic.length !== MAGIC_BYTES) throw new RangeError(`CommandLabeler: magic must be ${MAGIC_BYTES} bytes, got ${magic.length}`)
    this.#magic = magic.slice()
  }

  /** Connections currently followed (live ones that carried data). */
  get tracked(): number {
    return this.#connections.size
  }

  /** The hook to pass to `MockNetwork.onDeliver`. */
  readonly hook: DeliverHook = (event: TraceEvent, bytes: Uint8Array | undefined): string | undefined => {
    const c = this.#connections.get(event.conn)
    if (event.kind === 'close') {
      // The receiving end closed: nothing more is delivered to it.
      if (c === undefined) return undefined
      if (c.fromA === event.from) c.a = undefined
      else if (c.fromB === event.from) c.b = undefined
      if (c.a === undefined && c.b === undefined) this.#connections.delete(event.conn)
      return undefined
    }
    if (event.kind !== 'data' || bytes === undefined) return undefined
    if (c === undefined) {
      const a = new DirectionScanner(this.#magic, this.#names)
      this.#connections.set(event.conn, { fromA: event.from, a, fromB: undefined, b: undefined })
      return a.scan(bytes)
    }
    if (c.fromA === event.from) return (c.a ??= new DirectionScanner(this.#magic, this.#names)).scan(bytes)
    if (c.fromB === undefined) c.fromB = event.from
    return (c.b ??= new DirectionScanner(this.#magic, this.#names)).scan(bytes)
  }
}

/** The two directions of one connection, keyed by sender address. */
interface ConnectionScanners {
  fromA: string
  a: DirectionScanner | undefined
  fromB: string | undefined
  b: DirectionScanner | undefined
}
