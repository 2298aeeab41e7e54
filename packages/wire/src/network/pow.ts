/**
 * Proof-of-work arithmetic: the compact target ("nBits"), hash-vs-target,
 * and the work a block adds to its chain.
 *
 * Mirrors Bitcoin Core's arith_uint256::SetCompact / GetCompact
 * (src/arith_uint256.cpp), CheckProofOfWork (src/pow.cpp) and GetBlockProof
 * (src/chain.cpp), with bigint standing in for the 256-bit integer.
 *
 * The compact form is a base-256 float: the top byte is the size in bytes,
 * the low 23 bits the mantissa, and bit 0x00800000 a sign bit (a relic of
 * OpenSSL's bignum encoding). target = mantissa * 256^(size - 3).
 */
import { WireError } from '../errors.js'

/** Bytes in a block hash and in a 256-bit target. */
export const POW_HASH_BYTES = 32

/** 2^256: one past the largest 256-bit target. */
export const TWO_POW_256 = 1n << 256n

/** Mask that keeps a bigint to 256 bits, as arith_uint256 arithmetic wraps. */
const MASK_256 = TWO_POW_256 - 1n

/** Sign bit of the compact encoding. */
const COMPACT_SIGN_BIT = 0x00800000
/** Mantissa bits of the compact encoding. */
const COMPACT_MANTISSA_MASK = 0x007fffff

/** A decoded compact target with Core's flags (SetCompact's pfNegative / pfOverflow). */
export interface CompactTarget {
  /**
   * The magnitude, reduced modulo 2^256 as Core's arith_uint256 does. Only
   * meaningful when neither flag is set.
   */
  readonly target: bigint
  /** Sign bit set with a non-zero mantissa: Core treats the target as invalid. */
  readonly negative: boolean
  /** The value does not fit in 256 bits. */
  readonly overflow: boolean
}

function checkU32(n: number, field: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new WireError('ENCODE_RANGE', `${field} must be a u32`, { field, actual: String(n) })
  }
}

/**
 * Decodes compact bits exactly as Core's SetCompact, reporting the negative
 * and overflow flags instead of judging them. Never throws for a u32 input.
 *
 * @throws WireError ENCODE_RANGE if `bits` is not an integer in [0, 2^32).
 */
export function bitsToTarget(bits: number): CompactTarget {
  checkU32(bits, 'bits')
  const size = bits >>> 24
  let word = bits & COMPACT_MANTISSA_MASK
  let target: bigint
  if (size <= 3) {
    // Core shifts the word itself here, so bytes shifted out cannot set a flag.
    word >>>= 8 * (3 - size)
    target = BigInt(word)
  } else {
    target = (BigInt(word) << BigInt(8 * (size - 3))) & MASK_256
  }
  const negative = word !== 0 && (bits & COMPACT_SIGN_BIT) !== 0
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32))
  return { target, negative, overflow }
}

/**
 * Strict decode: the target of `bits`, or an error if Core would flag it.
 * A zero target is returned as 0n (it decodes fine; no hash can meet it,
 * which checkProofOfWork reports).
 *
 * @throws WireError INVALID_VALUE when the compact value is negative or overflows 256 bits.
 * @throws WireError ENCODE_RANGE if `bits` is not a u32.
 */
export function bitsToTargetStrict(bits: number): bigint {
  const t = bitsToTarget(bits)
  if (t.negative || t.overflow) {
    const what = t.negative ? 'negative' : 'overflowing'
    throw new WireError('INVALID_VALUE', `compact target 0x${bits.toString(16).padStart(8, '0')} is ${what}`, {
      field: 'bits',
      actual: bits,
    })
  }
  return t.target
}

/**
 * Encodes a target in compact form as Core's GetCompact: the mantissa keeps
 * the top 3 significant bytes (lower bits are truncated), and is shifted
 * down a byte when its top bit would read as the sign.
 *
 * @param negative sets the sign bit when the mantissa is non-zero (GetCompact(true)); only tests use it.
 * @throws WireError ENCODE_RANGE if `target` is negative or not below 2^256.
 */
