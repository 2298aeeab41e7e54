/**
 * WorkQueueWorker: one of N processes sharing a durable pull consumer of a
 * work-queue stream.
 *
 * Delivery semantics: at least once. A message is acknowledged only after
 * the handler resolved, so a worker that dies (kill -9, a lost machine)
 * leaves its messages unacknowledged and the server delivers them again,
 * to any worker, once `ackWaitMs` has passed. A handler therefore sees a
 * message more than once after a crash: make its effects idempotent
 * (key them by the message, as BlockStatsSink does by block and part).
 * While a handler runs, the worker tells the server it is still working
 * (`working()`, every third of ackWaitMs), so a slow handler in a live
 * worker is not redelivered elsewhere.
 *
 * Failures:
 *  - the handler throws: the message is negatively acknowledged with a
 *    delay (retryBaseMs, doubled per delivery up to retryMaxMs) and comes
 *    back;
 *  - the handler throws on delivery `maxDeliveries`: the message goes to the
 *    dead-letter subject (its bytes and the original subject, the reason,
 *    the error and the delivery count in headers) and is then acknowledged;
 *  - a message delivered more than `maxDeliveries` times without an
 *    outcome (every worker that took it died: a message that crashes its
 *    handler's process) is dead-lettered without running the handler;
 *  - a message that does not decode is dead-lettered at once.
 * The consumer's own max_deliver is unlimited on purpose: a server that
 * stops delivering leaves the message stuck in the work queue with only an
 * advisory; the worker moves it where a person can see it.
 *
 * Stalls: messages are pulled with `fetch` (at most `concurrency` at a time,
 * each pull expiring after fetchExpiresMs, with server heartbeats every
 * idleHeartbeatMs). When the consumer's leader is lost in a cluster, the
 * server's heartbeats stop; two missed heartbeats end the pull and the
 * worker pulls again (through another server once the client reconnects,
 * and from the new leader once one is elected). The time from the stall
 * to the next message is reported by the 'recovered' event.

 */
