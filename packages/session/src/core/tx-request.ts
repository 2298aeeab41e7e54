/**
 * TxRequestMachine: which announced transaction to fetch from which peer,
 * and when. Sans-IO: every input carries `now` (driver ms), randomness is
 * the injected `Random`, and what to fetch comes out as actions the driver
 * drains with `poll()`. MempoolMonitor is its driver.
 *
 * After Bitcoin Core's TxRequestTracker (txrequest.h) and the limits
 * net_processing puts around it. The unit is the *announcement*: one
 * (peer, hash) pair, where the hash is a txid (MSG_TX) or a wtxid (MSG_WTX,
 * BIP339). An announcement is in one state:
 *
 *   delayed    announced, not requestable before its request time
 *   ready      requestable (Core's CANDIDATE_READY / CANDIDATE_BEST)
 *   requested  getdata sent to its peer, waiting until `requestTimeoutMs`
 *   done       its peer answered notfound, its request timed out or failed:
 *              never asked of that peer again (Core's COMPLETED)
 *
 * Rules:
 *  - Per-peer announcement cap. A peer holds at most
 *    `maxAnnouncementsPerPeer` announcements (any state; Core's
 *    MAX_PEER_TX_ANNOUNCEMENTS, 5,000). Announcements beyond are dropped and
 *    counted (`droppedOf(peer)`, `dropped`), never scored: Core ignores them
 *    too, and an honest peer can exceed the cap when we fetch slower than
 *    it announces (its reply to a BIP35 `mempool` is a stream of 50,000-item
 *    invs). A hostile one gains nothing: its excess costs us no memory, and
 *    an inv over MAX_INV_SIZE is already an offense of the wire layer.
 *  - One request per hash at a time, never the same hash twice from one
 *    peer. The others who announced it are alternatives: when the request
 *    is answered with notfound, times out, fails or its peer leaves, the
 *    best remaining ready announcement is requested.
 *  - Which announcer: a preferred peer (the driver decides, by default an
 *    outbound one) before a non-preferred one, then one with room in
 *    flight before one at its in-flight cap, then the lowest random
 *    priority drawn at announcement (Core's salted hash: an attacker cannot
 *    arrange to be picked by announcing first among equals). A request
 *    goes out as soon as one announcement is ready, so in quiet times the
 *    first announcer is asked.
 *  - Per-peer in-flight cap: at most `maxInFlightPerPeer` hashes requested
 *    from one peer and unanswered (Core's MAX_PEER_TX_REQUEST_IN_FLIGHT,
 *    100; Core uses it only as the overload mark, we also stop there).
 *  - Delays: a non-preferred peer's announcement waits
 *    `nonPreferredDelayMs` (Core's NONPREF_PEER_TX_DELAY, 2 s), and an
 *    announcement made while its peer is at the in-flight cap ("overloaded")
 *    waits `overloadedDelayMs` more (Core's OVERLOADED_PEER_TX_DELAY, 2 s),
 *    so an honest announcer of the same hash is asked first.
 *  - Requests expire `requestTimeoutMs` after they are sent (Core's
 *    GETDATA_TX_INTERVAL, 60 s); the announcement is then done.
 *  - A hash with only done announcements left is forgotten ('abandoned'),
 *    as is a hash whose last announcer left. A transaction that arrives
 *    (from anyone) settles its txid and wtxid and both go into a bounded
 *    LRU of seen hashes (`seenCapacity`); later announcements of a seen
 *    hash are ignored.
 *  - `maxTxPerSecond` caps requests over all peers (a token bucket holding
 *    one second's worth).
 *
 * Memory is bounded per peer by construction. Each announcement costs at
 * most ANNOUNCEMENT_BYTES of heap (measured by bench/mempool-flood.bench.mjs:
 * the announcement, its entries in the peer's and the hash's indexes, and
 * the hash's own record when it is the first announcer), so one peer costs
 * at most `maxAnnouncementsPerPeer` x ANNOUNCEMENT_BYTES (2.44 MiB at the
 * defaults) plus a constant, and all of them together peers x that. The
 * seen LRU is separate: `seenCapacity` entries, SEEN_ENTRY_BYTES each.
 *
 * The timers are `nextDeadline()`: the next delayed announcement's request
 * time, the next request's expiry, and the token bucket's refill when
 * requests wait for it. `timeout(now)` with nothing due does nothing.
 *
 * Not done (Core does): TXID_RELAY_DELAY (a txid announcement waits while
 * wtxid-relay peers exist) and matching a txid announcement with a wtxid one
 * of the same transaction before it arrives; either may be requested twice.
 */
