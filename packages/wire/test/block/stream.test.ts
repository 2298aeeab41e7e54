import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { hashToHex, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { blockTxids, blockWeight, blockWtxids, parseBlock, serializeBlock, verifyBlock } from '../../src/block/block.js'
import { blockHash } from '../../src/block/header.js'
import { merkleRoot } from '../../src/block/merkle.js'
import { witnessMerkleRoot } from '../../src/block/witness.js'
import { BlockStreamParser, type BlockStreamEnd, type BlockStreamEvent, type BlockStreamOptions } from '../../src/block/stream.js'
import { BLOCKS_PRESENT, readBlock, readFixtures, SKIP_MESSAGE } from './blocks-data.js'

interface Outcome {
  events: BlockStreamEvent[]
  end?: BlockStreamEnd
  error?: { code: string; message: string; detail: unknown }
}

/** Feed `raw` in pieces cut at `cuts` (sorted offsets) or every `size` bytes. */
function run(raw: Uint8Array, chunking: number | number[], opts: BlockStreamOptions = {}): Outcome {
  const p = new BlockStreamParser(opts)
  const events: BlockStreamEvent[] = []
  const cuts = typeof chunking === 'number' ? [] : chunking
  // A reused scratch buffer: the parser must not keep references to pushed chunks.
  const scratch = new Uint8Array(typeof chunking === 'number' ? Math.min(chunking, raw.length) : raw.length)
  try {
    let at = 0
    let k = 0
    while (at < raw.length) {
      const next = typeof chunking === 'number' ? Math.min(raw.length, at + chunking) : (cuts[k++] ?? raw.length)
      const chunk = scratch.subarray(0, next - at)
      chunk.set(raw.subarray(at, next))
      for (const ev of p.push(chunk)) {
        if (ev.type === 'error') {
          // Once failed, the parser repeats the same error for any later push, and end() throws it.
          expect(p.push(new Uint8Array(1))).toEqual([ev])
          expect(() => p.end()).toThrow(ev.error)
          const e = ev.error
          return { events, error: { code: e.code, message: e.message, detail: e.detail } }
        }
        events.push(ev)
      }
      chunk.fill(0xa5)
      at = next
    }
    return { events, end: p.end() }
  } catch (e) {
    if (!(e instanceof WireError)) throw e
    return { events, error: { code: e.code, message: e.message, detail: e.detail } }
  }
}

/** Events as plain comparable data. */
function summary(o: Outcome) {
  return {
    events: o.events.map((e) =>
      e.type === 'header'
        ? { type: e.type, hash: toHex(e.hash), txCount: e.txCount, header: e.header }
        : e.type === 'tx'
          ? { type: e.type, index: e.index, offset: e.offset, length: e.length, txid: toHex(e.txid), wtxid: toHex(e.wtxid), segwit: e.segwit }
          : { type: e.type },
    ),
    end: o.end && { ...o.end, hash: toHex(o.end.hash), merkleRoot: toHex(o.end.merkleRoot), witnessRoot: toHex(o.end.witnessRoot) },
    error: o.error,
  }
}

/** What the whole-buffer parser says: the expected stream events. */
function expectedTxs(raw: Uint8Array) {
  const block = parseBlock(raw)
  const txids = blockTxids(block)
  const wtxids = blockWtxids(block)
  return block.txLayouts.map((l, i) => ({
    type: 'tx',
    index: i,
    offset: l.start,
    length: l.end - l.start,
    txid: toHex(txids[i]!),
    wtxid: toHex(wtxids[i]!),
    segwit: l.segwit,
  }))
}

const fixtures = readFixtures()

describe('BlockStreamParser on real blocks', () => {
  it.skipIf(!BLOCKS_PRESENT)(`data present (${BLOCKS_PRESENT ? 'yes' : SKIP_MESSAGE})`, () => {
    expect(fixtures.length).toBe(4)
  })

  for (const f of fixtures) {
    const sizes = f.bytes < 20_000 ? [1, 7, 65_536, f.bytes] : [7, 1000, 65_536, f.bytes]
    it(`${f.file}: chunks of ${sizes.join(', ')} bytes give the whole-buffer parse's txids, offsets and lengths`, () => {
      const raw = readBlock(f.file)
      const block = parseBlock(raw)
      const want = expectedTxs(raw)
      const whole = summary(run(raw, raw.length))
      expect(whole.error).toBeUndefined()
      expect(whole.events[0]).toEqual({ type: 'header', hash: toHex(blockHash(block.header)), txCount: f.txs, header: block.header })
      expect(hashToHex(blockHash(block.header))).toBe(f.hash)
      expect(whole.events.slice(1)).toEqual(want)
      expect(whole.end).toMatchObject({
        txCount: f.txs,
        length: f.bytes,
        weight: f.weight,
        merkleRoot: toHex(block.header.merkleRoot),
        witnessRoot: toHex(witnessMerkleRoot(blockWtxids(block))),
        hasWitness: f.segwitTxs > 0,
        verified: true,
      })
      for (const size of sizes) expect(summary(run(raw, size)), `chunks of ${size}`).toEqual(whole)
    })
  }

  it.skipIf(!BLOCKS_PRESENT)('block702861 (1.4 MB) in 1-byte chunks gives the same events', () => {
    const raw = readBlock('block702861.raw')
    const t0 = performance.now()
    const one = summary(run(raw, 1))
    const ms = performance.now() - t0
    expect(one).toEqual(summary(run(raw, raw.length)))
    console.log(`block702861 in 1-byte chunks: ${ms.toFixed(0)} ms`)
  })

  it.skipIf(!BLOCKS_PRESENT)('random chunkings give the same events (fast-check)', () => {
    const raw = readBlock('block482683.raw')
    const whole = summary(run(raw, raw.length))
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: raw.length - 1 }), { maxLength: 40 }), (cuts) => {
        expect(summary(run(raw, [...cuts].sort((a, b) => a - b)))).toEqual(whole)
      }),
      { numRuns: 100 },
    )
  })

  it.skipIf(!BLOCKS_PRESENT)('keepTxBytes attaches a copy of each transaction', () => {
    const raw = readBlock('block482683.raw')
    const events = run(raw, 100, { keepTxBytes: true }).events
    let n = 0
    for (const e of events) {
      if (e.type !== 'tx') continue
      expect(toHex(e.bytes!)).toBe(toHex(raw.subarray(e.offset, e.offset + e.length)))
      expect(e.bytes!.buffer).not.toBe(raw.buffer)
      n++
    }
    expect(n).toBe(12)
    expect(run(raw, 100).events.every((e) => e.type !== 'tx' || e.bytes === undefined)).toBe(true)
  })
})

