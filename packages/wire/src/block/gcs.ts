/**
 * BIP158 Golomb-coded sets and the basic block filter.
 *
 * A filter holds N items. Each item is hashed with SipHash-2-4 (key = the
 * first 16 bytes of the block hash, internal order) and mapped to
 * [0, N * M) by the high 64 bits of hash * (N * M). The sorted values are
 * stored as differences, each Golomb-Rice coded with parameter P: the
 * quotient d >> P in unary (that many 1 bits, then a 0), then the low P
 * bits, most significant bit first. Serialized:
 *   CompactSize N | bit stream, zero-padded to a byte
 *
 * The basic filter (type 0) uses P = 19, M = 784931 and holds every output
 * script of the block (except empty and OP_RETURN ones) and every script
 * the block's inputs spend (except empty ones).
 *
 * Filter headers chain like block headers:
 *   filterHeader = sha256d(sha256d(filter) || previous filterHeader)
 */
import { ByteReader } from '../bytes/reader.js'
import { ByteWriter } from '../bytes/writer.js'
import { toHex } from '../bytes/hex.js'
import { WireError } from '../errors.js'
import { sha256d, sha256dPair } from '../hash/sha256.js'
import { type SipHashKey, sipHashKeyFromBytes, siphash24Into } from '../hash/siphash.js'
import { SipHashBatch } from '../hash/siphash-batch.js'
import type { Transaction } from '../tx/types.js'
import { decodeFilterInto, type FilterLookup, lookupHashes, mulHighRange, newFilterLookup, prepareLookup } from './gcs-fast.js'

/** BIP158 basic filter: Golomb-Rice parameter (bits of remainder). */
export const BASIC_FILTER_P = 19
/** BIP158 basic filter: inverse false-positive rate (values range over N * M). */
export const BASIC_FILTER_M = 784931
/** OP_RETURN: outputs whose script starts with it are left out of the basic filter. */
const OP_RETURN = 0x6a
/**
 * Most items one filter may hold (N is read as a u32 in Core). The real
 * bound is tighter: every item takes at least P + 1 bits of the stream.
 */
export const MAX_GCS_ITEMS = 0xffffffff

/**
 * FilterMatcher's scratch (decoded values, bitmap words) grows to the next
 * multiple of this many entries, so filters of slowly growing size do not
 * reallocate it each time.
 */
const SCRATCH_STEP = 4096

/** Golomb-Rice parameters of a filter type. */
export interface GcsParams {
  /** Bits of remainder per value. */
  readonly p: number
  /** Inverse false-positive rate. */
  readonly m: number
}

/** The parameters of the BIP158 basic filter. */
export const BASIC_FILTER_PARAMS: GcsParams = Object.freeze({ p: BASIC_FILTER_P, m: BASIC_FILTER_M })

/** P must be 0..32 and M a positive u32 (Core stores both in 32 bits or less). */
function checkParams(params: GcsParams): void {
  const { p, m } = params
  if (!Number.isInteger(p) || p < 0 || p > 32 || !Number.isInteger(m) || m < 1 || m > 0xffffffff) {
    throw new WireError('ENCODE_RANGE', `GCS parameters out of range: P = ${p}, M = ${m}`)
  }
}

/** The range N * M must stay exact in a double for hash-to-range. */
function checkRange(n: number, m: number): number {
  const f = n * m
  if (f > Number.MAX_SAFE_INTEGER) {
    throw new WireError('OVERSIZE', `GCS filter: N * M = ${f} exceeds 2^53 - 1`, { field: 'N * M', limit: Number.MAX_SAFE_INTEGER, actual: f })
  }
  return f
}

/** The SipHash key of a block's filter: the first 16 bytes of its hash (internal order). */
export function gcsKey(blockHash: Uint8Array): SipHashKey {
  if (blockHash.length !== 32) {
    throw new WireError('ENCODE_RANGE', `block hash must be 32 bytes, got ${blockHash.length}`, { actual: blockHash.length })
  }
  return sipHashKeyFromBytes(blockHash.subarray(0, 16))
}

