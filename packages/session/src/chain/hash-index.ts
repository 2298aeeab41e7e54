/**
 * A compact hash table from a 32-byte block hash to a small integer (a slot
 * or a height), for indexes of a million headers and more.
 *
 * A `Map<string, number>` keyed by hex costs over 100 bytes per entry (the
 * 64-character key string alone is ~80). Here each bucket is 8 bytes (a
 * 32-bit key and a 32-bit value) in two typed arrays, kept at most half
 * full: 16-32 bytes per entry.
 *
 * The key is only the first 4 bytes of the hash, so different hashes can
 * share a key. The index never decides equality itself: `find` hands every
 * value stored under the key to the caller's `matches`, which compares the
 * full hash against wherever the caller keeps it. A collision costs a probe,
 * never a wrong answer.
 */

/** Buckets in a new index (a power of two). */
export const HASH_INDEX_INITIAL_BUCKETS = 1024

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

/** Open addressing with linear probing; insert-only (stale values are filtered by `matches`). */
export class HashIndex {
  private keys: Uint32Array
  /** value + 1; 0 marks an empty bucket. */
  private values: Int32Array
  private mask: number
  /** 32 - log2(buckets): bucketOf takes the top bits of the product. */
  private shift: number
  private count = 0

  constructor(buckets = HASH_INDEX_INITIAL_BUCKETS) {
    let n = HASH_INDEX_INITIAL_BUCKETS
    while (n < buckets && n < MAX_BUCKETS) n *= 2
    this.keys = new Uint32Array(n)
    this.values = new Int32Array(n)
    this.mask = n - 1
    this.shift = 32 - Math.log2(n)
  }

  /** Entries inserted. */
  get size(): number {
    return this.count
  }

  /** Bytes held by the two bucket arrays. */
  get byteLength(): number {
    return this.keys.byteLength + this.values.byteLength
  }

  /** Adds `value` (0 <= value < 2^31 - 1) under `key`. Duplicates are the caller's to avoid. */
  insert(key: number, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value >= 0x7fffffff) throw new RangeError(`hash index value out of range: ${value}`)
    if (this.count + 1 > this.values.length * MAX_LOAD) this.grow()
    this.place(key >>> 0, value + 1)
    this.count++
  }

  /**
   * The first value stored under `key` for which `matches(value)` is true,
   * or -1. Values are offered in insertion order among equal keys only as
   * far as probing preserves it; callers must not rely on order.
   */
  find(key: number, matches: (value: number) => boolean): number {
    const k = key >>> 0
    const keys = this.keys
    const values = this.values
    let i = bucketOf(k, this.shift)
    for (;;) {
      const v = values[i]!
      if (v === 0) return -1
      if (keys[i] === k && matches(v - 1)) return v - 1
      i = (i + 1) & this.mask
    }
  }

  private place(key: number, stored: number): void {
    const keys = this.keys
    const values = this.values
    let i = bucketOf(key, this.shift)
    while (values[i] !== 0) i = (i + 1) & this.mask
    keys[i] = key
    values[i] = stored
  }

  private grow(): void {
    const n = this.values.length * 2
    if (n > MAX_BUCKETS) throw new RangeError('hash index is full')
    const oldKeys = this.keys
    const oldValues = this.values
    this.keys = new Uint32Array(n)
    this.values = new Int32Array(n)
    this.mask = n - 1
    this.shift = 32 - Math.log2(n)
    for (let i = 0; i < oldValues.length; i++) {
      if (oldValues[i] !== 0) this.place(oldKeys[i]!, oldValues[i]!)
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
