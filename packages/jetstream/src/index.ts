/**
 * @bitp2p/jetstream: distributed block indexing and network crawling on
 * NATS JetStream. A producer publishes BlockFetcher's chunks as block parts
 * (transactions whole, with their offsets) and MempoolMonitor's
 * transactions, de-duplicated by Nats-Msg-Id and paced by the server's
 * acks; workers on any number of machines share a durable pull consumer
 * (ack after the handler, redelivery after a crash, dead letters after
 * the maximum deliveries); crawl workers share one frontier. Node, Deno
 * and Bun (the NATS client is @nats-io/transport-node).
 */
export { DEFAULT_NAMESPACE, MAX_NAMESPACE_LENGTH, jetStreamNames, type JetStreamNames } from './names.js'
export { JetStreamAdapterError, PartCodecError, isJetStreamAdapterError, type JetStreamAdapterErrorCode, type JetStreamAdapterErrorKind, type PartCodecErrorCode } from './errors.js'
export {
  PART_MAGIC,
  PART_VERSION,
  PART_FIXED_BYTES,
  PART_TX_ENTRY_BYTES,
  encodeBlockPart,
  decodeBlockPart,
  partTxBytes,
  partMsgId,
  displayHex,
  type BlockPart,
  type PartTx,
} from './codec.js'
export { PartAssembler } from './assembler.js'
export {
  AckedPublisher,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_IN_FLIGHT_BYTES,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_RETRY_DEADLINE_MS,
  FIRST_RETRY_DELAY_MS,
  MAX_RETRY_DELAY_MS,
  type AckedPublisherOptions,
  type PublishRequest,
  type PublisherStats,
} from './publisher.js'
export {
  NS_PER_MS,
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_MEMPOOL_MAX_AGE_MS,
  DEFAULT_MEMPOOL_MAX_BYTES,
  DEFAULT_DEAD_MAX_AGE_MS,
  DEFAULT_DEAD_MAX_BYTES,
  ensureBlockStreams,
  ensureMempoolStream,
  ensureCrawlStreams,
  ensureBucket,
  type StreamOptions,
} from './streams.js'
export {
  BlockProducer,
  DEFAULT_PRODUCER_NAME,
  DEFAULT_MAX_BACKLOG,
  BACKLOG_POLL_MS,
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
  DEFAULT_MAX_DELIVERIES,
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_WORKER_CONCURRENCY,
  DEFAULT_FETCH_EXPIRES_MS,
  DEFAULT_IDLE_HEARTBEAT_MS,
  DEFAULT_RETRY_BASE_MS,
  DEFAULT_RETRY_MAX_MS,
  DEFAULT_MAX_ACK_PENDING,
  PULL_RETRY_DELAY_MS,
  MAX_DEAD_ERROR_CHARS,
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
  INITIAL_SUBSIDY_SATS,
  HALVING_INTERVAL,
  REGTEST_HALVING_INTERVAL,
  MAX_MERGE_ATTEMPTS,
  type BlockStats,
  type BlockStatsSinkOptions,
  type PartStats,
} from './stats.js'
export {
  MempoolPublisher,
  decodeMempoolTx,
  DEFAULT_MEMPOOL_QUEUE_LIMIT,
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
  MAX_ADDRESS_CHARS,
  FRONTIER_PUBLISH_ATTEMPTS,
  FRONTIER_RETRY_DELAY_MS,
  DEFAULT_MAX_FRONTIER,
  type CrawlRecord,
  type CrawlFrontierOptions,
  type CrawlWorkerOptions,
  type EnqueueResult,
} from './crawl.js'
export { connectNats, natsServers, DEFAULT_NATS_CONNECT_TIMEOUT_MS, NATS_RECONNECT_WAIT_MS } from './connect.js'
