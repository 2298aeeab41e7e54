/**
 * HeaderSync: keep a HeaderTree at the most-work chain the peers know.
 *
 * Protocol (Core's headers-first sync, net_processing.cpp):
 *  1. Ask one peer `getheaders` with the tree's locator. A reply of
 *     MAX_HEADERS_RESULTS (2000) headers means it has more: ask again from
 *     the new tip. A shorter reply means the peer is done: its tip is the
 *     last header it sent (or ours, when it sent none).
 *  2. Only one peer is asked at a time while catching up, so headers are
 *     downloaded once. If its request stalls or the peer disconnects, the
 *     next peer that claims more than our tip takes over from our tip.
 *  3. Announcements: a `headers` message nobody asked for (BIP130
 *     sendheaders) is accepted when it connects; when it does not, the
 *     sender is asked with getheaders. An `inv` of a block we do not know
 *     also triggers getheaders to the sender (Core does the same).
 *  4. Invalid headers (bad proof of work, difficulty, checkpoint, a reply
 *     that is not a chain) drop the peer through the source, with a typed
 *     offense. Headers that merely do not connect are not punished.
 *  5. Stale tip: if no header extended the tip for `staleTipMs` while some
 *     peer claims more than our tip, every idle peer is asked.
 *
 * What a peer "claims": the start height of its version message, raised by
 * what it announces, and set to what it actually served once it answers a
 * getheaders with fewer than 2000 headers (so a peer that lied about its
 * height is believed only until it is asked).
 *
 * Synced: no getheaders in flight, at least one peer has answered with a
 * short reply since the last time we were behind, and no peer claims more
 * than our tip. 'synced' fires on each transition into that state.
 *
 * Every `synced()` settles: it resolves when synced, and rejects with
 * HeaderSyncError 'no-peers' once it has waited `peerWaitMs` with no
 * usable peer (none attached, or every one stalled), 'stopped' on stop(),
 * or the signal's reason on abort. While a usable peer remains, each step
 * is bounded by its getheaders deadline.
 *
 * Persistence: every header that joins the active chain is written to the
 * store (a reorg rewrites the tail from the fork point), in order, one
 * write at a time; `flush()` waits for them. A store given without a tree
 * is loaded into a new tree by `start()`.
 */
import { EventEmitter } from 'eventemitter3'
import { bytesEqual, InvType, MSG_WITNESS_FLAG, type BlockHeader, type Message } from '@bitp2p/wire'
import { MAX_HEADERS_RESULTS } from '@bitp2p/wire/limits'
import type { HeaderStore } from '../../core/chain/store.js'
import { HeaderTree, type AcceptResult, type HeaderEntry, type TreeParams } from '../../core/chain/tree.js'
import type { DisconnectReason } from '../../core/fsm/reasons.js'
import type { Peer } from '../peer.js'
import type { Cancel, Clock } from '../../core/ports.js'
import { watchPeers, type PeerSource, type ServiceOffense } from './source.js'

/** Default deadline of one getheaders: Core's HEADERS_DOWNLOAD_TIMEOUT_BASE is 15 min for the whole sync; a reply of 162 KB takes seconds. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 30_000
/** Default time without a new tip, while peers claim more, before every idle peer is asked (ours; Core checks its tip every 10 min). */
export const DEFAULT_STALE_TIP_MS = 10 * 60_000
/** Default time a synced() call bears having no usable peer before it rejects 'no-peers'. */
export const DEFAULT_SYNC_PEER_WAIT_MS = 60_000

/** Why a synced() call gave up. */
export class HeaderSyncError extends Error {
  override readonly name = 'HeaderSyncError'
  /** 'no-peers': no usable peer for `waitedMs`; 'stopped': stop() was called. */
  readonly code: 'no-peers' | 'stopped'
  /** 'no-peers': how long it waited. */
  readonly waitedMs: number | undefined
  constructor(code: HeaderSyncError['code'], waitedMs?: number) {
    super(code === 'no-peers' ? `header sync: no usable peer for ${Math.round(waitedMs ?? 0)} ms` : 'header sync stopped')
    this.code = code
    this.waitedMs = waitedMs
  }

  /**
   * The old name of `code`.
   * @deprecated Use `code` (the one discriminant of every bitp2p error); `kind` goes in the next minor release.
   */
  get kind(): HeaderSyncError['code'] {
    return this.code
  }
}

