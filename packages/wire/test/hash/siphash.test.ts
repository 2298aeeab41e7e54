import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { fromHex, toHex } from '../../src/bytes/hex.js'
import { sha256d } from '../../src/hash/sha256.js'
import {
  sipHashKey,
  sipHashKeyFromBytes,
  siphash24,
  siphash24Hash32Into,
  siphash24Into,
} from '../../src/hash/siphash.js'
import { SipHashBatch } from '../../src/hash/siphash-batch.js'
import { WireError } from '../../src/errors.js'

/**
 * The 64 reference SipHash-2-4 vectors: key = 00 01 .. 0f, message i = the
 * bytes 00 01 .. (i-1). Source: the reference implementation's
 * `vectors_sip64` (github.com/veorq/SipHash, vectors.h, there as
 * little-endian bytes), repeated as u64 values in Bitcoin Core's
 * src/test/hash_tests.cpp (`siphash_4_2_testvec`). Listed here as u64.
 */
const VECTORS_SIP64: readonly bigint[] = [
  0x726fdb47dd0e0e31n, 0x74f839c593dc67fdn, 0x0d6c8009d9a94f5an, 0x85676696d7fb7e2dn,
  0xcf2794e0277187b7n, 0x18765564cd99a68dn, 0xcbc9466e58fee3cen, 0xab0200f58b01d137n,
  0x93f5f5799a932462n, 0x9e0082df0ba9e4b0n, 0x7a5dbbc594ddb9f3n, 0xf4b32f46226bada7n,
  0x751e8fbc860ee5fbn, 0x14ea5627c0843d90n, 0xf723ca908e7af2een, 0xa129ca6149be45e5n,
  0x3f2acc7f57c29bdbn, 0x699ae9f52cbe4794n, 0x4bc1b3f0968dd39cn, 0xbb6dc91da77961bdn,
  0xbed65cf21aa2ee98n, 0xd0f2cbb02e3b67c7n, 0x93536795e3a33e88n, 0xa80c038ccd5ccec8n,
  0xb8ad50c6f649af94n, 0xbce192de8a85b8ean, 0x17d835b85bbb15f3n, 0x2f2e6163076bcfadn,
  0xde4daaaca71dc9a5n, 0xa6a2506687956571n, 0xad87a3535c49ef28n, 0x32d892fad841c342n,
  0x7127512f72f27ccen, 0xa7f32346f95978e3n, 0x12e0b01abb051238n, 0x15e034d40fa197aen,
  0x314dffbe0815a3b4n, 0x027990f029623981n, 0xcadcd4e59ef40c4dn, 0x9abfd8766a33735cn,
  0x0e3ea96b5304a7d0n, 0xad0c42d6fc585992n, 0x187306c89bc215a9n, 0xd4a60abcf3792b95n,
  0xf935451de4f21df2n, 0xa9538f0419755787n, 0xdb9acddff56ca510n, 0xd06c98cd5c0975ebn,
  0xe612a3cb9ecba951n, 0xc766e62cfcadaf96n, 0xee64435a9752fe72n, 0xa192d576b245165an,
  0x0a8787bf8ecb74b2n, 0x81b3e73d20b49b6fn, 0x7fa8220ba3b2ecean, 0x245731c13ca42499n,
  0xb78dbfaf3a8d83bdn, 0xea1ad565322a1a0bn, 0x60e61c23a3795013n, 0x6606d7e446282b93n,
  0x6ca4ecb15c5f91e1n, 0x9f626da15c9625f3n, 0xe51b38608ef25f57n, 0x958a324ceb064572n,
]

const KEY_BYTES = Uint8Array.from({ length: 16 }, (_, i) => i)
const message = (n: number) => Uint8Array.from({ length: n }, (_, i) => i)

