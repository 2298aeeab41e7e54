/**
 * BlockFetcher: download blocks from several peers at once, each block
 * parsed as a stream and reported chunk by chunk.
 *
 * Scheduling (Core's block download window, simplified):
 *  - one getdata (MSG_WITNESS_BLOCK) per block, so each block has its own
 *    deadline; at most `maxInFlightPerPeer` blocks asked of one peer
 *    (Core's MAX_BLOCKS_IN_TRANSIT_PER_PEER, 16);
 *  - a block goes to the ready peer with the fewest blocks in flight that
 *    has not failed it yet (ties: the source's order);
 *  - failover: a block whose request stalls (no progress for `timeoutMs`),
 *    is answered notfound, or whose peer disconnects is asked of another
 *    peer, ahead of the blocks not asked yet; after `maxAttempts` attempts
 *    the download fails with BlockFetchError 'exhausted'.
 *
 * Streaming. A Peer created with `streamBlocks: true` delivers block
 * payloads as 'payload' events; each piece goes through a
 * BlockStreamParser and out as chunks of `chunkSize` bytes, so no block is
 * held whole. A Peer without it delivers decoded 'block' messages: the
 * payload bytes it decoded from are fed through the same path (the block
 * is then in memory anyway). Per chunk a 'chunk' event carries the chunk's
 * bytes and the transactions that ended inside it (index, offset, length,
 * txid, wtxid; the ConduitP2P on_block_chunk shape). After the last chunk
 * the parser checks the merkle root (and CVE-2012-2459 mutation) and, when
 * any transaction has a witness, the BIP141 commitment; then 'block'.
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
 */
import { EventEmitter } from 'eventemitter3'
import {
  BLOCK_HEADER_BYTES,
  BlockStreamParser,
  hashToHex,
  InvType,
  serializeBlock,
  toHex,
  WireError,
  type Block,
  type BlockHeader,
  type Message,
  type PayloadChunkEvent,
  type PayloadEndEvent,
  type PayloadStartEvent,
} from '@bitp2p/wire'
import type { HeaderTree } from '../chain/tree.js'
import type { Peer } from '../peer.js'
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

/** Why a block or a download failed. */
export class BlockFetchError extends Error {
  override readonly name = 'BlockFetchError'
  /**
   * 'invalid-block': a peer served bytes that fail the checks (`error`);
   * 'exhausted': maxAttempts attempts failed; 'cancelled': cancel() was called.
   */
  readonly kind: 'invalid-block' | 'exhausted' | 'cancelled'
  /** The block, display hex. */
  readonly hash: string | undefined
  readonly peer: string | undefined
  readonly error: WireError | undefined

