/**
 * The one queue of the pool's outputs. PoolMachine and each of its managers
 * (slots, feelers, seeds, admission, gossip, requests, broadcasts) push
 * here as they decide, so the driver drains the actions with `poll()` in
 * exactly the order they were decided (nakamoto's Outbox, shared the way
 * PeerMachine shares fsm/outbox.ts with its parts).
 */
import type { PoolAction, PoolEvent } from './types.js'

/** FIFO of pool actions. */
export class PoolOutbox {
  readonly #items: PoolAction[] = []
  #head = 0

  /** Queue an action. */
  act(a: PoolAction): void {
    this.#items.push(a)
  }

  /** Queue an event (an 'event' action). */
  event(e: PoolEvent): void {
    this.#items.push({ type: 'event', event: e })
  }

  /** Actions queued and not yet polled. */
  get size(): number {
    return this.#items.length - this.#head
  }

  /** The next action, or undefined when none is queued (the queue is compacted then). */
  poll(): PoolAction | undefined {
    if (this.#head >= this.#items.length) {
      if (this.#head > 0) {
        this.#items.length = 0
        this.#head = 0
      }
      return undefined
    }
    return this.#items[this.#head++]
  }
}
