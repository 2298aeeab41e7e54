/**
 * ScriptWatcher: watch addresses and scripts privately over any PeerSource
 * (a Pool, or `singlePeer(peer)`): which transactions pay or spend them,
 * found with BIP157/158 compact filters, so no peer learns which scripts
 * are ours.
 *
 * It is the thin driver of the sans-IO LightMachine (core/light-machine.ts,
 * where the protocol and its rules are described). Around it:
 *  - a session HeaderSync keeps the header chain (given, or made here over
 *    the same source); the machine follows it once it is first synced, then
 *    at every new tip and reorg;
 *  - the peers that advertise NODE_COMPACT_FILTERS are its filter peers;
 *    their cfcheckpt, cfheaders and cfilter messages go to the machine;
 *  - matching blocks come from a session BlockFetcher (any peer of the
 *    source; merkle root and witness commitment checked), assembled from
 *    its chunks and parsed, one block per request;
 *  - a peer the machine finds serving provably wrong filter data is handed
 *    back to the source with the 'invalid-filter' offense (scored 100); one
 *    that leaves a request unanswered past its deadline is closed
 *    (unresponsive, not banned), and a Pool replaces it;
 *  - persistence through a LightStore: filter headers as they are
 *    accepted, and the state (watched scripts, wallet, scan height) after
 *    each filter batch and each transaction found, one write at a time.
 *    A restart resumes where the store left off without downloading filter
 *    headers or filters again (block headers persist through the
 *    HeaderSync's own HeaderStore, if one is given).
 *
 * Every promise settles: `synced()` resolves when caught up, or rejects
 * with WatcherError 'no-peers' after peerWaitMs with no filter peer,
 * 'stopped' on stop(), or the signal's reason when aborted.
 *
 * Events: 'tx' (a transaction found), 'reorg' (transactions no longer
 * confirmed, and the fork point), 'progress', 'synced', and the peers it
 * punished or closed. `events()` gives the same as an async iterator.
 */
import { EventEmitter } from 'eventemitter3'
import {
  BlockFetcher,
  HeaderSync,
  RealtimeClock,
  watchPeers,
  type Cancel,
  type Clock,
  type HeaderStore,
  type MempoolMonitor,
  type MempoolTx,
  type Peer,
  type PeerSource,
} from '@bitp2p/session'
import { type HeaderTree } from '@bitp2p/session/chain'
import { EventQueue, type ServiceOffense } from '@bitp2p/session/core'
import { fromHex, hashToHex, parseBlock, Services, WireError, type Message, type NetworkParams, type Transaction } from '@bitp2p/wire'
import { addressToScript } from './address/address.js'
import { isAddressError } from './address/error.js'
import {
  LightMachine,
  type ChainView,
  type InvalidFilterOffense,
  type LightAction,
  type LightEvent,
  type LightProgress,
  type LightState,
} from './core/light-machine.js'
import type { MatchedInput, MatchedOutput, WalletTx } from './core/wallet.js'
import type { LightStore } from './store/store.js'

/** Default time synced() waits with no filter peer before it rejects 'no-peers'. */
export const DEFAULT_WATCHER_PEER_WAIT_MS = 60_000
/** Unconfirmed matches remembered (to report each once, and to know which confirm later); the oldest are forgotten first. */
export const MAX_UNCONFIRMED_KEPT = 10_000
/** Longest hex script `watch` takes (a standard output script is at most 10,000 bytes, Core's MAX_SCRIPT_SIZE). */
export const MAX_WATCHED_SCRIPT_BYTES = 10_000