import { InvType, MSG_WITNESS_FLAG, type InvItem } from '@bitp2p/wire'
import type { Random } from './ports.js'

/** Core's MAX_PEER_TX_ANNOUNCEMENTS: announcements one peer may have us track. */
export const DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER = 5_000
/** Core's MAX_PEER_TX_REQUEST_IN_FLIGHT: hashes requested from one peer and not yet answered. */
export const DEFAULT_MAX_IN_FLIGHT_PER_PEER = 100
/** Core's GETDATA_TX_INTERVAL: a request unanswered this long is given up (the next announcer is asked). */
export const DEFAULT_TX_REQUEST_TIMEOUT_MS = 60_000
/** Core's OVERLOADED_PEER_TX_DELAY: extra wait of an announcement made while its peer is at its in-flight cap. */
export const DEFAULT_OVERLOADED_DELAY_MS = 2_000
/** Core's NONPREF_PEER_TX_DELAY: wait of a non-preferred peer's announcement. */
export const DEFAULT_NON_PREFERRED_DELAY_MS = 2_000
/** Default txids/wtxids remembered as seen. */
export const DEFAULT_SEEN_CAPACITY = 100_000
/** Announcers reported per transaction (MempoolTx.announcedBy), first ones first; fallbacks are not limited by it. */
export const MAX_REPORTED_ANNOUNCERS = 16
/** Core's MAX_GETDATA_SZ: items per getdata we send (a larger batch is split). */
export const MAX_GETDATA_ITEMS = 1_000
/**
 * Heap bytes one tracked announcement costs at most: the documented bound,
 * checked by bench/mempool-flood.bench.mjs (Node 20, x64: 408 B when every
 * announcement is of a distinct hash, the worst case; 271 B when 20 peers
 * announce the same hashes). Times maxAnnouncementsPerPeer it bounds one
 * peer's share: 2.44 MiB at the default cap.
 */
export const ANNOUNCEMENT_BYTES = 512
/** Heap bytes of one seen-LRU entry at most (a 33-character key in a Map; the bench measures it). */
export const SEEN_ENTRY_BYTES = 128
/** Priorities keep 30 random bits: small integers V8 stores unboxed (a u32 would be a heap number per announcement). */
const PRIORITY_SHIFT = 2

/** Configuration of a TxRequestMachine; every field has a default. */
export interface TxRequestConfig {
  /** Default DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER. */
  readonly maxAnnouncementsPerPeer?: number
  /** Default DEFAULT_MAX_IN_FLIGHT_PER_PEER. */
  readonly maxInFlightPerPeer?: number
  /** Default DEFAULT_TX_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number
  /** Default DEFAULT_OVERLOADED_DELAY_MS. */
  readonly overloadedDelayMs?: number
  /** Default DEFAULT_NON_PREFERRED_DELAY_MS. */
  readonly nonPreferredDelayMs?: number
  /** Requests per second over all peers. Default unlimited. */
  readonly maxTxPerSecond?: number
  /** Default DEFAULT_SEEN_CAPACITY. */
  readonly seenCapacity?: number
}

/** A hash to fetch: a txid (byWtxid false) or a wtxid. */
export interface TxHash {
  readonly hash: Uint8Array
  readonly byWtxid: boolean
}

/** What the machine asks its driver to do or tells it. */
export type TxRequestAction<P> =
  /** Send getdata for these hashes to `peer` (at most MAX_GETDATA_ITEMS, announcement order). */
  | { readonly type: 'request'; readonly peer: P; readonly items: readonly TxHash[] }
  /** `peer` answered notfound for a hash requested from it. */
  | { readonly type: 'notfound'; readonly peer: P; readonly hash: Uint8Array; readonly byWtxid: boolean }
  /** A request to `peer` passed its expiry (or its getdata failed): the next announcer will be asked. */
  | { readonly type: 'expired'; readonly peer: P; readonly hash: Uint8Array; readonly byWtxid: boolean }
  /** No announcer is left to ask for this hash; it is forgotten. */
  | { readonly type: 'abandoned'; readonly hash: Uint8Array; readonly byWtxid: boolean }

