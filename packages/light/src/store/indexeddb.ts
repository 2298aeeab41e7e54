/**
 * The light client's stores in IndexedDB, for browsers and workers: a
 * LightStore (filter headers, scan state) and a session HeaderStore (the
 * block headers), both in one database, opened together with
 * `openIndexedDbStores(name)`.
 *
 * Layout (database version INDEXEDDB_STORE_VERSION), object stores:
 *   filter-headers      chunk k -> the filter headers of heights
 *                       [k * 2000, (k + 1) * 2000), 32 bytes each; every
 *                       chunk but the last is full.
 *   light-state         'state' -> the scan state as JSON text.
 *   block-headers       chunk k -> the block headers base + [k * 2000, ...),
 *                       80 bytes each, chunked the same way.
 *   block-header-base   'base' -> { height, chainWork } of the first block
 *                       header, written with it.
 *
 * Every write is one transaction with strict durability: a reload (or a
 * crash of the tab) sees all of a write or none of it. A rewrite below the
 * tip touches only the chunk it starts in and the ones above it.
 *
 * One holder at a time: opening takes an exclusive Web Lock named after the
 * database (`navigator.locks`), so a second tab or worker opening the same
 * name gets LightStoreError LOCKED until the first closes (or its tab goes
 * away, which releases the lock). Where Web Locks are missing, keeping to
 * one holder is the application's job. A connection that blocks an upgrade
 * or a deletion of its database (`deleteIndexedDbStores`) closes itself;
 * its calls then reject with LightStoreError CLOSED.
 *
 * Trust model: as for every store, what is read back is what this client
 * accepted before; the origin's storage must hold nothing else. Reads check
 * the shape of what they find (whole records, consecutive chunks) and
 * reject with a LightStoreError rather than return a damaged chain.
 */