export function targetToBits(target: bigint, negative = false): number {
  if (target < 0n || target >= TWO_POW_256) {
    throw new WireError('ENCODE_RANGE', 'target must be in [0, 2^256)', { field: 'target', actual: target })
  }
  // Size in bytes of the significant part: two hex digits per byte.
  let size = target === 0n ? 0 : Math.ceil(target.toString(16).length / 2)
  let mantissa: number
  if (size <= 3) {
    mantissa = Number(target) * 2 ** (8 * (3 - size))
  } else {
    mantissa = Number(target >> BigInt(8 * (size - 3)))
  }
  // Keep the sign bit clear: move one byte into the exponent instead.
  if (mantissa & COMPACT_SIGN_BIT) {
    mantissa >>>= 8
    size += 1
  }
  if (negative && (mantissa & COMPACT_MANTISSA_MASK) !== 0) mantissa |= COMPACT_SIGN_BIT
  // size <= 33, so size * 2^24 + mantissa < 2^32; plain arithmetic keeps it unsigned.
  return size * 0x1000000 + mantissa
}

/**
 * A 32-byte hash in internal byte order read as the 256-bit number Core
 * compares with the target (UintToArith256): little-endian, so the last byte
 * is the most significant (the leading zeros of the display form).
 *
 * @throws WireError INVALID_VALUE unless `hash` is 32 bytes.
 */
export function hashToBigInt(hash: Uint8Array): bigint {
  if (hash.length !== POW_HASH_BYTES) {
    throw new WireError('INVALID_VALUE', 'a hash is 32 bytes', { field: 'hash', expected: POW_HASH_BYTES, actual: hash.length })
  }
  // Four little-endian 64-bit words instead of 32 byte-wide BigInt steps:
  // this runs once per header validated.
  const v = new DataView(hash.buffer, hash.byteOffset, POW_HASH_BYTES)
  return (
    (v.getBigUint64(24, true) << 192n) |
    (v.getBigUint64(16, true) << 128n) |
    (v.getBigUint64(8, true) << 64n) |
    v.getBigUint64(0, true)
  )
}

/** Why a header fails CheckProofOfWork. */
export type PowFailure =
  /** Sign bit set on a non-zero mantissa. */
  | 'NEGATIVE_TARGET'
  /** The target decodes to zero: no hash can meet it. */
  | 'ZERO_TARGET'
  /** The compact value does not fit in 256 bits. */
  | 'TARGET_OVERFLOW'
  /** The target is easier than the network allows. */
  | 'TARGET_ABOVE_POW_LIMIT'
  /** The hash does not meet the target. */
  | 'HASH_ABOVE_TARGET'

/** Result of checkProofOfWork: the numbers behind the verdict either way. */
export type PowCheck =
  | { readonly ok: true; readonly target: bigint; readonly hashValue: bigint }
  | {
      readonly ok: false
      readonly reason: PowFailure
      /** The decoded target (modulo 2^256 when it overflowed). */
      readonly target: bigint
      readonly powLimit: bigint
      /** Present when the target itself was valid and the hash was compared. */
      readonly hashValue?: bigint
    }

/**
 * Core's CheckProofOfWork: `bits` must decode to a positive, non-overflowing
 * target no higher than the network's powLimit, and the hash (internal byte
 * order, read little-endian) must not exceed it.
 *
 * Only checks the header's own claim. Whether `bits` is the value the chain
 * requires at that height is the header-sync rules' job.
 */
export function checkProofOfWork(hash: Uint8Array, bits: number, params: { readonly powLimit: bigint }): PowCheck {
  const { target, negative, overflow } = bitsToTarget(bits)
  const powLimit = params.powLimit
  // Core: fNegative || bnTarget == 0 || fOverflow || bnTarget > powLimit. Overflow is
  // reported before zero because an overflowing value wraps to 0 modulo 2^256.
  if (negative) return { ok: false, reason: 'NEGATIVE_TARGET', target, powLimit }
  if (overflow) return { ok: false, reason: 'TARGET_OVERFLOW', target, powLimit }
  if (target === 0n) return { ok: false, reason: 'ZERO_TARGET', target, powLimit }
  if (target > powLimit) return { ok: false, reason: 'TARGET_ABOVE_POW_LIMIT', target, powLimit }
  const hashValue = hashToBigInt(hash)
  if (hashValue > target) return { ok: false, reason: 'HASH_ABOVE_TARGET', target, powLimit, hashValue }
  return { ok: true, target, hashValue }
}

/**
 * Core's GetBlockProof: the expected number of hashes to find a block at
 * this target, floor(2^256 / (target + 1)). Chain work is the sum of this
 * over the chain. Invalid compact values (negative, overflow, zero) count 0,
 * as in Core.
 */
export function workFromBits(bits: number): bigint {
  const { target, negative, overflow } = bitsToTarget(bits)
  if (negative || overflow || target === 0n) return 0n
  return TWO_POW_256 / (target + 1n)
}
