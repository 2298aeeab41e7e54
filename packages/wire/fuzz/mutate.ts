/**
 * Byte-level mutations for the fuzzer and the round-trip property test:
 * bit flips, interesting values at random places (CompactSize prefixes in
 * canonical and non-canonical forms, boundary integers, invalid UTF-8),
 * inserts, deletes, duplicated ranges, truncation and splicing with another
 * seed. Deterministic for a given generator state.
 */
import { concatBytes } from '../src/bytes/hex.js'
import type { FuzzRng } from './rng.js'

/** Bytes that sit on boundaries decoders care about (CompactSize prefixes, sign bits, booleans). */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x10, 0x20, 0x40, 0x7f, 0x80, 0xc0, 0xef, 0xfc, 0xfd, 0xfe, 0xff] as const

/** Sequences worth planting: CompactSize forms (some non-canonical), boundary u32s, invalid and edge UTF-8. */
const INTERESTING_SEQUENCES: readonly (readonly number[])[] = [
  [0xfd, 0xfd, 0x00], // smallest 3-byte CompactSize
  [0xfd, 0xfc, 0x00], // non-canonical 252
  [0xfd, 0x00, 0x00], // non-canonical 0
  [0xfd, 0xff, 0xff],
  [0xfe, 0x00, 0x00, 0x01, 0x00], // 65536
  [0xfe, 0xff, 0xff, 0x00, 0x00], // non-canonical
  [0xfe, 0xff, 0xff, 0xff, 0xff],
  [0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00], // 2^32
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // 2^64 - 1
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00], // 2^53 - 1
  [0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00], // 2^53
  [0xff, 0xff, 0xff, 0xff, 0x7f],
  [0x00, 0x00, 0x00, 0x80],
  [0x00, 0x01], // segwit marker and flag
  [0xff], // invalid UTF-8 lead byte
  [0xc0, 0x80], // overlong NUL
  [0xed, 0xa0, 0x80], // encoded surrogate
  [0xe2, 0x82], // cut 3-byte sequence
  [0xef, 0xbb, 0xbf], // BOM
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
]

/** What `mutate` may use besides the input. */
export interface MutateOptions {
  /** Longest output. */
  readonly maxLength: number
  /** Other seeds to splice from. */
  readonly others?: readonly Uint8Array[]
}

/** A mutated copy of `input`: one to a few mutations, biased towards one. */
export function mutate(rng: FuzzRng, input: Uint8Array, opts: MutateOptions): Uint8Array {
  let b: Uint8Array = input.slice()
  const rounds = 1 + (rng.chance(0.5) ? 0 : rng.below(rng.chance(0.8) ? 3 : 8))
  for (let i = 0; i < rounds; i++) b = mutateOnce(rng, b, opts)
  return b.length > opts.maxLength ? b.subarray(0, opts.maxLength) : b
}

function mutateOnce(rng: FuzzRng, b: Uint8Array, opts: MutateOptions): Uint8Array {
  const n = b.length
  const at = rng.below(n + 1)
  switch (rng.below(13)) {
    case 0: {
      // Flip one bit.
      if (n === 0) return rng.bytes(1)
      const i = rng.below(n)
      b[i]! ^= 1 << rng.below(8)
      return b
    }
    case 1: {
      if (n === 0) return rng.bytes(1)
      b[rng.below(n)] = rng.u32() & 0xff
      return b
    }
    case 2: {
      if (n === 0) return Uint8Array.of(rng.pick(INTERESTING_BYTES))
      b[rng.below(n)] = rng.pick(INTERESTING_BYTES)
      return b
    }
    case 3: {
      // Plant an interesting sequence, overwriting or inserted.
      const seq = rng.pick(INTERESTING_SEQUENCES)
      return rng.chance(0.5) ? insert(b, at, Uint8Array.from(seq)) : overwrite(b, at, seq)
    }
    case 4: {
      // Add or subtract a little from one byte (counts off by one).
      if (n === 0) return b
      const i = rng.below(n)
      b[i] = (b[i]! + (rng.chance(0.5) ? 1 : 255) * rng.int(1, 4)) & 0xff
      return b
    }
    case 5:
      return insert(b, at, rng.bytes(rng.int(1, 16)))
    case 6: {
      // Delete a range.
      if (n === 0) return b
      const from = rng.below(n)
      const len = Math.max(1, Math.min(n - from, rng.size(n)))
      return concatBytes(b.subarray(0, from), b.subarray(from + len))
    }
    case 7: {
      // Duplicate a range (a repeated entry, an extra field).
      if (n === 0) return b
      const from = rng.below(n)
      const len = Math.max(1, Math.min(n - from, rng.size(n)))
      return insert(b, at, b.slice(from, from + len))
    }
    case 8:
      // Truncate.
      return b.subarray(0, rng.below(n + 1))
    case 9:
      return concatBytes(b, rng.bytes(rng.int(1, 8)))
    case 10: {
      // Splice: this one's head with another seed's tail.
      const others = opts.others ?? []
      if (others.length === 0) return b
      const o = rng.pick(others)
      return concatBytes(b.subarray(0, at), o.subarray(rng.below(o.length + 1)))
    }
    case 11: {
      // A random little-endian u32 boundary value.
      const v = rng.pick([0, 1, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, n, n + 1, n - 1])
      return overwrite(b, at, [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff])
    }
    default: {
      // Swap two bytes.
      if (n < 2) return b
      const i = rng.below(n)
      const j = rng.below(n)
      const t = b[i]!
      b[i] = b[j]!
      b[j] = t
      return b
    }
  }
}

function insert(b: Uint8Array, at: number, piece: Uint8Array): Uint8Array {
  return concatBytes(b.subarray(0, at), piece, b.subarray(at))
}

function overwrite(b: Uint8Array, at: number, seq: readonly number[]): Uint8Array {
  const out = b.length >= at + seq.length ? b : concatBytes(b, new Uint8Array(at + seq.length - b.length))
  for (let i = 0; i < seq.length; i++) out[at + i] = seq[i]!
  return out
}

