/**
 * Peer: one connection to one Bitcoin node, the flush loop around a
 * Connection machine (core/connection.ts), which owns the bytes: framing,
 * the protocol version, the handshake, pings, requests.
 *
 * The driver owns the IO the machine never sees: a Transport, a Clock and
 * one clock timer set to the machine's nextDeadline(). Its loop is the
 * sans-IO contract:
 *
 *   bytes in  -> connection.receive(now, bytes)            -> flush
 *   timer     -> connection.timeout(now)                   -> flush
 *   api call  -> connection.send / request / close(now, ...) -> flush
 *   flush     =  poll every action: write bytes, emit events, close the
 *                transport on disconnect; re-arm the timer
 *
 * Backpressure. Frames go straight to the transport while its
 * bufferedAmount is at most `highWaterMark`; beyond that they wait in our
 * queue for the transport's drain. `send()` returns false while above the
 * mark (as Node's stream.write does) and 'drain' fires when the queue has
 * emptied. If queued plus buffered bytes pass `maxSendBuffer` (default
 * 32 MB) the peer is not reading: disconnect with 'send-buffer-full'.
 * Inbound, the decoder holds at most one frame, itself bounded by the
 * network's framing caps, so a peer cannot make us buffer more.
 *
 * Events are emitted synchronously. Messages can arrive in the same read
 * as the peer's verack, before `Peer.connect` resolves: pass `setup` to
 * attach listeners before the handshake starts.
 *
 * No Node built-ins: runs on Node, Deno, Bun, browsers and workers.
 */
import { EventEmitter } from 'eventemitter3'
import {
  ipFromString,
  type Command,
  type FramingParams,
  type InvItem,
  type KnownMessage,
  type Message,
  type MessageOf,
  type NetAddress,
} from '@bitp2p/wire'
import { type PayloadChunkEvent, type PayloadEndEvent, type PayloadStartEvent } from '@bitp2p/wire/codecs'
import { IP_BYTES } from '@bitp2p/wire/limits'
import { Connection, type ConnectionAction, type ConnectionConfig, type ConnectionEvent } from '../core/connection.js'
import type { FrameCodec, V2Support } from '../core/codec.js'
import type { TransportMemory } from '../core/transport-memory.js'
import type { HandshakeInfo, PeerFeatures } from '../core/fsm/handshake.js'
import type { Offense } from '../core/fsm/misbehavior.js'
import { pickPeerMachineConfig, type PeerMachine, type PeerMachineConfig, type PeerMachineState } from '../core/fsm/peer.js'
import type { RttStats } from '../core/fsm/ping.js'
import { describeDisconnect, type DisconnectKind, type DisconnectReason } from '../core/fsm/reasons.js'
import type { PeerRequest, RequestFailure, RequestResult, RequestSummary } from '../core/fsm/requests.js'
import type { PoolFailure } from '../core/pool/machine.js'
import { systemRandom } from './system-random.js'
import { RealtimeClock } from './realtime-clock.js'
import { TransportError, type Cancel, type Clock, type Connector, type PeerAddress, type Random, type Transport } from '../core/ports.js'

/** Default high-water mark of the send path: 1 MB buffered in the transport. */
export const DEFAULT_HIGH_WATER_MARK = 1_000_000
/** Default hard cap on queued plus transport-buffered bytes: 32 MB, eight maximum-size blocks. */
export const DEFAULT_MAX_SEND_BUFFER = 32_000_000

