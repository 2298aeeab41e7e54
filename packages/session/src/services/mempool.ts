/**
 * MempoolMonitor: the transactions peers announce, fetched once each.
 *
 * Protocol (Core's TxRequestTracker, BIP339):
 *  - a peer announces with `inv`: MSG_TX by txid, or MSG_WTX by wtxid when
 *    both sides negotiated wtxidrelay;
 *  - we ask with `getdata`: MSG_WITNESS_TX by txid (BIP144, so the witness
 *    comes too), or MSG_WTX by wtxid for a wtxid announcement;
 *  - the peer answers with `tx`, or `notfound` when it dropped it.
 *
 * Dedupe: one request per announced hash at a time, to the first
 * announcer; later announcers are remembered (at most
 * MAX_ANNOUNCERS_PER_TX) and asked in turn if the first one answers
 * notfound, stalls or disconnects. Once a transaction arrives its txid and
 * wtxid go into a bounded LRU of seen hashes, and later announcements of
 * either are ignored. (A transaction announced by txid by one peer and by
 * wtxid by another may be requested twice before it arrives: the two
 * hashes cannot be matched without the transaction.)
 *
 * Rate limits: at most `maxInFlightPerPeer` items requested from one peer
 * at a time (Core's MAX_PEER_TX_REQUEST_IN_FLIGHT, 100), and at most
 * `maxTxPerSecond` items requested per second over all peers (a token
 * bucket holding one second's worth). What cannot be requested yet waits,
 * in announcement order.
 *
 * Memory is bounded: seen hashes (LRU, `seenCapacity`), hashes waiting or
 * in flight (`maxPending`; further announcements are counted in
 * `ignoredAnnouncements`), and each iterator's queue.
 */
import { EventEmitter } from 'eventemitter3'
import {
  hasWitness,
  InvType,
  MSG_WITNESS_FLAG,
  toHex,
  txid as txidOf,
  txSize,
  txVsize,
  wtxid as wtxidOf,
  type InvItem,
  type Message,
  type Transaction,
} from '@bitp2p/wire'
import type { Peer } from '../peer.js'
import type { Cancel, Clock } from '../transport.js'
import { EventQueue } from './event-queue.js'
import { peerLabel, watchPeers, type PeerSource } from './source.js'

/** Core's MAX_PEER_TX_REQUEST_IN_FLIGHT: items requested from one peer and not yet answered. */
export const DEFAULT_MAX_IN_FLIGHT_PER_PEER = 100
/** Core's GETDATA_TX_INTERVAL: a peer that has not answered in this long is asked no more. */
export const DEFAULT_TX_REQUEST_TIMEOUT_MS = 60_000
/** Default txids/wtxids remembered as seen. */
export const DEFAULT_SEEN_CAPACITY = 100_000
/** Default hashes waiting or in flight; Core's MAX_PEER_TX_ANNOUNCEMENTS is 5000 per peer. */
export const DEFAULT_MAX_PENDING = 50_000
/** Announcers remembered per hash: enough fallbacks, bounded. */
export const MAX_ANNOUNCERS_PER_TX = 16

/** Options of a MempoolMonitor. */
export interface MempoolMonitorOptions {
  readonly source: PeerSource
  readonly clock: Clock
  /** Default DEFAULT_MAX_IN_FLIGHT_PER_PEER. */
  readonly maxInFlightPerPeer?: number
  /** Items requested per second over all peers. Default unlimited. */
  readonly maxTxPerSecond?: number
  /** Send BIP133 feefilter (sat/kvB) to every peer on start and to each new peer. */
  readonly feeFilter?: bigint
  /** Deadline of a getdata without progress. Default DEFAULT_TX_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number
  /** Default DEFAULT_SEEN_CAPACITY. */
  readonly seenCapacity?: number
  /** Default DEFAULT_MAX_PENDING. */
  readonly maxPending?: number
}

/** A transaction as the monitor reports it. */
export interface MempoolTx {
  readonly tx: Transaction
  readonly txid: Uint8Array
  readonly wtxid: Uint8Array
  /** Serialized bytes (with witness). */
  readonly size: number
  /** BIP141 virtual size. */
  readonly vsize: number
  /** "host:port" of every peer that announced it before it arrived, first announcer first. */
  readonly announcedBy: readonly string[]
  /** The first announcer. */
  readonly firstSeenBy: string
  /** The peer that delivered it. */
  readonly receivedFrom: string
}

