/**
 * BlockFetcher: download blocks from several peers at once, each block
 * parsed as a stream and reported chunk by chunk.
 *
 * Scheduling is the shared RequestScheduler (core/scheduler.ts), Core's
 * block download window simplified:
 *  - one getdata (MSG_WITNESS_BLOCK) per block, so each block has its own
 *    deadline; at most `maxInFlightPerPeer` blocks asked of one peer
 *    (Core's MAX_BLOCKS_IN_TRANSIT_PER_PEER, 16);
 *  - a block goes to the least loaded ready peer with room that has not
 *    failed it yet;
 *  - failover: a block whose request stalls (no progress for `timeoutMs`,
 *    or a stream slower than the peer's minimum rate), is answered
 *    notfound, is invalid, or whose peer disconnects is asked of another
 *    peer, ahead of the blocks not asked yet; after `maxAttempts` attempts
 *    the download fails with BlockFetchError 'exhausted';
 *  - every download settles: with no ready peer at all, it waits up to
 *    `peerWaitMs` for one, then fails with BlockFetchError 'no-peers'.
 *
 * One request path. Each attempt is one `Peer.request`: the pieces of the
 * streamed block answering it arrive through its `onPayload` (the peer
 * machine ties a stream to its request by the header's hash), and its
 * promise brings the outcome: found (then the block is checked and
 * reported), notfound, stalled or closed (then the scheduler fails over).
 * A Peer without `streamBlocks` answers with a decoded block: the bytes it
 * was decoded from go through the same parser (the block is then in
 * memory anyway).
 *
 * Streaming. Each piece goes through a BlockStreamParser and out as chunks
 * of `chunkSize` bytes, so no block is held whole. Per chunk a 'chunk'
 * event carries the chunk's bytes and the transactions that ended inside
 * it (index, offset, length, txid, wtxid; the ConduitP2P on_block_chunk
 * shape). After the last chunk the parser checks the merkle root (and
 * CVE-2012-2459 mutation) and, when any transaction has a witness, the
 * BIP141 commitment; then 'block'.
 *
 * Chunk events are provisional until their 'block' event: a block that
 * fails its checks gives 'invalid-block' instead (BlockFetchError with the
 * WireError), its peer is dropped through the source, and the block is
 * streamed again, from chunk 0, by another peer.
 *
 * Iterating a download (`for await (const ev of download)`) yields the same
 * events. Start iterating or listening in the same tick as fetch(): replies
 * arrive from the network, never synchronously. While an iterator holds
 * more than `maxQueuedBytes` of chunks, no new blocks are requested.
 *
 * Time: the fetcher's one timer (the no-peers deadline) runs on `clock`;
 * in a simulation pass the virtual clock.
 */
import { EventEmitter } from 'eventemitter3'
import {
  hashToHex,
  InvType,
  serializeBlock,
  toHex,
  WireError,
  type Block,
  type BlockHeader,
  type Message,
} from '@bitp2p/wire'
import {
  BlockStreamParser,
  type PayloadChunkEvent,
  type PayloadEndEvent,
  type PayloadStartEvent,
} from '@bitp2p/wire/codecs'
import { BLOCK_HEADER_BYTES } from '@bitp2p/wire/limits'
import type { HeaderTree } from '../../core/chain/tree.js'
import { RequestScheduler, type SchedulerFailure } from '../../core/scheduler.js'
import type { DisconnectReason } from '../../core/fsm/reasons.js'
import type { RequestFailure } from '../../core/fsm/requests.js'
import { peerRequestFailure, type Peer } from '../peer.js'
import { RealtimeClock } from '../realtime-clock.js'
import type { Cancel, Clock } from '../../core/ports.js'
import { EventQueue } from './event-queue.js'
import { peerLabel, watchPeers, type PeerSource } from './source.js'

/** Default bytes per chunk event. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024
/** Smallest chunk: a header and the largest transaction count (9-byte CompactSize), so the first chunk names its block. */
export const MIN_CHUNK_BYTES = BLOCK_HEADER_BYTES + 9
/** Core's MAX_BLOCKS_IN_TRANSIT_PER_PEER. */
export const DEFAULT_BLOCKS_IN_FLIGHT_PER_PEER = 16
/** Default deadline of a block request without progress (a streamed block makes progress with every piece). */
export const DEFAULT_BLOCK_TIMEOUT_MS = 30_000
/** Default attempts per block (over different peers) before the download fails. */
export const DEFAULT_MAX_BLOCK_ATTEMPTS = 4
/** Default bytes of chunks an iterator may hold before requests pause. */
export const DEFAULT_MAX_QUEUED_BYTES = 16_000_000
/** Default time a download waits for a ready peer when there is none, before it fails 'no-peers'. */
export const DEFAULT_PEER_WAIT_MS = 60_000

