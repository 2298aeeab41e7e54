import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { blockHash, hashToHex, regtest, serializeBlockHeader } from '@bitp2p/wire'
import { BSV_UAHF_HEIGHT, bitsToTarget, hashToBigInt, workFromBits } from '@bitp2p/wire/consensus'
import { sha256d } from '@bitp2p/wire/hash'
import type { BlockHeader, NetworkParams } from '@bitp2p/wire'
import { type AcceptResult, type HeaderEntry, HeaderTree } from '../../../src/core/chain/tree.js'
import { locatorHeights } from '../../../src/core/chain/locator.js'
import {
  type AncestorView,
  MAX_FUTURE_BLOCK_TIME,
  contextualCheck,
  medianTimePastOf,
  minimumVersion,
  nextWorkRequired,
} from '../../../src/core/chain/validation.js'
import { fastnet, mine, mineChain, mineInvalid } from './helpers.js'

const G = regtest.genesis
const BITS = regtest.powLimitBits
const hex = (e: { hash: Uint8Array }) => hashToHex(e.hash)
const hexes = (es: readonly { hash: Uint8Array }[]) => es.map(hex)
const hashes = (hs: readonly BlockHeader[]) => hs.map((h) => hashToHex(blockHash(h)))
const kinds = (rs: readonly AcceptResult[]) => rs.map((r) => r.kind)
/** A merkle root that numbers a header. */
const root32 = (i: number) => {
  const r = new Uint8Array(32)
  new DataView(r.buffer).setUint32(0, i, true)
  return r
}

function acceptAll(tree: HeaderTree, hs: readonly BlockHeader[]): AcceptResult[] {
  return hs.map((h) => tree.accept(h))
}

describe('HeaderTree from genesis', () => {
  it('starts with genesis as the tip', () => {
    const tree = new HeaderTree(regtest)
    expect(tree.height).toBe(0)
    expect(hex(tree.tip)).toBe(hashToHex(blockHash(G)))
    expect(tree.tip.chainWork).toBe(workFromBits(G.bits))
    expect(tree.tip.parent).toBeUndefined()
    expect(tree.locator().map(hashToHex)).toEqual([hashToHex(blockHash(G))])
  })

  it('connects a chain, indexes it by hash and height, and sums the work', () => {
    const tree = new HeaderTree(regtest)
    const chain = mineChain(G, 0, 5, { bits: BITS })
    const rs = acceptAll(tree, chain)
    expect(kinds(rs)).toEqual(['connected', 'connected', 'connected', 'connected', 'connected'])
    expect(tree.height).toBe(5)
    for (let h = 1; h <= 5; h++) {
      const e = tree.getByHeight(h)!
      expect(hex(e)).toBe(hashToHex(blockHash(chain[h - 1]!)))
      expect(e.height).toBe(h)
      expect(e.chainWork).toBe(workFromBits(BITS) * BigInt(h + 1))
      expect(e.header).toEqual(chain[h - 1])
      expect(e.raw).toEqual(serializeBlockHeader(chain[h - 1]!))
      expect(hex(e.parent!)).toBe(hex(tree.getByHeight(h - 1)!))
      expect(hex(tree.getByHash(e.hash)!)).toBe(hex(e))
    }
    expect(tree.getByHeight(6)).toBeUndefined()
    expect(tree.getByHeight(-1)).toBeUndefined()
  })

  it('reports duplicates and orphans without changing anything', () => {
    const tree = new HeaderTree(regtest)
    const chain = mineChain(G, 0, 2, { bits: BITS })
    acceptAll(tree, chain)
    const dup = tree.accept(chain[0]!)
    expect(dup.kind).toBe('duplicate')
    if (dup.kind === 'duplicate') expect(dup.entry.height).toBe(1)
    const orphan = mine(new Uint8Array(32).fill(9), { time: G.time + 100, bits: BITS })
    expect(tree.accept(orphan)).toEqual({ kind: 'rejected', error: { kind: 'orphan', prevBlock: '09'.repeat(32) } })
    expect(tree.size).toBe(3)
    expect(tree.height).toBe(2)
  })
})

