// bitp2p bridge: the WebSocket-to-TCP bridge of @bitp2p/bridge, whose own
// command (bitp2p-bridge, as the function `runCli`) does the work in this
// process; every option is passed through. Ctrl-C is the bridge's normal
// stop: it closes its connections and the command exits with the bridge's
// code (0), not 130.
import { CliError } from './common.mjs'

const BRIDGE_MODULE = '@bitp2p/bridge'

export const summary = 'run the WebSocket-to-TCP bridge for browser and edge clients (bitp2p-bridge)'
export const help = `usage: bitp2p bridge [bitp2p-bridge options]

Runs the bitp2p-bridge command of @bitp2p/bridge; 'bitp2p bridge --help'
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

export async function run(argv, ctx) {
  const mod = await loadBridge()
  return runInProcess(mod.runCli, argv, ctx)
}
