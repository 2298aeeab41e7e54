/// <reference types="node" />
/**
 * workerd (Cloudflare's Workers runtime, from npm) serving one worker on
 * 127.0.0.1, for the edge worker tests.
 *
 *   const wd = await startWorkerd({ script, bindings: { BITCOIN_PEER: '127.0.0.1:18444' } })
 *   const res = await fetch(`${wd.url}/path`)
 *   await wd.stop()
 *
 * Loopback only, in both directions:
 * - the HTTP socket listens on 127.0.0.1 (a free port);
 * - the worker's implicit `internet` service, which carries its fetch()
 *   and connect() (cloudflare:sockets), is overridden by a network that
 *   allows 127.0.0.1 and nothing else (LOOPBACK_ONLY_ALLOW). workerd
 *   refuses every other address before dialing it, so the worker can
 *   reach the regtest node and nothing beyond this machine.
 * No compatibility flags: the SDK needs no Node APIs in a worker.
 *
 * The config (capnp text) and the bundled script are written to a fresh
 * temporary directory; stop() ends the process (SIGTERM, then SIGKILL) and
 * removes the directory. A process 'exit' hook kills a workerd a failed
 * test left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { scaled } from './timing.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** The workerd binary `npm ci` installs (the root devDependency `workerd`). */
export const WORKERD_BIN = `${ROOT}node_modules/.bin/workerd`
/** What the worker's network allows: 127.0.0.1 only (CIDR, as workerd's Network.allow takes it). */
export const LOOPBACK_ONLY_ALLOW: readonly string[] = Object.freeze(['127.0.0.1/32'])
/** The compatibility date of the test workers (any recent date works; no flags are set). */
export const WORKERD_COMPAT_DATE = '2024-09-23'
/** workerd's start-up to listening (about 0.3 s on an idle machine), scaled: the ready wait. */
const READY_TIMEOUT_MS = scaled(15_000)
/** How long stop() waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = scaled(3_000)
/** workerd's line once its socket listens. */
const LISTENING = /Listening on http:\/\/127\.0\.0\.1:(\d+)/

/** Options of startWorkerd. */
export interface WorkerdOptions {
  /** The worker: one ES module (bundled; `cloudflare:sockets` may stay an import). */
  readonly script: string
  /** Text bindings, seen by the worker as `env.NAME`. */
  readonly bindings?: Readonly<Record<string, string>>
  /**
   * The `internet` network's allow list. Default LOOPBACK_ONLY_ALLOW. A
   * test may narrow it (`[]`: nothing) to show that connect() goes through
   * it; widening it is refused.
   */
  readonly allow?: readonly string[]
}

/** A running workerd. */
export interface Workerd {
  /** 'http://127.0.0.1:<port>' */
  readonly url: string
  /** The config it was started with (capnp text). */
  readonly config: string
  /** What workerd printed so far (stdout and stderr). */
  output(): string
  /** End the process and remove its files. Idempotent. */
  stop(): Promise<void>
}

/** A capnp text literal. */
function capnpText(s: string): string {
  return JSON.stringify(s)
}

/**
 * The workerd config: one worker `main` (module `worker.mjs` beside the
 * config), served on 127.0.0.1:`port`, with its `internet` service
 * restricted to `allow` (LOOPBACK_ONLY_ALLOW, or a subset of it).
 */
export function workerdConfig(port: number, bindings: Readonly<Record<string, string>> = {}, allow: readonly string[] = LOOPBACK_ONLY_ALLOW): string {
  const wider = allow.filter((a) => !LOOPBACK_ONLY_ALLOW.includes(a))
  if (wider.length > 0) throw new Error(`workerd harness: the worker's network allows ${LOOPBACK_ONLY_ALLOW.join(', ')} at most, not ${wider.join(', ')}`)
  const b = Object.entries(bindings)
    .map(([name, text]) => `(name = ${capnpText(name)}, text = ${capnpText(text)})`)
    .join(', ')
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .mainWorker),
    # Replaces workerd's implicit "internet" service (every worker's
    # globalOutbound): 127.0.0.1 only, so the worker reaches nothing but
    # this machine's loopback.
    (name = "internet", network = (allow = [${allow.map(capnpText).join(', ')}])),
  ],
  sockets = [ (name = "http", address = ${capnpText(`127.0.0.1:${port}`)}, http = (), service = "main") ],
);

const mainWorker :Workerd.Worker = (
  modules = [ (name = "worker.mjs", esModule = embed "worker.mjs") ],
  compatibilityDate = ${capnpText(WORKERD_COMPAT_DATE)},
  bindings = [ ${b} ],
);
`
}

/** A free TCP port on 127.0.0.1 (bound, then released for workerd to take). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL')
})

/** Start attempts when the free port was taken before workerd bound it (another process won the race). */
const PORT_ATTEMPTS = 3

/** Start workerd serving `opts.script` on a free 127.0.0.1 port; resolves once it listens. */
export async function startWorkerd(opts: WorkerdOptions): Promise<Workerd> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts)
    } catch (e) {
      if (attempt >= PORT_ATTEMPTS || !(e instanceof Error) || !/Address already in use/.test(e.message)) throw e
    }
  }
}

async function startOnce(opts: WorkerdOptions): Promise<Workerd> {
  const dir = mkdtempSync(join(tmpdir(), 'bitp2p-workerd-'))
  const port = await freePort()
  const config = workerdConfig(port, opts.bindings, opts.allow)
  writeFileSync(join(dir, 'worker.mjs'), opts.script)
  writeFileSync(join(dir, 'config.capnp'), config)
  const child = spawn(WORKERD_BIN, ['serve', join(dir, 'config.capnp')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let out = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.once('exit', () => running.delete(child))
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
        await exited
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    })()
    return stopped
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`workerd did not listen within ${READY_TIMEOUT_MS} ms:\n${out}`)), READY_TIMEOUT_MS)
      const onData = (s: string): void => {
        out += s
        const m = LISTENING.exec(out)
        if (m === null) return
        clearTimeout(timer)
        if (Number(m[1]) !== port) reject(new Error(`workerd listens on ${m[1]}, not on ${port}`))
        else resolve()
      }
      child.stdout!.setEncoding('utf8').on('data', onData)
      child.stderr!.setEncoding('utf8').on('data', onData)
      child.once('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`workerd exited (${code ?? signal}) before listening:\n${out}`))
      })
    })
  } catch (e) {
    await stop()
    throw e
  }
  return { url: `http://127.0.0.1:${port}`, config, output: () => out, stop }
}
