/**
 * Virtual time for simulations: a clock plus an event queue.
 *
 * Events are kept in a binary min-heap ordered by (time, sequence): the
 * sequence number is assigned at scheduling, so events due at the same
 * virtual time run in the order they were scheduled. Nothing is nudged by
 * +1 ms to make keys unique, and nothing depends on the wall clock.
 *
 * Cancelled timers stay in the heap and are skipped when they reach the top
 * (O(1) cancel); when more than half of the heap is cancelled entries it is
 * rebuilt, so a driver that keeps re-arming timers cannot grow it without
 * bound. `pendingTimers` counts live `setTimer` timers, for leak checks.
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

// One queued event. `fn(arg)` runs at `time`; `arg` lets hot callers reuse one
// bound function instead of allocating a closure per event.
interface Entry {
  readonly time: number
  readonly seq: number
  fn: ((arg: any) => void) | null // null once cancelled or run
  arg: unknown
  readonly isTimer: boolean
}

const before = (a: Entry, b: Entry): boolean => a.time < b.time || (a.time === b.time && a.seq < b.seq)

/**
 * A `Clock` whose time only moves when events are run.
 *
 * Callbacks run synchronously inside `run`/`step`; an exception from a
 * callback propagates out of `run` (the event has been consumed).
 */
export class VirtualClock implements Clock {
  #now: number
  #seq = 0
  readonly #heap: Entry[] = []
  #cancelledInHeap = 0
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
    const e = this.#push(this.#now + delay, cb, undefined, true)
    this.#liveTimers++
    return () => {
      if (e.fn === null) return
      e.fn = null
      e.arg = undefined
      this.#liveTimers--
      this.#cancelledInHeap++
      this.#maybeCompact()
    }
  }

  /**
   * Schedule `fn(arg)` at absolute virtual time `time` (clamped to now).
   * Not cancellable and not counted in `pendingTimers`: this is the cheap
   * path the mock network uses for deliveries.
   */
  callAt<T>(time: number, fn: (arg: T) => void, arg: T): void {
    this.#push(time > this.#now ? time : this.#now, fn, arg, false)
  }

  /** Live timers set through `setTimer` that have neither fired nor been cancelled. */
  get pendingTimers(): number {
    return this.#liveTimers
  }

  /** All live events (timers and `callAt` events). */
  get pendingEvents(): number {
    return this.#heap.length - this.#cancelledInHeap
  }

  /** Heap entries including cancelled ones not yet dropped (a diagnostic: bounded by compaction). */
  get heapSize(): number {
    return this.#heap.length
  }

  /** Events run so far. */
  get eventsRun(): number {
    return this.#eventsRun
  }

  /** Time of the next live event, or undefined when idle. */
  nextEventTime(): number | undefined {
    const top = this.#peek()
    return top === undefined ? undefined : top.time
  }

  /** Run the next event, if any. Returns false when there was none. */
  step(): boolean {
    const e = this.#pop()
    if (e === undefined) return false
    this.#exec(e)
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
      const top = this.#peek()
      if (top === undefined || (until !== undefined && top.time > until)) break
      this.#exec(this.#pop()!)
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
    if (this.#peek() !== undefined) {
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
      const top = this.#peek()
      const due = top !== undefined && (until === undefined || top.time <= until) && n < max
      const instantOver = !due || top!.time > this.#now
      if (instantOver && (this.#settle || (always && ranSinceYield))) {
        this.#settle = false
        ranSinceYield = false
        await this.#yieldMacrotask()
        continue
      }
      if (!due) break
      this.#exec(this.#pop()!)
      ranSinceYield = true
      n++
    }
    if (until !== undefined && n < max && until > this.#now) this.#now = until
    return n
  }

  #exec(e: Entry): void {
    const fn = e.fn!
    const arg = e.arg
    e.fn = null
    e.arg = undefined
    if (e.isTimer) this.#liveTimers--
    this.#now = e.time
    this.#eventsRun++
    fn(arg)
  }

  #push(time: number, fn: (arg: any) => void, arg: unknown, isTimer: boolean): Entry {
    const e: Entry = { time, seq: this.#seq++, fn, arg, isTimer }
    const h = this.#heap
    h.push(e)
    this.#siftUp(h.length - 1)
    return e
  }

  // The top live entry, dropping cancelled ones on the way.
  #peek(): Entry | undefined {
    const h = this.#heap
    while (h.length > 0 && h[0].fn === null) {
      this.#removeTop()
      this.#cancelledInHeap--
    }
    return h[0]
  }

  #pop(): Entry | undefined {
    const top = this.#peek()
    if (top !== undefined) this.#removeTop()
    return top
  }

  #removeTop(): void {
    const h = this.#heap
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      this.#siftDown(0)
    }
  }

  #siftUp(i: number): void {
    const h = this.#heap
    const e = h[i]
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(e, h[p])) break
      h[i] = h[p]
      i = p
    }
    h[i] = e
  }

  #siftDown(i: number): void {
    const h = this.#heap
    const n = h.length
    const e = h[i]
    for (;;) {
      let c = 2 * i + 1
      if (c >= n) break
      if (c + 1 < n && before(h[c + 1], h[c])) c++
      if (!before(h[c], e)) break
      h[i] = h[c]
      i = c
    }
    h[i] = e
  }

  #maybeCompact(): void {
    const h = this.#heap
    if (this.#cancelledInHeap < COMPACT_MIN_CANCELLED || this.#cancelledInHeap * 2 < h.length) return
    let w = 0
    for (let r = 0; r < h.length; r++) if (h[r].fn !== null) h[w++] = h[r]
    h.length = w
    this.#cancelledInHeap = 0
    for (let i = (w >> 1) - 1; i >= 0; i--) this.#siftDown(i)
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
