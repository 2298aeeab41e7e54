// BIP324 packet and handshake benchmarks, on the built dist (npm run build first).
//
// seal/open: V2Session.encrypt and the push decoder on 1 KB and 1 MB
// payloads, for both builds: the default one (dist/index.js, @noble/ciphers'
// ChaCha20-Poly1305, what browsers get) and the Node variant
// (dist/node-variant/index.js, node:crypto's, what the "node" export
// condition selects), each against its raw AEAD (noble's
// chacha20poly1305, node:crypto's createCipheriv) on the same plaintext
// bytes in the same process; the ratio is what BIP324's framing (length
// cipher, rekeying, message type, caps, copies) costs on top of the AEAD.
// The push decoder gets each packet as one chunk. handshake: CPU time of a
// full in-memory handshake, both sides (two ElligatorSwift keygens, two
// ECDHs, HKDF, first packets).
//
// Timings are medians of 5 runs; nothing is asserted. Run: node bench/packets.bench.mjs [--quick]
import { cpus, loadavg } from 'node:os'
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { concatBytes } from '@bitp2p/wire'
import * as pureBuild from '../dist/index.js'
import * as nodeBuild from '../dist/node-variant/index.js'

const { V2Handshake, deriveV2Keys, createEllSwiftKeyPair } = pureBuild

const quick = process.argv.includes('--quick')
const MIN_MS = quick ? 100 : 600
const RUNS = 5

