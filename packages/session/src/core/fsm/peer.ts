/**
 * PeerMachine: one peer connection as a sans-IO state machine.
 *
 * It composes the handshake, the pinger, the request tracker and the
 * misbehaviour score. Inputs carry the time; outputs are drained:
 *
 *   inputs   start(now)  receive(now, event)  timeout(now)
 *            send(now, msg)  request(now, req)  cancel(now, id)  close(now, reason)
 *   outputs  poll() / drain(): { type: 'send' | 'disconnect' | 'event' }
 *   timers   nextDeadline(): the earliest of the named deadlines
 *            (handshake, ping, pong-wait, request); deadlines() lists them
 *
 * No IO, no timers, no clock, no global randomness: a driver (peer.ts, or a
 * test) feeds decoded MessageEvents and the time, and carries out the
 * actions. `timeout(now)` with nothing due does nothing, so spurious
 * wake-ups are harmless.
 *
 * Policy, in one place:
 *  - framing errors are fatal: disconnect('framing');
 *  - undecodable payloads, out-of-order handshake messages and unsolicited
 *    data score offenses (misbehavior.ts); reaching the threshold
 *    disconnects ('misbehaving');
 *  - a stalled request is reported ('stalled' event, its request fails)
 *    and, by onStall, ends the connection: by default a stalled getdata or
 *    ping disconnects, a stalled getheaders does not (Core ignores
 *    getheaders while in initial block download, and bcoin sends nothing
 *    when it has no headers to give: silence there is not a stall);
 *  - unknown commands are counted and dropped, never punished;
 *  - unsolicited `headers` of at most MAX_BLOCKS_TO_ANNOUNCE headers are
 *    block announcements (BIP130), not offenses; unsolicited `cmpctblock`
 *    is BIP152 high-bandwidth relay, not an offense.
 *
 * After a disconnect the machine is closed: later inputs are ignored and
 * nextDeadline() is undefined.
 */
import {
  blockHash,
  PROTOCOL_VERSION,
  txid,
  WireError,
  type KnownMessage,
  type Message,
  type MessageEvent,
  type MessageOf,
} from '@bitp2p/wire'
import { decodePayload, type PayloadStartEvent } from '@bitp2p/wire/codecs'
import { sha256d } from '@bitp2p/wire/hash'
import type { Random } from '../ports.js'
import { LocalProtocolError } from './errors.js'
import {
  applyFeatureMessage,
  Handshake,
  supportsBip31,
  type Direction,
  type HandshakeConfig,
  type HandshakeInfo,
  type PeerFeatures,
} from './handshake.js'
import {
  DISCOURAGEMENT_THRESHOLD,
  framingOffense,
  MAX_BLOCKS_TO_ANNOUNCE,
  Misbehavior,
  payloadOffense,
  type Offense,
} from './misbehavior.js'
import { Outbox, type PeerAction } from './outbox.js'
import { Pinger, type PingConfig, type RttStats } from './ping.js'
import type { DisconnectReason } from './reasons.js'
import { replyHeader, RequestTracker, type MatchOutcome, type PeerRequest, type RequestKind, type RequestSummary, type StreamClaim } from './requests.js'

/** Distinct unknown commands counted by name; the rest are counted under UNKNOWN_OTHER. */
export const MAX_TRACKED_UNKNOWN_COMMANDS = 32
/** The bucket for unknown commands beyond MAX_TRACKED_UNKNOWN_COMMANDS. */
export const UNKNOWN_OTHER = '(other)'
/** Bytes of a block header: the prefix of a streamed block that names it. */
const HEADER_BYTES = 80
/** Block payload cap when the config names none (Bitcoin's MAX_BLOCK_SERIALIZED_SIZE). */
const DEFAULT_MAX_BLOCK_PAYLOAD = 4_000_000

/** What to do when a request stalls. */
export type StallPolicy = 'disconnect' | 'report'

