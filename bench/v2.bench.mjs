// BIP324 v2 transport against v1, in one process, on the same blocks, from
// the same btcd 0.25.0 (`--v2transport`, which serves v1 clients on the
// same port): block download through BlockFetcher over loopback TCP (MB/s
// each, and v2 / v1), then the handshake (wall time and CPU per connection,
// ours and btcd's). Uses the built packages (run `npm run build` first):
//
//   node bench/v2.bench.mjs            # 30 blocks of ~620 KB, rounds until v2 / v1 holds (5 to 15), handshakes in rounds of 25
//   node bench/v2.bench.mjs --quick    # 8 blocks, 3 to 4 rounds, handshakes in rounds of 10; writes nothing
//
// btcd runs through test/harness/btcd-regtest-server.mjs (../shared/tools/btcd,
// every socket on 127.0.0.1, a temporary data directory it removes). The
// blocks are filled here: each holds TXS_PER_BLOCK transactions that spend a
// mature coinbase (P2WPKH, real witness) to OUTPUTS_PER_TX outputs, signed
// with the interop key (sha256("bitp2p-interop"), the key btcd mines to) by
// @scure/btc-signer. Rounds alternate which transport goes first, each on a
// fresh connection; the result is the median per transport, and the median
// of each round's own v2 / v1 (robust to the load changing between rounds on
// a shared machine). Rounds repeat until those ratios agree within 10 %
// (bench/lib/harness.mjs untilStable; the download, the handshakes and the
// receive path each), or the bench says it could not. Load average and the
// machine's reference rates are printed and recorded before and after.
// Nothing is asserted; results go to stdout and
// bench/v2-results.json. Skipped, with a message, when the btcd binaries are
// absent.
import { createHash } from 'node:crypto'
import { Transaction, p2wpkh } from '@scure/btc-signer'
import { pubECDSA } from '@scure/btc-signer/utils.js'
import { BlockFetcher, Peer, singlePeer, systemRandom } from '@bitp2p/session'
import { V1Codec } from '@bitp2p/session/core'
import { v2 } from '@bitp2p/session/v2'
import { concatBytes, fromHex, hashToHex, hexToHash, regtest, toHex } from '@bitp2p/wire'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { finishRun, median, ownCpuMs, startRun, untilStable, writeResults } from './lib/harness.mjs'
import { meteredByBtcd, startBenchBtcd } from './lib/btcd.mjs'

const quick = process.argv.includes('--quick')
/** Blocks downloaded in each round. */
const BENCH_BLOCKS = quick ? 8 : 30
/** Transactions per block, each spending one coinbase. */
const TXS_PER_BLOCK = 10
/** Outputs per transaction (31 bytes each: ~62 KB a transaction, ~620 KB a block, under btcd's 750 KB default block size). */
const OUTPUTS_PER_TX = 2_000
/** Fee per transaction, sats (btcd's minimum relay fee is 1 sat/vB; a transaction is ~62,000 vB). */
const FEE_SATS = 200_000n
/** Rounds of the in-process receive path (the session's codecs alone, no socket, no btcd): at least, at most. */
const CODEC_ROUNDS = quick ? [3, 4] : [5, 15]
/** Piece size the codecs are fed in (a large TCP read). */
const READ_BYTES = 64 * 1024
/** Download rounds per transport: at least, at most (more while v2 / v1 moves by 10 % or more). */
const ROUNDS = quick ? [3, 4] : [5, 15]
/** Handshakes per transport in one round (each a fresh TCP connection, closed after); rounds as ROUNDS. */
const HANDSHAKES = quick ? 10 : 25
/** Wall-time cap of each stabilised part, ms. */
const PART_MAX_MS = quick ? 60_000 : 240_000
/** Segwit activates at 432 on btcd's regtest; coinbases mature after 100 blocks. */
const START_BLOCKS = 440
const LOOPBACK = '127.0.0.1'
const RESULTS = new URL('./v2-results.json', import.meta.url)

const r2 = (x) => Math.round(x * 100) / 100
const r3 = (x) => Math.round(x * 1000) / 1000


