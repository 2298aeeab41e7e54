import { describe, expect, it } from 'vitest'
import { ByteReader } from '../../src/bytes/reader.js'
import { ByteWriter } from '../../src/bytes/writer.js'
import { toHex } from '../../src/bytes/hex.js'
import { parseBlock, verifyBlock } from '../../src/block/block.js'
import { blockCodec } from '../../src/messages/block.js'
import { BLOCKS_PRESENT, readBlock, SKIP_MESSAGE } from '../block/blocks-data.js'
import { CTX } from '../util.js'

describe('block message', () => {
  it('caps the payload at ctx.maxBlockPayload', () => {
    expect(blockCodec.maxPayload(CTX)).toBe(4_000_000)
    expect(blockCodec.maxPayload({ ...CTX, maxBlockPayload: 4_000_000_000 })).toBe(4_000_000_000)
  })

  it.skipIf(!BLOCKS_PRESENT)(`decodes a real segwit block as parseBlock does and encodes it back (${BLOCKS_PRESENT ? 'data present' : SKIP_MESSAGE})`, () => {
    const raw = readBlock('block482683.raw')
    const r = new ByteReader(raw)
    const m = blockCodec.decode(r, CTX)
    r.done()
    expect(m.command).toBe('block')
    expect(m.block).toEqual(parseBlock(raw))
    expect(() => verifyBlock(m.block)).not.toThrow()
    const w = new ByteWriter()
    blockCodec.encode(w, m, CTX)
    expect(toHex(w.finish())).toBe(toHex(raw))
  })

  it.skipIf(!BLOCKS_PRESENT)('a context with a smaller payload limit refuses the transaction count', () => {
    const raw = readBlock('block300025.raw') // 461 txs
    expect(() => blockCodec.decode(new ByteReader(raw), { ...CTX, maxBlockPayload: 60 * 460 })).toThrow(/block txs/)
  })
})
