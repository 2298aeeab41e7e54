import { describe, expect, it } from 'vitest'
import { ByteReader } from '../../src/bytes/reader.js'
import { hashToHex, toHex } from '../../src/bytes/hex.js'
import { coinbaseHeight } from '../../src/block/bip34.js'
import {
  type Block,
  blockSize,
  blockTxids,
  blockWeight,
  blockWtxids,
  decodeBlock,
  MAX_BLOCK_TXS,
  parseBlock,
  serializeBlock,
  verifyBlock,
} from '../../src/block/block.js'
import { blockHash, serializeBlockHeader } from '../../src/block/header.js'
import { merkleRoot } from '../../src/block/merkle.js'
import { maxBlockTxs } from '../../src/block/partial-merkle.js'
import { hasWitness, txid, wtxid } from '../../src/tx/id.js'
import { bcoinIds, BLOCKS_PRESENT, readBlock, readFixtures, SKIP_MESSAGE } from './blocks-data.js'
import { wireErrorOf, nodeSha256d } from '../util.js'

const fixtures = readFixtures()

describe('real mainnet blocks', () => {
  it.skipIf(!BLOCKS_PRESENT)(`the README lists the four blocks (${BLOCKS_PRESENT ? 'data present' : SKIP_MESSAGE})`, () => {
    expect(fixtures.map((f) => f.height)).toEqual([300025, 426884, 482683, 702861])
  })

  for (const f of fixtures) {
    describe(f.file, () => {
      const raw = readBlock(f.file)
      const block = parseBlock(raw)

      it('consumes the whole file; hash, tx count, size, weight as in the README', () => {
        expect(raw.length).toBe(f.bytes)
        const r = new ByteReader(raw)
        decodeBlock(r)
        expect(r.offset).toBe(raw.length)
        expect(hashToHex(blockHash(block.header))).toBe(f.hash)
        // The hash is sha256d of the file's first 80 bytes.
        expect(hashToHex(nodeSha256d(raw.subarray(0, 80)))).toBe(f.hash)
        expect(block.txs).toHaveLength(f.txs)
        expect(block.txs.filter(hasWitness)).toHaveLength(f.segwitTxs)
        expect(blockSize(block)).toBe(f.bytes)
        expect(blockWeight(block)).toBe(f.weight)
        // The same weight from the transactions alone (re-serialized, no layouts).
        expect(blockWeight({ header: block.header, txs: block.txs })).toBe(f.weight)
      })

      it('merkle root recomputed equals the header; witness commitment holds; verifyBlock passes', () => {
        expect(toHex(merkleRoot(blockTxids(block)))).toBe(toHex(block.header.merkleRoot))
        expect(() => verifyBlock(block)).not.toThrow()
      })

      it("every txid and wtxid equals bcoin's", () => {
        const want = bcoinIds(raw)
        expect(blockTxids(block).map(hashToHex)).toEqual(want.txids)
        expect(blockWtxids(block).map(hashToHex)).toEqual(want.wtxids)
        // The re-serializing path agrees with the raw-bytes path.
        expect(block.txs.map((t) => hashToHex(txid(t)))).toEqual(want.txids)
        expect(block.txs.map((t) => hashToHex(wtxid(t)))).toEqual(want.wtxids)
      })

      it('hashes each id once per decoded block: later calls (and verifyBlock) return the same arrays, the keys stay invisible', () => {
        const fresh = parseBlock(raw)
        const wtxids = blockWtxids(fresh)
        const txids = blockTxids(fresh)
        verifyBlock(fresh)
        expect(blockWtxids(fresh).every((w, i) => w === wtxids[i])).toBe(true)
        expect(blockTxids(fresh).every((t, i) => t === txids[i])).toBe(true)
        // A legacy transaction's wtxid is its txid: one array for both.
        fresh.txLayouts.forEach((l, i) => {
          if (!l.segwit) expect(wtxids[i]).toBe(txids[i])
        })
        expect(Object.keys(fresh)).toEqual(['header', 'txs', 'raw', 'txLayouts'])
      })

      it('BIP34 height in the coinbase equals the height in the file name', () => {
        expect(coinbaseHeight(block)).toBe(f.height)
      })

      it('serializes back to the identical bytes', () => {
        expect(toHex(serializeBlock(block))).toBe(toHex(raw))
        // And from plain objects (no raw layouts attached).
        expect(toHex(serializeBlock({ header: block.header, txs: block.txs }))).toBe(toHex(raw))
      })
    })
  }

  it.skipIf(!BLOCKS_PRESENT)('a wrong merkle root in the header is BAD_MERKLE_ROOT with expected/actual hex', () => {
    const raw = readBlock('block300025.raw').slice()
    raw[36] = raw[36]! ^ 0x01 // first byte of the merkle root
    const block = parseBlock(raw)
    const e = wireErrorOf(() => verifyBlock(block))
    expect(e.code).toBe('BAD_MERKLE_ROOT')
    expect(e.detail.expected).toBe(hashToHex(block.header.merkleRoot))
    expect(e.detail.actual).toBe(hashToHex(merkleRoot(blockTxids(block))))
    expect(e.detail.expected).not.toBe(e.detail.actual)
  })

  it.skipIf(!BLOCKS_PRESENT)('a changed witness item breaks the witness commitment (BAD_WITNESS_COMMITMENT)', () => {
    const raw = readBlock('block482683.raw').slice()
    const block = parseBlock(raw)
    const i = block.txs.findIndex((t, k) => k > 0 && hasWitness(t))
    const item = block.txs[i]!.inputs.flatMap((x) => x.witness).find((w) => w.length > 0)!
    item[item.length - 1] = item[item.length - 1]! ^ 0x01 // a view into raw: edits the block bytes
    const again = parseBlock(raw)
    expect(toHex(merkleRoot(blockTxids(again)))).toBe(toHex(again.header.merkleRoot)) // txids unchanged
    const e = wireErrorOf(() => verifyBlock(again))
    expect(e.code).toBe('BAD_WITNESS_COMMITMENT')
    expect(typeof e.detail.expected).toBe('string')
    expect(e.detail.expected).not.toBe(e.detail.actual)
  })

  it.skipIf(!BLOCKS_PRESENT)('CVE-2012-2459: duplicating the last tx keeps the merkle root but is detected', () => {
    const block = parseBlock(readBlock('block300025.raw'))
    expect(block.txs.length % 2).toBe(1) // 461: the last tx is paired with itself
    const mutated: Block = { header: block.header, txs: [...block.txs, block.txs[block.txs.length - 1]!] }
    expect(toHex(merkleRoot(blockTxids(mutated)))).toBe(toHex(block.header.merkleRoot))
    const e = wireErrorOf(() => verifyBlock(mutated))
    expect([e.code, e.detail.field]).toEqual(['BAD_MERKLE_ROOT', 'merkle mutation'])
    // Also when parsed from bytes.
    const reparsed = parseBlock(serializeBlock(mutated))
    expect(reparsed.txs).toHaveLength(462)
    expect(wireErrorOf(() => verifyBlock(reparsed)).detail.field).toBe('merkle mutation')
  })
})

