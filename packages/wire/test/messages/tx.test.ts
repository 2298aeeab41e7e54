import { describe, expect, it } from 'vitest'
import { ByteReader } from '../../src/bytes/reader.js'
import { ByteWriter } from '../../src/bytes/writer.js'
import { fromHex, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { txCodec } from '../../src/messages/tx.js'
import { serializeTx } from '../../src/tx/codec.js'
import { CTX } from '../util.js'

// version 2 | marker, flag | 1 input | 1 output (1000 sat, P2WPKH) | witness of 2 items | locktime 101
const SEGWIT_TX = fromHex(
  [
    '02000000',
    '0001',
    '01',
    '11'.repeat(32) + '01000000' + '00' + 'fdffffff',
    '01',
    'e803000000000000' + '16' + '0014' + '22'.repeat(20),
    '02' + '03aabbcc' + '02ddee',
    '65000000',
  ].join(''),
)

function decode(bytes: Uint8Array, ctx = CTX) {
  const r = new ByteReader(bytes)
  const m = txCodec.decode(r, ctx)
  r.done()
  return m
}

describe('tx message', () => {
  it('decodes a segwit transaction and encodes it back byte for byte', () => {
    const m = decode(SEGWIT_TX)
    expect(m.command).toBe('tx')
    expect(m.tx.inputs[0]!.witness.map(toHex)).toEqual(['aabbcc', 'ddee'])
    const w = new ByteWriter()
    txCodec.encode(w, m, CTX)
    expect(toHex(w.finish())).toBe(toHex(SEGWIT_TX))
    expect(toHex(serializeTx(m.tx))).toBe(toHex(SEGWIT_TX))
  })

  it('caps the payload at the block payload and derives its limits from the context', () => {
    expect(txCodec.maxPayload(CTX)).toBe(4_000_000)
    expect(txCodec.maxPayload({ ...CTX, maxBlockPayload: 32_000_000 })).toBe(32_000_000)
    // In a context with 100-byte payloads, 3 inputs (3 x 41 bytes) cannot fit: OVERSIZE on the count.
    const three = fromHex('01000000' + '03' + ('11'.repeat(32) + '00000000' + '00' + 'ffffffff').repeat(3) + '00' + '00000000')
    expect(decode(three).tx.inputs).toHaveLength(3)
    let err: unknown
    try {
      decode(three, { ...CTX, maxBlockPayload: 100 })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(WireError)
    expect((err as WireError).detail.field).toBe('tx inputs')
  })
})
