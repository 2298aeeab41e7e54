import { describe, expect, it } from 'vitest'
import { toHex } from '@bitp2p/wire'
import { filterHash, filterHeader } from '@bitp2p/wire/filters'
import { chainFilterHashes, FILTER_HEADER_BYTES, FilterHeaderChain, ZERO_FILTER_HEADER } from '../../src/core/filter-header-chain.js'
import { bip158Vectors, haveBip158 } from '../bip158.js'

const vectors = bip158Vectors()

/** A deterministic 32-byte value per index (not a real filter hash; the chain only hashes them). */
function fakeHash(i: number): Uint8Array {
  const h = new Uint8Array(32)
  h[0] = i & 0xff
  h[1] = (i >>> 8) & 0xff
  h[31] = 0x5a
  return h
}

describe('FilterHeaderChain', () => {
  it.skipIf(!haveBip158)('chains the BIP158 genesis filter from the zero header to the vector header', () => {
    const g = vectors[0]!
    expect(g.height).toBe(0)
    const chain = new FilterHeaderChain()
    chain.append(chainFilterHashes(ZERO_FILTER_HEADER, [filterHash(g.filter)]))
    expect(chain.height).toBe(0)
    expect(toHex(chain.at(0)!)).toBe(toHex(g.header))
    expect(chain.verifies(0, g.filter)).toBe(true)
    // One flipped bit of the filter no longer verifies.
    const bad = g.filter.slice()
    bad[bad.length - 1]! ^= 1
    expect(chain.verifies(0, bad)).toBe(false)
  })

  it.skipIf(!haveBip158)('every vector header is its filter hash chained on the previous header', () => {
    for (const v of vectors) {
      expect(toHex(chainFilterHashes(v.prevHeader, [filterHash(v.filter)])), `height ${v.height}`).toBe(toHex(v.header))
    }
  })

  it('chainFilterHashes of n hashes equals n single steps, and append grows past the initial capacity', () => {
    const hashes = Array.from({ length: 3000 }, (_, i) => fakeHash(i))
    const all = chainFilterHashes(ZERO_FILTER_HEADER, hashes)
    expect(all.length).toBe(3000 * FILTER_HEADER_BYTES)
    let prev = ZERO_FILTER_HEADER
    for (let i = 0; i < 3000; i += 499) {
      const step = chainFilterHashes(i === 0 ? ZERO_FILTER_HEADER : all.subarray((i - 1) * 32, i * 32), [hashes[i]!])
      expect(toHex(step)).toBe(toHex(all.subarray(i * 32, (i + 1) * 32)))
    }
    const chain = new FilterHeaderChain()
    chain.append(all.subarray(0, 1000 * 32))
    chain.append(all.subarray(1000 * 32))
    expect(chain.height).toBe(2999)
    expect(chain.byteLength).toBeGreaterThanOrEqual(3000 * 32)
    expect(toHex(chain.at(2999)!)).toBe(toHex(all.subarray(2999 * 32)))
    prev = chain.at(1233)!
    expect(toHex(filterHeader(hashes[1234]!, prev))).toBe(toHex(chain.at(1234)!))
  })

  it('at: ZERO for -1, undefined outside the chain or for a non-integer', () => {
    const chain = new FilterHeaderChain(chainFilterHashes(ZERO_FILTER_HEADER, [fakeHash(1), fakeHash(2)]))
    expect(chain.at(-1)).toBe(ZERO_FILTER_HEADER)
    expect(chain.at(2)).toBeUndefined()
    expect(chain.at(-2)).toBeUndefined()
    expect(chain.at(0.5)).toBeUndefined()
    expect(chain.equalsAt(1, chain.at(1)!.slice())).toBe(true)
    expect(chain.equalsAt(1, chain.at(0)!.slice())).toBe(false)
    expect(chain.equalsAt(5, chain.at(0)!.slice())).toBe(false)
  })

  it('truncate drops the tail (a reorg), and a higher height changes nothing', () => {
    const all = chainFilterHashes(ZERO_FILTER_HEADER, [1, 2, 3, 4, 5].map(fakeHash))
    const chain = new FilterHeaderChain(all)
    chain.truncate(10)
    expect(chain.height).toBe(4)
    chain.truncate(2)
    expect(chain.height).toBe(2)
    expect(chain.at(3)).toBeUndefined()
    expect(toHex(chain.slice(0))).toBe(toHex(all.subarray(0, 3 * 32)))
    chain.truncate(-1)
    expect(chain.height).toBe(-1)
    expect(() => chain.truncate(-2)).toThrow(RangeError)
  })

  it('slice copies a range; out-of-range slices and partial headers are RangeErrors', () => {
    const all = chainFilterHashes(ZERO_FILTER_HEADER, [1, 2, 3].map(fakeHash))
    const chain = new FilterHeaderChain(all)
    const s = chain.slice(1, 2)
    expect(toHex(s)).toBe(toHex(all.subarray(32, 96)))
    s[0]! ^= 0xff
    expect(toHex(chain.at(1)!)).toBe(toHex(all.subarray(32, 64)))
    expect(chain.slice(3).length).toBe(0)
    expect(() => chain.slice(0, 3)).toThrow(RangeError)
    expect(() => chain.append(new Uint8Array(31))).toThrow(RangeError)
    expect(() => new FilterHeaderChain(new Uint8Array(33))).toThrow(RangeError)
  })
})
