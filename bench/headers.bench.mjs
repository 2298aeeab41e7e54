// Header validation throughput: HeaderTree.acceptMany on 100,000 mined
// regtest headers, in batches of 2,000 (one `headers` message each, as
// HeaderSync feeds them). Uses the built packages (run `npm run build`
// first):
//
//   node --expose-gc bench/headers.bench.mjs              # 100,000 headers, rounds until stable (5 to 15); writes bench/headers-results.json
//   node --expose-gc bench/headers.bench.mjs --quick      # 20,000 headers, 2 rounds, writes nothing
//   node --expose-gc bench/headers.bench.mjs --profile    # also profile two rounds and name the top costs
//
// --expose-gc lets each timed round start from a collected heap (see
// collectGarbage); without it the rounds run as before.
//
// Before any timing, the headers are mined (a nonce search against
// regtest's 0x207fffff, about two hashes each) and then, batch by batch,
// encoded as a `headers` message and decoded with wire's headersCodec: the
// header objects the tree gets are the ones HeaderSync gets from a peer.
// Each round builds a fresh tree from genesis; one untimed round first lets
// the JIT compile the code (a real sync is long enough not to notice). The
// warm-up round's tree is kept until the end: a real sync's one tree lives
// through every GC, and with no tree alive the collection before each round
// freed the hidden classes of the tree's objects, so V8 threw the warm-up's
// optimized code away and every timed round ran part of its headers
// unoptimized while V8 recompiled (~1.6x the CPU of a round without).
//
// The figures that hold on a busy machine are ratios taken inside each
// round: the tree's headers/s over node:crypto's per-call sha256d rate on
// the same 80-byte headers, measured just before it, with two ways of
// calling node:crypto:
//  - createHash('sha256').update(..).digest() twice per header: how the
//    issue's reference was taken when issue 17 set its goal (the tree at
//    least 3x it; ~282 k/s then), and what its goal line is judged on;
//  - the one-shot crypto.hash (Node >= 20.12; the harness's nodeSha256d),
//    1.6-2.4x faster per call than the createHash chain on Node 20.20: the
//    fastest node:crypto call, printed beside it.
// Rounds repeat until both ratios' spreads are under 10 % (the shared
// harness, bench/lib/harness.mjs), and the spread of the tree's own rate
// (median against best round; goal: within 15 %) is reported beside them.
//
// Two builds are measured:
//  - Node: '@bitp2p/wire' resolves to its `node` export, which is what the
//    session package gets on Node (node:crypto for general SHA-256);
//  - pure JS: the same bench in a child process whose resolver hook maps
//    '@bitp2p/wire' to the default (browser) build, for the session bundle
//    too. Node always sets the `node` condition, so --conditions cannot
//    select it.
// The tree hashes headers with wire's header-specialised sha256d
// (hash/header-hash.ts, plain JS) in BOTH builds: for one 80-byte message it
// beats a node:crypto call. The per-header hashing rates of that hasher, of
// node:crypto's and of @noble/hashes' sha256d are printed for comparison.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { Session } from 'node:inspector/promises'
import { fileURLToPath } from 'node:url'
import { finishRun, median, nodeSha256d, startRun, untilStable, writeResults } from './lib/harness.mjs'

const quick = process.argv.includes('--quick')
const child = process.argv.includes('--child')
const profile = process.argv.includes('--profile')
/** Headers validated per round. */
const COUNT = quick ? 20_000 : 100_000
/** Timed rounds at least (the best and the median are reported), after one untimed warm-up round. */
const ROUNDS = quick ? 2 : 5
/** Timed rounds at most, when the ratio will not settle. */
const MAX_ROUNDS = quick ? 2 : 15
/**
 * The issue's goal: the tree at least this many times node:crypto's
 * per-call sha256d rate in the same round, judged against the reference as
 * the issue took it (createHashSha256d).
 */
