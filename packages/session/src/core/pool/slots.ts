/**
 * Outbound connection slots and dialling (Core's ThreadOpenConnections).
 *
 *   inputs   start(now)  stop()  fill(now)  timeout(now)  addPeer(addr)
 *            connected(now, peer)  failed(now, peer, reason, policy, wasReady)
 *            v2Refused(now, addr)
 *   outputs  connect(peerId, addr, slot, services, transport)
 *   timer    nextDeadline(): the next refill, when slots are open but no
 *            address may be tried yet
 *
 * Rules:
 *  - `fullRelay` full-relay slots, then `limited` slots (peers that serve
 *    recent blocks only), never more than `maxPeers` connections in all;
 *  - user-given peers first (full-relay slots), then draws from the
 *    address book that offer the slot's services, at most MAX_SELECT_TRIES
 *    draws per slot;
 *  - an address is dialled when no live connection holds it, its backoff
 *    is over and it is not banned; with `diverse`, no two outbound peers
 *    share a network group;
 *  - starved (no address to try), look again when the first held-back
 *    address may be tried, never sooner than REFILL_INTERVAL_MS (and with
 *    none held back after REFILL_IDLE_MS: new addresses and freed slots
 *    fill themselves);
 *  - a connection that ends by a fault of the peer's (we did not close it)
 *    counts: a failed connect or an unresponsive peer lowers the address
 *    in the book, the backoff grows, and a reason that will not change
 *    (old version, self-connection) holds the address NON_TRANSIENT_HOLD_MS;
 *  - the transport: 'v2-first' dials v2 where the book says the peer
 *    offers NODE_P2P_V2 and it never refused v2, v1 elsewhere.
 */
import { hasServices, Services } from '@bitp2p/wire'
import type { DisconnectPolicy, DisconnectReason } from '../fsm/reasons.js'
import type { PeerAddress } from '../ports.js'
import type { AddressBook } from './addrman.js'
import { retryKey, type RetryTracker } from './backoff.js'
import type { BanList } from './banlist.js'
import { endpointToPeerAddress, groupToString, netGroup, toEndpoint, type Endpoint } from './netgroup.js'
import type { PoolOutbox } from './outbox.js'
import type { PeerTable, PoolPeer } from './peers.js'
import type { SlotType } from './types.js'

/** Hold on an address that answered with something that will not change (old version, missing services): 1 h (ours). */
export const NON_TRANSIENT_HOLD_MS = 3600_000
/** Slots open but nothing to try: look again no sooner than this (Core's ThreadOpenConnections sleeps 500 ms). */
export const REFILL_INTERVAL_MS = 500
/** Slots open, nothing held back, nothing to try: look again after this long anyway (ours). */
export const REFILL_IDLE_MS = 60_000
/** Draws from the address book per slot fill before giving up until the next refill (Core: 100). */
export const MAX_SELECT_TRIES = 100
/** Peers remembered as v1-only (v2Refused), at most. */
export const MAX_V1_ONLY_PEERS = 10_000

/** Settings of the outbound slots. */
export interface SlotsConfig {
  readonly fullRelay: number
  readonly limited: number
  readonly maxPeers: number
  readonly fullServices: bigint
  readonly limitedServices: bigint
  /** One outbound peer per network group. */
  readonly diverse: boolean
  readonly transport: 'v2-first' | 'v2' | 'v1'
  /** User-given peers, tried before the book. */
  readonly peers: readonly PeerAddress[]
}

/** What the slots ask of the pool. */
export interface SlotsPorts {
  /** Take a new connection to `addr` into the table (and tell whoever tracks peers). */
  open(now: number, addr: PeerAddress, slot: SlotType): PoolPeer
  /** An outbound peer's good() in the book found a tried collision: settle it. */
  collision(now: number): void
}

/** The outbound slots and the dialler (see the module comment). */
export class OutboundSlots {
  readonly #out: PoolOutbox
  readonly #peers: PeerTable
  readonly #book: AddressBook
  readonly #bans: BanList
  readonly #retry: RetryTracker
  readonly #unix: (now: number) => number
  readonly #config: SlotsConfig
  readonly #ports: SlotsPorts
  readonly #preferred: PeerAddress[]
  /** Peers whose v2 handshake failed in a way v1 may not ("host:port", bounded): dialled in v1 from then on. */
  readonly #v1Only = new Set<string>()
  #on = false
  #refillAt: number | undefined

  constructor(out: PoolOutbox, peers: PeerTable, book: AddressBook, bans: BanList, retry: RetryTracker, unix: (now: number) => number, config: SlotsConfig, ports: SlotsPorts) {
    this.#out = out
    this.#peers = peers
    this.#book = book
    this.#bans = bans
    this.#retry = retry
    this.#unix = unix
    this.#config = config
    this.#ports = ports
    this.#preferred = [...config.peers]
  }

  /** When the next refill is due. */
  nextDeadline(): number | undefined {
    return this.#refillAt
  }

  /** Dialling may begin (the first fill is the caller's). */
  start(): void {
    this.#on = true
  }

  /** No more dialling. */
  stop(): void {
    this.#on = false
    this.#refillAt = undefined
  }

  /** Refill when due. */
  timeout(now: number): void {
    if (this.#refillAt !== undefined && now >= this.#refillAt) {
      this.#refillAt = undefined
      this.fill(now)
    }
  }

