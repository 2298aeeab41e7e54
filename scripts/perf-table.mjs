// The figures the docs state about speed, rendered from the benchmarks'
// latest results (bench/*results.json, packages/transport-mock/bench/
// peers-results.json), each with the date and the machine's load of the run
// it comes from, so no figure in those places is typed by hand:
//
//   node scripts/perf-table.mjs            # print every generated block
//   node scripts/perf-table.mjs --write    # rewrite them in the docs (after a bench run)
//   node scripts/perf-table.mjs --check    # exit 1 when a doc differs from its results
//
// A generated block sits between `<!-- perf:NAME ... -->` and
// `<!-- /perf:NAME -->` in its file; only the text between the markers is
// rewritten. One file is generated whole from the same results:
// bench/RESULTS.md, the one table of every bench's run (date, Node, load,
// the machine's reference rates, how many rounds and whether they held) and
// every ratio it recorded. `npm run bench` ends with --write.
// packages/transport-tcp/test/perf-table.test.ts (run by the suite) fails
// when a doc or RESULTS.md is out of date.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * Targets of the blocks benchmark on block 702,861 (issues 1 and 17): ratios
 * bitp2p must reach, all measured in one run: faster than bitcoinjs-lib and
 * bcoin by these factors, parse + txids + wtxids within maxOverFloor of the
 * node:crypto hashing floor, the pure-JS build within maxPureOverNode of the
 * Node build, the streaming parser within maxStreamOverWhole of the
 * whole-block parser.
 */
const BLOCK_TARGETS = { vsBitcoinjs: 5, vsBcoin: 5, maxOverFloor: 1.3, maxPureOverNode: 2, maxStreamOverWhole: 1.1 }
/** The block the README's headline parsing figure is about: the ~1.4 MB segwit block. */
const HEADLINE_BLOCK = 'block702861.raw'

/** Reads a results file (a path from the root); tests pass their own reader. */
export function readResults(path) {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8'))
}

// --- formatting -------------------------------------------------------------

const int = (n) => Math.round(n).toLocaleString('en-US')
const fixed = (n, d) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
/** Three significant digits at most, grouped: 1.25, 12.5, 125, 1,250. */
const sig = (n) => (n >= 100 ? int(n) : fixed(n, n >= 10 ? 1 : 2))
const day = (r) => r.date.slice(0, 10)
const mib = (bytes) => bytes / 1024 / 1024

/** The 1-minute load averages at the start and the end of a run, as each bench records them (arrays or strings). */
export function loads(r) {
  const first = (v) => (v === undefined ? undefined : Array.isArray(v) ? v[0] : Number(String(v).split(' ')[0]))
  // `load`: the one load average compact.bench.mjs recorded, at the end, before it used bench/lib/harness.mjs.
  return { start: first(r.loadStart ?? r.loadBefore), end: first(r.loadEnd ?? r.loadAfter ?? r.loadAverage ?? r.load) }
}

/** "load 13.9 to 11.1" (1-minute averages at the start and the end), or what of it was recorded. */
export function loadText(r) {
  const { start, end } = loads(r)
  if (start !== undefined && end !== undefined) return `load ${fixed(start, 1)} to ${fixed(end, 1)}`
  if (end !== undefined) return `load ${fixed(end, 1)} at the end`
  if (start !== undefined) return `load ${fixed(start, 1)} at the start`
  return 'load not recorded'
}

