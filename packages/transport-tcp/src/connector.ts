/**
 * TcpConnector: opens outbound TCP transports with node:net.
 *
 * It connects only to the address it is given: no DNS seeds, no discovery,
 * no retries. A DNS name in `host` is resolved by the platform resolver.
 */
/// <reference types="node" />
import { connect as netConnect, type Socket } from 'node:net'
import { formatPeerAddress, TransportError, type Connector, type PeerAddress } from '@bitp2p/session'
import { unbracketHost } from '@bitp2p/session/core'
import { connectError } from './errors.js'
import { configureSocket, TcpTransport, type TcpSocketOptions, type TcpTransportOptions } from './transport.js'

/** Default connect timeout: long enough for a slow path, short enough to move on to another peer. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

/** Longest delay setTimeout honours (2^31 - 1 ms); a longer connect timeout means no timer. */
const MAX_TIMER_MS = 2_147_483_647

/** Options of a TcpConnector. */
export interface TcpConnectorOptions extends TcpSocketOptions, TcpTransportOptions {
  /** Give up on a connect after this many ms (kind 'timeout'). 0 or Infinity (anything above 2^31 - 1): no timer of ours. Default 10 s. */
  readonly connectTimeoutMs?: number
  /** Local address to bind before connecting. */
  readonly localAddress?: string
}

/** Opens TCP transports. Node, Deno and Bun (through node:net); not browsers. */
export class TcpConnector implements Connector {
  private readonly options: TcpConnectorOptions

  constructor(options: TcpConnectorOptions = {}) {
    const t = options.connectTimeoutMs
    if (t !== undefined && !(t >= 0)) throw new RangeError(`connectTimeoutMs must be >= 0, got ${t}`)
    this.options = options
  }

  /**
   * Connect to `addr`. Rejects with a TransportError:
   * 'aborted' (signal, before or during the connect; an already-aborted
   * signal opens no socket), 'timeout' (connectTimeoutMs, or the kernel's
   * own SYN timeout), 'connect-failed' (refused, unreachable, DNS...).
   */
  connect(addr: PeerAddress, signal?: AbortSignal): Promise<TcpTransport> {
    const remote: PeerAddress = { host: unbracketHost(addr.host), port: addr.port }
    const where = formatPeerAddress(remote)
    if (signal?.aborted) {
      return Promise.reject(new TransportError('aborted', `connect to ${where} aborted`, signal.reason))
    }
    const opts = this.options
    return new Promise<TcpTransport>((resolve, reject) => {
      let socket: Socket
      try {
        socket = netConnect({
          host: remote.host,
          port: remote.port,
          localAddress: opts.localAddress,
          allowHalfOpen: false,
        })
      } catch (err) {
        // Synchronous throws: invalid port, invalid localAddress.
        reject(connectError(err, where))
        return
      }
      configureSocket(socket, opts)

      let timer: ReturnType<typeof setTimeout> | undefined
      const settle = (): void => {
        if (timer !== undefined) clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        socket.removeListener('connect', onConnect)
        socket.removeListener('error', onError)
      }
      const fail = (err: TransportError): void => {
        settle()
        // Keep an error listener: destroy() may still surface one.
        socket.on('error', () => {})
        socket.destroy()
        reject(err)
      }
      const onAbort = (): void => fail(new TransportError('aborted', `connect to ${where} aborted`, signal?.reason))
      const onError = (err: Error): void => fail(connectError(err, where))
      const onConnect = (): void => {
        settle()
        resolve(new TcpTransport(socket, remote, opts))
      }

      socket.once('connect', onConnect)
      socket.once('error', onError)
      signal?.addEventListener('abort', onAbort, { once: true })
      const ms = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
      if (ms > 0 && ms <= MAX_TIMER_MS) {
        timer = setTimeout(() => fail(new TransportError('timeout', `connect to ${where} timed out after ${ms} ms`)), ms)
      }
    })
  }
}
