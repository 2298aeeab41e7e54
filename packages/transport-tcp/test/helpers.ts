/**
 * Test helpers: an accept queue over a TcpListener, and close probes.
 */
import type { TransportError } from '@bitp2p/session'
import type { TcpListener, TcpTransport } from '../src/index.js'

/** accept(): the next inbound transport of `listener`, in arrival order. */
export function acceptQueue(listener: TcpListener): () => Promise<TcpTransport> {
  const ready: TcpTransport[] = []
  const waiting: ((t: TcpTransport) => void)[] = []
  listener.onConnection((t) => {
    const w = waiting.shift()
    if (w !== undefined) w(t)
    else ready.push(t)
  })
  return () => {
    const t = ready.shift()
    if (t !== undefined) return Promise.resolve(t)
    return new Promise((resolve) => waiting.push(resolve))
  }
}

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
