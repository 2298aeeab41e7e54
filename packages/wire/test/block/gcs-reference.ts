/**
 * BIP158 Golomb-coded sets read straight from the BIP's text, for the tests:
 * one bit at a time, hash-to-range on BigInt, a Set of values to look in.
 * Slow and plain on purpose; it shares nothing with src/block/gcs-fast.ts
 * (the decoder, hash-to-range and lookup the package runs), so the tests
 * can hold that code, FilterMatcher and GcsFilter to it.
 *
 * Its failures are Core's (GCSFilter's constructor): a non-canonical or
 * short CompactSize N, N >= 2^32, a stream that ends inside a value
 * (TRUNCATED), bytes left after the last value (TRAILING_BYTES); plus the
 * package's own range limit N * M <= 2^53 - 1 (OVERSIZE). Only the code is
 * meant to agree with the package; messages and details are not compared.
 */
import { ByteReader } from '../../src/bytes/reader.js'
import { WireError } from '../../src/errors.js'
import { type SipHashKey, siphash24 } from '../../src/hash/siphash.js'

/** A filter type's parameters, as GcsParams. */
export interface ReferenceParams {
  readonly p: number
  readonly m: number
}

/**
 * The values of a serialized filter, ascending, or the WireError code of
 * why it is malformed. Each value is the running sum of q * 2^P + r in
 * doubles, the order of operations BIP158's decoder implies (a hostile
 * filter can push the sum past 2^53; the package must compute the same).
 */
export function referenceValues(encoded: Uint8Array, params: ReferenceParams): number[] {
  const r = new ByteReader(encoded)
  const n = r.compactSize()
  if (n >= 2 ** 32) throw new WireError('OVERSIZE', 'reference: N >= 2^32')
  if (n * params.m > Number.MAX_SAFE_INTEGER) throw new WireError('OVERSIZE', 'reference: N * M > 2^53 - 1')
  let pos = r.offset
  let bitInByte = 8
  let byte = 0
  const bit = (): number => {
    if (bitInByte === 8) {
      if (pos >= encoded.length) throw new WireError('TRUNCATED', 'reference: stream ends inside a value')
      byte = encoded[pos++]!
      bitInByte = 0
    }
    return (byte >>> (7 - bitInByte++)) & 1
  }
  const values: number[] = []
  let v = 0
  for (let i = 0; i < n; i++) {
    let q = 0
    while (bit() === 1) q++
    let rem = 0
    for (let k = 0; k < params.p; k++) rem = rem * 2 + bit()
    v += q * 2 ** params.p + rem
    values.push(v)
  }
  // Core: "encoded_filter contains excess data" once N values are read.
  if (pos !== encoded.length) throw new WireError('TRAILING_BYTES', 'reference: bytes after the last value')
  return values
}

/** floor(siphash(item) * f / 2^64), on BigInt. */
export function referenceHashToRange(key: SipHashKey, item: Uint8Array, f: number): number {
  return Number((siphash24(key, item) * BigInt(f)) >> 64n)
}

/** The indices of `scripts` whose value is one of the filter's (throws as referenceValues on a malformed filter). */
export function referenceMatches(encoded: Uint8Array, key: SipHashKey, params: ReferenceParams, scripts: readonly Uint8Array[]): number[] {
  const values = referenceValues(encoded, params)
  const set = new Set(values)
  const f = values.length * params.m
  return scripts.flatMap((s, i) => (values.length > 0 && set.has(referenceHashToRange(key, s, f)) ? [i] : []))
}
