/**
 * @bitp2p/jetstream: distributed block indexing and network crawling on
 * NATS JetStream. A producer publishes BlockFetcher's chunks as block parts
 * (transactions whole, with their offsets) and MempoolMonitor's
 * transactions, de-duplicated by Nats-Msg-Id and paced by the server's
 * acks; workers on any number of machines share a durable pull consumer
 * (ack after the handler, redelivery after a crash, dead letters after
 * the maximum deliveries); crawl workers share one frontier. Node, Deno
 * and Bun (the NATS client is @nats-io/transport-node).
 *
 * Every tunable (defaults, retry delays, sizes of the part format) is in
 * `@bitp2p/jetstream/limits`.
 */
export { DEFAULT_NAMESPACE, jetStreamNames, type JetStreamNames } from './names.js'
export {
  JetStreamAdapterError,
  PartCodecError,
  isJetStreamAdapterError,
  type JetStreamAdapterErrorCode,
  type JetStreamAdapterErrorKind,
  type PartCodecErrorCode,
} from './errors.js'
export {
  encodeBlockPart,
  decodeBlockPart,
  partTxBytes,
  partMsgId,
  displayHex,
  type BlockPart,
  type PartTx,
} from './codec.js'
export { PartAssembler } from './assembler.js'
export { AckedPublisher, type AckedPublisherOptions, type PublishRequest, type PublisherStats } from './publisher.js'
export {
  ensureBlockStreams,
  ensureMempoolStream,
  ensureCrawlStreams,
  ensureBucket,
  type StreamOptions,
} from './streams.js'
export {
  BlockProducer,
  PART_HEADERS,
  progressKey,
  readProgress,
  type BlockProducerOptions,
  type BlockProducerEvents,
  type ProducerProgress,
  type ProducerSummary,
} from './producer.js'
export {
  WorkQueueWorker,
  ensureWorkConsumer,
  DEAD_HEADERS,
  type DeadReason,
  type DeliveryContext,
  type WorkHandler,
  type WorkQueueWorkerOptions,
  type WorkQueueWorkerEvents,
  type WorkerStats,
} from './worker.js'
export { blockWorker, type BlockWorkerOptions } from './blocks.js'
export {
  BlockStatsSink,
  blockSubsidy,
  partStats,
  type BlockStats,
  type BlockStatsSinkOptions,
  type PartStats,
} from './stats.js'
export {
  MempoolPublisher,
  decodeMempoolTx,
  MEMPOOL_HEADERS,
  type MempoolPublisherOptions,
  type MempoolPublisherEvents,
  type MempoolPublishSummary,
  type PublishedMempoolTx,
} from './mempool.js'
export {
  CrawlFrontier,
  crawlWorker,
  frontierIdle,
  addressKey,
  decodeAddress,
  type CrawlRecord,
  type CrawlFrontierOptions,
  type CrawlWorkerOptions,
  type EnqueueResult,
} from './crawl.js'
export { connectNats, natsServers } from './connect.js'
