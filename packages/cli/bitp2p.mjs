#!/usr/bin/env node
// bitp2p: the command-line tool of the bitp2p SDK.
//
//   bitp2p <command> [options]      bitp2p <command> --help      bitp2p --version
//
// Exit codes: 0 done, 1 failed at run time (e.g. unreachable peer),
// 2 bad command line, 130 interrupted (Ctrl-C).
import { readFileSync } from 'node:fs'
import { CliError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, UsageError } from './commands/errors.mjs'

/** This package's version (the CLI's package.json ships with it). */
const VERSION = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')).version

/** The commands, each a module exporting `summary`, `help` and `run(argv, ctx)`. */
const COMMANDS = {
  demo: () => import('./commands/demo.mjs'),
  headers: () => import('./commands/headers.mjs'),
  mempool: () => import('./commands/mempool.mjs'),
  block: () => import('./commands/block.mjs'),
  broadcast: () => import('./commands/broadcast.mjs'),
  crawl: () => import('./commands/crawl.mjs'),
  watch: () => import('./commands/watch.mjs'),
  index: () => import('./commands/index.mjs'),
  'index-worker': () => import('./commands/index-worker.mjs'),
  bridge: () => import('./commands/bridge.mjs'),
  view: () => import('./commands/view.mjs'),
}

/** How long the exit hooks may take to close connections (after Ctrl-C too) before the process goes anyway. */
const INTERRUPT_GRACE_MS = 1_000

/**
 * Errors of the SDK whose message says it all: reported as one line. Any
 * other non-CliError is a bug and keeps its stack.
 */
const SDK_ERRORS = new Set(['PeerError', 'RequestError', 'TransportError', 'WireError', 'BlockFetchError', 'PeerAddressError', 'WatcherError', 'LightStateError', 'LightStoreError', 'JetStreamAdapterError'])

async function usage() {
  const lines = ['usage: bitp2p <command> [options]', '', 'commands:']
  for (const [name, load] of Object.entries(COMMANDS)) {
    let summary
    try {
      summary = (await load()).summary
    } catch {
      continue // a command whose module is missing or broken is left out of the list
    }
    lines.push(`  ${name.padEnd(12)} ${summary}`)
  }
  lines.push('', "run 'bitp2p <command> --help' for a command's options, 'bitp2p --version' for the version")
  return lines.join('\n')
}

/**
 * What a command gets: `signal`, aborted by Ctrl-C; `onExit(fn)`, cleanup
 * run when the command ends or is interrupted (fn may return a promise, e.g.
 * a connection's close); `onInterrupt(fn)`, for a command that handles
 * Ctrl-C itself (a server that stops on it): fn runs instead of the abort,
 * and a second Ctrl-C still exits at once with 130.
 */
function context() {
  const controller = new AbortController()
  const hooks = []
  let interruptHandler
  const runHooks = () => {
    const pending = []
    for (const fn of hooks.splice(0)) {
      try {
        pending.push(fn())
      } catch {
        // closing is best effort on the way out
      }
    }
    // Bounded: a close that never completes must not keep the process alive.
    const cap = new Promise((resolve) => setTimeout(resolve, INTERRUPT_GRACE_MS).unref())
    return Promise.race([Promise.allSettled(pending), cap])
  }
  const onSigint = () => {
    if (interruptHandler) {
      const handler = interruptHandler
      interruptHandler = undefined
      process.once('SIGINT', onSigint) // the next Ctrl-C is the forceful one
      handler()
      return
    }
    process.stderr.write('bitp2p: interrupted\n')
    process.exitCode = EXIT_INTERRUPTED // also if the event loop empties first
    controller.abort(new CliError('interrupted', EXIT_INTERRUPTED))
    // Let the connections send their close, then go.
    void runHooks().then(() => process.exit(EXIT_INTERRUPTED))
  }
  process.once('SIGINT', onSigint)
  return {
    signal: controller.signal,
    onExit: (fn) => hooks.push(fn),
    onInterrupt: (fn) => (interruptHandler = fn),
    runHooks,
  }
}

/**
 * The message for a command whose SDK modules are missing: in a checkout
 * that was never built, '@bitp2p/session' resolves to a dist/ that isn't
 * there; in a broken install, a package is absent. Undefined for any other
 * failure.
 */
function notBuilt(e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') return undefined
  const missing = /Cannot find (?:module|package) '([^']+)'/.exec(String(e.message))?.[1] ?? String(e.message)
  // A published package always has its dist/; one without it is a workspace
  // package (reached through node_modules/@bitp2p/<name> or packages/<name>).
  if (/[\\/](?:packages|@bitp2p)[\\/][\w-]+[\\/]dist[\\/]/.test(missing)) {
    return `the bitp2p packages are not built (${missing} is missing): run 'npm run build' at the repository root first`
  }
  return `a module the command needs is missing (${missing}): reinstall bitp2p ('npm install bitp2p')`
}

/** Resolves with the exit code; never resolves once interrupted (the SIGINT handler exits). */
async function main(argv) {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${await usage()}\n`)
    return name === undefined ? EXIT_USAGE : 0
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`bitp2p ${VERSION}\n`)
    return 0
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!load) throw new UsageError(`unknown command '${name}'`)
  let cmd
  try {
    cmd = await load()
  } catch (e) {
    throw new CliError(notBuilt(e) ?? `command '${name}' is not available: ${e?.message ?? e}`)
  }
  const ctx = context()
  const interrupted = () => new Promise(() => {}) // the SIGINT handler closes and exits
  let code
  try {
    code = (await cmd.run(rest, ctx)) ?? 0
  } catch (e) {
    // Whatever a command throws after Ctrl-C is the interruption itself.
    if (ctx.signal.aborted) return interrupted()
    await ctx.runHooks()
    throw e
  }
  if (ctx.signal.aborted) return interrupted()
  await ctx.runHooks()
  return code
}

const argv = process.argv.slice(2)
main(argv).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof CliError) {
      // One hint, pointing at the help that explains the mistake: the command's own when there is one.
      const command = argv[0] !== undefined && Object.hasOwn(COMMANDS, argv[0]) ? `${argv[0]} ` : ''
      const hint = e.code === EXIT_USAGE ? ` (see 'bitp2p ${command}--help')` : ''
      process.stderr.write(`bitp2p: ${e.message}${hint}\n`)
      process.exit(e.code)
    }
    const known = SDK_ERRORS.has(e?.name)
    process.stderr.write(`bitp2p: ${known ? e.message : (e?.stack ?? e)}\n`)
    process.exit(EXIT_FAILURE)
  },
)