/** Options of a BlockFetcher. */
export interface BlockFetcherOptions {
  readonly source: PeerSource
  /** Block size cap (a NetworkParams or FramingParams object satisfies this). */
  readonly network: { readonly maxBlockPayload: number }
  /** Maps heights to hashes for fetchRange, and hashes to heights in events. */
  readonly tree?: HeaderTree
  /** Bytes per chunk event, at least MIN_CHUNK_BYTES. Default DEFAULT_CHUNK_BYTES. */
  readonly chunkSize?: number
  /** Default DEFAULT_BLOCKS_IN_FLIGHT_PER_PEER. */
  readonly maxInFlightPerPeer?: number
  /** Default DEFAULT_BLOCK_TIMEOUT_MS. */
  readonly timeoutMs?: number
  /** Default DEFAULT_MAX_BLOCK_ATTEMPTS. */
  readonly maxAttempts?: number
  /** Default DEFAULT_MAX_QUEUED_BYTES. */
  readonly maxQueuedBytes?: number
  /** How long a download bears having no ready peer before it fails 'no-peers'. Default DEFAULT_PEER_WAIT_MS. */
  readonly peerWaitMs?: number
  /** The clock of the no-peers deadline. Default: a RealtimeClock (pass the virtual clock in simulations). */
  readonly clock?: Clock
}

/** A transaction that ended inside a chunk. */
export interface ChunkTx {
  /** Position in the block (0 = coinbase). */
  readonly index: number
  /** Byte offset in the block payload. */
  readonly offset: number
  readonly length: number
  readonly txid: Uint8Array
  readonly wtxid: Uint8Array
}

/** Part of a block, in order. Provisional until the block's 'block' event. */
export interface BlockChunkEvent {
  readonly type: 'chunk'
  /** Block hash, internal byte order. */
  readonly hash: Uint8Array
  readonly height: number | undefined
  /** 0, 1, 2... within this attempt at the block. */
  readonly chunkIndex: number
  /** Offset of the chunk's first byte in the block payload. */
  readonly offset: number
  readonly bytes: Uint8Array
  /** Transactions whose last byte is in this chunk. */
  readonly txs: readonly ChunkTx[]
  readonly peer: string
}

/** A block that arrived whole and passed its checks. */
export interface BlockDoneEvent {
  readonly type: 'block'
  readonly hash: Uint8Array
  readonly height: number | undefined
  readonly header: BlockHeader
  readonly txCount: number
  /** Payload bytes. */
  readonly size: number
  /** BIP141 weight. */
  readonly weight: number
  /** The merkle root of the txids matched the header (always true: a mismatch is 'invalid-block'). */
  readonly merkleRootVerified: true
  /** 'verified' when the block has witness data and its commitment matched; 'none' when it has no witness data. */
  readonly witnessCommitment: 'verified' | 'none'
  readonly chunks: number
  readonly peer: string
}

/**
 * What a BlockDownload yields: each block's chunks in order, then its
 * 'block' event once it passed its checks. Chunks are provisional until
 * then: a block that fails is streamed again, from chunk 0, by another peer.
 */
export type BlockFetchEvent = BlockChunkEvent | BlockDoneEvent

/** Why one attempt at a block failed: the peer's request failure, a notfound, or an invalid block. */
export type BlockAttemptFailure = RequestFailure | { readonly kind: 'notfound' } | { readonly kind: 'invalid-block'; readonly error: WireError }

/** Why a block or a download failed. */
export class BlockFetchError extends Error {
  override readonly name = 'BlockFetchError'
  /**
   * 'invalid-block': a peer served bytes that fail the checks (`error`);
   * 'exhausted': maxAttempts attempts failed (`last`: the last one's failure);
   * 'no-peers': no ready peer for peerWaitMs (`waitedMs`);
   * 'cancelled': cancel() was called.
   */
  readonly code: 'invalid-block' | 'exhausted' | 'no-peers' | 'cancelled'
  /** The block, display hex. */
  readonly hash: string | undefined
  readonly peer: string | undefined
  readonly error: WireError | undefined
  /** 'exhausted': the last attempt's failure. */
  readonly last: BlockAttemptFailure | undefined
  /** 'no-peers': how long it waited. */
  readonly waitedMs: number | undefined