/** Options shared by Peer.connect and Peer.accept. */
export interface PeerOptions extends Omit<PeerMachineConfig, 'direction' | 'remoteAddress'> {
  /** Magic and framing caps of the network (a NetworkParams object satisfies this). */
  readonly network: FramingParams
  /** Default: a RealtimeClock. */
  readonly clock?: Clock
  /** Default: systemRandom() (the platform CSPRNG). */
  readonly random?: Random
  /**
   * Unix ms = clock.now() + unixTimeOffsetMs, for the version timestamp.
   * Default: the clock's own `unixTimeOffsetMs` (a RealtimeClock's is the
   * platform's time origin), else 0.
   */
  readonly unixTimeOffsetMs?: number
  /**
   * BIP324's v2 encrypted transport: pass `v2` from `@bitp2p/session/v2`
   * (its own entry, so an app without it carries no cipher code). With it
   * the default `transport` is 'v2-first'; without it, 'v1'.
   */
  readonly v2?: V2Support
  /**
   * The transport protocol. Peer.connect: 'v2-first' tries v2 and, when
   * that handshake is refused or garbled (a v1-only node), connects once
   * more in v1; 'v2' only v2; 'v1' only the plaintext framing.
   * Peer.accept: 'v2-first' and 'v2' take a v2 client and recognise a v1
   * one by its first bytes ('v2' then refuses it); 'v1' speaks v1 only.
   * Default: 'v2-first' with `v2`, else 'v1'. Networks with BSV extended
   * messages are always v1.
   */
  readonly transport?: TransportMode
  /** v2 tuning, for tests: garbage length (default uniform in 0..4094) and decoy packets before the version packet. */
  readonly v2Options?: { readonly garbageLen?: number; readonly decoys?: readonly number[] }
  /** Where Peer.connect remembers peers that only speak v1 (a Pool keeps one); without it nothing is remembered. */
  readonly transportMemory?: TransportMemory
  /** Default DEFAULT_HIGH_WATER_MARK. */
  readonly highWaterMark?: number
  /** Default DEFAULT_MAX_SEND_BUFFER. */
  readonly maxSendBuffer?: number
  /** Abort the handshake. */
  readonly signal?: AbortSignal
  /** Called with the new Peer before the handshake starts: attach listeners here. */
  readonly setup?: (peer: Peer) => void
}

/** Options of Peer.connect. */
export interface ConnectOptions extends PeerOptions {
  readonly connector: Connector
}

/** Options of Peer.request. */
export interface RequestOptions {
  /** Deadline of this request (default: per kind, see fsm/requests.ts). */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
  /**
   * The pieces of a streamed block answering this request (a Peer with
   * `streamBlocks`), from its start to its end, as they arrive. The
   * request's promise settles after the last piece: found (the block's
   * item with `message` undefined), or failed.
   */
  readonly onPayload?: (event: PayloadStartEvent | PayloadChunkEvent | PayloadEndEvent) => void
}

type CommandEvents = { [C in Command]: [message: MessageOf<C>] }

/** The events of a Peer, with their arguments. */
export interface PeerEvents extends CommandEvents {
  /** The handshake completed. */
  ready: [info: HandshakeInfo]
  /** Any message after the handshake (also emitted under its command name). */
  message: [message: Message]
  latency: [rttMs: number, stats: RttStats]
  misbehavior: [offense: Offense, score: number, threshold: number]
  stalled: [request: RequestSummary, waitedMs: number]
  unsolicited: [message: Message]
  features: [features: PeerFeatures]
  /** A streamed payload piece, with the request it answers (undefined: unsolicited, late, or not a block). */
  payload: [event: PayloadStartEvent | PayloadChunkEvent | PayloadEndEvent, requestId: number | undefined]
  'unknown-command': [command: string, count: number]
  /** A whole frame passed, in or out: its command and size on the wire (for metering). */
  frame: [direction: 'in' | 'out', command: string, wireBytes: number]
  /** The send queue emptied after send() returned false. */
  drain: []
  /** The connection ended; emitted once. */
  close: [reason: DisconnectReason]
}

/** Which transport protocol a Peer speaks or tries; see PeerOptions.transport. */
export type TransportMode = 'v2-first' | 'v2' | 'v1'

/** A connection that did not get to (or past) the handshake, with the typed reason. */
export class PeerError extends Error {
  override readonly name = 'PeerError'
  /** What ended the connection: `reason.kind`. */
  readonly code: DisconnectKind
  /** Why, with the data of the reason (and its policy through disconnectPolicy). */
  readonly reason: DisconnectReason
  /**
   * How far the connection got: 'transport' (the connect, or v2's own
   * handshake, never completed), 'version' (the transport was up, the
   * version handshake failed). Undefined when unknown.
   */
  readonly stage: 'transport' | 'version' | undefined
  constructor(reason: DisconnectReason, options?: { cause?: unknown; stage?: 'transport' | 'version' }) {
    super(describeDisconnect(reason), options)
    this.code = reason.kind
    this.reason = reason
    this.stage = options?.stage
  }
}

