/**
 * The streams and buckets of a namespace, created when absent.
 *
 *   stream          subjects                retention   why
 *   <ns>-blocks     <ns>.blocks.part        work queue  each part to one worker; acked parts are deleted;
 *                                                       no limits: the producer bounds its backlog
 *                                                       (BlockProducer's maxBacklog)
 *   <ns>-mempool    <ns>.mempool.tx         limits      every subscriber sees every transaction; old ones
 *                                                       age out (max_age) or make room (max_bytes, discard=old)
 *   <ns>-crawl      <ns>.crawl.addr         work queue  the crawl frontier, bounded by CrawlFrontier (maxFrontier)
 *   <ns>-dead       <ns>.dead.>             limits      dead letters, kept max_age for a person to look at
 *
 *   bucket          keys
 *   <ns>-progress   producer.<name>: the height up to which every block was published and acknowledged
 *   <ns>-crawl      one per address: queued, then the visit's result
 *
 * Existing streams are used as they are (an operator may have tuned their
 * limits), but one whose retention or subjects contradict what the adapter
 * needs fails with 'stream-mismatch' rather than being changed.
 *
 * Only features of nats-server 2.9 are used (no per-consumer subject
 * lists, metadata, compression or subject transforms).
 *
 * Why the work queues have no limits of their own: on nats-server 2.9 a
 * stream with discard=new can acknowledge a publish and then drop messages
 * from the front to get back under its limit, silently. With max_bytes on
 * one server (nats-server issues 4771 and 4775: the two checks count a
 * message's size differently) and with max_msgs in a cluster (issue 4247).
 * This package's tests lost parts both ways against Debian's 2.9.10. So
 * the writers bound them instead: the producer waits while the block
 * stream holds maxBacklog parts, the crawl frontier drops (and counts)
 * addresses while it holds maxFrontier.
 */
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import { JetStreamAdapterError } from './errors.js'
import type { JetStreamNames } from './names.js'

/** Nanoseconds in a millisecond (JetStream's durations are nanoseconds). */
export const NS_PER_MS = 1_000_000
/** Default de-duplication window of the block and crawl streams: a producer restarted within it republishes nothing twice. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 10 * 60_000
/** Default age of a mempool transaction in its stream. */
export const DEFAULT_MEMPOOL_MAX_AGE_MS = 60 * 60_000
/** Default bytes of the mempool stream (the oldest go first). */
export const DEFAULT_MEMPOOL_MAX_BYTES = 256 * 1024 * 1024
/** Default age of a dead letter. */
export const DEFAULT_DEAD_MAX_AGE_MS = 7 * 24 * 60 * 60_000
/** Default bytes of the dead-letter stream (the oldest go first). */
export const DEFAULT_DEAD_MAX_BYTES = 256 * 1024 * 1024

/** Options of the ensure* functions. */
export interface StreamOptions {
  /** Replicas of each stream and bucket created (1, or 3 in a 3-node cluster). Default 1. */
  readonly replicas?: number
  /** Default DEFAULT_DUPLICATE_WINDOW_MS. */
  readonly duplicateWindowMs?: number
  /** Default DEFAULT_MEMPOOL_MAX_AGE_MS. */
  readonly mempoolMaxAgeMs?: number
  /** Default DEFAULT_MEMPOOL_MAX_BYTES. */
  readonly mempoolMaxBytes?: number
  /** Default DEFAULT_DEAD_MAX_AGE_MS. */
  readonly deadMaxAgeMs?: number
  /** Default DEFAULT_DEAD_MAX_BYTES. */
  readonly deadMaxBytes?: number
}

function replicasOf(opts: StreamOptions): number {
  const r = opts.replicas ?? 1
  if (!Number.isInteger(r) || r < 1 || r > 5) throw new JetStreamAdapterError('bad-option', `replicas must be 1 to 5, got ${r}`, { option: 'replicas', value: r })
  return r
}

