// Types of spawn-btcd.mjs, for the TypeScript harness (btcd.ts).
import type { ChildProcess } from 'node:child_process'

/** Path of btcd-regtest-server.mjs. */
export declare const SERVER: string
/** The btcd tools directory (BITP2P_BTCD_TOOLS, else ../shared/tools/btcd beside the repository). */
export declare const BTCD_TOOLS: string
/** The binaries the harness runs. */
export declare const BTCD_BINARIES: readonly string[]
export declare const BTCD_RPC_USER: string
export declare const BTCD_RPC_PASS: string

/** Why btcd cannot run here, or undefined when it can. */
export declare function btcdAbsence(timeoutMs?: number, tools?: string): string | undefined

/** The ready line of btcd-regtest-server.mjs. */
export interface BtcdReadyLine {
  readonly ready: true
  /** The guard's pid. */
  readonly pid: number
  readonly btcdPid: number
  readonly btcd: string
  readonly network: 'regtest'
  /** Network magic as wire bytes, hex. */
  readonly magic: string
  readonly p2p: number
  readonly rpc: number
  /** btcd's --connect: an unused loopback port, or the CONNECT given. */
  readonly connect: string
  /** The temporary directory (data, logs, HOME), removed when btcd stops. */
  readonly datadir: string
  readonly height: number
  /** The interop key's P2WPKH address, where blocks are mined. */
  readonly mineAddress: string
  /** The interop key's hash160, hex: its P2WPKH script is 0014 + this. */
  readonly mineKeyHash: string
  readonly v2transport: boolean
  readonly txindex: boolean
  readonly addrindex: boolean
  readonly startup_ms: number
}

/** What spawnBtcd resolves with. */
export interface SpawnedBtcd {
  readonly child: ChildProcess
  readonly info: BtcdReadyLine
  readonly readyMs: number
  /** The tail of the guard's stderr. */
  stderr(): string
}

/** Spawn the guard with `env`; see spawn-btcd.mjs. */
export declare function spawnBtcd(
  env?: Readonly<Record<string, string>>,
  options?: { readonly readyTimeoutMs?: number; readonly captureStderr?: boolean },
): Promise<SpawnedBtcd>

/** SIGKILL btcd itself and remove its data directory (only right after its guard was killed). */
export declare function killBtcd(info: BtcdReadyLine | undefined): void
/** Remove btcd's temporary directory. */
export declare function removeBtcdData(info: BtcdReadyLine | undefined): void

/** A JSON-RPC error from btcd. */
export declare class BtcdRpcError extends Error {
  readonly method: string
  readonly code: number | undefined
}

/** A JSON-RPC client for btcd on 127.0.0.1:`port`. */
export declare function btcdRpcClient(port: number): (method: string, params?: readonly unknown[]) => Promise<any>

/** A signed tx (hex) spending a P2WPKH output of the interop key. */
export declare function interopSpend(txid: string, vout: number, sats: bigint | number): Promise<string>