/** The run a figure comes from: date and load. */
const run = (r) => `${day(r)}, ${loadText(r)}`
/** The same, in a sentence: Node version and both load averages; `extra` follows it. */
function runSentence(r, extra = '') {
  const { start, end } = loads(r)
  const load =
    start !== undefined && end !== undefined ? `1-minute load average ${fixed(start, 2)} at the start and ${fixed(end, 2)} at the end` : loadText(r).replace('load', '1-minute load average')
  return `Last run: ${day(r)}, Node ${r.node}, on the project's shared machine with other work running (${load}).${extra ? ` ${extra}` : ''}`
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// --- the results ------------------------------------------------------------

/** Every results file the docs quote, by name. */
export const RESULT_FILES = {
  wire: 'bench/results.json',
  blocks: 'bench/blocks-results.json',
  browser: 'bench/browser-results.json',
  headers: 'bench/headers-results.json',
  sync: 'bench/sync-results.json',
  fetch: 'bench/fetch-results.json',
  v2: 'bench/v2-results.json',
  bigblock: 'bench/bigblock-results.json',
  pool: 'bench/pool-results.json',
  peers: 'packages/transport-mock/bench/peers-results.json',
  peersScale: 'packages/transport-mock/bench/scale-results.json',
  filters: 'bench/filters-results.json',
  flood: 'bench/mempool-flood-results.json',
  lightScan: 'bench/light-scan-results.json',
  setup: 'bench/setup-results.json',
  jetstream: 'bench/jetstream-results.json',
  compact: 'bench/compact-results.json',
}

/** Results files with no row in the README's performance table: setup has its own section, jetstream and compact are only in RESULTS.md. */
export const NOT_IN_TABLE = new Set(['setup', 'jetstream', 'compact'])

/** The file generated whole from the results (not a block in a doc). */
export const RESULTS_MD = 'bench/RESULTS.md'

function load(read) {
  return Object.fromEntries(Object.entries(RESULT_FILES).map(([k, path]) => [k, read(path)]))
}

// --- root README ------------------------------------------------------------

function blocksRow(w) {
  const b = w.blocks[HEADLINE_BLOCK]
  if (!b) throw new Error(`${RESULT_FILES.blocks} has no ${HEADLINE_BLOCK}: run the blocks bench with ../shared/data/blocks present`)
  const ours = b.ns['bitp2p (node:crypto)']
  const x = (name) => fixed(b.ratios[name].median, 1)
  return [
    `block parse + all txids + wtxids, block ${int(Number(HEADLINE_BLOCK.match(/\d+/)[0]))} (${int(b.txs)} txs, ${fixed(b.bytes / 1e6, 1)} MB)`,
    `${sig(ours / 1e6)} ms: **${x('bitcoinjsOverOurs')}x** faster than bitcoinjs-lib, **${x('bcoinOverOurs')}x** than bcoin, ${x('scureOverOurs')}x than @scure/btc-signer; ${fixed(b.vsAllFloor, 2)}x the node:crypto hashing floor; pure-JS build ${fixed(b.ratios.pureOverNode.median, 2)}x the Node build's time, streaming parser ${fixed(b.ratios.streamOverWhole.median, 2)}x the whole-block parser's (both checking the merkle root and witness commitment)`,
    run(w),
    '`node bench/blocks.bench.mjs`',
  ]
}

function framesRow(w) {
  const f = w.frames
  if (f['node:crypto']) {
    // The single-stream form of runs before the bcoin / bitcore-p2p comparison.
    return [
      `frame decode (\`MessageDecoder\`, every checksum verified), ${int(f['node:crypto'].messages)} small messages in 64 KiB chunks`,
      `**${int(f['node:crypto'].perSecond)} messages/s** (Node build), ${int(f['pure JS'].perSecond)} messages/s (pure-JS build)`,
      run(w),
      '`node bench/wire.bench.mjs`',
    ]
  }
  const cell = (label) => {
    const row = f[label]
    const ours = row['bitp2p (node:crypto build)'].perSecond
    return `${label}: **${int(ours)}/s**, ${fixed(ours / row['bcoin Parser'].perSecond, 1)}x bcoin's \`Parser\`, ${fixed(ours / row['bitcore-p2p Messages'].perSecond, 1)}x bitcore-p2p`
  }
  return [
    'frame decode (`MessageDecoder`, every checksum verified, typed messages), 100,000 mainnet `ping`s, same chunks for every library in one process',
    Object.keys(f).filter((k) => k.startsWith('ping,')).map(cell).join('; '),
    run(w),
    '`node bench/wire.bench.mjs`',
  ]
}

function browserRow(b) {
  const x = (r) => fixed(r.median, 2)
  return [
    `the pure-JS build in headless Chromium ${b.chromium.split('.')[0]} against Node, same functions, same rounds: block ${int(Number(b.block.file.match(/\d+/)[0]))} parse + ids, ${int(b.pings)} pings through \`MessageDecoder\` (${b.chunk / 1024} KiB chunks)`,
    `block ${sig(b.block.ms.chromium)} ms in Chromium, **${x(b.block.chromiumOverNodePure)}x** the same build's time in Node (${x(b.block.chromiumOverNodeBuild)}x the Node build's); frames ${int(b.frames.perSecond.chromium)} msg/s in Chromium, **${x(b.frames.chromiumOverNodePure)}x** the time in Node (${x(b.frames.chromiumOverNodeBuild)}x the Node build's)`,
    run(b),
    '`node bench/browser.bench.mjs`',
  ]
}

function syncRow(s) {
  return [
    `header sync over TCP from bcoin, ${int(s.blocks)} headers, fully validated`,
    `**${int(s.bitp2p.headersPerSec)} headers/s**, ${fixed(s.ratio, 1)}x bcoin's own SPV node (${int(s.bcoinSpv.headersPerSec)}/s)`,
    run(s),
    '`node bench/sync.bench.mjs`',
  ]
}

function fetchRow(f) {
  return [
    `\`BlockFetcher\` over TCP from bcoin (${int(f.blocks.count)} blocks, ${fixed(f.blocks.totalBytes / 1e6, 1)} MB)`,
    `**${int(f.fetch.blocksPerSec)} blocks/s, ${fixed(f.fetch.mbPerSec, 1)} MB/s** (the parser alone: ${fixed(f.parseOnly.mbPerSec, 1)} MB/s; CPU busy: bcoin ${int(f.cpuShare.bcoin * 100)} %, bitp2p ${int(f.cpuShare.bitp2p * 100)} %)`,
    run(f),
    '`node bench/fetch.bench.mjs`',
  ]
}

function v2Row(v) {
  const d = v.download
  return [
    `BIP324 v2 against v1: block download over TCP from one btcd ${v.btcd} (\`--v2transport\`), ${d.v1.rounds.length} rounds each of ${v.blocks.count} blocks, ${fixed(v.blocks.totalBytes / 1e6, 1)} MB, same blocks, same process`,
    `v2 at **${fixed(d.v2OverV1, 2)}** of v1's MB/s (${fixed(d.v2.mbPerSec, 1)} against ${fixed(d.v1.mbPerSec, 1)} MB/s; median of the rounds' own ratios ${fixed(d.v2OverV1MedianOfRounds, 2)}; goal: ${d.goal}); CPU per MB, ours ${fixed(d.v2.cpuMsPerMB.bitp2p, 1)} ms in v2 and ${fixed(d.v1.cpuMsPerMB.bitp2p, 1)} in v1, btcd's ${fixed(d.v2.cpuMsPerMB.btcd, 1)} and ${fixed(d.v1.cpuMsPerMB.btcd, 1)}. Handshake ${sig(v.handshake.v2.medianMs)} ms (v1: ${sig(v.handshake.v1.medianMs)} ms)`,
    run(v),
    '`node bench/v2.bench.mjs`',
  ]
}

function headersRow(h) {
  return [
    `header validation (\`HeaderTree.acceptMany\`, ${int(h.headers)} headers decoded from \`headers\` messages, full contextual rules)`,
    `**${int(h.nodeBuild.best)} headers/s** (best of ${h.rounds} rounds; median ${int(h.nodeBuild.median)}; goal ${int(h.goal)}); the pure-JS (browser) build, whose header hash is a compact loop version of the same code: best ${int(h.pureBuild.best)}, median ${int(h.pureBuild.median)}. The Node build's 80-byte header hash alone: ${int(h.sha256dPerSecond.headerHashInto)}/s (wire's general \`sha256d\`, Node build: ${int(h.sha256dPerSecond.nodeCrypto)}/s; node:crypto's one-shot \`crypto.hash\` twice: ${h.sha256dPerSecond.nodeOneShot === undefined ? 'not recorded' : `${int(h.sha256dPerSecond.nodeOneShot)}/s`})`,
    run(h),
    '`node bench/headers.bench.mjs`',
  ]
}

function bigblockRow(b) {
  const secs = b.rounds.map((r) => r.seconds)
  const rates = b.rounds.map((r) => r.mbPerSecond)
  return [
    `a ${fixed(b.blockBytes / 1e9, 1)} GB BSV block (${int(b.blockBytes)} bytes, one \`extmsg\`) streamed over TCP into \`Peer\` + \`BlockFetcher\`, merkle root checked`,
    `${int(mib(b.blockBytes))} MiB in ${fixed(Math.min(...secs), 1)}-${fixed(Math.max(...secs), 1)} s (${int(Math.min(...rates))}-${int(Math.max(...rates))} MiB/s); **peak RSS ${fixed(b.medianPeakRssGrowthMB, 1)} MiB above baseline** (median of ${b.rounds.length}, worst ${fixed(b.worstPeakRssGrowthMB, 1)}; goal < ${int(b.goalMB)} MiB), sender in another process`,
    run(b),
    '`node --expose-gc bench/bigblock.bench.mjs`',
  ]
}

function peersRow(p) {
  const h = p.handshakes.find((x) => !x.trace)
  return [
    `${int(h.peers)} virtual peers through handshake and first ping (virtual time)`,
    `**${fixed(h.wallMs / 1000, 1)} s** wall${h.cpuMs === null ? '' : ` (${fixed(h.cpuMs / 1000, 1)} s of CPU)`}, ${int(h.peersPerSecond)} peers/s (goal < ${fixed(h.goalMs / 1000, 0)} s of wall time)`,
    run(p),
    '`cd packages/transport-mock && node bench/run.mjs`',
  ]
}

/** The --max-old-space-size (MiB) a scale run was given, or undefined. */
const heapLimitMiB = (r) => {
  const flag = (r.nodeFlags ?? []).find((f) => f.startsWith('--max-old-space-size='))
  return flag === undefined ? undefined : Number(flag.split('=')[1])
}

/** The scale run the headline row quotes: 100,000 peers (issue 17's goal), else the largest that completed; runs without a heap limit. */
/** Visits in flight at most in a scale run, or undefined for all at once. */
const concurrencyOf = (r) => r.concurrency ?? undefined

function headlineScale(s) {
  const done = s.runs.filter((r) => r.completed && heapLimitMiB(r) === undefined && concurrencyOf(r) === undefined)
  return done.find((r) => r.peers === 100_000) ?? done.sort((a, b) => b.peers - a.peers)[0]
}

function peersScaleRow(s) {
  const r = headlineScale(s)
  // The same size run again under a heap limit, if it was: whether it fits, and what the GC then costs.
  const limited = s.runs.find((x) => x.peers === r.peers && heapLimitMiB(x) !== undefined && concurrencyOf(x) === undefined)
  // The same size with a bounded number of visits in flight (Simulation.visitAll's concurrency), if it was run.
  const bounded = s.runs.find((x) => x.peers === r.peers && x.completed && heapLimitMiB(x) === undefined && concurrencyOf(x) !== undefined)
  const boundedText =
    bounded === undefined
      ? ''
      : `; with at most ${int(bounded.concurrency)} visits in flight: ${fixed(bounded.cpuUsPerEvent, 1)} µs per event, peak sampled heap ${int(bounded.peakHeapMiB)} MiB`
  const fits =
    limited === undefined
      ? ''
      : limited.completed
        ? `; completes with a ${int(heapLimitMiB(limited))} MiB heap limit (${fixed(limited.cpuUsPerEvent, 1)} µs per event)`
        : `; does not complete with a ${int(heapLimitMiB(limited))} MiB heap limit`
  return [
    `${int(r.peers)} virtual peers through handshake and first ping at once, labelled and hashed trace (CPU per event)`,
    `**${fixed(r.cpuUsPerEvent, 1)} µs of CPU per event** (${int(r.events)} events; goal <= 10 µs), peak sampled heap ${int(r.peakHeapMiB)} MiB, garbage included (goal < 2,048 MiB)${fits}, peak RSS ${int(r.peakRssMiB)} MiB${boundedText}`,
    run(s),
    '`cd packages/transport-mock && node --expose-gc bench/scale.mjs 10000 50000 100000`',
  ]
}

function poolRow(p) {
  const c = p.connections
  return [
    `memory per connection (${int(c.count)} connections, both ends counted)`,
    `**${fixed(c.heapPerConnectionKiB, 1)} KiB** of heap; ${fixed(c.idleCpuUsPerConnectionMinute, 1)} µs of CPU per connection-minute idle`,
    run(p),
    '`node --expose-gc bench/pool.bench.mjs`',
  ]
}

function filtersRow(f) {
  const at = (n) => f.sets.find((s) => s.scripts === n)
  const parts = [1_000, 100_000].map(at).filter(Boolean)
  return [
    `BIP158 filter matching (\`FilterMatcher\`, ${int(f.filters.count)} mainnet-sized filters of ~${int(f.filters.meanN)} scripts, CPU time)`,
    parts
      .map((s, i) => `${i === 0 ? '**' : ''}${int(s.newMatchAny.median)} filters/s${i === 0 ? '**' : ''} watching ${int(s.scripts)} scripts (${fixed(s.speedup, 1)}x the old path${s.goal ? `; goal ${int(s.goal)}/s` : ''})`)
      .join(', '),
    run(f),
    '`node bench/filters.bench.mjs`',
  ]
}

function floodRow(m) {
  const n = m.network
  return [
    `\`MempoolMonitor\` while ${n.flooders} peers flood maximal \`inv\`s over TCP`,
    `**${n.fetched}/${n.honestTxs}** honest transactions fetched during the flood, median latency ${int(n.latencyMs.median)} ms (p95 ${int(n.latencyMs.p95)}); ${fixed(n.heapHeldPerFlooderMiB, 1)} MiB of heap held per flooding connection`,
    run(m),
    '`node --expose-gc bench/mempool-flood.bench.mjs`',
  ]
}

function lightScanRow(l) {
  const m = l.median
  return [
    `light client: \`ScriptWatcher\` from genesis over TCP from btcd ${l.btcd}, ${int(l.blocks)} blocks, one watched address paid ${l.payments} times`,
    `**${int(m.wallMs)} ms** to caught up (median of ${l.rounds}: headers ${int(m.headersMs)} ms, filter headers ${int(m.filterHeadersMs)} ms, filters and the ${l.blocksFetched} matching blocks ${int(m.filtersAndBlocksMs)} ms); CPU bitp2p ${int(m.bitp2pCpuMs)} ms, btcd ${int(m.btcdCpuMs)} ms; peak RSS ${int(l.maxRssMB)} MB`,
    run(l),
    '`node bench/light-scan.bench.mjs`',
  ]
}

function performance(r) {
  const rows = [
    blocksRow(r.blocks),
    browserRow(r.browser),
    framesRow(r.wire),
    syncRow(r.sync),
    fetchRow(r.fetch),
    v2Row(r.v2),
    headersRow(r.headers),
    filtersRow(r.filters),
    floodRow(r.flood),
    lightScanRow(r.lightScan),
    bigblockRow(r.bigblock),
    peersRow(r.peers),
    peersScaleRow(r.peersScale),
    poolRow(r.pool),
  ]
  const nodes = [...new Set(Object.entries(r).filter(([k]) => !NOT_IN_TABLE.has(k)).map(([, x]) => x.node))].sort()
  const cores = r.setup.firstBuild.cores
  return [
    `Each figure comes from the latest recorded run of its benchmark (\`bench/*results.json\`,`,
    `\`packages/transport-mock/bench/peers-results.json\`), on the project's shared`,
    `${cores}-core machine (Node ${nodes.join(', ')}) while other work was running on it: the`,
    `run column gives the date and the machine's 1-minute load average at the start and the end`,
    `of the run (above ${cores} means processes were waiting for a core, so absolute figures are`,
    `pessimistic; ratios measured in one process much less so). Every bench's run, with the`,
    `machine's reference rates and every ratio it recorded, is in [\`bench/RESULTS.md\`](bench/RESULTS.md),`,
    `from the same files; details and method in [\`bench/README.md\`](bench/README.md). Run`,
    `\`npm run build\` first: the benchmarks use the built packages.`,
    '',
    '| what | figure | run | reproduce |',
    '|---|---|---|---|',
    ...rows.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n')
}

function setup(r) {
  const b = r.setup.firstBuild
  const s = r.setup.suite
  const minutes = (secs) => (secs < 90 ? `${int(secs)} s` : `${int(secs)} s, about ${int(secs / 60)} min`)
  return [
    `How long it takes on the project's shared machine (${b.cores} cores, ${b.cpu}, other work running):`,
    `the first \`npm run build\` (nothing built or cached) took **${minutes(b.seconds)}** (${run(b)}, Node ${b.node});`,
    `\`npm test\` took **${minutes(s.npmTestSeconds)}** in the last CI run on record (${day(s)}; ${int(s.passed)} tests passed,`,
    `${int(s.failed)} failed, ${int(s.skipped)} skipped; \`.ci/run\` in all, with \`npm ci\`: ${int(s.ciSeconds)} s). Measured with`,
    `\`node bench/setup.bench.mjs\` (the build) and \`node bench/setup.bench.mjs --ci-log <.ci/run output>\` (the suite).`,
  ].join('\n')
}

// --- bench/README.md --------------------------------------------------------

function blocksDetails(r) {
  const w = r.blocks
  const lines = [
    runSentence(
      w,
      w.stability
        ? `Times are medians of ${w.blocks[HEADLINE_BLOCK]?.rounds ?? 'several'} interleaved rounds (mitata means within a round); each ratio is the median of the rounds' own ratios over the last rounds the bench judged (see [\`RESULTS.md\`](RESULTS.md)).`
        : `Times are mitata means, the median of ${w.blocks[HEADLINE_BLOCK]?.rounds ?? 'several'} interleaved rounds; each ratio is the median of the rounds' own ratios.`,
    ),
    '',
    '### Block parse + all txids + all wtxids',
    '',
  ]
  lines.push(
    '| block | bitp2p (node:crypto) | bitp2p (pure JS) | bitcoinjs-lib | bcoin | @scure/btc-signer | vs bitcoinjs | vs bcoin | parse+txids / txid floor | parse+txids+wtxids / floor | pure JS / Node build | streaming / whole-block |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  )
  const ms = (ns) => `${fixed(ns / 1e6, 2)} ms`
  for (const [name, b] of Object.entries(w.blocks)) {
    const q = (k) => `${fixed(b.ratios[k].median, 2)}x`
    lines.push(
      `| ${name} (${b.txs} txs, ${b.segwit} segwit) | ${ms(b.ns['bitp2p (node:crypto)'])} | ${ms(b.ns['bitp2p (pure JS)'])} | ${ms(b.ns['bitcoinjs-lib'])} | ${ms(b.ns['bcoin (node:crypto)'])} | ${ms(b.ns['@scure/btc-signer'])} | ` +
        `${q('bitcoinjsOverOurs')} | ${q('bcoinOverOurs')} | ${q('vsTxidFloor')} | ${q('vsAllFloor')} | ${q('pureOverNode')} | ${q('streamOverWhole')} |`,
    )
  }
  const b = w.blocks[HEADLINE_BLOCK]
  if (b) {
    const verdict = (ok) => (ok ? 'met' : 'not met in this run')
    const m = (k) => b.ratios[k].median
    const T = BLOCK_TARGETS
    lines.push(
      '',
      `Targets on ${HEADLINE_BLOCK.replace('.raw', '')} (the ~1.4 MB segwit block): at least ${T.vsBitcoinjs}x faster than bitcoinjs-lib (${fixed(m('bitcoinjsOverOurs'), 2)}x: ${verdict(m('bitcoinjsOverOurs') >= T.vsBitcoinjs)}), ` +
        `at least ${T.vsBcoin}x faster than bcoin with node:crypto hashing (${fixed(m('bcoinOverOurs'), 2)}x: ${verdict(m('bcoinOverOurs') >= T.vsBcoin)}), ` +
        `within ${T.maxOverFloor}x of the node:crypto hashing floor: parse + txids + wtxids against the txid + wtxid floor ${fixed(b.vsAllFloor, 2)}x (${verdict(b.vsAllFloor <= T.maxOverFloor)}), ` +
        `parse + txids alone against the txid-only floor ${fixed(b.vsTxidFloor, 2)}x (${verdict(b.vsTxidFloor <= T.maxOverFloor)}); ` +
        `the pure-JS build within ${T.maxPureOverNode}x of the Node build (${fixed(m('pureOverNode'), 2)}x: ${verdict(m('pureOverNode') <= T.maxPureOverNode)}); ` +
        `the streaming parser (${w.streamChunk / 1024} KiB chunks, merkle root and witness commitment checked) within ${T.maxStreamOverWhole}x of the whole-block parser doing the same (${fixed(m('streamOverWhole'), 2)}x: ${verdict(m('streamOverWhole') <= T.maxStreamOverWhole)}; ` +
        `the unverified stream, which still builds both merkle trees, against parse + ids alone: ${fixed(m('streamNoVerifyOverWhole'), 2)}x).`,
      '',
      `Spread of ${w.stability?.[HEADLINE_BLOCK.replace('.raw', '')] ? `the last ${w.stability[HEADLINE_BLOCK.replace('.raw', '')].window} of the ${b.rounds}` : `the ${b.rounds}`} rounds' own ratios ((max - min) / median): ` +
        ['vsAllFloor', 'bcoinOverOurs', 'pureOverNode', 'streamOverWhole'].map((k) => `${k} ${int(b.ratios[k].spread * 100)} %`).join(', ') +
        '. Large spreads mean the load moved during the run: compare the medians of runs at similar loads.',
    )
  }
  return lines.join('\n')
}

function browserDetails(r) {
  const b = r.browser
  const ms = (x) => `${fixed(x, 2)} ms`
  const row = (label, s, unit) =>
    `| ${label} | ${unit(s.ms.chromium)} | ${unit(s.ms.nodePure)} | ${unit(s.ms.nodeNative)} | ${fixed(s.chromiumOverNodePure.median, 2)}x (spread ${int(s.chromiumOverNodePure.spread * 100)} %) | ${fixed(s.chromiumOverNodeBuild.median, 2)}x (spread ${int(s.chromiumOverNodeBuild.spread * 100)} %) |`
  return [
    runSentence(
      b,
      `Chromium ${b.chromium}, headless; medians of ${b.rounds} interleaved rounds, each ratio the median of the rounds' own ratios${b.stability ? ' over the last rounds the bench judged' : ''}.`,
    ),
    '',
    '| work | Chromium (pure-JS build) | Node, pure-JS build | Node build | Chromium / Node, same build | Chromium / Node build |',
    '|---|--:|--:|--:|--:|--:|',
    row(`${b.block.file.replace('.raw', '')}: parse + txids + wtxids`, b.block, ms),
    row(`${int(b.pings)} pings through \`MessageDecoder\`, ${b.chunk / 1024} KiB chunks`, b.frames, (x) => `${fixed(x, 1)} ms (${int(b.pings / (x / 1000))} msg/s)`),
  ].join('\n')
}

function wireDetails(r) {
  const w = r.wire
  const rate = (x) => int(x.perSecond)
  return [
    runSentence(
      w,
      w.stability
        ? `Rates are medians of ${w.rounds} interleaved rounds: they move with the load, the ratios (each round's own, in [\`RESULTS.md\`](RESULTS.md)) less.`
        : 'Times are mitata means: they move with the load, the ratios less.',
    ),
    '',
    '### Frames and headers',
    '',
    ...frameLines(w.frames),
    `- General-purpose \`sha256d\` on 80-byte inputs: ${rate(w.headers['node:crypto'])}/s (node:crypto), ${rate(w.headers['pure JS'])}/s (pure JS). Block hashes and header validation no longer use it: ` +
      `they go through \`hash/header-hash.ts\` (\`header-hash.node.ts\` in the Node build), the dedicated 80-byte sha256d, at ${int(r.headers.sha256dPerSecond.headerHashInto)}/s in the Node build (headers bench, ${run(r.headers)}; see "Header validation" below).`,
  ].join('\n')
}

/**
 * The frame-decode lines: one per stream and chunk size (bench/wire.bench.mjs
 * writes `frames` as { label: { decoder: { ns, perSecond } } }), or the old
 * single-line form ({ 'node:crypto': {...}, 'pure JS': {...} }) of older runs.
 */
function frameLines(frames) {
  const rate = (x) => int(x.perSecond)
  if (frames['node:crypto']) {
    return [`- Frame decode, ${int(frames['node:crypto'].messages)} small messages in 64 KiB chunks: ${rate(frames['node:crypto'])} messages/s (node:crypto), ${rate(frames['pure JS'])} messages/s (pure JS).`]
  }
  return Object.entries(frames).map(([label, row]) => {
    const ours = row['bitp2p (node:crypto build)']
    return (
      `- Frame decode, 100,000 mainnet messages, ${label}: ${rate(ours)} messages/s (Node build), ${rate(row['bitp2p (pure JS build)'])} (pure JS build); ` +
      `bcoin's Parser ${rate(row['bcoin Parser'])} (bitp2p ${fixed(ours.perSecond / row['bcoin Parser'].perSecond, 2)}x), ` +
      `bitcore-p2p ${rate(row['bitcore-p2p Messages'])} (bitp2p ${fixed(ours.perSecond / row['bitcore-p2p Messages'].perSecond, 2)}x).`
    )
  })
}

function fetchDetails(r) {
  const f = r.fetch
  const mbps = (ms) => (f.blocks.totalBytes / 1e6) / (ms / 1000)
  return [
    runSentence(f),
    '',
    `- Blocks: ${int(f.blocks.count)}, ${int(f.blocks.txs)} transactions, ${fixed(f.blocks.totalBytes / 1e6, 2)} MB; ${int(f.blocks.minBytes)} to ${int(f.blocks.maxBytes)} bytes each (median ${int(f.blocks.medianBytes)}, mean ${int(f.blocks.meanBytes)}).`,
    `- BlockFetcher over TCP from bcoin: **${int(f.fetch.blocksPerSec)} blocks/s, ${fixed(f.fetch.mbPerSec, 1)} MB/s** (median of ${f.fetch.rounds.length} rounds, ${int(f.fetch.medianMs)} ms; rounds ${int(mbps(Math.max(...f.fetch.rounds)))} to ${int(mbps(Math.min(...f.fetch.rounds)))} MB/s).`,
    `- BlockStreamParser alone on the same bytes: **${int(f.parseOnly.blocksPerSec)} blocks/s, ${fixed(f.parseOnly.mbPerSec, 1)} MB/s** (median of ${f.parseOnly.rounds.length} rounds, ${fixed(f.parseOnly.medianMs, 1)} ms).`,
    `- Fetch time is ${fixed(f.fetchOverParse, 1)}x the parse time. During the fetch rounds bcoin's process was busy ${int(f.cpuShare.bcoin * 100)} % of the wall time (CPU time / wall time, from /proc), ours ${int(f.cpuShare.bitp2p * 100)} %.`,
  ].join('\n')
}

function syncDetails(r) {
  const s = r.sync
  return [
    runSentence(s),
    '',
    `- bitp2p: **${int(s.bitp2p.headersPerSec)} headers/s** (median of ${s.rounds} rounds: ${int(s.bitp2p.medianMs)} ms for ${int(s.blocks)} headers, connect included; ${s.bitp2p.getheaders} getheaders; ${int(s.bitp2p.syncOnlyHeadersPerSec)} headers/s from the first getheaders).`,
    `- bcoin SPV node: **${int(s.bcoinSpv.headersPerSec)} headers/s** (median of ${s.rounds} rounds: ${int(s.bcoinSpv.medianMs)} ms).`,
    `- bitp2p is **${fixed(s.ratio, 1)}x** bcoin's SPV node here.`,
    `- CPU time / wall time over the rounds: during the bitp2p rounds the full node was busy ${s.bitp2p.busy.fullNodePct} % and our process ${s.bitp2p.busy.clientPct} %; ` +
      `during the SPV rounds the SPV node's process was busy ${s.bcoinSpv.busy.clientPct} % and the full node ${s.bcoinSpv.busy.fullNodePct} %.`,
  ].join('\n')
}

function headersDetails(r) {
  const h = r.headers
  const hs = h.sha256dPerSecond
  return [
    `${runSentence(h)} ${int(h.headers)} headers, one warm-up round, then ${h.rounds} timed rounds; headers per second:`,
    '',
    '| | best round | median round |',
    '|---|--:|--:|',
    `| HeaderTree.acceptMany, Node build | **${int(h.nodeBuild.best)}** | ${int(h.nodeBuild.median)} |`,
    `| HeaderTree.acceptMany, pure-JS build | ${int(h.pureBuild.best)} | ${int(h.pureBuild.median)} |`,
    `| sha256d of one 80-byte header, Node build: header-hash.node.ts \`hashInto\` (best of 3 passes) | ${int(hs.headerHashInto)} | |`,
    `| same, \`sha256dHeader\` (allocates its scratch and output) | ${int(hs.sha256dHeader)} | |`,
    `| same, node:crypto \`sha256d\` | ${int(hs.nodeCrypto)} | |`,
    `| same, @noble/hashes \`sha256d\` | ${int(hs.noble)} | |`,
    '',
    `Goal for the Node build: ${int(h.goal)} headers/s; the best round reached ${int((h.nodeBuild.best / h.goal) * 100)} % of it, the median ${int((h.nodeBuild.median / h.goal) * 100)} %.`,
  ].join('\n')
}

function poolDetails(r) {
  const p = r.pool
  const c = p.connections
  const [ab, fifo] = ['AddressBook', 'FifoAddressBook'].map((n) => p.addressBooks.find((b) => b.name === n))
  return [
    runSentence(p),
    '',
    `- ${int(c.count)} connections: **${fixed(c.heapPerConnectionKiB, 1)} KiB of heap per connection** (both ends; ${fixed(c.heapPerConnectionAfterIdleKiB, 1)} KiB after ${c.idleMinutes} idle minutes). Connecting (two handshakes each): ${int(c.connectCpuUsPerConnection)} µs of CPU per connection.`,
    `- Idle with pings: **${fixed(c.idleCpuMsPerMinute, 1)} ms of CPU per virtual minute for ${int(c.count)} connections**, ${fixed(c.idleCpuUsPerConnectionMinute, 1)} µs per connection-minute (both ends pinging); ${int(c.stillReady)} still ready and ${int(c.withRtt)} with RTT samples at the end.`,
    `- \`AddressBook\`: **${int(ab.addsPerSecond)} adds/s**, **${int(ab.selectsPerSecond)} selects/s**; it kept ${int(ab.kept)} of the ${int(ab.addresses)} (Core's bucketing: each source group reaches only 64 of the 1,024 new buckets, so colliding addresses are dropped), ~${int(ab.heapBytesPerEntry)} B of heap per entry.`,
    `- \`FifoAddressBook\`: ${int(fifo.addsPerSecond)} adds/s (${fixed(fifo.addsPerSecond / ab.addsPerSecond, 1)}x), ${int(fifo.selectsPerSecond)} selects/s (${fixed(fifo.selectsPerSecond / ab.selectsPerSecond, 1)}x); kept ${int(fifo.kept)} of ${int(fifo.addresses)}, ~${int(fifo.heapBytesPerEntry)} B per entry.`,
  ].join('\n')
}

function bigblockDetails(r) {
  const b = r.bigblock
  const secs = b.rounds.map((x) => x.seconds)
  const rates = b.rounds.map((x) => x.mbPerSecond)
  return [
    runSentence(b, `Hashing: ${b.hashing}.`),
    '',
    '| | per round |',
    '|---|--:|',
    `| block | ${int(mib(b.blockBytes))} MiB, ${int(b.rounds[0].txCount)} txs, merkle root verified |`,
    `| time | ${fixed(Math.min(...secs), 1)}-${fixed(Math.max(...secs), 1)} s (${int(Math.min(...rates))}-${int(Math.max(...rates))} MiB/s) |`,
    `| peak RSS above baseline (${b.rounds.length} rounds) | median **${fixed(b.medianPeakRssGrowthMB, 1)} MiB**, worst ${fixed(b.worstPeakRssGrowthMB, 1)} MiB (goal < ${int(b.goalMB)} MiB) |`,
    `| baseline RSS | ${fixed(median(b.rounds.map((x) => x.baselineRssMB)), 1)} MiB |`,
  ].join('\n')
}

// --- packages/transport-mock/README.md ---------------------------------------

function peersDetails(r) {
  const p = r.peers
  const row = (h) => {
    const goal = `goal < ${fixed(h.goalMs / 1000, 0)} s: ${h.wallMs < h.goalMs ? 'met' : 'not met'}`
    return h.trace
      ? `| the same with the labelled, hashed trace | ${int(h.wallMs)} ms (${int(h.peersPerSecond)} peers/s; ${goal}) |`
      : `| ${int(h.peers)} peers through handshake and first ping, no trace | **${int(h.wallMs)} ms** wall${h.cpuMs === null ? '' : `, ${int(h.cpuMs)} ms of CPU`} (${int(h.peersPerSecond)} peers/s; ${goal}) |`
  }
  return [
    `Run on ${day(p)} (Node ${p.node}, the project's shared machine with other work running, ${loadText(p)}, 1-minute averages at the start and the end):`,
    '',
    '| run | figure |',
    '|---|---|',
    ...[...p.handshakes].sort((a, b) => Number(a.trace) - Number(b.trace)).map(row),
    `| ${int(p.pinging.peers)} connected peers pinging for ${p.pinging.virtualMinutes} virtual minutes | ${int(p.pinging.wallMs)} ms wall: ${int(p.pinging.virtualSecondsPerWallSecond)} virtual seconds per wall second |`,
    `| ${int(p.visits.peers)} full visits (handshake, ping, getheaders, getdata of a block) | ${int(p.visits.wallMs)} ms (${int(p.visits.visitsPerSecond)} visits/s) |`,
  ].join('\n')
}

// --- bench/RESULTS.md -----------------------------------------------------------

/** How each bench is run, as RESULTS.md names it. */
const COMMANDS = {
  wire: 'node --expose-gc bench/wire.bench.mjs',
  blocks: 'node bench/blocks.bench.mjs',
  browser: 'node bench/browser.bench.mjs',
  headers: 'node --expose-gc bench/headers.bench.mjs',
  sync: 'node bench/sync.bench.mjs',
  fetch: 'node bench/fetch.bench.mjs',
  v2: 'node bench/v2.bench.mjs',
  bigblock: 'node --expose-gc bench/bigblock.bench.mjs',
  pool: 'node --expose-gc bench/pool.bench.mjs',
  peers: 'cd packages/transport-mock && node bench/run.mjs',
  filters: 'node bench/filters.bench.mjs',
  flood: 'node --expose-gc bench/mempool-flood.bench.mjs',
  lightScan: 'node bench/light-scan.bench.mjs',
  setup: 'node bench/setup.bench.mjs',
  jetstream: 'node bench/jetstream.bench.mjs',
  peersScale: 'cd packages/transport-mock && node bench/scale.mjs',
  compact: 'node bench/compact.bench.mjs',
}

/**
 * The ratios a results file written before bench/lib/harness.mjs holds
 * (no `stability` in it), computed from its fields: what RESULTS.md shows
 * for it until the bench is run again. `[name, value]` pairs.
 */
const LEGACY_RATIOS = {
  wire: (w) => [
    // Runs before blocks.bench.mjs recorded block parsing here too.
    ...Object.entries(w.blocks ?? {}).flatMap(([name, b]) => {
      const ours = b.ns['bitp2p (node:crypto)']
      const block = name.replace('.raw', '')
      return [
        [`${block}: bitcoinjs-lib / bitp2p`, b.ns['bitcoinjs-lib'] / ours],
        [`${block}: bcoin / bitp2p`, b.ns['bcoin (node:crypto)'] / ours],
        [`${block}: bitp2p pure JS / node:crypto`, b.ns['bitp2p (pure JS)'] / ours],
        [`${block}: parse + txids over the txid floor`, b.vsTxidFloor],
        [`${block}: parse + txids + wtxids over the floor`, b.vsAllFloor],
      ]
    }),
    ...Object.entries(w.frames ?? {}).flatMap(([label, row]) => {
      const ours = row['bitp2p (node:crypto build)']
      if (ours === undefined) return []
      return [
        [`frames, ${label}: bitp2p / bcoin Parser`, ours.perSecond / row['bcoin Parser'].perSecond],
        [`frames, ${label}: bitp2p / bitcore-p2p`, ours.perSecond / row['bitcore-p2p Messages'].perSecond],
        [`frames, ${label}: pure JS / Node build`, row['bitp2p (pure JS build)'].perSecond / ours.perSecond],
      ]
    }),
  ],
  blocks: (b) =>
    Object.entries(b.blocks).flatMap(([name, x]) =>
      Object.entries(x.ratios ?? {}).map(([k, v]) => [`${name.replace('.raw', '')}: ${k}`, v.median]),
    ),
  browser: (b) => [
    ['block: Chromium / Node, pure-JS build', b.block.chromiumOverNodePure.median],
    ['block: Chromium / Node build', b.block.chromiumOverNodeBuild.median],
    ['frames: Chromium / Node, pure-JS build', b.frames.chromiumOverNodePure.median],
    ['frames: Chromium / Node build', b.frames.chromiumOverNodeBuild.median],
  ],
  headers: (h) => [
    ["acceptMany best / wire's general sha256d (Node build) calls per second", h.nodeBuild.best / h.sha256dPerSecond.nodeCrypto],
    ['acceptMany median / best', h.nodeBuild.median / h.nodeBuild.best],
    ['pure-JS build best / Node build best', h.pureBuild.best / h.nodeBuild.best],
    ["header hasher / wire's general sha256d (Node build)", h.sha256dPerSecond.headerHashInto / h.sha256dPerSecond.nodeCrypto],
  ],
  sync: (s) => [['bitp2p / bcoin SPV (headers/s)', s.ratio]],
  fetch: (f) => [['fetch time / parse time', f.fetchOverParse]],
  v2: (v) => [
    ['download v2 / v1 (medians)', v.download.v2OverV1],
    ['download v2 / v1 (median of the rounds)', v.download.v2OverV1MedianOfRounds],
    ['handshake time v2 / v1', v.handshake.v2OverV1Time],
    ['receive path v2 / v1', v.receivePathOnly.v2OverV1],
  ],
  bigblock: (b) => [['median peak RSS growth / goal', b.medianPeakRssGrowthMB / b.goalMB]],
  pool: (p) => {
    const [ab, fifo] = ['AddressBook', 'FifoAddressBook'].map((n) => p.addressBooks.find((b) => b.name === n))
    return [
      ['FifoAddressBook / AddressBook adds', fifo.addsPerSecond / ab.addsPerSecond],
      ['FifoAddressBook / AddressBook selects', fifo.selectsPerSecond / ab.selectsPerSecond],
    ]
  },
  peers: (p) => {
    const plain = p.handshakes.find((h) => !h.trace)
    const traced = p.handshakes.find((h) => h.trace)
    return [['handshakes: trace / no trace (wall)', traced.wallMs / plain.wallMs], ['handshakes: wall / goal', plain.wallMs / plain.goalMs]]
  },
  filters: (f) => f.sets.map((x) => [`${int(x.scripts)} scripts: FilterMatcher.matchAny / old path`, x.speedup]),
  flood: (m) => [['honest transactions fetched / announced', m.network.fetched / m.network.honestTxs]],
  lightScan: (l) => (l.median.btcdCpuMs === null ? [] : [['btcd CPU / bitp2p CPU', l.median.btcdCpuMs / l.median.bitp2pCpuMs]]),
  setup: () => [],
  peersScale: () => [],
  jetstream: (j) => {
    const fetch = j.results.find((x) => x.what === 'BlockFetcher alone')
    return j.results.filter((x) => x !== fetch).map((x) => [`${x.what} / BlockFetcher alone (time)`, x.ms / fetch.ms])
  },
  compact: (c) =>
    c.results.flatMap((x) => [
      [`block${x.height}: all held: reconstruction / verifyBlock (time)`, x.all.ms / x.verifyBlockMs],
      [`block${x.height}: 90 % held: reconstruction with getblocktxn / verifyBlock (time)`, x.part.ms / x.verifyBlockMs],
      [`block${x.height}: all held: bytes received / full block`, x.all.ratio],
      [`block${x.height}: 90 % held: bytes received / full block`, x.part.ratio],
    ]),
}

/** A ratio as RESULTS.md prints it: four significant digits at most. */
function ratioText(x) {
  if (x === 0 || !Number.isFinite(x)) return String(x)
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(x))))
  return fixed(Math.round(x * 10 ** digits) / 10 ** digits, Math.min(digits, 4)).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '')
}

