/**
 * Feelers and tried-table collisions (test-before-evict), after Core's
 * FEELER_INTERVAL and ResolveCollisions.
 *
 *   inputs   start(now)  stop()  timeout(now)
 *            passed(now, peer)  failed(now, peer, reason)  ended(now, peer, view, reason)
 *            resolveCollisions(now)
 *   outputs  (through its ports) a feeler dial, the feeler's close;
 *            'feeler' events
 *   timers   nextDeadline(): the next feeler tick, the next look at pending
 *            collisions, the end of a failed feeler's grace period
 *
 * Rules:
 *  - at exponential intervals (mean `intervalMs`, from the injected
 *    Random: Core's GetExponentialRand) one short-lived connection tests
 *    an address: first the tried entry a pending collision would evict,
 *    then a draw from the new table. A tick that cannot open one (one is
 *    open, the outbound slots are not full, the pool is at its cap) is
 *    skipped, not deferred;
 *  - a handshake marks the address good (new -> tried) and the feeler is
 *    closed at once (a 'feeler-done' disconnect); a failed test counts against the
 *    address as a failed outbound connection does, unless we closed it;
 *  - collisions are settled on every tick, after each feeler, just after
 *    a failed feeler's grace period, and every COLLISION_CHECK_MS while any
 *    is pending, so they do not pile up.
 */
import { hasServices, Services } from '@bitp2p/wire'
import { isLocalDisconnect, type DisconnectReason } from '../fsm/reasons.js'
import type { PeerAddress, Random } from '../ports.js'
import { FEELER_GRACE_SECONDS, RECENT_TRY_SECONDS, type AddressBook, type GoodResult } from './addrman.js'
import { retryKey, type RetryTracker } from './backoff.js'
import { endpointToPeerAddress, type Endpoint } from './netgroup.js'
import type { PoolOutbox } from './outbox.js'
import { MAX_SELECT_TRIES } from './slots.js'
import type { PoolPeerInfo } from './types.js'

/** Core's FEELER_INTERVAL: one feeler every 2 minutes on average (exponentially distributed gaps). */
export const FEELER_INTERVAL_MS = 120_000
/** With tried collisions pending, resolve them at least this often (ours; Core looks on every turn of its connection loop). */
export const COLLISION_CHECK_MS = 120_000

/** The feeler connection, as the manager sees it. */
export interface FeelerPeer {
  readonly id: number
  /** retryKey of its address. */
  readonly key: string
  /** Its address as an IP endpoint (undefined for a name). */
  readonly endpoint: Endpoint | undefined
}

/** What the feeler manager asks of the pool. */
export interface FeelerPorts {
  /** May a feeler open now (none open, the outbound slots full, room under the cap)? */
  mayOpen(): boolean
  /** Is some live connection on `key` (a retryKey)? */
  connected(key: string): boolean
  /** May `key` be dialled now (not connected, backoff over, not banned)? */
  mayTry(now: number, key: string, ep: Endpoint | undefined): boolean
  /** Open the feeler connection to `addr`. */
  dial(now: number, addr: PeerAddress): void
  /** Close feeler `id` with `reason`. */
  close(now: number, id: number, reason: DisconnectReason): void
}

/** Settings of the feeler manager. */
export interface FeelerConfig {
  /** Open feelers at all (collisions are still settled when other inputs ask). */
  readonly enabled: boolean
  /** Mean ms between feeler ticks. */
  readonly intervalMs: number
}

/** Feelers and collision resolution (see the module comment). */
export class FeelerManager {
  readonly #out: PoolOutbox
  readonly #book: AddressBook
  readonly #retry: RetryTracker
  readonly #random: Random
  readonly #unix: (now: number) => number
  readonly #config: FeelerConfig
  readonly #ports: FeelerPorts
  /** What a passed feeler did in the book, by peer id, until it has closed. */
  readonly #passed = new Map<number, GoodResult | undefined>()
  #on = false
  #feelerAt: number | undefined
  #collisionAt: number | undefined
  /** Just after the grace period of the last failed feeler, when its collision can be settled. */
  #graceAt: number | undefined

  constructor(out: PoolOutbox, book: AddressBook, retry: RetryTracker, random: Random, unix: (now: number) => number, config: FeelerConfig, ports: FeelerPorts) {
    this.#out = out
    this.#book = book
    this.#retry = retry
    this.#random = random
    this.#unix = unix
    this.#config = config
    this.#ports = ports
  }

