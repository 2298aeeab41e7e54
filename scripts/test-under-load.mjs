#!/usr/bin/env node
// Runs the whole suite (`npm test`) on a busy machine: one CPU-burning
// process per core keeps every core busy for the whole run, as other jobs
// on a shared CI host would. The suite must pass like this; its deadlines
// are safety nets (test/harness/timing.ts), never speed checks.
//
//   node scripts/test-under-load.mjs [turbo args...]   (npm run test:load -- [args])
//
// Arguments go to `npm test` (that is, to turbo), after `--force`: a run
// replayed from turbo's cache would prove nothing about load.
// BITP2P_BURNERS sets the number of burners (default: one per core).
// Prints the wall time, the 1-minute load average sampled every
// SAMPLE_MS, and the result; exits with the suite's exit code.
import { spawn } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'

/** How often the load average is sampled. */
const SAMPLE_MS = 5_000

const burnerCount = process.env.BITP2P_BURNERS !== undefined ? Number(process.env.BITP2P_BURNERS) : availableParallelism()
if (!Number.isInteger(burnerCount) || burnerCount < 0) {
  console.error(`test-under-load: BITP2P_BURNERS must be a whole number, got '${process.env.BITP2P_BURNERS}'`)
  process.exit(2)
}

// A burner spins on one core until it is killed; it holds no resource a
// test needs (no port, no file), only CPU.
const burners = Array.from({ length: burnerCount }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
)
function stopBurners() {
  for (const b of burners) if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL')
}
// Burners never outlive this script, however it ends.
process.on('exit', stopBurners)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    stopBurners()
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1))
  })
}

const samples = []
const sample = () => samples.push(loadavg()[0])
sample()
const sampler = setInterval(sample, SAMPLE_MS)

const args = ['test', '--', '--force', ...process.argv.slice(2)]
console.log(`test-under-load: ${burnerCount} burner(s) on ${availableParallelism()} core(s); npm ${args.join(' ')}`)
const t0 = performance.now()
const suite = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { stdio: 'inherit' })
suite.once('error', (e) => {
  console.error(`test-under-load: cannot run npm: ${e.message}`)
  process.exit(1)
})
suite.once('close', (code, signal) => {
  clearInterval(sampler)
  sample()
  stopBurners()
  const seconds = Math.round((performance.now() - t0) / 1000)
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length
  const status = code ?? 1
  console.log(
    `test-under-load: ${status === 0 ? 'PASSED' : 'FAILED'} (exit ${code ?? signal}) in ${seconds} s with ${burnerCount} burner(s); ` +
      `1-min load average min ${Math.min(...samples).toFixed(2)}, mean ${mean.toFixed(2)}, max ${Math.max(...samples).toFixed(2)} ` +
      `over ${samples.length} samples`,
  )
  console.log(`test-under-load: load samples every ${SAMPLE_MS / 1000} s: ${samples.map((s) => s.toFixed(1)).join(' ')}`)
  process.exit(status)
})
