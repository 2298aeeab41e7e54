// Runs `bitp2p demo` as a newcomer would (`npm run demo` builds, then runs
// it), in both variants, on the built packages:
// - the default, examples/demo.mjs against a local bcoin regtest node:
//   checks what it prints, its exit code, and that the node is gone after;
// - `--sim [--seed N]`, packages/cli/demo/sim.mjs on the in-memory network:
//   checks every line, and that a seed replays byte for byte (apart from
//   the wall-time figures) with the same trace hash, another seed not.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { TransportError } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { needs } from '../../../test/harness/needs.js'
import { rejection, until } from '../../../test/harness/wait.js'
import { forWork, scaled } from '../../../test/harness/timing.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const DISTS = ['wire', 'session', 'transport-tcp', 'transport-mock'].map((p) => `${ROOT}packages/${p}/dist/index.js`)
/** Budget of one `bitp2p demo` run: Node, a bcoin it starts with 200 blocks, a header sync, two transactions (about 2.4 s on an idle machine). */
const DEMO_BUDGET_MS = 30_000
/** Budget of one `bitp2p demo --sim` run: it mines 4,500 regtest blocks, then runs in virtual time (about 1.7 s of CPU on an idle machine). */
const SIM_RUN_BUDGET_MS = 15_000
/** The `--sim` runs, started at once: seed 7 twice, seed 8, the default seed. They share the cores, so each is killed after the budget of all of them. */
const SIM_ARGS = [['--sim', '--seed', '7'], ['--sim', '--seed', '7'], ['--sim', '--seed', '8'], ['--sim']]
const SIM_RUNS = SIM_ARGS.length
/** Kill timers of the child processes. */
const DEMO_TIMEOUT_MS = scaled(DEMO_BUDGET_MS)
const SIM_TIMEOUT_MS = forWork(SIM_RUNS, SIM_RUN_BUDGET_MS)

interface Run {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

/** `node packages/cli/bitp2p.mjs demo ...args` in the repository root. */
function runDemo(args: readonly string[], timeoutMs: number): Promise<Run> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['packages/cli/bitp2p.mjs', 'demo', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Math.round(performance.now() - t0) })
    })
  })
}

/** The non-empty lines, trimmed. */
const linesOf = (out: string): string[] => out.split('\n').map((l) => l.trim()).filter((l) => l !== '')

/** Checks `lines` against `expected` one for one. */
function expectLines(lines: readonly string[], expected: readonly RegExp[]): void {
  expect(lines).toHaveLength(expected.length)
  lines.forEach((l, i) => expect(l, `line ${i + 1}`).toMatch(expected[i]!))
}