/** A slow, obviously-correct SipHash-2-4 on BigInt lanes, used only to cross-check the fast one. */
function siphashBigint(k0: bigint, k1: bigint, data: Uint8Array): bigint {
  const M = 0xffffffffffffffffn
  const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M
  let v0 = k0 ^ 0x736f6d6570736575n
  let v1 = k1 ^ 0x646f72616e646f6dn
  let v2 = k0 ^ 0x6c7967656e657261n
  let v3 = k1 ^ 0x7465646279746573n
  const round = () => {
    v0 = (v0 + v1) & M; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n)
    v2 = (v2 + v3) & M; v3 = rotl(v3, 16n); v3 ^= v2
    v0 = (v0 + v3) & M; v3 = rotl(v3, 21n); v3 ^= v0
    v2 = (v2 + v1) & M; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n)
  }
  const words = Math.floor(data.length / 8)
  for (let w = 0; w <= words; w++) {
    let m = 0n
    if (w < words) for (let i = 7; i >= 0; i--) m = (m << 8n) | BigInt(data[w * 8 + i]!)
    else {
      m = BigInt(data.length & 0xff) << 56n
      for (let i = 0; i < (data.length & 7); i++) m |= BigInt(data[w * 8 + i]!) << BigInt(8 * i)
    }
    v3 ^= m
    round()
    round()
    v0 ^= m
  }
  v2 ^= 0xffn
  for (let i = 0; i < 4; i++) round()
  return v0 ^ v1 ^ v2 ^ v3
}

describe('SipHash-2-4', () => {
  it('has all 64 reference vectors (key 00..0f, messages of length 0..63)', () => {
    expect(VECTORS_SIP64.length).toBe(64)
    const key = sipHashKeyFromBytes(KEY_BYTES)
    for (let i = 0; i < 64; i++) {
      expect(siphash24(key, message(i)), `vector ${i}`).toBe(VECTORS_SIP64[i])
    }
  })

  it('reads vector 0 as the reference file spells it, little-endian bytes 31 0e 0e dd 47 db 6f 72', () => {
    const out = siphash24Into(sipHashKeyFromBytes(KEY_BYTES), new Uint8Array(0), new Uint32Array(2))
    const le = new Uint8Array(8)
    const view = new DataView(le.buffer)
    view.setUint32(0, out[0]!, true)
    view.setUint32(4, out[1]!, true)
    expect(toHex(le)).toBe('310e0edd47db6f72')
  })

  it('builds the same key from two u64 words as from 16 bytes (k0 = LE bytes 0..7)', () => {
    const a = sipHashKey(0x0706050403020100n, 0x0f0e0d0c0b0a0908n)
    expect(a).toEqual(sipHashKeyFromBytes(KEY_BYTES))
  })

  it('writes the result as [low, high] uint32 halves', () => {
    const out = siphash24Into(sipHashKeyFromBytes(KEY_BYTES), message(15), new Uint32Array(2))
    expect(out[0]).toBe(Number(VECTORS_SIP64[15]! & 0xffffffffn))
    expect(out[1]).toBe(Number(VECTORS_SIP64[15]! >> 32n))
  })

  it('32-byte fast path: Core SipHashUint256(k, 00..1f) = 0x7127512f72f27cce (= vector 32)', () => {
    // Bitcoin Core src/test/hash_tests.cpp: uint256S("1f1e..0100") is the bytes 00..1f in memory.
    const key = sipHashKey(0x0706050403020100n, 0x0f0e0d0c0b0a0908n)
    const out = siphash24Hash32Into(key, message(32), new Uint32Array(2))
    expect((BigInt(out[1]!) << 32n) | BigInt(out[0]!)).toBe(0x7127512f72f27ccen)
  })

  it('32-byte fast path: Core SipHashUint256(1, 2, hash of an empty v1 tx) = 0x79751e980c2a0a35', () => {
    // hash_tests.cpp serializes CMutableTransaction with nVersion = 1 and no inputs/outputs:
    // version 01000000 | vin count 00 | vout count 00 | locktime 00000000.
    const emptyTx = fromHex('01000000' + '00' + '00' + '00000000')
    const out = siphash24Hash32Into(sipHashKey(1n, 2n), sha256d(emptyTx), new Uint32Array(2))
    expect((BigInt(out[1]!) << 32n) | BigInt(out[0]!)).toBe(0x79751e980c2a0a35n)
  })

  it('the 32-byte entry point refuses other lengths', () => {
    const key = sipHashKey(1n, 2n)
    expect(() => siphash24Hash32Into(key, new Uint8Array(31), new Uint32Array(2))).toThrow(WireError)
  })

  it('refuses keys out of range or too short', () => {
    expect(() => sipHashKey(1n << 64n, 0n)).toThrow(WireError)
    expect(() => sipHashKey(0n, -1n)).toThrow(WireError)
    expect(() => sipHashKeyFromBytes(new Uint8Array(15))).toThrow(WireError)
  })

  it('agrees with a BigInt implementation for random keys and messages (any length, incl. > 255 bytes)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.uint8Array({ maxLength: 300 }), (k0, k1, data) => {
        expect(siphash24(sipHashKey(k0, k1), data)).toBe(siphashBigint(k0, k1, data))
      }),
      { numRuns: 300 },
    )
  })

  it('the BigInt cross-check itself reproduces the reference vectors', () => {
    for (const i of [0, 7, 8, 9, 63]) expect(siphashBigint(0x0706050403020100n, 0x0f0e0d0c0b0a0908n, message(i))).toBe(VECTORS_SIP64[i])
  })
})