describe('forks and reorgs (regtest)', () => {
  it('keeps the first-seen branch on equal work, reorgs when the fork gets more', () => {
    const tree = new HeaderTree(regtest)
    const a = mineChain(G, 0, 3, { bits: BITS, tag: 0xa })
    acceptAll(tree, a)
    // Branch b forks off a1 (height 1).
    const b = mineChain(a[0]!, 1, 3, { bits: BITS, tag: 0xb })
    const r1 = tree.accept(b[0]!)
    const r2 = tree.accept(b[1]!)
    expect(kinds([r1, r2])).toEqual(['fork-added', 'fork-added'])
    // b2 (height 3) has exactly the work of a3: the tip stays a3.
    expect(hex(tree.tip)).toBe(hashes(a)[2])
    const r3 = tree.accept(b[2]!)
    expect(r3.kind).toBe('reorg')
    if (r3.kind !== 'reorg') return
    expect(hex(r3.fork)).toBe(hashes(a)[0])
    expect(r3.fork.height).toBe(1)
    expect(hexes(r3.disconnected)).toEqual(hashes(a).slice(1))
    expect(hexes(r3.connected)).toEqual(hashes(b))
    expect(hex(r3.entry)).toBe(hashes(b)[2])
    expect(tree.height).toBe(4)
    expect(hexes([1, 2, 3, 4].map((h) => tree.getByHeight(h)!))).toEqual([hashes(a)[0], ...hashes(b)])
    // The old branch is still known, no longer active.
    const a3 = tree.getByHash(blockHash(a[2]!))!
    expect(tree.isActive(a3)).toBe(false)
    expect(tree.isActive(tree.tip)).toBe(true)
  })

  it('reorgs back when the first branch overtakes again', () => {
    const tree = new HeaderTree(regtest)
    const a = mineChain(G, 0, 2, { bits: BITS, tag: 1 })
    const b = mineChain(G, 0, 3, { bits: BITS, tag: 2 })
    acceptAll(tree, a)
    const rb = acceptAll(tree, b)
    expect(kinds(rb)).toEqual(['fork-added', 'fork-added', 'reorg'])
    const more = mineChain(a[1]!, 2, 2, { bits: BITS, tag: 3 })
    const ra = acceptAll(tree, more)
    expect(kinds(ra)).toEqual(['fork-added', 'reorg'])
    const r = ra[1]!
    if (r.kind !== 'reorg') return
    expect(r.fork.height).toBe(0)
    expect(hexes(r.disconnected)).toEqual(hashes(b))
    expect(hexes(r.connected)).toEqual([...hashes(a), ...hashes(more)])
  })

  it('rejects a fork deeper than maxReorgDepth and accepts one at the limit', () => {
    const tree = new HeaderTree(regtest, { maxReorgDepth: 3 })
    const a = mineChain(G, 0, 6, { bits: BITS, tag: 1 })
    acceptAll(tree, a)
    // Off a2: the fork would disconnect 4 blocks (3..6).
    const deep = mine(blockHash(a[1]!), { time: a[1]!.time + 1, bits: BITS, tag: 2 })
    expect(tree.accept(deep)).toEqual({ kind: 'rejected', error: { kind: 'reorg-too-deep', forkHeight: 2, tipHeight: 6, maxDepth: 3 } })
    // Off a3: 3 blocks, allowed; and it can become a reorg of depth 3.
    const ok = mineChain(a[2]!, 3, 4, { bits: BITS, tag: 3 })
    const rs = acceptAll(tree, ok)
    expect(kinds(rs)).toEqual(['fork-added', 'fork-added', 'fork-added', 'reorg'])
    const r = rs[3]!
    if (r.kind === 'reorg') expect(r.disconnected.length).toBe(3)
  })
})

describe('most work, not most blocks (fastnet: real retargets every 4 blocks)', () => {
  it('a shorter branch of harder blocks wins over a longer easy one', () => {
    const p = fastnet()
    const tree = new HeaderTree(p)
    const g = p.genesis
    // Branch "slow": blocks 10 s apart; the retarget clamps at 4x and caps at
    // powLimit, so every block has minimum work. 9 blocks.
    const slow = mineChain(g, 0, 9, { spacing: 10, bits: p.powLimitBits, tag: 1 })
    expect(kinds(acceptAll(tree, slow)).every((k) => k === 'connected')).toBe(true)
    expect(tree.height).toBe(9)
    // Branch "fast": blocks 1 s apart (3 s per period of 4 s): each retarget
    // multiplies the target by 3/4, so blocks 4..7 and 8 are harder.
    const fastBits: number[] = []
    const fast: BlockHeader[] = []
    let prev = g
    for (let h = 1; h <= 8; h++) {
      // Ask the tree's own rule via a dry run: the fork's required bits are
      // what the tree will demand; mine with them.
      const time = prev.time + 1
      const bits = h % 4 === 0 && h > 0 ? retargetFrom(p, fast, g, h) : (fast[h - 2]?.bits ?? p.powLimitBits)
      const hdr = mine(blockHash(prev), { time, bits, tag: 2 })
      fast.push(hdr)
      fastBits.push(bits)
      prev = hdr
    }
    // The retarget really made blocks harder.
    expect(fastBits[3]).not.toBe(p.powLimitBits)
    expect(workFromBits(fastBits[7]!)).toBeGreaterThan(workFromBits(fastBits[3]!))
    const rs = acceptAll(tree, fast)
    const slowWork = workFromBits(p.powLimitBits) * 10n
    const fastWork = fastBits.reduce((w, b) => w + workFromBits(b), workFromBits(p.powLimitBits))
    expect(fastWork).toBeGreaterThan(slowWork)
    // Before its 8th block, the fast branch had less work than slow's 9 blocks.
    expect(fastWork - workFromBits(fastBits[7]!)).toBeLessThan(slowWork)
    expect(kinds(rs)).toEqual(['fork-added', 'fork-added', 'fork-added', 'fork-added', 'fork-added', 'fork-added', 'fork-added', 'reorg'])
    expect(tree.height).toBe(8)
    expect(tree.tip.chainWork).toBe(fastWork)
    const r = rs[7]!
    if (r.kind !== 'reorg') return
    expect(r.fork.height).toBe(0)
    expect(hexes(r.disconnected)).toEqual(hashes(slow))
    expect(hexes(r.connected)).toEqual(hashes(fast))
  })

  it('rejects a fast-branch block that keeps the old bits at a retarget height', () => {
    const p = fastnet()
    const tree = new HeaderTree(p)
    const chain = mineChain(p.genesis, 0, 3, { spacing: 1, bits: p.powLimitBits })
    acceptAll(tree, chain)
    const stale = mine(blockHash(chain[2]!), { time: chain[2]!.time + 1, bits: p.powLimitBits })
    const r = tree.accept(stale)
    expect(r.kind).toBe('rejected')
    if (r.kind === 'rejected') expect(r.error).toMatchObject({ kind: 'bad-diffbits', actual: p.powLimitBits })
  })
})

/** The retarget a fast branch needs at height h (period of 4, first block h-4). */
function retargetFrom(p: NetworkParams, fast: readonly BlockHeader[], g: BlockHeader, h: number): number {
  const at = (height: number) => (height === 0 ? g : fast[height - 1]!)
  const last = at(h - 1)
  const first = at(h - 4)
  // Core's arithmetic, written out independently of validation.ts.
  const span = Math.min(Math.max(last.time - first.time, p.targetTimespan / 4), p.targetTimespan * 4)
  const t = decode(last.bits) * BigInt(span) / BigInt(p.targetTimespan)
  return encode(t > p.powLimit ? p.powLimit : t)
}

