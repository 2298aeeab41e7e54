// Block benchmarks: parse + txids + wtxids of real mainnet blocks against the
// node:crypto hashing floor, bcoin, bitcoinjs-lib and @scure/btc-signer in the
// same process, both bitp2p builds (node:crypto and pure JS), and the
// streaming parser (BlockStreamParser, what BlockFetcher runs) against the
// whole-block parser. Ratios are printed; no timing is asserted anywhere.
//
//   node bench/blocks.bench.mjs            # full run: 5 to 12 rounds on the headline block, 3 to 6 on the others; writes bench/blocks-results.json
//   node bench/blocks.bench.mjs --quick    # 2 rounds per block, writes nothing
//
// Every runner is measured once per round, the runners interleaved, and each
// round's ratios are taken within it (a burst of load on the shared machine
// hits one round, not one runner). Rounds repeat until every ratio's spread
// over the last rounds is under 10 % or a cap is reached (untilStable,
// bench/lib/harness.mjs), and each ratio is the median over those rounds.
// The load average and the machine's reference rates are printed before and
// after. Blocks come from
// ../shared/data/blocks; when that directory is absent the benchmark says so
// and exits.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createHash, hash as nodeHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { measure, do_not_optimize } from 'mitata'
import * as nativeMain from '@bitp2p/wire' // "node" condition: node:crypto hashing
import * as nativeHash from '@bitp2p/wire/hash'
import * as nativeCodecs from '@bitp2p/wire/codecs'
import * as nativeConsensus from '@bitp2p/wire/consensus'
import * as pureMain from '../packages/wire/dist/index.js' // default build: @noble/hashes
import * as pureCodecs from '../packages/wire/dist/codecs.js'
import * as pureConsensus from '../packages/wire/dist/consensus.js'
import { finishRun, median, nodeSha256d, startRun, untilStable, writeResults } from './lib/harness.mjs'
import { parseBlockWithIds } from './browser-workloads.mjs'

const require = createRequire(import.meta.url)
const BLOCKS_DIR = new URL('../../shared/data/blocks/', import.meta.url)
const RESULTS = new URL('./blocks-results.json', import.meta.url)
/** The ~1.4 MB segwit block the goals are stated on (issue 17). */
const HEADLINE_BLOCK = 'block702861.raw'
/** Goals of issue 17 on the headline block, as ratios measured in one run. */
export const GOALS = { maxOverFloor: 1.3, minVsBcoin: 5, maxPureOverNode: 2, maxStreamOverWhole: 1.1 }
/** Chunk size the streaming parser is fed in: what a socket hands over at a time. */
const STREAM_CHUNK = 64 * 1024

const quick = process.argv.includes('--quick')
/**
 * Rounds per block (the headline block gets more): at least `min` (the last
 * `min` are judged), at most `max`, and no more once `maxMs` of wall time
 * have passed on the block; a full run stays under about 4 minutes. And the
 * CPU time per measurement.
 */
const ROUNDS = quick
  ? { headline: { min: 2, max: 2, maxMs: 60_000 }, other: { min: 2, max: 2, maxMs: 60_000 } }
  : { headline: { min: 5, max: 12, maxMs: 110_000 }, other: { min: 3, max: 6, maxMs: 40_000 } }
const MEASURE = quick ? { min_cpu_time: 50e6 } : { min_cpu_time: 250e6 }

/** The entries of each build the benchmark calls, as one namespace. */
const native = { ...nativeMain, ...nativeHash, ...nativeCodecs, ...nativeConsensus }
const pure = { ...pureMain, ...pureCodecs, ...pureConsensus }

// --- what is measured --------------------------------------------------------

// The floor uses node:crypto's fastest call, the one-shot crypto.hash(), both
// digests as Buffers (the floor every earlier run measured, and the one the
// goals are stated against): the harness's nodeSha256d.
const sha256dNode = nodeSha256d
// A lower floor, printed beside it: the final digest as a latin1 string costs
// about half a Buffer (no ArrayBuffer behind it); the hashes are the same.
const sha256dNodeLatin1 =
  typeof nodeHash === 'function'
    ? (b) => nodeHash('sha256', nodeHash('sha256', b, 'buffer'), 'binary')
    : (b) => createHash('sha256').update(createHash('sha256').update(b).digest()).digest('binary')

