// Start test/harness/bcoin-regtest-server.cjs as a child process and wait for
// its ready line. Plain JS so the demo and the benchmarks (.mjs) share it;
// test/harness/bcoin.ts is the typed harness for the test suites.
// The server keeps its loopback-only guards; nothing here changes them.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const SERVER = fileURLToPath(new URL('./bcoin-regtest-server.cjs', import.meta.url))

/** Children still running: one exit handler for all of them, not one listener per spawn. */
const children = new Set()
let exitHandlerInstalled = false
function track(child) {
  children.add(child)
  child.once('exit', () => children.delete(child))
  if (exitHandlerInstalled) return
  exitHandlerInstalled = true
  process.on('exit', () => {
    for (const c of children) c.kill('SIGKILL')
  })
}

/**
 * Spawn the regtest server with `env` on top of ephemeral ports and
 * EXIT_ON_STDIN_CLOSE (bcoin goes when its parent goes).
 * Resolves with { child, info (the parsed ready line), readyMs }.
 * With captureStderr, bcoin's stderr is kept (its tail explains a failed
 * start) instead of shown. A start lost to a port race (EADDRINUSE on a
 * port the server picked) is retried, up to three starts in all.
 */
export async function spawnBcoin(env = {}, options = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(env, options)
    } catch (e) {
      // The server picks its ephemeral ports by binding port 0 and closing
      // it; bcoin binds them a moment later, and another process (any
      // outgoing connection) can take one in between. Only that is retried.
      if (!(e instanceof PortRaceError) || attempt >= PORT_RACE_ATTEMPTS) throw e
    }
  }
}

/** Starts in all while each one loses a port race. */
const PORT_RACE_ATTEMPTS = 3

/** bcoin exited before it was ready because a port it was given was taken meanwhile. */
class PortRaceError extends Error {}

function spawnOnce(env, { readyTimeoutMs = 60_000, captureStderr = false }) {
  const t0 = performance.now()
  const child = spawn(process.execPath, [SERVER], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, P2P_PORT: '0', HTTP_PORT: '0', WALLET_PORT: '0', EXIT_ON_STDIN_CLOSE: '1', ...env },
  })
  track(child)
  // stderr is always read (its tail explains a failed start); without
  // captureStderr it is also passed through.
  let log = ''
  child.stderr.setEncoding('utf8').on('data', (s) => {
    log = (log + s).slice(-2000)
    if (!captureStderr) process.stderr.write(s)
  })
  return new Promise((resolve, reject) => {
    let ready = false
    let buf = ''
    const timer = setTimeout(() => {
      // A node that never got ready is of no use to anyone: do not leave it running.
      child.kill('SIGKILL')
      reject(new Error(`bcoin: no ready line within ${readyTimeoutMs} ms\n${log}`))
    }, readyTimeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (ready) return
      const message = `bcoin exited (code ${code}) before it was ready\n${log}`
      reject(log.includes('EADDRINUSE') ? new PortRaceError(message) : new Error(message))
    })
    // bcoin's console log shares stdout: keep reading it (a full pipe would
    // stall bcoin) and pick out the one ready line.
    child.stdout.setEncoding('utf8').on('data', (s) => {
      if (ready) return
      buf += s
      for (let nl = buf.indexOf('\n'); nl >= 0 && !ready; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim()
        buf = buf.slice(nl + 1)
        if (!line.startsWith('{')) continue
        let info
        try {
          info = JSON.parse(line)
        } catch {
          continue
        }
        if (info.ready !== true) continue
        ready = true
        clearTimeout(timer)
        resolve({ child, info, readyMs: performance.now() - t0 })
      }
    })
  })
}
