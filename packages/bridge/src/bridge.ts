/**
 * The bitp2p WebSocket bridge (Node): lets browsers and edge workers reach
 * Bitcoin peers over TCP, one WebSocket per TCP connection. The protocol is
 * described in @bitp2p/transport-ws (protocol.ts) and the README.
 *
 * Not an open proxy: a target must be on the allowlist and (unless
 * allowPrivate) global; DNS names are resolved and every address checked;
 * the bridge connects to the checked address. Connections are limited in
 * number, per client address, in idle time and in buffered memory: each
 * direction has real flow control (the reading side is paused while the
 * writing side is behind), so a client that floods, or a peer or client
 * that stops reading, costs at most about maxBufferedBytes + one frame per
 * direction.
 *
 * Node only (node:http, node:net, node:dns, node:crypto, ws). Keep it out of
 * browser bundles: the client is @bitp2p/transport-ws.
 */
/// <reference types="node" />
import { createHash, timingSafeEqual } from 'node:crypto'
import { lookup } from 'node:dns/promises'
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import { Socket, type SocketConstructorOpts } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { formatPeerAddress, parsePeerAddress, PeerAddressError, type PeerAddress } from '@bitp2p/session'
import { FrameDecoder } from '@bitp2p/wire/codecs'
import { canonicalIp } from './ip.js'
import { checkTarget, compileAllowlist, type Resolver, type TargetPolicy } from './policy.js'
import {
  BridgeCloseCode,
  closeCodeName,
  isValidToken,
  PEER_QUERY_PARAM,
  SUBPROTOCOL_REFUSED,
  SUBPROTOCOL_V1,
  TOKEN_SUBPROTOCOL_PREFIX,
} from '@bitp2p/transport-ws'


/** Default cap on connections (relaying plus connecting). */
export const DEFAULT_MAX_CONNECTIONS = 256
/** Default cap on connections from one client address. */
export const DEFAULT_MAX_PER_IP = 8
/** Default upstream TCP connect timeout (DNS lookup excluded). */
export const DEFAULT_BRIDGE_CONNECT_TIMEOUT_MS = 10_000
/** Default idle timeout: Bitcoin peers ping every 2 minutes, so a live connection is never idle this long. */
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000
/** Default flow-control mark per direction: reading stops while this much is queued for the other side. */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024
/** Default largest client frame (ws maxPayload); the reference client sends at most 64 KiB. */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024
/** Default address to listen on when neither `listen` nor `server` is given. */
export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 0 } as const

/** How long a refused client gets to answer our close frame before its socket is destroyed. */
const REFUSAL_LINGER_MS = 2_000
/** How long a closing connection may take (WebSocket close handshake, upstream FIN) before it is destroyed. */
const CLOSE_LINGER_MS = 3_000
/** How long close() waits for connections to close before destroying them. */
const SHUTDOWN_GRACE_MS = 3_000
/** A close frame's reason is at most 123 bytes; ours are ASCII and kept shorter. */
const MAX_REASON_CHARS = 120
/** Read more only once the queue fell to this fraction of the mark (hysteresis). */
const RESUME_FRACTION = 0.5