/**
 * A request that ended without an answer: a Peer's request (getHeaders,
 * getData, ping, request) or a Pool's (request, broadcast). `code` is the
 * failure's kind; `failure` carries its data:
 * - from a peer: 'stalled' (no progress for `waitedMs`), 'cancelled',
 *   'closed' (the connection ended, with its `reason`);
 * - from the pool: 'exhausted' (`attempts` failed, `last` the last one's
 *   peer failure), 'no-peers' (none ready for `waitedMs`), 'stopped',
 *   'queue-full' (a broadcast dropped as the oldest past `limit`);
 * - from either: 'aborted' (its AbortSignal fired, with the signal's `reason`).
 */
export class RequestError extends Error {
  override readonly name = 'RequestError'
  /** What ended the request: `failure.kind`. */
  readonly code: RequestFailure['kind'] | PoolFailure['kind']
  /** The peer request that failed; undefined for a pool request, and for one aborted before it was sent. */
  readonly request: RequestSummary | undefined
  /** Why, with the data of the failure. */
  readonly failure: RequestFailure | PoolFailure
  /** A failed request: `request` when a peer sent one, and why. */
  constructor(request: RequestSummary | undefined, failure: RequestFailure | PoolFailure) {
    const attempts = failure.kind === 'exhausted' ? ` after ${failure.attempts} attempts (last: ${failure.last.kind})` : ''
    super(`request ${request ? `#${request.id} (${request.kind}) ` : ''}failed: ${failure.kind}${attempts}`)
    this.code = failure.kind
    this.request = request
    this.failure = failure
  }
}

/** The peer's failure a RequestError carries (stalled, cancelled, closed); undefined for anything else (an abort, a pool failure, another error). */
export function peerRequestFailure(e: unknown): RequestFailure | undefined {
  if (!(e instanceof RequestError)) return undefined
  const f = e.failure
  return f.kind === 'stalled' || f.kind === 'cancelled' || f.kind === 'closed' ? f : undefined
}

interface Waiter {
  readonly onPayload: RequestOptions['onPayload']
  resolve(r: RequestResult): void
  reject(e: RequestError): void
  abortedBy?: unknown
  cleanup(): void
}

/** The version message's addrRecv for a remote address (null address for DNS names). */
function netAddressOf(addr: PeerAddress): NetAddress {
  let host: Uint8Array
  try {
    host = ipFromString(addr.host)
  } catch {
    host = new Uint8Array(IP_BYTES)
  }
  return { services: 0n, host, port: addr.port }
}

/** The empty waiter map every Peer starts with: shared, never written (the first request gives the peer its own). */
const NO_WAITERS: ReadonlyMap<number, unknown> = new Map()

/**
 * One connection to one Bitcoin node, past its handshake: get one with
 * `Peer.connect` (outbound) or `Peer.accept` (inbound), then send messages,
 * make requests (getHeaders, getData, ping) and listen to its events (see
 * PeerEvents). The connection ends once, with a DisconnectReason given by
 * the 'close' event, `closed` and `closeReason`.
 */
export class Peer extends EventEmitter<PeerEvents> {
  /** Where the transport goes. */
  readonly remote: PeerAddress
  readonly direction: 'outbound' | 'inbound'
  private readonly transport: Transport
  private readonly clock: Clock
  private readonly conn: Connection
  private readonly machine: PeerMachine
  private readonly highWaterMark: number
  private readonly maxSendBuffer: number
  private timerAt: number | undefined
  private timerCancel: Cancel | undefined
  private flushing = false
  private readonly queue: Uint8Array[] = []
  private queuedBytes = 0
  private wantDrain = false
  /** Promises waiting on requests, by id; NO_WAITERS (shared, never written) until the first request. */
  private waiters: Map<number, Waiter> = NO_WAITERS as Map<number, Waiter>
  private resolveClosed!: (r: DisconnectReason) => void
  /** Resolves with the reason when the connection ends. */
  readonly closed: Promise<DisconnectReason>

