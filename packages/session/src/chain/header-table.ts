/**
 * Column storage for every header a HeaderTree holds (active chain and
 * forks): the 80 raw bytes, the 32-byte hash, the parent slot and the
 * height in growable typed arrays, the cumulative work in one bigint array,
 * and a HashIndex from hash to slot. A header is a slot number; nothing is
 * ever removed, so slots are stable.
 *
 * Per header this costs 80 + 32 + 4 + 4 + 4 bytes of columns, a bigint of
 * chain work (~30 bytes with its array cell) and 16-32 bytes of index:
 * about 185 bytes measured for a million headers (see tree.ts).
 */
import { BLOCK_HEADER_BYTES } from '@bitp2p/wire'
import { HashIndex, hashKey } from './hash-index.js'

/** Bytes of a block hash. */
export const HASH_BYTES = 32

/** Slots reserved by a new table; columns double when full. */
const INITIAL_CAPACITY = 1024

/** Byte offsets of fields inside a serialized header. */
const TIME_OFFSET = 68
const BITS_OFFSET = 72

/** Append-only columns of headers; see the module comment. */
export class HeaderTable {
  private raw: Uint8Array
  private hashes: Uint8Array
  private parents: Int32Array
  private heights: Int32Array
  /** Per slot: the slot the min-difficulty walk-back from it ends at, or -1 (see HeaderTree). */
  private walks: Int32Array
  private readonly works: bigint[] = []
  private readonly index = new HashIndex()
  private n = 0

  constructor(capacity = INITIAL_CAPACITY) {
    const c = Math.max(1, capacity)
    this.raw = new Uint8Array(c * BLOCK_HEADER_BYTES)
    this.hashes = new Uint8Array(c * HASH_BYTES)
    this.parents = new Int32Array(c)
    this.heights = new Int32Array(c)
    this.walks = new Int32Array(c)
  }

  /** Headers held. */
  get size(): number {
    return this.n
  }

  /** Bytes reserved by the typed-array columns and the index (not the bigints). */
  get byteLength(): number {
    return this.raw.byteLength + this.hashes.byteLength + this.parents.byteLength + this.heights.byteLength + this.walks.byteLength + this.index.byteLength
  }

  /**
   * Appends one header and returns its slot. `raw` is the 80-byte header,
   * `hash` its sha256d; `parent` is the parent's slot or -1 for a base
   * header whose parent is not held; `walk` is stored for `walk()` (-2
   * means "this slot itself"). The caller has checked that the hash is not
   * present yet.
   */
  add(raw: Uint8Array, hash: Uint8Array, parent: number, height: number, chainWork: bigint, walk: number): number {
    if (raw.length !== BLOCK_HEADER_BYTES) throw new RangeError(`a header is ${BLOCK_HEADER_BYTES} bytes, got ${raw.length}`)
    if (hash.length !== HASH_BYTES) throw new RangeError(`a hash is ${HASH_BYTES} bytes, got ${hash.length}`)
    if (this.n === this.parents.length) this.grow()
    const slot = this.n++
    this.raw.set(raw, slot * BLOCK_HEADER_BYTES)
    this.hashes.set(hash, slot * HASH_BYTES)
    this.parents[slot] = parent
    this.heights[slot] = height
    this.walks[slot] = walk === -2 ? slot : walk
    this.works.push(chainWork)
    this.index.insert(hashKey(hash), slot)
    return slot
  }

  /** Slot of the header with this hash, or -1. */
  find(hash: Uint8Array): number {
    if (hash.length !== HASH_BYTES) return -1
    const hashes = this.hashes
    return this.index.find(hashKey(hash), (slot) => {
      const o = slot * HASH_BYTES
      for (let i = 0; i < HASH_BYTES; i++) if (hashes[o + i] !== hash[i]) return false
      return true
    })
  }

  parent(slot: number): number {
    return this.parents[slot]!
  }

  height(slot: number): number {
    return this.heights[slot]!
  }

  /** The stored walk-back slot of `slot`, or -1. */
  walk(slot: number): number {
    return this.walks[slot]!
  }

  chainWork(slot: number): bigint {
    return this.works[slot]!
  }

  /** Block time (u32) read straight from the stored bytes. */
  time(slot: number): number {
    return readU32(this.raw, slot * BLOCK_HEADER_BYTES + TIME_OFFSET)
  }

  /** Compact target (nBits) read straight from the stored bytes. */
  bits(slot: number): number {
    return readU32(this.raw, slot * BLOCK_HEADER_BYTES + BITS_OFFSET)
  }

  /** A copy of the 80 header bytes. */
  rawHeader(slot: number): Uint8Array {
    const o = slot * BLOCK_HEADER_BYTES
    return this.raw.slice(o, o + BLOCK_HEADER_BYTES)
  }

  /** A copy of the hash (internal byte order). */
  hash(slot: number): Uint8Array {
    const o = slot * HASH_BYTES
    return this.hashes.slice(o, o + HASH_BYTES)
  }

  /** Compares the stored hash of `slot` with `hash` without copying. */
  hashEquals(slot: number, hash: Uint8Array): boolean {
    const o = slot * HASH_BYTES
    for (let i = 0; i < HASH_BYTES; i++) if (this.hashes[o + i] !== hash[i]) return false
    return true
  }

  private grow(): void {
    const c = this.parents.length * 2
    this.raw = growBytes(this.raw, c * BLOCK_HEADER_BYTES)
    this.hashes = growBytes(this.hashes, c * HASH_BYTES)
    const parents = new Int32Array(c)
    parents.set(this.parents)
    this.parents = parents
    const heights = new Int32Array(c)
    heights.set(this.heights)
    this.heights = heights
    const walks = new Int32Array(c)
    walks.set(this.walks)
    this.walks = walks
  }
}

function growBytes(a: Uint8Array, length: number): Uint8Array {
  const b = new Uint8Array(length)
  b.set(a)
  return b
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
}
