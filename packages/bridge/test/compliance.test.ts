// The shared transport compliance suite over the bridge:
// WsConnector (with the `ws` constructor) -> bridge -> TcpListener on 127.0.0.1.
import { runTransportCompliance } from '@bitp2p/testkit/compliance'
import { TcpListener } from '@bitp2p/transport-tcp'
import { WsConnector } from '@bitp2p/transport-ws'
import { acceptQueue, startBridge, WsCtor } from './helpers.js'
import { scaled } from '../../../test/harness/timing.js'

runTransportCompliance('ws through the bridge', {
  timeoutMs: scaled(30_000),
  async setup() {
    const listener = await TcpListener.listen({ host: '127.0.0.1', port: 0 })
    const { bridge } = await startBridge({ allow: [`127.0.0.1:${listener.address.port}`], allowPrivate: true })
    const connector = new WsConnector({ url: bridge.url, WebSocket: WsCtor, connectTimeoutMs: scaled(5_000) })
    return {
      connect: (signal) => connector.connect(listener.address, signal),
      accept: acceptQueue(listener),
      teardown: async () => {
        await bridge.close()
        await listener.close()
      },
    }
  },
})
