/**
 * BIP37 connection bloom filtering: filterload / filteradd / filterclear /
 * merkleblock (BIP0037_VERSION, served by NODE_BLOOM peers).
 *
 * filterload   varbytes filter (<= 36,000) | u32 nHashFuncs (<= 50) | u32 nTweak | u8 nFlags
 * filteradd    varbytes data (<= 520, one script element)
 * filterclear  empty
 * merkleblock  80-byte header | u32 total txs | CompactSize n | n x 32-byte hash | varbytes flags
 *
 * The merkleblock codec checks only the layout; `verifyMerkleBlock` in
 * block/partial-merkle.ts checks the proof against the header.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { compactSizeLength } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import { BLOCK_HEADER_BYTES, type BlockHeader, decodeBlockHeader, encodeBlockHeader } from '../block/header.js'
import { MAX_BLOOM_FILTER_SIZE, MAX_HASH_FUNCS } from '../block/bloom-filter.js'
import { maxBlockTxs } from '../block/partial-merkle.js'
import { type Codec, type CodecContext, emptyCodec } from './codec.js'

/** Core's MAX_SCRIPT_ELEMENT_SIZE: largest filteradd item (one script push). */
export const MAX_SCRIPT_ELEMENT_SIZE = 520
/** Largest filterload payload: CompactSize(36000) + 36000 + nHashFuncs + nTweak + nFlags. */
export const MAX_FILTERLOAD_PAYLOAD = compactSizeLength(MAX_BLOOM_FILTER_SIZE) + MAX_BLOOM_FILTER_SIZE + 4 + 4 + 1
/** Largest filteradd payload. */
export const MAX_FILTERADD_PAYLOAD = compactSizeLength(MAX_SCRIPT_ELEMENT_SIZE) + MAX_SCRIPT_ELEMENT_SIZE

/** filterload: replace the connection's filter. */
export interface FilterloadMessage {
  readonly command: 'filterload'
  /** The bit field; see BloomFilter. */
  readonly filter: Uint8Array
  readonly nHashFuncs: number
  readonly nTweak: number
  /** A BloomFlags value (unknown values are kept). */
  readonly nFlags: number
}

/** filteradd: add one item to the connection's filter. */
export interface FilteraddMessage {
  readonly command: 'filteradd'
  readonly data: Uint8Array
}

/** filterclear: drop the filter and relay everything again. */
export interface FilterclearMessage {
  readonly command: 'filterclear'
}

/** merkleblock: a header plus a partial merkle tree of the matched txids. */
export interface MerkleblockMessage {
  readonly command: 'merkleblock'
  readonly header: BlockHeader
  /** Transactions in the whole block (u32). */
  readonly totalTxs: number
  /** Depth-first hashes of the partial tree, 32 bytes each, internal byte order. */
  readonly hashes: readonly Uint8Array[]
  /** Flag bits, eight per byte, least significant bit first. */
  readonly flags: Uint8Array
}

/**
 * Most flag bytes a partial tree over `txs` leaves can use: one bit per
 * node visited, and a tree over n leaves has fewer than 2n + 32 nodes
 * (n + n/2 + ... plus one rounding per level).
 */
function maxFlagBytes(txs: number): number {
  return Math.ceil((2 * txs + 32) / 8)
}

function overLimit(what: string, n: number, limit: number, field: string): WireError {
  return new WireError('ENCODE_RANGE', `${what}: ${n} exceeds ${limit}`, { field, limit, actual: n })
}

