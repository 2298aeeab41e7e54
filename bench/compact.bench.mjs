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
// and the reconstruction time (median of the rounds, with the spread), next
// to the time of verifyBlock alone (the commitments any received block
// needs: the floor of a reconstruction). Rounds repeat until the spread of
// the medians is under 10 % or MAX_ROUNDS. Uses the built packages (run
// `npm run build` first). Nothing is asserted; results go to stdout and
// bench/compact-results.json.
//
//   node bench/compact.bench.mjs           # 15 to 40 rounds per case
//   node bench/compact.bench.mjs --quick   # 5 rounds
import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { blockHash, hasWitness, parseBlock, txid, verifyBlock, wtxid } from '@bitp2p/wire'
import { shortId, shortIdKey } from '@bitp2p/wire/hash'
import { CompactBlockMachine, CompactTxPool } from '@bitp2p/session/compact'

const quick = process.argv.includes('--quick')
const MIN_ROUNDS = quick ? 5 : 15
const MAX_ROUNDS = quick ? 5 : 40
/** Stop when (max - min) / median of the last MIN_ROUNDS timings is below this. */
const TARGET_SPREAD = 0.1
const DATA = new URL('../../shared/data/blocks/', import.meta.url)
const RESULTS = new URL('./compact-results.json', import.meta.url)
const BLOCKS = [702861, 426884, 300025, 482683]
/** Every tenth non-coinbase transaction is missing in the 90 % case. */
const MISSING_EVERY = 10

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ')
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

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

/** Runs `once` (returning ms) until the spread target or MAX_ROUNDS; returns { median, spread, rounds }. */
function rounds(once) {
  once() // warm-up
  const t = []
  for (;;) {
    t.push(once())
    if (t.length >= MIN_ROUNDS) {
      const last = t.slice(-MIN_ROUNDS)
      const m = median(last)
      const spread = (Math.max(...last) - Math.min(...last)) / m
      if (spread < TARGET_SPREAD || t.length >= MAX_ROUNDS) return { median: m, spread, rounds: t.length, converged: spread < TARGET_SPREAD }
    }
  }
}

console.log(`compact block reconstruction, Node ${process.version}, load before: ${load()}`)
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

  const floor = rounds(() => {
    const t0 = performance.now()
    verifyBlock(block)
    return performance.now() - t0
  })
  let last
  const all = rounds(() => {
    const m = new CompactBlockMachine()
    const t0 = performance.now()
    m.cmpctblock(0, 'peer', cmpct, 2, poolAll.candidates())
    const ms = performance.now() - t0
    last = m.drain().find((a) => a.type === 'block')
    if (last?.how !== 'mempool') throw new Error(`block ${height}: expected a mempool rebuild, got ${JSON.stringify(last?.type)}`)
    return ms
  })
  const allStats = last.stats
  const part = rounds(() => {
    const m = new CompactBlockMachine()
    const t0 = performance.now()
    m.cmpctblock(0, 'peer', cmpct, 2, poolPart.candidates())
    const ask = m.drain().find((a) => a.type === 'send')
    const txs = ask.message.indexes.map((i) => block.txs[i])
    m.blocktxn(1, 'peer', hash, txs)
    const ms = performance.now() - t0
    last = m.drain().find((a) => a.type === 'block')
    if (last?.how !== 'blocktxn') throw new Error(`block ${height}: expected a blocktxn rebuild`)
    return ms
  })
  const partStats = last.stats
  const r = {
    height,
    txs: block.txs.length,
    candidates: poolAll.size,
    fullBlockBytes: allStats.fullBlockBytes,
    all: { bytesReceived: allStats.bytesReceived, ratio: allStats.bytesReceived / allStats.fullBlockBytes, ms: all.median, spread: all.spread, rounds: all.rounds, converged: all.converged },
    part: { missing: missingIdx.length, bytesReceived: partStats.bytesReceived, ratio: partStats.bytesReceived / partStats.fullBlockBytes, ms: part.median, spread: part.spread, rounds: part.rounds, converged: part.converged },
    verifyBlockMs: floor.median,
  }
  results.push(r)
  const pct = (x) => `${(100 * x).toFixed(1)} %`
  console.log(
    `block ${height}: ${r.txs} txs, ${r.candidates} candidates, full block ${r.fullBlockBytes} B\n` +
      `  all held:  ${r.all.bytesReceived} B (${pct(r.all.ratio)} of the full block), ${r.all.ms.toFixed(2)} ms (spread ${pct(r.all.spread)}, ${r.all.rounds} rounds${r.all.converged ? '' : ', did not converge'}), ${(r.all.ms / r.verifyBlockMs).toFixed(2)}x verifyBlock\n` +
      `  90 % held: ${r.part.bytesReceived} B (${pct(r.part.ratio)}), ${r.part.missing} fetched, ${r.part.ms.toFixed(2)} ms (spread ${pct(r.part.spread)}, ${r.part.rounds} rounds${r.part.converged ? '' : ', did not converge'})\n` +
      `  verifyBlock alone: ${r.verifyBlockMs.toFixed(2)} ms (spread ${pct(floor.spread)})`,
  )
}
console.log(`load after: ${load()}`)
writeFileSync(RESULTS, JSON.stringify({ date: new Date().toISOString(), node: process.version, load: loadavg(), results }, null, 2) + '\n')