/** Options of createBridge. Only `allow` is required: an empty list refuses everything. */
export interface BridgeOptions {
  /** Exact 'host:port' targets (IPv6 in brackets; host may be a DNS name). Nothing else is reachable. */
  readonly allow: readonly string[]
  /** Listen on this address (ignored when `server` is given). Default 127.0.0.1, a free port. */
  readonly listen?: { readonly host: string; readonly port: number }
  /**
   * Attach to an existing HTTP or HTTPS server instead of listening (for
   * wss:// with your certificate, or to share a port). The bridge handles
   * its 'upgrade' events; close() detaches but does not close the server.
   */
  readonly server?: HttpServer | HttpsServer
  /** Allow loopback, private, link-local, unique-local, CGNAT... targets. Default false. */
  readonly allowPrivate?: boolean
  /** DNS resolver for names in `peer`. Default: node:dns lookup (all addresses, both families). */
  readonly resolve?: Resolver
  /** Shared secret clients must offer as the `bitp2p.token.<token>` subprotocol. */
  readonly token?: string
  /** Allowed Origin header values (exact, e.g. 'https://app.example'). When set, a request without Origin is refused too. */
  readonly origins?: readonly string[]
  /** Most connections, relaying plus connecting. Default 256. */
  readonly maxConnections?: number
  /** Most connections from one client address. Default 8. */
  readonly maxPerIp?: number
  /** Upstream TCP connect timeout. Default 10 s. */
  readonly connectTimeoutMs?: number
  /** Close a connection with no bytes in either direction for this long. Default 10 min. */
  readonly idleTimeoutMs?: number
  /** Flow-control mark, per connection and direction. Default 1 MiB. */
  readonly maxBufferedBytes?: number
  /** Largest client frame accepted (bigger: close 1009). Default 256 KiB. */
  readonly maxFrameBytes?: number
  /**
   * Check that the client's bytes are Bitcoin P2P frames of this network
   * (magic, command, length caps, checksums), streaming: no payload is held.
   * Garbage closes the connection with 4009. Default: bytes are relayed as is.
   *
   * A stream whose first 4 bytes are not the network magic is, with `v2`
   * (the default), taken for BIP324's encrypted transport: its bytes are
   * ciphertext the bridge cannot (and should not) read, so only the limits
   * hold for it (allowlist, byte caps, flow control, idle timeout). With
   * `v2: false` it is refused with 4009, as garbage.
   */
  readonly validateFraming?: { readonly magic: Uint8Array; readonly maxMessageBytes: number; readonly v2?: boolean }
  /**
   * The client address used for maxPerIp and logs. Default: the socket's
   * peer address. Behind a reverse proxy, return the address the proxy
   * reports (e.g. the last X-Forwarded-For hop it appended), never a
   * header a client could set itself.
   */
  readonly clientAddress?: (req: IncomingMessage) => string | undefined
  /** Structured log events (the CLI prints them as JSON lines). */
  readonly log?: (event: BridgeLogEvent) => void
}

/** Refusal reasons counted in BridgeMetrics.refusals. */
export const REFUSAL_NAMES = [
  'bad-request',
  'not-allowed',
  'private-target',
  'too-many-connections',
  'unauthorized',
  'bad-origin',
  'upstream-connect-failed',
  'going-away',
] as const
/** Why an upgrade was refused: one of REFUSAL_NAMES, the keys of BridgeMetrics.refusals. */
export type RefusalName = (typeof REFUSAL_NAMES)[number]

/** Counters and gauges of a bridge. */
export interface BridgeMetrics {
  /** Connections relaying now. */
  readonly connectionsCurrent: number
  /** Connections being admitted now (DNS, upstream connect). */
  readonly connectionsPending: number
  /** Connections that reached the relaying state, ever. */
  readonly connectionsTotal: number
  /** Of those, streams taken for BIP324 v2 (ciphertext; validating bridges only tell them apart). */
  readonly v2Connections: number
  /** Bytes relayed client -> upstream. */
  readonly bytesToUpstream: number
  /** Bytes relayed upstream -> client. */
  readonly bytesToClient: number
  /** Bytes queued now for upstreams (TCP write queues), all connections. */
  readonly bufferedToUpstream: number
  /** Bytes queued now for clients (WebSocket send queues), all connections. */
  readonly bufferedToClient: number
  /** Largest TCP write queue seen on one connection. */
  readonly peakBufferedToUpstream: number
  /** Largest WebSocket send queue seen on one connection. */
  readonly peakBufferedToClient: number
  /** Refused upgrades, by reason. */
  readonly refusals: Readonly<Record<RefusalName, number>>
  /** Ended relays, by close name ('normal', 'upstream-closed', 'idle-timeout', 'framing-violation'...). */
  readonly closes: Readonly<Record<string, number>>
}

