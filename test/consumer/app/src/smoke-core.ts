/**
 * The consumer app's smoke, runtime-neutral: what a user's program does
 * first with the installed packages. Connects to a regtest node on
 * 127.0.0.1 through `connector` (BIP324 v2 first, v1 when the node does
 * not speak it), syncs and validates headers from genesis through
 * HeaderTree, hangs up, and reports. The hosts: smoke.ts (Node, Deno, Bun;
 * TcpConnector) and worker.ts (workerd; CloudflareConnector).
 */
import { type Connector, describeDisconnect, Peer, PeerError } from '@bitp2p/session'
import { HeaderTree } from '@bitp2p/session/chain'
import { v2 } from '@bitp2p/session/v2'
import { hashToHex, networkByName } from '@bitp2p/wire'

/** A full headers reply (MAX_HEADERS_RESULTS): fewer means the peer has no more. */
const MAX_HEADERS_RESULTS = 2_000

/** What the smoke reports, as one JSON object. */
export interface SmokeReport {
  /** 'node 20.x', 'deno 2.x', 'bun 1.x', 'workerd'. */
  readonly runtime: string
  /** Entry point specifier -> how many names it exports at run time. */
  readonly entries: Readonly<Record<string, number>>
  readonly userAgent: string
  readonly transportVersion: 1 | 2
  readonly headers: number
  /** Hash of the last header, RPC hex order. */
  readonly tip: string
  /** describeDisconnect of the closing reason. */
  readonly closed: string
}

/** What the smoke needs from its host. */
export interface SmokeOptions {
  readonly runtime: string
  readonly connector: Connector
  /** The node's address, '127.0.0.1:<port>' (nothing else is accepted). */
  readonly peer: string
  /** Deadline of the connect, the handshake and each getheaders, ms. */
  readonly timeoutMs: number
  /** The entry points the host loaded, by specifier. */
  readonly entryPoints: Readonly<Record<string, object>>
}

/** Runs the smoke; rejects with a readable error. */
export async function runSmoke(opts: SmokeOptions): Promise<SmokeReport> {
  const m = /^127\.0\.0\.1:(\d+)$/.exec(opts.peer)
  const port = Number(m?.[1])
  if (m === null || !(port > 0 && port < 65_536)) throw new Error(`the peer must be 127.0.0.1:<port>, not '${opts.peer}'`)
  if (!(opts.timeoutMs > 0)) throw new Error(`bad timeout ${opts.timeoutMs}`)
  const network = networkByName('regtest')
  if (network === undefined) throw new Error('no regtest network')

  const entries: Record<string, number> = {}
  for (const [spec, ns] of Object.entries(opts.entryPoints)) entries[spec] = Object.keys(ns).length

  const peer = await Peer.connect(
    { host: '127.0.0.1', port },
    { connector: opts.connector, network, v2, handshakeTimeoutMs: opts.timeoutMs },
  )
  try {
    // Defined once connect() has resolved (undefined only before the handshake).
    const info = peer.info
    if (info === undefined) throw new Error('connected without handshake info')
    const tree = new HeaderTree(network)
    for (;;) {
      const batch = await peer.getHeaders(tree.locator(), { timeoutMs: opts.timeoutMs })
      const r = tree.acceptMany(batch, Math.floor(Date.now() / 1000))
      if (r.rejected !== undefined) throw new Error(`header #${r.rejected.index} rejected`)
      if (batch.length < MAX_HEADERS_RESULTS) break
    }
    peer.close('done')
    const reason = await peer.closed
    return {
      runtime: opts.runtime,
      entries,
      userAgent: info.peer.userAgent,
      transportVersion: peer.transportVersion,
      headers: tree.height,
      tip: hashToHex(tree.tip.hash),
      closed: describeDisconnect(reason),
    }
  } finally {
    peer.close('done')
  }
}

/** An error as one readable line (a PeerError with its stage and reason). */
export function describeError(e: unknown): string {
  if (e instanceof PeerError) return `PeerError (${e.stage ?? 'unknown stage'}): ${describeDisconnect(e.reason)}`
  return e instanceof Error ? (e.stack ?? e.message) : String(e)
}
