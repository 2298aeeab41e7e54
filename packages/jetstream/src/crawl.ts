/**
 * A distributed crawl: crawl workers on several machines share one
 * frontier.
 *
 *  - The frontier is the crawl stream (a work queue): one message per
 *    address to visit, `Nats-Msg-Id` = the address's key.
 *  - The results are the crawl bucket: one key per address, written
 *    'queued' when the address is first enqueued and replaced by the
 *    visit's result.
 *  - De-duplication by address: an address whose key exists in the bucket
 *    is not enqueued again, and the stream drops a second publish of the
 *    same key within its duplicate window (two workers learning the same
 *    address at once). A worker that receives an address whose result is
 *    already there acknowledges it without visiting.
 *
 * A worker publishes the addresses a node told before it acknowledges that
 * node's message, so a crash loses nothing (the node is visited again).
 * The crawl is over when the consumer has nothing pending and nothing
 * delivered unacknowledged (`frontierIdle`).
 *
 * The frontier is bounded: while the stream holds `maxFrontier` addresses
 * (its count when last asked, plus what was enqueued since), new ones are
 * dropped and counted. (Not by the stream's own limits: see streams.ts.)
 */
import { crawlNode, formatPeerAddress, type CrawlNodeOptions, type PeerAddress } from '@bitp2p/session'
import { jetstream, JetStreamApiError, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream'
import type { KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import { JetStreamAdapterError } from './errors.js'
import { jetStreamNames, type JetStreamNames } from './names.js'
import { ensureBucket, ensureCrawlStreams, type StreamOptions } from './streams.js'
import { WorkQueueWorker, type WorkQueueWorkerOptions } from './worker.js'

/** Default most addresses waiting in the frontier. */
export const DEFAULT_MAX_FRONTIER = 1_000_000
/** Longest address text a frontier message may hold. */
export const MAX_ADDRESS_CHARS = 300
/** Attempts of one frontier publish that meets no stream leader or a timeout. */
export const FRONTIER_PUBLISH_ATTEMPTS = 10
/** Pause between those attempts. */
export const FRONTIER_RETRY_DELAY_MS = 250

/** A node's entry in the crawl bucket. */
export type CrawlRecord =
  | { readonly state: 'queued'; readonly address: string }
  | {
      readonly state: 'node'
      readonly address: string
      readonly version: number
      /** Hex. */
      readonly services: string
      readonly userAgent: string
      readonly startHeight: number
      readonly latencyMs: number
      readonly addrsLearned: number
      /** The worker that visited it. */
      readonly visitedBy: string
    }
  | {
      readonly state: 'failure'
      readonly address: string
      /** The disconnect reason's kind. */
      readonly reason: string
      readonly visitedBy: string
    }

/**
 * The bucket key of an address (`host_port`, colons of an IPv6 host as
 * `-`), or undefined for one that cannot be a key (odd characters: such an
 * address is not crawled).
 */
export function addressKey(a: PeerAddress): string | undefined {
  if (!Number.isInteger(a.port) || a.port < 1 || a.port > 0xffff) return undefined
  const host = a.host.toLowerCase().replace(/:/g, '-')
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(host) || host.length > MAX_ADDRESS_CHARS) return undefined
  return `${host}_${a.port}`
}

/** Parse a frontier message (JSON {host, port}); throws JetStreamAdapterError 'bad-option' on anything else. */
export function decodeAddress(data: Uint8Array): PeerAddress {
  if (data.length > MAX_ADDRESS_CHARS) throw new JetStreamAdapterError('bad-option', `a frontier message of ${data.length} bytes (at most ${MAX_ADDRESS_CHARS})`, { bytes: data.length })
  let v: unknown
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data))
  } catch (e) {
    throw new JetStreamAdapterError('bad-option', 'a frontier message that is not JSON', {}, e)
  }
  const a = v as { host?: unknown; port?: unknown }
  if (typeof a?.host !== 'string' || typeof a.port !== 'number' || addressKey({ host: a.host, port: a.port }) === undefined) {
    throw new JetStreamAdapterError('bad-option', `not an address: ${JSON.stringify(v).slice(0, 100)}`, {})
  }
  return { host: a.host, port: a.port }
}