/** A structured log event. */
export type BridgeLogEvent =
  | { readonly event: 'listening'; readonly host: string; readonly port: number }
  | { readonly event: 'refused'; readonly client: string; readonly peer: string | null; readonly code: number; readonly name: string; readonly reason: string }
  | { readonly event: 'open'; readonly id: number; readonly client: string; readonly peer: string; readonly upstream: string }
  | {
      readonly event: 'close'
      readonly id: number
      readonly client: string
      readonly peer: string
      readonly code: number
      readonly name: string
      readonly reason: string
      readonly bytesToUpstream: number
      readonly bytesToClient: number
      readonly durationMs: number
    }
  | { readonly event: 'abandoned'; readonly client: string; readonly peer: string }
  | { readonly event: 'shutdown'; readonly connections: number }

/** A running bridge. */
export interface Bridge {
  /** The address listened on (the server's, when attached). */
  readonly address: { readonly host: string; readonly port: number }
  /** ws:// URL of the bridge (for an attached HTTPS server, use wss:// yourself). */
  readonly url: string
  /** A snapshot of the counters. */
  metrics(): BridgeMetrics
  /** Stop accepting, close every connection with 1001, and stop listening. Idempotent. */
  close(): Promise<void>
}

/** Start a bridge. Throws a RangeError for invalid options; rejects if the address cannot be bound. */
export async function createBridge(options: BridgeOptions): Promise<Bridge> {
  const core = new BridgeCore(options)
  const own = options.server === undefined
  const server = options.server ?? createServer()
  if (own) {
    const listen = options.listen ?? DEFAULT_LISTEN
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(listen.port, listen.host, () => {
        server.removeListener('error', reject)
        resolve()
      })
    })
    // Plain HTTP requests: a health check, and 426 for everything else.
    server.on('request', (req: IncomingMessage, res: ServerResponse) => core.onRequest(req, res))
  }
  const bound = server.address()
  if (bound === null || typeof bound === 'string') throw new Error('createBridge: the server is not listening on a TCP address')
  const address = { host: bound.address, port: bound.port }
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => core.onUpgrade(req, socket, head)
  server.on('upgrade', onUpgrade)
  core.emit({ event: 'listening', host: address.host, port: address.port })
  let closing: Promise<void> | undefined
  return {
    address,
    url: `ws://${formatPeerAddress(address)}/`,
    metrics: () => core.metrics(),
    close() {
      closing ??= (async () => {
        server.removeListener('upgrade', onUpgrade)
        const stopped = own ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve()
        await core.shutdown()
        if (own) (server as HttpServer).closeAllConnections?.()
        await stopped
      })()
      return closing
    },
  }
}

/** A connection being admitted. */
interface Pending {
  readonly socket: Duplex
  readonly client: string
  abandoned: boolean
  /** The relay took over the sockets. */
  handedOver: boolean
  upstream: Socket | undefined
}

/** A relaying connection. */
interface Relay {
  readonly id: number
  readonly client: string
  readonly peer: string
  readonly ws: WebSocket
  readonly up: Socket
  readonly openedAt: number
  /** The v1 framing check, while it applies (dropped once a stream turns out to be v2). */
  decoder: FrameDecoder | undefined
  /** What the client speaks, once its first bytes told: 'v1', 'v2' (ciphertext), or unknown yet. */
  transport: 'v1' | 'v2' | undefined
  readonly idle: ReturnType<typeof setTimeout> | undefined
  bytesToUpstream: number
  bytesToClient: number
  /** Reading from upstream is paused because the WebSocket queue is full. */
  upPaused: boolean
  /** Reading from the client is paused because the TCP queue is full. */
  wsPaused: boolean
  /** Set once, by the first close of either side: our code, or the client's. */
  closeCode: number | undefined
  closeReason: string
}

/** Every commands' payload is streamed (checked, hashed, not held): see FrameDecoderOptions.streamCommands. */
class EveryCommand extends Set<string> {
  override has(): boolean {
    return true
  }
}

const noop = (): void => {}