function decode(bits: number): bigint {
  const e = bits >>> 24
  const m = BigInt(bits & 0x7fffff)
  return e <= 3 ? m >> BigInt(8 * (3 - e)) : m << BigInt(8 * (e - 3))
}

function encode(t: bigint): number {
  let size = t.toString(16).length
  size = Math.ceil(size / 2)
  let m = size <= 3 ? Number(t << BigInt(8 * (3 - size))) : Number(t >> BigInt(8 * (size - 3)))
  if (m & 0x800000) {
    m >>= 8
    size++
  }
  return (size << 24) | m
}

describe('time rules inside the tree', () => {
  it('rejects a header not after the median time past, and one too far in the future of `now`', () => {
    const tree = new HeaderTree(regtest)
    const chain = mineChain(G, 0, 11, { bits: BITS })
    acceptAll(tree, chain)
    const mtp = tree.medianTimePast(tree.tip)
    // Times are genesis + 600*h, h = 0..11: the median of heights 1..11 is height 6.
    expect(mtp).toBe(G.time + 600 * 6)
    const old = mine(blockHash(chain[10]!), { time: mtp, bits: BITS })
    expect(tree.accept(old)).toEqual({ kind: 'rejected', error: { kind: 'time-too-old', mtp, time: mtp } })
    const now = chain[10]!.time
    const future = mine(blockHash(chain[10]!), { time: now + 7201, bits: BITS })
    expect(tree.accept(future, now)).toEqual({ kind: 'rejected', error: { kind: 'time-too-new', limit: now + 7200, time: now + 7201 } })
    // The same header is fine an hour later.
    expect(tree.accept(future, now + 3600).kind).toBe('connected')
  })

  it('rejects old versions after the activation heights', () => {
    const p: NetworkParams = { ...regtest, bip34Height: 2, bip66Height: 3, bip65Height: 4 }
    const tree = new HeaderTree(p)
    const v1 = mineChain(G, 0, 1, { bits: BITS, version: 1 })
    expect(tree.accept(v1[0]!).kind).toBe('connected')
    const v1again = mine(blockHash(v1[0]!), { time: v1[0]!.time + 600, bits: BITS, version: 1 })
    expect(tree.accept(v1again)).toEqual({ kind: 'rejected', error: { kind: 'bad-version', min: 2, actual: 1 } })
  })
})

describe('checkpoints inside the tree', () => {
  it('rejects a different block at a checkpoint height, then any fork below it', () => {
    const a = mineChain(G, 0, 3, { bits: BITS, tag: 1 })
    const p: NetworkParams = { ...regtest, checkpoints: [{ height: 2, hash: blockHash(a[1]!) }] }
    const tree = new HeaderTree(p)
    expect(tree.accept(a[0]!).kind).toBe('connected')
    const other = mine(blockHash(a[0]!), { time: a[0]!.time + 1, bits: BITS, tag: 2 })
    expect(tree.accept(other)).toEqual({
      kind: 'rejected',
      error: { kind: 'checkpoint-mismatch', height: 2, expected: hashToHex(blockHash(a[1]!)), actual: hashToHex(blockHash(other)) },
    })
    expect(tree.accept(a[1]!).kind).toBe('connected')
    expect(tree.accept(a[2]!).kind).toBe('connected')
    // Now the checkpoint is held: a fork at height 1 is below it.
    const fork = mine(blockHash(G), { time: G.time + 1, bits: BITS, tag: 3 })
    expect(tree.accept(fork)).toEqual({ kind: 'rejected', error: { kind: 'fork-below-checkpoint', height: 1, checkpointHeight: 2 } })
    // A fork above the checkpoint is fine.
    const above = mine(blockHash(a[1]!), { time: a[1]!.time + 1, bits: BITS, tag: 4 })
    expect(tree.accept(above).kind).toBe('fork-added')
  })

  it('a tip extension below a checkpoint held on a longer, lighter side branch is rejected on the fast path too', () => {
    // Core's GetLastCheckpoint looks at every branch. Active: 8 harder blocks
    // (fastnet retargets); side: 10 easy blocks with no more work, the 10th a
    // checkpoint. Extending the active tip at height 9 is then a fork below
    // it: the fast path (a tip child, off retarget and checkpoint heights)
    // must not accept it, and the error is contextualCheck's.
    const p0 = fastnet()
    const g = p0.genesis
    const slow = mineChain(g, 0, 10, { spacing: 10, bits: p0.powLimitBits, tag: 1 })
    const p: NetworkParams = { ...p0, checkpoints: [{ height: 10, hash: blockHash(slow[9]!) }] }
    const fast: BlockHeader[] = []
    for (let h = 1; h <= 8; h++) {
      const prev = h === 1 ? g : fast[h - 2]!
      const bits = h % 4 === 0 ? retargetFrom(p, fast, g, h) : prev.bits
      fast.push(mine(blockHash(prev), { time: prev.time + 1, bits, tag: 2 }))
    }
    const tree = new HeaderTree(p)
    expect(kinds(acceptAll(tree, fast)).every((k) => k === 'connected')).toBe(true)
    expect(kinds(acceptAll(tree, slow)).every((k) => k === 'fork-added')).toBe(true)
    expect(tree.height).toBe(8)
    // (Equal work here: the branch seen first stays active.)
    expect(tree.tip.chainWork).toBeGreaterThanOrEqual(tree.getByHash(blockHash(slow[9]!))!.chainWork)

    const next = mine(blockHash(fast[7]!), { time: fast[7]!.time + 1, bits: fast[7]!.bits, tag: 3 })
    const chain = [g, ...fast]
    const view: AncestorView = { timeAt: (h) => chain[h]?.time, bitsAt: (h) => chain[h]?.bits, lastCheckpointHeight: 10 }
    const expected = contextualCheck(next, { height: 8, time: fast[7]!.time, bits: fast[7]!.bits }, view, p)
    expect(expected).toEqual({ ok: false, error: { kind: 'fork-below-checkpoint', height: 9, checkpointHeight: 10 } })
    expect(tree.accept(next)).toEqual({ kind: 'rejected', error: expected.ok ? undefined : expected.error })
    expect(tree.acceptMany([next]).rejected).toEqual({ index: 0, error: { kind: 'fork-below-checkpoint', height: 9, checkpointHeight: 10 } })
    expect(tree.height).toBe(8)
    // Without the checkpoint the same header extends the tip.
    const free = new HeaderTree(p0)
    acceptAll(free, fast)
    acceptAll(free, slow)
    expect(free.accept(next).kind).toBe('connected')
  })
})

