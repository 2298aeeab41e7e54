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
 */
import { Services, hasServices, type KnownMessage, type Message, type TimestampedNetAddress } from '@bitp2p/wire'
import { sha256 } from '@bitp2p/wire/hash'
import { type AddrV2Entry } from '@bitp2p/wire/messages'
import type { HandshakeInfo } from '../fsm/handshake.js'
import { describeDisconnect, disconnectPolicy, type DisconnectPolicy, type DisconnectReason } from '../fsm/reasons.js'
import type { PeerRequest, RequestFailure } from '../fsm/requests.js'
import type { PeerSelection } from '../scheduler.js'
import type { PeerAddress, Random } from '../ports.js'
import { AddrRateLimiter, type AddrRateOptions } from './addr-rate.js'
import { AddressBook, FEELER_GRACE_SECONDS, RECENT_TRY_SECONDS, type AddressInput, type GoodResult } from './addrman.js'
import { RetryTracker, retryKey, type BackoffPolicy } from './backoff.js'
import { BanList } from './banlist.js'
import { explainEviction, type EvictionCandidate, type EvictionDecision } from './eviction.js'
import {
  endpointToAddrV2,
  endpointToNetAddress,
  endpointToPeerAddress,
  groupToString,
  hostKey,
  isValidEndpoint,
  nameGroup,
  netGroup,
  toEndpoint,
  type Endpoint,
} from './netgroup.js'

import { FEELER_INTERVAL_MS } from './feelers.js'
import { Admission, EVICTION_REASON } from './admission.js'
import { BroadcastQueue } from './broadcasts.js'
import { RequestRouter } from './failover.js'
import { FeelerManager } from './feelers.js'
import { AddrRelay } from './gossip.js'
import { PoolOutbox } from './outbox.js'
import { PeerTable, type PoolPeer } from './peers.js'
import type { PoolAction, PoolCounts, PoolEvent, PoolPeerInfo, PoolPeerState, PoolRequestOptions, SlotType } from './types.js'

export { EVICTION_REASON } from './admission.js'
export { COLLISION_CHECK_MS, FEELER_DONE_REASON, FEELER_INTERVAL_MS } from './feelers.js'
export type { PoolAction, PoolCounts, PoolEvent, PoolFailure, PoolPeerInfo, PoolPeerState, PoolRequestOptions, SlotType } from './types.js'

// ---------------------------------------------------------------------------
// Tunables

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
/** Hold on an address that answered with something that will not change (old version, missing services): 1 h (ours). */
export const NON_TRANSIENT_HOLD_MS = 3600_000
/** Slots open but nothing to try: look again no sooner than this (Core's ThreadOpenConnections sleeps 500 ms). */
export const REFILL_INTERVAL_MS = 500
/** Slots open, nothing held back, nothing to try: look again after this long anyway (ours). */
export const REFILL_IDLE_MS = 60_000
/** Draws from the address book per slot fill before giving up until the next refill (Core: 100). */
export const MAX_SELECT_TRIES = 100
/** Core queries DNS seeds after 11 s when the address book was not empty, if still short of peers. */
export const DNS_SEED_DELAY_MS = 11_000
/** ...short meaning fewer than this many outbound peers ready (Core: 2). */
export const DNS_SEED_MIN_OUTBOUND = 2
/** Default attempts of one pool request across peers (the first try and three failovers). */
export const DEFAULT_REQUEST_ATTEMPTS = 4
/** Broadcasts kept while no peer is ready; beyond this the oldest is dropped (and reported). */
export const MAX_QUEUED_BROADCASTS = 1_000
/** Default time a pool request waits for a ready peer when there is none, before it fails 'no-peers'. */
export const DEFAULT_REQUEST_PEER_WAIT_MS = 60_000
/** Peers remembered as v1-only (v2Refused), at most. */
export const MAX_V1_ONLY_PEERS = 10_000
/** Most outstanding pool requests (submit throws beyond). */
export const MAX_POOL_REQUESTS = 100_000

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

const FIXED_SEEDS_SOURCE: PeerAddress = { host: 'fixed-seeds', port: 0 }
const USER_SOURCE: PeerAddress = { host: 'user', port: 0 }

