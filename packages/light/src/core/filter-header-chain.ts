/**
 * FilterHeaderChain: the BIP157 filter headers we accepted, by height, from
 * genesis up.
 *
 *   filterHeader(h) = sha256d(filterHash(h) || filterHeader(h - 1)),
 *   filterHeader(-1) = 32 zero bytes
 *
 * so one header commits to every filter below it: two peers that agree on
 * the header at height h agree on every filter up to h. That is what makes
 * cross-checking cheap (compare one header) and what lets a filter be
 * checked on its own: filterHeader(filterHash(f), header(h - 1)) must be
 * header(h).
 *
 * Storage is one growable Uint8Array, 32 bytes per height (29 MB for
 * 900,000 blocks), with no object per header. Pure data: no IO, no clock.
 */
import { bytesEqual } from '@bitp2p/wire'
import { filterHash, filterHeader } from '@bitp2p/wire/filters'

/** Bytes of one filter header (and of a filter hash). */
export const FILTER_HEADER_BYTES = 32
/** The header "before" height 0 (BIP157: the previous filter header of the genesis filter is zero). */
export const ZERO_FILTER_HEADER: Uint8Array = new Uint8Array(FILTER_HEADER_BYTES)
/** First allocation, in headers; the array doubles as it fills. */
const INITIAL_CAPACITY = 1024

/** Filter headers from height 0 to `height`; see the module comment. */
export class FilterHeaderChain {
  private bytes: Uint8Array
  private count = 0

  /** A chain holding `headers` (concatenated, from height 0), e.g. as a store loaded them. */
  constructor(headers?: Uint8Array) {
    if (headers !== undefined && headers.length % FILTER_HEADER_BYTES !== 0) {
      throw new RangeError(`filter header chain: ${headers.length} bytes is not a whole number of ${FILTER_HEADER_BYTES}-byte headers`)
    }
    const n = headers === undefined ? 0 : headers.length / FILTER_HEADER_BYTES
    this.bytes = new Uint8Array(Math.max(INITIAL_CAPACITY, n) * FILTER_HEADER_BYTES)
    if (headers !== undefined) this.bytes.set(headers)
    this.count = n
  }

  /** Height of the last header held; -1 when empty. */
  get height(): number {
    return this.count - 1
  }

  /** Bytes held by the backing array (capacity included). */
  get byteLength(): number {
    return this.bytes.byteLength
  }

  /**
   * The header at `height` (a view: copy it to keep it past the next
   * append or truncate); ZERO_FILTER_HEADER for -1; undefined outside.
   */
  at(height: number): Uint8Array | undefined {
    if (height === -1) return ZERO_FILTER_HEADER
    if (!Number.isInteger(height) || height < 0 || height >= this.count) return undefined
    return this.bytes.subarray(height * FILTER_HEADER_BYTES, (height + 1) * FILTER_HEADER_BYTES)
  }

  /** True when `header` is the one held at `height`. */
  equalsAt(height: number, header: Uint8Array): boolean {
    const ours = this.at(height)
    return ours !== undefined && bytesEqual(ours, header)
  }

  /** Headers `from`..`to` (inclusive), concatenated, as a copy (for a store). */
  slice(from: number, to: number = this.height): Uint8Array {
    if (from < 0 || to >= this.count || from > to + 1) throw new RangeError(`filter header chain: slice ${from}..${to} is not within 0..${this.height}`)
    return this.bytes.slice(from * FILTER_HEADER_BYTES, (to + 1) * FILTER_HEADER_BYTES)
  }

  /** Append headers for heights height + 1, height + 2, ... (`headers` concatenated). */
  append(headers: Uint8Array): void {
    if (headers.length % FILTER_HEADER_BYTES !== 0) throw new RangeError('filter header chain: append of a partial header')
    const need = this.count * FILTER_HEADER_BYTES + headers.length
    if (need > this.bytes.length) {
      let cap = this.bytes.length
      while (cap < need) cap *= 2
      const grown = new Uint8Array(cap)
      grown.set(this.bytes.subarray(0, this.count * FILTER_HEADER_BYTES))
      this.bytes = grown
    }
    this.bytes.set(headers, this.count * FILTER_HEADER_BYTES)
    this.count += headers.length / FILTER_HEADER_BYTES
  }

  /** Keep heights 0..height (height -1 empties the chain); a higher height changes nothing. */
  truncate(height: number): void {
    if (!Number.isInteger(height) || height < -1) throw new RangeError(`filter header chain: cannot truncate to ${height}`)
    if (height + 1 < this.count) this.count = height + 1
  }

  /** True when `filter` is the filter this chain commits to at `height`. */
  verifies(height: number, filter: Uint8Array): boolean {
    const prev = this.at(height - 1)
    const ours = this.at(height)
    if (prev === undefined || ours === undefined) return false
    return bytesEqual(filterHeader(filterHash(filter), prev), ours)
  }
}

/**
 * The headers a cfheaders reply implies: starting from `prev` (its
 * prevFilterHeader), each filter hash chained on the one before.
 * Returns them concatenated (32 bytes each).
 */
export function chainFilterHashes(prev: Uint8Array, filterHashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(filterHashes.length * FILTER_HEADER_BYTES)
  let p = prev
  for (let i = 0; i < filterHashes.length; i++) {
    const h = filterHeader(filterHashes[i]!, p)
    out.set(h, i * FILTER_HEADER_BYTES)
    p = h
  }
  return out
}