class BridgeCore {
  private readonly policy: TargetPolicy
  private readonly tokenDigest: Uint8Array | undefined
  private readonly origins: ReadonlySet<string> | undefined
  private readonly maxConnections: number
  private readonly maxPerIp: number
  private readonly connectTimeoutMs: number
  private readonly idleTimeoutMs: number
  private readonly maxBuffered: number
  private readonly resumeMark: number
  private readonly hardCap: number
  private readonly framing: BridgeOptions['validateFraming']
  private readonly clientAddress: (req: IncomingMessage) => string | undefined
  private readonly log: (event: BridgeLogEvent) => void
  private readonly wss: WebSocketServer
  /** The subprotocol each upgrade request gets (our verdict), read by handleProtocols. */
  private readonly verdicts = new WeakMap<IncomingMessage, string | false>()
  private readonly pending = new Set<Pending>()
  private readonly relays = new Set<Relay>()
  /** Every upgrade socket not yet closed (pending, refused, relaying): shutdown waits for them. */
  private readonly live = new Set<Duplex>()
  private readonly perIp = new Map<string, number>()
  /** Removes onUpgrade's watch listeners from a socket before ws takes it over. */
  private readonly detachers = new WeakMap<Duplex, () => void>()
  private nextId = 1
  private closing = false
  private onAllClosed: (() => void) | undefined
  private readonly counters = {
    connectionsTotal: 0,
    v2Connections: 0,
    bytesToUpstream: 0,
    bytesToClient: 0,
    peakBufferedToUpstream: 0,
    peakBufferedToClient: 0,
  }
  private readonly refusals: Record<RefusalName, number>
  private readonly closes = new Map<string, number>()

