/**
 * SipHash-2-4 of one fixed list of messages under many keys: what BIP158
 * filter matching needs (the watched scripts stay, the key changes with
 * every block). Internal: FilterMatcher and GcsFilter use it; it is not
 * exported from the package.
 *
 * Same results as siphash24Into (siphash.ts) on each message; the tests
 * hold it to that and to a BigInt implementation.
 */
import { WireError } from '../errors.js'
import type { SipHashKey } from './siphash.js'

/** The little-endian u32 at b[o .. o + 4), as an int32. */
function le32(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)
}

/**
 * A fixed list of messages prepared once for SipHash-2-4 under many keys.
 *
 * SipHash reads its message as 64-bit little-endian words; the last word
 * holds the tail bytes and, in its top byte, the length mod 256. Those
 * words depend on the message alone, so they are gathered here once, as
 * int32 halves in one flat array. Hashing the list under a new key is then
 * only SipRounds: no byte gathering, no tail logic, no allocation.
 *
 * BIP158 filter matching is the user: the watched scripts stay the same
 * while the key (the block hash) changes with every filter.
 */
export class SipHashBatch {
  /** Number of messages. */
  readonly count: number
  /** Every message's words, in order: low half, high half, next word... */
  private readonly words: Int32Array
  /** Index in `words` of message i's first word: count + 1 entries, the last one is words.length. */
  private readonly starts: Int32Array

  /** Gathers the words of every message (the bytes are not kept). */
  constructor(messages: readonly Uint8Array[]) {
    const count = messages.length
    // A message of len bytes is floor(len / 8) whole words plus the final one.
    let halves = 0
    for (let i = 0; i < count; i++) halves += 2 * ((messages[i]!.length >>> 3) + 1)
    const words = new Int32Array(halves)
    const starts = new Int32Array(count + 1)
    let w = 0
    for (let i = 0; i < count; i++) {
      const m = messages[i]!
      starts[i] = w
      const whole = m.length >>> 3
      for (let k = 0; k < whole; k++) {
        words[w++] = le32(m, 8 * k)
        words[w++] = le32(m, 8 * k + 4)
      }
      // Final word: tail bytes little-endian, length mod 256 in the top byte.
      let lo = 0
      let hi = (m.length & 0xff) << 24
      for (let j = 0; j < (m.length & 7); j++) {
        const b = m[8 * whole + j]!
        if (j < 4) lo |= b << (8 * j)
        else hi |= b << (8 * (j - 4))
      }
      words[w++] = lo
      words[w++] = hi
    }
    starts[count] = w
    this.count = count
    this.words = words
    this.starts = starts
  }

  /**
   * SipHash-2-4 under `key` of messages first .. end - 1, written as
   * out[2j] = low 32 bits and out[2j + 1] = high 32 bits of message
   * first + j. Same results as siphash24Into on each message.
   */
  hashRangeInto(key: SipHashKey, first: number, end: number, out: Uint32Array): Uint32Array {
    if (!Number.isInteger(first) || !Number.isInteger(end) || first < 0 || end > this.count || first > end) {
      throw new WireError('ENCODE_RANGE', `SipHashBatch: range ${first}..${end} outside 0..${this.count}`, { limit: this.count })
    }
    if (out.length < 2 * (end - first)) {
      throw new WireError('ENCODE_RANGE', `SipHashBatch: output holds ${out.length >>> 1} hashes, ${end - first} asked`, {
        expected: 2 * (end - first),
        actual: out.length,
      })
    }
    sipWords(key, this.words, this.starts, first, end, out)
    return out
  }
}

/**
 * The batch loop: one SipHash-2-4 per message, over prepared words.
 *
 * Lanes are int32 halves (`| 0` keeps them int32 in V8; sip24's `>>> 0`
 * makes values above 2^31 doubles). The 64-bit add a += b adds the low
 * halves, then the high halves plus the carry, which is 1 exactly when the
 * new low half is below the old one as unsigned numbers:
 *   t = (al + bl) | 0;  ah = (ah + bh + +((t >>> 0) < (al >>> 0))) | 0;  al = t
 * Written `+(x < y)`, V8 turns the comparison into a flag-to-register move;
 * written `x < y ? 1 : 0` it becomes a branch that mispredicts half the
 * time on hash data (measured: 4x slower), and the bit-trick carry
 * `((a & b) | ((a | b) & ~t)) >>> 31` measured about 20 % slower.
 *
 * The finalization (v2 ^= 0xff, four rounds) runs as two more passes of
 * the word loop with a zero word, so one double round is written out.
 */
