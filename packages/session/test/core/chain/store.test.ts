import { appendFile, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { blockHash, hashToHex, regtest, serializeBlockHeader } from '@bitp2p/wire'
import { FileHeaderStore, HEADERS_FILE } from '../../../src/driver/file-store.node.js'
import { MemoryHeaderStore } from '../../../src/core/chain/store.js'
import { HeaderTree } from '../../../src/core/chain/tree.js'
import { mineChain } from './helpers.js'
import { expectSameChain, headerStoreCompliance, record, scenario } from './store-compliance.js'

const BITS = regtest.powLimitBits

// The suite every HeaderStore runs (also the IndexedDB one, in @bitp2p/light's browser tests).
headerStoreCompliance({ name: 'memory', reopens: false, open: async () => new MemoryHeaderStore() })

const fileRoots: string[] = []
afterAll(async () => {
  for (const r of fileRoots) await rm(r, { recursive: true, force: true })
})
let fileRoot: Promise<string> | undefined
headerStoreCompliance({
  name: 'file',
  reopens: true,
  async open(key) {
    fileRoot ??= mkdtemp(join(tmpdir(), 'bitp2p-headers-compliance-')).then((r) => (fileRoots.push(r), r))
    return FileHeaderStore.open(join(await fileRoot, key))
  },
  close: (store) => (store as FileHeaderStore).close(),
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
