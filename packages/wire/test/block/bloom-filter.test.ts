import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { fromHex, hexToHash, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { BloomFilter, BloomFlags, MAX_BLOOM_FILTER_SIZE, MAX_HASH_FUNCS, murmur3 } from '../../src/block/bloom-filter.js'

describe('murmur3 (x86_32)', () => {
  // Bitcoin Core src/test/hash_tests.cpp, BOOST_AUTO_TEST_CASE(murmurhash3):
  // T(expected, seed, data). 0xFBA4C795 is CBloomFilter's seed multiplier.
  const CORE_VECTORS: ReadonlyArray<readonly [number, number, string]> = [
    [0x00000000, 0x00000000, ''],
    [0x6a396f08, 0xfba4c795, ''],
    [0x81f16f39, 0xffffffff, ''],
    [0x514e28b7, 0x00000000, '00'],
    [0xea3f0b17, 0xfba4c795, '00'],
    [0xfd6cf10d, 0x00000000, 'ff'],
    [0x16c6b7ab, 0x00000000, '0011'],
    [0x8eb51c3d, 0x00000000, '001122'],
    [0xb4471bf8, 0x00000000, '00112233'],
    [0xe2301fa8, 0x00000000, '0011223344'],
    [0xfc2e4a15, 0x00000000, '001122334455'],
    [0xb074502c, 0x00000000, '00112233445566'],
    [0x8034d2a0, 0x00000000, '0011223344556677'],
    [0xb4698def, 0x00000000, '001122334455667788'],
  ]

  it.each(CORE_VECTORS)('MurmurHash3(seed %#, %s) matches Bitcoin Core', (expected, seed, data) => {
    expect(murmur3(seed, fromHex(data))).toBe(expected)
  })

  it('always returns a uint32', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.uint8Array({ maxLength: 64 }), (seed, data) => {
        const h = murmur3(seed, data)
        expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true)
      }),
    )
  })
})

describe('BloomFilter', () => {
  // Bitcoin Core src/test/bloom_tests.cpp, bloom_create_insert_serialize:
  // CBloomFilter(3, 0.01, 0, BLOOM_UPDATE_ALL) after three inserts serializes as
  // 03 614e9b (filter) | 05000000 (nHashFuncs) | 00000000 (nTweak) | 01 (nFlags).
  const ITEMS = ['99108ad8ed9bb6274d3980bab5a85c048f0950c8', 'b5a2c786d9ef4658287ced5914b37a1b4aa32eee', 'b9300670b4c5366e95b2699e8b18bc75e5f729c5'].map(fromHex)

  it('sizes and fills a filter exactly as Core (bloom_create_insert_serialize)', () => {
    const f = BloomFilter.create(3, 0.01, 0, BloomFlags.UPDATE_ALL)
    f.insert(ITEMS[0]!)
    expect(f.contains(ITEMS[0]!)).toBe(true)
    // One bit different in the first byte.
    expect(f.contains(fromHex('19108ad8ed9bb6274d3980bab5a85c048f0950c8'))).toBe(false)
    f.insert(ITEMS[1]!)
    f.insert(ITEMS[2]!)
    for (const it of ITEMS) expect(f.contains(it)).toBe(true)
    const p = f.toParams()
    expect(toHex(p.filter)).toBe('614e9b')
    expect(p.nHashFuncs).toBe(5)
    expect(p.nTweak).toBe(0)
    expect(p.nFlags).toBe(1)
    f.clear()
    expect(f.contains(ITEMS[0]!)).toBe(false)
  })

  it('applies nTweak to every seed (bloom_create_insert_serialize_with_tweak: 03 ce4299 | 05 | 2147483649 | 01)', () => {
    const f = BloomFilter.create(3, 0.01, 2147483649, BloomFlags.UPDATE_ALL)
    for (const it of ITEMS) f.insert(it)
    const p = f.toParams()
    expect(toHex(p.filter)).toBe('ce4299')
    expect(p.nHashFuncs).toBe(5)
    expect(p.nTweak).toBe(2147483649)
  })

  it('matches a txid inserted in internal byte order (bloom_match, tx b4749f01...)', () => {
    // Core inserts uint256S("0xb474...6b") (internal order) and, separately, the same bytes
    // spelled out as hex; both are the same 32 bytes. Filter: CBloomFilter(10, 0.000001, 0, ALL).
    const f = BloomFilter.create(10, 0.000001, 0, BloomFlags.UPDATE_ALL)
    const txid = hexToHash('b4749f017444b051c44dfd2720e88f314ff94f3dd6d56d40ef65854fcd7fff6b')
    expect(toHex(txid)).toBe('6bff7fcd4f8565ef406dd5d63d4ff94f318fe82027fd4dc451b04474019f74b4')
    f.insert(txid)
    expect(f.contains(fromHex('6bff7fcd4f8565ef406dd5d63d4ff94f318fe82027fd4dc451b04474019f74b4'))).toBe(true)
    expect(f.contains(hexToHash('00000009e784f32f62ef849763d4f45b98e07ba658647343b915ff832b110436'))).toBe(false)
  })

  it('caps size at MAX_BLOOM_FILTER_SIZE bytes and MAX_HASH_FUNCS functions', () => {
    const big = BloomFilter.create(1_000_000, 0.0000001, 0)
    expect(big.byteLength).toBe(MAX_BLOOM_FILTER_SIZE)
    expect(big.isWithinSizeConstraints()).toBe(true)
    const many = BloomFilter.create(1, 1e-300, 0)
    expect(many.nHashFuncs).toBe(MAX_HASH_FUNCS)
  })

  it('an empty bit field matches everything and ignores inserts (Core CVE-2013-5700 guard)', () => {
    const f = BloomFilter.fromParams({ filter: new Uint8Array(0), nHashFuncs: 5, nTweak: 0, nFlags: 0 })
    f.insert(ITEMS[0]!)
    expect(f.byteLength).toBe(0)
    expect(f.contains(new Uint8Array([1, 2, 3]))).toBe(true)
  })

  it('has no false negatives: every inserted item is contained', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 30 }),
        fc.nat({ max: 0xffffffff }),
        (items, tweak) => {
          const f = BloomFilter.create(items.length, 0.001, tweak)
          for (const it of items) f.insert(it)
          for (const it of items) expect(f.contains(it)).toBe(true)
        },
      ),
    )
  })

  it('round-trips through filterload params', () => {
    const f = BloomFilter.create(3, 0.01, 7, BloomFlags.UPDATE_P2PUBKEY_ONLY)
    for (const it of ITEMS) f.insert(it)
    const g = BloomFilter.fromParams(f.toParams())
    expect(g.toParams()).toEqual(f.toParams())
    for (const it of ITEMS) expect(g.contains(it)).toBe(true)
  })

  it('refuses parameters a peer would reject or that are out of range', () => {
    const tooBig = { filter: new Uint8Array(MAX_BLOOM_FILTER_SIZE + 1), nHashFuncs: 1, nTweak: 0, nFlags: 0 }
    expect(() => BloomFilter.fromParams(tooBig)).toThrow(WireError)
    expect(() => BloomFilter.fromParams({ filter: new Uint8Array(1), nHashFuncs: MAX_HASH_FUNCS + 1, nTweak: 0, nFlags: 0 })).toThrow(WireError)
    expect(() => BloomFilter.create(0, 0.01, 0)).toThrow(WireError)
    expect(() => BloomFilter.create(10, 1.5, 0)).toThrow(WireError)
    expect(() => BloomFilter.create(10, 0.01, -1)).toThrow(WireError)
  })
})
