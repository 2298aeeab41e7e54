/**
 * AckedPublisher: JetStream publishes with a bounded window.
 *
 * At most `maxInFlight` publishes (and `maxInFlightBytes` of their data)
 * wait for their PubAck at once; `submit()` resolves only once there is
 * room, so a caller that awaits it before taking more input (the producer
 * does, before it takes the next event of its BlockDownload) is paced by
 * the server's acks: when JetStream is slow, or its stream is full, the
 * producer stops reading, the download's queue fills, and BlockFetcher
 * stops asking peers for blocks. Nothing buffers without bound.
 *
 * Each publish carries a Nats-Msg-Id and is retried with the same id when
 * the answer is one that passes: no responders or a timeout (the stream's
 * leader is being elected: seconds in a cluster), or the stream is full
 * (a work-queue stream with discard=new refuses until workers catch up).
 * A retry of a message that did get stored is answered `duplicate`, so
 * retries store nothing twice. A publish that finds no success within
 * `retryDeadlineMs` fails with JetStreamAdapterError 'publish-failed'; the
 * first failure fails every later submit() and drain().
 *
 * Time: retries wait in real time (setTimeout); the deadline is measured
 * with performance.now(). This is the NATS side of the SDK, not its core.
 */
import type { JetStreamClient, PubAck } from '@nats-io/jetstream'
import { JetStreamApiError } from '@nats-io/jetstream'
import type { MsgHdrs } from '@nats-io/transport-node'
import { JetStreamAdapterError } from './errors.js'

/** Default publishes awaiting their ack at once. */
export const DEFAULT_MAX_IN_FLIGHT = 64
/** Default bytes of data awaiting acks at once. */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024
/** Default wait for one PubAck before the attempt counts as timed out. */
export const DEFAULT_ACK_TIMEOUT_MS = 5_000
/** Default total time one message may take, retries included, before 'publish-failed'. */
export const DEFAULT_RETRY_DEADLINE_MS = 120_000
/** First pause before a retry; doubled each time up to MAX_RETRY_DELAY_MS. */
export const FIRST_RETRY_DELAY_MS = 50
/** Longest pause between retries of one message. */
export const MAX_RETRY_DELAY_MS = 2_000

/** JetStream API error codes that mean "full for now": the stream's max_bytes (10077) or max_msgs (10078) with discard=new. */
const STREAM_FULL_CODES = new Set([10077, 10078])

/** Options of an AckedPublisher. */
export interface AckedPublisherOptions {
  readonly js: JetStreamClient
  /** Default DEFAULT_MAX_IN_FLIGHT. */
  readonly maxInFlight?: number
  /** Default DEFAULT_MAX_IN_FLIGHT_BYTES (a single larger message still goes, alone). */
  readonly maxInFlightBytes?: number
  /** Default DEFAULT_ACK_TIMEOUT_MS. */
  readonly ackTimeoutMs?: number
  /** Default DEFAULT_RETRY_DEADLINE_MS. */
  readonly retryDeadlineMs?: number
  /** The server's max_payload (nc.info.max_payload): larger messages fail at once with 'payload-too-large'. */
  readonly maxPayload?: number
  /** Aborting fails waiting submits and stops retries ('stopped'). */
  readonly signal?: AbortSignal
}

/** What one message is published with. */
export interface PublishRequest {
  readonly subject: string
  readonly data: Uint8Array
  /** The Nats-Msg-Id (de-duplication key). */
  readonly msgId: string
  readonly headers?: MsgHdrs
  /** The stream the subject must land in (checked by the server). */
  readonly stream?: string
}

/** Counters of an AckedPublisher. */
export interface PublisherStats {
  /** Messages acknowledged as newly stored. */
  readonly stored: number
  /** Messages acknowledged as duplicates (stored before, e.g. by a producer that was restarted). */
  readonly duplicates: number
  /** Attempts repeated after a passing failure. */
  readonly retries: number
  /** Of those, attempts refused because the stream was full. */
  readonly fullRetries: number
  /** Most publishes awaiting their ack at once so far (never above maxInFlight). */
  readonly maxInFlightSeen: number
  /** Most bytes awaiting acks at once so far. */
  readonly maxInFlightBytesSeen: number
}

/** Whether a publish failure is worth retrying with the same Nats-Msg-Id, and why. */
function passing(e: unknown): 'full' | 'transient' | undefined {
  if (e instanceof JetStreamApiError) return STREAM_FULL_CODES.has(e.code) ? 'full' : undefined
  return isTransientJetStreamError(e) ? 'transient' : undefined
}

/**
 * Whether a JetStream call failed for a reason that passes while a cluster
 * recovers: no responders (no stream leader right now), a timeout (the ack
 * did not come: a leader change, a slow disk), a request error, or
 * "JetStream not enabled", which a server answers while the cluster's
 * JetStream meta leader is being elected (seen right after a node is
 * killed). Callers retry such failures up to a deadline.
 */
export function isTransientJetStreamError(e: unknown): boolean {
  const name = (e as Error | undefined)?.name
  return name === 'NoRespondersError' || name === 'TimeoutError' || name === 'RequestError' || name === 'JetStreamNotEnabled'
}

/** A bounded window of JetStream publishes; see the module comment. */
export class AckedPublisher {
  private readonly js: JetStreamClient
  private readonly maxInFlight: number
  private readonly maxInFlightBytes: number
  private readonly ackTimeoutMs: number
  private readonly retryDeadlineMs: number
  private readonly maxPayload: number | undefined
  private readonly signal: AbortSignal | undefined
  private inFlight = 0
  private inFlightBytes = 0
  private readonly waiters: (() => void)[] = []
  private readonly pending = new Set<Promise<unknown>>()
  private failure: unknown
  private counters = { stored: 0, duplicates: 0, retries: 0, fullRetries: 0, maxInFlightSeen: 0, maxInFlightBytesSeen: 0 }