/** Create `cfg` unless a stream of that name exists; check the existing one's retention and subjects. */
async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string; subjects: string[]; retention: RetentionPolicy }): Promise<void> {
  let existing: StreamConfig | undefined
  try {
    existing = (await jsm.streams.info(cfg.name)).config
  } catch (e) {
    if ((e as Error)?.name !== 'StreamNotFoundError') throw e
  }
  if (existing === undefined) {
    try {
      await jsm.streams.add(cfg)
      return
    } catch (e) {
      // Another process created it meanwhile: check what it made.
      existing = (await jsm.streams.info(cfg.name).catch(() => undefined))?.config
      if (existing === undefined) throw e
    }
  }
  const missing = cfg.subjects.filter((s) => !existing.subjects?.includes(s))
  if (existing.retention !== cfg.retention || missing.length > 0) {
    throw new JetStreamAdapterError(
      'stream-mismatch',
      `stream ${cfg.name} exists with retention ${existing.retention} and subjects ${JSON.stringify(existing.subjects)}; the adapter needs retention ${cfg.retention} and ${JSON.stringify(cfg.subjects)} (use another namespace, or delete the stream)`,
      { stream: cfg.name, retention: existing.retention, subjects: existing.subjects },
    )
  }
}

function deadStream(names: JetStreamNames, opts: StreamOptions, replicas: number) {
  return {
    name: names.deadStream,
    subjects: [`${names.namespace}.dead.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    max_age: (opts.deadMaxAgeMs ?? DEFAULT_DEAD_MAX_AGE_MS) * NS_PER_MS,
    max_bytes: opts.deadMaxBytes ?? DEFAULT_DEAD_MAX_BYTES,
    discard: DiscardPolicy.Old,
    duplicate_window: (opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS) * NS_PER_MS,
  }
}

/** The block stream and the dead-letter stream of `names`. */
export async function ensureBlockStreams(jsm: JetStreamManager, names: JetStreamNames, opts: StreamOptions = {}): Promise<void> {
  const replicas = replicasOf(opts)
  await ensureStream(jsm, {
    name: names.blockStream,
    subjects: [names.blockSubject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    // No limits: see the module comment.
    duplicate_window: (opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS) * NS_PER_MS,
  })
  await ensureStream(jsm, deadStream(names, opts, replicas))
}

/** The mempool stream of `names`. */
export async function ensureMempoolStream(jsm: JetStreamManager, names: JetStreamNames, opts: StreamOptions = {}): Promise<void> {
  await ensureStream(jsm, {
    name: names.mempoolStream,
    subjects: [names.mempoolSubject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicasOf(opts),
    max_age: (opts.mempoolMaxAgeMs ?? DEFAULT_MEMPOOL_MAX_AGE_MS) * NS_PER_MS,
    max_bytes: opts.mempoolMaxBytes ?? DEFAULT_MEMPOOL_MAX_BYTES,
    discard: DiscardPolicy.Old,
    duplicate_window: (opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS) * NS_PER_MS,
  })
}

/** The crawl frontier stream and the dead-letter stream of `names`. */
export async function ensureCrawlStreams(jsm: JetStreamManager, names: JetStreamNames, opts: StreamOptions = {}): Promise<void> {
  const replicas = replicasOf(opts)
  await ensureStream(jsm, {
    name: names.crawlStream,
    subjects: [names.crawlSubject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    // No limits: see the module comment.
    duplicate_window: (opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS) * NS_PER_MS,
  })
  await ensureStream(jsm, deadStream(names, opts, replicas))
}

/**
 * Attempts of ensureBucket when the server does not answer in time. A new
 * replicated bucket needs a leader elected, and several workers starting
 * together all create it: on a busy cluster the JetStream API request can
 * time out while the bucket is being made (seen in CI: one of two workers
 * lost its start this way). Each attempt waits the client's own timeout.
 */
const ENSURE_BUCKET_ATTEMPTS = 5

/** A request that got no answer in time (the client's TimeoutError, or its 'timeout' message). */
function isTimeout(e: unknown): boolean {
  const err = e as { name?: unknown; message?: unknown; code?: unknown } | undefined
  return err?.name === 'TimeoutError' || err?.message === 'timeout' || err?.code === 'TIMEOUT'
}

/**
 * Open (creating when absent) a key-value bucket keeping one revision per
 * key. A request that times out is tried again, up to
 * ENSURE_BUCKET_ATTEMPTS times in all; any other error is thrown at once.
 */
export async function ensureBucket(nc: NatsConnection, bucket: string, opts: Pick<StreamOptions, 'replicas'> = {}): Promise<KV> {
  const kvm = new Kvm(nc)
  for (let attempt = 1; ; attempt++) {
    try {
      return await kvm.create(bucket, { history: 1, replicas: replicasOf(opts) })
    } catch (e) {
      if (attempt >= ENSURE_BUCKET_ATTEMPTS || !isTimeout(e)) throw e
    }
  }
}