import { deleteDB, openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb'
import { BLOCK_HEADER_BYTES, parseBlockHeader, sha256d, bytesEqual } from '@bitp2p/wire'
import { checkBatch, HashIndex, hashKey, type HeaderRecord, type HeaderStore, type StoredHeader, type TrustedBase } from '@bitp2p/session'
import { LightStoreError, type LightStoreErrorCode } from './error.js'
import { SerialQueue, stateToJson } from './serial.js'
import { checkFilterHeaderWrite, STORED_FILTER_HEADER_BYTES, type JsonValue, type LightStore } from './store.js'

/** Version of the database layout (the IndexedDB version it is opened with). */
export const INDEXEDDB_STORE_VERSION = 1
/** Filter headers per chunk record (64,000 bytes): a rewrite below the tip rewrites from its chunk on. */
export const FILTER_HEADERS_PER_CHUNK = 2000
/** Block headers per chunk record (160,000 bytes). */
export const BLOCK_HEADERS_PER_CHUNK = 2000
/** Prefix of the Web Lock name held while a database is open (the database name follows). */
export const INDEXEDDB_LOCK_PREFIX = 'bitp2p-stores:'

const FILTER_HEADERS = 'filter-headers'
const LIGHT_STATE = 'light-state'
const BLOCK_HEADERS = 'block-headers'
const BLOCK_HEADER_BASE = 'block-header-base'
const STATE_KEY = 'state'
const BASE_KEY = 'base'

interface StoresSchema extends DBSchema {
  [FILTER_HEADERS]: { key: number; value: Uint8Array }
  [LIGHT_STATE]: { key: string; value: string }
  [BLOCK_HEADERS]: { key: number; value: Uint8Array }
  /** chainWork as a decimal string: what structured clone keeps of a BigInt is not the same in every browser. */
  [BLOCK_HEADER_BASE]: { key: string; value: { height: number; chainWork: string } }
}

type Db = IDBPDatabase<StoresSchema>
type Names = StoreNames<StoresSchema>
/** A transaction over the stores, read-only or read-write. */
type Tx = IDBPTransaction<StoresSchema, Names[], 'readonly'> | WTx
/** A read-write transaction. */
type WTx = IDBPTransaction<StoresSchema, Names[], 'readwrite'>

/**
 * The LightStore of `openIndexedDbStores`. Its `close` closes this store;
 * the database closes once the header store is closed too.
 */
export interface IndexedDbLightStore extends LightStore {}

/**
 * The session HeaderStore of `openIndexedDbStores`, with a `close`.
 * `getByHash` builds an index of the stored hashes on its first call (it
 * reads and hashes every header once), as session's FileHeaderStore does.
 */
export interface IndexedDbHeaderStore extends HeaderStore {
  /** Closes this store after the calls made before it; the database closes once the light store is closed too. Further calls reject with CLOSED. */
  close(): Promise<void>
}

/** What `openIndexedDbStores` opens: the two stores over one database. */
export interface IndexedDbStores {
  /** The database name. */
  readonly name: string
  /** The block headers (a session HeaderStore). */
  readonly headers: IndexedDbHeaderStore
  /** The filter headers and the scan state. */
  readonly light: IndexedDbLightStore
  /** Closes both stores, the database and the lock (after the calls made before it). */
  close(): Promise<void>
}

/**
 * Opens (creating if needed) the stores in the IndexedDB database `name`.
 * Rejects with LightStoreError LOCKED when another tab or worker has it
 * open, and UNSUPPORTED_VERSION when it was written by a newer layout or is
 * not a database of these stores.
 */
export async function openIndexedDbStores(name: string): Promise<IndexedDbStores> {
  const lock = await takeWebLock(name)
  let conn: Connection
  try {
    conn = await Connection.open(name, lock)
  } catch (e) {
    lock.release()
    throw e
  }
  const headers = new IdbHeaderStore(conn)
  const light = new IdbLightStore(conn)
  return {
    name,
    headers,
    light,
    async close() {
      await Promise.all([headers.close(), light.close()])
    },
  }
}

/**
 * Deletes the database `name` and everything in it. Connections to it in
 * this page or others close themselves (their calls then reject with
 * CLOSED); the promise resolves once it is gone.
 */
export async function deleteIndexedDbStores(name: string): Promise<void> {
  await deleteDB(name)
}

/** The IndexedDbLightStore; see the module comment. */
class IdbLightStore implements IndexedDbLightStore {
  private readonly chain: ChunkChain
  private closed = false

  constructor(private readonly conn: Connection) {
    conn.attach()
    this.chain = new ChunkChain(FILTER_HEADERS, STORED_FILTER_HEADER_BYTES, FILTER_HEADERS_PER_CHUNK, 'CORRUPT_FILTER_HEADERS', conn.name)
  }

  /** The stored filter headers from height 0, concatenated. */
  loadFilterHeaders(): Promise<Uint8Array> {
    return this.op((db) => readOnly(db, [FILTER_HEADERS], (tx) => this.chain.readAll(tx)))
  }

  /** Stores `headers` from `height` on, dropping what was above, in one transaction. */
  putFilterHeaders(height: number, headers: Uint8Array): Promise<void> {
    return this.op((db) =>
      readWrite(db, [FILTER_HEADERS], async (tx) => {
        checkFilterHeaderWrite(height, headers, await this.chain.count(tx))
        await this.chain.write(tx, height, headers)
      }),
    )
  }

  /** The saved state; rejects with LightStoreError CORRUPT_STATE when the record is not JSON text. */
  loadState(): Promise<JsonValue | undefined> {
    return this.op(async (db) => {
      const text: unknown = await readOnly(db, [LIGHT_STATE], (tx) => tx.objectStore(LIGHT_STATE).get(STATE_KEY))
      if (text === undefined) return undefined
      const corrupt = (reason: string): LightStoreError =>
        new LightStoreError('CORRUPT_STATE', `light store: the state in database ${this.conn.name} is damaged (${reason}); the next saveState replaces it`, {
          name: this.conn.name,
          reason,
        })
      if (typeof text !== 'string') throw corrupt(`a ${typeof text} where JSON text belongs`)
      try {
        return JSON.parse(text) as JsonValue
      } catch {
        throw corrupt('not JSON')
      }
    })
  }

  /** Replaces the state in one transaction. */
  saveState(state: JsonValue): Promise<void> {
    return this.op(async (db) => {
      const text = stateToJson(state)
      await readWrite(db, [LIGHT_STATE], async (tx) => {
        await tx.objectStore(LIGHT_STATE).put(text, STATE_KEY)
      })
    })
  }

  /** Closes this store after the calls made before it; the database closes once the header store is closed too. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    return this.conn.queue.run(async () => this.conn.detach())
  }

  private op<T>(task: (db: Db) => Promise<T>): Promise<T> {
    return this.closed ? Promise.reject(closedError(this.conn.name, 'closed')) : this.conn.run(task)
  }
}

/** The IndexedDbHeaderStore; see the module comment. */
class IdbHeaderStore implements IndexedDbHeaderStore {
  private readonly chain: ChunkChain
  /** Hash key -> header index from the base, built on the first getByHash; insert-only, so every hit is checked. */
  private index: HashIndex | undefined
  private closed = false

  constructor(private readonly conn: Connection) {
    conn.attach()
    this.chain = new ChunkChain(BLOCK_HEADERS, BLOCK_HEADER_BYTES, BLOCK_HEADERS_PER_CHUNK, 'CORRUPT_HEADERS', conn.name)
  }

  /** The header at `height`, if stored. */
  getByHeight(height: number): Promise<StoredHeader | undefined> {
    return this.op((db) => readOnly(db, [BLOCK_HEADERS, BLOCK_HEADER_BASE], (tx) => this.read(tx, height)))
  }

  /** The header with this hash, if it is on the stored chain. */
  getByHash(hash: Uint8Array): Promise<StoredHeader | undefined> {
    return this.op(async (db) => {
      const index = this.index ?? (await this.buildIndex(db))
      const candidates: number[] = []
      index.find(hashKey(hash), (i) => {
        candidates.push(i)
        return false
      })
      if (candidates.length === 0) return undefined
      return readOnly(db, [BLOCK_HEADERS, BLOCK_HEADER_BASE], async (tx) => {
        const base = await this.base(tx)
        if (base === undefined) return undefined
        for (const i of candidates) {
          const found = await this.read(tx, base.height + i)
          if (found !== undefined && bytesEqual(found.hash, hash)) return found
        }
        return undefined
      })
    })
  }

  /** The highest stored header. */
  tip(): Promise<StoredHeader | undefined> {
    return this.op((db) =>
      readOnly(db, [BLOCK_HEADERS, BLOCK_HEADER_BASE], async (tx) => {
        const base = await this.base(tx)
        const count = await this.chain.count(tx)
        return base === undefined || count === 0 ? undefined : this.read(tx, base.height + count - 1)
      }),
    )
  }

  /** Stores `record` at its height, dropping anything above it. */
  put(record: HeaderRecord): Promise<void> {
    return this.putBatch([record])
  }

  /** Stores consecutive ascending records as `put` would, in one transaction. */
  putBatch(records: readonly HeaderRecord[]): Promise<void> {
    return this.op(async (db) => {
      const start = await readWrite(db, [BLOCK_HEADERS, BLOCK_HEADER_BASE], async (tx) => {
        let base = await this.base(tx)
        const count = await this.chain.count(tx)
        checkBatch(records, base?.height ?? 0, count)
        if (records.length === 0) return 0
        const first = records[0]!
        if (count === 0) {
          base = { height: first.height, chainWork: first.chainWork }
          await tx.objectStore(BLOCK_HEADER_BASE).put({ height: first.height, chainWork: first.chainWork.toString() }, BASE_KEY)
        }
        const bytes = new Uint8Array(records.length * BLOCK_HEADER_BYTES)
        records.forEach((r, i) => bytes.set(r.raw, i * BLOCK_HEADER_BYTES))
        const start = first.height - base!.height
        await this.chain.write(tx, start, bytes)
        return start
      })
      // Once the write is in (an entry for a header never stored would only cost a probe).
      if (this.index !== undefined) records.forEach((r, i) => this.index!.insert(hashKey(r.hash), start + i))
    })
  }

  /** Everything stored, as a base a HeaderTree can start from; undefined when empty. */
  load(): Promise<TrustedBase | undefined> {
    return this.op((db) =>
      readOnly(db, [BLOCK_HEADERS, BLOCK_HEADER_BASE], async (tx) => {
        const base = await this.base(tx)
        const headers = await this.chain.readAll(tx)
        if (base === undefined || headers.length === 0) return undefined
        return { height: base.height, headers, chainWork: base.chainWork }
      }),
    )
  }

  /** Closes this store after the calls made before it; the database closes once the light store is closed too. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    return this.conn.queue.run(async () => this.conn.detach())
  }

  private op<T>(task: (db: Db) => Promise<T>): Promise<T> {
    return this.closed ? Promise.reject(closedError(this.conn.name, 'closed')) : this.conn.run(task)
  }

  /** The base record; undefined when no header is stored. CORRUPT_HEADERS when headers are stored without a readable base. */
  private async base(tx: Tx): Promise<{ height: number; chainWork: bigint } | undefined> {
    const raw: unknown = await tx.objectStore(BLOCK_HEADER_BASE).get(BASE_KEY)
    if (raw === undefined) {
      if ((await this.chain.count(tx)) > 0) throw this.chain.corrupt('block headers stored without their base record')
      return undefined
    }
    const r = raw as { height?: unknown; chainWork?: unknown }
    if (!Number.isSafeInteger(r.height) || (r.height as number) < 0 || typeof r.chainWork !== 'string' || !/^\d{1,78}$/.test(r.chainWork)) {
      throw this.chain.corrupt('the base record is not a height and a chain work')
    }
    return { height: r.height as number, chainWork: BigInt(r.chainWork) }
  }

  private async read(tx: Tx, height: number): Promise<StoredHeader | undefined> {
    const base = await this.base(tx)
    if (base === undefined) return undefined
    const raw = await this.chain.get(tx, height - base.height)
    return raw === undefined ? undefined : { height, hash: sha256d(raw), header: parseBlockHeader(raw) }
  }

  private async buildIndex(db: Db): Promise<HashIndex> {
    const all = await readOnly(db, [BLOCK_HEADERS], (tx) => this.chain.readAll(tx))
    const n = all.length / BLOCK_HEADER_BYTES
    const index = new HashIndex(n * 2)
    for (let i = 0; i < n; i++) index.insert(hashKey(sha256d(all.subarray(i * BLOCK_HEADER_BYTES, (i + 1) * BLOCK_HEADER_BYTES))), i)
    this.index = index
    return index
  }
}

/**
 * A chain of fixed-size records (filter headers, block headers) kept in
 * chunks of `perChunk` records under keys 0, 1, 2...: chunk k holds records
 * [k * perChunk, (k + 1) * perChunk), every chunk but the last full.
 */
class ChunkChain {
  private readonly chunkBytes: number

  constructor(
    private readonly storeName: typeof FILTER_HEADERS | typeof BLOCK_HEADERS,
    private readonly recordBytes: number,
    private readonly perChunk: number,
    private readonly corruptCode: LightStoreErrorCode,
    private readonly dbName: string,
  ) {
    this.chunkBytes = recordBytes * perChunk
  }

  /** Records stored: read from the last chunk (every chunk below it is full). */
  async count(tx: Tx): Promise<number> {
    const cursor = await this.store(tx).openCursor(null, 'prev')
    if (cursor === null) return 0
    if (typeof cursor.key !== 'number' || !Number.isSafeInteger(cursor.key) || cursor.key < 0) throw this.corrupt(`a chunk key ${String(cursor.key)}`)
    const value = this.checkChunk(cursor.key, cursor.value, false)
    return cursor.key * this.perChunk + value.length / this.recordBytes
  }

  /** Record `index`, or undefined when it is not stored. */
  async get(tx: Tx, index: number): Promise<Uint8Array | undefined> {
    if (!Number.isSafeInteger(index) || index < 0) return undefined
    const k = Math.floor(index / this.perChunk)
    const raw: unknown = await this.store(tx).get(k)
    if (raw === undefined) return undefined
    const chunk = this.checkChunk(k, raw, false)
    const at = (index - k * this.perChunk) * this.recordBytes
    return at < chunk.length ? chunk.slice(at, at + this.recordBytes) : undefined
  }

  /** Every record, concatenated; checks that the chunks are whole and consecutive. */
  async readAll(tx: Tx): Promise<Uint8Array> {
    const store = this.store(tx)
    const [keys, values] = await Promise.all([store.getAllKeys(), store.getAll()])
    if (keys.length === 0) return new Uint8Array(0)
    let total = 0
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== i) throw this.corrupt(`chunk ${i} is missing (found ${String(keys[i])})`)
      total += this.checkChunk(i, values[i], i < keys.length - 1).length
    }
    const out = new Uint8Array(total)
    let at = 0
    for (const v of values as Uint8Array[]) {
      out.set(v, at)
      at += v.length
    }
    return out
  }

  /**
   * Writes `data` (whole records) from record `index` on and drops every
   * record above it, rewriting only the chunk `index` falls in and those
   * above. The caller has checked `index` against `count`.
   */
  async write(tx: Tx, index: number, data: Uint8Array): Promise<void> {
    const store = this.store(tx)
    const first = Math.floor(index / this.perChunk)
    const keepBytes = (index - first * this.perChunk) * this.recordBytes
    let bytes = data
    if (keepBytes > 0) {
      const old = this.checkChunk(first, await store.get(first), false)
      if (old.length < keepBytes) throw this.corrupt(`chunk ${first} is shorter than the records below the write`)
      bytes = new Uint8Array(keepBytes + data.length)
      bytes.set(old.subarray(0, keepBytes))
      bytes.set(data, keepBytes)
    }
    const chunks = Math.ceil(bytes.length / this.chunkBytes)
    // The requests run together; each is observed as it is made, so when a
    // later one throws (and the transaction is aborted) the ones before it
    // reject into a handler, not into an unhandled rejection.
    const requests: Promise<unknown>[] = []
    const issue = (request: Promise<unknown>): void => {
      request.catch(() => undefined)
      requests.push(request)
    }
    // slice(): each record gets exactly its own bytes (a view would clone its whole buffer).
    for (let i = 0; i < chunks; i++) issue(store.put(bytes.slice(i * this.chunkBytes, (i + 1) * this.chunkBytes), first + i))
    issue(store.delete(IDBKeyRange.lowerBound(first + chunks)))
    await Promise.all(requests)
  }

  /** A LightStoreError for a damaged chain. */
  corrupt(reason: string): LightStoreError {
    return new LightStoreError(this.corruptCode, `light store: ${this.storeName} in database ${this.dbName} is damaged (${reason})`, {
      name: this.dbName,
      reason,
    })
  }

  private store(tx: Tx): ChunkStore {
    return tx.objectStore(this.storeName) as unknown as ChunkStore
  }

  /** `value` as chunk `key`: bytes, whole records, not empty, full when `mustBeFull`. */
  private checkChunk(key: number, value: unknown, mustBeFull: boolean): Uint8Array {
    if (!(value instanceof Uint8Array)) throw this.corrupt(`chunk ${key} is not bytes`)
    const ok = value.length > 0 && value.length <= this.chunkBytes && value.length % this.recordBytes === 0 && (!mustBeFull || value.length === this.chunkBytes)
    if (!ok) throw this.corrupt(`chunk ${key} holds ${value.length} bytes`)
    return value
  }
}

