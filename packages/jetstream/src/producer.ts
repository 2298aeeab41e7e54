/**
 * BlockProducer: blocks from peers into the block stream, as parts.
 *
 * It owns a BlockFetcher over your PeerSource and HeaderTree, downloads a
 * height range, turns each verified block into parts (PartAssembler: one
 * per chunk, transactions whole) and publishes every part with
 * `Nats-Msg-Id` = `<block hash>:<chunk size>:<part index>` through an
 * AckedPublisher, whose bounded window paces the download (see there).
 *
 * Backlog. The producer never lets the block stream hold more than
 * `maxBacklog` parts (stored and waiting for their ack, as far as this
 * producer knows: the stream's message count when last asked, plus what
 * it published since). When the workers lag, it asks the stream again
 * every BACKLOG_POLL_MS and publishes once there is room; meanwhile it
 * takes no more events from its download, whose queue fills, and
 * BlockFetcher stops asking for blocks. (The stream's own limits are not
 * used for this: see streams.ts.)
 *
 * Resuming. Once every part of every block from the start of the range up
 * to height H is acknowledged by the stream, H is written to the progress
 * bucket under `producer.<name>`. A producer started again (after a crash:
 * kill -9 in the middle of a block) begins after H; the blocks between H
 * and where it stopped are published again with the same ids, and the
 * stream answers `duplicate` for every part it already holds (within its
 * duplicate window, DEFAULT_DUPLICATE_WINDOW_MS). A resume with another
 * chunk size would cut blocks differently and is refused
 * ('chunk-size-mismatch'): use another producer name.
 *
 * The chain is the tree's active chain when run() starts. The stored
 * progress names its block; if that block is no longer on the active chain
 * (a reorganisation), the run starts at `from` again.
 */
import { EventEmitter } from 'eventemitter3'
import { BlockFetcher, type BlockFetcherOptions, type PeerSource } from '@bitp2p/session'
import { type HeaderTree } from '@bitp2p/session/chain'
import { DEFAULT_CHUNK_BYTES } from '@bitp2p/session/limits'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { KV } from '@nats-io/kv'
import { headers, type NatsConnection } from '@nats-io/transport-node'
import { PartAssembler } from './assembler.js'
import { displayHex, encodeBlockPart, partMsgId, type BlockPart } from './codec.js'
import { JetStreamAdapterError } from './errors.js'
import { jetStreamNames, type JetStreamNames } from './names.js'
import { AckedPublisher, DEFAULT_RETRY_DEADLINE_MS, isTransientJetStreamError, type AckedPublisherOptions, type PublisherStats } from './publisher.js'
import { ensureBlockStreams, ensureBucket, type StreamOptions } from './streams.js'

/** Default producer name: the key of its progress. */
export const DEFAULT_PRODUCER_NAME = 'index'
/** Default most parts in the block stream (stored and unacknowledged by workers, or on their way) before the producer waits. */
export const DEFAULT_MAX_BACKLOG = 16_384
/** How often a producer at its backlog asks the stream again. */
export const BACKLOG_POLL_MS = 200

/** Headers on every part message, for people looking at the stream (workers read the body). */
export const PART_HEADERS = {
  /** Block hash, display hex. */
  block: 'Bitp2p-Block',
  /** Height, when known. */
  height: 'Bitp2p-Height',
  /** "<index>/<count>". */
  part: 'Bitp2p-Part',
} as const

/** What the progress bucket holds for one producer. */
export interface ProducerProgress {
  /** Every block from the run's start up to this height is in the stream. */
  readonly height: number
  /** That block's hash, display hex. */
  readonly hash: string
  /** The chunk size the blocks were cut with. */
  readonly chunkSize: number
}

/** Options of a BlockProducer. */
export interface BlockProducerOptions {
  readonly nc: NatsConnection
  /** Default jetStreamNames() (namespace 'bitp2p'). */
  readonly names?: JetStreamNames
  readonly source: PeerSource
  readonly network: BlockFetcherOptions['network']
  /** Maps heights to hashes: run() indexes a range of its active chain. */
  readonly tree: HeaderTree
  /** Bytes per chunk, so per part (plus the carried-over start of a transaction). Default DEFAULT_CHUNK_BYTES. */
  readonly chunkSize?: number
  /** Further BlockFetcher options (timeouts, blocks in flight per peer, queued bytes before requests pause). */
  readonly fetcher?: Omit<BlockFetcherOptions, 'source' | 'network' | 'tree' | 'chunkSize'>
  /** The publish window (maxInFlight, maxInFlightBytes, ackTimeoutMs, retryDeadlineMs). */
  readonly publish?: Omit<AckedPublisherOptions, 'js' | 'signal' | 'maxPayload'>
  /** Streams created when absent (replicas, limits). */
  readonly streams?: StreamOptions
  /** The progress key: `producer.<name>`. Default DEFAULT_PRODUCER_NAME. */
  readonly name?: string
  /** Default DEFAULT_MAX_BACKLOG. */
  readonly maxBacklog?: number
}

