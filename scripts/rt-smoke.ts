/**
 * Runtime smoke test: interop steps 1 (handshake, ping), 2 (header sync)
 * and 4 (mempool transaction) on whatever runtime runs this file, against
 * a bcoin regtest node someone else started (packages/transport-tcp/test/
 * runtimes.test.ts starts one and runs this under Deno and Bun).
 *
 *   deno run --sloppy-imports --allow-net=127.0.0.1 --allow-read --allow-env scripts/rt-smoke.ts
 *   bun scripts/rt-smoke.ts
 *
 * It imports the BUILT packages (@bitp2p/* resolve through the workspace
 * links in node_modules to each package's dist/), so run `npx turbo run
 * build` first. The steps live in test/interop/, written with the repo's
 * `.js` import specifiers; Deno needs --sloppy-imports to map those to the
 * `.ts` files (Bun and vitest do it by default).
 *
 * Environment: BITP2P_BCOIN_P2P, BITP2P_BCOIN_HTTP, BITP2P_BCOIN_WALLET,
 * BITP2P_BCOIN_API_KEY, BITP2P_BCOIN_MINE_ADDRESS (see test/interop/node.ts),
 * and optionally BITP2P_RT_MIN_BLOCKS (blocks to sync, default 300).
 *
 * Prints one line per step, "rt-smoke <runtime>: <step> ok: ... (<ms> ms)"
 * or "... FAILED: <error>", then "rt-smoke <runtime>: N passed, M failed in
 * <ms> ms", and exits 0 only if every step passed.
 */
import process from 'node:process'
import { handshakeAndPing } from '../test/interop/handshake.ts'
import { headerSync } from '../test/interop/header-sync.ts'
import { mempoolTx } from '../test/interop/mempool.ts'
import { bcoinClient, endpointsFromEnv, type InteropNode } from '../test/interop/node.ts'

/** Blocks step 2 syncs unless BITP2P_RT_MIN_BLOCKS says otherwise. */
const DEFAULT_MIN_BLOCKS = 300

/** "deno 2.9.5", "bun 1.4.5" or "node 22.x". */
function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } }
  if (g.Deno) return `deno ${g.Deno.version.deno}`
  if (g.Bun) return `bun ${g.Bun.version}`
  return `node ${process.versions.node}`
}

interface SmokeStep {
  readonly name: string
  /** Runs the step; returns the detail printed after "ok:". */
  run(node: InteropNode): Promise<string>
}

const minBlocks = Number(process.env.BITP2P_RT_MIN_BLOCKS ?? DEFAULT_MIN_BLOCKS)

const steps: readonly SmokeStep[] = [
  {
    name: 'handshake',
    run: async (node) => {
      const r = await handshakeAndPing(node)
      return `${r.userAgent} v${r.negotiatedVersion}, rtt ${r.pingRttMs.toFixed(2)} ms`
    },
  },
  {
    name: 'headers',
    run: async (node) => {
      const r = await headerSync(node, { minBlocks })
      return `${r.headers} headers in ${r.rounds} rounds, tip ${r.tipHash}`
    },
  },
  {
    name: 'mempool',
    run: async (node) => {
      const r = await mempoolTx(node)
      return `txid ${r.txid}, vsize ${r.vsize}, ${r.outputs.length} outputs`
    },
  },
]

async function main(): Promise<number> {
  const rt = runtimeName()
  const node = bcoinClient(endpointsFromEnv(process.env))
  const start = performance.now()
  let passed = 0
  let failed = 0
  for (const step of steps) {
    const t0 = performance.now()
    try {
      const detail = await step.run(node)
      passed++
      console.log(`rt-smoke ${rt}: ${step.name} ok: ${detail} (${Math.round(performance.now() - t0)} ms)`)
    } catch (e) {
      failed++
      console.log(`rt-smoke ${rt}: ${step.name} FAILED: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`)
    }
  }
  console.log(`rt-smoke ${rt}: ${passed} passed, ${failed} failed in ${Math.round(performance.now() - start)} ms`)
  return failed === 0 ? 0 : 1
}

// Exit explicitly: a runtime may keep its event loop alive for a socket
// still closing, and the spawning test waits for the exit.
main().then(
  (code) => process.exit(code),
  (e) => {
    console.log(`rt-smoke ${runtimeName()}: crashed: ${e instanceof Error ? e.stack : String(e)}`)
    process.exit(2)
  },
)
