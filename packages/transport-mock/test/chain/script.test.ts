import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { SeededRandom } from '@bitp2p/session'
import { compactSizeLength } from '@bitp2p/wire/codecs'
import { heightFromScriptSig } from '@bitp2p/wire/consensus'
import {
  fakePubkey,
  fakeSignature,
  fillerBytes,
  fitVarBytes,
  heightScript,
  isP2pkh,
  isP2wpkh,
  OP_PUSHDATA1,
  OP_PUSHDATA2,
  OP_PUSHDATA4,
  p2pkhScript,
  p2shScript,
  p2wpkhScript,
  pushData,
  randomBytes,
} from '../../src/chain/script.js'

describe('heightScript', () => {
  it('is what wire reads back as the BIP34 height, for edge and random heights', () => {
    for (const h of [0, 1, 16, 17, 127, 128, 255, 256, 32_767, 32_768, 8_388_607, 8_388_608, 0x7fffffff]) {
      expect(heightFromScriptSig(heightScript(h))).toBe(h)
    }
    fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffffff }), (h) => heightFromScriptSig(heightScript(h)) === h))
  })

  it('uses OP_N for 1..16 and a sign byte when the top bit is set', () => {
    expect(heightScript(16)).toEqual(Uint8Array.of(0x60))
    expect(heightScript(128)).toEqual(Uint8Array.of(2, 0x80, 0x00))
    expect(heightScript(227_931)).toEqual(Uint8Array.of(3, 0x5b, 0x7a, 0x03))
  })

  it('rejects heights that are not 31-bit integers', () => {
    expect(() => heightScript(-1)).toThrow(RangeError)
    expect(() => heightScript(2 ** 31)).toThrow(RangeError)
    expect(() => heightScript(1.5)).toThrow(RangeError)
  })
})

describe('pushData', () => {
  it('picks the shortest push opcode for each length', () => {
    const at = (n: number) => pushData(new Uint8Array(n))
    expect(at(75).subarray(0, 1)).toEqual(Uint8Array.of(75))
    expect(at(76).subarray(0, 2)).toEqual(Uint8Array.of(OP_PUSHDATA1, 76))
    expect(at(256).subarray(0, 3)).toEqual(Uint8Array.of(OP_PUSHDATA2, 0x00, 0x01))
    expect(at(65_536).subarray(0, 5)).toEqual(Uint8Array.of(OP_PUSHDATA4, 0x00, 0x00, 0x01, 0x00))
    expect(at(65_536).length).toBe(65_541)
  })
})

describe('output templates', () => {
  it('have the standard sizes and are recognised', () => {
    const h = new Uint8Array(20).fill(7)
    expect(p2wpkhScript(h).length).toBe(22)
    expect(p2pkhScript(h).length).toBe(25)
    expect(p2shScript(h).length).toBe(23)
    expect(isP2wpkh(p2wpkhScript(h))).toBe(true)
    expect(isP2pkh(p2pkhScript(h))).toBe(true)
    expect(isP2pkh(p2wpkhScript(h))).toBe(false)
    expect(isP2wpkh(p2shScript(h))).toBe(false)
    expect(() => p2wpkhScript(new Uint8Array(19))).toThrow(RangeError)
  })
})

describe('signature- and key-shaped bytes', () => {
  it('have a DER envelope and a compressed-key prefix', () => {
    const r = new SeededRandom(1)
    for (let i = 0; i < 50; i++) {
      const sig = fakeSignature(r)
      expect(sig.length).toBe(72)
      expect([...sig.subarray(0, 5)]).toEqual([0x30, 0x45, 0x02, 0x21, 0x00])
      expect([sig[37], sig[38], sig[71]]).toEqual([0x02, 0x20, 0x01])
      expect(sig[39]! & 0x80).toBe(0)
      const key = fakePubkey(r)
      expect(key.length).toBe(33)
      expect([0x02, 0x03]).toContain(key[0])
    }
  })
})

describe('randomBytes / fillerBytes', () => {
  it('are deterministic per seed and have the asked length', () => {
    expect(randomBytes(new SeededRandom(5), 37)).toEqual(randomBytes(new SeededRandom(5), 37))
    expect(randomBytes(new SeededRandom(5), 37)).not.toEqual(randomBytes(new SeededRandom(6), 37))
    for (const n of [0, 1, 31, 32, 33, 100, 4097]) {
      const f = fillerBytes(new SeededRandom(9), n)
      expect(f.length).toBe(n)
      // The pattern repeats every 32 bytes.
      for (let i = 32; i < n; i++) expect(f[i]).toBe(f[i - 32])
    }
  })
})

describe('fitVarBytes', () => {
  it('fills exactly, except where no canonical CompactSize can', () => {
    const rooms = [...Array(1_000).keys(), ...Array.from({ length: 1_000 }, (_, i) => 65_000 + i)]
    for (const room of rooms.filter((r) => r > 0)) {
      const n = fitVarBytes(room)
      if (n === undefined) {
        expect([254, 255, 65_539, 65_540]).toContain(room)
      } else {
        expect(compactSizeLength(n) + n).toBe(room)
      }
    }
    expect(fitVarBytes(0)).toBeUndefined()
  })
})
