// Runs every example in examples/ as a newcomer would (a child process on
// the BUILT packages: node, deno, bun) against one bcoin regtest node
// started here, or on the simulated network, and checks what each prints
// against bcoin's own view (RPC) or against the simulated network's layout.
//
// The tests run in order and build on each other: the transactions the
// mempool monitor and the broadcaster handle are mined into the blocks the
// indexer indexes.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spreadHost } from '@bitp2p/transport-mock'
import { fromHex, hashToHex, parseTx, serializeTx, toHex, txid } from '@bitp2p/wire'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { forWork, scaled } from '../../../test/harness/timing.js'
import { createSignedTx, waitForWalletTx } from '../../../test/interop/node.js'
import { waitUntil } from '../../../test/interop/util.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const DENO = `${ROOT}node_modules/.bin/deno`
const BUN = `${ROOT}node_modules/.bin/bun`
/** The bundles the examples import. */
const DISTS = ['wire', 'session', 'transport-tcp', 'transport-mock'].map((p) => `${ROOT}packages/${p}/dist/index.js`)
/** Blocks bcoin mines at start: past coinbase maturity (100), so its wallet can pay. */
const START_BLOCKS = 110
/** Budget of one example run (0.2 to 0.4 s on an idle machine; broadcast-tx.mjs waits out its 3 s deadline). */
const RUN_BUDGET_MS = 20_000
/** Longest one example may run before it is killed (and its test fails). */
const RUN_TIMEOUT_MS = scaled(RUN_BUDGET_MS)
/** Budget of what a test does besides running examples: bcoin mining and paying, RPC calls. */
const BCOIN_WORK_BUDGET_MS = 10_000
/** The timeout of a test that runs `runs` examples one after another. */
const exampleTest = (runs: number): { timeout: number } => ({ timeout: forWork(runs, RUN_BUDGET_MS, BCOIN_WORK_BUDGET_MS) })
/** Chunk size the indexer runs with: small, so transactions straddle chunks. */
const INDEX_CHUNK_BYTES = 100
/** Reachable nodes of the simulated crawl; island and dead addresses as crawler.mjs lays them out. */
const SIM_NODES = 40
const SIM_ISLAND = 8
const SIM_DEAD = 4
const SIM_CAP = 6

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** stdout lines, trailing empty line dropped. */
  readonly lines: string[]
  readonly ms: number
}

interface Running {
  /** Resolves with the first stdout line matching `re`; rejects if the process ends first. */
  line(re: RegExp): Promise<string>
  readonly done: Promise<Run>
}

/** Starts `cmd args` in the repository root, without the BITP2P_* variables of this environment. */
function start(cmd: string, args: readonly string[]): Running {
  const t0 = performance.now()
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  delete env.BITP2P_PEER
  delete env.BITP2P_NETWORK
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters: { re: RegExp; resolve: (l: string) => void; reject: (e: Error) => void }[] = []
  const check = (): void => {
    for (const w of [...waiters]) {
      const hit = stdout.split('\n').find((l) => w.re.test(l))
      if (hit === undefined) continue
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve(hit)
    }
  }
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s
    check()
  })
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
  const done = new Promise<Run>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      for (const w of waiters.splice(0)) w.reject(new Error(`${args.join(' ')} exited (${code}) before printing ${w.re}:\n${stdout}${stderr}`))
      resolve({ code, stdout, stderr, lines: stdout.replace(/\n$/, '').split('\n'), ms: Math.round(performance.now() - t0) })
    })
  })
  const line = (re: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      waiters.push({ re, resolve, reject })
      check()
    })
  return { line, done }
}

/** Runs examples/<script> with node; returns once it exited. */
async function example(script: string, ...args: string[]): Promise<Run> {
  const r = await start(process.execPath, [`examples/${script}`, ...args]).done
  console.log(`[examples] ${script} ${args.join(' ').slice(0, 60)}: ${r.ms} ms, exit ${r.code}`)
  return r
}

/** Exit 0 and nothing on stderr. */
function expectClean(r: Run): void {
  expect(r.stderr, r.stdout).toBe('')
  expect(r.code, r.stdout + r.stderr).toBe(0)
}