/** Options of a HeaderSync. */
export interface HeaderSyncOptions {
  readonly source: PeerSource
  /** Header rules and genesis (a NetworkParams object satisfies this). */
  readonly network: TreeParams
  /** Timers and `now`. */
  readonly clock: Clock
  /** The tree to extend; default one loaded from `store`, or from genesis. */
  readonly tree?: HeaderTree
  /** Where the active chain is persisted. */
  readonly store?: HeaderStore
  /** Deadline of each getheaders. Default DEFAULT_HEADERS_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number
  /** Default DEFAULT_STALE_TIP_MS. */
  readonly staleTipMs?: number
  /** How long a synced() call waits with no usable peer before it rejects 'no-peers'. Default DEFAULT_SYNC_PEER_WAIT_MS. */
  readonly peerWaitMs?: number
  /**
   * Unix ms = clock.now() + unixTimeOffsetMs. Default: the clock's own
   * (a RealtimeClock always has one). When known, headers more than 2 h in
   * the future are rejected (Core's MAX_FUTURE_BLOCK_TIME); when neither is
   * given (a virtual clock without an epoch) that rule is not checked.
   */
  readonly unixTimeOffsetMs?: number
}

/** A progress report, after every headers message. */
export interface SyncProgress {
  /** Height of our tip. */
  readonly height: number
  /** Highest height any connected peer claims. */
  readonly peerHeight: number
  /** Headers added per second since this catch-up began (virtual or real seconds of the clock). */
  readonly headersPerSecond: number
}

/** A reorganisation of the active chain (lists ascending). */
export interface SyncReorg {
  readonly fork: HeaderEntry
  readonly disconnected: readonly HeaderEntry[]
  readonly connected: readonly HeaderEntry[]
}

/** Events of a HeaderSync. */
export interface HeaderSyncEvents {
  progress: [progress: SyncProgress]
  /** The active tip changed (once per headers message that changed it). */
  tip: [tip: HeaderEntry]
  reorg: [reorg: SyncReorg]
  /** Caught up with every peer (see the module comment). */
  synced: [tip: HeaderEntry]
  /** A peer served invalid headers and was handed back to the source. */
  'peer-dropped': [peer: Peer, offense: ServiceOffense]
  /** The tip did not move for staleTipMs while peers claim more; idle peers are being asked. */
  'stale-tip': [info: { readonly tip: HeaderEntry; readonly sinceMs: number }]
  /** A store write failed (sync goes on in memory). */
  error: [error: unknown]
}

/** A pending synced() call. */
interface Waiter {
  /** When it began waiting. */
  readonly since: number
  resolve(tip: HeaderEntry): void
  reject(e: unknown): void
}

interface PeerState {
  /** Highest height the peer claims (see the module comment). */
  best: number
  /** A getheaders to it is in flight. */
  busy: boolean
  /** Ask it as soon as it is idle (more to fetch, or an announcement to follow). */
  want: boolean
  /** Its getheaders stalled while it stayed connected: not picked for catch-up again. */
  failed: boolean
  readonly onUnsolicited: (m: Message) => void
  readonly onInv: (m: Extract<Message, { command: 'inv' }>) => void
}

/** Header sync over a PeerSource; see the module comment. */
export class HeaderSync extends EventEmitter<HeaderSyncEvents> {
  private readonly source: PeerSource
  private readonly network: TreeParams
  private readonly clock: Clock
  private readonly store: HeaderStore | undefined
  private readonly requestTimeoutMs: number
  private readonly staleTipMs: number
  private readonly peerWaitMs: number
  private readonly unixTimeOffsetMs: number | undefined
  private readonly waiters = new Set<Waiter>()
  /** Since when no peer has been usable (undefined: some peer is). */
  private starvedSince: number | undefined
  private waitCancel: Cancel | undefined
  private treeRef: HeaderTree | undefined
  private readonly states = new Map<Peer, PeerState>()
  private started = false
  private running = false
  private syncedFlag = false
  /** A peer answered a getheaders with a short reply since we were last behind. */
  private probed = false
  private writes: Promise<void> = Promise.resolve()
  private lastTipAt = 0
  private staleCancel: Cancel | undefined
  private rateStart: { readonly at: number; readonly height: number } | undefined
  /** Stops listening to the source; set while running. */
  private unwatch: (() => void) | undefined
  private readonly onPeer = (peer: Peer): void => {
    this.attach(peer)
    this.pump()
  }
  private readonly onPeerClosed = (peer: Peer, _reason: DisconnectReason): void => {
    this.detach(peer)
    this.pump()
  }

