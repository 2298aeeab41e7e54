/**
 * Broadcaster: get a transaction of ours into the network and watch it
 * spread.
 *
 * Protocol: we announce with `inv` (MSG_WTX by wtxid to peers that
 * negotiated wtxidrelay, BIP339; MSG_TX by txid to the others), a peer that
 * wants it asks with `getdata`, and we answer with `tx`. Evidence, weakest
 * first:
 *  - announcedTo: we sent the inv;
 *  - fetchedBy: the peer asked for it, so it did not have it and is
 *    checking it (acceptance into its mempool is not reported by the
 *    protocol: Core sends nothing back on success);
 *  - seenFrom: a peer announced it to us: it is in that peer's mempool,
 *    and usually came there through another peer: propagation;
 *  - rejectedBy: a BIP61 `reject` naming the txid. Core removed reject in
 *    0.20, so its absence proves nothing; the result never waits for it.
 *
 * Schedule: the inv goes to every peer at once and to peers that join
 * later; every `reannounceMs` it is sent again to peers that have neither
 * fetched nor announced it, until it has been seen from `minSeen` peers or
 * the deadline passes. `broadcast()` resolves then: outcome 'propagated',
 * or at the deadline 'fetched' (a peer asked for it, fewer than `minSeen`
 * echoed it: with one peer, which never echoes to its source, the best
 * evidence there is) or 'deadline' (no peer even asked). Until the deadline, getdata for it is still answered, so
 * peers that were slow to ask still get it.
 */
import { EventEmitter } from 'eventemitter3'
import { bytesEqual, hasWitness, InvType, MSG_WITNESS_FLAG, toHex, txid as txidOf, wtxid as wtxidOf, type InvItem, type Message, type Transaction } from '@bitp2p/wire'
import type { Peer } from '../peer.js'
import type { Cancel, Clock } from '../../core/ports.js'
import { peerLabel, watchPeers, type PeerSource } from './source.js'

/** Default time a broadcast may take. */
export const DEFAULT_BROADCAST_DEADLINE_MS = 120_000
/** Default time between announcements to peers that have not reacted. */
export const DEFAULT_REANNOUNCE_MS = 30_000
/** Default peers that must announce the transaction back before a broadcast counts as propagated. */
export const DEFAULT_MIN_SEEN = 1

/** Options of a Broadcaster. */
export interface BroadcasterOptions {
  readonly source: PeerSource
  readonly clock: Clock
}

/** Options of one broadcast. */
export interface BroadcastOptions {
  /** Default DEFAULT_BROADCAST_DEADLINE_MS. */
  readonly deadlineMs?: number
  /** Default DEFAULT_REANNOUNCE_MS. */
  readonly reannounceMs?: number
  /** Default DEFAULT_MIN_SEEN. */
  readonly minSeen?: number
  /** Abort: the promise rejects with the signal's reason and serving stops. */
  readonly signal?: AbortSignal
}

/** A reject naming our transaction. */
export interface BroadcastRejection {
  readonly peer: string
  readonly ccode: number
  readonly reason: string
}

/** What a broadcast achieved. Peer lists are "host:port", in the order things happened. */
export interface BroadcastResult {
  readonly txid: Uint8Array
  readonly wtxid: Uint8Array
  /**
   * 'propagated': seen from minSeen peers. At the deadline, 'fetched': at
   * least one peer asked for it (fewer than minSeen announced it back);
   * 'deadline': no peer asked for it or announced it.
   */
  readonly outcome: 'propagated' | 'fetched' | 'deadline'
  readonly announcedTo: readonly string[]
  readonly fetchedBy: readonly string[]
  readonly seenFrom: readonly string[]
  readonly rejectedBy: readonly BroadcastRejection[]
  /** inv messages sent for it, re-announcements included. */
  readonly announcements: number
}

/** Events of a Broadcaster. */
export interface BroadcasterEvents {
  announced: [txid: Uint8Array, peer: string]
  fetched: [txid: Uint8Array, peer: string]
  seen: [txid: Uint8Array, peer: string]
  rejected: [txid: Uint8Array, rejection: BroadcastRejection]
}

