/**
 * Persistence of the active header chain. A HeaderTree lives in memory and
 * decides; a HeaderStore only records the active chain so a restart can
 * rebuild the tree without downloading and re-validating every header.
 *
 * The store holds one linear chain by height, from a base height (the first
 * header ever written, usually genesis) to a tip. Writing a header at height
 * h replaces whatever was at h and drops everything above it: that is how a
 * reorg rewrites the tail (write `connected` of a reorg result with
 * putBatch). The interface is asynchronous so that stores over async media
 * (IndexedDB, a file) fit it.
 *
 * Trust model: what a store returns from `load()` is trusted by the tree it
 * is fed to (only linkage is re-checked, not proof of work or the difficulty
 * rules), so a store must only ever be written with headers a HeaderTree
 * accepted, and must live where only this program can write.
 */
import { bytesEqual, hashToHex, parseBlockHeader } from '@bitp2p/wire'
import { BLOCK_HEADER_BYTES } from '@bitp2p/wire/limits'
import type { BlockHeader } from '@bitp2p/wire'
import type { HeaderEntry, TrustedBase } from './tree.js'

/** A header as a store returns it. */
export interface StoredHeader {
  readonly height: number
  /** Block hash, internal byte order. */
  readonly hash: Uint8Array
  readonly header: BlockHeader
}

/** What a store needs to write a header: a HeaderEntry has all of it. */
export type HeaderRecord = Pick<HeaderEntry, 'height' | 'hash' | 'raw' | 'chainWork'>

/** Storage of the active chain; see the module comment. */
export interface HeaderStore {
  /** The header at `height`, if stored. */
  getByHeight(height: number): Promise<StoredHeader | undefined>
  /** The header with this hash, if it is on the stored chain. */
  getByHash(hash: Uint8Array): Promise<StoredHeader | undefined>
  /** The highest stored header. */
  tip(): Promise<StoredHeader | undefined>
  /**
   * Stores `record` at its height, dropping anything above it. Its height
   * must be in [base, tip + 1]; into an empty store it becomes the base, and
   * its chainWork is kept as the base's work.
   */
  put(record: HeaderRecord): Promise<void>
  /** Stores consecutive ascending records as `put` would, in one write. */
  putBatch(records: readonly HeaderRecord[]): Promise<void>
  /** Everything stored, as a base a HeaderTree can start from; undefined when empty. */
  load(): Promise<TrustedBase | undefined>
}

/**
 * Checks that `records` are consecutive and ascending and that the first
 * one lands in [base, tip + 1] of a store holding `count` headers from
 * `base` (any height when the store is empty). Throws RangeError: a misuse
 * by the program, never caused by remote data.
 */
export function checkBatch(records: readonly HeaderRecord[], base: number, count: number): void {
  if (records.length === 0) return
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    if (r.raw.length !== BLOCK_HEADER_BYTES) throw new RangeError(`header store: record ${i} is not ${BLOCK_HEADER_BYTES} bytes`)
    if (i > 0 && r.height !== records[i - 1]!.height + 1) throw new RangeError('header store: records must be consecutive and ascending')
    if (i > 0 && !bytesEqual(r.raw.subarray(4, 36), records[i - 1]!.hash)) {
      throw new RangeError(`header store: record at height ${r.height} does not link to the one before`)
    }
  }
  const first = records[0]!.height
  if (count > 0 && (first < base || first > base + count)) {
    throw new RangeError(`header store: height ${first} is outside [${base}, ${base + count}]`)
  }
}

/** A HeaderStore in memory, for tests and short-lived clients. */
export class MemoryHeaderStore implements HeaderStore {
  private readonly raws: Uint8Array[] = []
  private readonly hashes: Uint8Array[] = []
  /** Height by display-hex hash: keys are hashes we computed, not strings from the network. */
  private readonly byHash = new Map<string, number>()
  private base = 0
  private baseWork = 0n

  async getByHeight(height: number): Promise<StoredHeader | undefined> {
    return this.read(height)
  }

  async getByHash(hash: Uint8Array): Promise<StoredHeader | undefined> {
    const h = this.byHash.get(hashToHex(hash))
    return h === undefined ? undefined : this.read(h)
  }

  async tip(): Promise<StoredHeader | undefined> {
    return this.raws.length === 0 ? undefined : this.read(this.base + this.raws.length - 1)
  }

  async put(record: HeaderRecord): Promise<void> {
    return this.putBatch([record])
  }

  async putBatch(records: readonly HeaderRecord[]): Promise<void> {
    checkBatch(records, this.base, this.raws.length)
    if (records.length === 0) return
    const first = records[0]!
    if (this.raws.length === 0) {
      this.base = first.height
      this.baseWork = first.chainWork
    }
    const keep = first.height - this.base
    for (let i = keep; i < this.hashes.length; i++) this.byHash.delete(hashToHex(this.hashes[i]!))
    this.raws.length = keep
    this.hashes.length = keep
    for (const r of records) {
      this.raws.push(r.raw.slice())
      this.hashes.push(r.hash.slice())
      this.byHash.set(hashToHex(r.hash), r.height)
    }
  }

  async load(): Promise<TrustedBase | undefined> {
    if (this.raws.length === 0) return undefined
    const headers = new Uint8Array(this.raws.length * BLOCK_HEADER_BYTES)
    this.raws.forEach((r, i) => headers.set(r, i * BLOCK_HEADER_BYTES))
    return { height: this.base, headers, chainWork: this.baseWork, tipHash: this.hashes[this.hashes.length - 1]!.slice() }
  }

  private read(height: number): StoredHeader | undefined {
    const i = height - this.base
    if (!Number.isInteger(i) || i < 0 || i >= this.raws.length) return undefined
    return { height, hash: this.hashes[i]!.slice(), header: parseBlockHeader(this.raws[i]!) }
  }
}