  constructor(opts: HeaderSyncOptions) {
    super()
    this.source = opts.source
    this.network = opts.network
    this.clock = opts.clock
    this.store = opts.store
    this.treeRef = opts.tree
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS
    this.staleTipMs = opts.staleTipMs ?? DEFAULT_STALE_TIP_MS
    this.peerWaitMs = opts.peerWaitMs ?? DEFAULT_SYNC_PEER_WAIT_MS
    if (!(this.peerWaitMs >= 0) || !Number.isFinite(this.peerWaitMs)) throw new RangeError(`peerWaitMs must be a finite number >= 0, got ${this.peerWaitMs}`)
    this.unixTimeOffsetMs = opts.unixTimeOffsetMs ?? opts.clock.unixTimeOffsetMs
  }

  /** The tree being synced. Throws before start() when none was given. */
  get tree(): HeaderTree {
    if (!this.treeRef) throw new Error('HeaderSync: no tree before start()')
    return this.treeRef
  }

  /** True while caught up with every peer. */
  get isSynced(): boolean {
    return this.syncedFlag
  }

  /** Highest height any connected peer claims. */
  get peerHeight(): number {
    let h = 0
    for (const s of this.states.values()) if (s.best > h) h = s.best
    return h
  }

  /**
   * Load the store (when no tree was given), write the tree's chain into an
   * empty store, attach to the source's peers and start asking. Idempotent.
   */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    if (!this.treeRef) {
      const base = this.store ? await this.store.load() : undefined
      this.treeRef = new HeaderTree(this.network, base ? { base } : {})
    }
    const tree = this.treeRef
    if (this.store && (await this.store.tip()) === undefined) {
      const all: HeaderEntry[] = []
      for (let h = tree.baseHeight; h <= tree.height; h++) all.push(tree.getByHeight(h)!)
      this.write(all)
    }
    this.running = true
    this.lastTipAt = this.clock.now()
    this.unwatch = watchPeers(this.source, this.onPeer, this.onPeerClosed)
    this.armStale()
    this.pump()
  }

  /** Stop asking and listening; pending synced() calls reject 'stopped'. Requests in flight are left to finish and ignored. */
  stop(): void {
    const error = new HeaderSyncError('stopped')
    for (const w of [...this.waiters]) w.reject(error)
    if (!this.running) return
    this.running = false
    this.staleCancel?.()
    this.staleCancel = undefined
    this.unwatch?.()
    this.unwatch = undefined
    for (const p of [...this.states.keys()]) this.detach(p)
    this.watchStarvation()
  }

  /**
   * Resolves with the tip when synced (at once if already). Rejects with
   * HeaderSyncError 'no-peers' after peerWaitMs without a usable peer,
   * 'stopped' on stop(), or the signal's reason on abort.
   */
  synced(signal?: AbortSignal): Promise<HeaderEntry> {
    if (this.syncedFlag) return Promise.resolve(this.tree.tip)
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise((resolve, reject) => {
      const onAbort = (): void => w.reject(signal!.reason)
      const done = (): void => {
        this.waiters.delete(w)
        signal?.removeEventListener('abort', onAbort)
        this.watchStarvation()
      }
      const w: Waiter = {
        since: this.clock.now(),
        resolve: (tip) => {
          done()
          resolve(tip)
        },
        reject: (e) => {
          done()
          reject(e)
        },
      }
      this.waiters.add(w)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.watchStarvation()
    })
  }

  /** Resolves when every store write queued so far has finished. */
  flush(): Promise<void> {
    return this.writes
  }

  // --- peers ---------------------------------------------------------------

  private attach(peer: Peer): void {
    if (!this.running || this.states.has(peer)) return
    const st: PeerState = {
      best: peer.info?.peer.startHeight ?? 0,
      busy: false,
      want: false,
      failed: false,
      onUnsolicited: (m) => {
        if (m.command === 'headers') this.onAnnounced(peer, m.headers)
      },
      onInv: (m) => this.onInv(peer, m.items),
    }
    this.states.set(peer, st)
    peer.on('unsolicited', st.onUnsolicited)
    peer.on('inv', st.onInv)
    if (st.best > this.tree.height) this.behind()
  }

  private detach(peer: Peer): void {
    const st = this.states.get(peer)
    if (!st) return
    this.states.delete(peer)
    peer.off('unsolicited', st.onUnsolicited)
    peer.off('inv', st.onInv)
  }

  private drop(peer: Peer, offense: ServiceOffense): void {
    this.detach(peer)
    this.emit('peer-dropped', peer, offense)
    this.source.drop(peer, offense)
  }

  // --- asking --------------------------------------------------------------

  /** Send whatever getheaders are due, then check whether we are synced. */
  private pump(): void {
    if (!this.running) return
    for (const [peer, st] of this.states) if (st.want && !st.busy) this.ask(peer, st)
    let busy = false
    for (const st of this.states.values()) busy ||= st.busy
    if (!busy) {
      const tip = this.tree.height
      const peer = this.source.pick({
        filter: (p) => {
          const s = this.states.get(p)
          return s !== undefined && !s.busy && !s.failed && (s.best > tip || !this.probed)
        },
      })
      if (peer) {
        this.ask(peer, this.states.get(peer)!)
        busy = true
      }
    }
    if (!busy) this.checkSynced()
    this.watchStarvation()
  }

  private ask(peer: Peer, st: PeerState): void {
    st.busy = true
    st.want = false
    if (!this.rateStart) this.rateStart = { at: this.clock.now(), height: this.tree.height }
    let p: Promise<readonly BlockHeader[]>
    try {
      p = peer.getHeaders(this.tree.locator(), { timeoutMs: this.requestTimeoutMs })
    } catch {
      st.busy = false
      return
    }
    p.then(
      (headers) => {
        st.busy = false
        if (this.states.get(peer) !== st) return this.pump()
        this.onReply(peer, st, headers)
        this.pump()
      },
      () => {
        st.busy = false
        if (peer.state === 'ready') {
          if (st.best <= this.tree.height) {
            // Silence from a peer that claims nothing beyond our tip means
            // "nothing new": bcoin sends no reply then (Core sends an empty
            // headers message). Treat it like an empty reply.
            this.probed = true
          } else {
            // It claims more but stalled (its onStall is 'report'): do not pick it again.
            st.failed = true
          }
        }
        this.pump()
      },
    )
  }

  private onReply(peer: Peer, st: PeerState, headers: readonly BlockHeader[]): void {
    if (headers.length === 0) {
      st.best = this.tree.height
      this.probed = true
      this.progress()
      return
    }
    const r = this.acceptHeaders(peer, headers)
    if (!r) return
    const last = this.tree.getByHash(r.lastHash)
    if (headers.length >= MAX_HEADERS_RESULTS) {
      st.want = true
      if (last && last.height + 1 > st.best) st.best = last.height + 1
    } else {
      // A short reply: the peer's tip is its last header.
      st.best = last ? last.height : this.tree.height
      this.probed = true
    }
    this.progress()
  }

  private onAnnounced(peer: Peer, headers: readonly BlockHeader[]): void {
    const st = this.states.get(peer)
    if (!st || headers.length === 0) return
    if (!this.tree.has(headers[0]!.prevBlock)) {
      // It is further ahead than it announced: fetch the gap from it.
      st.best = Math.max(st.best, this.tree.height + headers.length)
      st.want = true
      this.behind()
      return this.pump()
    }
    const r = this.acceptHeaders(peer, headers)
    if (r) {
      const last = this.tree.getByHash(r.lastHash)
      if (last && last.height > st.best) st.best = last.height
      this.progress()
    }
    this.pump()
  }

  private onInv(peer: Peer, items: readonly { readonly type: number; readonly hash: Uint8Array }[]): void {
    const st = this.states.get(peer)
    if (!st) return
    let unknown = false
    for (const it of items) {
      if ((it.type & ~MSG_WITNESS_FLAG) >>> 0 !== InvType.MSG_BLOCK) continue
      if (!this.tree.has(it.hash)) unknown = true
    }
    if (!unknown) return
    st.best = Math.max(st.best, this.tree.height + 1)
    st.want = true
    this.behind()
    this.pump()
  }

  /**
   * Accept one headers message into the tree: report, persist, and drop
   * the peer for an invalid header. Returns the hash of the last header
   * taken, or undefined when the peer was dropped.
   */
  private acceptHeaders(peer: Peer, headers: readonly BlockHeader[]): { lastHash: Uint8Array } | undefined {
    const tree = this.tree
    const before = tree.tip.hash
    const r = tree.acceptMany(headers, this.unixNow())
    this.apply(r.results)
    if (!bytesEqual(before, tree.tip.hash)) {
      this.lastTipAt = this.clock.now()
      this.armStale()
      this.emit('tip', tree.tip)
    }
    if (r.rejected && r.rejected.error.kind !== 'duplicate') {
      this.drop(peer, { kind: 'invalid-header', error: r.rejected.error })
      return undefined
    }
    const lastResult = r.results[r.results.length - 1]
    return { lastHash: lastResult && lastResult.kind !== 'rejected' ? lastResult.entry.hash : tree.tip.hash }
  }

  /** Emit reorgs and persist what joined the active chain, in order. */
  private apply(results: readonly AcceptResult[]): void {
    let batch: HeaderEntry[] = []
    for (const r of results) {
      if (r.kind === 'connected') batch.push(r.entry)
      else if (r.kind === 'reorg') {
        this.write(batch)
        batch = []
        this.write(r.connected)
        this.emit('reorg', { fork: r.fork, disconnected: r.disconnected, connected: r.connected })
      }
    }
    this.write(batch)
  }

  private write(records: readonly HeaderEntry[]): void {
    const store = this.store
    if (!store || records.length === 0) return
    this.writes = this.writes.then(() => store.putBatch(records)).catch((e: unknown) => {
      this.emit('error', e)
    })
  }

  // --- state ---------------------------------------------------------------

  /** Some peer claims more than our tip. */
  private behind(): void {
    if (this.peerHeight <= this.tree.height) return
    this.syncedFlag = false
    this.probed = false
  }

  private checkSynced(): void {
    if (this.syncedFlag || !this.probed || this.states.size === 0) return
    if (this.peerHeight > this.tree.height) return
    this.syncedFlag = true
    this.rateStart = undefined
    this.emit('synced', this.tree.tip)
    for (const w of [...this.waiters]) w.resolve(this.tree.tip)
  }

  /**
   * Keep the no-peers timer right: armed while synced() calls wait and no
   * peer is usable (attached, not stalled, and working or claiming more
   * than our tip), at the first waiter's deadline; cancelled otherwise.
   */
  private watchStarvation(): void {
    // Usable: not stalled, and either working or able to tell us something.
    let usable = false
    const tip = this.treeRef?.height ?? 0
    if (this.running) for (const st of this.states.values()) usable ||= !st.failed && (st.busy || st.want || st.best > tip || !this.probed)
    if (usable || this.waiters.size === 0) {
      if (usable) this.starvedSince = undefined
      this.waitCancel?.()
      this.waitCancel = undefined
      return
    }
    const now = this.clock.now()
    this.starvedSince ??= now
    let at = Infinity
    for (const w of this.waiters) at = Math.min(at, Math.max(w.since, this.starvedSince) + this.peerWaitMs)
    this.waitCancel?.()
    this.waitCancel = this.clock.setTimer(Math.max(0, at - now), () => {
      this.waitCancel = undefined
      const t = this.clock.now()
      for (const w of [...this.waiters]) {
        const since = Math.max(w.since, this.starvedSince ?? t)
        if (t >= since + this.peerWaitMs) w.reject(new HeaderSyncError('no-peers', t - since))
      }
      this.watchStarvation()
    })
  }

  private progress(): void {
    const now = this.clock.now()
    const height = this.tree.height
    const start = this.rateStart
    const secs = start ? (now - start.at) / 1000 : 0
    const headersPerSecond = start && secs > 0 ? (height - start.height) / secs : 0
    this.emit('progress', { height, peerHeight: Math.max(this.peerHeight, height), headersPerSecond })
  }

  private unixNow(): number | undefined {
    return this.unixTimeOffsetMs === undefined ? undefined : Math.floor((this.clock.now() + this.unixTimeOffsetMs) / 1000)
  }

  /** One timer, at lastTipAt + staleTipMs. */
  private armStale(): void {
    this.armStaleAt(this.lastTipAt + this.staleTipMs)
  }

  private onStaleCheck(): void {
    if (!this.running) return
    const now = this.clock.now()
    if (this.peerHeight > this.tree.height) {
      this.emit('stale-tip', { tip: this.tree.tip, sinceMs: now - this.lastTipAt })
      for (const st of this.states.values()) {
        st.failed = false
        if (!st.busy) st.want = true
      }
      this.pump()
    }
    // Check again one period from now (lastTipAt keeps the true age of the tip).
    this.armStaleAt(now + this.staleTipMs)
  }

  private armStaleAt(at: number): void {
    if (!this.running) return
    this.staleCancel?.()
    this.staleCancel = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => {
      this.staleCancel = undefined
      this.onStaleCheck()
    })
  }
}