describe('block decoding limits', () => {
  const header = serializeBlockHeader({
    version: 1,
    prevBlock: new Uint8Array(32),
    merkleRoot: new Uint8Array(32),
    time: 0,
    bits: 0x207fffff,
    nonce: 0,
  })
  const withCount = (countHex: string) => Uint8Array.from([...header, ...Buffer.from(countHex, 'hex')])

  it('MAX_BLOCK_TXS is the payload limit over the 60-byte minimal transaction', () => {
    expect(MAX_BLOCK_TXS).toBe(Math.floor(4_000_000 / 60))
    expect(maxBlockTxs(32_000_000)).toBe(Math.floor(32_000_000 / 60))
  })

  it('a hostile tx count fails on the count: OVERSIZE above the limit, TRUNCATED above the bytes', () => {
    const big = wireErrorOf(() => parseBlock(withCount('feffffffff')))
    expect([big.code, big.detail.field, big.detail.limit]).toEqual(['OVERSIZE', 'block txs', MAX_BLOCK_TXS])
    const many = wireErrorOf(() => parseBlock(withCount('fd1027'))) // 10,000 txs, no bytes
    expect([many.code, many.detail.field]).toEqual(['TRUNCATED', 'block txs'])
    // A larger context raises the limit.
    const ctx = wireErrorOf(() => parseBlock(withCount('fe40420f00'), { maxBlockPayload: 32_000_000 })) // 1,000,000 txs
    expect([ctx.code, ctx.detail.field]).toEqual(['OVERSIZE', 'block txs'])
  })

  it('a block without transactions parses but does not verify', () => {
    const block = parseBlock(withCount('00'))
    expect(block.txs).toHaveLength(0)
    expect(wireErrorOf(() => verifyBlock(block)).code).toBe('INVALID_VALUE')
  })

  it('trailing bytes after the block are TRAILING_BYTES', () => {
    expect(wireErrorOf(() => parseBlock(withCount('0000'))).code).toBe('TRAILING_BYTES')
  })
})
