/**
 * The 80-byte block header and its hash.
 */
import { ByteReader } from '../bytes/reader.js'
import { ByteWriter } from '../bytes/writer.js'
import { sha256d } from '../hash/sha256.js'
import { WireError } from '../errors.js'

export const BLOCK_HEADER_BYTES = 80

export interface BlockHeader {
  /** Signed 32-bit version (version bits live here). */
  readonly version: number
  /** Hash of the previous block header, internal byte order. */
  readonly prevBlock: Uint8Array
  readonly merkleRoot: Uint8Array
  /** Unix time in seconds (u32). */
  readonly time: number
  /** Compact target ("nBits"). */
  readonly bits: number
  readonly nonce: number
}

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

export function encodeBlockHeader(w: ByteWriter, h: BlockHeader): void {
  w.i32le(h.version).hash(h.prevBlock).hash(h.merkleRoot).u32le(h.time).u32le(h.bits).u32le(h.nonce)
}

/**
 * The 80 serialized bytes of a header. Written directly rather than through
 * a ByteWriter: header validation serializes every header it hashes.
 */
export function serializeBlockHeader(h: BlockHeader): Uint8Array<ArrayBuffer> {
  if (h.prevBlock.length !== 32 || h.merkleRoot.length !== 32) {
    throw new WireError('ENCODE_RANGE', 'header hashes must be 32 bytes', { actual: h.prevBlock.length })
  }
  checkU32(h.time, 'time')
  checkU32(h.bits, 'bits')
  checkU32(h.nonce, 'nonce')
  if (!Number.isInteger(h.version) || h.version < -0x80000000 || h.version > 0x7fffffff) {
    throw new WireError('ENCODE_RANGE', `i32 out of range: ${h.version}`, { actual: h.version })
  }
  const out = new Uint8Array(BLOCK_HEADER_BYTES)
  const v = new DataView(out.buffer)
  v.setInt32(0, h.version, true)
  out.set(h.prevBlock, 4)
  out.set(h.merkleRoot, 36)
  v.setUint32(68, h.time, true)
  v.setUint32(72, h.bits, true)
  v.setUint32(76, h.nonce, true)
  return out
}

function checkU32(n: number, field: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new WireError('ENCODE_RANGE', `${field} out of range: ${n}`, { field, actual: n })
  }
}

/** Parse exactly 80 bytes into a header. */
export function parseBlockHeader(bytes: Uint8Array): BlockHeader {
  const r = new ByteReader(bytes)
  const h = decodeBlockHeader(r)
  r.done('block header')
  return h
}

/** Block hash: sha256d of the 80-byte header, internal byte order. */
export function blockHash(h: BlockHeader): Uint8Array {
  return sha256d(serializeBlockHeader(h))
}
