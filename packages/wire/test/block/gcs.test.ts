import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ByteReader } from '../../src/bytes/reader.js'
import { fromHex, hexToHash, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { decodeBlockHeader } from '../../src/block/header.js'
import { sipHashKey, siphash24 } from '../../src/hash/siphash.js'
import { decodeTx } from '../../src/tx/codec.js'
import type { Transaction } from '../../src/tx/types.js'
import {
  BASIC_FILTER_M,
  BASIC_FILTER_P,
  BASIC_FILTER_PARAMS,
  basicFilterItems,
  buildBasicFilter,
  buildGcsFilter,
  decodeBasicFilter,
  FilterMatcher,
  filterHash,
  filterHeader,
  GcsFilter,
  gcsHashToRange,
  gcsKey,
} from '../../src/block/gcs.js'
import {
  bitmapShape,
  decodeFilterInto,
  type FilterLookup,
  lookupHashes,
  mulHighRange,
  newFilterLookup,
  prepareLookup,
} from '../../src/block/gcs-fast.js'
import { ByteWriter } from '../../src/bytes/writer.js'
import { errorOf } from '../util.js'
import { referenceHashToRange, referenceMatches, referenceValues } from './gcs-reference.js'

// BIP158 test vectors (bitcoin/bips, bip-0158/testnet-19.json), copied to shared/data.
const VECTORS_URL = new URL('../../../../../shared/data/bip-vectors/bip-0158_testnet-19.json', import.meta.url)
const VECTORS_PATH = fileURLToPath(VECTORS_URL)
const haveVectors = existsSync(VECTORS_PATH)

interface Vector {
  height: number
  blockHash: Uint8Array
  block: Uint8Array
  prevScripts: Uint8Array[]
  prevHeader: Uint8Array
  filter: Uint8Array
  header: Uint8Array
  notes: string
}

/** Rows after the first (column names): height, block hash, block, [prev output scripts], prev header, filter, header, notes. */
function loadVectors(): Vector[] {
  const rows = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as unknown[][]
  expect(String(rows[0]![0])).toContain('Block Height')
  return rows.slice(1).map((r) => ({
    height: r[0] as number,
    blockHash: hexToHash(r[1] as string),
    block: fromHex(r[2] as string),
    prevScripts: (r[3] as string[]).map(fromHex),
    prevHeader: hexToHash(r[4] as string),
    filter: fromHex(r[5] as string),
    header: hexToHash(r[6] as string),
    notes: r[7] as string,
  }))
}
const vectors = haveVectors ? loadVectors() : []

const NO_VECTORS = haveVectors ? '' : ` [skipped: ${VECTORS_PATH} absent]`

describe(`BIP158 test vectors (testnet-19.json)${NO_VECTORS}`, () => {
  it.skipIf(!haveVectors)('loads the ten vectors', () => {
    expect(vectors.length).toBe(10)
  })

  it.skipIf(!haveVectors)('every filter -> filter hash -> filter header equals the vector, chained from its previous header', () => {
    for (const v of vectors) {
      expect(toHex(filterHeader(filterHash(v.filter), v.prevHeader)), `height ${v.height}`).toBe(toHex(v.header))
    }
    // Where two vectors are consecutive blocks, one's header is the next one's previous header.
    let chained = 0
    for (let i = 1; i < vectors.length; i++) {
      if (vectors[i]!.height === vectors[i - 1]!.height + 1) {
        expect(toHex(vectors[i]!.prevHeader)).toBe(toHex(vectors[i - 1]!.header))
        chained++
      }
    }
    expect(chained).toBeGreaterThan(0)
  })

  it.skipIf(!haveVectors)('every filter decodes, and matches every non-empty script the block spends', () => {
    let checked = 0
    for (const v of vectors) {
      const f = decodeBasicFilter(v.blockHash, v.filter)
      const spent = v.prevScripts.filter((s) => s.length > 0)
      for (const s of spent) {
        expect(f.match(s), `height ${v.height} script ${toHex(s)}`).toBe(true)
        checked++
      }
      if (spent.length > 0) expect(f.matchAny(spent)).toBe(true)
    }
    expect(checked).toBeGreaterThan(5)
  })

  it.skipIf(!haveVectors)('FilterMatcher finds every item of every vector filter, and exactly the members of a mixed set', () => {
    let checked = 0
    for (const v of vectors) {
      const r = new ByteReader(v.block)
      decodeBlockHeader(r)
      const n = r.compactSize()
      const txs: Transaction[] = []
      for (let i = 0; i < n; i++) txs.push(decodeTx(r))
      const items = basicFilterItems(txs, v.prevScripts)
      if (items.length === 0) {
        expect(new FilterMatcher([fromHex('51')]).matchAny(v.blockHash, v.filter)).toBe(false)
        continue
      }
      // Every item, then the same items interleaved with scripts of no filter.
      const all = new FilterMatcher(items).matches(v.blockHash, v.filter)
      expect(all, `height ${v.height}`).toEqual(items.map((_, i) => i))
      const outsiders = items.map((it) => Uint8Array.of(...it, 0x75)) // ... OP_DROP: another script
      const mixed = items.flatMap((it, i) => [outsiders[i]!, it])
      const ref = decodeBasicFilter(v.blockHash, v.filter)
      const want = mixed.flatMap((s, i) => (ref.match(s) ? [i] : []))
      expect(new FilterMatcher(mixed).matches(v.blockHash, v.filter)).toEqual(want)
      expect(want.filter((i) => i % 2 === 1).length).toBe(items.length)
      checked += items.length
    }
    expect(checked).toBeGreaterThan(40)
  })

  it.skipIf(!haveVectors)("the test reference (gcs-reference.ts) reads every vector filter as the sorted values of the block's items, and so do GcsFilter and decodeFilterInto", () => {
    let checked = 0
    for (const v of vectors) {
      const r = new ByteReader(v.block)
      decodeBlockHeader(r)
      const n = r.compactSize()
      const txs: Transaction[] = []
      for (let i = 0; i < n; i++) txs.push(decodeTx(r))
      const unique = [...new Map(basicFilterItems(txs, v.prevScripts).map((it) => [toHex(it), it])).values()]
      const key = gcsKey(v.blockHash)
      const want = unique.map((it) => referenceHashToRange(key, it, unique.length * BASIC_FILTER_M)).sort((a, b) => a - b)
      expect(referenceValues(v.filter, BASIC_FILTER_PARAMS), `height ${v.height}`).toEqual(want)
      expect(decodeBasicFilter(v.blockHash, v.filter).values()).toEqual(want)
      const lookup = newFilterLookup()
      prepareLookup(lookup, want.length, BASIC_FILTER_M, 1)
      const head = new ByteReader(v.filter)
      head.compactSize()
      expect(decodeFilterInto(v.filter, head.offset, BASIC_FILTER_P, lookup)).toBe(v.filter.length)
      expect(Array.from(lookup.values.subarray(0, want.length))).toEqual(want)
      checked += want.length
    }
    expect(checked).toBeGreaterThanOrEqual(40)
  })

  it.skipIf(!haveVectors)('the empty-data vector (no items) is just N = 0 and matches nothing', () => {
    const empty = vectors.find((v) => v.notes === 'Empty data')!
    expect(toHex(empty.filter)).toBe('00')
    const f = decodeBasicFilter(empty.blockHash, empty.filter)
    expect(f.n).toBe(0)
    expect(f.match(fromHex('76a914'))).toBe(false)
  })

  it.skipIf(!haveVectors)("building each filter from the block's output scripts and spent scripts reproduces the vector", () => {
    for (const v of vectors) {
      const r = new ByteReader(v.block)
      decodeBlockHeader(r)
      const n = r.compactSize()
      const txs: Transaction[] = []
      for (let i = 0; i < n; i++) txs.push(decodeTx(r))
      r.done('block')
      const items = basicFilterItems(txs, v.prevScripts)
      const built = buildBasicFilter(v.blockHash, items)
      expect(toHex(built), `height ${v.height} (${v.notes})`).toBe(toHex(v.filter))
      // And the decoded vector filter matches every item it was built from.
      const f = decodeBasicFilter(v.blockHash, v.filter)
      for (const it of items) expect(f.match(it)).toBe(true)
    }
  })
})

describe('filter headers', () => {
  it('genesis (testnet): sha256d(sha256d(019dfca8) || 00..00) = 21584579...b750', () => {
    const h = filterHeader(filterHash(fromHex('019dfca8')), new Uint8Array(32))
    expect(toHex(h)).toBe(toHex(hexToHash('21584579b7eb08997773e5aeff3a7f932700042d0ed2a6129012b7d7ae81b750')))
  })
  it('refuses inputs that are not 32 bytes', () => {
    expect(errorOf(() => filterHeader(new Uint8Array(31), new Uint8Array(32)))?.code).toBe('ENCODE_RANGE')
  })
})

describe('Golomb-coded sets', () => {
  const blockHash = hexToHash('000000006c02c8ea6e4ff69651f7fcde348fb9d557a06e6957b65552002a7820')
  const items = fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 60, selector: toHex })

  it('hash-to-range is the high 64 bits of the 128-bit product (checked with BigInt)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.uint8Array({ maxLength: 40 }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        (k0, k1, item, f) => {
          const key = sipHashKey(k0, k1)
          const want = Number((siphash24(key, item) * BigInt(f)) >> 64n)
          expect(gcsHashToRange(key, item, f)).toBe(want)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('the key is the first 16 bytes of the block hash', () => {
    const k = gcsKey(blockHash)
    const item = fromHex('0014')
    const k0 = new ByteReader(blockHash).u64le()
    const k1 = new ByteReader(blockHash, 8).u64le()
    expect(gcsHashToRange(k, item, 1000)).toBe(Number((siphash24(sipHashKey(k0, k1), item) * 1000n) >> 64n))
    expect(errorOf(() => gcsKey(new Uint8Array(16)))?.code).toBe('ENCODE_RANGE')
  })

  it('build -> decode: N distinct items, ascending values below N * M, every item matches', () => {
    fc.assert(
      fc.property(items, (xs) => {
        const encoded = buildBasicFilter(blockHash, xs)
        const f = decodeBasicFilter(blockHash, encoded)
        expect(f.n).toBe(xs.length)
        const values = f.values()
        expect(values.length).toBe(xs.length)
        for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!)
        for (const v of values) expect(v).toBeLessThan(xs.length * BASIC_FILTER_M)
        for (const x of xs) expect(f.match(x)).toBe(true)
        if (xs.length > 0) expect(f.matchAny([fromHex('deadbeef'), xs[xs.length - 1]!])).toBe(true)
      }),
      { numRuns: 150 },
    )
  })

  it('duplicate items count once', () => {
    const a = fromHex('76a914aa')
    const b = fromHex('76a914bb')
    expect(toHex(buildBasicFilter(blockHash, [a, b, a.slice(), b]))).toBe(toHex(buildBasicFilter(blockHash, [a, b])))
    expect(decodeBasicFilter(blockHash, buildBasicFilter(blockHash, [a, b, a])).n).toBe(2)
  })

  it('encodes values as unary quotient + P-bit remainder, MSB first (hand-worked one-item filter)', () => {
    // One item: F = M, value v = hashToRange; delta = v; bits = (v >> 19) ones, a zero, 19 bits of v.
    const item = fromHex('51')
    const v = gcsHashToRange(gcsKey(blockHash), item, BASIC_FILTER_M)
    const q = Math.floor(v / 2 ** BASIC_FILTER_P)
    let bits = '1'.repeat(q) + '0' + (v % 2 ** BASIC_FILTER_P).toString(2).padStart(BASIC_FILTER_P, '0')
    bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0')
    let want = '01'
    for (let i = 0; i < bits.length; i += 8) want += parseInt(bits.slice(i, i + 8), 2).toString(16).padStart(2, '0')
    expect(toHex(buildBasicFilter(blockHash, [item]))).toBe(want)
  })

  it('a filter that does not hold an item: the testnet genesis filter does not match an OP_TRUE script', () => {
    const genesis = hexToHash('000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943')
    const f = decodeBasicFilter(genesis, fromHex('019dfca8'))
    expect(f.n).toBe(1)
    expect(f.match(fromHex('51'))).toBe(false)
    expect(f.matchAny([])).toBe(false)
  })

  it('custom parameters round-trip too (P = 10, M = 1000; P = 0)', () => {
    const xs = [fromHex('01'), fromHex('02'), fromHex('0303')]
    for (const params of [{ p: 10, m: 1000 }, { p: 0, m: 50 }]) {
      const key = gcsKey(blockHash)
      const f = GcsFilter.decode(buildGcsFilter(key, params, xs), key, params)
      for (const x of xs) expect(f.match(x)).toBe(true)
    }
  })

  it('refuses parameters out of range, and a range N * M beyond 2^53', () => {
    const key = gcsKey(blockHash)
    expect(errorOf(() => buildGcsFilter(key, { p: 33, m: 10 }, [fromHex('01')]))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => GcsFilter.decode(fromHex('00'), key, { p: 19, m: 0 }))?.code).toBe('ENCODE_RANGE')
    // N = 2^22 one-bit values (P = 0) under M = 2^32 - 1: N * M > 2^53.
    const n = 2 ** 22
    const encoded = new Uint8Array(5 + n / 8)
    encoded.set([0xfe, 0x00, 0x00, 0x40, 0x00])
    expect(errorOf(() => GcsFilter.decode(encoded, key, { p: 0, m: 0xffffffff }))?.code).toBe('OVERSIZE')
  })
})