/** What a stalled request does by default, per kind (see the module comment). */
export const DEFAULT_STALL_POLICY: Readonly<Record<RequestKind, StallPolicy>> = Object.freeze({
  headers: 'report',
  data: 'disconnect',
  ping: 'disconnect',
})

/** How a PeerMachine behaves: the handshake settings plus ping, request and misbehaviour policy. */
export interface PeerMachineConfig extends HandshakeConfig {
  readonly direction: Direction
  readonly ping?: PingConfig
  /** Per-kind request deadlines (see requests.ts for the defaults). */
  readonly requestTimeouts?: Partial<Record<RequestKind, number>>
  /** Default DISCOURAGEMENT_THRESHOLD (100). */
  readonly misbehaviorThreshold?: number
  /** One policy for every request kind, or one per kind. Default: DEFAULT_STALL_POLICY. */
  readonly onStall?: StallPolicy | Partial<Record<RequestKind, StallPolicy>>
  /**
   * Block payloads always reach the machine as streamed pieces (so a block
   * is tied to its request at its header, and every piece is progress).
   * true: they go out as 'payload' events; false (default): the machine
   * gathers them and delivers the decoded block as a message.
   */
  readonly streamBlocks?: boolean
  /** The network's block payload cap (a NetworkParams satisfies it), for decoding gathered blocks. Default 4,000,000. */
  readonly maxBlockPayload?: number
}

/** The empty unknown-command count every machine starts with: shared, so it must never be written (see countUnknown). */
const NO_UNKNOWN: Map<string, number> = new Map()

/** A PeerMachineConfig with every key present (undefined when unset) and writable: what pickPeerMachineConfig returns. */
export type PickedPeerMachineConfig = { -readonly [K in keyof Required<PeerMachineConfig>]: PeerMachineConfig[K] }

/**
 * The machine's settings out of a wider options object, by name. Drivers
 * pass options that also hold their clock, connector and callbacks; the
 * machine keeps its config for the connection's life, so it must not keep
 * those alive. An object rest (`{ clock, ...rest }`) would do the same in
 * one line but costs microseconds per connection in V8; a literal costs
 * nanoseconds, and its mapped type turns a key added to the config and
 * forgotten here into a compile error.
 */
export function pickPeerMachineConfig(c: Omit<PeerMachineConfig, 'direction'> & { readonly direction?: Direction }): PickedPeerMachineConfig {
  return {
    direction: c.direction as Direction,
    ping: c.ping,
    requestTimeouts: c.requestTimeouts,
    misbehaviorThreshold: c.misbehaviorThreshold,
    onStall: c.onStall,
    streamBlocks: c.streamBlocks,
    maxBlockPayload: c.maxBlockPayload,
    protocolVersion: c.protocolVersion,
    services: c.services,
    userAgent: c.userAgent,
    startHeight: c.startHeight,
    relay: c.relay,
    minProtocolVersion: c.minProtocolVersion,
    requiredServices: c.requiredServices,
    wtxidRelay: c.wtxidRelay,
    addrv2: c.addrv2,
    sendHeaders: c.sendHeaders,
    compactBlocks: c.compactBlocks,
    feeFilter: c.feeFilter,
    handshakeTimeoutMs: c.handshakeTimeoutMs,
    remoteAddress: c.remoteAddress,
    unixTimeOffsetMs: c.unixTimeOffsetMs,
    isOwnNonce: c.isOwnNonce,
  }
}

/** Where the connection is. */
export type PeerMachineState = 'idle' | 'handshaking' | 'ready' | 'closed'

/** The named deadlines. */
export type DeadlineName = 'handshake' | 'ping' | 'pong-wait' | 'request'

/** One armed deadline: call `timeout(now)` once `now >= at`. Times are in the caller's ms. */
export interface Deadline {
  readonly name: DeadlineName
  readonly at: number
  /** The request, for 'request'. */
  readonly requestId?: number
}

