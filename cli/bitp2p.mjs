#!/usr/bin/env node
// bitp2p: the command-line tool of the bitp2p SDK.
//
//   bitp2p <command> [options]      bitp2p <command> --help
//
// Exit codes: 0 done, 1 failed at run time (e.g. unreachable peer),
// 2 bad command line, 130 interrupted (Ctrl-C).
import { CliError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, UsageError } from './commands/common.mjs'

/** The commands, each a module exporting `summary`, `help` and `run(argv, ctx)`. */
const COMMANDS = {
  demo: () => import('./commands/demo.mjs'),
  headers: () => import('./commands/headers.mjs'),
  mempool: () => import('./commands/mempool.mjs'),
  block: () => import('./commands/block.mjs'),
  broadcast: () => import('./commands/broadcast.mjs'),
  crawl: () => import('./commands/crawl.mjs'),
  bridge: () => import('./commands/bridge.mjs'),
  view: () => import('./commands/view.mjs'),
}

async function usage() {
  const lines = ['usage: bitp2p <command> [options]', '', 'commands:']
  for (const [name, load] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${(await load()).summary}`)
  lines.push('', "run 'bitp2p <command> --help' for a command's options")
  return lines.join('\n')
}

/** What a command gets: an abort signal fired by Ctrl-C and exit hooks that close its connections. */
function context() {
  const controller = new AbortController()
  const hooks = []
  const runHooks = () => {
    for (const fn of hooks.splice(0)) {
      try {
        fn()
      } catch {
        // closing is best effort on the way out
      }
    }
  }
  process.once('SIGINT', () => {
    controller.abort(new CliError('interrupted', EXIT_INTERRUPTED))
    runHooks()
    process.stderr.write('bitp2p: interrupted\n')
    // Give the sockets a moment to flush their close, then go.
    setTimeout(() => process.exit(EXIT_INTERRUPTED), 50)
  })
  return { signal: controller.signal, onExit: (fn) => hooks.push(fn), runHooks }
}

async function main(argv) {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${await usage()}\n`)
    return name === undefined ? EXIT_USAGE : 0
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!load) throw new UsageError(`unknown command '${name}' (run 'bitp2p --help')`)
  const cmd = await load()
  const ctx = context()
  try {
    return (await cmd.run(rest, ctx)) ?? 0
  } finally {
    ctx.runHooks()
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof CliError) {
      const hint = e.code === EXIT_USAGE ? " (see 'bitp2p --help')" : ''
      process.stderr.write(`bitp2p: ${e.message}${hint}\n`)
      process.exit(e.code)
    }
    process.stderr.write(`bitp2p: ${e?.stack ?? e}\n`)
    process.exit(EXIT_FAILURE)
  },
)
