#!/usr/bin/env node
// One nats-server (Debian's package, 2.9) with JetStream for bitp2p's tests
// and benchmarks, on loopback only: a small Node guard around the binary.
// nats-server cannot watch its parent: this script does, so no server
// outlives a failed or killed test run.
//
// Loopback guards:
//   - the client listener and the cluster listener bind 127.0.0.1 only;
//   - every route is a 127.x.x.x:port address (anything else is refused
//     here); no gateways, leaf nodes, websocket, MQTT or HTTP monitoring
//     are configured; cluster no_advertise, so clients learn no address
//     but the ones the test gave them.
//
// The config file and the JetStream store live in NATS_DIR (the harness
// makes it and removes it: a restarted node keeps its store there).
//
// Prints ONE JSON line on stdout when the server is ready:
//   {"ready":true,"pid","natsPid","name","port","clusterPort","url","storeDir","startup_ms"}
// Env: NATS_BIN (default nats-server on PATH), NATS_DIR (required), NATS_NAME,
//      NATS_PORT (required), NATS_CLUSTER_NAME, NATS_CLUSTER_PORT and NATS_ROUTES
//      (comma-separated 127.x.x.x:port; all three for a cluster node), NATS_MAX_PAYLOAD,
//      READY_TIMEOUT_MS, EXIT_ON_STDIN_CLOSE=1 (exit when stdin closes: the parent died).
// SIGTERM/SIGINT: nats-server gets SIGTERM (SIGKILL after STOP_GRACE_MS) and
// this process exits once it has. If nats-server dies on its own (a test
// SIGKILLs it to fail a node), this process exits too.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const t0 = Date.now()
const env = (k, d) => (process.env[k] !== undefined && process.env[k] !== '' ? process.env[k] : d)

/** How long nats-server may take to log "Server is ready" (about 50 ms on an idle machine). */
const READY_TIMEOUT_MS = Number(env('READY_TIMEOUT_MS', '30000'))
/** After SIGTERM, how long nats-server has to shut down (it flushes its store) before SIGKILL. */
const STOP_GRACE_MS = Number(env('STOP_GRACE_MS', '10000'))
/** How much of nats-server's log is kept to explain a failed start. */
const LOG_TAIL_CHARS = 4000

const isLoopbackHostPort = (s) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$/.test(s)
const port = (name, v) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > 0xffff) throw new Error(`${name}=${v}: not a port`)
  return n
}

function config() {
  const dir = env('NATS_DIR')
  if (!dir) throw new Error('NATS_DIR is required')
  const name = env('NATS_NAME', 'n1')
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`NATS_NAME=${name}: letters, digits, - and _ only`)
  const clientPort = port('NATS_PORT', env('NATS_PORT'))
  const storeDir = join(dir, `store-${name}`)
  const lines = [
    `server_name: ${JSON.stringify(name)}`,
    `listen: "127.0.0.1:${clientPort}"`,
    `max_payload: ${Number(env('NATS_MAX_PAYLOAD', String(1024 * 1024)))}`,
    // JetStream limits: streams reserve their max_bytes against max_file_store (a reservation, not disk used);
    // tests give their streams small limits.
    `jetstream { store_dir: ${JSON.stringify(storeDir)}, max_memory_store: 64MB, max_file_store: 8GB }`,
  ]
  let clusterPort = null
  const cport = env('NATS_CLUSTER_PORT')
  if (cport !== undefined) {
    clusterPort = port('NATS_CLUSTER_PORT', cport)
    const routes = env('NATS_ROUTES', '').split(',').filter((r) => r !== '')
    for (const r of routes) if (!isLoopbackHostPort(r)) throw new Error(`NATS_ROUTES: ${r} is not a 127.x.x.x:port address`)
    lines.push(
      `cluster { name: ${JSON.stringify(env('NATS_CLUSTER_NAME', 'bitp2p-test'))}, listen: "127.0.0.1:${clusterPort}", no_advertise: true,`,
      `  routes: [${routes.map((r) => JSON.stringify(`nats-route://${r}`)).join(', ')}] }`,
    )
  }
  const file = join(dir, `${name}.conf`)
  writeFileSync(file, `${lines.join('\n')}\n`)
  return { file, name, clientPort, clusterPort, storeDir }
}

let server
let stopping = false
let exited
let serverExited = false

async function stop(code = 0) {
  if (stopping) return
  stopping = true
  if (server && !serverExited) {
    server.kill('SIGTERM')
    const timer = setTimeout(() => server.kill('SIGKILL'), STOP_GRACE_MS)
    await exited
    clearTimeout(timer)
  }
  process.exit(code)
}
process.on('SIGTERM', () => void stop(0))
process.on('SIGINT', () => void stop(0))
if (env('EXIT_ON_STDIN_CLOSE', '0') === '1') {
  // The parent holds our stdin open; if it dies (even by SIGKILL) the pipe
  // closes and we stop the server and go too.
  process.stdin.on('end', () => void stop(0))
  process.stdin.on('close', () => void stop(0))
  process.stdin.resume()
}

try {
  const c = config()
  server = spawn(env('NATS_BIN', 'nats-server'), ['-c', c.file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  let ready = false
  const timer = setTimeout(() => {
    process.stderr.write(`nats-server did not log "Server is ready" within ${READY_TIMEOUT_MS} ms\n${log}\n`)
    void stop(1)
  }, READY_TIMEOUT_MS)
  const onLog = (s) => {
    log = (log + s).slice(-LOG_TAIL_CHARS)
    if (ready || !log.includes('Server is ready')) return
    ready = true
    clearTimeout(timer)
    const info = {
      ready: true,
      pid: process.pid,
      natsPid: server.pid,
      name: c.name,
      port: c.clientPort,
      clusterPort: c.clusterPort,
      url: `nats://127.0.0.1:${c.clientPort}`,
      storeDir: c.storeDir,
      startup_ms: Date.now() - t0,
    }
    process.stdout.write(`${JSON.stringify(info)}\n`)
  }
  server.stdout.setEncoding('utf8').on('data', onLog)
  server.stderr.setEncoding('utf8').on('data', onLog)
  exited = new Promise((resolve) => {
    server.once('exit', (code, signal) => {
      serverExited = true
      resolve()
      if (stopping) return
      // Before ready: a failed start (the log says why: a port taken...). After: a test killed it.
      if (!ready) process.stderr.write(`nats-server exited before it was ready (code ${code}, signal ${signal})\n${log}\n`)
      process.exit(ready ? 0 : 1)
    })
    server.once('error', (e) => {
      serverExited = true
      resolve()
      process.stderr.write(`cannot start nats-server: ${e.message}\n`)
      process.exit(1)
    })
  })
} catch (e) {
  process.stderr.write(`${e?.stack ?? e}\n`)
  process.exit(1)
}