/** Messages only the handshake may send. */
const HANDSHAKE_COMMANDS: ReadonlySet<string> = new Set(['version', 'verack', 'wtxidrelay', 'sendaddrv2', 'sendtxrcncl'])

/**
 * One peer connection as a sans-IO state machine (see the module comment):
 * feed it inputs with the current time, carry out what poll()/drain()
 * return, and call timeout() at nextDeadline(). Methods that need a ready
 * connection throw LocalProtocolError otherwise; a peer's bad behaviour
 * never throws, it becomes events and, at worst, a disconnect.
 */
export class PeerMachine {
  readonly direction: Direction
  private readonly out = new Outbox()
  private readonly handshake: Handshake
  private readonly pinger: Pinger
  private readonly tracker: RequestTracker
  private readonly misbehavior: Misbehavior
  private readonly onStall: Readonly<Record<RequestKind, StallPolicy>>
  private st: PeerMachineState = 'idle'
  private handshakeInfo: HandshakeInfo | undefined
  private peerFeatures: PeerFeatures | undefined
  private reason: DisconnectReason | undefined
  /** Unknown commands seen, by name; NO_UNKNOWN (shared, never written) until the first. */
  private unknown: Map<string, number> = NO_UNKNOWN
  private unknownTotal = 0
  /**
   * The block being streamed: its start (held until the header is in),
   * first 80 bytes, hash, owning request and, unless streaming out, the
   * pieces gathered so far (they add up to what arrived, never to the
   * announced length: a peer must send bytes to make us hold them).
   */
  private stream:
    | {
        readonly start: PayloadStartEvent
        readonly header: Uint8Array
        filled: number
        hash: Uint8Array | undefined
        owner: number | undefined
        claim: StreamClaim['type'] | undefined
        readonly pieces: Uint8Array[] | undefined
      }
    | undefined
  private readonly streamOut: boolean
  private readonly maxBlockPayload: number

  /** `random` supplies the version nonce and ping nonces. */
  constructor(config: PeerMachineConfig, random: Random) {
    this.direction = config.direction
    let nonce = random.u64()
    while (nonce === 0n) nonce = random.u64()
    this.handshake = new Handshake(config.direction, nonce, this.out, config)
    this.pinger = new Pinger(random, this.out, config.ping)
    this.tracker = new RequestTracker(this.out, random, config.protocolVersion ?? PROTOCOL_VERSION, config.requestTimeouts)
    this.misbehavior = new Misbehavior(config.misbehaviorThreshold ?? DISCOURAGEMENT_THRESHOLD)
    this.streamOut = config.streamBlocks ?? false
    this.maxBlockPayload = config.maxBlockPayload ?? DEFAULT_MAX_BLOCK_PAYLOAD
    const stall = config.onStall
    // The default is shared (it is frozen), not copied per connection.
    this.onStall =
      stall === undefined
        ? DEFAULT_STALL_POLICY
        : typeof stall === 'string'
          ? { headers: stall, data: stall, ping: stall }
          : { ...DEFAULT_STALL_POLICY, ...stall }
  }

  // --- state ---------------------------------------------------------------

  /** 'idle' until start(), 'handshaking', 'ready' after verack, 'closed' for good. */
  get state(): PeerMachineState {
    return this.st
  }
  /** The nonce of our version message (for a pool's self-connection check). */
  get nonce(): bigint {
    return this.handshake.nonce
  }
  /** The handshake's result, once ready. */
  get info(): HandshakeInfo | undefined {
    return this.handshakeInfo
  }
  /** The peer's features as of now (updated by post-handshake feature messages). */
  get features(): PeerFeatures | undefined {
    return this.peerFeatures
  }
  /** The version to encode and decode with: negotiated once ready, ours before. */
  get protocolVersion(): number {
    return this.handshakeInfo?.negotiatedVersion ?? this.handshake.protocolVersion
  }
  /** Round-trip times of our pings, in ms (undefined fields until the first pong). */
  get rtt(): RttStats {
    return this.pinger.stats
  }
  /** The peer's misbehaviour score so far; reaching `misbehaviorThreshold` disconnects. */
  get misbehaviorScore(): number {
    return this.misbehavior.score
  }
  /** Unknown commands received, by name (insertion order: first seen first). */
  get unknownCommands(): ReadonlyMap<string, number> {
    // Never the shared empty map itself: a caller that cast it to Map and wrote to it would write into every peer's.
    return this.unknown === NO_UNKNOWN ? new Map() : this.unknown
  }
  /** Unknown-command messages received in total, every name included (never an offense). */
  get unknownCommandCount(): number {
    return this.unknownTotal
  }
  /** Why the connection ended, once closed. */
  get closeReason(): DisconnectReason | undefined {
    return this.reason
  }
  /** Requests in flight, oldest first. */
  inFlight(): RequestSummary[] {
    return this.tracker.inFlight()
  }