describe('acceptMany', () => {
  it('stops at the first invalid header and reports how many were taken', () => {
    const tree = new HeaderTree(regtest)
    const chain = mineChain(G, 0, 5, { bits: BITS })
    const bad = mine(blockHash(chain[4]!), { time: chain[4]!.time + 600, bits: 0x2007ffff })
    const after = mine(blockHash(bad), { time: bad.time + 600, bits: BITS })
    const r = tree.acceptMany([...chain, bad, after])
    expect(r.accepted).toBe(5)
    expect(r.added).toBe(5)
    expect(r.rejected).toEqual({ index: 5, error: { kind: 'bad-diffbits', expected: BITS, actual: 0x2007ffff } })
    expect(r.results.length).toBe(6)
    expect(tree.height).toBe(5)
  })

  it('counts duplicates as accepted but not added', () => {
    const tree = new HeaderTree(regtest)
    const chain = mineChain(G, 0, 4, { bits: BITS })
    tree.acceptMany(chain.slice(0, 2))
    const r = tree.acceptMany(chain)
    expect(r).toMatchObject({ accepted: 4, added: 2 })
    expect(kinds(r.results)).toEqual(['duplicate', 'duplicate', 'connected', 'connected'])
  })

  it('rejects a message whose headers do not follow one another', () => {
    const tree = new HeaderTree(regtest)
    const chain = mineChain(G, 0, 3, { bits: BITS })
    const r = tree.acceptMany([chain[0]!, chain[2]!])
    expect(r.rejected).toEqual({ index: 1, error: { kind: 'non-continuous', index: 1 } })
    expect(r.accepted).toBe(1)
  })

  it('judges the link before the fields: a header that does not link is non-continuous even when it cannot be serialized', () => {
    // Inside a message the link to the previous header is judged first: a
    // header that does not link is non-continuous, whatever else is wrong.
    const tree = new HeaderTree(regtest)
    const chain = mineChain(G, 0, 3, { bits: BITS })
    const unlinked = [
      { ...chain[1]!, prevBlock: new Uint8Array(32), time: -1 },
      { ...chain[1]!, prevBlock: new Uint8Array(32), nonce: 2 ** 32 },
      { ...chain[1]!, prevBlock: blockHash(chain[0]!).subarray(0, 31) },
    ]
    for (const bad of unlinked) {
      const r = tree.acceptMany([chain[0]!, bad])
      expect(r.rejected).toEqual({ index: 1, error: { kind: 'non-continuous', index: 1 } })
      expect(tree.height).toBe(1)
    }
    // Linked but out of range: the serializer's error, as before, and nothing changes.
    expect(() => tree.acceptMany([chain[0]!, { ...chain[1]!, time: 2 ** 32 }])).toThrow(/time out of range/)
    expect(tree.height).toBe(1)
    expect(kinds(tree.acceptMany(chain).results)).toEqual(['duplicate', 'connected', 'connected'])
    expect(hex(tree.tip)).toBe(hashToHex(blockHash(chain[2]!)))
  })

  it('compares every byte of prevBlock with the previous header, and stores headers whose hashes sit at any offset', () => {
    // Inside a message each header is copied into the table a word at a
    // time and its prevBlock compared with the previous header's hash as it
    // goes: a difference in any one byte breaks the link.
    const tree = new HeaderTree(regtest)
    const chain = mineChain(G, 0, 3, { bits: BITS })
    for (let k = 0; k < 32; k++) {
      const prevBlock = blockHash(chain[0]!)
      prevBlock[k]! ^= 0x01
      const r = tree.acceptMany([chain[0]!, { ...chain[1]!, prevBlock }])
      expect(r.rejected).toEqual({ index: 1, error: { kind: 'non-continuous', index: 1 } })
    }
    expect(tree.height).toBe(1)
    // The hashes as views at odd offsets of larger arrays (as a decoder that
    // does not copy would hand them over): the same headers, stored byte for byte.
    const shifted = chain.map((h) => {
      const buf = new Uint8Array(67)
      buf.set(h.prevBlock, 1)
      buf.set(h.merkleRoot, 34)
      return { ...h, prevBlock: buf.subarray(1, 33), merkleRoot: buf.subarray(34, 66) }
    })
    const r = tree.acceptMany(shifted)
    expect(kinds(r.results)).toEqual(['duplicate', 'connected', 'connected'])
    for (let h = 1; h <= 3; h++) {
      const e = tree.getByHeight(h)!
      expect(e.raw).toEqual(serializeBlockHeader(chain[h - 1]!))
      expect(hex(e)).toBe(hashToHex(blockHash(chain[h - 1]!)))
    }
  })

  it('links headers across the storage chunks inside one message, and finds a break there', () => {
    // Slot 4,095 is the last of the first storage chunk (which doubled from
    // 1,024 slots on the way), slot 4,096 the first of the second: the header
    // stored there links to a hash kept in the other chunk.
    const chain = mineChain(G, 0, 4_100, { bits: BITS })
    const tree = new HeaderTree(regtest)
    for (let i = 0; i < 4_090; i += 2_000) {
      const r = tree.acceptMany(chain.slice(i, Math.min(i + 2_000, 4_090)))
      expect(r.rejected).toBeUndefined()
    }
    expect(tree.height).toBe(4_090)
    const broken = tree.acceptMany([...chain.slice(4_090, 4_095), chain[4_096]!])
    expect(broken.rejected).toEqual({ index: 5, error: { kind: 'non-continuous', index: 5 } })
    expect(tree.height).toBe(4_095)
    const r = tree.acceptMany(chain.slice(4_090))
    expect(r).toMatchObject({ accepted: 10, added: 5 })
    expect(tree.height).toBe(4_100)
    for (const h of [1_024, 1_025, 2_048, 4_095, 4_096, 4_097, 4_100]) {
      expect(hex(tree.getByHeight(h)!)).toBe(hashToHex(blockHash(chain[h - 1]!)))
      expect(tree.getByHash(blockHash(chain[h - 1]!))!.height).toBe(h)
    }
  })
})

