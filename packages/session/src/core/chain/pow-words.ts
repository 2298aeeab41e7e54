/**
 * 256-bit numbers as eight u32 words, for HeaderTree's per-header fast
 * path. wire's checkProofOfWork reads the hash as a bigint and decodes the
 * compact target every time; a chain changes its bits at most once per
 * retarget period, so the tree decodes and checks a target once, keeps it as
 * eight 32-bit words, and compares each hash against those words. Chain
 * work is kept in the same form (see header-table.ts).
 */

/** 32-bit words in a 256-bit number. */
export const WORDS_256 = 8

/** 2^256, the bound of a 256-bit number. */
const TWO_POW_256 = 1n << 256n

/**
 * Writes `value` as eight u32 words, least significant first.
 *
 * @throws RangeError unless 0 <= value < 2^256.
 */
export function toWords256(value: bigint, out: Uint32Array): void {
  if (value < 0n || value >= TWO_POW_256) throw new RangeError('toWords256: value outside [0, 2^256)')
  let v = value
  for (let i = 0; i < WORDS_256; i++) {
    out[i] = Number(v & 0xffffffffn)
    v >>= 32n
  }
}

/** The number in words[offset .. offset + 8] (u32 words, least significant first). */
export function fromWords256(words: Uint32Array, offset = 0): bigint {
  let v = 0n
  for (let i = WORDS_256 - 1; i >= 0; i--) v = (v << 32n) | BigInt(words[offset + i]!)
  return v
}

/**
 * True when the hash at hashes[offset .. offset + 32] (internal byte order:
 * a little-endian number, as Core's UintToArith256 reads it) is at most the
 * number in `words` (eight u32 words, least significant first). Compares
 * from the most significant word down, so a hash far below the target is
 * decided by the first word.
 */
export function hashAtMostWords(hashes: Uint8Array, offset: number, words: Uint32Array): boolean {
  for (let i = WORDS_256 - 1; i >= 0; i--) {
    const o = offset + 4 * i
    const h = (hashes[o]! | (hashes[o + 1]! << 8) | (hashes[o + 2]! << 16) | (hashes[o + 3]! << 24)) >>> 0
    const t = words[i]!
    if (h !== t) return h < t
  }
  return true
}
