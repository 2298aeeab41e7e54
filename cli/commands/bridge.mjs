// bitp2p bridge: the WebSocket-to-TCP bridge of @bitp2p/transport-ws, whose
// own command (bitp2p-bridge) does the work; every option is passed through.
//
// When '@bitp2p/transport-ws/bridge' exports `runCli` (the bitp2p-bridge
// command as a function) the bridge runs in this process; until then its
// built executable (dist/bin.js) runs as a child with this process's stdio.
// Either way Ctrl-C is the bridge's normal stop: it closes its connections
// and the command exits with the bridge's code (0), not 130.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CliError, EXIT_INTERRUPTED } from './common.mjs'

const BRIDGE_MODULE = '@bitp2p/transport-ws/bridge'

export const summary = 'run the WebSocket-to-TCP bridge for browser and edge clients (bitp2p-bridge)'
export const help = `usage: bitp2p bridge [bitp2p-bridge options]

Runs the bitp2p-bridge command of @bitp2p/transport-ws; 'bitp2p bridge --help'
prints its options. Stop it with Ctrl-C.`

/** The bridge module, or a CliError saying how to get it. */
async function loadBridge() {
  try {
    return await import(BRIDGE_MODULE)
  } catch (e) {
    throw new CliError(`cannot load ${BRIDGE_MODULE} (${e.message}); build it with 'npx turbo run build'`)
  }
}

/** In this process, through runCli(argv, io). */
async function runInProcess(runCli, argv, ctx) {
  const { code, bridge } = await runCli(argv, {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  })
  if (bridge === undefined) return code
  return new Promise((resolve) => {
    const stop = () => bridge.close().then(() => resolve(0), () => resolve(1))
    ctx.onInterrupt(stop)
    process.once('SIGTERM', stop)
  })
}

/** As a child: the built bitp2p-bridge executable next to the bridge module. */
function runChild(argv, ctx) {
  const bin = fileURLToPath(new URL('./bin.js', import.meta.resolve(BRIDGE_MODULE)))
  if (!existsSync(bin)) throw new CliError(`${bin} is missing; build it with 'npx turbo run build'`)
  const child = spawn(process.execPath, [bin, ...argv], { stdio: 'inherit' })
  // The child stops on SIGINT/SIGTERM by itself; pass ours on.
  const forward = (signal) => () => child.kill(signal)
  ctx.onInterrupt(forward('SIGINT'))
  process.once('SIGTERM', forward('SIGTERM'))
  ctx.onExit(() => child.exitCode === null && child.kill('SIGTERM'))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve(code ?? (signal ? EXIT_INTERRUPTED : 1)))
  })
}

export async function run(argv, ctx) {
  const mod = await loadBridge()
  return typeof mod.runCli === 'function' ? runInProcess(mod.runCli, argv, ctx) : runChild(argv, ctx)
}
