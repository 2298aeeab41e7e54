/**
 * txidFromRaw / wtxidFromRaw hash ranges of the block's bytes (sha256dRange,
 * sha256dRange3). The Node build switches between plain JS, one node:crypto
 * call on a view, a reused join buffer and a streamed hash by the input's
 * length; the pure-JS build hashes every length in plain JS. This spec runs
 * in both builds (vitest.config.ts: the node-variant project) and checks
 * every path against @noble/hashes over the re-serialized transaction, on
 * transactions whose legacy and BIP144 forms fall on each side of every
 * length where the path changes.
 */
import { describe, expect, inject, it } from 'vitest'
import fc from 'fast-check'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { ByteReader } from '../../src/bytes/reader.js'
import { toHex } from '../../src/bytes/hex.js'
import { SHA256_BACKEND, sha256dRange, sha256dRange3 } from '../../src/hash/sha256.js'
import { JS_FIRST_PASS_MAX_BYTES } from '../../src/hash/sha256.node.js'
import { decodeTxWithLayout, serializeTx } from '../../src/tx/codec.js'
import { txidFromRaw, wtxidFromRaw } from '../../src/tx/id.js'
import type { Transaction } from '../../src/tx/types.js'
import { BLOCKS_PRESENT, readBlock, SKIP_MESSAGE } from '../block/blocks-data.js'
import { parseBlock } from '../../src/block/block.js'

declare module 'vitest' {
  export interface ProvidedContext {
    hashBackend: 'noble' | 'node:crypto'
  }
}

const reference = (b: Uint8Array) => toHex(nobleSha256(nobleSha256(b)))

const T = JS_FIRST_PASS_MAX_BYTES
/**
 * Script, witness and input lengths on both sides of the Node build's
 * largest plain-JS input (T), of 64-byte block edges, and of 16 KiB (its
 * largest joined input).
 */
const SCRIPT_LENGTHS = [0, 1, 20, 50, 55, 56, 63, 64, 100, 119, 120, 183, 184, T - 1, T, T + 1, 300, 1000, 16_300, 16_400, 17_000]
const scriptLength = fc.oneof(fc.constantFrom(...SCRIPT_LENGTHS), fc.nat({ max: 700 }))
const filled = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)

const tx: fc.Arbitrary<Transaction> = fc
  .record({
    version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    scriptSig: scriptLength,
    scriptPubKey: scriptLength,
    witness: fc.array(scriptLength, { maxLength: 3 }),
    inputs: fc.integer({ min: 1, max: 3 }),
    seed: fc.nat({ max: 255 }),
    locktime: fc.nat({ max: 0xffffffff }),
  })
  .map((r) => ({
    version: r.version,
    inputs: Array.from({ length: r.inputs }, (_, i) => ({
      prevout: { txid: filled(32, r.seed + i), index: i },
      scriptSig: filled(i === 0 ? r.scriptSig : 1, r.seed),
      sequence: 0xfffffffe,
      // A non-empty witness on the first input only: the rest are empty stacks.
      witness: i === 0 ? r.witness.map((n, j) => filled(n, r.seed + j)) : [],
    })),
    outputs: [{ value: 12_345n, scriptPubKey: filled(r.scriptPubKey, r.seed + 1) }],
    locktime: r.locktime,
  }))

describe(`transaction ids from raw bytes (${SHA256_BACKEND} build)`, () => {
  it('runs in the build the project selected', () => {
    expect(SHA256_BACKEND).toBe(inject('hashBackend'))
  })

  it('property: txid and wtxid from the raw bytes equal sha256d of the serialized forms, at every length class', () => {
    fc.assert(
      fc.property(tx, fc.nat({ max: 70 }), (t, pad) => {
        const full = serializeTx(t)
        // Inside a larger array, at any offset: views and block edges move with it.
        const raw = new Uint8Array(pad + full.length + 7)
        raw.set(full, pad)
        const { layout } = decodeTxWithLayout(new ByteReader(raw, pad))
        expect(toHex(txidFromRaw(raw, layout))).toBe(reference(serializeTx(t, { witness: false })))
        expect(toHex(wtxidFromRaw(raw, layout))).toBe(reference(full))
      }),
      { numRuns: 400, seed: 1702 },
    )
  })

  it('property: sha256dRange and sha256dRange3 equal sha256d of the copied bytes, over a Node Buffer from a shared pool too', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SCRIPT_LENGTHS, 16_384, 16_385), fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), (n, cuts) => {
        const plain = filled(n + 40, n)
        // Buffer.from(string) lives in Node's shared pool: a non-zero byteOffset into a larger ArrayBuffer.
        const pooled = Buffer.from(toHex(plain), 'hex')
        for (const src of [plain, pooled]) {
          const o = cuts.map((c) => c % (src.length + 1)).sort((a, b) => a - b) as [number, number, number, number, number, number]
          expect(toHex(sha256dRange(src, o[0], o[5]))).toBe(reference(src.slice(o[0], o[5])))
          const joined = new Uint8Array([...src.subarray(o[0], o[1]), ...src.subarray(o[2], o[3]), ...src.subarray(o[4], o[5])])
          expect(toHex(sha256dRange3(src, o[0], o[1], o[2], o[3], o[4], o[5]))).toBe(reference(joined))
          expect(toHex(sha256dRange3(src, 0, 0, 0, src.length, src.length, src.length))).toBe(reference(src))
        }
      }),
      { numRuns: 300, seed: 1703 },
    )
  })

  it('refuses a range outside the input with a RangeError instead of hashing what is there', () => {
    const raw = new Uint8Array(100)
    expect(() => sha256dRange(raw, 0, 101)).toThrow(RangeError)
    expect(() => sha256dRange(raw, 10, 5)).toThrow(RangeError)
    expect(() => sha256dRange(raw, -1, 5)).toThrow(RangeError)
    expect(() => sha256dRange(raw, 0.5, 5)).toThrow(RangeError)
    expect(() => sha256dRange3(raw, 0, 4, 6, 300, 96, 100)).toThrow(RangeError)
    expect(() => txidFromRaw(raw, { start: 0, end: 400, segwit: false, witnessStart: 396, witnessEnd: 396 })).toThrow(RangeError)
    expect(() => wtxidFromRaw(raw, { start: 50, end: 400, segwit: true, witnessStart: 60, witnessEnd: 396 })).toThrow(RangeError)
  })

  for (const file of ['block482683.raw', 'block702861.raw']) {
    it.skipIf(!BLOCKS_PRESENT)(`every tx of ${file}: ids from the raw bytes equal sha256d of the re-serialized forms (${BLOCKS_PRESENT ? 'data present' : SKIP_MESSAGE})`, () => {
      const raw = readBlock(file)
      const block = parseBlock(raw)
      block.txs.forEach((t, i) => {
        const layout = block.txLayouts[i]!
        expect(toHex(txidFromRaw(raw, layout)), `tx ${i}`).toBe(reference(serializeTx(t, { witness: false })))
        expect(toHex(wtxidFromRaw(raw, layout)), `tx ${i}`).toBe(reference(serializeTx(t)))
      })
    })
  }
})