/** parse + every txid + every wtxid with one bitp2p build (the same work the browser bench times). */
export function parseAndIds(lib) {
  return (raw) => parseBlockWithIds(lib, raw)
}

/** parse + every txid (no wtxids), against the txid-only floor. */
export function parseAndTxids(lib) {
  return (raw) => lib.blockTxids(lib.parseBlock(raw)).length
}

/** The whole-block parser doing what the streaming parser does: ids, merkle root and witness commitment checked. */
export function parseAndVerify(lib) {
  return (raw) => {
    const block = lib.parseBlock(raw)
    lib.verifyBlock(block)
    return lib.blockWtxids(block).length
  }
}

/** BlockStreamParser fed `chunk`-byte pieces: every txid and wtxid, merkle root and commitment checked in end(). */
export function streamed(lib, chunk, verify = true) {
  return (raw) => {
    const p = new lib.BlockStreamParser({ totalLength: raw.length, verify })
    let n = 0
    for (let i = 0; i < raw.length; i += chunk) {
      const events = p.push(raw.subarray(i, i + chunk))
      for (let j = 0; j < events.length; j++) {
        const ev = events[j]
        if (ev.type === 'error') throw ev.error
        if (ev.type === 'tx') n++
      }
    }
    p.end()
    return n
  }
}

/** The other libraries, each doing parse + txid + wtxid of every transaction. */
async function competitors() {
  const bitcoinjs = await import('bitcoinjs-lib')
  const bcoin = require('bcoin') // bcrypto picks node:crypto (native bindings are not built)
  const scure = await import('@scure/btc-signer')
  const P = await import('micro-packed')
  const { sha256: nobleSha256 } = await import('@noble/hashes/sha2.js')
  const ScureBlock = P.struct({ header: P.bytes(80), txs: P.array(scure.CompactSize, scure.RawTx) })
  const sha256dNoble = (b) => nobleSha256(nobleSha256(b))
  return {
    'bitcoinjs-lib': (raw) => {
      const b = bitcoinjs.Block.fromBuffer(raw)
      for (const tx of b.transactions) {
        do_not_optimize(tx.getHash(false))
        do_not_optimize(tx.getHash(true))
      }
      return b.transactions.length
    },
    // bcoin's reader insists on a Buffer: `raw` is converted outside the timing (see prepare()).
    'bcoin (node:crypto)': (raw) => {
      const b = bcoin.Block.fromRaw(raw)
      for (const tx of b.txs) {
        do_not_optimize(tx.hash())
        do_not_optimize(tx.witnessHash())
      }
      return b.txs.length
    },
    '@scure/btc-signer': (raw) => {
      const b = ScureBlock.decode(raw)
      for (const tx of b.txs) {
        do_not_optimize(sha256dNoble(scure.RawTx.encode({ ...tx, segwitFlag: false, witnesses: undefined })))
        do_not_optimize(tx.segwitFlag ? sha256dNoble(scure.RawTx.encode(tx)) : null)
      }
      return b.txs.length
    },
  }
}

/** The floors: double-SHA256 of the preimages, prepared in advance, with node:crypto. */
export function floors(raw) {
  const block = native.parseBlock(raw)
  const txidPre = block.txs.map((tx) => native.serializeTx(tx, { witness: false }))
  const wtxidPre = block.txs.filter((tx) => native.hasWitness(tx)).map((tx) => native.serializeTx(tx, { witness: true }))
  return {
    txidPre,
    wtxidPre,
    runners: {
      'floor: sha256d txid preimages': () => {
        for (const p of txidPre) do_not_optimize(sha256dNode(p))
        return txidPre.length
      },
      'floor: sha256d txid + wtxid preimages': () => {
        for (const p of txidPre) do_not_optimize(sha256dNode(p))
        for (const p of wtxidPre) do_not_optimize(sha256dNode(p))
        return txidPre.length + wtxidPre.length
      },
      'lower floor: the same, final digests as latin1 strings': () => {
        for (const p of txidPre) do_not_optimize(sha256dNodeLatin1(p))
        for (const p of wtxidPre) do_not_optimize(sha256dNodeLatin1(p))
        return txidPre.length + wtxidPre.length
      },
    },
  }
}

