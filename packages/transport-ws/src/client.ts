/**
 * The WebSocket client: a bitp2p Connector for browsers, Deno, Bun, edge
 * workers and Node, reaching TCP peers through a bitp2p bridge (bridge.ts).
 *
 * Runtime-neutral on purpose: no node:* imports, no `process`, no Buffer.
 * Node 20 has no global WebSocket; pass the `ws` package's constructor.
 *
 * Transport behaviour (as TcpTransport):
 * - Chunks are delivered as plain Uint8Array. Chunks that arrive before
 *   onData is registered are queued and handed over on registration.
 * - send() splits large writes into frames of at most maxFrameBytes; the
 *   runtime copies the bytes on send, so the caller may reuse its array.
 * - bufferedAmount is the socket's. WebSocket has no drain event, so while
 *   it is non-zero a timer polls it, and onDrain fires when it reaches 0.
 * - onClose fires exactly once, from a microtask, never from inside a call
 *   of ours.
 */
import { formatPeerAddress, TransportError, type Connector, type PeerAddress, type Transport, type TransportCloseKind } from '@bitp2p/session'
import { unbracketHost } from '@bitp2p/session/core'
import {
  BridgeCloseCode,
  bridgeUrl,
  clientSubprotocols,
  closeCodeName,
  isValidToken,
  SUBPROTOCOL_REFUSED,
  SUBPROTOCOL_V1,
} from './protocol.js'

/** Default time to wait for the bridge's verdict (the bridge's own upstream connect is included). */
export const DEFAULT_WS_CONNECT_TIMEOUT_MS = 15_000
/**
 * Default largest frame the client sends. Small frames keep the bridge's
 * per-connection memory small (see the bridge's maxFrameBytes); the stream
 * has no message boundaries, so splitting costs only a few header bytes.
 */
export const DEFAULT_CLIENT_MAX_FRAME_BYTES = 64 * 1024
/** How often bufferedAmount is polled while it is non-zero. */
export const DRAIN_POLL_MS = 5

/** Longest delay setTimeout honours (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647
/** WebSocket readyState values (the constants are not on every runtime's prototype). */
const WS_OPEN = 1

/**
 * The part of the WHATWG WebSocket API the client uses. The browser's,
 * Deno's and Bun's global WebSocket satisfy it, and so does the `ws`
 * package's class (cast it: its event types differ in detail).
 */
export interface WebSocketLike {
  binaryType: string
  readonly bufferedAmount: number
  readonly protocol: string
  readonly readyState: number
  /** Queue one binary message (WebSocket.send); the client never sends text. */
  send(data: Uint8Array): void
  /** Start the closing handshake with a close `code` (1000 or 4000-4999) and a short `reason`. */
  close(code?: number, reason?: string): void
  /**
   * Register a listener. The client reads `data` (an ArrayBuffer, as it sets
   * binaryType to 'arraybuffer') from 'message' events and `code` and
   * `reason` from 'close' events; 'error' is always followed by 'close'.
   */
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: any) => void): void
}

/** A WebSocket constructor: `globalThis.WebSocket`, or `ws`'s `WebSocket` on Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

/** Options of a WsConnector. */
export interface WsConnectorOptions {
  /** The bridge, e.g. 'wss://bridge.example/'. The client adds `?peer=host:port`. */
  readonly url: string
  /** The WebSocket constructor. Default: globalThis.WebSocket. */
  readonly WebSocket?: WebSocketConstructor
  /** The bridge's shared secret, sent as the `bitp2p.token.<token>` subprotocol. */
  readonly token?: string
  /** Give up waiting for the bridge's verdict after this many ms (kind 'timeout'). 0: no timer. Default 15 s. */
  readonly connectTimeoutMs?: number
  /** Largest frame sent; larger writes are split. Default 64 KiB. Keep it at or below the bridge's maxFrameBytes. */
  readonly maxFrameBytes?: number
}