/** The lines of connect-and-ping (any runtime) after its first one. */
function expectConnectAndPing(r: Run, userAgent: string, height: number): void {
  expectClean(r)
  // bcoin speaks v1 only: the example's v2 attempt falls back.
  expect(r.lines.slice(1, 3)).toEqual([`connected: ${userAgent}, protocol 70015, height ${height}, transport v1`, 'services: NETWORK BLOOM WITNESS'])
  for (let i = 1; i <= 3; i++) expect(r.lines[2 + i]).toMatch(new RegExp(`^ping ${i}: rtt \\d+\\.\\d\\d ms$`))
  expect(r.lines.at(-1)).toBe('closed (local: done)')
}

needs('bcoin').describe('examples/ against bcoin regtest and the simulated network (built packages)', () => {
  let node: BcoinNode
  let peer: string
  let userAgent: string
  let storeDir: string
  /** Transactions the monitor saw and the broadcaster sent, to be found again by the indexer. */
  const handled: string[] = []

  beforeAll(async () => {
    const missing = DISTS.filter((d) => !existsSync(d))
    if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run \`npx turbo run build\` first`)
    node = await startBcoin({ mine: START_BLOCKS, wallet: true, invMs: 50 })
    peer = `127.0.0.1:${node.p2p.port}`
    userAgent = `/bcoin:${node.info.bcoin}/`
    storeDir = mkdtempSync(join(tmpdir(), 'bitp2p-spv-'))
  }, bcoinBudget(START_BLOCKS))

  afterAll(async () => {
    await node?.stop()
    if (storeDir) rmSync(storeDir, { recursive: true, force: true })
  })

  it('connect-and-ping.mjs: bcoin\'s user agent, its height, three round trips, a clean close', exampleTest(1), async () => {
    const r = await example('connect-and-ping.mjs', peer)
    expect(r.lines[0]).toBe(`connecting to ${peer} (regtest)`)
    expectConnectAndPing(r, userAgent, await node.rpc('getblockcount', []))
    expect(r.lines[6]).toMatch(/^rtt over [1-9]\d* pongs: min \d+\.\d\d ms, smoothed \d+\.\d\d ms$/)
  })

  it('spv-sync.mjs: syncs to bcoin\'s best block into --store; a second run resumes from the stored height', exampleTest(2), async () => {
    const height1: number = await node.rpc('getblockcount', [])
    const r1 = await example('spv-sync.mjs', peer, '--store', storeDir)
    expectClean(r1)
    expect(r1.lines.slice(0, 2)).toEqual(['starting from genesis', `connected to ${userAgent}, which claims height ${height1}`])
    expect(r1.lines).toContain(`synced: tip ${await node.rpc('getbestblockhash', [])} at height ${height1}`)
    expect(r1.lines.filter((l) => /^height \d+\/\d+, \d+ headers\/s$/.test(l)).at(-1)).toMatch(new RegExp(`^height ${height1}/${height1},`))
    expect(r1.lines.at(-1)).toBe(`headers saved in ${storeDir}`)
    // The store holds the chain from genesis: 80 bytes a header.
    expect(statSync(join(storeDir, 'headers.dat')).size).toBe((height1 + 1) * 80)

    // Three more blocks: the second run loads the stored chain and asks only for what is new.
    await node.mine(3)
    const height2 = height1 + 3
    const r2 = await example('spv-sync.mjs', peer, '--store', storeDir)
    expectClean(r2)
    expect(r2.lines[0]).toBe(`store ${storeDir}: resuming from stored height ${height1}`)
    expect(r2.lines).toContain(`loaded ${height1 + 1} headers, tip height ${height1}`)
    const progress = r2.lines.filter((l) => l.startsWith('height '))
    expect(progress).toHaveLength(1) // one getheaders answered with the three new headers
    expect(progress[0]).toMatch(new RegExp(`^height ${height2}/${height2}, \\d+ headers/s$`))
    expect(r2.lines).toContain(`synced: tip ${await node.rpc('getbestblockhash', [])} at height ${height2}`)
    expect(statSync(join(storeDir, 'headers.dat')).size).toBe((height2 + 1) * 80)
  })

  it('mempool-monitor.mjs: prints the txid of a payment bcoin\'s wallet makes while it runs, then exits after --count 1', exampleTest(1), async () => {
    const run = start(process.execPath, ['examples/mempool-monitor.mjs', peer, '--count', '1'])
    await run.line(/watching for transactions/)
    const sent = await node.sendFromWallet(1)
    const r = await run.done
    console.log(`[examples] mempool-monitor.mjs: ${r.ms} ms, exit ${r.code}`)
    expectClean(r)
    expect(r.lines).toEqual([
      `connected to ${userAgent}; watching for transactions (Ctrl-C to stop)`,
      expect.stringMatching(new RegExp(`^tx ${sent}: \\d+ vB, 1 in, 2 out, \\d+\\.\\d{8} BTC, first seen by ${peer}$`)),
      '1 transaction(s); closed',
    ])
    handled.push(sent)
  })

  it('broadcast-tx.mjs: a wallet-signed, unsent transaction ends in bcoin\'s mempool; the result names bcoin as the fetcher', exampleTest(1), async () => {
    const signed = await createSignedTx(node, 10_000_000)
    expect(await node.mempool()).not.toContain(signed.txid)
    const r = await example('broadcast-tx.mjs', signed.hex, peer, '--deadline', String(scaled(3_000)))
    expectClean(r)
    expect(r.lines).toEqual([
      `connected to ${userAgent}`,
      `announced to ${peer} (inv)`,
      `fetched by ${peer} (getdata, we answered with tx)`,
      `txid ${signed.txid}`,
      // bcoin does not announce a transaction back to the peer it came from: the broadcast runs to its
      // deadline, and the outcome says what happened by then (the CLI's word too).
      'outcome: fetched',
      `announcedTo: ${peer}`,
      `fetchedBy: ${peer}`,
      'seenFrom: -',
      'rejectedBy: -',
    ])
    await waitUntil(async () => (await node.mempool()).includes(signed.txid), 'broadcast tx in bcoin\'s mempool', scaled(10_000))
    // Let the wallet see its own transaction before it pays again (no double spend of the same coin).
    await waitForWalletTx(node, signed.txid)
    handled.push(signed.txid)
  })

  it('block-indexer.mjs: txids, offsets and lengths equal bcoin\'s blocks, cut into 100-byte chunks', exampleTest(1), async () => {
    // Two blocks with wallet transactions (the two above and three more) and one with only its coinbase.
    handled.push(await node.sendFromWallet(1), await node.sendFromWallet(2))
    await node.mine(1)
    handled.push(await node.sendFromWallet(3))
    await node.mine(2)
    const tip: number = await node.rpc('getblockcount', [])
    const r = await example('block-indexer.mjs', peer, '--blocks', '4', '--workers', '2', '--chunk-size', String(INDEX_CHUNK_BYTES))
    expectClean(r)
    expect(r.lines[0]).toBe(`connected to ${userAgent}; indexing blocks ${tip - 3}..${tip}`)

    // Parse the report: block lines, each followed by its transactions.
    const blocks: { height: number; hash: string; txCount: number; size: number; chunks: number; txs: { id: string; offset: number; length: number; ins: number; outs: number; sats: bigint }[] }[] = []
    for (const l of r.lines.slice(1, -1)) {
      const b = /^block (\d+) ([0-9a-f]{64}): (\d+) txs, (\d+) bytes in (\d+) chunk\(s\), merkle root verified$/.exec(l)
      const t = /^ {2}tx ([0-9a-f]{64}) offset (\d+) length (\d+): (\d+) in, (\d+) out, (\d+) sat(, segwit)?$/.exec(l)
      if (b) blocks.push({ height: Number(b[1]), hash: b[2]!, txCount: Number(b[3]), size: Number(b[4]), chunks: Number(b[5]), txs: [] })
      else if (t) blocks.at(-1)!.txs.push({ id: t[1]!, offset: Number(t[2]), length: Number(t[3]), ins: Number(t[4]), outs: Number(t[5]), sats: BigInt(t[6]!) })
      else throw new Error(`unexpected line: ${l}`)
    }
    expect(blocks.map((b) => b.height)).toEqual([tip - 3, tip - 2, tip - 1, tip])

    let total = 0
    for (const b of blocks) {
      expect(b.hash).toBe(await node.rpc('getblockhash', [b.height]))
      const raw = fromHex(await node.rpc('getblock', [b.hash, false]))
      const ids: string[] = (await node.rpc('getblock', [b.hash, true])).tx
      expect(b.size).toBe(raw.length)
      expect(b.chunks).toBe(Math.ceil(raw.length / INDEX_CHUNK_BYTES))
      expect(b.txCount).toBe(ids.length)
      expect(b.txs.map((t) => t.id)).toEqual(ids)
      // Every (offset, length) is exactly that transaction's bytes in bcoin's serialization of the block.
      for (const t of b.txs) {
        const tx = parseTx(raw.subarray(t.offset, t.offset + t.length))
        expect(hashToHex(txid(tx))).toBe(t.id)
        expect([t.ins, t.outs, t.sats]).toEqual([tx.inputs.length, tx.outputs.length, tx.outputs.reduce((s, o) => s + o.value, 0n)])
      }
      // ...and they tile the block after the header and the count, with no gap.
      b.txs.forEach((t, i) => i > 0 && expect(t.offset).toBe(b.txs[i - 1]!.offset + b.txs[i - 1]!.length))
      expect(b.txs.at(-1)!.offset + b.txs.at(-1)!.length).toBe(raw.length)
      total += b.txs.length
    }
    // The transactions of the earlier tests are in the index, and some transaction straddled a chunk boundary.
    const indexed = blocks.flatMap((b) => b.txs.map((t) => t.id))
    expect(indexed).toEqual(expect.arrayContaining(handled))
    expect(blocks.flatMap((b) => b.txs).some((t) => Math.floor(t.offset / INDEX_CHUNK_BYTES) !== Math.floor((t.offset + t.length - 1) / INDEX_CHUNK_BYTES))).toBe(true)
    expect(r.lines.at(-1)).toBe(`indexed ${total} transactions in 4 blocks with 2 workers`)
  })

  it('crawler.mjs against bcoin: lists bcoin, and nothing else', exampleTest(1), async () => {
    const r = await example('crawler.mjs', peer, '--addr-wait', '1000')
    expectClean(r)
    expect(r.lines).toEqual([
      `crawling regtest from ${peer}, at most 8 connections at once`,
      `node ${peer}: ${userAgent} protocol 70015 height ${await node.rpc('getblockcount', [])}, 0 addresses (0 new)`,
      'done: 1 node(s) answered, 0 address(es) failed; at most 1 connections were open at once (cap 8)',
    ])
  })

  it('crawler.mjs --sim: reaches exactly the reachable nodes, fails exactly the dead addresses, never has more than --max-peers open', exampleTest(3), async () => {
    const args = ['--sim', '--seed', 'examples-test', '--nodes', String(SIM_NODES), '--max-peers', String(SIM_CAP)]
    const r = await example('crawler.mjs', ...args)
    expectClean(r)
    const at = (i: number): string => `${spreadHost(i)}:18444`
    const reachable = Array.from({ length: SIM_NODES }, (_, i) => at(i))
    const island = Array.from({ length: SIM_ISLAND }, (_, i) => at(SIM_NODES + i))
    const dead = Array.from({ length: SIM_DEAD }, (_, i) => at(SIM_NODES + SIM_ISLAND + i))
    const visited = r.lines.filter((l) => l.startsWith('node ')).map((l) => l.split(' ')[1]!.slice(0, -1))
    const failed = r.lines.filter((l) => l.startsWith('failed ')).map((l) => l.split(' ')[1]!.slice(0, -1))
    expect(new Set(visited).size).toBe(visited.length) // each node once
    expect([...visited].sort()).toEqual([...reachable].sort())
    expect([...failed].sort()).toEqual([...dead].sort())
    for (const a of island) expect(r.stdout).not.toContain(a)
    const summary = /^done: (\d+) node\(s\) answered, (\d+) address\(es\) failed; at most (\d+) connections were open at once \(cap (\d+)\)$/.exec(r.lines.at(-2)!)
    expect(summary?.slice(1).map(Number)).toEqual([SIM_NODES, SIM_DEAD, SIM_CAP, SIM_CAP]) // the cap was reached and never passed
    expect(r.lines.at(-1)).toMatch(/^virtual time \d+\.\d s; trace [0-9a-f]{64}$/)

    // Deterministic: the same seed prints the same crawl; a cap on visits stops it there.
    expect((await example('crawler.mjs', ...args)).stdout).toBe(r.stdout)
    const capped = await example('crawler.mjs', ...args, '--max-nodes', '10')
    expectClean(capped)
    expect(capped.lines.filter((l) => l.startsWith('node ') || l.startsWith('failed '))).toHaveLength(10)
  })

  it('miners-sim.mjs: the same seed gives the same tips, reorgs and trace hash; another seed another', exampleTest(3), async () => {
    const a = await example('miners-sim.mjs', '--seed', 'examples-a')
    const again = await example('miners-sim.mjs', '--seed', 'examples-a')
    const b = await example('miners-sim.mjs', '--seed', 'examples-b')
    for (const r of [a, again, b]) {
      expectClean(r)
      expect(r.lines.filter((l) => / reorg at height \d+: /.test(l)).length).toBeGreaterThanOrEqual(1) // the fast miner overtook the slow
      const lastTip = r.lines.filter((l) => /^\[ *\d+ min\] tip \d+ [0-9a-f]{12} \(\w+\)$/.test(l)).at(-1)!
      const final = /^final tip (\d+) ([0-9a-f]{64}): the most-work tip; \d+ reorg\(s\)$/.exec(r.lines.at(-2)!)
      expect(final, r.stdout).not.toBeNull()
      expect(lastTip).toContain(` tip ${final![1]} ${final![2]!.slice(0, 12)} `)
      expect(r.lines.at(-1)).toMatch(/^trace [0-9a-f]{64}$/)
    }
    expect(again.stdout).toBe(a.stdout)
    expect(b.lines.at(-1)).not.toBe(a.lines.at(-1))
    expect(b.stdout).not.toBe(a.stdout)
  })

  needs('deno').it('deno/connect-and-ping.ts: the same session on Deno, its network permission limited to bcoin\'s port', exampleTest(1), async () => {
    const r = await start(DENO, ['run', `--allow-net=${peer}`, '--allow-env=BITP2P_PEER,BITP2P_NETWORK', 'examples/deno/connect-and-ping.ts', peer]).done
    console.log(`[examples] deno connect-and-ping.ts: ${r.ms} ms, exit ${r.code}`)
    expect(r.lines[0]).toMatch(new RegExp(`^deno \\d+\\.\\d+\\.\\d+: connecting to ${peer} \\(regtest\\)$`))
    expectConnectAndPing(r, userAgent, await node.rpc('getblockcount', []))
  })

  needs('bun').it('bun/connect-and-ping.ts: the same session on Bun', exampleTest(1), async () => {
    const r = await start(BUN, ['examples/bun/connect-and-ping.ts', peer]).done
    console.log(`[examples] bun connect-and-ping.ts: ${r.ms} ms, exit ${r.code}`)
    expect(r.lines[0]).toMatch(new RegExp(`^bun \\d+\\.\\d+\\.\\d+: connecting to ${peer} \\(regtest\\)$`))
    expectConnectAndPing(r, userAgent, await node.rpc('getblockcount', []))
  })
})

