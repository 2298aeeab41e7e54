/**
 * The HeaderStore compliance suite: every store runs it (memory and file
 * here, IndexedDB in @bitp2p/light's browser tests). No Node built-in, so it
 * runs in a browser too.
 */
import { describe, expect, it } from 'vitest'
import { blockHash, hashToHex, regtest } from '@bitp2p/wire'
import type { BlockHeader } from '@bitp2p/wire'
import type { HeaderStore } from '../../../src/core/chain/store.js'
import { type AcceptResult, HeaderTree } from '../../../src/core/chain/tree.js'
import { mineChain } from './helpers.js'

const G = regtest.genesis
const BITS = regtest.powLimitBits

/** One store implementation under test. */
export interface HeaderStoreUnderTest {
  readonly name: string
  /** Opens the store kept under `key` (a fresh one for a new key). */
  open(key: string): Promise<HeaderStore>
  /** Closes a store, when the implementation has resources to release. */
  close?(store: HeaderStore): Promise<void>
  /** True when a second `open` of a key sees what the first wrote (a restart). */
  readonly reopens: boolean
}

/** Writes what an accept result changed, as a HeaderSync driver would. */
export async function record(store: HeaderStore, r: AcceptResult): Promise<void> {
  if (r.kind === 'connected') await store.put(r.entry)
  else if (r.kind === 'reorg') await store.putBatch(r.connected)
}

/** A tree with a 12-block chain, reorganised at height 8 onto a 6-block branch; every change recorded. */
export async function scenario(store: HeaderStore): Promise<{ tree: HeaderTree; oldTail: BlockHeader[] }> {
  const tree = new HeaderTree(regtest)
  await store.put(tree.tip) // genesis
  const a = mineChain(G, 0, 12, { bits: BITS, tag: 1 })
  for (const h of a) await record(store, tree.accept(h))
  // Fork off a7 (height 7), long enough to win: heights 8..13.
  const b = mineChain(a[6]!, 7, 6, { bits: BITS, tag: 2 })
  const kinds: string[] = []
  for (const h of b) {
    const r = tree.accept(h)
    kinds.push(r.kind)
    await record(store, r)
  }
  expect(kinds).toEqual(['fork-added', 'fork-added', 'fork-added', 'fork-added', 'fork-added', 'reorg'])
  return { tree, oldTail: a.slice(7) }
}

/** The store holds exactly the tree's active chain, by height and by hash. */
export async function expectSameChain(store: HeaderStore, tree: HeaderTree): Promise<void> {
  expect((await store.tip())!.height).toBe(tree.height)
  for (let h = 0; h <= tree.height; h++) {
    const s = (await store.getByHeight(h))!
    expect(hashToHex(s.hash)).toBe(hashToHex(tree.getByHeight(h)!.hash))
    expect(hashToHex(blockHash(s.header))).toBe(hashToHex(s.hash))
    expect((await store.getByHash(s.hash))!.height).toBe(h)
  }
  expect(await store.getByHeight(tree.height + 1)).toBeUndefined()
}

let keys = 0
function freshKey(): string {
  return `headers-${keys++}-${Math.floor(performance.now() * 1000).toString(36)}`
}

/** Runs the suite against `s`. */
export function headerStoreCompliance(s: HeaderStoreUnderTest): void {
  const close = async (store: HeaderStore): Promise<void> => {
    await s.close?.(store)
  }

  describe(`HeaderStore compliance: ${s.name}`, () => {
    it('an empty store has no tip, no base and no header by height or hash', async () => {
      const store = await s.open(freshKey())
      expect(await store.tip()).toBeUndefined()
      expect(await store.load()).toBeUndefined()
      expect(await store.getByHeight(0)).toBeUndefined()
      expect(await store.getByHash(regtest.genesisHash)).toBeUndefined()
      await close(store)
    })

    it('holds the active chain through a reorg, forgets the reorged-out hashes, and rebuilds the tree from load()', async () => {
      const store = await s.open(freshKey())
      const { tree, oldTail } = await scenario(store)
      await expectSameChain(store, tree)
      for (const h of oldTail) expect(await store.getByHash(blockHash(h))).toBeUndefined()
      const base = (await store.load())!
      expect(base.height).toBe(0)
      expect(base.headers.length).toBe((tree.height + 1) * 80)
      const again = new HeaderTree(regtest, { base })
      expect(hashToHex(again.tip.hash)).toBe(hashToHex(tree.tip.hash))
      expect(again.tip.chainWork).toBe(tree.tip.chainWork)
      await close(store)
    })

    it('refuses a gap, a non-consecutive batch and a batch that does not link, and changes nothing', async () => {
      const store = await s.open(freshKey())
      const tree = new HeaderTree(regtest)
      for (const h of mineChain(G, 0, 3, { bits: BITS })) tree.accept(h)
      const e = [0, 1, 2, 3].map((h) => tree.getByHeight(h)!)
      await store.put(e[0]!)
      await expect(store.put(e[2]!)).rejects.toThrow(RangeError)
      await expect(store.putBatch([e[1]!, e[3]!])).rejects.toThrow(RangeError)
      const forged = { ...e[2]!, height: 2, hash: e[2]!.hash, raw: e[3]!.raw, chainWork: 0n }
      await expect(store.putBatch([e[1]!, forged])).rejects.toThrow(/does not link/)
      expect((await store.tip())!.height).toBe(0)
      expect(await store.getByHeight(1)).toBeUndefined()
      await close(store)
    })

    it('the first header written is the base, with its chain work; nothing below it can be written', async () => {
      const store = await s.open(freshKey())
      const tree = new HeaderTree(regtest)
      for (const h of mineChain(G, 0, 8, { bits: BITS, tag: 5 })) tree.accept(h)
      const from5 = [5, 6, 7, 8].map((h) => tree.getByHeight(h)!)
      await store.putBatch(from5)
      expect(await store.getByHeight(4)).toBeUndefined()
      expect((await store.getByHeight(5))!.height).toBe(5)
      await expect(store.put(tree.getByHeight(4)!)).rejects.toThrow(RangeError)
      const base = (await store.load())!
      expect(base.height).toBe(5)
      expect(base.chainWork).toBe(tree.getByHeight(5)!.chainWork)
      const resumed = new HeaderTree(regtest, { base })
      expect(hashToHex(resumed.tip.hash)).toBe(hashToHex(tree.tip.hash))
      expect(resumed.tip.chainWork).toBe(tree.tip.chainWork)
      await close(store)
    })

    if (!s.reopens) return
    it('after a reopen: the same chain, and a tree resumed from load() stores what it accepts next', async () => {
      const key = freshKey()
      const first = await s.open(key)
      const { tree } = await scenario(first)
      // getByHash before the restart: a store with an index in memory must not carry it over wrongly.
      expect((await first.getByHash(tree.getByHeight(9)!.hash))!.height).toBe(9)
      await close(first)

      const store = await s.open(key)
      await expectSameChain(store, tree)
      const resumed = new HeaderTree(regtest, { base: (await store.load())! })
      expect(resumed.height).toBe(tree.height)
      expect(resumed.tip.chainWork).toBe(tree.tip.chainWork)
      for (const h of mineChain(tree.tip.header, tree.height, 2, { bits: BITS, tag: 3 })) {
        const r = resumed.accept(h)
        expect(r.kind).toBe('connected')
        await record(store, r)
      }
      expect((await store.tip())!.height).toBe(15)
      expect((await store.getByHash(resumed.tip.hash))!.height).toBe(15)
      await close(store)
    })
  })
}