/** What a TransportError from this client carries as `cause` when the bridge closed the socket. */
export interface BridgeCloseInfo {
  /** The WebSocket close code (see BridgeCloseCode). */
  readonly code: number
  /** Its short name, e.g. 'not-allowed'. */
  readonly name: string
  /** The close frame's reason text. */
  readonly reason: string
}

/**
 * Map a close from the bridge to a TransportError.
 *
 * While connecting, the policy and upstream-connect codes (4000-4006) are
 * kind 'refused'. Once connected, 4007 (the upstream closed) is 'remote',
 * 4011 (upstream failed) and abnormal closes are 'reset', and the bridge's
 * own drops (going-away, idle, framing, overflow) are 'refused'. A close
 * without a bridge verdict while connecting (unreachable bridge, failed
 * handshake: 1006) is 'connect-failed'.
 */
export function bridgeCloseError(code: number, reason: string, connected: boolean, where: string): TransportError {
  const info: BridgeCloseInfo = { code, name: closeCodeName(code), reason }
  const kind = closeKind(code, connected)
  const detail = reason.length > 0 ? `${code} ${info.name}: ${reason}` : `${code} ${info.name}`
  const what = connected ? `bridge closed the connection to ${where}` : `bridge did not connect ${where}`
  return new TransportError(kind, `${what} (${detail})`, info)
}

function closeKind(code: number, connected: boolean): TransportCloseKind {
  if (code === BridgeCloseCode.upstreamClosed || (connected && code === BridgeCloseCode.normal)) return 'remote'
  if (code === BridgeCloseCode.upstreamReset) return 'reset'
  if (code === BridgeCloseCode.goingAway || (code >= 4000 && code <= 4010)) return 'refused'
  return connected ? 'reset' : 'connect-failed'
}

/** Opens transports to TCP peers through a bitp2p WebSocket bridge. */
export class WsConnector implements Connector {
  private readonly url: string
  private readonly Ctor: WebSocketConstructor
  private readonly token: string | undefined
  private readonly connectTimeoutMs: number
  private readonly maxFrameBytes: number

  constructor(options: WsConnectorOptions) {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (Ctor === undefined) {
      throw new TypeError('WsConnector: this runtime has no global WebSocket; pass one (e.g. the ws package) as options.WebSocket')
    }
    const url = new URL(options.url) // throws on a malformed URL
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError(`WsConnector: url must be ws: or wss:, got ${url.protocol}`)
    if (options.token !== undefined && !isValidToken(options.token)) {
      throw new RangeError('WsConnector: token must be 1-256 characters of A-Z a-z 0-9 . _ ~ -')
    }
    const t = options.connectTimeoutMs ?? DEFAULT_WS_CONNECT_TIMEOUT_MS
    if (!(t >= 0)) throw new RangeError(`connectTimeoutMs must be >= 0, got ${t}`)
    const f = options.maxFrameBytes ?? DEFAULT_CLIENT_MAX_FRAME_BYTES
    if (!Number.isInteger(f) || f < 1) throw new RangeError(`maxFrameBytes must be a positive integer, got ${f}`)
    this.url = url.toString()
    this.Ctor = Ctor
    this.token = options.token
    this.connectTimeoutMs = t
    this.maxFrameBytes = f
  }