  private constructor(transport: Transport, direction: 'outbound' | 'inbound', opts: PeerOptions, codec: FrameCodec | undefined) {
    super()
    this.transport = transport
    this.remote = transport.remote
    this.direction = direction
    this.clock = opts.clock ?? new RealtimeClock()
    this.highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    this.maxSendBuffer = opts.maxSendBuffer ?? DEFAULT_MAX_SEND_BUFFER
    const unixTimeOffsetMs = opts.unixTimeOffsetMs ?? this.clock.unixTimeOffsetMs ?? 0
    const random = opts.random ?? systemRandom()
    const v1Fallback = transportMode(opts) !== 'v2'
    // The connection gets the machine's settings (picked by name) and its own: not the driver's callbacks, clock,
    // connector or v2 support, which it never reads and would keep alive as long as it lives.
    const machineConfig = pickPeerMachineConfig(opts)
    machineConfig.direction = direction
    machineConfig.remoteAddress = netAddressOf(transport.remote)
    machineConfig.unixTimeOffsetMs = unixTimeOffsetMs
    const config: ConnectionConfig = Object.assign(machineConfig, { network: opts.network, codec, v1Fallback })
    this.conn = new Connection(config, random)
    this.machine = this.conn.machine
    this.closed = new Promise((r) => (this.resolveClosed = r))
    transport.onData((bytes) => this.onData(bytes))
    transport.onClose((err) => this.onTransportClose(err))
    transport.onDrain(() => this.onDrain())
  }

  /**
   * Connect to `addr` and complete the handshake. Rejects with PeerError
   * (reason 'transport' if the connection failed, 'aborted' if `signal`
   * fired, or why the handshake failed).
   */
  static async connect(addr: PeerAddress, opts: ConnectOptions): Promise<Peer> {
    const mode = transportMode(opts)
    const memory = opts.transportMemory
    if (mode === 'v1' || (mode === 'v2-first' && memory?.isV1Only(addr))) return Peer.connectOnce(addr, opts, 'v1')
    try {
      return await Peer.connectOnce(addr, opts, 'v2')
    } catch (e) {
      if (mode !== 'v2-first' || !(e instanceof PeerError) || !mayRetryInV1(e)) throw e
      memory?.rememberV1Only(addr)
      return Peer.connectOnce(addr, opts, 'v1')
    }
  }

  private static async connectOnce(addr: PeerAddress, opts: ConnectOptions, version: 'v1' | 'v2'): Promise<Peer> {
    const { signal } = opts
    if (signal?.aborted) throw new PeerError({ kind: 'aborted', reason: signal.reason }, { stage: 'transport' })
    const codec = version === 'v1' ? undefined : v2CodecFor('initiator', opts)
    let transport: Transport
    try {
      transport = await opts.connector.connect(addr, signal)
    } catch (e) {
      if (signal?.aborted) throw new PeerError({ kind: 'aborted', reason: signal.reason }, { cause: e, stage: 'transport' })
      const error = e instanceof TransportError ? e : new TransportError('connect-failed', String(e), e)
      throw new PeerError({ kind: 'transport', error }, { cause: e, stage: 'transport' })
    }
    return new Peer(transport, 'outbound', opts, codec).handshake(opts)
  }

  /** Complete the handshake on an accepted inbound transport. */
  static accept(transport: Transport, opts: PeerOptions): Promise<Peer> {
    const codec = transportMode(opts) === 'v1' ? undefined : v2CodecFor('responder', opts)
    return new Peer(transport, 'inbound', opts, codec).handshake(opts)
  }