/** A CSPRNG-backed Random, as production passes. */
function systemRandom() {
  const buf = new Uint32Array(64)
  let pos = 64
  const u32 = () => {
    if (pos === 64) {
      crypto.getRandomValues(buf)
      pos = 0
    }
    return buf[pos++]
  }
  return {
    u32,
    int: (n) => {
      const limit = 2 ** 32 - (2 ** 32 % n)
      for (;;) {
        const x = u32()
        if (x < limit) return x % n
      }
    },
    u64: () => (BigInt(u32()) << 32n) | BigInt(u32()),
    float: () => u32() / 2 ** 32,
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Runs `batch(n)` with growing n until it takes MIN_MS; returns ops per second (median of RUNS). */
function opsPerSec(prepare, batch) {
  let n = 1
  for (;;) {
    const ctx = prepare(n)
    const t = performance.now()
    batch(ctx, n)
    const ms = performance.now() - t
    if (ms >= MIN_MS / 4 || n >= 1 << 20) break
    n *= 2
  }
  const rates = []
  for (let r = 0; r < RUNS; r++) {
    const ctx = prepare(n)
    const t = performance.now()
    batch(ctx, n)
    rates.push(n / ((performance.now() - t) / 1000))
  }
  return median(rates)
}

const random = systemRandom()
const keys = deriveV2Keys(crypto.getRandomValues(new Uint8Array(32)), new Uint8Array([0xfa, 0xbf, 0xb5, 0xda]))
const rawKey = crypto.getRandomValues(new Uint8Array(32))
const nonceOf = (i) => {
  const n = new Uint8Array(12)
  new DataView(n.buffer).setUint32(0, i, true)
  return n
}

function row(label, size, ops) {
  const mbps = (ops * size) / 1e6
  return { label, size, ops, mbps }
}

/** The raw AEADs: seal and open of one message, as each build's backend does it. */
const RAW = {
  noble: {
    seal: (key, nonce, pt) => chacha20poly1305(key, nonce, new Uint8Array(0)).encrypt(pt),
    open: (key, nonce, ct) => chacha20poly1305(key, nonce, new Uint8Array(0)).decrypt(ct),
  },
  'node:crypto': {
    seal: (key, nonce, pt) => {
      const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
      c.setAAD(new Uint8Array(0), { plaintextLength: pt.length })
      const ct = c.update(pt)
      c.final()
      const out = new Uint8Array(ct.length + 16)
      out.set(ct)
      out.set(c.getAuthTag(), ct.length)
      return out
    },
    open: (key, nonce, sealed) => {
      const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
      d.setAAD(new Uint8Array(0), { plaintextLength: sealed.length - 16 })
      d.setAuthTag(sealed.subarray(sealed.length - 16))
      const pt = d.update(sealed.subarray(0, sealed.length - 16))
      d.final()
      return pt
    },
  },
}
const BUILDS = [
  { name: 'default', build: pureBuild },
  { name: 'node variant', build: nodeBuild },
]
if (pureBuild.PACKET_AEAD_BACKEND !== 'noble') throw new Error(`the default build uses ${pureBuild.PACKET_AEAD_BACKEND}`)

const results = []
for (const { name, build } of BUILDS)
for (const size of [1024, 1024 * 1024]) {
  const { V2Session } = build
  const raw = RAW[build.PACKET_AEAD_BACKEND]
  const payload = crypto.getRandomValues(new Uint8Array(size >= 65536 ? 65536 : size))
  const body = new Uint8Array(size)
  for (let o = 0; o < size; o += payload.length) body.set(payload.subarray(0, Math.min(payload.length, size - o)), o)
  // The AEAD plaintext BIP324 seals for a 'tx' message: header byte, short id, payload.
  const plaintext = new Uint8Array(size + 2)
  plaintext[1] = 21
  plaintext.set(body, 2)
  const limit = { maxPayload: 4_000_000 }

  const sealV2 = opsPerSec(
    () => V2Session.fromKeys({ keys, role: 'initiator', ...limit }),
    (s, n) => {
      for (let i = 0; i < n; i++) s.encrypt('tx', body)
    },
  )
  const sealRaw = opsPerSec(
    () => null,
    (_, n) => {
      for (let i = 0; i < n; i++) raw.seal(rawKey, nonceOf(i), plaintext)
    },
  )
  const openV2 = opsPerSec(
    (n) => {
      const tx = V2Session.fromKeys({ keys, role: 'initiator', ...limit })
      const packets = Array.from({ length: n }, () => tx.encrypt('tx', body))
      return { rx: V2Session.fromKeys({ keys, role: 'responder', ...limit }), packets }
    },
    ({ rx, packets }, n) => {
      for (let i = 0; i < n; i++) if (rx.push(packets[i])[0].type !== 'frame') throw new Error('open failed')
    },
  )
  const openRaw = opsPerSec(
    (n) => Array.from({ length: n }, (_, i) => raw.seal(rawKey, nonceOf(i), plaintext)),
    (cts, n) => {
      for (let i = 0; i < n; i++) raw.open(rawKey, nonceOf(i), cts[i])
    },
  )
  results.push({ name, backend: build.PACKET_AEAD_BACKEND, size, sealV2, sealRaw, openV2, openRaw })
}

// Handshake: both sides, in memory, until both are ready.
function handshake() {
  const i = new V2Handshake({ role: 'initiator', magic: new Uint8Array([0xfa, 0xbf, 0xb5, 0xda]), random, maxPayload: 4_000_000 })
  const r = new V2Handshake({ role: 'responder', magic: new Uint8Array([0xfa, 0xbf, 0xb5, 0xda]), random, maxPayload: 4_000_000 })
  r.start()
  const s1 = r.push(i.start())
  const s2 = i.push(concatBytes(...s1.send))
  const s3 = r.push(concatBytes(...s2.send))
  if (s2.events.at(-1)?.type !== 'ready' || s3.events.at(-1)?.type !== 'ready') throw new Error('handshake failed')
}
const cpuPer = (f, n) => {
  const samples = []
  for (let r = 0; r < RUNS; r++) {
    const c0 = process.cpuUsage()
    for (let k = 0; k < n; k++) f()
    const c = process.cpuUsage(c0)
    samples.push((c.user + c.system) / 1000 / n)
  }
  return median(samples)
}
handshake()
const hsN = quick ? 5 : 20
const hsMs = cpuPer(handshake, hsN)
const keygenMs = cpuPer(() => createEllSwiftKeyPair(random), hsN)

const fmt = (x, d = 1) => x.toFixed(d)
console.log(`BIP324 packets: node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}${quick ? ' (quick)' : ''}`)
console.log('')
console.log('build (AEAD)                | size | seal v2 MB/s | seal raw MB/s | seal ratio | open v2 MB/s | open raw MB/s | open ratio')
for (const r of results) {
  const label = r.size >= 1 << 20 ? '1 MB' : '1 KB'
  const mb = (ops) => (ops * r.size) / 1e6
  console.log(
    `${`${r.name} (${r.backend})`.padEnd(26)} | ${label} | ${fmt(mb(r.sealV2)).padStart(12)} | ${fmt(mb(r.sealRaw)).padStart(13)} | ${fmt(r.sealRaw / r.sealV2, 2).padStart(10)} | ${fmt(mb(r.openV2)).padStart(12)} | ${fmt(mb(r.openRaw)).padStart(13)} | ${fmt(r.openRaw / r.openV2, 2).padStart(10)}`,
  )
}
console.log("(ratio = raw ops/s over v2 ops/s, raw being the build's own AEAD: 1.00 means BIP324 framing costs nothing over the bare AEAD)")
console.log('')
console.log(`handshake, both sides in memory: ${fmt(hsMs, 2)} ms CPU; ElligatorSwift keygen alone: ${fmt(keygenMs, 2)} ms CPU (median of ${RUNS} x ${hsN})`)