  constructor(o: BridgeOptions) {
    const positive = (name: string, v: number | undefined, d: number): number => {
      const x = v ?? d
      if (!(x > 0)) throw new RangeError(`${name} must be > 0, got ${x}`)
      return x
    }
    this.maxConnections = positive('maxConnections', o.maxConnections, DEFAULT_MAX_CONNECTIONS)
    this.maxPerIp = positive('maxPerIp', o.maxPerIp, DEFAULT_MAX_PER_IP)
    this.connectTimeoutMs = positive('connectTimeoutMs', o.connectTimeoutMs, DEFAULT_BRIDGE_CONNECT_TIMEOUT_MS)
    this.idleTimeoutMs = positive('idleTimeoutMs', o.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS)
    this.maxBuffered = positive('maxBufferedBytes', o.maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES)
    const maxFrame = positive('maxFrameBytes', o.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES)
    this.resumeMark = Math.floor(this.maxBuffered * RESUME_FRACTION)
    // Flow control keeps a queue near the mark; past this it is broken, not slow.
    this.hardCap = 2 * this.maxBuffered + maxFrame
    if (o.token !== undefined && !isValidToken(o.token)) throw new RangeError('token must be 1-256 characters of A-Z a-z 0-9 . _ ~ -')
    this.tokenDigest = o.token === undefined ? undefined : digest(o.token)
    this.origins = o.origins === undefined ? undefined : new Set(o.origins)
    if (o.validateFraming !== undefined && o.validateFraming.magic.length !== 4) throw new RangeError('validateFraming.magic must be 4 bytes')
    this.framing = o.validateFraming
    this.policy = {
      allow: compileAllowlist(o.allow),
      allowPrivate: o.allowPrivate === true,
      resolve: o.resolve ?? defaultResolver,
    }
    this.clientAddress = o.clientAddress ?? ((req) => req.socket.remoteAddress)
    this.log = o.log ?? noop
    this.refusals = Object.fromEntries(REFUSAL_NAMES.map((n) => [n, 0])) as Record<RefusalName, number>
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: maxFrame,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (_offered, req) => this.verdicts.get(req) ?? false,
    })
  }

  emit(event: BridgeLogEvent): void {
    try {
      this.log(event)
    } catch {
      // A failing logger must not take the relay down.
    }
  }

  onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
      return
    }
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'Upgrade' }).end('WebSocket only\n')
  }

  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // An 'error' without a listener would crash the process.
    socket.on('error', noop)
    // Read while the verdict is pending, or a client that goes away is not
    // noticed (a paused socket never sees the FIN). A client may not send
    // anything before the upgrade response: bytes now are a violation.
    const drop = (): void => {
      socket.destroy()
    }
    socket.on('data', drop)
    // The server's sockets are half-open capable: a client's FIN alone does not close them.
    socket.on('end', drop)
    this.detachers.set(socket, () => {
      socket.removeListener('data', drop)
      socket.removeListener('end', drop)
    })
    this.live.add(socket)
    socket.once('close', () => {
      this.live.delete(socket)
      this.checkAllClosed()
    })
    this.admit(req, socket, head).catch(() => socket.destroy())
  }

  /** Decide, connect upstream, then complete the upgrade with the verdict. */
  private async admit(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const client = normaliseClient(this.clientAddress(req))
    let peerText: string | null = null
    try {
      peerText = new URL(req.url ?? '/', 'http://bridge.invalid').searchParams.get(PEER_QUERY_PARAM)
    } catch {
      peerText = null
    }
    const offered = parseProtocols(req.headers['sec-websocket-protocol'])
    const refuse = (code: number, reason: string): void => this.refuse(req, socket, head, offered, client, peerText, code, reason)

    if (this.closing) return refuse(BridgeCloseCode.goingAway, 'bridge shutting down')
    if (this.origins !== undefined && !this.origins.has(req.headers.origin ?? '')) {
      return refuse(BridgeCloseCode.badOrigin, 'origin not allowed')
    }
    if (this.tokenDigest !== undefined) {
      const offeredToken = offered.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX))
      if (offeredToken === undefined || !timingSafeEqual(digest(offeredToken.slice(TOKEN_SUBPROTOCOL_PREFIX.length)), this.tokenDigest)) {
        return refuse(BridgeCloseCode.unauthorized, 'missing or wrong token')
      }
    }
    if (!offered.includes(SUBPROTOCOL_V1)) return refuse(BridgeCloseCode.badRequest, `subprotocol ${SUBPROTOCOL_V1} required`)
    const peer = peerText === null ? undefined : peerParameter(peerText)
    if (peer === undefined) return refuse(BridgeCloseCode.badRequest, `missing or malformed ${PEER_QUERY_PARAM} parameter`)
    const where = formatPeerAddress(peer)
    if (this.pending.size + this.relays.size >= this.maxConnections) {
      return refuse(BridgeCloseCode.tooManyConnections, 'bridge is at its connection limit')
    }
    if ((this.perIp.get(client) ?? 0) >= this.maxPerIp) {
      return refuse(BridgeCloseCode.tooManyConnections, 'too many connections from your address')
    }

    // Admitted so far: hold a slot while the target is checked and connected.
    const p: Pending = { socket, client, abandoned: false, handedOver: false, upstream: undefined }
    this.pending.add(p)
    this.perIp.set(client, (this.perIp.get(client) ?? 0) + 1)
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      this.pending.delete(p)
      this.releaseIp(client)
    }
    socket.once('close', () => {
      if (p.handedOver) return
      p.abandoned = true
      p.upstream?.destroy()
      release()
    })

    const verdict = await checkTarget(this.policy, peer.host, peer.port)
    if (p.abandoned) return this.emit({ event: 'abandoned', client, peer: where })
    if (this.closing) {
      release()
      return refuse(BridgeCloseCode.goingAway, 'bridge shutting down')
    }
    if (!verdict.ok) {
      release()
      return refuse(verdict.code, verdict.reason)
    }
    const result = await this.connectUpstream(verdict.ip, peer.port, p)
    if (p.abandoned) {
      if (typeof result !== 'string') result.destroy()
      return this.emit({ event: 'abandoned', client, peer: where })
    }
    if (this.closing) {
      if (typeof result !== 'string') result.destroy()
      release()
      return refuse(BridgeCloseCode.goingAway, 'bridge shutting down')
    }
    if (typeof result === 'string') {
      release()
      return refuse(BridgeCloseCode.upstreamConnectFailed, result)
    }
    const upstream = formatPeerAddress({ host: verdict.ip, port: peer.port })
    this.verdicts.set(req, SUBPROTOCOL_V1)
    this.detachers.get(socket)?.() // ws adds its own listeners
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      p.handedOver = true
      this.pending.delete(p)
      this.relay(ws, result, client, where, upstream)
    })
    // If ws rejected the handshake (malformed headers), the socket closes
    // without a callback, and the 'close' listener above cleans up.
  }

  /** Connect to the checked address. Resolves with the socket, or with a reason string. */
  private connectUpstream(ip: string, port: number, p: Pending): Promise<Socket | string> {
    return new Promise((resolve) => {
      // write() returns false at the flow-control mark: net.Socket hands its
      // options to stream.Duplex, which reads writableHighWaterMark.
      const socketOptions: SocketConstructorOpts & { writableHighWaterMark: number } = {
        allowHalfOpen: false,
        writableHighWaterMark: this.maxBuffered,
      }
      const sock = new Socket(socketOptions)
      sock.connect({ host: ip, port })
      p.upstream = sock
      sock.setNoDelay(true)
      const timer = setTimeout(() => finish(`connect to upstream timed out after ${this.connectTimeoutMs} ms`), this.connectTimeoutMs)
      const finish = (outcome: Socket | string): void => {
        clearTimeout(timer)
        sock.removeListener('connect', onConnect)
        sock.removeListener('error', onError)
        if (typeof outcome === 'string') {
          sock.on('error', noop)
          sock.destroy()
        }
        resolve(outcome)
      }
      const onConnect = (): void => finish(sock)
      const onError = (err: Error): void => finish(`connect to upstream failed: ${errorCode(err)}`)
      sock.once('connect', onConnect)
      sock.once('error', onError)
    })
  }

  private refuse(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    offered: readonly string[],
    client: string,
    peer: string | null,
    code: number,
    reason: string,
  ): void {
    const name = closeCodeName(code)
    if (name in this.refusals) this.refusals[name as RefusalName]++
    this.emit({ event: 'refused', client, peer, code, name, reason })
    if (socket.destroyed) return
    // 'bitp2p.refused' tells a bitp2p client to wait for the close frame.
    this.verdicts.set(req, offered.includes(SUBPROTOCOL_REFUSED) ? SUBPROTOCOL_REFUSED : false)
    this.detachers.get(socket)?.() // ws adds its own listeners
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', noop)
      ws.close(code, reason.slice(0, MAX_REASON_CHARS))
      const t = setTimeout(() => ws.terminate(), REFUSAL_LINGER_MS)
      ws.once('close', () => clearTimeout(t))
    })
  }

  private relay(ws: WebSocket, up: Socket, client: string, peer: string, upstream: string): void {
    const r: Relay = {
      id: this.nextId++,
      client,
      peer,
      ws,
      up,
      openedAt: Date.now(),
      decoder:
        this.framing === undefined
          ? undefined
          : new FrameDecoder({ magic: this.framing.magic, maxPayload: this.framing.maxMessageBytes, streamCommands: new EveryCommand() }),
      transport: undefined,
      idle: setTimeout(() => this.drop(r, BridgeCloseCode.idleTimeout, 'idle timeout'), this.idleTimeoutMs),
      bytesToUpstream: 0,
      bytesToClient: 0,
      upPaused: false,
      wsPaused: false,
      closeCode: undefined,
      closeReason: '',
    }
    this.relays.add(r)
    this.counters.connectionsTotal++
    this.emit({ event: 'open', id: r.id, client, peer, upstream })
    // A WebSocket protocol error (e.g. a frame over maxPayload): `ws` closes
    // with the error's status code and then reports 'close' locally as 1006;
    // record the code the client was sent, and drop the upstream at once.
    ws.on('error', (err: Error & { code?: string }) => {
      if (r.closeCode !== undefined) return
      r.closeCode = wsErrorCloseCode(err.code)
      r.closeReason = err.message
      r.up.destroy()
    })

    // upstream -> client. The WebSocket has no drain event: each send's
    // callback runs when its bytes left the queue, and resumes reading then.
    const afterClientWrite = (): void => {
      if (r.upPaused && r.closeCode === undefined && ws.bufferedAmount <= this.resumeMark) {
        r.upPaused = false
        up.resume()
      }
    }
    up.on('data', (chunk: Buffer) => {
      if (r.closeCode !== undefined) return
      r.bytesToClient += chunk.length
      this.counters.bytesToClient += chunk.length
      r.idle?.refresh()
      ws.send(chunk, { binary: true }, afterClientWrite)
      const queued = ws.bufferedAmount
      if (queued > this.counters.peakBufferedToClient) this.counters.peakBufferedToClient = queued
      if (queued > this.hardCap) return this.drop(r, BridgeCloseCode.bufferOverflow, 'client send queue overflow')
      if (queued >= this.maxBuffered && !r.upPaused) {
        r.upPaused = true
        up.pause()
      }
    })

    // client -> upstream: pause the WebSocket while the TCP queue is full.
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (r.closeCode !== undefined) return
      if (!isBinary) return this.drop(r, 1003, 'text frames are not allowed')
      const bytes = data as Buffer // binaryType 'nodebuffer' (the default): one Buffer per message
      const decoder = r.decoder
      if (decoder !== undefined) {
        for (const ev of decoder.push(bytes)) {
          if (ev.type === 'error') {
            // Not the magic at the very start: BIP324 v2 (ciphertext), when allowed; no longer ours to read.
            if (ev.error.code === 'BAD_MAGIC' && r.transport === undefined && decoder.bytesConsumed <= 4 && this.framing?.v2 !== false) {
              r.decoder = undefined
              r.transport = 'v2'
              this.counters.v2Connections++
              break
            }
            return this.drop(r, BridgeCloseCode.framingViolation, `invalid framing: ${ev.error.code}`)
          }
          r.transport ??= 'v1'
        }
        if (r.decoder !== undefined && r.transport === undefined && decoder.bytesConsumed >= 4) r.transport = 'v1'
      }
      r.bytesToUpstream += bytes.length
      this.counters.bytesToUpstream += bytes.length
      r.idle?.refresh()
      const ok = up.write(bytes)
      const queued = up.writableLength
      if (queued > this.counters.peakBufferedToUpstream) this.counters.peakBufferedToUpstream = queued
      if (queued > this.hardCap) return this.drop(r, BridgeCloseCode.bufferOverflow, 'upstream send queue overflow')
      if (!ok && !r.wsPaused) {
        r.wsPaused = true
        ws.pause()
      }
    })
    up.on('drain', () => {
      if (r.wsPaused && r.closeCode === undefined) {
        r.wsPaused = false
        ws.resume()
      }
    })

    // Ends. The upstream's FIN or failure closes the WebSocket after the
    // bytes already queued for the client; the client's close ends the
    // upstream after the bytes queued for it.
    up.on('end', () => this.closeClient(r, BridgeCloseCode.upstreamClosed, 'upstream closed'))
    up.on('error', (err) => this.closeClient(r, BridgeCloseCode.upstreamReset, `upstream failed: ${errorCode(err)}`))
    up.on('close', () => this.closeClient(r, BridgeCloseCode.upstreamClosed, 'upstream closed'))
    ws.on('close', (code: number, reason: Buffer) => {
      if (r.closeCode === undefined) {
        // The client closed first.
        r.closeCode = code
        r.closeReason = reason.toString('utf8')
        this.endUpstream(r)
      }
      this.finishRelay(r)
    })
  }

  /** Close the client side with `code` (first close wins). */
  private closeClient(r: Relay, code: number, reason: string): void {
    if (r.closeCode !== undefined) return
    r.closeCode = code
    r.closeReason = reason
    r.ws.close(code, reason.slice(0, MAX_REASON_CHARS))
    const t = setTimeout(() => r.ws.terminate(), CLOSE_LINGER_MS)
    r.ws.once('close', () => clearTimeout(t))
  }

  /** Close both sides at once (idle, framing, overflow, protocol errors): nothing more is relayed. */
  private drop(r: Relay, code: number, reason: string): void {
    if (r.closeCode !== undefined) return
    this.closeClient(r, code, reason)
    r.up.destroy()
  }

  /** Let the upstream's queue flush, then FIN; destroy after CLOSE_LINGER_MS at most. */
  private endUpstream(r: Relay): void {
    const up = r.up
    if (up.destroyed || up.writableEnded) return
    up.end()
    up.resume() // read (and discard) until the peer's FIN
    const t = setTimeout(() => up.destroy(), CLOSE_LINGER_MS)
    up.once('close', () => clearTimeout(t))
  }

  private finishRelay(r: Relay): void {
    if (!this.relays.delete(r)) return
    if (r.idle !== undefined) clearTimeout(r.idle)
    this.endUpstream(r) // no-op unless the upstream is still open
    this.releaseIp(r.client)
    const code = r.closeCode ?? 1006
    const name = closeCodeName(code)
    this.closes.set(name, (this.closes.get(name) ?? 0) + 1)
    this.emit({
      event: 'close',
      id: r.id,
      client: r.client,
      peer: r.peer,
      code,
      name,
      reason: r.closeReason,
      bytesToUpstream: r.bytesToUpstream,
      bytesToClient: r.bytesToClient,
      durationMs: Date.now() - r.openedAt,
    })
  }

  private releaseIp(client: string): void {
    const n = (this.perIp.get(client) ?? 1) - 1
    if (n <= 0) this.perIp.delete(client)
    else this.perIp.set(client, n)
  }

  metrics(): BridgeMetrics {
    let bufferedToUpstream = 0
    let bufferedToClient = 0
    for (const r of this.relays) {
      bufferedToUpstream += r.up.destroyed ? 0 : r.up.writableLength
      bufferedToClient += r.ws.bufferedAmount
    }
    return {
      connectionsCurrent: this.relays.size,
      connectionsPending: this.pending.size,
      ...this.counters,
      bufferedToUpstream,
      bufferedToClient,
      refusals: { ...this.refusals },
      closes: Object.fromEntries(this.closes),
    }
  }

  /** Refuse new upgrades, close every relay with 1001, wait (bounded) for every socket to close. */
  async shutdown(): Promise<void> {
    this.closing = true
    const connections = this.relays.size
    for (const p of this.pending) p.upstream?.destroy()
    for (const r of this.relays) {
      this.closeClient(r, BridgeCloseCode.goingAway, 'bridge shutting down')
      this.endUpstream(r)
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const s of this.live) s.destroy()
        for (const r of this.relays) r.up.destroy()
        resolve()
      }, SHUTDOWN_GRACE_MS)
      this.onAllClosed = () => {
        clearTimeout(timer)
        resolve()
      }
      this.checkAllClosed()
    })
    this.wss.close()
    this.emit({ event: 'shutdown', connections })
  }

  private checkAllClosed(): void {
    if (this.closing && this.live.size === 0 && this.onAllClosed !== undefined) {
      const done = this.onAllClosed
      this.onAllClosed = undefined
      done()
    }
  }
}

