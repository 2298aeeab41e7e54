import { describe, expect, it } from 'vitest'
import { SeededRandom } from '@bitp2p/session'
import { HeaderTree } from '@bitp2p/session/chain'
import {
  blockHash,
  bytesEqual,
  hashToHex,
  parseBlock,
  regtest,
  serializeBlock,
  testnet4,
  verifyBlock,
} from '@bitp2p/wire'
import { checkProofOfWork, coinbaseHeight, findWitnessCommitment } from '@bitp2p/wire/consensus'
import { SyntheticChain, type SyntheticBlock } from '../../src/chain/synthetic-chain.js'
import { TxFactory } from '../../src/chain/txgen.js'

const ZERO = new Uint8Array(32)
const hex = (b: SyntheticBlock) => hashToHex(b.hash)
const heights = (bs: readonly SyntheticBlock[]) => bs.map((b) => b.height)

/** Every check a receiving SPV node (or a full node's structure checks) would make on one block. */
function expectValid(chain: SyntheticChain, b: SyntheticBlock): void {
  const parsed = parseBlock(b.raw!)
  expect(() => verifyBlock(parsed)).not.toThrow()
  expect(serializeBlock(parsed)).toEqual(b.raw)
  expect(bytesEqual(blockHash(parsed.header), b.hash)).toBe(true)
  expect(checkProofOfWork(b.hash, parsed.header.bits, regtest).ok).toBe(true)
  expect(coinbaseHeight(parsed)).toBe(b.height)
  expect(bytesEqual(parsed.header.prevBlock, b.parent!.hash)).toBe(true)
  expect(chain.height(b.hash)).toBe(b.parent!.height + 1)
  const anyWitness = parsed.txs.some((t) => t.inputs.some((i) => i.witness.length > 0 && t !== parsed.txs[0]))
  expect(findWitnessCommitment(parsed.txs[0]!) !== undefined).toBe(anyWitness)
}

/** A chain of `n` blocks carrying factory transactions that spend earlier coinbases and each other. */
function busyChain(seed: number | string, n: number): SyntheticChain {
  const random = new SeededRandom(seed)
  const chain = new SyntheticChain({ random: random.fork('chain') })
  const factory = new TxFactory(random.fork('txs'))
  let time = regtest.genesis.time
  for (let i = 0; i < n; i++) {
    time += 600
    const b = chain.extend(chain.tip.hash, { time, txs: factory.batch(i % 4 === 0 ? 0 : 1 + (i % 7)) })
    factory.fund(b.block!.txs[0]!)
  }
  return chain
}

describe('SyntheticChain: blocks', () => {
  it('starts at the regtest genesis block, which it can serve whole', () => {
    const chain = new SyntheticChain({ random: new SeededRandom(1) })
    expect(chain.tip).toBe(chain.genesis)
    expect(hashToHex(chain.tip.hash)).toBe(regtest.genesisHashHex)
    expect(chain.height(regtest.genesisHash)).toBe(0)
    const g = parseBlock(chain.rawBlock(regtest.genesisHash)!)
    expect(() => verifyBlock(g)).not.toThrow()
    expect(bytesEqual(blockHash(g.header), regtest.genesisHash)).toBe(true)
    // testnet4's genesis coinbase is not reproduced: header only.
    const t4 = new SyntheticChain({ random: new SeededRandom(1), params: testnet4 })
    expect(t4.header(testnet4.genesisHash)).toBe(testnet4.genesis)
    expect(t4.block(testnet4.genesisHash)).toBeUndefined()
  })

  it('builds blocks that parse, verify, meet regtest PoW, carry their height and link to their parents', () => {
    const chain = busyChain('valid', 40)
    expect(chain.tip.height).toBe(40)
    expect(chain.size).toBe(41)
    let txCount = 0
    let commitments = 0
    for (const b of chain.blocks()) {
      if (b === chain.genesis) continue
      expectValid(chain, b)
      txCount += b.block!.txs.length - 1
      if (findWitnessCommitment(b.block!.txs[0]!) !== undefined) commitments++
    }
    // The mix really exercised both kinds of block.
    expect(txCount).toBeGreaterThan(100)
    expect(commitments).toBeGreaterThan(0)
    expect(commitments).toBeLessThan(40)
  })

  it('is accepted header by header by the session HeaderTree (difficulty, MTP, version rules)', () => {
    const chain = busyChain('tree', 30)
    const tree = new HeaderTree(regtest)
    for (let h = 1; h <= 30; h++) {
      const r = tree.accept(chain.atHeight(h)!.header, chain.atHeight(h)!.header.time)
      expect(r.kind).toBe('connected')
    }
    expect(bytesEqual(tree.tip.hash, chain.tip.hash)).toBe(true)
  })

  it('gives identical blocks for the same seed and different ones for another seed', () => {
    const a = [...busyChain(7, 25).blocks()].map(hex)
    const b = [...busyChain(7, 25).blocks()].map(hex)
    const c = [...busyChain(8, 25).blocks()].map(hex)
    expect(a).toEqual(b)
    expect(c[0]).toBe(a[0]) // genesis
    expect(c.slice(1).some((h, i) => h === a[i + 1])).toBe(false)
    const ra = busyChain(7, 5)
    const rb = busyChain(7, 5)
    expect(ra.rawBlock(ra.tip.hash)).toEqual(rb.rawBlock(rb.tip.hash))
  })

  it('rejects an unknown parent', () => {
    const chain = new SyntheticChain({ random: new SeededRandom(1) })
    expect(() => chain.extend(new Uint8Array(32).fill(1), { time: 1 })).toThrow(RangeError)
  })
})