describe('GcsFilter.decode on hostile input', () => {
  const blockHash = hexToHash('000000006c02c8ea6e4ff69651f7fcde348fb9d557a06e6957b65552002a7820')

  it('N larger than the bit stream can hold fails before decoding (TRUNCATED)', () => {
    // N = 2^32 - 1 with 4 bytes of stream.
    const e = errorOf(() => decodeBasicFilter(blockHash, fromHex('feffffffff' + '00000000')))
    expect(e?.code).toBe('TRUNCATED')
    expect(e?.detail.field).toBe('N')
  })

  it('N beyond u32 is OVERSIZE', () => {
    expect(errorOf(() => decodeBasicFilter(blockHash, fromHex('ff0000000001000000')))?.code).toBe('OVERSIZE')
  })

  it('a stream that ends inside a value is TRUNCATED; a whole extra byte is TRAILING_BYTES', () => {
    const good = buildBasicFilter(blockHash, [fromHex('aa'), fromHex('bb'), fromHex('cc')])
    expect(errorOf(() => decodeBasicFilter(blockHash, good.subarray(0, good.length - 1)))?.code).toBe('TRUNCATED')
    const extra = new Uint8Array(good.length + 1)
    extra.set(good)
    expect(errorOf(() => decodeBasicFilter(blockHash, extra))?.code).toBe('TRAILING_BYTES')
  })

  it('a run of 1 bits with no terminating 0 is TRUNCATED', () => {
    expect(errorOf(() => decodeBasicFilter(blockHash, fromHex('01' + 'ff'.repeat(64))))?.code).toBe('TRUNCATED')
  })

  it('non-canonical N is NON_CANONICAL', () => {
    expect(errorOf(() => decodeBasicFilter(blockHash, fromHex('fd0100' + 'ffffff')))?.code).toBe('NON_CANONICAL')
  })

  it('random bytes throw only WireError, and whatever decodes can be matched against', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 10 }), (bytes, item) => {
        let f: GcsFilter
        try {
          f = GcsFilter.decode(bytes, gcsKey(blockHash), BASIC_FILTER_PARAMS)
        } catch (e) {
          expect(e).toBeInstanceOf(WireError)
          return
        }
        expect(typeof f.match(item)).toBe('boolean')
      }),
      { numRuns: 1000 },
    )
  })
})