  constructor(
    code: BlockFetchError['code'],
    detail: { hash?: string; peer?: string; error?: WireError; reason?: unknown; last?: BlockAttemptFailure; waitedMs?: number },
  ) {
    super(
      code === 'invalid-block'
        ? `invalid block ${detail.hash} from ${detail.peer}: ${detail.error?.code} ${detail.error?.message}`
        : code === 'exhausted'
          ? `block ${detail.hash}: every attempt failed${detail.last ? ` (last: ${detail.last.kind})` : ''}`
          : code === 'no-peers'
            ? `block ${detail.hash}: no peer to ask for ${Math.round(detail.waitedMs ?? 0)} ms`
            : `download cancelled${detail.reason !== undefined ? `: ${String(detail.reason)}` : ''}`,
      { cause: detail.error ?? detail.reason },
    )
    this.code = code
    this.hash = detail.hash
    this.peer = detail.peer
    this.error = detail.error
    this.last = detail.last
    this.waitedMs = detail.waitedMs
  }

  /**
   * The old name of `code`.
   * @deprecated Use `code` (the one discriminant of every bitp2p error); `kind` goes in the next minor release.
   */
  get kind(): BlockFetchError['code'] {
    return this.code
  }
}

/** Events of a BlockDownload. */
export interface BlockDownloadEvents {
  chunk: [event: BlockChunkEvent]
  block: [event: BlockDoneEvent]
  /** A peer served an invalid block; it is dropped and the block asked of another peer. */
  'invalid-block': [error: BlockFetchError]
  /** A block is asked again (after a stall, notfound, disconnect or invalid block). */
  retry: [info: { readonly hash: Uint8Array; readonly attempt: number; readonly previousPeer: string }]
}

/** What a finished download did. */
export interface BlockDownloadSummary {
  readonly blocks: number
  readonly bytes: number
}

/** One fetch(): its blocks, events and iterator. */
export class BlockDownload extends EventEmitter<BlockDownloadEvents> implements AsyncIterable<BlockFetchEvent> {
  /** Resolves when every block has arrived; rejects with BlockFetchError. */
  readonly done: Promise<BlockDownloadSummary>
  /** @internal The download's group in the fetcher's scheduler. */
  readonly _group: number
  /** @internal */
  _finished = false
  private remaining: number
  private bytes = 0
  private blocks = 0
  private readonly queues = new Set<{ q: EventQueue<BlockFetchEvent>; bytes: number }>()
  private resolveDone!: (s: BlockDownloadSummary) => void
  private rejectDone!: (e: BlockFetchError) => void
  private readonly onCancel: (d: BlockDownload) => void
  private readonly maxQueuedBytes: number
  private readonly wake: () => void

