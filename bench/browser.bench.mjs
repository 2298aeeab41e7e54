// The wire benchmark in headless Chromium: the pure-JS (browser) build of
// @bitp2p/wire, bundled with esbuild and served on 127.0.0.1, parses block
// 702861 (parse + txids + wtxids) and decodes 100,000 mainnet pings in
// 64 KiB chunks inside the page; the same functions (browser-workloads.mjs)
// run in this Node process on both builds, in the same rounds, and the
// ratios are printed. No timing is asserted anywhere.
//
//   node bench/browser.bench.mjs           # full run: 5 to 12 rounds until stable; writes bench/browser-results.json
//   node bench/browser.bench.mjs --quick   # 2 rounds, shorter measurements, writes nothing
//
// Each round runs the page's measurements, then Node's on both builds
// (interleaved: a burst of load hits one round of all three); its ratios are
// Chromium's time over Node's in that round. Rounds repeat until every
// ratio's spread is under 10 % (untilStable, bench/lib/harness.mjs); the load
// average and the machine's reference rates are printed before and after.
//
// Chromium: CHROMIUM_PATH, else Debian's (/usr/lib/chromium/chromium or
// /usr/bin/chromium), launched through playwright; never a downloaded
// browser. Without Chromium or the block data the benchmark says so and exits.
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright'
import * as nativeMain from '@bitp2p/wire' // "node" condition: the Node build
import * as nativeCodecs from '@bitp2p/wire/codecs'
import * as nativeConsensus from '@bitp2p/wire/consensus'
import * as pureMain from '../packages/wire/dist/index.js' // the default (browser) build
import * as pureCodecs from '../packages/wire/dist/codecs.js'
import * as pureConsensus from '../packages/wire/dist/consensus.js'
import { measureRound, parseBlockWithIds, pingStream } from './browser-workloads.mjs'
import { finishRun, median, startRun, untilStable, writeResults } from './lib/harness.mjs'

const BLOCK = new URL('../../shared/data/blocks/block702861.raw', import.meta.url)
const RESULTS = new URL('./browser-results.json', import.meta.url)
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p))
const CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic']
/** Frames: 100,000 pings in 64 KiB chunks (issue 17). */
const PINGS = 100_000
const CHUNK = 64 * 1024

const quick = process.argv.includes('--quick')
/** Rounds at least (the last ROUNDS are judged), at most, and the wall-time cap on them (a round takes ~5 s). */
const ROUNDS = quick ? 2 : 5
const MAX_ROUNDS = quick ? 2 : 12
const MAX_MS = 120_000
/** Time per measurement (ms): each runs until this much has passed. */
const MIN_MS = quick ? 150 : 600

const native = { ...nativeMain, ...nativeCodecs, ...nativeConsensus }
const pure = { ...pureMain, ...pureCodecs, ...pureConsensus }