/**
 * Run `f` with the typed-array and Array constructors replaced by ones that
 * record the length of every allocation; returns the largest (elements).
 * The decoder's scratch is typed arrays, so an allocation sized by a
 * claimed N shows here before any memory is taken (the recorder refuses
 * lengths above `refuse` with a RangeError, which the caller sees as a
 * non-WireError and fails on).
 */
function largestAllocation(f: () => void, refuse = 1 << 24): number {
  const names = ['Float64Array', 'Int32Array', 'Uint32Array', 'Uint8Array', 'Array'] as const
  const saved = names.map((name) => globalThis[name])
  let largest = 0
  const record = (args: readonly unknown[]) => {
    if (typeof args[0] === 'number') {
      largest = Math.max(largest, args[0])
      if (args[0] > refuse) throw new RangeError(`allocation of ${args[0]} elements`)
    }
  }
  for (const [i, name] of names.entries()) {
    const original = saved[i]!
    ;(globalThis as Record<string, unknown>)[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        record(args)
        return Reflect.construct(target, args, newTarget === (globalThis as Record<string, unknown>)[name] ? target : newTarget)
      },
      apply(target, thisArg, args) {
        record(args)
        return Reflect.apply(target as (...a: unknown[]) => unknown, thisArg, args)
      },
    })
  }
  try {
    f()
  } finally {
    for (const [i, name] of names.entries()) (globalThis as Record<string, unknown>)[name] = saved[i]
  }
  return largest
}

