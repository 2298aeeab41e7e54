/**
 * Pool: many peers, driving a PoolMachine.
 *
 * The driver is thin. It owns the IO the machine never sees: a Connector,
 * an optional Listener, a Clock with one timer at the machine's
 * nextDeadline(), an optional DNS resolver, and the Peer objects. Its loop:
 *
 *   peer event / promise -> machine.<input>(now, ...) -> flush
 *   timer                -> machine.timeout(now)      -> flush
 *   api call             -> machine.<call>(now, ...)  -> flush
 *   flush                =  carry out every action (Peer.connect, close,
 *                           send, request...), re-arm the timer
 *
 * Every peer's whole frames (its 'frame' events, v1 or v2) are counted per
 * command in each direction, so `stats()` reports bytes and messages per
 * command.
 *
 * The driver also gathers what inbound eviction decides on: each peer's
 * ping round trips ('latency' events) and, with a listener, who relayed
 * useful transactions and blocks. The pool validates neither, and credit
 * that costs nothing to earn would let an attacker take the relay
 * protections from honest peers, so:
 *  - a transaction is never credited by the pool itself. The application
 *    calls `creditRelay(peer, 'tx')` once it has accepted one (e.g. from
 *    MempoolMonitor's 'tx' event, for a transaction it validated), as Core
 *    credits only transactions its mempool accepts.
 *  - a 'block' or 'cmpctblock' is credited to the first peer that brings
 *    its hash (a bounded set of recent hashes) only when its header passes
 *    proof of work against its own bits and the network's powLimit (so the
 *    pool needs `network.powLimit`: without it no block is credited on its
 *    own), and its time is within RELAY_BLOCK_TIME_WINDOW_S of the pool's
 *    Unix time (so old real headers cannot be replayed for credit). This is
 *    weaker than Core, which credits only a block that connects to its
 *    chain: a header mined anew at the network's minimum difficulty, or
 *    one of the last few real headers, still earns credit. An application
 *    running HeaderSync can credit precisely: `autoBlockCredit: false`;
 *    note who sent each block (the 'message' event), and once HeaderSync's
 *    tree holds that hash (its 'tip' or 'progress' event, then
 *    `tree.getByHash`), `creditRelay(peer, 'block')`.
 *
 * Feelers (see machine.ts) are connections like any other here, but they
 * never become pool peers: no 'peer-added', 'peer', 'message' or
 * 'peer-closed' for them, only a 'feeler' event when they end.
 *
 * A Pool is also a PeerSource (services/source.ts): `peers()`, `pick()`,
 * `drop()` and the 'peer' / 'peer-closed' events.
 *
 * No Node built-ins. DNS seeds need a `resolve` function; on Node,
 * `nodeResolver` from dns.node.ts.
 */
import { EventEmitter } from 'eventemitter3'
import { blockHash, toHex, type BlockHeader, type FramingParams, type InvItem, type KnownMessage, type Message, type MessageOf } from '@bitp2p/wire'
import { checkProofOfWork } from '@bitp2p/wire/consensus'
import type { HandshakeInfo } from '../core/fsm/handshake.js'
import { describeDisconnect, type DisconnectPolicy, type DisconnectReason } from '../core/fsm/reasons.js'
import type { PeerRequest, RequestFailure, RequestResult } from '../core/fsm/requests.js'
import { mayRetryInV1, Peer, PeerError, peerRequestFailure, RequestError, type PeerOptions } from './peer.js'
import type { V2Support } from '../core/codec.js'
import { systemRandom } from './system-random.js'
import { RealtimeClock } from './realtime-clock.js'
import { TransportError, type Cancel, type Clock, type Connector, type Listener, type PeerAddress, type Random, type Transport } from '../core/ports.js'
import { formatPeerAddress } from '../core/peer-address.js'
import { peerLabel, type PeerSource, type ServiceOffense } from './services/source.js'
import type { GoodResult } from '../core/pool/addrman.js'
import { crawl, type CrawlItem, type CrawlOptions } from './crawler.js'
import {
  PoolMachine,
  type PoolAction,
  type PoolCounts,
  type PoolEvent,
  type PoolMachineConfig,
  type PoolPeerInfo,
  type SlotType,
} from '../core/pool/machine.js'
import { addCounts, CommandMeter, type CommandCounts } from '../core/meter.js'

