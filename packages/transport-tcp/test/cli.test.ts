// The bitp2p command-line tool (cli/bitp2p.mjs, on the built packages), run
// as a user would run it: a child process against a bcoin regtest node on
// 127.0.0.1, checked by its output and exit code.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { createSignedTx } from '../../../test/interop/node.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = join(ROOT, 'cli/bitp2p.mjs')
const DISTS = ['wire', 'session', 'transport-tcp'].map((p) => join(ROOT, `packages/${p}/dist/index.js`))
/** Blocks bcoin mines at start (past coinbase maturity, so its wallet can pay). */
const START_BLOCKS = 300
/** How long one CLI run may take before it is killed. */
const RUN_TIMEOUT_MS = 15_000

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** A running CLI child; `output` resolves when it exits. */
function start(args: readonly string[]): { child: ReturnType<typeof spawn>; stdout: () => string; stderr: () => string; output: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s))
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
  const output = new Promise<Run>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
  return { child, stdout: () => stdout, stderr: () => stderr, output }
}

const cli = (...args: string[]): Promise<Run> => start(args).output

/** Polls `cond` every 20 ms until true; throws after `ms`. */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A 127.0.0.1 port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}

let node: BcoinNode
let peerArgs: string[]
let storeDir: string

describe.skipIf(!DISTS.every(existsSync))('bitp2p CLI (needs `npx turbo run build`)', () => {
  beforeAll(async () => {
    node = await startBcoin({ mine: START_BLOCKS, wallet: true, invMs: 50 })
    peerArgs = ['--network', 'regtest', '--peer', `127.0.0.1:${node.p2p.port}`]
    storeDir = mkdtempSync(join(tmpdir(), 'bitp2p-cli-'))
  }, 60_000)
  afterAll(async () => {
    await node?.stop()
    if (storeDir) rmSync(storeDir, { recursive: true, force: true })
  })

  it('--help lists every command; a command --help shows its options', async () => {
    const r = await cli('--help')
    expect(r.code).toBe(0)
    for (const c of ['demo', 'headers', 'mempool', 'block', 'broadcast']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'))
    const h = await cli('headers', '--help')
    expect(h.code).toBe(0)
    expect(h.stdout).toContain('--store <dir>')
  })

  it('bad arguments exit 2 with one line on stderr', async () => {
    const cases = [
      ['frobnicate'],
      ['headers', '--bogus'],
      ['headers', '--network', 'nonet', '--peer', '127.0.0.1:1'],
      ['headers', '--network', 'regtest'],
      ['mempool', '--network', 'regtest', '--peer', '127.0.0.1:1', '--count', 'many'],
      ['block', 'not-a-hash', '--network', 'regtest', '--peer', '127.0.0.1:1'],
      ['broadcast', 'abc', '--network', 'regtest', '--peer', '127.0.0.1:1'],
    ]
    const runs = await Promise.all(cases.map((c) => cli(...c)))
    runs.forEach((r, i) => {
      expect(r.code, cases[i]!.join(' ')).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trimEnd().split('\n'), cases[i]!.join(' ')).toHaveLength(1)
      expect(r.stderr).toMatch(/^bitp2p: /)
    })
    expect(runs[0]!.stderr).toContain("unknown command 'frobnicate'")
    expect(runs[2]!.stderr).toContain("unknown network 'nonet'")
    expect(runs[3]!.stderr).toContain('--peer host:port is required')
  })

  it('an unreachable peer exits 1 naming it', async () => {
    const port = await closedPort()
    const r = await cli('headers', '--network', 'regtest', '--peer', `127.0.0.1:${port}`)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`cannot connect to 127.0.0.1:${port}`)
    expect(r.stderr).toContain('ECONNREFUSED')
  })

  it("headers syncs to bcoin's tip; with --store a second run resumes", { timeout: 20_000 }, async () => {
    const best: string = await node.rpc('getbestblockhash')
    const first = await cli('headers', ...peerArgs, '--store', storeDir)
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(new RegExp(`^height ${START_BLOCKS}/${START_BLOCKS} \\(100%\\), \\d+ headers/s, ETA 0s$`, 'm'))
    expect(first.stdout).toContain(`tip ${best} at height ${START_BLOCKS}`)
    expect(first.stdout).not.toContain('resumed')

    const second = await cli('headers', ...peerArgs, '--store', storeDir)
    expect(second.code).toBe(0)
    expect(second.stdout).toContain(`resumed at height ${START_BLOCKS}`)
    expect(second.stdout).toContain(`tip ${best} at height ${START_BLOCKS}`)
  })

  it('mempool --json --count 1 prints the tx bcoin sends while it runs', async () => {
    const run = start(['mempool', ...peerArgs, '--json', '--count', '1'])
    await until(() => run.stderr().includes('connected to'), 'the CLI to connect')
    const sent = await node.sendFromWallet(1)
    const r = await run.output
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    const row = JSON.parse(lines[0]!)
    expect(row.txid).toBe(sent)
    expect(row.firstSeenBy).toBe(`127.0.0.1:${node.p2p.port}`)
    const entry = await node.rpc('getmempoolentry', [sent])
    expect(row.vsize).toBe(entry.size)
  })

  it('SIGINT closes the connection and exits 130', async () => {
    const run = start(['mempool', ...peerArgs])
    await until(() => run.stdout().includes('connected to'), 'the CLI to connect')
    run.child.kill('SIGINT')
    const r = await run.output
    expect(r.code).toBe(130)
    expect(r.stderr).toContain('interrupted')
  })

  it("block <height> streams the block and reports rpc getblock's tx count", async () => {
    await node.sendFromWallet(1)
    const [hash] = await node.mine(1)
    const height: number = await node.rpc('getblockcount', [])
    const expected = await node.rpc('getblock', [hash, true, false])
    expect(expected.tx.length).toBeGreaterThanOrEqual(2)
    const r = await cli('block', String(height), ...peerArgs)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^chunk 0: bytes 0\.\.\d+, \d+ tx\(s\) completed$/m)
    expect(r.stdout).toContain(`block ${hash} at height ${height}: ${expected.tx.length} txs,`)
    expect(r.stdout).toContain(`merkle root ${expected.merkleroot} verified`)
  })

  it('broadcast of a wallet-signed unsent tx: bcoin fetches it and takes it into its mempool', async () => {
    const signed = await createSignedTx(node, 10_000_000)
    expect(await node.mempool()).not.toContain(signed.txid)
    const r = await cli('broadcast', signed.hex, ...peerArgs, '--settle', '500')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const me = `127.0.0.1:${node.p2p.port}`
    expect(r.stdout).toContain(`txid ${signed.txid}`)
    expect(r.stdout).toMatch(new RegExp(`^fetchedBy: .*${me.replace(/\./g, '\\.')}`, 'm'))
    expect(r.stdout).toMatch(/^outcome: (fetched|propagated)$/m)
    await until(async () => (await node.mempool()).includes(signed.txid), 'the tx in bcoin\'s mempool', 5_000)
  })
})