const RATIO_GOAL = 3
/** Headers node:crypto's per-call sha256d is timed on in each round, both ways (best of three passes each). */
const NODE_SAMPLE = 20_000
/** The issue's goal: the median round within this fraction of the best. */
const MEDIAN_GOAL = 0.15
/** One `headers` message. */
const BATCH = 2_000
/** The issue's goal for the Node build. */
const GOAL = 1_000_000
/** The built wire's two trees: dist/<entry>.js (pure JS) and dist/node-variant/<entry>.js (node:crypto). */
const PURE_WIRE_DIR = new URL('../packages/wire/dist/', import.meta.url).href
const NODE_WIRE_DIR = new URL('../packages/wire/dist/node-variant/', import.meta.url).href
const RESULTS = new URL('./headers-results.json', import.meta.url)

const wire = await import('@bitp2p/wire')
const { regtest, serializeBlockHeader } = wire
const { sha256dHeader, createHeaderHasher, SHA256_BACKEND } = await import('@bitp2p/wire/hash')
const { checkProofOfWork } = await import('@bitp2p/wire/consensus')
const { headersCodec, ByteReader, ByteWriter } = await import('@bitp2p/wire/codecs')
const { HeaderTree } = await import('@bitp2p/session/chain')

/** `count` regtest headers on genesis, each mined (nonce search) against its bits. */
function mineHeaders(count) {
  const out = []
  let prev = regtest.genesisHash
  let time = regtest.genesis.time
  const merkle = new Uint8Array(32)
  for (let i = 0; i < count; i++) {
    time += 600
    // A distinct merkle root per header, as if it committed to its own coinbase.
    new DataView(merkle.buffer).setUint32(0, i + 1, true)
    for (let nonce = 0; ; nonce++) {
      const header = { version: 0x20000000, prevBlock: prev, merkleRoot: merkle, time, bits: regtest.powLimitBits, nonce }
      const hash = sha256dHeader(serializeBlockHeader(header))
      if (checkProofOfWork(hash, header.bits, regtest).ok) {
        out.push(serializeBlockHeader(header))
        prev = hash
        break
      }
    }
  }
  return out
}

/** The headers in `headers` messages of BATCH, each encoded and decoded with wire's codec, as HeaderSync receives them. */
function asMessages(raws) {
  const batches = []
  for (let i = 0; i < raws.length; i += BATCH) {
    const w = new ByteWriter()
    const headers = raws.slice(i, i + BATCH).map((raw) => wire.parseBlockHeader(raw))
    headersCodec.encode(w, { command: 'headers', headers })
    batches.push(headersCodec.decode(new ByteReader(w.finish())).headers)
  }
  return batches
}

function validate(batches, count) {
  const tree = new HeaderTree(regtest)
  for (let i = 0; i < batches.length; i++) {
    const r = tree.acceptMany(batches[i])
    if (r.rejected) throw new Error(`batch ${i} header ${r.rejected.index} rejected: ${JSON.stringify(r.rejected.error, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`)
  }
  if (tree.height !== count) throw new Error(`tree height ${tree.height}, expected ${count}`)
  return tree
}

/**
 * With --expose-gc, a full collection before each timed round: every round
 * builds a fresh tree (about 15 MB of typed-array columns for 100,000
 * headers) and drops it, and without this a round pays, at random, for
 * collecting the trees of the rounds before it, which a real sync (one tree)
 * never does. Without the flag, nothing.
 */
const collectGarbage = () => globalThis.gc?.()

function timeRounds(batches) {
  const warm = validate(batches, COUNT) // warm-up, untimed; kept (see the top)
  const rates = []
  for (let r = 0; r < ROUNDS; r++) {
    collectGarbage()
    const t0 = performance.now()
    validate(batches, COUNT)
    rates.push(COUNT / ((performance.now() - t0) / 1000))
  }
  if (warm.height !== COUNT) throw new Error('warm-up tree changed')
  rates.sort((a, b) => b - a)
  return { best: rates[0], median: rates[Math.floor(rates.length / 2)], rounds: rates }
}

/** Best of three passes of `hash` over every preimage, in hashes per second. */
function hashRate(hash, preimages) {
  let best = 0
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now()
    for (const p of preimages) hash(p)
    best = Math.max(best, preimages.length / ((performance.now() - t0) / 1000))
  }
  return best
}