describe('ancestor, medianTimePast and locator', () => {
  it('finds ancestors on a side branch through its own parents', () => {
    const tree = new HeaderTree(regtest)
    const a = mineChain(G, 0, 5, { bits: BITS, tag: 1 })
    acceptAll(tree, a)
    const b = mineChain(a[1]!, 2, 2, { bits: BITS, tag: 2 }) // heights 3, 4 off a2
    acceptAll(tree, b)
    const b4 = tree.getByHash(blockHash(b[1]!))!
    expect(hex(tree.ancestor(b4, 4)!)).toBe(hashes(b)[1])
    expect(hex(tree.ancestor(b4, 3)!)).toBe(hashes(b)[0])
    expect(hex(tree.ancestor(b4, 2)!)).toBe(hashes(a)[1])
    expect(hex(tree.ancestor(b4, 0)!)).toBe(hashToHex(blockHash(G)))
    expect(tree.ancestor(b4, 5)).toBeUndefined()
    // MTP at b4: times of G, a1, a2, b3, b4 -> median is the 3rd smallest.
    const times = [G.time, a[0]!.time, a[1]!.time, b[0]!.time, b[1]!.time].sort((x, y) => x - y)
    expect(tree.medianTimePast(b4)).toBe(times[2])
  })

  it('locator heights follow Core: 12 one by one, then doubling steps, genesis last', () => {
    // Worked by hand from Core's LocatorEntries loop for a tip at 100.
    expect(locatorHeights(100)).toEqual([100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 87, 83, 75, 59, 27, 0])
    expect(locatorHeights(0)).toEqual([0])
    expect(locatorHeights(5)).toEqual([5, 4, 3, 2, 1, 0])
    expect(locatorHeights(30, 20)).toEqual([30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20])
    // A million blocks stay far below MAX_LOCATOR_SZ (101).
    const big = locatorHeights(1_000_000)
    expect(big.length).toBeLessThan(40)
    expect(big[big.length - 1]).toBe(0)
    for (let i = 1; i < big.length; i++) expect(big[i]!).toBeLessThan(big[i - 1]!)
  })

  it('the tree locator lists the active chain hashes at those heights', () => {
    const tree = new HeaderTree(regtest)
    acceptAll(tree, mineChain(G, 0, 40, { bits: BITS, spacing: 1 }))
    const loc = tree.locator()
    expect(loc.map(hashToHex)).toEqual(locatorHeights(40).map((h) => hex(tree.getByHeight(h)!)))
  })
})

describe('trusted base', () => {
  // Regtest rules with a 10-block period, so a base can sit on a period
  // boundary, as a trusted base should (see TrustedBase).
  const p10: NetworkParams = { ...regtest, retargetInterval: 10 }

  function chainTree(n: number, params: NetworkParams = regtest): { tree: HeaderTree; chain: BlockHeader[] } {
    const tree = new HeaderTree(params)
    const chain = mineChain(G, 0, n, { bits: BITS })
    acceptAll(tree, chain)
    return { tree, chain }
  }

  function baseFrom(tree: HeaderTree, from: number) {
    const entries: HeaderEntry[] = []
    for (let h = from; h <= tree.height; h++) entries.push(tree.getByHeight(h)!)
    const raw = new Uint8Array(entries.length * 80)
    entries.forEach((e, i) => raw.set(e.raw, i * 80))
    return { height: from, headers: raw, chainWork: entries[0]!.chainWork, tipHash: entries.at(-1)!.hash }
  }

  it('starts from trusted headers and validates what follows as the full tree does', () => {
    const { tree, chain } = chainTree(30, p10)
    const t2 = new HeaderTree(p10, { base: baseFrom(tree, 10) })
    expect(t2.height).toBe(30)
    expect(t2.baseHeight).toBe(10)
    expect(t2.size).toBe(21)
    expect(t2.tip.chainWork).toBe(tree.tip.chainWork)
    // Within 20 minutes of its parent: the min-difficulty walk-back runs down
    // to the period boundary at 30 (and never below the base).
    const next = mine(blockHash(chain[29]!), { time: chain[29]!.time + 60, bits: BITS })
    expect(t2.accept(next).kind).toBe('connected')
    expect(t2.tip.chainWork).toBe(tree.tip.chainWork + workFromBits(BITS))
    // Below the base nothing is known.
    expect(t2.accept(chain[5]!).kind).toBe('rejected')
    expect(t2.getByHeight(9)).toBeUndefined()
    expect(t2.locator().map(hashToHex).at(-1)).toBe(hex(tree.getByHeight(10)!))
  })

  it('a base inside a period cannot answer the walk-back: missing-ancestor, not a guess', () => {
    const { tree, chain } = chainTree(14, p10)
    const t2 = new HeaderTree(p10, { base: baseFrom(tree, 12) })
    const next = mine(blockHash(chain[13]!), { time: chain[13]!.time + 60, bits: BITS })
    expect(t2.accept(next)).toEqual({ kind: 'rejected', error: { kind: 'missing-ancestor', height: 11 } })
    // A block more than 20 minutes later needs no walk and connects.
    const late = mine(blockHash(chain[13]!), { time: chain[13]!.time + 1201, bits: BITS })
    expect(t2.accept(late).kind).toBe('connected')
  })

  it('refuses headers that do not link, and a last hash that is not the expected one', () => {
    const { tree } = chainTree(3)
    const raw = new Uint8Array(160)
    raw.set(tree.getByHeight(1)!.raw, 0)
    raw.set(tree.getByHeight(3)!.raw, 80)
    expect(() => new HeaderTree(regtest, { base: { height: 1, headers: raw, chainWork: 1n } })).toThrow(/does not link/)
    expect(
      () => new HeaderTree(regtest, { base: { height: 1, headers: tree.getByHeight(1)!.raw, chainWork: 1n, tipHash: new Uint8Array(32) } }),
    ).toThrow(/not the expected/)
  })
})

