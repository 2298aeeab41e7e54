/**
 * sha256d of an 80-byte block header, specialised for that one message
 * length (SHA-256 from FIPS 180-4, section 6.2): the compact variant.
 *
 * A general SHA-256 buffers input, pads at the end and allocates its
 * output; for 80 bytes that overhead is most of the cost. This module does
 * exactly the three compressions sha256d of 80 bytes needs, with the
 * padding known in advance:
 *
 *   1. block 1 of the header: bytes 0..63, from the initial hash value;
 *   2. block 2: bytes 64..79, then the 0x80 marker, zeros, and the message
 *      length (640 bits) in the last word;
 *   3. the second SHA-256 over the 32-byte digest: one block of the digest,
 *      0x80, zeros and the length 256 bits, from the initial hash value.
 *
 * This is what browser builds get: the compact compression of
 * sha256-compress-loop.ts (a loop over the round constants, shared with the
 * frame hasher), a few KB of code. The Node variant
 * (header-hash.node.ts, generated) writes every round out and folds the
 * constant padding in, 8-10 % faster for about 45 KB more code, a price
 * worth paying on a server, not in a page. Both export the same API and
 * give identical results (test/hash/header-hash.test.ts checks both).
 *
 * A hasher made by `createHeaderHasher` keeps its state and message
 * schedule in reused Int32Arrays: it allocates nothing per header.
 */
import { compressLoop as compress, END_MARKER, hashDigestInPlace, LOOP_SCRATCH_WORDS, SHA256_IV, storeDigest } from './sha256-compress-loop.js'

/** Bytes of the message this module hashes: one serialized block header. */
export const HEADER_HASH_INPUT_BYTES = 80

/** Bytes of the digest. */
export const HEADER_HASH_OUTPUT_BYTES = 32

/** Message length of pass 1 in bits (80 bytes), as the padding's length word (W[15] of block 2). */
const PASS1_BITS = HEADER_HASH_INPUT_BYTES * 8

/** A reusable header hasher; see createHeaderHasher. */
export interface HeaderHasher {
  /**
   * Writes sha256d(src[srcOffset .. srcOffset + 80]) to out[outOffset ..
   * outOffset + 32], in the usual (internal) byte order. `out` may be `src`
   * as long as the ranges do not overlap.
   *
   * @throws RangeError when either range is outside its array.
   */
  hashInto(src: Uint8Array, srcOffset: number, out: Uint8Array, outOffset: number): void
}

/**
 * A header hasher with its own scratch, reused across calls: no allocation
 * per header. Each hasher belongs to one owner; nothing is shared between
 * hashers.
 */
export function createHeaderHasher(): HeaderHasher {
  const scratch = new Int32Array(LOOP_SCRATCH_WORDS)
  return {
    hashInto(src, srcOffset, out, outOffset) {
      if (!(srcOffset >= 0 && srcOffset + HEADER_HASH_INPUT_BYTES <= src.length && Number.isInteger(srcOffset))) {
        throw new RangeError(`header hash: 80 bytes at ${srcOffset} are outside a ${src.length}-byte input`)
      }
      if (!(outOffset >= 0 && outOffset + HEADER_HASH_OUTPUT_BYTES <= out.length && Number.isInteger(outOffset))) {
        throw new RangeError(`header hash: 32 bytes at ${outOffset} are outside a ${out.length}-byte output`)
      }
      headerHash(scratch, src, srcOffset, out, outOffset)
    },
  }
}

/**
 * sha256d of one 80-byte header, as a new 32-byte array. Same result as
 * `sha256d(header)`; for many headers, a HeaderHasher avoids the scratch
 * allocation of each call.
 *
 * @throws RangeError unless `header` is exactly 80 bytes.
 */
export function sha256dHeader(header: Uint8Array): Uint8Array {
  if (header.length !== HEADER_HASH_INPUT_BYTES) {
    throw new RangeError(`header hash: a header is ${HEADER_HASH_INPUT_BYTES} bytes, got ${header.length}`)
  }
  const out = new Uint8Array(HEADER_HASH_OUTPUT_BYTES)
  headerHash(new Int32Array(LOOP_SCRATCH_WORDS), header, 0, out, 0)
  return out
}

/** Big-endian word at `o`. */
function word(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!
}

/** The three compressions; offsets are checked by the callers. */
function headerHash(s: Int32Array, src: Uint8Array, o: number, out: Uint8Array, p: number): void {
  // Pass 1, block 1: the header's first 64 bytes.
  s.set(SHA256_IV)
  for (let i = 0; i < 16; i++) s[8 + i] = word(src, o + 4 * i)
  compress(s)
  // Pass 1, block 2: its last 16 bytes and the padding.
  for (let i = 0; i < 4; i++) s[8 + i] = word(src, o + 64 + 4 * i)
  s[12] = END_MARKER
  s.fill(0, 13, 23)
  s[23] = PASS1_BITS
  compress(s)
  hashDigestInPlace(s)
  storeDigest(s, out, p)
}
