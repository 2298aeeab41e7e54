/**
 * The inner loops of BIP158 filter matching (FilterMatcher and GcsFilter in
 * gcs.ts): exact hash-to-range on uint32 halves, a Golomb-Rice decoder that
 * reads a 32-bit window at a time, and a lookup of many hashes in one
 * decoded filter. Internal: not exported from the package.
 *
 * The tests hold these to BigInt and to a plain bit-at-a-time decoder
 * written from BIP158's text.
 */
import { WireError } from '../errors.js'

const TWO_16 = 0x10000
const TWO_32 = 0x100000000

/** The error for a bit stream that ends inside a value (offset: the stream's end). */
export function truncatedStream(offset: number): WireError {
  return new WireError('TRUNCATED', 'GCS filter: bit stream ends inside a value', { offset, field: 'gcs bits' })
}

/**
 * floor((a * b + c) / 2^32), exactly, for a, b < 2^32 and c < 2^53.
 * a is split into 16-bit halves so that no partial result reaches 2^53:
 *   a * b + c_low = (a >>> 16) * b * 2^16 + ((a & 0xffff) * b + c_low)
 * and the high part of c is added after the division.
 */
function mulAddHigh32(a: number, b: number, c: number): number {
  const ch = Math.floor(c / TWO_32)
  const cl = c - ch * TWO_32
  return ch + Math.floor(((a >>> 16) * b + Math.floor(((a & 0xffff) * b + cl) / TWO_16)) / TWO_16)
}

/**
 * BIP158 hash-to-range without BigInt: floor(h * f / 2^64) for the 64-bit
 * hash h = hHi * 2^32 + hLo and a range f = fHi * 2^32 + fLo < 2^53.
 *
 *   h * f / 2^64 = hHi * fHi + (hHi * fLo + hLo * fHi) / 2^32 + hLo * fLo / 2^64
 *
 * Taking floors from the smallest term up:
 *   x      = hLo * fHi + floor(hLo * fLo / 2^32)        (< 2^53 since fHi < 2^21)
 *   result = hHi * fHi + floor((hHi * fLo + x) / 2^32)
 * Every real filter has fHi = 0 (N * M < 2^32 up to 5,471 items) or small.
 */
export function mulHighRange(hLo: number, hHi: number, fLo: number, fHi: number): number {
  const x = hLo * fHi + mulAddHigh32(hLo, fLo, 0)
  return hHi * fHi + mulAddHigh32(hHi, fLo, x)
}

/**
 * How far the quick hash-to-range estimate of lookupHashes may be from the
 * exact value. The estimate (hHi * f + hLo * f / 2^32) / 2^32 takes three
 * roundings of a double, each off by at most 2^-53 relative; the result is
 * below f <= 2^53, so the estimate is within 3 of h * f / 2^64, and within
 * 4 of its floor.
 */
const ESTIMATE_SLACK = 4

/**
 * A filter's values in a form that answers "is x one of them?" quickly:
 * a bitmap over [0, f) with one bit per 2^shift values (set where some value
 * lies), then the sorted values themselves for the few lookups that find a
 * set bit. With 32 to 64 bits per value, about 98 % of lookups for a
 * script that is not in the filter end at a clear bit.
 */
export interface FilterLookup {
  /** The filter's values, ascending, in entries 0 .. n - 1 (the array may be longer). */
  values: Float64Array
  /** Number of values. */
  n: number
  /** The range N * M, as fHi * 2^32 + fLo. */
  fLo: number
  fHi: number
  /** 2^-shift, shift >= 3: one bit of `bits` covers 2^shift >= 2 * ESTIMATE_SLACK consecutive values. */
  perBit: number
  /** Bits of the bitmap in use: over [0, f + 2 * ESTIMATE_SLACK); the last one also takes values past the range. */
  nbits: number
  /** The bitmap, 32 bits an entry, bit i at bits[i >>> 5] & (1 << (i & 31)). */
  bits: Int32Array
  /** The decoder's position between its fast and general paths: byte offset, bit in it (0..7), last value. */
  cursor: Float64Array
}

/** Most bits of a bitmap: bit indices stay int32, whatever N. */
const MAX_BITMAP_BITS = 2 ** 30

/**
 * The bitmap's shape for n values over [0, f) (M = f / n): one bit per
 * 2^shift values, about 32 to 64 bits per value, and never less than
 * 8 = 2 * ESTIMATE_SLACK values per bit nor more than MAX_BITMAP_BITS bits.
 */
