import { appendFile, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { blockHash, hashToHex, regtest, serializeBlockHeader } from '@bitp2p/wire'
import type { BlockHeader } from '@bitp2p/wire'
import { FileHeaderStore, HEADERS_FILE } from '../../src/chain/file-store.node.js'
import { type HeaderStore, MemoryHeaderStore } from '../../src/chain/store.js'
import { type AcceptResult, HeaderTree } from '../../src/chain/tree.js'
import { mineChain } from './helpers.js'

const G = regtest.genesis
const BITS = regtest.powLimitBits

/** Writes what an accept result changed, as a HeaderSync driver would. */
async function record(store: HeaderStore, r: AcceptResult): Promise<void> {
  if (r.kind === 'connected') await store.put(r.entry)
  else if (r.kind === 'reorg') await store.putBatch(r.connected)
}

/** A tree with a 12-block chain, reorganised at height 8 onto a 6-block branch; every change recorded. */
async function scenario(store: HeaderStore): Promise<{ tree: HeaderTree; oldTail: BlockHeader[] }> {
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

async function expectSameChain(store: HeaderStore, tree: HeaderTree): Promise<void> {
  expect((await store.tip())!.height).toBe(tree.height)
  for (let h = 0; h <= tree.height; h++) {
    const s = (await store.getByHeight(h))!
    expect(hashToHex(s.hash)).toBe(hashToHex(tree.getByHeight(h)!.hash))
    expect(hashToHex(blockHash(s.header))).toBe(hashToHex(s.hash))
  }
  expect(await store.getByHeight(tree.height + 1)).toBeUndefined()
}

describe('MemoryHeaderStore', () => {
  it('holds the active chain through a reorg and rebuilds the tree from it', async () => {
    const store = new MemoryHeaderStore()
    expect(await store.tip()).toBeUndefined()
    expect(await store.load()).toBeUndefined()
    const { tree, oldTail } = await scenario(store)
    await expectSameChain(store, tree)
    // The reorged-out blocks are gone from the hash index.
    expect(await store.getByHash(blockHash(oldTail[0]!))).toBeUndefined()
    expect((await store.getByHash(tree.tip.hash))!.height).toBe(13)
    const again = new HeaderTree(regtest, { base: (await store.load())! })
    expect(hashToHex(again.tip.hash)).toBe(hashToHex(tree.tip.hash))
    expect(again.tip.chainWork).toBe(tree.tip.chainWork)
  })

  it('refuses a gap, a non-consecutive batch and a batch that does not link', async () => {
    const store = new MemoryHeaderStore()
    const tree = new HeaderTree(regtest)
    const chain = mineChain(G, 0, 3, { bits: BITS })
    for (const h of chain) tree.accept(h)
    const e = [0, 1, 2, 3].map((h) => tree.getByHeight(h)!)
    await store.put(e[0]!)
    await expect(store.put(e[2]!)).rejects.toThrow(RangeError)
    await expect(store.putBatch([e[1]!, e[3]!])).rejects.toThrow(RangeError)
    const forged = { ...e[2]!, height: 2, hash: e[2]!.hash, raw: e[3]!.raw, chainWork: 0n }
    await expect(store.putBatch([e[1]!, forged])).rejects.toThrow(/does not link/)
  })
})

describe('FileHeaderStore', () => {
  let dir = ''
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bitp2p-headers-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('writes 80 bytes per header, rewrites the tail on a reorg, and resumes after a restart', async () => {
    const store = await FileHeaderStore.open(dir)
    const { tree, oldTail } = await scenario(store)
    await expectSameChain(store, tree)
    expect((await stat(join(dir, HEADERS_FILE))).size).toBe((tree.height + 1) * 80)
    expect((await store.getByHash(tree.getByHeight(9)!.hash))!.height).toBe(9)
    expect(await store.getByHash(blockHash(oldTail[1]!))).toBeUndefined()
    await store.close()

    const reopened = await FileHeaderStore.open(dir)
    await expectSameChain(reopened, tree)
    const base = (await reopened.load())!
    expect(base.height).toBe(0)
    const resumed = new HeaderTree(regtest, { base })
    expect(resumed.height).toBe(tree.height)
    expect(hashToHex(resumed.tip.hash)).toBe(hashToHex(tree.tip.hash))
    expect(resumed.tip.chainWork).toBe(tree.tip.chainWork)
    // The resumed tree validates and stores new headers as before.
    const more = mineChain(tree.tip.header, tree.height, 2, { bits: BITS, tag: 3 })
    for (const h of more) {
      const r = resumed.accept(h)
      expect(r.kind).toBe('connected')
      await record(reopened, r)
    }
    expect((await reopened.tip())!.height).toBe(15)
    await reopened.close()
  })

  it('drops a torn header and an unlinked old tail left by a crash', async () => {
    const store = await FileHeaderStore.open(dir)
    const { tree, oldTail } = await scenario(store)
    await store.close()
    // A crash after writing a reorg but before truncating leaves a header of
    // the old chain after the new tip (it does not link); then half a header.
    const stale = new Uint8Array(80)
    stale.set(serializeBlockHeader(oldTail[4]!))
    await appendFile(join(dir, HEADERS_FILE), stale)
    await appendFile(join(dir, HEADERS_FILE), new Uint8Array(40).fill(0xab))

    const reopened = await FileHeaderStore.open(dir)
    expect((await stat(join(dir, HEADERS_FILE))).size).toBe((tree.height + 2) * 80)
    const base = (await reopened.load())!
    expect(base.headers.length).toBe((tree.height + 1) * 80)
    expect((await stat(join(dir, HEADERS_FILE))).size).toBe((tree.height + 1) * 80)
    const resumed = new HeaderTree(regtest, { base })
    expect(hashToHex(resumed.tip.hash)).toBe(hashToHex(tree.tip.hash))
    await reopened.close()
  })

  it('an empty directory is an empty store', async () => {
    const store = await FileHeaderStore.open(join(dir, 'sub'))
    expect(await store.tip()).toBeUndefined()
    expect(await store.load()).toBeUndefined()
    expect(await store.getByHash(new Uint8Array(32))).toBeUndefined()
    await store.close()
  })
})