  private handshake(opts: PeerOptions): Promise<Peer> {
    const { signal } = opts
    return new Promise<Peer>((resolve, reject) => {
      const onAbort = () => this.closeWith({ kind: 'aborted', reason: signal?.reason })
      const cleanup = () => {
        signal?.removeEventListener('abort', onAbort)
        this.off('ready', onReady)
        this.off('close', onClose)
      }
      const onReady = () => {
        cleanup()
        resolve(this)
      }
      const onClose = (reason: DisconnectReason) => {
        cleanup()
        reject(new PeerError(reason, { stage: this.conn.transportReady ? 'version' : 'transport' }))
      }
      this.once('ready', onReady)
      this.once('close', onClose)
      opts.setup?.(this)
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      this.conn.start(this.clock.now())
      this.flush()
    })
  }

  // --- state ---------------------------------------------------------------

  /** 'ready' from the time `connect`/`accept` resolves, 'closed' once the connection has ended. */
  get state(): PeerMachineState {
    return this.conn.state
  }
  /** The transport protocol in use: 1 (plaintext framing) or 2 (BIP324 encrypted). */
  get transportVersion(): 1 | 2 {
    return this.conn.transportVersion
  }
  /** The BIP324 session id (v2 only): the same on both ends; compare it out of band to rule out a man in the middle. */
  get sessionId(): Uint8Array | undefined {
    return this.conn.sessionId
  }
  /** The handshake result (peer version, negotiated features). */
  get info(): HandshakeInfo | undefined {
    return this.machine.info
  }
  /** The peer's features now (post-handshake feature messages included). */
  get features(): PeerFeatures | undefined {
    return this.machine.features
  }
  /** Round-trip times of the automatic and user pings, in ms (undefined fields until the first pong). */
  get rtt(): RttStats {
    return this.machine.rtt
  }
  /** The peer's misbehaviour score so far; reaching `misbehaviorThreshold` (default 100) disconnects it. */
  get misbehaviorScore(): number {
    return this.machine.misbehaviorScore
  }
  /**
   * Unknown commands received, by name, first seen first: at most
   * MAX_TRACKED_UNKNOWN_COMMANDS names, the rest counted under UNKNOWN_OTHER.
   */
  get unknownCommands(): ReadonlyMap<string, number> {
    return this.machine.unknownCommands
  }
  /** Why the connection ended; undefined while it is open. */
  get closeReason(): DisconnectReason | undefined {
    return this.machine.closeReason
  }
  /** Bytes waiting to go out: our queue plus the transport's buffer. */
  get bufferedAmount(): number {
    return this.queuedBytes + this.transport.bufferedAmount
  }

  // --- api -----------------------------------------------------------------

  /**
   * Send a message. Returns false when the send buffer is above the
   * high-water mark (wait for 'drain'). Throws LocalProtocolError before the
   * handshake or after close, WireError if the message cannot be encoded.
   */
  send(msg: KnownMessage): boolean {
    // The connection encodes first: a message that cannot be encoded throws and changes nothing.
    this.conn.send(this.clock.now(), msg)
    this.flush()
    const ok = this.bufferedAmount <= this.highWaterMark
    if (!ok) this.wantDrain = true
    return ok
  }

  /** Ask the peer for something; resolves with the matched answer. */
  request(req: PeerRequest, opts: RequestOptions = {}): Promise<RequestResult> {
    const { signal } = opts
    if (signal?.aborted) return Promise.reject(new RequestError(undefined, { kind: 'aborted', reason: signal.reason }))
    let id: number
    try {
      id = this.conn.request(this.clock.now(), req, { timeoutMs: opts.timeoutMs })
    } catch (e) {
      return Promise.reject(e)
    }
    const p = new Promise<RequestResult>((resolve, reject) => {
      const onAbort = () => {
        const w = this.waiters.get(id)
        if (!w) return
        w.abortedBy = signal?.reason ?? 'aborted'
        this.conn.cancel(this.clock.now(), id)
        this.flush()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      if (this.waiters === NO_WAITERS) this.waiters = new Map()
      this.waiters.set(id, { onPayload: opts.onPayload, resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) })
    })
    this.flush()
    return p
  }

