/**
 * Test helpers: an accept queue over a TcpListener, and close probes.
 */
import type { TransportError } from '@bitp2p/session'
import type { TcpTransport } from '../src/index.js'
import { scaled } from '../../../test/harness/timing.js'
import { rejection as rejectionOf } from '../../../test/harness/wait.js'

export { acceptQueue } from '@bitp2p/testkit/compliance'
export { sleep, until } from '../../../test/harness/wait.js'

/** The rejection of `p`, a transport's typed error (throws if `p` resolves). */
export function rejection(p: Promise<unknown>): Promise<TransportError> {
  return rejectionOf<TransportError>(p)
}

/** Resolves with the first onClose argument of `t`. */
export function closed(t: TcpTransport): Promise<TransportError | undefined> {
  return new Promise((resolve) => t.onClose(resolve))
}

