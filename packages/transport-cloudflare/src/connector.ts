/**
 * CloudflareConnector: opens outbound TCP transports from a worker with
 * `connect()` of `cloudflare:sockets` (Cloudflare Workers, workerd).
 *
 * It connects only to the address it is given: no DNS seeds, no discovery,
 * no retries. A DNS name in `host` is resolved by the runtime, and the
 * runtime's network policy decides what may be reached (workerd's
 * `internet` service; Cloudflare's own rules, e.g. no port 25).
 */
import { formatPeerAddress, TransportError, type Connector, type PeerAddress } from '@bitp2p/session'
import { unbracketHost } from '@bitp2p/session/core'
import { connectError } from './errors.js'
import { runtimeConnect } from './runtime.js'
import type { CloudflareSocket, ConnectFunction } from './socket.js'
import { CloudflareTransport, resolveTransportOptions, type CloudflareTransportOptions } from './transport.js'

/** Default connect timeout: long enough for a slow path, short enough to move on to another peer (as TcpConnector). */
export const DEFAULT_CF_CONNECT_TIMEOUT_MS = 10_000

/** Longest delay setTimeout honours (2^31 - 1 ms); a longer connect timeout means no timer. */
const MAX_TIMER_MS = 2_147_483_647

/** Options of a CloudflareConnector. */
export interface CloudflareConnectorOptions extends CloudflareTransportOptions {
  /** Give up on a connect after this many ms (kind 'timeout'). 0 or Infinity (anything above 2^31 - 1): no timer of ours. Default 10 s. */
  readonly connectTimeoutMs?: number
  /**
   * The connect() to use. Default: the runtime's, from `cloudflare:sockets`.
   * Another function with its behaviour (a wrapper that logs or limits, a
   * stand-in in tests) can be passed instead.
   */
  readonly connect?: ConnectFunction
}

/** Opens TCP transports from a Cloudflare-style worker. Workers and workerd only (the default connect() comes from `cloudflare:sockets`). */
export class CloudflareConnector implements Connector {
  private readonly connectFn: ConnectFunction
  private readonly connectTimeoutMs: number
  private readonly transportOptions: Required<CloudflareTransportOptions>

  /** Checks the options (RangeError on a bad number); opens nothing. */
  constructor(options: CloudflareConnectorOptions = {}) {
    const t = options.connectTimeoutMs ?? DEFAULT_CF_CONNECT_TIMEOUT_MS
    if (!(t >= 0)) throw new RangeError(`connectTimeoutMs must be >= 0, got ${t}`)
    this.connectTimeoutMs = t
    this.transportOptions = resolveTransportOptions(options)
    this.connectFn = options.connect ?? runtimeConnect
  }

  /**
   * Connect to `addr` over plain TCP. Resolves once the socket is open.
   * Rejects with a TransportError: 'aborted' (the signal, before or during
   * the connect; an already-aborted signal opens no socket), 'timeout'
   * (connectTimeoutMs, or the runtime said it timed out), 'connect-failed'
   * (refused, unreachable, forbidden by the runtime's network policy, DNS,
   * the socket closed before it opened, an invalid address; `cause` is the
   * runtime's error).
   */
  connect(addr: PeerAddress, signal?: AbortSignal): Promise<CloudflareTransport> {
    const remote: PeerAddress = { host: unbracketHost(addr.host), port: addr.port }
    const where = formatPeerAddress(remote)
    if (signal?.aborted) return Promise.reject(new TransportError('aborted', `connect to ${where} aborted`, signal.reason))
    if (!Number.isInteger(remote.port) || remote.port < 1 || remote.port > 65535 || remote.host.length === 0) {
      return Promise.reject(new TransportError('connect-failed', `invalid peer address ${where}`))
    }
    return new Promise<CloudflareTransport>((resolve, reject) => {
      let socket: CloudflareSocket
      try {
        socket = this.connectFn({ hostname: remote.host, port: remote.port }, { secureTransport: 'off', allowHalfOpen: false })
      } catch (err) {
        // Synchronous throws: a malformed address, too many open connections, no request context.
        reject(connectError(err, where))
        return
      }
      let settled = false
      let timer: ReturnType<typeof setTimeout> | undefined
      const settle = (): boolean => {
        if (settled) return false
        settled = true
        if (timer !== undefined) clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        return true
      }
      const fail = (err: TransportError): void => {
        if (!settle()) return
        socket.close().then(
          () => {},
          () => {},
        )
        reject(err)
      }
      const onAbort = (): void => fail(new TransportError('aborted', `connect to ${where} aborted`, signal?.reason))
      socket.opened.then(
        () => {
          if (!settle()) return
          try {
            resolve(new CloudflareTransport(socket, remote, this.transportOptions))
          } catch (err) {
            // getWriter() on a stream someone else locked: not a usable socket.
            socket.close().then(
              () => {},
              () => {},
            )
            reject(connectError(err, where))
          }
        },
        (err: unknown) => fail(connectError(err, where)),
      )
      // A socket that ends before it opened (the runtime closed it) never resolves `opened` on some runtimes.
      socket.closed.then(
        () => fail(new TransportError('connect-failed', `connect to ${where} failed: the socket closed before it opened`)),
        (err: unknown) => fail(connectError(err, where)),
      )
      signal?.addEventListener('abort', onAbort, { once: true })
      const ms = this.connectTimeoutMs
      if (ms > 0 && ms <= MAX_TIMER_MS) {
        timer = setTimeout(() => fail(new TransportError('timeout', `connect to ${where} timed out after ${ms} ms`)), ms)
      }
    })
  }
}
