/**
 * BIP37 bloom filters: what an SPV client sends in `filterload` so a full
 * node relays only the transactions (and merkleblocks) it may care about.
 *
 * Hash function i of n is MurmurHash3 (x86, 32-bit) seeded with
 * i * 0xFBA4C795 + nTweak, taken modulo the filter's size in bits.
 * Sizing follows Bitcoin Core's CBloomFilter constructor exactly, so the
 * same (elements, fpRate) gives the same filter bytes as Core.
 */
import { WireError } from '../errors.js'

/** Core's MAX_BLOOM_FILTER_SIZE: largest filter in bytes (20,000 items at 0.1% false positives). */
export const MAX_BLOOM_FILTER_SIZE = 36_000
/** Core's MAX_HASH_FUNCS: most hash functions a filter may ask for. */
export const MAX_HASH_FUNCS = 50
/** BIP37: per-hash-function seed multiplier (nHashNum * 0xFBA4C795 + nTweak). */
export const BLOOM_SEED_MULTIPLIER = 0xfba4c795

/** BIP37 nFlags: how the remote node updates the filter when an output matches. */
export const BloomFlags = {
  /** Never add matched outpoints. */
  UPDATE_NONE: 0,
  /** Add the outpoint of every matched output. */
  UPDATE_ALL: 1,
  /** Add outpoints only for matched pay-to-pubkey and bare multisig outputs. */
  UPDATE_P2PUBKEY_ONLY: 2,
  /** The bits that carry the update mode. */
  UPDATE_MASK: 3,
} as const

// Core's constants: ln(2)^2 and ln(2), in double precision.
const LN2SQUARED = 0.4804530139182014246671025263266649717305529515945455
const LN2 = 0.6931471805599453094172321214581765680755001343602552

/**
 * MurmurHash3 x86_32 of `data` with `seed`, as a uint32. Blocks of 4 bytes are
 * read little-endian; the 0..3 tail bytes likewise.
 */