/** Top self-time functions of a V8 CPU profile of two rounds. */
async function profileRounds(batches) {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  validate(batches, COUNT)
  validate(batches, COUNT)
  const { profile: p } = await session.post('Profiler.stop')
  session.disconnect()
  const self = new Map()
  const dt = new Map()
  for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0))
  let total = 0
  for (const node of p.nodes) {
    const t = dt.get(node.id) ?? 0
    const f = node.callFrame
    // The inspector's own message dispatch while it samples is not the tree's work.
    if (!f.url && (f.functionName === 'dispatch' || f.functionName === '(idle)' || f.functionName === '(program)')) continue
    total += t
    const where = f.url ? `${f.url.split('/').slice(-3).join('/')}:${f.lineNumber + 1}` : ''
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim()
    self.set(key, (self.get(key) ?? 0) + t)
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([name, t]) => ({ name, share: t / total }))
}

const fmt = (n) => Math.round(n).toLocaleString('en-US')

/**
 * node:crypto's sha256d as issue 17's reference rate was taken: a
 * createHash chain per pass (the per-call API every Node version has), the
 * first digest fed to the second.
 */
const createHashSha256d = (bytes) => createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest()

if (child) {
  // Pure-JS child: report the tree rate on stdout as JSON.
  const batches = asMessages(mineHeaders(COUNT))
  process.stdout.write(JSON.stringify({ backend: SHA256_BACKEND, ...timeRounds(batches) }))
} else {
  const run = startRun('headers')
  console.log(`${fmt(COUNT)} regtest headers, batches of ${BATCH}, ${ROUNDS} to ${MAX_ROUNDS} timed rounds after one warm-up`)
  const t0 = performance.now()
  const raws = mineHeaders(COUNT)
  const batches = asMessages(raws)
  console.log(`mined and decoded in ${((performance.now() - t0) / 1000).toFixed(1)} s (not timed below)`)

  const warm = validate(batches, COUNT) // warm-up, untimed; kept to the end (see the top)
  /** The headers node:crypto hashes each round: enough for a steady rate, few enough to leave little garbage. */
  const nodeSample = raws.slice(0, NODE_SAMPLE)
  const treeRates = []
  const nodeRates = []
  const chainRates = []
  const stability = await untilStable(
    () => {
      // node:crypto first, on a sample: the one-shot call as this bench has
      // always timed it, then, after a collection, the createHash chain. The
      // round before dropped a tree, and the chain (two Hash objects and two
      // digests per header) ran ~205-305 k/s when it paid for collecting
      // it, ~295-400 k/s when not. Then a collection for the tree's round:
      // node:crypto's digests are garbage it should not pay for either.
      const node = hashRate(nodeSha256d, nodeSample)
      collectGarbage()
      const chain = hashRate(createHashSha256d, nodeSample)
      collectGarbage()
      const t = performance.now()
      validate(batches, COUNT)
      const tree = COUNT / ((performance.now() - t) / 1000)
      treeRates.push(tree)
      nodeRates.push(node)
      chainRates.push(chain)
      return { treeOverCreateHashSha256d: tree / chain, treeOverNodeSha256d: tree / node }
    },
    { minRounds: ROUNDS, maxRounds: MAX_ROUNDS, window: ROUNDS, maxMs: 300_000, label: 'headers' },
  )
  if (warm.height !== COUNT) throw new Error('warm-up tree changed')
  const sorted = [...treeRates].sort((a, b) => b - a)
  const native = { best: sorted[0], median: median(treeRates), rounds: treeRates }
  const medianGap = 1 - native.median / native.best
  const overChain = stability.ratios.treeOverCreateHashSha256d
  const overOneShot = stability.ratios.treeOverNodeSha256d
  console.log(
    `HeaderTree.acceptMany, Node build (header hash: JS header-hash.ts): best ${fmt(native.best)} headers/s, median ${fmt(native.median)} ` +
      `(${(medianGap * 100).toFixed(1)} % under the best; goal within ${MEDIAN_GOAL * 100} %)`,
  )
  console.log(
    `node:crypto sha256d per call in the same rounds (80-byte headers), medians: createHash().update().digest() twice ${fmt(median(chainRates))}/s, ` +
      `one-shot crypto.hash twice ${fmt(median(nodeRates))}/s`,
  )
  console.log(
    `tree / node:crypto createHash chain (issue 17's reference as written): ${overChain}x (goal ${RATIO_GOAL}x: ${overChain >= RATIO_GOAL ? 'met' : 'not met'}); ` +
      `tree / node:crypto one-shot crypto.hash: ${overOneShot}x`,
  )

  const hook = `data:text/javascript,${encodeURIComponent(
    // @bitp2p/wire and each of its subpaths, from the pure tree.
    `export async function resolve(s, c, n) { const m = /^@bitp2p\\/wire(?:\\/([\\w-]+))?$/.exec(s); return m ? { url: ${JSON.stringify(PURE_WIRE_DIR)} + (m[1] ?? 'index') + '.js', shortCircuit: true } : n(s, c) }`,
  )}`
  const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hook)})`)}`
  const gcFlag = globalThis.gc ? ['--expose-gc'] : []
  const res = spawnSync(process.execPath, [...gcFlag, '--import', register, fileURLToPath(import.meta.url), '--child', ...(quick ? ['--quick'] : [])], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  })
  if (res.status !== 0) throw new Error(`pure-JS child failed: ${res.stderr}`)
  const pure = JSON.parse(res.stdout)
  console.log(
    `HeaderTree.acceptMany, pure-JS build (browser; general SHA-256: ${pure.backend}; header hash: the same JS): best ${fmt(pure.best)} headers/s, median ${fmt(pure.median)}`,
  )

  const nodeWire = await import(`${NODE_WIRE_DIR}hash.js`)
  const pureWire = await import(`${PURE_WIRE_DIR}hash.js`)
  // hashInto as the tree uses it: headers side by side in one array, hashes into another.
  const all = new Uint8Array(raws.length * 80)
  raws.forEach((r, i) => all.set(r, i * 80))
  const digests = new Uint8Array(raws.length * 32)
  const hasher = createHeaderHasher()
  const offsets = raws.map((_, i) => i)
  const hjs = hashRate((i) => hasher.hashInto(all, i * 80, digests, i * 32), offsets)
  const hjsAlloc = hashRate(sha256dHeader, raws)
  const hn = hashRate(nodeWire.sha256d, raws)
  const hp = hashRate(pureWire.sha256d, raws)
  const hc = hashRate(createHashSha256d, raws)
  const ho = hashRate(nodeSha256d, raws)
  console.log(
    `sha256d of one 80-byte header, per call: header-hash.ts ${fmt(hjs)}/s (hashInto; ${fmt(hjsAlloc)}/s as sha256dHeader, ` +
      `which allocates), wire's sha256d (Node build) ${fmt(hn)}/s, @noble/hashes ${fmt(hp)}/s; ` +
      `node:crypto createHash chain ${fmt(hc)}/s, one-shot crypto.hash ${fmt(ho)}/s`,
  )
  console.log(`the header hash alone caps the tree at ${fmt(hjs)}/s; the Node build reaches ${((native.best / hjs) * 100).toFixed(0)} % of that`)
  if (quick) finishRun(run)
  else {
    const rates = (r) => ({ best: Math.round(r.best), median: Math.round(r.median), rounds: r.rounds.map(Math.round) })
    writeResults(RESULTS, run, stability, {
      headers: COUNT,
      batch: BATCH,
      rounds: treeRates.length,
      goal: GOAL,
      ratioGoal: RATIO_GOAL,
      medianGoal: MEDIAN_GOAL,
      nodeBuild: rates(native),
      medianUnderBest: Math.round(medianGap * 1000) / 1000,
      ratioGoalReference: 'createHash chain per call (treeOverCreateHashSha256d)',
      treeOverCreateHashSha256d: overChain,
      treeOverNodeSha256d: overOneShot,
      createHashSha256dPerRound: chainRates.map(Math.round),
      nodeSha256dPerRound: nodeRates.map(Math.round),
      pureBuild: { sha256: pure.backend, ...rates(pure) },
      sha256dPerSecond: {
        headerHashInto: Math.round(hjs),
        sha256dHeader: Math.round(hjsAlloc),
        nodeCrypto: Math.round(hn),
        noble: Math.round(hp),
        nodeCreateHashChain: Math.round(hc),
        nodeOneShot: Math.round(ho),
      },
    })
  }

  if (profile) {
    const top = await profileRounds(batches)
    console.log('top self time, Node build, two rounds:')
    for (const t of top) console.log(`  ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.name}`)
  }
}