/** The run facts of one results file (setup's are its first build's). */
function runOf(name, r) {
  return name === 'setup' ? r.firstBuild : r
}

/** `stability` of a results file as a list of [part, result] (one unnamed part, or several). */
function stabilityParts(r) {
  const s = r.stability
  if (s === undefined || s === null) return []
  return typeof s.stable === 'boolean' ? [['', s]] : Object.entries(s)
}

function referenceText(r) {
  const ref = r.reference
  if (!ref?.start) return 'not recorded'
  const one = (x) => `${int(x.nodeSha256d)} / ${int(x.nobleSha256)}`
  return ref.end ? `${one(ref.start)} to ${one(ref.end)}` : one(ref.start)
}

function roundsText(r) {
  const parts = stabilityParts(r)
  if (parts.length === 0) return r.stability === null ? 'one round (not judged)' : 'not recorded'
  return parts
    .map(([part, s]) => `${part ? `${part}: ` : ''}${s.rounds}, ${s.stable ? 'stable' : '**not stable**'}`)
    .join('; ')
}

/** bench/RESULTS.md, whole: the one table of every bench's last run and every ratio it recorded. */
export function renderResultsMd(read = readResults) {
  const results = load(read)
  const names = Object.keys(RESULT_FILES)
  const lines = [
    '# Benchmark results',
    '',
    '<!-- generated from the benchmarks\' results by node scripts/perf-table.mjs --write (npm run bench ends with it); do not edit -->',
    '',
    "Every bench's latest recorded run, from its results file. Load is the machine's 1-minute",
    'load average at the start and the end of the run (the machine has 2 cores and is shared).',
    "Reference rates are the machine's own speed at the start and the end of the run, calls per",
    'second on 64-byte inputs: node:crypto sha256d / @noble/hashes sha256 (bench/lib/harness.mjs);',
    "absolute figures of two runs compare only as well as their reference rates do. Rounds: how",
    'many the bench ran, and whether the spread of its ratios (max - min over the median, over the',
    'last rounds) came under 10 % before the cap; a ratio is its median over those last rounds,',
    "its spread theirs (a bench's own medians, in the READMEs, are over all its rounds). Figures",
    'in the READMEs come from the same files.',
    '',
    '| bench | date | Node | load | reference rates (sha256d / sha256 per s) | rounds | reproduce |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const name of names) {
    const r = runOf(name, results[name])
    const { start, end } = loads(r)
    const load = start !== undefined && end !== undefined ? `${fixed(start, 2)} to ${fixed(end, 2)}` : loadText(r).replace('load ', '')
    lines.push(`| [${name}](#${name.toLowerCase()}) | ${day(r)} | ${r.node} | ${load} | ${referenceText(r)} | ${roundsText(name === 'setup' ? r : results[name])} | \`${COMMANDS[name]}\` |`)
  }
  for (const name of names) {
    const r = results[name]
    const run = runOf(name, r)
    lines.push('', `## ${name}`, '', `\`${RESULT_FILES[name]}\`, ${day(run)}, ${loadText(run)}.`, '')
    const parts = stabilityParts(r)
    if (parts.length > 0) {
      lines.push('| ratio | value | spread | rounds |', '|---|--:|--:|---|')
      for (const [part, s] of parts) {
        for (const [k, v] of Object.entries(s.ratios)) {
          lines.push(`| ${part ? `${part}: ` : ''}${k} | ${ratioText(v)} | ${fixed(s.spread[k] * 100, 1)} % | ${s.rounds}${s.stable ? '' : ', not stable'} |`)
        }
      }
      const unstable = parts.filter(([, s]) => !s.stable)
      for (const [part, s] of unstable) lines.push('', `${part ? `${part}: ` : ''}${s.reason}.`)
    } else {
      const ratios = LEGACY_RATIOS[name](r)
      if (ratios.length === 0) {
        lines.push('No ratios: this bench times one thing (see its section in the READMEs).')
      } else {
        lines.push('Recorded before the bench repeated its rounds until they held: ratios computed from its figures, spread not recorded.', '')
        lines.push('| ratio | value |', '|---|--:|')
        for (const [k, v] of ratios) lines.push(`| ${k} | ${ratioText(v)} |`)
      }
    }
  }
  return `${lines.join('\n')}\n`
}

