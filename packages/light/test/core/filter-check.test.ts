import { describe, expect, it } from 'vitest'
import { bytesEqual, toHex } from '@bitp2p/wire'
import { basicFilterItems, buildBasicFilter } from '@bitp2p/wire/filters'
import { checkFilterAgainstBlock, describeFilterCheck } from '../../src/core/filter-check.js'
import { bip158Vectors, haveBip158 } from '../bip158.js'

const vectors = bip158Vectors()

/** The distinct filterable output scripts of a block. */
function outputScripts(v: (typeof vectors)[number]): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const tx of v.block.txs) {
    for (const o of tx.outputs) {
      const s = o.scriptPubKey
      if (s.length === 0 || s[0] === 0x6a || out.some((x) => bytesEqual(x, s))) continue
      out.push(s)
    }
  }
  return out
}

describe.skipIf(!haveBip158)('checkFilterAgainstBlock (BIP158 vectors)', () => {
  it('every vector filter is consistent with its block', () => {
    for (const v of vectors) {
      const c = checkFilterAgainstBlock(v.blockHash, v.filter, v.block)
      expect(c.ok, `height ${v.height}: ${describeFilterCheck(c)}`).toBe(true)
    }
  })

  it('a filter built without one output script is caught, naming that script, for every script of every block', () => {
    let checked = 0
    for (const v of vectors) {
      const items = basicFilterItems(v.block.txs, v.prevScripts)
      for (const leave of outputScripts(v)) {
        // Leave the script out, but keep N within bounds with a stand-in item the block does not pay.
        const kept = items.filter((s) => !bytesEqual(s, leave))
        const standIn = new Uint8Array([0x51, 0x51, checked & 0xff, (checked >>> 8) & 0xff])
        const filter = buildBasicFilter(v.blockHash, [...kept, standIn])
        const c = checkFilterAgainstBlock(v.blockHash, filter, v.block)
        expect(c.ok, `height ${v.height}`).toBe(false)
        if (c.ok) continue
        expect(c.reason).toBe('missing-output-script')
        if (c.reason === 'missing-output-script') expect(toHex(c.script)).toBe(toHex(leave))
        expect(describeFilterCheck(c)).toContain(toHex(leave))
        checked++
      }
    }
    expect(checked).toBeGreaterThan(10)
  })

  it('too many items for the block is an item-count error', () => {
    const v = vectors.find((x) => x.block.txs.length > 1)!
    const items = basicFilterItems(v.block.txs, v.prevScripts)
    let inputs = 0
    v.block.txs.forEach((tx, i) => (inputs += i === 0 ? 0 : tx.inputs.length))
    const extra = Array.from({ length: inputs + 1 }, (_, i) => new Uint8Array([0x52, i & 0xff, i >>> 8]))
    const c = checkFilterAgainstBlock(v.blockHash, buildBasicFilter(v.blockHash, [...items, ...extra]), v.block)
    expect(c.ok).toBe(false)
    if (!c.ok) expect(c.reason).toBe('item-count')
    expect(describeFilterCheck(c)).toMatch(/allows/)
  })

  it('an empty filter for a block with outputs is an item-count error; garbage is undecodable', () => {
    const v = vectors[0]!
    const empty = checkFilterAgainstBlock(v.blockHash, new Uint8Array([0]), v.block)
    expect(empty.ok).toBe(false)
    if (!empty.ok) expect(empty.reason).toBe('item-count')
    const garbage = checkFilterAgainstBlock(v.blockHash, new Uint8Array([5, 1]), v.block)
    expect(garbage.ok).toBe(false)
    if (!garbage.ok) {
      expect(garbage.reason).toBe('undecodable')
      if (garbage.reason === 'undecodable') expect(garbage.error.code).toBe('TRUNCATED')
    }
    expect(describeFilterCheck(garbage)).toMatch(/does not decode/)
  })

  it('the filter of another block (another key) fails its check', () => {
    const a = vectors.find((x) => x.block.txs.length > 2)!
    const b = vectors.find((x) => x !== a && x.block.txs.length > 2)!
    expect(checkFilterAgainstBlock(a.blockHash, b.filter, a.block).ok).toBe(false)
  })
})