describe('SyntheticChain: forks and the tip', () => {
  it('keeps the first-seen tip on equal work and reorganises on more work', () => {
    const chain = new SyntheticChain({ random: new SeededRandom(3) })
    const main = chain.fork(chain.genesis.hash, 5)
    expect(heights(main)).toEqual([1, 2, 3, 4, 5])
    expect(chain.tip).toBe(main[4])
    // A competing branch from height 2 with equal work: the first-seen tip stays.
    const side = chain.fork(main[1]!.hash, 3, { minerTag: 'other-miner', spacing: 601 })
    expect(heights(side)).toEqual([3, 4, 5])
    expect(side[0]!.parent).toBe(main[1])
    expect(chain.tip).toBe(main[4])
    expect(chain.isActive(side[2]!.hash)).toBe(false)
    // One more block on the side branch: it has the most work now.
    const [six] = chain.fork(side[2]!.hash, 1)
    expect(chain.tip).toBe(six)
    for (const b of side) expect(chain.isActive(b.hash)).toBe(true)
    for (const b of main.slice(2)) expect(chain.isActive(b.hash)).toBe(false)
    expect(chain.atHeight(3)).toBe(side[0])
    expect(chain.atHeight(2)).toBe(main[1])
    expect(chain.size).toBe(1 + 5 + 3 + 1)
    // Ancestors walk the block's own branch.
    expect(chain.ancestors(six!.hash).map(hex)).toEqual([...side].reverse().concat(main[1]!, main[0]!, chain.genesis).map(hex))
    expect(chain.ancestors(main[4]!.hash, 2)).toEqual([main[3], main[2]])
    expect(chain.ancestorAt(six!.hash, 3)).toBe(side[0])
    expect(chain.ancestorAt(main[4]!.hash, 3)).toBe(main[2])
    expect(chain.ancestorAt(main[4]!.hash, 6)).toBeUndefined()
    for (const b of [...main, ...side, six!]) expectValid(chain, b)
  })

  it('matches the session HeaderTree through the same reorg', () => {
    const chain = new SyntheticChain({ random: new SeededRandom(4) })
    const tree = new HeaderTree(regtest)
    const feed = (bs: readonly SyntheticBlock[]) => bs.map((b) => tree.accept(b.header).kind)
    const a = chain.fork(chain.genesis.hash, 4)
    expect(feed(a)).toEqual(['connected', 'connected', 'connected', 'connected'])
    const b = chain.fork(a[0]!.hash, 3, { minerTag: 'b' })
    expect(feed(b)).toEqual(['fork-added', 'fork-added', 'fork-added'])
    expect(bytesEqual(tree.tip.hash, chain.tip.hash)).toBe(true)
    const c = chain.fork(b[2]!.hash, 1)
    expect(feed(c)).toEqual(['reorg'])
    expect(bytesEqual(tree.tip.hash, chain.tip.hash)).toBe(true)
  })

  it('two miners at different rates: the faster branch wins', () => {
    const chain = new SyntheticChain({ random: new SeededRandom(5) })
    const base = chain.fork(chain.genesis.hash, 3)
    let fast = base[2]!
    let slow = base[2]!
    let time = base[2]!.header.time
    // The fast miner finds 3 blocks for every one of the slow miner.
    for (let round = 0; round < 6; round++) {
      time += 200
      fast = chain.extend(fast.hash, { time, minerTag: 'fast' })
      if (round % 3 === 2) slow = chain.extend(slow.hash, { time, minerTag: 'slow' })
    }
    expect(chain.tip).toBe(fast)
    expect(fast.height).toBe(9)
    expect(slow.height).toBe(5)
    expect(chain.isActive(slow.hash)).toBe(false)
  })
})

