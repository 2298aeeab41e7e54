/**
 * The consumer app's smoke on Node (compiled by tsc), Deno and Bun (this
 * source as is): loads every runnable entry point of every package
 * (./entries.ts, written by the consumer job from the tarballs' "exports"),
 * then runs smoke-core.ts over TCP against BITP2P_CONSUMER_PEER
 * (127.0.0.1:port) and prints its report as one JSON line. Exits 1 with
 * `consumer smoke failed: ...` on any error.
 */
import process from 'node:process'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { ENTRY_POINTS } from './entries.ts'
import { describeError, runSmoke } from './smoke-core.ts'

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

async function main(): Promise<void> {
  const timeoutMs = Number(env('BITP2P_CONSUMER_TIMEOUT_MS'))
  const report = await runSmoke({
    runtime: runtimeName(),
    connector: new TcpConnector({ connectTimeoutMs: timeoutMs }),
    peer: env('BITP2P_CONSUMER_PEER'),
    timeoutMs,
    entryPoints: ENTRY_POINTS,
  })
  console.log(JSON.stringify(report))
}

main().catch((e: unknown) => {
  console.error(`consumer smoke failed: ${describeError(e)}`)
  process.exitCode = 1
})
