/**
 * CompactRelay: receive new blocks as BIP152 compact blocks and rebuild them
 * from the transactions already relayed to us.
 *
 * The policy is the CompactBlockMachine (core/compact-block.ts): short-id
 * match against the held transactions, getblocktxn for the missing ones,
 * the full block as the fallback, offenses only for what is provably wrong.
 * This class is its driver:
 *  - negotiation: to each peer it sends `sendcmpct(announce, version)`:
 *    announce = `highBandwidth` (true: the peer pushes cmpctblock for new
 *    blocks unasked; false: it announces them and we ask), version 2
 *    (wtxid short ids, transactions with witness) when the peer offers
 *    NODE_WITNESS, else 1. One sendcmpct per peer: bcoin honours only the
 *    first one it receives. (Leave the Peer's own `compactBlocks` option
 *    unset, or the handshake sends one first.)
 *  - announcements: in either mode, a block announced with `inv`
 *    (MSG_BLOCK) or unsolicited `headers` is asked for as a cmpctblock
 *    (getdata MSG_CMPCT_BLOCK) when `requestAnnounced` (default true);
 *  - candidates: a CompactTxPool fed by the MempoolMonitor's 'tx' events
 *    (`mempool`) and by `addTx`; the transactions of each delivered block
 *    leave it;
 *  - extra transactions (the machine's ring of `maxExtraTxs`, default
 *    DEFAULT_COMPACT_EXTRA_TXS = 100, matched beside the candidates): the
 *    blocktxn transactions of failed attempts (the machine keeps those
 *    itself) and whatever the application reports with
 *    `addExtraTransaction` (transactions it rejected, replaced or holds as
 *    orphans). The MempoolMonitor validates nothing, so every transaction
 *    it reports is a candidate already: it has no rejected ones to give;
 *  - parallel attempts: in high-bandwidth mode up to `maxPeersPerBlock`
 *    (3) peers push the same block; each cmpctblock is an attempt of its
 *    own, the first to complete delivers, the full block is asked for once
 *    when all fail (see CompactBlockMachine). A peer that leaves takes its
 *    attempts with it;
 *  - outputs: getblocktxn through Peer.send, block requests through
 *    Peer.getData (so a full-block answer is matched, not unsolicited),
 *    offenses through the source (`drop` for those scored 100, Peer.punish
 *    for the others), events for the rest;
 *  - time: one clock timer at the machine's nextDeadline().
 *
 * Every block the relay takes on ends in one 'block' or one 'failed' event.
 * Blocks come out checked against their header (merkle root, witness
 * commitment), not validated against the chain: the caller's header sync
 * decides whether a block extends the best chain.
 *
 * Peers must not stream blocks (`streamBlocks`): a streamed full block
 * carries no decoded block, and its rebuild fails 'peer-gone'.
 */
import { EventEmitter } from 'eventemitter3'
import {
  blockHash,
  blockTxids,
  hasWitness,
  InvType,
  MSG_WITNESS_FLAG,
  Services,
  txid as txidOf,
  wtxid as wtxidOf,
  type Block,
  type BlockHeader,
  type InvItem,
  type Message,
  type Transaction,
} from '@bitp2p/wire'
import {
  CompactBlockMachine,
  CompactTxPool,
  type CompactAction,
  type CompactFailureReason,
  type CompactFallbackReason,
  type CompactVersion,
  type ReconstructionKind,
  type ReconstructionStats,
} from '../../core/compact-block.js'
import type { Offense } from '../../core/fsm/misbehavior.js'
import type { Cancel, Clock } from '../../core/ports.js'
import { RequestError, type Peer } from '../peer.js'
import type { MempoolMonitor, MempoolTx } from './mempool.js'
import { peerLabel, watchPeers, type PeerSource, type ServiceOffense } from './source.js'