  /** getheaders; resolves with the headers after the locator. */
  async getHeaders(locator: readonly Uint8Array[], opts: RequestOptions & { hashStop?: Uint8Array } = {}): Promise<MessageOf<'headers'>['headers']> {
    const r = await this.request({ kind: 'headers', locator, hashStop: opts.hashStop }, opts)
    return r.kind === 'headers' ? r.headers : []
  }

  /** getdata; resolves with what was found and what the peer did not have. */
  async getData(items: readonly InvItem[], opts: RequestOptions = {}): Promise<Extract<RequestResult, { kind: 'data' }>> {
    const r = await this.request({ kind: 'data', items }, opts)
    if (r.kind !== 'data') throw new Error('unreachable: data request answered with ' + r.kind)
    return r
  }

  /** Ping; resolves with the round-trip time in ms. */
  async ping(opts: RequestOptions = {}): Promise<number> {
    const r = await this.request({ kind: 'ping' }, opts)
    return r.kind === 'ping' ? r.rttMs : Number.NaN
  }

  /**
   * Report invalid data this peer served (see Offense: 'invalid-header',
   * 'invalid-block' and 'invalid-filter' score 100, so the peer is
   * disconnected as 'misbehaving').
   */
  punish(offense: Offense): void {
    this.conn.punish(this.clock.now(), offense)
    this.flush()
  }

  /**
   * Close the connection. Idempotent. A string (or nothing) is a 'local'
   * reason in the caller's words; a pool or crawler passes its own typed
   * reason ('evicted', 'pool-stopped', 'crawled', ...).
   */
  close(reason?: string | DisconnectReason): void {
    this.closeWith(typeof reason === 'object' ? reason : { kind: 'local', reason })
  }

  // --- driver --------------------------------------------------------------

  private isClosed(): boolean {
    return this.machine.state === 'closed'
  }

  private closeWith(reason: DisconnectReason): void {
    this.conn.close(this.clock.now(), reason)
    this.flush()
  }

  private onData(bytes: Uint8Array): void {
    if (this.isClosed()) return
    this.conn.receive(this.clock.now(), bytes)
    this.flush()
  }

  private onTransportClose(err?: TransportError): void {
    this.closeWith({ kind: 'transport', error: err })
  }

  private onDrain(): void {
    while (this.queue.length > 0 && this.transport.bufferedAmount <= this.highWaterMark) {
      const bytes = this.queue.shift()!
      this.queuedBytes -= bytes.length
      this.transport.send(bytes)
    }
    if (this.queue.length === 0 && this.wantDrain && this.bufferedAmount <= this.highWaterMark) {
      this.wantDrain = false
      this.emit('drain')
    }
  }

  private write(bytes: Uint8Array): void {
    if (this.queue.length === 0 && this.transport.bufferedAmount <= this.highWaterMark) {
      this.transport.send(bytes)
    } else {
      this.queue.push(bytes)
      this.queuedBytes += bytes.length
    }
    const buffered = this.bufferedAmount
    if (buffered > this.maxSendBuffer) {
      this.conn.close(this.clock.now(), { kind: 'send-buffer-full', buffered, limit: this.maxSendBuffer })
    }
  }

  /** Carry out every queued action, then re-arm the timer. Re-entrant calls return at once. */
  private flush(): void {
    if (this.flushing) return
    this.flushing = true
    try {
      for (let a = this.conn.poll(); a; a = this.conn.poll()) this.act(a)
    } finally {
      this.flushing = false
    }
    this.arm()
  }

  private act(a: ConnectionAction): void {
    switch (a.type) {
      case 'write':
        if (this.isClosed()) return
        this.write(a.bytes)
        return
      case 'event':
        return this.dispatch(a.event)
      case 'disconnect':
        this.queue.length = 0
        this.queuedBytes = 0
        this.transport.close(a.reason)
        this.emit('close', a.reason)
        this.resolveClosed(a.reason)
        return
    }
  }