/** What a ChunkChain uses of an object store (idb's types, narrowed to the chunk stores). */
interface ChunkStore {
  openCursor(query: null, direction: 'prev'): Promise<{ readonly key: IDBValidKey; readonly value: unknown } | null>
  get(key: number): Promise<unknown>
  getAll(): Promise<unknown[]>
  getAllKeys(): Promise<IDBValidKey[]>
  put(value: Uint8Array, key: number): Promise<IDBValidKey>
  delete(key: IDBKeyRange): Promise<void>
}

/** A held Web Lock (or none, where the API is missing). */
interface WebLock {
  release(): void
}

/** The minimal shape of `navigator.locks` used here. */
interface LockManagerLike {
  request(name: string, options: { mode: 'exclusive'; ifAvailable: true }, callback: (lock: unknown) => Promise<void>): Promise<unknown>
}

/** Takes the exclusive Web Lock of database `name`; LOCKED when someone holds it. */
async function takeWebLock(name: string): Promise<WebLock> {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks
  if (locks === undefined) return { release() {} }
  const lockName = INDEXEDDB_LOCK_PREFIX + name
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  const got = await new Promise<boolean>((resolve, reject) => {
    // The lock is held until the callback's promise settles: until release().
    locks
      .request(lockName, { mode: 'exclusive', ifAvailable: true }, async (lock) => {
        resolve(lock !== null)
        if (lock !== null) await held
      })
      .catch(reject)
  })
  if (!got) {
    throw new LightStoreError('LOCKED', `light store: database ${name} is open in another tab or worker (Web Lock ${lockName})`, { name, reason: 'held by another holder' })
  }
  return { release }
}

