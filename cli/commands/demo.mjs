// bitp2p demo: runs examples/demo.mjs (bcoin regtest walkthrough) as a child
// and passes its output and exit code through.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parse } from './common.mjs'

const DEMO = fileURLToPath(new URL('../../examples/demo.mjs', import.meta.url))

export const summary = 'start a local bcoin regtest node and walk through a P2P session'
export const help = `usage: bitp2p demo

Starts bcoin as a regtest node on 127.0.0.1, then connects, syncs headers,
receives a transaction and broadcasts one (examples/demo.mjs).

  -h, --help   this help`

export async function run(argv, ctx) {
  const { values } = parse(argv, { help: { type: 'boolean', short: 'h' } })
  if (values.help) return void console.log(help)
  const child = spawn(process.execPath, [DEMO], { stdio: 'inherit' })
  ctx.onExit(() => child.kill('SIGINT'))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 2 : 1)))
  })
}