/** What enqueue() did with a list of addresses. */
export interface EnqueueResult {
  /** Published to the frontier (new). */
  readonly queued: number
  /** Already known (in the bucket, or a duplicate publish). */
  readonly known: number
  /** Dropped: the frontier held maxFrontier addresses. */
  readonly dropped: number
  /** Not addresses a key can be made of. */
  readonly invalid: number
}

/** Options of a CrawlFrontier. */
export interface CrawlFrontierOptions {
  readonly nc: NatsConnection
  /** Default jetStreamNames(). */
  readonly names?: JetStreamNames
  /** Streams and bucket created when absent. */
  readonly streams?: StreamOptions
  /** Default DEFAULT_MAX_FRONTIER. */
  readonly maxFrontier?: number
}

/** The shared frontier and results; see the module comment. */
export class CrawlFrontier {
  /** The names in use. */
  readonly names: JetStreamNames
  private readonly opts: CrawlFrontierOptions
  private readonly js: JetStreamClient
  private kvOpen: Promise<KV> | undefined
  private readonly maxFrontier: number
  /** The frontier's size when last asked, plus what was enqueued since. */
  private frontierSize = Infinity

  /** A frontier over `opts.nc`; its stream and bucket are made on first use. */
  constructor(opts: CrawlFrontierOptions) {
    this.opts = opts
    this.names = opts.names ?? jetStreamNames()
    this.js = jetstream(opts.nc)
    this.maxFrontier = opts.maxFrontier ?? DEFAULT_MAX_FRONTIER
  }

  /** The crawl bucket (creating the stream and bucket when absent). */
  bucket(): Promise<KV> {
    this.kvOpen ??= (async () => {
      await ensureCrawlStreams(await jetstreamManager(this.opts.nc, { checkAPI: false }), this.names, this.opts.streams)
      return ensureBucket(this.opts.nc, this.names.crawlBucket, this.opts.streams)
    })()
    this.kvOpen.catch(() => (this.kvOpen = undefined))
    return this.kvOpen
  }

  /** The record of an address, or undefined. */
  async record(a: PeerAddress): Promise<CrawlRecord | undefined> {
    const key = addressKey(a)
    if (key === undefined) return undefined
    const e = await (await this.bucket()).get(key)
    return e && e.operation === 'PUT' && e.length > 0 ? e.json<CrawlRecord>() : undefined
  }

  /** Every record in the bucket, keyed by key. */
  async records(): Promise<Map<string, CrawlRecord>> {
    const kv = await this.bucket()
    const out = new Map<string, CrawlRecord>()
    for await (const key of await kv.keys()) {
      const e = await kv.get(key)
      if (e && e.operation === 'PUT' && e.length > 0) out.set(key, e.json<CrawlRecord>())
    }
    return out
  }

  /** Add the addresses not known yet to the frontier. */
  async enqueue(addresses: readonly PeerAddress[]): Promise<EnqueueResult> {
    const kv = await this.bucket()
    const r = { queued: 0, known: 0, dropped: 0, invalid: 0 }
    for (const a of addresses) {
      const key = addressKey(a)
      if (key === undefined) {
        r.invalid++
        continue
      }
      if ((await kv.get(key))?.operation === 'PUT') {
        r.known++
        continue
      }
      if (this.frontierSize >= this.maxFrontier) {
        this.frontierSize = (await (await jetstreamManager(this.opts.nc, { checkAPI: false })).streams.info(this.names.crawlStream)).state.messages
        if (this.frontierSize >= this.maxFrontier) {
          r.dropped++
          continue
        }
      }
      const outcome = await this.publish(key, a)
      if (outcome === 'stored') this.frontierSize++
      if (outcome === 'full') {
        r.dropped++
        continue
      }
      if (outcome === 'duplicate') r.known++
      else r.queued++
      // Mark it known; one that exists already (another worker got here) is fine.
      await kv.create(key, JSON.stringify({ state: 'queued', address: formatPeerAddress(a) } satisfies CrawlRecord)).catch(() => undefined)
    }
    return r
  }

