/**
 * Names of the JetStream streams, subjects, consumers and key-value buckets
 * the adapter uses, all derived from one namespace, so several deployments
 * (mainnet and testnet indexers, or the tests, each with its own) share one
 * NATS cluster without meeting.
 *
 * Stream, consumer and bucket names may hold letters, digits, `-` and `_`
 * only; a subject's tokens are separated by dots. A namespace is therefore
 * lowercase letters, digits, `-` and `_`, starting with a letter.
 */
import { JetStreamAdapterError } from './errors.js'

/** The namespace used when none is given. */
export const DEFAULT_NAMESPACE = 'bitp2p'

/** Longest namespace: the longest derived name (`<ns>-block-stats`) stays well inside NATS's limits. */
export const MAX_NAMESPACE_LENGTH = 48

/** Every name the adapter uses, for one namespace. */
export interface JetStreamNames {
  /** The namespace these names derive from. */
  readonly namespace: string
  /** Work-queue stream of block parts. */
  readonly blockStream: string
  /** Subject of block parts: `<ns>.blocks.part`. */
  readonly blockSubject: string
  /** Default durable consumer of the block workers. */
  readonly blockConsumer: string
  /** Stream of mempool transactions (limits retention: every subscriber sees every transaction). */
  readonly mempoolStream: string
  /** Subject of mempool transactions: `<ns>.mempool.tx`. */
  readonly mempoolSubject: string
  /** Work-queue stream of the crawl frontier. */
  readonly crawlStream: string
  /** Subject of crawl addresses: `<ns>.crawl.addr`. */
  readonly crawlSubject: string
  /** Default durable consumer of the crawl workers. */
  readonly crawlConsumer: string
  /** Key-value bucket of crawl results, one key per address. */
  readonly crawlBucket: string
  /** Stream of dead letters: everything under `<ns>.dead.>`. */
  readonly deadStream: string
  /** Dead-letter subject of block parts: `<ns>.dead.blocks.part`. */
  readonly blockDeadSubject: string
  /** Dead-letter subject of crawl addresses: `<ns>.dead.crawl.addr`. */
  readonly crawlDeadSubject: string
  /** Key-value bucket of producer progress (one key per producer name). */
  readonly progressBucket: string
  /** Key-value bucket of the example block-stats sink. */
  readonly blockStatsBucket: string
}

/** The names for `namespace` (default DEFAULT_NAMESPACE); throws JetStreamAdapterError 'bad-option' for a malformed one. */
export function jetStreamNames(namespace: string = DEFAULT_NAMESPACE): JetStreamNames {
  if (typeof namespace !== 'string' || namespace.length > MAX_NAMESPACE_LENGTH || !/^[a-z][a-z0-9_-]*$/.test(namespace)) {
    throw new JetStreamAdapterError('bad-option', `namespace must be 1 to ${MAX_NAMESPACE_LENGTH} lowercase letters, digits, '-' or '_', starting with a letter; got ${JSON.stringify(namespace)}`, {
      option: 'namespace',
    })
  }
  const ns = namespace
  return {
    namespace: ns,
    blockStream: `${ns}-blocks`,
    blockSubject: `${ns}.blocks.part`,
    blockConsumer: `${ns}-indexers`,
    mempoolStream: `${ns}-mempool`,
    mempoolSubject: `${ns}.mempool.tx`,
    crawlStream: `${ns}-crawl`,
    crawlSubject: `${ns}.crawl.addr`,
    crawlConsumer: `${ns}-crawlers`,
    crawlBucket: `${ns}-crawl`,
    deadStream: `${ns}-dead`,
    blockDeadSubject: `${ns}.dead.blocks.part`,
    crawlDeadSubject: `${ns}.dead.crawl.addr`,
    progressBucket: `${ns}-progress`,
    blockStatsBucket: `${ns}-block-stats`,
  }
}
