// The BIP158 matching path @bitp2p/wire had before FilterMatcher (main at
// 1158dd5: decodeBasicFilter(blockHash, filter).matchAny(scripts)), kept
// here as the baseline of bench/filters.bench.mjs, so the ratios stay
// measured against it in the same process now that the package's own
// GcsFilter runs on the fast decoder. Same algorithm, same arithmetic:
//  - decode: read N, then every value once, one bit at a time, to check
//    the encoding (N present, no whole byte left over);
//  - matchAny: hash every script with siphash24Into, map it to [0, N * M)
//    on 16-bit limbs, sort the values, then read the stream again and
//    merge the two ascending sequences.
// Well-formed filters only (the bench builds them): errors are plain Errors.
import { BASIC_FILTER_M, BASIC_FILTER_P, gcsKey, siphash24Into } from '@bitp2p/wire'

/** floor(h * f / 2^64) for h = hhi * 2^32 + hlo and f < 2^53, on 16-bit limbs. */
function mulHigh64(hlo, hhi, f) {
  const a0 = hlo & 0xffff
  const a1 = hlo >>> 16
  const a2 = hhi & 0xffff
  const a3 = hhi >>> 16
  const flo = f % 0x100000000
  const fhi = (f - flo) / 0x100000000
  const b0 = flo & 0xffff
  const b1 = flo >>> 16
  const b2 = fhi & 0xffff
  const b3 = fhi >>> 16
  let c = a0 * b0
  c = Math.floor(c / 0x10000) + a0 * b1 + a1 * b0
  c = Math.floor(c / 0x10000) + a0 * b2 + a1 * b1 + a2 * b0
  c = Math.floor(c / 0x10000) + a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0
  c = Math.floor(c / 0x10000) + a1 * b3 + a2 * b2 + a3 * b1
  const r4 = c % 0x10000
  c = Math.floor(c / 0x10000) + a2 * b3 + a3 * b2
  const r5 = c % 0x10000
  c = Math.floor(c / 0x10000) + a3 * b3
  const r6 = c % 0x10000
  const r7 = Math.floor(c / 0x10000)
  return r4 + r5 * 0x10000 + r6 * 0x100000000 + r7 * 0x1000000000000
}

/** MSB-first reader over the Golomb-Rice bit stream. */
class BitReader {
  constructor(bytes, offset) {
    this.bytes = bytes
    this.pos = offset
    this.end = bytes.length
    this.byte = 0
    this.left = 0
  }

  next() {
    if (this.pos >= this.end) throw new Error('GCS filter: bit stream ends inside a value')
    this.byte = this.bytes[this.pos++]
    this.left = 8
  }

  bit() {
    if (this.left === 0) this.next()
    this.left--
    return (this.byte >>> this.left) & 1
  }

  bits(count) {
    let v = 0
    while (count > 0) {
      if (this.left === 0) this.next()
      const take = Math.min(count, this.left)
      const chunk = (this.byte >>> (this.left - take)) & ((1 << take) - 1)
      v = v * 2 ** take + chunk
      this.left -= take
      count -= take
    }
    return v
  }
}

function readGolombRice(br, p) {
  let q = 0
  while (br.bit() === 1) q++
  return q * 2 ** p + br.bits(p)
}

/** N (a CompactSize) and where the bit stream starts. */
function readHead(filter) {
  const b = filter[0]
  if (b < 0xfd) return { n: b, start: 1 }
  if (b === 0xfd) return { n: filter[1] | (filter[2] << 8), start: 3 }
  if (b === 0xfe) return { n: (filter[1] | (filter[2] << 8) | (filter[3] << 16) | (filter[4] << 24)) >>> 0, start: 5 }
  throw new Error('N too large for the baseline')
}

/** The old decodeBasicFilter(blockHash, filter): check every value once; keep the bytes. */
export function baselineDecode(blockHash, filter) {
  const key = gcsKey(blockHash)
  const { n, start } = readHead(filter)
  if (n * (BASIC_FILTER_P + 1) > (filter.length - start) * 8) throw new Error('GCS filter: N exceeds the bits present')
  const br = new BitReader(filter, start)
  for (let i = 0; i < n; i++) readGolombRice(br, BASIC_FILTER_P)
  if (br.pos !== filter.length) throw new Error('GCS filter: bytes after the last item')
  return { key, filter, n, start }
}

/** The old GcsFilter.matchAny(scripts) on a decoded filter. */
export function baselineMatchAny(decoded, scripts) {
  const { key, filter, n, start } = decoded
  if (n === 0 || scripts.length === 0) return false
  const f = n * BASIC_FILTER_M
  const scratch = new Uint32Array(2)
  const queries = scripts.map((s) => {
    siphash24Into(key, s, scratch)
    return mulHigh64(scratch[0], scratch[1], f)
  })
  queries.sort((x, y) => x - y)
  const br = new BitReader(filter, start)
  let qi = 0
  let v = 0
  for (let i = 0; i < n; i++) {
    v += readGolombRice(br, BASIC_FILTER_P)
    while (qi < queries.length && queries[qi] < v) qi++
    if (qi === queries.length) return false
    if (queries[qi] === v) return true
  }
  return false
}