/** The value of `item` in a set of range f = N * M: high 64 bits of siphash(item) * f. */
export function gcsHashToRange(key: SipHashKey, item: Uint8Array, f: number, scratch: Uint32Array = new Uint32Array(2)): number {
  siphash24Into(key, item, scratch)
  const fHi = Math.floor(f / 0x100000000)
  return mulHighRange(scratch[0]!, scratch[1]!, f - fHi * 0x100000000, fHi)
}

/** Hash items into the sorted values of a set of range f (duplicates kept, as Core does). */
function hashedSet(key: SipHashKey, items: readonly Uint8Array[], f: number): number[] {
  const scratch = new Uint32Array(2)
  const values = items.map((it) => gcsHashToRange(key, it, f, scratch))
  return values.sort((x, y) => x - y)
}

/** Drop byte-identical duplicates (a filter is built from a set), keeping first occurrence order. */
function uniqueItems(items: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>()
  const out: Uint8Array[] = []
  for (const it of items) {
    const k = toHex(it)
    if (!seen.has(k)) {
      seen.add(k)
      out.push(it)
    }
  }
  return out
}

/**
 * Encode a Golomb-coded set of the distinct `items` under `key`.
 * Returns the serialized filter (CompactSize N | bit stream).
 */
export function buildGcsFilter(key: SipHashKey, params: GcsParams, items: readonly Uint8Array[]): Uint8Array {
  checkParams(params)
  const unique = uniqueItems(items)
  const n = unique.length
  const values = hashedSet(key, unique, checkRange(n, params.m))
  const w = new ByteWriter(16 + n * 3)
  w.compactSize(n)
  // Bits accumulate MSB first in `acc`; whole bytes are flushed as they fill.
  let acc = 0
  let accBits = 0
  const put = (bits: number, count: number) => {
    // count <= 24 here, so acc stays below 2^31.
    acc = (acc << count) | bits
    accBits += count
    while (accBits >= 8) {
      accBits -= 8
      w.u8((acc >>> accBits) & 0xff)
    }
    acc &= (1 << accBits) - 1
  }
  let last = 0
  const pMask = 2 ** params.p
  for (const v of values) {
    const delta = v - last
    last = v
    let q = Math.floor(delta / pMask)
    while (q > 0) {
      const k = Math.min(q, 16)
      put((1 << k) - 1, k)
      q -= k
    }
    put(0, 1)
    const rem = delta % pMask
    // P may exceed 24 in custom params; write the remainder in two pieces.
    if (params.p > 16) {
      put(Math.floor(rem / 65536), params.p - 16)
      put(rem % 65536, 16)
    } else {
      put(rem, params.p)
    }
  }
  if (accBits > 0) w.u8((acc << (8 - accBits)) & 0xff)
  return w.finish().slice()
}

/** The basic (type 0) filter of a block from its filter items; see basicFilterItems. */
export function buildBasicFilter(blockHash: Uint8Array, items: readonly Uint8Array[]): Uint8Array {
  return buildGcsFilter(gcsKey(blockHash), BASIC_FILTER_PARAMS, items)
}

/**
 * The items of a block's basic filter: each output script that is neither
 * empty nor starts with OP_RETURN, then each non-empty script spent by the
 * block's inputs (`prevOutputScripts`, in any order; the coinbase spends none).
 */
export function basicFilterItems(txs: readonly Transaction[], prevOutputScripts: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const tx of txs) {
    for (const o of tx.outputs) {
      const s = o.scriptPubKey
      if (s.length === 0 || s[0] === OP_RETURN) continue
      out.push(s)
    }
  }
  for (const s of prevOutputScripts) if (s.length > 0) out.push(s)
  return out
}

/**
 * The head of a serialized filter: N, checked against MAX_GCS_ITEMS, the
 * bits present (every item takes at least P + 1) and the range limit, and
 * where the bit stream starts.
 */
function readFilterHead(encoded: Uint8Array, params: GcsParams): { n: number; streamStart: number } {
  const r = new ByteReader(encoded)
  const n = r.compactSize()
  if (n > MAX_GCS_ITEMS) {
    throw new WireError('OVERSIZE', `GCS filter: N = ${n} exceeds ${MAX_GCS_ITEMS}`, { field: 'N', limit: MAX_GCS_ITEMS, actual: n })
  }
  if (n * (params.p + 1) > r.remaining * 8) {
    throw new WireError('TRUNCATED', `GCS filter: ${n} items need at least ${n * (params.p + 1)} bits, have ${r.remaining * 8}`, {
      field: 'N',
      expected: n * (params.p + 1),
      actual: r.remaining * 8,
    })
  }
  checkRange(n, params.m)
  return { n, streamStart: r.offset }
}