/** Block hashes remembered to tell who relayed a block first (oldest forgotten first). */
export const RELAY_SEEN_LIMIT = 20_000
/**
 * A relayed block earns its peer eviction credit only if its header time is
 * within this many seconds of the pool's Unix time, either way (2 h: Core's
 * MAX_FUTURE_BLOCK_TIME). Old real headers, which pass proof of work for
 * free, cannot be replayed for credit.
 */
export const RELAY_BLOCK_TIME_WINDOW_S = 2 * 60 * 60

/** Resolves a DNS seed name to IP address strings. */
export type Resolver = (host: string) => Promise<string[]>

/** Options of every Peer the pool opens (network, clock, random, signal and services are the pool's). */
export type PoolPeerOptions = Omit<PeerOptions, 'network' | 'clock' | 'random' | 'signal' | 'setup' | 'requiredServices' | 'transport' | 'transportMemory' | 'v2'>

/** Options of a Pool. */
export interface PoolOptions extends PoolMachineConfig {
  /**
   * Magic and framing caps of the network. With `powLimit` (NetworkParams
   * have it), relayed blocks whose header passes proof of work earn their
   * peer eviction credit; without it only `creditRelay` does.
   */
  readonly network: FramingParams & { readonly powLimit?: bigint }
  /**
   * BIP324 v2 support: `v2` from `@bitp2p/session/v2` (its own entry, so a
   * pool without it carries no cipher code). With it, outbound peers that
   * advertise NODE_P2P_V2 are dialled in v2 (see `transport`) and inbound
   * clients may speak either; without it, everything is v1.
   */
  readonly v2?: V2Support
  /**
   * Credit relayed blocks that pass proof of work on their own (default
   * true; see the module doc). False: only `creditRelay` credits blocks.
   */
  readonly autoBlockCredit?: boolean
  readonly connector: Connector
  /** Accept inbound peers from this listener. */
  readonly listener?: Listener
  /** Default: a RealtimeClock. */
  readonly clock?: Clock
  /** Default: systemRandom(). */
  readonly random?: Random
  /** DNS seed lookups (none by default: a browser has no DNS). */
  readonly resolve?: Resolver
  /** Passed to every Peer (userAgent, services, startHeight, ping, timeouts...). */
  readonly peer?: PoolPeerOptions
}

/** Options of `Pool.request`. */
export interface PoolRequestCallOptions {
  /** Deadline of each attempt. */
  readonly timeoutMs?: number
  /** Attempts across peers (default: the pool's requestAttempts). */
  readonly maxAttempts?: number
  readonly signal?: AbortSignal
}

/** Counts and traffic of a pool. */
export interface PoolStats {
  readonly peers: PoolCounts
  /** Bytes received and sent, live and closed peers together. */
  readonly bytesIn: number
  readonly bytesOut: number
  /** Per command: messages and bytes (frame header included). */
  readonly commandsIn: CommandCounts
  readonly commandsOut: CommandCounts
  readonly addressBook: number
  readonly bans: number
  readonly pendingRequests: number
  readonly queuedBroadcasts: number
  /** Connection attempts made (outbound) and accepted (inbound). */
  readonly attempts: number
  readonly accepted: number
}

/** Serializable state: pass it back as `addressBook` / `banList` options. */
export interface PoolState {
  readonly addressBook: Uint8Array
  readonly banList: Uint8Array
}