/** Options of a CompactRelay. */
export interface CompactRelayOptions {
  readonly source: PeerSource
  readonly clock: Clock
  /** Feed every transaction the monitor reports into the candidates. */
  readonly mempool?: MempoolMonitor
  /** When it has a powLimit, a cmpctblock's header must meet its own target (else 'invalid-header'). */
  readonly network?: { readonly powLimit?: bigint }
  /** Ask peers to push cmpctblock unasked (sendcmpct announce = 1). Default false (low-bandwidth). */
  readonly highBandwidth?: boolean
  /** Send sendcmpct to each peer. Default true. */
  readonly negotiate?: boolean
  /** Ask for the cmpctblock of blocks announced by inv or unsolicited headers. Default true. */
  readonly requestAnnounced?: boolean
  /** See CompactBlockConfig. */
  readonly maxBlocksInFlight?: number
  /** See CompactBlockConfig. */
  readonly maxBlocksPerPeer?: number
  /** See CompactBlockConfig. */
  readonly cmpctTimeoutMs?: number
  /** See CompactBlockConfig. */
  readonly blocktxnTimeoutMs?: number
  /** See CompactBlockConfig. */
  readonly blockTimeoutMs?: number
  /** See CompactBlockConfig. */
  readonly maxPeersPerBlock?: number
  /** See CompactBlockConfig. */
  readonly maxAttemptsInFlight?: number
  /** Extra transactions kept for reconstruction (CompactBlockConfig.extraTxs). Default DEFAULT_COMPACT_EXTRA_TXS (100); 0 keeps none. */
  readonly maxExtraTxs?: number
  /** Candidates held. Default DEFAULT_COMPACT_POOL_TXS. */
  readonly maxPoolTxs?: number
  /** Candidate bytes held. Default DEFAULT_COMPACT_POOL_BYTES. */
  readonly maxPoolBytes?: number
}

/** A block the relay delivered. */
export interface CompactBlockEvent {
  readonly hash: Uint8Array
  readonly header: BlockHeader
  readonly block: Block
  /** "host:port" of the peer that sent it. */
  readonly peer: string
  /** From candidates alone, with a getblocktxn, or the full block. */
  readonly how: ReconstructionKind
  /** Why the full block was needed (how = 'full' after a failed reconstruction). */
  readonly fallback: CompactFallbackReason | undefined
  /** The sendcmpct version spoken with that peer. */
  readonly version: CompactVersion
  readonly stats: ReconstructionStats
}

/** Events of a CompactRelay. */
export interface CompactRelayEvents {
  block: [event: CompactBlockEvent]
  /** One peer's attempt at a block failed while other peers' attempts go on (no fallback yet, nobody scored for it). */
  'attempt-failed': [info: { readonly hash: Uint8Array; readonly peer: string; readonly reason: CompactFallbackReason | CompactFailureReason }]
  /** Every attempt at a block failed; the full block is asked for (once) from `peer`. */
  fallback: [info: { readonly hash: Uint8Array; readonly peer: string; readonly reason: CompactFallbackReason }]
  /** A block the relay took on ended without one. */
  failed: [info: { readonly hash: Uint8Array; readonly peer: string; readonly reason: CompactFailureReason }]
  /** A peer was reported for what it sent. */
  offense: [info: { readonly peer: string; readonly offense: Offense }]
}

interface PeerRef {
  readonly peer: Peer
  readonly label: string
  readonly version: CompactVersion
  readonly listeners: {
    readonly cmpctblock: (m: Extract<Message, { command: 'cmpctblock' }>) => void
    readonly blocktxn: (m: Extract<Message, { command: 'blocktxn' }>) => void
    readonly inv: (m: Extract<Message, { command: 'inv' }>) => void
    readonly unsolicited: (m: Message) => void
  }
}

/** The compact-block relay over a PeerSource; see the module comment. */
export class CompactRelay extends EventEmitter<CompactRelayEvents> {
  private readonly source: PeerSource
  private readonly clock: Clock
  private readonly mempool: MempoolMonitor | undefined
  private readonly highBandwidth: boolean
  private readonly negotiate: boolean
  private readonly requestAnnounced: boolean
  private readonly blockTimeoutMs: number | undefined
  private readonly machine: CompactBlockMachine<PeerRef>
  private readonly pool: CompactTxPool
  private readonly refs = new Map<Peer, PeerRef>()
  private running = false
  private unwatch: (() => void) | undefined
  private flushing = false
  private stopping = false
  private timer: Cancel | undefined
  private timerAt: number | undefined
  private readonly onTx = (t: MempoolTx): void => this.pool.add({ tx: t.tx, txid: t.txid, wtxid: t.wtxid })