/** What one `announce` call did with its items. */
export interface AnnounceCounts {
  /** New announcements tracked. */
  readonly added: number
  /** Transaction items beyond the peer's announcement cap: dropped. */
  readonly dropped: number
  /** Items already seen, or already announced by this peer: ignored. */
  readonly known: number
}

/** State of one announcement; see the module comment. */
export type AnnouncementState = 'delayed' | 'ready' | 'requested' | 'done'

interface Announcement<P> {
  readonly peer: PeerEntry<P>
  /** Set once, right after the announcement is made (a new hash's record holds the announcement in its array literal). */
  tx: TxEntry<P>
  /** Announcement order over the whole machine. */
  readonly seq: number
  /** Random tie-break among equally good announcers (lower wins). */
  readonly priority: number
  state: AnnouncementState
  /** Request time while delayed, expiry while requested. */
  at: number
}

interface TxEntry<P> {
  readonly key: string
  readonly byWtxid: boolean
  /** Sequence of its first announcement (orders settles of a txid and a wtxid entry). */
  readonly seq: number
  /** Live announcements, one per peer, in announcement order. */
  readonly anns: Announcement<P>[]
  /** The first announcer (reported even if it is gone since). */
  readonly first: P
  /** The next announcers reported (up to MAX_REPORTED_ANNOUNCERS in all); undefined while there is one. */
  others: P[] | undefined
  requested: Announcement<P> | undefined
}

interface PeerEntry<P> {
  readonly id: P
  readonly preferred: boolean
  /** Every announcement of this peer, any state, by hash key. */
  readonly anns: Map<string, Announcement<P>>
  /** Ready announcements whose hash is not requested from anyone, in the order they became ready. */
  readonly ready: Set<Announcement<P>>
  inFlight: number
  dropped: number
}

/** The policy of fetching announced transactions; see the module comment. */
export class TxRequestMachine<P> {
  private readonly maxAnnouncements: number
  private readonly maxInFlight: number
  private readonly timeoutMs: number
  private readonly overloadedDelayMs: number
  private readonly nonPreferredDelayMs: number
  private readonly rate: number
  private readonly seenCapacity: number
  private readonly random: Random
  private readonly peers = new Map<P, PeerEntry<P>>()
  private readonly txs = new Map<string, TxEntry<P>>()
  /**
   * Delayed announcements, one set per delay length: within one set,
   * insertion order is request-time order (time never goes back here).
   */
  private readonly delayed = new Map<number, Set<Announcement<P>>>()
  /** Requested announcements in send order, which is expiry order (one timeout for all). */
  private readonly requested = new Set<Announcement<P>>()
  /** LRU of seen keys: Map insertion order, re-inserted on touch. */
  private readonly seen = new Map<string, true>()
  private readonly out: TxRequestAction<P>[] = []
  private outHead = 0
  private now = -Infinity
  private seq = 0
  private tokens: number
  private refilledAt: number | undefined
  /** Requests wait for tokens (the refill is a deadline). */
  private starved = false
  private announcementCount = 0
  private droppedCount = 0

  constructor(config: TxRequestConfig, random: Random) {
    this.maxAnnouncements = config.maxAnnouncementsPerPeer ?? DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER
    this.maxInFlight = config.maxInFlightPerPeer ?? DEFAULT_MAX_IN_FLIGHT_PER_PEER
    this.timeoutMs = config.requestTimeoutMs ?? DEFAULT_TX_REQUEST_TIMEOUT_MS
    this.overloadedDelayMs = config.overloadedDelayMs ?? DEFAULT_OVERLOADED_DELAY_MS
    this.nonPreferredDelayMs = config.nonPreferredDelayMs ?? DEFAULT_NON_PREFERRED_DELAY_MS
    this.rate = config.maxTxPerSecond ?? Infinity
    this.seenCapacity = config.seenCapacity ?? DEFAULT_SEEN_CAPACITY
    this.random = random
    positive('maxAnnouncementsPerPeer', this.maxAnnouncements, 1)
    positive('maxInFlightPerPeer', this.maxInFlight, 1)
    positive('requestTimeoutMs', this.timeoutMs, 1)
    positive('overloadedDelayMs', this.overloadedDelayMs, 0)
    positive('nonPreferredDelayMs', this.nonPreferredDelayMs, 0)
    positive('seenCapacity', this.seenCapacity, 0)
    if (!(this.rate > 0)) throw new RangeError(`maxTxPerSecond must be > 0, got ${this.rate}`)
    // The bucket holds one second's worth (at least one request).
    this.tokens = this.bucketSize()
  }

