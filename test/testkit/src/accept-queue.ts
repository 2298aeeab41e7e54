import type { Transport } from '@bitp2p/session'

/**
 * accept(): the next inbound transport of `listener`, in arrival order.
 * Shared by the transport tests of every package that has a listener.
 */
export function acceptQueue<T extends Transport>(listener: { onConnection(cb: (t: T) => void): void }): () => Promise<T> {
  const ready: T[] = []
  const waiting: ((t: T) => void)[] = []
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
