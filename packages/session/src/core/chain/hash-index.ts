/**
 * A compact hash table from a 32-byte block hash to a small integer (a slot
 * or a height), for indexes of a million headers and more.
 *
 * A `Map<string, number>` keyed by hex costs over 100 bytes per entry (the
 * 64-character key string alone is ~80). Here each bucket is 8 bytes (a
 * 32-bit key and a 32-bit value, side by side in one typed array), kept at
 * most half full: 16-32 bytes per entry.
 *
 * The key is only the first 4 bytes of the hash, so different hashes can
 * share a key. The index never decides equality itself: `find` hands every
 * value stored under the key to the caller's `matches`, which compares the
 * full hash against wherever the caller keeps it. A collision costs a probe,
 * never a wrong answer.
 */

/** Buckets in a new index (a power of two). */
export const HASH_INDEX_INITIAL_BUCKETS = 1024

/** Bytes of a block hash. */
const HASH_BYTES = 32

/** Grow when entries exceed this fraction of the buckets (linear probing degrades past ~0.7). */
const MAX_LOAD = 0.5

/** Largest bucket count: 2^30 buckets hold 2^29 entries, far above any header chain. */
const MAX_BUCKETS = 2 ** 30

/**
 * The 32-bit index key of a hash: its first four bytes, little-endian. The
 * first bytes of a block hash are the uniformly random end of the number
 * (proof of work zeroes the last bytes of the internal order).
 */
export function hashKey(hash: Uint8Array, offset = 0): number {
  return (hash[offset]! | (hash[offset + 1]! << 8) | (hash[offset + 2]! << 16) | (hash[offset + 3]! << 24)) >>> 0
}

/** Where the full hashes behind an index's values are kept (see HashIndex.findHash). */
export interface HashSource {
  /** True when the full hash of `value` equals hash[offset .. offset + 32]. */
  hashEquals(value: number, hash: Uint8Array, offset: number): boolean
}

/**
 * Open addressing with linear probing; insert-only (stale values are
 * filtered by `matches`). A bucket is two adjacent Int32 cells, the key and
 * value + 1 (0 marks an empty bucket), so a probe reads one cache line.
 */
export class HashIndex {
  /** Per bucket: [key | 0, value + 1]. */
  private buckets: Int32Array
  /** Bucket count - 1. */
  private mask: number
  /** 32 - log2(buckets): bucketOf takes the top bits of the product. */
  private shift: number
  private count = 0

  constructor(buckets = HASH_INDEX_INITIAL_BUCKETS) {
    let n = HASH_INDEX_INITIAL_BUCKETS
    while (n < buckets && n < MAX_BUCKETS) n *= 2
    this.buckets = new Int32Array(2 * n)
    this.mask = n - 1
    this.shift = 32 - Math.log2(n)
  }

  /** Entries inserted. */
  get size(): number {
    return this.count
  }

  /** Bytes held by the bucket array. */
  get byteLength(): number {
    return this.buckets.byteLength
  }

  /** Adds `value` (0 <= value < 2^31 - 1) under `key`. Duplicates are the caller's to avoid. */
  insert(key: number, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value >= 0x7fffffff) throw new RangeError(`hash index value out of range: ${value}`)
    if (this.count + 1 > (this.mask + 1) * MAX_LOAD) this.grow()
    this.place(key | 0, value + 1)
    this.count++
  }

  /**
   * The first value stored under `key` for which `matches(value)` is true,
   * or -1. Values are offered in insertion order among equal keys only as
   * far as probing preserves it; callers must not rely on order.
   */
  find(key: number, matches: (value: number) => boolean): number {
    const k = key | 0
    const b = this.buckets
    const mask = this.mask
    let i = bucketOf(k, this.shift)
    for (;;) {
      const v = b[2 * i + 1]!
      if (v === 0) return -1
      if (b[2 * i] === k && matches(v - 1)) return v - 1
      i = (i + 1) & mask
    }
  }

  /**
   * `find` without a callback: the value whose full hash, as `source` keeps
   * it, equals hash[offset .. offset + 32], or -1. `source.hashEquals` is
   * a method of one object, so the lookup allocates nothing (HeaderTree
   * looks up headers by the hundred thousand).
   */
  findHash(source: HashSource, hash: Uint8Array, offset = 0): number {
    if (!(offset >= 0 && offset + HASH_BYTES <= hash.length)) return -1
    const k = hashKey(hash, offset) | 0
    const b = this.buckets
    const mask = this.mask
    let i = bucketOf(k, this.shift)
    for (;;) {
      const v = b[2 * i + 1]!
      if (v === 0) return -1
      if (b[2 * i] === k && source.hashEquals(v - 1, hash, offset)) return v - 1
      i = (i + 1) & mask
    }
  }

  private place(key: number, stored: number): void {
    const b = this.buckets
    let i = bucketOf(key, this.shift)
    while (b[2 * i + 1] !== 0) i = (i + 1) & this.mask
    b[2 * i] = key
    b[2 * i + 1] = stored
  }

  private grow(): void {
    const n = (this.mask + 1) * 2
    if (n > MAX_BUCKETS) throw new RangeError('hash index is full')
    const old = this.buckets
    this.buckets = new Int32Array(2 * n)
    this.mask = n - 1
    this.shift = 32 - Math.log2(n)
    for (let i = 1; i < old.length; i += 2) {
      if (old[i] !== 0) this.place(old[i - 1]!, old[i]!)
    }
  }
}

/**
 * Spread the key over the buckets (Fibonacci hashing): the top bits of
 * key x 2^32/phi depend on every bit of the key, so keys that share their
 * low bits do not pile up in one run of buckets.
 */
function bucketOf(key: number, shift: number): number {
  return Math.imul(key, 0x9e3779b1) >>> shift
}
