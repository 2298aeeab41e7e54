/**
 * An echo server and a client on the mock network, in virtual time.
 *
 * The link delivers every send in pieces of at most 4 bytes, as a real
 * socket may, so the client reassembles the reply. Run through
 * test/examples/echo.test.ts, or call `runEcho()` from your own code.
 */
// In your own code: import { MockNetwork } from '@bitp2p/transport-mock'
import { formatPeerAddress } from '@bitp2p/session'
import { MockNetwork } from '../src/index.js'

/** Runs the example and returns what happened, one line per event. */
export async function runEcho(seed: string = 'echo-example'): Promise<string[]> {
  const log: string[] = []
  const net = new MockNetwork({ seed, defaultLink: { latency: 25, maxChunk: 4 } })

  const server = net.listen({ host: '10.0.0.1', port: 7 })
  server.onConnection((t) => {
    t.onData((bytes) => t.send(bytes)) // echo each piece as it comes
    t.onClose((err) => log.push(`${net.now()} ms server: closed (${err?.code ?? 'local'})`))
  })

  const client = (async () => {
    const t = await net.connector('10.0.0.2').connect(server.address)
    log.push(`${net.now()} ms client: connected to ${formatPeerAddress(t.remote)}`)
    const text = 'hello, world'
    const decoder = new TextDecoder()
    let received = ''
    let pieces = 0
    const done = new Promise<void>((resolve) =>
      t.onData((bytes) => {
        pieces++
        received += decoder.decode(bytes, { stream: true })
        if (received.length === text.length) resolve()
      }),
    )
    t.send(new TextEncoder().encode(text))
    await done
    log.push(`${net.now()} ms client: got "${received}" in ${pieces} pieces`)
    t.close()
  })()

  // Run virtual time until nothing is left to do; promise continuations
  // run at the virtual instant they became ready.
  await net.clock.runAsync()
  await client
  log.push(`trace: ${net.trace.events.length} events, sha256 ${net.traceHash()}`)
  return log
}
