/**
 * The one real-time clock of the driver, kept in its own file (design rule 1).
 * Uses performance.now() (monotonic) and the platform's setTimeout, both
 * present in Node, Deno, Bun, browsers and workers.
 */
import type { Cancel, Clock } from '../core/ports.js'

/** The real-time `Clock` (performance.now, monotonic): the default of Peer, Pool and crawl; simulations pass a virtual one instead. */
export class RealtimeClock implements Clock {
  /** Unix ms at now() = 0: the platform's time origin (the only wall time the SDK reads). */
  readonly unixTimeOffsetMs: number = performance.timeOrigin

  now(): number {
    return performance.now()
  }
  /**
   * setTimeout, clamped at 0 ms. In Node the timer is unref'd: a pending
   * timer alone does not keep the process alive.
   */
  setTimer(ms: number, cb: () => void): Cancel {
    const t = setTimeout(cb, Math.max(0, ms))
    // Let Node exit while only timers of closed peers remain.
    ;(t as unknown as { unref?: () => void }).unref?.()
    return () => clearTimeout(t)
  }
}
