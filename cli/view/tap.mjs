// A wiretap for the view: a Connector whose transports report every whole
// frame that crosses them (direction, command, size) without touching the
// bytes. It reads only the 24-byte v1 headers and skips payloads by their
// declared length, so it never buffers or decodes a payload.
import { bytesEqual, HEADER_BYTES, readCommand } from '@bitp2p/wire'

// Offsets in the v1 frame header: magic(4) command(12) length(4) checksum(4).
const MAGIC_BYTES = 4
const COMMAND_OFFSET = 4
const LENGTH_OFFSET = 16
/** What a direction reports after a header it cannot read (wrong magic, bad command). */
export const UNREADABLE_COMMAND = '!unframed'

/** Follows the framing of one direction; calls onFrame(command, bytes) when a frame has fully passed. */
export class FrameScanner {
  #magic
  #onFrame
  #header = new Uint8Array(HEADER_BYTES)
  #have = 0
  /** Payload bytes of the current frame still to pass. */
  #left = 0
  #command = ''
  #size = 0
  #broken = false

  /** @param {Uint8Array} magic  @param {(command: string, bytes: number) => void} onFrame */
  constructor(magic, onFrame) {
    this.#magic = magic
    this.#onFrame = onFrame
  }

  /** Scan one chunk, in stream order. */
  push(bytes) {
    let o = 0
    while (o < bytes.length && !this.#broken) {
      if (this.#left > 0) {
        const n = Math.min(this.#left, bytes.length - o)
        this.#left -= n
        o += n
        if (this.#left === 0) this.#onFrame(this.#command, this.#size)
        continue
      }
      const n = Math.min(HEADER_BYTES - this.#have, bytes.length - o)
      this.#header.set(bytes.subarray(o, o + n), this.#have)
      this.#have += n
      o += n
      if (this.#have < HEADER_BYTES) break
      this.#have = 0
      this.#readHeader()
    }
  }

  #readHeader() {
    const h = this.#header
    let command
    try {
      if (!bytesEqual(h.subarray(0, MAGIC_BYTES), this.#magic)) throw new Error('magic')
      command = readCommand(h, COMMAND_OFFSET)
    } catch {
      // The receiving decoder fails here too: report once, then stop following this direction.
      this.#broken = true
      this.#onFrame(UNREADABLE_COMMAND, HEADER_BYTES)
      return
    }
    const length = new DataView(h.buffer, h.byteOffset).getUint32(LENGTH_OFFSET, true)
    this.#command = command
    this.#size = HEADER_BYTES + length
    this.#left = length
    if (length === 0) this.#onFrame(command, this.#size)
  }
}

/**
 * A transport that reports its frames. `remote` is a fresh frozen object per
 * connection: the Peer driver keeps that very object as `peer.remote`, which
 * is how a frame's connection is matched to its Peer (see tapConnector).
 */
class TappedTransport {
  #inner
  #out
  #in
  #onClosed
  constructor(inner, magic, onFrame, onClosed) {
    this.#inner = inner
    this.#onClosed = onClosed
    this.remote = Object.freeze({ host: inner.remote.host, port: inner.remote.port })
    this.#out = new FrameScanner(magic, (command, bytes) => onFrame('out', command, bytes))
    this.#in = new FrameScanner(magic, (command, bytes) => onFrame('in', command, bytes))
  }
  get bufferedAmount() {
    return this.#inner.bufferedAmount
  }
  send(bytes) {
    this.#out.push(bytes)
    this.#inner.send(bytes)
  }
  close(reason) {
    this.#inner.close(reason)
  }
  onData(cb) {
    // Report before the driver sees the bytes, so a message comes before what it causes.
    this.#inner.onData((bytes) => {
      this.#in.push(bytes)
      cb(bytes)
    })
  }
  onClose(cb) {
    this.#inner.onClose((err) => {
      this.#onClosed()
      cb(err)
    })
  }
  onDrain(cb) {
    this.#inner.onDrain(cb)
  }
}

/**
 * Wrap a Connector: each transport it opens calls
 * `onFrame(remote, direction, command, bytes)` for every whole frame,
 * direction 'out' (we sent it) or 'in' (we received it),
 * `onConnection(remote)` when it opens and `onClosed(remote)` when it
 * closes. `remote` is the object the Peer driver will expose as
 * `peer.remote`.
 */
export function tapConnector(connector, magic, { onConnection, onFrame, onClosed = () => {} }) {
  return {
    async connect(addr, signal) {
      const inner = await connector.connect(addr, signal)
      let remote
      const t = new TappedTransport(
        inner,
        magic,
        (dir, command, bytes) => onFrame(remote, dir, command, bytes),
        () => onClosed(remote),
      )
      remote = t.remote
      onConnection(remote)
      return t
    },
  }
}
