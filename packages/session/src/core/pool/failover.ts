/**
 * Pool requests and their failover: which ready peer serves which request,
 * moving it to another when that peer fails or leaves, and giving up.
 *
 *   inputs   submit(now, request, opts)  done / failed / cancel(now, ...)
 *            peerReady / peerClosing / peerGone(now, peerId)
 *            timeout(now)  stop(now)
 *   outputs  request(requestId, peerId, req), cancel-request,
 *            request-failed(requestId, failure), failover events
 *   timer    nextDeadline(): a request waiting for a ready peer gives up
 *            ('no-peers') after peerWaitMs
 *
 * The choice of peer and the attempt count are the RequestScheduler's
 * (scheduler.ts); this manager keeps what each request asks and turns the
 * scheduler's decisions into pool actions, in the order it made them.
 */
import type { DisconnectReason } from '../fsm/reasons.js'
import type { PeerRequest, RequestFailure } from '../fsm/requests.js'
import { RequestScheduler, type SchedulerConfig } from '../scheduler.js'
import type { PoolOutbox } from './outbox.js'

interface RequestRec {
  readonly request: PeerRequest
  readonly timeoutMs: number | undefined
}

/** The pool's requests over its ready peers (see the module comment). */
export class RequestRouter {
  readonly #out: PoolOutbox
  readonly #sched: RequestScheduler<RequestFailure>
  /** Outstanding requests by id (the scheduler's job id). */
  readonly #requests = new Map<number, RequestRec>()

  constructor(out: PoolOutbox, config: SchedulerConfig) {
    this.#out = out
    this.#sched = new RequestScheduler(config)
  }

  /** Requests outstanding (assigned or waiting for a peer). */
  get size(): number {
    return this.#requests.size
  }

  /** When a waiting request gives up for want of a peer. */
  nextDeadline(): number | undefined {
    return this.#sched.nextDeadline()
  }

  /** Pool requests in flight on `peerId`. */
  inFlight(peerId: number): number {
    return this.#sched.inFlight(peerId)
  }

  /** The peer a new request would go to (among those `filter` accepts). */
  choose(filter?: (id: number) => boolean): number | undefined {
    return this.#sched.choose(filter)
  }

  /** Queue `request`; returns its id. It may be assigned at once. */
  submit(now: number, request: PeerRequest, timeoutMs: number | undefined, maxAttempts: number | undefined): number {
    // The scheduler may assign at once: know the request before its 'assign' is drained.
    const rec: RequestRec = { request, timeoutMs }
    const id = this.#sched.submit(now, { maxAttempts })
    this.#requests.set(id, rec)
    this.#drain()
    return id
  }

  /** `peerId` answered `requestId`; false when it was no longer outstanding. */
  done(now: number, requestId: number, peerId: number): boolean {
    const live = this.#sched.succeeded(now, requestId, peerId)
    this.#requests.delete(requestId)
    this.#drain()
    return live
  }

  /** `peerId`'s attempt at `requestId` failed: another peer, or give up. */
  failed(now: number, requestId: number, peerId: number, failure: RequestFailure): void {
    this.#sched.failed(now, requestId, peerId, failure)
    this.#drain()
  }

  /** The caller gave up on `requestId`. */
  cancel(now: number, requestId: number, reason?: unknown): void {
    this.#sched.cancel(now, requestId, reason)
    this.#drain()
  }

  /** `peerId` is ready to serve. */
  peerReady(now: number, peerId: number): void {
    this.#sched.addPeer(now, peerId)
    this.#drain()
  }

  /** `peerId` is closing: it keeps what it serves until gone, and takes nothing new. */
  peerClosing(now: number, peerId: number): void {
    this.#sched.drainPeer(now, peerId)
    this.#drain()
  }

  /** `peerId` closed with `reason`: what it served fails over. */
  peerGone(now: number, peerId: number, reason: DisconnectReason): void {
    this.#sched.removePeer(now, peerId, { kind: 'closed', reason })
    this.#drain()
  }

  /** Fail 'no-peers' what waited too long. */
  timeout(now: number): void {
    this.#sched.timeout(now)
    this.#drain()
  }

  /** Fail everything outstanding as 'stopped'. */
  stop(now: number): void {
    this.#sched.stop(now)
    this.#drain()
  }

  /** Turn the scheduler's decisions into pool actions. */
  #drain(): void {
    for (let a = this.#sched.poll(); a; a = this.#sched.poll()) {
      switch (a.type) {
        case 'assign': {
          const r = this.#requests.get(a.job)!
          this.#out.act({ type: 'request', requestId: a.job, peerId: a.peer, request: r.request, timeoutMs: r.timeoutMs })
          break
        }
        case 'revoke':
          this.#out.act({ type: 'cancel-request', requestId: a.job, peerId: a.peer })
          break
        case 'failover':
          this.#out.event({ type: 'failover', requestId: a.job, from: a.from, to: a.to, failure: a.failure })
          break
        case 'failed':
          this.#requests.delete(a.job)
          this.#out.act({ type: 'request-failed', requestId: a.job, failure: a.failure })
          break
      }
    }
  }
}
