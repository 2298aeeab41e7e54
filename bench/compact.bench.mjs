// BIP152 compact block reconstruction benchmark, offline, on real mainnet
// blocks (../shared/data/blocks). For each block a peer's cmpctblock is
// built (version 2: wtxid short ids, the coinbase prefilled) and fed to
// CompactBlockMachine with a candidate pool of the block's transactions plus
// the transactions of the other blocks as unrelated mempool entries:
//
//   all      every transaction held: the block comes out of cmpctblock()
//            alone (short-id hashing of every candidate + the match + the
//            merkle root and witness commitment check)
//   90 %     one transaction in ten missing: cmpctblock() + getblocktxn +
//            blocktxn() (the missing ones) + the same checks
//
// Reports per block: the bytes received (v1 frames) against the full block,
// and the reconstruction time, next to the time of verifyBlock alone (the
// commitments any received block needs: the floor of a reconstruction).
// Each round times verifyBlock and both cases once each, interleaved (each a
// mean over at least MIN_MS); its ratios are each reconstruction's time over
// verifyBlock's in that round. Rounds repeat until every ratio's spread is
// under 10 % (untilStable, bench/lib/harness.mjs); the load average and the
// machine's reference rates are printed before and after. Uses the built
// packages (run `npm run build` first). Nothing is asserted; results go to
// stdout and bench/compact-results.json.
//
//   node bench/compact.bench.mjs           # 5 to 15 rounds per block; writes bench/compact-results.json
//   node bench/compact.bench.mjs --quick   # 2 rounds, shorter measurements, writes nothing
import { readFileSync } from 'node:fs'
import { blockHash, hasWitness, parseBlock, txid, verifyBlock, wtxid } from '@bitp2p/wire'
import { shortId, shortIdKey } from '@bitp2p/wire/hash'
import { CompactBlockMachine, CompactTxPool } from '@bitp2p/session/compact'
import { finishRun, median, spread, startRun, untilStable, writeResults } from './lib/harness.mjs'

const quick = process.argv.includes('--quick')
/** Rounds per block at least (the last MIN_ROUNDS are judged), at most, and the wall-time cap on one block's rounds. */
const MIN_ROUNDS = quick ? 2 : 5
const MAX_ROUNDS = quick ? 2 : 15
const MAX_MS = 60_000
/** Each measurement in a round calls its case until this many ms have passed (at least MIN_CALLS calls): its mean per call counts. */
const MIN_MS = quick ? 50 : 200
const MIN_CALLS = 3
const DATA = new URL('../../shared/data/blocks/', import.meta.url)
const RESULTS = new URL('./compact-results.json', import.meta.url)
const BLOCKS = [702861, 426884, 300025, 482683]
/** Every tenth non-coinbase transaction is missing in the 90 % case. */
const MISSING_EVERY = 10

function candidateOf(tx) {
  const id = txid(tx)
  return { tx, txid: id, wtxid: hasWitness(tx) ? wtxid(tx) : id }
}

function cmpctOf(block) {
  const nonce = 0x1122334455667788n
  const key = shortIdKey(block.header, nonce)
  const shortIds = block.txs.slice(1).map((tx) => shortId(key, hasWitness(tx) ? wtxid(tx) : txid(tx)))
  return { command: 'cmpctblock', header: block.header, nonce, shortIds, prefilledTxs: [{ index: 0, tx: block.txs[0] }] }
}

/** Mean ms of one `once()` (which returns the ms it timed) over at least MIN_MS and MIN_CALLS calls. */
function meanMs(once) {
  let total = 0
  let calls = 0
  while (calls < MIN_CALLS || total < MIN_MS) {
    total += once()
    calls++
  }
  return total / calls
}