describe('min-difficulty rules through the tree (property)', () => {
  // fastnet (4-block periods, real retargets) with testnet's min-difficulty
  // rule: a block more than 2 s after its parent may use powLimitBits. The
  // tree answers the walk-back from a per-header cache; this checks that it
  // demands exactly what nextWorkRequired computes by walking a plain view.
  it('the tree requires the bits a plain walk-back computes, for random gaps and choices', () => {
    const p = fastnet({ allowMinDifficultyBlocks: true })
    fc.assert(
      fc.property(fc.array(fc.record({ gap: fc.constantFrom(1, 1, 1, 2, 3), useMin: fc.boolean() }), { minLength: 1, maxLength: 16 }), (steps) => {
        const tree = new HeaderTree(p)
        const headers: BlockHeader[] = [p.genesis]
        const view: AncestorView = {
          timeAt: (h) => headers[h]?.time,
          bitsAt: (h) => headers[h]?.bits,
        }
        for (const { gap, useMin } of steps) {
          const height = headers.length
          const parentHeader = headers[height - 1]!
          const parent = { height: height - 1, time: parentHeader.time, bits: parentHeader.bits }
          const time = parentHeader.time + gap
          const required = nextWorkRequired(parent, time, view, p)
          if (typeof required !== 'number') throw new Error('plain view has every block')
          const minAllowed = height % 4 !== 0 && gap > 2
          const bits = minAllowed && useMin ? p.powLimitBits : required
          if (minAllowed) expect(required).toBe(p.powLimitBits)
          // A header with the other choice of bits is rejected when they differ.
          const wrong = bits === p.powLimitBits ? 0x2006ffff : p.powLimitBits
          const bad = mine(blockHash(parentHeader), { time, bits: wrong, tag: 9 })
          expect(tree.accept(bad).kind).toBe('rejected')
          const h = mine(blockHash(parentHeader), { time, bits })
          expect(tree.accept(h).kind).toBe('connected')
          headers.push(h)
        }
        expect(tree.height).toBe(steps.length)
      }),
      { seed: 0x5eed, numRuns: 60 },
    )
  })

  it('after a min-difficulty block, a quick block must return to the real difficulty (walk-back)', () => {
    const p = fastnet({ allowMinDifficultyBlocks: true })
    const tree = new HeaderTree(p)
    // Heights 1..3 one second apart: the retarget at 4 makes blocks harder.
    const period = mineChain(p.genesis, 0, 3, { spacing: 1, bits: p.powLimitBits })
    acceptAll(tree, period)
    const real = retargetFrom(p, period, p.genesis, 4)
    expect(real).not.toBe(p.powLimitBits)
    const b4 = mine(blockHash(period[2]!), { time: period[2]!.time + 1, bits: real })
    const b5 = mine(blockHash(b4), { time: b4.time + 3, bits: p.powLimitBits }) // > 2 s: min difficulty allowed
    expect(kinds(acceptAll(tree, [b4, b5]))).toEqual(['connected', 'connected'])
    // One second later: the walk skips b5 and lands on b4's real bits.
    const lazy = mine(blockHash(b5), { time: b5.time + 1, bits: p.powLimitBits })
    expect(tree.accept(lazy)).toEqual({ kind: 'rejected', error: { kind: 'bad-diffbits', expected: real, actual: p.powLimitBits } })
    const b6 = mine(blockHash(b5), { time: b5.time + 1, bits: real })
    expect(tree.accept(b6).kind).toBe('connected')
  })
})

