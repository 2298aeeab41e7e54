/**
 * MempoolMonitor: the transactions peers announce, fetched once each.
 *
 * Protocol (BIP339):
 *  - a peer announces with `inv`: MSG_TX by txid, or MSG_WTX by wtxid when
 *    both sides negotiated wtxidrelay;
 *  - we ask with `getdata`: MSG_WITNESS_TX by txid (BIP144, so the witness
 *    comes too), or MSG_WTX by wtxid for a wtxid announcement;
 *  - the peer answers with `tx`, or `notfound` when it dropped it.
 *
 * Policy: a TxRequestMachine (tx-request.ts, after Core's
 * TxRequestTracker) decides what to ask of whom; this class is its driver.
 * It attaches to the source's peers, feeds the machine each peer's `inv`,
 * `tx` and `notfound`, the peers that come and go, and its one clock timer
 * (the machine's nextDeadline()), and carries out what the machine asks:
 * a getdata to a peer, or an event. In short:
 *  - one request per hash at a time, to the best announcer; the others are
 *    remembered and asked in turn when it answers notfound, its request
 *    expires (`requestTimeoutMs`) or fails, or it leaves;
 *  - per peer at most `maxAnnouncementsPerPeer` announcements tracked
 *    (Core's 5,000; beyond, dropped and counted, not scored: see the
 *    machine) and `maxInFlightPerPeer` unanswered (Core's 100); an
 *    announcement from a peer at that cap waits `overloadedDelayMs`, one
 *    from a non-preferred peer `nonPreferredDelayMs`;
 *  - at most `maxTxPerSecond` requests per second over all peers;
 *  - a transaction that arrives settles its txid and wtxid; both go into a
 *    bounded LRU of seen hashes, and later announcements are ignored. (A
 *    transaction announced by txid by one peer and by wtxid by another may
 *    be requested twice before it arrives: the two hashes cannot be matched
 *    without the transaction.)
 *
 * Memory is bounded per peer: maxAnnouncementsPerPeer x ANNOUNCEMENT_BYTES
 * (2.44 MiB at the defaults) plus a small constant, whatever the peer
 * sends; the seen LRU (`seenCapacity`) and each iterator's queue come on
 * top. One peer flooding announcements cannot crowd out another's.
 */
import { EventEmitter } from 'eventemitter3'
import {
  hasWitness,
  InvType,
  MSG_WITNESS_FLAG,
  txid as txidOf,
  txSize,
  txVsize,
  wtxid as wtxidOf,
  type InvItem,
  type Message,
  type Transaction,
} from '@bitp2p/wire'
import type { Peer } from '../peer.js'
import { systemRandom } from '../system-random.js'
import type { Cancel, Clock, Random } from '../../core/ports.js'
import { EventQueue } from './event-queue.js'
import { peerLabel, watchPeers, type PeerSource } from './source.js'
import { TxRequestMachine, type TxHash, type TxRequestAction } from '../../core/tx-request.js'

/** Options of a MempoolMonitor. */
export interface MempoolMonitorOptions {
  readonly source: PeerSource
  readonly clock: Clock
  /** Random tie-breaks among equally good announcers. Default systemRandom(); pass a SeededRandom in simulations. */
  readonly random?: Random
  /** Announcements tracked per peer; more are dropped and counted. Default DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER (5,000). */
  readonly maxAnnouncementsPerPeer?: number
  /** Hashes requested from one peer and unanswered. Default DEFAULT_MAX_IN_FLIGHT_PER_PEER (100). */
  readonly maxInFlightPerPeer?: number
  /** Items requested per second over all peers. Default unlimited. */
  readonly maxTxPerSecond?: number
  /** Send BIP133 feefilter (sat/kvB) to every peer on start and to each new peer. */
  readonly feeFilter?: bigint
  /** A request unanswered this long goes to the next announcer. Default DEFAULT_TX_REQUEST_TIMEOUT_MS (60 s). */
  readonly requestTimeoutMs?: number
  /** Extra wait of an announcement from a peer at its in-flight cap. Default DEFAULT_OVERLOADED_DELAY_MS (2 s). */
  readonly overloadedDelayMs?: number
  /** Wait of an announcement from a non-preferred peer. Default DEFAULT_NON_PREFERRED_DELAY_MS (2 s). */
  readonly nonPreferredDelayMs?: number
  /** Preferred peers are asked first and their announcements do not wait. Default: outbound peers (as Core). */
  readonly preferred?: (peer: Peer) => boolean
  /** Default DEFAULT_SEEN_CAPACITY. */
  readonly seenCapacity?: number
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
  /** An inv carried transaction items beyond the peer's announcement cap: `dropped` of them were ignored (`total` from that peer so far). */
  dropped: [info: { readonly peer: string; readonly dropped: number; readonly total: number }]
}