/** One open database shared by the two stores; closes when both are closed. */
class Connection {
  /** Calls of both stores, one at a time in call order. */
  readonly queue = new SerialQueue()
  private attached = 0
  /** Why the browser or another connection took the database away, if it did. */
  private lost: string | undefined

  private constructor(
    readonly name: string,
    private db: Db | undefined,
    private readonly lock: WebLock,
  ) {}

  static async open(name: string, lock: WebLock): Promise<Connection> {
    let conn: Connection | undefined
    let db: Db
    try {
      db = await openDB<StoresSchema>(name, INDEXEDDB_STORE_VERSION, {
        upgrade(up, oldVersion) {
          if (oldVersion < 1) {
            up.createObjectStore(FILTER_HEADERS)
            up.createObjectStore(LIGHT_STATE)
            up.createObjectStore(BLOCK_HEADERS)
            up.createObjectStore(BLOCK_HEADER_BASE)
          }
        },
        // Another connection wants to upgrade or delete the database: let it.
        blocking() {
          conn?.lose('another connection upgraded or deleted the database')
        },
        terminated() {
          conn?.lose('the browser closed the database')
        },
      })
    } catch (e) {
      if ((e as { name?: string }).name === 'VersionError') {
        throw new LightStoreError('UNSUPPORTED_VERSION', `light store: database ${name} has a newer layout than ${INDEXEDDB_STORE_VERSION}`, {
          name,
          expected: INDEXEDDB_STORE_VERSION,
        })
      }
      throw e
    }
    const have = [...db.objectStoreNames].sort()
    const want = [BLOCK_HEADERS, BLOCK_HEADER_BASE, FILTER_HEADERS, LIGHT_STATE].sort()
    if (have.join() !== want.join()) {
      db.close()
      throw new LightStoreError('UNSUPPORTED_VERSION', `light store: database ${name} is not a database of these stores (object stores: ${have.join(', ')})`, {
        name,
        expected: want.join(', '),
        actual: have.join(', '),
      })
    }
    conn = new Connection(name, db, lock)
    return conn
  }

