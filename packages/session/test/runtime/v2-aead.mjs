// Run by test/v2-build.test.ts under plain Node, on the BUILT packages
// (dist/, through the workspace links): which ChaCha20-Poly1305 the session's
// v2 codec really seals and opens packets with. node:crypto's
// createCipheriv/createDecipheriv are wrapped (and synced into the ESM view
// of node:crypto) BEFORE anything of ours loads, then two v2 codecs of
// @bitp2p/session/v2 shake hands in memory and exchange blocks; the calls
// counted during that traffic say whether the "node" export condition took
// session's import of @bitp2p/bip324 to its Node variant. One JSON line out.
import { createRequire, syncBuiltinESMExports } from 'node:module'

const require = createRequire(import.meta.url)
const nodeCrypto = require('node:crypto')
const calls = { cipher: 0, decipher: 0 }
const { createCipheriv, createDecipheriv } = nodeCrypto
nodeCrypto.createCipheriv = (...a) => {
  if (a[0] === 'chacha20-poly1305') calls.cipher++
  return createCipheriv(...a)
}
nodeCrypto.createDecipheriv = (...a) => {
  if (a[0] === 'chacha20-poly1305') calls.decipher++
  return createDecipheriv(...a)
}
syncBuiltinESMExports()

const { v2 } = await import('@bitp2p/session/v2')
const { systemRandom } = await import('@bitp2p/session')
const { concatBytes, regtest } = await import('@bitp2p/wire')
const bip324 = await import('@bitp2p/bip324')

/** Blocks sent each way after the handshake. */
const BLOCKS = 3
/** Bytes of each (a block payload; the codec only needs its command to stream it). */
const BLOCK_BYTES = 100_000

/** Everything `codec` has queued to send, as one array. */
function drain(codec) {
  const parts = []
  for (let b = codec.poll(); b; b = codec.poll()) parts.push(b)
  return concatBytes(...parts)
}

const initiator = v2.codecFor('initiator', { network: regtest, random: systemRandom() })
const responder = v2.codecFor('responder', { network: regtest, random: systemRandom() })
for (let i = 0; i < 8 && !(initiator.ready && responder.ready); i++) {
  responder.push(drain(initiator))
  initiator.push(drain(responder))
}
if (!initiator.ready || !responder.ready) throw new Error('the in-memory v2 handshake did not complete')

// Only the traffic after the handshake counts (the Node variant's self-test at load calls both too).
calls.cipher = 0
calls.decipher = 0
let intact = 0
for (const [from, to] of [
  [initiator, responder],
  [responder, initiator],
]) {
  for (let i = 0; i < BLOCKS; i++) {
    const payload = new Uint8Array(BLOCK_BYTES).map((_, k) => (k * 7 + i) & 0xff)
    from.write('block', payload)
    const got = to.push(drain(from)).filter((e) => e.type === 'payload-chunk')
    if (got.length === 1 && got[0].bytes.length === BLOCK_BYTES && got[0].bytes.every((b, k) => b === payload[k])) intact++
  }
}

console.log(
  JSON.stringify({
    node: process.versions.node,
    bip324: import.meta.resolve('@bitp2p/bip324'),
    backend: bip324.PACKET_AEAD_BACKEND,
    packets: 2 * BLOCKS,
    intact,
    cipherCalls: calls.cipher,
    decipherCalls: calls.decipher,
  }),
)