  /** @internal Created by BlockFetcher.fetch. */
  constructor(group: number, count: number, maxQueuedBytes: number, onCancel: (d: BlockDownload) => void, wake: () => void) {
    super()
    this._group = group
    this.remaining = count
    this.maxQueuedBytes = maxQueuedBytes
    this.onCancel = onCancel
    this.wake = wake
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve
      this.rejectDone = reject
    })
    // Failure is reported through `done`, the iterator and the events; an
    // unobserved `done` must not become an unhandled rejection.
    this.done.catch(() => undefined)
    if (count === 0) this.finish()
  }

  /** Blocks still to arrive. */
  get pending(): number {
    return this.remaining
  }

  /** True while an iterator holds more than maxQueuedBytes: no new requests. */
  get paused(): boolean {
    for (const e of this.queues) if (e.bytes > this.maxQueuedBytes) return true
    return false
  }

  /** Stop: blocks not yet arrived are not asked again; `done` rejects with 'cancelled'. */
  cancel(reason?: unknown): void {
    if (this._finished) return
    this.fail(new BlockFetchError('cancelled', { reason }))
  }

  /** An iterator over this download's events from now on; ends when the download does (throws its error). */
  stream(opts: { readonly signal?: AbortSignal } = {}): EventQueue<BlockFetchEvent> {
    const entry = { q: undefined as unknown as EventQueue<BlockFetchEvent>, bytes: 0 }
    entry.q = new EventQueue<BlockFetchEvent>({
      limit: Infinity,
      signal: opts.signal,
      onEnd: () => {
        this.queues.delete(entry)
        this.wake()
      },
      onTake: (ev) => {
        if (ev.type !== 'chunk') return
        const wasPaused = entry.bytes > this.maxQueuedBytes
        entry.bytes -= ev.bytes.length
        if (wasPaused && entry.bytes <= this.maxQueuedBytes) this.wake()
      },
    })
    if (this._finished) entry.q.close()
    else if (!entry.q.closed) this.queues.add(entry)
    return entry.q
  }

  /** `for await (const ev of download)`: a fresh `stream()` without a signal. */
  [Symbol.asyncIterator](): AsyncIterator<BlockFetchEvent> {
    return this.stream()
  }

  /** @internal */
  _chunk(ev: BlockChunkEvent): void {
    this.emit('chunk', ev)
    let paused = false
    for (const e of this.queues) {
      if (e.q.push(ev)) e.bytes += ev.bytes.length
      if (e.bytes > this.maxQueuedBytes) paused = true
    }
    if (paused) this.wake()
  }

  /** @internal */
  _block(ev: BlockDoneEvent): void {
    this.remaining--
    this.blocks++
    this.bytes += ev.size
    this.emit('block', ev)
    for (const e of this.queues) e.q.push(ev)
    if (this.remaining === 0) this.finish()
  }

  /** @internal */
  fail(error: BlockFetchError): void {
    if (this._finished) return
    this._finished = true
    this.onCancel(this)
    for (const e of this.queues) e.q.fail(error)
    this.queues.clear()
    this.rejectDone(error)
  }

  private finish(): void {
    this._finished = true
    this.onCancel(this)
    for (const e of this.queues) e.q.close()
    this.queues.clear()
    this.resolveDone({ blocks: this.blocks, bytes: this.bytes })
  }
}

/** A block arriving from one peer, for one attempt. */
interface Incoming {
  readonly parser: BlockStreamParser
  readonly length: number
  /** Bytes of the chunk being filled. */
  chunk: Uint8Array
  fill: number
  /** Offset of `chunk` in the payload. */
  chunkOffset: number
  chunkIndex: number
  /** What the parser said at the end (set once the last byte is in and the checks passed). */
  summary: ReturnType<BlockStreamParser['end']> | undefined
}

/** One request of one block to one peer. */
interface Attempt {
  readonly peer: Peer
  readonly peerId: number
  readonly abort: AbortController
  incoming: Incoming | undefined
  /** Settled (or revoked): nothing it reports counts any more. */
  over: boolean
}

interface Job {
  readonly hash: Uint8Array
  readonly height: number | undefined
  readonly download: BlockDownload
  attempt: Attempt | undefined
}

/** Downloads blocks over a PeerSource; see the module comment. */
export class BlockFetcher {
  private readonly source: PeerSource
  private readonly maxBlockBytes: number
  private readonly tree: HeaderTree | undefined
  private readonly chunkSize: number
  private readonly timeoutMs: number
  private readonly maxQueuedBytes: number
  private readonly clock: Clock
  private readonly sched: RequestScheduler<BlockAttemptFailure>
  private readonly jobs = new Map<number, Job>()
  private readonly downloads = new Map<number, BlockDownload>()
  private readonly peerIds = new Map<Peer, number>()
  private readonly peersById = new Map<number, Peer>()
  /** Ids of peers that left, kept until the failovers naming them are out. */
  private readonly gone: number[] = []
  private nextPeerId = 1
  private nextGroup = 1
  private timerAt: number | undefined
  private timerCancel: Cancel | undefined
  private draining = false
  /** Stops listening to the source; set while running. */
  private unwatch: (() => void) | undefined
  private readonly onPeer = (peer: Peer): void => {
    if (this.peerIds.has(peer) || peer.state !== 'ready') return
    const id = this.nextPeerId++
    this.peerIds.set(peer, id)
    this.peersById.set(id, peer)
    this.sched.addPeer(this.clock.now(), id)
    this.drain()
  }
  private readonly onPeerClosed = (peer: Peer, reason: DisconnectReason): void => this.forgetPeer(peer, { kind: 'closed', reason })

