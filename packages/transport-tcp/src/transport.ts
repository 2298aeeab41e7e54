/**
 * TcpTransport: one connected node:net socket seen as a bitp2p Transport.
 *
 * - Reading starts when onData is registered. Until then the socket is
 *   paused, so bytes wait in the kernel (and Node's 16 KiB read buffer), not
 *   in an unbounded queue of ours, and none are lost.
 * - Chunks are delivered as plain Uint8Array views over Node's buffers,
 *   never as Buffer objects. A view may sit inside a larger ArrayBuffer:
 *   respect byteOffset/byteLength.
 * - send() hands the caller's bytes to the socket without copying them: do
 *   not modify an array after sending it.
 * - Half-open streams are not supported: the peer's FIN ends the transport
 *   ('remote') and Node answers it with ours (allowHalfOpen false).
 * - onClose fires exactly once, from a microtask, never from inside a call
 *   of ours (close(), send()).
 */
/// <reference types="node" />
import type { Socket } from 'node:net'
import { formatPeerAddress, TransportError, type PeerAddress, type Transport } from '@bitp2p/session'
import { socketError } from './errors.js'

/**
 * How long close() lets queued bytes flush and waits for the peer's FIN
 * before destroying the socket. Bounded so that a peer that stopped reading
 * cannot hold a closed transport's memory for ever.
 */
export const DEFAULT_CLOSE_LINGER_MS = 2_000

/** Options of a TcpTransport. */
export interface TcpTransportOptions {
  /** See DEFAULT_CLOSE_LINGER_MS. */
  readonly closeLingerMs?: number
}

/** Socket tuning applied to every connected socket, outbound or accepted. */
export interface TcpSocketOptions {
  /** Disable Nagle's algorithm. Default true: P2P messages are latency-bound and small. */
  readonly noDelay?: boolean
  /** TCP keepalive probes. Default false: the session's ping already detects dead peers. */
  readonly keepAlive?: boolean
  /** Idle time before the first keepalive probe, ms. Default 60 s. */
  readonly keepAliveInitialDelayMs?: number
}

/** Default idle time before the first TCP keepalive probe. */
export const DEFAULT_KEEPALIVE_INITIAL_DELAY_MS = 60_000

/** Apply TcpSocketOptions to a socket (connected or still connecting). */
export function configureSocket(socket: Socket, opts: TcpSocketOptions): void {
  socket.setNoDelay(opts.noDelay ?? true)
  if (opts.keepAlive === true) {
    socket.setKeepAlive(true, opts.keepAliveInitialDelayMs ?? DEFAULT_KEEPALIVE_INITIAL_DELAY_MS)
  }
}

/** A connected TCP socket as a Transport. Created by TcpConnector and TcpListener. */
export class TcpTransport implements Transport {
  /** Where this transport goes (for accepted sockets: the peer's address). */
  readonly remote: PeerAddress

  private readonly socket: Socket
  private readonly lingerMs: number
  private readonly where: string
  private dataCb: ((bytes: Uint8Array) => void) | undefined
  private closeCb: ((err?: TransportError) => void) | undefined
  private drainCb: (() => void) | undefined
  /** Set once, by the first of: close(), destroy(), the peer's FIN, a socket error. */
  private closed = false
  private closeErr: TransportError | undefined
  /** The close was handed to closeCb (or is queued to be). */
  private closeReported = false
  /** bufferedAmount went above 0 and onDrain has not fired since. */
  private waitingDrain = false
  private lingerTimer: ReturnType<typeof setTimeout> | undefined

  /**
   * Wrap a connected socket. The socket must have been created with
   * allowHalfOpen false (node:net's default) and must not have a 'data'
   * listener yet. The transport owns the socket from now on.
   */
  constructor(socket: Socket, remote: PeerAddress, options: TcpTransportOptions = {}) {
    this.socket = socket
    this.remote = remote
    this.lingerMs = options.closeLingerMs ?? DEFAULT_CLOSE_LINGER_MS
    this.where = formatPeerAddress(remote)
    // The 'error' listener stays for the socket's whole life: an 'error'
    // without a listener would crash the process.
    socket.on('error', (err) => this.finish(socketError(err, this.where)))
    socket.on('end', () => this.finish(new TransportError('remote', `${this.where} closed the connection`)))
    socket.on('close', (hadError: boolean) => {
      if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer)
      this.finish(
        hadError
          ? new TransportError('reset', `connection to ${this.where} failed`)
          : new TransportError('remote', `${this.where} closed the connection`),
      )
    })
  }

  /** Bytes accepted by send() and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.destroyed ? 0 : this.socket.writableLength
  }

  /** Queue bytes for the peer. Never throws; dropped once the transport is closed. */
  send(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return
    // Node wraps a Uint8Array in a Buffer view (no copy). The callback runs
    // when this chunk reached the kernel; it is one shared function, so a
    // send allocates nothing of ours.
    this.socket.write(bytes, this.afterWrite)
    if (this.socket.writableLength > 0) this.waitingDrain = true
  }

  /**
   * Node's own 'drain' fires only after write() returned false (buffer past
   * its high-water mark); the Transport contract wants a call whenever the
   * buffer empties after being non-empty, so drain is tracked per write.
   */
  private readonly afterWrite = (): void => {
    if (!this.waitingDrain || this.closed || this.socket.writableLength !== 0) return
    this.waitingDrain = false
    this.drainCb?.()
  }

  /**
   * Close gracefully: queued bytes are flushed, then a FIN is sent; the
   * socket is destroyed when the peer answers or after closeLingerMs.
   * onClose fires (once) with no error, or with kind 'local' carrying
   * `reason` when one is given. Idempotent.
   */
  close(reason?: unknown): void {
    if (this.closed) return
    this.finish(reason === undefined ? undefined : new TransportError('local', `closed locally: ${describe(reason)}`, reason))
    this.socket.end()
    // Keep reading (and discarding) so the peer's FIN is seen.
    this.socket.resume()
    this.lingerTimer = setTimeout(() => this.socket.destroy(), this.lingerMs)
    this.lingerTimer.unref?.()
  }

  /**
   * Close at once: queued bytes are discarded and the socket is destroyed.
   * onClose fires like close(). Idempotent.
   */
  destroy(reason?: unknown): void {
    if (!this.closed) {
      this.finish(reason === undefined ? undefined : new TransportError('local', `destroyed locally: ${describe(reason)}`, reason))
    }
    this.socket.destroy()
  }

  /** Register the data handler (one; a second call replaces it). Starts reading. */
  onData(cb: (bytes: Uint8Array) => void): void {
    const first = this.dataCb === undefined
    this.dataCb = cb
    if (first) {
      this.socket.on('data', (buf: Uint8Array) => {
        if (this.closed) return
        this.dataCb?.(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
      })
    }
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

function describe(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason)
}