  // --- outputs -------------------------------------------------------------

  /** The next action, or undefined. */
  poll(): PeerAction | undefined {
    return this.out.poll()
  }
  /** Every queued action. */
  drain(): PeerAction[] {
    return this.out.drain()
  }

  /** Every armed deadline, by name. */
  deadlines(): Deadline[] {
    const out: Deadline[] = []
    if (this.st === 'closed') return out
    const h = this.handshake.deadline()
    if (h !== undefined) out.push({ name: 'handshake', at: h })
    const p = this.pinger.deadline()
    if (p) out.push({ name: p.name, at: p.at })
    const r = this.tracker.deadline()
    if (r) out.push({ name: 'request', at: r.at, requestId: r.id })
    return out
  }

  /** The earliest deadline; call timeout() then. Undefined: nothing armed. */
  nextDeadline(): number | undefined {
    // The earliest of deadlines(), without building it: the driver asks after every input.
    if (this.st === 'closed') return undefined
    let min = this.handshake.deadline()
    const p = this.pinger.deadlineAt()
    if (p !== undefined && (min === undefined || p < min)) min = p
    const r = this.tracker.deadlineAt()
    if (r !== undefined && (min === undefined || r < min)) min = r
    return min
  }

  // --- inputs --------------------------------------------------------------

  /** Begin the handshake (outbound: our version goes out now). */
  start(now: number): void {
    if (this.st !== 'idle') throw new LocalProtocolError(`start() in state ${this.st}`)
    this.st = 'handshaking'
    this.handshake.start(now)
  }

  /** Feed one event from the message decoder. */
  receive(now: number, ev: MessageEvent): void {
    if (this.st === 'closed') return
    if (this.st === 'idle') throw new LocalProtocolError('receive() before start()')
    this.pinger.activity(now)
    switch (ev.type) {
      case 'error':
        // Scored for the record; the reason stays 'framing' even when the
        // score crosses the threshold.
        this.offend(framingOffense(ev.error), false)
        this.terminate({ kind: 'framing', error: ev.error })
        return
      case 'invalid':
        this.offend(payloadOffense(ev.command, ev.error))
        return
      case 'payload-start':
      case 'payload-chunk':
      case 'payload-end':
        this.onPayload(now, ev)
        return
      case 'message':
        this.onMessage(now, ev.message)
        return
    }
  }

  /** Handle whatever deadlines have passed. Nothing due: no-op. */
  timeout(now: number): void {
    if (this.st !== 'handshaking' && this.st !== 'ready') return
    const h = this.handshake.timeout(now)
    if (h) return this.terminate(h)
    if (this.st !== 'ready') return
    const p = this.pinger.timeout(now)
    if (p) return this.terminate(p)
    for (const { request, waitedMs, stream } of this.tracker.expire(now)) {
      const slow = stream ? { stream } : {}
      this.out.event({ type: 'stalled', request, waitedMs, ...slow })
      this.out.event({ type: 'request-failed', request, failure: { kind: 'stalled', waitedMs, ...slow } })
      if (this.onStall[request.kind] === 'disconnect' && this.st === 'ready') this.terminate({ kind: 'stalled', request, waitedMs, ...slow })
    }
  }

