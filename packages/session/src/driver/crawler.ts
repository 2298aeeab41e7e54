/**
 * Crawler: visit every node reachable from some seeds, once.
 *
 * For each address: connect, complete the handshake (recording version,
 * services, user agent, start height and the connect round trip), send
 * getaddr, wait for an answer (an addr/addrv2 with more than one entry: a
 * single entry is usually the node's self-announcement) or `addrWaitMs`,
 * disconnect, and queue every address not seen before. At most
 * `concurrency` nodes are in progress at once, and at most `maxNodes` are
 * visited. Results come out of an async iterator in completion order;
 * breaking out of the loop, or the AbortSignal, stops the crawl and closes
 * what is open.
 *
 * The frontier is first-in first-out and keyed by endpoint, so the same
 * seeds on the same (simulated) network give the same visit order.
 */
import { type FramingParams, type Message, type TimestampedNetAddress } from '@bitp2p/wire'
import { MAX_ADDR_TO_SEND } from '@bitp2p/wire/limits'
import { type AddrV2Entry } from '@bitp2p/wire/messages'
import type { DisconnectReason } from '../core/fsm/reasons.js'
import { Peer, PeerError, type PeerOptions } from './peer.js'
import { systemRandom } from './system-random.js'
import { RealtimeClock } from './realtime-clock.js'
import { TransportError, type Clock, type Connector, type PeerAddress, type Random } from '../core/ports.js'
import { retryKey } from '../core/pool/backoff.js'
import { endpointToPeerAddress, isValidEndpoint, toEndpoint } from '../core/pool/netgroup.js'

/** Default nodes in progress at once. */
export const DEFAULT_CRAWL_CONCURRENCY = 32
/** Default most nodes visited. */
export const DEFAULT_CRAWL_MAX_NODES = 100_000
/** Default deadline from connect to ready (ms): a crawler cannot wait Core's 60 s per node. */
export const DEFAULT_CRAWL_CONNECT_TIMEOUT_MS = 10_000
/** Default wait for the getaddr answer (ms). */
export const DEFAULT_CRAWL_ADDR_WAIT_MS = 10_000

/** Options of `crawl`. */
export interface CrawlOptions {
  readonly seeds: readonly PeerAddress[]
  readonly connector: Connector
  readonly network: FramingParams
  readonly concurrency?: number
  readonly maxNodes?: number
  readonly signal?: AbortSignal
  /** Default: a RealtimeClock. */
  readonly clock?: Clock
  /** Default: systemRandom(). */
  readonly random?: Random
  readonly connectTimeoutMs?: number
  readonly addrWaitMs?: number
  /** Passed to every Peer (userAgent, protocol version...). */
  readonly peer?: Omit<PeerOptions, 'network' | 'clock' | 'random' | 'signal' | 'setup'>
}

/** A node that completed the handshake. */
export interface CrawlResult {
  readonly type: 'node'
  readonly address: PeerAddress
  readonly version: number
  readonly services: bigint
  readonly userAgent: string
  readonly startHeight: number
  /** Connect round trip (transport up), ms. */
  readonly latencyMs: number
  /** Entries in its getaddr answer. */
  readonly addrsLearned: number
  /** Of those, addresses the crawl had not seen. */
  readonly newAddrs: number
}

/** A node that could not be reached or did not complete the handshake. */
export interface CrawlFailure {
  readonly type: 'failure'
  readonly address: PeerAddress
  readonly reason: DisconnectReason
}

/** What `crawl` yields, in completion order: a node that completed the handshake, or a failure to reach one. */
export type CrawlItem = CrawlResult | CrawlFailure

