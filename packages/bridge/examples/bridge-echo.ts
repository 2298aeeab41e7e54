/**
 * A bridge in front of a TCP service, and the client talking to it: the
 * same path a browser takes to a Bitcoin node. Run through
 * test/examples/bridge-echo.test.ts, or call `runBridgeEcho()` yourself.
 *
 * In a real deployment the bridge runs as `bitp2p-bridge --allow
 * node.example:8333 --token ...` and the browser code is just the
 * WsConnector part, with no WebSocket option (the browser's is used).
 */
// In your own code:
//   import { WsConnector } from '@bitp2p/transport-ws'
//   import { createBridge } from '@bitp2p/bridge'
import { createServer, type AddressInfo } from 'node:net'
import { WebSocket as NodeWebSocket } from 'ws'
import { createBridge } from '../src/bridge.js'
import { formatPeerAddress } from '@bitp2p/session'
import { WsConnector, type WebSocketConstructor } from '@bitp2p/transport-ws'

/** Runs the example and returns what happened, one line per step. */
export async function runBridgeEcho(): Promise<string[]> {
  const log: string[] = []

  // 1. A TCP service on loopback (stands in for a regtest node): it echoes.
  const service = createServer((socket) => socket.pipe(socket))
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', () => resolve()))
  const port = (service.address() as AddressInfo).port

  // 2. The bridge: only that one target, loopback allowed (local testing
  //    only: never allowPrivate on a public bridge), a token required.
  const bridge = await createBridge({
    listen: { host: '127.0.0.1', port: 0 },
    allow: [`127.0.0.1:${port}`],
    allowPrivate: true,
    token: 'example-token',
    log: (event) => {
      if (event.event === 'open') log.push(`bridge: open ${event.peer} via ${event.upstream}`)
      if (event.event === 'refused') log.push(`bridge: refused ${event.peer} (${event.code} ${event.name})`)
    },
  })

  // 3. The client. Browsers, Deno and Bun have a global WebSocket; Node 20 needs `ws`.
  const WebSocketImpl =
    (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ?? (NodeWebSocket as unknown as WebSocketConstructor)
  const connector = new WsConnector({ url: bridge.url, WebSocket: WebSocketImpl, token: 'example-token' })

  const t = await connector.connect({ host: '127.0.0.1', port })
  log.push(`client: connected to ${formatPeerAddress(t.remote)}`)
  const reply = await new Promise<string>((resolve) => {
    const decoder = new TextDecoder()
    let text = ''
    t.onData((bytes) => {
      text += decoder.decode(bytes, { stream: true })
      if (text.length === 5) resolve(text)
    })
    t.send(new TextEncoder().encode('hello'))
  })
  log.push(`client: got "${reply}"`)
  t.close()

  // 4. A target that is not on the allowlist is refused, with a reason.
  try {
    await connector.connect({ host: '127.0.0.1', port: port === 65535 ? 1 : port + 1 })
  } catch (err) {
    const e = err as { code: string; cause: { code: number; name: string } }
    log.push(`client: refused (${e.code}, ${e.cause.code} ${e.cause.name})`)
  }

  const m = bridge.metrics()
  log.push(`bridge: ${m.connectionsTotal} relayed, ${m.bytesToUpstream} bytes up, ${m.refusals['not-allowed']} refused`)
  await bridge.close()
  await new Promise<void>((resolve) => service.close(() => resolve()))
  return log
}
