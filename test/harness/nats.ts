/// <reference types="node" />
/**
 * NATS JetStream servers for the jetstream package's tests, on loopback only.
 *
 *   const single = await startNats()                  // one server, JetStream on
 *   const cluster = await startNatsCluster()          // 3 nodes, JetStream clustered
 *   ... connect({ servers: cluster.urls }) ...
 *   await cluster.nodes[1].kill()                     // SIGKILL one node
 *   await cluster.nodes[1].start()                    // back, same ports and store
 *   await cluster.stop()
 *
 * Each node is Debian's nats-server (2.9) under a Node guard
 * (nats-server-guard.mjs: it binds 127.0.0.1 only, refuses a route that is
 * not 127.x.x.x:port, and stops the server when this process goes). Ports
 * are free loopback ports picked here, so test files running in parallel
 * never share a server; the JetStream store of every node is in one fresh
 * temporary directory, removed by stop() (and on this process's exit).
 *
 * A cluster is ready when every node logged "Server is ready" and the
 * JetStream meta group answers an API call (it has elected a leader).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { forWork, scaled } from './timing.js'

const GUARD = fileURLToPath(new URL('./nats-server-guard.mjs', import.meta.url))

/** Budget for one nats-server to log "Server is ready" (about 50 ms on an idle machine; the guard is a Node start). */
const NODE_START_BUDGET_MS = 5_000
/** Budget for a cluster's JetStream meta group to elect a leader once its nodes run (about 2 s on an idle machine). */
const META_LEADER_BUDGET_MS = 10_000
/** Poll interval while waiting for the meta leader. */
const META_POLL_MS = 100
/** How long stop() waits for a guard after SIGTERM before SIGKILL (its own grace for nats-server and then some). */
const STOP_GRACE_MS = scaled(15_000)
/** Starts in all while each one loses a port race (a picked port taken before nats-server binds it). */
const PORT_RACE_ATTEMPTS = 3

/** Name of the cluster the 3-node harness forms. */
export const TEST_CLUSTER_NAME = 'bitp2p-test'

/** A budget for starting `nodes` servers and, for a cluster, its meta leader election. */
export function natsBudget(nodes = 1): number {
  return forWork(nodes, NODE_START_BUDGET_MS, nodes > 1 ? META_LEADER_BUDGET_MS : 0)
}

/** The guard's ready line. */
export interface NatsReadyLine {
  readonly ready: true
  readonly pid: number
  readonly natsPid: number
  readonly name: string
  readonly port: number
  readonly clusterPort: number | null
  readonly url: string
  readonly storeDir: string
  readonly startup_ms: number
}

/** One nats-server of the harness. */
export interface NatsNode {
  /** The server name (n1, n2, ...): what JetStream's cluster info calls its leaders. */
  readonly name: string
  /** nats://127.0.0.1:port */
  readonly url: string
  readonly port: number
  /** True from start() until it stops or is killed. */
  readonly running: boolean
  /** Start it again (same ports, same store). Resolves once it logged ready. */
  start(): Promise<void>
  /** SIGTERM: a clean shutdown. Resolves once it exited. */
  stop(): Promise<void>
  /** SIGKILL the nats-server process itself: a crash. Resolves once it exited. */
  kill(): Promise<void>
}

/** One server or a cluster. */
export interface NatsCluster {
  readonly nodes: readonly NatsNode[]
  /** Every node's client URL (give them all to a client, so it fails over). */
  readonly urls: readonly string[]
  /** The temporary directory holding configs and stores. */
  readonly dir: string
  /** Stop every node and remove the directory. Idempotent. */
  stop(): Promise<void>
}

/** A start lost to a port race. */
class PortRaceError extends Error {}

/** `n` distinct free loopback ports: all bound at once (so they differ), then released. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer()
            .once('error', reject)
            .listen(0, '127.0.0.1', () => resolve(s))
        }),
    ),
  )
  const ports = servers.map((s) => (s.address() as { port: number }).port)
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  return ports
}

/** Guards still running, killed on this process's exit (belt to the stdin watch's braces). */
const live = new Set<ChildProcess>()
const dirs = new Set<string>()
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL')
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })
}

interface NodeSpec {
  readonly name: string
  readonly port: number
  readonly clusterPort?: number
  readonly routes?: readonly number[]
}