// --- the chain ------------------------------------------------------------------

/** Mines BENCH_BLOCKS blocks of TXS_PER_BLOCK big signed P2WPKH spends; their hashes (RPC hex). */
async function fillChain(rpc, info) {
  const key = createHash('sha256').update('bitp2p-interop').digest()
  const pay = p2wpkh(pubECDSA(key))
  // The key must be the one btcd mines to, or nothing here can spend.
  const keyHash = toHex(pay.script.subarray(2))
  if (keyHash !== info.mineKeyHash) throw new Error(`the interop key hashes to ${keyHash}, btcd mines to ${info.mineKeyHash} (${info.mineAddress})`)
  const hashes = []
  let height = 1
  for (let b = 0; b < BENCH_BLOCKS; b++) {
    for (let t = 0; t < TXS_PER_BLOCK; t++) {
      const block = await rpc('getblock', [await rpc('getblockhash', [height++]), 2])
      const cb = block.rawtx[0]
      const amount = BigInt(Math.round(cb.vout[0].value * 1e8))
      const tx = new Transaction()
      tx.addInput({ txid: cb.txid, index: 0, witnessUtxo: { script: pay.script, amount } })
      const each = (amount - FEE_SATS) / BigInt(OUTPUTS_PER_TX)
      for (let o = 0; o < OUTPUTS_PER_TX; o++) tx.addOutput({ script: pay.script, amount: each })
      tx.sign(key)
      tx.finalize()
      await rpc('sendrawtransaction', [tx.hex])
    }
    const [hash] = await rpc('generate', [1])
    const got = await rpc('getblock', [hash, 1])
    if (got.tx.length !== TXS_PER_BLOCK + 1) throw new Error(`block ${hash} holds ${got.tx.length - 1} of the ${TXS_PER_BLOCK} spends`)
    hashes.push(hash)
  }
  return hashes
}

// --- measurements ---------------------------------------------------------------

/** One download of every block over a fresh connection in `transport`; `check` compares the bytes of a few blocks with btcd's. */
async function downloadOnce(btcd, transport, hashes, check) {
  const peer = await Peer.connect(btcd.addr, { connector: new TcpConnector({ connectTimeoutMs: 5_000 }), network: regtest, transport, v2, streamBlocks: true })
  try {
    if (peer.transportVersion !== (transport === 'v2' ? 2 : 1)) throw new Error(`asked for ${transport}, got v${peer.transportVersion}`)
    let wireIn = 0
    peer.on('frame', (dir, _command, wireBytes) => {
      if (dir === 'in') wireIn += wireBytes
    })
    const fetcher = new BlockFetcher({ source: singlePeer(peer), network: regtest })
    const parts = new Map()
    let witness = 0
    const m = await meteredByBtcd(btcd, () => {
      const download = fetcher.fetch(hashes.map(hexToHash))
      if (check) {
      download.on('chunk', (c) => {
        const key = hashToHex(c.hash)
        if (!check.has(key)) return
        if (c.chunkIndex === 0) parts.set(key, [])
        parts.get(key).push(toHex(c.bytes))
        })
      }
      download.on('block', (b) => {
        if (b.witnessCommitment === 'verified') witness++
      })
      return download.done
    })
    const summary = m.value
    if (check) for (const [hash, hex] of check) if (parts.get(hash).join('') !== hex) throw new Error(`block ${hash} over ${transport}: bytes differ from btcd's getblock`)
    if (witness !== hashes.length) throw new Error(`${witness} of ${hashes.length} blocks had a verified witness commitment`)
    return { ms: m.wallMs, bytes: summary.bytes, wireIn, oursMs: m.oursCpuMs, btcdMs: m.btcdCpuMs }
  } finally {
    peer.close('bench round done')
  }
}

