// bitp2p view: a live view of the network in the browser, fed by the SDK's
// events (a seeded simulation, a real peer, or a recorded trace).
import { existsSync, statSync } from 'node:fs'
import { formatPeerAddress, HeaderSync, MempoolMonitor, singlePeer } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { hashToHex } from '@bitp2p/wire'
import {
  CliError,
  connect,
  intOption,
  networkOption,
  parse,
  peerOption,
  PEER_OPTIONS_HELP,
  timeoutOption,
  UsageError,
} from './common.mjs'
import { EventLog, readTrace, Recorder, writeTrace } from '../view/recorder.mjs'
import { startViewServer } from '../view/server.mjs'
import { createSim, DEFAULT_SIM_MINUTES, DEFAULT_SIM_PEERS, MAX_SIM_MINUTES, MAX_SIM_PEERS, runSim } from '../view/sim.mjs'
import { parseSpeed } from '../view/player.mjs'

/** Default playback speed of a simulation or a replay: 5 virtual minutes per second. */
export const DEFAULT_VIEW_SPEED = 300
/** Default seed of --sim. */
export const DEFAULT_SIM_SEED = 1

export const summary = 'show peers, messages, heights and reorgs live in the browser'
export const help = `usage: bitp2p view --sim [--seed N] [--peers N] [--minutes N] [options]
       bitp2p view --peer host:port [--network <net>] [options]
       bitp2p view --replay <file> [options]

Serves a page on 127.0.0.1 that draws the network: our node and its peers
as a graph with messages flowing, the header height of each peer, our tip
and every reorg. Prints 'view: <url>' and serves until Ctrl-C.

sources (one of):
  --sim              a seeded simulation on the in-memory network: virtual
                     miners of different speeds race on competing branches
                     (and, from 4 peers, the last one cheats)
  --seed <N>         simulation seed (default ${DEFAULT_SIM_SEED}); the same seed gives the same trace
  --peers <N>        virtual peers, 1-${MAX_SIM_PEERS} (default ${DEFAULT_SIM_PEERS})
  --minutes <N>      virtual minutes to simulate (default ${DEFAULT_SIM_MINUTES})
  --peer host:port   attach to a real peer: header sync and mempool, live
  --replay <file>    replay a trace written by --trace

options:
  --trace <file>     also write the events to <file>, one JSON object per line
  --speed <X>        playback speed in virtual ms per wall ms (default ${DEFAULT_VIEW_SPEED});
                     0 or 'max': as fast as possible. The page can change it
  --port <N>         HTTP port on 127.0.0.1 (default 0: any free port)
${PEER_OPTIONS_HELP.split('\n').filter((l) => !l.includes('--peer ')).join('\n')}`

const OPTIONS = {
  sim: { type: 'boolean' },
  seed: { type: 'string' },
  peers: { type: 'string' },
  minutes: { type: 'string' },
  peer: { type: 'string' },
  network: { type: 'string' },
  timeout: { type: 'string' },
  replay: { type: 'string' },
  trace: { type: 'string' },
  speed: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
}

/** The source named on the command line, after checking that options fit it. */
function sourceOf(values) {
  const chosen = ['sim', 'peer', 'replay'].filter((k) => values[k] !== undefined && values[k] !== false)
  if (chosen.length !== 1) throw new UsageError('give one of --sim, --peer host:port, --replay <file>')
  const source = chosen[0]
  const only = { seed: 'sim', peers: 'sim', minutes: 'sim', network: 'peer', timeout: 'peer' }
  for (const [opt, src] of Object.entries(only)) {
    if (values[opt] !== undefined && source !== src) throw new UsageError(`--${opt} goes with --${src}`)
  }
  if (source === 'replay' && values.trace !== undefined) throw new UsageError('--trace does not go with --replay (the trace is the file)')
  if (source === 'peer' && values.speed !== undefined) throw new UsageError('--speed does not go with --peer (a live peer plays at 1x)')
  return source
}

function boundedInt(values, name, fallback, min, max) {
  const n = intOption(values, name, fallback)
  if (n < min || n > max) throw new UsageError(`--${name} must be in ${min}..${max}, got ${n}`)
  return n
}

