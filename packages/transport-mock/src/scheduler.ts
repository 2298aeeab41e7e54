/**
 * Virtual time for simulations: a clock plus an event queue.
 *
 * Events run in (time, sequence) order: the sequence is the order of
 * scheduling, so events due at the same virtual time run in the order they
 * were scheduled. Nothing is nudged by +1 ms to make keys unique, and
 * nothing depends on the wall clock.
 *
 * The queue is a calendar: one FIFO bucket per distinct pending time, and a
 * binary min-heap of those times. Appending to a bucket keeps scheduling
 * order within a time, so the order is exactly (time, sequence) without
 * storing a sequence number; a simulation whose events pile up on a few
 * instants (every link with the same latency) pays a heap operation per
 * instant, not per event. Buckets hold (function, argument) pairs in one
 * flat array and are recycled, so scheduling allocates nothing per event.
 *
 * Cancelled timers stay in their bucket and are skipped when reached (O(1)
 * cancel); when at least COMPACT_MIN_CANCELLED of the queued entries are
 * cancelled and they are the majority, the buckets are rebuilt without
 * them, so a driver that keeps re-arming timers cannot grow the queue
 * without bound. `pendingTimers` counts live `setTimer` timers, for leak
 * checks.
 */
import type { Cancel, Clock } from '@bitp2p/session'

/** Default event budget of `runUntilIdle`: a simulation with a periodic timer is never idle. */
export const DEFAULT_MAX_EVENTS = 10_000_000

/** The heap is compacted once it holds at least this many cancelled entries and they are the majority. */
export const COMPACT_MIN_CANCELLED = 1024

/** Options of `VirtualClock.run` / `runAsync`. */
export interface RunOptions {
  /** Run events due at or before this virtual time, then set the clock to it. */
  readonly until?: number
  /** Stop after this many events (the clock stays at the last event's time). */
  readonly maxEvents?: number
  /**
   * `runAsync` only: when to yield to promise continuations. 'instant'
   * (default): after every virtual instant in which an event ran, which is
   * always safe. 'requested': only after instants in which `requestSettle()`
   * was called, which is faster for drivers whose callbacks are synchronous
   * except for the promises the network settles.
   */
  readonly settle?: 'instant' | 'requested'
}

/** Options of `new VirtualClock`. */
export interface VirtualClockOptions {
  /** Virtual time at start, in ms. Default 0. */
  readonly start?: number
}

// A live setTimer timer; `cb` is null once it has run or been cancelled.
interface Timer {
  cb: (() => void) | null
}

// The events due at one virtual time: (fn, arg) pairs in scheduling order,
// flat in `items`; `head` is the index of the next pair to run.
interface Bucket {
  time: number
  items: unknown[]
  head: number
}

/** Buckets kept for reuse once drained (beyond this they are left to the GC). */
const SPARE_BUCKETS = 1024

/**
 * A `Clock` whose time only moves when events are run.
 *
 * Callbacks run synchronously inside `run`/`step`; an exception from a
 * callback propagates out of `run` (the event has been consumed).
 */
export class VirtualClock implements Clock {
  #now: number
  // Distinct pending times, a binary min-heap; each has its bucket in #buckets.
  readonly #times: number[] = []
  readonly #buckets = new Map<number, Bucket>()
  readonly #spare: Bucket[] = []
  // Queued pairs, cancelled ones included, and how many of those are cancelled.
  #queued = 0
  #cancelled = 0
  #liveTimers = 0
  #eventsRun = 0
  #settle = false

  constructor(options: VirtualClockOptions = {}) {
    this.#now = options.start ?? 0
  }

  /** Current virtual time in ms. */
  now(): number {
    return this.#now
  }

  /**
   * Call `cb` after `ms` of virtual time (negative or NaN counts as 0).
   * @throws RangeError for an infinite delay (it could never fire).
   */
  setTimer(ms: number, cb: () => void): Cancel {
    if (ms === Number.POSITIVE_INFINITY) throw new RangeError('VirtualClock.setTimer: infinite delay')
    const delay = ms > 0 ? ms : 0
    const t: Timer = { cb }
    this.#push(this.#now + delay, fireTimer, t)
    this.#liveTimers++
    return () => {
      if (t.cb === null) return
      t.cb = null
      this.#liveTimers--
      this.#cancelled++
      this.#maybeCompact()
    }
  }