  constructor(opts: BlockFetcherOptions) {
    this.source = opts.source
    this.maxBlockBytes = opts.network.maxBlockPayload
    this.tree = opts.tree
    this.chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_BYTES
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS
    this.maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES
    this.clock = opts.clock ?? new RealtimeClock()
    if (!Number.isSafeInteger(this.chunkSize) || this.chunkSize < MIN_CHUNK_BYTES) {
      throw new RangeError(`chunkSize must be an integer >= ${MIN_CHUNK_BYTES}, got ${this.chunkSize}`)
    }
    const maxInFlightPerPeer = opts.maxInFlightPerPeer ?? DEFAULT_BLOCKS_IN_FLIGHT_PER_PEER
    if (!(maxInFlightPerPeer >= 1)) throw new RangeError(`maxInFlightPerPeer must be >= 1, got ${maxInFlightPerPeer}`)
    this.sched = new RequestScheduler({
      maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_BLOCK_ATTEMPTS,
      maxInFlightPerPeer,
      peerWaitMs: opts.peerWaitMs ?? DEFAULT_PEER_WAIT_MS,
    })
  }

  /** Blocks asked of `peer` and not yet arrived. */
  inFlightTo(peer: Peer): number {
    const id = this.peerIds.get(peer)
    return id === undefined ? 0 : this.sched.inFlight(id)
  }

  /** Download these blocks (hashes in internal byte order). */
  fetch(hashes: readonly Uint8Array[]): BlockDownload {
    const group = this.nextGroup++
    const d = new BlockDownload(group, hashes.length, this.maxQueuedBytes, (x) => this.forget(x), () => this.repause(d))
    if (hashes.length === 0) return d
    if (this.downloads.size === 0) this.subscribe()
    this.downloads.set(group, d)
    const now = this.clock.now()
    for (const hash of hashes) {
      const job: Job = { hash: hash.slice(), height: this.tree?.getByHash(hash)?.height, download: d, attempt: undefined }
      // Known before the scheduler's 'assign' for it is drained.
      this.jobs.set(this.sched.submit(now, { group }), job)
    }
    this.drain()
    return d
  }

  /** Download the active chain's blocks at heights from..to (inclusive), mapped by the tree. */
  fetchRange(from: number, to: number): BlockDownload {
    const tree = this.tree
    if (!tree) throw new RangeError('fetchRange needs a HeaderTree (options.tree)')
    if (!Number.isInteger(from) || !Number.isInteger(to) || from > to || from < tree.baseHeight || to > tree.height) {
      throw new RangeError(`fetchRange: heights ${from}..${to} are not within the tree's ${tree.baseHeight}..${tree.height}`)
    }
    const hashes: Uint8Array[] = []
    for (let h = from; h <= to; h++) hashes.push(tree.getByHeight(h)!.hash)
    return this.fetch(hashes)
  }

  // --- peers ---------------------------------------------------------------

  private subscribe(): void {
    this.unwatch = watchPeers(this.source, this.onPeer, this.onPeerClosed)
  }

  private unsubscribe(): void {
    this.unwatch?.()
    this.unwatch = undefined
    for (const p of [...this.peerIds.keys()]) this.forgetPeer(p, { kind: 'cancelled' })
  }

  private forgetPeer(peer: Peer, failure: BlockAttemptFailure): void {
    const id = this.peerIds.get(peer)
    if (id === undefined) return
    this.peerIds.delete(peer)
    // Its failovers name it: its id is forgotten once they are out (end of drain).
    this.gone.push(id)
    this.sched.removePeer(this.clock.now(), id, failure)
    this.drain()
  }

  // --- the scheduler's decisions ---------------------------------------------

  /** Carry out the scheduler's actions, then re-arm the no-peers timer. Re-entrant calls return at once. */
  private drain(): void {
    if (this.draining) return
    this.draining = true
    try {
      for (let a = this.sched.poll(); a; a = this.sched.poll()) {
        const job = this.jobs.get(a.job)
        switch (a.type) {
          case 'assign':
            if (job) this.request(a.job, job, a.peer)
            break
          case 'revoke':
            if (job) this.endAttempt(job)
            break
          case 'failover': {
            const prev = this.peersById.get(a.from)
            job?.download.emit('retry', { hash: job.hash, attempt: a.attempts + 1, previousPeer: prev ? peerLabel(prev) : `#${a.from}` })
            break
          }
          case 'failed':
            this.jobs.delete(a.job)
            if (job) job.download.fail(this.fetchError(job, a.failure))
            break
        }
      }
    } finally {
      this.draining = false
    }
    for (const id of this.gone.splice(0)) this.peersById.delete(id)
    this.arm()
  }