const run = startRun('compact')
console.log(`compact block reconstruction: blocks ${BLOCKS.join(', ')}; ${MIN_ROUNDS} to ${MAX_ROUNDS} rounds per block`)
/** Each block's stability record, by name ("block702861"): RESULTS.md lists its ratios per block. */
const stability = {}
const parsed = new Map(BLOCKS.map((h) => [h, parseBlock(readFileSync(new URL(`block${h}.raw`, DATA)))]))
const results = []
for (const [height, block] of parsed) {
  const hash = blockHash(block.header)
  const others = [...parsed].filter(([h]) => h !== height).flatMap(([, b]) => b.txs.slice(1))
  const cmpct = cmpctOf(block)
  const missingIdx = []
  for (let i = 1; i < block.txs.length; i++) if (i % MISSING_EVERY === 0) missingIdx.push(i)
  const held = (all) => {
    const pool = new CompactTxPool({ maxTxs: 100_000, maxBytes: 100_000_000 })
    for (const tx of others) pool.add(candidateOf(tx))
    block.txs.slice(1).forEach((tx, j) => {
      if (all || (j + 1) % MISSING_EVERY !== 0) pool.add(candidateOf(tx))
    })
    return pool
  }
  const poolAll = held(true)
  const poolPart = held(false)

  const verifyOnce = () => {
    const t0 = performance.now()
    verifyBlock(block)
    return performance.now() - t0
  }
  let allStats
  const allOnce = () => {
    const m = new CompactBlockMachine()
    const t0 = performance.now()
    m.cmpctblock(0, 'peer', cmpct, 2, poolAll.candidates())
    const ms = performance.now() - t0
    const out = m.drain().find((a) => a.type === 'block')
    if (out?.how !== 'mempool') throw new Error(`block ${height}: expected a mempool rebuild, got ${JSON.stringify(out?.type)}`)
    allStats = out.stats
    return ms
  }
  let partStats
  const partOnce = () => {
    const m = new CompactBlockMachine()
    const t0 = performance.now()
    m.cmpctblock(0, 'peer', cmpct, 2, poolPart.candidates())
    const ask = m.drain().find((a) => a.type === 'send')
    const txs = ask.message.indexes.map((i) => block.txs[i])
    m.blocktxn(1, 'peer', hash, txs)
    const ms = performance.now() - t0
    const out = m.drain().find((a) => a.type === 'block')
    if (out?.how !== 'blocktxn') throw new Error(`block ${height}: expected a blocktxn rebuild`)
    partStats = out.stats
    return ms
  }
  // Warm-up, untimed: compiled code, and both cases checked before any timing.
  verifyOnce()
  allOnce()
  partOnce()
  const times = { verify: [], all: [], part: [] }
  const ALL = 'all held: reconstruction / verifyBlock (time)'
  const PART = '90 % held: reconstruction with getblocktxn / verifyBlock (time)'
  const name = `block${height}`
  stability[name] = await untilStable(
    () => {
      // Interleaved: a burst of load hits one round of all three, not one of them.
      const t = { verify: meanMs(verifyOnce), all: meanMs(allOnce), part: meanMs(partOnce) }
      for (const k of Object.keys(times)) times[k].push(t[k])
      // The bytes ratios do not change from round to round; they ride along so RESULTS.md lists them beside the times.
      return {
        [ALL]: t.all / t.verify,
        [PART]: t.part / t.verify,
        'all held: bytes received / full block': allStats.bytesReceived / allStats.fullBlockBytes,
        '90 % held: bytes received / full block': partStats.bytesReceived / partStats.fullBlockBytes,
      }
    },
    { minRounds: MIN_ROUNDS, maxRounds: MAX_ROUNDS, maxMs: MAX_MS, label: name },
  )
  const st = stability[name]
  /** A case's time: median over every round, and the spread of its last `window` rounds. */
  const timing = (xs) => ({ ms: median(xs), spread: Math.round(spread(xs.slice(-st.window)) * 1000) / 1000 })
  const all = { ...timing(times.all), overVerifyBlock: st.ratios[ALL], rounds: st.rounds, converged: st.stable }
  const part = { ...timing(times.part), overVerifyBlock: st.ratios[PART], rounds: st.rounds, converged: st.stable }
  const floor = timing(times.verify)
  const r = {
    height,
    txs: block.txs.length,
    candidates: poolAll.size,
    fullBlockBytes: allStats.fullBlockBytes,
    all: { bytesReceived: allStats.bytesReceived, ratio: allStats.bytesReceived / allStats.fullBlockBytes, ...all },
    part: { missing: missingIdx.length, bytesReceived: partStats.bytesReceived, ratio: partStats.bytesReceived / partStats.fullBlockBytes, ...part },
    verifyBlockMs: floor.ms,
  }
  results.push(r)
  const pct = (x) => `${(100 * x).toFixed(1)} %`
  console.log(
    `block ${height}: ${r.txs} txs, ${r.candidates} candidates, full block ${r.fullBlockBytes} B\n` +
      `  all held:  ${r.all.bytesReceived} B (${pct(r.all.ratio)} of the full block), ${r.all.ms.toFixed(2)} ms (spread ${pct(r.all.spread)}, ${r.all.rounds} rounds${r.all.converged ? '' : ', not stable'}), ${r.all.overVerifyBlock}x verifyBlock (median of the rounds' own ratios)\n` +
      `  90 % held: ${r.part.bytesReceived} B (${pct(r.part.ratio)}), ${r.part.missing} fetched, ${r.part.ms.toFixed(2)} ms (spread ${pct(r.part.spread)}, ${r.part.rounds} rounds${r.part.converged ? '' : ', not stable'}), ${r.part.overVerifyBlock}x verifyBlock\n` +
      `  verifyBlock alone: ${r.verifyBlockMs.toFixed(2)} ms (spread ${pct(floor.spread)})`,
  )
}
if (quick) finishRun(run)
else writeResults(RESULTS, run, stability, { minMsPerMeasurement: MIN_MS, results })