export function murmur3(seed: number, data: Uint8Array): number {
  const c1 = 0xcc9e2d51
  const c2 = 0x1b873593
  let h = seed >>> 0
  const n = data.length
  const blocks = n & ~3
  let k = 0
  for (let i = 0; i < blocks; i += 4) {
    k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, c1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, c2)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  k = 0
  switch (n & 3) {
    case 3:
      k ^= data[blocks + 2]! << 16
    // falls through
    case 2:
      k ^= data[blocks + 1]! << 8
    // falls through
    case 1:
      k ^= data[blocks]!
      k = Math.imul(k, c1)
      k = (k << 15) | (k >>> 17)
      k = Math.imul(k, c2)
      h ^= k
  }
  // Finalization mix: force every input bit to affect every output bit.
  h ^= n
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** The fields of a `filterload` message. */
export interface BloomFilterParams {
  /** The bit field, bit i at byte i >> 3, bit i & 7. At most MAX_BLOOM_FILTER_SIZE bytes. */
  readonly filter: Uint8Array
  /** Number of hash functions, at most MAX_HASH_FUNCS. */
  readonly nHashFuncs: number
  /** u32 added to every hash seed, so different clients' filters differ. */
  readonly nTweak: number
  /** A BloomFlags value. */
  readonly nFlags: number
}

/**
 * A BIP37 bloom filter. Build one with `BloomFilter.create(elements, fpRate,
 * tweak, flags)`, insert the scripts, pubkey hashes or outpoints to watch,
 * and send `toParams()` as a filterload.
 */
export class BloomFilter {
  private readonly data: Uint8Array
  readonly nHashFuncs: number
  readonly nTweak: number
  readonly nFlags: number

  private constructor(data: Uint8Array, nHashFuncs: number, nTweak: number, nFlags: number) {
    this.data = data
    this.nHashFuncs = nHashFuncs
    this.nTweak = nTweak
    this.nFlags = nFlags
  }

  /**
   * A filter sized for `elements` items at false-positive rate `fpRate`
   * (0 < fpRate < 1), capped at MAX_BLOOM_FILTER_SIZE bytes and
   * MAX_HASH_FUNCS functions; Core's formula:
   *   bytes = min(floor(-1 / ln2^2 * elements * ln(fpRate)), 36000 * 8) / 8
   *   funcs = min(floor(bytes * 8 / elements (integer division) * ln2), 50)
   */
  static create(elements: number, fpRate: number, nTweak: number, nFlags: number = BloomFlags.UPDATE_ALL): BloomFilter {
    if (!Number.isInteger(elements) || elements < 1 || elements > 0xffffffff) {
      throw new WireError('ENCODE_RANGE', `bloom filter element count must be a u32 >= 1, got ${elements}`, { actual: elements })
    }
    if (!(fpRate > 0 && fpRate < 1)) {
      throw new WireError('ENCODE_RANGE', `bloom filter false-positive rate must be in (0, 1), got ${fpRate}`)
    }
    checkU32(nTweak, 'nTweak')
    checkU8(nFlags, 'nFlags')
    const bits = Math.min(Math.trunc((-1 / LN2SQUARED) * elements * Math.log(fpRate)), MAX_BLOOM_FILTER_SIZE * 8)
    const bytes = Math.floor(bits / 8)
    const funcs = Math.min(Math.trunc(Math.floor((bytes * 8) / elements) * LN2), MAX_HASH_FUNCS)
    return new BloomFilter(new Uint8Array(bytes), funcs, nTweak >>> 0, nFlags)
  }

  /** A filter from filterload fields (copied). Throws WireError OVERSIZE beyond Core's limits. */
  static fromParams(p: BloomFilterParams): BloomFilter {
    if (p.filter.length > MAX_BLOOM_FILTER_SIZE) {
      throw new WireError('OVERSIZE', `bloom filter of ${p.filter.length} bytes exceeds ${MAX_BLOOM_FILTER_SIZE}`, {
        field: 'MAX_BLOOM_FILTER_SIZE',
        limit: MAX_BLOOM_FILTER_SIZE,
        actual: p.filter.length,
      })
    }
    if (p.nHashFuncs > MAX_HASH_FUNCS) {
      throw new WireError('OVERSIZE', `bloom filter asks for ${p.nHashFuncs} hash functions, limit ${MAX_HASH_FUNCS}`, {
        field: 'MAX_HASH_FUNCS',
        limit: MAX_HASH_FUNCS,
        actual: p.nHashFuncs,
      })
    }
    checkU32(p.nHashFuncs, 'nHashFuncs')
    checkU32(p.nTweak, 'nTweak')
    checkU8(p.nFlags, 'nFlags')
    return new BloomFilter(p.filter.slice(), p.nHashFuncs, p.nTweak, p.nFlags)
  }

  /** Size of the bit field in bytes. */
  get byteLength(): number {
    return this.data.length
  }

  private bitIndex(i: number, item: Uint8Array): number {
    // Seeds wrap at 32 bits, as Core's unsigned arithmetic does.
    const seed = (Math.imul(i, BLOOM_SEED_MULTIPLIER) + this.nTweak) >>> 0
    return murmur3(seed, item) % (this.data.length * 8)
  }

  /** Add an item (a script push, pubkey hash, txid, or serialized outpoint). */
  insert(item: Uint8Array): void {
    // An empty filter has no bits to set (Core returns early too).
    if (this.data.length === 0) return
    for (let i = 0; i < this.nHashFuncs; i++) {
      const bit = this.bitIndex(i, item)
      this.data[bit >>> 3]! |= 1 << (bit & 7)
    }
  }

  /**
   * True when the item may be in the set (false positives at about the
   * design rate), false when it is certainly not. An empty filter matches
   * everything, as in Core (the CVE-2013-5700 divide-by-zero guard).
   */
  contains(item: Uint8Array): boolean {
    if (this.data.length === 0) return true
    for (let i = 0; i < this.nHashFuncs; i++) {
      const bit = this.bitIndex(i, item)
      if ((this.data[bit >>> 3]! & (1 << (bit & 7))) === 0) return false
    }
    return true
  }

  /** Reset every bit. */
  clear(): void {
    this.data.fill(0)
  }

  /** Within Core's size limits (a peer drops filters that are not). */
  isWithinSizeConstraints(): boolean {
    return this.data.length <= MAX_BLOOM_FILTER_SIZE && this.nHashFuncs <= MAX_HASH_FUNCS
  }

  /** The filterload fields (the bit field is copied). */
  toParams(): BloomFilterParams {
    return { filter: this.data.slice(), nHashFuncs: this.nHashFuncs, nTweak: this.nTweak, nFlags: this.nFlags }
  }
}

function checkU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new WireError('ENCODE_RANGE', `${what} must be a u32, got ${v}`, { actual: v })
}
function checkU8(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new WireError('ENCODE_RANGE', `${what} must be a u8, got ${v}`, { actual: v })
}