describe('fast path (headers extending the tip) agrees with contextualCheck (property)', () => {
  // Each step builds one header on the tip, valid or broken in one way, and
  // asks contextualCheck over a plain array view (no caches, a real walk-back)
  // for the verdict. The tree, which decides tip extensions with cached
  // targets, work and median times, must give exactly that verdict and error.
  type Kind = 'ok' | 'back-time' | 'old-time' | 'future' | 'wrong-bits' | 'bad-target' | 'bad-pow' | 'old-version' | 'min-difficulty'
  type Step = { kind: Kind; gap: number; pick: number }
  const step: fc.Arbitrary<Step> = fc.record({
    kind: fc.constantFrom<Kind>('ok', 'ok', 'ok', 'back-time', 'back-time', 'old-time', 'future', 'wrong-bits', 'bad-target', 'bad-pow', 'old-version', 'min-difficulty'),
    gap: fc.constantFrom(1, 1, 2, 3, 7),
    pick: fc.nat(3),
  })
  /** Compact values no header may carry on fastnet: above powLimit, negative, zero, overflowing. */
  const BAD_TARGETS = [0x2008ffff, 0x20800001, 0x00000000, 0xff7fffff]

  it('every header on the tip gets contextualCheck’s verdict; the valid ones replay through acceptMany', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(step, { minLength: 1, maxLength: 24 }), (minDifficulty, steps) => {
        const p = fastnet({ allowMinDifficultyBlocks: minDifficulty, bip34Height: 3, bip66Height: 6, bip65Height: 9 })
        const tree = new HeaderTree(p)
        const chain: BlockHeader[] = [p.genesis]
        const view: AncestorView = { timeAt: (h) => chain[h]?.time, bitsAt: (h) => chain[h]?.bits }
        let rejected = 0
        for (const s of steps) {
          const height = chain.length
          const parent = chain[height - 1]!
          const parentPoint = { height: height - 1, time: parent.time, bits: parent.bits }
          const now = parent.time + 100
          let time = parent.time + s.gap
          const required = nextWorkRequired(parentPoint, time, view, p)
          if (typeof required !== 'number') throw new Error('the plain view holds every block')
          let bits = required
          let version = minimumVersion(height, p)
          // Valid but earlier than the parent: the median-time windows become unsorted.
          if (s.kind === 'back-time') time = medianTimePastOf(height - 1, view)! + 1 + s.pick
          if (s.kind === 'old-time') time = medianTimePastOf(height - 1, view)! - s.pick
          if (s.kind === 'future') time = now + MAX_FUTURE_BLOCK_TIME + 1 + s.pick
          if (s.kind === 'wrong-bits') bits = required === p.powLimitBits ? 0x2006ffff : p.powLimitBits
          if (s.kind === 'bad-target') bits = BAD_TARGETS[s.pick]!
          if (s.kind === 'old-version') version = Math.max(0, version - 1 - (s.pick % 2))
          if (s.kind === 'min-difficulty') bits = p.powLimitBits
          const header =
            s.kind === 'bad-pow'
              ? mineInvalid(blockHash(parent), { time, bits, version })
              : s.kind === 'bad-target'
                ? { version, prevBlock: blockHash(parent), merkleRoot: new Uint8Array(32), time, bits, nonce: s.pick }
                : mine(blockHash(parent), { time, bits, version, tag: s.pick })
          const expected = contextualCheck(header, parentPoint, view, p, { now })
          const r = tree.accept(header, now)
          if (expected.ok) {
            expect(r.kind).toBe('connected')
            chain.push(header)
          } else {
            expect(r).toEqual({ kind: 'rejected', error: expected.error })
            rejected++
          }
          expect(tree.height).toBe(chain.length - 1)
        }
        // The valid headers again, as one message into a fresh tree.
        const again = new HeaderTree(p)
        const r = again.acceptMany(chain.slice(1), chain[chain.length - 1]!.time)
        expect(r.rejected).toBeUndefined()
        expect(r.added).toBe(chain.length - 1)
        expect(hex(again.tip)).toBe(hex(tree.tip))
        expect(again.tip.chainWork).toBe(chain.reduce((w, h) => w + workFromBits(h.bits), 0n))
        expect(rejected + chain.length - 1).toBe(steps.length)
      }),
      { seed: 0xfa57, numRuns: 80 },
    )
  })
})

describe('proof of work on the fast path without the difficulty rule (BSV after the UAHF)', () => {
  // BSV's own difficulty rule is not checked from BSV_UAHF_HEIGHT on, so only
  // the header's own target rules stand between a header and the chain: the
  // tree's cached target must apply them itself.
  it('rejects targets above powLimit and negative ones, follows bits changes, and checks the hash', () => {
    const p = fastnet({ difficultyAdjustment: 'bsv-daa' })
    const baseHeight = BSV_UAHF_HEIGHT + 2 // a multiple of fastnet's 4-block period
    expect(baseHeight % p.retargetInterval).toBe(0)
    const tree = new HeaderTree(p, { base: { height: baseHeight, headers: serializeBlockHeader(p.genesis), chainWork: 1n } })
    const tip = () => tree.tip.header
    const next = (bits: number, tag = 0) => mine(blockHash(tip()), { time: tip().time + 1, bits, tag })
    const above = next(0x2008ffff)
    expect(tree.accept(above)).toEqual({
      kind: 'rejected',
      error: { kind: 'bad-target', bits: 0x2008ffff, powLimit: p.powLimit, reason: 'TARGET_ABOVE_POW_LIMIT' },
    })
    // 0x2087ffff has the sign bit set: a negative target, though its magnitude is powLimit.
    expect(tree.accept(next(0x2087ffff))).toMatchObject({ kind: 'rejected', error: { kind: 'bad-target', reason: 'NEGATIVE_TARGET' } })
    // Bits change from header to header (BSV's per-block adjustment): easy, hard, easy, easy.
    const mixed = [next(0x2007ffff, 1)]
    for (const bits of [0x2003ffff, 0x2007ffff, 0x2007ffff]) mixed.push(mine(blockHash(mixed.at(-1)!), { time: mixed.at(-1)!.time + 1, bits }))
    const r = tree.acceptMany(mixed)
    expect(r.rejected).toBeUndefined()
    expect(kinds(r.results)).toEqual(['connected', 'connected', 'connected', 'connected'])
    // Right after easy headers, off a period boundary, a hard one whose hash would only meet the easy target.
    expect((tree.height + 1) % p.retargetInterval).not.toBe(0)
    const hard = bitsToTarget(0x2003ffff).target
    const easy = bitsToTarget(0x2007ffff).target
    let weak: BlockHeader | undefined
    for (let nonce = 0; weak === undefined; nonce++) {
      const h: BlockHeader = { version: 4, prevBlock: blockHash(tip()), merkleRoot: new Uint8Array(32), time: tip().time + 1, bits: 0x2003ffff, nonce }
      const v = hashToBigInt(blockHash(h))
      if (v > hard && v <= easy) weak = h
    }
    expect(tree.accept(weak)).toMatchObject({ kind: 'rejected', error: { kind: 'bad-pow', target: hard } })
    expect(tree.height).toBe(baseHeight + 4)
  })
})