/** What a run did. */
export interface ProducerSummary {
  /** The heights the run covered (after resuming): `from` > `to` when there was nothing left. */
  readonly from: number
  readonly to: number
  /** Blocks whose every part was acknowledged. */
  readonly blocks: number
  /** Parts acknowledged (new and duplicate). */
  readonly parts: number
  /** Transactions in those blocks. */
  readonly txs: number
  /** Block bytes. */
  readonly bytes: number
  /** The publisher's counters (duplicates, retries, the largest window seen). */
  readonly publish: PublisherStats
  /** The most bytes of parts held for blocks not yet published. */
  readonly maxHeldBytes: number
  /** Times the producer waited for the workers (its backlog was full). */
  readonly backlogWaits: number
  /** Where the run resumed from, when it found progress. */
  readonly resumedFrom: ProducerProgress | undefined
}

/** Events of a BlockProducer. */
export interface BlockProducerEvents {
  /** Stored progress was found; the run starts at `from`. */
  resume: [info: { readonly progress: ProducerProgress; readonly from: number }]
  /** One part was acknowledged (`duplicate`: the stream held it already) at stream sequence `seq`. */
  part: [info: { readonly hash: string; readonly height: number; readonly partIndex: number; readonly partCount: number; readonly txs: number; readonly duplicate: boolean; readonly seq: number }]
  /** Every part of a block was acknowledged. */
  block: [info: { readonly hash: string; readonly height: number; readonly parts: number; readonly txs: number; readonly bytes: number; readonly duplicates: number }]
  /** Every block up to `height` is in the stream (written to the progress bucket). */
  progress: [progress: ProducerProgress]
}

/** The progress key of producer `name`. */
export function progressKey(name: string): string {
  return `producer.${name}`
}

/** Read the stored progress of producer `name` (undefined when none). */
export async function readProgress(kv: KV, name: string): Promise<ProducerProgress | undefined> {
  const e = await kv.get(progressKey(name))
  if (!e || e.operation !== 'PUT' || e.length === 0) return undefined
  const p = e.json<ProducerProgress>()
  if (!Number.isSafeInteger(p?.height) || typeof p.hash !== 'string' || !Number.isSafeInteger(p.chunkSize)) return undefined
  return p
}

/** Heights done out of order, and the contiguous height up to which all are. */
class Watermark {
  private readonly done = new Set<number>()
  constructor(public height: number) {}
  /** Mark `h` done; true when the watermark moved. */
  mark(h: number): boolean {
    this.done.add(h)
    const before = this.height
    while (this.done.delete(this.height + 1)) this.height++
    return this.height !== before
  }
}

/** Publishes block ranges as parts; see the module comment. */
export class BlockProducer extends EventEmitter<BlockProducerEvents> {
  private readonly opts: BlockProducerOptions
  private readonly names: JetStreamNames
  private readonly chunkSize: number
  private readonly name: string
  private readonly maxBacklog: number

