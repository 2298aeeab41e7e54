/**
 * The 80-byte block header and its hash.
 */
import { ByteReader } from '../bytes/reader.js'
import { ByteWriter } from '../bytes/writer.js'
import { sha256d } from '../hash/sha256.js'

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

/** The 80 serialized bytes of a header. */
export function serializeBlockHeader(h: BlockHeader): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter(BLOCK_HEADER_BYTES)
  encodeBlockHeader(w, h)
  return w.finish()
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
