import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { fromHex, toHex } from '../../src/bytes/hex.js'
import { encodeFrame } from '../../src/framing/header.js'
import { WireError } from '../../src/errors.js'
import { mempoolCodec, type MempoolMessage } from '../../src/messages/mempool.js'
import { errorOf, decode, encode, hex, CTX } from '../util.js'

describe('mempool (BIP35)', () => {
  const MSG: MempoolMessage = { command: 'mempool' }

  it('has the command "mempool" and an empty payload both ways', () => {
    expect(mempoolCodec.command).toBe('mempool')
    expect(encode(mempoolCodec, MSG).length).toBe(0)
    expect(decode(mempoolCodec, hex(''))).toEqual(MSG)
  })

  it('frames on mainnet as a bare 24-byte header (exact bytes)', () => {
    const frame = encodeFrame(fromHex('f9beb4d9'), 'mempool', encode(mempoolCodec, MSG))
    expect(toHex(frame)).toBe(
      [
        'f9beb4d9', // mainnet magic
        toHex(new TextEncoder().encode('mempool')) + '0000000000', // command 'mempool', NUL-padded to 12 bytes
        '00000000', // payload length 0
        '5df6e0e2', // checksum: sha256d of the empty payload, first 4 bytes
      ].join(''),
    )
  })

  it('caps its payload at 0 bytes, so the frame decoder refuses any body', () => {
    expect(mempoolCodec.maxPayload(CTX)).toBe(0)
  })

  it('leaves a stray byte unread, so the caller sees TRAILING_BYTES', () => {
    const e = errorOf(() => decode(mempoolCodec, hex('00')))
    expect(e?.code).toBe('TRAILING_BYTES')
    expect(e?.detail.actual).toBe(1)
  })

  it('property: random bytes decode (only when empty) or throw only WireError TRAILING_BYTES', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (b) => {
        const e = errorOf(() => decode(mempoolCodec, b))
        if (b.length === 0) expect(e).toBeUndefined()
        else expect(e?.code).toBe('TRAILING_BYTES')
      }),
    )
  })
})