/** Events of a Pool. */
export interface PoolEvents {
  /** A peer completed its handshake and holds a slot. */
  'peer-added': [peer: Peer, info: PoolPeerInfo, handshake: HandshakeInfo]
  /** A peer that had been added left, with the typed reason and its policy. */
  'peer-removed': [info: PoolPeerInfo, reason: DisconnectReason, policy: DisconnectPolicy]
  /** An outbound attempt failed before ready; `retryAt` is the earliest retry (clock ms). */
  'connect-failed': [info: PoolPeerInfo, reason: DisconnectReason, retryAt: number]
  /** A host was banned until `until` (Unix seconds). */
  ban: [host: string, until: number, reason: string]
  /** Gossip from a peer: entries received, accepted by the rate limit, new to the book. */
  addr: [peerId: number, received: number, accepted: number, added: number]
  /** A request moved away from a peer. */
  failover: [requestId: number, from: number, to: number | undefined, failure: RequestFailure]
  /** A DNS seed answered (count) or failed (error). */
  dns: [host: string, count: number, error?: unknown]
  /** Any message from a ready peer. */
  message: [message: Message, peer: Peer]
  /** PeerSource: a peer became ready. */
  peer: [peer: Peer]
  /** PeerSource: a ready peer closed. */
  'peer-closed': [peer: Peer, reason: DisconnectReason]
  /** An inbound peer was closed to make room for a new connection from `by`. */
  evicted: [info: PoolPeerInfo, by: PeerAddress]
  /** A feeler ended: `ok` when its handshake completed; `book` is what that did in the address book ('tried', 'collision'...). */
  feeler: [info: PoolPeerInfo, ok: boolean, reason: DisconnectReason, book: GoodResult | undefined]
}

interface Conn {
  readonly id: number
  /** A feeler: never announced as a pool peer. */
  readonly feeler: boolean
  readonly abort: AbortController
  peer: Peer | undefined
  /** Frames received and sent. */
  readonly received: CommandMeter
  readonly sent: CommandMeter
  ready: boolean
  /** Peer-level requests in flight, by pool request id. */
  readonly requests: Map<number, AbortController>
}

interface Waiter {
  resolve(r: RequestResult): void
  reject(e: RequestError): void
  cleanup(): void
}

/**
 * Many peers driven by one PoolMachine (see the module doc). With a
 * listener, full inbound slots evict Core's way; the eviction protections
 * for relayed transactions and blocks need the application's word for a
 * transaction (`creditRelay`) and, for a block, proof of work or that word.
 */
export class Pool extends EventEmitter<PoolEvents> implements PeerSource {
  readonly machine: PoolMachine
  readonly #network: FramingParams & { readonly powLimit?: bigint }
  readonly #connector: Connector
  readonly #listener: Listener | undefined
  readonly #clock: Clock
  readonly #random: Random
  readonly #resolve: Resolver | undefined
  readonly #peerOptions: PoolPeerOptions
  /** Inbound: v1 only, or v2 with v1 clients recognised. */
  readonly #inboundTransport: 'v1' | 'v2-first'
  /** The v2 transport, unless the pool speaks v1 only. */
  readonly #v2: V2Support | undefined
  readonly #conns = new Map<number, Conn>()
  readonly #waiters = new Map<number, Waiter>()
  readonly #broadcasts = new Map<number, { resolve(n: number): void; reject(e: RequestError): void }>()
  readonly #closedIn: CommandCounts = new Map()
  readonly #closedOut: CommandCounts = new Map()
  #closedBytesIn = 0
  #closedBytesOut = 0
  #attempts = 0
  #accepted = 0
  #flushing = false
  #timerAt: number | undefined
  #timerCancel: Cancel | undefined
  #started = false
  readonly #pending = new Set<Promise<unknown>>()
  /** Hex hashes of recent credited blocks, oldest first (insertion order). Only kept with a listener. */
  readonly #seen = new Set<string>()
  /** Credit relayed blocks by proof of work (needs a listener, eviction on, a powLimit). */
  readonly #autoBlockCredit: boolean

