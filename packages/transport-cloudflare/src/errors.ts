/**
 * Socket failures -> TransportError kinds, as transport-tcp reports them.
 *
 * The runtime reports failures as plain Errors whose message is all there
 * is: workerd says "proxy request failed, cannot connect to the specified
 * address" alike for a refused port and for an address its network policy
 * forbids, and "Network connection lost." for a reset. So a failed connect
 * is 'connect-failed' (refused, unreachable, forbidden, DNS...) unless the
 * message says it timed out, and a failure on an open socket is 'reset';
 * the runtime's error rides along as `cause`.
 */
import { TransportError } from '@bitp2p/session'

/** A runtime message that says the connect attempt ran out of time. */
const TIMEOUT_MESSAGE = /\btime[sd]?[ -]?out\b/i

/** Classify an error from connect() or `opened`: 'timeout' when the runtime says so, else 'connect-failed'. */
export function connectError(err: unknown, where: string): TransportError {
  const text = describe(err)
  const kind = TIMEOUT_MESSAGE.test(text) ? 'timeout' : 'connect-failed'
  return new TransportError(kind, `connect to ${where} failed: ${text}`, err)
}

/** Classify an error of an open socket's streams: always 'reset'. */
export function streamError(err: unknown, where: string): TransportError {
  return new TransportError('reset', `connection to ${where} failed: ${describe(err)}`, err)
}

/** The message of an error, or the value as text. */
export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
