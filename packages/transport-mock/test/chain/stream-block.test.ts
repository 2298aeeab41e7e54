import { describe, expect, it } from 'vitest'
import v8 from 'node:v8'
import vm from 'node:vm'
import { SeededRandom } from '@bitp2p/session'
import { blockHash, bytesEqual, concatBytes, hashToHex, parseBlock, regtest, txSize, verifyBlock } from '@bitp2p/wire'
import { checkProofOfWork, coinbaseHeight, findWitnessCommitment } from '@bitp2p/wire/consensus'
// Not yet re-exported from @bitp2p/wire's index; the same module the alias resolves to.
import { BlockStreamParser } from '@bitp2p/wire/codecs'
import {
  minStreamTxBytes,
  streamSyntheticBlock,
  SyntheticBlockStream,
  syntheticBlockBytes,
  type SyntheticBlockStreamOptions,
} from '../../src/chain/stream-block.js'
import { forWork } from '../../../../test/harness/timing.js'

const MB = 1024 * 1024

function collect(opts: SyntheticBlockStreamOptions) {
  const gen = streamSyntheticBlock(opts)
  const chunks: Uint8Array[] = []
  for (;;) {
    const r = gen.next()
    if (r.done === true) return { chunks, summary: r.value, raw: concatBytes(...chunks) }
    chunks.push(r.value)
  }
}

describe('streamSyntheticBlock: small blocks, parsed whole', () => {
  for (const segwit of [false, true]) {
    it(`gives a valid block in chunks (segwit: ${segwit})`, () => {
      const opts = { txCount: 57, txBytes: 333, chunkBytes: 97, random: new SeededRandom(1), segwit, height: 300, time: 1_700_000_000 }
      const { chunks, summary, raw } = collect(opts)
      // Chunks: all full but the last.
      for (const c of chunks.slice(0, -1)) expect(c.length).toBe(97)
      expect(chunks[chunks.length - 1]!.length).toBeGreaterThan(0)
      expect(chunks[chunks.length - 1]!.length).toBeLessThanOrEqual(97)
      expect(raw.length).toBe(summary.totalBytes)
      expect(raw.length).toBe(syntheticBlockBytes(opts))

      const block = parseBlock(raw)
      expect(() => verifyBlock(block)).not.toThrow()
      expect(block.txs.length).toBe(57)
      for (const tx of block.txs.slice(1)) expect(txSize(tx)).toBe(333)
      expect(block.txs.slice(1).every((t) => t.inputs[0]!.witness.length === (segwit ? 2 : 0))).toBe(true)
      expect(findWitnessCommitment(block.txs[0]!) !== undefined).toBe(segwit)
      expect(coinbaseHeight(block)).toBe(300)
      expect(block.header.time).toBe(1_700_000_000)
      expect(bytesEqual(block.header.prevBlock, regtest.genesisHash)).toBe(true)
      expect(bytesEqual(blockHash(block.header), summary.hash)).toBe(true)
      expect(checkProofOfWork(summary.hash, block.header.bits, regtest).ok).toBe(true)
      expect(block.header).toEqual(summary.header)
    })
  }

  it('a block of only a coinbase', () => {
    const { raw } = collect({ txCount: 1, txBytes: 0, chunkBytes: 1_000, random: new SeededRandom(2) })
    const block = parseBlock(raw)
    expect(block.txs.length).toBe(1)
    expect(() => verifyBlock(block)).not.toThrow()
  })

  it('the same seed gives the same bytes; another seed, another block', () => {
    const opts = (seed: number) => ({ txCount: 20, txBytes: 500, chunkBytes: 4_096, random: new SeededRandom(seed) })
    expect(collect(opts(5)).raw).toEqual(collect(opts(5)).raw)
    expect(hashToHex(collect(opts(6)).summary.hash)).not.toBe(hashToHex(collect(opts(5)).summary.hash))
    // One stream replays identically, and its header is known before any chunk.
    const s = new SyntheticBlockStream(opts(7))
    const hash = s.hash
    const once = concatBytes(...s.chunks())
    expect(concatBytes(...s.chunks())).toEqual(once)
    expect(bytesEqual(blockHash(parseBlock(once).header), hash)).toBe(true)
  })

  it('makes every transaction size from the minimum up exact, across CompactSize boundaries', () => {
    for (const segwit of [false, true]) {
      const min = minStreamTxBytes(segwit)
      for (let txBytes = min; txBytes < min + 300; txBytes++) {
        const block = parseBlock(collect({ txCount: 2, txBytes, chunkBytes: 1 << 20, random: new SeededRandom(txBytes), segwit }).raw)
        expect(txSize(block.txs[1]!)).toBe(txBytes)
      }
      expect(() => new SyntheticBlockStream({ txCount: 2, txBytes: min - 1, chunkBytes: 10, random: new SeededRandom(1), segwit })).toThrow(RangeError)
    }
    expect(() => new SyntheticBlockStream({ txCount: 0, txBytes: 500, chunkBytes: 10, random: new SeededRandom(1) })).toThrow(RangeError)
    expect(() => new SyntheticBlockStream({ txCount: 2, txBytes: 500, chunkBytes: 0, random: new SeededRandom(1) })).toThrow(RangeError)
  })
})