  /** A producer; run() does the work. */
  constructor(opts: BlockProducerOptions) {
    super()
    this.opts = opts
    this.names = opts.names ?? jetStreamNames()
    this.chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_BYTES
    this.name = opts.name ?? DEFAULT_PRODUCER_NAME
    this.maxBacklog = opts.maxBacklog ?? DEFAULT_MAX_BACKLOG
    if (!Number.isSafeInteger(this.maxBacklog) || this.maxBacklog < 1) throw new JetStreamAdapterError('bad-option', `maxBacklog must be a positive integer, got ${this.maxBacklog}`, { option: 'maxBacklog' })
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(this.name)) throw new JetStreamAdapterError('bad-option', `producer name must be 1 to 64 letters, digits, '-' or '_', got ${JSON.stringify(this.name)}`, { option: 'name' })
    // PartAssembler checks the chunk size as BlockFetcher will.
    new PartAssembler(this.chunkSize)
  }

  /**
   * Publish the active chain's blocks `from`..`to` (inclusive), resuming
   * after stored progress. Resolves once every part is acknowledged;
   * rejects with JetStreamAdapterError ('fetch-failed' with the
   * BlockFetchError as cause, 'publish-failed', 'payload-too-large',
   * 'chunk-size-mismatch', 'stopped').
   */
  async run(range: { readonly from: number; readonly to: number }, signal?: AbortSignal): Promise<ProducerSummary> {
    const { nc, tree } = this.opts
    const names = this.names
    const jsm = await jetstreamManager(nc, { checkAPI: false })
    await ensureBlockStreams(jsm, names, this.opts.streams)
    const kv = await ensureBucket(nc, names.progressBucket, this.opts.streams)

    let from = range.from
    const to = range.to
    const stored = await readProgress(kv, this.name)
    let resumedFrom: ProducerProgress | undefined
    if (stored !== undefined) {
      if (stored.chunkSize !== this.chunkSize) {
        throw new JetStreamAdapterError('chunk-size-mismatch', `producer ${this.name} stored progress cut with chunks of ${stored.chunkSize} bytes; this run asks ${this.chunkSize} (use the same --chunk-size, or another --name)`, {
          stored: stored.chunkSize,
          asked: this.chunkSize,
        })
      }
      const onChain = tree.getByHeight(stored.height)
      if (onChain !== undefined && displayHex(onChain.hash) === stored.hash && stored.height >= from) {
        resumedFrom = stored
        from = stored.height + 1
        this.emit('resume', { progress: stored, from })
      }
    }
    const publish = new AckedPublisher({ ...this.opts.publish, js: jetstream(nc), signal, maxPayload: nc.info?.max_payload })
    const summary = { from, to, blocks: 0, parts: 0, txs: 0, bytes: 0, maxHeldBytes: 0, backlogWaits: 0, resumedFrom }
    // The backlog: the stream's count when last asked, plus parts submitted since.
    let polled = 0
    let sent = 0
    const retryDeadlineMs = this.opts.publish?.retryDeadlineMs ?? DEFAULT_RETRY_DEADLINE_MS
    const poll = async () => {
      // Retried like a publish: while a cluster elects a stream leader the API does not answer.
      const t0 = performance.now()
      for (;;) {
        try {
          polled = (await jsm.streams.info(names.blockStream)).state.messages
          sent = publish.waiting // still on their way: not in that count yet
          return
        } catch (e) {
          if (signal?.aborted) throw new JetStreamAdapterError('stopped', 'the producer was stopped', {}, signal.reason)
          if (performance.now() - t0 > retryDeadlineMs) {
            throw new JetStreamAdapterError('publish-failed', `the block stream's size could not be read for ${retryDeadlineMs} ms: ${(e as Error)?.message ?? e}`, { stream: names.blockStream }, e)
          }
          await new Promise((r) => setTimeout(r, BACKLOG_POLL_MS))
        }
      }
    }
    const room = async () => {
      if (polled + sent < this.maxBacklog) return
      await poll()
      while (polled + sent >= this.maxBacklog) {
        if (signal?.aborted) throw new JetStreamAdapterError('stopped', 'the producer was stopped', {}, signal.reason)
        summary.backlogWaits++
        await new Promise((r) => setTimeout(r, BACKLOG_POLL_MS))
        await poll()
      }
    }
    if (from > to) return { ...summary, publish: publish.stats }

    const assembler = new PartAssembler(this.chunkSize)
    const fetcher = new BlockFetcher({ ...this.opts.fetcher, source: this.opts.source, network: this.opts.network, tree, chunkSize: this.chunkSize })
    const watermark = new Watermark(from - 1)
    await poll()
    const saver = new ProgressSaver(kv, this.name, retryDeadlineMs)
    let download
    try {
      download = fetcher.fetchRange(from, to)
    } catch (e) {
      throw new JetStreamAdapterError('bad-option', `heights ${from}..${to}: ${(e as Error).message}`, { from, to }, e)
    }
    const stopDownload = () => download.cancel('stopped')
    signal?.addEventListener('abort', stopDownload, { once: true })
    try {
      for await (const ev of download.stream({ signal })) {
        if (ev.type === 'chunk') {
          assembler.chunk(ev)
          summary.maxHeldBytes = Math.max(summary.maxHeldBytes, assembler.heldBytes)
          continue
        }
        const parts = assembler.block(ev)
        const height = ev.height!
        const hash = displayHex(ev.hash)
        let left = parts.length
        let duplicates = 0
        for (const part of parts) {
          await room()
          sent++
          const { acked } = await publish.submit({ subject: names.blockSubject, data: encodeBlockPart(part), msgId: partMsgId(part.hash, part.chunkSize, part.partIndex), headers: partHeaders(part), stream: names.blockStream })
          acked.then(
            (ack) => {
              summary.parts++
              if (ack.duplicate) duplicates++
              this.emit('part', { hash, height, partIndex: part.partIndex, partCount: part.partCount, txs: part.txs.length, duplicate: ack.duplicate, seq: ack.seq })
              if (--left > 0) return
              summary.blocks++
              summary.txs += ev.txCount
              summary.bytes += ev.size
              this.emit('block', { hash, height, parts: parts.length, txs: ev.txCount, bytes: ev.size, duplicates })
              if (watermark.mark(height)) {
                const top = tree.getByHeight(watermark.height)!
                const progress = { height: watermark.height, hash: displayHex(top.hash), chunkSize: this.chunkSize }
                saver.save(progress)
                this.emit('progress', progress)
              }
            },
            () => undefined, // the publisher fails the run with it
          )
        }
      }
      // An aborted download's iterator just ends; drain() then rejects with 'stopped'.
      await publish.drain()
      await saver.flush()
    } catch (e) {
      download.cancel('producer failed')
      if (signal?.aborted) throw new JetStreamAdapterError('stopped', 'the producer was stopped', {}, signal.reason)
      if ((e as Error)?.name === 'BlockFetchError') throw new JetStreamAdapterError('fetch-failed', `block download failed: ${(e as Error).message}`, { from, to }, e)
      throw e
    } finally {
      signal?.removeEventListener('abort', stopDownload)
    }
    return { ...summary, publish: publish.stats }
  }
}