/** After the last value, no whole byte may be left (Core's GCSFilter check). */
function checkStreamEnd(encoded: Uint8Array, consumed: number): void {
  if (consumed !== encoded.length) {
    throw new WireError('TRAILING_BYTES', `GCS filter: ${encoded.length - consumed} bytes after the last item`, {
      offset: consumed,
      actual: encoded.length - consumed,
    })
  }
}

/**
 * Scripts hashed per step of a lookup: the hash scratch stays at 4 KiB,
 * and a first-match search stops after the step that found one.
 */
const MATCH_HASH_STEP = 512

/**
 * Look the `batch` of scripts up in a decoded filter (`lookup`) under `key`,
 * MATCH_HASH_STEP at a time. With `out` null, stop at the first match and
 * return whether there was one; otherwise push the index of every script
 * that matches onto `out`, ascending.
 */
function lookupBatch(
  batch: SipHashBatch,
  key: SipHashKey,
  lookup: FilterLookup,
  hashes: Uint32Array,
  hits: Int32Array,
  out: number[] | null,
): boolean {
  let found = false
  for (let first = 0; first < batch.count && !(found && out === null); first += MATCH_HASH_STEP) {
    const count = Math.min(MATCH_HASH_STEP, batch.count - first)
    batch.hashRangeInto(key, first, first + count, hashes)
    const k = lookupHashes(hashes, count, lookup, out === null, hits)
    if (k > 0) {
      found = true
      if (out !== null) for (let h = 0; h < k; h++) out.push(first + hits[h]!)
    }
  }
  return found
}

/**
 * A decoded, checked Golomb-coded set. `decode` reads every value once to
 * check the encoding, as Core's GCSFilter constructor does: N items present,
 * no whole byte left over after the last one (TRAILING_BYTES). It keeps the
 * values and a bitmap of them (about 14 bytes per item), so each `match`
 * costs one hash and a lookup.
 *
 * To test one watched set against many filters, FilterMatcher is faster:
 * it prepares the scripts once and reuses its memory from one filter to
 * the next.
 */
export class GcsFilter {
  /** Number of items in the set. */
  readonly n: number
  /** The filter type's parameters (P, M). */
  readonly params: GcsParams
  /** The serialized filter this was decoded from. */
  readonly encoded: Uint8Array
  private readonly key: SipHashKey
  private readonly lookup: FilterLookup

  private constructor(encoded: Uint8Array, n: number, params: GcsParams, key: SipHashKey, lookup: FilterLookup) {
    this.encoded = encoded
    this.n = n
    this.params = params
    this.key = key
    this.lookup = lookup
  }

  /** Decode and check a serialized filter. Throws only WireError. */
  static decode(encoded: Uint8Array, key: SipHashKey, params: GcsParams): GcsFilter {
    checkParams(params)
    const { n, streamStart } = readFilterHead(encoded, params)
    const lookup = newFilterLookup()
    prepareLookup(lookup, n, params.m, 1)
    checkStreamEnd(encoded, decodeFilterInto(encoded, streamStart, params.p, lookup))
    return new GcsFilter(encoded, n, params, key, lookup)
  }

  /** The set's values in ascending order (each in [0, N * M) for a well-formed filter). */
  values(): number[] {
    return Array.from(this.lookup.values.subarray(0, this.n))
  }

  /** True if `item` may be in the set (false positive rate about 1/M). */
  match(item: Uint8Array): boolean {
    return this.matchAny([item])
  }

  /** True if any of `items` may be in the set. */
  matchAny(items: readonly Uint8Array[]): boolean {
    if (this.n === 0 || items.length === 0) return false
    const step = Math.min(items.length, MATCH_HASH_STEP)
    return lookupBatch(new SipHashBatch(items), this.key, this.lookup, new Uint32Array(2 * step), new Int32Array(step), null)
  }
}

