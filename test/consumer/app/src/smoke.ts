/**
 * The consumer app's runtime smoke: what a user's program does first with
 * the installed packages, on Node (compiled by tsc), Deno and Bun (this
 * source as is).
 *
 * Imports every entry point of every package (./entries.ts, written by the
 * consumer job from the tarballs' "exports"), then connects to the regtest
 * node named by BITP2P_CONSUMER_PEER (127.0.0.1:port), does the handshake
 * (BIP324 v2 first, v1 when the node does not speak it), syncs headers
 * from genesis through HeaderTree and prints one JSON line (SmokeReport).
 * Exits 1 with `consumer smoke failed: ...` on any error.
 */
import process from 'node:process'
import { describeDisconnect, HeaderTree, Peer, PeerError } from '@bitp2p/session'
import { v2 } from '@bitp2p/session/v2'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { hashToHex, networkByName } from '@bitp2p/wire'
import { ENTRY_POINTS } from './entries.ts'

/** What the smoke prints, as one JSON line. */
export interface SmokeReport {
  /** 'node 20.x', 'deno 2.x', 'bun 1.x'. */
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

/** A required environment variable, or a clear error. */
function env(name: string): string {
  const v = process.env[name]
  if (v === undefined || v === '') throw new Error(`${name} is not set`)
  return v
}

/** The runtime's name and version. */
function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } }
  if (g.Deno !== undefined) return `deno ${g.Deno.version.deno}`
  if (g.Bun !== undefined) return `bun ${g.Bun.version}`
  return `node ${process.versions.node}`
}

async function main(): Promise<SmokeReport> {
  const m = /^127\.0\.0\.1:(\d+)$/.exec(env('BITP2P_CONSUMER_PEER'))
  const port = Number(m?.[1])
  if (m === null || !(port > 0 && port < 65_536)) throw new Error('BITP2P_CONSUMER_PEER must be 127.0.0.1:<port>')
  const timeoutMs = Number(env('BITP2P_CONSUMER_TIMEOUT_MS'))
  const network = networkByName('regtest')
  if (network === undefined) throw new Error('no regtest network')

  const entries: Record<string, number> = {}
  for (const [spec, ns] of Object.entries(ENTRY_POINTS)) entries[spec] = Object.keys(ns).length

  const peer = await Peer.connect(
    { host: '127.0.0.1', port },
    { connector: new TcpConnector({ connectTimeoutMs: timeoutMs }), network, v2, handshakeTimeoutMs: timeoutMs },
  )
  try {
    // Defined once connect() has resolved (undefined only before the handshake).
    const info = peer.info
    if (info === undefined) throw new Error('connected without handshake info')
    const tree = new HeaderTree(network)
    for (;;) {
      const batch = await peer.getHeaders(tree.locator(), { timeoutMs })
      const r = tree.acceptMany(batch, Math.floor(Date.now() / 1000))
      if (r.rejected !== undefined) throw new Error(`header #${r.rejected.index} rejected`)
      if (batch.length < 2_000) break
    }
    peer.close('done')
    const reason = await peer.closed
    return {
      runtime: runtimeName(),
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

main().then(
  (report) => console.log(JSON.stringify(report)),
  (e: unknown) => {
    console.error(`consumer smoke failed: ${e instanceof PeerError ? `PeerError (${e.stage ?? 'unknown stage'}): ${describeDisconnect(e.reason)}` : e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    process.exitCode = 1
  },
)
