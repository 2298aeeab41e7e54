#!/usr/bin/env node
// btcd 0.25.0 regtest node for bitp2p's interop tests and benchmarks, on
// loopback only: a small Node guard around the Go binary of
// ../shared/tools/btcd (see its README.md and start-btcd.sh; the flags here
// are start-btcd.sh's). The guard exists because btcd cannot watch its
// parent: this script does, so no btcd outlives a failed or killed test run,
// and its temporary data directory goes with it.
//
// Loopback guards (every one of start-btcd.sh's is kept):
//   - P2P and RPC listen on 127.0.0.1 only; no DNS seeds, no onion, no UPnP;
//   - --connect names one loopback address: an unused port (btcd then never
//     dials an address it learns), or CONNECT (a listener of the test, which
//     must be 127.x.x.x:port; anything else is refused here).
//
// Prints ONE JSON line on stdout when ready:
//   {"ready":true,"pid","btcdPid","btcd","network":"regtest","magic":"fabfb5da",
//    "p2p","rpc","connect","datadir","height","mineAddress","mineKeyHash","v2transport",
//    "txindex","addrindex","startup_ms"}
// Env: BTCD_TOOLS (the tools directory; default ../shared/tools/btcd beside
//      the repository), P2P_PORT / RPC_PORT (0 = a free port, the default),
//      V2TRANSPORT=1, TXINDEX=1, ADDRINDEX=1, CONNECT=127.0.0.1:PORT,
//      MINE (blocks to mine before ready, default 0), DEBUGLEVEL (btcd's, default info),
//      EXIT_ON_STDIN_CLOSE=1 (exit when stdin closes: the parent died).
// Stop it with SIGTERM/SIGINT: btcd is stopped (SIGTERM, then SIGKILL after
// STOP_GRACE_MS) and the data directory removed before this process exits.
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const t0 = Date.now()
const env = (k, d) => (process.env[k] !== undefined && process.env[k] !== '' ? process.env[k] : d)
const flag = (k) => env(k, '0') === '1'

/** The tools directory: BTCD_TOOLS, else ../shared/tools/btcd relative to the repository root. */
const TOOLS = env('BTCD_TOOLS', fileURLToPath(new URL('../../../shared/tools/btcd/', import.meta.url)))
const BIN = (name) => join(TOOLS, 'bin', name)
/** RPC credentials of start-btcd.sh. */
const RPC_USER = 'interop'
const RPC_PASS = 'interop'
/** How long btcd may take to answer its first RPC (about 1 s on an idle machine). */
const READY_TIMEOUT_MS = Number(env('READY_TIMEOUT_MS', '60000'))
/** Poll interval while waiting for the first RPC answer. */
const READY_POLL_MS = 50
/** After SIGTERM, how long btcd has to flush and exit before SIGKILL. */
const STOP_GRACE_MS = Number(env('STOP_GRACE_MS', '10000'))
/** Starts in all while each one loses a port race (a picked port taken before btcd binds it). */
const PORT_RACE_ATTEMPTS = 3
/** How much of btcd's output is kept to explain a failed start. */
const LOG_TAIL_CHARS = 4000
/** Most blocks one `generate` call mines (bounded HTTP answers; about 4 ms a block). */
const GENERATE_BATCH = 500

const isLoopbackHostPort = (s) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$/.test(s)

/** `n` distinct free loopback ports: all bound at once (so they differ), then released. */
async function freePorts(n) {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => resolve(s))
    })),
  )
  const ports = servers.map((s) => s.address().port)
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  return ports
}