/**
 * Matches one fixed set of watched scripts against many filters: what a
 * light client does with every block's filter.
 *
 * The key changes with every block, so each script is hashed again for
 * every filter; that is the cost, and it is kept down three ways:
 * - the scripts are prepared once (their SipHash message words gathered up
 *   front), so a filter costs only the SipRounds, on 32-bit halves;
 * - hash-to-range works on uint32 halves in doubles, no BigInt;
 * - nothing is sorted: the filter's values come out of the stream in
 *   order, a bitmap of about 48 bits per value marks where they lie, and
 *   each script's value is placed by a double-precision estimate. A clear
 *   bit (for about 98 % of scripts not in the filter) ends the lookup;
 *   otherwise the exact value is searched for among the sorted values.
 * That is O(N + scripts) per filter, allocating nothing but the result;
 * the scratch (about 14 bytes per filter item) grows with the largest
 * filter seen. See bench/filters.bench.mjs for the rates.
 *
 * Every call decodes and checks the whole filter before looking anything
 * up, so a malformed filter throws the same WireError as GcsFilter.decode,
 * whatever the scripts; on well-formed filters the answers are those of
 * GcsFilter.matchAny.
 *
 * To change the watched set, build a new matcher (one pass over the scripts).
 */
export class FilterMatcher {
  /** Number of watched scripts. */
  readonly size: number
  /** The filter type's parameters (P, M). */
  readonly params: GcsParams
  private readonly batch: SipHashBatch
  private readonly hashes = new Uint32Array(2 * MATCH_HASH_STEP)
  /** Positions in `hashes` that matched. */
  private readonly hits = new Int32Array(MATCH_HASH_STEP)
  /** The current filter, decoded and indexed (scratch, grown in steps). */
  private readonly lookup: FilterLookup = newFilterLookup()

  /** The scripts are read once here (their bytes are not kept); `params` defaults to the basic filter's. */
  constructor(scripts: readonly Uint8Array[], params: GcsParams = BASIC_FILTER_PARAMS) {
    checkParams(params)
    this.params = params
    this.size = scripts.length
    this.batch = new SipHashBatch(scripts)
  }

  /** True if any watched script may be in the block's filter. Throws only WireError (a malformed filter or a bad hash length). */
  matchAny(blockHash: Uint8Array, filter: Uint8Array): boolean {
    return this.scan(blockHash, filter, null)
  }

  /**
   * The indices (into the constructor's scripts, ascending) of the watched
   * scripts the block's filter may hold; empty when none. Throws only WireError.
   */
  matches(blockHash: Uint8Array, filter: Uint8Array): number[] {
    const out: number[] = []
    this.scan(blockHash, filter, out)
    return out
  }

  /** Decode and index the filter, then look every script up; with `out` null, stop at the first match. */
  private scan(blockHash: Uint8Array, filter: Uint8Array, out: number[] | null): boolean {
    const key = gcsKey(blockHash)
    const { n, streamStart } = readFilterHead(filter, this.params)
    const lookup = this.lookup
    prepareLookup(lookup, n, this.params.m, SCRATCH_STEP)
    checkStreamEnd(filter, decodeFilterInto(filter, streamStart, this.params.p, lookup))
    if (n === 0 || this.size === 0) return false
    return lookupBatch(this.batch, key, lookup, this.hashes, this.hits, out)
  }
}

/** Decode a block's basic (type 0) filter. */
export function decodeBasicFilter(blockHash: Uint8Array, encoded: Uint8Array): GcsFilter {
  return GcsFilter.decode(encoded, gcsKey(blockHash), BASIC_FILTER_PARAMS)
}

/** BIP157 filter hash: sha256d of the serialized filter (internal order). */
export function filterHash(filter: Uint8Array): Uint8Array {
  return sha256d(filter)
}

/** BIP157 filter header: sha256d(filterHash || prevHeader), both 32 bytes, internal order. */
export function filterHeader(filterHashValue: Uint8Array, prevHeader: Uint8Array): Uint8Array {
  if (filterHashValue.length !== 32 || prevHeader.length !== 32) {
    throw new WireError('ENCODE_RANGE', 'filter hash and previous filter header must be 32 bytes each')
  }
  return sha256dPair(filterHashValue, prevHeader)
}
