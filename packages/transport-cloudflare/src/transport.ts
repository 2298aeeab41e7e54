/**
 * CloudflareTransport: one worker TCP socket (`connect()` of
 * `cloudflare:sockets`) seen as a bitp2p Transport.
 *
 * - Reading starts when onData is registered. Until then nothing is read:
 *   bytes wait in the runtime and the kernel, not in a queue of ours, and
 *   none are lost. Chunks are delivered as plain Uint8Array, one read at a
 *   time, so reading is paced by the handler.
 * - Writing respects the stream's backpressure: send() queues the bytes
 *   (split into chunks of at most maxWriteChunkBytes, views without a copy),
 *   and a pump hands them to the socket's writer only while the writer is
 *   ready (desiredSize > 0) and fewer than maxInFlightBytes wait for their
 *   write to settle. bufferedAmount is what is queued plus what is in
 *   flight; onDrain fires when it falls back to 0.
 * - Bounded: a send that would take bufferedAmount past maxBufferedBytes
 *   closes the transport (kind 'local', cause a SendBufferOverflow) instead
 *   of buffering without end. A driver that honours bufferedAmount (Peer
 *   stops at its high-water mark, 1 MB by default) never gets near it.
 * - Half-open streams are not supported: the peer's FIN ends the transport
 *   ('remote'), as on the TCP transport.
 * - onClose fires exactly once, from a microtask, never from inside a call
 *   of ours (close(), send()).
 */
import { formatPeerAddress, TransportError, type PeerAddress, type Transport } from '@bitp2p/session'
import { describe, streamError } from './errors.js'
import type { CloudflareSocket } from './socket.js'

/**
 * How long close() lets queued bytes flush and waits for the peer's FIN
 * before closing the socket outright. Bounded so that a peer that stopped
 * reading cannot hold a closed transport's memory for ever.
 */
export const DEFAULT_CF_CLOSE_LINGER_MS = 2_000
/**
 * Default largest chunk handed to the socket's writer in one write. Large
 * sends (a 4 MB block) are split into views of this size, so that the
 * in-flight window below is counted in small steps.
 */
export const DEFAULT_MAX_WRITE_CHUNK_BYTES = 64 * 1024
/**
 * Default bytes handed to the writer whose write has not settled yet. The
 * runtime's writable stream reports a constant desiredSize, so this window
 * is what keeps our bytes in our queue (visible as bufferedAmount) rather
 * than in the runtime's, while still keeping a few writes in the pipe.
 */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 256 * 1024
/**
 * Default cap on bufferedAmount. Above a driver's high-water mark (Peer's is
 * 1 MB) and a few maximum-size messages (4 MB each), so only a writer that
 * ignores backpressure reaches it; the transport then closes rather than
 * buffer without bound.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 32 * 1024 * 1024

/** Longest delay setTimeout honours (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647
/** Queue entries consumed before the queue array is compacted (keeps a long burst of tiny sends linear). */
const QUEUE_COMPACT_AT = 1024

/** Options of a CloudflareTransport (and of the connector that makes it). */
export interface CloudflareTransportOptions {
  /** See DEFAULT_CF_CLOSE_LINGER_MS. */
  readonly closeLingerMs?: number
  /** See DEFAULT_MAX_WRITE_CHUNK_BYTES. */
  readonly maxWriteChunkBytes?: number
  /** See DEFAULT_MAX_IN_FLIGHT_BYTES. */
  readonly maxInFlightBytes?: number
  /** See DEFAULT_MAX_BUFFERED_BYTES. */
  readonly maxBufferedBytes?: number
}

/** The `cause` of the TransportError a transport closes with when a send would pass maxBufferedBytes. */
export interface SendBufferOverflow {
  /** bufferedAmount before the refused send. */
  readonly bufferedAmount: number
  /** Length of the refused send. */
  readonly sendBytes: number
  /** The transport's maxBufferedBytes. */
  readonly limit: number
}

/**
 * Check the numeric options and fill in the defaults; throws RangeError
 * naming the first bad one. The connector calls it at construction, so a
 * bad option fails before any connection is made.
 */
