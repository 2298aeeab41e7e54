/**
 * Node socket errors -> TransportError kinds.
 *
 * Node reports failures as Error objects with a string `code` (ECONNREFUSED,
 * ECONNRESET...). Only a few codes change the kind; every other failure keeps
 * the kind of the phase it happened in (connecting or connected), and the
 * original error rides along as `cause`.
 */
import { TransportError } from '@bitp2p/session'

/** Codes that mean the kernel gave up on a connect (SYN retries exhausted). */
const CONNECT_TIMEOUT_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT'])

/** The `code` of a Node system error, or undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * Classify an error raised while connecting: a kernel connect timeout is
 * 'timeout'; refused, unreachable, DNS failures and the rest are
 * 'connect-failed'.
 */
export function connectError(err: unknown, where: string): TransportError {
  const code = errorCode(err)
  const kind = code !== undefined && CONNECT_TIMEOUT_CODES.has(code) ? 'timeout' : 'connect-failed'
  return new TransportError(kind, `connect to ${where} failed: ${code ?? describe(err)}`, err)
}

/** Classify an error on an established connection: always 'reset'. */
export function socketError(err: unknown, where: string): TransportError {
  return new TransportError('reset', `connection to ${where} failed: ${errorCode(err) ?? describe(err)}`, err)
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
