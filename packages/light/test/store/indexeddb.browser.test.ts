// The IndexedDB stores in real headless Chromium: the LightStore compliance
// suite and session's HeaderStore suite (a reopen there is a close and an
// open of the same database by name: a reload), then what is particular to
// IndexedDB: chunks, one transaction per write, the Web Lock, a worker that
// dies holding the stores, deletion, and damaged or foreign databases.
import { afterEach, describe, expect, it } from 'vitest'
import { openDB } from 'idb'
import { concatBytes, hashToHex } from '@bitp2p/wire'
import {
  deleteIndexedDbStores,
  FILTER_HEADERS_PER_CHUNK,
  INDEXEDDB_LOCK_PREFIX,
  INDEXEDDB_STORE_VERSION,
  openIndexedDbStores,
  type IndexedDbStores,
} from '../../src/indexeddb.js'
import { isLightStoreError, type LightStoreError } from '../../src/store/error.js'
import type { JsonValue, LightStore } from '../../src/store/store.js'
import type { HeaderStore } from '@bitp2p/session'
import { headerStoreCompliance } from '../../../session/test/core/chain/store-compliance.js'
import { lightStoreCompliance } from './compliance.js'
import type { WorkerOrder } from './indexeddb.worker.js'

/** The LightStore of a database, whose close closes the whole database (so a reopen by name can take it). */
class WholeDatabaseLightStore implements LightStore {
  constructor(private readonly stores: IndexedDbStores) {}
  loadFilterHeaders(): Promise<Uint8Array> {
    return this.stores.light.loadFilterHeaders()
  }
  putFilterHeaders(height: number, headers: Uint8Array): Promise<void> {
    return this.stores.light.putFilterHeaders(height, headers)
  }
  loadState(): Promise<JsonValue | undefined> {
    return this.stores.light.loadState()
  }
  saveState(state: JsonValue): Promise<void> {
    return this.stores.light.saveState(state)
  }
  close(): Promise<void> {
    return this.stores.close()
  }
}

const prefix = `t${Math.floor(performance.now())}-`

lightStoreCompliance({
  name: 'IndexedDB (Chromium)',
  open: async (key) => new WholeDatabaseLightStore(await openIndexedDbStores(prefix + key)),
})

const headerStores = new Map<HeaderStore, IndexedDbStores>()
headerStoreCompliance({
  name: 'IndexedDB (Chromium)',
  reopens: true,
  async open(key) {
    const stores = await openIndexedDbStores(prefix + key)
    headerStores.set(stores.headers, stores)
    return stores.headers
  },
  close: (store) => headerStores.get(store)!.close(),
})

function headers(seed: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 32)
  for (let i = 0; i < out.length; i++) out[i] = (i * 31 + seed) & 0xff
  return out
}

/** The error a promise rejects with (fails the test when it resolves or throws something else). */
async function rejection(p: Promise<unknown>): Promise<LightStoreError> {
  const e: unknown = await p.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: unknown) => err,
  )
  if (!isLightStoreError(e)) throw e
  return e
}

/** The raw records of an object store, by key (a second connection, as devtools would look). */
async function rawRecords(name: string, store: string): Promise<Map<IDBValidKey, unknown>> {
  const db = await openDB(name)
  try {
    const tx = db.transaction(store)
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()])
    return new Map(keys.map((k, i) => [k, values[i]]))
  } finally {
    db.close()
  }
}

/** Writes raw records into a database of these stores, as damage from outside would. */
async function writeRaw(name: string, store: string, entries: [IDBValidKey, unknown][], clear = false): Promise<void> {
  const db = await openDB(name)
  try {
    const tx = db.transaction(store, 'readwrite')
    if (clear) await tx.store.clear()
    for (const [k, v] of entries) await tx.store.put(v, k)
    await tx.done
  } finally {
    db.close()
  }
}

let n = 0
const names: string[] = []
/** A fresh database name, deleted after the test. */
function fresh(): string {
  const name = `${prefix}idb-${n++}`
  names.push(name)
  return name
}

afterEach(async () => {
  for (const name of names.splice(0)) await deleteIndexedDbStores(name)
})