  /**
   * Send a message. getheaders and getdata are tracked as requests (their
   * replies are matched and their deadlines armed); the request id is
   * returned. Throws LocalProtocolError before the handshake completes, after
   * close, or for a handshake message.
   */
  send(now: number, msg: KnownMessage): number | undefined {
    this.requireReady('send')
    if (HANDSHAKE_COMMANDS.has(msg.command)) throw new LocalProtocolError(`${msg.command} is sent by the handshake only`)
    const id = this.tracker.adopt(now, msg)
    if (id === undefined) this.out.send(msg)
    return id
  }

  /** Ask the peer for something; the answer comes as a 'response' event with this id. */
  request(now: number, req: PeerRequest, opts: { readonly timeoutMs?: number } = {}): number {
    this.requireReady('request')
    return this.tracker.open(now, req, opts.timeoutMs)
  }

  /** Stop waiting for a request; emits 'request-failed' (cancelled). False if it was not in flight. */
  cancel(_now: number, id: number): boolean {
    const s = this.tracker.cancel(id)
    if (!s) return false
    this.out.event({ type: 'request-failed', request: s, failure: { kind: 'cancelled' } })
    return true
  }

  /**
   * Score an offense found outside the machine (a service that validated
   * headers or a block this peer served). Crossing the threshold disconnects
   * with reason 'misbehaving'.
   */
  punish(_now: number, offense: Offense): void {
    if (this.st === 'closed') return
    this.offend(offense)
  }

  /** End the connection (local decision, or the transport closed). Idempotent. */
  close(_now: number, reason: DisconnectReason = { kind: 'local' }): void {
    this.terminate(reason)
  }

  // --- internals -----------------------------------------------------------

  private requireReady(what: string): void {
    if (this.st !== 'ready') throw new LocalProtocolError(`${what}() in state ${this.st}`)
  }

  private terminate(reason: DisconnectReason): void {
    if (this.st === 'closed') return
    this.st = 'closed'
    this.reason = reason
    this.handshake.close()
    this.pinger.stop()
    this.stream = undefined
    for (const request of this.tracker.clear()) {
      this.out.event({ type: 'request-failed', request, failure: { kind: 'closed', reason } })
    }
    this.out.disconnect(reason)
  }

  private offend(offense: Offense, mayDisconnect = true): void {
    const r = this.misbehavior.add(offense)
    this.out.event({ type: 'misbehavior', offense, score: r.score, threshold: this.misbehavior.threshold })
    if (r.crossed && mayDisconnect) this.terminate({ kind: 'misbehaving', score: r.score, threshold: this.misbehavior.threshold, last: offense })
  }

  private countUnknown(command: string): void {
    const key = this.unknown.has(command) || this.unknown.size < MAX_TRACKED_UNKNOWN_COMMANDS ? command : UNKNOWN_OTHER
    const n = (this.unknown.get(key) ?? 0) + 1
    if (this.unknown === NO_UNKNOWN) this.unknown = new Map()
    this.unknown.set(key, n)
    this.unknownTotal++
    this.out.event({ type: 'unknown-command', command, count: n })
  }

  private onMessage(now: number, msg: Message): void {
    if (msg.command === 'unknown') return this.countUnknown(msg.rawCommand)
    const o = this.handshake.receive(now, msg)
    switch (o.type) {
      case 'handled':
        return
      case 'offense':
        return this.offend(o.offense)
      case 'reject':
        return this.terminate(o.reason)
      case 'tolerated':
        if (o.message.command === 'ping') this.pinger.answer(o.message.nonce, this.pingCarriesNonce())
        return
      case 'ready':
        this.st = 'ready'
        this.handshakeInfo = o.info
        this.peerFeatures = o.info.features
        this.out.event({ type: 'ready', info: o.info })
        this.pinger.start(now, supportsBip31(o.info.negotiatedVersion))
        return
      case 'pass':
        return this.afterHandshake(now, msg)
    }
  }