  /**
   * Ask the bridge for a connection to `peer`. Resolves once the bridge
   * reports the upstream TCP connection up. Rejects with a TransportError:
   * 'refused' (the bridge's verdict; `cause` is a BridgeCloseInfo),
   * 'connect-failed' (bridge unreachable, not a bitp2p bridge), 'timeout',
   * 'aborted' (an already-aborted signal opens no socket).
   */
  connect(peer: PeerAddress, signal?: AbortSignal): Promise<WsTransport> {
    const remote: PeerAddress = { host: unbracketHost(peer.host), port: peer.port }
    const where = formatPeerAddress(remote)
    if (signal?.aborted) return Promise.reject(new TransportError('aborted', `connect to ${where} aborted`, signal.reason))
    if (!Number.isInteger(remote.port) || remote.port < 1 || remote.port > 65535 || remote.host.length === 0) {
      return Promise.reject(new TransportError('connect-failed', `invalid peer address ${where}`))
    }
    return new Promise<WsTransport>((resolve, reject) => {
      let ws: WebSocketLike
      try {
        ws = new this.Ctor(bridgeUrl(this.url, remote), clientSubprotocols(this.token))
      } catch (err) {
        reject(new TransportError('connect-failed', `connect to ${where} failed: ${describe(err)}`, err))
        return
      }
      const transport = new WsTransport(ws, remote, this.maxFrameBytes)
      let timer: ReturnType<typeof setTimeout> | undefined
      let settled = false
      const settle = (): boolean => {
        if (settled) return false
        settled = true
        if (timer !== undefined) clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        return true
      }
      const giveUp = (err: TransportError): void => {
        if (!settle()) return
        transport.abandon()
        reject(err)
      }
      const onAbort = (): void => giveUp(new TransportError('aborted', `connect to ${where} aborted`, signal?.reason))
      transport.verdict = (err) => {
        if (!settle()) return
        if (err === undefined) resolve(transport)
        else reject(err)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const ms = this.connectTimeoutMs
      if (ms > 0 && ms <= MAX_TIMER_MS) {
        timer = setTimeout(() => giveUp(new TransportError('timeout', `connect to ${where} through the bridge timed out after ${ms} ms`)), ms)
      }
    })
  }
}

const enum Phase {
  /** Waiting for the upgrade. */
  Connecting,
  /** The bridge selected 'bitp2p.refused'; waiting for its close frame. */
  Refused,
  /** Connected: bytes flow. */
  Open,
  /** Closed (by anyone); onClose has fired or will. */
  Closed,
}

/** One bridged connection to a TCP peer. Created by WsConnector.connect. */
export class WsTransport implements Transport {
  /** The TCP peer behind the bridge (not the bridge). */
  readonly remote: PeerAddress

  /** @internal Set by the connector: called once with the bridge's verdict. */
  verdict: ((err?: TransportError) => void) | undefined

  private readonly ws: WebSocketLike
  private readonly where: string
  private readonly maxFrameBytes: number
  private phase = Phase.Connecting
  private dataCb: ((bytes: Uint8Array) => void) | undefined
  private closeCb: ((err?: TransportError) => void) | undefined
  private drainCb: (() => void) | undefined
  /** Chunks received before onData was registered. */
  private queued: Uint8Array[] = []
  private closeErr: TransportError | undefined
  private closeReported = false
  private pollTimer: ReturnType<typeof setTimeout> | undefined

  /** @internal Use WsConnector.connect. */
  constructor(ws: WebSocketLike, remote: PeerAddress, maxFrameBytes: number) {
    this.ws = ws
    this.remote = remote
    this.where = formatPeerAddress(remote)
    this.maxFrameBytes = maxFrameBytes
    ws.binaryType = 'arraybuffer'
    ws.addEventListener('open', () => this.onOpen())
    ws.addEventListener('message', (ev: { data: unknown }) => this.onMessage(ev.data))
    ws.addEventListener('close', (ev: { code: number; reason: string }) => this.onSocketClose(ev.code, ev.reason))
    // Errors carry no detail in browsers; the close event that follows does.
    ws.addEventListener('error', () => {})
  }

  /** Bytes accepted by send() and not yet handed to the network (the socket's bufferedAmount). */
  get bufferedAmount(): number {
    return this.phase === Phase.Open ? this.ws.bufferedAmount : 0
  }

  /** Queue bytes for the peer. Never throws; dropped once the transport is closed. */
  send(bytes: Uint8Array): void {
    if (this.phase !== Phase.Open || bytes.length === 0 || this.ws.readyState !== WS_OPEN) return
    const max = this.maxFrameBytes
    if (bytes.length <= max) this.ws.send(bytes)
    else for (let off = 0; off < bytes.length; off += max) this.ws.send(bytes.subarray(off, off + max))
    this.watchDrain()
  }

