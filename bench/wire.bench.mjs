// Wire benchmarks: frame decoding against other libraries in the same
// process, header hashing. Ratios are printed; no timing is asserted
// anywhere. Run: npm run bench (from the repo root). Block parsing (parse +
// txids + wtxids, the streaming parser) is in blocks.bench.mjs.
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
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
const quick = process.argv.includes('--quick')

// --- competitors -----------------------------------------------------------
require('bcoin') // loads bcrypto first; it picks node:crypto (native bindings are not built)
// bcoin's Parser: its hash256 (the checksum) is loaded first, with bcrypto's
// node:crypto backend; NODE_BACKEND=js only while the parser loads, so that
// its bloom filter's murmur3 (mrmr, a native addon not built here) takes JS.
if (require('bcrypto/lib/hash256').native !== 1) throw new Error('bcoin framing: bcrypto hash256 is not on node:crypto')
process.env.NODE_BACKEND = 'js'
const BcoinParser = require('bcoin/lib/net/parser')
delete process.env.NODE_BACKEND
// bitcore-p2p: its 'buffers' dependency is a git fork (bitpay/node-buffers)
// that npm cannot fetch here; the root package.json overrides it with the npm
// release 0.1.1. That release's get() calls Buffer#get, which Node removed
// long ago; here get() reads the byte by index, which is all Buffer#get did.
const bitcore = require('bitcore-p2p')
const BitcoreBuffers = require('bitcore-p2p/lib/buffers')
BitcoreBuffers.prototype.get = function get(i) {
  const pos = this.pos(i)
  return this.buffers[pos.buf][pos.offset]
}
const bitcoreMessages = new bitcore.Messages() // its default network: livenet (mainnet)

function fmt(ns) {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`
}

// The machine's 1-, 5- and 15-minute load averages at the start and the end: on
// the shared machine the absolute times move with them (the ratios much less).
const results = { date: new Date().toISOString(), node: process.version, loadStart: loadavg(), frames: null, headers: null }
console.log(`Node ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)

// --- frame decoding: 100,000 small mainnet messages ---------------------------
// Every library gets the same bytes, cut into the same chunks outside the
// timing, in this process: 100,000 mainnet `ping`s (random nonces from a
// fixed seed), and a mix of `ping` and one-item `inv` alternating. Each
// counts a message only once its checksum is verified and it is parsed into
// the library's message object: bitp2p's MessageDecoder (both builds),
// bcoin's Parser (node:crypto through bcrypto; 'packet' events) and
// bitcore-p2p's Messages.parseBuffer over its Buffers list. Chunks of 64 KiB
// (a socket read under load) and of 1,460 bytes (one TCP segment's payload:
// frames split across chunks).

/** Messages per framing stream. */
const FRAMING_MESSAGES = 100_000
/** The chunk sizes every framing stream is pushed in. */
const FRAMING_CHUNKS = [64 * 1024, 1460]

/** The framing streams, encoded with bitp2p's encoder: `ping` only, and ping/inv alternating. */
function framingStreams(lib, count) {
  let seed = 0x2545f491
  const u32 = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0)
  const pings = []
  const mix = []
  for (let i = 0; i < count; i++) {
    const ping = lib.encodeMessage({ command: 'ping', nonce: (BigInt(u32()) << 32n) | BigInt(u32()) }, lib.mainnet)
    pings.push(ping)
    if (i % 2 === 0) mix.push(ping)
    else {
      const hash = new Uint8Array(32)
      for (let k = 0; k < 32; k += 4) new DataView(hash.buffer).setUint32(k, u32())
      mix.push(lib.encodeMessage({ command: 'inv', items: [{ type: 1, hash }] }, lib.mainnet))
    }
  }
  return { ping: lib.concatBytes(...pings), 'ping + inv': lib.concatBytes(...mix) }
}