describe('bitp2p demo', () => {
  needs('bcoin').it('starts bcoin, syncs headers, receives and broadcasts a transaction, closes, exits 0', { timeout: DEMO_TIMEOUT_MS + scaled(5_000) }, async () => {
    const missing = DISTS.filter((d) => !existsSync(d))
    expect(missing, 'run `npx turbo run build` first').toEqual([])

    const r = await runDemo([], DEMO_TIMEOUT_MS)
    console.log(`[demo] ${r.ms} ms, exit ${r.code}`)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = linesOf(r.stdout)
    expectLines(lines, [
      /^bitp2p demo: /,
      /^1\. Starting bcoin \(regtest, 127\.0\.0\.1 only\) and mining 200 blocks$/,
      /^bcoin v1\.0\.2 ready in \d+ ms: P2P on 127\.0\.0\.1:\d+, height 200$/,
      /^2\. Connecting with a bitp2p Peer over TCP$/,
      /^handshake done in \d+ ms: \/bcoin:v1\.0\.2\/ protocol 70015, its height 200$/,
      /^ping \d+\.\d\d ms$/,
      /^3\. Syncing block headers from genesis/,
      /^\[#{24}\] headers 200\/200 \(100%\), \d+ headers\/s$/,
      /^tip [0-9a-f]{16}…[0-9a-f]{8} at height 200 matches bcoin's best block$/,
      /^4\. Watching a transaction arrive from bcoin$/,
      /^bcoin's wallet paid 1 BTC; bcoin announced it to us \(inv\) after \d+ ms$/,
      /^fetched it \(getdata\): txid [0-9a-f]{16}…[0-9a-f]{8}, \d+ vbytes, 1 input\(s\)$/,
      /^output 0: +\d+\.\d{8} BTC {2}p2pkh [0-9a-f]{16}…[0-9a-f]{8}$/,
      /^output 1: +\d+\.\d{8} BTC {2}p2pkh [0-9a-f]{16}…[0-9a-f]{8}$/,
      /^5\. Broadcasting a transaction$/,
      /^bcoin's wallet signed 0\.1 BTC without sending it: txid [0-9a-f]{16}…[0-9a-f]{8}$/,
      /^announced it to bcoin \(inv\)$/,
      /^bcoin asked for it \(getdata\); sending it \(tx\)$/,
      /^in bcoin's mempool after \d+ ms$/,
      /^Next: 'bitp2p demo --keep' leaves the node running and prints commands to try against it$/,
      /^\(bitp2p headers, mempool, block, view with --peer 127\.0\.0\.1:<port> --network regtest\)$/,
      /^6\. Closing$/,
      /^connection closed, bcoin stopped$/,
      /^done$/,
    ])
    // One of the two outputs is the 1 BTC payment.
    expect(lines.filter((l) => / 1\.00000000 BTC /.test(l))).toHaveLength(1)

    // The node it started is gone: its P2P port refuses connections.
    const port = Number(r.stdout.match(/P2P on 127\.0\.0\.1:(\d+)/)![1])
    const err = await rejection<TransportError>(new TcpConnector({ connectTimeoutMs: scaled(2_000) }).connect({ host: '127.0.0.1', port }))
    expect(err.code).toBe('connect-failed')
  })

  needs('bcoin').it('--keep: prints the next commands for its node, and the printed headers command syncs against it; Ctrl-C stops the node', { timeout: forWork(2, DEMO_BUDGET_MS) + scaled(5_000) }, async () => {
    const missing = DISTS.filter((d) => !existsSync(d))
    expect(missing, 'run `npx turbo run build` first').toEqual([])
    const child = spawn(process.execPath, ['packages/cli/bitp2p.mjs', 'demo', '--keep'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const timer = setTimeout(() => child.kill('SIGKILL'), forWork(2, DEMO_BUDGET_MS))
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
    try {
      await until(() => stdout.includes('Ctrl-C stops it.') || child.exitCode !== null, 'the demo to print its next commands', DEMO_TIMEOUT_MS)
      const headers = /^\s*(bitp2p headers --peer 127\.0\.0\.1:\d+ --network regtest)$/m.exec(stdout)?.[1]
      expect(headers, stdout).toBeDefined()
      // Run the printed command as printed (the CLI of this checkout stands in for `bitp2p`).
      const args = headers!.split(' ').slice(1)
      const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
        const c = spawn(process.execPath, ['packages/cli/bitp2p.mjs', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
        let text = ''
        c.stdout.setEncoding('utf8').on('data', (d: string) => (text += d))
        c.once('error', reject)
        c.once('close', (code) => resolve({ code, text }))
      })
      expect(out.code).toBe(0)
      // The demo mined 200 blocks and mines none after (its payments stay in the mempool).
      expect(out.text).toMatch(/^tip [0-9a-f]{64} at height 200$/m)
      child.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(stdout).toMatch(/connection closed, bcoin stopped/)
    } finally {
      clearTimeout(timer)
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })

  it('--sim: the walkthrough on a simulated network; a seed replays byte for byte with the same trace hash, another seed differs', { timeout: forWork(SIM_RUNS + 1, SIM_RUN_BUDGET_MS) }, async () => {
    const missing = DISTS.filter((d) => !existsSync(d))
    expect(missing, 'run `npx turbo run build` first').toEqual([])

    const [first, again, other, fallback] = await Promise.all(SIM_ARGS.map((args) => runDemo(args, SIM_TIMEOUT_MS)))
    console.log(`[demo --sim] ${first.ms} ms, exit ${first.code}`)
    for (const r of [first, again, other, fallback]) {
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
    }
    const hex = '[0-9a-f]{16}…[0-9a-f]{8}'
    const t = 't=\\d+\\.\\d{3} s'
    const header = (seed: number) =>
      new RegExp(`^bitp2p demo --sim: a Bitcoin P2P session on a simulated network \\(seed ${seed}\\)$`)
    const expected = (seed: number): RegExp[] => [
      header(seed),
      /^1\. Building a simulated regtest network \(in memory, virtual time\)$/,
      new RegExp(`^mined 4500 regtest blocks \\(wall \\d+ ms\\): tip ${hex}$`),
      /^node A on 10\.0\.0\.1:18444, node B on 10\.1\.0\.1:18444, both serving the chain$/,
      /^links: 25 ms one way \+ up to 10 ms seeded jitter$/,
      /^2\. Connecting with a bitp2p Peer to both nodes \(node B also connects to node A\)$/,
      new RegExp(`^handshake with node A done by ${t}: /bitp2p-virtual:0\\.1\\.0/ protocol 70016, its height 4500$`),
      new RegExp(`^handshake with node B done by ${t}: /bitp2p-virtual:0\\.1\\.0/ protocol 70016, its height 4500$`),
      /^ping node A: \d+\.\d\d ms$/,
      /^3\. Syncing block headers from node A/,
      /^\[#{10}\.{14}\] headers 2000\/4500 \(44%\), \d+ headers\/s \(virtual\)$/,
      /^\[#{21}\.{3}\] headers 4000\/4500 \(88%\), \d+ headers\/s \(virtual\)$/,
      /^\[#{24}\] headers 4500\/4500 \(100%\), \d+ headers\/s \(virtual\)$/,
      new RegExp(`^tip ${hex} at height 4500 matches node A's chain, by ${t}$`),
      /^4\. Watching a transaction arrive$/,
      /^node B has a new transaction and announces it to its peers \(inv\)$/,
      new RegExp(`^fetched it \\(getdata\\) from node B by ${t}: txid ${hex}, \\d+ vbytes, \\d+ input\\(s\\), \\d+ output\\(s\\)$`),
      /^first seen by node B$/,
      new RegExp(`^node A announced it too at ${t}: it fetched it from node B$`),
      /^5\. Broadcasting a transaction$/,
      new RegExp(`^a new transaction: txid ${hex}, \\d+ vbytes$`),
      /^announced it to node A \(inv\)$/,
      new RegExp(`^node A asked for it \\(getdata\\) by ${t}; sending it \\(tx\\)$`),
      new RegExp(`^node B announced it to us by ${t}: it went us -> node A -> node B -> us$`),
      /^6\. Closing$/,
      /^connections closed, 0 timers left, \d+\.\d{3} s of virtual time$/,
      /^trace hash [0-9a-f]{64}$/,
      /^\(wall \d+ ms\)$/,
      /^done$/,
    ]
    expectLines(linesOf(first.stdout), expected(7))
    expectLines(linesOf(other.stdout), expected(8))
    expectLines(linesOf(fallback.stdout), expected(1)) // the default seed

    // Same seed: the same bytes once the wall-clock figures are blanked; another seed: another run.
    const replayable = (out: string) => out.replace(/\(wall \d+ ms\)/g, '(wall)')
    const traceHash = (out: string) => out.match(/trace hash ([0-9a-f]{64})/)![1]
    expect(replayable(again.stdout)).toBe(replayable(first.stdout))
    expect(traceHash(again.stdout)).toBe(traceHash(first.stdout))
    expect(traceHash(other.stdout)).not.toBe(traceHash(first.stdout))
    expect(replayable(other.stdout.replace('(seed 8)', '(seed 7)'))).not.toBe(replayable(first.stdout))
  })
})