describe('no allocation sized by a claimed N: decoding and matching allocate at most a fixed multiple of the bytes present', () => {
  const blockHash = hexToHash('000000006c02c8ea6e4ff69651f7fcde348fb9d557a06e6957b65552002a7820')
  const key = gcsKey(blockHash)
  /**
   * Every item takes at least P + 1 >= 1 bits, so N <= 8 * (bytes present);
   * values take N entries and the bitmap at most 2N + 2 words; the
   * matcher's scratch is rounded up to 4,096 entries.
   */
  const bound = (bytes: Uint8Array) => 16 * bytes.length + 4096 + 2

  /** A CompactSize N (any size, up to 2^64 - 1), then `body`. */
  const withN = (n: bigint, body: Uint8Array) => {
    const w = new ByteWriter()
    w.compactSize(n)
    w.bytes(body)
    return w.finish().slice()
  }

  it('hostile N (up to 2^64 - 1) over short or random streams, any P and M: a WireError or an answer, within the bound', () => {
    const scripts = [fromHex('51'), fromHex('0014' + '11'.repeat(20))]
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
        fc.uint8Array({ maxLength: 200 }),
        fc.oneof(fc.constant(BASIC_FILTER_PARAMS), paramsArb),
        (n, body, params) => {
          const bytes = withN(n, body)
          for (const run of [() => GcsFilter.decode(bytes, key, params), () => new FilterMatcher(scripts, params).matches(blockHash, bytes)]) {
            const largest = largestAllocation(() => {
              errorOf(run)
            })
            expect(largest, `N = ${n}, ${bytes.length} bytes, P = ${params.p}, M = ${params.m}`).toBeLessThanOrEqual(bound(bytes))
          }
        },
      ),
      { numRuns: 400, seed: 4096 },
    )
  })

  it('the largest N the bytes allow (P = 0, one bit an item) is decoded within the bound', () => {
    const params = { p: 0, m: 64 }
    const bytes = withN(8000n, new Uint8Array(1000)) // 8,000 one-bit values, all 0
    const largest = largestAllocation(() => {
      expect(GcsFilter.decode(bytes, key, params).n).toBe(8000)
      expect(new FilterMatcher([fromHex('51')], params).matches(blockHash, bytes)).toEqual(refMatches(blockHash, bytes, [fromHex('51')], params))
    })
    expect(largest).toBeGreaterThanOrEqual(8000)
    expect(largest).toBeLessThanOrEqual(bound(bytes))
  })
})

/** A Golomb-Rice stream of the given ascending values: CompactSize N, then each delta (test-side encoder, for crafted filters). */
function encodeValues(values: readonly number[], p: number): Uint8Array {
  let bits = ''
  let last = 0
  for (const v of values) {
    const d = v - last
    last = v
    bits += '1'.repeat(Math.floor(d / 2 ** p)) + '0' + (p > 0 ? (d % 2 ** p).toString(2).padStart(p, '0') : '')
  }
  bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0')
  const w = new ByteWriter()
  w.compactSize(values.length)
  for (let i = 0; i < bits.length; i += 8) w.u8(parseInt(bits.slice(i, i + 8), 2))
  return w.finish().slice()
}

