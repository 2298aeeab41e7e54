/**
 * Echo over TCP on 127.0.0.1: a TcpListener echoes what it receives, a
 * TcpConnector sends a line and reads it back. Run after `npm run build`:
 *
 *   npx bun packages/transport-tcp/examples/echo.ts      (or: deno run -A ...)
 *
 * test/examples.test.ts runs main() on every test run, so this file cannot rot.
 */
import { TcpConnector, TcpListener } from '@bitp2p/transport-tcp'

/** Start an echo listener, send `text` through it, and return what came back. */
export async function main(text = 'hello, bitp2p'): Promise<string> {
  // Port 0: the system picks a free port; listener.address has the real one.
  const listener = await TcpListener.listen({ host: '127.0.0.1', port: 0 })
  listener.onConnection((peer) => {
    peer.onData((bytes) => peer.send(bytes)) // echo every chunk back
    peer.onClose(() => {})
  })

  const connector = new TcpConnector({ connectTimeoutMs: 5_000 })
  const t = await connector.connect(listener.address, AbortSignal.timeout(10_000))
  const sent = new TextEncoder().encode(text)
  const received: Uint8Array[] = []
  let total = 0
  const echoed = new Promise<string>((resolve, reject) => {
    t.onData((chunk) => {
      received.push(chunk.slice()) // copy: chunks are views over the socket's buffers
      total += chunk.length
      if (total >= sent.length) {
        const all = new Uint8Array(total)
        let off = 0
        for (const c of received) {
          all.set(c, off)
          off += c.length
        }
        resolve(new TextDecoder().decode(all))
      }
    })
    t.onClose((err) => reject(err ?? new Error('closed before the echo came back')))
  })
  t.send(sent)
  try {
    return await echoed
  } finally {
    t.close()
    await listener.close()
  }
}

// Deno and Bun set import.meta.main for the entry module.
if ((import.meta as { main?: boolean }).main) {
  main().then((s) => console.log(`echoed: ${s}`))
}
