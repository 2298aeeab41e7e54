/**
 * The median-time-past window of a chain tip, slid one block at a time.
 *
 * Core's GetMedianTimePast sorts the times of a block and the 10 before it.
 * HeaderTree checks that rule for every header; re-reading and re-sorting
 * 11 times per header costs more than keeping them: this window holds the
 * times in chain order (a ring) and sorted, and a new block drops the
 * oldest time and inserts its own, about 11 moves.
 */
import { MEDIAN_TIME_SPAN } from './validation.js'

/** The last MEDIAN_TIME_SPAN block times, in chain order and sorted. */
export class MedianTimeWindow {
  /** The times in chain order, oldest at `head`. */
  private readonly ring = new Float64Array(MEDIAN_TIME_SPAN)
  /** The same times, ascending, in [0, count). */
  private readonly sorted = new Float64Array(MEDIAN_TIME_SPAN)
  private head = 0
  private count = 0

  /** Times held (fewer than MEDIAN_TIME_SPAN near the start of a chain). */
  get size(): number {
    return this.count
  }

  /** Empties the window. */
  clear(): void {
    this.head = 0
    this.count = 0
  }

  /** Adds the time of the next block; past MEDIAN_TIME_SPAN times, the oldest leaves. */
  push(time: number): void {
    const sorted = this.sorted
    let n = this.count
    if (n === MEDIAN_TIME_SPAN) {
      const oldest = this.ring[this.head]!
      let i = 0
      while (i < n - 1 && sorted[i] !== oldest) i++
      for (; i < n - 1; i++) sorted[i] = sorted[i + 1]!
      n--
      this.ring[this.head] = time
      this.head = this.head + 1 === MEDIAN_TIME_SPAN ? 0 : this.head + 1
    } else {
      this.ring[(this.head + n) % MEDIAN_TIME_SPAN] = time
    }
    // Insertion from the top: block times mostly increase, so this is usually one comparison.
    let j = n
    while (j > 0 && sorted[j - 1]! > time) {
      sorted[j] = sorted[j - 1]!
      j--
    }
    sorted[j] = time
    this.count = n + 1
  }

  /** The median (the upper one of an even count, as Core), or undefined when empty. */
  median(): number | undefined {
    return this.count === 0 ? undefined : this.sorted[this.count >> 1]!
  }
}