/**
 * Golomb-Rice parameters P = 0 .. 32 with M up to 64 * 2^P (at most
 * 2^32 - 1): the quotients stay short, so a filter stays a few bytes per
 * item; P = 32 reaches ranges N * M past 2^32.
 */
const paramsArb = fc
  .integer({ min: 0, max: 32 })
  .chain((p) => fc.record({ p: fc.constant(p), m: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: Math.min(0xffffffff, 64 * 2 ** p) })) }))

/** The reference's answer (gcs-reference.ts): the indices of `scripts` whose value is in the block's filter. */
function refMatches(blockHash: Uint8Array, encoded: Uint8Array, scripts: readonly Uint8Array[], params = BASIC_FILTER_PARAMS): number[] {
  return referenceMatches(encoded, gcsKey(blockHash), params, scripts)
}

/** The bits set in a lookup's bitmap, ascending. */
function setBits(lookup: FilterLookup): number[] {
  const out: number[] = []
  for (let b = 0; b < lookup.nbits; b++) if ((lookup.bits[b >>> 5]! >>> (b & 31)) & 1) out.push(b)
  return out
}

describe('fast hash-to-range and Golomb-Rice decoding (gcs-fast.ts)', () => {
  const u32 = fc.integer({ min: 0, max: 0xffffffff })

  it('mulHighRange is the high 64 bits of the 128-bit product, for every range up to 2^53 - 1 (checked with BigInt)', () => {
    const check = (lo: number, hi: number, f: number) => {
      const want = Number(((BigInt(hi) * 2n ** 32n + BigInt(lo)) * BigInt(f)) >> 64n)
      const fHi = Math.floor(f / 2 ** 32)
      expect(mulHighRange(lo, hi, f - fHi * 2 ** 32, fHi), `h = ${hi}:${lo}, f = ${f}`).toBe(want)
    }
    const edges = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]
    const ranges = [1, 784931, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 5472 * 784931, 2 ** 52, Number.MAX_SAFE_INTEGER]
    for (const lo of edges) for (const hi of edges) for (const f of ranges) check(lo, hi, f)
    fc.assert(
      fc.property(u32, u32, fc.oneof(fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })), check),
      { numRuns: 2000, seed: 158 },
    )
  })

  it('decodeFilterInto gives the values of the reference decoder, for P = 0 .. 32, and sets exactly their bits', () => {
    const key = gcsKey(new Uint8Array(32).fill(7))
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uint8Array({ maxLength: 12 }), { maxLength: 80, selector: toHex }),
        paramsArb,
        (items, { p, m }) => {
          const params = { p, m }
          fc.pre(items.length * m <= Number.MAX_SAFE_INTEGER)
          const encoded = buildGcsFilter(key, params, items)
          const want = referenceValues(encoded, params)
          const head = new ByteReader(encoded)
          head.compactSize()
          const lookup = newFilterLookup()
          prepareLookup(lookup, want.length, m, 1)
          expect(decodeFilterInto(encoded, head.offset, p, lookup)).toBe(encoded.length)
          expect(Array.from(lookup.values.subarray(0, want.length))).toEqual(want)
          expect(setBits(lookup)).toEqual([...new Set(want.map((v) => Math.floor(v * lookup.perBit)))])
        },
      ),
      { numRuns: 400, seed: 19 },
    )
  })

  it('lookupHashes finds a value whose quick estimate rounds into the next bitmap bit (the slack)', () => {
    // Near f = 2^53 the double estimate of h * f / 2^64 may exceed the exact
    // value by up to 1. Put the one value x at the end of a bit (x + 1 is a
    // multiple of the bit width) and use hashes h with value x whose
    // estimate is already in the next bit.
    const f = Number.MAX_SAFE_INTEGER
    const F = BigInt(f)
    const perBit = 2 ** -50
    let cases = 0
    for (let k = 1n; k <= 7n; k++) {
      const x = k * 2n ** 50n - 1n
      const nbits = Math.floor((f + 8) * perBit) + 1
      const bit = Math.floor(Number(x) * perBit)
      const lookup: FilterLookup = {
        values: Float64Array.of(Number(x)),
        n: 1,
        fLo: f % 2 ** 32,
        fHi: Math.floor(f / 2 ** 32),
        perBit,
        nbits,
        bits: Int32Array.of(1 << bit),
        cursor: new Float64Array(3),
      }
      const hMin = ((x << 64n) + F - 1n) / F
      for (let h = hMin; (h * F) >> 64n === x; h += 1n) {
        const lo = Number(h & 0xffffffffn)
        const hi = Number(h >> 32n)
        const estimate = (hi * f + (lo * f) / 2 ** 32) / 2 ** 32
        if (Math.floor(estimate * perBit) === Math.floor(Number(x) * perBit)) continue
        cases++
        expect(lookupHashes(Uint32Array.of(lo, hi), 1, lookup, true, new Int32Array(1)), `h = ${h}`).toBe(1)
      }
    }
    expect(cases).toBeGreaterThan(100)
  })

  it('bitmapShape: at least 8 values a bit, 32 to 64 bits a value for the basic filter, never more than 2^30 bits', () => {
    for (const n of [1, 2500, 10_000, 1_000_000]) {
      const { perBit, nbits } = bitmapShape(n * BASIC_FILTER_M, BASIC_FILTER_M)
      expect(1 / perBit).toBeGreaterThanOrEqual(8)
      expect(nbits / n).toBeGreaterThan(32)
      expect(nbits / n).toBeLessThanOrEqual(65)
    }
    for (const [f, m] of [[Number.MAX_SAFE_INTEGER, 2 ** 32 - 1], [2 ** 40, 1], [5, 5]] as const) {
      const { perBit, nbits } = bitmapShape(f, m)
      expect(Number.isInteger(Math.log2(perBit))).toBe(true)
      expect(1 / perBit).toBeGreaterThanOrEqual(8)
      expect(nbits).toBeLessThanOrEqual(2 ** 30 + 1)
      expect(Math.floor((f + 8) * perBit)).toBeLessThan(nbits)
    }
  })

  it('prepareLookup clears the bits of the filter before (a reused lookup holds only the new filter)', () => {
    const key = gcsKey(new Uint8Array(32).fill(5))
    const big = buildGcsFilter(key, BASIC_FILTER_PARAMS, Array.from({ length: 3000 }, (_, i) => fromHex(i.toString(16).padStart(8, '0'))))
    const small = buildGcsFilter(key, BASIC_FILTER_PARAMS, [fromHex('01'), fromHex('02')])
    const lookup = newFilterLookup()
    prepareLookup(lookup, 3000, BASIC_FILTER_M, 4096)
    decodeFilterInto(big, 3, BASIC_FILTER_P, lookup)
    expect(setBits(lookup).length).toBeGreaterThan(2900)
    prepareLookup(lookup, 2, BASIC_FILTER_M, 4096)
    decodeFilterInto(small, 1, BASIC_FILTER_P, lookup)
    const values = referenceValues(small, BASIC_FILTER_PARAMS)
    expect(setBits(lookup)).toEqual([...new Set(values.map((v) => Math.floor(v * lookup.perBit)))])
  })

  it('long unary runs (values far apart) decode across many bytes', () => {
    // Deltas of 0, 1, 2^19 * 40 + 5 and 2^19 * 300: runs of 40 and 300 one-bits.
    const values = [0, 1, 2 ** 19 * 40 + 6, 2 ** 19 * 340 + 6]
    const encoded = encodeValues(values, 19)
    const lookup = newFilterLookup()
    prepareLookup(lookup, 4, BASIC_FILTER_M, 1)
    expect(decodeFilterInto(encoded, 1, 19, lookup)).toBe(encoded.length)
    expect(Array.from(lookup.values.subarray(0, 4))).toEqual(values)
  })
})

