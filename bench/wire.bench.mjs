// Wire benchmarks: block parse + txids + wtxids against other libraries in
// the same process, frame decoding, header hashing. Ratios are printed; no
// timing is asserted anywhere. Run: npm run bench (from the repo root).
//
// Blocks come from ../shared/data/blocks; when that directory is absent the
// block benchmarks are skipped with a message.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createHash, hash as nodeHash } from 'node:crypto'
import { loadavg } from 'node:os'
import { measure, do_not_optimize } from 'mitata'
import * as nativeMain from '@bitp2p/wire' // "node" condition: node:crypto hashing
import * as nativeHash from '@bitp2p/wire/hash'
import * as nativeConsensus from '@bitp2p/wire/consensus'
import * as pureMain from '../packages/wire/dist/index.js' // default build: @noble/hashes
import * as pureHash from '../packages/wire/dist/hash.js'
import * as pureConsensus from '../packages/wire/dist/consensus.js'

/** The entries of each build the benchmarks call, as one namespace. */
const native = { ...nativeMain, ...nativeHash, ...nativeConsensus }
const pure = { ...pureMain, ...pureHash, ...pureConsensus }

const require = createRequire(import.meta.url)
const BLOCKS_DIR = new URL('../../shared/data/blocks/', import.meta.url)
const quick = process.argv.includes('--quick')
const opts = quick ? { min_cpu_time: 50e6 } : { min_cpu_time: 600e6 }

// --- competitors -----------------------------------------------------------
const bitcoinjs = await import('bitcoinjs-lib')
const bcoin = require('bcoin') // bcrypto picks node:crypto (native bindings are not built)
const scure = await import('@scure/btc-signer')
const P = await import('micro-packed')
const { sha256: nobleSha256 } = await import('@noble/hashes/sha2.js')
const ScureBlock = P.struct({ header: P.bytes(80), txs: P.array(scure.CompactSize, scure.RawTx) })
const sha256dNoble = (b) => nobleSha256(nobleSha256(b))
// The floor uses node:crypto's fastest path: one-shot crypto.hash() where the runtime has it.
const sha256dNode = typeof nodeHash === 'function'
  ? (b) => nodeHash('sha256', nodeHash('sha256', b, 'buffer'), 'buffer')
  : (b) => createHash('sha256').update(createHash('sha256').update(b).digest()).digest()

function bitp2p(lib) {
  return (raw) => {
    const block = lib.parseBlock(raw)
    const ids = lib.blockTxids(block)
    const wids = lib.blockWtxids(block)
    return ids.length + wids.length
  }
}
function bitp2pTxidsOnly(lib) {
  return (raw) => lib.blockTxids(lib.parseBlock(raw)).length
}
const runners = {
  'bitp2p (node:crypto)': bitp2p(native),
  'bitp2p (pure JS)': bitp2p(pure),
  'bitcoinjs-lib': (raw) => {
    const b = bitcoinjs.Block.fromBuffer(raw)
    let n = 0
    for (const tx of b.transactions) {
      do_not_optimize(tx.getHash(false))
      do_not_optimize(tx.getHash(true))
      n++
    }
    return n
  },
  'bcoin (node:crypto)': (raw) => {
    const b = bcoin.Block.fromRaw(raw)
    let n = 0
    for (const tx of b.txs) {
      do_not_optimize(tx.hash())
      do_not_optimize(tx.witnessHash())
      n++
    }
    return n
  },
  '@scure/btc-signer': (raw) => {
    const b = ScureBlock.decode(raw)
    let n = 0
    for (const tx of b.txs) {
      do_not_optimize(sha256dNoble(scure.RawTx.encode({ ...tx, segwitFlag: false, witnesses: undefined })))
      do_not_optimize(tx.segwitFlag ? sha256dNoble(scure.RawTx.encode(tx)) : null)
      n++
    }
    return n
  },
}

// The floor: double-SHA256 of preimages prepared in advance, node:crypto.
function preimages(raw) {
  const block = native.parseBlock(raw)
  const txidPre = block.txs.map((tx) => native.serializeTx(tx, { witness: false }))
  const wtxidPre = block.txs.filter((tx) => native.hasWitness(tx)).map((tx) => native.serializeTx(tx, { witness: true }))
  return { txidPre, wtxidPre }
}

function fmt(ns) {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`
}

// The machine's 1-, 5- and 15-minute load averages at the start and the end: on
// the shared machine the absolute times move with them (the ratios much less).
const results = { date: new Date().toISOString(), node: process.version, loadStart: loadavg(), blocks: {}, frames: null, headers: null }
console.log(`Node ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)

