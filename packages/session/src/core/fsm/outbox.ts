/**
 * The queue of a state machine's outputs. Inputs push actions here; the
 * driver drains them in order with `poll()` (quinn's poll_*, nakamoto's
 * Outbox). One queue per peer machine, shared by its parts, so actions come
 * out in the order they were decided.
 */
import type { KnownMessage, Message } from '@bitp2p/wire'
import type { PayloadChunkEvent, PayloadEndEvent, PayloadStartEvent } from '@bitp2p/wire/codecs'
import type { HandshakeInfo, PeerFeatures } from './handshake.js'
import type { Offense } from './misbehavior.js'
import type { RttStats } from './ping.js'
import type { DisconnectReason } from './reasons.js'
import type { RequestFailure, RequestResult, RequestSummary, StreamProgress } from './requests.js'

/** Something the machine tells its driver about. */
export type PeerEvent =
  /** The handshake completed. */
  | { readonly type: 'ready'; readonly info: HandshakeInfo }
  /** A message from the peer, after the handshake (handshake messages are not repeated here). */
  | { readonly type: 'message'; readonly message: Message }
  /**
   * A streamed payload piece (block payloads when the decoder streams them),
   * with the request it answers (undefined: unsolicited, late, or not a block).
   */
  | { readonly type: 'payload'; readonly event: PayloadStartEvent | PayloadChunkEvent | PayloadEndEvent; readonly requestId: number | undefined }
  /** The peer announced a feature after the handshake (sendheaders, sendcmpct, feefilter). */
  | { readonly type: 'features'; readonly features: PeerFeatures }
  /** A round-trip sample from a ping/pong. */
  | { readonly type: 'latency'; readonly rttMs: number; readonly stats: RttStats }
  /** A request completed. */
  | { readonly type: 'response'; readonly id: number; readonly result: RequestResult }
  /** A request ended without an answer. */
  | { readonly type: 'request-failed'; readonly request: RequestSummary; readonly failure: RequestFailure }
  /** A request passed its deadline without progress (or, with `stream`, a streamed block used up its time budget). */
  | { readonly type: 'stalled'; readonly request: RequestSummary; readonly waitedMs: number; readonly stream?: StreamProgress }
  /** The peer committed an offense. */
  | { readonly type: 'misbehavior'; readonly offense: Offense; readonly score: number; readonly threshold: number }
  /** A block, transaction or headers message nobody asked for (still delivered as 'message'). */
  | { readonly type: 'unsolicited'; readonly message: Message }
  /** A command we have no codec for: counted and dropped. */
  | { readonly type: 'unknown-command'; readonly command: string; readonly count: number }

/** One output of a peer machine. */
export type PeerAction =
  | { readonly type: 'send'; readonly message: KnownMessage }
  | { readonly type: 'disconnect'; readonly reason: DisconnectReason }
  | { readonly type: 'event'; readonly event: PeerEvent }

/** FIFO of actions. */
export class Outbox {
  private items: PeerAction[] = []
  private head = 0

  /** Queue a message to send. */
  send(message: KnownMessage): void {
    this.items.push({ type: 'send', message })
  }

  /** Queue an event. */
  event(event: PeerEvent): void {
    this.items.push({ type: 'event', event })
  }

  /** Queue the disconnect. */
  disconnect(reason: DisconnectReason): void {
    this.items.push({ type: 'disconnect', reason })
  }

  /** Actions queued and not yet polled. */
  get size(): number {
    return this.items.length - this.head
  }

  /** The next action, or undefined when none is queued. */
  poll(): PeerAction | undefined {
    if (this.head >= this.items.length) return undefined
    const a = this.items[this.head++]
    // Compact once everything queued so far has been taken.
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    }
    return a
  }

  /** Every queued action, oldest first. */
  drain(): PeerAction[] {
    const out = this.items.slice(this.head)
    this.items = []
    this.head = 0
    return out
  }
}