describe('FilterMatcher (one watched set, many filters)', () => {
  const script = fc.uint8Array({ maxLength: 40 })
  const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 })

  it('answers as the reference does (and as GcsFilter does): random filters, watched sets holding some of their items', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(script, { maxLength: 120, selector: toHex }),
        fc.array(script, { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        hash32,
        (items, others, picks, blockHash) => {
          const watched = [...others]
          for (const k of picks) if (items.length > 0) watched.splice(k % (watched.length + 1), 0, items[k % items.length]!)
          const encoded = buildBasicFilter(blockHash, items)
          const decoded = decodeBasicFilter(blockHash, encoded)
          const matcher = new FilterMatcher(watched)
          const want = refMatches(blockHash, encoded, watched)
          expect(matcher.matches(blockHash, encoded)).toEqual(want)
          expect(matcher.matchAny(blockHash, encoded)).toBe(want.length > 0)
          expect(decoded.matchAny(watched)).toBe(want.length > 0)
          expect(watched.flatMap((w, i) => (decoded.match(w) ? [i] : []))).toEqual(want)
          if (picks.length > 0 && items.length > 0) expect(want.length).toBeGreaterThanOrEqual(1)
        },
      ),
      { numRuns: 300, seed: 158 },
    )
  })

  it('answers as the reference does under other parameters: P = 0 .. 32, any M, ranges past 2^32', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(script, { maxLength: 40, selector: toHex }),
        fc.array(script, { maxLength: 20 }),
        paramsArb,
        hash32,
        (items, others, { p, m }, blockHash) => {
          const params = { p, m }
          fc.pre(items.length * m <= Number.MAX_SAFE_INTEGER)
          const key = gcsKey(blockHash)
          const encoded = buildGcsFilter(key, params, items)
          const watched = [...others, ...items.filter((_, i) => i % 3 === 0)]
          const want = refMatches(blockHash, encoded, watched, params)
          const matcher = new FilterMatcher(watched, params)
          expect(matcher.matches(blockHash, encoded)).toEqual(want)
          expect(matcher.matchAny(blockHash, encoded)).toBe(want.length > 0)
          expect(GcsFilter.decode(encoded, key, params).matchAny(watched)).toBe(want.length > 0)
        },
      ),
      { numRuns: 300, seed: 32 },
    )
  })

  it('finds members in every step of a set larger than one hashing step (512), and reports duplicates at each index', () => {
    const blockHash = new Uint8Array(32).fill(0x42)
    const items = Array.from({ length: 2500 }, (_, i) => fromHex('0014' + i.toString(16).padStart(40, '0')))
    const encoded = buildBasicFilter(blockHash, items)
    const watched = Array.from({ length: 1600 }, (_, i) => fromHex('0020' + i.toString(16).padStart(64, '0')))
    const planted = [0, 511, 512, 1023, 1024, 1599]
    for (const [k, at] of planted.entries()) watched[at] = items[k * 400]!
    watched[700] = items[0]!
    const want = refMatches(blockHash, encoded, watched)
    expect(want).toEqual(expect.arrayContaining([...planted, 700]))
    const matcher = new FilterMatcher(watched)
    expect(matcher.size).toBe(1600)
    expect(matcher.matches(blockHash, encoded)).toEqual(want)
    expect(matcher.matchAny(blockHash, encoded)).toBe(true)
  })

  it('one matcher over many filters of different sizes answers each as if it were the first (scratch reuse)', () => {
    const rounds = fc.array(fc.tuple(fc.uniqueArray(script, { maxLength: 300, selector: toHex }), hash32), { minLength: 2, maxLength: 6 })
    fc.assert(
      fc.property(fc.array(script, { minLength: 1, maxLength: 30 }), rounds, (watched, filters) => {
        const matcher = new FilterMatcher(watched)
        for (const [items, blockHash] of filters) {
          const withSome = [...items, ...watched.slice(0, items.length % 3)]
          const unique = [...new Map(withSome.map((x) => [toHex(x), x])).values()]
          const encoded = buildBasicFilter(blockHash, unique)
          expect(matcher.matches(blockHash, encoded)).toEqual(refMatches(blockHash, encoded, watched))
        }
      }),
      { numRuns: 60, seed: 7 },
    )
  })

  it('values of a larger filter decoded earlier do not answer for the next one', () => {
    // The next filter (under hashB) has n values, all just below x, the
    // watched script's value; the filter before it held x at index n.
    const s = fromHex('0014' + 'ab'.repeat(20))
    const hashB = new Uint8Array(32).fill(0xb0)
    const n = 3
    const x = gcsHashToRange(gcsKey(hashB), s, n * BASIC_FILTER_M)
    expect(x).toBeGreaterThan(10)
    const small = encodeValues([x - 3, x - 2, x - 1], BASIC_FILTER_P)
    const large = encodeValues([x - 3, x - 2, x - 1, x, x + 1], BASIC_FILTER_P)
    expect(decodeBasicFilter(hashB, small).match(s)).toBe(false)
    const matcher = new FilterMatcher([s])
    matcher.matchAny(new Uint8Array(32), large)
    expect(matcher.matchAny(hashB, small)).toBe(false)
    expect(matcher.matches(hashB, small)).toEqual([])
    // And x itself is found when it is there.
    expect(matcher.matches(hashB, encodeValues([x - 1, x, x + 1], BASIC_FILTER_P))).toEqual([0])
  })

  it('values piled on one spot or past the range (a malformed filter) are still compared exactly', () => {
    const s = fromHex('51')
    const blockHash = new Uint8Array(32).fill(3)
    const n = 400
    const x = gcsHashToRange(gcsKey(blockHash), s, n * BASIC_FILTER_M)
    const f = n * BASIC_FILTER_M
    const cases = [
      Array.from({ length: n }, () => x), // every value equal to x
      Array.from({ length: n }, (_, i) => (i < n - 1 ? x - 1 : x)), // x last, after a pile just below it
      Array.from({ length: n }, (_, i) => x - n + i), // a dense run ending just below x
      Array.from({ length: n }, (_, i) => f + i * 1000), // everything past the range
      [...Array.from({ length: n - 1 }, () => 0), x], // a pile at 0, then x
    ]
    for (const values of cases) {
      const encoded = encodeValues(values, BASIC_FILTER_P)
      expect(referenceValues(encoded, BASIC_FILTER_PARAMS)).toEqual(values)
      expect(decodeBasicFilter(blockHash, encoded).values()).toEqual(values)
      const want = refMatches(blockHash, encoded, [fromHex('00'), s])
      expect(want.includes(1)).toBe(values.includes(x))
      expect(new FilterMatcher([fromHex('00'), s]).matches(blockHash, encoded)).toEqual(want)
      expect(decodeBasicFilter(blockHash, encoded).match(s)).toBe(values.includes(x))
    }
  })

  it('empty cases: no scripts, an empty filter, an empty script', () => {
    const blockHash = new Uint8Array(32).fill(9)
    const encoded = buildBasicFilter(blockHash, [fromHex('51'), new Uint8Array(0)])
    expect(new FilterMatcher([]).matchAny(blockHash, encoded)).toBe(false)
    expect(new FilterMatcher([]).matches(blockHash, encoded)).toEqual([])
    expect(new FilterMatcher([fromHex('51')]).matchAny(blockHash, fromHex('00'))).toBe(false)
    // The empty script is never a basic-filter item, but a GCS can hold it; the matcher hashes it like any other.
    expect(new FilterMatcher([new Uint8Array(0)]).matches(blockHash, encoded)).toEqual([0])
  })

  it('refuses a block hash that is not 32 bytes, and parameters out of range', () => {
    const m = new FilterMatcher([fromHex('51')])
    expect(errorOf(() => m.matchAny(new Uint8Array(31), fromHex('00')))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => new FilterMatcher([], { p: 33, m: 1 }))?.code).toBe('ENCODE_RANGE')
    expect(errorOf(() => new FilterMatcher([], { p: 19, m: 0 }))?.code).toBe('ENCODE_RANGE')
  })
})