  // --- inspection ------------------------------------------------------------

  /** Announcements tracked, all peers and states. */
  get size(): number {
    return this.announcementCount
  }
  /** Hashes tracked (waiting or in flight). */
  get pending(): number {
    return this.txs.size
  }
  /** Transaction items dropped because their peer was at its announcement cap, all peers, ever. */
  get dropped(): number {
    return this.droppedCount
  }
  /** Hashes remembered as seen. */
  get seenCount(): number {
    return this.seen.size
  }
  /** Peers known. */
  get peerCount(): number {
    return this.peers.size
  }
  /** Announcements tracked for `peer` (any state; at most maxAnnouncementsPerPeer). */
  announcementsOf(peer: P): number {
    return this.peers.get(peer)?.anns.size ?? 0
  }
  /** Hashes requested from `peer` and unanswered (at most maxInFlightPerPeer). */
  inFlightOf(peer: P): number {
    return this.peers.get(peer)?.inFlight ?? 0
  }
  /** Transaction items of `peer` dropped at its announcement cap. */
  droppedOf(peer: P): number {
    return this.peers.get(peer)?.dropped ?? 0
  }
  /** State of `peer`'s announcement of `hash`, if tracked. */
  stateOf(peer: P, hash: Uint8Array, byWtxid: boolean): AnnouncementState | undefined {
    return this.peers.get(peer)?.anns.get(txKey(hash, byWtxid))?.state
  }
  /** Whether a txid or wtxid was seen (does not refresh it in the LRU). */
  hasSeen(hash: Uint8Array, byWtxid: boolean): boolean {
    return this.seen.has(txKey(hash, byWtxid))
  }

  // --- outputs ---------------------------------------------------------------

  /** The next action, or undefined. */
  poll(): TxRequestAction<P> | undefined {
    if (this.outHead === this.out.length) return undefined
    const a = this.out[this.outHead]!
    this.out[this.outHead++] = undefined as never
    if (this.outHead === this.out.length) {
      this.out.length = 0
      this.outHead = 0
    }
    return a
  }

  /** Every queued action, in order. */
  drain(): TxRequestAction<P>[] {
    const all: TxRequestAction<P>[] = []
    for (let a = this.poll(); a; a = this.poll()) all.push(a)
    return all
  }

  /** The earliest deadline (call timeout() then), or undefined when nothing is timed. */
  nextDeadline(): number | undefined {
    let min = Infinity
    for (const set of this.delayed.values()) {
      const first = firstOf(set)
      if (first !== undefined && first.at < min) min = first.at
    }
    const r = firstOf(this.requested)
    if (r !== undefined && r.at < min) min = r.at
    if (this.starved && this.refilledAt !== undefined) {
      const refill = this.refilledAt + Math.ceil(((1 - this.tokens) * 1000) / this.rate)
      if (refill < min) min = refill
    }
    return min === Infinity ? undefined : min
  }

  // --- inputs ----------------------------------------------------------------

  /** A peer to track; `preferred` peers are asked first and their announcements wait no nonPreferredDelayMs. */
  addPeer(now: number, peer: P, opts: { readonly preferred: boolean }): void {
    this.advance(now)
    if (this.peers.has(peer)) return
    this.peers.set(peer, { id: peer, preferred: opts.preferred, anns: new Map(), ready: new Set(), inFlight: 0, dropped: 0 })
  }

