// The shared transport compliance suite against TCP on 127.0.0.1.
import { runTransportCompliance } from '@bitp2p/testkit/compliance'
import { TcpConnector, TcpListener } from '../src/index.js'
import { acceptQueue } from './helpers.js'
import { scaled } from '../../../test/harness/timing.js'

runTransportCompliance('tcp 127.0.0.1', {
  timeoutMs: scaled(30_000),
  async setup() {
    const listener = await TcpListener.listen({ host: '127.0.0.1', port: 0 })
    const connector = new TcpConnector({ connectTimeoutMs: scaled(5_000) })
    return {
      connect: (signal) => connector.connect(listener.address, signal),
      accept: acceptQueue(listener),
      teardown: () => listener.close(),
    }
  },
})