function positiveInt(name: string, v: number, min = 0): number {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`PoolMachine: ${name} must be an integer >= ${min}, got ${v}`)
  return v
}

/** The pool's policy; see the module doc. */
export class PoolMachine {
  readonly book: AddressBook
  readonly bans: BanList
  readonly retry: RetryTracker
  readonly #random: Random
  readonly #offset: number
  readonly #fullRelaySlots: number
  readonly #limitedSlots: number
  readonly #maxInbound: number
  readonly #maxPeers: number
  readonly #fullServices: bigint
  readonly #limitedServices: bigint
  readonly #diverse: boolean
  readonly #banMs: number
  readonly #defaultPort: number
  readonly #dnsSeeds: readonly string[]
  readonly #preferred: PeerAddress[]
  readonly #transport: 'v2-first' | 'v2' | 'v1'
  /** Peers whose v2 handshake failed in a way v1 may not ("host:port", bounded): dialled in v1 from then on. */
  readonly #v1Only = new Set<string>()

  /** The live connections, shared by the managers. */
  readonly #peers = new PeerTable()
  /** Which ready peer serves which request, failover, and the no-peers deadline. */
  readonly #requests: RequestRouter
  /** The one queue every part pushes its actions to. */
  readonly #out = new PoolOutbox()
  readonly #broadcasts: BroadcastQueue
  /** Addr relay: getaddr, addr/addrv2 in, getaddr answers. */
  readonly #gossip: AddrRelay
  /** Feelers and tried-table collisions. */
  readonly #feelers: FeelerManager
  /** Bans, inbound admission and eviction. */
  readonly #admission: Admission
  #refillAt: number | undefined
  #dnsAt: number | undefined
  #started = false
  #stopped = false

