/**
 * The block side of the worker API: a WorkQueueWorker over the block
 * stream, whose handler gets decoded BlockParts.
 */
import type { JetStreamManager } from '@nats-io/jetstream'
import { decodeBlockPart, type BlockPart } from './codec.js'
import { jetStreamNames, type JetStreamNames } from './names.js'
import { ensureBlockStreams, type StreamOptions } from './streams.js'
import { WorkQueueWorker, type WorkQueueWorkerOptions } from './worker.js'

/** Options of blockWorker: a WorkQueueWorker's, with the stream, subjects and decoding filled in from `names`. */
export interface BlockWorkerOptions extends Omit<WorkQueueWorkerOptions<BlockPart>, 'stream' | 'consumer' | 'filterSubject' | 'deadSubject' | 'decode' | 'prepare'> {
  /** Default jetStreamNames(). */
  readonly names?: JetStreamNames
  /** Durable consumer: one per pool of workers doing one job. Default names.blockConsumer. */
  readonly consumer?: string
  /** Used when the worker creates the streams (it does when they are absent: workers may start before the producer). */
  readonly streams?: StreamOptions
}

/**
 * A worker of the block stream (not started: call start()). Each part is
 * handed to `handler` and acknowledged once it resolves; see
 * WorkQueueWorker for redelivery and dead letters.
 */
export function blockWorker(opts: BlockWorkerOptions): WorkQueueWorker<BlockPart> {
  const names = opts.names ?? jetStreamNames()
  return new WorkQueueWorker<BlockPart>({
    ...opts,
    stream: names.blockStream,
    consumer: opts.consumer ?? names.blockConsumer,
    filterSubject: names.blockSubject,
    deadSubject: names.blockDeadSubject,
    decode: decodeBlockPart,
    prepare: (jsm: JetStreamManager) => ensureBlockStreams(jsm, names, opts.streams),
  })
}
