/**
 * LightMachine: the sans-IO core of the BIP157/158 light client. Filter
 * header sync, cross-checks between filter peers, filter disputes, the
 * filter scan and the wallet, as one state machine that takes `(now,
 * input)` and queues actions; it never reads a clock and does no IO.
 *
 * The driver (ScriptWatcher) feeds it the header chain (`chainUpdated`,
 * `reorg`), the filter peers (`addPeer`, `removePeer`), their BIP157
 * replies (`message`), the blocks it asked for (`blockArrived`,
 * `blockFailed`) and the time (`timeout` at `nextDeadline()`); it carries
 * out what `poll()` returns: send a message, fetch a block, punish or
 * disconnect a peer, persist, report.
 *
 * Filter headers (BIP157 "Client Operation"):
 *  1. From every filter peer, `getcfcheckpt` up to the tip: its filter
 *     headers at heights 1000, 2000, ...
 *  2. `getcfheaders` in batches of FILTER_HEADERS_PER_REQUEST (2,000), one
 *     batch at a time, from one peer chosen by the RequestScheduler; each
 *     batch must chain onto our last header, and its headers must equal
 *     the serving peer's own checkpoints (a peer whose cfheaders contradict
 *     its cfcheckpt is provably wrong: 'invalid-filter').
 *  3. Cross-checks: every filter peer's checkpoints are compared with our
 *     headers, and once we hold headers up to the tip each peer is asked
 *     for its header at the tip (a one-block getcfheaders). A filter header
 *     commits to every filter below it, so agreeing at height h is agreeing
 *     on every filter up to h (`agreedTo`).
 *  4. A peer that disagrees starts a dispute: its filter hashes and ours
 *     (from a peer that agrees with us) for the range up to the first
 *     disagreement are compared; at the first height whose filters differ
 *     both filters and the block are fetched, each filter is checked
 *     against its own peer's hashes and against the block
 *     (checkFilterAgainstBlock: every output script must be in it). The
 *     peer whose filter is wrong is punished; if ours was wrong, our
 *     headers roll back to below that height and re-sync, and the scan
 *     restarts there. When the block cannot tell (both filters hold every
 *     output script), nobody is punished, the disagreeing peer is no longer
 *     used, and that block is fetched by the scan whatever the filter says.
 *
 * Filters and the scan:
 *  - `getcfilters` in batches of at most FILTERS_PER_REQUEST (1,000) over
 *    the RequestScheduler; each cfilter is checked against our filter
 *    header chain and matched against every watched script at once
 *    (`filterMatchesAny`) as it arrives, then dropped: no filter is kept.
 *    A filter that does not match a header its peer agreed to is provably
 *    wrong ('invalid-filter'); from a peer not yet cross-checked that far,
 *    the batch moves to another peer and the peer is checked first.
 *  - A matching block is fetched (at most `maxBlocksInFlight` at once) and
 *    applied to the WatchWallet in height order: the scan height advances
 *    over filters checked and matched blocks applied.
 *  - A request unanswered for `requestTimeoutMs` (a cfilters batch: since
 *    its last filter) makes the peer 'stalled': the driver disconnects it
 *    (unresponsive, not invalid) and its work moves to another peer.
 *
 * Reorgs: `reorg(now, fork)` rolls the filter headers back to the fork,
 * takes the disconnected blocks' transactions out of the wallet (reported
 * in a 'reorg' event), and re-syncs and rescans from there.
 *
 * Persistence: 'save-headers' (write these headers at this height, dropping
 * what is above) and 'save-state' (write `state()`): the scan height, the
 * wallet, and the block hashes of the last RECENT_HASHES_KEPT filter
 * headers, with which a restored machine recognises a chain that changed
 * while it was off (`restore`).
 */
import {
  bytesEqual,
  hashToHex,
  hexToHash,
  toHex,
  type Block,
  type KnownMessage,
  type Message,
  type MessageOf,
} from '@bitp2p/wire'
import { filterHash, FilterType } from '@bitp2p/wire/filters'
import { CFCHECKPT_INTERVAL, MAX_GETCFHEADERS_SIZE, MAX_GETCFILTERS_SIZE } from '@bitp2p/wire/limits'
import { RequestScheduler, type SchedulerAction } from '@bitp2p/session/core'
import { checkFilterAgainstBlock, describeFilterCheck } from './filter-check.js'
import { chainFilterHashes, FILTER_HEADER_BYTES, FilterHeaderChain } from './filter-header-chain.js'
import { ScriptMatcher } from './match.js'
import { WatchWallet, type WalletSnapshot, type WalletTx } from './wallet.js'

/** Filter hashes asked in one getcfheaders: BIP157's most. */
export const FILTER_HEADERS_PER_REQUEST = MAX_GETCFHEADERS_SIZE
/** Filters asked in one getcfilters: BIP157's most. */
export const FILTERS_PER_REQUEST = MAX_GETCFILTERS_SIZE
/** Default deadline of a BIP157 request (a cfilters batch: since its last filter). */
export const DEFAULT_FILTER_REQUEST_TIMEOUT_MS = 30_000
/** Default matching blocks asked at once. */
export const DEFAULT_MAX_BLOCKS_IN_FLIGHT = 16
/** Default getcfilters batches assigned at once, over all peers (bounds the blocks found ahead of the scan height). */
export const DEFAULT_MAX_FILTER_BATCHES = 4
/** Default attempts (over peers) per batch of filters or filter headers. */
export const DEFAULT_MAX_FILTER_ATTEMPTS = 4
/** Attempts at fetching one matching block (each one a whole BlockFetcher download with its own failover) before the scan reports it stuck. */
export const MAX_BLOCK_FETCHES = 3
/** Block hashes of the top filter headers kept in the saved state, to notice a reorg that happened while the client was off. */
export const RECENT_HASHES_KEPT = 100
/** Version of the saved state's layout. */
export const LIGHT_STATE_VERSION = 1
/**
 * How long the schedulers let a job wait with no filter peer before
 * reporting it: a day. Jobs are resubmitted when a peer comes; the
 * watcher bounds its own waits (its peerWaitMs).
 */
const JOB_PEER_WAIT_MS = 24 * 60 * 60_000

/** What the machine needs of the header chain: the active chain's hashes by height. A session HeaderTree adapts to it. */
export interface ChainView {
  /** Height of the active tip. */
  readonly height: number
  /** The active chain's block hash at `height` (internal order), or undefined above the tip. */
  hashAt(height: number): Uint8Array | undefined
}

/** Settings of a LightMachine. */
export interface LightMachineConfig {
  /** Genesis block hash (internal order): the saved state names its chain by it. */
  readonly genesisHash: Uint8Array
  /** Default DEFAULT_FILTER_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number
  /** Default DEFAULT_MAX_BLOCKS_IN_FLIGHT. */
  readonly maxBlocksInFlight?: number
  /** Default DEFAULT_MAX_FILTER_BATCHES. */
  readonly maxFilterBatches?: number
  /** Default DEFAULT_MAX_FILTER_ATTEMPTS. */
  readonly maxAttempts?: number
  /** Filters per getcfilters, 1..FILTERS_PER_REQUEST. Default FILTERS_PER_REQUEST. */
  readonly filtersPerRequest?: number
}

/** The offense a peer is punished with: BIP157 data that is provably wrong (session's 'invalid-filter', score 100). */
export interface InvalidFilterOffense {
  readonly kind: 'invalid-filter'
  /** The block concerned, display hex. */
  readonly hash: string
  readonly height: number
  readonly detail: string
}

