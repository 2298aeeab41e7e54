/**
 * Test helpers: an accept queue over a TcpListener, and close probes.
 */
import type { TransportError } from '@bitp2p/session'
import type { TcpTransport } from '../src/index.js'
import { scaled } from '../../../test/harness/timing.js'

export { acceptQueue } from '../../../test/compliance/accept-queue.js'

/** Resolves with the first onClose argument of `t`. */
export function closed(t: TcpTransport): Promise<TransportError | undefined> {
  return new Promise((resolve) => t.onClose(resolve))
}

/** The rejection of `p` (fails the test if `p` resolves). */
export async function rejection(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p
  } catch (e) {
    return e as TransportError
  }
  throw new Error('expected a rejection')
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Polls `cond` every 20 ms until it is true; throws after `ms` (a
 * deadline: pass it scaled), naming `what` (a function is called then, so it
 * can describe the state at the deadline). An error thrown by `cond` ends
 * the wait at once.
 */
export async function until(cond: () => boolean | Promise<boolean>, what: string | (() => string), ms = scaled(10_000)): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`)
    await sleep(20)
  }
}
