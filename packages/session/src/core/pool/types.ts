/**
 * The vocabulary of the pool machine and its managers: slots, peer views,
 * events and the actions the driver carries out. Types only, so every
 * manager can name them without importing the machine (no import cycle).
 */
import type { KnownMessage } from '@bitp2p/wire'
import type { HandshakeInfo } from '../fsm/handshake.js'
import type { DisconnectPolicy, DisconnectReason } from '../fsm/reasons.js'
import type { PeerRequest, RequestFailure } from '../fsm/requests.js'
import type { SchedulerFailure } from '../scheduler.js'
import type { PeerAddress } from '../ports.js'
import type { GoodResult } from './addrman.js'

/** The kind of slot a peer occupies ('feeler': a short-lived test connection outside the outbound slots). */
export type SlotType = 'full-relay' | 'limited' | 'inbound' | 'feeler'
/** Where a pool peer is. */
export type PoolPeerState = 'connecting' | 'handshaking' | 'ready' | 'closing'
/** What the machine knows about one connection. */
export interface PoolPeerInfo {
  readonly id: number
  readonly addr: PeerAddress
  readonly slot: SlotType
  readonly direction: 'outbound' | 'inbound'
  /** Printable network group ('ipv4:1.2', 'name:...'). */
  readonly group: string
  readonly state: PoolPeerState
  /** From the peer's version message (0 before ready). */
  readonly services: bigint
  /** Pool requests in flight on this peer. */
  readonly inflight: number
  /** Addresses accepted from this peer's gossip. */
  readonly addrsLearned: number
  /** Addresses of this peer's gossip dropped by the rate limit. */
  readonly addrsDropped: number
}

/**
 * Why a pool request or broadcast failed: every attempt failed ('exhausted',
 * with the last peer's failure), no peer was ready for the request's
 * peer wait ('no-peers'), the caller's AbortSignal fired ('aborted'), the
 * pool stopped ('stopped'), or the broadcast queue overflowed and this, the
 * oldest, was dropped ('queue-full').
 */
export type PoolFailure = SchedulerFailure<RequestFailure> | { readonly kind: 'queue-full'; readonly limit: number }

/** Events the pool reports. */
export type PoolEvent =
  | { readonly type: 'peer-added'; readonly peer: PoolPeerInfo; readonly info: HandshakeInfo }
  /** A peer that had been added left. */
  | { readonly type: 'peer-removed'; readonly peer: PoolPeerInfo; readonly reason: DisconnectReason; readonly policy: DisconnectPolicy }
  /** An attempt that never became ready (connect or handshake failed). */
  | { readonly type: 'connect-failed'; readonly peer: PoolPeerInfo; readonly reason: DisconnectReason; readonly retryAt: number }
  | { readonly type: 'ban'; readonly host: string; readonly until: number; readonly reason: string }
  /** Gossip from a peer: received entries, accepted after the rate limit, new to the book. */
  | { readonly type: 'addr'; readonly peerId: number; readonly received: number; readonly accepted: number; readonly added: number }
  /** A request moved to another peer. */
  | { readonly type: 'failover'; readonly requestId: number; readonly from: number; readonly to: number | undefined; readonly failure: RequestFailure }
  /** An inbound peer was closed to make room for a connection from `by`. */
  | { readonly type: 'evicted'; readonly peer: PoolPeerInfo; readonly by: PeerAddress }
  /**
   * A feeler ended: `ok` when its handshake completed, then `book` says what
   * that did in the address book ('tried': moved from new to tried).
   */
  | { readonly type: 'feeler'; readonly peer: PoolPeerInfo; readonly ok: boolean; readonly reason: DisconnectReason; readonly book: GoodResult | undefined }

/** What the driver must do. */
export type PoolAction =
  /** Dial `addr`; `transport` says which protocol to speak (see PoolMachineConfig.transport). */
  | { readonly type: 'connect'; readonly peerId: number; readonly addr: PeerAddress; readonly slot: SlotType; readonly requiredServices: bigint; readonly transport: 'v1' | 'v2' }
  | { readonly type: 'disconnect'; readonly peerId: number; readonly reason: DisconnectReason }
  | { readonly type: 'send'; readonly peerId: number; readonly message: KnownMessage }
  | { readonly type: 'request'; readonly requestId: number; readonly peerId: number; readonly request: PeerRequest; readonly timeoutMs?: number }
  /** Abandon the peer-level request (the pool request was aborted or settled elsewhere). */
  | { readonly type: 'cancel-request'; readonly requestId: number; readonly peerId: number }
  | { readonly type: 'resolve'; readonly host: string; readonly port: number }
  /** A pool request ended without an answer. */
  | { readonly type: 'request-failed'; readonly requestId: number; readonly failure: PoolFailure }
  /** A queued broadcast went out to `peers` peers, or failed. */
  | { readonly type: 'broadcast-settled'; readonly broadcastId: number; readonly peers: number; readonly failure?: PoolFailure }
  | { readonly type: 'event'; readonly event: PoolEvent }

/** Options of one pool request. */
export interface PoolRequestOptions {
  /** Per-attempt deadline (the peer's default per kind when absent). */
  readonly timeoutMs?: number
  /** Attempts across peers (default: the machine's requestAttempts). */
  readonly maxAttempts?: number
}

/** Counts of the pool's peers. */
export interface PoolCounts {
  readonly connecting: number
  readonly handshaking: number
  readonly ready: number
  readonly closing: number
  /** Peers in outbound slots (full-relay + limited; feelers are counted apart). */
  readonly outbound: number
  readonly inbound: number
  readonly fullRelay: number
  readonly limited: number
  /** Feeler connections (0 or 1). */
  readonly feeler: number
  /** Every connection, feelers included. */
  readonly total: number
}
