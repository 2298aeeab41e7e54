/**
 * PoolMachine: the policy of many peers, sans-IO.
 *
 * It decides which addresses to dial, which inbound connections to take,
 * whom to ban, which peer serves which request, and where queued
 * broadcasts go. It never touches a socket, a clock or Math.random: every
 * input carries `now` (driver ms), randomness is the injected `Random`, and
 * what it wants done is queued as actions the driver drains with `poll()`:
 *
 *   connect(peerId, addr, slot)      open an outbound connection
 *   disconnect(peerId, reason)       close a peer
 *   send(peerId, message)            getaddr, addr answers, broadcasts
 *   request(requestId, peerId, req)  ask a peer; report back with
 *                                    requestDone / requestFailed
 *   resolve(host)                    look up a DNS seed; report back with
 *                                    addAddresses
 *   settle(requestId | broadcastId)  a pool request or broadcast ended
 *   event(...)                       peer-added, peer-removed, ban, addr...
 *
 * Its one timer is `nextDeadline()`: the next slot refill (when slots are
 * open but no address may be tried yet), the DNS seed check, the next
 * feeler, or the next look at pending tried-table collisions.
 *
 * Rules, after Bitcoin Core's CConnman/PeerManager:
 *  - slots: `outboundFullRelay` (default 8) + `outboundLimited` outbound,
 *    `maxInbound` inbound, and never more than `maxPeers` in total,
 *    connecting ones included;
 *  - no two outbound connections into one network group;
 *  - a failed address waits out its backoff (RetryTracker, ms); a banned
 *    one waits out its ban;
 *  - a disconnect whose policy carries a ban score bans the host for
 *    `banDurationMs`; an unresponsive one counts a failed attempt in the
 *    address book (lower preference) and never bans;
 *  - getaddr once to each outbound peer; one getaddr answer per inbound
 *    connection; gossip rate limited per peer (addr-rate.ts);
 *  - inbound slots full: a new inbound connection evicts one inbound peer
 *    chosen by eviction.ts (Core's SelectNodeToEvict), or is refused when
 *    every inbound peer is protected;
 *  - feelers (Core's FEELER_INTERVAL): once the outbound slots are full, at
 *    exponential intervals (mean 2 min, from the injected Random) one
 *    short-lived connection tests an address of the book's "new" table, or
 *    first the old entry of a pending tried collision. A handshake marks
 *    the address good (it moves to "tried") and the feeler is closed at
 *    once. At most one at a time; it takes no outbound slot and is exempt
 *    from the one-per-group rule (as Core), and it is never a pool peer (no
 *    peer-added, no requests, no broadcasts);
 *  - tried collisions (test-before-evict) are resolved on every feeler
 *    tick, after each feeler, and every COLLISION_CHECK_MS while any is
 *    pending, so they do not pile up.
 *  - the closes the pool decides carry typed reasons ('evicted',
 *    'feeler-done', 'banned', 'pool-stopped'; a caller's disconnect() is
 *    'local'), and no close of ours counts against the address
 *    (isLocalDisconnect).
 *
 * How it is built (nakamoto's managers): one state machine per concern,
 * each in its own module with its own small state, taking `(now, input)`
 * and pushing what it decides to one shared PoolOutbox, so the actions come
 * out in the order they were decided. The live connections are one
 * PeerTable the managers read. PoolMachine is the parent: it owns the
 * lifecycle, routes each input to the managers in a fixed order, and wires
 * the few things one manager asks of another (a feeler is dialled by the
 * slots, eviction closes through the parent so the peer's requests fail
 * over first).
 *
 *   slots.ts       outbound slots and dialling, backoff of failed addresses
 *   feelers.ts     feelers and tried-table collisions (test-before-evict)
 *   seeds.ts       fixed seeds, DNS seeds, user-given addresses
 *   admission.ts   bans, inbound admission and eviction
 *   gossip.ts      addr relay (getaddr, addr/addrv2, getaddr answers)
 *   failover.ts    pool requests over ready peers, failover
 *   broadcasts.ts  the broadcast queue
 */
