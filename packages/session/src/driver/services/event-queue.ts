/**
 * EventQueue: the async-iterator side of a service's events.
 *
 * A service pushes values synchronously as they happen; a `for await` loop
 * takes them at its own pace. The queue is bounded: past `limit` values
 * waiting, new ones are dropped and counted (`dropped`), so a consumer that
 * stopped reading cannot make the service grow without bound. An
 * AbortSignal, or `close()`, ends the iteration: the loop finishes after
 * the values already queued when closed, and at once when aborted.
 * `fail(error)` ends it with an error: the loop throws it after the values
 * already queued.
 */

/** Default most values waiting in one queue. */
export const DEFAULT_EVENT_QUEUE_LIMIT = 10_000

/** A bounded single-consumer async queue; see the module comment. */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = []
  private head = 0
  private readonly limit: number
  private waiter: ((r: IteratorResult<T>) => void) | undefined
  private rejectWaiter: ((e: unknown) => void) | undefined
  private done = false
  private droppedCount = 0
  private error: { readonly value: unknown } | undefined
  private readonly signal: AbortSignal | undefined
  private readonly onAbort = (): void => this.finish(true)
  /** Called once when the iteration ends (so the producer can unsubscribe). */
  private readonly onEnd: (() => void) | undefined
  /** Called with each value as the consumer takes it (for producers that account for what is queued). */
  private readonly onTake: ((value: T) => void) | undefined

  constructor(
    opts: {
      readonly limit?: number
      readonly signal?: AbortSignal
      readonly onEnd?: () => void
      readonly onTake?: (value: T) => void
    } = {},
  ) {
    this.limit = opts.limit ?? DEFAULT_EVENT_QUEUE_LIMIT
    this.signal = opts.signal
    this.onEnd = opts.onEnd
    this.onTake = opts.onTake
    if (this.signal?.aborted) this.finish(true)
    else this.signal?.addEventListener('abort', this.onAbort, { once: true })
  }

  /** Values pushed while the queue was full. */
  get dropped(): number {
    return this.droppedCount
  }

  /** Values waiting. */
  get size(): number {
    return this.items.length - this.head
  }

  /** True once the iteration has ended or will end after the queued values. */
  get closed(): boolean {
    return this.done
  }

  /** Offer a value; false when dropped (full or closed). */
  push(value: T): boolean {
    if (this.done) return false
    if (this.waiter) {
      const w = this.waiter
      this.waiter = undefined
      this.rejectWaiter = undefined
      this.onTake?.(value)
      w({ value, done: false })
      return true
    }
    if (this.size >= this.limit) {
      this.droppedCount++
      return false
    }
    this.items.push(value)
    return true
  }

  /** End the iteration after the values already queued. */
  close(): void {
    this.finish(false)
  }

  /** End the iteration with `error`, thrown after the values already queued. */
  fail(error: unknown): void {
    if (this.done) return
    const reject = this.rejectWaiter
    if (reject) {
      // A waiting consumer means nothing is queued: throw now.
      this.waiter = undefined
      this.rejectWaiter = undefined
      this.finish(false)
      reject(error)
      return
    }
    this.error = { value: error }
    this.finish(false)
  }

  /**
   * The next value, waiting for one if none is queued; `done` once the queue
   * has ended and been emptied. Rejects with the `fail` error after the
   * values queued before it. One consumer: do not call again before the
   * previous promise settles.
   */
  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head++]!
      if (this.head === this.items.length) {
        this.items.length = 0
        this.head = 0
      }
      this.onTake?.(value)
      return Promise.resolve({ value, done: false })
    }
    if (this.done) {
      const e = this.error
      if (e) {
        this.error = undefined
        return Promise.reject(e.value)
      }
      return Promise.resolve({ value: undefined, done: true })
    }
    return new Promise((resolve, reject) => {
      this.waiter = resolve
      this.rejectWaiter = reject
    })
  }

  /** A `for await` loop that breaks ends the queue. */
  return(): Promise<IteratorResult<T>> {
    this.finish(true)
    return Promise.resolve({ value: undefined, done: true })
  }

  /** The queue itself: it is its own iterator, so it can be iterated once. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this
  }

  private finish(discard: boolean): void {
    if (discard) {
      this.items.length = 0
      this.head = 0
    }
    if (this.done) return
    this.done = true
    this.signal?.removeEventListener('abort', this.onAbort)
    const w = this.waiter
    this.waiter = undefined
    this.rejectWaiter = undefined
    w?.({ value: undefined, done: true })
    this.onEnd?.()
  }
}