  constructor(config: PoolMachineConfig, random: Random) {
    this.#random = random
    this.#offset = config.unixTimeOffsetMs ?? 0
    this.#fullRelaySlots = positiveInt('outboundFullRelay', config.outboundFullRelay ?? DEFAULT_OUTBOUND_FULL_RELAY)
    this.#limitedSlots = positiveInt('outboundLimited', config.outboundLimited ?? 0)
    this.#maxInbound = positiveInt('maxInbound', config.maxInbound ?? DEFAULT_MAX_INBOUND)
    this.#maxPeers = positiveInt('maxPeers', config.maxPeers ?? Math.max(DEFAULT_MAX_PEERS, this.#fullRelaySlots + this.#limitedSlots), 1)
    this.#fullServices = config.fullRelayServices ?? FULL_RELAY_SERVICES
    this.#limitedServices = config.limitedServices ?? LIMITED_SERVICES
    this.#diverse = config.diverseNetgroups ?? true
    this.#banMs = config.banDurationMs ?? DEFAULT_BAN_DURATION_MS
    this.#defaultPort = config.defaultPort ?? 8333
    this.#dnsSeeds = config.dnsSeeds ?? []
    this.#requests = new RequestRouter(this.#out, {
      maxAttempts: positiveInt('requestAttempts', config.requestAttempts ?? DEFAULT_REQUEST_ATTEMPTS, 1),
      maxInFlightPerPeer: Infinity,
      peerWaitMs: positiveInt('requestPeerWaitMs', config.requestPeerWaitMs ?? DEFAULT_REQUEST_PEER_WAIT_MS),
      selection: config.peerSelection ?? 'least-loaded',
    })
    this.#broadcasts = new BroadcastQueue(this.#out, positiveInt('maxQueuedBroadcasts', config.maxQueuedBroadcasts ?? MAX_QUEUED_BROADCASTS, 1))
    const feelerConfig = { enabled: config.feelers ?? true, intervalMs: positiveInt('feelerIntervalMs', config.feelerIntervalMs ?? FEELER_INTERVAL_MS, 1) }
    this.#transport = config.transport ?? 'v2-first'
    this.book = config.addressBook ? AddressBook.deserialize(config.addressBook, { random }) : new AddressBook({ random })
    this.bans = config.banList ? BanList.deserialize(config.banList) : new BanList()
    this.retry = new RetryTracker({ random, policy: { ...DEFAULT_CONNECT_BACKOFF, ...config.backoff }, forgetAfter: 24 * 3600_000 })
    this.#gossip = new AddrRelay(this.#out, this.book, (now) => this.unixSeconds(now), config.addrRate)
    this.#feelers = new FeelerManager(this.#out, this.book, this.retry, random, (now) => this.unixSeconds(now), feelerConfig, {
      mayOpen: () =>
        this.#peers.slotCount('feeler') === 0 &&
        this.#peers.slotCount('full-relay') >= this.#fullRelaySlots &&
        this.#peers.slotCount('limited') >= this.#limitedSlots &&
        this.#peers.size < this.#maxPeers,
      connected: (key) => this.#peers.hasKey(key),
      mayTry: (now, key, ep) => this.#mayTry(now, key, ep),
      dial: (now, addr) => this.#dial(now, addr, 'feeler', 0n),
      close: (now, id, reason) => this.#close(now, this.#peers.get(id)!, reason),
    })
    this.#admission = new Admission(
      this.#out,
      this.#peers,
      this.bans,
      this.retry,
      random,
      (now) => this.unixSeconds(now),
      {
        maxInbound: this.#maxInbound,
        maxPeers: this.#maxPeers,
        evictInbound: config.evictInbound ?? true,
        noEvict: config.noEvict,
        fullServices: this.#fullServices,
        limitedServices: this.#limitedServices,
      },
      { close: (now, p, reason) => this.#close(now, p, reason), view: (p) => this.#view(p) },
    )
    this.#preferred = [...(config.peers ?? [])]
    const seeds = config.seeds ?? []
    if (seeds.length > 0) {
      const t = this.unixSeconds(0)
      this.book.add(
        seeds.map((addr) => ({ addr, services: this.#fullServices, time: t })),
        FIXED_SEEDS_SOURCE,
        t,
        { timePenalty: 0 },
      )
    }
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
    for (const t of [this.#refillAt, this.#dnsAt, this.#feelers.nextDeadline(), this.#requests.nextDeadline()]) {
      if (t !== undefined && (at === undefined || t < at)) at = t
    }
    return at
  }

  #act(a: PoolAction): void {
    this.#out.act(a)
  }

  #event(e: PoolEvent): void {
    this.#out.event(e)
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
    if (this.#dnsSeeds.length > 0) {
      if (this.book.size === 0) this.#resolveSeeds()
      else this.#dnsAt = now + DNS_SEED_DELAY_MS
    }
    this.#feelers.start(now)
    this.#fill(now)
  }

  /** Close every peer, fail every request and queued broadcast. No new connections after this. */
  stop(now: number): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#refillAt = undefined
    this.#dnsAt = undefined
    this.#feelers.stop()
    for (const p of this.#peers.values()) this.#close(now, p, 'pool stopped')
    this.#requests.stop(now)
    this.#broadcasts.stop(now)
  }

  /** True once stop() was called: no new connections, and submit() throws. */
  get stopped(): boolean {
    return this.#stopped
  }

  /** Run what is due at `now`. A call that finds nothing due does nothing. */
  timeout(now: number): void {
    if (this.#dnsAt !== undefined && now >= this.#dnsAt) {
      this.#dnsAt = undefined
      let readyOut = 0
      for (const p of this.#peers.values()) if (p.slot !== 'inbound' && p.state === 'ready') readyOut++
      if (readyOut < DNS_SEED_MIN_OUTBOUND) this.#resolveSeeds()
    }
    if (this.#refillAt !== undefined && now >= this.#refillAt) {
      this.#refillAt = undefined
      this.#fill(now)
    }
    this.#feelers.timeout(now)
    this.#requests.timeout(now)
  }

  #resolveSeeds(): void {
    for (const host of this.#dnsSeeds) this.#act({ type: 'resolve', host, port: this.#defaultPort })
  }

  // --- addresses ---------------------------------------------------------------

  /**
   * Learn addresses from a DNS seed or the user. Plain `PeerAddress`es get
   * the full-relay services and the current time. Returns how many were new.
   */
  addAddresses(now: number, entries: readonly (PeerAddress | AddressInput)[], source: PeerAddress = USER_SOURCE): number {
    const t = this.unixSeconds(now)
    const inputs: AddressInput[] = entries.map((e) =>
      'services' in e ? e : { addr: e, services: this.#fullServices, time: t },
    )
    const added = this.book.add(inputs, source, t, { timePenalty: 0 })
    this.#fill(now)
    return added
  }

  /** Connect to `addr` before anything from the book (a user-given peer). */
  addPeer(now: number, addr: PeerAddress): void {
    this.#preferred.push(addr)
    this.#fill(now)
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

  // --- slots -------------------------------------------------------------------

  /** Open outbound connections until the slots are full or nothing may be tried. */
  #fill(now: number): void {
    if (!this.#started || this.#stopped) return
    let starved = false
    for (const slot of ['full-relay', 'limited'] as const) {
      const cap = slot === 'full-relay' ? this.#fullRelaySlots : this.#limitedSlots
      const services = slot === 'full-relay' ? this.#fullServices : this.#limitedServices
      let open = cap - this.#peers.slotCount(slot)
      while (open > 0 && this.#peers.size < this.#maxPeers) {
        const addr = this.#candidate(now, slot === 'full-relay', services)
        if (!addr) {
          starved = true
          break
        }
        this.#dial(now, addr, slot, services)
        open--
      }
    }
    if (starved) {
      // Wake when the first held address may be tried (or, with none held, after REFILL_IDLE_MS:
      // new addresses and freed slots call #fill themselves), never sooner than REFILL_INTERVAL_MS.
      const next = this.retry.nextReadyAt(now)
      const at = Math.max(now + REFILL_INTERVAL_MS, next ?? now + REFILL_IDLE_MS)
      if (this.#refillAt === undefined || at < this.#refillAt) this.#refillAt = at
    }
  }

  /** May `key` be dialled now? */
  #mayTry(now: number, key: string, ep: Endpoint | undefined): boolean {
    if (this.#peers.hasKey(key)) return false
    if (!this.retry.canTry(key, now)) return false
    if (ep && this.bans.isBanned(ep, this.unixSeconds(now))) return false
    return true
  }

  #candidate(now: number, usePreferred: boolean, services: bigint): PeerAddress | undefined {
    if (usePreferred) {
      for (const addr of this.#preferred) {
        const ep = toEndpoint(addr)
        if (this.#mayTry(now, retryKey(addr), ep)) return addr
      }
    }
    const t = this.unixSeconds(now)
    const groups = this.#diverse ? this.#peers.outboundGroups() : undefined
    // A small book needs few draws to show everything it holds (each draw can be costly there).
    const tries = Math.min(MAX_SELECT_TRIES, 2 * this.book.size)
    for (let i = 0; i < tries; i++) {
      const e = this.book.select({ now: t, requiredServices: services })
      if (!e) return undefined
      const key = retryKey(e.addr)
      if (!this.#mayTry(now, key, e.addr)) continue
      if (groups?.has(groupToString(netGroup(e.addr)))) continue
      return endpointToPeerAddress(e.addr)
    }
    return undefined
  }

  #newPeer(addr: PeerAddress, slot: SlotType, state: PoolPeerState, now: number): PoolPeer {
    const p = this.#peers.add(addr, slot, state)
    this.#gossip.added(now, p.id)
    return p
  }

  #dial(now: number, addr: PeerAddress, slot: SlotType, requiredServices: bigint): void {
    const p = this.#newPeer(addr, slot, 'connecting', now)
    if (p.endpoint) this.book.attempt(p.endpoint, this.unixSeconds(now), false)
    this.#act({ type: 'connect', peerId: p.id, addr, slot, requiredServices, transport: this.#transportFor(addr) })
  }

  /** v2 where the policy and what we know of the peer allow it (Core: v2 when the address advertises NODE_P2P_V2). */
  #transportFor(addr: PeerAddress): 'v1' | 'v2' {
    if (this.#transport !== 'v2-first') return this.#transport
    if (this.#v1Only.has(retryKey(addr))) return 'v1'
    const services = this.book.get(addr)?.services ?? 0n
    return hasServices(services, Services.NODE_P2P_V2) ? 'v2' : 'v1'
  }

  /**
   * The v2 handshake with `addr` was refused or garbled (BIP324: such a
   * peer may speak v1 only): dial it in v1 from now on. Bounded like the
   * address book (the oldest is forgotten first).
   */
  v2Refused(now: number, addr: PeerAddress): void {
    const k = retryKey(addr)
    this.#v1Only.delete(k)
    this.#v1Only.add(k)
    if (this.#v1Only.size > MAX_V1_ONLY_PEERS) this.#v1Only.delete(this.#v1Only.values().next().value!)
    void now
  }

  #close(now: number, p: PoolPeer, reason: string): void {
    if (p.state === 'closing') return
    p.state = 'closing'
    // What it serves stays until it has closed (then it fails over); it takes nothing new.
    this.#requests.peerClosing(now, p.id)
    this.#act({ type: 'disconnect', peerId: p.id, reason })
  }

  /**
   * An inbound connection from `remote` arrived. Returns the new peer's id,
   * or undefined when it must be refused (banned, stopped, or the inbound
   * slots or the total cap full and nobody evictable). When the slots are
   * full and eviction is on, one inbound peer is closed (EVICTION_REASON,
   * an 'evicted' event) to make room. Inbound peers already closing do not
   * count (their transport is up, so they leave as soon as the driver
   * closes it); closing outbound attempts still do (an abort can take a while).
   */
  inbound(now: number, remote: PeerAddress): number | undefined {
    if (this.#stopped || !this.#started) return undefined
    if (!this.#admission.admit(now, remote)) return undefined
    const p = this.#newPeer(remote, 'inbound', 'handshaking', now)
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
      const t = this.unixSeconds(now)
      if (p.endpoint) {
        if (this.book.good(p.endpoint, t) === 'collision') this.#feelers.resolveCollisions(now)
        this.book.setServices(p.endpoint, p.services)
      }
      this.retry.succeeded(p.key)
      this.#gossip.askAddresses(now, peerId)
    }
    this.#event({ type: 'peer-added', peer: this.#view(p), info })
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
    const t = this.unixSeconds(now)
    let retryAt = now
    if (policy.banScore > 0 && p.endpoint) {
      this.ban(now, p.endpoint, this.#banMs, describeDisconnect(reason))
      retryAt = now + this.#banMs
    } else if (p.slot === 'feeler') {
      // A failed test counts against the address, as a failed outbound connection does.
      this.#feelers.failed(now, p, reason)
    } else if (p.slot !== 'inbound' && !(reason.kind === 'local' || reason.kind === 'aborted')) {
      // Unresponsive (and failed connects) lower the address's chance in the book; nothing here bans.
      if (p.endpoint && (policy.unresponsive || !wasReady)) this.book.attempt(p.endpoint, t, true)
      if (reason.kind === 'missing-services' && p.endpoint) this.book.setServices(p.endpoint, reason.actual)
      retryAt = this.retry.failed(p.key, now)
      // Missing services: the book now knows the real bits, so the slot filter keeps it out of
      // slots it cannot serve; it may still fill another kind of slot.
      if (!policy.transient && reason.kind !== 'missing-services') {
        this.retry.holdUntil(p.key, now + NON_TRANSIENT_HOLD_MS, now)
        retryAt = Math.max(retryAt, now + NON_TRANSIENT_HOLD_MS)
      }
    }
    const view = this.#view({ ...p, state: 'closing' })
    this.#gossip.removed(peerId)
    this.#admission.removed(peerId)
    if (p.slot === 'feeler') {
      this.#feelers.ended(now, p, view, reason)
      this.#fill(now)
      return
    }
    if (wasReady) this.#event({ type: 'peer-removed', peer: view, reason, policy })
    else this.#event({ type: 'connect-failed', peer: view, reason, retryAt })
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

  /** Close `peerId` (a caller's decision). */
  disconnect(now: number, peerId: number, reason = 'local'): void {
    const p = this.#peers.get(peerId)
    if (p) this.#close(now, p, reason)
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