describe('median time past on the fast path (property)', () => {
  // A trusted base is not validated, so its times can be in any order: the
  // window the tree sorts for the median is then anything. A header dated at
  // the median must be rejected, one second later accepted.
  it('rejects time == mtp and accepts mtp + 1 on top of bases with arbitrary times', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1_500_000_000, max: 1_500_000_050 }), { minLength: 1, maxLength: 14 }), (times) => {
        const raws: Uint8Array[] = []
        let prev: Uint8Array = new Uint8Array(32)
        for (const [i, time] of times.entries()) {
          const raw = serializeBlockHeader({ version: 4, prevBlock: prev, merkleRoot: new Uint8Array(32).fill(i), time, bits: BITS, nonce: 0 })
          raws.push(raw)
          prev = sha256d(raw)
        }
        const headers = new Uint8Array(raws.length * 80)
        raws.forEach((r, i) => headers.set(r, i * 80))
        const tree = new HeaderTree(regtest, { base: { height: 0, headers, chainWork: 1n } })
        const window = times.slice(-11).sort((a, b) => a - b)
        const mtp = window[Math.floor(window.length / 2)]!
        const tooOld = mine(prev, { time: mtp, bits: BITS })
        expect(tree.accept(tooOld)).toEqual({ kind: 'rejected', error: { kind: 'time-too-old', mtp, time: mtp } })
        expect(tree.accept(mine(prev, { time: mtp + 1, bits: BITS })).kind).toBe('connected')
      }),
      { seed: 0x3e1, numRuns: 150 },
    )
  })
})

describe('chain work as 256-bit words', () => {
  it('adds a header’s work to a base work across a 32-bit word boundary (carry)', () => {
    const { tree } = (() => {
      const t = new HeaderTree(regtest)
      acceptAll(t, mineChain(G, 0, 1, { bits: BITS }))
      return { tree: t }
    })()
    const baseWork = 2n ** 64n - 1n
    const t2 = new HeaderTree(regtest, { base: { height: 0, headers: serializeBlockHeader(G), chainWork: baseWork } })
    const next = tree.getByHeight(1)!.header
    expect(t2.accept(next).kind).toBe('connected')
    expect(t2.tip.chainWork).toBe(baseWork + workFromBits(BITS))
    expect(t2.getByHeight(0)!.chainWork).toBe(baseWork)
  })

  it('refuses a base chain work outside [0, 2^256)', () => {
    const headers = serializeBlockHeader(G)
    expect(() => new HeaderTree(regtest, { base: { height: 0, headers, chainWork: 2n ** 256n } })).toThrow(RangeError)
    expect(() => new HeaderTree(regtest, { base: { height: 0, headers, chainWork: -1n } })).toThrow(RangeError)
    expect(new HeaderTree(regtest, { base: { height: 0, headers, chainWork: 2n ** 256n - 1n } }).tip.chainWork).toBe(2n ** 256n - 1n)
  })

  it('keeps hashes, times, links and work right across the storage chunks (4,096 headers each)', () => {
    // A linked trusted base of 16,400 headers (no proof of work needed), then
    // a mined header on top: the fast path reads its parent from the fifth chunk.
    const n = 16_400
    const raw = new Uint8Array(n * 80)
    const hashList: Uint8Array[] = []
    let prev: Uint8Array = blockHash(G)
    for (let i = 0; i < n; i++) {
      const h = serializeBlockHeader({ version: 4, prevBlock: prev, merkleRoot: root32(i), time: G.time + i, bits: BITS, nonce: i })
      raw.set(h, i * 80)
      prev = sha256d(h)
      hashList.push(prev)
    }
    const tree = new HeaderTree(regtest, { base: { height: 1, headers: raw, chainWork: 5n } })
    expect(tree.height).toBe(n)
    const w = workFromBits(BITS)
    for (const i of [0, 1023, 1024, 2047, 2048, 4095, 4096, 4097, 16_383, 16_384, n - 1]) {
      const e = tree.getByHeight(i + 1)!
      expect(hex(e)).toBe(hashToHex(hashList[i]!))
      expect(e.header.time).toBe(G.time + i)
      expect(e.chainWork).toBe(5n + BigInt(i) * w)
      expect(tree.getByHash(hashList[i]!)!.height).toBe(i + 1)
      expect(i === 0 ? e.parent : hex(e.parent!)).toBe(i === 0 ? undefined : hashToHex(hashList[i - 1]!))
    }
    const next = mine(prev, { time: G.time + n, bits: BITS })
    const r = tree.acceptMany([next])
    expect(kinds(r.results)).toEqual(['connected'])
    expect(tree.tip.chainWork).toBe(5n + BigInt(n) * w)
    expect(tree.acceptMany([next]).results[0]!.kind).toBe('duplicate')
  })

  it('entries hand out copies: changing one does not change the tree', () => {
    const tree = new HeaderTree(regtest)
    acceptAll(tree, mineChain(G, 0, 2, { bits: BITS }))
    const e = tree.tip
    const before = hex(e)
    expect(e.hash).not.toBe(e.hash) // a fresh copy on each access
    expect(e.hash).toEqual(e.hash)
    e.hash[0]! ^= 0xff
    expect(hex(tree.tip)).toBe(before)
    expect(tree.getByHash(tree.tip.hash)!.height).toBe(2)
  })
})