  /** BIP31 applies to the version both sides speak (before verack: the peer's, capped by ours). */
  private pingCarriesNonce(): boolean {
    const s = this.handshake.state
    const v = s.name === 'awaiting-verack' ? s.negotiatedVersion : this.protocolVersion
    return supportsBip31(v)
  }

  private afterHandshake(now: number, msg: Message): void {
    this.out.event({ type: 'message', message: msg })
    switch (msg.command) {
      case 'ping':
        this.pinger.answer(msg.nonce, this.pingCarriesNonce())
        return
      case 'pong': {
        const p = this.pinger.receivePong(now, msg.nonce)
        if (p.type === 'matched') this.out.event({ type: 'latency', rttMs: p.rttMs, stats: this.pinger.stats })
        if (p.type === 'matched' || p.type === 'cancelled') return
        break
      }
      case 'sendheaders':
      case 'sendcmpct':
      case 'feefilter': {
        const f = applyFeatureMessage(this.peerFeatures!, msg)
        if (f) {
          this.peerFeatures = f
          this.out.event({ type: 'features', features: f })
        }
        return
      }
    }
    this.onMatch(msg, this.tracker.match(now, msg))
  }

  private onMatch(msg: Message | undefined, m: MatchOutcome, streamedHash?: Uint8Array): void {
    switch (m.type) {
      case 'not-a-reply':
      case 'late':
        return
      case 'reply':
        for (const c of m.completed) {
          if (c.result.kind === 'ping') this.out.event({ type: 'latency', rttMs: c.result.rttMs, stats: this.pinger.sample(c.result.rttMs) })
          this.out.event({ type: 'response', id: c.id, result: c.result })
        }
        return
      case 'unsolicited':
        if (msg) this.unsolicited(msg, m.nonConnecting)
        else if (streamedHash) this.offend({ kind: 'unsolicited-block', command: 'block', hash: streamedHash })
        return
    }
  }

  private unsolicited(msg: Message, nonConnecting: boolean): void {
    switch (msg.command) {
      case 'block':
      case 'merkleblock':
        this.out.event({ type: 'unsolicited', message: msg })
        return this.offend({ kind: 'unsolicited-block', command: msg.command, hash: blockHash(replyHeader(msg)) })
      case 'cmpctblock':
        this.out.event({ type: 'unsolicited', message: msg })
        return
      case 'tx':
        this.out.event({ type: 'unsolicited', message: msg })
        return this.offend({ kind: 'unsolicited-tx', txid: txid(msg.tx) })
      case 'headers': {
        this.out.event({ type: 'unsolicited', message: msg })
        const count = msg.headers.length
        if (count <= MAX_BLOCKS_TO_ANNOUNCE) return
        if (nonConnecting) return this.offend({ kind: 'non-connecting-headers', count, prevBlock: msg.headers[0]!.prevBlock })
        return this.offend({ kind: 'unsolicited-headers', count })
      }
      default:
        // Stray pong or notfound: Core ignores them, so do we.
        return
    }
  }

