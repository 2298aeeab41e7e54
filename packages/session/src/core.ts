/**
 * @bitp2p/session/core: the sans-IO core. State machines take `(now, input)`
 * and queue their outputs; none reads a clock or does IO. The connection
 * (Connection, V1Codec, PeerMachine, Handshake, Pinger, RequestTracker,
 * Misbehavior, Outbox), the request scheduler and the transaction request
 * policy, and the pool's policy (PoolMachine, AddressBook, BanList, Backoff,
 * RetryTracker, AddrRateLimiter, eviction, netgroups and endpoints,
 * metering). Peer, Pool and the services in `@bitp2p/session` drive these.
 * Also the less common option, state and event types of those drivers
 * (TransportMode, StallPolicy, BackoffPolicy, BlockDownloadEvents, ...)
 * and the services' small helpers (EventQueue, peerLabel, unbracketHost).
 * @module @bitp2p/session/core
 */

export { framingOffense, Misbehavior, OFFENSE_SCORES, offenseScore, payloadOffense, type MisbehaviorResult } from './core/fsm/misbehavior.js'
export { LocalProtocolError } from './core/fsm/errors.js'
export { Outbox, type PeerAction, type PeerEvent } from './core/fsm/outbox.js'
export {
  applyFeatureMessage,
  commandOf,
  Handshake,
  HANDSHAKE_TRANSITIONS,
  nextHandshakeState,
  NO_FEATURES,
  renderHandshakeTransitions,
  supportsBip31,
  type CompactBlocksPreference,
  type Direction,
  type HandshakeConfig,
  type HandshakeInput,
  type HandshakeOutcome,
  type HandshakeState,
  type HandshakeStateName,
  type HandshakeTransition,
  type PeerVersionInfo,
} from './core/fsm/handshake.js'
export { Pinger, pingNonce, RttEstimator, type PingConfig, type PingDeadlineName, type PongOutcome } from './core/fsm/ping.js'
export {
  invItemKey,
  replyHeader,
  replyKeys,
  RequestTracker,
  type Completion,
  type MatchOutcome,
  type RequestFailure,
  type RequestKind,
  type RequestSummary,
  type StreamClaim,
  type StreamProgress,
} from './core/fsm/requests.js'
export { PeerMachine, UNKNOWN_OTHER, type Deadline, type DeadlineName, type PeerMachineConfig, type PeerMachineState, type StallPolicy } from './core/fsm/peer.js'
export { RequestScheduler, type JobOptions, type PeerSelection, type SchedulerAction, type SchedulerConfig, type SchedulerFailure } from './core/scheduler.js'
export { V1Codec, type CodecEvent, type FrameCodec, type FrameMeterEvent, type V1CodecOptions, type V2Failure } from './core/codec.js'
export { Connection, type ConnectionAction, type ConnectionConfig, type ConnectionEvent } from './core/connection.js'
export { mayRetryInV1, type TransportMode } from './driver/peer.js'
export {
  endpointBytes,
  endpointFromAddrV2,
  endpointFromNetAddress,
  endpointFromPeerAddress,
  endpointKey,
  endpointsEqual,
  endpointToAddrV2,
  endpointToNetAddress,
  endpointToPeerAddress,
  GROUP_CLASS_LOCAL,
  GROUP_CLASS_NAME,
  GROUP_CLASS_UNROUTABLE,
  groupToString,
  hostKey,
  isLocalEndpoint,
  isRoutable,
  isValidEndpoint,
  nameGroup,
  netGroup,
  networkName,
  sourceGroup,
  toEndpoint,
  type AddressLike,
  type Endpoint,
} from './core/pool/netgroup.js'
export {
  ADDRESS_BOOK_FORMAT_VERSION,
  ADDRESS_BOOK_MAGIC,
  AddressBook,
  FifoAddressBook,
  frameStore,
  isTerrible,
  selectionChance,
  unframeStore,
  type AddOptions,
  type AddressBookOptions,
  type AddressInput,
  type BookEntry,
  type BookTable,
  type EntryStats,
  type FifoAddressBookOptions,
  type GetAddrOptions,
  type GoodResult,
  type SelectOptions,
  type SlotRef,
  type TerriblePolicy,
} from './core/pool/addrman.js'
export {
  Backoff,
  backoffCeiling,
  retryKey,
  RetryTracker,
  type BackoffPolicy,
  type JitterMode,
  type RetryState,
  type RetryTrackerOptions,
} from './core/pool/backoff.js'
export {
  BAN_FOREVER,
  BAN_LIST_FORMAT_VERSION,
  BAN_LIST_MAGIC,
  BanList,
  parseSubnet,
  subnetContains,
  subnetToString,
  type Ban,
  type BanListOptions,
  type BanTarget,
  type Subnet,
} from './core/pool/banlist.js'
export type { BlockAttemptFailure, BlockDownloadEvents, ChunkTx } from './driver/services/block-fetcher.js'
export { describeServiceOffense, peerLabel, type PickOptions, type ServiceOffense } from './driver/services/source.js'
export { EventQueue } from './driver/services/event-queue.js'
export { unbracketHost } from './core/peer-address.js'
export {
  txKey,
  TxRequestMachine,
  type AnnounceCounts,
  type AnnouncementState,
  type TxHash,
  type TxRequestAction,
  type TxRequestConfig,
} from './core/tx-request.js'
export { AddrRateLimiter, type AddrRateOptions } from './core/pool/addr-rate.js'
export {
  addCounts,
  CommandMeter,
  FrameMeter,
  OVERFLOW_COMMAND_LABEL,
  UNFRAMED_LABEL,
  UNKNOWN_COMMAND_LABEL,
  type CommandCount,
  type CommandCounts,
  type FrameMeterOptions,
} from './core/meter.js'
export {
  FULL_RELAY_SERVICES,
  LIMITED_SERVICES,
  PoolMachine,
  type PoolAction,
  type PoolCounts,
  type PoolEvent,
  type PoolFailure,
  type PoolMachineConfig,
  type PoolPeerState,
  type PoolRequestOptions,
  type SlotType,
} from './core/pool/machine.js'
export { explainEviction, selectInboundToEvict, type EvictionCandidate, type EvictionDecision, type EvictionProtection } from './core/pool/eviction.js'
export type { CrawlItem } from './driver/crawler.js'
export type { PoolPeerOptions, PoolRequestCallOptions, PoolState, Resolver } from './driver/pool.js'