  constructor(kind: BlockFetchError['kind'], detail: { hash?: string; peer?: string; error?: WireError; reason?: unknown }) {
    super(
      kind === 'invalid-block'
        ? `invalid block ${detail.hash} from ${detail.peer}: ${detail.error?.code} ${detail.error?.message}`
        : kind === 'exhausted'
          ? `block ${detail.hash}: every attempt failed`
          : `download cancelled${detail.reason !== undefined ? `: ${String(detail.reason)}` : ''}`,
      { cause: detail.error ?? detail.reason },
    )
    this.kind = kind
    this.hash = detail.hash
    this.peer = detail.peer
    this.error = detail.error
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

interface Job {
  readonly hash: Uint8Array
  readonly hex: string
  readonly height: number | undefined
  readonly download: BlockDownload
  attempts: number
  assigned: Peer | undefined
  readonly tried: Set<Peer>
  done: boolean
}

/** One fetch(): its blocks, events and iterator. */
export class BlockDownload extends EventEmitter<BlockDownloadEvents> implements AsyncIterable<BlockFetchEvent> {
  /** Resolves when every block has arrived; rejects with BlockFetchError. */
  readonly done: Promise<BlockDownloadSummary>
  /** @internal Blocks not yet asked (retries first). */
  readonly _waiting: Job[] = []
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
  constructor(count: number, maxQueuedBytes: number, onCancel: (d: BlockDownload) => void, wake: () => void) {
    super()
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
    for (const e of this.queues) if (e.q.push(ev)) e.bytes += ev.bytes.length
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
    this._waiting.length = 0
    this.onCancel(this)
    for (const e of this.queues) e.q.fail(error)
    this.queues.clear()
    this.rejectDone(error)
  }

  private finish(): void {
    this._finished = true
    for (const e of this.queues) e.q.close()
    this.queues.clear()
    this.resolveDone({ blocks: this.blocks, bytes: this.bytes })
  }
}

/** A block arriving from one peer. */
interface Incoming {
  readonly parser: BlockStreamParser
  readonly length: number
  /** Bytes of the chunk being filled. */
  chunk: Uint8Array
  fill: number
  /** Offset of `chunk` in the payload. */
  chunkOffset: number
  chunkIndex: number
  job: Job | undefined
  /** Not ours (unsolicited, late, or already failed): read past it. */
  ignore: boolean
}

interface PeerState {
  readonly inFlight: Map<string, Job>
  incoming: Incoming | undefined
  readonly onPayload: (ev: PayloadStartEvent | PayloadChunkEvent | PayloadEndEvent) => void
  readonly onBlock: (m: Extract<Message, { command: 'block' }>) => void
}

/** Downloads blocks over a PeerSource; see the module comment. */
export class BlockFetcher {
  private readonly source: PeerSource
  private readonly maxBlockBytes: number
  private readonly tree: HeaderTree | undefined
  private readonly chunkSize: number
  private readonly maxInFlightPerPeer: number
  private readonly timeoutMs: number
  private readonly maxAttempts: number
  private readonly maxQueuedBytes: number
  private readonly peers = new Map<Peer, PeerState>()
  private readonly downloads: BlockDownload[] = []
  /** Stops listening to the source; set while running. */
  private unwatch: (() => void) | undefined
  private readonly onPeer = (peer: Peer): void => {
    this.attach(peer)
    this.pump()
  }
  private readonly onPeerClosed = (peer: Peer): void => this.detach(peer)

  constructor(opts: BlockFetcherOptions) {
    this.source = opts.source
    this.maxBlockBytes = opts.network.maxBlockPayload
    this.tree = opts.tree
    this.chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_BYTES
    this.maxInFlightPerPeer = opts.maxInFlightPerPeer ?? DEFAULT_BLOCKS_IN_FLIGHT_PER_PEER
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS
    this.maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_BLOCK_ATTEMPTS
    this.maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES
    if (!Number.isSafeInteger(this.chunkSize) || this.chunkSize < MIN_CHUNK_BYTES) {
      throw new RangeError(`chunkSize must be an integer >= ${MIN_CHUNK_BYTES}, got ${this.chunkSize}`)
    }
    if (!(this.maxInFlightPerPeer >= 1)) throw new RangeError(`maxInFlightPerPeer must be >= 1, got ${this.maxInFlightPerPeer}`)
  }

  /** Blocks asked of `peer` and not yet arrived. */
  inFlightTo(peer: Peer): number {
    return this.peers.get(peer)?.inFlight.size ?? 0
  }

  /** Download these blocks (hashes in internal byte order). */
  fetch(hashes: readonly Uint8Array[]): BlockDownload {
    const d = new BlockDownload(hashes.length, this.maxQueuedBytes, (x) => this.forget(x), () => this.pump())
    if (hashes.length === 0) return d
    for (const hash of hashes) {
      d._waiting.push({
        hash: hash.slice(),
        hex: toHex(hash),
        height: this.tree?.getByHash(hash)?.height,
        download: d,
        attempts: 0,
        assigned: undefined,
        tried: new Set(),
        done: false,
      })
    }
    if (this.downloads.length === 0) this.subscribe()
    this.downloads.push(d)
    this.pump()
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
    for (const p of [...this.peers.keys()]) this.detach(p)
  }

  private attach(peer: Peer): void {
    if (this.peers.has(peer) || peer.state !== 'ready') return
    const st: PeerState = {
      inFlight: new Map(),
      incoming: undefined,
      onPayload: (ev) => this.onPayload(peer, st, ev),
      onBlock: (m) => this.onBlockMessage(peer, st, m.block),
    }
    this.peers.set(peer, st)
    peer.on('payload', st.onPayload)
    peer.on('block', st.onBlock)
  }

  private detach(peer: Peer): void {
    const st = this.peers.get(peer)
    if (!st) return
    this.peers.delete(peer)
    peer.off('payload', st.onPayload)
    peer.off('block', st.onBlock)
    for (const job of [...st.inFlight.values()]) this.retry(job, peer)
    this.pump()
  }

  // --- scheduling ----------------------------------------------------------

  private pump(): void {
    for (const d of this.downloads) {
      while (d._waiting.length > 0 && !d.paused) {
        const job = d._waiting[0]!
        const peer = this.choosePeer(job)
        if (!peer) break
        d._waiting.shift()
        this.request(peer, job)
      }
    }
  }

  /** The ready peer with the fewest blocks in flight that has not failed this block. */
  private choosePeer(job: Job): Peer | undefined {
    let best: Peer | undefined
    let bestLoad = Infinity
    for (const p of this.source.peers()) {
      const st = this.peers.get(p)
      if (!st || job.tried.has(p)) continue
      const load = st.inFlight.size
      if (load < this.maxInFlightPerPeer && load < bestLoad) {
        best = p
        bestLoad = load
      }
    }
    if (best) return best
    // Every ready peer failed this block once: give them another chance rather than wait forever.
    const all = this.source.peers().filter((p) => this.peers.has(p))
    if (all.length > 0 && all.every((p) => job.tried.has(p))) {
      job.tried.clear()
      return this.choosePeer(job)
    }
    return undefined
  }

  private request(peer: Peer, job: Job): void {
    const st = this.peers.get(peer)!
    job.attempts++
    job.assigned = peer
    st.inFlight.set(job.hex, job)
    let p: ReturnType<Peer['getData']>
    try {
      p = peer.getData([{ type: InvType.MSG_WITNESS_BLOCK, hash: job.hash }], { timeoutMs: this.timeoutMs })
    } catch {
      this.retry(job, peer)
      return
    }
    p.then(
      (r) => {
        // Found: already handled by the payload/block listeners.
        if (r.notFound.length > 0) this.retry(job, peer)
      },
      () => this.retry(job, peer),
    )
  }

  /** `peer` will not deliver `job`: ask another peer, or fail the download after maxAttempts. */
  private retry(job: Job, peer: Peer): void {
    if (job.done || job.assigned !== peer) return
    job.assigned = undefined
    job.tried.add(peer)
    this.peers.get(peer)?.inFlight.delete(job.hex)
    const d = job.download
    if (d._finished) return
    if (job.attempts >= this.maxAttempts) {
      d.fail(new BlockFetchError('exhausted', { hash: hashToHex(job.hash), peer: peerLabel(peer) }))
      return
    }
    d.emit('retry', { hash: job.hash, attempt: job.attempts + 1, previousPeer: peerLabel(peer) })
    d._waiting.unshift(job)
    this.pump()
  }

  /** A download ended (done, failed or cancelled): forget its jobs. */
  private forget(d: BlockDownload): void {
    for (const st of this.peers.values()) {
      for (const [hex, job] of st.inFlight) {
        if (job.download !== d) continue
        job.done = true
        st.inFlight.delete(hex)
      }
    }
    this.dropDownload(d)
  }

  private dropDownload(d: BlockDownload): void {
    const i = this.downloads.indexOf(d)
    if (i >= 0) this.downloads.splice(i, 1)
    if (this.downloads.length === 0) this.unsubscribe()
    else this.pump()
  }

  // --- incoming blocks -----------------------------------------------------

  private onPayload(peer: Peer, st: PeerState, ev: PayloadStartEvent | PayloadChunkEvent | PayloadEndEvent): void {
    if (ev.command !== 'block') return
    switch (ev.type) {
      case 'payload-start':
        st.incoming = this.begin(ev.length)
        return
      case 'payload-chunk': {
        const inc = st.incoming
        if (inc) this.feed(peer, st, inc, ev.bytes)
        return
      }
      case 'payload-end': {
        const inc = st.incoming
        st.incoming = undefined
        if (inc) this.end(peer, st, inc)
        return
      }
    }
  }

  /** A Peer without streamBlocks: the same path over the bytes it decoded from. */
  private onBlockMessage(peer: Peer, st: PeerState, block: Block): void {
    const raw = (block as Block & { readonly raw?: Uint8Array }).raw ?? serializeBlock(block)
    const inc = this.begin(raw.length)
    this.feed(peer, st, inc, raw)
    this.end(peer, st, inc)
  }

  private begin(length: number): Incoming {
    let parser: BlockStreamParser
    let ignore = false
    try {
      parser = new BlockStreamParser({ maxBlockBytes: this.maxBlockBytes, totalLength: length })
    } catch {
      // Longer than the cap: the frame decoder's cap keeps this from happening; read past it.
      parser = new BlockStreamParser({ maxBlockBytes: this.maxBlockBytes })
      ignore = true
    }
    return { parser, length, chunk: new Uint8Array(Math.min(this.chunkSize, length)), fill: 0, chunkOffset: 0, chunkIndex: 0, job: undefined, ignore }
  }

  private feed(peer: Peer, st: PeerState, inc: Incoming, bytes: Uint8Array): void {
    let off = 0
    while (off < bytes.length && !inc.ignore) {
      const take = Math.min(inc.chunk.length - inc.fill, bytes.length - off)
      inc.chunk.set(bytes.subarray(off, off + take), inc.fill)
      inc.fill += take
      off += take
      if (inc.fill === inc.chunk.length) this.flush(peer, st, inc)
    }
  }

  /** Parse the filled chunk and report it. */
  private flush(peer: Peer, st: PeerState, inc: Incoming): void {
    const bytes = inc.fill === inc.chunk.length ? inc.chunk : inc.chunk.slice(0, inc.fill)
    const txs: ChunkTx[] = []
    for (const ev of inc.parser.push(bytes)) {
      if (ev.type === 'header') {
        const job = st.inFlight.get(toHex(ev.hash))
        if (!job || job.assigned !== peer) {
          // Not asked of this peer (or given to another after a stall): the Peer scores unsolicited blocks.
          inc.ignore = true
          return
        }
        inc.job = job
      } else if (ev.type === 'tx') {
        txs.push({ index: ev.index, offset: ev.offset, length: ev.length, txid: ev.txid, wtxid: ev.wtxid })
      } else {
        if (inc.job) this.invalid(peer, inc.job, ev.error)
        inc.ignore = true
        return
      }
    }
    const job = inc.job
    if (!job) {
      // The first chunk always holds the header (MIN_CHUNK_BYTES), unless the block is shorter than that.
      inc.ignore = true
      return
    }
    job.download._chunk({
      type: 'chunk',
      hash: job.hash,
      height: job.height,
      chunkIndex: inc.chunkIndex,
      offset: inc.chunkOffset,
      bytes,
      txs,
      peer: peerLabel(peer),
    })
    inc.chunkIndex++
    inc.chunkOffset += inc.fill
    inc.fill = 0
    inc.chunk = new Uint8Array(Math.min(this.chunkSize, inc.length - inc.chunkOffset))
  }

  private end(peer: Peer, st: PeerState, inc: Incoming): void {
    if (!inc.ignore && (inc.fill > 0 || inc.chunkOffset === 0)) this.flush(peer, st, inc)
    const job = inc.job
    if (inc.ignore || !job || job.done || job.assigned !== peer) return
    let summary: ReturnType<BlockStreamParser['end']>
    try {
      summary = inc.parser.end()
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      this.invalid(peer, job, e)
      return
    }
    job.done = true
    job.assigned = undefined
    st.inFlight.delete(job.hex)
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
      peer: peerLabel(peer),
    })
    this.pump()
  }

  /** `peer` served an invalid `job`: report, drop the peer, ask another. */
  private invalid(peer: Peer, job: Job, error: WireError): void {
    const hex = hashToHex(job.hash)
    const err = new BlockFetchError('invalid-block', { hash: hex, peer: peerLabel(peer), error })
    job.download.emit('invalid-block', err)
    this.retry(job, peer)
    this.source.drop(peer, { kind: 'invalid-block', hash: hex, error })
  }
}