describe('IndexedDB stores in Chromium', () => {
  it('run in real headless Chromium, with IndexedDB and Web Locks', () => {
    expect(navigator.userAgent).toMatch(/HeadlessChrome\/\d+/)
    expect(typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node).toBe('undefined')
    expect(typeof indexedDB.open).toBe('function')
    expect(typeof navigator.locks.request).toBe('function')
  })

  it('keeps filter headers in chunks of 2,000, and a rewrite below the tip touches only its chunk and those above', async () => {
    const name = fresh()
    const stores = await openIndexedDbStores(name)
    const first = headers(1, 4500)
    await stores.light.putFilterHeaders(0, first)
    const before = await rawRecords(name, 'filter-headers')
    expect([...before.keys()]).toEqual([0, 1, 2])
    expect([...before.values()].map((v) => (v as Uint8Array).length)).toEqual([64_000, 64_000, 16_000])
    expect(FILTER_HEADERS_PER_CHUNK).toBe(2000)

    const puts = spyOnPuts()
    try {
      // A reorg at 4,200: only chunk 2 is written.
      await stores.light.putFilterHeaders(4200, headers(2, 10))
      expect(puts.keys('filter-headers')).toEqual([2])
      // Back to 3,000: chunk 1 rewritten, chunk 2 dropped, chunk 0 untouched.
      puts.clear()
      await stores.light.putFilterHeaders(3000, headers(3, 5))
      expect(puts.keys('filter-headers')).toEqual([1])
    } finally {
      puts.restore()
    }
    const after = await rawRecords(name, 'filter-headers')
    expect([...after.keys()]).toEqual([0, 1])
    expect(after.get(0)).toEqual(before.get(0))
    expect(await stores.light.loadFilterHeaders()).toEqual(concatBytes(first.subarray(0, 3000 * 32), headers(3, 5)))
    await stores.close()
  })

  it('a write is one transaction: one that fails part-way leaves nothing of it, also after a reload', async () => {
    const name = fresh()
    const stores = await openIndexedDbStores(name)
    const first = headers(1, 4500)
    await stores.light.putFilterHeaders(0, first)
    // The delete of the old tail fails after the new chunks were put.
    const original = IDBObjectStore.prototype.delete
    IDBObjectStore.prototype.delete = function () {
      throw new DOMException('injected failure', 'UnknownError')
    }
    try {
      const e: unknown = await stores.light.putFilterHeaders(1000, headers(4, 3000)).then(
        () => undefined,
        (err: unknown) => err,
      )
      expect((e as DOMException).message).toBe('injected failure')
    } finally {
      IDBObjectStore.prototype.delete = original
    }
    expect(await stores.light.loadFilterHeaders()).toEqual(first)
    await stores.close()
    const reloaded = await openIndexedDbStores(name)
    expect(await reloaded.light.loadFilterHeaders()).toEqual(first)
    await reloaded.close()
  })

  it('a second open of the same database is LOCKED until the first closes; another name is not', async () => {
    const name = fresh()
    const a = await openIndexedDbStores(name)
    const e = await rejection(openIndexedDbStores(name))
    expect(e.code).toBe('LOCKED')
    expect(e.detail.name).toBe(name)
    const other = await openIndexedDbStores(fresh())
    await other.close()
    // Closing one view keeps the database (and the lock) for the other.
    await a.light.close()
    expect((await rejection(openIndexedDbStores(name))).code).toBe('LOCKED')
    expect(await a.headers.tip()).toBeUndefined()
    await a.close()
    const b = await openIndexedDbStores(name)
    await b.close()
  })

  it('a worker that dies holding the stores (a closed or crashed tab): the page waits for its lock and resumes from what it wrote', async () => {
    const name = fresh()
    const worker = new Worker(new URL('./indexeddb.worker.ts', import.meta.url), { type: 'module' })
    try {
      const answer = await new Promise<{ ok: boolean; tipHash?: number[]; message?: string }>((resolve, reject) => {
        worker.onmessage = (m) => resolve(m.data)
        worker.onerror = (ev) => reject(new Error(`worker failed: ${ev.message}`))
        worker.postMessage({ name, filterHeaders: 2345 } satisfies WorkerOrder)
      })
      expect(answer).toMatchObject({ ok: true })
      // The worker holds the database.
      expect((await rejection(openIndexedDbStores(name))).code).toBe('LOCKED')
      worker.terminate()
      // Its lock goes with it: wait for the lock as another tab would, then open.
      await navigator.locks.request(INDEXEDDB_LOCK_PREFIX + name, async () => undefined)
      const stores = await openIndexedDbStores(name)
      const expected = new Uint8Array(2345 * 32)
      for (let i = 0; i < expected.length; i++) expected[i] = (i * 7 + 3) & 0xff
      expect(await stores.light.loadFilterHeaders()).toEqual(expected)
      expect(await stores.light.loadState()).toEqual({ scanHeight: 2344, from: 'worker' })
      const tip = (await stores.headers.tip())!
      expect(tip.height).toBe(5)
      expect(hashToHex(tip.hash)).toBe(hashToHex(Uint8Array.from(answer.tipHash!)))
      expect((await stores.headers.load())!.headers.length).toBe(6 * 80)
      await stores.close()
    } finally {
      worker.terminate()
    }
  })

  it('deleteIndexedDbStores while open: the open stores close themselves (CLOSED), and the name opens empty', async () => {
    const name = fresh()
    const stores = await openIndexedDbStores(name)
    await stores.light.saveState({ gone: false })
    await deleteIndexedDbStores(name)
    const e = await rejection(stores.light.loadState())
    expect(e.code).toBe('CLOSED')
    expect(e.detail.reason).toBe('another connection upgraded or deleted the database')
    expect((await rejection(stores.headers.tip())).code).toBe('CLOSED')
    const again = await openIndexedDbStores(name)
    expect(await again.light.loadState()).toBeUndefined()
    await again.close()
    await stores.close()
  })

  describe('damaged or foreign databases are typed errors', () => {
    it('filter header chunks with a torn chunk or a gap: CORRUPT_FILTER_HEADERS; writing a new chain from 0 repairs it', async () => {
      const name = fresh()
      const stores = await openIndexedDbStores(name)
      await stores.light.putFilterHeaders(0, headers(1, 2500))
      await stores.light.saveState({ ok: 1 })
      await writeRaw(name, 'filter-headers', [[1, new Uint8Array(33)]])
      const e = await rejection(stores.light.loadFilterHeaders())
      expect(e.code).toBe('CORRUPT_FILTER_HEADERS')
      expect(e.detail.reason).toBe('chunk 1 holds 33 bytes')
      await writeRaw(name, 'filter-headers', [
        [0, headers(1, 2000)],
        [2, headers(1, 10)],
      ], true)
      expect((await rejection(stores.light.loadFilterHeaders())).detail.reason).toBe('chunk 1 is missing (found 2)')
      // The state is another record: still readable.
      expect(await stores.light.loadState()).toEqual({ ok: 1 })
      await stores.light.putFilterHeaders(0, headers(5, 3))
      expect(await stores.light.loadFilterHeaders()).toEqual(headers(5, 3))
      await stores.close()
    })

    it('a state record that is not JSON text: CORRUPT_STATE, and the next saveState replaces it', async () => {
      const name = fresh()
      const stores = await openIndexedDbStores(name)
      for (const [bad, reason] of [
        ['{"scan', 'not JSON'],
        [42, 'a number where JSON text belongs'],
      ] as const) {
        await writeRaw(name, 'light-state', [['state', bad]])
        const e = await rejection(stores.light.loadState())
        expect(e.code).toBe('CORRUPT_STATE')
        expect(e.detail).toMatchObject({ name, reason })
      }
      await stores.light.saveState({ fresh: true })
      expect(await stores.light.loadState()).toEqual({ fresh: true })
      await stores.close()
    })

    it('block headers without their base record: CORRUPT_HEADERS', async () => {
      const name = fresh()
      const stores = await openIndexedDbStores(name)
      await writeRaw(name, 'block-headers', [[0, new Uint8Array(80)]])
      const e = await rejection(stores.headers.load())
      expect(e.code).toBe('CORRUPT_HEADERS')
      expect(e.detail.reason).toBe('block headers stored without their base record')
      await stores.close()
    })

    it('a database of a newer layout, or of something else: UNSUPPORTED_VERSION', async () => {
      const newer = fresh()
      ;(await openDB(newer, INDEXEDDB_STORE_VERSION + 1)).close()
      const e = await rejection(openIndexedDbStores(newer))
      expect(e.code).toBe('UNSUPPORTED_VERSION')
      expect(e.detail.expected).toBe(INDEXEDDB_STORE_VERSION)

      const foreign = fresh()
      ;(
        await openDB(foreign, 1, {
          upgrade(db) {
            db.createObjectStore('todos')
          },
        })
      ).close()
      const f = await rejection(openIndexedDbStores(foreign))
      expect(f.code).toBe('UNSUPPORTED_VERSION')
      expect(f.detail.actual).toBe('todos')
      // Neither failed open kept the lock.
      await navigator.locks.request(INDEXEDDB_LOCK_PREFIX + foreign, { ifAvailable: true }, async (lock) => {
        expect(lock).not.toBeNull()
      })
    })
  })
})

/** Records the keys put into each object store until restored. */
function spyOnPuts(): { keys(store: string): IDBValidKey[]; clear(): void; restore(): void } {
  const seen: [string, IDBValidKey][] = []
  const original = IDBObjectStore.prototype.put
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    seen.push([this.name, key!])
    return original.call(this, value, key)
  }
  return {
    keys: (store) => seen.filter(([s]) => s === store).map(([, k]) => k),
    clear: () => void seen.splice(0),
    restore: () => {
      IDBObjectStore.prototype.put = original
    },
  }
}