/** filterload (BIP37). Size limits are checked on decode (OVERSIZE) and encode. */
export const filterloadCodec: Codec<FilterloadMessage> = {
  command: 'filterload',
  maxPayload: () => MAX_FILTERLOAD_PAYLOAD,
  encode(w: ByteWriter, m: FilterloadMessage) {
    if (m.filter.length > MAX_BLOOM_FILTER_SIZE) throw overLimit('filterload filter bytes', m.filter.length, MAX_BLOOM_FILTER_SIZE, 'MAX_BLOOM_FILTER_SIZE')
    if (m.nHashFuncs > MAX_HASH_FUNCS) throw overLimit('filterload nHashFuncs', m.nHashFuncs, MAX_HASH_FUNCS, 'MAX_HASH_FUNCS')
    w.varBytes(m.filter).u32le(m.nHashFuncs).u32le(m.nTweak).u8(m.nFlags)
  },
  decode(r: ByteReader): FilterloadMessage {
    const filter = r.varBytes(MAX_BLOOM_FILTER_SIZE, 'filterload filter')
    const at = r.offset
    const nHashFuncs = r.u32le()
    if (nHashFuncs > MAX_HASH_FUNCS) {
      throw new WireError('OVERSIZE', `filterload: ${nHashFuncs} hash functions exceeds ${MAX_HASH_FUNCS}`, {
        field: 'MAX_HASH_FUNCS',
        limit: MAX_HASH_FUNCS,
        actual: nHashFuncs,
        offset: at,
      })
    }
    const nTweak = r.u32le()
    const nFlags = r.u8()
    return { command: 'filterload', filter, nHashFuncs, nTweak, nFlags }
  },
}

/** filteradd (BIP37): one item of at most MAX_SCRIPT_ELEMENT_SIZE bytes. */
export const filteraddCodec: Codec<FilteraddMessage> = {
  command: 'filteradd',
  maxPayload: () => MAX_FILTERADD_PAYLOAD,
  encode(w: ByteWriter, m: FilteraddMessage) {
    if (m.data.length > MAX_SCRIPT_ELEMENT_SIZE) throw overLimit('filteradd data bytes', m.data.length, MAX_SCRIPT_ELEMENT_SIZE, 'MAX_SCRIPT_ELEMENT_SIZE')
    w.varBytes(m.data)
  },
  decode(r: ByteReader): FilteraddMessage {
    return { command: 'filteradd', data: r.varBytes(MAX_SCRIPT_ELEMENT_SIZE, 'filteradd data') }
  },
}

/** filterclear (BIP37): empty. */
export const filterclearCodec: Codec<FilterclearMessage> = emptyCodec('filterclear')

/** merkleblock (BIP37). Hash and flag counts are bounded by the block size of the profile. */
export const merkleblockCodec: Codec<MerkleblockMessage> = {
  command: 'merkleblock',
  maxPayload(ctx: CodecContext) {
    const txs = maxBlockTxs(ctx.maxBlockPayload)
    const flagBytes = maxFlagBytes(txs)
    return BLOCK_HEADER_BYTES + 4 + compactSizeLength(txs) + txs * 32 + compactSizeLength(flagBytes) + flagBytes
  },
  encode(w: ByteWriter, m: MerkleblockMessage, ctx: CodecContext) {
    const txs = maxBlockTxs(ctx.maxBlockPayload)
    if (m.hashes.length > txs) throw overLimit('merkleblock hashes', m.hashes.length, txs, 'maxBlockTxs')
    if (m.flags.length > maxFlagBytes(txs)) throw overLimit('merkleblock flag bytes', m.flags.length, maxFlagBytes(txs), 'maxFlagBytes')
    encodeBlockHeader(w, m.header)
    w.u32le(m.totalTxs).compactSize(m.hashes.length)
    for (const h of m.hashes) w.hash(h)
    w.varBytes(m.flags)
  },
  decode(r: ByteReader, ctx: CodecContext): MerkleblockMessage {
    const txs = maxBlockTxs(ctx.maxBlockPayload)
    const header = decodeBlockHeader(r)
    const totalTxs = r.u32le()
    const n = r.count(txs, 'merkleblock hashes', 32)
    const hashes: Uint8Array[] = []
    for (let i = 0; i < n; i++) hashes.push(r.hash())
    const flags = r.varBytes(maxFlagBytes(txs), 'merkleblock flags')
    return { command: 'merkleblock', header, totalTxs, hashes, flags }
  },
}