/** A single-consumer async queue that ends once. */
class ResultQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = []
  #waiter: ((r: IteratorResult<T>) => void) | undefined
  #ended = false
  readonly #onReturn: () => void

  constructor(onReturn: () => void) {
    this.#onReturn = onReturn
  }

  push(v: T): void {
    if (this.#ended) return
    const w = this.#waiter
    if (w) {
      this.#waiter = undefined
      w({ value: v, done: false })
    } else this.#items.push(v)
  }

  end(): void {
    if (this.#ended) return
    this.#ended = true
    const w = this.#waiter
    this.#waiter = undefined
    if (w && this.#items.length === 0) w({ value: undefined, done: true })
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift()!, done: false })
    if (this.#ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((r) => (this.#waiter = r))
  }

  return(): Promise<IteratorResult<T>> {
    this.#items.length = 0
    this.end()
    this.#onReturn()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this
  }
}

function addressesOf(m: Message): PeerAddress[] {
  if (m.command !== 'addr' && m.command !== 'addrv2') return []
  const out: PeerAddress[] = []
  for (const e of m.addresses as readonly (TimestampedNetAddress | AddrV2Entry)[]) {
    const ep = toEndpoint(e)
    if (ep && isValidEndpoint(ep) && ep.port !== 0) out.push(endpointToPeerAddress(ep))
  }
  return out
}

/** Crawl from `seeds`; see the module doc. */
export function crawl(options: CrawlOptions): AsyncIterableIterator<CrawlItem> {
  const clock = options.clock ?? new RealtimeClock()
  const random = options.random ?? systemRandom()
  const concurrency = options.concurrency ?? DEFAULT_CRAWL_CONCURRENCY
  const maxNodes = options.maxNodes ?? DEFAULT_CRAWL_MAX_NODES
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CRAWL_CONNECT_TIMEOUT_MS
  const addrWaitMs = options.addrWaitMs ?? DEFAULT_CRAWL_ADDR_WAIT_MS
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`crawl: concurrency must be a positive integer, got ${concurrency}`)
  const unixTimeOffsetMs = options.peer?.unixTimeOffsetMs ?? clock.unixTimeOffsetMs ?? 0
  const nodeOptions: CrawlNodeOptions = { ...options, clock, random, connectTimeoutMs, addrWaitMs, peer: { ...options.peer, unixTimeOffsetMs } }

  const frontier: PeerAddress[] = []
  const seen = new Set<string>()
  let head = 0
  let active = 0
  let started = 0
  let stopped = false
  const inFlight = new Set<AbortController>()

  const stop = () => {
    if (stopped) return
    stopped = true
    for (const ac of inFlight) ac.abort('crawl stopped')
  }
  const queue = new ResultQueue<CrawlItem>(stop)
  const onAbort = () => {
    stop()
    queue.end()
  }
  options.signal?.addEventListener('abort', onAbort, { once: true })

  const learn = (addrs: readonly PeerAddress[]): number => {
    let n = 0
    for (const a of addrs) {
      const key = retryKey(a)
      if (seen.has(key)) continue
      seen.add(key)
      frontier.push(a)
      n++
    }
    return n
  }

  const visit = async (address: PeerAddress): Promise<CrawlItem> => {
    const ac = new AbortController()
    inFlight.add(ac)
    try {
      const out = await crawlNode(address, { ...nodeOptions, signal: ac.signal })
      if (out.type === 'failure') return { type: 'failure', address: out.address, reason: out.reason }
      const { learned, ...node } = out
      return { ...node, newAddrs: learn(learned) }
    } finally {
      inFlight.delete(ac)
    }
  }

  const pump = (): void => {
    while (!stopped && active < concurrency && head < frontier.length && started < maxNodes) {
      const addr = frontier[head++]!
      active++
      started++
      void visit(addr).then((item) => {
        active--
        queue.push(item)
        pump()
      })
    }
    if (active === 0 && (stopped || head >= frontier.length || started >= maxNodes)) {
      options.signal?.removeEventListener('abort', onAbort)
      queue.end()
    }
  }

  learn(options.seeds)
  pump()
  return queue
}

/** Most addresses kept from one node's answers: two full `addr` messages; more are ignored. */
export const CRAWL_MAX_LEARNED_PER_NODE = 2 * MAX_ADDR_TO_SEND