  attach(): void {
    this.attached++
  }

  /** One store closed; the last one closes the database and releases the lock. */
  detach(): void {
    if (--this.attached > 0) return
    this.db?.close()
    this.db = undefined
    this.lock.release()
  }

  /** Runs `task` in call order on the open database; CLOSED when it was taken away. */
  run<T>(task: (db: Db) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      if (this.db === undefined) throw closedError(this.name, this.lost ?? 'closed')
      return task(this.db)
    })
  }

  /** The database was taken away: close it, and let the next holder have the lock (release is idempotent). */
  private lose(reason: string): void {
    this.lost = reason
    this.db?.close()
    this.db = undefined
    this.lock.release()
  }
}

function closedError(name: string, reason: string): LightStoreError {
  return new LightStoreError('CLOSED', `light store: database ${name} is ${reason === 'closed' ? 'closed' : `closed: ${reason}`}`, { name, reason })
}

/** Runs `body` in one read-only transaction over `stores`. */
async function readOnly<T>(db: Db, stores: Names[], body: (tx: Tx) => Promise<T>): Promise<T> {
  const tx = db.transaction(stores, 'readonly')
  try {
    return await body(tx)
  } finally {
    await tx.done.catch(() => undefined) // a failed request already rejected what body awaited
  }
}

/**
 * Runs `body` in one read-write transaction over `stores`, with strict
 * durability (on disk before it resolves). When `body` throws, the
 * transaction is aborted: nothing of it is written.
 */
async function readWrite<T>(db: Db, stores: Names[], body: (tx: WTx) => Promise<T>): Promise<T> {
  const tx = db.transaction(stores, 'readwrite', { durability: 'strict' })
  let result: T
  try {
    result = await body(tx)
  } catch (e) {
    try {
      tx.abort()
    } catch {
      // Already finished or aborted by the failing request.
    }
    await tx.done.catch(() => undefined)
    throw e
  }
  await tx.done
  return result
}