if (!existsSync(BLOCKS_DIR)) {
  console.log(`SKIP block benchmarks: ${BLOCKS_DIR.pathname} is absent (the shared data directory is not beside the repo)`)
} else {
  const files = readdirSync(BLOCKS_DIR).filter((f) => f.endsWith('.raw')).sort()
  for (const f of files) {
    const raw = new Uint8Array(readFileSync(new URL(f, BLOCKS_DIR)))
    const { txidPre, wtxidPre } = preimages(raw)
    const row = {}
    console.log(`\n${f}: ${raw.length.toLocaleString()} bytes, ${txidPre.length} txs (${wtxidPre.length} segwit)`)
    const buf = Buffer.from(raw) // bcoin's reader insists on a Buffer; converted outside the timing
    for (const [name, fn] of Object.entries(runners)) {
      const input = name.startsWith('bcoin') ? buf : raw
      const s = await measure(() => do_not_optimize(fn(input)), opts)
      row[name] = s.avg
    }
    row['floor: sha256d txid preimages'] = (
      await measure(() => {
        for (const p of txidPre) do_not_optimize(sha256dNode(p))
      }, opts)
    ).avg
    row['floor: sha256d txid + wtxid preimages'] = (
      await measure(() => {
        for (const p of txidPre) do_not_optimize(sha256dNode(p))
        for (const p of wtxidPre) do_not_optimize(sha256dNode(p))
      }, opts)
    ).avg
    row['bitp2p parse + txids only (node:crypto)'] = (await measure(() => do_not_optimize(bitp2pTxidsOnly(native)(raw)), opts)).avg
    const ours = row['bitp2p (node:crypto)']
    for (const [name, ns] of Object.entries(row)) {
      const ratio = name === 'bitp2p (node:crypto)' ? '' : `  ${(ns / ours).toFixed(2)}x bitp2p's time`
      console.log(`  ${name.padEnd(42)} ${fmt(ns).padStart(10)}${ratio}`)
    }
    const vsTxidFloor = row['bitp2p parse + txids only (node:crypto)'] / row['floor: sha256d txid preimages']
    const vsAllFloor = ours / row['floor: sha256d txid + wtxid preimages']
    console.log(`  => ${(row['bitcoinjs-lib'] / ours).toFixed(2)}x faster than bitcoinjs-lib, ${(row['bcoin (node:crypto)'] / ours).toFixed(2)}x faster than bcoin, ${(row['@scure/btc-signer'] / ours).toFixed(2)}x faster than @scure/btc-signer`)
    console.log(`  => parse + txids is ${vsTxidFloor.toFixed(2)}x the txid-hashing floor; parse + txids + wtxids is ${vsAllFloor.toFixed(2)}x the txid+wtxid hashing floor`)
    results.blocks[f] = { bytes: raw.length, txs: txidPre.length, segwit: wtxidPre.length, ns: row, vsTxidFloor, vsAllFloor }
  }
}

// --- frame decoding: 100k small messages --------------------------------------
{
  const net = native.regtest ?? { magic: native.fromHex('fabfb5da'), maxMessageBytes: 4_000_000, maxBlockPayload: 4_000_000 }
  const N = 100_000
  const frames = []
  for (let i = 0; i < N; i++) {
    if (i % 2 === 0) frames.push(native.encodeMessage({ command: 'ping', nonce: BigInt(i) }, net))
    else frames.push(native.encodeMessage({ command: 'inv', items: [{ type: 1, hash: new Uint8Array(32).fill(i & 0xff) }] }, net))
  }
  const stream = native.concatBytes(...frames)
  const CHUNK = 64 * 1024
  for (const [label, lib] of [['node:crypto', native], ['pure JS', pure]]) {
    const s = await measure(() => {
      const d = new lib.MessageDecoder({ network: net })
      let n = 0
      for (let i = 0; i < stream.length; i += CHUNK) n += d.push(stream.subarray(i, i + CHUNK)).length
      if (n !== N) throw new Error(`decoded ${n} of ${N}`)
    }, { min_cpu_time: quick ? 50e6 : 1e9 })
    const rate = N / (s.avg / 1e9)
    console.log(`\nframe decode, ${N.toLocaleString()} small messages (ping/inv) in 64 KiB chunks, ${label}: ${fmt(s.avg)} = ${Math.round(rate).toLocaleString()} messages/s`)
    results.frames ??= {}
    results.frames[label] = { messages: N, ns: s.avg, perSecond: rate }
  }
}

// --- header hashing ----------------------------------------------------------
{
  const N = 100_000
  const headers = new Uint8Array(80 * N)
  for (let i = 0; i < N; i++) headers[i * 80 + 76] = i & 0xff
  for (const [label, lib] of [['node:crypto', native], ['pure JS', pure]]) {
    const s = await measure(() => {
      for (let i = 0; i < N; i++) do_not_optimize(lib.sha256d(headers.subarray(i * 80, i * 80 + 80)))
    }, { min_cpu_time: quick ? 50e6 : 1e9 })
    const rate = N / (s.avg / 1e9)
    console.log(`header hashing (sha256d of 80 bytes), ${label}: ${Math.round(rate).toLocaleString()} headers/s`)
    results.headers ??= {}
    results.headers[label] = { headers: N, ns: s.avg, perSecond: rate }
  }
}

results.loadEnd = loadavg()
console.log(`load average at the end: ${results.loadEnd.map((l) => l.toFixed(2)).join(' ')}`)
if (!quick) writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n')