  constructor(options: PoolOptions) {
    super()
    this.#network = options.network
    this.#connector = options.connector
    this.#listener = options.listener
    this.#clock = options.clock ?? new RealtimeClock()
    this.#random = options.random ?? systemRandom()
    this.#resolve = options.resolve
    const unixTimeOffsetMs = options.unixTimeOffsetMs ?? this.#clock.unixTimeOffsetMs ?? 0
    this.#peerOptions = { unixTimeOffsetMs, ...options.peer }
    this.#v2 = options.transport === 'v1' || options.network.supportsExtMsg ? undefined : options.v2
    this.#inboundTransport = this.#v2 ? 'v2-first' : 'v1'
    this.machine = new PoolMachine({ ...options, unixTimeOffsetMs }, this.#random)
    // Relay times only matter to inbound eviction.
    this.#autoBlockCredit =
      options.listener !== undefined && options.evictInbound !== false && options.autoBlockCredit !== false && options.network.powLimit !== undefined
  }

  // --- lifecycle -------------------------------------------------------------

  /** Start connecting (and accepting, with a listener). */
  start(): this {
    if (this.#started) return this
    this.#started = true
    this.#listener?.onConnection((t) => this.#onInbound(t))
    this.machine.start(this.#clock.now())
    this.#flush()
    return this
  }

  /** Close every peer and the listener; fail pending requests and queued broadcasts. */
  async stop(): Promise<void> {
    this.machine.stop(this.#clock.now())
    this.#flush()
    this.#timerCancel?.()
    this.#timerCancel = undefined
    this.#timerAt = undefined
    await this.#listener?.close()
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p)
    void p.finally(() => this.#pending.delete(p))
  }

  // --- state -----------------------------------------------------------------

  /** The address book and ban list as bytes (pass back as options to restore). */
  saveState(): PoolState {
    return { addressBook: this.machine.book.serialize(), banList: this.machine.bans.serialize() }
  }

  /** Peer counts, traffic, book and queue sizes. */
  stats(): PoolStats {
    const commandsIn: CommandCounts = new Map()
    const commandsOut: CommandCounts = new Map()
    addCounts(commandsIn, this.#closedIn)
    addCounts(commandsOut, this.#closedOut)
    let bytesIn = this.#closedBytesIn
    let bytesOut = this.#closedBytesOut
    for (const c of this.#conns.values()) {
      addCounts(commandsIn, c.received.counts)
      addCounts(commandsOut, c.sent.counts)
      bytesIn += c.received.totalBytes
      bytesOut += c.sent.totalBytes
    }
    return {
      peers: this.machine.counts(),
      bytesIn,
      bytesOut,
      commandsIn,
      commandsOut,
      addressBook: this.machine.book.size,
      bans: this.machine.bans.size,
      pendingRequests: this.machine.pendingRequests,
      queuedBroadcasts: this.machine.queuedBroadcasts,
      attempts: this.#attempts,
      accepted: this.#accepted,
    }
  }

  /** Snapshots of every live connection (any state), in id order. */
  connections(): PoolPeerInfo[] {
    return this.machine.peers()
  }

  /** The Peer of a connection id, once its transport is up. */
  peerById(id: number): Peer | undefined {
    return this.#conns.get(id)?.peer
  }

  /** The connection id of a Peer of this pool. */
  idOf(peer: Peer): number | undefined {
    for (const c of this.#conns.values()) if (c.peer === peer) return c.id
    return undefined
  }

  // --- PeerSource ------------------------------------------------------------

  /** Ready peers, in connection order. */
  peers(): Peer[] {
    const out: Peer[] = []
    for (const id of this.machine.readyIds()) {
      const p = this.#conns.get(id)?.peer
      if (p) out.push(p)
    }
    return out
  }

  /** One ready peer by the pool's selection policy, among those passing `filter` and not excluded. */
  pick(opts: { readonly exclude?: ReadonlySet<Peer>; readonly filter?: (peer: Peer) => boolean } = {}): Peer | undefined {
    const id = this.machine.choosePeer((pid) => {
      const p = this.#conns.get(pid)?.peer
      return p !== undefined && !opts.exclude?.has(p) && (!opts.filter || opts.filter(p))
    })
    return id === undefined ? undefined : this.#conns.get(id)?.peer
  }

  /** A peer served invalid data: ban its host for the ban duration and close it. */
  /**
   * A service found this peer serving invalid data: score it (offenses found
   * by services are worth the whole threshold), which closes it as
   * 'misbehaving', and the close bans its address like any misbehaviour.
   */
  drop(peer: Peer, offense: ServiceOffense): void {
    peer.punish(offense)
  }

  // --- api -------------------------------------------------------------------

  /**
   * Credit `peer` with a useful relay: a transaction or a block the
   * application accepted (its mempool or chain took it, and this peer
   * brought it first), at `at` (clock ms, default now). Inbound eviction
   * protects the peers that most recently did (Core's protections for
   * novel transactions and blocks). The pool never credits a transaction
   * on its own: call this, e.g. from MempoolMonitor's 'tx' event for a
   * transaction you validated, with its `receivedFrom` (a peer may be
   * named by its "host:port" label, as services report it). Returns false
   * when no live peer of this pool (feelers excepted) matches.
   */
  creditRelay(peer: Peer | string, kind: 'tx' | 'block', at?: number): boolean {
    for (const c of this.#conns.values()) {
      if (c.feeler || !c.peer) continue
      if (typeof peer === 'string' ? peerLabel(c.peer) !== peer : c.peer !== peer) continue
      this.machine.relayed(at ?? this.#clock.now(), c.id, kind)
      return true
    }
    return false
  }

  /** Learn addresses (IP literals, or book inputs with services and time). */
  addAddresses(entries: Parameters<PoolMachine['addAddresses']>[1]): number {
    const n = this.machine.addAddresses(this.#clock.now(), entries)
    this.#flush()
    return n
  }

  /** Connect to `addr` ahead of the address book. */
  addPeer(addr: PeerAddress): void {
    this.machine.addPeer(this.#clock.now(), addr)
    this.#flush()
  }

  /** Ban `addr`'s host (default: the configured ban duration) and close peers on it. */
  ban(addr: PeerAddress, durationMs?: number, reason = 'manual'): void {
    this.machine.ban(this.#clock.now(), addr, durationMs, reason)
    this.#flush()
  }

  /**
   * Ask some peer; on a stall or a disconnect the request moves to another
   * peer (at most `maxAttempts` tries). With no peer ready it waits for one.
   * Rejects with RequestError (code: the PoolFailure's kind).
   */
  request(req: PeerRequest, opts: PoolRequestCallOptions = {}): Promise<RequestResult> {
    const { signal } = opts
    if (signal?.aborted) return Promise.reject(new RequestError(undefined, { kind: 'aborted', reason: signal.reason }))
    let id: number
    try {
      id = this.machine.submit(this.#clock.now(), req, { timeoutMs: opts.timeoutMs, maxAttempts: opts.maxAttempts })
    } catch (e) {
      return Promise.reject(e)
    }
    const p = new Promise<RequestResult>((resolve, reject) => {
      const onAbort = () => {
        this.machine.cancel(this.#clock.now(), id, signal?.reason)
        this.#flush()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.set(id, { resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) })
    })
    this.#flush()
    return p
  }

  /** getheaders from some peer, with failover. */
  async getHeaders(locator: readonly Uint8Array[], opts: PoolRequestCallOptions & { hashStop?: Uint8Array } = {}): Promise<MessageOf<'headers'>['headers']> {
    const r = await this.request({ kind: 'headers', locator, hashStop: opts.hashStop }, opts)
    return r.kind === 'headers' ? r.headers : []
  }

  /** getdata from some peer, with failover. */
  async getData(items: readonly InvItem[], opts: PoolRequestCallOptions = {}): Promise<Extract<RequestResult, { kind: 'data' }>> {
    const r = await this.request({ kind: 'data', items }, opts)
    if (r.kind !== 'data') throw new Error('unreachable: data request answered with ' + r.kind)
    return r
  }

  /**
   * Send `msg` to every ready peer, or keep it until a peer is ready.
   * Resolves with the number of peers it went to; rejects with
   * RequestError if dropped ('queue-full') or the pool stopped first ('stopped').
   */
  broadcast(msg: KnownMessage): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const id = this.machine.broadcast(this.#clock.now(), msg)
      this.#broadcasts.set(id, { resolve, reject })
      this.#flush()
    })
  }

  /** Send `msg` to every ready peer now (nothing is queued). Returns how many. */
  sendToAll(msg: KnownMessage): number {
    let n = 0
    for (const p of this.peers()) {
      try {
        p.send(msg)
        n++
      } catch {
        // A peer closing under us: it is leaving the pool anyway.
      }
    }
    return n
  }

  /** Crawl the network from `seeds` with this pool's connector, clock and network (the pool's peers are not touched). */
  crawl(opts: Omit<CrawlOptions, 'connector' | 'network' | 'clock' | 'random'>): AsyncIterableIterator<CrawlItem> {
    return crawl({ ...opts, connector: this.#connector, network: this.#network, clock: this.#clock, random: this.#random, peer: { ...this.#peerOptions, ...opts.peer } })
  }

  // --- driver ----------------------------------------------------------------

  #flush(): void {
    if (this.#flushing) return
    this.#flushing = true
    try {
      for (let a = this.machine.poll(); a; a = this.machine.poll()) this.#act(a)
    } finally {
      this.#flushing = false
    }
    this.#arm()
  }

  #arm(): void {
    const at = this.machine.nextDeadline()
    if (at === this.#timerAt) return
    this.#timerCancel?.()
    this.#timerCancel = undefined
    this.#timerAt = at
    if (at === undefined) return
    this.#timerCancel = this.#clock.setTimer(Math.max(0, at - this.#clock.now()), () => {
      this.#timerCancel = undefined
      this.#timerAt = undefined
      this.machine.timeout(this.#clock.now())
      this.#flush()
    })
  }

  #act(a: PoolAction): void {
    switch (a.type) {
      case 'connect':
        return this.#connect(a.peerId, a.addr, a.requiredServices, a.slot, a.transport)
      case 'disconnect': {
        const c = this.#conns.get(a.peerId)
        if (!c) return
        if (c.peer) c.peer.close(a.reason)
        else c.abort.abort(a.reason)
        return
      }
      case 'send': {
        const p = this.#conns.get(a.peerId)?.peer
        try {
          p?.send(a.message)
        } catch {
          // Closed meanwhile; its close event is on its way.
        }
        return
      }
      case 'request':
        return this.#request(a.requestId, a.peerId, a.request, a.timeoutMs)
      case 'cancel-request': {
        const c = this.#conns.get(a.peerId)
        const ac = c?.requests.get(a.requestId)
        if (ac) {
          c!.requests.delete(a.requestId)
          ac.abort('cancelled')
        }
        return
      }
      case 'resolve':
        return this.#dns(a.host, a.port)
      case 'request-failed': {
        const w = this.#waiters.get(a.requestId)
        if (!w) return
        this.#waiters.delete(a.requestId)
        w.cleanup()
        w.reject(new RequestError(undefined, a.failure))
        return
      }
      case 'broadcast-settled': {
        const b = this.#broadcasts.get(a.broadcastId)
        if (!b) return
        this.#broadcasts.delete(a.broadcastId)
        if (a.failure) b.reject(new RequestError(undefined, a.failure))
        else b.resolve(a.peers)
        return
      }
      case 'event':
        return this.#dispatch(a.event)
    }
  }

  #dispatch(e: PoolEvent): void {
    switch (e.type) {
      case 'peer-added': {
        const p = this.#conns.get(e.peer.id)?.peer
        if (!p) return
        this.emit('peer-added', p, e.peer, e.info)
        this.emit('peer', p)
        return
      }
      case 'peer-removed':
        this.emit('peer-removed', e.peer, e.reason, e.policy)
        return
      case 'connect-failed':
        this.emit('connect-failed', e.peer, e.reason, e.retryAt)
        return
      case 'ban':
        this.emit('ban', e.host, e.until, e.reason)
        return
      case 'addr':
        this.emit('addr', e.peerId, e.received, e.accepted, e.added)
        return
      case 'failover':
        this.emit('failover', e.requestId, e.from, e.to, e.failure)
        return
      case 'evicted':
        this.emit('evicted', e.peer, e.by)
        return
      case 'feeler':
        this.emit('feeler', e.peer, e.ok, e.reason, e.book)
        return
    }
  }

  #newConn(id: number, feeler = false): Conn {
    const c: Conn = { id, feeler, abort: new AbortController(), peer: undefined, received: new CommandMeter(), sent: new CommandMeter(), ready: false, requests: new Map() }
    this.#conns.set(id, c)
    return c
  }

  /** Listeners on a Peer of connection `c`, attached before its handshake starts. */
  #attach(c: Conn, p: Peer): void {
    c.peer = p
    p.on('frame', (direction, command, wireBytes) => (direction === 'in' ? c.received : c.sent).count(command, wireBytes))
    p.once('ready', (info) => {
      c.ready = !c.feeler
      this.machine.ready(this.#clock.now(), c.id, info)
      this.#flush()
    })
    p.on('message', (m) => {
      if (this.#autoBlockCredit && !c.feeler) this.#noteBlock(c.id, m)
      this.machine.message(this.#clock.now(), c.id, m)
      this.#flush()
      if (c.ready) this.emit('message', m, p)
    })
    p.on('latency', (rtt, stats) => this.machine.latency(this.#clock.now(), c.id, stats.min ?? rtt))
    p.once('close', (reason) => this.#closed(c, reason))
  }

  /**
   * Credit `id` when it is the first to bring a block whose header passes
   * proof of work and is recent (see the module doc: weaker than Core).
   * Transactions are never credited here, only through `creditRelay`.
   */
  #noteBlock(id: number, m: Message): void {
    let header: BlockHeader
    if (m.command === 'block') header = m.block.header
    else if (m.command === 'cmpctblock') header = m.header
    else return
    const unixS = (this.#clock.now() + (this.#peerOptions.unixTimeOffsetMs ?? 0)) / 1000
    if (Math.abs(header.time - unixS) > RELAY_BLOCK_TIME_WINDOW_S) return
    const hash = blockHash(header)
    if (!checkProofOfWork(hash, header.bits, { powLimit: this.#network.powLimit! }).ok) return
    const key = toHex(hash)
    if (this.#seen.has(key)) return
    this.#seen.add(key)
    if (this.#seen.size > RELAY_SEEN_LIMIT) this.#seen.delete(this.#seen.values().next().value!)
    this.machine.relayed(this.#clock.now(), id, 'block')
  }

  #closed(c: Conn, reason: DisconnectReason): void {
    if (this.#conns.get(c.id) !== c) return
    this.#conns.delete(c.id)
    addCounts(this.#closedIn, c.received.counts)
    addCounts(this.#closedOut, c.sent.counts)
    this.#closedBytesIn += c.received.totalBytes
    this.#closedBytesOut += c.sent.totalBytes
    for (const ac of c.requests.values()) ac.abort('peer closed')
    c.requests.clear()
    this.machine.closed(this.#clock.now(), c.id, reason)
    this.#flush()
    if (c.ready && c.peer) this.emit('peer-closed', c.peer, reason)
  }

  #connect(id: number, addr: PeerAddress, requiredServices: bigint, slot: SlotType, transport: 'v1' | 'v2'): void {
    const c = this.#newConn(id, slot === 'feeler')
    this.#attempts++
    const p = Peer.connect(addr, {
      ...this.#peerOptions,
      network: this.#network,
      clock: this.#clock,
      random: this.#random,
      connector: this.#connector,
      transport: this.#v2 ? transport : 'v1',
      v2: this.#v2,
      requiredServices,
      signal: c.abort.signal,
      isOwnNonce: (n) => this.#isOwnNonce(n),
      setup: (peer) => {
        this.#attach(c, peer)
        this.machine.transportUp(this.#clock.now(), id)
      },
    }).then(
      (peer) => {
        // Ready already reported by the 'ready' listener; a peer that raced a stop is closed.
        if (this.machine.stopped) peer.close({ kind: 'pool-stopped' })
      },
      (e: unknown) => {
        // A refused or garbled v2 handshake: the next dial of this peer is v1 (BIP324's advice, as Core).
        if (transport === 'v2' && e instanceof PeerError && mayRetryInV1(e)) this.machine.v2Refused(this.#clock.now(), addr)
        // Before the transport was up no Peer exists to report its close: report it here.
        if (c.peer) return
        const reason: DisconnectReason = e instanceof PeerError ? e.reason : { kind: 'transport', error: new TransportError('connect-failed', String(e), e) }
        this.#closed(c, reason)
      },
    )
    this.#track(p)
  }

  #onInbound(t: Transport): void {
    const id = this.machine.inbound(this.#clock.now(), t.remote)
    if (id === undefined) {
      t.close('refused')
      this.#flush()
      return
    }
    this.#accepted++
    const c = this.#newConn(id)
    const p = Peer.accept(t, {
      ...this.#peerOptions,
      transport: this.#inboundTransport,
      v2: this.#v2,
      network: this.#network,
      clock: this.#clock,
      random: this.#random,
      isOwnNonce: (n) => this.#isOwnNonce(n),
      setup: (peer) => this.#attach(c, peer),
    }).then(
      () => undefined,
      () => undefined, // the 'close' listener reported it
    )
    this.#track(p)
    this.#flush()
  }

  #isOwnNonce(n: bigint): boolean {
    for (const c of this.#conns.values()) if (c.peer?.info?.nonce === n) return true
    return false
  }

  #request(requestId: number, peerId: number, req: PeerRequest, timeoutMs: number | undefined): void {
    const c = this.#conns.get(peerId)
    const peer = c?.peer
    if (!c || !peer) {
      this.machine.requestFailed(this.#clock.now(), requestId, peerId, { kind: 'closed', reason: { kind: 'local', reason: 'no such peer' } })
      return
    }
    const ac = new AbortController()
    c.requests.set(requestId, ac)
    const p = peer.request(req, { timeoutMs, signal: ac.signal }).then(
      (result) => {
        c.requests.delete(requestId)
        const live = this.machine.requestDone(this.#clock.now(), requestId, peerId)
        const w = this.#waiters.get(requestId)
        if (live && w) {
          this.#waiters.delete(requestId)
          w.cleanup()
          w.resolve(result)
        }
        this.#flush()
      },
      (e: unknown) => {
        c.requests.delete(requestId)
        if (e instanceof RequestError && e.code === 'aborted') return // we cancelled it
        const failure: RequestFailure = peerRequestFailure(e) ?? { kind: 'closed', reason: { kind: 'local', reason: String(e) } }
        this.machine.requestFailed(this.#clock.now(), requestId, peerId, failure)
        this.#flush()
      },
    )
    this.#track(p)
  }

  #dns(host: string, port: number): void {
    const resolve = this.#resolve
    if (!resolve) return
    const p = resolve(host).then(
      (ips) => {
        if (this.machine.stopped) return
        const n = this.machine.addAddresses(this.#clock.now(), ips.map((h) => ({ host: h, port })), { host, port })
        this.emit('dns', host, n)
        this.#flush()
      },
      (e: unknown) => this.emit('dns', host, 0, e),
    )
    this.#track(p)
  }
}

/** One line for logs of a pool removal. */
export function describeRemoval(info: PoolPeerInfo, reason: DisconnectReason): string {
  return `#${info.id} ${formatPeerAddress(info.addr)} (${info.slot}): ${describeDisconnect(reason)}`
}