import { Services, type KnownMessage, type Message } from '@bitp2p/wire'
import type { HandshakeInfo } from '../fsm/handshake.js'
import { describeDisconnect, disconnectPolicy, isLocalDisconnect, type DisconnectReason } from '../fsm/reasons.js'
import type { PeerRequest, RequestFailure } from '../fsm/requests.js'
import type { PeerSelection } from '../scheduler.js'
import type { PeerAddress, Random } from '../ports.js'
import type { AddrRateOptions } from './addr-rate.js'
import { AddressBook, type AddressInput } from './addrman.js'
import { Admission } from './admission.js'
import { RetryTracker, type BackoffPolicy } from './backoff.js'
import { BanList } from './banlist.js'
import { BroadcastQueue } from './broadcasts.js'
import type { EvictionCandidate, EvictionDecision } from './eviction.js'
import { RequestRouter } from './failover.js'
import { FEELER_INTERVAL_MS, FeelerManager } from './feelers.js'
import { AddrRelay } from './gossip.js'
import { isValidEndpoint, toEndpoint, type Endpoint } from './netgroup.js'
import { PoolOutbox } from './outbox.js'
import { PeerTable, type PoolPeer } from './peers.js'
import { AddressSources } from './seeds.js'
import { OutboundSlots } from './slots.js'
import type { PoolAction, PoolCounts, PoolPeerInfo, PoolRequestOptions, SlotType } from './types.js'

export { COLLISION_CHECK_MS, FEELER_INTERVAL_MS } from './feelers.js'
export { DNS_SEED_DELAY_MS, DNS_SEED_MIN_OUTBOUND } from './seeds.js'
export { MAX_SELECT_TRIES, MAX_V1_ONLY_PEERS, NON_TRANSIENT_HOLD_MS, REFILL_IDLE_MS, REFILL_INTERVAL_MS } from './slots.js'
export type { PoolAction, PoolCounts, PoolEvent, PoolFailure, PoolPeerInfo, PoolPeerState, PoolRequestOptions, SlotType } from './types.js'

// ---------------------------------------------------------------------------
// Tunables (the managers' own limits live in their modules, re-exported above)

/** Core's MAX_OUTBOUND_FULL_RELAY_CONNECTIONS. */
export const DEFAULT_OUTBOUND_FULL_RELAY = 8
/** Core's DEFAULT_MAX_PEER_CONNECTIONS. */
export const DEFAULT_MAX_PEERS = 125
/** Inbound slots by default: what Core leaves after its 8 full-relay, 2 block-relay and 1 feeler. */
export const DEFAULT_MAX_INBOUND = 114
/** What a full-relay peer must serve: the whole chain, with witnesses. */
export const FULL_RELAY_SERVICES = Services.NODE_NETWORK | Services.NODE_WITNESS
/** What a limited peer must serve: recent blocks (BIP159), with witnesses. */
export const LIMITED_SERVICES = Services.NODE_NETWORK_LIMITED | Services.NODE_WITNESS
/** Core's DEFAULT_MISBEHAVING_BANTIME: 24 h. */
export const DEFAULT_BAN_DURATION_MS = 24 * 3600_000
/** Connect backoff in ms: 1 s doubling to 10 min, full jitter, give up after 10 failures. */
export const DEFAULT_CONNECT_BACKOFF: BackoffPolicy = { base: 1_000, cap: 600_000, factor: 2, maxAttempts: 10, jitter: 'full' }
/** Default attempts of one pool request across peers (the first try and three failovers). */
export const DEFAULT_REQUEST_ATTEMPTS = 4
/** Broadcasts kept while no peer is ready; beyond this the oldest is dropped (and reported). */
export const MAX_QUEUED_BROADCASTS = 1_000
/** Default time a pool request waits for a ready peer when there is none, before it fails 'no-peers'. */
export const DEFAULT_REQUEST_PEER_WAIT_MS = 60_000
/** Most outstanding pool requests (submit throws beyond). */
export const MAX_POOL_REQUESTS = 100_000
/** How long the backoff remembers an address that has not failed again (ours). */
const RETRY_FORGET_AFTER_MS = 24 * 3600_000
/** The source the book records for addresses the user adds. */
const USER_SOURCE: PeerAddress = { host: 'user', port: 0 }