/** HANDSHAKES connects in `transport`: wall ms of each (connect call to ready), our CPU and btcd's over them all. */
async function handshakes(btcd, transport) {
  const times = []
  let oursMs = 0
  const m = await meteredByBtcd(btcd, async () => {
    for (let i = 0; i < HANDSHAKES; i++) {
      const ours0 = ownCpuMs()
      const t0 = performance.now()
      const peer = await Peer.connect(btcd.addr, { connector: new TcpConnector({ connectTimeoutMs: 5_000 }), network: regtest, transport, v2 })
      times.push(performance.now() - t0)
      oursMs += ownCpuMs() - ours0
      peer.close('bench handshake done')
      await peer.closed
    }
  })
  return { times, oursMs, btcdMs: m.btcdCpuMs }
}

/** Handshake figures over every round of `transport`: median time, CPU per handshake (ours, btcd's). */
function handshakeSummary(rs) {
  const times = rs.flatMap((r) => r.times)
  const btcdMs = rs.reduce((n, r) => n + r.btcdMs, 0)
  return {
    medianMs: r3(median(times)),
    oursCpuMsPerHandshake: r3(rs.reduce((n, r) => n + r.oursMs, 0) / times.length),
    btcdCpuMsPerHandshake: Number.isNaN(btcdMs) ? null : r2(btcdMs / times.length),
  }
}

/** Everything `from` has to send, as one array (the codecs queue their output). */
function drain(from) {
  const parts = []
  for (let b = from.poll(); b; b = from.poll()) parts.push(b)
  return concatBytes(...parts)
}

/** A sender and a receiver codec of `transport`, past v2's handshake (the session's production codecs). */
async function codecPair(transport) {
  if (transport === 'v1') return { send: new V1Codec({ network: regtest }), recv: new V1Codec({ network: regtest }) }
  const send = v2.codecFor('responder', { network: regtest, random: systemRandom() })
  const recv = v2.codecFor('initiator', { network: regtest, random: systemRandom() })
  for (let i = 0; i < 8 && !(send.ready && recv.ready); i++) {
    send.push(drain(recv))
    recv.push(drain(send))
  }
  if (!send.ready || !recv.ready) throw new Error('the in-process v2 handshake did not complete')
  return { send, recv }
}

/**
 * The receive path alone: every block's payload framed (v1) or encrypted
 * (v2) by one codec, then pushed in READ_BYTES pieces through the other,
 * as Connection does with what a socket reads. Encoding is not timed.
 */
async function receivePath(transport, payloads) {
  const { send, recv } = await codecPair(transport)
  const wire = payloads.map((p) => {
    send.write('block', p)
    return drain(send)
  })
  let bytes = 0
  const t0 = performance.now()
  for (const w of wire) {
    for (let o = 0; o < w.length; o += READ_BYTES) {
      for (const ev of recv.push(w.subarray(o, o + READ_BYTES))) {
        if (ev.type === 'payload-chunk') bytes += ev.bytes.length
        else if (ev.type !== 'payload-start' && ev.type !== 'payload-end' && ev.type !== 'frame') throw new Error(`${transport} receive path: unexpected ${ev.type}`)
      }
    }
  }
  const ms = performance.now() - t0
  if (bytes !== payloads.reduce((n, p) => n + p.length, 0)) throw new Error(`${transport} receive path: ${bytes} payload bytes came out`)
  return ms
}

// --- run ------------------------------------------------------------------------