  /**
   * Close: a normal close frame (1000) is sent after the queued bytes, and
   * the bridge then ends the TCP connection. onClose fires (once) with no
   * error, or with kind 'local' carrying `reason`. Idempotent.
   */
  close(reason?: unknown): void {
    if (this.phase === Phase.Closed) return
    this.finish(reason === undefined ? undefined : new TransportError('local', `closed locally: ${describe(reason)}`, reason))
    this.ws.close(BridgeCloseCode.normal, 'client closed')
  }

  /** Register the data handler (one; a second call replaces it). Queued chunks follow in a microtask. */
  onData(cb: (bytes: Uint8Array) => void): void {
    this.dataCb = cb
    if (this.queued.length > 0) queueMicrotask(() => this.flushQueued())
  }

  /** Register the close handler (one). Registered after the close, it still fires once. */
  onClose(cb: (err?: TransportError) => void): void {
    this.closeCb = cb
    if (this.phase === Phase.Closed) this.report()
  }

  /** Register the drain handler (one): bufferedAmount fell back to 0. */
  onDrain(cb: () => void): void {
    this.drainCb = cb
  }

  /** @internal The connector gave up (timeout, abort): close without a verdict. */
  abandon(): void {
    this.verdict = undefined
    this.phase = Phase.Closed
    this.ws.close(BridgeCloseCode.normal, 'client gave up')
  }

  private onOpen(): void {
    if (this.phase !== Phase.Connecting) return
    const protocol = this.ws.protocol
    if (protocol === SUBPROTOCOL_REFUSED) {
      // The close frame with the reason follows; the verdict waits for it.
      this.phase = Phase.Refused
      return
    }
    const verdict = this.verdict
    this.verdict = undefined
    if (protocol === SUBPROTOCOL_V1) {
      this.phase = Phase.Open
      verdict?.()
    } else {
      this.phase = Phase.Closed
      this.ws.close(BridgeCloseCode.normal, 'not a bitp2p bridge')
      verdict?.(
        new TransportError('connect-failed', `connect to ${this.where} failed: the server selected subprotocol '${protocol}', not '${SUBPROTOCOL_V1}'`),
      )
    }
  }

  private onMessage(data: unknown): void {
    if (this.phase !== Phase.Open) return
    if (!(data instanceof ArrayBuffer)) {
      // Text (or a Blob from a runtime that ignored binaryType): the bridge broke the protocol.
      const err = new TransportError('reset', `protocol error from the bridge for ${this.where}: ${typeof data === 'string' ? 'text frame' : 'non-binary frame'}`)
      this.finish(err)
      this.ws.close(BridgeCloseCode.normal, 'protocol error')
      return
    }
    const bytes = new Uint8Array(data)
    if (this.dataCb === undefined || this.queued.length > 0) this.queued.push(bytes)
    else this.dataCb(bytes)
  }

  private flushQueued(): void {
    while (this.queued.length > 0 && this.dataCb !== undefined && this.phase === Phase.Open) {
      this.dataCb(this.queued.shift()!)
    }
  }

  private onSocketClose(code: number, reason: string): void {
    const phase = this.phase
    if (phase === Phase.Closed) return
    const err = bridgeCloseError(code, reason, phase === Phase.Open, this.where)
    if (phase !== Phase.Open) {
      this.phase = Phase.Closed
      this.verdict?.(err)
      this.verdict = undefined
      return
    }
    this.finish(err)
  }

  /** Poll bufferedAmount while it is non-zero (WebSocket has no drain event). */
  private watchDrain(): void {
    if (this.pollTimer !== undefined || this.ws.bufferedAmount === 0) return
    const poll = (): void => {
      this.pollTimer = undefined
      if (this.phase !== Phase.Open) return
      if (this.ws.bufferedAmount === 0) this.drainCb?.()
      else this.pollTimer = setTimeout(poll, DRAIN_POLL_MS)
    }
    this.pollTimer = setTimeout(poll, DRAIN_POLL_MS)
  }

  private finish(err: TransportError | undefined): void {
    if (this.phase === Phase.Closed) return
    this.phase = Phase.Closed
    this.closeErr = err
    this.queued = []
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer)
    this.pollTimer = undefined
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
