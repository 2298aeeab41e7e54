import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { toHex } from '../../src/bytes/hex.js'
import { MerkleBuilder, merkleRoot, merkleRootMutated } from '../../src/block/merkle.js'

// Reference: Core's ComputeMerkleRoot written level by level with node:crypto.
function reference(leaves: Uint8Array[]): { root: string; mutated: boolean } {
  if (leaves.length === 0) return { root: '00'.repeat(32), mutated: false }
  let level: Buffer[] = leaves.map((h) => Buffer.from(h))
  let mutated = false
  while (level.length > 1) {
    for (let i = 0; i + 1 < level.length; i += 2) if (level[i]!.equals(level[i + 1]!)) mutated = true
    if (level.length % 2 === 1) level.push(level[level.length - 1]!)
    const next: Buffer[] = []
    for (let i = 0; i < level.length; i += 2) {
      const once = createHash('sha256').update(level[i]!).update(level[i + 1]!).digest()
      next.push(createHash('sha256').update(once).digest())
    }
    level = next
  }
  return { root: level[0]!.toString('hex'), mutated }
}

const leaf = (i: number) => {
  const h = new Uint8Array(32)
  h[0] = i & 0xff
  h[1] = i >> 8
  h[31] = 0x5a
  return h
}

describe('merkle root', () => {
  it('no hashes give 32 zero bytes; one hash is its own root', () => {
    expect(toHex(merkleRoot([]))).toBe('00'.repeat(32))
    expect(toHex(merkleRoot([leaf(7)]))).toBe(toHex(leaf(7)))
  })

  it('equals the level-by-level reference for 0..70 leaves', () => {
    for (let n = 0; n <= 70; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leaf(i))
      expect(toHex(merkleRoot(leaves)), `n = ${n}`).toBe(reference(leaves).root)
    }
  })

  it('the builder gives the root of every prefix, and root() does not consume it', () => {
    const b = new MerkleBuilder()
    const leaves: Uint8Array[] = []
    for (let i = 0; i < 40; i++) {
      leaves.push(leaf(i))
      b.add(leaf(i))
      expect(b.count).toBe(i + 1)
      expect(toHex(b.root()), `prefix ${i + 1}`).toBe(reference(leaves).root)
    }
  })

  it('root and mutation flag equal the reference on lists with many duplicates (fast-check)', () => {
    // Leaves from a 3-hash alphabet, so identical neighbours are common at every level.
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 2 }), { maxLength: 40 }), (picks) => {
        const leaves = picks.map(leaf)
        const got = merkleRootMutated(leaves)
        const want = reference(leaves)
        expect(toHex(got.root)).toBe(want.root)
        expect(got.mutated).toBe(want.mutated)
      }),
      { numRuns: 500 },
    )
  })

  it('CVE-2012-2459: [a,b,c] and [a,b,c,c] share a root; only the second is mutated', () => {
    const abc = [leaf(1), leaf(2), leaf(3)]
    const abcc = [...abc, leaf(3)]
    expect(toHex(merkleRoot(abcc))).toBe(toHex(merkleRoot(abc)))
    expect(merkleRootMutated(abc).mutated).toBe(false)
    expect(merkleRootMutated(abcc).mutated).toBe(true)
    // One level up: 6 leaves [a..f] and 8 leaves [a..f, e, f] share a root too.
    const six = Array.from({ length: 6 }, (_, i) => leaf(i))
    const eight = [...six, leaf(4), leaf(5)]
    expect(toHex(merkleRoot(eight))).toBe(toHex(merkleRoot(six)))
    expect(merkleRootMutated(six).mutated).toBe(false)
    expect(merkleRootMutated(eight).mutated).toBe(true)
    const b = new MerkleBuilder()
    for (const h of eight) b.add(h)
    expect(b.mutated).toBe(true)
  })

  it('the builder keeps O(log n) nodes: 100,000 leaves leave at most 17 pending', () => {
    const b = new MerkleBuilder()
    const h = leaf(1)
    for (let i = 0; i < 100_000; i++) {
      h[2] = i & 0xff
      h[3] = (i >> 8) & 0xff
      h[4] = i >> 16
      b.add(h.slice())
    }
    const pending = (b as unknown as { pending: (Uint8Array | null)[] }).pending
    expect(pending.length).toBeLessThanOrEqual(17)
    expect(b.count).toBe(100_000)
  })
})