  constructor(opts: CompactRelayOptions) {
    super()
    this.source = opts.source
    this.clock = opts.clock
    this.mempool = opts.mempool
    this.highBandwidth = opts.highBandwidth ?? false
    this.negotiate = opts.negotiate ?? true
    this.requestAnnounced = opts.requestAnnounced ?? true
    this.blockTimeoutMs = opts.blockTimeoutMs
    // Both throw RangeError on a bad limit.
    this.machine = new CompactBlockMachine<PeerRef>({
      maxBlocksInFlight: opts.maxBlocksInFlight,
      maxBlocksPerPeer: opts.maxBlocksPerPeer,
      cmpctTimeoutMs: opts.cmpctTimeoutMs,
      blocktxnTimeoutMs: opts.blocktxnTimeoutMs,
      blockTimeoutMs: opts.blockTimeoutMs,
      maxPeersPerBlock: opts.maxPeersPerBlock,
      maxAttemptsInFlight: opts.maxAttemptsInFlight,
      extraTxs: opts.maxExtraTxs,
      powLimit: opts.network?.powLimit,
    })
    this.pool = new CompactTxPool({ maxTxs: opts.maxPoolTxs, maxBytes: opts.maxPoolBytes })
  }

  /** Candidate transactions held. */
  get poolSize(): number {
    return this.pool.size
  }

  /** Blocks being rebuilt. */
  get inFlight(): number {
    return this.machine.inFlight
  }

  /** Whether a transaction of this txid is among the candidates. */
  hasTx(txid: Uint8Array): boolean {
    return this.pool.has(txid)
  }

  /** Add a transaction to the candidates (e.g. one we broadcast ourselves). */
  addTx(tx: Transaction): void {
    const id = txidOf(tx)
    this.pool.add({ tx, txid: id, wtxid: hasWitness(tx) ? wtxidOf(tx) : id })
  }

  /**
   * Keep a transaction seen but not in the mempool (one the application
   * rejected, one replaced by a fee bump, an orphan) for reconstruction, as
   * Core's extra transactions: a block may still hold it. It goes into a
   * bounded ring (`maxExtraTxs`, the oldest leaves first) matched beside the
   * candidates; one already held is not added twice. Use `addTx` for a
   * transaction that belongs in the mempool view.
   */
  addExtraTransaction(tx: Transaction): void {
    const id = txidOf(tx)
    this.machine.addExtraTransaction({ tx, txid: id, wtxid: hasWitness(tx) ? wtxidOf(tx) : id })
  }

  /** Extra transactions held (at most `maxExtraTxs`). */
  get extraSize(): number {
    return this.machine.extraSize
  }

  /** Attach to the source's peers (sending sendcmpct) and to the mempool monitor. Idempotent. */
  start(): this {
    if (this.running) return this
    this.running = true
    this.mempool?.on('tx', this.onTx)
    this.unwatch = watchPeers(
      this.source,
      (p) => this.attach(p),
      (p) => this.detach(p),
    )
    return this
  }

  /**
   * Detach from everything. Each block being rebuilt ends with a 'failed'
   * event ('peer-gone'); the candidates are kept.
   */
  stop(): void {
    if (!this.running) return
    this.mempool?.off('tx', this.onTx)
    this.unwatch?.()
    this.unwatch = undefined
    // Peers leave one by one: a block whose attempt leaves first would fall back to a peer that leaves next.
    // While stopping nothing is sent and only the final events come out.
    this.stopping = true
    try {
      for (const p of [...this.refs.keys()]) this.detach(p)
    } finally {
      this.stopping = false
    }
    this.running = false
    this.machine.clear()
    this.timer?.()
    this.timer = undefined
    this.timerAt = undefined
  }

  // --- peers ---------------------------------------------------------------

  private attach(peer: Peer): void {
    if (!this.running || this.refs.has(peer)) return
    const witness = ((peer.info?.peer.services ?? 0n) & Services.NODE_WITNESS) !== 0n
    const version: CompactVersion = witness ? 2 : 1
    const ref: PeerRef = {
      peer,
      label: peerLabel(peer),
      version,
      listeners: {
        cmpctblock: (m) => this.input(() => this.machine.cmpctblock(this.clock.now(), ref, m, ref.version, this.pool.candidates())),
        blocktxn: (m) => this.input(() => this.machine.blocktxn(this.clock.now(), ref, m.blockHash, m.txs)),
        inv: (m) => this.onInv(ref, m.items),
        unsolicited: (m) => {
          if (m.command === 'headers') this.onAnnounce(ref, m.headers.map((h) => blockHash(h)))
        },
      },
    }
    this.refs.set(peer, ref)
    peer.on('cmpctblock', ref.listeners.cmpctblock)
    peer.on('blocktxn', ref.listeners.blocktxn)
    peer.on('inv', ref.listeners.inv)
    peer.on('unsolicited', ref.listeners.unsolicited)
    if (this.negotiate) {
      try {
        peer.send({ command: 'sendcmpct', announce: this.highBandwidth, version: BigInt(version) })
      } catch {
        // Closed meanwhile: 'peer-closed' detaches it.
      }
    }
  }

