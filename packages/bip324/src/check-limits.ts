/**
 * The receive caps' own check, shared by PacketReceiver (at construction)
 * and V2Handshake (which checks them up front, before any packet, without
 * building a receiver just to throw it away). Internal: not exported from
 * the package.
 */
import { V2Error } from './errors.js'

/** @throws V2Error RANGE for a negative or non-integer cap. */
export function checkLimits(opts: { readonly maxPayload: number; readonly unknownCommandLimit?: number }): void {
  checkCap('maxPayload', opts.maxPayload)
  if (opts.unknownCommandLimit !== undefined) checkCap('unknownCommandLimit', opts.unknownCommandLimit)
}

function checkCap(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new V2Error('RANGE', `${name} must be a non-negative integer, got ${v}`)
}
