// Wire benchmarks: frame decoding, header hashing. Ratios are printed; no
// timing is asserted anywhere. Run: npm run bench (from the repo root).
// Block parsing (parse + txids + wtxids, the streaming parser) is in
// blocks.bench.mjs.
import { writeFileSync } from 'node:fs'
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

const quick = process.argv.includes('--quick')

function fmt(ns) {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`
}

// The machine's 1-, 5- and 15-minute load averages at the start and the end: on
// the shared machine the absolute times move with them (the ratios much less).
const results = { date: new Date().toISOString(), node: process.version, loadStart: loadavg(), frames: null, headers: null }
console.log(`Node ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)

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