/** Where the client is. */
export interface LightProgress {
  /** Height of the header chain's tip. */
  readonly tip: number
  /** Filter headers held up to this height (-1: none). */
  readonly filterHeaders: number
  /** Filters checked up to this height (the scan's filters; -1 none). */
  readonly filters: number
  /** Blocks scanned (filters checked and matching blocks applied) up to this height. */
  readonly scanned: number
  /** Matching blocks fetched so far (this run). */
  readonly blocks: number
  /** Matching blocks waiting or in flight. */
  readonly blocksPending: number
}

/** What the machine reports. */
export type LightEvent =
  /** A transaction paying or spending a watched script was found in a block. */
  | { readonly type: 'tx'; readonly tx: WalletTx }
  /** The chain reorganised below the scan height: these transactions are no longer confirmed. */
  | { readonly type: 'reorg'; readonly fork: { readonly height: number; readonly hash: Uint8Array }; readonly unconfirmed: readonly WalletTx[] }
  | { readonly type: 'progress'; readonly progress: LightProgress }
  /** Filter headers and the scan reached the header tip. */
  | { readonly type: 'synced'; readonly height: number; readonly hash: Uint8Array }
  /** A peer's filter headers disagree with ours from `height` on; a dispute starts. */
  | { readonly type: 'dispute'; readonly peer: number; readonly height: number }
  /** A dispute ended: `wrong` names the peers punished; `rolledBackTo` is set when our headers were the wrong ones. */
  | {
      readonly type: 'dispute-resolved'
      readonly peer: number
      readonly height: number
      readonly wrong: readonly number[]
      readonly rolledBackTo: number | undefined
      /** The block could not tell which filter is right (both hold every output script): it is scanned whole. */
      readonly undecided: boolean
    }
  /** A matching block could not be fetched MAX_BLOCK_FETCHES times: the scan waits at `height`. */
  | { readonly type: 'stuck'; readonly height: number; readonly hash: Uint8Array; readonly reason: string }

/** What the driver must do. */
export type LightAction =
  | { readonly type: 'send'; readonly peer: number; readonly message: KnownMessage }
  /** Download the block at `height` (hash internal order) and report it with blockArrived or blockFailed. */
  | { readonly type: 'fetch-block'; readonly height: number; readonly hash: Uint8Array }
  /** The peer served provably wrong filter data: punish it (it is already forgotten here). */
  | { readonly type: 'punish'; readonly peer: number; readonly offense: InvalidFilterOffense }
  /** The peer left a request unanswered past its deadline: disconnect it (unresponsive; it is already forgotten here). */
  | { readonly type: 'stalled'; readonly peer: number; readonly request: string; readonly waitedMs: number }
  /** Store `headers` (concatenated) at `height`.., dropping any stored above (empty `headers`: truncate). */
  | { readonly type: 'save-headers'; readonly height: number; readonly headers: Uint8Array }
  /** Store `state()`. */
  | { readonly type: 'save-state' }
  | { readonly type: 'event'; readonly event: LightEvent }

/** The JSON the machine saves (see `state()`); checked by `restore`. */
export interface LightState {
  readonly version: number
  /** Genesis hash, display hex. */
  readonly genesis: string
  readonly filterHeight: number
  /** Block hashes (display hex) at heights filterHeight - n + 1 .. filterHeight. */
  readonly recent: readonly string[]
  readonly scanHeight: number
  /** Heights whose filter is in an undecided dispute: their blocks are scanned whole. */
  readonly forced: readonly number[]
  readonly wallet: WalletSnapshot
}

/** A saved state that cannot be used. */
export class LightStateError extends Error {
  /** 'LightStateError', also across realms. */
  override readonly name = 'LightStateError'
  /** 'wrong-network': saved for another genesis; 'malformed': not a state this version wrote. */
  readonly code: 'wrong-network' | 'malformed'
  constructor(code: LightStateError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /**
   * The old name of `code`.
   * @deprecated Use `code` (the one discriminant of every bitp2p error); `kind` goes in the next minor release.
   */
  get kind(): LightStateError['code'] {
    return this.code
  }
}

type Req =
  | { readonly kind: 'checkpt'; readonly stopHash: Uint8Array; readonly stopHeight: number; deadline: number; readonly epoch: number }
  | {
      readonly kind: 'headers'
      readonly purpose: 'sync' | 'check' | 'dispute'
      readonly job: number
      readonly start: number
      readonly stop: number
      readonly stopHash: Uint8Array
      deadline: number
      readonly epoch: number
    }
  | {
      readonly kind: 'filters'
      readonly purpose: 'scan' | 'dispute'
      readonly job: number
      readonly start: number
      readonly stop: number
      /** The block hashes start..stop, as the chain was when asked. */
      readonly hashes: readonly Uint8Array[]
      next: number
      deadline: number
      readonly epoch: number
    }

interface PeerRec {
  readonly id: number
  /** BIP157 requests sent and not yet answered, oldest first. */
  readonly pending: Req[]
  /** Its cfcheckpt answer (headers at heights 1000, 2000, ...), while the chain below its stop is unchanged. */
  checkpoints: Uint8Array[] | undefined
  checkptAsked: boolean
  /** Highest height at which its filter header equals ours (-1: none yet). */
  agreedTo: number
  /** A tip check is in flight. */
  checking: boolean
  /** In a dispute, or left undecided by one: not asked for headers or filters. */
  disputed: boolean
}

interface HeaderJob {
  readonly id: number
  readonly start: number
  readonly stop: number
}

interface ScanJob {
  readonly id: number
  readonly start: number
  readonly stop: number
  readonly epoch: number
}

interface Dispute {
  readonly peer: PeerRec
  /** The peer speaking for our headers. */
  ours: PeerRec | undefined
  /** Heights low..high are compared. */
  low: number
  high: number
  theirs: readonly Uint8Array[] | undefined
  oursHashes: readonly Uint8Array[] | undefined
  /** Heights in low..high whose filter hashes differ, in order; the first is being decided. */
  differ: number[]
  theirFilter: Uint8Array | undefined
  ourFilter: Uint8Array | undefined
  block: Block | undefined
  blockAsked: boolean
  /** The first height the block could not decide. */
  undecidedAt: number | undefined
  readonly epoch: number
}

interface BlockReq {
  readonly height: number
  readonly hash: Uint8Array
  readonly epoch: number
  fetches: number
}

/** The light client's core; see the module comment. */
export class LightMachine {
  readonly #genesis: Uint8Array
  readonly #timeoutMs: number
  readonly #maxBlocks: number
  readonly #maxBatches: number
  readonly #perRequest: number
  readonly #out: LightAction[] = []
  #outHead = 0
  readonly #headers: FilterHeaderChain
  readonly #wallet: WatchWallet
  /** Prepared for the watched set, rebuilt when it changes. */
  readonly #matcher = new ScriptMatcher()
  readonly #peers = new Map<number, PeerRec>()
  readonly #hdrSched: RequestScheduler<string>
  readonly #scanSched: RequestScheduler<string>
  #chain: ChainView | undefined
  /** Bumped by every rollback of the filter headers: older header requests and disputes are void. */
  #hdrEpoch = 0
  /** Bumped by every rollback of the scan: older filter batches and blocks are void. */
  #scanEpoch = 0
  #hdrJob: HeaderJob | undefined
  readonly #scanJobs = new Map<number, ScanJob>()
  /** Next height to put in a filter batch. */
  #scanNext = 0
  /** Completed batches beyond the filters watermark, by start height. */
  readonly #doneBatches = new Map<number, number>()
  /** Filters checked up to here, contiguously. */
  #filtersDone = -1
  /** Filters checked and matching blocks applied up to here. */
  #scanHeight = -1
  /** Heights whose filter matched (or forced), not yet applied, ascending. */
  #matched: number[] = []
  readonly #forced = new Set<number>()
  readonly #blockQueue: BlockReq[] = []
  readonly #blocksInFlight = new Map<number, BlockReq>()
  readonly #blocksReady = new Map<number, Block>()
  #blocksFetched = 0
  /** Ranges of our filter headers and the peer that served them (to tell a peer that contradicts itself). */
  #servedBy: { start: number; stop: number; peer: number }[] = []
  #dispute: Dispute | undefined
  /** Peers left undecided by a dispute: not used again (nor punished). */
  readonly #undecided = new Set<number>()
  /** Saved block hashes to reconcile with the chain at the first chainUpdated after restore. */
  #reconcile: string[] | undefined
  #synced = false
  #nextJobTag = 1