  private dispatch(e: ConnectionEvent): void {
    switch (e.type) {
      case 'ready':
        this.emit('ready', e.info)
        return
      case 'frame':
        this.emit('frame', e.direction, e.command, e.wireBytes)
        return
      case 'codec-ready':
      case 'fallback-v1':
        return
      case 'message':
        this.emit('message', e.message)
        if (e.message.command !== 'unknown') {
          ;(this as EventEmitter).emit(e.message.command, e.message)
        }
        return
      case 'response': {
        const w = this.waiters.get(e.id)
        if (!w) return
        this.waiters.delete(e.id)
        w.cleanup()
        w.resolve(e.result)
        return
      }
      case 'request-failed': {
        const w = this.waiters.get(e.request.id)
        if (!w) return
        this.waiters.delete(e.request.id)
        w.cleanup()
        const failure = w.abortedBy !== undefined && e.failure.kind === 'cancelled' ? { kind: 'aborted' as const, reason: w.abortedBy } : e.failure
        w.reject(new RequestError(e.request, failure))
        return
      }
      case 'latency':
        this.emit('latency', e.rttMs, e.stats)
        return
      case 'misbehavior':
        this.emit('misbehavior', e.offense, e.score, e.threshold)
        return
      case 'stalled':
        this.emit('stalled', e.request, e.waitedMs)
        return
      case 'unsolicited':
        this.emit('unsolicited', e.message)
        return
      case 'features':
        this.emit('features', e.features)
        return
      case 'payload':
        if (e.requestId !== undefined) this.waiters.get(e.requestId)?.onPayload?.(e.event)
        this.emit('payload', e.event, e.requestId)
        return
      case 'unknown-command':
        this.emit('unknown-command', e.command, e.count)
        return
    }
  }

  /** Keep exactly one clock timer, at the machine's next deadline. */
  private arm(): void {
    const at = this.conn.nextDeadline()
    if (at === this.timerAt) return
    this.timerCancel?.()
    this.timerCancel = undefined
    this.timerAt = at
    if (at === undefined) return
    this.timerCancel = this.clock.setTimer(Math.max(0, at - this.clock.now()), this.onTimer)
  }

  // The one timer's callback, made once per peer rather than per arm().
  private readonly onTimer = (): void => {
    this.timerCancel = undefined
    this.timerAt = undefined
    this.conn.timeout(this.clock.now())
    this.flush()
  }
}

/**
 * A failed v2 connect worth one more try in v1 (BIP324 and Core): the v2
 * handshake was refused or garbled, or the connection dropped or timed out
 * before it completed. Not after an abort, a connect that never reached
 * the peer, or a failure once the encrypted session was up.
 */
export function mayRetryInV1(e: PeerError): boolean {
  if (e.stage !== 'transport') return false
  const r = e.reason
  switch (r.kind) {
    case 'v2':
      return r.retryV1 || r.code === 'NO_TERMINATOR'
    case 'handshake-timeout':
      return true
    case 'transport':
      return r.error !== undefined && (r.error.code === 'remote' || r.error.code === 'reset')
    default:
      return false
  }
}



/**
 * The transport mode in force: the option, 'v2-first' by default; always
 * 'v1' on a network with BSV extended messages (BIP324 packets hold at most
 * 16 MB, and no BSV node speaks v2).
 */
function transportMode(opts: PeerOptions): TransportMode {
  if (opts.network.supportsExtMsg) return 'v1'
  if (!opts.v2) {
    if (opts.transport === 'v2' || opts.transport === 'v2-first') {
      throw new RangeError(`transport '${opts.transport}' needs the v2 support: the \`v2\` export of @bitp2p/session/v2, passed as \`v2\``)
    }
    return 'v1'
  }
  return opts.transport ?? 'v2-first'
}

/** A v2 codec for one connection in `role` (transportMode checked that `opts.v2` is there). */
function v2CodecFor(role: 'initiator' | 'responder', opts: PeerOptions): FrameCodec {
  return opts.v2!.codecFor(role, {
    network: opts.network,
    random: opts.random ?? systemRandom(),
    protocolVersion: opts.protocolVersion,
    garbageLen: opts.v2Options?.garbageLen,
    decoys: opts.v2Options?.decoys,
  })
}