export async function run(argv, ctx) {
  const { values } = parse(argv, OPTIONS)
  if (values.help) return void console.log(help)
  const source = sourceOf(values)
  const port = boundedInt(values, 'port', 0, 0, 0xffff)
  const speed = values.speed === undefined ? DEFAULT_VIEW_SPEED : parseSpeed(values.speed)
  if (speed === undefined) throw new UsageError(`--speed must be a number >= 0 or 'max', got '${values.speed}'`)
  if (values.trace === '') throw new UsageError('--trace needs a file')
  if (values.trace !== undefined && existsSync(values.trace) && statSync(values.trace).isDirectory()) throw new UsageError(`--trace ${values.trace} is a directory`)

  let log
  let recorder
  let sim
  const t0 = performance.now()
  if (source === 'replay') {
    try {
      log = readTrace(values.replay)
    } catch (e) {
      throw new CliError(`cannot replay ${values.replay}: ${e.message}`)
    }
  } else if (source === 'sim') {
    const seed = intOption(values, 'seed', DEFAULT_SIM_SEED)
    const peers = boundedInt(values, 'peers', DEFAULT_SIM_PEERS, 1, MAX_SIM_PEERS)
    const minutes = boundedInt(values, 'minutes', DEFAULT_SIM_MINUTES, 1, MAX_SIM_MINUTES)
    sim = createSim({ seed, peers, minutes })
    log = new EventLog()
    // Virtual ms, rounded to the microsecond so trace lines stay short.
    recorder = new Recorder({ log, now: () => Math.round(sim.clock.now() * 1000) / 1000 })
  } else {
    // Check the peer options before anything listens.
    networkOption({ network: values.network ?? 'mainnet' })
    peerOption(values)
    timeoutOption(values)
    log = new EventLog()
    recorder = new Recorder({ log, now: () => Math.round(performance.now() - t0) })
  }
  const stopTrace = values.trace !== undefined ? writeTrace(log, values.trace) : undefined

  const live = source === 'peer'
  const server = await startViewServer({ log, port, speed, live, origin: () => recorder?.now() ?? 0, source })
  ctx.onExit(() => {
    // Ctrl-C: a live trace still ends with its summary.
    recorder?.finish()
    stopTrace?.()
    void server.close()
  })
  console.log(`view: ${server.url}`)

  if (source === 'replay') {
    console.log(`view: replaying ${values.replay} (${log.events.length} events)`)
  } else if (source === 'sim') {
    const tip = await runSim(sim, recorder)
    const s = log.events.at(-1)
    console.log(`view: simulation done: ${log.events.length} events, tip ${tip.height} ${hashToHex(tip.hash)}, ${s.reorgs} reorgs`)
    if (values.trace !== undefined) console.log(`view: trace written to ${values.trace}`)
  } else {
    await attach(ctx, values, recorder)
  }
  // Serve until Ctrl-C.
  await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
  return 0
}

/** Connect to --peer, with the recorder following its frames, and run HeaderSync and MempoolMonitor on it. */
async function attach(ctx, values, recorder) {
  const opts = { ...values, network: values.network ?? 'mainnet' }
  const network = networkOption(opts)
  const addr = peerOption(opts)
  const timeoutMs = timeoutOption(opts)
  recorder.start({ source: 'peer', network: network.name, address: formatPeerAddress(addr) })
  const { peer, clock, lost } = await connect(ctx, opts, {
    connector: new TcpConnector({ connectTimeoutMs: timeoutMs }),
    setup: (p) => {
      recorder.watch(p)
      p.once('ready', () => recorder.addPeer(p))
    },
  })
  console.log(`view: connected to ${peer.info.peer.userAgent} at ${formatPeerAddress(addr)}, its height ${peer.info.peer.startHeight}`)
  const source = singlePeer(peer)
  const sync = new HeaderSync({ source, network, clock })
  recorder.watchSync(sync)
  sync.on('error', (e) => console.error(`bitp2p: ${e?.message ?? e}`))
  const monitor = new MempoolMonitor({ source, clock })
  recorder.watchMempool(monitor)
  ctx.onExit(() => {
    sync.stop()
    monitor.stop()
  })
  await sync.start()
  monitor.start()
  // The page keeps showing what happened after the peer goes: report it and keep serving.
  lost.catch((e) => {
    console.error(`bitp2p: ${e.message}`)
    sync.stop()
    monitor.stop()
    recorder.finish()
  })
}
