/**
 * Entry point of the `bitp2p-bridge` executable: process plumbing only
 * (argv, stdout, signals, exit code). Everything else is in cli.ts.
 */
/// <reference types="node" />
import { runCli } from './cli.js'

const { code, bridge } = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  env: process.env,
})
if (bridge === undefined) {
  process.exitCode = code
} else {
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    void bridge.close().then(() => {
      process.exitCode = 0
    })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
