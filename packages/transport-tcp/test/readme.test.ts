// The root README's quick start, run as written: the first ```ts block under
// "## Quick start" is taken from README.md, pointed at a bcoin regtest node on
// 127.0.0.1 (its one `port: 18444` becomes bcoin's port), and run by Node
// against the built packages. It must print bcoin's tip and then a
// transaction bcoin's wallet sends while it runs.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until } from './helpers.js'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { scaled } from '../../../test/harness/timing.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const README = readFileSync(new URL('README.md', `file://${ROOT}`), 'utf8')
const BUILT = ['wire', 'session', 'transport-tcp'].every((p) => existsSync(`${ROOT}packages/${p}/dist/index.js`))
/** Blocks bcoin mines first (past coinbase maturity, so its wallet can pay). */
const START_BLOCKS = 110
/** How long the quick start may take to print each line: Node, the built SDK, a handshake and a sync of START_BLOCKS headers, or a relayed tx (about 0.3 s on an idle machine). */
const PRINT_WAIT_MS = scaled(20_000)

/** The code of the first ```ts block after `heading`. */
function codeBlockAfter(markdown: string, heading: string): string {
  const at = markdown.indexOf(`\n${heading}\n`)
  if (at < 0) throw new Error(`README has no '${heading}' section`)
  const m = /```ts\n([\s\S]*?)```/.exec(markdown.slice(at))
  if (!m) throw new Error(`no ts code block under '${heading}'`)
  return m[1]!
}

needs('bcoin').describe.skipIf(!BUILT)('README quick start (needs `npx turbo run build`)', () => {
  let node: BcoinNode

  beforeAll(async () => {
    node = await startBcoin({ mine: START_BLOCKS, wallet: true, invMs: 50 })
  }, bcoinBudget(START_BLOCKS))
  afterAll(async () => {
    await node?.stop()
  })

  it('connects, syncs to bcoin\'s tip and prints a transaction the node relays', async () => {
    const code = codeBlockAfter(README, '## Quick start')
    // The snippet is plain JavaScript as written; only the port changes.
    expect(code.match(/port: 18444/g)).toHaveLength(1)
    const source = code.replace('port: 18444', `port: ${node.p2p.port}`)

    const child = spawn(process.execPath, ['--input-type=module', '-'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const exited = new Promise<number | null>((r) => child.once('close', r))
    child.stdin.end(source)
    /** Waits for `line` in the output; the quick start exiting first fails at once. */
    const printed = (line: string): Promise<void> =>
      until(
        () => {
          if (child.exitCode !== null) throw new Error(`quick start exited (${child.exitCode}) before printing '${line}': ${stderr}`)
          return stdout.includes(line)
        },
        () => `'${line}'; stdout: ${stdout}; stderr: ${stderr}`,
        PRINT_WAIT_MS,
      )
    try {
      const best: string = await node.rpc('getbestblockhash')
      await printed(`tip ${START_BLOCKS} ${best}`)
      // bcoin speaks v1 only: the v2 attempt is refused and the same call connects in v1.
      expect(stdout).toMatch(/^connected to \/bcoin:v?[\d.]+\/ over v1 rtt [\d.]+ ms$/m)

      const txid = await node.sendFromWallet(1)
      await printed(`tx ${txid}`)
      expect(stdout).toMatch(new RegExp(`^tx ${txid} \\d+ vB, first seen by 127\\.0\\.0\\.1:${node.p2p.port}$`, 'm'))
      expect(stderr).toBe('')
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  }, 3 * PRINT_WAIT_MS)
})