interface Job {
  readonly tx: Transaction
  readonly txid: Uint8Array
  readonly wtxid: Uint8Array
  readonly announcedTo: Set<Peer>
  readonly announcedLabels: string[]
  readonly fetched: Set<Peer>
  readonly fetchedLabels: string[]
  readonly seen: Set<Peer>
  readonly seenLabels: string[]
  readonly rejections: BroadcastRejection[]
  readonly minSeen: number
  announcements: number
  settled: boolean
  timers: Cancel[]
  resolve(outcome: BroadcastResult['outcome']): void
  end(): void
}

interface Attached {
  readonly onGetdata: (m: Extract<Message, { command: 'getdata' }>) => void
  readonly onInv: (m: Extract<Message, { command: 'inv' }>) => void
  readonly onReject: (m: Extract<Message, { command: 'reject' }>) => void
}

/** Broadcasts transactions over a PeerSource; see the module comment. */
export class Broadcaster extends EventEmitter<BroadcasterEvents> {
  private readonly source: PeerSource
  private readonly clock: Clock
  /** Jobs by 't' + txid hex and 'w' + wtxid hex (our own hashes). */
  private readonly jobs = new Map<string, Job>()
  private readonly attached = new Map<Peer, Attached>()
  /** Stops listening to the source; set while running. */
  private unwatch: (() => void) | undefined
  private readonly onPeer = (peer: Peer): void => {
    this.attach(peer)
    for (const job of new Set(this.jobs.values())) if (!job.settled) this.announce(job, [peer])
  }
  private readonly onPeerClosed = (peer: Peer): void => this.detach(peer)

  constructor(opts: BroadcasterOptions) {
    super()
    this.source = opts.source
    this.clock = opts.clock
  }

  /** Broadcasts in progress (until their deadlines). */
  get active(): number {
    return new Set(this.jobs.values()).size
  }

  /** Announce `tx` and follow it; see the module comment. */
  broadcast(tx: Transaction, opts: BroadcastOptions = {}): Promise<BroadcastResult> {
    const { signal } = opts
    if (signal?.aborted) return Promise.reject(signal.reason)
    const deadlineMs = opts.deadlineMs ?? DEFAULT_BROADCAST_DEADLINE_MS
    const reannounceMs = opts.reannounceMs ?? DEFAULT_REANNOUNCE_MS
    if (!(reannounceMs > 0)) throw new RangeError(`reannounceMs must be > 0, got ${reannounceMs}`)
    const id = txidOf(tx)
    const wid = hasWitness(tx) ? wtxidOf(tx) : id
    const kt = 't' + toHex(id)
    const kw = 'w' + toHex(wid)
    if (this.jobs.has(kt)) return Promise.reject(new Error(`broadcast of ${toHex(id)} already in progress`))
    if (this.jobs.size === 0) this.subscribe()

    return new Promise<BroadcastResult>((resolve, reject) => {
      const onAbort = (): void => {
        job.end()
        reject(signal!.reason)
      }
      const job: Job = {
        tx,
        txid: id,
        wtxid: wid,
        announcedTo: new Set(),
        announcedLabels: [],
        fetched: new Set(),
        fetchedLabels: [],
        seen: new Set(),
        seenLabels: [],
        rejections: [],
        minSeen: opts.minSeen ?? DEFAULT_MIN_SEEN,
        announcements: 0,
        settled: false,
        timers: [],
        resolve: (outcome) => {
          if (job.settled) return
          job.settled = true
          signal?.removeEventListener('abort', onAbort)
          resolve({
            txid: id,
            wtxid: wid,
            outcome,
            announcedTo: job.announcedLabels.slice(),
            fetchedBy: job.fetchedLabels.slice(),
            seenFrom: job.seenLabels.slice(),
            rejectedBy: job.rejections.slice(),
            announcements: job.announcements,
          })
        },
        end: () => {
          for (const c of job.timers) c()
          job.timers = []
          job.settled = true
          signal?.removeEventListener('abort', onAbort)
          this.jobs.delete(kt)
          this.jobs.delete(kw)
          if (this.jobs.size === 0) this.unsubscribe()
        },
      }
      this.jobs.set(kt, job)
      this.jobs.set(kw, job)
      signal?.addEventListener('abort', onAbort, { once: true })
      job.timers.push(
        this.clock.setTimer(deadlineMs, () => {
          job.resolve(job.fetchedLabels.length > 0 ? 'fetched' : 'deadline')
          job.end()
        }),
      )
      const reannounce = (): void => {
        if (job.settled) return
        this.announce(
          job,
          this.source.peers().filter((p) => !job.fetched.has(p) && !job.seen.has(p)),
        )
        job.timers.push(this.clock.setTimer(reannounceMs, reannounce))
      }
      this.announce(job, this.source.peers())
      job.timers.push(this.clock.setTimer(reannounceMs, reannounce))
    })
  }