  /** A publisher over `js`; see AckedPublisherOptions. */
  constructor(opts: AckedPublisherOptions) {
    this.js = opts.js
    this.maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT
    this.maxInFlightBytes = opts.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES
    this.ackTimeoutMs = opts.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS
    this.retryDeadlineMs = opts.retryDeadlineMs ?? DEFAULT_RETRY_DEADLINE_MS
    this.maxPayload = opts.maxPayload
    this.signal = opts.signal
    for (const [k, v] of [
      ['maxInFlight', this.maxInFlight],
      ['maxInFlightBytes', this.maxInFlightBytes],
      ['ackTimeoutMs', this.ackTimeoutMs],
      ['retryDeadlineMs', this.retryDeadlineMs],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new JetStreamAdapterError('bad-option', `${k} must be a positive integer, got ${v}`, { option: k, value: v })
    }
    this.signal?.addEventListener('abort', () => this.wakeAll(), { once: true })
  }

  /** The counters so far. */
  get stats(): PublisherStats {
    return { ...this.counters }
  }

  /** Publishes awaiting their ack now. */
  get waiting(): number {
    return this.inFlight
  }

  /** Bytes of data awaiting acks now. */
  get waitingBytes(): number {
    return this.inFlightBytes
  }

  /**
   * Wait for room in the window, then start publishing `req`. Resolves
   * once it is started, with `acked`, the promise of its ack (already
   * observed: a failure also shows in drain() and fails later submits).
   * Rejects with
   * the first failure of an earlier publish, 'payload-too-large' or
   * 'stopped'.
   */
  async submit(req: PublishRequest): Promise<{ readonly acked: Promise<PubAck> }> {
    const size = req.data.length
    if (this.maxPayload !== undefined && size > this.maxPayload) {
      throw new JetStreamAdapterError('payload-too-large', `${req.subject} ${req.msgId}: ${size} bytes, the server's max_payload is ${this.maxPayload} (raise max_payload, or lower the chunk size)`, {
        subject: req.subject,
        msgId: req.msgId,
        bytes: size,
        maxPayload: this.maxPayload,
      })
    }
    // Room: a slot, and bytes (a message larger than the byte budget goes when the window is empty).
    while (this.failure === undefined && !this.signal?.aborted && (this.inFlight >= this.maxInFlight || (this.inFlight > 0 && this.inFlightBytes + size > this.maxInFlightBytes))) {
      await new Promise<void>((r) => this.waiters.push(r))
    }
    this.check()
    this.inFlight++
    this.inFlightBytes += size
    this.counters.maxInFlightSeen = Math.max(this.counters.maxInFlightSeen, this.inFlight)
    this.counters.maxInFlightBytesSeen = Math.max(this.counters.maxInFlightBytesSeen, this.inFlightBytes)
    const p = this.publishWithRetries(req).finally(() => {
      this.inFlight--
      this.inFlightBytes -= size
      this.pending.delete(p)
      this.wakeOne()
    })
    this.pending.add(p)
    p.catch((e) => {
      this.failure ??= e
      this.wakeAll()
    })
    return { acked: p }
  }

  /** Wait until every publish started has its ack; rejects with the first failure. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
    this.check()
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure
    if (this.signal?.aborted) throw new JetStreamAdapterError('stopped', 'publishing stopped', {}, this.signal.reason)
  }

  private wakeOne(): void {
    this.waiters.shift()?.()
  }

  private wakeAll(): void {
    for (const w of this.waiters.splice(0)) w()
  }

  private async publishWithRetries(req: PublishRequest): Promise<PubAck> {
    const started = performance.now()
    let delay = FIRST_RETRY_DELAY_MS
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await this.js.publish(req.subject, req.data, {
          msgID: req.msgId,
          timeout: this.ackTimeoutMs,
          retries: 0,
          ...(req.headers ? { headers: req.headers } : {}),
          ...(req.stream ? { expect: { streamName: req.stream } } : {}),
        })
        if (ack.duplicate) this.counters.duplicates++
        else this.counters.stored++
        return ack
      } catch (e) {
        const why = passing(e)
        if ((e as Error | undefined)?.name === 'ClosedConnectionError') {
          throw new JetStreamAdapterError('connection-closed', `the NATS connection closed while publishing ${req.msgId}`, { subject: req.subject, msgId: req.msgId }, e)
        }
        const elapsed = performance.now() - started
        if (why === undefined || elapsed + delay > this.retryDeadlineMs || this.signal?.aborted) {
          if (this.signal?.aborted) throw new JetStreamAdapterError('stopped', 'publishing stopped', {}, this.signal.reason)
          throw new JetStreamAdapterError(
            'publish-failed',
            `publish of ${req.msgId} to ${req.subject} failed after ${attempt} attempt(s) in ${Math.round(elapsed)} ms: ${(e as Error)?.message ?? e}`,
            { subject: req.subject, msgId: req.msgId, attempts: attempt, elapsedMs: Math.round(elapsed), retryable: why !== undefined },
            e,
          )
        }
        this.counters.retries++
        if (why === 'full') this.counters.fullRetries++
        await new Promise((r) => setTimeout(r, delay))
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)
      }
    }
  }
}