describe('FilterMatcher and GcsFilter on hostile input: the error of the reference, the same WireError from both, before any lookup', () => {
  const blockHash = hexToHash('000000006c02c8ea6e4ff69651f7fcde348fb9d557a06e6957b65552002a7820')
  const key = gcsKey(blockHash)
  const good = buildBasicFilter(blockHash, [fromHex('aa'), fromHex('bb'), fromHex('cc')])
  const withExtra = new Uint8Array(good.length + 1)
  withExtra.set(good)

  /**
   * The reference decodes `bytes` or fails with some code. GcsFilter.decode
   * must fail with that code (a WireError), and the matcher with the same
   * error as GcsFilter.decode (code, message, detail); or all three agree
   * on the values and the scripts that match. Returns the error or null.
   */
  const sameAsReference = (bytes: Uint8Array, scripts: readonly Uint8Array[], params = BASIC_FILTER_PARAMS) => {
    let want: number[] | null = null
    let refCode: string | null = null
    try {
      want = referenceMatches(bytes, key, params, scripts)
    } catch (e) {
      expect(e).toBeInstanceOf(WireError)
      refCode = (e as WireError).code
    }
    const decodeError = errorOf(() => GcsFilter.decode(bytes, key, params))
    expect(decodeError?.code ?? null, toHex(bytes)).toBe(refCode)
    const matcher = new FilterMatcher(scripts, params)
    for (const call of [() => matcher.matchAny(blockHash, bytes), () => matcher.matches(blockHash, bytes)]) {
      if (decodeError !== undefined) {
        const e = errorOf(call)
        expect(e).toBeInstanceOf(WireError)
        expect({ code: e?.code, message: e?.message, detail: e?.detail }).toEqual({
          code: decodeError.code,
          message: decodeError.message,
          detail: decodeError.detail,
        })
      }
    }
    if (want !== null) {
      expect(matcher.matches(blockHash, bytes)).toEqual(want)
      const decoded = GcsFilter.decode(bytes, key, params)
      expect(decoded.values()).toEqual(referenceValues(bytes, params))
      expect(decoded.matchAny(scripts)).toBe(want.length > 0)
    }
    return decodeError ?? null
  }

  it('the hostile cases of GcsFilter.decode, with scripts that would match the good prefix', () => {
    const scripts = [fromHex('aa'), fromHex('bb')]
    const cases: [Uint8Array, string][] = [
      [fromHex('feffffffff' + '00000000'), 'TRUNCATED'], // N far beyond the bits present
      [fromHex('ff0000000001000000'), 'OVERSIZE'], // N beyond u32
      [good.subarray(0, good.length - 1), 'TRUNCATED'], // stream ends inside a value
      [withExtra, 'TRAILING_BYTES'], // a whole byte after the last value
      [fromHex('01' + 'ff'.repeat(64)), 'TRUNCATED'], // a run of ones with no 0
      [fromHex('fd0100' + 'ffffff'), 'NON_CANONICAL'],
      [new Uint8Array(0), 'TRUNCATED'],
    ]
    for (const [bytes, code] of cases) expect(sameAsReference(bytes, scripts)?.code, toHex(bytes)).toBe(code)
    // And under P = 32 and P = 0, where the remainder is read in pieces or not at all.
    for (const p of [0, 32]) {
      const params = { p, m: 1000 }
      const ok = buildGcsFilter(key, params, scripts)
      expect(sameAsReference(ok, scripts, params)).toBeNull()
      expect(sameAsReference(ok.subarray(0, ok.length - 1), scripts, params)?.code).toBe('TRUNCATED')
    }
  })

  it('random bytes, and mutated real filters: the same error, or the same values and answers', () => {
    const items = Array.from({ length: 50 }, (_, i) => fromHex('0014' + (i * 7919).toString(16).padStart(40, '0')))
    const real = buildBasicFilter(blockHash, items)
    const scripts = items.filter((_, i) => i % 5 === 0)
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 120 }),
          fc.tuple(fc.nat(real.length - 1), fc.nat(255), fc.nat(real.length)).map(([at, b, cut]) => {
            const m = real.slice(0, Math.max(cut, at + 1))
            m[at] = b
            return m
          }),
        ),
        (bytes) => {
          sameAsReference(bytes, scripts)
        },
      ),
      { numRuns: 1500, seed: 2012 },
    )
  })
})
