// The bitp2p command-line tool (packages/cli/bitp2p.mjs, on the built packages), run
// as a user would run it: a child process against bcoin regtest nodes on
// 127.0.0.1, checked by its output and exit code. (`bitp2p demo` is run by
// demo.test.ts.)
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { WebSocket as NodeWebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until } from '../../../test/harness/wait.js'
import { Peer, RealtimeClock } from '@bitp2p/session'
import { hashToHex, regtest } from '@bitp2p/wire'
import { TcpListener } from '@bitp2p/transport-tcp'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { forWork, scaled } from '../../../test/harness/timing.js'
import { createSignedTx, waitForWalletTx } from '../../../test/interop/node.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = join(ROOT, 'packages/cli/bitp2p.mjs')
const DISTS = ['wire', 'session', 'transport-tcp', 'transport-ws', 'bridge'].map((p) => join(ROOT, `packages/${p}/dist/index.js`))
const WS_DIST = join(ROOT, 'packages/transport-ws/dist/index.js')
/** Blocks bcoin mines at start (past coinbase maturity, so its wallet can pay). */
const START_BLOCKS = 300
/**
 * Budget of one CLI run: Node's start-up, the built SDK, a handshake with
 * bcoin and a little work (0.2 to 0.5 s of CPU on an idle machine). Runs
 * started together share the cores, so n of them get n budgets: a CLI run is
 * killed after forWork(n, CLI_RUN_BUDGET_MS), and a test gets one budget more
 * than the runs it makes.
 */
const CLI_RUN_BUDGET_MS = 5_000
/** Budget of bcoin's side of a test: wallet payments, a mined block, RPC calls, a CLI waiting on them (well under a second on an idle machine). */
const BCOIN_WORK_BUDGET_MS = 10_000
/** The commands this file covers; `bitp2p --help` lists each. */
const COMMANDS = ['demo', 'headers', 'mempool', 'block', 'broadcast', 'crawl', 'watch', 'bridge']
/** util-linux `script` runs a command on a pseudo-terminal (for the progress bar). */
const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

interface Running {
  child: ReturnType<typeof spawn>
  stdout: () => string
  stderr: () => string
  output: Promise<Run>
}

/** Spawn `command args` in the repository root; `output` resolves when it exits; killed after `killAfterMs`. */
function spawnRun(command: string, args: readonly string[], killAfterMs = forWork(1, CLI_RUN_BUDGET_MS)): Running {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s))
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
  const output = new Promise<Run>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
  return { child, stdout: () => stdout, stderr: () => stderr, output }
}

/** A running CLI child, one of `together` started at once, that may also wait `waitBudgetMs` for bcoin or the test. */
const start = (args: readonly string[], together = 1, waitBudgetMs = 0): Running =>
  spawnRun(process.execPath, [CLI, ...args], forWork(together, CLI_RUN_BUDGET_MS, waitBudgetMs))
const cli = (...args: string[]): Promise<Run> => start(args).output
/** CLI runs of `argvs` at once, each killed after the budget of all of them. */
const cliAll = (argvs: readonly (readonly string[])[]): Promise<Run[]> => Promise.all(argvs.map((a) => start(a, argvs.length).output))
/** The per-test timeout for `runs` CLI runs (started together or one after another) and `extraMs` more (a deadline, already scaled). */
const cliTest = (runs: number, extraMs = 0): { timeout: number } => ({ timeout: forWork(runs + 1, CLI_RUN_BUDGET_MS) + extraMs })
/** The deadline of bcoin's side of a test (BCOIN_WORK_BUDGET_MS, scaled). */
const BCOIN_WORK_MS = scaled(BCOIN_WORK_BUDGET_MS)