export function resolveTransportOptions(options: CloudflareTransportOptions): Required<CloudflareTransportOptions> {
  const out = {
    closeLingerMs: options.closeLingerMs ?? DEFAULT_CF_CLOSE_LINGER_MS,
    maxWriteChunkBytes: options.maxWriteChunkBytes ?? DEFAULT_MAX_WRITE_CHUNK_BYTES,
    maxInFlightBytes: options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
  }
  if (!(out.closeLingerMs >= 0)) throw new RangeError(`closeLingerMs must be >= 0, got ${out.closeLingerMs}`)
  for (const name of ['maxWriteChunkBytes', 'maxInFlightBytes', 'maxBufferedBytes'] as const) {
    const v = out[name]
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`)
  }
  return out
}

/** A connected worker TCP socket as a Transport. Created by CloudflareConnector.connect. */
export class CloudflareTransport implements Transport {
  /** Where this transport goes. */
  readonly remote: PeerAddress

  private readonly socket: CloudflareSocket
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>
  private readonly opts: Required<CloudflareTransportOptions>
  private readonly where: string
  private dataCb: ((bytes: Uint8Array) => void) | undefined
  private closeCb: ((err?: TransportError) => void) | undefined
  private drainCb: (() => void) | undefined

  /** Chunks accepted by send() and not yet handed to the writer, from `queueHead` on. */
  private queue: Uint8Array[] = []
  private queueHead = 0
  private queuedBytes = 0
  /** Bytes handed to the writer whose write has not settled. */
  private inFlightBytes = 0
  /** A writer.ready wait is pending (the writer reported desiredSize <= 0). */
  private awaitingReady = false
  /** bufferedAmount went above 0 and onDrain has not fired since. */
  private waitingDrain = false

  /** The read loop runs (started by onData, or by close() to see the peer's FIN). */
  private reading = false
  /** Set once, by the first of: close(), destroy(), the peer's FIN, an error. Sends are dropped and data discarded from then on. */
  private closed = false
  /** close() was called: queued bytes still flush, then a FIN goes out. */
  private closing = false
  /** writer.close() (our FIN) was called. */
  private finSent = false
  /** socket.close() was called: the socket is gone. */
  private released = false
  private closeErr: TransportError | undefined
  /** The close was handed to closeCb (or is queued to be). */
  private closeReported = false
  private lingerTimer: ReturnType<typeof setTimeout> | undefined

  /**
   * Wrap an opened socket. The transport takes its writer at once and owns
   * the socket from now on. Use CloudflareConnector.connect rather than this.
   */
  constructor(socket: CloudflareSocket, remote: PeerAddress, options: CloudflareTransportOptions = {}) {
    this.socket = socket
    this.remote = remote
    this.opts = resolveTransportOptions(options)
    this.where = formatPeerAddress(remote)
    this.writer = socket.writable.getWriter()
    // An error the streams do not surface first (for instance while nobody
    // reads) is a reset; after release() the promise rejects for our own
    // close, which is not news.
    socket.closed.then(
      () => {},
      (err: unknown) => {
        if (this.released) return
        this.finish(streamError(err, this.where))
        this.release()
      },
    )
  }

  /** Bytes accepted by send() and not yet taken by the runtime: queued, plus handed to the writer and not yet settled. */
  get bufferedAmount(): number {
    return this.queuedBytes + this.inFlightBytes
  }

  /**
   * Queue bytes for the peer. Never throws; dropped once the transport is
   * closed. The bytes are not copied: do not modify the array afterwards.
   */
  send(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return
    const buffered = this.bufferedAmount
    if (buffered + bytes.length > this.opts.maxBufferedBytes) {
      const info: SendBufferOverflow = { bufferedAmount: buffered, sendBytes: bytes.length, limit: this.opts.maxBufferedBytes }
      this.finish(
        new TransportError('local', `send buffer to ${this.where} would hold ${buffered + bytes.length} bytes, over its limit of ${info.limit}: closed`, info),
      )
      this.release()
      return
    }
    const max = this.opts.maxWriteChunkBytes
    if (bytes.length <= max) this.queue.push(bytes)
    else for (let off = 0; off < bytes.length; off += max) this.queue.push(bytes.subarray(off, off + max))
    this.queuedBytes += bytes.length
    this.waitingDrain = true
    this.pump()
  }

  /**
   * Close gracefully: queued bytes are flushed, then a FIN is sent; the
   * socket is closed when the peer answers or after closeLingerMs. onClose
   * fires (once) with no error, or with kind 'local' carrying `reason`
   * when one is given. Idempotent.
   */
  close(reason?: unknown): void {
    if (this.closed) return
    this.finish(reason === undefined ? undefined : new TransportError('local', `closed locally: ${describe(reason)}`, reason))
    this.closing = true
    // Keep reading (and discarding) so the peer's FIN is seen.
    this.startReading()
    this.pump()
    if (this.opts.closeLingerMs <= MAX_TIMER_MS && !this.released) {
      this.lingerTimer = setTimeout(() => this.release(), this.opts.closeLingerMs)
    }
  }

  /**
   * Close at once: queued bytes are discarded and the socket is closed.
   * onClose fires like close(). Idempotent.
   */
  destroy(reason?: unknown): void {
    if (!this.closed) {
      this.finish(reason === undefined ? undefined : new TransportError('local', `destroyed locally: ${describe(reason)}`, reason))
    }
    this.release()
  }

  /** Register the data handler (one; a second call replaces it). Starts reading. */
  onData(cb: (bytes: Uint8Array) => void): void {
    this.dataCb = cb
    if (!this.closed) this.startReading()
  }

  /** Register the close handler (one). Registered after the close, it still fires once. */
  onClose(cb: (err?: TransportError) => void): void {
    this.closeCb = cb
    if (this.closed) this.report()
  }

  /** Register the drain handler (one): bufferedAmount fell back to 0. */
  onDrain(cb: () => void): void {
    this.drainCb = cb
  }

  /** Hand queued chunks to the writer while it is ready and the in-flight window has room; send the FIN once a closing transport is flushed. */
  private pump(): void {
    while (!this.released && this.queueHead < this.queue.length && this.inFlightBytes < this.opts.maxInFlightBytes) {
      const ready = this.writer.desiredSize
      if (ready !== null && ready <= 0) {
        if (!this.awaitingReady) {
          this.awaitingReady = true
          this.writer.ready.then(
            () => {
              this.awaitingReady = false
              this.pump()
            },
            (err: unknown) => this.writeFailed(err),
          )
        }
        return
      }
      const chunk = this.queue[this.queueHead]!
      this.queue[this.queueHead++] = EMPTY
      if (this.queueHead === this.queue.length) {
        this.queue = []
        this.queueHead = 0
      } else if (this.queueHead >= QUEUE_COMPACT_AT) {
        this.queue = this.queue.slice(this.queueHead)
        this.queueHead = 0
      }
      this.queuedBytes -= chunk.length
      this.inFlightBytes += chunk.length
      this.writer.write(chunk).then(
        () => this.written(chunk.length),
        (err: unknown) => this.writeFailed(err),
      )
    }
    if (this.closing && !this.finSent && !this.released && this.bufferedAmount === 0) {
      this.finSent = true
      // With allowHalfOpen false the peer answers our FIN with its own; the
      // read loop sees it and releases the socket (or the linger timer does).
      this.writer.close().then(
        () => {},
        () => this.release(),
      )
    }
  }

  /** A write settled: the runtime took `n` bytes. */
  private written(n: number): void {
    if (this.released) return
    this.inFlightBytes -= n
    if (this.bufferedAmount === 0 && this.waitingDrain && !this.closed) {
      this.waitingDrain = false
      this.drainCb?.()
    }
    this.pump()
  }

  private writeFailed(err: unknown): void {
    if (this.released) return
    this.finish(streamError(err, this.where))
    this.release()
  }

  /** Start the read loop once: delivers chunks while open, discards them while closing, ends at the peer's FIN or an error. */
  private startReading(): void {
    if (this.reading || this.released) return
    this.reading = true
    let reader: ReadableStreamDefaultReader<Uint8Array>
    try {
      reader = this.socket.readable.getReader()
    } catch (err) {
      this.finish(streamError(err, this.where))
      this.release()
      return
    }
    const loop = async (): Promise<void> => {
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>
        try {
          r = await reader.read()
        } catch (err) {
          if (!this.released) {
            this.finish(streamError(err, this.where))
            this.release()
          }
          return
        }
        if (r.done) {
          if (!this.released) this.finish(new TransportError('remote', `${this.where} closed the connection`))
          this.release()
          return
        }
        if (this.closed || this.dataCb === undefined) continue
        const v = r.value
        // Design rule 1: plain Uint8Array, whatever the runtime hands out.
        this.dataCb(Object.getPrototypeOf(v) === Uint8Array.prototype ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
      }
    }
    void loop()
  }

  /** Close the socket now (idempotent): queued bytes are dropped, pending reads end. */
  private release(): void {
    if (this.released) return
    this.released = true
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer)
    this.lingerTimer = undefined
    this.queue = []
    this.queueHead = 0
    this.queuedBytes = 0
    this.inFlightBytes = 0
    this.waitingDrain = false
    this.socket.close().then(
      () => {},
      () => {},
    )
  }

  private finish(err: TransportError | undefined): void {
    if (this.closed) return
    this.closed = true
    this.closeErr = err
    this.waitingDrain = false
    this.report()
  }

  private report(): void {
    if (this.closeReported || this.closeCb === undefined) return
    this.closeReported = true
    queueMicrotask(() => this.closeCb?.(this.closeErr))
  }
}

/** What a consumed queue slot holds, so the chunk can be collected before the queue is compacted. */
const EMPTY = new Uint8Array(0)
