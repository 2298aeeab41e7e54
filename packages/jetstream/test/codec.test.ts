// Block parts: what the assembler makes of BlockFetcher's chunks (every
// transaction whole, in one part, with its offset and ids), and the binary
// codec (round trip; hostile bytes give a PartCodecError, never anything else).
/// <reference types="node" />
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { existsSync, readFileSync } from 'node:fs'
import { parseTx, toHex, txid as txidOf } from '@bitp2p/wire'
import { sha256d } from '@bitp2p/wire/hash'
import { decodeBlockPart, encodeBlockPart, partMsgId, partTxBytes, PartAssembler, PartCodecError, type BlockPart } from '../src/index.js'
import { PART_FIXED_BYTES } from '../src/limits.js'
import { chunkEvents } from './chunks.js'

const DATA = new URL('../../../../shared/data/blocks/', import.meta.url)
const block = (name: string) => new Uint8Array(readFileSync(new URL(name, DATA)))
const HAVE_DATA = existsSync(new URL('block482683.raw', DATA))

/** Every part of `raw` cut into `chunkSize`, through encode and decode. */
function parts(raw: Uint8Array, chunkSize: number): { parts: BlockPart[]; events: ReturnType<typeof chunkEvents> } {
  const events = chunkEvents(raw, chunkSize)
  const a = new PartAssembler(chunkSize)
  for (const c of events.chunks) a.chunk(c)
  const out = a.block(events.block).map((p) => decodeBlockPart(encodeBlockPart(p)))
  expect(a.heldBytes).toBe(0)
  expect(a.pendingBlocks).toBe(0)
  return { parts: out, events }
}

/** The parts of a block hold each of its transactions once, whole, in order, with the parser's offsets and txids. */
function expectWhole(raw: Uint8Array, ps: BlockPart[], txs: { offset: number; length: number; txid: Uint8Array }[]): void {
  const seen = ps.flatMap((p) => p.txs.map((t, i) => ({ ...t, bytes: partTxBytes(p, i), part: p })))
  expect(seen.map((t) => t.index)).toEqual(txs.map((_, i) => i))
  seen.forEach((t, i) => {
    expect(t.offset).toBe(txs[i]!.offset)
    expect(t.length).toBe(txs[i]!.length)
    expect(toHex(t.bytes)).toBe(toHex(raw.subarray(t.offset, t.offset + t.length)))
    expect(toHex(txidOf(parseTx(t.bytes)))).toBe(toHex(txs[i]!.txid))
    expect(toHex(t.txid)).toBe(toHex(txs[i]!.txid))
  })
  for (const p of ps) {
    expect(p.partCount).toBe(ps.length)
    expect(toHex(p.header)).toBe(toHex(raw.subarray(0, 80)))
    expect(toHex(p.hash)).toBe(toHex(sha256d(raw.subarray(0, 80))))
    expect(p.blockTxCount).toBe(txs.length)
    expect(p.blockSize).toBe(raw.length)
  }
}

describe.skipIf(!HAVE_DATA)('PartAssembler on real mainnet blocks (../shared/data/blocks)', () => {
  it.each([
    ['block482683.raw', 89],
    ['block482683.raw', 1_000],
    ['block482683.raw', 64 * 1024],
    ['block300025.raw', 4_096],
    ['block702861.raw', 64 * 1024],
  ])('%s in chunks of %i bytes: every transaction whole in exactly one part', (name, size) => {
    const raw = block(name)
    const { parts: ps, events } = parts(raw, size)
    expect(ps).toHaveLength(Math.ceil(raw.length / size))
    expectWhole(raw, ps, events.txs)
  })

  it('any chunk size gives the same transactions (property)', () => {
    const raw = block('block482683.raw')
    fc.assert(
      fc.property(fc.integer({ min: 89, max: raw.length + 10 }), (size) => {
        const { parts: ps, events } = parts(raw, size)
        expectWhole(raw, ps, events.txs)
      }),
      { numRuns: 60, seed: 18 },
    )
  })

  it('a block streamed again from chunk 0 (after an invalid attempt) starts over: nothing of the first attempt is kept', () => {
    const raw = block('block482683.raw')
    const good = chunkEvents(raw, 500)
    const a = new PartAssembler(500)
    // The first attempt: three chunks with corrupted bytes, then the peer is dropped.
    for (const c of good.chunks.slice(0, 3)) a.chunk({ ...c, bytes: c.bytes.map((b) => b ^ 0xff) })
    expect(a.heldBytes).toBeGreaterThan(0)
    for (const c of good.chunks) a.chunk(c)
    const ps = a.block(good.block)
    expectWhole(raw, ps, good.txs)
    expect(a.heldBytes).toBe(0)
  })

  it('refuses chunks out of order and a block event that does not match what it holds', () => {
    const raw = block('block482683.raw')
    const { chunks, block: done } = chunkEvents(raw, 1_000)
    const a = new PartAssembler(1_000)
    a.chunk(chunks[0]!)
    expect(() => a.chunk(chunks[2]!)).toThrow(RangeError)
    expect(() => a.block(done)).toThrow(/chunks/)
    a.drop(done.hash)
    expect(a.heldBytes).toBe(0)
  })
})

