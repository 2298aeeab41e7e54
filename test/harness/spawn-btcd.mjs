// Start test/harness/btcd-regtest-server.mjs (the guard around btcd 0.25.0)
// as a child process and wait for its ready line; a btcd JSON-RPC client and
// the interop signing tool. Plain JS so the benchmarks (.mjs) share it;
// test/harness/btcd.ts is the typed harness for the test suites.
// The server keeps start-btcd.sh's loopback guards; nothing here changes them.
import { execFile, spawn, spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const SERVER = fileURLToPath(new URL('./btcd-regtest-server.mjs', import.meta.url))

/** The btcd tools directory: BITP2P_BTCD_TOOLS, else ../shared/tools/btcd beside the repository. */
export const BTCD_TOOLS = process.env.BITP2P_BTCD_TOOLS || fileURLToPath(new URL('../../../shared/tools/btcd/', import.meta.url))

/** The binaries the harness runs, in BTCD_TOOLS/bin. */
export const BTCD_BINARIES = ['btcd', 'interopaddr', 'interopspend']

/** RPC credentials (start-btcd.sh's). */
export const BTCD_RPC_USER = 'interop'
export const BTCD_RPC_PASS = 'interop'

/**
 * Why btcd cannot run here, or undefined when it can: each binary must
 * exist, be executable, and btcd must answer --version (the binaries are
 * static Linux x86-64 builds).
 */
export function btcdAbsence(timeoutMs = 30_000, tools = BTCD_TOOLS) {
  for (const name of BTCD_BINARIES) {
    const path = join(tools, 'bin', name)
    if (!existsSync(path)) return `${path} not found (the btcd tools live in ../shared/tools/btcd; set BITP2P_BTCD_TOOLS to use others)`
    try {
      accessSync(path, constants.X_OK)
    } catch {
      return `${path} is not executable`
    }
  }
  const r = spawnSync(join(tools, 'bin', 'btcd'), ['--version'], { encoding: 'utf8', timeout: timeoutMs })
  if (r.status !== 0) return `btcd --version failed: ${(r.error?.message ?? r.stderr ?? '').trim().split('\n')[0]}`
  return undefined
}

/** Children still running: one exit handler for all of them. */
const children = new Set()
let exitHandlerInstalled = false
function track(child, info) {
  children.add({ child, info })
  child.once('exit', () => {
    for (const c of children) if (c.child === child) children.delete(c)
  })
  if (exitHandlerInstalled) return
  exitHandlerInstalled = true
  // The guard stops btcd when our stdin pipe closes; this is the belt to
  // those braces for a synchronous exit: kill both, remove the data.
  process.on('exit', () => {
    for (const c of children) {
      c.child.kill('SIGKILL')
      killBtcd(c.info())
    }
  })
}

/**
 * SIGKILL btcd itself and remove its data directory: only while its guard
 * was alive a moment ago (the guard was just killed, so btcd, its child,
 * still runs and its pid is still its own).
 */
export function killBtcd(info) {
  if (!info) return
  try {
    process.kill(info.btcdPid, 'SIGKILL')
  } catch {
    // already gone
  }
  removeBtcdData(info)
}

/** Remove btcd's temporary directory (the guard does it when it stops btcd; this covers a guard that was killed). */
export function removeBtcdData(info) {
  if (info) rmSync(info.datadir, { recursive: true, force: true })
}

/**
 * Spawn the guard with `env` (V2TRANSPORT, TXINDEX, ADDRINDEX, CONNECT,
 * MINE, P2P_PORT, DEBUGLEVEL: see btcd-regtest-server.mjs) and
 * EXIT_ON_STDIN_CLOSE. Resolves with { child, info (the parsed ready line),
 * readyMs }. The guard retries a start lost to a port race itself.
 */
export function spawnBtcd(env = {}, { readyTimeoutMs = 60_000, captureStderr = true } = {}) {
  const t0 = performance.now()
  const child = spawn(process.execPath, [SERVER], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, BTCD_TOOLS, EXIT_ON_STDIN_CLOSE: '1', READY_TIMEOUT_MS: String(readyTimeoutMs), ...env },
  })
  let info
  track(child, () => info)
  let log = ''
  child.stderr.setEncoding('utf8').on('data', (s) => {
    log = (log + s).slice(-4000)
    if (!captureStderr) process.stderr.write(s)
  })
  return new Promise((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => {
      // A node that never got ready is of no use to anyone: its guard goes (and takes btcd) when stdin closes.
      child.stdin.destroy()
      child.kill('SIGTERM')
      reject(new Error(`btcd: no ready line within ${readyTimeoutMs} ms\n${log}`))
    }, readyTimeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (info === undefined) reject(new Error(`btcd's guard exited (code ${code}) before btcd was ready\n${log}`))
    })
    child.stdout.setEncoding('utf8').on('data', (s) => {
      if (info !== undefined) return
      buf += s
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      try {
        const parsed = JSON.parse(buf.slice(0, nl))
        if (parsed.ready !== true) throw new Error('not a ready line')
        info = parsed
      } catch (e) {
        clearTimeout(timer)
        child.kill('SIGTERM')
        reject(new Error(`btcd's guard printed no ready line: ${buf.slice(0, 200)} (${e})`))
        return
      }
      clearTimeout(timer)
      resolve({ child, info, readyMs: performance.now() - t0, stderr: () => log })
    })
  })
}

/** A JSON-RPC error from btcd. */
export class BtcdRpcError extends Error {
  constructor(method, code, message) {
    super(`btcd rpc ${method}: ${message}`)
    this.name = 'BtcdRpcError'
    this.method = method
    this.code = code
  }
}

/** A JSON-RPC client for btcd on 127.0.0.1:`port`: `rpc(method, params)` resolves with the result, rejects with BtcdRpcError. */
export function btcdRpcClient(port) {
  const auth = `Basic ${btoa(`${BTCD_RPC_USER}:${BTCD_RPC_PASS}`)}`
  return async (method, params = []) => {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
    })
    const text = await res.text()
    let body
    try {
      body = JSON.parse(text)
    } catch {
      throw new BtcdRpcError(method, undefined, `HTTP ${res.status}: ${text.slice(0, 200)}`)
    }
    if (body.error) throw new BtcdRpcError(method, body.error.code, body.error.message ?? 'unknown error')
    return body.result
  }
}

/**
 * A signed transaction (hex) spending output `vout` (`sats`) of `txid`, a
 * P2WPKH output of the interop key, to a P2WPKH and a P2PKH output of the
 * same key (BTCD_TOOLS/bin/interopspend; its fee is fixed).
 */
export function interopSpend(txid, vout, sats) {
  return new Promise((resolve, reject) => {
    execFile(join(BTCD_TOOLS, 'bin', 'interopspend'), [txid, String(vout), String(sats)], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`interopspend ${txid} ${vout} ${sats}: ${stderr || err.message}`))
      else resolve(stdout.trim())
    })
  })
}