describe('examples/ refuse bad numeric arguments before doing anything (built packages, no node needed)', () => {
  it('broadcast-tx.mjs --deadline and crawler.mjs --max-peers / --nodes / --max-nodes / --addr-wait: a clear message and exit code 2, never NaN', exampleTest(5), async () => {
    const missing = DISTS.filter((d) => !existsSync(d))
    if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run \`npx turbo run build\` first`)
    // A well-formed transaction: the deadline is what is wrong (nothing listens on the port, which it never reaches).
    const raw = toHex(
      serializeTx({
        version: 2,
        inputs: [{ prevout: { txid: new Uint8Array(32).fill(1), index: 0 }, scriptSig: Uint8Array.of(0x51), sequence: 0xffffffff, witness: [] }],
        outputs: [{ value: 1_000n, scriptPubKey: Uint8Array.of(0x51) }],
        locktime: 0,
      }),
    )
    const tx = await example('broadcast-tx.mjs', raw, '127.0.0.1:1', '--deadline', 'soon')
    expect([tx.code, tx.stdout, tx.stderr]).toEqual([2, '', "broadcast-tx: --deadline must be a whole number >= 1, got 'soon'\n"])
    for (const [flag, value, min] of [['--max-peers', 'many', 1], ['--nodes', '0', 1], ['--max-nodes', '1e3', 1], ['--addr-wait', '-1', 0]] as const) {
      const r = await example('crawler.mjs', '--sim', `${flag}=${value}`)
      expect([r.code, r.stdout, r.stderr]).toEqual([2, '', `crawler: ${flag} must be a whole number >= ${min}, got '${value}'\n`])
    }
  })
})
