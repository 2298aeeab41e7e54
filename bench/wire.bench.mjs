// Wire benchmarks: frame decoding against other libraries in the same
// process, header hashing. Ratios are printed; no timing is asserted
// anywhere. Block parsing (parse + txids + wtxids, the streaming parser) is
// in blocks.bench.mjs. Uses the built packages (run `npm run build` first):
//
//   node --expose-gc bench/wire.bench.mjs           # 100,000 messages per stream, 5 to 12 rounds until stable; writes bench/results.json
//   node --expose-gc bench/wire.bench.mjs --quick   # 20,000 messages, 2 rounds, writes nothing
//
// Each round runs every decoder on every stream and chunk size once,
// interleaved, then both builds' sha256d; its ratios are bitp2p's message
// rate over bcoin's Parser's and bitcore-p2p's in that round (and the
// pure-JS build's over the Node build's). Rounds repeat until every ratio's
// spread is under 10 % (bench/lib/harness.mjs); the load average and the
// machine's reference rates are printed before and after.
import { createRequire } from 'node:module'
import { do_not_optimize } from 'mitata'
import { finishRun, median, startRun, untilStable, writeResults } from './lib/harness.mjs'
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

const RESULTS = new URL('./results.json', import.meta.url)
/** Rounds at least (the last MIN_ROUNDS are judged), at most, and the wall-time cap on them. */
const MIN_ROUNDS = quick ? 2 : 5
const MAX_ROUNDS = quick ? 2 : 12
const MAX_MS = 200_000
/** Time each decoder (and each hasher) is run for in one round, at least one call: enough for a fast one to settle, one call of a slow one. */
const MIN_MS = quick ? 30 : 300

const run = startRun('wire')

/**
 * Mean ns per call of `fn`, called until `minMs` have passed (at least once),
 * from a collected heap when --expose-gc is on: a decoder that allocates a lot
 * (bitcore-p2p) otherwise leaves its garbage to whoever runs next.
 */
function meanNs(fn, minMs = MIN_MS) {
  globalThis.gc?.()
  let calls = 0
  const t0 = performance.now()
  let t = t0
  while (calls === 0 || t - t0 < minMs) {
    fn()
    calls++
    t = performance.now()
  }
  return ((t - t0) * 1e6) / calls
}

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

/** Messages per framing stream (fewer in --quick). */
const FRAMING_MESSAGES = quick ? 20_000 : 100_000
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

/** The decoders every framing stream goes through, by the names the results record. */
const DECODERS = {
  'bitp2p (node:crypto build)': (chunks, n) => framingBitp2p(native, chunks, n),
  'bitp2p (pure JS build)': (chunks, n) => framingBitp2p(pure, chunks, n),
  'bcoin Parser': framingBcoin,
  'bitcore-p2p Messages': framingBitcore,
}

/** "ping, 64 KiB chunks": a case's label, as the results and the ratio names spell it. */
const caseLabel = (streamName, size) => `${streamName}, ${size === 1460 ? '1,460-byte' : `${size / 1024} KiB`} chunks`

/** Every framing stream cut at every chunk size: [{ label, chunks }], prepared once, outside any timing. */
const FRAMING_CASES = Object.entries(framingStreams(native, FRAMING_MESSAGES)).flatMap(([streamName, stream]) =>
  FRAMING_CHUNKS.map((size) => ({ label: caseLabel(streamName, size), chunks: chunked(stream, size) })),
)

// --- header hashing: the general sha256d of both builds on 80-byte inputs ------

/** Inputs of the header-hashing measurement: distinct 80-byte headers side by side. */
const HEADER_COUNT = quick ? 20_000 : 100_000
const headerBytes = new Uint8Array(80 * HEADER_COUNT)
for (let i = 0; i < HEADER_COUNT; i++) headerBytes[i * 80 + 76] = i & 0xff
const HASHERS = { 'node:crypto': native, 'pure JS': pure }
const hashAll = (lib) => () => {
  for (let i = 0; i < HEADER_COUNT; i++) do_not_optimize(lib.sha256d(headerBytes.subarray(i * 80, i * 80 + 80)))
}

// --- the rounds ------------------------------------------------------------------