/** Events of a MempoolMonitor. */
export interface MempoolMonitorEvents {
  tx: [tx: MempoolTx]
  /** A peer answered notfound for a hash it announced. */
  notfound: [info: { readonly hash: Uint8Array; readonly byWtxid: boolean; readonly peer: string }]
  /** No announcer is left to ask for this hash; it is forgotten. */
  abandoned: [info: { readonly hash: Uint8Array; readonly byWtxid: boolean }]
}

/** One announced hash we want. */
interface Want {
  readonly key: string
  readonly hash: Uint8Array
  readonly byWtxid: boolean
  readonly seq: number
  /** Peers that announced it and may still be asked, in order. */
  readonly announcers: Peer[]
  /** Labels of every announcer (closed ones too). */
  readonly labels: string[]
  /** Peers already asked (answered notfound, stalled, or left). */
  readonly tried: Set<Peer>
  requestedFrom: Peer | undefined
}

interface Attached {
  readonly onInv: (m: Extract<Message, { command: 'inv' }>) => void
  readonly onTx: (m: Extract<Message, { command: 'tx' }>) => void
}

/** Mempool monitor over a PeerSource; see the module comment. */
export class MempoolMonitor extends EventEmitter<MempoolMonitorEvents> implements AsyncIterable<MempoolTx> {
  private readonly source: PeerSource
  private readonly clock: Clock
  private readonly maxInFlightPerPeer: number
  private readonly maxTxPerSecond: number
  private readonly feeFilter: bigint | undefined
  private readonly requestTimeoutMs: number
  private readonly seenCapacity: number
  private readonly maxPending: number
  private readonly wanted = new Map<string, Want>()
  private queue: Want[] = []
  private readonly inFlight = new Map<Peer, number>()
  /** LRU of seen keys: Map insertion order, re-inserted on touch. */
  private readonly seen = new Map<string, true>()
  private readonly attached = new Map<Peer, Attached>()
  private readonly queues = new Set<EventQueue<MempoolTx>>()
  private tokens: number
  private refilledAt = 0
  private tokenTimer: Cancel | undefined
  private seq = 0
  private running = false
  private ignored = 0
  /** Stops listening to the source; set while running. */
  private unwatch: (() => void) | undefined
  private readonly onPeer = (peer: Peer): void => this.attach(peer)
  private readonly onPeerClosed = (peer: Peer): void => {
    this.detach(peer)
    this.pump()
  }

  constructor(opts: MempoolMonitorOptions) {
    super()
    this.source = opts.source
    this.clock = opts.clock
    this.maxInFlightPerPeer = opts.maxInFlightPerPeer ?? DEFAULT_MAX_IN_FLIGHT_PER_PEER
    this.maxTxPerSecond = opts.maxTxPerSecond ?? Infinity
    this.feeFilter = opts.feeFilter
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_TX_REQUEST_TIMEOUT_MS
    this.seenCapacity = opts.seenCapacity ?? DEFAULT_SEEN_CAPACITY
    this.maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING
    if (!(this.maxTxPerSecond > 0)) throw new RangeError(`maxTxPerSecond must be > 0, got ${this.maxTxPerSecond}`)
    if (!(this.maxInFlightPerPeer >= 1)) throw new RangeError(`maxInFlightPerPeer must be >= 1, got ${this.maxInFlightPerPeer}`)
    // The bucket holds one second's worth (at least one request).
    this.tokens = this.bucketSize()
  }

  /** Hashes waiting or in flight. */
  get pending(): number {
    return this.wanted.size
  }
  /** Hashes remembered as seen. */
  get seenCount(): number {
    return this.seen.size
  }
  /** Announcements ignored because maxPending was reached. */
  get ignoredAnnouncements(): number {
    return this.ignored
  }
  /** Items requested from `peer` and not yet answered. */
  inFlightTo(peer: Peer): number {
    return this.inFlight.get(peer) ?? 0
  }

  /** Attach to the source's peers (sending feefilter if set). Idempotent. */
  start(): this {
    if (this.running) return this
    this.running = true
    this.refilledAt = this.clock.now()
    this.unwatch = watchPeers(this.source, this.onPeer, this.onPeerClosed)
    return this
  }

  /** Detach, forget what is pending and end every iterator. */
  stop(): void {
    if (!this.running) return
    this.running = false
    this.unwatch?.()
    this.unwatch = undefined
    for (const p of [...this.attached.keys()]) this.detach(p)
    this.wanted.clear()
    this.queue = []
    this.inFlight.clear()
    this.tokenTimer?.()
    this.tokenTimer = undefined
    for (const q of [...this.queues]) q.close()
  }

  /** Whether a txid or wtxid was seen (does not refresh it in the LRU). */
  hasSeen(hash: Uint8Array, byWtxid = false): boolean {
    return this.seen.has(keyOf(hash, byWtxid))
  }

