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
  filterHash,
  filterHeader,
  GcsFilter,
  gcsHashToRange,
  gcsKey,
} from '../../src/block/gcs.js'
import { errorOf } from '../util.js'

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
