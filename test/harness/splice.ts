/// <reference types="node" />
/**
 * A splice on loopback (test harness): it accepts connections on
 * 127.0.0.1 and joins them in pairs, in arrival order: the first with the
 * second, the third with the fourth... What one of a pair sends, the other
 * receives. It dials nothing: both ends are clients.
 *
 * It lets a runtime that can only dial (a worker: no TCP listener) hold
 * both ends of one TCP path, so the transport compliance suite runs inside
 * the runtime with the runtime's own transport on each side.
 *
 * Faithful as far as the suite looks:
 * - bytes are piped with Node's backpressure (a side that stops reading
 *   stops the other's writes once the buffers between are full);
 * - a FIN is passed on as a FIN once the bytes before it are through
 *   (allowHalfOpen on our sockets, so we close nothing early);
 * - an error (reset) on one side resets the other.
 */
import { createServer, type Server, type Socket } from 'node:net'
import type { PeerAddress } from '@bitp2p/session'

/** A running splice. */
export interface Splice {
  /** Where both ends connect (127.0.0.1). */
  readonly address: PeerAddress
  /** Connections accepted so far. */
  readonly connections: number
  /** Close the listener and every connection. */
  close(): Promise<void>
}

/** Join `a` and `b`: each one's bytes and FIN go to the other; an error on one resets both. */
function join(a: Socket, b: Socket): void {
  a.pipe(b)
  b.pipe(a)
  const reset = (other: Socket) => () => {
    if (!other.destroyed) other.resetAndDestroy()
  }
  a.on('error', reset(b))
  b.on('error', reset(a))
  // Both directions ended and flushed: nothing is left to carry.
  a.on('close', () => b.destroy())
  b.on('close', () => a.destroy())
}

/** Start a Splice on 127.0.0.1 (a free port). */
export async function startSplice(): Promise<Splice> {
  const sockets = new Set<Socket>()
  let waiting: Socket | undefined
  let connections = 0
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    connections++
    sockets.add(s)
    s.setNoDelay(true)
    s.on('close', () => {
      sockets.delete(s)
      if (waiting === s) waiting = undefined
    })
    s.on('error', () => {})
    if (waiting === undefined) {
      // Not read until paired: its bytes wait in the kernel.
      s.pause()
      waiting = s
      return
    }
    const first = waiting
    waiting = undefined
    join(first, s)
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as { port: number }).port
  return {
    address: { host: '127.0.0.1', port },
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