/** Options of a ScriptWatcher. */
export interface ScriptWatcherOptions {
  readonly source: PeerSource
  /** The network: header rules, genesis, address prefixes, block size cap. */
  readonly network: NetworkParams
  /** Timers and `now`. Default a RealtimeClock (pass the virtual clock in a simulation). */
  readonly clock?: Clock
  /** Where filter headers and the scan state persist. Default: nothing persists. */
  readonly store?: LightStore
  /** A HeaderSync to follow (started by start() if not yet). Default: one made here over `source`. */
  readonly headerSync?: HeaderSync
  /** For the HeaderSync made here: where block headers persist. */
  readonly headerStore?: HeaderStore
  /** For the HeaderSync made here: its getheaders deadline. */
  readonly headersTimeoutMs?: number
  /** For the HeaderSync made here: Unix ms = clock.now() + this, to refuse headers from the future (default: the clock's own). */
  readonly unixTimeOffsetMs?: number
  /** Deadline of each BIP157 request (see LightMachine). */
  readonly requestTimeoutMs?: number
  /** Matching blocks fetched at once. */
  readonly maxBlocksInFlight?: number
  /** How long synced() bears having no filter peer. Default DEFAULT_WATCHER_PEER_WAIT_MS. */
  readonly peerWaitMs?: number
  /** Filters per getcfilters (at most 1,000). */
  readonly filtersPerRequest?: number
  /**
   * A MempoolMonitor (started by the caller) whose transactions are matched
   * too: a match is reported as 'unconfirmed', and as 'tx' once a block
   * holds it. Inputs are recognised when they spend a coin found in a block.
   */
  readonly mempool?: MempoolMonitor
}

/** A transaction from the mempool paying or spending a watched script. */
export interface UnconfirmedTx {
  /** Internal byte order. */
  readonly txid: Uint8Array
  readonly tx: Transaction
  readonly outputs: readonly MatchedOutput[]
  readonly inputs: readonly MatchedInput[]
  /** "host:port" of the peer that delivered it. */
  readonly receivedFrom: string
}

/** Why a watcher call failed. */
export class WatcherError extends Error {
  /** 'WatcherError', also across realms. */
  override readonly name = 'WatcherError'
  /**
   * 'no-peers': no filter peer for `waitedMs`; 'stopped': stop() was called;
   * 'bad-script': `watch` was given something that is neither an address of
   * the network nor a script in hex (`input`, and the address error as
   * cause); 'not-started': called before start().
   */
  readonly code: 'no-peers' | 'stopped' | 'bad-script' | 'not-started'
  /** 'no-peers': how long it waited. */
  readonly waitedMs: number | undefined
  /** 'bad-script': what was given. */
  readonly input: string | undefined
  constructor(code: WatcherError['code'], message: string, detail: { waitedMs?: number; input?: string; cause?: unknown } = {}) {
    super(message, { cause: detail.cause })
    this.code = code
    this.waitedMs = detail.waitedMs
    this.input = detail.input
  }

  /**
   * The old name of `code`.
   * @deprecated Use `code` (the one discriminant of every bitp2p error); `kind` goes in the next minor release.
   */
  get kind(): WatcherError['code'] {
    return this.code
  }
}

/** Where the watcher is: the machine's progress and the header sync's. */
export interface WatcherProgress extends LightProgress {
  /** Highest height a connected peer claims. */
  readonly peerHeight: number
}

/** What `events()` yields. */
export type WatcherEvent =
  | { readonly type: 'tx'; readonly tx: WalletTx }
  | { readonly type: 'unconfirmed'; readonly tx: UnconfirmedTx }
  | { readonly type: 'reorg'; readonly fork: { readonly height: number; readonly hash: Uint8Array }; readonly unconfirmed: readonly WalletTx[] }
  | { readonly type: 'progress'; readonly progress: WatcherProgress }
  | { readonly type: 'synced'; readonly height: number; readonly hash: Uint8Array }

/** Events of a ScriptWatcher. */
export interface ScriptWatcherEvents {
  /** A transaction paying or spending a watched script, in a block. */
  tx: [tx: WalletTx]
  /** One from the mempool (the `mempool` option), before any block holds it. */
  unconfirmed: [tx: UnconfirmedTx]
  /** The chain reorganised below the scan height: these transactions are no longer confirmed. */
  reorg: [reorg: { readonly fork: { readonly height: number; readonly hash: Uint8Array }; readonly unconfirmed: readonly WalletTx[] }]
  progress: [progress: WatcherProgress]
  /** Filter headers and the scan reached the header tip. */
  synced: [tip: { readonly height: number; readonly hash: Uint8Array }]
  /** A peer served provably wrong filter data and was handed back to the source. */
  'peer-dropped': [peer: Peer, offense: InvalidFilterOffense]
  /** A peer left a BIP157 request unanswered and was closed. */
  'peer-stalled': [peer: Peer, request: string]
  /** A matching block could not be fetched for a while: the scan waits at `height`. */
  stuck: [info: { readonly height: number; readonly reason: string }]
  /** A store write failed (the watcher goes on in memory). */
  error: [error: unknown]
}

