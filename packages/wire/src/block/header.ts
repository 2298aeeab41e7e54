/**
 * The 80-byte block header and its hash.
 */
import { ByteReader } from '../bytes/reader.js'
import { ByteWriter } from '../bytes/writer.js'
import { sha256dHeader } from '../hash/header-hash.js'
import { WireError } from '../errors.js'

/** Size of a serialized block header, in bytes: version 4, prevBlock 32, merkleRoot 32, time 4, bits 4, nonce 4. */
export const BLOCK_HEADER_BYTES = 80

/** A block header: the 80 bytes that link a block to its parent, commit to its transactions and carry its proof of work. */
export interface BlockHeader {
  /** Signed 32-bit version (version bits live here). */
  readonly version: number
  /** Hash of the previous block header, internal byte order. */
  readonly prevBlock: Uint8Array
  /** Merkle root of the block's txids, internal byte order. */
  readonly merkleRoot: Uint8Array
  /** Unix time in seconds (u32). */
  readonly time: number
  /** Compact target ("nBits"). */
  readonly bits: number
  /** u32 the miner varies to meet the target. */
  readonly nonce: number
}

/**
 * Reads one 80-byte header from `r`; the two hashes are copied (they do not
 * pin the input). Throws WireError TRUNCATED if fewer than 80 bytes are left.
 * Checks no rule (proof of work included).
 */
export function decodeBlockHeader(r: ByteReader): BlockHeader {
  r.need(BLOCK_HEADER_BYTES, 'block header')
  return {
    version: r.i32le(),
    prevBlock: r.hash(),
    merkleRoot: r.hash(),
    time: r.u32le(),
    bits: r.u32le(),
    nonce: r.u32le(),
  }
}

/**
 * Appends the 80 serialized bytes of `h` to `w`. Throws WireError ENCODE_RANGE
 * for a field out of range or a hash that is not 32 bytes; the fields before
 * it may already be written (use writeBlockHeader to check first).
 */
export function encodeBlockHeader(w: ByteWriter, h: BlockHeader): void {
  w.i32le(h.version).hash(h.prevBlock).hash(h.merkleRoot).u32le(h.time).u32le(h.bits).u32le(h.nonce)
}

/**
 * The 80 serialized bytes of a header. Written directly rather than through
 * a ByteWriter: header validation serializes every header it hashes.
 */
export function serializeBlockHeader(h: BlockHeader): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(BLOCK_HEADER_BYTES)
  writeBlockHeader(h, out, 0)
  return out
}

/**
 * Writes the 80 serialized bytes of `h` into out[offset .. offset + 80]
 * without allocating (HeaderTree serializes straight into its storage).
 * Checks every field first, so nothing is written for a bad header.
 *
 * @throws WireError ENCODE_RANGE for a field out of range.
 * @throws RangeError when the 80 bytes do not fit in `out` at `offset`.
 */
export function writeBlockHeader(h: BlockHeader, out: Uint8Array, offset: number): void {
  const prev = h.prevBlock
  const root = h.merkleRoot
  const version = h.version
  const time = h.time
  const bits = h.bits
  const nonce = h.nonce
  if (
    prev.length !== 32 ||
    root.length !== 32 ||
    !isU32(time) ||
    !isU32(bits) ||
    !isU32(nonce) ||
    !(Number.isInteger(version) && version >= -0x80000000 && version <= 0x7fffffff) ||
    !(Number.isInteger(offset) && offset >= 0 && offset + BLOCK_HEADER_BYTES <= out.length)
  ) {
    // Out of line: the error messages would make this hot function too big for V8 to inline.
    throw writeError(h, out, offset)
  }
  writeU32(out, offset, version)
  out.set(prev, offset + 4)
  out.set(root, offset + 36)
  writeU32(out, offset + 68, time)
  writeU32(out, offset + 72, bits)
  writeU32(out, offset + 76, nonce)
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff
}

/** The error writeBlockHeader throws, for the first check that fails (hashes, time, bits, nonce, version, room). */
function writeError(h: BlockHeader, out: Uint8Array, offset: number): Error {
  if (h.prevBlock.length !== 32 || h.merkleRoot.length !== 32) {
    const actual = h.prevBlock.length !== 32 ? h.prevBlock.length : h.merkleRoot.length
    return new WireError('ENCODE_RANGE', 'header hashes must be 32 bytes', { actual })
  }
  for (const field of ['time', 'bits', 'nonce'] as const) {
    const n = h[field]
    if (!isU32(n)) return new WireError('ENCODE_RANGE', `${field} out of range: ${n}`, { field, actual: n })
  }
  if (!Number.isInteger(h.version) || h.version < -0x80000000 || h.version > 0x7fffffff) {
    return new WireError('ENCODE_RANGE', `i32 out of range: ${h.version}`, { actual: h.version })
  }
  return new RangeError(`block header: 80 bytes at ${offset} do not fit in ${out.length}`)
}

/** Little-endian; the low 32 bits of `n` (so a negative i32 is written as two's complement). */
function writeU32(out: Uint8Array, o: number, n: number): void {
  out[o] = n
  out[o + 1] = n >>> 8
  out[o + 2] = n >>> 16
  out[o + 3] = n >>> 24
}

/** Parse exactly 80 bytes into a header. */
export function parseBlockHeader(bytes: Uint8Array): BlockHeader {
  const r = new ByteReader(bytes)
  const h = decodeBlockHeader(r)
  r.done('block header')
  return h
}

/**
 * Block hash: sha256d of the 80-byte header, internal byte order. Uses the
 * header-specialised SHA-256 (hash/header-hash.ts) on every build: for one
 * 80-byte message it is faster than a node:crypto call.
 */
export function blockHash(h: BlockHeader): Uint8Array {
  return sha256dHeader(serializeBlockHeader(h))
}