  /**
   * Schedule `fn(arg)` at absolute virtual time `time` (clamped to now).
   * Not cancellable and not counted in `pendingTimers`: this is the cheap
   * path the mock network uses for deliveries.
   */
  callAt<T>(time: number, fn: (arg: T) => void, arg: T): void {
    this.#push(time > this.#now ? time : this.#now, fn, arg)
  }

  /** Live timers set through `setTimer` that have neither fired nor been cancelled. */
  get pendingTimers(): number {
    return this.#liveTimers
  }

  /** All live events (timers and `callAt` events). */
  get pendingEvents(): number {
    return this.#queued - this.#cancelled
  }

  /** Queued entries including cancelled ones not yet dropped (a diagnostic: bounded by compaction). */
  get heapSize(): number {
    return this.#queued
  }

  /** Events run so far. */
  get eventsRun(): number {
    return this.#eventsRun
  }

  /** Time of the next live event, or undefined when idle. */
  nextEventTime(): number | undefined {
    return this.#next()?.time
  }

  /** Run the next event, if any. Returns false when there was none. */
  step(): boolean {
    const b = this.#next()
    if (b === undefined) return false
    this.#runHead(b)
    return true
  }

  /**
   * Run events in (time, sequence) order, including events they schedule.
   * With `until`, stops before the first event after it and moves the clock
   * to `until`. Returns the number of events run.
   */
  run(options: RunOptions = {}): number {
    const until = options.until
    const max = options.maxEvents ?? Number.POSITIVE_INFINITY
    let n = 0
    while (n < max) {
      const b = this.#next()
      if (b === undefined || (until !== undefined && b.time > until)) break
      this.#runHead(b)
      n++
    }
    if (until !== undefined && n < max && until > this.#now) this.#now = until
    return n
  }

  /** Run `ms` of virtual time: `run({ until: now() + ms })`. */
  advance(ms: number): number {
    return this.run({ until: this.#now + Math.max(0, ms) })
  }

  /**
   * Run until no event is left.
   * @throws Error if more than `maxEvents` (default DEFAULT_MAX_EVENTS) run,
   * e.g. because a periodic timer keeps the simulation busy.
   */
  runUntilIdle(maxEvents: number = DEFAULT_MAX_EVENTS): number {
    const n = this.run({ maxEvents })
    if (this.#next() !== undefined) {
      throw new Error(`VirtualClock.runUntilIdle: still busy after ${n} events`)
    }
    return n
  }

  /**
   * Ask `runAsync` to let promise continuations run before virtual time
   * moves on, also in `settle: 'requested'` mode. The mock network calls
   * this when it settles a promise (connect), so `await connector.connect()`
   * resumes at the virtual instant the connection completed.
   */
  requestSettle(): void {
    this.#settle = true
  }

  /**
   * Like `run`, for drivers written with promises. At the end of each
   * virtual instant (see `RunOptions.settle`) it yields one macrotask, so
   * every pending microtask (promise continuation) runs at that virtual
   * time, before time moves on. Microtask order is deterministic, so the
   * same seed still gives the same trace.
   */
  async runAsync(options: RunOptions = {}): Promise<number> {
    const until = options.until
    const max = options.maxEvents ?? Number.POSITIVE_INFINITY
    const always = (options.settle ?? 'instant') === 'instant'
    let n = 0
    let ranSinceYield = false
    for (;;) {
      const b = this.#next()
      const due = b !== undefined && (until === undefined || b.time <= until) && n < max
      const instantOver = !due || b!.time > this.#now
      if (instantOver && (this.#settle || (always && ranSinceYield))) {
        this.#settle = false
        ranSinceYield = false
        await this.#yieldMacrotask()
        continue
      }
      if (!due) break
      this.#runHead(b!)
      ranSinceYield = true
      n++
    }
    if (until !== undefined && n < max && until > this.#now) this.#now = until
    return n
  }

  // The bucket of the earliest time with a live event at its head, dropping
  // cancelled timers and drained buckets on the way; undefined when idle.
  #next(): Bucket | undefined {
    for (;;) {
      const times = this.#times
      if (times.length === 0) return undefined
      const b = this.#buckets.get(times[0]!)!
      const items = b.items
      while (b.head < items.length && items[b.head] === fireTimer && (items[b.head + 1] as Timer).cb === null) {
        items[b.head] = items[b.head + 1] = undefined
        b.head += 2
        this.#queued--
        this.#cancelled--
      }
      if (b.head < items.length) return b
      this.#dropTop(b)
    }
  }

  // Run the pair at the head of `b` (the earliest bucket, its head live).
  #runHead(b: Bucket): void {
    const items = b.items
    const fn = items[b.head] as (arg: unknown) => void
    const arg = items[b.head + 1]
    items[b.head] = items[b.head + 1] = undefined
    b.head += 2
    this.#queued--
    if (fn === fireTimer) this.#liveTimers--
    this.#now = b.time
    this.#eventsRun++
    // A drained bucket stays until #next drops it: `fn` may schedule more at this time.
    fn(arg)
  }

  #push(time: number, fn: (arg: any) => void, arg: unknown): void {
    let b = this.#buckets.get(time)
    if (b === undefined) {
      b = this.#spare.pop() ?? { time, items: [], head: 0 }
      b.time = time
      this.#buckets.set(time, b)
      this.#heapPush(time)
    }
    b.items.push(fn, arg)
    this.#queued++
  }

  // Remove the drained earliest bucket `b` and its time.
  #dropTop(b: Bucket): void {
    this.#buckets.delete(b.time)
    this.#heapPop()
    b.items.length = 0
    b.head = 0
    if (this.#spare.length < SPARE_BUCKETS) this.#spare.push(b)
  }

  #heapPush(time: number): void {
    const h = this.#times
    let i = h.length
    h.push(time)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (h[p]! <= time) break
      h[i] = h[p]!
      i = p
    }
    h[i] = time
  }