  private fetchError(job: Job, f: SchedulerFailure<BlockAttemptFailure>): BlockFetchError {
    const hash = hashToHex(job.hash)
    switch (f.kind) {
      case 'exhausted':
        return new BlockFetchError('exhausted', { hash, last: f.last })
      case 'no-peers':
        return new BlockFetchError('no-peers', { hash, waitedMs: f.waitedMs })
      case 'aborted':
      case 'stopped':
        return new BlockFetchError('cancelled', { hash, reason: f.kind === 'aborted' ? f.reason : 'stopped' })
    }
  }

  /** Keep one timer, at the scheduler's next deadline. */
  private arm(): void {
    const at = this.sched.nextDeadline()
    if (at === this.timerAt) return
    this.timerCancel?.()
    this.timerCancel = undefined
    this.timerAt = at
    if (at === undefined) return
    this.timerCancel = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => {
      this.timerCancel = undefined
      this.timerAt = undefined
      this.sched.timeout(this.clock.now())
      this.drain()
    })
  }

  /** A download's iterators filled up or drained: pause or resume its new requests. */
  private repause(d: BlockDownload): void {
    if (d._finished) return
    this.sched.setPaused(this.clock.now(), d._group, d.paused)
    this.drain()
  }

  /** A download ended (done, failed or cancelled): forget its jobs. */
  private forget(d: BlockDownload): void {
    if (!this.downloads.delete(d._group)) return
    for (const [id, job] of this.jobs) {
      if (job.download !== d) continue
      this.jobs.delete(id)
      this.endAttempt(job)
    }
    this.sched.dropGroup(this.clock.now(), d._group)
    if (this.downloads.size === 0) this.unsubscribe()
    this.drain()
  }

  // --- one attempt -----------------------------------------------------------

  private request(jobId: number, job: Job, peerId: number): void {
    const peer = this.peersById.get(peerId)!
    const att: Attempt = { peer, peerId, abort: new AbortController(), incoming: undefined, over: false }
    job.attempt = att
    peer
      .request(
        { kind: 'data', items: [{ type: InvType.MSG_WITNESS_BLOCK, hash: job.hash }] },
        { timeoutMs: this.timeoutMs, signal: att.abort.signal, onPayload: (ev) => this.onPayload(jobId, job, att, ev) },
      )
      .then(
        (r) => {
          if (att.over) return
          if (r.kind !== 'data') return
          if (r.notFound.length > 0) return this.attemptFailed(jobId, job, att, { kind: 'notfound' })
          const found = r.found[0]?.message
          if (found?.command === 'block') this.wholeBlock(jobId, job, att, found.block)
          else this.finish(jobId, job, att)
        },
        (e: unknown) => {
          if (att.over) return
          const failure: BlockAttemptFailure = peerRequestFailure(e) ?? { kind: 'closed', reason: { kind: 'local', reason: String(e) } }
          this.attemptFailed(jobId, job, att, failure)
        },
      )
  }

  /** Stop listening to `job`'s attempt and cancel its peer request. */
  private endAttempt(job: Job): void {
    const att = job.attempt
    if (!att) return
    job.attempt = undefined
    att.over = true
    att.abort.abort('block request revoked')
  }

  private attemptFailed(jobId: number, job: Job, att: Attempt, failure: BlockAttemptFailure): void {
    if (job.attempt === att) this.endAttempt(job)
    this.sched.failed(this.clock.now(), jobId, att.peerId, failure)
    this.drain()
  }

  /** The peer served `job` whole and the parser's checks passed: report it. */
  private finish(jobId: number, job: Job, att: Attempt): void {
    const inc = att.incoming
    const summary = inc?.summary
    if (!inc || !summary) {
      // Answered without a stream that passed its checks: cannot happen unless the stream broke, which failed it already.
      return this.attemptFailed(jobId, job, att, { kind: 'closed', reason: { kind: 'local', reason: 'block answered without its bytes' } })
    }
    this.endAttempt(job)
    this.jobs.delete(jobId)
    this.sched.succeeded(this.clock.now(), jobId, att.peerId)
    job.download._block({
      type: 'block',
      hash: job.hash,
      height: job.height,
      header: summary.header,
      txCount: summary.txCount,
      size: summary.length,
      weight: summary.weight,
      merkleRootVerified: true,
      witnessCommitment: summary.hasWitness ? 'verified' : 'none',
      chunks: inc.chunkIndex,
      peer: peerLabel(att.peer),
    })
    this.drain()
  }

  /** `peer` served an invalid block for `job`: report, drop the peer, ask another. */
  private invalid(jobId: number, job: Job, att: Attempt, error: WireError): void {
    const hex = hashToHex(job.hash)
    job.download.emit('invalid-block', new BlockFetchError('invalid-block', { hash: hex, peer: peerLabel(att.peer), error }))
    this.attemptFailed(jobId, job, att, { kind: 'invalid-block', error })
    this.source.drop(att.peer, { kind: 'invalid-block', hash: hex, error })
  }

  // --- incoming bytes --------------------------------------------------------

  private onPayload(jobId: number, job: Job, att: Attempt, ev: PayloadStartEvent | PayloadChunkEvent | PayloadEndEvent): void {
    if (att.over) return
    switch (ev.type) {
      case 'payload-start':
        att.incoming = this.begin(ev.length)
        return
      case 'payload-chunk':
        if (att.incoming) this.feed(jobId, job, att, att.incoming, ev.bytes)
        return
      case 'payload-end':
        if (att.incoming) this.end(jobId, job, att, att.incoming)
        return
    }
  }

  /** A Peer without streamBlocks: the same path over the bytes it decoded from. */
  private wholeBlock(jobId: number, job: Job, att: Attempt, block: Block): void {
    const raw = (block as Block & { readonly raw?: Uint8Array }).raw ?? serializeBlock(block)
    const inc = this.begin(raw.length)
    att.incoming = inc
    this.feed(jobId, job, att, inc, raw)
    if (!att.over) this.end(jobId, job, att, inc)
    if (!att.over) this.finish(jobId, job, att)
  }

  private begin(length: number): Incoming {
    // The frame decoder's cap is the network's block cap, so `length` fits it.
    const parser = new BlockStreamParser({ maxBlockBytes: this.maxBlockBytes, totalLength: length })
    return { parser, length, chunk: new Uint8Array(Math.min(this.chunkSize, length)), fill: 0, chunkOffset: 0, chunkIndex: 0, summary: undefined }
  }

  private feed(jobId: number, job: Job, att: Attempt, inc: Incoming, bytes: Uint8Array): void {
    let off = 0
    while (off < bytes.length && !att.over) {
      const take = Math.min(inc.chunk.length - inc.fill, bytes.length - off)
      inc.chunk.set(bytes.subarray(off, off + take), inc.fill)
      inc.fill += take
      off += take
      if (inc.fill === inc.chunk.length) this.flush(jobId, job, att, inc)
    }
  }

  /** Parse the filled chunk and report it. */
  private flush(jobId: number, job: Job, att: Attempt, inc: Incoming): void {
    const bytes = inc.fill === inc.chunk.length ? inc.chunk : inc.chunk.slice(0, inc.fill)
    const txs: ChunkTx[] = []
    for (const ev of inc.parser.push(bytes)) {
      if (ev.type === 'tx') txs.push({ index: ev.index, offset: ev.offset, length: ev.length, txid: ev.txid, wtxid: ev.wtxid })
      else if (ev.type === 'error') return this.invalid(jobId, job, att, ev.error)
    }
    job.download._chunk({
      type: 'chunk',
      hash: job.hash,
      height: job.height,
      chunkIndex: inc.chunkIndex,
      offset: inc.chunkOffset,
      bytes,
      txs,
      peer: peerLabel(att.peer),
    })
    inc.chunkIndex++
    inc.chunkOffset += inc.fill
    inc.fill = 0
    inc.chunk = new Uint8Array(Math.min(this.chunkSize, inc.length - inc.chunkOffset))
  }

  /** The last byte is in: flush what is left and run the block's checks. */
  private end(jobId: number, job: Job, att: Attempt, inc: Incoming): void {
    if (inc.fill > 0 || inc.chunkOffset === 0) this.flush(jobId, job, att, inc)
    if (att.over) return
    try {
      inc.summary = inc.parser.end()
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      this.invalid(jobId, job, att, e)
    }
  }
}