  /** Connect to `addr` before anything from the book (the caller fills). */
  addPeer(addr: PeerAddress): void {
    this.#preferred.push(addr)
  }

  /** Every outbound slot taken (full-relay and limited; connecting and closing peers count). */
  full(): boolean {
    return this.#peers.slotCount('full-relay') >= this.#config.fullRelay && this.#peers.slotCount('limited') >= this.#config.limited
  }

  /** Open outbound connections until the slots are full or nothing may be tried. */
  fill(now: number): void {
    if (!this.#on) return
    let starved = false
    for (const slot of ['full-relay', 'limited'] as const) {
      const cap = slot === 'full-relay' ? this.#config.fullRelay : this.#config.limited
      const services = slot === 'full-relay' ? this.#config.fullServices : this.#config.limitedServices
      let open = cap - this.#peers.slotCount(slot)
      while (open > 0 && this.#peers.size < this.#config.maxPeers) {
        const addr = this.#candidate(now, slot === 'full-relay', services)
        if (!addr) {
          starved = true
          break
        }
        this.dial(now, addr, slot, services)
        open--
      }
    }
    if (starved) {
      // Wake when the first held address may be tried (or, with none held, after REFILL_IDLE_MS:
      // new addresses and freed slots call fill themselves), never sooner than REFILL_INTERVAL_MS.
      const next = this.#retry.nextReadyAt(now)
      const at = Math.max(now + REFILL_INTERVAL_MS, next ?? now + REFILL_IDLE_MS)
      if (this.#refillAt === undefined || at < this.#refillAt) this.#refillAt = at
    }
  }

  /** May `key` be dialled now: no live connection on it, its backoff over, not banned? */
  mayTry(now: number, key: string, ep: Endpoint | undefined): boolean {
    if (this.#peers.hasKey(key)) return false
    if (!this.#retry.canTry(key, now)) return false
    if (ep && this.#bans.isBanned(ep, this.#unix(now))) return false
    return true
  }

  /** Dial `addr` into `slot` (a feeler takes no slot: it asks no services). */
  dial(now: number, addr: PeerAddress, slot: SlotType, requiredServices: bigint): void {
    const p = this.#ports.open(now, addr, slot)
    if (p.endpoint) this.#book.attempt(p.endpoint, this.#unix(now), false)
    this.#out.act({ type: 'connect', peerId: p.id, addr, slot, requiredServices, transport: this.#transportFor(addr) })
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

  /** Outbound `peer` completed its handshake: its address is good, its backoff cleared. */
  connected(now: number, peer: PoolPeer): void {
    if (peer.endpoint) {
      if (this.#book.good(peer.endpoint, this.#unix(now)) === 'collision') this.#ports.collision(now)
      this.#book.setServices(peer.endpoint, peer.services)
    }
    this.#retry.succeeded(peer.key)
  }

  /**
   * Outbound `peer` ended by `reason` (not by us, nor a ban). Returns when
   * its address may be tried again (driver ms).
   */
  failed(now: number, peer: PoolPeer, reason: DisconnectReason, policy: DisconnectPolicy, wasReady: boolean): number {
    // Unresponsive (and failed connects) lower the address's chance in the book; nothing here bans.
    if (peer.endpoint && (policy.unresponsive || !wasReady)) this.#book.attempt(peer.endpoint, this.#unix(now), true)
    if (reason.kind === 'missing-services' && peer.endpoint) this.#book.setServices(peer.endpoint, reason.actual)
    let retryAt = this.#retry.failed(peer.key, now)
    // Missing services: the book now knows the real bits, so the slot filter keeps it out of
    // slots it cannot serve; it may still fill another kind of slot.
    if (!policy.transient && reason.kind !== 'missing-services') {
      this.#retry.holdUntil(peer.key, now + NON_TRANSIENT_HOLD_MS, now)
      retryAt = Math.max(retryAt, now + NON_TRANSIENT_HOLD_MS)
    }
    return retryAt
  }

  #candidate(now: number, usePreferred: boolean, services: bigint): PeerAddress | undefined {
    if (usePreferred) {
      for (const addr of this.#preferred) {
        const ep = toEndpoint(addr)
        if (this.mayTry(now, retryKey(addr), ep)) return addr
      }
    }
    const t = this.#unix(now)
    const groups = this.#config.diverse ? this.#peers.outboundGroups() : undefined
    // A small book needs few draws to show everything it holds (each draw can be costly there).
    const tries = Math.min(MAX_SELECT_TRIES, 2 * this.#book.size)
    for (let i = 0; i < tries; i++) {
      const e = this.#book.select({ now: t, requiredServices: services })
      if (!e) return undefined
      const key = retryKey(e.addr)
      if (!this.mayTry(now, key, e.addr)) continue
      if (groups?.has(groupToString(netGroup(e.addr)))) continue
      return endpointToPeerAddress(e.addr)
    }
    return undefined
  }

  /** v2 where the policy and what we know of the peer allow it (Core: v2 when the address advertises NODE_P2P_V2). */
  #transportFor(addr: PeerAddress): 'v1' | 'v2' {
    if (this.#config.transport !== 'v2-first') return this.#config.transport
    if (this.#v1Only.has(retryKey(addr))) return 'v1'
    const services = this.#book.get(addr)?.services ?? 0n
    return hasServices(services, Services.NODE_P2P_V2) ? 'v2' : 'v1'
  }
}