/**
 * A peer as the machine knows it: its label outlives the connection (a
 * transaction reports every announcer, gone or not), the Peer does not.
 */
interface PeerRef {
  peer: Peer | undefined
  readonly label: string
}

interface Attached {
  readonly ref: PeerRef
  readonly onInv: (m: Extract<Message, { command: 'inv' }>) => void
  readonly onTx: (m: Extract<Message, { command: 'tx' }>) => void
  readonly onNotFound: (m: Extract<Message, { command: 'notfound' }>) => void
}

/** Mempool monitor over a PeerSource; see the module comment. */
export class MempoolMonitor extends EventEmitter<MempoolMonitorEvents> implements AsyncIterable<MempoolTx> {
  private readonly source: PeerSource
  private readonly clock: Clock
  private readonly feeFilter: bigint | undefined
  private readonly requestTimeoutMs: number | undefined
  private readonly preferred: (peer: Peer) => boolean
  private readonly machine: TxRequestMachine<PeerRef>
  private readonly attached = new Map<Peer, Attached>()
  private readonly queues = new Set<EventQueue<MempoolTx>>()
  private timer: Cancel | undefined
  private timerAt: number | undefined
  private flushing = false
  private running = false
  /** Stops listening to the source; set while running. */
  private unwatch: (() => void) | undefined
  private readonly onPeer = (peer: Peer): void => this.attach(peer)
  private readonly onPeerClosed = (peer: Peer): void => this.detach(peer)

  constructor(opts: MempoolMonitorOptions) {
    super()
    this.source = opts.source
    this.clock = opts.clock
    this.feeFilter = opts.feeFilter
    this.requestTimeoutMs = opts.requestTimeoutMs
    this.preferred = opts.preferred ?? ((p) => p.direction === 'outbound')
    // Throws RangeError on a bad limit.
    this.machine = new TxRequestMachine<PeerRef>(
      {
        maxAnnouncementsPerPeer: opts.maxAnnouncementsPerPeer,
        maxInFlightPerPeer: opts.maxInFlightPerPeer,
        requestTimeoutMs: opts.requestTimeoutMs,
        overloadedDelayMs: opts.overloadedDelayMs,
        nonPreferredDelayMs: opts.nonPreferredDelayMs,
        maxTxPerSecond: opts.maxTxPerSecond,
        seenCapacity: opts.seenCapacity,
      },
      opts.random ?? systemRandom(),
    )
  }

  /** Hashes waiting or in flight. */
  get pending(): number {
    return this.machine.pending
  }
  /** Announcements tracked over all peers (at most peers x maxAnnouncementsPerPeer). */
  get announcements(): number {
    return this.machine.size
  }
  /** Hashes remembered as seen. */
  get seenCount(): number {
    return this.machine.seenCount
  }
  /** Transaction announcements dropped because their peer was at maxAnnouncementsPerPeer, all peers. */
  get ignoredAnnouncements(): number {
    return this.machine.dropped
  }
  /** Items requested from `peer` and not yet answered. */
  inFlightTo(peer: Peer): number {
    const a = this.attached.get(peer)
    return a ? this.machine.inFlightOf(a.ref) : 0
  }
  /** Announcements tracked for `peer` (at most maxAnnouncementsPerPeer). */
  announcementsOf(peer: Peer): number {
    const a = this.attached.get(peer)
    return a ? this.machine.announcementsOf(a.ref) : 0
  }
  /** Transaction announcements of `peer` dropped at its cap, while attached. */
  droppedFrom(peer: Peer): number {
    const a = this.attached.get(peer)
    return a ? this.machine.droppedOf(a.ref) : 0
  }

  /** Attach to the source's peers (sending feefilter if set). Idempotent. */
  start(): this {
    if (this.running) return this
    this.running = true
    this.unwatch = watchPeers(this.source, this.onPeer, this.onPeerClosed)
    return this
  }

  /** Detach, forget what is pending (no events) and end every iterator. Seen hashes are kept. */
  stop(): void {
    if (!this.running) return
    this.running = false
    this.unwatch?.()
    this.unwatch = undefined
    for (const p of [...this.attached.keys()]) this.detach(p)
    this.machine.drain()
    this.timer?.()
    this.timer = undefined
    this.timerAt = undefined
    for (const q of [...this.queues]) q.close()
  }

