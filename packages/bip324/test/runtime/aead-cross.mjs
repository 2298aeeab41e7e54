// Run by test/runtimes.test.ts under Deno and Bun (plain JS, no build step):
// which build of @bitp2p/bip324 the runtime resolves (Deno and Bun take the
// "node" export condition, so dist/node-variant/), which packet AEAD that
// build picked at load, and whether sessions of the two builds (the default
// dist/index.js and the resolved one) understand each other, both ways,
// across a rekey, and refuse a flipped bit with BAD_TAG. One JSON line out.
import { getCiphers } from 'node:crypto'
import * as resolved from '@bitp2p/bip324'
import * as pure from '../../dist/index.js'

const g = globalThis
const runtime = g.Deno ? `deno ${g.Deno.version.deno}` : g.Bun ? `bun ${g.Bun.version}` : `node ${g.process?.versions?.node}`
const keys = pure.deriveV2Keys(new Uint8Array(32).fill(7), new Uint8Array([0xfa, 0xbf, 0xb5, 0xda]))
const limits = { maxPayload: 4_000_000 }
/** Packets per direction: past the first rekey (224). */
const PACKETS = 240

/** Payload i: deterministic bytes, one of 100 KB every 60 packets. */
function payload(i) {
  const n = i % 60 === 30 ? 100_000 : (i * 37) % 500
  const p = new Uint8Array(n)
  for (let k = 0; k < n; k++) p[k] = (i * 31 + k * 7) & 0xff
  return p
}

function cross(from, to) {
  const tx = from.V2Session.fromKeys({ keys, role: 'initiator', ...limits })
  const rx = to.V2Session.fromKeys({ keys, role: 'responder', ...limits })
  let intact = 0
  for (let i = 0; i < PACKETS; i++) {
    const p = payload(i)
    const packet = tx.encrypt('tx', p)
    // Two pieces: the decoder joins them.
    const cut = packet.length >> 1
    const events = [...rx.push(packet.subarray(0, cut)), ...rx.push(packet.subarray(cut))]
    const e = events[0]
    if (events.length === 1 && e.type === 'frame' && e.payload.length === p.length && e.payload.every((b, k) => b === p[k])) intact++
  }
  const bad = tx.encrypt('tx', payload(1))
  bad[bad.length - 20] ^= 1
  const err = rx.push(bad)[0]
  return { intact, badTag: err?.type === 'error' ? err.error.code : err?.type }
}

console.log(
  JSON.stringify({
    runtime,
    listsCipher: getCiphers().includes('chacha20-poly1305'),
    build: resolved.V2Session === pure.V2Session ? 'default' : 'node-variant',
    backend: resolved.PACKET_AEAD_BACKEND,
    defaultBackend: pure.PACKET_AEAD_BACKEND,
    defaultToResolved: cross(pure, resolved),
    resolvedToDefault: cross(resolved, pure),
    packets: PACKETS,
  }),
)
