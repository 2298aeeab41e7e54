/**
 * The inner loops of BIP158 filter matching (FilterMatcher in gcs.ts):
 * exact hash-to-range on uint32 halves and a Golomb-Rice decoder that reads
 * a 32-bit window at a time. Internal: not exported from the package.
 *
 * GcsFilter keeps the plain versions of both (16-bit limbs, one bit at a
 * time); the tests hold these to them and to BigInt.
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
 * Decode the N values of a Golomb-Rice stream (parameter p, 0..32) that
 * starts at bytes[start], as ascending values into values[0 .. n).
 * Returns the offset just past the last byte any bit was taken from; the
 * caller checks it against the end (TRAILING_BYTES). Throws TRUNCATED,
 * with the same detail as GcsFilter.decode, when the stream ends inside
 * a value. Arithmetic is the same as GcsFilter's (value += q * 2^p + r),
 * so even on hostile input past 2^53 both give identical values.
 *
 * Bits sit left-aligned in `buf` (bit 31 is the next one), `avail` of them
 * unread (at most 31, so no shift is ever by 32). A run of 1 bits is
 * counted with Math.clz32(~buf): the unread low bits of buf are 0, so the
 * count never runs past `avail`.
 *
 * V8 note, for this function and the two below: nothing but a return of a
 * variable follows the main loop. Node 20's V8 compiles a long-running
 * loop on the spot (OSR) and keeps that code for later calls; an operation
 * after the loop that had not run yet when it was compiled then
 * deoptimizes every call (measured: that alone halved the decode rate).
 */
export function decodeGolombRiceInto(bytes: Uint8Array, start: number, n: number, p: number, values: Float64Array): number {
  const end = bytes.length
  const scale = 2 ** p
  let pos = start
  let buf = 0
  let avail = 0
  let v = 0
  let consumed = start
  for (let i = 0; i < n; i++) {
    // Top up to at least 24 bits (while bytes remain).
    while (avail <= 23 && pos < end) {
      buf |= bytes[pos++]! << (24 - avail)
      avail += 8
    }
    // Quotient: the number of 1 bits before the next 0.
    let q = 0
    for (;;) {
      const ones = Math.clz32(~buf)
      if (ones < avail) {
        q += ones
        buf <<= ones + 1
        avail -= ones + 1
        break
      }
      // Every unread bit is a 1: count them and read on.
      q += avail
      buf = 0
      avail = 0
      if (pos >= end) throw truncatedStream(end)
      while (avail <= 23 && pos < end) {
        buf |= bytes[pos++]! << (24 - avail)
        avail += 8
      }
    }
    // Remainder: p bits, most significant first.
    let r = 0
    if (p > 0) {
      if (avail < p) {
        while (avail <= 23 && pos < end) {
          buf |= bytes[pos++]! << (24 - avail)
          avail += 8
        }
      }
      if (avail >= p) {
        r = buf >>> (32 - p)
        buf <<= p
        avail -= p
      } else {
        // p above 24, or the stream's last bytes: take what is there, piece by piece.
        let need = p
        while (need > 0) {
          if (avail === 0) {
            if (pos >= end) throw truncatedStream(end)
            buf = bytes[pos++]! << 24
            avail = 8
          }
          const take = need < avail ? need : avail
          r = r * 2 ** take + (buf >>> (32 - take))
          buf <<= take
          avail -= take
          need -= take
        }
      }
    }
    v += q * scale + r
    values[i] = v
    // Whole bytes still unread in buf were loaded but not used.
    consumed = pos - (avail >>> 3)
  }
  return consumed
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

/**
 * Set the bitmap of `lookup` from its values (lookup.bits must hold nbits;
 * the words in use are cleared first). A malformed filter's values past
 * the range all land on the last bit.
 */
export function fillBitmap(lookup: FilterLookup): void {
  const { values, n, perBit, nbits, bits } = lookup
  bits.fill(0, 0, (nbits + 31) >>> 5)
  const last = nbits - 1
  for (let i = 0; i < n; i++) {
    const b = Math.min(Math.floor(values[i]! * perBit), last)
    bits[b >>> 5]! |= 1 << (b & 31)
  }
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