/** Options of `crawlNode`: those of `crawl` that concern one visit. */
export interface CrawlNodeOptions {
  readonly connector: Connector
  readonly network: FramingParams
  /** Default: a RealtimeClock. */
  readonly clock?: Clock
  /** Default: systemRandom(). */
  readonly random?: Random
  /** Default DEFAULT_CRAWL_CONNECT_TIMEOUT_MS. */
  readonly connectTimeoutMs?: number
  /** Default DEFAULT_CRAWL_ADDR_WAIT_MS. */
  readonly addrWaitMs?: number
  /** Passed to the Peer (userAgent, protocol version...). */
  readonly peer?: Omit<PeerOptions, 'network' | 'clock' | 'random' | 'signal' | 'setup'>
  /** Aborting ends the visit (a failure if the handshake was not done). */
  readonly signal?: AbortSignal
}

/**
 * One visit of a crawl: connect to `address`, complete the handshake,
 * send getaddr, wait for the answer (or `addrWaitMs`), disconnect. Resolves
 * with what `crawl` reports for the node and the addresses it told
 * (`learned`, at most CRAWL_MAX_LEARNED_PER_NODE, valid and routable, in
 * the order received); never rejects. For crawlers that keep their
 * frontier elsewhere (a shared queue).
 */
export async function crawlNode(address: PeerAddress, options: CrawlNodeOptions): Promise<CrawlNodeOutcome> {
  const clock = options.clock ?? new RealtimeClock()
  const random = options.random ?? systemRandom()
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CRAWL_CONNECT_TIMEOUT_MS
  const addrWaitMs = options.addrWaitMs ?? DEFAULT_CRAWL_ADDR_WAIT_MS
  const unixTimeOffsetMs = options.peer?.unixTimeOffsetMs ?? clock.unixTimeOffsetMs ?? 0
  const ac = new AbortController()
  const onAbort = () => ac.abort(options.signal?.reason)
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  const t0 = clock.now()
  let latencyMs = 0
  const cancelConnect = clock.setTimer(connectTimeoutMs, () => ac.abort(new TransportError('timeout', `no handshake within ${connectTimeoutMs} ms`)))
  const learned: PeerAddress[] = []
  let answered: (() => void) | undefined
  try {
    const connector: Connector = {
      connect: async (a, signal) => {
        const t = await options.connector.connect(a, signal)
        latencyMs = clock.now() - t0
        return t
      },
    }
    const peer = await Peer.connect(address, {
      ...options.peer,
      unixTimeOffsetMs,
      network: options.network,
      clock,
      random,
      connector,
      signal: ac.signal,
      setup: (p) =>
        p.on('message', (m) => {
          const got = addressesOf(m)
          if (got.length === 0) return
          // Bounded: a peer that keeps sending addr messages cannot grow this.
          for (const a of got) if (learned.length < CRAWL_MAX_LEARNED_PER_NODE) learned.push(a)
          if (got.length > 1) answered?.()
        }),
    })
    cancelConnect()
    const info = peer.info!
    await new Promise<void>((resolve) => {
      const cancelWait = clock.setTimer(addrWaitMs, () => done())
      const done = () => {
        cancelWait()
        ac.signal.removeEventListener('abort', done)
        peer.off('close', done)
        resolve()
      }
      answered = done
      peer.once('close', done)
      ac.signal.addEventListener('abort', done, { once: true })
      try {
        peer.send({ command: 'getaddr' })
      } catch {
        done()
      }
    })
    peer.close({ kind: 'crawled' })
    return {
      type: 'node',
      address,
      version: info.peer.version,
      services: info.peer.services,
      userAgent: info.peer.userAgent,
      startHeight: info.peer.startHeight,
      latencyMs,
      addrsLearned: learned.length,
      learned,
    }
  } catch (e) {
    cancelConnect()
    const reason: DisconnectReason = e instanceof PeerError ? e.reason : { kind: 'transport', error: new TransportError('connect-failed', String(e), e) }
    return { type: 'failure', address, reason, learned: [] }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
}

/** What `crawlNode` resolves with: the node (as `crawl` reports it, without `newAddrs`) or the failure, and the addresses it told. */
export type CrawlNodeOutcome = (Omit<CrawlResult, 'newAddrs'> | CrawlFailure) & {
  /** Addresses the node told (empty for a failure). */
  readonly learned: readonly PeerAddress[]
}