console.log(
  `${FRAMING_MESSAGES.toLocaleString()} mainnet messages per framing stream (ping; ping + inv), chunks of ${FRAMING_CHUNKS.map((c) => c.toLocaleString()).join(' and ')} bytes, ` +
    `through ${Object.keys(DECODERS).join(', ')}; sha256d of ${HEADER_COUNT.toLocaleString()} 80-byte headers; ${MIN_ROUNDS} to ${MAX_ROUNDS} rounds`,
)
// One untimed pass of everything first, so the timed rounds run compiled code (and a miscount throws before any timing).
for (const c of FRAMING_CASES) for (const decode of Object.values(DECODERS)) decode(c.chunks, FRAMING_MESSAGES)
for (const lib of Object.values(HASHERS)) hashAll(lib)()

/** Every round's ns per call: frameNs[label][decoder] and headerNs[hasher], one entry per round. */
const frameNs = Object.fromEntries(FRAMING_CASES.map((c) => [c.label, Object.fromEntries(Object.keys(DECODERS).map((d) => [d, []]))]))
const headerNs = Object.fromEntries(Object.keys(HASHERS).map((h) => [h, []]))

/**
 * One round: every case through every decoder, interleaved (a burst of load
 * hits one round of all of them, not one decoder), then both hashers. Its
 * ratios are bitp2p's (Node build) message rate over each other decoder's in
 * this round, the pure-JS build's over the Node build's, and the header
 * hashing rates of the two builds.
 */
function round() {
  const ratios = {}
  for (const { label, chunks } of FRAMING_CASES) {
    const ns = {}
    for (const [name, decode] of Object.entries(DECODERS)) {
      ns[name] = meanNs(() => decode(chunks, FRAMING_MESSAGES))
      frameNs[label][name].push(ns[name])
    }
    const ours = ns['bitp2p (node:crypto build)']
    ratios[`frames, ${label}: bitp2p / bcoin Parser (msg/s)`] = ns['bcoin Parser'] / ours
    ratios[`frames, ${label}: bitp2p / bitcore-p2p (msg/s)`] = ns['bitcore-p2p Messages'] / ours
    ratios[`frames, ${label}: pure-JS build / Node build (msg/s)`] = ours / ns['bitp2p (pure JS build)']
  }
  const hashNs = Object.fromEntries(Object.entries(HASHERS).map(([name, lib]) => [name, meanNs(hashAll(lib))]))
  for (const [name, t] of Object.entries(hashNs)) headerNs[name].push(t)
  ratios['sha256d of 80 bytes: pure-JS build / Node build (hashes/s)'] = hashNs['node:crypto'] / hashNs['pure JS']
  return ratios
}

const stability = await untilStable(round, { minRounds: MIN_ROUNDS, maxRounds: MAX_ROUNDS, maxMs: MAX_MS, label: 'wire' })

// --- report: medians over every round --------------------------------------------

const frames = {}
for (const { label } of FRAMING_CASES) {
  console.log(`\nframe decode, ${FRAMING_MESSAGES.toLocaleString()} mainnet messages: ${label} (median of ${stability.rounds} rounds):`)
  const row = {}
  const ours = median(frameNs[label]['bitp2p (node:crypto build)'])
  for (const [name, times] of Object.entries(frameNs[label])) {
    const t = median(times)
    const perSecond = FRAMING_MESSAGES / (t / 1e9)
    row[name] = { ns: t, perSecond }
    const ratio = name.startsWith('bitp2p (node')
      ? ''
      : name.startsWith('bitp2p')
        ? `  ${(ours / t).toFixed(2)}x the Node build's rate`
        : `  bitp2p (node:crypto build) ${(t / ours).toFixed(2)}x faster`
    console.log(`  ${name.padEnd(28)} ${Math.round(perSecond).toLocaleString().padStart(11)} messages/s${ratio}`)
  }
  frames[label] = row
}
const headers = {}
for (const [name, times] of Object.entries(headerNs)) {
  const t = median(times)
  headers[name] = { headers: HEADER_COUNT, ns: t, perSecond: HEADER_COUNT / (t / 1e9) }
  console.log(`header hashing (sha256d of 80 bytes), ${name}: ${Math.round(headers[name].perSecond).toLocaleString()} headers/s`)
}

if (quick) finishRun(run)
else writeResults(RESULTS, run, stability, { messages: FRAMING_MESSAGES, rounds: stability.rounds, frames, headers })