/** Configuration of a PoolMachine. Every field has a default. */
export interface PoolMachineConfig {
  /** Outbound full-relay slots (default 8; a crawler may ask for hundreds). */
  readonly outboundFullRelay?: number
  /** Outbound slots that accept NODE_NETWORK_LIMITED peers (default 0). */
  readonly outboundLimited?: number
  /** Inbound slots (default DEFAULT_MAX_INBOUND; only used with a listener). */
  readonly maxInbound?: number
  /** Hard cap on all peers, connecting ones included (default 125). */
  readonly maxPeers?: number
  /** Services a full-relay peer must offer (default NODE_NETWORK | NODE_WITNESS). */
  readonly fullRelayServices?: bigint
  /** Services a limited peer must offer (default NODE_NETWORK_LIMITED | NODE_WITNESS). */
  readonly limitedServices?: bigint
  /** Spread outbound peers over distinct network groups (default true). */
  readonly diverseNetgroups?: boolean
  /** Ban time for misbehaviour (default 24 h). */
  readonly banDurationMs?: number
  /** Reconnect backoff, in ms (default DEFAULT_CONNECT_BACKOFF). */
  readonly backoff?: Partial<BackoffPolicy>
  /** Addresses added to the book at start (IP literals). */
  readonly seeds?: readonly PeerAddress[]
  /** Peers to connect to before any address from the book (IP literals or DNS names). */
  readonly peers?: readonly PeerAddress[]
  /** DNS seed names; results take `defaultPort`. */
  readonly dnsSeeds?: readonly string[]
  /** Port of addresses from DNS seeds (default 8333). */
  readonly defaultPort?: number
  /** Per-peer addr rate limit (Core's values by default). */
  readonly addrRate?: AddrRateOptions
  /** Attempts of one pool request across peers (default 4). */
  readonly requestAttempts?: number
  /** How long a request waits when no peer is ready before it fails 'no-peers' (default DEFAULT_REQUEST_PEER_WAIT_MS). */
  readonly requestPeerWaitMs?: number
  /** Default 'least-loaded'. */
  readonly peerSelection?: PeerSelection
  /** Default MAX_QUEUED_BROADCASTS. */
  readonly maxQueuedBroadcasts?: number
  /** Unix ms = now + unixTimeOffsetMs (the book and ban list keep Unix seconds). Default 0. */
  readonly unixTimeOffsetMs?: number
  /** A saved AddressBook (AddressBook.serialize) to start from. */
  readonly addressBook?: Uint8Array
  /** A saved BanList (BanList.serialize) to start from. */
  readonly banList?: Uint8Array
  /** Evict an inbound peer to make room for a new one when the inbound slots are full (default true, as Core). */
  readonly evictInbound?: boolean
  /** Inbound peers from addresses for which this returns true are never evicted (Core's noban permission). */
  readonly noEvict?: (remote: PeerAddress) => boolean
  /**
   * The transport protocol of outbound connections (BIP324): 'v2-first'
   * (default, as Core) dials v2 where the address book says the peer
   * offers NODE_P2P_V2 and it has not refused v2 before, v1 elsewhere;
   * 'v2' always v2; 'v1' never v2.
   */
  readonly transport?: 'v2-first' | 'v2' | 'v1'
  /** Open feeler connections to test addresses of the new table (default true, as Core). */
  readonly feelers?: boolean
  /** Mean ms between feelers (default FEELER_INTERVAL_MS). */
  readonly feelerIntervalMs?: number
}