  /**
   * An async iterator over the transactions from now on. Ends on `signal`,
   * on stop(), or when the loop breaks; at most `limit` transactions wait
   * in it (more are dropped and counted on the iterator).
   */
  stream(opts: { readonly signal?: AbortSignal; readonly limit?: number } = {}): EventQueue<MempoolTx> {
    const q: EventQueue<MempoolTx> = new EventQueue<MempoolTx>({ ...opts, onEnd: () => this.queues.delete(q) })
    if (!q.closed) this.queues.add(q)
    return q
  }

  /** `for await (const tx of monitor)`: a fresh `stream()` with the default limit and no signal. */
  [Symbol.asyncIterator](): AsyncIterator<MempoolTx> {
    return this.stream()
  }

  // --- peers ---------------------------------------------------------------

  private attach(peer: Peer): void {
    if (!this.running || this.attached.has(peer)) return
    const a: Attached = {
      onInv: (m) => this.onInv(peer, m.items),
      onTx: (m) => this.onTx(peer, m.tx),
    }
    this.attached.set(peer, a)
    peer.on('inv', a.onInv)
    peer.on('tx', a.onTx)
    if (this.feeFilter !== undefined) {
      try {
        peer.send({ command: 'feefilter', feerate: this.feeFilter })
      } catch {
        // Closed meanwhile: 'peer-closed' detaches it.
      }
    }
  }

  private detach(peer: Peer): void {
    const a = this.attached.get(peer)
    if (!a) return
    this.attached.delete(peer)
    peer.off('inv', a.onInv)
    peer.off('tx', a.onTx)
    for (const w of this.wanted.values()) {
      const i = w.announcers.indexOf(peer)
      if (i >= 0) w.announcers.splice(i, 1)
      if (w.requestedFrom === peer) this.unassign(w, peer)
    }
    this.inFlight.delete(peer)
  }

  // --- inputs --------------------------------------------------------------

  private onInv(peer: Peer, items: readonly InvItem[]): void {
    let added = false
    for (const it of items) {
      const base = (it.type & ~MSG_WITNESS_FLAG) >>> 0
      if (base !== InvType.MSG_TX && base !== InvType.MSG_WTX) continue
      const byWtxid = base === InvType.MSG_WTX
      const key = keyOf(it.hash, byWtxid)
      if (this.seen.has(key)) continue
      const known = this.wanted.get(key)
      if (known) {
        if (!known.labels.includes(peerLabel(peer)) && known.labels.length < MAX_ANNOUNCERS_PER_TX) known.labels.push(peerLabel(peer))
        if (!known.announcers.includes(peer) && !known.tried.has(peer) && known.announcers.length < MAX_ANNOUNCERS_PER_TX) {
          known.announcers.push(peer)
          if (!known.requestedFrom) added = true
        }
        continue
      }
      if (this.wanted.size >= this.maxPending) {
        this.ignored++
        continue
      }
      const w: Want = {
        key,
        hash: it.hash.slice(),
        byWtxid,
        seq: this.seq++,
        announcers: [peer],
        labels: [peerLabel(peer)],
        tried: new Set(),
        requestedFrom: undefined,
      }
      this.wanted.set(key, w)
      this.queue.push(w)
      added = true
    }
    if (added) this.pump()
  }

  private onTx(peer: Peer, tx: Transaction): void {
    const id = txidOf(tx)
    const wid = hasWitness(tx) ? wtxidOf(tx) : id
    const kt = keyOf(id, false)
    const kw = keyOf(wid, true)
    const wants = [this.wanted.get(kt), this.wanted.get(kw)].filter((w): w is Want => w !== undefined)
    // Not wanted: a duplicate, or a transaction nobody asked for (the Peer scores that).
    if (wants.length === 0) return
    wants.sort((a, b) => a.seq - b.seq)
    const labels: string[] = []
    for (const w of wants) {
      this.settle(w)
      for (const l of w.labels) if (!labels.includes(l)) labels.push(l)
    }
    this.remember(kt)
    this.remember(kw)
    const item: MempoolTx = {
      tx,
      txid: id,
      wtxid: wid,
      size: txSize(tx),
      vsize: txVsize(tx),
      announcedBy: labels,
      firstSeenBy: labels[0]!,
      receivedFrom: peerLabel(peer),
    }
    this.emit('tx', item)
    for (const q of this.queues) q.push(item)
    this.pump()
  }

  // --- requests ------------------------------------------------------------