/** A 127.0.0.1 port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}

/** Command lines that must be refused with exit code 2 (checked by index below). */
const BAD_ARGUMENTS: readonly (readonly string[])[] = [
  ['frobnicate'],
  ['headers', '--bogus'],
  ['headers', '--network', 'nonet', '--peer', '127.0.0.1:1'],
  ['headers', '--network', 'regtest'],
  ['headers', '--network', 'regtest', '--peer', '127.0.0.1'],
  ['mempool', '--network', 'regtest', '--peer', '127.0.0.1:1', '--count', 'many'],
  ['block', 'not-a-hash', '--network', 'regtest', '--peer', '127.0.0.1:1'],
  ['broadcast', 'abc', '--network', 'regtest', '--peer', '127.0.0.1:1'],
  ['crawl', '--network', 'regtest'],
  ['crawl', '--seed', 'nowhere'],
  ['crawl', '--seed', '127.0.0.1:1', '--concurrency', '0'],
  ['demo', '--seed', '3'],
  ['demo', '--sim', '--seed', '-1'],
  ['headers', '--network', 'regtest', '--peer', '127.0.0.1:1', '--timeout', '0'],
  ['crawl', '--network', 'regtest', '--seed', '127.0.0.1:1', '--timeout', '0'],
  ['watch', '--network', 'regtest', '--peer', '127.0.0.1:1'],
  ['watch', 'not-an-address', '--network', 'regtest', '--peer', '127.0.0.1:1'],
  ['watch', '00', '--network', 'regtest', '--peer', '127.0.0.1:1', '--from-height', '-3'],
  ['headers', '--network', 'regtest', '--peer', '::1:8333'],
  ['crawl', '--seed', '127.0.0.1:0'],
]

/** The stack-frame lines of an error print ("    at f (file:...)"): never shown for a known failure. */
const STACK_LINE = /^\s+at /m

let node: BcoinNode
let peerArgs: string[]
let storeDir: string

/** Peers bcoin has connected now. */
const peerCount = async (): Promise<number> => (await node.rpc('getpeerinfo', [])).length

