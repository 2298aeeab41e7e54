// bitp2p demo: runs one of the two walkthrough examples as a child and passes
// its output and exit code through: examples/demo.mjs (a local bcoin regtest
// node) or, with --sim, examples/demo-sim.mjs (a simulated network).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { EXIT_INTERRUPTED, intOption, parse, UsageError } from './common.mjs'

const DEMO = fileURLToPath(new URL('../../examples/demo.mjs', import.meta.url))
const DEMO_SIM = fileURLToPath(new URL('../../examples/demo-sim.mjs', import.meta.url))

export const summary = 'walk through a P2P session: a local bcoin regtest node, or --sim a simulated network'
export const help = `usage: bitp2p demo [--sim [--seed N]]

Without --sim: starts bcoin as a regtest node on 127.0.0.1, then connects,
syncs headers, receives a transaction and broadcasts one
(examples/demo.mjs; needs the bcoin dev dependency).

With --sim: the same walkthrough on an in-memory network of virtual nodes
in virtual time (examples/demo-sim.mjs; no bcoin, no sockets). A seed gives
the same output and the same trace hash on every run, apart from the
"(wall ...)" figures.

  --sim        simulate the network instead of starting bcoin
  --seed <N>   the simulation's seed, an integer below 2^32 (default 1; needs --sim)
  -h, --help   this help`

export async function run(argv, ctx) {
  const { values } = parse(argv, { sim: { type: 'boolean' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
  if (values.help) return void console.log(help)
  if (values.seed !== undefined && !values.sim) throw new UsageError('--seed needs --sim')
  const seed = intOption(values, 'seed', undefined)
  if (seed !== undefined && seed > 0xffffffff) throw new UsageError(`--seed must be below 2^32, got ${seed}`)
  const args = values.sim ? [DEMO_SIM, ...(seed !== undefined ? ['--seed', String(seed)] : [])] : [DEMO]
  const child = spawn(process.execPath, args, { stdio: 'inherit' })
  // Ctrl-C: pass it on and wait (within the CLI's grace period) for the demo
  // to stop its bcoin node, rather than exiting while it still runs.
  ctx.onExit(() => {
    if (child.exitCode !== null || child.signalCode !== null) return undefined
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGINT')
    return exited
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve(code ?? (signal ? EXIT_INTERRUPTED : 1)))
  })
}