describe('block part codec', () => {
  const raw = HAVE_DATA ? block('block482683.raw') : undefined
  const sample = (): BlockPart => {
    const { chunks, block: done } = chunkEvents(raw!, 2_000)
    const a = new PartAssembler(2_000)
    for (const c of chunks) a.chunk(c)
    return a.block(done)[1]!
  }

  it.skipIf(!HAVE_DATA)('round-trips every field; the message id names the block, the chunk size and the part', () => {
    const p = sample()
    const d = decodeBlockPart(encodeBlockPart(p))
    expect({ ...d, hash: toHex(d.hash), header: toHex(d.header), bytes: toHex(d.bytes), txs: d.txs.map((t) => ({ ...t, txid: toHex(t.txid), wtxid: toHex(t.wtxid) })) }).toEqual({
      ...p,
      hash: toHex(p.hash),
      header: toHex(p.header),
      bytes: toHex(p.bytes),
      txs: p.txs.map((t) => ({ ...t, txid: toHex(t.txid), wtxid: toHex(t.wtxid) })),
    })
    expect(partMsgId(p.hash, 2_000, 1)).toBe(`${toHex(p.hash.slice().reverse())}:2000:1`)
    // No height: the flag says so.
    expect(decodeBlockPart(encodeBlockPart({ ...p, height: undefined })).height).toBeUndefined()
  })

  it.skipIf(!HAVE_DATA)('a truncation at any offset is TRUNCATED; one more byte is TRAILING_BYTES', () => {
    const msg = encodeBlockPart(sample())
    for (let n = 0; n < msg.length; n++) {
      const e = (() => {
        try {
          decodeBlockPart(msg.subarray(0, n))
        } catch (err) {
          return err
        }
      })()
      expect(e, `cut at ${n}`).toBeInstanceOf(PartCodecError)
      expect((e as PartCodecError).code).toBe('TRUNCATED')
    }
    const longer = new Uint8Array(msg.length + 1)
    longer.set(msg)
    expect(() => decodeBlockPart(longer)).toThrow(expect.objectContaining({ code: 'TRAILING_BYTES' }))
  })

  it.skipIf(!HAVE_DATA)('contradicting fields are BAD_LAYOUT; a foreign message BAD_MAGIC; a newer version BAD_VERSION', () => {
    const msg = encodeBlockPart(sample())
    const at = (mutate: (b: Uint8Array, v: DataView) => void) => {
      const b = msg.slice()
      mutate(b, new DataView(b.buffer))
      try {
        decodeBlockPart(b)
      } catch (e) {
        return (e as PartCodecError).code
      }
      return 'decoded'
    }
    expect(at((b) => (b[0] = 0x7b))).toBe('BAD_MAGIC')
    expect(at((b) => (b[4] = 2))).toBe('BAD_VERSION')
    expect(at((_, v) => v.setUint32(44, 99, true))).toBe('BAD_LAYOUT') // part index past the count
    expect(at((_, v) => v.setUint32(PART_FIXED_BYTES + 80 + 4, v.getUint32(PART_FIXED_BYTES + 80 + 4, true) + 1, true))).toBe('BAD_LAYOUT') // second tx not contiguous
    expect(at((_, v) => v.setUint32(56, 1, true))).toBe('BAD_LAYOUT') // more txs than the block has
    expect(at((b) => (b[5] = 4))).toBe('BAD_LAYOUT') // unknown flag
    expect(at((b) => (b[5] = 0))).toBe('BAD_LAYOUT') // a height without its flag: one encoding per part
  })

  it('a huge transaction count is refused before anything is allocated for it', () => {
    const b = new Uint8Array(PART_FIXED_BYTES)
    b.set([0x42, 0x50, 0x52, 0x54, 1])
    const v = new DataView(b.buffer)
    v.setUint32(48, 1, true)
    v.setUint32(56, 0xffff_ffff, true)
    v.setUint32(156, 0xffff_ffff, true)
    expect(() => decodeBlockPart(b)).toThrow(expect.objectContaining({ code: 'TRUNCATED', detail: expect.objectContaining({ expected: PART_FIXED_BYTES + 0xffff_ffff * 80 }) }))
  })

  it('random bytes and random mutations of a part give a PartCodecError or a valid part, nothing else (property)', () => {
    const base = HAVE_DATA ? encodeBlockPart(sample()) : new Uint8Array(PART_FIXED_BYTES)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), (noise, flips) => {
        for (const input of [noise, (() => {
          const b = base.slice()
          for (const [i, x] of flips) b[i % b.length] = x
          return b
        })()]) {
          try {
            const p = decodeBlockPart(input)
            // What decodes re-encodes to the same bytes.
            expect(toHex(encodeBlockPart(p))).toBe(toHex(input))
          } catch (e) {
            expect(e).toBeInstanceOf(PartCodecError)
          }
        }
      }),
      { numRuns: 500, seed: 18 },
    )
  })
})

describe('displayHex', () => {
  it('reads a hash in display order without touching it, also in a Node Buffer (whose slice() is a view)', async () => {
    const { displayHex } = await import('../src/index.js')
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i))
    const before = toHex(bytes)
    expect(displayHex(bytes)).toBe(toHex(Uint8Array.from(bytes).reverse()))
    expect(displayHex(bytes)).toBe(displayHex(bytes))
    expect(toHex(bytes)).toBe(before)
  })
})