/** Whether bench/RESULTS.md on disk is what the results render. */
export function resultsMdIsCurrent(read = readResults) {
  let doc
  try {
    doc = readFileSync(join(ROOT, RESULTS_MD), 'utf8')
  } catch {
    return false
  }
  return doc === renderResultsMd(read)
}

function peersScaleDetails(r) {
  const s = r.peersScale
  const row = (x) => {
    if (x.died) return `| ${int(x.peers)} | the process died (exit ${x.exit}, signal ${x.signal}) | | | | | | |`
    const how = x.completed ? 'all' : `stopped by the ${x.stoppedBy === 'heap' ? 'heap guard' : `${x.capSeconds} s cap`}:`
    const accepted = x.connections === undefined ? '' : `${int(x.connections)} connections, `
    return (
      `| ${int(x.peers)}${concurrencyOf(x) === undefined ? '' : `, ${int(x.concurrency)} at a time`}${heapLimitMiB(x) === undefined ? '' : ` (heap limit ${int(heapLimitMiB(x))} MiB)`} | ${how} ${accepted}${int(x.handshakes)} handshakes, ${int(x.visitsOk)} visits | ${int(x.events)} | ${fixed(x.cpuUsPerEvent, 1)} µs | ` +
      `${fixed(x.wallMs / 1000, 1)} s | ${int(x.peakHeapMiB)} MiB | ${int(x.peakRssMiB)} MiB | ${loadText(x)} |`
    )
  }
  const before = s.before
  // Whether each size run both before and after gave the same trace (it must: the speed work keeps event order).
  const same = before?.runs.every((b) =>
    s.runs.every((a) => a.peers !== b.peers || concurrencyOf(a) !== concurrencyOf(b) || !a.completed || !b.completed || a.traceHash === b.traceHash),
  )
  return [
    `Run on ${day(s)} (Node ${s.node}, the project's shared machine with other work running; each size in its own process, its own load given). ` +
      'Peak heap is the largest sampled `heapUsed`, garbage included; the trace hash of each run is in `bench/scale-results.json`.',
    '',
    '| peers | got through | events | CPU per event | run (wall) | peak heap | peak RSS | load |',
    '|---|---|---|---|---|---|---|---|',
    ...s.runs.map(row),
    ...(before === undefined
      ? []
      : [
          '',
          `Before (${before.commit}, run on ${day(before)}; trace hashes ${same ? 'the same as above, size for size' : 'NOT the same as above'}):`,
          '',
          '| peers | got through | events | CPU per event | run (wall) | peak heap | peak RSS | load |',
          '|---|---|---|---|---|---|---|---|',
          ...before.runs.map(row),
        ]),
  ].join('\n')
}