describe('BlockStreamParser errors are the same in every chunking', () => {
  const CHUNKINGS = [1, 2, 7, 64, 1000, 1 << 30]

  function sameEverywhere(raw: Uint8Array, opts: BlockStreamOptions = {}) {
    const outcomes = CHUNKINGS.map((c) => summary(run(raw, c, opts)))
    for (let i = 1; i < outcomes.length; i++) expect(outcomes[i], `chunks of ${CHUNKINGS[i]}`).toEqual(outcomes[0])
    return outcomes[0]!
  }
  function wholeParseFails(raw: Uint8Array): boolean {
    try {
      verifyBlock(parseBlock(raw))
      return false
    } catch (e) {
      if (e instanceof WireError) return true
      throw e
    }
  }

  it.skipIf(!BLOCKS_PRESENT)('flipping a byte: identical outcome in every chunking, failing exactly when parseBlock + verifyBlock fails', () => {
    const raw = readBlock('block482683.raw')
    const codes = new Set<string>()
    fc.assert(
      fc.property(fc.integer({ min: 0, max: raw.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const bad = raw.slice()
        bad[at] = bad[at]! ^ x
        const o = sameEverywhere(bad)
        expect(o.error !== undefined, `byte ${at} ^ ${x}`).toBe(wholeParseFails(bad))
        if (o.error) codes.add(o.error.code)
      }),
      { numRuns: 150, seed: 2459 },
    )
    // The corruptions reached several different checks.
    expect(codes.size).toBeGreaterThanOrEqual(3)
  })

  it.skipIf(!BLOCKS_PRESENT)('truncation anywhere is TRUNCATED at the same offset in every chunking', () => {
    const raw = readBlock('block482683.raw')
    for (let n = 0; n < raw.length; n += 97) {
      const o = sameEverywhere(raw.subarray(0, n))
      expect(o.error?.code, `first ${n} bytes`).toBe('TRUNCATED')
    }
  })

  it.skipIf(!BLOCKS_PRESENT)('a structural error inside a transaction: same code, message and offset', () => {
    const raw = readBlock('block482683.raw')
    const block = parseBlock(raw)
    const seg = block.txLayouts.find((l) => l.segwit && l.start > 0)!
    const bad = raw.slice()
    bad[seg.start + 5] = 2 // segwit flag
    const o = sameEverywhere(bad)
    expect(o.error).toMatchObject({ code: 'INVALID_VALUE', detail: { offset: seg.start + 5, field: 'segwit flag' } })
    // Every transaction before it was reported.
    expect(o.events.length).toBe(1 + block.txLayouts.indexOf(seg))
  })

  it.skipIf(!BLOCKS_PRESENT)('bytes after the block are TRAILING_BYTES at the end offset', () => {
    const raw = readBlock('block482683.raw')
    const o = sameEverywhere(Uint8Array.from([...raw, 0, 1, 2]))
    expect(o.error).toMatchObject({ code: 'TRAILING_BYTES', detail: { offset: raw.length } })
    expect(o.events.length).toBe(13)
  })

  it.skipIf(!BLOCKS_PRESENT)('maxTxBytes: a larger transaction is OVERSIZE at its offset, whatever the chunking', () => {
    const raw = readBlock('block482683.raw')
    const block = parseBlock(raw)
    const lens = block.txLayouts.map((l) => l.end - l.start)
    const cap = Math.max(...lens) - 1
    const first = block.txLayouts[lens.indexOf(cap + 1)]!
    const o = sameEverywhere(raw, { maxTxBytes: cap })
    expect(o.error).toMatchObject({ code: 'OVERSIZE', detail: { field: 'maxTxBytes', offset: first.start, limit: cap } })
    // Exactly the largest size passes.
    expect(sameEverywhere(raw, { maxTxBytes: cap + 1 }).error).toBeUndefined()
  })

  it.skipIf(!BLOCKS_PRESENT)('totalLength (also as a 64-bit bigint): shorter is TRUNCATED early, longer is TRUNCATED at end', () => {
    const raw = readBlock('block482683.raw')
    expect(sameEverywhere(raw, { totalLength: BigInt(raw.length) }).end?.length).toBe(raw.length)
    const short = sameEverywhere(raw, { totalLength: raw.length - 10 })
    expect(short.error).toMatchObject({ code: 'TRUNCATED', detail: { field: 'totalLength', actual: raw.length - 10 } })
    const long = sameEverywhere(raw, { totalLength: raw.length + 10 })
    expect(long.error).toMatchObject({ code: 'TRUNCATED', detail: { field: 'totalLength', expected: raw.length + 10, actual: raw.length } })
    // A 64-bit length above 2^53 cannot be represented exactly: refused up front.
    expect(() => new BlockStreamParser({ totalLength: 1n << 60n, maxBlockBytes: Number.MAX_SAFE_INTEGER })).toThrow(WireError)
    // A length above maxBlockBytes is refused before any byte.
    expect(() => new BlockStreamParser({ totalLength: 5_000_000 })).toThrow(/maxBlockBytes/)
  })

  it.skipIf(!BLOCKS_PRESENT)('maxBlockBytes: a block running past it is OVERSIZE', () => {
    const raw = readBlock('block482683.raw')
    const o = sameEverywhere(raw, { maxBlockBytes: 5000 })
    expect(o.error).toMatchObject({ code: 'OVERSIZE', detail: { field: 'maxBlockBytes', limit: 5000 } })
    // A block of exactly maxBlockBytes passes; one byte more after it is TRAILING_BYTES.
    expect(sameEverywhere(raw, { maxBlockBytes: raw.length }).end?.length).toBe(raw.length)
    const over = sameEverywhere(Uint8Array.from([...raw, 0]), { maxBlockBytes: raw.length })
    expect(over.error).toMatchObject({ code: 'TRAILING_BYTES', detail: { offset: raw.length } })
  })

  it.skipIf(!BLOCKS_PRESENT)('CVE-2012-2459: a block with its last tx duplicated streams but fails end() as mutated', () => {
    const block = parseBlock(readBlock('block300025.raw'))
    const mutated = serializeBlock({ header: block.header, txs: [...block.txs, block.txs[block.txs.length - 1]!] })
    // Only the tx count and the extra tx differ: the header, and its merkle root, are unchanged.
    const o = sameEverywhere(mutated)
    expect(o.events.length).toBe(1 + 462)
    expect(o.error).toMatchObject({ code: 'BAD_MERKLE_ROOT', detail: { field: 'merkle mutation' } })
  })

  it.skipIf(!BLOCKS_PRESENT)('verify: false reports the computed roots without checking them', () => {
    const raw = readBlock('block300025.raw').slice()
    raw[36] = raw[36]! ^ 1
    expect(run(raw, 4096).error).toMatchObject({ code: 'BAD_MERKLE_ROOT' })
    const o = run(raw, 4096, { verify: false })
    expect(o.error).toBeUndefined()
    expect(o.end!.verified).toBe(false)
    expect(toHex(o.end!.merkleRoot)).toBe(toHex(merkleRoot(blockTxids(parseBlock(raw)))))
    expect(o.end!.weight).toBe(blockWeight(parseBlock(raw)))
  })

  it('hostile counts fail on the count, before any buffering', () => {
    const head = new Uint8Array(80)
    const e1 = run(Uint8Array.from([...head, 0xfe, 0xff, 0xff, 0xff, 0xff]), 1)
    expect(e1.error).toMatchObject({ code: 'OVERSIZE', detail: { field: 'block txs' } })
    // One tx claiming 2^32-1 inputs.
    const tx = [1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff]
    const e2 = run(Uint8Array.from([...head, 1, ...tx]), 1)
    expect(e2.error).toMatchObject({ code: 'OVERSIZE', detail: { field: 'tx inputs', offset: 85 } })
    // 2,439 inputs: at the count limit for maxTxBytes = 100,000 (100,000 / 41), but 2,439 x 41 bytes
    // after the version and count do not fit in 100,000.
    const e3 = run(Uint8Array.from([...head, 1, 1, 0, 0, 0, 0xfd, 0x87, 0x09]), 3, { maxTxBytes: 100_000 })
    expect(e3.error).toMatchObject({ code: 'OVERSIZE', detail: { field: 'maxTxBytes', offset: 81 } })
  })

  it('stays failed after an error event; misuse after end() is STATE', () => {
    const p = new BlockStreamParser()
    const events = p.push(Uint8Array.from([...new Uint8Array(80), 0xfe, 0xff, 0xff, 0xff, 0xff]))
    expect(events).toHaveLength(1)
    const ev = events[0]!
    expect(ev.type === 'error' && ev.error.code).toBe('OVERSIZE')
    expect(p.push(new Uint8Array(1))).toEqual(events)
    expect(() => p.end()).toThrow(WireError)
    const q = new BlockStreamParser({ verify: false })
    expect(q.push(Uint8Array.from([...new Uint8Array(80), 0])).map((e) => e.type)).toEqual(['header'])
    expect(q.end().txCount).toBe(0)
    expect(() => q.push(new Uint8Array(1))).toThrow(/after end/)
    expect(() => q.end()).toThrow(/twice/)
    // With verify, a block without transactions is INVALID_VALUE at end().
    const r = new BlockStreamParser()
    r.push(Uint8Array.from([...new Uint8Array(80), 0]))
    expect(() => r.end()).toThrow(/no transactions/)
  })
})