function positiveInt(name: string, v: number, min = 0): number {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`PoolMachine: ${name} must be an integer >= ${min}, got ${v}`)
  return v
}

/** The pool's policy; see the module doc. */
export class PoolMachine {
  readonly book: AddressBook
  readonly bans: BanList
  readonly retry: RetryTracker
  readonly #offset: number
  readonly #fullRelaySlots: number
  readonly #limitedSlots: number
  readonly #maxInbound: number
  readonly #maxPeers: number
  readonly #banMs: number

  /** The one queue every manager pushes its actions to. */
  readonly #out = new PoolOutbox()
  /** The live connections, shared by the managers. */
  readonly #peers = new PeerTable()
  /** Outbound slots and dialling. */
  readonly #slots: OutboundSlots
  /** Feelers and tried-table collisions. */
  readonly #feelers: FeelerManager
  /** Fixed seeds, DNS seeds, user-given addresses. */
  readonly #sources: AddressSources
  /** Bans, inbound admission and eviction. */
  readonly #admission: Admission
  /** Addr relay: getaddr, addr/addrv2 in, getaddr answers. */
  readonly #gossip: AddrRelay
  /** Which ready peer serves which request, failover, and the no-peers deadline. */
  readonly #requests: RequestRouter
  readonly #broadcasts: BroadcastQueue
  #started = false
  #stopped = false

