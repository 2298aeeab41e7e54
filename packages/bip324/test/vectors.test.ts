/**
 * BIP324's own test vectors, every row (../shared/data/bip-vectors):
 *  - ellswift_decode: 76 encodings and the x coordinate each decodes to;
 *  - xswiftec_inv: 32 (u, x) pairs x 8 cases = 256 answers of XSwiftECInv
 *    (a t, or none), each t decoding back to x;
 *  - packet_encoding: 7 packets with every intermediate value: our x, their
 *    x, the ECDH x, the shared secret, the four keys, both terminators, the
 *    session id, and the ciphertext of packet number in_idx (up to 999, so
 *    across 4 rekeys) with its AAD and ignore bit; and the peer's side
 *    decrypting that ciphertext back.
 */
import { describe, expect, it } from 'vitest'
import { ellswiftDecode, ellswiftEcdhX, publicX, v2Ecdh, xswiftecInv } from '../src/ellswift.js'
import { deriveV2Keys } from '../src/keys.js'
import { PacketReceiver, PacketSender, directionKeys, type V2SessionEvent } from '../src/session.js'
import { readMessageType } from '../src/message-type.js'
import { fromHex, haveVectors, MAINNET_MAGIC, readCsv, toHex } from './helpers.js'

const DECODE = 'bip-0324_ellswift_decode_test_vectors.csv'
const INV = 'bip-0324_xswiftec_inv_test_vectors.csv'
const PACKETS = 'bip-0324_packet_encoding_test_vectors.csv'

const present = haveVectors(DECODE) && haveVectors(INV) && haveVectors(PACKETS)
if (!present) console.warn('SKIP bip324 vectors: ../shared/data/bip-vectors is absent (BIP324 CSV files); these tests did not run')