  /** The earliest of the manager's deadlines. */
  nextDeadline(): number | undefined {
    let at: number | undefined
    for (const t of [this.#feelerAt, this.#collisionAt, this.#graceAt]) {
      if (t !== undefined && (at === undefined || t < at)) at = t
    }
    return at
  }

  /** Begin: the first feeler tick comes one exponential gap from `now`. */
  start(now: number): void {
    this.#on = true
    if (this.#config.enabled) this.#feelerAt = now + this.#gap()
  }

  /** No more feelers nor timed collision checks. */
  stop(): void {
    this.#on = false
    this.#feelerAt = undefined
    this.#collisionAt = undefined
    this.#graceAt = undefined
  }

  /** Run the feeler tick, the grace check and the collision check when due (in that order). */
  timeout(now: number): void {
    if (this.#feelerAt !== undefined && now >= this.#feelerAt) {
      this.#feelerAt = now + this.#gap()
      this.resolveCollisions(now)
      this.#startFeeler(now)
    }
    if (this.#graceAt !== undefined && now >= this.#graceAt) {
      this.#graceAt = undefined
      this.resolveCollisions(now)
    }
    if (this.#collisionAt !== undefined && now >= this.#collisionAt) {
      this.#collisionAt = undefined
      this.resolveCollisions(now)
    }
  }

  /** Settle what the address book can settle; look again later while collisions remain. */
  resolveCollisions(now: number): void {
    this.#book.resolveCollisions(this.#unix(now))
    if (this.#book.collisionCount === 0) this.#collisionAt = undefined
    else if (this.#collisionAt === undefined) this.#collisionAt = now + COLLISION_CHECK_MS
  }

  /** The feeler's handshake completed with `services`: its address is good; close it. */
  passed(now: number, peer: FeelerPeer, services: bigint): void {
    let result: GoodResult | undefined
    if (peer.endpoint) {
      result = this.#book.good(peer.endpoint, this.#unix(now))
      this.#book.setServices(peer.endpoint, services)
    }
    this.#passed.set(peer.id, result)
    this.#retry.succeeded(peer.key)
    this.#ports.close(now, peer.id, { kind: 'feeler-done' })
    this.resolveCollisions(now)
  }

  /**
   * The feeler closed before passing (a ban aside): the test counts against
   * the address, unless we closed it ourselves. When a collision is
   * pending the book settles it after the grace period: look then.
   */
  failed(now: number, peer: FeelerPeer, reason: DisconnectReason): void {
    if (this.#passed.has(peer.id) || !peer.endpoint || isLocalDisconnect(reason)) return
    this.#book.attempt(peer.endpoint, this.#unix(now), true)
    this.#retry.failed(peer.key, now)
    if (this.#book.collisionCount > 0) this.#graceAt = now + (FEELER_GRACE_SECONDS + 1) * 1000
  }

  /** The feeler is gone: report it ('feeler' event) and settle what its result allows. */
  ended(now: number, peer: FeelerPeer, view: PoolPeerInfo, reason: DisconnectReason): void {
    const ok = this.#passed.has(peer.id)
    const book = this.#passed.get(peer.id)
    this.#passed.delete(peer.id)
    this.#out.event({ type: 'feeler', peer: view, ok, reason, book })
    // A failed test of a collision's old entry decides it once the grace period is over.
    this.resolveCollisions(now)
  }

  /** Core's GetExponentialRand: an exponentially distributed gap with mean intervalMs, whole ms. */
  #gap(): number {
    return Math.round(-Math.log1p(-this.#random.float()) * this.#config.intervalMs)
  }

  /** Open a feeler when the pool allows one (filling slots comes first). */
  #startFeeler(now: number): void {
    if (!this.#on || !this.#ports.mayOpen()) return
    const addr = this.#candidate(now)
    if (addr) this.#ports.dial(now, addr)
  }

  /**
   * What a feeler should test: first the tried entry that a pending
   * collision would evict, then a draw from the new table (as Core's
   * ThreadOpenConnections). An old entry we are connected to right now is
   * alive: it is marked good instead, which settles its collision. As Core,
   * an address tried in the last RECENT_TRY_SECONDS is not tried again (a
   * retest would restart the grace period that settles the collision).
   */
  #candidate(now: number): PeerAddress | undefined {
    const t = this.#unix(now)
    const old = this.#book.selectTriedCollision()
    if (old) {
      const key = retryKey(old.addr)
      if (this.#ports.connected(key)) {
        this.#book.good(old.addr, t)
        this.resolveCollisions(now)
      } else if (t - old.lastTry >= RECENT_TRY_SECONDS && this.#ports.mayTry(now, key, old.addr)) {
        return endpointToPeerAddress(old.addr)
      }
    }
    const tries = Math.min(MAX_SELECT_TRIES, 2 * this.#book.size)
    for (let i = 0; i < tries; i++) {
      const e = this.#book.select({ now: t, newOnly: true })
      if (!e) return undefined
      // Core's MayHaveUsefulAddressDB: only peers that keep the chain may know good addresses.
      if (!hasServices(e.services, Services.NODE_NETWORK) && !hasServices(e.services, Services.NODE_NETWORK_LIMITED)) continue
      if (t - e.lastTry < RECENT_TRY_SECONDS) continue
      if (!this.#ports.mayTry(now, retryKey(e.addr), e.addr)) continue
      return endpointToPeerAddress(e.addr)
    }
    return undefined
  }
}