  /** Whether a txid or wtxid was seen (does not refresh it in the LRU). */
  hasSeen(hash: Uint8Array, byWtxid = false): boolean {
    return this.machine.hasSeen(hash, byWtxid)
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
    const ref: PeerRef = { peer, label: peerLabel(peer) }
    const a: Attached = {
      ref,
      onInv: (m) => this.onInv(ref, m.items),
      onTx: (m) => this.onTx(ref, m.tx),
      onNotFound: (m) => this.onNotFound(ref, m.items),
    }
    this.attached.set(peer, a)
    this.machine.addPeer(this.clock.now(), ref, { preferred: this.preferred(peer) })
    peer.on('inv', a.onInv)
    peer.on('tx', a.onTx)
    peer.on('notfound', a.onNotFound)
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
    peer.off('notfound', a.onNotFound)
    a.ref.peer = undefined
    this.machine.removePeer(this.clock.now(), a.ref)
    this.flush()
  }

  // --- inputs --------------------------------------------------------------

  private onInv(ref: PeerRef, items: readonly InvItem[]): void {
    const r = this.machine.announce(this.clock.now(), ref, items)
    if (r.dropped > 0) this.emit('dropped', { peer: ref.label, dropped: r.dropped, total: this.machine.droppedOf(ref) })
    this.flush()
  }

  private onNotFound(ref: PeerRef, items: readonly InvItem[]): void {
    const hashes: TxHash[] = []
    for (const it of items) {
      const base = (it.type & ~MSG_WITNESS_FLAG) >>> 0
      if (base === InvType.MSG_TX || base === InvType.MSG_WTX) hashes.push({ hash: it.hash, byWtxid: base === InvType.MSG_WTX })
    }
    if (hashes.length === 0) return
    this.machine.notFound(this.clock.now(), ref, hashes)
    this.flush()
  }

  private onTx(ref: PeerRef, tx: Transaction): void {
    const id = txidOf(tx)
    const wid = hasWitness(tx) ? wtxidOf(tx) : id
    const r = this.machine.received(this.clock.now(), ref, id, wid)
    // Not wanted: a duplicate, or a transaction nobody announced (the Peer scores one nobody asked for).
    if (r) {
      const labels = r.announcedBy.map((p) => p.label)
      const item: MempoolTx = {
        tx,
        txid: id,
        wtxid: wid,
        size: txSize(tx),
        vsize: txVsize(tx),
        announcedBy: labels,
        firstSeenBy: labels[0] ?? ref.label,
        receivedFrom: ref.label,
      }
      this.emit('tx', item)
      for (const q of this.queues) q.push(item)
    }
    this.flush()
  }

  // --- outputs -------------------------------------------------------------

  /** Carry out what the machine decided, then re-arm the timer. Re-entrant calls return at once. */
  private flush(): void {
    if (!this.running || this.flushing) return
    this.flushing = true
    try {
      for (let a = this.machine.poll(); a; a = this.machine.poll()) this.act(a)
    } finally {
      this.flushing = false
    }
    this.arm()
  }

  private act(a: TxRequestAction<PeerRef>): void {
    switch (a.type) {
      case 'request':
        return this.request(a.peer, a.items)
      case 'notfound':
        this.emit('notfound', { hash: a.hash, byWtxid: a.byWtxid, peer: a.peer.label })
        return
      case 'abandoned':
        this.emit('abandoned', { hash: a.hash, byWtxid: a.byWtxid })
        return
      case 'expired':
        // The next announcer is already asked; the Peer's own deadline decides about the connection.
        return
    }
  }

  private request(ref: PeerRef, hashes: readonly TxHash[]): void {
    const peer = ref.peer
    const items: InvItem[] = hashes.map((h) => ({ type: h.byWtxid ? InvType.MSG_WTX : InvType.MSG_WITNESS_TX, hash: h.hash }))
    const failed = (): void => {
      this.machine.requestFailed(this.clock.now(), ref, hashes)
      this.flush()
    }
    if (!peer) return failed()
    let p: ReturnType<Peer['getData']>
    try {
      p = peer.getData(items, { timeoutMs: this.requestTimeoutMs })
    } catch {
      // Closed meanwhile ('peer-closed' detaches it): the machine hands the hashes on.
      return failed()
    }
    // Answers arrive as 'tx' and 'notfound' events; a stalled or closed request fails what is left of it.
    p.then(() => undefined, failed)
  }

  /** Keep exactly one clock timer, at the machine's next deadline. */
  private arm(): void {
    const at = this.running ? this.machine.nextDeadline() : undefined
    if (at === this.timerAt) return
    this.timer?.()
    this.timer = undefined
    this.timerAt = at
    if (at === undefined) return
    this.timer = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => {
      this.timer = undefined
      this.timerAt = undefined
      this.machine.timeout(this.clock.now())
      this.flush()
    })
  }
}