// --- measurement -------------------------------------------------------------

/** Mean time of one call of `fn(input)` in ns (mitata). */
async function timeOne(fn, input) {
  const s = await measure(() => do_not_optimize(fn(input)), MEASURE)
  return s.avg
}

// --- the run -----------------------------------------------------------------

const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`)

/**
 * The ratios printed and recorded for each block, each a time over a time
 * in the same round: [key in the results' `ratios`, name in the stability
 * record (RESULTS.md), numerator runner, denominator runner].
 */
const RATIOS = [
  ['vsAllFloor', 'bitp2p parse + txids + wtxids / node:crypto floor (time)', 'bitp2p (node:crypto)', 'floor: sha256d txid + wtxid preimages'],
  ['vsLowerFloor', 'bitp2p parse + txids + wtxids / lower (latin1) floor (time)', 'bitp2p (node:crypto)', 'lower floor: the same, final digests as latin1 strings'],
  ['vsTxidFloor', 'bitp2p parse + txids / txid floor (time)', 'bitp2p parse + txids only (node:crypto)', 'floor: sha256d txid preimages'],
  ['bcoinOverOurs', 'bcoin / bitp2p (time)', 'bcoin (node:crypto)', 'bitp2p (node:crypto)'],
  ['bitcoinjsOverOurs', 'bitcoinjs-lib / bitp2p (time)', 'bitcoinjs-lib', 'bitp2p (node:crypto)'],
  ['scureOverOurs', '@scure/btc-signer / bitp2p (time)', '@scure/btc-signer', 'bitp2p (node:crypto)'],
  ['pureOverNode', 'bitp2p pure-JS build / Node build (time)', 'bitp2p (pure JS)', 'bitp2p (node:crypto)'],
  ['streamOverWhole', 'streaming parser / whole-block parser, both verifying (time)', 'bitp2p stream, 64 KiB chunks, verified (node:crypto)', 'bitp2p parse + ids + verify (node:crypto)'],
  ['streamNoVerifyOverWhole', 'unverified stream / parse + ids (time)', 'bitp2p stream, 64 KiB chunks, not verified (node:crypto)', 'bitp2p (node:crypto)'],
  ['pureStreamOverWhole', 'pure-JS build: streaming / whole-block parser, both verifying (time)', 'bitp2p stream, 64 KiB chunks, verified (pure JS)', 'bitp2p parse + ids + verify (pure JS)'],
]

async function benchBlock(file, others) {
  const raw = new Uint8Array(readFileSync(new URL(file, BLOCKS_DIR)))
  const { txidPre, wtxidPre, runners: floorRunners } = floors(raw)
  const runners = {
    'bitp2p (node:crypto)': parseAndIds(native),
    'bitp2p (pure JS)': parseAndIds(pure),
    ...floorRunners,
    'bitp2p parse + txids only (node:crypto)': parseAndTxids(native),
    ...others,
    'bitp2p parse + ids + verify (node:crypto)': parseAndVerify(native),
    'bitp2p stream, 64 KiB chunks, verified (node:crypto)': streamed(native, STREAM_CHUNK),
    'bitp2p stream, 64 KiB chunks, not verified (node:crypto)': streamed(native, STREAM_CHUNK, false),
    'bitp2p parse + ids + verify (pure JS)': parseAndVerify(pure),
    'bitp2p stream, 64 KiB chunks, verified (pure JS)': streamed(pure, STREAM_CHUNK),
  }
  const buf = Buffer.from(raw)
  const inputs = Object.fromEntries(Object.keys(runners).map((k) => [k, k.startsWith('bcoin') ? buf : raw]))
  const caps = file === HEADLINE_BLOCK ? ROUNDS.headline : ROUNDS.other
  console.log(`\n${file}: ${raw.length.toLocaleString()} bytes, ${txidPre.length} txs (${wtxidPre.length} segwit), ${caps.min} to ${caps.max} rounds`)
  const times = Object.fromEntries(Object.keys(runners).map((k) => [k, []]))
  // One round: every runner once, interleaved; its ratios are times of this round over times of this round.
  const stability = await untilStable(
    async () => {
      const t = {}
      for (const [name, fn] of Object.entries(runners)) {
        t[name] = await timeOne(fn, inputs[name])
        times[name].push(t[name])
      }
      return Object.fromEntries(RATIOS.map(([, label, a, b]) => [label, t[a] / t[b]]))
    },
    { minRounds: caps.min, maxRounds: caps.max, maxMs: caps.maxMs, label: file.replace('.raw', '') },
  )
  // Times: medians over every round; ratios: the medians (and spreads) over the judged rounds, as the stability record has them.
  const ns = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, median(xs)]))
  for (const [name, t] of Object.entries(ns)) console.log(`  ${name.padEnd(58)} ${fmt(t).padStart(10)}`)
  const ratios = Object.fromEntries(RATIOS.map(([key, label]) => [key, { median: stability.ratios[label], spread: stability.spread[label] }]))
  for (const [key, label] of RATIOS) {
    console.log(`  ${key.padEnd(24)} ${ratios[key].median.toFixed(2).padStart(6)}x  (spread ${(ratios[key].spread * 100).toFixed(0)}% over the last ${stability.window} of ${stability.rounds} rounds)  ${label}`)
  }
  const m = (k) => ratios[k].median
  return {
    stability,
    fields: {
      bytes: raw.length,
      txs: txidPre.length,
      segwit: wtxidPre.length,
      rounds: stability.rounds,
      ns,
      ratios,
      vsAllFloor: m('vsAllFloor'),
      vsTxidFloor: m('vsTxidFloor'),
    },
  }
}

async function main() {
  const run = startRun('blocks')
  const results = { streamChunk: STREAM_CHUNK, goals: GOALS, blocks: {} }
  /** Each block's stability record, by block name ("block702861"): RESULTS.md lists its ratios per block. */
  const stability = {}
  if (!existsSync(BLOCKS_DIR)) {
    console.log(`SKIP: ${BLOCKS_DIR.pathname} is absent (the shared data directory is not beside the repo)`)
    finishRun(run)
    return
  }
  const others = await competitors()
  const only = process.argv.find((a) => a.startsWith('--block='))?.slice('--block='.length)
  const files = readdirSync(BLOCKS_DIR)
    .filter((f) => f.endsWith('.raw') && (only === undefined || f.includes(only)))
    .sort()
  for (const f of files) {
    const b = await benchBlock(f, others)
    results.blocks[f] = b.fields
    stability[f.replace('.raw', '')] = b.stability
  }

  const h = results.blocks[HEADLINE_BLOCK]
  if (h) {
    const verdict = (ok) => (ok ? 'met' : 'NOT met')
    const r = (k) => h.ratios[k].median
    console.log(`\n${HEADLINE_BLOCK}, goals (issue 17):`)
    console.log(`  parse + txids + wtxids / node:crypto floor: ${r('vsAllFloor').toFixed(2)}x (goal <= ${GOALS.maxOverFloor}x: ${verdict(r('vsAllFloor') <= GOALS.maxOverFloor)}); parse + txids / txid floor ${r('vsTxidFloor').toFixed(2)}x; against the lower (latin1) floor ${r('vsLowerFloor').toFixed(2)}x`)
    console.log(`  bcoin / bitp2p: ${r('bcoinOverOurs').toFixed(2)}x (goal >= ${GOALS.minVsBcoin}x: ${verdict(r('bcoinOverOurs') >= GOALS.minVsBcoin)}); bitcoinjs-lib / bitp2p ${r('bitcoinjsOverOurs').toFixed(2)}x`)
    console.log(`  pure JS / node:crypto build: ${r('pureOverNode').toFixed(2)}x (goal <= ${GOALS.maxPureOverNode}x: ${verdict(r('pureOverNode') <= GOALS.maxPureOverNode)})`)
    console.log(`  streaming / whole-block, both verifying: ${r('streamOverWhole').toFixed(2)}x (goal <= ${GOALS.maxStreamOverWhole}x: ${verdict(r('streamOverWhole') <= GOALS.maxStreamOverWhole)}); unverified stream / parse + ids ${r('streamNoVerifyOverWhole').toFixed(2)}x`)
  }
  if (quick || only !== undefined) finishRun(run)
  else writeResults(RESULTS, run, stability, results)
}

// Run when executed, not when imported (the functions above are reusable).
if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