/** Parse a Sec-WebSocket-Protocol header into its names. */
/** The `peer` query parameter as an address, or undefined when it is not `host:port` (parsePeerAddress's rules). */
function peerParameter(text: string): PeerAddress | undefined {
  try {
    return parsePeerAddress(text)
  } catch (e) {
    if (e instanceof PeerAddressError) return undefined
    throw e
  }
}

function parseProtocols(header: string | undefined): string[] {
  if (header === undefined) return []
  return header
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

/** Canonical client address ('::ffff:1.2.3.4' -> '1.2.3.4'), so one host has one per-IP count. */
function normaliseClient(address: string | undefined): string {
  if (address === undefined || address.length === 0) return 'unknown'
  return canonicalIp(address) ?? address
}

function digest(s: string): Uint8Array {
  return createHash('sha256').update(s, 'utf8').digest()
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string') return code
  return err instanceof Error ? err.message : String(err)
}

async function defaultResolver(hostname: string): Promise<readonly string[]> {
  const answers = await lookup(hostname, { all: true, verbatim: true })
  return answers.map((a) => a.address)
}

/**
 * The close code `ws` sends for one of its receiver errors (RFC 6455
 * section 7.4.1): 1009 for a message over maxPayload, 1007 for invalid
 * UTF-8, 1008 for too many fragments, 1002 for every other protocol error.
 */
function wsErrorCloseCode(code: string | undefined): number {
  switch (code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
      return 1009
    case 'WS_ERR_INVALID_UTF8':
      return 1007
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return 1008
    default:
      return 1002
  }
}