/** The page's script: the pure build and the workloads, one ES module with nothing to fetch. */
async function bundlePage() {
  const here = fileURLToPath(new URL('.', import.meta.url))
  const out = await build({
    stdin: {
      contents: `
        import * as main from '../packages/wire/dist/index.js'
        import * as codecs from '../packages/wire/dist/codecs.js'
        import * as consensus from '../packages/wire/dist/consensus.js'
        import { SHA256_BACKEND } from '../packages/wire/dist/hash.js'
        import { measureRound, parseBlockWithIds, pingStream } from './browser-workloads.mjs'
        const lib = { ...main, ...codecs, ...consensus }
        let inputs
        // Fetch the block from the bench's server, build the ping stream: once, before any timing.
        globalThis.benchSetup = async ({ pings, chunk }) => {
          const raw = new Uint8Array(await (await fetch('/block.raw')).arrayBuffer())
          inputs = { raw, stream: pingStream(lib, pings), pings, chunk }
          return { ids: parseBlockWithIds(lib, raw), streamBytes: inputs.stream.length, backend: SHA256_BACKEND }
        }
        globalThis.benchRound = (minMs) => measureRound(lib, { ...inputs, minMs, now: () => performance.now() })
      `,
      resolveDir: here,
      sourcefile: 'browser-page.mjs',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    // 'error': rollup's dist keeps bare imports of side-effect-free modules, which esbuild warns about and drops.
    logLevel: 'error',
  })
  return out.outputFiles[0].text
}

/** An HTTP server on 127.0.0.1 (an ephemeral port) serving the page, its script and the block. */
async function serve(script, block) {
  const page = '<!doctype html><meta charset="utf-8"><title>bitp2p wire bench</title><script type="module" src="/bench.js"></script>'
  const routes = {
    '/': ['text/html', page],
    '/bench.js': ['text/javascript', script],
    '/block.raw': ['application/octet-stream', block],
  }
  const server = createServer((req, res) => {
    const route = routes[req.url ?? '']
    if (!route) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': route[0] }).end(route[1])
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${server.address().port}/` }
}

async function main() {
  const run = startRun('browser')
  const results = { pings: PINGS, chunk: CHUNK }
  let stability
  const skip = (why) => {
    console.log(`SKIP: ${why}`)
    finishRun(run)
  }
  if (!existsSync(BLOCK)) return skip(`${fileURLToPath(BLOCK)} is absent (the shared data directory is not beside the repo)`)
  if (CHROMIUM_PATH === undefined) return skip('no Chromium (apt-get install chromium, or set CHROMIUM_PATH)')

  const raw = new Uint8Array(readFileSync(BLOCK))
  const stream = pingStream(native, PINGS)
  const { server, url } = await serve(await bundlePage(), raw)
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
  try {
    const page = await browser.newPage()
    await page.goto(url)
    await page.waitForFunction(() => typeof globalThis.benchSetup === 'function')
    const setup = await page.evaluate((o) => globalThis.benchSetup(o), { pings: PINGS, chunk: CHUNK })
    // Same work in both places: the same ids, the same stream.
    if (setup.ids !== parseBlockWithIds(native, raw) || setup.streamBytes !== stream.length) throw new Error(`page disagrees with Node: ${JSON.stringify(setup)}`)
    results.chromium = browser.version()
    console.log(`Chromium ${results.chromium} (${CHROMIUM_PATH}); page build's SHA-256: ${setup.backend}`)

    const inputs = { raw, stream, pings: PINGS, chunk: CHUNK, minMs: MIN_MS, now: () => performance.now() }
    const rounds = []
    /** The ratios of a round: Chromium's time over Node's, same build and Node build, named for RESULTS.md. */
    const RATIO_NAMES = {
      'block: Chromium / Node, pure-JS build (time)': ['blockMs', 'nodePure'],
      'block: Chromium / Node build (time)': ['blockMs', 'nodeNative'],
      'frames: Chromium / Node, pure-JS build (time)': ['framesMs', 'nodePure'],
      'frames: Chromium / Node build (time)': ['framesMs', 'nodeNative'],
    }
    stability = await untilStable(
      async (r) => {
        // Interleaved: a burst of load hits one round of all three, not one of them.
        const chromium = await page.evaluate((ms) => globalThis.benchRound(ms), MIN_MS)
        const nodePure = measureRound(pure, inputs)
        const nodeNative = measureRound(native, inputs)
        const x = { chromium, nodePure, nodeNative }
        rounds.push(x)
        console.log(
          `  round ${r + 1}: block ${chromium.blockMs.toFixed(2)} / ${nodePure.blockMs.toFixed(2)} / ${nodeNative.blockMs.toFixed(2)} ms, ` +
            `frames ${chromium.framesMs.toFixed(1)} / ${nodePure.framesMs.toFixed(1)} / ${nodeNative.framesMs.toFixed(1)} ms (Chromium / Node pure JS / Node build)`,
        )
        return Object.fromEntries(Object.entries(RATIO_NAMES).map(([name, [key, who]]) => [name, x.chromium[key] / x[who][key]]))
      },
      { minRounds: ROUNDS, maxRounds: MAX_ROUNDS, maxMs: MAX_MS, label: 'browser' },
    )
    results.rounds = stability.rounds
    // Times: medians over every round; ratios: medians and spreads over the judged rounds, as the stability record has them.
    const summary = (key, part) => {
      const of = (who) => median(rounds.map((x) => x[who][key]))
      const ratio = (name) => ({ median: stability.ratios[name], spread: stability.spread[name] })
      return {
        ms: { chromium: of('chromium'), nodePure: of('nodePure'), nodeNative: of('nodeNative') },
        chromiumOverNodePure: ratio(`${part}: Chromium / Node, pure-JS build (time)`),
        chromiumOverNodeBuild: ratio(`${part}: Chromium / Node build (time)`),
      }
    }
    results.block = { file: 'block702861.raw', bytes: raw.length, ...summary('blockMs', 'block') }
    results.frames = summary('framesMs', 'frames')
    results.frames.perSecond = Object.fromEntries(Object.entries(results.frames.ms).map(([k, ms]) => [k, PINGS / (ms / 1000)]))

    const line = (label, s, unit) => {
      console.log(`\n${label}`)
      console.log(`  Chromium (pure JS build): ${unit(s.ms.chromium)}; Node, pure JS build: ${unit(s.ms.nodePure)}; Node build: ${unit(s.ms.nodeNative)}`)
      console.log(`  Chromium / Node (same build): ${s.chromiumOverNodePure.median.toFixed(2)}x (spread ${(s.chromiumOverNodePure.spread * 100).toFixed(0)}%); Chromium / Node build: ${s.chromiumOverNodeBuild.median.toFixed(2)}x (spread ${(s.chromiumOverNodeBuild.spread * 100).toFixed(0)}%)`)
    }
    line(`block 702861, parse + txids + wtxids (median of ${stability.rounds} rounds):`, results.block, (ms) => `${ms.toFixed(2)} ms`)
    line(`${PINGS.toLocaleString()} pings through MessageDecoder, ${CHUNK / 1024} KiB chunks:`, results.frames, (ms) => `${Math.round(PINGS / (ms / 1000)).toLocaleString()} msg/s`)
  } finally {
    await browser.close()
    server.close()
  }
  if (quick) finishRun(run)
  else writeResults(RESULTS, run, stability, results)
}

await main()
