// The same interop smoke (scripts/rt-smoke.ts: handshake + ping, header
// sync, mempool tx) on Deno and on Bun, against one bcoin started here.
// The script imports the BUILT packages (dist/, via the workspace links),
// so this checks the bundles on each runtime, not the sources vitest sees.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { scaled } from '../../../test/harness/timing.js'
import { endpointsToEnv } from '../../../test/interop/node.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SCRIPT = 'scripts/rt-smoke.ts'
const DENO = `${ROOT}node_modules/.bin/deno`
const BUN = `${ROOT}node_modules/.bin/bun`
/** The bundles rt-smoke.ts imports. */
const DISTS = ['wire', 'session', 'transport-tcp'].map((p) => `${ROOT}packages/${p}/dist/index.js`)
/** Blocks bcoin mines at start; each runtime syncs all of them. */
const BLOCKS = 300
/** A runtime's whole smoke run, start-up included (0.3 to 1.5 s on an idle machine), scaled: its kill timer. */
const RUN_TIMEOUT_MS = scaled(30_000)
/** The steps rt-smoke.ts runs, in order. */
const STEPS = ['handshake', 'headers', 'mempool']

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Runs `cmd args` in the repo root with `env` added; kills it after RUN_TIMEOUT_MS. */
function run(cmd: string, args: readonly string[], env: Record<string, string>): Promise<Run> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Math.round(performance.now() - t0) })
    })
  })
}

/** Checks rt-smoke's output lines for `runtime` ('deno' or 'bun'). */
function expectSmokeOutput(r: Run, runtime: string, tip: string): void {
  const lines = r.stdout.trim().split('\n')
  expect(lines, r.stdout + r.stderr).toHaveLength(STEPS.length + 1)
  const prefix = new RegExp(`^rt-smoke ${runtime} \\d+\\.\\d+\\.\\d+: `)
  for (const l of lines) expect(l).toMatch(prefix)
  const body = lines.map((l) => l.replace(prefix, ''))
  expect(body[0]).toMatch(/^handshake ok: \/bcoin:v1\.0\.2\/ v70015, rtt \d+\.\d\d ms \(\d+ ms\)$/)
  expect(body[1]).toMatch(new RegExp(`^headers ok: ${BLOCKS} headers in 1 rounds, tip ${tip} \\(\\d+ ms\\)$`))
  expect(body[2]).toMatch(/^mempool ok: txid [0-9a-f]{64}, vsize \d+, 2 outputs \(\d+ ms\)$/)
  expect(body[3]).toMatch(/^3 passed, 0 failed in \d+ ms$/)
  expect(r.code).toBe(0)
}

needs('bcoin').describe('rt-smoke on Deno and Bun against bcoin (built packages)', () => {
  let node: BcoinNode
  let env: Record<string, string>
  let tip: string

  beforeAll(async () => {
    const missing = DISTS.filter((d) => !existsSync(d))
    if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run \`npx turbo run build\` first`)
    node = await startBcoin({ mine: BLOCKS, wallet: true, invMs: 50 })
    env = { ...endpointsToEnv(node), BITP2P_RT_MIN_BLOCKS: String(BLOCKS) }
    tip = await node.rpc('getbestblockhash', [])
  }, bcoinBudget(BLOCKS))

  afterAll(async () => {
    await node?.stop()
  })

  needs('deno').it('deno: handshake, header sync and mempool tx', { timeout: RUN_TIMEOUT_MS + scaled(5_000) }, async () => {
    // --sloppy-imports: test/interop uses the repo's '.js' specifiers for '.ts' files.
    const r = await run(DENO, ['run', '--sloppy-imports', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', SCRIPT], env)
    console.log(`[runtimes] deno: ${r.ms} ms\n${r.stdout.trim()}`)
    expectSmokeOutput(r, 'deno', tip)
    // The mempool step's payment stays in bcoin's mempool: Deno's tx is there.
    const txid = r.stdout.match(/mempool ok: txid ([0-9a-f]{64})/)![1]!
    expect(await node.mempool()).toContain(txid)
  })

  needs('bun').it('bun: handshake, header sync and mempool tx', { timeout: RUN_TIMEOUT_MS + scaled(5_000) }, async () => {
    const r = await run(BUN, [SCRIPT], env)
    console.log(`[runtimes] bun: ${r.ms} ms\n${r.stdout.trim()}`)
    expectSmokeOutput(r, 'bun', tip)
    const txid = r.stdout.match(/mempool ok: txid ([0-9a-f]{64})/)![1]!
    expect(await node.mempool()).toContain(txid)
  })
})