function sipWords(key: SipHashKey, words: Int32Array, starts: Int32Array, first: number, end: number, out: Uint32Array): void {
  const k0l = key.v0lo | 0
  const k0h = key.v0hi | 0
  const k1l = key.v1lo | 0
  const k1h = key.v1hi | 0
  const k2l = key.v2lo | 0
  const k2h = key.v2hi | 0
  const k3l = key.v3lo | 0
  const k3h = key.v3hi | 0
  let o = 0
  for (let i = first; i < end; i++) {
    let v0l = k0l
    let v0h = k0h
    let v1l = k1l
    let v1h = k1h
    let v2l = k2l
    let v2h = k2h
    let v3l = k3l
    let v3h = k3h
    let t = 0
    let ml = 0
    let mh = 0
    const wordsEnd = starts[i + 1]!
    // Two passes past the last word: the four finalization rounds.
    const passesEnd = wordsEnd + 4
    for (let w = starts[i]!; w < passesEnd; w += 2) {
      if (w < wordsEnd) {
        ml = words[w]!
        mh = words[w + 1]!
      } else {
        ml = 0
        mh = 0
        if (w === wordsEnd) v2l ^= 0xff
      }
      v3l ^= ml
      v3h ^= mh

      // SipRound 1. a += b
      t = (v0l + v1l) | 0
      v0h = (v0h + v1h + +((t >>> 0) < (v0l >>> 0))) | 0
      v0l = t
      // b <<<= 13; b ^= a
      t = (v1l << 13) | (v1h >>> 19)
      v1h = ((v1h << 13) | (v1l >>> 19)) ^ v0h
      v1l = t ^ v0l
      // a <<<= 32
      t = v0l
      v0l = v0h
      v0h = t
      // c += d
      t = (v2l + v3l) | 0
      v2h = (v2h + v3h + +((t >>> 0) < (v2l >>> 0))) | 0
      v2l = t
      // d <<<= 16; d ^= c
      t = (v3l << 16) | (v3h >>> 16)
      v3h = ((v3h << 16) | (v3l >>> 16)) ^ v2h
      v3l = t ^ v2l
      // a += d
      t = (v0l + v3l) | 0
      v0h = (v0h + v3h + +((t >>> 0) < (v0l >>> 0))) | 0
      v0l = t
      // d <<<= 21; d ^= a
      t = (v3l << 21) | (v3h >>> 11)
      v3h = ((v3h << 21) | (v3l >>> 11)) ^ v0h
      v3l = t ^ v0l
      // c += b
      t = (v2l + v1l) | 0
      v2h = (v2h + v1h + +((t >>> 0) < (v2l >>> 0))) | 0
      v2l = t
      // b <<<= 17; b ^= c
      t = (v1l << 17) | (v1h >>> 15)
      v1h = ((v1h << 17) | (v1l >>> 15)) ^ v2h
      v1l = t ^ v2l
      // c <<<= 32
      t = v2l
      v2l = v2h
      v2h = t

      // SipRound 2 (the same steps).
      t = (v0l + v1l) | 0
      v0h = (v0h + v1h + +((t >>> 0) < (v0l >>> 0))) | 0
      v0l = t
      t = (v1l << 13) | (v1h >>> 19)
      v1h = ((v1h << 13) | (v1l >>> 19)) ^ v0h
      v1l = t ^ v0l
      t = v0l
      v0l = v0h
      v0h = t
      t = (v2l + v3l) | 0
      v2h = (v2h + v3h + +((t >>> 0) < (v2l >>> 0))) | 0
      v2l = t
      t = (v3l << 16) | (v3h >>> 16)
      v3h = ((v3h << 16) | (v3l >>> 16)) ^ v2h
      v3l = t ^ v2l
      t = (v0l + v3l) | 0
      v0h = (v0h + v3h + +((t >>> 0) < (v0l >>> 0))) | 0
      v0l = t
      t = (v3l << 21) | (v3h >>> 11)
      v3h = ((v3h << 21) | (v3l >>> 11)) ^ v0h
      v3l = t ^ v0l
      t = (v2l + v1l) | 0
      v2h = (v2h + v1h + +((t >>> 0) < (v2l >>> 0))) | 0
      v2l = t
      t = (v1l << 17) | (v1h >>> 15)
      v1h = ((v1h << 17) | (v1l >>> 15)) ^ v2h
      v1l = t ^ v2l
      t = v2l
      v2l = v2h
      v2h = t

      v0l ^= ml
      v0h ^= mh
    }
    out[o++] = v0l ^ v1l ^ v2l ^ v3l
    out[o++] = v0h ^ v1h ^ v2h ^ v3h
  }
}
