/**
 * Byte and message counts per command, taken from the frames as they pass
 * through a transport.
 *
 * `FrameMeter` walks a byte stream frame by frame: it reads each 24-byte
 * header (magic 4, command 12, length 4, checksum 4), attributes the header
 * and `length` payload bytes to the command, and skips the payload. It
 * never buffers a payload, so it costs O(1) memory however big the frames.
 * It validates nothing (the peer's decoder does that and closes a broken
 * stream); a command that is not NUL-padded printable ASCII is counted as
 * UNKNOWN_COMMAND_LABEL.
 *
 * `MeteredTransport` wraps a Transport with one meter per direction, so a
 * pool can count every peer's traffic without the Peer driver's help.
 */
import type { PeerAddress, Transport, TransportError } from '../transport.js'

/** Bytes of a v1 frame header. */
export const FRAME_HEADER_BYTES = 24
/** Label of frames whose command field is not printable ASCII. */
export const UNKNOWN_COMMAND_LABEL = '(invalid)'
/** Distinct commands counted by name per meter; the rest go under UNKNOWN_COMMAND_LABEL (bounds memory). */
export const MAX_METERED_COMMANDS = 64

/** Totals for one command in one direction. */
export interface CommandCount {
  messages: number
  bytes: number
}

/** Counts per command, in order of first appearance. */
export type CommandCounts = Map<string, CommandCount>

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

function commandLabel(h: Uint8Array): string {
  let s = ''
  let end = false
  for (let i = 4; i < 16; i++) {
    const b = h[i]!
    if (b === 0) {
      end = true
      continue
    }
    if (end || b < 0x20 || b > 0x7e) return UNKNOWN_COMMAND_LABEL
    s += String.fromCharCode(b)
  }
  return s === '' ? UNKNOWN_COMMAND_LABEL : s
}

/** Counts frames in a byte stream (see the module doc). */
export class FrameMeter {
  readonly counts: CommandCounts = new Map()
  /** Every byte seen. */
  totalBytes = 0
  readonly #header = new Uint8Array(FRAME_HEADER_BYTES)
  #headerFill = 0
  /** Payload bytes of the current frame still to skip. */
  #skip = 0

  /** Count the frames in `bytes`, the next piece of the stream in any chunking; payloads are skipped, never held. */
  push(bytes: Uint8Array): void {
    this.totalBytes += bytes.length
    let i = 0
    while (i < bytes.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, bytes.length - i)
        this.#skip -= n
        i += n
        continue
      }
      const n = Math.min(FRAME_HEADER_BYTES - this.#headerFill, bytes.length - i)
      this.#header.set(bytes.subarray(i, i + n), this.#headerFill)
      this.#headerFill += n
      i += n
      if (this.#headerFill < FRAME_HEADER_BYTES) break
      this.#headerFill = 0
      const h = this.#header
      const length = (h[16]! | (h[17]! << 8) | (h[18]! << 16) | (h[19]! << 24)) >>> 0
      let label = commandLabel(h)
      if (!this.counts.has(label) && this.counts.size >= MAX_METERED_COMMANDS) label = UNKNOWN_COMMAND_LABEL
      const c = this.counts.get(label)
      if (c) {
        c.messages++
        c.bytes += FRAME_HEADER_BYTES + length
      } else this.counts.set(label, { messages: 1, bytes: FRAME_HEADER_BYTES + length })
      this.#skip = length
    }
  }
}

/** A Transport that meters both directions of another one. */
export class MeteredTransport implements Transport {
  readonly inner: Transport
  readonly received = new FrameMeter()
  readonly sent = new FrameMeter()

  constructor(inner: Transport) {
    this.inner = inner
  }

  get remote(): PeerAddress {
    return this.inner.remote
  }
  get bufferedAmount(): number {
    return this.inner.bufferedAmount
  }
  send(bytes: Uint8Array): void {
    this.sent.push(bytes)
    this.inner.send(bytes)
  }
  close(reason?: unknown): void {
    this.inner.close(reason)
  }
  onData(cb: (bytes: Uint8Array) => void): void {
    this.inner.onData((bytes) => {
      this.received.push(bytes)
      cb(bytes)
    })
  }
  onClose(cb: (err?: TransportError) => void): void {
    this.inner.onClose(cb)
  }
  onDrain(cb: () => void): void {
    this.inner.onDrain(cb)
  }
}