describe('SipHashBatch (messages prepared once, hashed under many keys)', () => {
  const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
  const asBigints = (out: Uint32Array, count: number) => Array.from({ length: count }, (_, j) => (BigInt(out[2 * j + 1]!) << 32n) | BigInt(out[2 * j]!))

  it('hashes the 64 reference messages to the 64 reference vectors', () => {
    const batch = new SipHashBatch(Array.from({ length: 64 }, (_, i) => message(i)))
    expect(batch.count).toBe(64)
    const out = batch.hashRangeInto(sipHashKeyFromBytes(KEY_BYTES), 0, 64, new Uint32Array(128))
    expect(asBigints(out, 64)).toEqual(VECTORS_SIP64)
  })

  it('agrees with the BigInt implementation for random message lists (any lengths, incl. > 255 bytes) under several keys', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }), fc.array(fc.tuple(u64, u64), { minLength: 1, maxLength: 3 }), (messages, keys) => {
        const batch = new SipHashBatch(messages)
        const out = new Uint32Array(2 * messages.length)
        for (const [k0, k1] of keys) {
          batch.hashRangeInto(sipHashKey(k0, k1), 0, messages.length, out)
          expect(asBigints(out, messages.length)).toEqual(messages.map((m) => siphashBigint(k0, k1, m)))
        }
      }),
      { numRuns: 200, seed: 0x5195 },
    )
  })

  it('every message length 0 .. 300 (the length byte wraps past 255), against the BigInt implementation', () => {
    const messages = Array.from({ length: 301 }, (_, n) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff))
    const [k0, k1] = [0x0123456789abcdefn, 0xfedcba9876543210n]
    const out = new SipHashBatch(messages).hashRangeInto(sipHashKey(k0, k1), 0, 301, new Uint32Array(602))
    expect(asBigints(out, 301)).toEqual(messages.map((m) => siphashBigint(k0, k1, m)))
  })

  it('a sub-range writes its hashes from out[0], and nothing past them', () => {
    const messages = Array.from({ length: 10 }, (_, i) => message(3 * i))
    const key = sipHashKey(0x0706050403020100n, 0x0f0e0d0c0b0a0908n)
    const out = new Uint32Array(10).fill(0xdeadbeef)
    new SipHashBatch(messages).hashRangeInto(key, 4, 7, out)
    expect(asBigints(out, 3)).toEqual([VECTORS_SIP64[12], VECTORS_SIP64[15], VECTORS_SIP64[18]])
    expect(Array.from(out.subarray(6))).toEqual([0xdeadbeef, 0xdeadbeef, 0xdeadbeef, 0xdeadbeef])
  })

  it('does not keep the message bytes: changing them later changes nothing', () => {
    const m = message(20)
    const batch = new SipHashBatch([m])
    m.fill(0xff)
    const out = batch.hashRangeInto(sipHashKeyFromBytes(KEY_BYTES), 0, 1, new Uint32Array(2))
    expect(asBigints(out, 1)).toEqual([VECTORS_SIP64[20]])
  })

  it('refuses a range outside the list or an output too small for it', () => {
    const batch = new SipHashBatch([message(1), message(2)])
    const key = sipHashKeyFromBytes(KEY_BYTES)
    expect(() => batch.hashRangeInto(key, 0, 3, new Uint32Array(6))).toThrow(WireError)
    expect(() => batch.hashRangeInto(key, -1, 1, new Uint32Array(6))).toThrow(WireError)
    expect(() => batch.hashRangeInto(key, 2, 1, new Uint32Array(6))).toThrow(WireError)
    expect(() => batch.hashRangeInto(key, 0, 2, new Uint32Array(3))).toThrow(WireError)
    expect(batch.hashRangeInto(key, 2, 2, new Uint32Array(0)).length).toBe(0)
  })
})