const run = startRun('v2.bench')
const btcd = await startBenchBtcd('v2.bench', { V2TRANSPORT: '1', MINE: String(START_BLOCKS) }, { readyTimeoutMs: 120_000 })
if (btcd === undefined) process.exit(0)
const { info, rpc } = btcd
try {
  console.log(`btcd ${info.btcd} (--v2transport) regtest on ${LOOPBACK}:${info.p2p}, ${info.height} blocks at start, ready in ${info.startup_ms} ms`)
  const tFill = performance.now()
  const hashes = await fillChain(rpc, info)
  const sizes = []
  for (const h of hashes) sizes.push((await rpc('getblock', [h, 1])).size)
  const totalBytes = sizes.reduce((a, b) => a + b, 0)
  console.log(`mined ${hashes.length} blocks of ${TXS_PER_BLOCK} signed P2WPKH spends x ${OUTPUTS_PER_TX} outputs in ${Math.round(performance.now() - tFill)} ms: ${r2(totalBytes / 1e6)} MB, ${Math.min(...sizes)} to ${Math.max(...sizes)} bytes a block`)

  // Warm-up, one round each, with the bytes of three blocks checked against btcd's serialization.
  const check = new Map()
  for (const i of [0, hashes.length >> 1, hashes.length - 1]) check.set(hashes[i], await rpc('getblock', [hashes[i], 0]))
  for (const t of ['v1', 'v2']) await downloadOnce(btcd, t, hashes, check)

  const rounds = { v1: [], v2: [] }
  // v2 / v1 within each round: the two downloads run back to back, so a
  // change in the machine's load between rounds cancels out of it.
  const pairRatios = []
  const downloadStability = await untilStable(
    async (i) => {
      const order = i % 2 === 0 ? ['v1', 'v2'] : ['v2', 'v1']
      const line = []
      for (const t of order) {
        const r = await downloadOnce(btcd, t, hashes, undefined)
        if (r.bytes !== totalBytes) throw new Error(`round ${i} ${t}: ${r.bytes} bytes, expected ${totalBytes}`)
        rounds[t].push(r)
        line.push(`${t} ${Math.round(r.ms)} ms ${r2(r.bytes / 1e3 / r.ms)} MB/s`)
      }
      pairRatios.push(rounds.v1[i].ms / rounds.v2[i].ms)
      console.log(`  round ${i + 1}: ${line.join(', ')}; v2 / v1 ${r2(pairRatios[i])}`)
      return { v2OverV1Download: pairRatios[i] }
    },
    { minRounds: ROUNDS[0], maxRounds: ROUNDS[1], maxMs: PART_MAX_MS, label: 'download v2 / v1' },
  )
  const summarize = (rs) => {
    const ms = median(rs.map((r) => r.ms))
    const wall = rs.reduce((n, r) => n + r.ms, 0)
    return {
      rounds: rs.map((r) => r2(r.ms)),
      medianMs: r2(ms),
      mbPerSec: r2(totalBytes / 1e3 / ms),
      wireBytes: rs[0].wireIn,
      cpuShare: { bitp2p: r2(rs.reduce((n, r) => n + r.oursMs, 0) / wall), btcd: r2(rs.reduce((n, r) => n + r.btcdMs, 0) / wall) },
      // CPU each side spent per MB delivered (btcd's from /proc, in 10 ms ticks: meaningful over all rounds together).
      cpuMsPerMB: {
        bitp2p: r2(rs.reduce((n, r) => n + r.oursMs, 0) / ((rs.length * totalBytes) / 1e6)),
        btcd: r2(rs.reduce((n, r) => n + r.btcdMs, 0) / ((rs.length * totalBytes) / 1e6)),
      },
    }
  }
  const v1 = summarize(rounds.v1)
  const v2 = summarize(rounds.v2)

  const hsRounds = { v1: [], v2: [] }
  const handshakeStability = await untilStable(
    async (i) => {
      for (const t of i % 2 === 0 ? ['v1', 'v2'] : ['v2', 'v1']) hsRounds[t].push(await handshakes(btcd, t))
      return { v2OverV1HandshakeTime: median(hsRounds.v2[i].times) / median(hsRounds.v1[i].times) }
    },
    { minRounds: ROUNDS[0] - 1, maxRounds: ROUNDS[1], maxMs: PART_MAX_MS, label: 'handshake time v2 / v1' },
  )
  const hs = { v1: handshakeSummary(hsRounds.v1), v2: handshakeSummary(hsRounds.v2) }

  const payloads = []
  for (const h of hashes) payloads.push(fromHex(await rpc('getblock', [h, 0])))
  const codecMs = { v1: [], v2: [] }
  const receiveStability = await untilStable(
    async (i) => {
      for (const t of i % 2 === 0 ? ['v1', 'v2'] : ['v2', 'v1']) codecMs[t].push(await receivePath(t, payloads))
      return { v2OverV1ReceivePath: codecMs.v1[i] / codecMs.v2[i] }
    },
    { minRounds: CODEC_ROUNDS[0], maxRounds: CODEC_ROUNDS[1], maxMs: PART_MAX_MS, label: 'receive path v2 / v1' },
  )
  const codec = {
    v1: { medianMs: r2(median(codecMs.v1)), mbPerSec: r2(totalBytes / 1e3 / median(codecMs.v1)) },
    v2: { medianMs: r2(median(codecMs.v2)), mbPerSec: r2(totalBytes / 1e3 / median(codecMs.v2)) },
  }

  const stability = { download: downloadStability, handshake: handshakeStability, receivePath: receiveStability }
  const results = {
    btcd: info.btcd,
    transport: `TCP ${LOOPBACK}, one peer, streamBlocks, BlockFetcher defaults (16 blocks in flight, 64 KiB chunk events)`,
    blocks: { count: hashes.length, txsPerBlock: TXS_PER_BLOCK + 1, outputsPerTx: OUTPUTS_PER_TX, totalBytes, minBytes: Math.min(...sizes), maxBytes: Math.max(...sizes) },
    download: { v1, v2, v2OverV1: r3(v2.mbPerSec / v1.mbPerSec), v2OverV1ByRound: pairRatios.map(r3), v2OverV1MedianOfRounds: r3(median(pairRatios)), goal: 'v2 at least 0.8 of v1' },
    handshake: { count: hsRounds.v1.length * HANDSHAKES, v1: hs.v1, v2: hs.v2, v2OverV1Time: r2(hs.v2.medianMs / hs.v1.medianMs) },
    receivePathOnly: { readBytes: READ_BYTES, rounds: codecMs.v1.length, v1: codec.v1, v2: codec.v2, v2OverV1: r3(codec.v2.mbPerSec / codec.v1.mbPerSec) },
  }
  console.log(`block download, ${r2(totalBytes / 1e6)} MB in ${hashes.length} blocks (median of ${rounds.v1.length} rounds each):`)
  console.log(`  v1: ${v1.mbPerSec} MB/s (${v1.medianMs} ms; ${v1.wireBytes} bytes on the wire; CPU busy: bitp2p ${v1.cpuShare.bitp2p}, btcd ${v1.cpuShare.btcd}; CPU ms per MB: bitp2p ${v1.cpuMsPerMB.bitp2p}, btcd ${v1.cpuMsPerMB.btcd})`)
  console.log(`  v2: ${v2.mbPerSec} MB/s (${v2.medianMs} ms; ${v2.wireBytes} bytes on the wire; CPU busy: bitp2p ${v2.cpuShare.bitp2p}, btcd ${v2.cpuShare.btcd}; CPU ms per MB: bitp2p ${v2.cpuMsPerMB.bitp2p}, btcd ${v2.cpuMsPerMB.btcd})`)
  console.log(`  v2 / v1: ${results.download.v2OverV1} of the medians, ${results.download.v2OverV1MedianOfRounds} the median of the rounds' own ratios (goal: at least 0.8)`)
  console.log(`handshake, median of ${results.handshake.count} (TCP connect to ready; CPU per handshake):`)
  console.log(`  v1: ${hs.v1.medianMs} ms; CPU bitp2p ${hs.v1.oursCpuMsPerHandshake} ms, btcd ${hs.v1.btcdCpuMsPerHandshake ?? 'n/a'} ms`)
  console.log(`  v2: ${hs.v2.medianMs} ms; CPU bitp2p ${hs.v2.oursCpuMsPerHandshake} ms, btcd ${hs.v2.btcdCpuMsPerHandshake ?? 'n/a'} ms`)
  console.log(`  v2 / v1 time: ${results.handshake.v2OverV1Time}`)
  console.log(`our receive path alone (session codecs, the same payloads in ${READ_BYTES / 1024} KiB reads, median of ${codecMs.v1.length}):`)
  console.log(`  v1 ${codec.v1.mbPerSec} MB/s, v2 ${codec.v2.mbPerSec} MB/s, v2 / v1 ${results.receivePathOnly.v2OverV1}`)
  if (quick) finishRun(run)
  else writeResults(RESULTS, run, stability, results)
} finally {
  btcd.stop()
}
