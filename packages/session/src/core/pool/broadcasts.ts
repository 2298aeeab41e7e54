/**
 * The pool's broadcast queue: a message for every ready peer, kept while
 * no peer is ready.
 *
 *   inputs   broadcast(now, message, readyIds)  peerReady(now, peerId)  stop(now)
 *   outputs  send(peerId, message), broadcast-settled(id, peers[, failure])
 *
 * Rules: with ready peers a broadcast goes to each of them at once and
 * settles with their number; with none it waits for the first peer to be
 * ready, which takes every waiting broadcast (settled with peers = 1).
 * At most `maxQueued` wait: past that the oldest is dropped and settles
 * 'queue-full'. Stopping settles what waits as 'stopped', and a broadcast
 * after the stop settles 'stopped' at once. Ids count up from 1.
 */
import type { KnownMessage } from '@bitp2p/wire'
import type { PoolOutbox } from './outbox.js'

interface QueuedBroadcast {
  readonly id: number
  readonly message: KnownMessage
}

/** The queue of broadcasts (see the module comment). */
export class BroadcastQueue {
  readonly #out: PoolOutbox
  readonly #maxQueued: number
  readonly #queue: QueuedBroadcast[] = []
  #nextId = 1
  #stopped = false

  /** `maxQueued` (at least 1) bounds the broadcasts waiting for a peer. */
  constructor(out: PoolOutbox, maxQueued: number) {
    this.#out = out
    this.#maxQueued = maxQueued
  }

  /** Broadcasts waiting for a ready peer. */
  get size(): number {
    return this.#queue.length
  }

  /** Send `message` to each of `readyIds` now, or queue it until a peer is ready. Returns its id. */
  broadcast(now: number, message: KnownMessage, readyIds: readonly number[]): number {
    const id = this.#nextId++
    if (this.#stopped) {
      this.#out.act({ type: 'broadcast-settled', broadcastId: id, peers: 0, failure: { kind: 'stopped' } })
      return id
    }
    if (readyIds.length > 0) {
      for (const peerId of readyIds) this.#out.act({ type: 'send', peerId, message })
      this.#out.act({ type: 'broadcast-settled', broadcastId: id, peers: readyIds.length })
      return id
    }
    this.#queue.push({ id, message })
    if (this.#queue.length > this.#maxQueued) {
      const dropped = this.#queue.shift()!
      this.#out.act({ type: 'broadcast-settled', broadcastId: dropped.id, peers: 0, failure: { kind: 'queue-full', limit: this.#maxQueued } })
    }
    void now
    return id
  }

  /** `peerId` is ready: everything waiting goes to it, oldest first. */
  peerReady(now: number, peerId: number): void {
    if (this.#queue.length === 0) return
    for (const b of this.#queue.splice(0)) {
      this.#out.act({ type: 'send', peerId, message: b.message })
      this.#out.act({ type: 'broadcast-settled', broadcastId: b.id, peers: 1 })
    }
    void now
  }

  /** Settle everything waiting as 'stopped'; later broadcasts settle 'stopped' at once. */
  stop(now: number): void {
    this.#stopped = true
    for (const b of this.#queue.splice(0)) this.#out.act({ type: 'broadcast-settled', broadcastId: b.id, peers: 0, failure: { kind: 'stopped' } })
    void now
  }
}