export function bitmapShape(f: number, m: number): { perBit: number; nbits: number } {
  const shift = Math.max(3, Math.ceil(Math.log2(m / 64)), Math.ceil(Math.log2(f + 2 * ESTIMATE_SLACK)) - 30)
  const perBit = 2 ** -shift
  return { perBit, nbits: Math.floor((f + 2 * ESTIMATE_SLACK) * perBit) + 1 }
}

/** An empty lookup, to be sized by prepareLookup. */
export function newFilterLookup(): FilterLookup {
  return { values: new Float64Array(0), n: 0, fLo: 0, fHi: 0, perBit: 0.125, nbits: 1, bits: new Int32Array(1), cursor: new Float64Array(3) }
}

/**
 * Size `lookup` for a filter of n values and parameter M (n is checked
 * against the bytes present before this) and clear the bitmap words in
 * use. Arrays too small are replaced by ones rounded up to a multiple of
 * `step` entries: FilterMatcher's scratch grows in large steps, so a run
 * of filters of slowly growing size does not reallocate for each; a
 * GcsFilter's own lookup is sized exactly (step 1).
 */
export function prepareLookup(lookup: FilterLookup, n: number, m: number, step: number): void {
  const f = n * m
  const { perBit, nbits } = bitmapShape(f, m)
  const words = (nbits + 31) >>> 5
  if (n > lookup.values.length) lookup.values = new Float64Array(Math.ceil(n / step) * step)
  if (words > lookup.bits.length) lookup.bits = new Int32Array(Math.ceil(words / step) * step)
  lookup.bits.fill(0, 0, words)
  lookup.n = n
  lookup.fHi = Math.floor(f / TWO_32)
  lookup.fLo = f - lookup.fHi * TWO_32
  lookup.perBit = perBit
  lookup.nbits = nbits
}

/**
 * The 32 bits of `bytes` starting at bit `s` (0..7) of byte `o`, most
 * significant first, as an int32; bytes at or past `end` read as 0.
 */