  #heapPop(): void {
    const h = this.#times
    const last = h.pop()!
    if (h.length > 0) this.#siftDown(0, last)
  }

  // Put `x` at `i` and move it down to its place.
  #siftDown(i: number, x: number): void {
    const h = this.#times
    const n = h.length
    for (;;) {
      let c = 2 * i + 1
      if (c >= n) break
      if (c + 1 < n && h[c + 1]! < h[c]!) c++
      if (h[c]! >= x) break
      h[i] = h[c]!
      i = c
    }
    h[i] = x
  }

  #maybeCompact(): void {
    if (this.#cancelled < COMPACT_MIN_CANCELLED || this.#cancelled * 2 < this.#queued) return
    // Keep each bucket's live pairs in order; drop buckets left empty, and their times.
    const times = this.#times
    let w = 0
    for (const time of times) {
      const b = this.#buckets.get(time)!
      const items = b.items
      let k = 0
      for (let r = b.head; r < items.length; r += 2) {
        if (items[r] === fireTimer && (items[r + 1] as Timer).cb === null) continue
        items[k++] = items[r]
        items[k++] = items[r + 1]
      }
      items.length = k
      b.head = 0
      if (k > 0) times[w++] = time
      else this.#buckets.delete(time)
    }
    times.length = w
    for (let i = (w >> 1) - 1; i >= 0; i--) this.#siftDown(i, times[i]!)
    this.#queued -= this.#cancelled
    this.#cancelled = 0
  }

  // One macrotask hop, so every queued microtask has run when it resolves.
  // setImmediate where the runtime has it (Node, Bun, Deno), else a
  // MessageChannel (browsers, workers), else setTimeout.
  #yieldMacrotask(): Promise<void> {
    const g = globalThis as any
    if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate(resolve))
    if (typeof g.MessageChannel === 'function') {
      return new Promise((resolve) => {
        const ch = new g.MessageChannel()
        ch.port1.onmessage = () => {
          ch.port1.close()
          resolve()
        }
        ch.port2.postMessage(0)
      })
    }
    return new Promise((resolve) => setTimeout(resolve, 0))
  }
}

// The function of every setTimer entry: runs the timer's callback unless cancelled
// (cancelled ones are skipped before they run; see #next).
function fireTimer(t: Timer): void {
  const cb = t.cb!
  t.cb = null
  cb()
}