/** Transactions of the 50 MB block (1,000 bytes each, plus the coinbase). */
const BIG_TX_COUNT = 50 * 1_000 + 1
/** Wall-clock budget per transaction generated and parsed, with gc samples (about 60 µs on an idle machine): the test's hang net. */
const BIG_TX_BUDGET_MS = 0.6

describe('streamSyntheticBlock through BlockStreamParser', () => {
  it('a segwit block in odd chunks: every transaction event, verified root and commitment', () => {
    const opts = { txCount: 300, txBytes: 1_234, chunkBytes: 4_099, random: new SeededRandom(9), segwit: true }
    const stream = new SyntheticBlockStream(opts)
    const parser = new BlockStreamParser({ totalLength: stream.totalBytes })
    let txs = 0
    for (const chunk of stream.chunks()) {
      for (const ev of parser.push(chunk)) {
        if (ev.type === 'error') throw ev.error
        if (ev.type === 'tx') {
          txs++
          if (ev.index > 0) expect(ev.length).toBe(1_234)
          expect(ev.segwit).toBe(true)
        }
      }
    }
    const end = parser.end()
    expect(end.verified).toBe(true)
    expect(end.hasWitness).toBe(true)
    expect(txs).toBe(300)
    expect(end.length).toBe(stream.totalBytes)
    expect(bytesEqual(end.hash, stream.hash)).toBe(true)
  })

  it('a 50 MB block streams through with flat memory in the generator and the parser', () => {
    // Expose gc() for this test so samples measure what is retained, not what awaits collection.
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    const used = () => {
      // Twice: array buffers freed by the first collection are released by a background sweep.
      gc()
      gc()
      const m = process.memoryUsage()
      return m.heapUsed + m.arrayBuffers
    }

    const txBytes = 1_000
    const txCount = BIG_TX_COUNT
    const opts = { txCount, txBytes, chunkBytes: 64 * 1024 + 13, random: new SeededRandom(50) }
    const stream = new SyntheticBlockStream(opts)
    expect(stream.totalBytes).toBeGreaterThan(50_000_000)
    const parser = new BlockStreamParser({ totalLength: stream.totalBytes, maxBlockBytes: stream.totalBytes })

    const baseline = used()
    let peak = 0
    let chunks = 0
    let txs = 0
    for (const chunk of stream.chunks()) {
      for (const ev of parser.push(chunk)) {
        if (ev.type === 'error') throw ev.error
        if (ev.type === 'tx') txs++
      }
      if (++chunks % 64 === 0) peak = Math.max(peak, used() - baseline)
    }
    const end = parser.end()
    peak = Math.max(peak, used() - baseline)

    expect(end.verified).toBe(true)
    expect(bytesEqual(end.merkleRoot, stream.header.merkleRoot)).toBe(true)
    expect(end.length).toBe(stream.totalBytes)
    expect(txs).toBe(txCount)
    // Holding the block, or even one tenth of it, would show here.
    console.info(`50 MB stream: ${chunks} chunks, peak retained growth ${(peak / MB).toFixed(2)} MB`)
    expect(peak).toBeLessThan(4 * MB)
  }, forWork(BIG_TX_COUNT, BIG_TX_BUDGET_MS))
})
