import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ByteReader } from '../../src/bytes/reader.js'
import { fromHex, hashToHex, toHex } from '../../src/bytes/hex.js'
import { decodeTxWithLayout, parseTx, serializeTx } from '../../src/tx/codec.js'
import {
  baseSizeFromLayout,
  hasWitness,
  txBaseSize,
  txid,
  txidFromRaw,
  txSize,
  txVsize,
  txWeight,
  wtxid,
  wtxidFromRaw,
} from '../../src/tx/id.js'
import { bcoinIds, BLOCKS_PRESENT, readBlock, SKIP_MESSAGE } from '../block/blocks-data.js'
import { nodeSha256d } from '../util.js'

// Mainnet genesis coinbase (legacy): its txid is the genesis merkle root 4a5e1e4b...
const GENESIS_COINBASE = fromHex(
  '01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65' +
    '732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062' +
    '616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4c' +
    'ef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000',
)

describe('txid / wtxid / sizes', () => {
  it('the genesis coinbase txid is the genesis merkle root', () => {
    const tx = parseTx(GENESIS_COINBASE)
    expect(hashToHex(txid(tx))).toBe('4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b')
    expect(toHex(wtxid(tx))).toBe(toHex(txid(tx)))
    expect(hasWitness(tx)).toBe(false)
    expect(txSize(tx)).toBe(GENESIS_COINBASE.length)
    expect(txBaseSize(tx)).toBe(GENESIS_COINBASE.length)
    expect(txWeight(tx)).toBe(4 * GENESIS_COINBASE.length)
  })

  it('txid hashes the legacy form, wtxid the BIP144 form; raw fast path agrees (fast-check)', () => {
    const item = fc.uint8Array({ maxLength: 40 })
    const tx = fc.record({
      version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      inputs: fc.array(
        fc.record({
          prevout: fc.record({ txid: fc.uint8Array({ minLength: 32, maxLength: 32 }), index: fc.nat({ max: 0xffffffff }) }),
          scriptSig: fc.uint8Array({ maxLength: 60 }),
          sequence: fc.nat({ max: 0xffffffff }),
          witness: fc.array(item, { maxLength: 3 }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      outputs: fc.array(fc.record({ value: fc.bigInt({ min: 0n, max: 21_000_000n * 100_000_000n }), scriptPubKey: fc.uint8Array({ maxLength: 60 }) }), {
        maxLength: 4,
      }),
      locktime: fc.nat({ max: 0xffffffff }),
    })
    fc.assert(
      fc.property(tx, fc.nat({ max: 5 }), (t, pad) => {
        const legacy = serializeTx(t, { witness: false })
        const full = serializeTx(t)
        expect(toHex(txid(t))).toBe(toHex(nodeSha256d(legacy)))
        expect(toHex(wtxid(t))).toBe(toHex(nodeSha256d(full)))
        expect(txSize(t)).toBe(full.length)
        expect(txBaseSize(t)).toBe(legacy.length)
        expect(txWeight(t)).toBe(legacy.length * 3 + full.length)
        expect(txVsize(t)).toBe(Math.ceil((legacy.length * 3 + full.length) / 4))
        // Decode from the middle of a larger buffer and hash from the raw bytes.
        const raw = new Uint8Array(pad + full.length + 3)
        raw.set(full, pad)
        const { layout } = decodeTxWithLayout(new ByteReader(raw, pad))
        expect(toHex(txidFromRaw(raw, layout))).toBe(toHex(txid(t)))
        expect(toHex(wtxidFromRaw(raw, layout))).toBe(toHex(wtxid(t)))
        expect(baseSizeFromLayout(layout)).toBe(legacy.length)
      }),
      { numRuns: 300 },
    )
  })

  for (const file of ['block482683.raw', 'block702861.raw']) {
    it.skipIf(!BLOCKS_PRESENT)(`every tx of ${file}: txid, wtxid and weight equal bcoin's (${BLOCKS_PRESENT ? 'data present' : SKIP_MESSAGE})`, () => {
      const raw = readBlock(file)
      const want = bcoinIds(raw)
      // Walk the block by hand: header, count, then one tx after another.
      const r = new ByteReader(raw, 80)
      const n = r.compactSize()
      expect(n).toBe(want.txids.length)
      let segwit = 0
      for (let i = 0; i < n; i++) {
        const { tx, layout } = decodeTxWithLayout(r)
        const alone = parseTx(raw.subarray(layout.start, layout.end))
        expect(hashToHex(txid(alone))).toBe(want.txids[i])
        expect(hashToHex(wtxid(alone))).toBe(want.wtxids[i])
        expect(hashToHex(txidFromRaw(raw, layout))).toBe(want.txids[i])
        expect(hashToHex(wtxidFromRaw(raw, layout))).toBe(want.wtxids[i])
        expect(txWeight(tx)).toBe(want.weights[i])
        expect(hasWitness(tx)).toBe(layout.segwit)
        if (layout.segwit) segwit++
      }
      expect(r.offset).toBe(raw.length)
      expect(segwit).toBeGreaterThan(0)
    })
  }
})
