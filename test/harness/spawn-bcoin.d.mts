// Types of spawn-bcoin.mjs, for the TypeScript harness (bcoin.ts).
import type { ChildProcess } from 'node:child_process'

/** Path of bcoin-regtest-server.cjs. */
export declare const SERVER: string

/** What spawnBcoin resolves with: the child, its parsed ready line and how long it took. */
export interface SpawnedBcoin<Info = Record<string, unknown>> {
  readonly child: ChildProcess
  readonly info: Info
  readonly readyMs: number
}

/** Spawn the regtest server with `env` on top of ephemeral ports; see spawn-bcoin.mjs. */
export declare function spawnBcoin<Info = Record<string, unknown>>(
  env?: Readonly<Record<string, string>>,
  options?: { readonly readyTimeoutMs?: number; readonly captureStderr?: boolean },
): Promise<SpawnedBcoin<Info>>