interface Waiter {
  readonly since: number
  resolve(tip: { height: number; hash: Uint8Array }): void
  reject(e: unknown): void
}

/** A HeaderTree as the machine's ChainView. */
function viewOf(tree: HeaderTree): ChainView {
  return {
    get height() {
      return tree.height
    },
    hashAt: (h) => tree.getByHeight(h)?.hash,
  }
}

/** Watches scripts over a PeerSource; see the module comment. */
export class ScriptWatcher extends EventEmitter<ScriptWatcherEvents> implements AsyncIterable<WatcherEvent> {
  readonly #source: PeerSource
  readonly #network: NetworkParams
  readonly #clock: Clock
  readonly #store: LightStore | undefined
  readonly #opts: ScriptWatcherOptions
  readonly #peerWaitMs: number
  #sync: HeaderSync | undefined
  #fetcher: BlockFetcher | undefined
  #machine: LightMachine | undefined
  #view: ChainView | undefined
  /** Filter peers by machine id, and back. */
  readonly #ids = new Map<Peer, number>()
  readonly #peers = new Map<number, Peer>()
  readonly #listeners = new Map<Peer, (m: Message) => void>()
  #nextId = 1
  #unwatch: (() => void) | undefined
  #timer: Cancel | undefined
  #timerAt: number | undefined
  #draining = false
  #writes: Promise<void> = Promise.resolve()
  #stateDirty = false
  readonly #waiters = new Set<Waiter>()
  #waitTimer: Cancel | undefined
  #noPeersSince: number | undefined
  #started: Promise<void> | undefined
  #running = false
  #following = false
  /** 'synced' was emitted for the current caught-up stretch. */
  #syncedReported = false
  readonly #queues = new Set<EventQueue<WatcherEvent>>()
  /** Unconfirmed matches reported, by txid hex (insertion order: oldest first). */
  readonly #unconfirmed = new Map<string, UnconfirmedTx>()