describe('SyntheticChain: locate (getheaders) and locateBlocks (getblocks)', () => {
  // main: heights 1..12; side branch from 6: heights 7..9 (less work, inactive).
  const chain = new SyntheticChain({ random: new SeededRandom(6) })
  const main = chain.fork(chain.genesis.hash, 12)
  const side = chain.fork(main[5]!.hash, 3, { minerTag: 'side' })
  const unknown = new Uint8Array(32).fill(0xee)

  it('starts after the first locator hash on the active chain', () => {
    expect(heights(chain.locate([main[3]!.hash], ZERO))).toEqual([5, 6, 7, 8, 9, 10, 11, 12])
    // Unknown and side-branch hashes are skipped.
    expect(heights(chain.locate([unknown, side[2]!.hash, side[0]!.hash, main[2]!.hash, chain.genesis.hash], ZERO))).toEqual([
      4, 5, 6, 7, 8, 9, 10, 11, 12,
    ])
    // Nothing known: from genesis.
    expect(heights(chain.locate([unknown], ZERO))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    // Already at the tip: nothing to send.
    expect(chain.locate(chain.locator(), ZERO)).toEqual([])
    // A locator from the side branch's tip finds the fork point (height 6).
    expect(heights(chain.locate(chain.locator(side[2]!.hash), ZERO))).toEqual([7, 8, 9, 10, 11, 12])
  })

  it('stops at hashStop (included) only when it is on the way', () => {
    expect(heights(chain.locate([main[1]!.hash], main[4]!.hash))).toEqual([3, 4, 5])
    // hashStop on the side branch or unknown: ignored.
    expect(heights(chain.locate([main[9]!.hash], side[1]!.hash))).toEqual([11, 12])
    expect(heights(chain.locate([main[9]!.hash], unknown))).toEqual([11, 12])
  })

  it('answers an empty locator with the hashStop block alone, on any branch', () => {
    expect(chain.locate([], side[1]!.hash)).toEqual([side[1]])
    expect(chain.locate([], main[0]!.hash)).toEqual([main[0]])
    expect(chain.locate([], unknown)).toEqual([])
    expect(chain.locate([], ZERO)).toEqual([])
  })

  it('getblocks: same fork point, hashStop excluded', () => {
    expect(chain.locateBlocks([main[1]!.hash], main[4]!.hash).map((h) => chain.height(h))).toEqual([3, 4])
    expect(chain.locateBlocks([unknown, main[8]!.hash], ZERO).map((h) => chain.height(h))).toEqual([10, 11, 12])
    expect(chain.locateBlocks([main[11]!.hash], ZERO)).toEqual([])
  })

  it('caps getheaders at 2000 and getblocks at 500', () => {
    const long = new SyntheticChain({ random: new SeededRandom(7) })
    long.fork(long.genesis.hash, 2_100)
    const first = long.locate([long.genesis.hash], ZERO)
    expect(first.length).toBe(2_000)
    expect(first[0]!.height).toBe(1)
    expect(first[1_999]!.height).toBe(2_000)
    // The next request, located at the last header received, gets the rest.
    expect(heights(long.locate([first[1_999]!.hash], ZERO))).toEqual(Array.from({ length: 100 }, (_, i) => 2_001 + i))
    const inv = long.locateBlocks([long.genesis.hash], ZERO)
    expect(inv.length).toBe(500)
    expect(long.height(inv[499]!)).toBe(500)
    // Each header follows its predecessor.
    for (let i = 1; i < first.length; i++) expect(bytesEqual(first[i]!.header.prevBlock, first[i - 1]!.hash)).toBe(true)
  })

  it('builds locators as Core does: dense then doubling, ending at genesis', () => {
    const loc = chain.locator()
    expect(loc.map((h) => chain.height(h))).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    const sideLoc = chain.locator(side[2]!.hash)
    expect(bytesEqual(sideLoc[0]!, side[2]!.hash)).toBe(true)
    expect(bytesEqual(sideLoc[sideLoc.length - 1]!, chain.genesis.hash)).toBe(true)
  })
})
