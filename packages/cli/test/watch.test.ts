// `bitp2p watch` (packages/cli/bitp2p.mjs on the built packages) run as a user
// would: a child process against btcd 0.25.0 on 127.0.0.1, checked by its
// output and exit code. btcd mines to the interop key; its `interopspend`
// pays that key's P2PKH address, which nothing else pays: the watched one.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { fromHex, regtest } from '@bitp2p/wire'
import { scriptToAddress } from '@bitp2p/light'
import { btcdBudget, SEGWIT_HEIGHT, startBtcd, type BtcdNode } from '../../../test/harness/btcd.js'
import { needs } from '../../../test/harness/needs.js'
import { forWork, scaled } from '../../../test/harness/timing.js'
import { waitUntil } from '../../../test/interop/util.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = join(ROOT, 'packages/cli/bitp2p.mjs')
const DISTS = ['wire', 'session', 'transport-tcp', 'light'].map((p) => join(ROOT, `packages/${p}/dist/index.js`))
/** Blocks btcd mines at start: past segwit, so interopspend's P2WPKH spends are valid. */
const START_BLOCKS = SEGWIT_HEIGHT + 8
/** Budget of one CLI run: Node's start-up, the built SDK, a handshake, ~450 headers, filter headers and filters. */
const CLI_RUN_BUDGET_MS = 15_000
const WAIT_MS = scaled(30_000)

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function start(args: readonly string[], script: readonly string[] = [CLI]) {
  const child = spawn(process.execPath, [...script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  const timer = setTimeout(() => child.kill('SIGKILL'), forWork(1, CLI_RUN_BUDGET_MS))
  const output = new Promise<Run>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { child, stdout: () => stdout, stderr: () => stderr, output }
}

let node: BtcdNode
let peerArgs: string[]
let watched: string
let paid: { txid: string; height: number; block: string }
let storeDir: string

needs('btcd').describe.skipIf(!DISTS.every(existsSync))('bitp2p watch against btcd (needs `npx turbo run build`)', () => {
  beforeAll(async () => {
    node = await startBtcd({ mine: START_BLOCKS })
    peerArgs = ['--network', 'regtest', '--peer', `127.0.0.1:${node.p2p.port}`, '--transport', 'v1']
    watched = scriptToAddress(fromHex(`76a914${node.info.mineKeyHash}88ac`), regtest)!
    const spend = await node.spend(await node.coinbase(1))
    const [block] = await node.generate(1)
    paid = { txid: spend.txid, height: START_BLOCKS + 1, block: block! }
    await node.generate(5)
    storeDir = mkdtempSync(join(tmpdir(), 'bitp2p-watch-'))
  }, btcdBudget(START_BLOCKS + 10) + scaled(10_000))
  afterAll(async () => {
    await node?.stop()
    if (storeDir) rmSync(storeDir, { recursive: true, force: true })
  })

  it('--json: one line per transaction found (txid, height, block, outputs with values), exit 0 when caught up', { timeout: forWork(2, CLI_RUN_BUDGET_MS) }, async () => {
    const r = await start(['watch', watched, ...peerArgs, '--json']).output
    expect(r.stderr).toMatch(/caught up at height 446/)
    expect(r.code, r.stderr).toBe(0)
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ type: 'tx', txid: paid.txid, height: paid.height, blockHash: paid.block, inputs: [] })
    expect(rows[0].outputs).toHaveLength(1)
    expect(rows[0].outputs[0]).toMatchObject({ address: watched })
    expect(rows[0].outputs[0].value).toBeGreaterThan(0)
  })

  it('text, with --store: one line naming the tx; a second run resumes from the store and prints only what is new', { timeout: forWork(3, CLI_RUN_BUDGET_MS) }, async () => {
    const r = await start(['watch', watched, ...peerArgs, '--store', storeDir]).output
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.split('\n').filter((l) => l.startsWith(paid.txid))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`height ${paid.height}`)
    expect(lines[0]).toContain(`to ${watched}`)
    expect(r.stdout).toMatch(/1 transaction, \d+ sat unspent/)
    const again = await start(['watch', watched, ...peerArgs, '--store', storeDir]).output
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/resumed: 1 transaction found before, scanned up to height 446/)
    expect(again.stdout.split('\n').filter((l) => l.startsWith(paid.txid))).toEqual([])
    expect(again.stdout).toMatch(/caught up at height 446 .*: 1 transaction, \d+ sat unspent/)
  })

  it('--from-height after the payment finds nothing', { timeout: forWork(2, CLI_RUN_BUDGET_MS) }, async () => {
    const r = await start(['watch', watched, ...peerArgs, '--from-height', String(paid.height + 1)]).output
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).not.toContain(paid.txid)
    expect(r.stdout).toMatch(/0 transactions/)
  })

  it('--follow: after catching up, a new block paying the address is printed; Ctrl-C exits 130', { timeout: forWork(2, CLI_RUN_BUDGET_MS) + WAIT_MS }, async () => {
    const run = start(['watch', watched, ...peerArgs, '--json', '--follow'])
    await waitUntil(() => run.stderr().includes('following new blocks'), 'the watcher following', WAIT_MS)
    const spend = await node.spend(await node.coinbase(2))
    await node.generate(1)
    await waitUntil(() => run.stdout().includes(spend.txid), 'the new payment printed', WAIT_MS)
    run.child.kill('SIGINT')
    const r = await run.output
    expect(r.code).toBe(130)
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(rows.map((x) => x.txid)).toEqual([paid.txid, spend.txid])
  })

  it('examples/watch-addresses.mjs prints the transaction and exits 0 when caught up', { timeout: forWork(2, CLI_RUN_BUDGET_MS) }, async () => {
    const r = await start([], ['examples/watch-addresses.mjs', watched, '--peer', `127.0.0.1:${node.p2p.port}`]).output
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`tx ${paid.txid} in block ${paid.height}: +`)
    expect(r.stdout).toContain(`sat to ${watched}`)
    expect(r.stdout).toMatch(/caught up at height \d+: \d+ transaction\(s\)/)
  })

  it('a bad address is a usage error (exit 2) before any connection', async () => {
    const r = await start(['watch', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', ...peerArgs]).output
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/WRONG_NETWORK/)
  })
})