  private detach(peer: Peer): void {
    const ref = this.refs.get(peer)
    if (!ref) return
    this.refs.delete(peer)
    peer.off('cmpctblock', ref.listeners.cmpctblock)
    peer.off('blocktxn', ref.listeners.blocktxn)
    peer.off('inv', ref.listeners.inv)
    peer.off('unsolicited', ref.listeners.unsolicited)
    this.input(() => this.machine.removePeer(this.clock.now(), ref))
  }

  private onInv(ref: PeerRef, items: readonly InvItem[]): void {
    const hashes: Uint8Array[] = []
    for (const it of items) if (((it.type & ~MSG_WITNESS_FLAG) >>> 0) === InvType.MSG_BLOCK) hashes.push(it.hash)
    if (hashes.length > 0) this.onAnnounce(ref, hashes)
  }

  private onAnnounce(ref: PeerRef, hashes: readonly Uint8Array[]): void {
    if (!this.requestAnnounced) return
    this.input(() => {
      for (const h of hashes) this.machine.announced(this.clock.now(), ref, h, ref.version)
    })
  }

  // --- outputs -------------------------------------------------------------

  /** Feed one input, then carry out what the machine decided and re-arm the timer. */
  private input(feed: () => void): void {
    if (!this.running) return
    feed()
    this.flush()
  }

  private flush(): void {
    if (this.flushing) return
    this.flushing = true
    try {
      for (let a = this.machine.poll(); a; a = this.machine.poll()) this.act(a)
    } finally {
      this.flushing = false
    }
    this.arm()
  }

  private act(a: CompactAction<PeerRef>): void {
    if (this.stopping && a.type !== 'block' && a.type !== 'failed') return
    switch (a.type) {
      case 'send':
        try {
          a.peer.peer.send(a.message)
        } catch {
          // Closed meanwhile: its 'peer-closed' fails the rebuild.
        }
        return
      case 'request-block':
        return this.requestBlock(a.peer, a.hash, a.item)
      case 'block':
        this.pool.remove(blockTxids(a.block))
        this.emit('block', {
          hash: a.hash,
          header: a.block.header,
          block: a.block,
          peer: a.peer.label,
          how: a.how,
          fallback: a.fallback,
          version: a.peer.version,
          stats: a.stats,
        })
        return
      case 'attempt-failed':
        this.emit('attempt-failed', { hash: a.hash, peer: a.peer.label, reason: a.reason })
        return
      case 'fallback':
        this.emit('fallback', { hash: a.hash, peer: a.peer.label, reason: a.reason })
        return
      case 'failed':
        this.emit('failed', { hash: a.hash, peer: a.peer.label, reason: a.reason })
        return
      case 'skipped':
        return
      case 'punish':
        this.emit('offense', { peer: a.peer.label, offense: a.offense })
        if (isServiceOffense(a.offense)) this.source.drop(a.peer.peer, a.offense)
        else a.peer.peer.punish(a.offense)
        return
    }
  }

  private requestBlock(ref: PeerRef, hash: Uint8Array, item: InvItem): void {
    const failed = (reason: 'notfound' | 'peer-gone' | 'timeout'): void => this.input(() => this.machine.blockFailed(this.clock.now(), ref, hash, reason))
    let p: ReturnType<Peer['getData']>
    try {
      // The machine keeps its own deadline too; the request's keeps the Peer's tracker from waiting longer.
      p = ref.peer.getData([item], { timeoutMs: this.blockTimeoutMs })
    } catch {
      return failed('peer-gone')
    }
    p.then(
      (r) => {
        const m = r.found[0]?.message
        if (m?.command === 'block') this.input(() => this.machine.blockReceived(this.clock.now(), ref, m.block))
        else if (m?.command === 'cmpctblock') return // handled as the 'cmpctblock' event, which came first
        else if (r.notFound.length > 0) failed('notfound')
        else failed('peer-gone') // a streamed block: no decoded block to check
      },
      (e: unknown) => failed(e instanceof RequestError && e.failure.kind === 'stalled' ? 'timeout' : 'peer-gone'),
    )
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
      this.input(() => this.machine.timeout(this.clock.now()))
    })
  }
}

function isServiceOffense(o: Offense): o is ServiceOffense {
  return o.kind === 'invalid-header' || o.kind === 'invalid-block' || o.kind === 'invalid-compact-block'
}