  /**
   * `peer` announced these items (an inv). Items that are not MSG_TX or
   * MSG_WTX are skipped. Unknown peer: nothing happens.
   */
  announce(now: number, peer: P, items: readonly InvItem[]): AnnounceCounts {
    this.advance(now)
    const pe = this.peers.get(peer)
    if (!pe) return { added: 0, dropped: 0, known: 0 }
    // Core: an announcement made while the peer is overloaded waits longer.
    const delay = (pe.preferred ? 0 : this.nonPreferredDelayMs) + (pe.inFlight >= this.maxInFlight ? this.overloadedDelayMs : 0)
    let added = 0
    let dropped = 0
    let known = 0
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!
      const base = (it.type & ~MSG_WITNESS_FLAG) >>> 0
      if (base !== InvType.MSG_TX && base !== InvType.MSG_WTX) continue
      // At the cap: the rest of the message is only counted (no hashing, no allocation).
      if (pe.anns.size >= this.maxAnnouncements) {
        dropped++
        continue
      }
      const byWtxid = base === InvType.MSG_WTX
      const key = txKey(it.hash, byWtxid)
      if (this.seen.has(key) || pe.anns.has(key)) {
        known++
        continue
      }
      const tx = this.txs.get(key)
      const ann: Announcement<P> = { peer: pe, tx: tx!, seq: this.seq++, priority: this.random.u32() >>> PRIORITY_SHIFT, state: 'delayed', at: this.now + delay }
      if (!tx) {
        // Array literals: an empty array that grows by push() reserves room for 16 more.
        ann.tx = { key, byWtxid, seq: ann.seq, anns: [ann], first: peer, others: undefined, requested: undefined }
        this.txs.set(key, ann.tx)
      } else {
        tx.anns.push(ann)
        if (tx.others === undefined) tx.others = [peer]
        else if (tx.others.length < MAX_REPORTED_ANNOUNCERS - 1) tx.others.push(peer)
      }
      pe.anns.set(key, ann)
      this.announcementCount++
      added++
      if (delay === 0) this.makeReady(ann)
      else this.delayedSet(delay).add(ann)
    }
    pe.dropped += dropped
    this.droppedCount += dropped
    this.schedule()
    return { added, dropped, known }
  }

  /**
   * A transaction arrived from `peer` (requested from it or not). If its
   * txid or wtxid is tracked, both are settled and remembered as seen, and
   * the announcers are returned (first announcer first, at most
   * MAX_REPORTED_ANNOUNCERS, peers gone since included); otherwise
   * undefined: nobody announced it, or it was seen already.
   */
  received(now: number, _from: P, txid: Uint8Array, wtxid: Uint8Array): { readonly announcedBy: readonly P[] } | undefined {
    this.advance(now)
    const kt = txKey(txid, false)
    const kw = txKey(wtxid, true)
    const entries = [this.txs.get(kt), this.txs.get(kw)].filter((t): t is TxEntry<P> => t !== undefined)
    if (entries.length === 0) return undefined
    entries.sort((a, b) => a.seq - b.seq)
    const announcedBy: P[] = []
    for (const tx of entries) {
      for (const p of [tx.first, ...(tx.others ?? [])]) if (!announcedBy.includes(p)) announcedBy.push(p)
      this.forget(tx)
    }
    this.remember(kt)
    this.remember(kw)
    this.schedule()
    return { announcedBy: announcedBy.slice(0, MAX_REPORTED_ANNOUNCERS) }
  }

  /**
   * `peer` answered notfound for these items. Its announcement of each is
   * done (a requested one is reported as 'notfound'); the next announcer
   * is asked.
   */
  notFound(now: number, peer: P, items: readonly TxHash[]): void {
    this.advance(now)
    const pe = this.peers.get(peer)
    if (pe) {
      for (const it of items) {
        const ann = pe.anns.get(txKey(it.hash, it.byWtxid))
        if (!ann || ann.state === 'done') continue
        if (ann.state === 'requested') this.out.push({ type: 'notfound', peer, hash: it.hash, byWtxid: it.byWtxid })
        this.complete(ann)
      }
    }
    this.schedule()
  }

  /**
   * The getdata carrying these items failed before they were answered (the
   * driver's request stalled or was refused). Each one still requested from
   * `peer` is done, as if it expired.
   */
  requestFailed(now: number, peer: P, items: readonly TxHash[]): void {
    this.advance(now)
    const pe = this.peers.get(peer)
    if (pe) {
      for (const it of items) {
        const ann = pe.anns.get(txKey(it.hash, it.byWtxid))
        if (ann?.state !== 'requested') continue
        this.out.push({ type: 'expired', peer, hash: it.hash, byWtxid: it.byWtxid })
        this.complete(ann)
      }
    }
    this.schedule()
  }

  /** `peer` is gone: its announcements are forgotten and what it was asked for goes to the next announcer. */
  removePeer(now: number, peer: P): void {
    this.advance(now)
    const pe = this.peers.get(peer)
    if (!pe) return
    this.peers.delete(peer)
    const touched: TxEntry<P>[] = []
    for (const ann of pe.anns.values()) {
      this.unlink(ann)
      const tx = ann.tx
      const i = tx.anns.indexOf(ann)
      if (i >= 0) tx.anns.splice(i, 1)
      if (tx.requested === ann) tx.requested = undefined
      touched.push(tx)
    }
    this.announcementCount -= pe.anns.size
    pe.anns.clear()
    pe.ready.clear()
    for (const tx of touched) if (this.txs.get(tx.key) === tx) this.resolve(tx)
    this.schedule()
  }

  /** Handle whatever is due: delayed announcements become ready, requests expire, tokens refill. */
  timeout(now: number): void {
    this.advance(now)
    this.schedule()
  }

  // --- internals -------------------------------------------------------------

  /** Move time to `now` (never back) and apply what is due. */
  private advance(now: number): void {
    if (now > this.now) this.now = now
    if (this.refilledAt === undefined) this.refilledAt = this.now
    for (const set of this.delayed.values()) {
      for (let a = firstOf(set); a !== undefined && a.at <= this.now; a = firstOf(set)) {
        set.delete(a)
        this.makeReady(a)
      }
    }
    for (let a = firstOf(this.requested); a !== undefined && a.at <= this.now; a = firstOf(this.requested)) {
      this.out.push({ type: 'expired', peer: a.peer.id, hash: hashOf(a.tx.key), byWtxid: a.tx.byWtxid })
      this.complete(a)
    }
  }

  private delayedSet(delay: number): Set<Announcement<P>> {
    let set = this.delayed.get(delay)
    if (!set) this.delayed.set(delay, (set = new Set()))
    return set
  }

  /** A delayed announcement reached its request time. */
  private makeReady(ann: Announcement<P>): void {
    ann.state = 'ready'
    if (ann.tx.requested === undefined) ann.peer.ready.add(ann)
  }

  /** Take `ann` out of the delayed, ready and requested sets (and its peer's in-flight count). */
  private unlink(ann: Announcement<P>): void {
    switch (ann.state) {
      case 'delayed':
        // One set per delay length: at most four of them.
        for (const set of this.delayed.values()) if (set.delete(ann)) break
        return
      case 'ready':
        ann.peer.ready.delete(ann)
        return
      case 'requested':
        this.requested.delete(ann)
        ann.peer.inFlight--
        return
    }
  }

  /** `ann` will not deliver (notfound, expiry, failure): done, and its hash goes to the next announcer. */
  private complete(ann: Announcement<P>): void {
    this.unlink(ann)
    ann.state = 'done'
    if (ann.tx.requested === ann) ann.tx.requested = undefined
    this.resolve(ann.tx)
  }

  /**
   * After a change to `tx`'s announcements: forget it if nobody is left to
   * ask ('abandoned'); else, if it is not requested, offer it to each peer
   * whose announcement is ready.
   */
  private resolve(tx: TxEntry<P>): void {
    if (tx.requested !== undefined) return
    let live = false
    for (const a of tx.anns) {
      if (a.state === 'done') continue
      live = true
      if (a.state === 'ready') a.peer.ready.add(a)
    }
    if (live) return
    this.forget(tx)
    this.out.push({ type: 'abandoned', hash: hashOf(tx.key), byWtxid: tx.byWtxid })
  }

  /** Drop `tx` and every announcement of it. */
  private forget(tx: TxEntry<P>): void {
    this.txs.delete(tx.key)
    for (const a of tx.anns) {
      this.unlink(a)
      a.peer.anns.delete(tx.key)
      this.announcementCount--
    }
    tx.anns.length = 0
    tx.requested = undefined
  }

  /** Request what can be requested now, oldest ready first, within the limits. */
  private schedule(): void {
    this.refill()
    this.starved = false
    // Peers that could be asked something: room in flight, something ready.
    const open: PeerEntry<P>[] = []
    for (const pe of this.peers.values()) if (pe.inFlight < this.maxInFlight && pe.ready.size > 0) open.push(pe)
    if (open.length === 0) return
    const batches = new Map<PeerEntry<P>, Announcement<P>[]>()
    while (open.length > 0) {
      if (this.tokens < 1) {
        this.starved = true
        break
      }
      // The oldest ready announcement among the open peers; its hash goes to its best announcer.
      let head = firstOf(open[0]!.ready)!
      for (let i = 1; i < open.length; i++) {
        const h = firstOf(open[i]!.ready)!
        if (h.seq < head.seq) head = h
      }
      const best = this.bestFor(head.tx) ?? head
      this.assign(best)
      this.tokens -= 1
      let b = batches.get(best.peer)
      if (!b) batches.set(best.peer, (b = []))
      b.push(best)
      // Assigning took the hash out of every announcer's ready set and may have filled the peer.
      let n = 0
      for (const pe of open) if (pe.inFlight < this.maxInFlight && pe.ready.size > 0) open[n++] = pe
      open.length = n
    }
    for (const [pe, anns] of batches) {
      anns.sort((a, b) => a.seq - b.seq)
      for (let i = 0; i < anns.length; i += MAX_GETDATA_ITEMS) {
        const items = anns.slice(i, i + MAX_GETDATA_ITEMS).map((a) => ({ hash: hashOf(a.tx.key), byWtxid: a.tx.byWtxid }))
        this.out.push({ type: 'request', peer: pe.id, items })
      }
    }
  }

  /**
   * The announcement of `tx` to request: ready, its peer below the in-flight
   * cap; preferred peers first, then the lowest random priority.
   */
  private bestFor(tx: TxEntry<P>): Announcement<P> | undefined {
    let best: Announcement<P> | undefined
    for (const a of tx.anns) {
      if (a.state !== 'ready' || a.peer.inFlight >= this.maxInFlight) continue
      if (
        best === undefined ||
        (a.peer.preferred && !best.peer.preferred) ||
        (a.peer.preferred === best.peer.preferred && a.priority < best.priority)
      )
        best = a
    }
    return best
  }

  /** Request `ann` from its peer: nobody else is offered its hash meanwhile. */
  private assign(ann: Announcement<P>): void {
    const tx = ann.tx
    for (const a of tx.anns) if (a.state === 'ready') a.peer.ready.delete(a)
    ann.state = 'requested'
    ann.at = this.now + this.timeoutMs
    tx.requested = ann
    this.requested.add(ann)
    ann.peer.inFlight++
  }

  private remember(key: string): void {
    if (this.seenCapacity === 0) return
    this.seen.delete(key)
    this.seen.set(key, true)
    while (this.seen.size > this.seenCapacity) this.seen.delete(this.seen.keys().next().value!)
  }

  private bucketSize(): number {
    return Number.isFinite(this.rate) ? Math.max(1, this.rate) : Infinity
  }

  private refill(): void {
    if (!Number.isFinite(this.rate) || this.refilledAt === undefined) return
    this.tokens = Math.min(this.bucketSize(), this.tokens + ((this.now - this.refilledAt) * this.rate) / 1000)
    this.refilledAt = this.now
  }
}