needs('bcoin').describe.skipIf(!DISTS.every(existsSync))('bitp2p CLI (needs `npx turbo run build`)', () => {
  beforeAll(async () => {
    node = await startBcoin({ mine: START_BLOCKS, wallet: true, invMs: 50 })
    peerArgs = ['--network', 'regtest', '--peer', `127.0.0.1:${node.p2p.port}`]
    storeDir = mkdtempSync(join(tmpdir(), 'bitp2p-cli-'))
  }, bcoinBudget(START_BLOCKS))
  afterAll(async () => {
    await node?.stop()
    if (storeDir) rmSync(storeDir, { recursive: true, force: true })
  })

  it('--help lists every command; each command --help shows its usage', cliTest(COMMANDS.length + 1), async () => {
    const [all, ...each] = await cliAll([['--help'], ...COMMANDS.map((c) => [c, '--help'])])
    expect(all.code).toBe(0)
    for (const c of COMMANDS) expect(all.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'))
    each.forEach((r, i) => {
      const c = COMMANDS[i]!
      expect(r.code, c).toBe(0)
      expect(r.stderr, c).toBe('')
      // bridge passes --help through to bitp2p-bridge.
      expect(r.stdout, c).toMatch(c === 'bridge' ? /^Usage: bitp2p-bridge \[options\]/ : new RegExp(`^usage: bitp2p ${c}`))
    })
    expect(each[COMMANDS.indexOf('headers')]!.stdout).toContain('--store <dir>')
    expect(each[COMMANDS.indexOf('demo')]!.stdout).toContain('--seed <N>')
    expect(each[COMMANDS.indexOf('crawl')]!.stdout).toContain('--seed host:port')
    expect(each[COMMANDS.indexOf('bridge')]!.stdout).toContain('--allow host:port')
  })

  it('bad arguments exit 2 with one line on stderr', cliTest(BAD_ARGUMENTS.length + 1), async () => {
    const cases = BAD_ARGUMENTS
    const runs = await cliAll(cases)
    runs.forEach((r, i) => {
      const what = cases[i]!.join(' ')
      expect(r.code, what).toBe(2)
      expect(r.stdout, what).toBe('')
      expect(r.stderr.trimEnd().split('\n'), what).toHaveLength(1)
      expect(r.stderr, what).toMatch(/^bitp2p: /)
    })
    const err = (i: number) => runs[i]!.stderr
    expect(err(0)).toContain("unknown command 'frobnicate'")
    expect(err(2)).toContain("unknown network 'nonet'")
    expect(err(3)).toContain('--peer host:port is required')
    // An address refused says why (parsePeerAddress's reason).
    expect(err(4)).toContain("--peer must be host:port, got '127.0.0.1' (no port)")
    expect(err(18)).toContain("--peer must be host:port, got '::1:8333' (an IPv6 address needs brackets, as in [::1]:8333)")
    expect(err(19)).toContain("--seed must be host:port, got '127.0.0.1:0' (port 0 is not in 1-65535)")
    expect(err(8)).toContain('crawl needs at least one --seed host:port')
    expect(err(9)).toContain("--seed must be host:port, got 'nowhere' (no port)")
    expect(err(10)).toContain('--concurrency must be at least 1')
    expect(err(11)).toContain('--seed needs --sim')
    // A zero deadline would expire before any peer could answer: refused before connecting.
    expect(err(13)).toContain('--timeout must be at least 1 ms, got 0')
    expect(err(14)).toContain('--timeout must be at least 1 ms, got 0')

    // bitp2p-bridge words its own usage errors (two lines), with its exit code 2.
    const bridge = await cli('bridge', '--bogus')
    expect(bridge.code).toBe(2)
    expect(bridge.stderr).toContain("bitp2p-bridge: unknown option '--bogus'")
  })

  it('an unreachable peer exits 1 naming it', async () => {
    const port = await closedPort()
    const r = await cli('headers', '--network', 'regtest', '--peer', `127.0.0.1:${port}`)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`cannot connect to 127.0.0.1:${port}`)
    expect(r.stderr).toContain('ECONNREFUSED')
    expect(r.stderr).not.toMatch(STACK_LINE)
  })

  it('a peer on another network: named from its magic bytes, exit 1, no stack trace', cliTest(3), async () => {
    const where = `127.0.0.1:${node.p2p.port}`
    const runs = await cliAll([
      ['headers', '--network', 'mainnet', '--peer', where],
      ['mempool', '--network', 'testnet4', '--peer', where],
      ['block', '1', '--network', 'signet', '--peer', where],
    ])
    runs.forEach((r, i) => {
      const net = ['mainnet', 'testnet4', 'signet'][i]!
      expect(r.code, net).toBe(1)
      expect(r.stdout, net).toBe('')
      expect(r.stderr, net).toBe(`bitp2p: ${where} is on another network, not ${net}: its messages carry another network's magic bytes: it looks like regtest (try --network regtest)\n`)
    })
  })

  it('random bytes that merely start like a network magic name no network', cliTest(1), async () => {
    // A loopback server that answers the handshake with garbage starting 0xf9 (mainnet's first magic byte).
    const sockets: Socket[] = []
    const server = createServer((s: Socket) => {
      sockets.push(s)
      s.on('error', () => {})
      s.end(Uint8Array.of(0xf9, 0x01, 0x02, 0x03, 0x04, 0x05))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const port = (server.address() as { port: number }).port
      const r = await cli('headers', '--network', 'regtest', '--peer', `127.0.0.1:${port}`)
      expect(r.code).toBe(1)
      expect(r.stderr).toBe(`bitp2p: 127.0.0.1:${port} is on another network, not regtest: its messages carry another network's magic bytes\n`)
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
    }
  })

  it("headers syncs to bcoin's tip; with --store a second run resumes; another network's store is refused", cliTest(3), async () => {
    const best: string = await node.rpc('getbestblockhash')
    const first = await cli('headers', ...peerArgs, '--store', storeDir)
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toContain(`connected to /bcoin:v1.0.2/ (protocol 70015), its height ${START_BLOCKS}`)
    // Not a terminal: plain progress lines, the last one at 100%.
    expect(first.stdout).not.toContain('\r')
    expect(first.stdout).toMatch(new RegExp(`^height ${START_BLOCKS}/${START_BLOCKS} \\(100%\\), \\d+ headers/s, ETA 0s$`, 'm'))
    expect(first.stdout).toContain(`tip ${best} at height ${START_BLOCKS}`)
    expect(first.stdout).not.toContain('resumed')

    const [second, otherNet] = await cliAll([
      ['headers', ...peerArgs, '--store', storeDir],
      ['headers', '--network', 'testnet4', '--peer', `127.0.0.1:${node.p2p.port}`, '--store', storeDir],
    ])
    expect(second.code).toBe(0)
    expect(second.stdout).toContain(`resumed at height ${START_BLOCKS}`)
    expect(second.stdout).toContain(`tip ${best} at height ${START_BLOCKS}`)
    expect(second.stdout).not.toMatch(/^height /m) // nothing new to fetch
    expect(otherNet.code).toBe(1)
    expect(otherNet.stderr).toBe(`bitp2p: --store ${storeDir} holds headers of another network (genesis ${hashToHex(regtest.genesisHash)}), not testnet4\n`)
  })

  it.skipIf(!HAS_SCRIPT)('headers on a terminal draws a progress bar redrawn in place (needs util-linux `script` for the terminal)', async () => {
    const height: number = await node.rpc('getblockcount', [])
    const command = [process.execPath, CLI, 'headers', ...peerArgs].join(' ')
    const r = await spawnRun('script', ['-qfec', command, '/dev/null']).output
    expect(r.code).toBe(0)
    // \r back to the line start, the full bar, the figures, then clear-to-end-of-line.
    expect(r.stdout).toMatch(new RegExp(`\\r\\[#{24}\\] height ${height}/${height} \\(100%\\), \\d+ headers/s, ETA 0s\\x1b\\[K\\r?\\n`))
  })

  it('mempool prints each relayed tx with its first-seen peer, and fee and fee rate once its inputs are known', cliTest(2, BCOIN_WORK_MS), async () => {
    const me = `127.0.0.1:${node.p2p.port}`
    const json = start(['mempool', ...peerArgs, '--json', '--count', '2'], 2, BCOIN_WORK_BUDGET_MS)
    const text = start(['mempool', ...peerArgs, '--count', '2'], 2, BCOIN_WORK_BUDGET_MS)
    await until(() => json.stderr().includes('connected to') && text.stdout().includes('connected to'), 'both CLIs to connect')

    // A wallet payment (its inputs are older than this session: fee unknown) ...
    const parent = await node.sendFromWallet(1)
    await until(() => json.stdout().includes(parent) && text.stdout().includes(parent), 'the parent tx in both feeds')
    // ... then a child spending the parent's 1 BTC output with a 10,000 sat fee.
    const verbose = await node.rpc('getrawtransaction', [parent, 1])
    const vout: number = verbose.vout.find((o: { value: number }) => o.value === 1).n
    const raw: string = await node.rpc('createrawtransaction', [[{ txid: parent, vout }], { [node.info.mineAddress]: 0.9999 }])
    const key: string = await node.walletRpc('dumpprivkey', [node.info.mineAddress])
    const signed = await node.rpc('signrawtransaction', [raw, null, [key]])
    const child: string = await node.rpc('sendrawtransaction', [signed.hex])

    const [j, t] = await Promise.all([json.output, text.output])
    expect(j.code).toBe(0)
    expect(t.code).toBe(0)
    const rows = j.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(rows.map((r) => r.txid)).toEqual([parent, child])
    const sizes = await Promise.all([parent, child].map(async (id) => (await node.rpc('getmempoolentry', [id])).size as number))
    expect(rows[0]).toMatchObject({ vsize: sizes[0], fee: null, feeRate: null, firstSeenBy: me, receivedFrom: me })
    expect(rows[1]).toMatchObject({ vsize: sizes[1], fee: 10_000, feeRate: Math.round(1_000_000 / sizes[1]!) / 100, firstSeenBy: me, receivedFrom: me })

    const lines = t.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(4) // the status line, the column headings, then one per transaction
    expect(lines[1]).toMatch(/^txid +vsize +fee +fee rate +first seen by$/)
    expect(lines[2]).toMatch(new RegExp(`^${parent} +${sizes[0]} vB +- +- +first seen by ${me.replace(/\./g, '\\.')}$`))
    expect(lines[3]).toMatch(new RegExp(`^${child} +${sizes[1]} vB +10000 sat +${rows[1].feeRate.toFixed(2)} sat/vB +first seen by ${me.replace(/\./g, '\\.')}$`))
    // Each heading ends where its column ends (right-aligned numbers) or starts where it starts.
    const headEnd = (h: string): number => lines[1]!.indexOf(h) + h.length
    expect(headEnd('vsize')).toBe(lines[3]!.indexOf(' vB') + 3)
    expect(headEnd('fee rate')).toBe(lines[3]!.indexOf(' sat/vB') + 7)
    expect(lines[1]!.indexOf('first seen by')).toBe(lines[3]!.indexOf('first seen by'))
    // The wallet learns of the child from the mempool; later steps must not pick the spent output again.
    await waitForWalletTx(node, child)
  })

  it('Ctrl-C on mempool closes its connection and exits 130', cliTest(1, BCOIN_WORK_MS), async () => {
    // Nothing else talks to this bcoin node: wait for earlier runs' connections to be gone.
    await until(async () => (await peerCount()) === 0, "bcoin to drop earlier runs' connections", scaled(5_000))
    const run = start(['mempool', ...peerArgs], 1, BCOIN_WORK_BUDGET_MS)
    await until(() => run.stdout().includes('connected to'), 'the CLI to connect')
    await until(async () => (await peerCount()) === 1, "bcoin to list the CLI's connection")
    run.child.kill('SIGINT')
    const r = await run.output
    expect(r.code).toBe(130)
    expect(r.stderr).toBe('bitp2p: interrupted\n')
    await until(async () => (await peerCount()) === 0, 'bcoin to drop the connection', scaled(5_000))
  })

  it('Ctrl-C on headers while the handshake hangs aborts it, closes the socket and exits 130', async () => {
    // A peer that accepts and never speaks.
    const sockets: Socket[] = []
    let ended = false
    const silent = createServer((s) => {
      sockets.push(s)
      s.resume()
      s.on('end', () => (ended = true))
      s.on('error', () => {})
    })
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const { port } = silent.address() as { port: number }
    try {
      const run = start(['headers', '--network', 'regtest', '--peer', `127.0.0.1:${port}`])
      await until(() => sockets.length === 1, 'the CLI to connect')
      run.child.kill('SIGINT')
      const r = await run.output
      expect(r.code).toBe(130)
      expect(r.stdout).toBe('')
      expect(r.stderr).toBe('bitp2p: interrupted\n')
      await until(() => ended, 'the CLI to close its socket', scaled(2_000))
    } finally {
      for (const s of sockets) s.destroy()
      silent.close()
    }
  })

  it("block <height> streams the block and reports rpc getblock's tx count; an unknown hash exits 1", cliTest(2, BCOIN_WORK_MS), async () => {
    await node.sendFromWallet(1)
    const [hash] = await node.mine(1)
    const height: number = await node.rpc('getblockcount', [])
    const expected = await node.rpc('getblock', [hash, true, false])
    expect(expected.tx.length).toBeGreaterThanOrEqual(2)
    const unknown = 'ab'.repeat(32)
    const [r, missing] = await cliAll([['block', String(height), ...peerArgs], ['block', unknown, ...peerArgs]])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`headers synced to height ${height}`)
    expect(r.stdout).toMatch(/^chunk 0: bytes 0\.\.\d+, \d+ tx\(s\) completed$/m)
    expect(r.stdout).toContain(`block ${hash} at height ${height}: ${expected.tx.length} txs,`)
    expect(r.stdout).toContain(`merkle root ${expected.merkleroot} verified`)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(`bitp2p: block ${unknown}: 127.0.0.1:${node.p2p.port} did not send it (notfound, or no answer in time)\n`)
  })

  it('broadcast of a wallet-signed unsent tx: bcoin fetches it and takes it into its mempool', cliTest(1, BCOIN_WORK_MS), async () => {
    const signed = await createSignedTx(node, 10_000_000)
    expect(await node.mempool()).not.toContain(signed.txid)
    const r = await cli('broadcast', signed.hex, ...peerArgs, '--settle', '500')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const me = `127.0.0.1:${node.p2p.port}`
    expect(r.stdout).toContain(`announced to ${me}`)
    expect(r.stdout).toContain(`txid ${signed.txid}`)
    expect(r.stdout).toMatch(new RegExp(`^fetchedBy: .*${me.replace(/\./g, '\\.')}`, 'm'))
    expect(r.stdout).toMatch(/^outcome: (fetched|propagated)$/m)
    await until(async () => (await node.mempool()).includes(signed.txid), "the tx in bcoin's mempool", scaled(5_000))
  })

  it('crawl visits two bcoin nodes, reports an unreachable seed as a failure, and summarises (table and --json)', cliTest(3, bcoinBudget(0)), async () => {
    const second = await startBcoin({ mine: 0 })
    try {
      const dead = await closedPort()
      const a = `127.0.0.1:${node.p2p.port}`
      const b = `127.0.0.1:${second.p2p.port}`
      const x = `127.0.0.1:${dead}`
      const heightA: number = await node.rpc('getblockcount', [])
      const args = ['crawl', '--network', 'regtest', '--seed', a, '--seed', b, '--seed', x, '--addr-wait', '300']
      const [text, json, capped] = await cliAll([args, [...args, '--json'], [...args, '--max', '1']])

      expect(text.stderr).toBe('')
      expect(text.code).toBe(0)
      const out = text.stdout
      expect(out).toContain(`crawling regtest from ${a}, ${b}, ${x} (at most 1000 nodes)`)
      expect(out).toMatch(new RegExp(`^  ok    ${a}  /bcoin:v1\\.0\\.2/  height ${heightA}  \\d+ ms`, 'm'))
      expect(out).toMatch(new RegExp(`^  ok    ${b}  /bcoin:v1\\.0\\.2/  height 0  \\d+ ms`, 'm'))
      expect(out).toMatch(new RegExp(`^  fail  ${x}  transport: connect-failed .*ECONNREFUSED`, 'm'))
      expect(out).toMatch(/^visited 3 nodes in \d+\.\d s: 2 reachable, 1 failed$/m)
      expect(out).toMatch(/^address +version +services +height +latency +user agent$/m)
      expect(out).toMatch(new RegExp(`^${a} +70015 +NETWORK\\|BLOOM\\|WITNESS +${heightA} +\\d+ ms +/bcoin:v1\\.0\\.2/$`, 'm'))
      expect(out).toMatch(new RegExp(`^${b} +70015 +NETWORK\\|BLOOM\\|WITNESS +0 +\\d+ ms +/bcoin:v1\\.0\\.2/$`, 'm'))
      expect(out).toMatch(new RegExp(`^${x} +transport: connect-failed`, 'm'))
      expect(out).toContain('versions:     70015 (2)')
      expect(out).toContain('services:     NETWORK|BLOOM|WITNESS (2)')
      expect(out).toContain('user agents:  /bcoin:v1.0.2/ (2)')
      expect(out).toMatch(/^latency: +min \d+ ms, median \d+(\.5)? ms, max \d+ ms$/m)

      expect(json.code).toBe(0)
      // stdout is the document alone; the running log went to stderr.
      expect(json.stderr).toContain(`  fail  ${x}  transport: connect-failed`)
      const doc = JSON.parse(json.stdout)
      expect(doc).toMatchObject({ network: 'regtest', seeds: [a, b, x], visited: 3, reachable: 2, failed: 1 })
      const byAddress = Object.fromEntries(doc.nodes.map((n: { address: string }) => [n.address, n]))
      expect(byAddress[a]).toMatchObject({ version: 70015, services: '0xd', serviceNames: ['NETWORK', 'BLOOM', 'WITNESS'], userAgent: '/bcoin:v1.0.2/', startHeight: heightA })
      expect(byAddress[b]).toMatchObject({ version: 70015, userAgent: '/bcoin:v1.0.2/', startHeight: 0 })
      expect(doc.failures).toEqual([{ address: x, reason: 'transport', detail: expect.stringContaining('ECONNREFUSED') }])
      expect(doc.summary.versions).toEqual([{ value: 70015, count: 2 }])
      expect(doc.summary.userAgents).toEqual([{ value: '/bcoin:v1.0.2/', count: 2 }])
      const latencies = doc.nodes.map((n: { latencyMs: number }) => n.latencyMs)
      expect(doc.summary.latencyMs).toEqual({ min: Math.min(...latencies), median: (latencies[0] + latencies[1]) / 2, max: Math.max(...latencies) })

      expect(capped.code).toBe(0)
      expect(capped.stdout).toMatch(/^visited 1 node in /m)
    } finally {
      await second.stop()
    }
  })

  it("crawl prints a peer's user agent with its control characters replaced (no terminal escapes)", async () => {
    // A bitp2p Peer as the node, announcing a user agent that would clear the screen.
    const listener = await TcpListener.listen({ host: '127.0.0.1', port: 0 })
    const accepted: Promise<Peer>[] = []
    listener.onConnection((t) => accepted.push(Peer.accept(t, { network: regtest, clock: new RealtimeClock(), userAgent: '/evil\x1b[2J:1.0/' })))
    try {
      const r = await cli('crawl', '--network', 'regtest', '--seed', `127.0.0.1:${listener.address.port}`, '--addr-wait', '200')
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('/evil?[2J:1.0/')
      expect(r.stdout).not.toContain('\x1b')
      expect(accepted).toHaveLength(1)
    } finally {
      await Promise.allSettled(accepted.map(async (p) => (await p).close('test done')))
      await listener.close()
    }
  })

  it('crawl that reaches no node (another network) reports it and exits 1', async () => {
    const a = `127.0.0.1:${node.p2p.port}`
    const r = await cli('crawl', '--network', 'mainnet', '--seed', a, '--addr-wait', '300')
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`  fail  ${a}  on another network, not mainnet: its messages carry another network's magic bytes: it looks like regtest`)
    expect(r.stderr).toBe('bitp2p: no node reachable (1 failed)\n')
  })

  it('bridge: serves a WebSocket client to the allowed bcoin node, exits 0 on Ctrl-C', cliTest(1, BCOIN_WORK_MS), async () => {
    const run = start(['bridge', '--listen', '127.0.0.1:0', '--allow', `127.0.0.1:${node.p2p.port}`, '--allow-private'], 1, BCOIN_WORK_BUDGET_MS)
    const events = (): { event: string; [k: string]: unknown }[] =>
      run.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
    await until(() => events().some((e) => e.event === 'listening'), 'the bridge to listen')
    const listening = events().find((e) => e.event === 'listening')!
    expect(listening.host).toBe('127.0.0.1')
    expect(listening.port).toBeGreaterThan(0)

    // A bitp2p Peer over the built WebSocket client, through the bridge, to bcoin.
    const { WsConnector } = await import(pathToFileURL(WS_DIST).href)
    const connector = new WsConnector({ url: `ws://127.0.0.1:${listening.port}/`, WebSocket: NodeWebSocket, connectTimeoutMs: scaled(5_000) })
    const peer = await Peer.connect(node.p2p, { connector, network: regtest, clock: new RealtimeClock() })
    expect(peer.info!.peer.userAgent).toBe('/bcoin:v1.0.2/')
    expect(await peer.ping()).toBeGreaterThanOrEqual(0)
    peer.close('test done')
    await peer.closed
    expect(events().some((e) => e.event === 'open' && e.peer === `127.0.0.1:${node.p2p.port}`)).toBe(true)

    run.child.kill('SIGINT')
    const r = await run.output
    expect(r.code).toBe(0)
    expect(events().at(-1)!.event).toBe('shutdown')
  })
})

