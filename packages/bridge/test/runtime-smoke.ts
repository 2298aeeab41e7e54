/**
 * Runtime smoke test: the client, with the runtime's own global WebSocket,
 * through a bridge started by test/runtime-smoke.test.ts. Bundled (esbuild)
 * and run by Deno and Bun. Prints one JSON line per check.
 *
 *   <runtime> runtime-smoke.bundle.mjs <bridgeUrl> <echoPort> <refusedPort>
 */
import { WsConnector } from '@bitp2p/transport-ws'
import type { TransportError } from '@bitp2p/session'
import { scaled } from '../../../test/harness/timing.js'

interface RuntimeGlobals {
  Deno?: { version: { deno: string }; args: string[] }
  Bun?: { version: string }
  process?: { argv: string[] }
}
const g = globalThis as unknown as RuntimeGlobals
const runtime = g.Deno ? `deno ${g.Deno.version.deno}` : g.Bun ? `bun ${g.Bun.version}` : 'unknown'
const args = g.Deno?.args ?? g.process?.argv.slice(2) ?? []
const [url, echoPort, refusedPort] = [args[0]!, Number(args[1]), Number(args[2])]

const print = (o: object): void => console.log(JSON.stringify(o))
print({ runtime, webSocket: typeof WebSocket })

// No WebSocket option: the runtime's global is used.
// The deadline scales with BITP2P_TIME_SCALE, inherited from the vitest run.
const connector = new WsConnector({ url, connectTimeoutMs: scaled(5_000) })

const t = await connector.connect({ host: '127.0.0.1', port: echoPort })
const sent = new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff)
const received = await new Promise<Uint8Array>((resolve) => {
  const parts: Uint8Array[] = []
  let n = 0
  t.onData((b) => {
    parts.push(b.slice())
    n += b.length
    if (n >= sent.length) {
      const all = new Uint8Array(n)
      let o = 0
      for (const p of parts) {
        all.set(p, o)
        o += p.length
      }
      resolve(all)
    }
  })
  t.send(sent)
})
let same = received.length === sent.length
for (let i = 0; same && i < sent.length; i++) same = received[i] === sent[i]
print({ echo: { bytes: received.length, intact: same } })
const closed = new Promise<TransportError | undefined>((r) => t.onClose(r))
t.close()
print({ localClose: (await closed) === undefined })

try {
  await connector.connect({ host: '127.0.0.1', port: refusedPort })
  print({ refused: null })
} catch (e) {
  const err = e as TransportError
  print({ refused: { name: err.name, kind: err.kind, cause: err.cause } })
}
