// bitp2p demo: runs one of the two walkthroughs as a child and passes its
// output and exit code through: with --sim, demo/sim.mjs of this package (a
// simulated network; works from the published package), or the repository's
// examples/demo.mjs (a local bcoin regtest node; needs a checkout, where
// bcoin is a dev dependency).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import { CliError, EXIT_INTERRUPTED, intOption, parse, UsageError } from './common.mjs'

const DEMO = fileURLToPath(new URL('../../../examples/demo.mjs', import.meta.url))
const DEMO_SIM = fileURLToPath(new URL('../demo/sim.mjs', import.meta.url))

export const summary = 'walk through a P2P session: a local bcoin regtest node, or --sim a simulated network'
export const help = `usage: bitp2p demo [--keep] | bitp2p demo --sim [--seed N]

Without --sim: starts bcoin as a regtest node on 127.0.0.1, then connects,
syncs headers, receives a transaction and broadcasts one
(examples/demo.mjs of a repository checkout, which has bcoin as a dev
dependency; from npm, use --sim).

With --sim: the same walkthrough on an in-memory network of virtual nodes
in virtual time (demo/sim.mjs of this package; no bcoin, no sockets). A seed gives
the same output and the same trace hash on every run, apart from the
"(wall ...)" figures.

  --keep       after the tour, keep the bcoin node running and print the
               bitp2p commands to try against it (Ctrl-C stops it)
  --sim        simulate the network instead of starting bcoin
  --seed <N>   the simulation's seed, an integer below 2^32 (default 1; needs --sim)
  -h, --help   this help`

export async function run(argv, ctx) {
  const { values } = parse(argv, { sim: { type: 'boolean' }, seed: { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } })
  if (values.help) return void console.log(help)
  if (values.seed !== undefined && !values.sim) throw new UsageError('--seed needs --sim')
  if (values.keep && values.sim) throw new UsageError('--keep is for the bcoin node; the simulation has nothing to keep')
  if (!values.sim && !existsSync(DEMO)) {
    throw new CliError("the regtest demo runs from a checkout of the bitp2p repository (it starts bcoin, a dev dependency there); here, try 'bitp2p demo --sim'")
  }
  const seed = intOption(values, 'seed', undefined)
  if (seed !== undefined && seed > 0xffffffff) throw new UsageError(`--seed must be below 2^32, got ${seed}`)
  const args = values.sim ? [DEMO_SIM, ...(seed !== undefined ? ['--seed', String(seed)] : [])] : [DEMO, ...(values.keep ? ['--keep'] : [])]
  const child = spawn(process.execPath, args, { stdio: 'inherit' })
  // With --keep, Ctrl-C is the normal end: the demo stops its node and exits 0.
  if (values.keep) ctx.onInterrupt(() => child.kill('SIGINT'))
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