  /** A fresh machine, or one resumed from stored filter headers and state (see `restore`). */
  constructor(config: LightMachineConfig, saved?: { readonly headers: Uint8Array; readonly state: LightState | undefined }) {
    this.#genesis = config.genesisHash.slice()
    this.#timeoutMs = config.requestTimeoutMs ?? DEFAULT_FILTER_REQUEST_TIMEOUT_MS
    this.#maxBlocks = config.maxBlocksInFlight ?? DEFAULT_MAX_BLOCKS_IN_FLIGHT
    this.#maxBatches = config.maxFilterBatches ?? DEFAULT_MAX_FILTER_BATCHES
    this.#perRequest = config.filtersPerRequest ?? FILTERS_PER_REQUEST
    if (!Number.isInteger(this.#perRequest) || this.#perRequest < 1 || this.#perRequest > FILTERS_PER_REQUEST) {
      throw new RangeError(`filtersPerRequest must be an integer in 1..${FILTERS_PER_REQUEST}, got ${this.#perRequest}`)
    }
    if (!(this.#timeoutMs > 0) || !(this.#maxBlocks >= 1) || !(this.#maxBatches >= 1)) {
      throw new RangeError('requestTimeoutMs, maxBlocksInFlight and maxFilterBatches must be positive')
    }
    const maxAttempts = config.maxAttempts ?? DEFAULT_MAX_FILTER_ATTEMPTS
    this.#hdrSched = new RequestScheduler({ maxAttempts, maxInFlightPerPeer: 1, peerWaitMs: JOB_PEER_WAIT_MS })
    this.#scanSched = new RequestScheduler({ maxAttempts, maxInFlightPerPeer: 2, peerWaitMs: JOB_PEER_WAIT_MS })
    const state = saved?.state
    if (state !== undefined) checkState(state, this.#genesis)
    const headers = saved?.headers ?? new Uint8Array(0)
    // Headers written after the last state save are not vouched for by its hashes: keep what the state covers.
    const keep = state === undefined ? 0 : Math.min(headers.length / FILTER_HEADER_BYTES, state.filterHeight + 1)
    this.#headers = new FilterHeaderChain(headers.subarray(0, keep * FILTER_HEADER_BYTES))
    this.#wallet = state === undefined ? new WatchWallet() : WatchWallet.restore(state.wallet)
    if (state !== undefined) {
      this.#scanHeight = Math.min(state.scanHeight, this.#headers.height)
      for (const h of state.forced) this.#forced.add(h)
      this.#reconcile = state.recent.slice(Math.max(0, state.recent.length - (this.#headers.height + 1)))
      if (keep * FILTER_HEADER_BYTES < headers.length) this.#emit({ type: 'save-headers', height: keep, headers: new Uint8Array(0) })
    }
    this.#filtersDone = this.#scanHeight
    this.#scanNext = this.#scanHeight + 1
  }

  // --- outputs -----------------------------------------------------------------

  /** The next action, or undefined when there is none. */
  poll(): LightAction | undefined {
    if (this.#outHead >= this.#out.length) {
      this.#out.length = 0
      this.#outHead = 0
      return undefined
    }
    return this.#out[this.#outHead++]
  }

  /** When `timeout` has something to do, if ever. */
  nextDeadline(): number | undefined {
    let first: number | undefined
    for (const p of this.#peers.values()) for (const r of p.pending) if (first === undefined || r.deadline < first) first = r.deadline
    return first
  }

  // --- queries -----------------------------------------------------------------

  /** The wallet: watched scripts, coins and transactions found. */
  get wallet(): WatchWallet {
    return this.#wallet
  }

  /** Filter headers held. */
  get filterHeaders(): FilterHeaderChain {
    return this.#headers
  }

  /** Blocks scanned up to this height (-1: none). */
  get scanHeight(): number {
    return this.#scanHeight
  }

  /** True while filter headers and the scan are at the header tip. */
  get synced(): boolean {
    return this.#synced
  }

  /** Where the client is. */
  progress(): LightProgress {
    return {
      tip: this.#chain?.height ?? -1,
      filterHeaders: this.#headers.height,
      filters: this.#filtersDone,
      scanned: this.#scanHeight,
      blocks: this.#blocksFetched,
      blocksPending: this.#blockQueue.length + this.#blocksInFlight.size,
    }
  }

  /** Filter peers known, by id. */
  peerIds(): number[] {
    return [...this.#peers.keys()]
  }

  /** What to save (JSON-ready); see the module comment. */
  state(): LightState {
    const recent: string[] = []
    const top = this.#headers.height
    const chain = this.#chain
    if (chain !== undefined && this.#reconcile === undefined) {
      for (let h = Math.max(0, top - RECENT_HASHES_KEPT + 1); h <= top; h++) {
        const hash = chain.hashAt(h)
        if (hash) recent.push(hashToHex(hash))
      }
    } else if (this.#reconcile !== undefined) {
      recent.push(...this.#reconcile)
    }
    return {
      version: LIGHT_STATE_VERSION,
      genesis: hashToHex(this.#genesis),
      filterHeight: recent.length === 0 ? -1 : top,
      recent,
      scanHeight: recent.length === 0 ? -1 : Math.min(this.#scanHeight, top),
      forced: [...this.#forced].sort((a, b) => a - b),
      wallet: this.#wallet.snapshot(),
    }
  }

  // --- inputs: scripts -----------------------------------------------------------

  /**
   * Watch `scripts` from `birthday` (a height): blocks from there are
   * scanned for them, again if already scanned.
   */
  addScripts(now: number, scripts: readonly Uint8Array[], birthday: number): void {
    const first = this.#wallet.scripts().length === 0
    let from: number | undefined
    for (const s of scripts) {
      const r = this.#wallet.add(s, birthday)
      if (r !== undefined) from = from === undefined ? r : Math.min(from, r)
    }
    if (from === undefined) return
    this.#emit({ type: 'save-state' })
    // The first scripts start the scan at their birthday (with nothing watched, the scan height only
    // followed the headers); later ones rescan from theirs when it is below the scan height.
    if (first || from <= this.#scanHeight) this.#restartScan(now, from - 1)
    this.#pump(now)
  }

  // --- inputs: the chain -----------------------------------------------------------

  /** The header chain grew (or is first given). The view is kept and read at every step. */
  chainUpdated(now: number, chain: ChainView): void {
    this.#chain = chain
    if (this.#reconcile !== undefined) this.#reconcileSaved(now, chain)
    this.#pump(now)
  }

  /** The chain reorganised: blocks above `forkHeight` were replaced. */
  reorg(now: number, forkHeight: number, chain: ChainView): void {
    this.#chain = chain
    if (this.#reconcile !== undefined) return this.chainUpdated(now, chain)
    this.#rollback(now, forkHeight, true)
    this.#pump(now)
  }

  // --- inputs: peers -------------------------------------------------------------

  /** A ready peer that serves filters (NODE_COMPACT_FILTERS). */
  addPeer(now: number, peer: number): void {
    if (this.#peers.has(peer)) return
    this.#peers.set(peer, { id: peer, pending: [], checkpoints: undefined, checkptAsked: false, agreedTo: -1, checking: false, disputed: false })
    this.#hdrSched.addPeer(now, peer)
    this.#scanSched.addPeer(now, peer)
    this.#pump(now)
  }

  /** The peer is gone (closed, punished or stalled). */
  removePeer(now: number, peer: number): void {
    const p = this.#peers.get(peer)
    if (!p) return
    this.#peers.delete(peer)
    p.pending.length = 0
    this.#hdrSched.removePeer(now, peer, 'gone')
    this.#scanSched.removePeer(now, peer, 'gone')
    const d = this.#dispute
    if (d && d.peer === p) {
      // The disagreeing peer left: nothing to settle. Take up the next one waiting.
      this.#dispute = undefined
      this.#nextDispute(now)
    } else if (d && d.ours === p) {
      // Our speaker left (or was punished): start over with another.
      this.#dispute = undefined
      this.#openDispute(now, d.peer, d.high)
    }
    this.#pump(now)
  }

  /** A message from a filter peer; anything but cfcheckpt, cfheaders and cfilter is ignored. */
  message(now: number, peer: number, msg: Message): void {
    const p = this.#peers.get(peer)
    if (!p) return
    switch (msg.command) {
      case 'cfcheckpt':
        this.#onCheckpt(now, p, msg)
        break
      case 'cfheaders':
        this.#onCfheaders(now, p, msg)
        break
      case 'cfilter':
        this.#onCfilter(now, p, msg)
        break
      default:
        return
    }
    this.#pump(now)
  }

  // --- inputs: blocks ------------------------------------------------------------

  /** A block asked with 'fetch-block' arrived (checked by the fetcher: merkle root, witness commitment). */
  blockArrived(now: number, hash: Uint8Array, block: Block): void {
    const d = this.#dispute
    if (d && d.blockAsked && d.block === undefined && d.differ.length > 0 && bytesEqual(this.#hashAt(d.differ[0]!) ?? EMPTY, hash)) {
      d.block = block
      this.#stepDispute(now)
    }
    for (const [h, r] of this.#blocksInFlight) {
      if (!bytesEqual(r.hash, hash)) continue
      this.#blocksInFlight.delete(h)
      if (r.epoch !== this.#scanEpoch) continue
      this.#blocksFetched++
      this.#blocksReady.set(h, block)
    }
    this.#advance(now)
    this.#pump(now)
  }

  /** A block asked with 'fetch-block' could not be had. */
  blockFailed(now: number, hash: Uint8Array, reason: string): void {
    for (const [h, r] of this.#blocksInFlight) {
      if (!bytesEqual(r.hash, hash)) continue
      this.#blocksInFlight.delete(h)
      if (r.epoch !== this.#scanEpoch) continue
      if (r.fetches >= MAX_BLOCK_FETCHES) {
        this.#emit({ type: 'event', event: { type: 'stuck', height: h, hash: r.hash, reason } })
        // Keep it at the head of the queue: a later peer may have it.
        r.fetches = 0
      }
      this.#blockQueue.unshift(r)
    }
    const d = this.#dispute
    if (d && d.blockAsked && d.block === undefined && d.differ.length > 0 && bytesEqual(this.#hashAt(d.differ[0]!) ?? EMPTY, hash)) {
      // Ask again: a dispute cannot end without the block.
      d.blockAsked = false
      this.#stepDispute(now)
    }
    this.#pump(now)
  }

  // --- inputs: time ----------------------------------------------------------------

  /** Peers whose request passed its deadline are reported 'stalled' and forgotten. */
  timeout(now: number): void {
    for (const p of [...this.#peers.values()]) {
      // Checkpoints are a cross-check, not the sync: a peer that does not send them (btcd does not
      // until it thinks itself synced) is only not compared at checkpoints.
      for (let i = p.pending.length - 1; i >= 0; i--) if (p.pending[i]!.kind === 'checkpt' && now >= p.pending[i]!.deadline) p.pending.splice(i, 1)
      const late = p.pending.find((r) => now >= r.deadline)
      if (!late) continue
      this.#emit({ type: 'stalled', peer: p.id, request: describeReq(late), waitedMs: now - late.deadline + this.#timeoutMs })
      this.removePeer(now, p.id)
    }
    this.#pump(now)
  }

  // --- internals: output ---------------------------------------------------------

  #emit(a: LightAction): void {
    this.#out.push(a)
  }

  #event(e: LightEvent): void {
    this.#emit({ type: 'event', event: e })
  }

  #send(p: PeerRec, message: KnownMessage, req: Req): void {
    p.pending.push(req)
    this.#emit({ type: 'send', peer: p.id, message })
  }

  #punish(now: number, p: PeerRec, height: number, detail: string): void {
    const hash = this.#hashAt(height)
    this.#emit({ type: 'punish', peer: p.id, offense: { kind: 'invalid-filter', hash: hash ? hashToHex(hash) : '?', height, detail } })
    this.removePeer(now, p.id)
  }

  #hashAt(height: number): Uint8Array | undefined {
    return this.#chain?.hashAt(height)
  }

  // --- internals: the pump -------------------------------------------------------

  /** Start whatever is due: checkpoints, header batches, tip checks, filter batches, block fetches; then check for synced. */
  #pump(now: number): void {
    const chain = this.#chain
    if (chain === undefined || this.#reconcile !== undefined) return
    this.#askCheckpoints(now, chain)
    this.#pumpHeaders(now, chain)
    this.#tipChecks(now, chain)
    this.#pumpScan(now)
    this.#pumpBlocks()
    this.#drainSchedulers(now)
    this.#checkSynced(chain)
  }

  #askCheckpoints(now: number, chain: ChainView): void {
    if (chain.height < CFCHECKPT_INTERVAL) return
    for (const p of this.#peers.values()) {
      if (p.checkptAsked || p.disputed) continue
      p.checkptAsked = true
      const stopHash = chain.hashAt(chain.height)!
      this.#send(
        p,
        { command: 'getcfcheckpt', filterType: FilterType.BASIC, stopHash },
        { kind: 'checkpt', stopHash, stopHeight: chain.height, deadline: now + this.#timeoutMs, epoch: this.#hdrEpoch },
      )
    }
  }

  #pumpHeaders(now: number, chain: ChainView): void {
    if (this.#hdrJob !== undefined) return
    const start = this.#headers.height + 1
    if (start > chain.height) return
    const stop = Math.min(chain.height, start + FILTER_HEADERS_PER_REQUEST - 1)
    const id = this.#hdrSched.submit(now)
    this.#hdrJob = { id, start, stop }
  }

  /** Once our headers reach the tip, ask every peer not known to agree that far for its header at the tip. */
  #tipChecks(now: number, chain: ChainView): void {
    const top = this.#headers.height
    if (top < 0 || top !== chain.height) return
    for (const p of this.#peers.values()) {
      if (p.agreedTo >= top || p.checking || p.disputed) continue
      p.checking = true
      const stopHash = chain.hashAt(top)!
      this.#send(
        p,
        { command: 'getcfheaders', filterType: FilterType.BASIC, startHeight: top, stopHash },
        { kind: 'headers', purpose: 'check', job: 0, start: top, stop: top, stopHash, deadline: now + this.#timeoutMs, epoch: this.#hdrEpoch },
      )
    }
  }

  #pumpScan(now: number): void {
    if (this.#wallet.scripts().length === 0) {
      // Nothing to look for: everything with filter headers counts as scanned.
      this.#scanHeight = Math.max(this.#scanHeight, this.#headers.height)
      this.#filtersDone = this.#scanHeight
      this.#scanNext = this.#scanHeight + 1
      return
    }
    while (this.#scanJobs.size < this.#maxBatches && this.#scanNext <= this.#headers.height) {
      const start = this.#scanNext
      const stop = Math.min(this.#headers.height, start + this.#perRequest - 1)
      const id = this.#scanSched.submit(now)
      this.#scanJobs.set(id, { id, start, stop, epoch: this.#scanEpoch })
      this.#scanNext = stop + 1
    }
  }

  #pumpBlocks(): void {
    while (this.#blocksInFlight.size < this.#maxBlocks && this.#blockQueue.length > 0) {
      const r = this.#blockQueue.shift()!
      if (r.epoch !== this.#scanEpoch) continue
      r.fetches++
      this.#blocksInFlight.set(r.height, r)
      this.#emit({ type: 'fetch-block', height: r.height, hash: r.hash })
    }
  }

  #drainSchedulers(now: number): void {
    for (let a = this.#hdrSched.poll(); a; a = this.#hdrSched.poll()) this.#onHeaderAction(now, a)
    for (let a = this.#scanSched.poll(); a; a = this.#scanSched.poll()) this.#onScanAction(now, a)
  }

  #onHeaderAction(now: number, a: SchedulerAction<string>): void {
    const job = this.#hdrJob
    if (!job || a.job !== job.id) return
    if (a.type === 'failed') {
      // Every peer failed it or none is left: try again when one comes.
      this.#hdrJob = undefined
      return
    }
    if (a.type !== 'assign') return
    const p = this.#peers.get(a.peer)
    const stopHash = this.#hashAt(job.stop)
    if (!p || !stopHash) return this.#hdrSched.failed(now, job.id, a.peer, 'unavailable')
    if (p.disputed) return this.#hdrSched.failed(now, job.id, a.peer, 'disputed')
    this.#send(
      p,
      { command: 'getcfheaders', filterType: FilterType.BASIC, startHeight: job.start, stopHash },
      { kind: 'headers', purpose: 'sync', job: job.id, start: job.start, stop: job.stop, stopHash, deadline: now + this.#timeoutMs, epoch: this.#hdrEpoch },
    )
  }

  #onScanAction(now: number, a: SchedulerAction<string>): void {
    const job = this.#scanJobs.get(a.job)
    if (!job) return
    if (a.type === 'failed') {
      // Put the range back: it is asked again when a peer can take it.
      this.#scanJobs.delete(a.job)
      this.#scanNext = Math.min(this.#scanNext, job.start)
      this.#requeueGap(now)
      return
    }
    if (a.type !== 'assign') return
    const p = this.#peers.get(a.peer)
    if (!p || p.disputed) return this.#scanSched.failed(now, job.id, a.peer, 'unavailable')
    const hashes: Uint8Array[] = []
    for (let h = job.start; h <= job.stop; h++) hashes.push(this.#hashAt(h)!)
    this.#send(
      p,
      { command: 'getcfilters', filterType: FilterType.BASIC, startHeight: job.start, stopHash: hashes[hashes.length - 1]! },
      {
        kind: 'filters',
        purpose: 'scan',
        job: job.id,
        start: job.start,
        stop: job.stop,
        hashes,
        next: job.start,
        deadline: now + this.#timeoutMs,
        epoch: job.epoch,
      },
    )
  }

  /** After a failed batch: ranges already submitted beyond `#scanNext` are dropped (cancelled in the scheduler too) and resubmitted in order. */
  #requeueGap(now: number): void {
    for (const [id, j] of [...this.#scanJobs]) {
      if (j.start < this.#scanNext) continue
      // Its requests (if any) become stale by job id; its 'failed' action finds no job and is ignored.
      this.#scanJobs.delete(id)
      this.#scanSched.cancel(now, id, 'requeued')
    }
    for (const s of [...this.#doneBatches.keys()]) if (s >= this.#scanNext) this.#doneBatches.delete(s)
  }

  // --- internals: replies ----------------------------------------------------------

  #take<K extends Req['kind']>(p: PeerRec, kind: K, match: (r: Extract<Req, { kind: K }>) => boolean): Extract<Req, { kind: K }> | undefined {
    const i = p.pending.findIndex((r) => r.kind === kind && match(r as Extract<Req, { kind: K }>))
    if (i < 0) return undefined
    return p.pending.splice(i, 1)[0] as Extract<Req, { kind: K }>
  }

  #onCheckpt(now: number, p: PeerRec, m: MessageOf<'cfcheckpt'>): void {
    const r = this.#take(p, 'checkpt', (x) => bytesEqual(x.stopHash, m.stopHash))
    if (!r || r.epoch !== this.#hdrEpoch || m.filterType !== FilterType.BASIC) return
    const expected = Math.floor(r.stopHeight / CFCHECKPT_INTERVAL)
    if (m.filterHeaders.length !== expected) {
      return this.#punish(now, p, r.stopHeight, `cfcheckpt up to height ${r.stopHeight} carries ${m.filterHeaders.length} headers, not ${expected}`)
    }
    p.checkpoints = m.filterHeaders.map((h) => h.slice())
    this.#compareCheckpoints(now, p, 0, this.#headers.height)
  }

  /** Compare `p`'s checkpoints in (from, to] with our headers: agreement raises agreedTo, the first difference starts a dispute. */
  #compareCheckpoints(now: number, p: PeerRec, from: number, to: number): void {
    const cps = p.checkpoints
    if (!cps || p.disputed) return
    for (let i = 0; i < cps.length; i++) {
      const height = (i + 1) * CFCHECKPT_INTERVAL
      if (height <= from) continue
      if (height > to) break
      if (this.#headers.equalsAt(height, cps[i]!)) {
        p.agreedTo = Math.max(p.agreedTo, height)
        continue
      }
      // It served our headers here itself: its two answers contradict each other.
      if (this.#servedBy.some((s) => s.peer === p.id && s.start <= height && height <= s.stop)) {
        return this.#punish(now, p, height, `its cfcheckpt header at height ${height} contradicts the cfheaders it served`)
      }
      return this.#startDispute(now, p, height)
    }
  }

  #onCfheaders(now: number, p: PeerRec, m: MessageOf<'cfheaders'>): void {
    if (m.filterType !== FilterType.BASIC) return
    // Matched by stop hash and count (two requests may share a stop hash); a wrong count still matches by stop hash, and is punished.
    const r =
      this.#take(p, 'headers', (x) => bytesEqual(x.stopHash, m.stopHash) && x.stop - x.start + 1 === m.filterHashes.length) ??
      this.#take(p, 'headers', (x) => bytesEqual(x.stopHash, m.stopHash))
    if (!r) return
    const n = r.stop - r.start + 1
    if (m.filterHashes.length !== n) {
      if (r.purpose === 'sync' && this.#hdrJob?.id === r.job) this.#hdrSched.failed(now, r.job, p.id, 'count')
      return this.#punish(now, p, r.stop, `cfheaders for heights ${r.start}..${r.stop} carries ${m.filterHashes.length} filter hashes, not ${n}`)
    }
    if (r.epoch !== this.#hdrEpoch) return
    switch (r.purpose) {
      case 'sync':
        return this.#onSyncHeaders(now, p, r, m)
      case 'check':
        return this.#onTipCheck(now, p, r, m)
      case 'dispute':
        return this.#onDisputeHeaders(now, p, r, m)
    }
  }

  #onSyncHeaders(now: number, p: PeerRec, r: Extract<Req, { kind: 'headers' }>, m: MessageOf<'cfheaders'>): void {
    const job = this.#hdrJob
    if (!job || job.id !== r.job) return
    if (!this.#hdrSched.succeeded(now, job.id, p.id)) return
    this.#hdrJob = undefined
    const prev = this.#headers.at(r.start - 1)!
    if (!bytesEqual(prev, m.prevFilterHeader)) {
      if (r.start === 0) return this.#punish(now, p, 0, 'its filter header chain does not start from zero')
      if (this.#servedBy.some((x) => x.peer === p.id && x.start <= r.start - 1 && r.start - 1 <= x.stop)) {
        return this.#punish(now, p, r.start - 1, `its cfheaders from height ${r.start} do not chain onto the filter header it served at ${r.start - 1}`)
      }
      // It disagrees below this batch: settle that first.
      return this.#startDispute(now, p, r.start - 1)
    }
    const headers = chainFilterHashes(prev, m.filterHashes)
    const own = p.checkpoints
    if (own) {
      for (let i = 0; i < own.length; i++) {
        const height = (i + 1) * CFCHECKPT_INTERVAL
        if (height < r.start || height > r.stop) continue
        const at = (height - r.start) * FILTER_HEADER_BYTES
        if (!bytesEqual(headers.subarray(at, at + FILTER_HEADER_BYTES), own[i]!)) {
          return this.#punish(now, p, height, `its cfheaders give a filter header at height ${height} other than its cfcheckpt`)
        }
      }
    }
    const from = this.#headers.height
    this.#headers.append(headers)
    this.#servedBy.push({ start: r.start, stop: r.stop, peer: p.id })
    p.agreedTo = Math.max(p.agreedTo, r.stop)
    this.#emit({ type: 'save-headers', height: r.start, headers })
    // The state names the headers' blocks: saved with them, so a restart keeps them even before any scan.
    this.#emit({ type: 'save-state' })
    this.#progress()
    // Other peers' checkpoints in the new range.
    for (const q of [...this.#peers.values()]) if (q !== p) this.#compareCheckpoints(now, q, from, this.#headers.height)
  }

  #onTipCheck(now: number, p: PeerRec, r: Extract<Req, { kind: 'headers' }>, m: MessageOf<'cfheaders'>): void {
    p.checking = false
    const ours = this.#headers.at(r.stop)
    if (!ours) return // our headers rolled back since: checked again later
    const theirs = chainFilterHashes(m.prevFilterHeader, m.filterHashes)
    if (bytesEqual(theirs, ours)) {
      p.agreedTo = Math.max(p.agreedTo, r.stop)
      return
    }
    this.#startDispute(now, p, r.stop)
  }

  #onCfilter(now: number, p: PeerRec, m: MessageOf<'cfilter'>): void {
    if (m.filterType !== FilterType.BASIC) return
    const r = p.pending.find((x): x is Extract<Req, { kind: 'filters' }> => x.kind === 'filters' && bytesEqual(x.hashes[x.next - x.start]!, m.blockHash))
    if (!r) return // unsolicited, or the rest of a batch given up on
    const height = r.next
    r.next++
    r.deadline = now + this.#timeoutMs
    const last = r.next > r.stop
    if (last) p.pending.splice(p.pending.indexOf(r), 1)
    if (r.purpose === 'dispute') return this.#onDisputeFilter(now, p, height, m.filter)
    const job = this.#scanJobs.get(r.job)
    if (!job || r.epoch !== this.#scanEpoch || job.epoch !== r.epoch) {
      if (last && job) this.#scanSched.succeeded(now, r.job, p.id)
      return
    }
    if (!this.#headers.verifies(height, m.filter)) {
      // The rest of this batch is not wanted from it.
      if (!last) p.pending.splice(p.pending.indexOf(r), 1)
      if (p.agreedTo >= height) {
        this.#scanSched.failed(now, job.id, p.id, 'invalid')
        const served = this.#servedBy.some((x) => x.peer === p.id && x.start <= height && height <= x.stop)
        this.#punish(now, p, height, `its filter for height ${height} does not match the filter header it agreed to`)
        // Our headers from there came from it, and its own filter disowns them: get them again from the others.
        if (served) this.#rollback(now, height - 1, false)
        return
      }
      // It was never checked this far: the batch moves on, and the peer is checked at the tip first.
      this.#scanSched.failed(now, job.id, p.id, 'unverified')
      return
    }
    let matches = this.#forced.has(height)
    if (!matches) {
      try {
        matches = this.#matcher.matches(m.blockHash, m.filter, this.#wallet.scripts())
      } catch {
        // It matched its header, so the header chain vouches for an undecodable filter: fetch the block to be safe.
        matches = true
      }
    }
    if (matches) this.#queueBlock(height, m.blockHash)
    if (last) this.#batchDone(now, job, p)
  }

  #queueBlock(height: number, hash: Uint8Array): void {
    if (this.#matched.includes(height)) return
    // Sorted insert: batches may finish out of order.
    let i = this.#matched.length
    while (i > 0 && this.#matched[i - 1]! > height) i--
    this.#matched.splice(i, 0, height)
    this.#blockQueue.push({ height, hash: hash.slice(), epoch: this.#scanEpoch, fetches: 0 })
    this.#blockQueue.sort((a, b) => a.height - b.height)
  }

  #batchDone(now: number, job: ScanJob, p: PeerRec): void {
    this.#scanJobs.delete(job.id)
    this.#scanSched.succeeded(now, job.id, p.id)
    this.#doneBatches.set(job.start, job.stop)
    while (this.#doneBatches.has(this.#filtersDone + 1)) {
      const stop = this.#doneBatches.get(this.#filtersDone + 1)!
      this.#doneBatches.delete(this.#filtersDone + 1)
      this.#filtersDone = stop
    }
    this.#advance(now)
    this.#emit({ type: 'save-state' })
  }

  /** Move the scan height over checked filters and applied blocks, applying ready blocks in order. */
  #advance(now: number): void {
    const before = this.#scanHeight
    for (;;) {
      const next = this.#matched[0]
      if (next === undefined || next > this.#filtersDone) {
        this.#scanHeight = Math.max(this.#scanHeight, this.#filtersDone)
        break
      }
      this.#scanHeight = Math.max(this.#scanHeight, next - 1)
      const block = this.#blocksReady.get(next)
      if (!block) break
      this.#blocksReady.delete(next)
      this.#matched.shift()
      const found = this.#wallet.applyBlock(next, this.#hashAt(next)!, block)
      for (const tx of found) this.#event({ type: 'tx', tx })
      if (found.length > 0) this.#emit({ type: 'save-state' })
      this.#scanHeight = next
    }
    if (this.#scanHeight !== before) this.#progress()
    void now
  }

  // --- internals: disputes ---------------------------------------------------------

  #startDispute(now: number, p: PeerRec, height: number): void {
    if (p.disputed) return
    p.disputed = true
    this.#hdrSched.drainPeer(now, p.id)
    this.#scanSched.drainPeer(now, p.id)
    this.#event({ type: 'dispute', peer: p.id, height })
    if (this.#dispute !== undefined) return // one at a time; this peer stays unused until it is its turn
    this.#openDispute(now, p, height)
  }

  #openDispute(now: number, p: PeerRec, high: number): void {
    const low = Math.max(0, p.agreedTo + 1, high - FILTER_HEADERS_PER_REQUEST + 1)
    if (low > high) {
      // It agreed with us above the height it now denies.
      return this.#punish(now, p, high, `its filter header at height ${high} contradicts the one it gave at ${p.agreedTo}`)
    }
    const d: Dispute = {
      peer: p,
      ours: undefined,
      low,
      high,
      theirs: undefined,
      oursHashes: undefined,
      differ: [],
      theirFilter: undefined,
      ourFilter: undefined,
      block: undefined,
      blockAsked: false,
      undecidedAt: undefined,
      epoch: this.#hdrEpoch,
    }
    this.#dispute = d
    d.ours = this.#speakerForUs(p, high)
    if (!d.ours) {
      // Nobody else can say what our headers' filters are: believe the peer that is here, from below the disagreement.
      this.#dispute = undefined
      p.disputed = false
      this.#event({ type: 'dispute-resolved', peer: p.id, height: high, wrong: [], rolledBackTo: low - 1, undecided: true })
      this.#rollback(now, low - 1, false)
      return
    }
    this.#askDisputeHeaders(now, d)
  }

  /** A peer that agrees with our headers at `height` or above (or served them), other than `not`. */
  #speakerForUs(not: PeerRec, height: number): PeerRec | undefined {
    let best: PeerRec | undefined
    for (const q of this.#peers.values()) {
      if (q === not || q.disputed) continue
      if (q.agreedTo >= height) return q
      best ??= this.#servedBy.some((s) => s.peer === q.id && s.stop >= height) ? q : undefined
    }
    return best
  }

  #askDisputeHeaders(now: number, d: Dispute): void {
    const stopHash = this.#hashAt(d.high)!
    for (const q of [d.peer, d.ours!]) {
      this.#send(
        q,
        { command: 'getcfheaders', filterType: FilterType.BASIC, startHeight: d.low, stopHash },
        { kind: 'headers', purpose: 'dispute', job: 0, start: d.low, stop: d.high, stopHash, deadline: now + this.#timeoutMs, epoch: d.epoch },
      )
    }
  }

  #onDisputeHeaders(now: number, q: PeerRec, r: Extract<Req, { kind: 'headers' }>, m: MessageOf<'cfheaders'>): void {
    const d = this.#dispute
    if (!d || d.epoch !== r.epoch || r.start !== d.low || r.stop !== d.high) return
    const ourPrev = this.#headers.at(d.low - 1)!
    if (q === d.peer) {
      if (!bytesEqual(m.prevFilterHeader, ourPrev)) {
        if (d.low === 0) return this.#resolve(now, d, [d.peer], undefined, false, `its filter header chain does not start from zero`)
        // It disagrees further down: look there.
        d.high = d.low - 1
        d.low = Math.max(0, d.peer.agreedTo + 1, d.high - FILTER_HEADERS_PER_REQUEST + 1)
        d.theirs = undefined
        d.oursHashes = undefined
        return this.#askDisputeHeaders(now, d)
      }
      d.theirs = m.filterHashes.map((h) => h.slice())
    } else if (q === d.ours) {
      const ours = this.#headers.slice(d.low, d.high)
      if (!bytesEqual(m.prevFilterHeader, ourPrev) || !bytesEqual(chainFilterHashes(ourPrev, m.filterHashes), ours)) {
        // It agreed with (or served) our headers, and now gives others (the dispute reopens with another speaker).
        return this.#punish(now, q, d.high, `its cfheaders for ${d.low}..${d.high} contradict the filter headers it agreed to`)
      }
      d.oursHashes = m.filterHashes.map((h) => h.slice())
    }
    if (!d.theirs || !d.oursHashes) return
    for (let i = 0; i < d.theirs.length; i++) if (!bytesEqual(d.theirs[i]!, d.oursHashes[i]!)) d.differ.push(d.low + i)
    if (d.differ.length === 0) {
      return this.#resolve(now, d, [d.peer], undefined, false, `its cfheaders for ${d.low}..${d.high} give our filter header at ${d.high}, which it denied`)
    }
    this.#askDisputeFilters(now, d)
  }

  #askDisputeFilters(now: number, d: Dispute): void {
    const h = d.differ[0]!
    const hash = this.#hashAt(h)!
    d.theirFilter = undefined
    d.ourFilter = undefined
    d.block = undefined
    d.blockAsked = false
    for (const q of [d.peer, d.ours!]) {
      this.#send(
        q,
        { command: 'getcfilters', filterType: FilterType.BASIC, startHeight: h, stopHash: hash },
        { kind: 'filters', purpose: 'dispute', job: 0, start: h, stop: h, hashes: [hash], next: h, deadline: now + this.#timeoutMs, epoch: d.epoch },
      )
    }
    this.#stepDispute(now)
  }

  #onDisputeFilter(now: number, q: PeerRec, height: number, filter: Uint8Array): void {
    const d = this.#dispute
    if (!d || d.differ[0] !== height) return
    if (q === d.peer) d.theirFilter = filter
    else if (q === d.ours) d.ourFilter = filter
    this.#stepDispute(now)
  }

  #stepDispute(now: number): void {
    const d = this.#dispute
    if (!d || d.differ.length === 0) return
    const h = d.differ[0]!
    if (!d.blockAsked) {
      d.blockAsked = true
      this.#emit({ type: 'fetch-block', height: h, hash: this.#hashAt(h)! })
    }
    if (d.theirFilter === undefined || d.ourFilter === undefined || d.block === undefined) return
    const i = h - d.low
    // Each filter must be the one its own peer's hashes name.
    if (!bytesEqual(filterHash(d.theirFilter), d.theirs![i]!)) {
      return this.#resolve(now, d, [d.peer], undefined, false, `its filter for height ${h} does not match its own cfheaders`)
    }
    if (!bytesEqual(filterHash(d.ourFilter), d.oursHashes![i]!)) {
      return this.#resolve(now, d, [d.ours!], undefined, false, `its filter for height ${h} does not match the filter header it agreed to`)
    }
    const hash = this.#hashAt(h)!
    const theirCheck = checkFilterAgainstBlock(hash, d.theirFilter, d.block)
    const ourCheck = checkFilterAgainstBlock(hash, d.ourFilter, d.block)
    if (!theirCheck.ok && ourCheck.ok) return this.#resolve(now, d, [d.peer], undefined, false, describeFilterCheck(theirCheck))
    if (theirCheck.ok && !ourCheck.ok) return this.#resolve(now, d, [d.ours!], h - 1, false, describeFilterCheck(ourCheck))
    if (!theirCheck.ok && !ourCheck.ok) return this.#resolve(now, d, [d.peer, d.ours!], h - 1, false, describeFilterCheck(ourCheck))
    // The block cannot tell: scan it whole, and look at the next difference.
    this.#forced.add(h)
    if (h <= this.#scanHeight) this.#restartScan(now, h - 1)
    d.undecidedAt ??= h
    d.differ.shift()
    if (d.differ.length > 0) return this.#askDisputeFilters(now, d)
    this.#resolve(now, d, [], undefined, true, '')
  }

  /** End the dispute: punish `wrong`, roll our headers back if they were wrong, and take up the next disputed peer. */
  #resolve(now: number, d: Dispute, wrong: PeerRec[], rollbackTo: number | undefined, undecided: boolean, detail: string): void {
    this.#dispute = undefined
    const height = d.differ[0] ?? d.undecidedAt ?? d.high
    this.#event({ type: 'dispute-resolved', peer: d.peer.id, height, wrong: wrong.map((w) => w.id), rolledBackTo: rollbackTo, undecided })
    for (const w of wrong) if (this.#peers.has(w.id)) this.#punish(now, w, height, detail)
    if (rollbackTo !== undefined) {
      this.#rollback(now, rollbackTo, false)
      // The winner is right from here on: use it again.
      if (!wrong.includes(d.peer) && this.#peers.has(d.peer.id)) this.#reinstate(now, d.peer)
    }
    // Undecided: the peer stays unused (not punished).
    if (undecided) this.#undecided.add(d.peer.id)
    this.#nextDispute(now)
  }

  /**
   * Peers that disagreed while another dispute ran are checked afresh (the
   * dispute may have rolled our headers back, so their disagreement may be
   * gone): they go back to work and are cross-checked again.
   */
  #nextDispute(now: number): void {
    for (const q of this.#peers.values()) {
      if (!q.disputed || this.#undecided.has(q.id)) continue
      q.agreedTo = Math.min(q.agreedTo, this.#headers.height)
      this.#reinstate(now, q)
    }
  }

  #reinstate(now: number, p: PeerRec): void {
    p.disputed = false
    p.checkptAsked = false
    p.checkpoints = undefined
    this.#hdrSched.removePeer(now, p.id, 'reset')
    this.#scanSched.removePeer(now, p.id, 'reset')
    this.#hdrSched.addPeer(now, p.id)
    this.#scanSched.addPeer(now, p.id)
  }

  // --- internals: rollbacks --------------------------------------------------------

  /**
   * Our filter headers above `height` are void (a reorg, or a dispute our
   * side lost): drop them, take what the scan found above it out of the
   * wallet, and start again from there.
   */
  #rollback(now: number, height: number, reorg: boolean): void {
    const fork = Math.max(-1, height)
    if (this.#headers.height > fork) {
      this.#headers.truncate(fork)
      this.#emit({ type: 'save-headers', height: fork + 1, headers: new Uint8Array(0) })
    }
    this.#hdrEpoch++
    if (this.#hdrJob) {
      this.#hdrSched.cancel(now, this.#hdrJob.id, 'rollback')
      this.#hdrJob = undefined
    }
    this.#dispute = undefined
    this.#servedBy = this.#servedBy.filter((s) => s.stop <= fork)
    for (const p of this.#peers.values()) {
      p.agreedTo = Math.min(p.agreedTo, fork)
      p.checking = false
      if (p.checkpoints) p.checkpoints = p.checkpoints.slice(0, Math.max(0, Math.floor((fork + 1) / CFCHECKPT_INTERVAL)))
      // Checkpoints asked up to the old tip would be answered for a chain we left.
      if (reorg) p.checkptAsked = false
      // Requests about the old chain are void (their replies are dropped as unmatched).
      p.pending.length = 0
    }
    for (const h of [...this.#forced]) if (h > fork) this.#forced.delete(h)
    if (this.#scanHeight > fork) {
      const unconfirmed = this.#wallet.disconnect(fork + 1)
      if (reorg) this.#event({ type: 'reorg', fork: { height: fork, hash: this.#hashAt(fork) ?? EMPTY }, unconfirmed })
      this.#restartScan(now, fork)
    } else {
      this.#restartScan(now, this.#scanHeight)
    }
    this.#emit({ type: 'save-state' })
    this.#synced = false
    this.#progress()
    // Peers waiting for a dispute that this rollback ended are checked afresh.
    this.#nextDispute(now)
  }

  /** Scan again from `height` + 1: batches and blocks in flight are void. */
  #restartScan(now: number, height: number): void {
    this.#scanEpoch++
    for (const id of this.#scanJobs.keys()) this.#scanSched.cancel(now, id, 'rescan')
    for (let a = this.#scanSched.poll(); a; a = this.#scanSched.poll()) {
      // The cancelled jobs' 'failed' actions: nothing to do.
    }
    this.#scanJobs.clear()
    this.#doneBatches.clear()
    this.#matched = []
    this.#blockQueue.length = 0
    this.#blocksReady.clear()
    this.#scanHeight = height
    this.#filtersDone = height
    this.#scanNext = height + 1
    this.#synced = false
  }

  /** After restore: compare the saved block hashes with the chain, and roll back to the highest that still matches. */
  #reconcileSaved(now: number, chain: ChainView): void {
    const saved = this.#reconcile!
    this.#reconcile = undefined
    const top = this.#headers.height
    const first = top - saved.length + 1
    let fork = first - 1
    for (let h = top; h >= first; h--) {
      const hash = chain.hashAt(h)
      if (hash && hashToHex(hash) === saved[h - first]) {
        fork = h
        break
      }
    }
    if (fork < top) this.#rollback(now, fork, true)
  }

  #progress(): void {
    this.#event({ type: 'progress', progress: this.progress() })
  }

  #checkSynced(chain: ChainView): void {
    // A birthday above the tip leaves the scan height above it.
    const at = chain.height >= 0 && this.#headers.height === chain.height && this.#scanHeight >= chain.height && this.#dispute === undefined
    if (at && !this.#synced) {
      this.#synced = true
      this.#event({ type: 'synced', height: chain.height, hash: chain.hashAt(chain.height)! })
    } else if (!at) {
      this.#synced = false
    }
  }
}

const EMPTY = new Uint8Array(0)

function describeReq(r: Req): string {
  switch (r.kind) {
    case 'checkpt':
      return `getcfcheckpt up to height ${r.stopHeight}`
    case 'headers':
      return `getcfheaders ${r.start}..${r.stop}`
    case 'filters':
      return `getcfilters ${r.start}..${r.stop} (at ${r.next})`
  }
}

/** Throws LightStateError unless `s` is a state this version saved for `genesis`. */
function checkState(s: LightState, genesis: Uint8Array): void {
  const bad = (why: string): never => {
    throw new LightStateError('malformed', `saved light client state is malformed: ${why}`)
  }
  if (typeof s !== 'object' || s === null) bad('not an object')
  if (s.version !== LIGHT_STATE_VERSION) bad(`version ${String(s.version)}, expected ${LIGHT_STATE_VERSION}`)
  if (typeof s.genesis !== 'string') bad('no genesis')
  let g: Uint8Array
  try {
    g = hexToHash(s.genesis)
  } catch {
    return bad('genesis is not a hash')
  }
  if (!bytesEqual(g, genesis)) throw new LightStateError('wrong-network', `saved light client state is for the chain with genesis ${s.genesis}, not ${hashToHex(genesis)}`)
  for (const k of ['filterHeight', 'scanHeight'] as const) {
    if (!Number.isSafeInteger(s[k]) || s[k] < -1) bad(`${k} is ${String(s[k])}`)
  }
  if (!Array.isArray(s.recent) || s.recent.some((h) => typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h))) bad('recent is not a list of hashes')
  if (s.recent.length > RECENT_HASHES_KEPT || s.recent.length > s.filterHeight + 1) bad('recent holds more hashes than headers')
  if (!Array.isArray(s.forced) || s.forced.some((h) => !Number.isSafeInteger(h) || h < 0)) bad('forced is not a list of heights')
  if (typeof s.wallet !== 'object' || s.wallet === null) bad('no wallet')
  void toHex
}
