/**
 * MempoolPublisher: MempoolMonitor's transactions into the mempool stream.
 *
 * Each transaction is published once per wtxid (`Nats-Msg-Id` = wtxid,
 * display hex), its serialized bytes (with witness) as the body and its
 * ids and peers in headers. The stream keeps every transaction for
 * DEFAULT_MEMPOOL_MAX_AGE_MS (limits retention): any number of consumers
 * can read it, each at its own pace.
 *
 * Backpressure: the monitor's iterator holds at most `queueLimit`
 * transactions; while publishes wait for acks (the AckedPublisher's
 * window), more are dropped and counted (`dropped`), never buffered
 * without bound. Mempool relay is best effort anyway: a transaction
 * dropped here is still mined into a block.
 */
import { EventEmitter } from 'eventemitter3'
import type { MempoolMonitor } from '@bitp2p/session'
import { parseTx, serializeTx, type Transaction } from '@bitp2p/wire'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node'
import { displayHex } from './codec.js'
import { jetStreamNames, type JetStreamNames } from './names.js'
import { AckedPublisher, type AckedPublisherOptions, type PublisherStats } from './publisher.js'
import { ensureMempoolStream, type StreamOptions } from './streams.js'

/** Default transactions waiting in the monitor's iterator before more are dropped. */
export const DEFAULT_MEMPOOL_QUEUE_LIMIT = 10_000

/** Headers of a mempool transaction message. */
export const MEMPOOL_HEADERS = {
  /** Txid, display hex. */
  txid: 'Bitp2p-Txid',
  /** Wtxid, display hex. */
  wtxid: 'Bitp2p-Wtxid',
  /** The peer that delivered it. */
  receivedFrom: 'Bitp2p-Received-From',
  /** Its first announcer. */
  firstSeenBy: 'Bitp2p-First-Seen-By',
} as const

/** Options of a MempoolPublisher. */
export interface MempoolPublisherOptions {
  readonly nc: NatsConnection
  /** Default jetStreamNames(). */
  readonly names?: JetStreamNames
  /** Streams created when absent. */
  readonly streams?: StreamOptions
  /** The publish window. */
  readonly publish?: Omit<AckedPublisherOptions, 'js' | 'signal' | 'maxPayload'>
  /** Default DEFAULT_MEMPOOL_QUEUE_LIMIT. */
  readonly queueLimit?: number
}

/** What a run did. */
export interface MempoolPublishSummary {
  /** Transactions acknowledged by the stream (new and duplicate). */
  readonly published: number
  /** Transactions dropped because the iterator was full. */
  readonly dropped: number
  readonly publish: PublisherStats
}

/** A transaction read back from the mempool stream. */
export interface PublishedMempoolTx {
  readonly tx: Transaction
  /** Display hex. */
  readonly txid: string
  /** Display hex. */
  readonly wtxid: string
  readonly receivedFrom: string | undefined
  readonly firstSeenBy: string | undefined
}

/** Decode a mempool stream message (throws WireError on bytes that are not a transaction). */
export function decodeMempoolTx(data: Uint8Array, hdrs: MsgHdrs | undefined): PublishedMempoolTx {
  const tx = parseTx(data)
  return {
    tx,
    txid: hdrs?.get(MEMPOOL_HEADERS.txid) ?? '',
    wtxid: hdrs?.get(MEMPOOL_HEADERS.wtxid) ?? '',
    receivedFrom: hdrs?.get(MEMPOOL_HEADERS.receivedFrom) || undefined,
    firstSeenBy: hdrs?.get(MEMPOOL_HEADERS.firstSeenBy) || undefined,
  }
}

/** Events of a MempoolPublisher. */
export interface MempoolPublisherEvents {
  /** A transaction was acknowledged (`duplicate`: the stream had it). */
  tx: [info: { readonly wtxid: string; readonly duplicate: boolean }]
}

/** Publishes a MempoolMonitor's transactions; see the module comment. */
export class MempoolPublisher extends EventEmitter<MempoolPublisherEvents> {
  private readonly opts: MempoolPublisherOptions
  private readonly names: JetStreamNames

  /** A publisher; run() does the work. */
  constructor(opts: MempoolPublisherOptions) {
    super()
    this.opts = opts
    this.names = opts.names ?? jetStreamNames()
  }

  /**
   * Publish `monitor`'s transactions (start() it yourself) from the call on, until `signal`
   * aborts or the monitor stops; resolves with the summary once the last
   * publishes are acknowledged. Rejects with JetStreamAdapterError
   * ('publish-failed', 'connection-closed').
   */
  async run(monitor: MempoolMonitor, signal: AbortSignal): Promise<MempoolPublishSummary> {
    const { nc } = this.opts
    // Subscribed before the first await: transactions from now on are taken.
    const queue = monitor.stream({ signal, limit: this.opts.queueLimit ?? DEFAULT_MEMPOOL_QUEUE_LIMIT })
    await ensureMempoolStream(await jetstreamManager(nc, { checkAPI: false }), this.names, this.opts.streams)
    const publish = new AckedPublisher({ ...this.opts.publish, js: jetstream(nc), maxPayload: nc.info?.max_payload })
    let published = 0
    for await (const t of queue) {
      const wtxid = displayHex(t.wtxid)
      const h = headers()
      h.set(MEMPOOL_HEADERS.txid, displayHex(t.txid))
      h.set(MEMPOOL_HEADERS.wtxid, wtxid)
      h.set(MEMPOOL_HEADERS.receivedFrom, t.receivedFrom)
      h.set(MEMPOOL_HEADERS.firstSeenBy, t.firstSeenBy)
      const { acked } = await publish.submit({ subject: this.names.mempoolSubject, data: serializeTx(t.tx), msgId: wtxid, headers: h, stream: this.names.mempoolStream })
      acked.then(
        (ack) => {
          published++
          this.emit('tx', { wtxid, duplicate: ack.duplicate })
        },
        () => undefined, // drain() reports it
      )
    }
    await publish.drain()
    return { published, dropped: queue.dropped, publish: publish.stats }
  }
}