// --- the blocks -------------------------------------------------------------

/** Every generated block: the file it lives in, its marker name and how to render it from the results. */
export const BLOCKS = [
  { file: 'README.md', name: 'setup', render: setup },
  { file: 'README.md', name: 'performance', render: performance },
  { file: 'bench/README.md', name: 'blocks', render: blocksDetails },
  { file: 'bench/README.md', name: 'browser', render: browserDetails },
  { file: 'bench/README.md', name: 'wire', render: wireDetails },
  { file: 'bench/README.md', name: 'fetch', render: fetchDetails },
  { file: 'bench/README.md', name: 'sync', render: syncDetails },
  { file: 'bench/README.md', name: 'headers', render: headersDetails },
  { file: 'bench/README.md', name: 'pool', render: poolDetails },
  { file: 'bench/README.md', name: 'bigblock', render: bigblockDetails },
  { file: 'packages/transport-mock/README.md', name: 'peers', render: peersDetails },
  { file: 'packages/transport-mock/README.md', name: 'peers-scale', render: peersScaleDetails },
]

const begin = (name) => `<!-- perf:${name} (generated from the benchmarks' results by node scripts/perf-table.mjs --write; do not edit) -->`
const end = (name) => `<!-- /perf:${name} -->`

/** The text between a block's markers in `doc`, or undefined when the markers are missing. */
export function extractBlock(doc, name) {
  const a = doc.indexOf(begin(name))
  const b = doc.indexOf(end(name))
  if (a < 0 || b < a) return undefined
  return doc.slice(a + begin(name).length, b).replace(/^\n/, '').replace(/\n$/, '')
}