  constructor(opts: ScriptWatcherOptions) {
    super()
    this.#opts = opts
    this.#source = opts.source
    this.#network = opts.network
    this.#clock = opts.clock ?? new RealtimeClock()
    this.#store = opts.store
    this.#peerWaitMs = opts.peerWaitMs ?? DEFAULT_WATCHER_PEER_WAIT_MS
    if (!(this.#peerWaitMs >= 0) || !Number.isFinite(this.#peerWaitMs)) throw new RangeError(`peerWaitMs must be a finite number >= 0, got ${this.#peerWaitMs}`)
  }

  // --- api -----------------------------------------------------------------------

  /**
   * Load the store, start the header sync and attach to the source's
   * filter peers. Idempotent. Rejects with LightStateError when the store
   * holds a state of another network or one this version cannot read.
   */
  start(): Promise<void> {
    this.#started ??= this.#start()
    return this.#started
  }

  async #start(): Promise<void> {
    const headers = this.#store ? await this.#store.loadFilterHeaders() : new Uint8Array(0)
    const state = this.#store ? ((await this.#store.loadState()) as LightState | undefined) : undefined
    this.#machine = new LightMachine(
      {
        genesisHash: this.#network.genesisHash,
        requestTimeoutMs: this.#opts.requestTimeoutMs,
        maxBlocksInFlight: this.#opts.maxBlocksInFlight,
        filtersPerRequest: this.#opts.filtersPerRequest,
      },
      this.#store ? { headers, state: state ?? undefined } : undefined,
    )
    const sync =
      this.#opts.headerSync ??
      new HeaderSync({
        source: this.#source,
        network: this.#network,
        clock: this.#clock,
        store: this.#opts.headerStore,
        requestTimeoutMs: this.#opts.headersTimeoutMs,
        unixTimeOffsetMs: this.#opts.unixTimeOffsetMs,
      })
    this.#sync = sync
    this.#running = true
    sync.on('synced', this.#onHeadersSynced)
    sync.on('tip', this.#onTip)
    sync.on('reorg', this.#onReorg)
    sync.on('progress', this.#onHeaderProgress)
    await sync.start()
    if (!this.#running) return
    this.#fetcher = new BlockFetcher({ source: this.#source, network: this.#network, tree: sync.tree, clock: this.#clock, maxInFlightPerPeer: 4 })
    this.#unwatch = watchPeers(this.#source, this.#onPeer, this.#onPeerClosed)
    this.#opts.mempool?.on('tx', this.#onMempoolTx)
    if (sync.isSynced) this.#onHeadersSynced()
    this.#drain()
  }

  /**
   * Watch addresses of the network or output scripts (Uint8Array, or hex),
   * from `birthday` (a height; default 0, the whole chain): blocks from
   * there are scanned for them, again if already scanned. Returns their
   * scripts. Rejects with WatcherError 'bad-script' (nothing is watched
   * then) or 'not-started'.
   */
  async watch(items: readonly (string | Uint8Array)[], opts: { readonly birthday?: number } = {}): Promise<Uint8Array[]> {
    await this.start()
    const scripts = items.map((x) => this.#scriptOf(x))
    const birthday = opts.birthday ?? 0
    if (!Number.isSafeInteger(birthday) || birthday < 0) throw new RangeError(`birthday must be a height >= 0, got ${birthday}`)
    this.#machine!.addScripts(this.#clock.now(), scripts, birthday)
    this.#drain()
    return scripts
  }

  /** Unconfirmed matches from the mempool not yet seen in a block, oldest first. */
  unconfirmed(): UnconfirmedTx[] {
    return [...this.#unconfirmed.values()]
  }

  /** The found transactions, in the order found. */
  transactions(): WalletTx[] {
    return this.#machine?.wallet.transactions() ?? []
  }

  /** Satoshis of the outputs found and not spent. */
  get balance(): bigint {
    return this.#machine?.wallet.balance ?? 0n
  }

  /** The machine (for inspection: wallet, filter headers, progress). Throws before start(). */
  get machine(): LightMachine {
    if (!this.#machine) throw new WatcherError('not-started', 'ScriptWatcher: start() first')
    return this.#machine
  }

  /** The header sync followed. Throws before start(). */
  get headerSync(): HeaderSync {
    if (!this.#sync) throw new WatcherError('not-started', 'ScriptWatcher: start() first')
    return this.#sync
  }

  /** True while filter headers and the scan are at the header tip. */
  get isSynced(): boolean {
    return this.#machine?.synced === true && this.#sync?.isSynced === true && this.#following
  }

  /**
   * Resolves with the tip once filter headers and the scan reach it (at
   * once if they have). Rejects with WatcherError 'no-peers' after
   * peerWaitMs without a filter peer, 'stopped' on stop(), or the signal's
   * reason on abort.
   */
  synced(signal?: AbortSignal): Promise<{ height: number; hash: Uint8Array }> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (!this.#running && this.#started !== undefined) return Promise.reject(new WatcherError('stopped', 'ScriptWatcher stopped'))
    if (this.isSynced) return Promise.resolve(this.#tip())
    return new Promise((resolve, reject) => {
      const onAbort = (): void => w.reject(signal!.reason)
      const done = (): void => {
        this.#waiters.delete(w)
        signal?.removeEventListener('abort', onAbort)
        this.#watchStarvation()
      }
      const w: Waiter = {
        since: this.#clock.now(),
        resolve: (tip) => {
          done()
          resolve(tip)
        },
        reject: (e) => {
          done()
          reject(e)
        },
      }
      this.#waiters.add(w)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#watchStarvation()
    })
  }

  /** The events from now on as an async iterator; it ends on stop() or when the signal aborts. */
  events(opts: { readonly signal?: AbortSignal; readonly limit?: number } = {}): EventQueue<WatcherEvent> {
    const q: EventQueue<WatcherEvent> = new EventQueue<WatcherEvent>({ signal: opts.signal, limit: opts.limit, onEnd: () => this.#queues.delete(q) })
    if (this.#started !== undefined && !this.#running) q.close()
    else if (!q.closed) this.#queues.add(q)
    return q
  }

  /** `for await (const ev of watcher)`: events() without a signal. */
  [Symbol.asyncIterator](): AsyncIterator<WatcherEvent> {
    return this.events()
  }

  /** Resolves when every store write queued so far has finished. */
  flush(): Promise<void> {
    return this.#writes
  }

  /**
   * Stop: detach from the peers and the header sync (stopped too if it was
   * made here), end the iterators, reject pending synced() calls
   * ('stopped'), and let the store writes finish (the store is the
   * caller's to close).
   */
  async stop(): Promise<void> {
    await this.#started?.catch(() => undefined)
    const error = new WatcherError('stopped', 'ScriptWatcher stopped')
    for (const w of [...this.#waiters]) w.reject(error)
    if (this.#running) {
      this.#running = false
      this.#unwatch?.()
      this.#unwatch = undefined
      this.#opts.mempool?.off('tx', this.#onMempoolTx)
      for (const p of [...this.#ids.keys()]) this.#detach(p)
      const sync = this.#sync
      if (sync) {
        sync.off('synced', this.#onHeadersSynced)
        sync.off('tip', this.#onTip)
        sync.off('reorg', this.#onReorg)
        sync.off('progress', this.#onHeaderProgress)
        if (!this.#opts.headerSync) {
          sync.stop()
          await sync.flush()
        }
      }
      this.#timer?.()
      this.#timer = undefined
      this.#waitTimer?.()
      this.#waitTimer = undefined
      for (const q of [...this.#queues]) q.close()
      this.#queues.clear()
      if (this.#machine) this.#saveState()
    }
    await this.#writes
  }

  // --- the header chain ----------------------------------------------------------

  readonly #onHeadersSynced = (): void => {
    if (!this.#running || !this.#machine || !this.#sync) return
    this.#view ??= viewOf(this.#sync.tree)
    if (!this.#following) {
      this.#following = true
      this.#machine.chainUpdated(this.#clock.now(), this.#view)
    }
    this.#drain()
  }

  readonly #onTip = (): void => {
    if (!this.#running || !this.#following || !this.#machine) return
    this.#machine.chainUpdated(this.#clock.now(), this.#view!)
    this.#drain()
  }

  readonly #onReorg = (r: { readonly fork: { readonly height: number } }): void => {
    if (!this.#running || !this.#following || !this.#machine) return
    this.#machine.reorg(this.#clock.now(), r.fork.height, this.#view!)
    this.#drain()
  }

  readonly #onHeaderProgress = (): void => {
    if (this.#machine) this.#report({ type: 'progress', progress: this.#machine.progress() })
  }

  // --- the mempool -------------------------------------------------------------

  readonly #onMempoolTx = (t: MempoolTx): void => {
    const m = this.#machine
    if (!this.#running || !m) return
    const key = hashToHex(t.txid)
    if (this.#unconfirmed.has(key) || m.wallet.hasTransaction(t.txid)) return
    const match = m.wallet.match(t.tx)
    if (match.outputs.length === 0 && match.inputs.length === 0) return
    const u: UnconfirmedTx = { txid: t.txid, tx: t.tx, outputs: match.outputs, inputs: match.inputs, receivedFrom: t.receivedFrom }
    this.#unconfirmed.set(key, u)
    for (const k of this.#unconfirmed.keys()) {
      if (this.#unconfirmed.size <= MAX_UNCONFIRMED_KEPT) break
      this.#unconfirmed.delete(k)
    }
    this.emit('unconfirmed', u)
    for (const q of this.#queues) q.push({ type: 'unconfirmed', tx: u })
  }

  // --- peers ---------------------------------------------------------------------

  readonly #onPeer = (peer: Peer): void => {
    if (!this.#running || this.#ids.has(peer) || peer.state !== 'ready') return
    const services = peer.info?.peer.services ?? 0n
    if ((services & Services.NODE_COMPACT_FILTERS) === 0n) return
    const id = this.#nextId++
    this.#ids.set(peer, id)
    this.#peers.set(id, peer)
    const onMessage = (m: Message): void => {
      if (m.command !== 'cfilter' && m.command !== 'cfheaders' && m.command !== 'cfcheckpt') return
      if (!this.#running) return
      this.#machine!.message(this.#clock.now(), id, m)
      this.#drain()
    }
    this.#listeners.set(peer, onMessage)
    peer.on('message', onMessage)
    this.#machine!.addPeer(this.#clock.now(), id)
    this.#drain()
    this.#watchStarvation()
  }

  readonly #onPeerClosed = (peer: Peer): void => {
    const id = this.#ids.get(peer)
    if (id === undefined) return
    this.#detach(peer)
    this.#machine!.removePeer(this.#clock.now(), id)
    this.#drain()
    this.#watchStarvation()
  }

  #detach(peer: Peer): void {
    const id = this.#ids.get(peer)
    if (id === undefined) return
    this.#ids.delete(peer)
    this.#peers.delete(id)
    const l = this.#listeners.get(peer)
    if (l) peer.off('message', l)
    this.#listeners.delete(peer)
  }

  // --- the machine's actions -----------------------------------------------------

  /** Carry out the machine's actions, then re-arm its timer. Re-entrant calls return at once. */
  #drain(): void {
    const m = this.#machine
    if (!m || this.#draining) return
    this.#draining = true
    try {
      for (let a = m.poll(); a; a = m.poll()) this.#act(a)
    } finally {
      this.#draining = false
    }
    if (this.#stateDirty) this.#saveState()
    this.#arm()
    this.#checkWaiters()
  }

  #act(a: LightAction): void {
    switch (a.type) {
      case 'send': {
        const peer = this.#peers.get(a.peer)
        if (!peer || peer.state !== 'ready') return
        try {
          peer.send(a.message)
        } catch {
          // Closing: its 'peer-closed' tells the machine.
        }
        return
      }
      case 'fetch-block':
        return this.#fetchBlock(a.hash)
      case 'punish': {
        const peer = this.#peers.get(a.peer)
        if (!peer) return
        this.#detach(peer)
        this.emit('peer-dropped', peer, a.offense)
        this.#source.drop(peer, a.offense as ServiceOffense)
        return
      }
      case 'stalled': {
        const peer = this.#peers.get(a.peer)
        if (!peer) return
        this.#detach(peer)
        this.emit('peer-stalled', peer, a.request)
        peer.close(`unresponsive: ${a.request} unanswered for ${Math.round(a.waitedMs)} ms`)
        return
      }
      case 'save-headers': {
        const store = this.#store
        if (!store) return
        const { height, headers } = a
        this.#write(() => store.putFilterHeaders(height, headers))
        return
      }
      case 'save-state':
        this.#stateDirty = true
        return
      case 'event':
        return this.#onEvent(a.event)
    }
  }

  #onEvent(e: LightEvent): void {
    switch (e.type) {
      case 'tx':
        // Confirmed: no longer an unconfirmed one.
        this.#unconfirmed.delete(hashToHex(e.tx.txid))
        this.emit('tx', e.tx)
        return this.#report(e)
      case 'reorg':
        this.emit('reorg', { fork: e.fork, unconfirmed: e.unconfirmed })
        return this.#report(e)
      case 'progress':
        return this.#report(e)
      case 'synced':
        // Reported by #checkSynced, once the header sync is synced too.
        return
      case 'stuck':
        this.emit('stuck', { height: e.height, reason: e.reason })
        return
      case 'dispute':
      case 'dispute-resolved':
        return
    }
  }

  /** Emit (and queue for the iterators) a public event. */
  #report(e: LightEvent): void {
    let ev: WatcherEvent
    if (e.type === 'progress') {
      const progress: WatcherProgress = { ...e.progress, peerHeight: Math.max(this.#sync?.peerHeight ?? 0, e.progress.tip) }
      this.emit('progress', progress)
      ev = { type: 'progress', progress }
    } else if (e.type === 'tx' || e.type === 'reorg' || e.type === 'synced') {
      ev = e
    } else {
      return
    }
    for (const q of this.#queues) q.push(ev)
  }

  #fetchBlock(hash: Uint8Array): void {
    const fetcher = this.#fetcher
    if (!fetcher) return
    const d = fetcher.fetch([hash])
    let parts: Uint8Array[] = []
    let size = 0
    d.on('chunk', (c) => {
      // A retried block streams again from chunk 0.
      if (c.chunkIndex === 0) {
        parts = []
        size = 0
      }
      parts.push(c.bytes)
      size += c.bytes.length
    })
    d.on('block', () => {
      const bytes = new Uint8Array(size)
      let off = 0
      for (const p of parts) {
        bytes.set(p, off)
        off += p.length
      }
      parts = []
      if (!this.#running) return
      let block
      try {
        block = parseBlock(bytes, this.#network)
      } catch (e) {
        // The fetcher parsed and checked these bytes already: this cannot happen short of a bug.
        this.#machine!.blockFailed(this.#clock.now(), hash, e instanceof WireError ? e.message : String(e))
        return this.#drain()
      }
      this.#machine!.blockArrived(this.#clock.now(), hash, block)
      this.#drain()
    })
    d.done.catch((e: unknown) => {
      if (!this.#running) return
      this.#machine!.blockFailed(this.#clock.now(), hash, e instanceof Error ? e.message : String(e))
      this.#drain()
    })
  }

  // --- persistence -----------------------------------------------------------------

  #write(op: () => Promise<void>): void {
    this.#writes = this.#writes.then(op).catch((e: unknown) => {
      this.emit('error', e)
    })
  }

  #saveState(): void {
    this.#stateDirty = false
    const store = this.#store
    const m = this.#machine
    if (!store || !m) return
    // Taken now, written in turn: the state matches the headers written before it.
    const state = m.state()
    this.#write(() => store.saveState(state as unknown as Parameters<LightStore['saveState']>[0]))
  }

  // --- time ------------------------------------------------------------------------

  /** One timer, at the machine's next deadline. */
  #arm(): void {
    const at = this.#running ? this.#machine?.nextDeadline() : undefined
    if (at === this.#timerAt) return
    this.#timer?.()
    this.#timer = undefined
    this.#timerAt = at
    if (at === undefined) return
    this.#timer = this.#clock.setTimer(Math.max(0, at - this.#clock.now()), () => {
      this.#timer = undefined
      this.#timerAt = undefined
      if (!this.#running) return
      this.#machine!.timeout(this.#clock.now())
      this.#drain()
    })
  }

  #tip(): { height: number; hash: Uint8Array } {
    const tip = this.#sync!.tree.tip
    return { height: tip.height, hash: tip.hash }
  }

  #checkWaiters(): void {
    if (!this.isSynced) {
      this.#syncedReported = false
      return
    }
    const tip = this.#tip()
    if (!this.#syncedReported) {
      this.#syncedReported = true
      this.emit('synced', tip)
      this.#report({ type: 'synced', height: tip.height, hash: tip.hash })
    }
    for (const w of [...this.#waiters]) w.resolve(tip)
  }

  /** Keep the no-peers timer armed while synced() calls wait and there is no filter peer. */
  #watchStarvation(): void {
    const starving = this.#waiters.size > 0 && this.#ids.size === 0
    if (!starving) {
      if (this.#ids.size > 0) this.#noPeersSince = undefined
      this.#waitTimer?.()
      this.#waitTimer = undefined
      return
    }
    const now = this.#clock.now()
    this.#noPeersSince ??= now
    let at = Infinity
    for (const w of this.#waiters) at = Math.min(at, Math.max(w.since, this.#noPeersSince) + this.#peerWaitMs)
    this.#waitTimer?.()
    this.#waitTimer = this.#clock.setTimer(Math.max(0, at - now), () => {
      this.#waitTimer = undefined
      const t = this.#clock.now()
      for (const w of [...this.#waiters]) {
        const since = Math.max(w.since, this.#noPeersSince ?? t)
        if (t >= since + this.#peerWaitMs) w.reject(new WatcherError('no-peers', `no filter peer for ${Math.round(t - since)} ms`, { waitedMs: t - since }))
      }
      this.#watchStarvation()
    })
  }

  // --- scripts ---------------------------------------------------------------------

  #scriptOf(x: string | Uint8Array): Uint8Array {
    return watchedScript(x, this.#network)
  }
}

/**
 * The output script `x` stands for: a copy of a script given as bytes, the
 * script of an address of `network`, or a script in hex. Throws
 * WatcherError 'bad-script' for anything else (with the address error as
 * cause).
 */
export function watchedScript(x: string | Uint8Array, network: NetworkParams): Uint8Array {
  if (x instanceof Uint8Array) {
    if (x.length === 0 || x.length > MAX_WATCHED_SCRIPT_BYTES) throw new WatcherError('bad-script', `a watched script must be 1..${MAX_WATCHED_SCRIPT_BYTES} bytes, got ${x.length}`)
    return x.slice()
  }
  try {
    return addressToScript(x, network)
  } catch (e) {
    if (!isAddressError(e)) throw e
    // Not an address: a script in hex?
    if (/^(?:[0-9a-fA-F]{2})+$/.test(x) && x.length <= 2 * MAX_WATCHED_SCRIPT_BYTES) return fromHex(x.toLowerCase())
    throw new WatcherError('bad-script', `'${x.length > 100 ? `${x.slice(0, 100)}...` : x}' is neither a ${network.name} address (${e.code}: ${e.message}) nor a script in hex`, {
      input: x,
      cause: e,
    })
  }
}