  /**
   * A streamed payload piece. A block stream is held back until its first
   * 80 bytes are in (at most that much is kept): its hash names the request
   * it answers, so every piece goes out tagged with that request's id (or,
   * without streamBlocks, is gathered for the whole block), and a block
   * nobody asked for is scored at its header, not at its end.
   */
  private onPayload(now: number, ev: Extract<MessageEvent, { type: 'payload-start' | 'payload-chunk' | 'payload-end' }>): void {
    if (this.st !== 'ready') {
      if (ev.type === 'payload-start') this.offend({ kind: 'before-handshake', command: ev.command, state: this.handshake.state.name })
      return
    }
    if (ev.command !== 'block') {
      this.out.event({ type: 'payload', event: ev, requestId: undefined })
      return
    }
    if (ev.type === 'payload-start') {
      this.stream = {
        start: ev,
        header: new Uint8Array(HEADER_BYTES),
        filled: 0,
        hash: undefined,
        owner: undefined,
        claim: undefined,
        pieces: this.streamOut ? undefined : [],
      }
      return
    }
    const s = this.stream
    if (!s) return
    if (ev.type === 'payload-chunk') {
      s.pieces?.push(ev.bytes)
      if (s.hash) {
        if (this.streamOut) this.out.event({ type: 'payload', event: ev, requestId: s.owner })
        if (s.owner !== undefined) this.tracker.streamProgress(now, s.owner, ev.bytes.length)
        return
      }
      const take = ev.bytes.subarray(0, HEADER_BYTES - s.filled)
      s.header.set(take, s.filled)
      s.filled += take.length
      if (s.filled < HEADER_BYTES) return
      const hash = sha256d(s.header)
      s.hash = hash
      const claim = this.tracker.claimStream(now, hash, s.start.length)
      s.claim = claim.type
      if (claim.type === 'owned') s.owner = claim.id
      const requestId = s.owner
      if (this.streamOut) {
        this.out.event({ type: 'payload', event: s.start, requestId })
        if (ev.offset === 0) {
          // The whole header came in this piece (the usual case): pass it on as is.
          this.out.event({ type: 'payload', event: ev, requestId })
        } else {
          this.out.event({ type: 'payload', event: { type: 'payload-chunk', command: 'block', offset: 0, bytes: s.header }, requestId })
          if (take.length < ev.bytes.length) {
            const rest = ev.bytes.subarray(take.length)
            this.out.event({ type: 'payload', event: { type: 'payload-chunk', command: 'block', offset: HEADER_BYTES, bytes: rest }, requestId })
          }
        }
      }
      // Everything so far, the held-back header included.
      if (requestId !== undefined) this.tracker.streamProgress(now, requestId, ev.offset + ev.bytes.length)
      if (claim.type === 'unsolicited') this.offend({ kind: 'unsolicited-block', command: 'block', hash })
      return
    }
    this.stream = undefined
    if (!s.hash) {
      const error = new WireError('TRUNCATED', `streamed block of ${ev.length} bytes has no 80-byte header`, {
        command: 'block',
        expected: HEADER_BYTES,
        actual: s.filled,
      })
      return this.offend(payloadOffense('block', error))
    }
    if (this.streamOut) {
      this.out.event({ type: 'payload', event: ev, requestId: s.owner })
      if (s.owner !== undefined) this.onMatch(undefined, this.tracker.endStream(now, s.owner, undefined))
      return
    }
    this.wholeBlock(now, s.pieces!, ev.length, s.owner, s.claim)
  }

  /** A gathered block is complete: decode it and deliver it as a message, answering its request. */
  private wholeBlock(now: number, pieces: readonly Uint8Array[], length: number, owner: number | undefined, claim: StreamClaim['type'] | undefined): void {
    let payload: Uint8Array
    if (pieces.length === 1) payload = pieces[0]!
    else {
      payload = new Uint8Array(length)
      let o = 0
      for (const p of pieces) {
        payload.set(p, o)
        o += p.length
      }
    }
    let msg: MessageOf<'block'>
    try {
      msg = decodePayload('block', payload, { protocolVersion: this.protocolVersion, maxBlockPayload: this.maxBlockPayload }) as MessageOf<'block'>
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      // Its request waits on (and stalls) as if the block never came.
      if (owner !== undefined) this.tracker.abandonStream(owner)
      return this.offend(payloadOffense('block', e))
    }
    this.out.event({ type: 'message', message: msg })
    if (owner !== undefined) return this.onMatch(msg, this.tracker.endStream(now, owner, msg))
    // Scored at its header already; still reported, as any unsolicited block.
    if (claim === 'unsolicited') this.out.event({ type: 'unsolicited', message: msg })
  }
}
