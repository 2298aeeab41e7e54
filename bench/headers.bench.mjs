// Header validation throughput: HeaderTree.acceptMany on 100,000 mined
// regtest headers, in batches of 2,000 (one `headers` message each, as
// HeaderSync feeds them). Uses the built packages (run `npm run build`
// first):
//
//   node bench/headers.bench.mjs              # 100,000 headers, 5 rounds
//   node bench/headers.bench.mjs --quick      # 20,000 headers, 2 rounds
//   node bench/headers.bench.mjs --profile    # also profile one round and name the top costs
//
// The headers are mined before any timing (a nonce search against
// regtest's 0x207fffff, about two hashes each) and each round builds a
// fresh tree from genesis. Two builds are measured:
//  - native: '@bitp2p/wire' resolves to its `node` export (node:crypto
//    hashing), which is what the session package gets on Node;
//  - pure JS: the same bench in a child process whose resolver hook maps
//    '@bitp2p/wire' to the default (browser / @noble/hashes) build, for the
//    session bundle too. Node always sets the `node` condition, so
//    --conditions cannot select it.
// The raw header-hashing rate of both sha256d backends (100,000 80-byte
// preimages) is printed next to them: the PoW hash is a floor under the tree.
import { spawnSync } from 'node:child_process'
import { Session } from 'node:inspector/promises'
import { fileURLToPath } from 'node:url'

const quick = process.argv.includes('--quick')
const child = process.argv.includes('--child')
const profile = process.argv.includes('--profile')
/** Headers validated per round. */
const COUNT = quick ? 20_000 : 100_000
/** Timed rounds (the best and the median are reported). */
const ROUNDS = quick ? 2 : 5
/** One `headers` message. */
const BATCH = 2_000
/** The issue's goal for the native build. */
const GOAL = 1_000_000
const PURE_WIRE = new URL('../packages/wire/dist/index.js', import.meta.url).href

const { regtest, serializeBlockHeader, sha256d, checkProofOfWork, SHA256_BACKEND } = await import('@bitp2p/wire')
const { HeaderTree } = await import('@bitp2p/session')

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
      const header = { version: 0x20000000, prevBlock: prev, merkleRoot: merkle.slice(), time, bits: regtest.powLimitBits, nonce }
      const hash = sha256d(serializeBlockHeader(header))
      if (checkProofOfWork(hash, header.bits, regtest).ok) {
        out.push(header)
        prev = hash
        break
      }
    }
  }
  return out
}

function validate(headers) {
  const tree = new HeaderTree(regtest)
  for (let i = 0; i < headers.length; i += BATCH) {
    const r = tree.acceptMany(headers.slice(i, i + BATCH))
    if (r.rejected) throw new Error(`header ${i} rejected: ${JSON.stringify(r.rejected.error)}`)
  }
  if (tree.height !== headers.length) throw new Error(`tree height ${tree.height}, expected ${headers.length}`)
  return tree
}

function timeRounds(headers) {
  const rates = []
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now()
    validate(headers)
    rates.push(headers.length / ((performance.now() - t0) / 1000))
  }
  rates.sort((a, b) => b - a)
  return { best: rates[0], median: rates[Math.floor(rates.length / 2)] }
}

function hashRate(hash, preimages) {
  let best = 0
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now()
    for (const p of preimages) hash(p)
    best = Math.max(best, preimages.length / ((performance.now() - t0) / 1000))
  }
  return best
}

/** Top self-time functions of a V8 CPU profile of one round. */
async function profileRound(headers) {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  validate(headers)
  validate(headers)
  const { profile: p } = await session.post('Profiler.stop')
  session.disconnect()
  const self = new Map()
  const dt = new Map()
  for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0))
  let total = 0
  for (const node of p.nodes) {
    const t = dt.get(node.id) ?? 0
    total += t
    const f = node.callFrame
    const where = f.url ? `${f.url.split('/').slice(-3).join('/')}:${f.lineNumber + 1}` : ''
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim()
    self.set(key, (self.get(key) ?? 0) + t)
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, t]) => ({ name, share: t / total }))
}

const fmt = (n) => Math.round(n).toLocaleString('en-US')

if (child) {
  // Pure-JS child: report the tree rate on stdout as JSON.
  const headers = mineHeaders(COUNT)
  process.stdout.write(JSON.stringify({ backend: SHA256_BACKEND, ...timeRounds(headers) }))
} else {
  console.log(`Node ${process.version}; ${fmt(COUNT)} regtest headers, batches of ${BATCH}, ${ROUNDS} rounds`)
  const t0 = performance.now()
  const headers = mineHeaders(COUNT)
  console.log(`mined in ${((performance.now() - t0) / 1000).toFixed(1)} s (not timed below)`)

  const native = timeRounds(headers)
  console.log(`HeaderTree.acceptMany, ${SHA256_BACKEND}: best ${fmt(native.best)} headers/s, median ${fmt(native.median)} (goal ${fmt(GOAL)}: ${native.best >= GOAL ? 'met' : `${(native.best / GOAL * 100).toFixed(0)} % of it`})`)

  const hook = `data:text/javascript,${encodeURIComponent(
    `export async function resolve(s, c, n) { return s === '@bitp2p/wire' ? { url: ${JSON.stringify(PURE_WIRE)}, shortCircuit: true } : n(s, c) }`,
  )}`
  const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hook)})`)}`
  const res = spawnSync(process.execPath, ['--import', register, fileURLToPath(import.meta.url), '--child', ...(quick ? ['--quick'] : [])], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (res.status !== 0) throw new Error(`pure-JS child failed: ${res.stderr}`)
  const pure = JSON.parse(res.stdout)
  console.log(`HeaderTree.acceptMany, ${pure.backend}: best ${fmt(pure.best)} headers/s, median ${fmt(pure.median)}  (native / pure ${(native.best / pure.best).toFixed(2)}x)`)

  const pureWire = await import(PURE_WIRE)
  const preimages = headers.map((h) => serializeBlockHeader(h))
  const hn = hashRate(sha256d, preimages)
  const hp = hashRate(pureWire.sha256d, preimages)
  console.log(`sha256d of 80-byte headers: ${SHA256_BACKEND} ${fmt(hn)}/s, ${pureWire.SHA256_BACKEND} ${fmt(hp)}/s (ratio ${(hn / hp).toFixed(2)}x)`)
  console.log(`the PoW hash alone caps the native tree at ${fmt(hn)}/s; the tree reaches ${(native.best / hn * 100).toFixed(0)} % of that`)

  if (profile) {
    const top = await profileRound(headers)
    console.log('top self time, native, two rounds:')
    for (const t of top) console.log(`  ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.name}`)
  }
}
