// Bundle peers.bench.ts from the sources (no build needed) and run it.
// Relative imports of `./x.js` become `./x.node.ts` where such a file
// exists, as in the Node builds (node:crypto SHA-256), so the numbers are
// those of the package as Node users get it. Rounds (each every part of the
// bench once) repeat until the wall time of the handshakes, the trace's
// cost over no trace and the CPU per event (in the machine's node:crypto
// sha256d calls) agree within 10 % over the last rounds, or it says they
// could not (../../../bench/lib/harness.mjs). With the default peer count,
// the round of median wall time goes to bench/peers-results.json with the
// date, the Node version, the load averages and the machine's reference
// rates at the start and the end.
//
//   node bench/run.mjs            # 10,000 peers, 3 to 6 rounds; writes bench/peers-results.json
//   node bench/run.mjs 2000       # another peer count, 2 to 3 rounds; writes nothing
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { finishRun, startRun, untilStable, writeResults } from '../../../bench/lib/harness.mjs'
import { bundleBench } from './bundle.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const RESULTS = join(here, 'peers-results.json')
/** Only the default run (10,000 peers) is the recorded figure. */
const recorded = process.argv[2] === undefined
/** Rounds: at least, at most; and the wall-time cap on them, ms. */
const ROUNDS = recorded ? [3, 6] : [2, 3]
const ROUNDS_MAX_MS = recorded ? 600_000 : 120_000
const dir = mkdtempSync(join(tmpdir(), 'bitp2p-bench-'))
const out = join(dir, 'peers.bench.mjs')
try {
  await bundleBench(join(here, 'peers.bench.ts'), out)
  const run = startRun('peers.bench')
  const { benchRound } = await import(pathToFileURL(out).href)
  // CPU milliseconds as node:crypto sha256d calls of this machine (64-byte inputs, at the start of the run).
  const inCalls = (ms) => (ms / 1000) * run.referenceStart.nodeSha256d
  const rounds = []
  const stability = await untilStable(
    async (i) => {
      console.log(`round ${i + 1}:`)
      const r = await benchRound()
      rounds.push(r)
      const plain = r.handshakes.find((h) => !h.trace)
      const traced = r.handshakes.find((h) => h.trace)
      return {
        handshakeWallS: plain.wallMs / 1000,
        traceOverNoTrace: traced.wallMs / plain.wallMs,
        ...(plain.cpuMs === null ? {} : { cpuPerEventInSha256dCalls: inCalls(plain.cpuMs / plain.events) }),
      }
    },
    { minRounds: ROUNDS[0], maxRounds: ROUNDS[1], maxMs: ROUNDS_MAX_MS, label: 'peers' },
  )
  // The round of median wall time (no trace) stands for the run: its figures belong together.
  const wall = (r) => r.handshakes.find((h) => !h.trace).wallMs
  const mid = [...rounds].sort((a, b) => wall(a) - wall(b))[rounds.length >> 1]
  if (recorded) writeResults(RESULTS, run, stability, { rounds: rounds.length, ...mid })
  else finishRun(run)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
