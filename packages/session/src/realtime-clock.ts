/**
 * The one real-time clock of the driver, kept in its own file (design rule 1).
 * Uses performance.now() (monotonic) and the platform's setTimeout, both
 * present in Node, Deno, Bun, browsers and workers.
 */
import type { Cancel, Clock } from './transport.js'

export class RealtimeClock implements Clock {
  now(): number {
    return performance.now()
  }
  setTimer(ms: number, cb: () => void): Cancel {
    const t = setTimeout(cb, Math.max(0, ms))
    // Let Node exit while only timers of closed peers remain.
    ;(t as unknown as { unref?: () => void }).unref?.()
    return () => clearTimeout(t)
  }
}
