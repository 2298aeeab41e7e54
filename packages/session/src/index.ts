/**
 * @bitp2p/session: Bitcoin P2P connections, one or a pool of them.
 *
 * This entry holds what applications use: Peer and Pool, the services
 * (HeaderSync, MempoolMonitor, Broadcaster, BlockFetcher, crawl) and the
 * PeerSource helpers that feed them, "host:port" text (formatPeerAddress,
 * parsePeerAddress), the typed errors and disconnect reasons, the Transport/Connector/Listener/Clock/Random interfaces
 * transports implement, RealtimeClock and the random sources, and the
 * HeaderStore interface with its memory store. The rest sits behind
 * subpaths:
 *
 * - `@bitp2p/session/core`: the sans-IO state machines (connection, peer,
 *   handshake, ping, requests, scheduler, tx requests) and the pool's
 *   policy (PoolMachine, AddressBook, BanList, backoff, eviction, netgroups)
 * - `@bitp2p/session/chain`: header validation, the most-work HeaderTree,
 *   locators, the hash index
 * - `@bitp2p/session/limits`: every tunable and default (timeouts, caps,
 *   bucket sizes)
 * - `@bitp2p/session/v2`: BIP324's v2 transport
 * - `@bitp2p/session/node`: the file header store and DNS seeds (Node, Deno, Bun)
 * @module @bitp2p/session
 */

export {
  TransportError,
  type Cancel,
  type Clock,
  type Connector,
  type Listener,
  type PeerAddress,
  type Random,
  type Transport,
  type TransportCloseKind,
} from './core/ports.js'
export { formatPeerAddress, parsePeerAddress, PeerAddressError, type PeerAddressErrorCode } from './core/peer-address.js'
export { RealtimeClock } from './driver/realtime-clock.js'
export { SeededRandom } from './core/random.js'
export { systemRandom } from './driver/system-random.js'
export { describeDisconnect, disconnectPolicy, type DisconnectKind, type DisconnectPolicy, type DisconnectReason } from './core/fsm/reasons.js'
export type { Offense, OffenseKind } from './core/fsm/misbehavior.js'
export type { HandshakeInfo, PeerFeatures } from './core/fsm/handshake.js'
export type { RttStats } from './core/fsm/ping.js'
export type { DataReply, PeerRequest, RequestResult } from './core/fsm/requests.js'
export { Peer, PeerError, RequestError, type ConnectOptions, type PeerEvents, type PeerOptions, type RequestOptions } from './driver/peer.js'
export { MemoryHeaderStore, type HeaderStore } from './core/chain/store.js'
export {
  BlockDownload,
  BlockFetcher,
  BlockFetchError,
  type BlockChunkEvent,
  type BlockDoneEvent,
  type BlockDownloadSummary,
  type BlockFetcherOptions,
  type BlockFetchEvent,
} from './driver/services/block-fetcher.js'
export {
  Broadcaster,
  type BroadcasterEvents,
  type BroadcasterOptions,
  type BroadcastOptions,
  type BroadcastRejection,
  type BroadcastResult,
} from './driver/services/broadcaster.js'
export { HeaderSync, HeaderSyncError, type HeaderSyncEvents, type HeaderSyncOptions, type SyncProgress, type SyncReorg } from './driver/services/header-sync.js'
export { MempoolMonitor, type MempoolMonitorEvents, type MempoolMonitorOptions, type MempoolTx } from './driver/services/mempool.js'
export { PeerList, singlePeer, watchPeers, type PeerSource, type PeerSourceEvents } from './driver/services/source.js'
export type { PoolPeerInfo } from './core/pool/machine.js'
export { crawl, crawlNode, type CrawlFailure, type CrawlNodeOptions, type CrawlNodeOutcome, type CrawlOptions, type CrawlResult } from './driver/crawler.js'
export { describeRemoval, Pool, type PoolEvents, type PoolOptions, type PoolStats } from './driver/pool.js'
