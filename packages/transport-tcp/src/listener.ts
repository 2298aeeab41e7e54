/**
 * TcpListener: accepts inbound TCP transports with node:net.
 */
/// <reference types="node" />
import { createServer, type Server, type Socket } from 'node:net'
import type { Listener, PeerAddress } from '@bitp2p/session'
import { unmapIPv4 } from './address.js'
import { configureSocket, TcpTransport, type TcpSocketOptions, type TcpTransportOptions } from './transport.js'

/** Options of TcpListener.listen. */
export interface TcpListenOptions extends TcpSocketOptions, TcpTransportOptions {
  /** Address to bind, e.g. '127.0.0.1', '::1', '0.0.0.0'. */
  readonly host: string
  /** Port to bind; 0 picks a free one (see `address`). */
  readonly port: number
  /** Most open inbound connections; more are closed as soon as accepted. Default: no limit. */
  readonly maxConnections?: number
  /** Kernel accept-queue length (listen(2) backlog). Default: Node's. */
  readonly backlog?: number
}

/** Accepts TCP transports. Node, Deno and Bun (through node:net); not browsers. */
export class TcpListener implements Listener {
  /** The bound address; the real port when 0 was asked. */
  readonly address: PeerAddress

  private readonly server: Server
  private readonly options: TcpListenOptions
  private readonly maxConnections: number
  /** Every accepted, still open transport: closed by close(). */
  private readonly open = new Set<TcpTransport>()
  /** Accepted before onConnection was registered. */
  private pending: TcpTransport[] = []
  private connectionCb: ((t: TcpTransport) => void) | undefined
  private closing: Promise<void> | undefined
  private droppedCount = 0

  /**
   * Bind and listen. Resolves once the socket listens; rejects with the
   * platform's error (EADDRINUSE, EACCES...) otherwise.
   */
  static listen(options: TcpListenOptions): Promise<TcpListener> {
    const max = options.maxConnections ?? Infinity
    if (!(max >= 0)) throw new RangeError(`maxConnections must be >= 0, got ${max}`)
    return new Promise((resolve, reject) => {
      const server = createServer({ allowHalfOpen: false })
      const onError = (err: Error): void => reject(err)
      server.once('error', onError)
      server.listen({ host: options.host, port: options.port, backlog: options.backlog }, () => {
        server.removeListener('error', onError)
        resolve(new TcpListener(server, options))
      })
    })
  }

  private constructor(server: Server, options: TcpListenOptions) {
    this.server = server
    this.options = options
    this.maxConnections = options.maxConnections ?? Infinity
    const bound = server.address()
    if (bound === null || typeof bound === 'string') throw new Error('TcpListener: server is not bound to a TCP address')
    this.address = { host: bound.address, port: bound.port }
    // Errors after listening (rare: EMFILE on accept) must not crash the process.
    server.on('error', () => {})
    server.on('connection', (socket) => this.accept(socket))
  }

  /** Open inbound connections. */
  get connections(): number {
    return this.open.size
  }

  /** Connections closed on arrival because maxConnections were open. */
  get dropped(): number {
    return this.droppedCount
  }

  /**
   * Register the handler for accepted transports (one). Transports accepted
   * before registration are handed over now, in arrival order.
   */
  onConnection(cb: (t: TcpTransport) => void): void {
    this.connectionCb = cb
    if (this.pending.length === 0) return
    const queued = this.pending
    this.pending = []
    queueMicrotask(() => {
      for (const t of queued) this.connectionCb?.(t)
    })
  }

  /** Stop listening and destroy every accepted transport (their onClose: kind 'local'). Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      const reason = new Error('listener closed')
      for (const t of this.open) t.destroy(reason)
      this.open.clear()
      this.pending = []
    })
    return this.closing
  }

  private accept(socket: Socket): void {
    const host = socket.remoteAddress
    const port = socket.remotePort
    if (this.closing !== undefined || this.open.size >= this.maxConnections || host === undefined || port === undefined) {
      if (this.closing === undefined && host !== undefined) this.droppedCount++
      socket.on('error', () => {})
      socket.destroy()
      return
    }
    configureSocket(socket, this.options)
    const t = new TcpTransport(socket, { host: unmapIPv4(host), port }, this.options)
    this.open.add(t)
    // Not through t.onClose: that handler belongs to the user.
    socket.once('close', () => this.open.delete(t))
    if (this.connectionCb !== undefined) this.connectionCb(t)
    else this.pending.push(t)
  }
}