/** `doc` with the block `name` replaced by `content`. */
export function replaceBlock(doc, name, content) {
  const a = doc.indexOf(begin(name))
  const b = doc.indexOf(end(name))
  if (a < 0 || b < a) throw new Error(`no '${begin(name)}' ... '${end(name)}' markers`)
  return `${doc.slice(0, a)}${begin(name)}\n${content}\n${doc.slice(b)}`
}

/** Each block as rendered from the results `read` returns. */
export function renderBlocks(read = readResults) {
  const results = load(read)
  return BLOCKS.map((b) => ({ ...b, content: b.render(results) }))
}

/** The blocks whose text in their file differs from the rendered one. */
export function staleBlocks(read = readResults) {
  return renderBlocks(read).filter((b) => extractBlock(readFileSync(join(ROOT, b.file), 'utf8'), b.name) !== b.content)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write')) {
    for (const b of renderBlocks()) {
      const path = join(ROOT, b.file)
      const doc = readFileSync(path, 'utf8')
      const next = replaceBlock(doc, b.name, b.content)
      if (next !== doc) {
        writeFileSync(path, next)
        console.log(`updated ${b.file} (${b.name})`)
      }
    }
    if (!resultsMdIsCurrent()) {
      writeFileSync(join(ROOT, RESULTS_MD), renderResultsMd())
      console.log(`updated ${RESULTS_MD}`)
    }
  } else if (process.argv.includes('--check')) {
    const stale = staleBlocks()
    for (const b of stale) console.error(`${b.file}: the ${b.name} block differs from the results (run node scripts/perf-table.mjs --write)`)
    const md = resultsMdIsCurrent()
    if (!md) console.error(`${RESULTS_MD} differs from the results (run node scripts/perf-table.mjs --write)`)
    process.exitCode = stale.length > 0 || !md ? 1 : 0
  } else {
    for (const b of renderBlocks()) console.log(`${b.file} (${b.name}):\n${b.content}\n`)
    console.log(`${RESULTS_MD}:\n${renderResultsMd()}`)
  }
}