import { EventEmitter } from 'eventemitter3'
import { AckPolicy, DeliverPolicy, type Consumer, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { headers, type NatsConnection } from '@nats-io/transport-node'
import { JetStreamAdapterError } from './errors.js'
import { NS_PER_MS } from './streams.js'

/** Default deliveries of one message before it is dead-lettered. */
export const DEFAULT_MAX_DELIVERIES = 5
/** Default time the server waits for an ack before delivering again. */
export const DEFAULT_ACK_WAIT_MS = 30_000
/** Default messages handled at once by one worker. */
export const DEFAULT_WORKER_CONCURRENCY = 1
/** Default life of one pull request. */
export const DEFAULT_FETCH_EXPIRES_MS = 5_000
/** Default server heartbeat interval while a pull waits (two missed end it). */
export const DEFAULT_IDLE_HEARTBEAT_MS = 1_000
/** Default delay of the first redelivery after a handler failure. */
export const DEFAULT_RETRY_BASE_MS = 500
/** Default longest delay of a redelivery after a handler failure. */
export const DEFAULT_RETRY_MAX_MS = 30_000
/** Default most messages delivered and not yet acknowledged, over all workers of the consumer. */
export const DEFAULT_MAX_ACK_PENDING = 1_000
/** Pause after a failed pull (no consumer leader, disconnected) before the next. */
export const PULL_RETRY_DELAY_MS = 250
/** Longest error text carried in a dead letter's header. */
export const MAX_DEAD_ERROR_CHARS = 1_000

/** Headers of a dead letter. */
export const DEAD_HEADERS = {
  /** The subject the message was published on. */
  subject: 'Bitp2p-Dead-Subject',
  /** 'handler-failed', 'crashed' or 'undecodable'. */
  reason: 'Bitp2p-Dead-Reason',
  /** The last error, one line, at most MAX_DEAD_ERROR_CHARS. */
  error: 'Bitp2p-Dead-Error',
  /** Deliveries the message had. */
  deliveries: 'Bitp2p-Dead-Deliveries',
  /** Its sequence in its stream. */
  streamSeq: 'Bitp2p-Dead-Stream-Seq',
  /** The worker that moved it. */
  worker: 'Bitp2p-Dead-Worker',
} as const

/** Why a message was dead-lettered. */
export type DeadReason = 'handler-failed' | 'crashed' | 'undecodable'

/** What a handler learns about the delivery it handles. */
export interface DeliveryContext {
  /** 1 on the first delivery. */
  readonly deliveryCount: number
  /** The message's sequence in its stream: the same on every delivery. */
  readonly streamSeq: number
  /** Its Nats-Msg-Id, when it has one. */
  readonly msgId: string | undefined
  /** The subject it was published on. */
  readonly subject: string
  /** This worker's name. */
  readonly worker: string
  /** Aborted when the worker stops: a long handler may give up (the message then comes back). */
  readonly signal: AbortSignal
}

/** Handles one decoded message; resolves when its effects are done. */
export type WorkHandler<T> = (item: T, ctx: DeliveryContext) => unknown

/** Options of a WorkQueueWorker. */
export interface WorkQueueWorkerOptions<T> {
  readonly nc: NatsConnection
  /** The work-queue stream. */
  readonly stream: string
  /** Durable consumer name: every worker of one pool uses the same. */
  readonly consumer: string
  /** Subject the consumer takes from the stream. */
  readonly filterSubject: string
  /** Where messages go when they are given up on. */
  readonly deadSubject: string
  /** Bytes to item; throws on a malformed message (which is dead-lettered). */
  readonly decode: (data: Uint8Array) => T
  readonly handler: WorkHandler<T>
  /** This worker's name in events and dead letters. Default 'worker'. */
  readonly name?: string
  /** Default DEFAULT_MAX_DELIVERIES. */
  readonly maxDeliveries?: number
  /** Set on the consumer when this worker creates it. Default DEFAULT_ACK_WAIT_MS. */
  readonly ackWaitMs?: number
  /** Set on the consumer when this worker creates it. Default DEFAULT_MAX_ACK_PENDING. */
  readonly maxAckPending?: number
  /** Default DEFAULT_WORKER_CONCURRENCY. */
  readonly concurrency?: number
  /** Default DEFAULT_FETCH_EXPIRES_MS (at least 1,000: the client's minimum). */
  readonly fetchExpiresMs?: number
  /** Default DEFAULT_IDLE_HEARTBEAT_MS. */
  readonly idleHeartbeatMs?: number
  /** Default DEFAULT_RETRY_BASE_MS. */
  readonly retryBaseMs?: number
  /** Default DEFAULT_RETRY_MAX_MS. */
  readonly retryMaxMs?: number
  /** Aborting stops the worker as stop() does. */
  readonly signal?: AbortSignal
  /** Run before the consumer is looked up (e.g. create the stream when absent). */
  readonly prepare?: (jsm: JetStreamManager) => Promise<void>
}

/** Counters of a worker. */
export interface WorkerStats {
  /** Messages whose handler succeeded and whose ack the server confirmed. */
  readonly acked: number
  /** Handler successes whose ack the server did not confirm (the message may come again). */
  readonly ackUnconfirmed: number
  /** Handler failures answered with a delayed redelivery. */
  readonly retried: number
  /** Messages moved to the dead-letter subject. */
  readonly deadLettered: number
  /** Deliveries that were redeliveries (deliveryCount > 1). */
  readonly redeliveries: number
  /** Pulls that ended in an error (missed heartbeats, no leader, disconnected). */
  readonly pullErrors: number
}

/** Events of a worker. */
export interface WorkQueueWorkerEvents {
  /** A message was handled and acknowledged. */
  processed: [info: { readonly streamSeq: number; readonly msgId: string | undefined; readonly deliveryCount: number; readonly ms: number }]
  /** A handler failed; the message comes back after `delayMs`. */
  retry: [info: { readonly streamSeq: number; readonly msgId: string | undefined; readonly deliveryCount: number; readonly delayMs: number; readonly error: unknown }]
  /** A message went to the dead-letter subject. */
  'dead-letter': [info: { readonly streamSeq: number; readonly msgId: string | undefined; readonly deliveryCount: number; readonly reason: DeadReason; readonly error: unknown }]
  /** A pull failed (the worker pulls again). */
  stall: [info: { readonly error: unknown }]
  /** The first message after one or more failed pulls, `ms` after the first of them. */
  recovered: [info: { readonly ms: number; readonly failedPulls: number }]
}

/** One line of text fit for a header value. */
function headerLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, MAX_DEAD_ERROR_CHARS)
}

function positive(name: string, v: number, min = 1): number {
  if (!Number.isSafeInteger(v) || v < min) throw new JetStreamAdapterError('bad-option', `${name} must be an integer >= ${min}, got ${v}`, { option: name, value: v })
  return v
}

/** Create the durable pull consumer unless it exists (an existing one is used as it is). */
export async function ensureWorkConsumer(
  jsm: JetStreamManager,
  opts: { readonly stream: string; readonly consumer: string; readonly filterSubject: string; readonly ackWaitMs?: number; readonly maxAckPending?: number },
): Promise<void> {
  try {
    await jsm.consumers.info(opts.stream, opts.consumer)
    return
  } catch (e) {
    if ((e as Error)?.name !== 'ConsumerNotFoundError') throw e
  }
  await jsm.consumers.add(opts.stream, {
    durable_name: opts.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: opts.filterSubject,
    ack_wait: (opts.ackWaitMs ?? DEFAULT_ACK_WAIT_MS) * NS_PER_MS,
    // Unlimited: the worker dead-letters (see the module comment).
    max_deliver: -1,
    max_ack_pending: opts.maxAckPending ?? DEFAULT_MAX_ACK_PENDING,
  })
}