function partHeaders(part: BlockPart) {
  const h = headers()
  h.set(PART_HEADERS.block, displayHex(part.hash))
  if (part.height !== undefined) h.set(PART_HEADERS.height, String(part.height))
  h.set(PART_HEADERS.part, `${part.partIndex}/${part.partCount}`)
  return h
}

/**
 * Writes the latest progress, one put at a time (a newer value replaces one
 * not yet written). A put that fails is kept: the next block's progress
 * tries again, and flush() retries the last value while its failure is
 * transient (isTransientJetStreamError: a cluster electing leaders after a
 * node failed), up to `retryDeadlineMs`.
 */
export class ProgressSaver {
  private latest: ProducerProgress | undefined
  private writing: Promise<void> | undefined
  private failure: unknown
  /** The value whose put failed last, for flush() to try again. */
  private unwritten: ProducerProgress | undefined

  constructor(
    private readonly kv: Pick<KV, 'put'>,
    private readonly name: string,
    private readonly retryDeadlineMs: number = DEFAULT_RETRY_DEADLINE_MS,
    private readonly retryDelayMs: number = BACKLOG_POLL_MS,
  ) {}

  save(p: ProducerProgress): void {
    this.latest = p
    this.writing ??= this.write()
  }

  private async write(): Promise<void> {
    while (this.latest !== undefined) {
      const p = this.latest
      this.latest = undefined
      try {
        await this.kv.put(progressKey(this.name), JSON.stringify(p))
        this.failure = undefined
        this.unwritten = undefined
      } catch (e) {
        // Kept for flush(); the next block's progress tries again.
        this.failure = e
        this.unwritten = p
      }
    }
    this.writing = undefined
  }

  /** Wait for the last value to be written, retrying a transient failure up to the deadline; throws if it could not be. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing
    const t0 = performance.now()
    while (this.failure !== undefined && this.unwritten !== undefined && isTransientJetStreamError(this.failure) && performance.now() - t0 < this.retryDeadlineMs) {
      await new Promise((r) => setTimeout(r, this.retryDelayMs))
      if (this.latest === undefined) this.latest = this.unwritten
      this.writing ??= this.write()
      while (this.writing) await this.writing
    }
    if (this.failure !== undefined) throw this.failure
  }
}