function peek32Safe(bytes: Uint8Array, o: number, s: number, end: number): number {
  const b0 = o < end ? bytes[o]! : 0
  const b1 = o + 1 < end ? bytes[o + 1]! : 0
  const b2 = o + 2 < end ? bytes[o + 2]! : 0
  const b3 = o + 3 < end ? bytes[o + 3]! : 0
  const b4 = o + 4 < end ? bytes[o + 4]! : 0
  return (((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) << s) | (b4 >>> (8 - s))
}

/**
 * Decode the N = lookup.n values of a Golomb-Rice stream (parameter p,
 * 0..32) that starts at bytes[start], as ascending values into
 * lookup.values, and set their bits in lookup.bits (prepared and cleared by
 * prepareLookup). Returns the offset just past the last byte any bit was
 * taken from; the caller checks it against the end (TRAILING_BYTES).
 * Throws TRUNCATED (offset: the stream's end) when the stream ends inside
 * a value. Each value is the previous one plus (q * 2^p + r), in doubles,
 * BIP158's order of operations, so even hostile input whose values pass
 * 2^53 decodes to the values a plain decoder would compute.
 *
 * Nearly every value of a real filter is decoded by decodeRun, a tight
 * loop that reads 32 bits at once; the few it cannot take (a quotient too
 * long for the window, P too large, the stream's last 4 bytes) go one at a
 * time through decodeOne. The two are separate functions on purpose: with
 * the general path inside the hot loop, V8 (Node 20) compiled the loop
 * several times slower (measured: 150 us against 25 us for a 2,500-value
 * filter), as the rarely taken branches reach the optimiser without type
 * feedback. Between the two, the position travels in lookup.cursor.
 */
export function decodeFilterInto(bytes: Uint8Array, start: number, p: number, lookup: FilterLookup): number {
  const cursor = lookup.cursor
  cursor[0] = start
  cursor[1] = 0
  cursor[2] = 0
  const n = lookup.n
  let i = 0
  while (i < n) {
    i = decodeRun(bytes, p, lookup, i)
    if (i < n) decodeOne(bytes, p, lookup, i++)
  }
  return cursor[1]! > 0 ? cursor[0]! + 1 : cursor[0]!
}

/**
 * The fast path of decodeFilterInto: decode values from index `from` on
 * while each fits a 32-bit window read in one go (5 bytes, so only while 5
 * bytes remain, which needs no bounds check): the quotient's run of 1 bits
 * is Math.clz32(~w), the remainder the p bits after its 0. With P = 19 that
 * covers quotients up to 12, nearly every value. Returns the index of the
 * first value it did not decode (n when done); the position is in
 * lookup.cursor before and after.
 */
function decodeRun(bytes: Uint8Array, p: number, lookup: FilterLookup, from: number): number {
  const { values, n, perBit, bits, cursor } = lookup
  const last = lookup.nbits - 1
  const end = bytes.length
  const scale = 2 ** p
  // `| 0`: the position stays int32 in the loop (a double index is slower).
  let o = cursor[0]! | 0
  let s = cursor[1]! | 0
  let v = cursor[2]!
  let i = from
  for (; i < n; i++) {
    if (o + 5 > end) break
    const w = (((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) << s) | (bytes[o + 4]! >>> (8 - s))
    const q = Math.clz32(~w)
    const k = q + 1 + p
    if (k > 32) break
    // k <= 32 with p >= 1 keeps the shift by q + 1 below 32; p = 0 has no remainder.
    const r = p > 0 ? (w << (q + 1)) >>> (32 - p) : 0
    s += k
    o += s >>> 3
    s &= 7
    v += q * scale + r
    values[i] = v
    // Its bit in the bitmap (values past the range, from a malformed
    // filter, all take the last one). `| 0` is floor: the product is >= 0.
    const b = Math.min(v * perBit, last) | 0
    bits[b >>> 5]! |= 1 << (b & 31)
  }
  cursor[0] = o
  cursor[1] = s
  cursor[2] = v
  return i
}

/**
 * The general path of decodeFilterInto: value i, whatever its quotient and
 * P, near the end of the stream too. The run of 1 bits is counted 32 bits
 * at a time; reads past the end are 0 bits, so the run itself never runs
 * past it, but its closing 0 and the remainder must lie inside the stream.
 */
function decodeOne(bytes: Uint8Array, p: number, lookup: FilterLookup, i: number): void {
  const cursor = lookup.cursor
  const end = bytes.length
  let o = cursor[0]! | 0
  let s = cursor[1]! | 0
  let q = 0
  let r = 0
  for (;;) {
    const ones = Math.clz32(~peek32Safe(bytes, o, s, end))
    q += ones
    s += ones < 32 ? ones + 1 : 32
    o += s >>> 3
    s &= 7
    if (ones < 32) break
  }
  if (o > end || (o === end && s > 0)) throw truncatedStream(end)
  if (p > 0) {
    const w = peek32Safe(bytes, o, s, end)
    r = p === 32 ? w >>> 0 : w >>> (32 - p)
    s += p
    o += s >>> 3
    s &= 7
    if (o > end || (o === end && s > 0)) throw truncatedStream(end)
  }
  const v = cursor[2]! + (q * 2 ** p + r)
  lookup.values[i] = v
  const b = Math.min(v * lookup.perBit, lookup.nbits - 1) | 0
  lookup.bits[b >>> 5]! |= 1 << (b & 31)
  cursor[0] = o
  cursor[1] = s
  cursor[2] = v
}

/**
 * Look up the values of `count` hashes (uint32 halves: hashes[2j] low,
 * hashes[2j + 1] high) in a filter. Writes the positions j found into
 * hits[] in order and returns how many; with `firstOnly`, stops at the
 * first.
 *
 * Each hash is first placed with a double-precision estimate of
 * floor(h * f / 2^64) (within ESTIMATE_SLACK of it): if no bit is set for
 * [estimate - slack, estimate + slack], no value can be equal. Otherwise the
 * exact value (mulHighRange) is searched for among the sorted values.
 */
export function lookupHashes(hashes: Uint32Array, count: number, lookup: FilterLookup, firstOnly: boolean, hits: Int32Array): number {
  const { values, n, fLo, fHi, perBit, nbits, bits } = lookup
  const f = fHi * TWO_32 + fLo
  const last = nbits - 1
  let found = 0
  for (let j = 0; j < count && !(firstOnly && found > 0); j++) {
    const hLo = hashes[2 * j]!
    const hHi = hashes[2 * j + 1]!
    const estimate = (hHi * f + (hLo * f) / TWO_32) / TWO_32
    // The interval [estimate - slack, estimate + slack] spans one or two
    // bits (a bit is at least 2 * slack wide). `| 0` is floor here: the
    // low end is at least -slack * perBit > -1.
    const from = ((estimate - ESTIMATE_SLACK) * perBit) | 0
    const to = Math.min(((estimate + ESTIMATE_SLACK) * perBit) | 0, last)
    if ((((bits[from >>> 5]! >>> (from & 31)) | (bits[to >>> 5]! >>> (to & 31))) & 1) === 0) continue
    // A set bit nearby: compare exactly. Lower bound of x in values[0 .. n).
    const x = mulHighRange(hLo, hHi, fLo, fHi)
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (values[mid]! < x) lo = mid + 1
      else hi = mid
    }
    if (lo < n && values[lo] === x) hits[found++] = j
  }
  return found
}