/** A worker of a shared durable pull consumer; see the module comment. */
export class WorkQueueWorker<T> extends EventEmitter<WorkQueueWorkerEvents> {
  /** Resolves with the counters once the worker stopped; rejects if it failed (the connection closed). */
  readonly done: Promise<WorkerStats>
  private readonly opts: WorkQueueWorkerOptions<T>
  private readonly name: string
  private readonly maxDeliveries: number
  private readonly ackWaitMs: number
  private readonly concurrency: number
  private readonly fetchExpiresMs: number
  private readonly idleHeartbeatMs: number
  private readonly retryBaseMs: number
  private readonly retryMaxMs: number
  private readonly js: JetStreamClient
  private readonly stopper = new AbortController()
  private readonly active = new Set<Promise<void>>()
  private counters = { acked: 0, ackUnconfirmed: 0, retried: 0, deadLettered: 0, redeliveries: 0, pullErrors: 0 }
  private started = false
  private resolveDone!: (s: WorkerStats) => void
  private rejectDone!: (e: unknown) => void
  private stallSince: number | undefined
  private failedPulls = 0

  /** A worker; call start(). */
  constructor(opts: WorkQueueWorkerOptions<T>) {
    super()
    this.opts = opts
    this.name = opts.name ?? 'worker'
    this.maxDeliveries = positive('maxDeliveries', opts.maxDeliveries ?? DEFAULT_MAX_DELIVERIES)
    this.ackWaitMs = positive('ackWaitMs', opts.ackWaitMs ?? DEFAULT_ACK_WAIT_MS)
    this.concurrency = positive('concurrency', opts.concurrency ?? DEFAULT_WORKER_CONCURRENCY)
    this.fetchExpiresMs = positive('fetchExpiresMs', opts.fetchExpiresMs ?? DEFAULT_FETCH_EXPIRES_MS, 1_000)
    this.idleHeartbeatMs = positive('idleHeartbeatMs', opts.idleHeartbeatMs ?? DEFAULT_IDLE_HEARTBEAT_MS)
    this.retryBaseMs = positive('retryBaseMs', opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS, 0)
    this.retryMaxMs = positive('retryMaxMs', opts.retryMaxMs ?? DEFAULT_RETRY_MAX_MS, 0)
    if (this.idleHeartbeatMs * 2 >= this.fetchExpiresMs) {
      throw new JetStreamAdapterError('bad-option', `idleHeartbeatMs (${this.idleHeartbeatMs}) must be under half of fetchExpiresMs (${this.fetchExpiresMs})`, { option: 'idleHeartbeatMs' })
    }
    this.js = jetstream(opts.nc)
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve
      this.rejectDone = reject
    })
    this.done.catch(() => undefined)
    opts.signal?.addEventListener('abort', () => void this.stop(), { once: true })
  }

  /** The counters so far. */
  get stats(): WorkerStats {
    return { ...this.counters }
  }

  /** Messages being handled now. */
  get handling(): number {
    return this.active.size
  }

  /** Create the consumer if absent and start pulling. Idempotent. */
  start(): this {
    if (this.started) return this
    this.started = true
    void this.loop().then(
      () => this.resolveDone(this.stats),
      (e) => this.rejectDone(e),
    )
    return this
  }

  /**
   * Stop pulling, let the handlers in progress finish (their messages are
   * acknowledged), and resolve with the counters. Messages pulled and not
   * started are left unacknowledged: the server delivers them again.
   */
  async stop(): Promise<WorkerStats> {
    this.stopper.abort(new JetStreamAdapterError('stopped', `worker ${this.name} stopped`))
    if (!this.started) {
      this.started = true
      this.resolveDone(this.stats)
    }
    return this.done
  }

  private async loop(): Promise<void> {
    const jsm = await jetstreamManager(this.opts.nc, { checkAPI: false })
    await this.opts.prepare?.(jsm)
    await ensureWorkConsumer(jsm, { ...this.opts, ackWaitMs: this.ackWaitMs })
    let consumer: Consumer | undefined
    const stop = this.stopper.signal
    while (!stop.aborted) {
      if (this.opts.nc.isClosed()) throw new JetStreamAdapterError('connection-closed', `worker ${this.name}: the NATS connection closed`)
      // Room for at least one more message.
      while (this.active.size >= this.concurrency && !stop.aborted) await Promise.race(this.active)
      if (stop.aborted) break
      try {
        consumer ??= await this.js.consumers.get(this.opts.stream, this.opts.consumer)
        const batch = await consumer.fetch({ max_messages: this.concurrency - this.active.size, expires: this.fetchExpiresMs, idle_heartbeat: this.idleHeartbeatMs })
        const onStop = () => void batch.stop()
        stop.addEventListener('abort', onStop, { once: true })
        try {
          for await (const m of batch) {
            this.noteRecovered()
            if (stop.aborted) break // left unacknowledged: it comes back
            // handle() settles every outcome itself; a throwing event listener is reported, never an unhandled rejection.
            const p: Promise<void> = this.handle(m)
              .catch((error: unknown) => void this.emit('stall', { error }))
              .finally(() => this.active.delete(p))
            this.active.add(p)
          }
        } finally {
          stop.removeEventListener('abort', onStop)
        }
      } catch (e) {
        if (stop.aborted) break
        this.counters.pullErrors++
        this.failedPulls++
        this.stallSince ??= performance.now()
        consumer = undefined // look the consumer up again: its leader may have moved
        this.emit('stall', { error: e })
        await new Promise((r) => setTimeout(r, PULL_RETRY_DELAY_MS))
      }
    }
    await Promise.allSettled([...this.active])
  }

  private noteRecovered(): void {
    if (this.stallSince === undefined) return
    const ms = performance.now() - this.stallSince
    const failedPulls = this.failedPulls
    this.stallSince = undefined
    this.failedPulls = 0
    this.emit('recovered', { ms, failedPulls })
  }

  private async handle(m: JsMsg): Promise<void> {
    const deliveryCount = m.info.deliveryCount
    const streamSeq = m.info.streamSequence
    const msgId = m.headers?.get('Nats-Msg-Id') || undefined
    if (deliveryCount > 1) this.counters.redeliveries++
    // Delivered more often than allowed without an outcome: every worker that took it died.
    if (deliveryCount > this.maxDeliveries) return this.deadLetter(m, 'crashed', new Error(`delivered ${deliveryCount} times without an outcome`))
    let item: T
    try {
      item = this.opts.decode(m.data)
    } catch (e) {
      return this.deadLetter(m, 'undecodable', e)
    }
    const t0 = performance.now()
    // Keep the message ours while the handler runs.
    const beat = setInterval(() => m.working(), Math.max(1, Math.floor(this.ackWaitMs / 3)))
    try {
      await this.opts.handler(item, { deliveryCount, streamSeq, msgId, subject: m.subject, worker: this.name, signal: this.stopper.signal })
    } catch (e) {
      clearInterval(beat)
      if (deliveryCount >= this.maxDeliveries) return this.deadLetter(m, 'handler-failed', e)
      const delayMs = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (deliveryCount - 1))
      m.nak(delayMs)
      this.counters.retried++
      this.emit('retry', { streamSeq, msgId, deliveryCount, delayMs, error: e })
      return
    }
    clearInterval(beat)
    if (await this.confirmAck(m)) {
      this.counters.acked++
      this.emit('processed', { streamSeq, msgId, deliveryCount, ms: performance.now() - t0 })
    }
  }

  /** ack and wait for the server's confirmation; false (and counted) when none came. */
  private async confirmAck(m: JsMsg): Promise<boolean> {
    try {
      await m.ackAck({ timeout: Math.max(1_000, Math.floor(this.ackWaitMs / 2)) })
      return true
    } catch {
      // The handler's effects are done; the message may be delivered again (at least once).
      this.counters.ackUnconfirmed++
      return false
    }
  }

  /** Publish `m` to the dead-letter subject, then acknowledge it. */
  private async deadLetter(m: JsMsg, reason: DeadReason, error: unknown): Promise<void> {
    const h = headers()
    const msgId = m.headers?.get('Nats-Msg-Id') || undefined
    h.set(DEAD_HEADERS.subject, m.subject)
    h.set(DEAD_HEADERS.reason, reason)
    h.set(DEAD_HEADERS.error, headerLine(String((error as Error)?.message ?? error)))
    h.set(DEAD_HEADERS.deliveries, String(m.info.deliveryCount))
    h.set(DEAD_HEADERS.streamSeq, String(m.info.streamSequence))
    h.set(DEAD_HEADERS.worker, headerLine(this.name))
    try {
      // The same id for a retry of the move: one dead letter per message.
      await this.js.publish(this.opts.deadSubject, m.data, { msgID: `dead:${m.info.stream}:${m.info.streamSequence}`, headers: h })
    } catch (e) {
      // Not moved: leave it unacknowledged; it comes back and is moved then.
      this.emit('stall', { error: e })
      return
    }
    if (await this.confirmAck(m)) {
      this.counters.deadLettered++
      this.emit('dead-letter', { streamSeq: m.info.streamSequence, msgId, deliveryCount: m.info.deliveryCount, reason, error })
    }
  }
}
