/**
 * Test deadlines from one scale factor.
 *
 * Wall-clock deadlines in tests are safety nets against hangs, never
 * assertions about speed. Every one of them is written as `scaled(ms)`,
 * where `ms` is what the work needs on an idle machine, so a busy or slow
 * machine is handled in one place: BITP2P_TIME_SCALE (default 1) multiplies
 * them all. Virtual-time tests need none of this.
 */
const raw = typeof process !== 'undefined' ? process.env['BITP2P_TIME_SCALE'] : undefined

/** The factor every wall-clock test deadline is multiplied by. */
export const TIME_SCALE: number = raw !== undefined && Number(raw) > 0 ? Number(raw) : 1

/** A wall-clock deadline for work that takes about `ms` on an idle machine, scaled by TIME_SCALE. */
export function scaled(ms: number): number {
  return Math.ceil(ms * TIME_SCALE)
}