  private async publish(key: string, a: PeerAddress): Promise<'stored' | 'duplicate' | 'full'> {
    // 'full' only from a stream given limits by its operator; the frontier bounds itself (maxFrontier).
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await this.js.publish(this.names.crawlSubject, JSON.stringify({ host: a.host, port: a.port }), { msgID: key, expect: { streamName: this.names.crawlStream }, retries: 0 })
        return ack.duplicate ? 'duplicate' : 'stored'
      } catch (e) {
        if (e instanceof JetStreamApiError && (e.code === 10077 || e.code === 10078)) return 'full'
        const name = (e as Error)?.name
        if ((name !== 'NoRespondersError' && name !== 'TimeoutError') || attempt >= FRONTIER_PUBLISH_ATTEMPTS) {
          throw new JetStreamAdapterError('publish-failed', `enqueue ${key}: ${(e as Error)?.message ?? e}`, { key, attempts: attempt }, e)
        }
        await new Promise((r) => setTimeout(r, FRONTIER_RETRY_DELAY_MS))
      }
    }
  }
}

/**
 * True when the crawl is over: the frontier stream is empty (a work queue
 * deletes an address when its visit is acknowledged) and the consumer has
 * nothing delivered unacknowledged (no visit in progress). Visits publish
 * what they learn before they are acknowledged, so nothing can come after.
 */
export async function frontierIdle(nc: NatsConnection, names: JetStreamNames, consumer: string = names.crawlConsumer): Promise<boolean> {
  const jsm = await jetstreamManager(nc, { checkAPI: false })
  const [stream, info] = await Promise.all([jsm.streams.info(names.crawlStream), jsm.consumers.info(names.crawlStream, consumer)])
  return stream.state.messages === 0 && info.num_ack_pending === 0
}

/** Options of crawlWorker. */
export interface CrawlWorkerOptions extends Omit<WorkQueueWorkerOptions<PeerAddress>, 'stream' | 'consumer' | 'filterSubject' | 'deadSubject' | 'decode' | 'prepare' | 'handler'> {
  readonly frontier: CrawlFrontier
  /** How to visit a node (connector, network, timeouts). */
  readonly visit: Omit<CrawlNodeOptions, 'signal'>
  /** Durable consumer. Default names.crawlConsumer. */
  readonly consumer?: string
  /** Called with each record written (for progress output). */
  readonly onRecord?: (record: CrawlRecord) => void
}

/**
 * A crawl worker (not started: call start()): takes addresses from the
 * frontier, visits each (crawlNode), enqueues what the node told, writes
 * its record, then acknowledges.
 */
export function crawlWorker(opts: CrawlWorkerOptions): WorkQueueWorker<PeerAddress> {
  const { frontier } = opts
  const names = frontier.names
  const name = opts.name ?? 'crawler'
  return new WorkQueueWorker<PeerAddress>({
    ...opts,
    name,
    stream: names.crawlStream,
    consumer: opts.consumer ?? names.crawlConsumer,
    filterSubject: names.crawlSubject,
    deadSubject: names.crawlDeadSubject,
    decode: decodeAddress,
    prepare: async () => void (await frontier.bucket()),
    handler: async (address, ctx) => {
      const kv = await frontier.bucket()
      const key = addressKey(address)!
      const prev = await frontier.record(address)
      // Visited already (a duplicate message beyond the de-duplication window, or a redelivery after the record was written).
      if (prev !== undefined && prev.state !== 'queued') return
      const out = await crawlNode(address, { ...opts.visit, signal: ctx.signal })
      if (ctx.signal.aborted) throw new JetStreamAdapterError('stopped', 'the worker stopped during the visit') // not acknowledged: it comes back
      await frontier.enqueue(out.learned)
      const record: CrawlRecord =
        out.type === 'node'
          ? {
              state: 'node',
              address: formatPeerAddress(address),
              version: out.version,
              services: `0x${out.services.toString(16)}`,
              userAgent: out.userAgent,
              startHeight: out.startHeight,
              latencyMs: Math.round(out.latencyMs),
              addrsLearned: out.addrsLearned,
              visitedBy: ctx.worker,
            }
          : { state: 'failure', address: formatPeerAddress(address), reason: out.reason.kind, visitedBy: ctx.worker }
      await kv.put(key, JSON.stringify(record))
      opts.onRecord?.(record)
    },
  })
}