  // --- peers ---------------------------------------------------------------

  private subscribe(): void {
    this.unwatch = watchPeers(this.source, this.onPeer, this.onPeerClosed)
  }

  private unsubscribe(): void {
    this.unwatch?.()
    this.unwatch = undefined
    for (const p of [...this.attached.keys()]) this.detach(p)
  }

  private attach(peer: Peer): void {
    if (this.attached.has(peer)) return
    const a: Attached = {
      onGetdata: (m) => this.onGetdata(peer, m.items),
      onInv: (m) => this.onInv(peer, m.items),
      onReject: (m) => this.onReject(peer, m),
    }
    this.attached.set(peer, a)
    peer.on('getdata', a.onGetdata)
    peer.on('inv', a.onInv)
    peer.on('reject', a.onReject)
  }

  private detach(peer: Peer): void {
    const a = this.attached.get(peer)
    if (!a) return
    this.attached.delete(peer)
    peer.off('getdata', a.onGetdata)
    peer.off('inv', a.onInv)
    peer.off('reject', a.onReject)
  }

  private announce(job: Job, peers: readonly Peer[]): void {
    for (const peer of peers) {
      if (peer.state !== 'ready') continue
      const item: InvItem = peer.features?.wtxidRelay ? { type: InvType.MSG_WTX, hash: job.wtxid } : { type: InvType.MSG_TX, hash: job.txid }
      try {
        peer.send({ command: 'inv', items: [item] })
      } catch {
        continue
      }
      job.announcements++
      if (!job.announcedTo.has(peer)) {
        job.announcedTo.add(peer)
        job.announcedLabels.push(peerLabel(peer))
      }
      this.emit('announced', job.txid, peerLabel(peer))
    }
  }

  /** The job an inventory item names, if any. */
  private jobOf(item: InvItem): Job | undefined {
    const base = (item.type & ~MSG_WITNESS_FLAG) >>> 0
    if (base === InvType.MSG_TX) return this.jobs.get('t' + toHex(item.hash))
    if (base === InvType.MSG_WTX) return this.jobs.get('w' + toHex(item.hash))
    return undefined
  }

  // --- inputs --------------------------------------------------------------

  private onGetdata(peer: Peer, items: readonly InvItem[]): void {
    for (const it of items) {
      const job = this.jobOf(it)
      if (!job) continue
      try {
        // The tx codec always writes the witness (BIP144); every peer that
        // asks for a transaction today speaks segwit.
        peer.send({ command: 'tx', tx: job.tx })
      } catch {
        continue
      }
      if (!job.fetched.has(peer)) {
        job.fetched.add(peer)
        job.fetchedLabels.push(peerLabel(peer))
        this.emit('fetched', job.txid, peerLabel(peer))
      }
    }
  }

  private onInv(peer: Peer, items: readonly InvItem[]): void {
    for (const it of items) {
      const job = this.jobOf(it)
      if (!job || job.seen.has(peer)) continue
      job.seen.add(peer)
      job.seenLabels.push(peerLabel(peer))
      this.emit('seen', job.txid, peerLabel(peer))
      if (job.seen.size >= job.minSeen) job.resolve('propagated')
    }
  }

  private onReject(peer: Peer, m: Extract<Message, { command: 'reject' }>): void {
    if (m.message !== 'tx' || !m.data) return
    const job = this.jobs.get('t' + toHex(m.data))
    if (!job || !bytesEqual(job.txid, m.data)) return
    const r: BroadcastRejection = { peer: peerLabel(peer), ccode: m.ccode, reason: m.reason }
    job.rejections.push(r)
    this.emit('rejected', job.txid, r)
  }
}
