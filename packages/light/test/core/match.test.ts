import { describe, expect, it } from 'vitest'
import { WireError } from '@bitp2p/wire'
import { filterMatchesAny, ScriptMatcher } from '../../src/core/match.js'
import { bip158Vectors, haveBip158 } from '../bip158.js'

const vectors = bip158Vectors()

describe.skipIf(!haveBip158)('filterMatchesAny', () => {
  it('finds an output script and a spent script among unrelated ones; not unrelated scripts alone', () => {
    const unrelated = Array.from({ length: 200 }, (_, i) => new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(i)]))
    let spent = 0
    for (const v of vectors) {
      const out = v.block.txs[0]!.outputs.find((o) => o.scriptPubKey.length > 0 && o.scriptPubKey[0] !== 0x6a)
      if (out) expect(filterMatchesAny(v.blockHash, v.filter, [...unrelated, out.scriptPubKey]), `height ${v.height}`).toBe(true)
      const prev = v.prevScripts.find((s) => s.length > 0)
      if (prev) {
        expect(filterMatchesAny(v.blockHash, v.filter, [prev, ...unrelated])).toBe(true)
        spent++
      }
      expect(filterMatchesAny(v.blockHash, v.filter, unrelated), `height ${v.height}`).toBe(false)
    }
    expect(spent).toBeGreaterThan(0)
  })

  it('no scripts never match; a filter that does not decode throws WireError', () => {
    const v = vectors[0]!
    expect(filterMatchesAny(v.blockHash, v.filter, [])).toBe(false)
    expect(() => filterMatchesAny(v.blockHash, new Uint8Array([9]), [new Uint8Array([1])])).toThrow(WireError)
  })
})

describe.skipIf(!haveBip158)('ScriptMatcher', () => {
  it('answers as filterMatchesAny over every vector, for a set that changes between filters', () => {
    const m = new ScriptMatcher()
    const unrelated = Array.from({ length: 50 }, (_, i) => new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(i + 1)]))
    for (const v of vectors) {
      const out = v.block.txs[0]!.outputs.find((o) => o.scriptPubKey.length > 0 && o.scriptPubKey[0] !== 0x6a)
      for (const set of [unrelated, out ? [...unrelated, out.scriptPubKey] : unrelated]) {
        expect(m.matches(v.blockHash, v.filter, set), `height ${v.height}`).toBe(filterMatchesAny(v.blockHash, v.filter, set))
      }
    }
    expect(m.matches(vectors[0]!.blockHash, vectors[0]!.filter, [])).toBe(false)
    expect(() => m.matches(vectors[0]!.blockHash, new Uint8Array([9]), unrelated)).toThrow(WireError)
  })
})