  /** Request what can be requested now, in announcement order, within the limits. */
  private pump(): void {
    if (!this.running) return
    this.refill()
    const batches = new Map<Peer, Want[]>()
    const keep: Want[] = []
    let i = 0
    for (; i < this.queue.length; i++) {
      if (this.tokens < 1) break
      const w = this.queue[i]!
      if (this.wanted.get(w.key) !== w || w.requestedFrom) continue
      const peer = w.announcers.find((p) => !w.tried.has(p) && this.inFlightTo(p) < this.maxInFlightPerPeer)
      if (!peer) {
        if (w.announcers.every((p) => w.tried.has(p))) this.abandon(w)
        else keep.push(w)
        continue
      }
      this.tokens -= 1
      w.requestedFrom = peer
      this.inFlight.set(peer, this.inFlightTo(peer) + 1)
      let b = batches.get(peer)
      if (!b) batches.set(peer, (b = []))
      b.push(w)
    }
    this.queue = i < this.queue.length ? keep.concat(this.queue.slice(i)) : keep
    for (const [peer, ws] of batches) this.request(peer, ws)
    if (this.tokens < 1 && this.queue.length > 0) this.armTokenTimer()
  }

  private request(peer: Peer, ws: readonly Want[]): void {
    const items: InvItem[] = ws.map((w) => ({ type: w.byWtxid ? InvType.MSG_WTX : InvType.MSG_WITNESS_TX, hash: w.hash }))
    let p: ReturnType<Peer['getData']>
    try {
      p = peer.getData(items, { timeoutMs: this.requestTimeoutMs })
    } catch {
      for (const w of ws) this.unassign(w, peer)
      return
    }
    p.then(
      (r) => {
        for (const it of r.notFound) {
          const byWtxid = (it.type >>> 0) === InvType.MSG_WTX
          const w = this.wanted.get(keyOf(it.hash, byWtxid))
          if (!w || w.requestedFrom !== peer) continue
          this.emit('notfound', { hash: w.hash, byWtxid, peer: peerLabel(peer) })
          this.unassign(w, peer)
        }
        this.pump()
      },
      () => {
        // Stalled or closed: give the rest to other announcers.
        for (const w of ws) if (this.wanted.get(w.key) === w && w.requestedFrom === peer) this.unassign(w, peer)
        this.pump()
      },
    )
  }

  /** `peer` will not deliver `w`: try the next announcer. */
  private unassign(w: Want, peer: Peer): void {
    if (w.requestedFrom === peer) {
      w.requestedFrom = undefined
      const n = this.inFlightTo(peer) - 1
      if (n > 0) this.inFlight.set(peer, n)
      else this.inFlight.delete(peer)
    }
    w.tried.add(peer)
    if (this.wanted.get(w.key) === w) this.queue.push(w)
  }

  /** `w` arrived: forget it. */
  private settle(w: Want): void {
    this.wanted.delete(w.key)
    const peer = w.requestedFrom
    if (!peer) return
    w.requestedFrom = undefined
    const n = this.inFlightTo(peer) - 1
    if (n > 0) this.inFlight.set(peer, n)
    else this.inFlight.delete(peer)
  }

  private abandon(w: Want): void {
    this.wanted.delete(w.key)
    this.emit('abandoned', { hash: w.hash, byWtxid: w.byWtxid })
  }

  private remember(key: string): void {
    this.seen.delete(key)
    this.seen.set(key, true)
    while (this.seen.size > this.seenCapacity) this.seen.delete(this.seen.keys().next().value!)
  }

  // --- rate limit ----------------------------------------------------------

  private bucketSize(): number {
    return Number.isFinite(this.maxTxPerSecond) ? Math.max(1, this.maxTxPerSecond) : Infinity
  }

  private refill(): void {
    if (!Number.isFinite(this.maxTxPerSecond)) return
    const now = this.clock.now()
    this.tokens = Math.min(this.bucketSize(), this.tokens + ((now - this.refilledAt) * this.maxTxPerSecond) / 1000)
    this.refilledAt = now
  }

  private armTokenTimer(): void {
    if (this.tokenTimer) return
    const ms = Math.ceil(((1 - this.tokens) * 1000) / this.maxTxPerSecond)
    this.tokenTimer = this.clock.setTimer(Math.max(1, ms), () => {
      this.tokenTimer = undefined
      this.pump()
    })
  }
}

/** Map key of a hash: 't' + hex for txids, 'w' + hex for wtxids (our own hashes, never strings off the wire). */
function keyOf(hash: Uint8Array, byWtxid: boolean): string {
  return (byWtxid ? 'w' : 't') + toHex(hash)
}