/** First character of a txKey: 't' for a txid, 'w' for a wtxid. */
const TXID_KEY_PREFIX = 0x74
const WTXID_KEY_PREFIX = 0x77

/**
 * Map key of a hash: 't' (txid) or 'w' (wtxid) and the 32 bytes as
 * character codes 0-255 (a one-byte string of 33 characters: half the size
 * of hex). Only our own keys, never strings off the wire as such.
 */
export function txKey(hash: Uint8Array, byWtxid: boolean): string {
  // One flat string: 'w' + a 32-character string would be a cons string of two (about 20 bytes more).
  const codes = new Array<number>(hash.length + 1)
  codes[0] = byWtxid ? WTXID_KEY_PREFIX : TXID_KEY_PREFIX
  for (let i = 0; i < hash.length; i++) codes[i + 1] = hash[i]!
  return String.fromCharCode.apply(null, codes)
}


/** The hash bytes of a txKey. */
function hashOf(key: string): Uint8Array {
  const out = new Uint8Array(key.length - 1)
  for (let i = 1; i < key.length; i++) out[i - 1] = key.charCodeAt(i)
  return out
}

/** The first element of an insertion-ordered set. */
function firstOf<T>(set: Set<T>): T | undefined {
  for (const v of set) return v
  return undefined
}

function positive(name: string, v: number, min: number): void {
  if (!(v >= min)) throw new RangeError(`${name} must be >= ${min}, got ${v}`)
}