describe.skipIf(!present)('BIP324 test vectors', () => {
  it('ElligatorSwift decoding: every row maps to its x (76 rows)', () => {
    const rows = readCsv(DECODE)
    expect(rows.length).toBe(76)
    const wrong = rows.filter((r) => toHex(ellswiftDecode(fromHex(r.ellswift!))) !== r.x)
    expect(wrong.map((r) => r.comment)).toEqual([])
  })

  it('XSwiftECInv: every case of every row gives the listed t or none, and each t decodes back to x (256 cases)', () => {
    const rows = readCsv(INV)
    expect(rows.length).toBe(32)
    let cases = 0
    let found = 0
    for (const r of rows) {
      const u = fromHex(r.u!)
      for (let c = 0; c < 8; c++) {
        const t = xswiftecInv(fromHex(r.x!), u, c)
        expect(t === undefined ? '' : toHex(t), `${r.u} case ${c}`).toBe(r[`case${c}_t`])
        if (t !== undefined) {
          const enc = new Uint8Array(64)
          enc.set(u, 0)
          enc.set(t, 32)
          expect(toHex(ellswiftDecode(enc))).toBe(r.x)
          found++
        }
        cases++
      }
    }
    expect(cases).toBe(256)
    expect(found).toBeGreaterThan(0)
  })

  describe('packet encoding: keys, session id and ciphertext of every row (7 rows)', () => {
    const rows = present ? readCsv(PACKETS) : []
    it('has the 7 rows', () => expect(rows.length).toBe(7))

    for (const r of rows) {
      const initiating = r.in_initiating === '1'
      const idx = Number(r.in_idx)
      const contents = repeat(fromHex(r.in_contents!), Number(r.in_multiply))
      const label = `row idx=${idx} ${initiating ? 'initiator' : 'responder'}, ${contents.length} content bytes`

      it(`${label}: ECDH, keys, terminators, session id, ciphertext`, () => {
        const priv = fromHex(r.in_priv_ours!)
        const ours = fromHex(r.in_ellswift_ours!)
        const theirs = fromHex(r.in_ellswift_theirs!)
        expect(toHex(publicX(priv))).toBe(r.mid_x_ours)
        expect(toHex(ellswiftDecode(ours))).toBe(r.mid_x_ours)
        expect(toHex(ellswiftDecode(theirs))).toBe(r.mid_x_theirs)
        expect(toHex(ellswiftEcdhX(priv, theirs))).toBe(r.mid_x_shared)
        const secret = v2Ecdh(priv, theirs, ours, initiating)
        expect(toHex(secret)).toBe(r.mid_shared_secret)
        const keys = deriveV2Keys(secret, MAINNET_MAGIC)
        expect(toHex(keys.initiatorL)).toBe(r.mid_initiator_l)
        expect(toHex(keys.initiatorP)).toBe(r.mid_initiator_p)
        expect(toHex(keys.responderL)).toBe(r.mid_responder_l)
        expect(toHex(keys.responderP)).toBe(r.mid_responder_p)
        const [send, recv] = initiating ? [keys.initiatorTerminator, keys.responderTerminator] : [keys.responderTerminator, keys.initiatorTerminator]
        expect(toHex(send)).toBe(r.mid_send_garbage_terminator)
        expect(toHex(recv)).toBe(r.mid_recv_garbage_terminator)
        expect(toHex(keys.sessionId)).toBe(r.out_session_id)

        // Our side: idx empty packets, then the vector's packet. Only rows with idx 0 carry an AAD,
        // which is exactly how a sender's first packet authenticates the garbage it sent.
        const role = initiating ? 'initiator' : 'responder'
        const aad = fromHex(r.in_aad!)
        expect(aad.length === 0 || idx === 0).toBe(true)
        const sender = new PacketSender(directionKeys(keys, role).send, aad)
        for (let k = 0; k < idx; k++) sender.encryptContents(new Uint8Array(0))
        const ct = sender.encryptContents(contents, r.in_ignore === '1')
        expect(r.out_ciphertext !== '' || r.out_ciphertext_endswith !== '').toBe(true)
        if (r.out_ciphertext !== '') expect(toHex(ct)).toBe(r.out_ciphertext)
        const tail = r.out_ciphertext_endswith!
        if (tail !== '') expect(toHex(ct.subarray(ct.length - tail.length / 2))).toBe(tail)
      })

      it(`${label}: the peer's receiver authenticates and decodes it (after the same ${idx} packets)`, () => {
        const secret = v2Ecdh(fromHex(r.in_priv_ours!), fromHex(r.in_ellswift_theirs!), fromHex(r.in_ellswift_ours!), initiating)
        const keys = deriveV2Keys(secret, MAINNET_MAGIC)
        const role = initiating ? 'initiator' : 'responder'
        const peer = initiating ? 'responder' : 'initiator'
        const aad = fromHex(r.in_aad!)
        const sender = new PacketSender(directionKeys(keys, role).send, aad)
        const receiver = new PacketReceiver(directionKeys(keys, peer).recv, { maxPayload: 1 << 24, receivedGarbage: aad })
        const before: V2SessionEvent[] = []
        for (let k = 0; k < idx; k++) before.push(...receiver.push(sender.encryptContents(new Uint8Array(0))))
        expect(before.filter((e) => !(e.type === 'dropped' && e.reason === 'EMPTY'))).toEqual([])
        const events = receiver.push(sender.encryptContents(contents, r.in_ignore === '1'))
        const wireBytes = contents.length + 20
        const type = readMessageType(contents, contents.length)
        const expected =
          r.in_ignore === '1'
            ? { type: 'decoy', contentBytes: contents.length, wireBytes }
            : type.ok
              ? { type: 'frame', command: type.command, payload: contents.subarray(type.typeBytes), wireBytes }
              : { type: 'dropped', reason: type.reason, ...(type.shortId === undefined ? {} : { shortId: type.shortId }), wireBytes }
        expect(events).toEqual([expected])
        expect(receiver.packets).toBe(idx + 1)
      })
    }
  })
})

function repeat(b: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(b.length * n)
  for (let i = 0; i < n; i++) out.set(b, i * b.length)
  return out
}

