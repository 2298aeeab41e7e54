// btcd for the benchmarks that measure against it (v2.bench.mjs,
// light-scan.bench.mjs): one way to start it, reach it and meter its CPU,
// so the benches' "CPU btcd" figures mean the same thing. The node itself
// runs through test/harness/spawn-btcd.mjs (the loopback-only guard around
// ../shared/tools/btcd).
import { btcdAbsence, btcdRpcClient, spawnBtcd } from '../../test/harness/spawn-btcd.mjs'
import { ownCpuMs, processCpuMs } from './harness.mjs'

/** btcd's regtest address: always loopback. */
export const BTCD_HOST = '127.0.0.1'

/**
 * Starts btcd for a bench, or returns undefined after printing why it
 * cannot run here (`<bench>: skipped, btcd is not available here: ...`), so
 * the bench can exit cleanly. `env` goes to the guard (MINE, V2TRANSPORT,
 * ...: see test/harness/btcd-regtest-server.mjs). Resolves with
 * `{ child, info, rpc, addr, cpuMs, stop }`: `rpc(method, params)` its
 * JSON-RPC client, `addr` its P2P address for Peer.connect, `cpuMs()` the
 * CPU milliseconds btcd itself has used so far (undefined without /proc),
 * `stop()` ends it (the guard removes its data directory).
 */
export async function startBenchBtcd(bench, env, { readyTimeoutMs = 300_000 } = {}) {
  const absent = btcdAbsence()
  if (absent !== undefined) {
    console.log(`${bench}: skipped, btcd is not available here: ${absent}`)
    return undefined
  }
  const { child, info } = await spawnBtcd(env, { readyTimeoutMs })
  return {
    child,
    info,
    rpc: btcdRpcClient(info.rpc),
    addr: { host: BTCD_HOST, port: info.p2p },
    cpuMs: () => processCpuMs(info.btcdPid),
    stop: () => child.kill('SIGTERM'),
  }
}

/**
 * Runs `body` and returns `{ value, wallMs, oursCpuMs, btcdCpuMs }`: its
 * result, the wall time, our process's CPU time and btcd's over it
 * (`btcdCpuMs` NaN when /proc could not be read; btcd's is in 10 ms ticks,
 * so it means something over rounds, not over one short call).
 */
export async function meteredByBtcd(btcd, body) {
  const b0 = btcd.cpuMs()
  const o0 = ownCpuMs()
  const t0 = performance.now()
  const value = await body()
  const wallMs = performance.now() - t0
  const oursCpuMs = ownCpuMs() - o0
  const b1 = btcd.cpuMs()
  return { value, wallMs, oursCpuMs, btcdCpuMs: b0 === undefined || b1 === undefined ? NaN : b1 - b0 }
}
