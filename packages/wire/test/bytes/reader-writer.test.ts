import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ByteReader } from '../../src/bytes/reader.js'
import { ByteWriter, compactSizeLength } from '../../src/bytes/writer.js'
import { fromHex, hashToHex, hexToHash, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { code } from '../util.js'

describe('CompactSize', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [0xfc, 'fc'],
    [0xfd, 'fdfd00'],
    [0xffff, 'fdffff'],
    [0x10000, 'fe00000100'],
    [0xffffffff, 'feffffffff'],
    [0x100000000, 'ff0000000001000000'],
    [Number.MAX_SAFE_INTEGER, 'ffffffffffffff1f00'],
  ]
  for (const [n, hex] of cases) {
    it(`encodes ${n} as ${hex} and back`, () => {
      expect(toHex(new ByteWriter().compactSize(n).finish())).toBe(hex)
      expect(new ByteReader(fromHex(hex)).compactSize()).toBe(n)
      expect(compactSizeLength(n)).toBe(hex.length / 2)
    })
  }
  it('rejects non-shortest forms as Core does', () => {
    expect(code(() => new ByteReader(fromHex('fdfc00')).compactSize())).toBe('NON_CANONICAL')
    expect(code(() => new ByteReader(fromHex('feffff0000')).compactSize())).toBe('NON_CANONICAL')
    expect(code(() => new ByteReader(fromHex('ffffffffff00000000')).compactSize())).toBe('NON_CANONICAL')
  })
  it('rejects values above 2^53-1 instead of rounding them', () => {
    expect(code(() => new ByteReader(fromHex('ff0000000000002000')).compactSize())).toBe('OVERSIZE')
  })
  it('rejects a truncated CompactSize', () => {
    expect(code(() => new ByteReader(fromHex('fe0100')).compactSize())).toBe('TRUNCATED')
  })
})

describe('ByteReader.count', () => {
  it('fails fast on a count of 2^32-1 against a limit, before any allocation', () => {
    const r = new ByteReader(fromHex('feffffffff'))
    const e = (() => {
      try {
        r.count(50_000, 'inv entries', 36)
      } catch (err) {
        return err as WireError
      }
    })()
    expect(e?.code).toBe('OVERSIZE')
    expect(e?.detail).toMatchObject({ field: 'inv entries', limit: 50_000, actual: 0xffffffff })
  })
  it('fails fast when the count cannot fit in the bytes left', () => {
    const r = new ByteReader(fromHex('0a' + '00'.repeat(35)))
    expect(code(() => r.count(50_000, 'inv entries', 36))).toBe('TRUNCATED')
  })
})

describe('ByteReader and ByteWriter', () => {
  it('round-trip every integer width', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
        (a, b, c, d, e, f) => {
          const w = new ByteWriter(1)
          w.u8(a).u16le(b).u16be(b).u32le(c).i32le(d).u64le(e).i64le(f)
          const r = new ByteReader(w.finish())
          expect([r.u8(), r.u16le(), r.u16be(), r.u32le(), r.i32le(), r.u64le(), r.i64le()]).toEqual([a, b, b, c, d, e, f])
          r.done()
        },
      ),
      { seed: 3 },
    )
  })
  it('reports TRAILING_BYTES when input is left over', () => {
    const r = new ByteReader(fromHex('0102'))
    r.u8()
    expect(code(() => r.done())).toBe('TRAILING_BYTES')
  })
  it('refuses to write out-of-range values', () => {
    expect(code(() => new ByteWriter().u32le(2 ** 32))).toBe('ENCODE_RANGE')
    expect(code(() => new ByteWriter().u8(-1))).toBe('ENCODE_RANGE')
    expect(code(() => new ByteWriter().hash(new Uint8Array(31)))).toBe('ENCODE_RANGE')
  })
  it('var strings round-trip UTF-8 and respect their limit', () => {
    const bytes = new ByteWriter().varString('/Satoshi:27.0.0/').finish()
    expect(new ByteReader(bytes).varString(256, 'user agent')).toBe('/Satoshi:27.0.0/')
    expect(code(() => new ByteReader(bytes).varString(10, 'user agent'))).toBe('OVERSIZE')
  })
})

describe('hash display helpers', () => {
  it('reverse bytes for display, as explorers print block hashes', () => {
    const display = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f'
    const internal = hexToHash(display)
    expect(internal[0]).toBe(0x6f)
    expect(hashToHex(internal)).toBe(display)
  })
  it('reject malformed hex', () => {
    expect(code(() => fromHex('abc'))).toBe('INVALID_VALUE')
    expect(code(() => fromHex('zz'))).toBe('INVALID_VALUE')
    expect(code(() => hexToHash('00'))).toBe('INVALID_VALUE')
  })
})