/** `stream` cut into chunks of `size`, as views (bitp2p) and as Buffers over the same bytes (bcoin, bitcore-p2p). */
function chunked(stream, size) {
  const views = []
  const buffers = []
  for (let i = 0; i < stream.length; i += size) {
    const v = stream.subarray(i, i + size)
    views.push(v)
    buffers.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength))
  }
  return { views, buffers }
}

/** bitp2p: one MessageDecoder over every chunk; throws unless `expected` typed messages came out. */
function framingBitp2p(lib, chunks, expected) {
  const d = new lib.MessageDecoder({ network: lib.mainnet })
  let n = 0
  for (const c of chunks.views) {
    for (const ev of d.push(c)) if (ev.type === 'message') n++
  }
  if (n !== expected) throw new Error(`bitp2p decoded ${n} of ${expected}`)
}

/** bcoin's Parser (checksum with bcrypto's hash256, node:crypto here); counts its 'packet' events. */
function framingBcoin(chunks, expected) {
  const parser = new BcoinParser('main')
  let n = 0
  parser.on('packet', () => n++)
  parser.on('error', (e) => {
    throw e
  })
  for (const c of chunks.buffers) parser.feed(c)
  if (n !== expected) throw new Error(`bcoin decoded ${n} of ${expected}`)
}

/** bitcore-p2p: Messages.parseBuffer over a Buffers list, as its Peer reads a socket. */
function framingBitcore(chunks, expected) {
  const list = new BitcoreBuffers()
  let n = 0
  for (const c of chunks.buffers) {
    list.push(c)
    while (bitcoreMessages.parseBuffer(list)) n++
  }
  if (n !== expected) throw new Error(`bitcore-p2p decoded ${n} of ${expected}`)
}

/** Median time of `fn` in ns (mitata; a few samples for the slow competitors). */
async function framingTime(fn, slow) {
  const s = await measure(fn, quick ? { min_cpu_time: 50e6, min_samples: 2, warmup_samples: 1 } : { min_cpu_time: slow ? 3e9 : 1.5e9, min_samples: slow ? 3 : 12, warmup_samples: 1 })
  return s.p50
}

/** Every framing stream at every chunk size through every decoder; prints messages/s and bitp2p's ratios. */
async function benchFraming() {
  const out = {}
  for (const [streamName, stream] of Object.entries(framingStreams(native, FRAMING_MESSAGES))) {
    for (const size of FRAMING_CHUNKS) {
      const chunks = chunked(stream, size)
      const ns = {
        'bitp2p (node:crypto build)': await framingTime(() => framingBitp2p(native, chunks, FRAMING_MESSAGES)),
        'bitp2p (pure JS build)': await framingTime(() => framingBitp2p(pure, chunks, FRAMING_MESSAGES)),
        'bcoin Parser': await framingTime(() => framingBcoin(chunks, FRAMING_MESSAGES), true),
        'bitcore-p2p Messages': await framingTime(() => framingBitcore(chunks, FRAMING_MESSAGES), true),
      }
      const label = `${streamName}, ${size === 1460 ? '1,460-byte' : `${size / 1024} KiB`} chunks`
      console.log(`\nframe decode, ${FRAMING_MESSAGES.toLocaleString()} mainnet messages: ${label}:`)
      const ours = ns['bitp2p (node:crypto build)']
      const row = {}
      for (const [name, t] of Object.entries(ns)) {
        const perSecond = FRAMING_MESSAGES / (t / 1e9)
        row[name] = { ns: t, perSecond }
        const ratio = name.startsWith('bitp2p (node')
          ? ''
          : name.startsWith('bitp2p')
            ? `  ${(ours / t).toFixed(2)}x the Node build's rate`
            : `  bitp2p (node:crypto build) ${(t / ours).toFixed(2)}x faster`
        console.log(`  ${name.padEnd(28)} ${Math.round(perSecond).toLocaleString().padStart(11)} messages/s${ratio}`)
      }
      out[label] = row
    }
  }
  return out
}

results.frames = await benchFraming()

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