/** Spawn one guard and wait for its ready line. */
function spawnGuard(dir: string, spec: NodeSpec): Promise<{ child: ChildProcess; info: NatsReadyLine }> {
  installExitHook()
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NATS_DIR: dir,
    NATS_NAME: spec.name,
    NATS_PORT: String(spec.port),
    READY_TIMEOUT_MS: String(scaled(NODE_START_BUDGET_MS)),
    EXIT_ON_STDIN_CLOSE: '1',
  }
  if (spec.clusterPort !== undefined) {
    env.NATS_CLUSTER_NAME = TEST_CLUSTER_NAME
    env.NATS_CLUSTER_PORT = String(spec.clusterPort)
    env.NATS_ROUTES = (spec.routes ?? []).map((p) => `127.0.0.1:${p}`).join(',')
  }
  const child = spawn(process.execPath, [GUARD], { stdio: ['pipe', 'pipe', 'pipe'], env })
  live.add(child)
  child.once('exit', () => live.delete(child))
  let log = ''
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    log = (log + s).slice(-4000)
  })
  return new Promise((resolve, reject) => {
    let buf = ''
    let info: NatsReadyLine | undefined
    const budget = scaled(NODE_START_BUDGET_MS) + scaled(5_000)
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`nats-server ${spec.name}: no ready line within ${budget} ms\n${log}`))
    }, budget)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (info !== undefined) return
      const message = `nats-server ${spec.name}: the guard exited (code ${code}) before the server was ready\n${log}`
      reject(/address already in use/i.test(log) ? new PortRaceError(message) : new Error(message))
    })
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      if (info !== undefined) return
      buf += s
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      info = JSON.parse(buf.slice(0, nl)) as NatsReadyLine
      clearTimeout(timer)
      resolve({ child, info })
    })
  })
}

/** A node handle over its spec; start() (re)spawns its guard. */
function node(dir: string, spec: NodeSpec): NatsNode {
  let child: ChildProcess | undefined
  let info: NatsReadyLine | undefined
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null
  const exited = (c: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) resolve()
      else c.once('exit', () => resolve())
    })
  const n: NatsNode = {
    name: spec.name,
    url: `nats://127.0.0.1:${spec.port}`,
    port: spec.port,
    get running() {
      return running()
    },
    async start() {
      if (running()) return
      const r = await spawnGuard(dir, spec)
      child = r.child
      info = r.info
    },
    async stop() {
      const c = child
      if (!c || !running()) return
      c.kill('SIGTERM')
      const timer = setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS)
      await exited(c)
      clearTimeout(timer)
      c.stdin?.destroy()
    },
    async kill() {
      const c = child
      if (!c || !running() || !info) return
      // The server itself, not its guard: the guard sees it die and exits.
      try {
        process.kill(info.natsPid, 'SIGKILL')
      } catch {
        // already gone
      }
      await exited(c)
      c.stdin?.destroy()
    },
  }
  return n
}

/** Wait until the JetStream API answers (a cluster's meta group has a leader). */
async function waitForJetStream(urls: readonly string[]): Promise<void> {
  const deadline = Date.now() + scaled(META_LEADER_BUDGET_MS)
  const nc = await connect({ servers: [...urls], timeout: scaled(5_000) })
  try {
    const jsm = await jetstreamManager(nc, { timeout: scaled(2_000), checkAPI: false })
    for (;;) {
      try {
        await jsm.getAccountInfo()
        return
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`JetStream did not answer within ${scaled(META_LEADER_BUDGET_MS)} ms: ${(e as Error).message}`)
        await new Promise((r) => setTimeout(r, META_POLL_MS))
      }
    }
  } finally {
    await nc.close()
  }
}

async function startNodes(count: number): Promise<NatsCluster> {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'bitp2p-nats-'))
    dirs.add(dir)
    const ports = await freePorts(count * 2)
    const clientPorts = ports.slice(0, count)
    const clusterPorts = ports.slice(count)
    const nodes = clientPorts.map((port, i) =>
      node(
        dir,
        count === 1
          ? { name: 'n1', port }
          : { name: `n${i + 1}`, port, clusterPort: clusterPorts[i], routes: clusterPorts.filter((_, j) => j !== i) },
      ),
    )
    let stopped: Promise<void> | undefined
    const cluster: NatsCluster = {
      nodes,
      urls: nodes.map((n) => n.url),
      dir,
      stop: () => {
        stopped ??= (async () => {
          await Promise.all(nodes.map((n) => n.stop()))
          rmSync(dir, { recursive: true, force: true })
          dirs.delete(dir)
        })()
        return stopped
      },
    }
    try {
      await Promise.all(nodes.map((n) => n.start()))
      await waitForJetStream(cluster.urls)
      return cluster
    } catch (e) {
      await cluster.stop()
      if (!(e instanceof PortRaceError) || attempt >= PORT_RACE_ATTEMPTS) throw e
    }
  }
}

/** One nats-server with JetStream on 127.0.0.1 (store in a temporary directory). */
export function startNats(): Promise<NatsCluster> {
  return startNodes(1)
}

/** A JetStream cluster of `size` (default 3) nats-servers on 127.0.0.1, routed to each other. */
export function startNatsCluster(size = 3): Promise<NatsCluster> {
  if (!Number.isInteger(size) || size < 2) throw new RangeError(`a cluster has at least 2 nodes, got ${size}`)
  return startNodes(size)
}
