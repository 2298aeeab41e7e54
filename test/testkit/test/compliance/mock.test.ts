// The shared transport compliance suite against the mock network
// (design rule 11: tcp, ws and mock).
//
// The suite is written for transports on real time: it awaits promises and
// sleeps on real timers. The mock moves only when its virtual clock is run,
// so the fixture runs the clock from a free-running pump: every macrotask it
// runs the events of the next PUMP_STEP_MS of virtual time. The suite's
// outcome depends only on the order of events, never on how fast the pump
// turns, so the run is as deterministic as the suite's own real-time sleeps
// allow (which only ever wait for something that must not happen).
import { MockNetwork } from '@bitp2p/transport-mock'
import { acceptQueue, runTransportCompliance } from '@bitp2p/testkit/compliance'
import { scaled } from '../../../harness/timing.js'

/** Virtual ms the pump runs per macrotask: one link latency, so each turn moves bytes one hop. */
const PUMP_STEP_MS = 5
/** Host the listener runs on (192.0.2/24, TEST-NET-1: a mock address, never dialled for real). */
const SERVER = { host: '192.0.2.10', port: 8333 }

runTransportCompliance('mock', {
  timeoutMs: scaled(30_000),
  async setup() {
    const net = new MockNetwork({ seed: 'compliance', defaultLink: { latency: PUMP_STEP_MS, bandwidth: 64 * 1024 * 1024, maxChunk: 64 * 1024 } })
    const listener = net.listen(SERVER)
    const connector = net.connector('192.0.2.20')
    let running = true
    const pump = (): void => {
      if (!running) return
      net.clock.advance(PUMP_STEP_MS)
      setImmediate(pump)
    }
    setImmediate(pump)
    return {
      connect: (signal) => connector.connect(listener.address, signal),
      accept: acceptQueue(listener),
      teardown: async () => {
        running = false
        listener.close()
      },
    }
  },
})
