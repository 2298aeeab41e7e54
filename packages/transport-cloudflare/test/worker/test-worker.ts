/**
 * The worker the workerd tests run (bundled by test/workerd.test.ts with
 * esbuild; `vitest` maps to ./vitest-shim.ts, `cloudflare:sockets` stays an
 * import that workerd resolves). Every route takes the loopback port it
 * should use from the query string and answers with JSON.
 *
 *   GET /sync?port=P        Peer.connect over CloudflareConnector to
 *                           127.0.0.1:P (bcoin regtest), handshake, then
 *                           HeaderSync to the peer's tip; answers the
 *                           peer's version and the synced tip.
 *   GET /connect?host=H&port=P
 *                           one connect attempt; answers how it ended
 *                           (the TransportError's code, or ok).
 *   GET /compliance?port=P  the shared transport compliance suite, both
 *                           ends CloudflareTransports joined by the splice
 *                           on 127.0.0.1:P; answers each case's result.
 */
import { HeaderSync, Peer, RealtimeClock, singlePeer, type TransportError } from '@bitp2p/session'
import { hashToHex, regtest } from '@bitp2p/wire'
import { CloudflareConnector, CloudflareTransport } from '@bitp2p/transport-cloudflare'
import type { Connector } from '@bitp2p/session'
import { runTransportCompliance } from '@bitp2p/testkit/compliance'
import { scaled } from '../../../../test/harness/timing.js'
import { runCollected } from './vitest-shim.js'

/** Connect deadline on loopback (a few ms on an idle machine); generous, as the machine may be loaded. */
const CONNECT_TIMEOUT_MS = 30_000
/** Deadline of each getheaders. bcoin sends nothing back to a getheaders it has nothing new for; HeaderSync then takes the silence as "nothing new". */
const HEADERS_TIMEOUT_MS = 30_000

/** 127.0.0.0/8: the only hosts /connect accepts. */
const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/

/** The splice port of the /compliance request being served (the suite's fixture reads it in setup). */
let splicePort = 0

runTransportCompliance('cloudflare sockets in workerd, through a loopback splice', {
  timeoutMs: scaled(30_000),
  async setup() {
    const connector = new CloudflareConnector({ connectTimeoutMs: CONNECT_TIMEOUT_MS })
    const at = { host: '127.0.0.1', port: splicePort }
    return {
      connect: (signal) => connector.connect(at, signal),
      // The far side is another socket of ours: the splice pairs them in arrival order.
      accept: () => connector.connect(at),
      teardown: async () => {},
    }
  },
})

function port(url: URL): number {
  const p = Number(url.searchParams.get('port'))
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`bad port '${url.searchParams.get('port')}'`)
  return p
}

async function sync(p: number): Promise<unknown> {
  const clock = new RealtimeClock()
  const cf = new CloudflareConnector({ connectTimeoutMs: CONNECT_TIMEOUT_MS })
  // Records what the Peer runs on, so the answer shows it was this package's transport.
  const transports: string[] = []
  const connector: Connector = {
    connect: async (addr, signal) => {
      const t = await cf.connect(addr, signal)
      transports.push(t instanceof CloudflareTransport ? 'CloudflareTransport' : 'other')
      return t
    },
  }
  const peer = await Peer.connect({ host: '127.0.0.1', port: p }, { connector, network: regtest, clock, userAgent: '/bitp2p-workerd-test:0.1.0/' })
  const headerSync = new HeaderSync({ source: singlePeer(peer), network: regtest, clock, requestTimeoutMs: HEADERS_TIMEOUT_MS })
  try {
    await headerSync.start()
    const tip = await headerSync.synced()
    const info = peer.info!
    return {
      transports,
      userAgent: info.peer.userAgent,
      version: info.peer.version,
      negotiatedVersion: info.negotiatedVersion,
      startHeight: info.peer.startHeight,
      height: tip.height,
      headers: headerSync.tree.height - headerSync.tree.baseHeight,
      tip: hashToHex(tip.hash),
    }
  } finally {
    headerSync.stop()
    peer.close('done')
  }
}

async function connectOnce(host: string, p: number): Promise<unknown> {
  try {
    const t = await new CloudflareConnector({ connectTimeoutMs: CONNECT_TIMEOUT_MS }).connect({ host, port: p })
    t.destroy()
    return { ok: true }
  } catch (e) {
    const err = e as TransportError
    return { ok: false, name: err.name, code: err.code, message: err.message }
  }
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    try {
      switch (url.pathname) {
        case '/sync':
          return Response.json(await sync(port(url)))
        case '/connect': {
          const host = url.searchParams.get('host') ?? ''
          // Loopback guard (besides workerd's network policy): this worker dials nothing else.
          if (host !== '' && !LOOPBACK_V4.test(host)) return Response.json({ error: `refusing non-loopback host '${host}'` }, { status: 400 })
          return Response.json(await connectOnce(host, port(url)))
        }
        case '/compliance':
          splicePort = port(url)
          return Response.json({ results: await runCollected() })
        default:
          return new Response('not found', { status: 404 })
      }
    } catch (e) {
      return Response.json({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }, { status: 500 })
    }
  },
}