/** A btcd JSON-RPC call (JSON-RPC 1.0 over HTTP, basic auth); throws on an RPC error. */
async function rpc(port, method, params = []) {
  const res = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`${RPC_USER}:${RPC_PASS}`)}` },
    body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
  })
  const body = await res.json()
  if (body.error) throw new Error(`btcd rpc ${method}: ${body.error.message}`)
  return body.result
}

let dir
let btcd
let stopping = false
let exitedPromise

function removeDir() {
  if (dir) rmSync(dir, { recursive: true, force: true })
}

async function stop(code = 0) {
  if (stopping) return
  stopping = true
  try {
    if (btcd && btcd.exitCode === null && btcd.signalCode === null) {
      btcd.kill('SIGTERM')
      const timer = setTimeout(() => btcd.kill('SIGKILL'), STOP_GRACE_MS)
      await exitedPromise
      clearTimeout(timer)
    }
  } finally {
    removeDir()
    process.exit(code)
  }
}
process.on('SIGTERM', () => void stop(0))
process.on('SIGINT', () => void stop(0))
if (flag('EXIT_ON_STDIN_CLOSE')) {
  // The parent holds our stdin open; if it dies (even by SIGKILL) the pipe
  // closes and we stop btcd and go too.
  process.stdin.on('end', () => void stop(0))
  process.stdin.on('close', () => void stop(0))
  process.stdin.resume()
}

/** btcd exited before it was ready because a port it was given was taken meanwhile. */
class PortRaceError extends Error {}

/** One start of btcd on fresh ports; resolves once its RPC answers. */
async function startOnce(mineAddress) {
  const [p2pPicked, rpcPicked, deadPort] = await freePorts(3)
  const p2p = Number(env('P2P_PORT', '0')) || p2pPicked
  const rpcPort = Number(env('RPC_PORT', '0')) || rpcPicked
  const connect = env('CONNECT', `127.0.0.1:${deadPort}`)
  if (!isLoopbackHostPort(connect)) throw new Error(`CONNECT=${connect}: only a 127.x.x.x:port address is allowed`)
  dir = mkdtempSync(join(tmpdir(), 'bitp2p-btcd-'))
  const args = [
    '--regtest', `--datadir=${join(dir, 'data')}`, `--logdir=${join(dir, 'logs')}`,
    `--listen=127.0.0.1:${p2p}`, `--connect=${connect}`,
    `--rpclisten=127.0.0.1:${rpcPort}`, `--rpcuser=${RPC_USER}`, `--rpcpass=${RPC_PASS}`, '--notls',
    '--nodnsseed', '--noonion', `--miningaddr=${mineAddress}`, `--debuglevel=${env('DEBUGLEVEL', 'info')}`,
  ]
  if (flag('V2TRANSPORT')) args.push('--v2transport')
  if (flag('TXINDEX')) args.push('--txindex')
  if (flag('ADDRINDEX')) args.push('--addrindex')
  // HOME: btcd creates ~/.btcd; keep it out of the real home (start-btcd.sh does the same).
  btcd = spawn(BIN('btcd'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir } })
  let log = ''
  const keep = (s) => {
    log = (log + s).slice(-LOG_TAIL_CHARS)
  }
  btcd.stdout.setEncoding('utf8').on('data', keep)
  btcd.stderr.setEncoding('utf8').on('data', keep)
  let exited = false
  exitedPromise = new Promise((resolve) => {
    btcd.once('exit', (code, signal) => {
      exited = true
      resolve({ code, signal })
    })
    // A binary that cannot be started (ENOENT, EACCES) gives 'error' and maybe no 'exit'.
    btcd.once('error', (e) => {
      keep(`${e.message}\n`)
      exited = true
      resolve({ code: null, signal: null })
    })
  })
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    if (exited) {
      removeDir()
      const message = `btcd exited before it was ready\n${log}`
      throw log.includes('address already in use') ? new PortRaceError(message) : new Error(message)
    }
    try {
      const height = await rpc(rpcPort, 'getblockcount')
      return { p2p, rpcPort, connect, height, log: () => log }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      btcd.kill('SIGKILL')
      await exitedPromise
      removeDir()
      throw new Error(`btcd did not answer RPC within ${READY_TIMEOUT_MS} ms\n${log}`)
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS))
  }
}

;(async () => {
  // interopaddr prints the P2WPKH address, the P2PKH address and the key hash; btcd mines to the first.
  const [mineAddress, , mineKeyHash] = execFileSync(BIN('interopaddr'), { encoding: 'utf8' }).trim().split(/\s+/)
  let started
  for (let attempt = 1; ; attempt++) {
    try {
      started = await startOnce(mineAddress)
      break
    } catch (e) {
      if (!(e instanceof PortRaceError) || attempt >= PORT_RACE_ATTEMPTS) throw e
    }
  }
  // btcd going away on its own after this point is a failure the parent sees as our exit.
  exitedPromise.then(({ code, signal }) => {
    if (stopping) return
    process.stderr.write(`btcd exited unexpectedly (code ${code}, signal ${signal})\n${started.log()}\n`)
    removeDir()
    process.exit(1)
  })
  let height = started.height
  for (let left = Number(env('MINE', '0')); left > 0; ) {
    const n = Math.min(left, GENERATE_BATCH)
    await rpc(started.rpcPort, 'generate', [n])
    left -= n
  }
  height = await rpc(started.rpcPort, 'getblockcount')
  const info = {
    ready: true, pid: process.pid, btcdPid: btcd.pid, btcd: '0.25.0',
    network: 'regtest', magic: 'fabfb5da',
    p2p: started.p2p, rpc: started.rpcPort, connect: started.connect, datadir: dir,
    height, mineAddress, mineKeyHash,
    v2transport: flag('V2TRANSPORT'), txindex: flag('TXINDEX'), addrindex: flag('ADDRINDEX'),
    startup_ms: Date.now() - t0,
  }
  process.stdout.write(JSON.stringify(info) + '\n')
})().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`)
  void stop(1)
})
