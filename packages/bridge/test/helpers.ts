/**
 * Test helpers: TCP upstreams on 127.0.0.1, a bridge with captured logs,
 * the `ws` constructor typed for the client, and small async utilities.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { WebSocket as NodeWebSocket } from 'ws'
import type { Transport, TransportError } from '@bitp2p/session'
import { createBridge, type Bridge, type BridgeLogEvent, type BridgeOptions } from '../src/bridge.js'
import type { WebSocketConstructor } from '@bitp2p/transport-ws'
import { scaled } from '../../../test/harness/timing.js'
import { until } from '../../../test/harness/wait.js'
import { rejection as rejectionOf } from '../../../test/harness/wait.js'

/** Node 20 has no global WebSocket: the client gets the `ws` package's. */
export const WsCtor = NodeWebSocket as unknown as WebSocketConstructor

/** A TCP server on 127.0.0.1 with a free port. */
export interface Upstream {
  readonly port: number
  readonly server: Server
  /** Sockets accepted so far, in order. */
  readonly sockets: Socket[]
  close(): Promise<void>
}

/** Start a TCP server on 127.0.0.1; `onSocket` decides what each accepted socket does. */
export async function startUpstream(onSocket: (s: Socket) => void): Promise<Upstream> {
  const sockets: Socket[] = []
  const server = createServer((s) => {
    sockets.push(s)
    s.on('error', () => {})
    onSocket(s)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const { port } = server.address() as AddressInfo
  return {
    port,
    server,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}

/** An echo upstream. */
export const startEcho = (): Promise<Upstream> => startUpstream((s) => s.pipe(s))

/** A bridge on 127.0.0.1 whose log events are collected in `events`. */
export async function startBridge(options: BridgeOptions): Promise<{ bridge: Bridge; events: BridgeLogEvent[] }> {
  const events: BridgeLogEvent[] = []
  const bridge = await createBridge({ listen: { host: '127.0.0.1', port: 0 }, ...options, log: (e) => events.push(e) })
  return { bridge, events }
}

/** Poll `cond` until it holds, or fail after `ms` (a deadline: pass it scaled). */
export function waitFor(cond: () => boolean, ms = scaled(5_000), what = 'condition'): Promise<void> {
  return until(cond, what, ms)
}

export { acceptQueue } from '@bitp2p/testkit/compliance'
export { sleep, until } from '../../../test/harness/wait.js'

/** The rejection of `p`, a transport's typed error (throws if `p` resolves). */
export function rejection(p: Promise<unknown>): Promise<TransportError> {
  return rejectionOf<TransportError>(p)
}