  constructor(config: PoolMachineConfig, random: Random) {
    this.#offset = config.unixTimeOffsetMs ?? 0
    this.#fullRelaySlots = positiveInt('outboundFullRelay', config.outboundFullRelay ?? DEFAULT_OUTBOUND_FULL_RELAY)
    this.#limitedSlots = positiveInt('outboundLimited', config.outboundLimited ?? 0)
    this.#maxInbound = positiveInt('maxInbound', config.maxInbound ?? DEFAULT_MAX_INBOUND)
    this.#maxPeers = positiveInt('maxPeers', config.maxPeers ?? Math.max(DEFAULT_MAX_PEERS, this.#fullRelaySlots + this.#limitedSlots), 1)
    const fullServices = config.fullRelayServices ?? FULL_RELAY_SERVICES
    const limitedServices = config.limitedServices ?? LIMITED_SERVICES
    this.#banMs = config.banDurationMs ?? DEFAULT_BAN_DURATION_MS
    const unix = (now: number): number => this.unixSeconds(now)
    this.#requests = new RequestRouter(this.#out, {
      maxAttempts: positiveInt('requestAttempts', config.requestAttempts ?? DEFAULT_REQUEST_ATTEMPTS, 1),
      maxInFlightPerPeer: Infinity,
      peerWaitMs: positiveInt('requestPeerWaitMs', config.requestPeerWaitMs ?? DEFAULT_REQUEST_PEER_WAIT_MS),
      selection: config.peerSelection ?? 'least-loaded',
    })
    this.#broadcasts = new BroadcastQueue(this.#out, positiveInt('maxQueuedBroadcasts', config.maxQueuedBroadcasts ?? MAX_QUEUED_BROADCASTS, 1))
    const feelerIntervalMs = positiveInt('feelerIntervalMs', config.feelerIntervalMs ?? FEELER_INTERVAL_MS, 1)
    // The order of these three matters: each may draw from `random` as it is built.
    this.book = config.addressBook ? AddressBook.deserialize(config.addressBook, { random }) : new AddressBook({ random })
    this.bans = config.banList ? BanList.deserialize(config.banList) : new BanList()
    this.retry = new RetryTracker({ random, policy: { ...DEFAULT_CONNECT_BACKOFF, ...config.backoff }, forgetAfter: RETRY_FORGET_AFTER_MS })
    this.#gossip = new AddrRelay(this.#out, this.book, unix, config.addrRate)
    this.#slots = new OutboundSlots(
      this.#out,
      this.#peers,
      this.book,
      this.bans,
      this.retry,
      unix,
      {
        fullRelay: this.#fullRelaySlots,
        limited: this.#limitedSlots,
        maxPeers: this.#maxPeers,
        fullServices,
        limitedServices,
        diverse: config.diverseNetgroups ?? true,
        transport: config.transport ?? 'v2-first',
        peers: config.peers ?? [],
      },
      {
        open: (now, addr, slot) => this.#open(now, addr, slot),
        collision: (now) => this.#feelers.resolveCollisions(now),
      },
    )
    this.#feelers = new FeelerManager(
      this.#out,
      this.book,
      this.retry,
      random,
      unix,
      { enabled: config.feelers ?? true, intervalMs: feelerIntervalMs },
      {
        mayOpen: () => this.#peers.slotCount('feeler') === 0 && this.#slots.full() && this.#peers.size < this.#maxPeers,
        connected: (key) => this.#peers.hasKey(key),
        mayTry: (now, key, ep) => this.#slots.mayTry(now, key, ep),
        // A feeler takes no outbound slot and asks no services.
        dial: (now, addr) => this.#slots.dial(now, addr, 'feeler', 0n),
        close: (now, id, reason) => this.#close(now, this.#peers.get(id)!, reason),
      },
    )
    this.#admission = new Admission(
      this.#out,
      this.#peers,
      this.bans,
      this.retry,
      random,
      unix,
      {
        maxInbound: this.#maxInbound,
        maxPeers: this.#maxPeers,
        evictInbound: config.evictInbound ?? true,
        noEvict: config.noEvict,
        fullServices,
        limitedServices,
      },
      { close: (now, p, reason) => this.#close(now, p, reason), view: (p) => this.#view(p) },
    )
    this.#sources = new AddressSources(this.#out, this.book, unix, {
      seeds: config.seeds ?? [],
      dnsSeeds: config.dnsSeeds ?? [],
      defaultPort: config.defaultPort ?? 8333,
      services: fullServices,
    })
  }

  /** Unix seconds at driver time `now`. */
  unixSeconds(now: number): number {
    return Math.floor((now + this.#offset) / 1000)
  }

  // --- outputs ---------------------------------------------------------------

  /** The next action, or undefined. */
  poll(): PoolAction | undefined {
    return this.#out.poll()
  }

  /** When `timeout(now)` has something to do; undefined when nothing is scheduled. */
  nextDeadline(): number | undefined {
    let at: number | undefined
    for (const t of [this.#slots.nextDeadline(), this.#sources.nextDeadline(), this.#feelers.nextDeadline(), this.#requests.nextDeadline()]) {
      if (t !== undefined && (at === undefined || t < at)) at = t
    }
    return at
  }

  // --- views -----------------------------------------------------------------

  /** A snapshot of one peer. */
  peer(id: number): PoolPeerInfo | undefined {
    const p = this.#peers.get(id)
    return p ? this.#view(p) : undefined
  }

  /** Every live peer, in id order. */
  peers(): PoolPeerInfo[] {
    return [...this.#peers.values()].map((p) => this.#view(p))
  }

  /** Ids of ready peers, in id order. */
  readyIds(): number[] {
    return this.#peers.readyIds()
  }

  #view(p: PoolPeer): PoolPeerInfo {
    return {
      id: p.id,
      addr: p.addr,
      slot: p.slot,
      direction: p.slot === 'inbound' ? 'inbound' : 'outbound',
      group: p.group,
      state: p.state,
      services: p.services,
      inflight: this.#requests.inFlight(p.id),
      addrsLearned: this.#gossip.learned(p.id),
      addrsDropped: this.#gossip.dropped(p.id),
    }
  }

  /** Connections now, by state and by slot (a fresh snapshot). */
  counts(): PoolCounts {
    return this.#peers.counts()
  }

  /** Limits in force. */
  get limits(): { readonly outboundFullRelay: number; readonly outboundLimited: number; readonly maxInbound: number; readonly maxPeers: number } {
    return { outboundFullRelay: this.#fullRelaySlots, outboundLimited: this.#limitedSlots, maxInbound: this.#maxInbound, maxPeers: this.#maxPeers }
  }

  /** Pool requests outstanding (assigned or waiting for a peer). */
  get pendingRequests(): number {
    return this.#requests.size
  }

  /** Broadcasts waiting for a peer. */
  get queuedBroadcasts(): number {
    return this.#broadcasts.size
  }

  // --- lifecycle -------------------------------------------------------------

  /** Begin: ask DNS seeds when the book is empty (else check again after DNS_SEED_DELAY_MS), fill the slots. */
  start(now: number): void {
    if (this.#started) return
    this.#started = true
    this.#sources.start(now)
    this.#feelers.start(now)
    this.#slots.start()
    this.#fill(now)
  }

  /** Close every peer, fail every request and queued broadcast. No new connections after this. */
  stop(now: number): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#slots.stop()
    this.#sources.stop()
    this.#feelers.stop()
    for (const p of this.#peers.values()) this.#close(now, p, { kind: 'pool-stopped' })
    this.#requests.stop(now)
    this.#broadcasts.stop(now)
  }

  /** True once stop() was called: no new connections, and submit() throws. */
  get stopped(): boolean {
    return this.#stopped
  }

  /** Run what is due at `now`. A call that finds nothing due does nothing. */
  timeout(now: number): void {
    this.#sources.timeout(now, () => {
      let readyOut = 0
      for (const p of this.#peers.values()) if (p.slot !== 'inbound' && p.state === 'ready') readyOut++
      return readyOut
    })
    this.#slots.timeout(now)
    this.#feelers.timeout(now)
    this.#requests.timeout(now)
  }

  // --- addresses ---------------------------------------------------------------

  /**
   * Learn addresses from a DNS seed or the user. Plain `PeerAddress`es get
   * the full-relay services and the current time. Returns how many were new.
   */
  addAddresses(now: number, entries: readonly (PeerAddress | AddressInput)[], source: PeerAddress = USER_SOURCE): number {
    const added = this.#sources.add(now, entries, source)
    this.#fill(now)
    return added
  }

  /** Connect to `addr` before anything from the book (a user-given peer). */
  addPeer(now: number, addr: PeerAddress): void {
    this.#slots.addPeer(addr)
    this.#fill(now)
  }

  /**
   * The v2 handshake with `addr` was refused or garbled (BIP324: such a
   * peer may speak v1 only): dial it in v1 from now on. Bounded like the
   * address book (the oldest is forgotten first).
   */
  v2Refused(now: number, addr: PeerAddress): void {
    this.#slots.v2Refused(now, addr)
  }

  // --- bans --------------------------------------------------------------------

  /** Ban `addr`'s host for `durationMs` and close any peer on it. Returns the Unix-seconds expiry, or 0 for a name. */
  ban(now: number, addr: PeerAddress | Endpoint, durationMs = this.#banMs, reason = 'manual'): number {
    const ep = toEndpoint(addr)
    if (!ep || !isValidEndpoint(ep)) return 0
    return this.#admission.ban(now, ep, durationMs, reason)
  }

  /** True when `addr` is banned at `now`. */
  isBanned(now: number, addr: PeerAddress | Endpoint): boolean {
    return this.#admission.isBanned(now, addr)
  }

  // --- connections -----------------------------------------------------------------

  /** Open outbound connections until the slots are full or nothing may be tried. */
  #fill(now: number): void {
    if (!this.#started || this.#stopped) return
    this.#slots.fill(now)
  }

  /** A new connection into the table, and into the managers that keep something per peer. */
  #open(now: number, addr: PeerAddress, slot: SlotType): PoolPeer {
    const p = this.#peers.add(addr, slot, slot === 'inbound' ? 'handshaking' : 'connecting')
    this.#gossip.added(now, p.id)
    return p
  }

  /** Close `p`: what it serves stays until it has closed (then it fails over); it takes nothing new. */
  #close(now: number, p: PoolPeer, reason: DisconnectReason): void {
    if (p.state === 'closing') return
    p.state = 'closing'
    this.#requests.peerClosing(now, p.id)
    this.#out.act({ type: 'disconnect', peerId: p.id, reason })
  }

  /**
   * An inbound connection from `remote` arrived. Returns the new peer's id,
   * or undefined when it must be refused (banned, stopped, or the inbound
   * slots or the total cap full and nobody evictable). When the slots are
   * full and eviction is on, one inbound peer is closed ('evicted',
   * an 'evicted' event) to make room. Inbound peers already closing do not
   * count (their transport is up, so they leave as soon as the driver
   * closes it); closing outbound attempts still do (an abort can take a while).
   */
  inbound(now: number, remote: PeerAddress): number | undefined {
    if (this.#stopped || !this.#started) return undefined
    if (!this.#admission.admit(now, remote)) return undefined
    const p = this.#open(now, remote, 'inbound')
    this.#admission.admitted(now, p)
    return p.id
  }

  // --- eviction ------------------------------------------------------------------

  /** The facts eviction.ts decides on, for every live inbound peer (id order). */
  evictionCandidates(): EvictionCandidate[] {
    return this.#admission.candidates()
  }

  /** Which inbound peer a newcomer would evict now, and why the others are kept. */
  evictionDecision(): EvictionDecision {
    return this.#admission.decision()
  }

  /** A ping round trip of `peerId` (ms); eviction keeps the minimum. */
  latency(now: number, peerId: number, rttMs: number): void {
    this.#admission.latency(now, peerId, rttMs)
  }

  /**
   * `peerId` brought us a useful transaction or block. The driver decides
   * what earns it: credit must cost the peer real work, or an attacker
   * takes the relay protections from honest peers (Pool credits blocks
   * that pass proof of work, and whatever the application accepted through
   * `Pool.creditRelay`). Eviction protects recent relayers.
   */
  relayed(now: number, peerId: number, kind: 'tx' | 'block'): void {
    this.#admission.relayed(now, peerId, kind)
  }

  // --- peer inputs -------------------------------------------------------------

  /** The outbound transport of `peerId` is up; the handshake starts. */
  transportUp(now: number, peerId: number): void {
    const p = this.#peers.get(peerId)
    if (p && p.state === 'connecting') p.state = 'handshaking'
    void now
  }

  /** `peerId` completed its handshake. */
  ready(now: number, peerId: number, info: HandshakeInfo): void {
    const p = this.#peers.get(peerId)
    if (!p || p.state === 'closing') return
    p.state = 'ready'
    p.wasReady = true
    p.services = info.peer.services
    this.#gossip.ready(now, peerId, info.features.addrv2)
    this.#admission.ready(peerId, info.peer.relay)
    if (p.slot === 'feeler') {
      // The test passed: the address is good (new -> tried); the feeler has done its job.
      this.#feelers.passed(now, p, p.services)
      return
    }
    if (p.slot !== 'inbound') {
      this.#slots.connected(now, p)
      this.#gossip.askAddresses(now, peerId)
    }
    this.#out.event({ type: 'peer-added', peer: this.#view(p), info })
    this.#broadcasts.peerReady(now, peerId)
    this.#requests.peerReady(now, peerId)
  }

  /**
   * `peerId` closed (or its connection attempt failed) with `reason`. Bans,
   * backoff and failover follow from the reason's policy; then the slots
   * are refilled.
   */
  closed(now: number, peerId: number, reason: DisconnectReason): void {
    const p = this.#peers.get(peerId)
    if (!p) return
    // (Not "services !== 0": an inbound peer may well announce no services.)
    const wasReady = p.wasReady
    this.#peers.delete(p)
    const policy = disconnectPolicy(reason)
    let retryAt = now
    if (policy.banScore > 0 && p.endpoint) {
      this.ban(now, p.endpoint, this.#banMs, describeDisconnect(reason))
      retryAt = now + this.#banMs
    } else if (p.slot === 'feeler') {
      // A failed test counts against the address, as a failed outbound connection does.
      this.#feelers.failed(now, p, reason)
    } else if (p.slot !== 'inbound' && !isLocalDisconnect(reason)) {
      retryAt = this.#slots.failed(now, p, reason, policy, wasReady)
    }
    const view = this.#view({ ...p, state: 'closing' })
    this.#gossip.removed(peerId)
    this.#admission.removed(peerId)
    if (p.slot === 'feeler') {
      this.#feelers.ended(now, p, view, reason)
      this.#fill(now)
      return
    }
    if (wasReady) this.#out.event({ type: 'peer-removed', peer: view, reason, policy })
    else this.#out.event({ type: 'connect-failed', peer: view, reason, retryAt })
    // Fail over what this peer was serving.
    this.#requests.peerGone(now, peerId, reason)
    this.#fill(now)
  }

  /** A message from a ready peer: addr gossip and getaddr are handled here; others are ignored. */
  message(now: number, peerId: number, msg: Message): void {
    const p = this.#peers.get(peerId)
    if (!p || p.state !== 'ready') return
    const added = this.#gossip.message(now, peerId, p.endpoint ?? p.addr, p.slot === 'inbound', msg)
    if (added > 0) this.#fill(now)
  }

  /** Close `peerId` (a caller's decision: a 'local' disconnect with `reason`). */
  disconnect(now: number, peerId: number, reason = 'local'): void {
    const p = this.#peers.get(peerId)
    if (p) this.#close(now, p, { kind: 'local', reason })
  }

  // --- requests ----------------------------------------------------------------

  /**
   * Queue a request for some peer; returns its id. With no ready peer it
   * waits for one, up to requestPeerWaitMs, then fails 'no-peers'.
   */
  submit(now: number, request: PeerRequest, options: PoolRequestOptions = {}): number {
    if (this.#stopped) throw new Error('PoolMachine: stopped')
    if (this.#requests.size >= MAX_POOL_REQUESTS) throw new RangeError(`PoolMachine: more than ${MAX_POOL_REQUESTS} requests outstanding`)
    const maxAttempts = options.maxAttempts === undefined ? undefined : positiveInt('maxAttempts', options.maxAttempts, 1)
    return this.#requests.submit(now, request, options.timeoutMs, maxAttempts)
  }

  /**
   * A peer answered request `requestId`. An answer from a peer the request
   * already moved away from still counts (the current attempt is cancelled).
   * @returns false when the request was no longer outstanding (drop the answer).
   */
  requestDone(now: number, requestId: number, peerId: number): boolean {
    return this.#requests.done(now, requestId, peerId)
  }

  /** The peer's attempt at `requestId` failed: try another peer, or give up after maxAttempts. */
  requestFailed(now: number, requestId: number, peerId: number, failure: RequestFailure): void {
    this.#requests.failed(now, requestId, peerId, failure)
  }

  /** The caller gave up on `requestId` (AbortSignal). */
  cancel(now: number, requestId: number, reason?: unknown): void {
    this.#requests.cancel(now, requestId, reason)
  }

  /** Peer ids in the order `choose` would take them, for a PeerSource pick. */
  choosePeer(filter?: (id: number) => boolean): number | undefined {
    return this.#requests.choose(filter)
  }

  // --- broadcasts --------------------------------------------------------------

  /**
   * Send `message` to every ready peer; with none ready, keep it until the
   * first peer is (the oldest is dropped, and reported, past the queue
   * limit). Returns the broadcast id; a 'broadcast-settled' action follows.
   */
  broadcast(now: number, message: KnownMessage): number {
    return this.#broadcasts.broadcast(now, message, this.readyIds())
  }
}
