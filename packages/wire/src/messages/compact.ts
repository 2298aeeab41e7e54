/**
 * BIP152 compact block relay: sendcmpct / cmpctblock / getblocktxn / blocktxn
 * (SHORT_IDS_BLOCKS_VERSION).
 *
 * sendcmpct    u8 announce | u64 version
 * cmpctblock   80-byte header | u64 nonce | CompactSize n | n x 6-byte short id
 *              | CompactSize k | k x (CompactSize index diff | transaction)
 * getblocktxn  32-byte block hash | CompactSize k | k x CompactSize index diff
 * blocktxn     32-byte block hash | CompactSize k | k x transaction
 *
 * Indexes travel differentially: each is sent as (index - previous index - 1),
 * the first as itself. Decoded messages carry absolute indexes. As in Core,
 * an index must fit in 16 bits, and a cmpctblock's prefilled indexes must
 * fall inside the block (short ids + prefilled txs); otherwise INVALID_VALUE.
 *
 * A short id is the low 6 bytes of SipHash-2-4 of the txid (version 1) or
 * wtxid (version 2), keyed by the first 16 bytes of
 * sha256(80-byte header || u64 nonce).
 */
import type { ByteReader } from '../bytes/reader.js'
import { ByteWriter, compactSizeLength } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import { BLOCK_HEADER_BYTES, type BlockHeader, decodeBlockHeader, encodeBlockHeader } from '../block/header.js'
import { maxBlockTxs } from '../block/partial-merkle.js'
import { sha256 } from '../hash/sha256.js'
import { type SipHashKey, sipHashKeyFromBytes, siphash24Hash32Into } from '../hash/siphash.js'
import { decodeTx, encodeTx, txLimits } from '../tx/codec.js'
import type { Transaction } from '../tx/types.js'
import type { Codec, CodecContext } from './codec.js'

/** sendcmpct version 1: short ids of txids, transactions without witness. */
export const CMPCT_VERSION_1 = 1n
/** sendcmpct version 2: short ids of wtxids, transactions with witness (segwit peers). */
export const CMPCT_VERSION_2 = 2n
/** sendcmpct payload: bool + u64. */
export const SENDCMPCT_PAYLOAD_BYTES = 9
/** Bytes of one short transaction id. */
export const SHORTTXID_BYTES = 6
/** Core stores compact block indexes as uint16_t: the largest index and tx count. */
export const MAX_CMPCT_INDEX = 0xffff
/**
 * Smallest serialization a transaction decoder can accept (Core's
 * MIN_SERIALIZABLE_TRANSACTION_WEIGHT / 4); bounds lists of transactions
 * before they are read.
 */
export const MIN_SERIALIZABLE_TX_BYTES = 10

/**
 * Most transactions a compact block (short ids + prefilled) or a
 * getblocktxn/blocktxn may list: what a block of ctx.maxBlockPayload bytes
 * can hold (60-byte minimum per tx), and never more than 16-bit indexes reach.
 */
export function maxCompactTxs(ctx: CodecContext): number {
  return Math.min(maxBlockTxs(ctx.maxBlockPayload), MAX_CMPCT_INDEX)
}

/** sendcmpct: whether to announce new blocks as cmpctblock, and the version spoken. */
export interface SendcmpctMessage {
  readonly command: 'sendcmpct'
  /** true: send me cmpctblock unasked (high-bandwidth mode); false: announce with inv/headers. */
  readonly announce: boolean
  /** CMPCT_VERSION_1 or CMPCT_VERSION_2; other values are decoded as-is (Core ignores them). */
  readonly version: bigint
  /**
   * The announce byte as received, set by the decoder only when it is
   * neither 0 nor 1 (any non-zero byte reads as true). Encoded instead of
   * `announce ? 1 : 0` while it still reads as `announce`.
   */
  readonly announceByte?: number
}

/** A transaction sent whole inside a cmpctblock, at its position in the block. */
export interface PrefilledTransaction {
  /** Absolute index in the block. */
  readonly index: number
  readonly tx: Transaction
}

/** cmpctblock: a header, short ids for most transactions, and a few whole ones. */
export interface CmpctblockMessage {
  readonly command: 'cmpctblock'
  readonly header: BlockHeader
  /** Salt of the short id key. */
  readonly nonce: bigint
  /** Short ids as 48-bit numbers (the 6 bytes read little-endian), in block order. */
  readonly shortIds: readonly number[]
  /** Ascending absolute indexes. */
  readonly prefilledTxs: readonly PrefilledTransaction[]
}

/** getblocktxn: ask for the transactions of a compact block we could not rebuild. */
export interface GetblocktxnMessage {
  readonly command: 'getblocktxn'
  readonly blockHash: Uint8Array
  /** Ascending absolute indexes. */
  readonly indexes: readonly number[]
}

/** blocktxn: the transactions a getblocktxn asked for, in the order asked. */
export interface BlocktxnMessage {
  readonly command: 'blocktxn'
  readonly blockHash: Uint8Array
  readonly txs: readonly Transaction[]
}

/**
 * The SipHash key of a compact block's short ids: k0, k1 = the first two
 * little-endian u64 words of sha256(80-byte header || nonce as u64 LE).
 */
export function shortIdKey(header: BlockHeader, nonce: bigint): SipHashKey {
  const w = new ByteWriter(BLOCK_HEADER_BYTES + 8)
  encodeBlockHeader(w, header)
  w.u64le(nonce)
  return sipHashKeyFromBytes(sha256(w.finish()).subarray(0, 16))
}

/**
 * The short id of a transaction: the low 48 bits of SipHash-2-4 of its txid
 * (version 1) or wtxid (version 2), as a number. Pass `scratch` (a
 * Uint32Array(2)) to compute many without allocating.
 */
export function shortId(key: SipHashKey, txidOrWtxid: Uint8Array, scratch: Uint32Array = new Uint32Array(2)): number {
  siphash24Hash32Into(key, txidOrWtxid, scratch)
  return (scratch[1]! & 0xffff) * 0x100000000 + scratch[0]!
}

/** Read one differentially encoded index; `next` is previous + 1 (0 at first). */
function readIndex(r: ByteReader, next: number, command: string): number {
  const at = r.offset
  const diff = r.compactSize()
  const index = next + diff
  if (index > MAX_CMPCT_INDEX) {
    throw new WireError('INVALID_VALUE', `${command}: differential index overflows 16 bits`, {
      field: 'index',
      offset: at,
      limit: MAX_CMPCT_INDEX,
      actual: index,
    })
  }
  return index
}

/** Check ascending absolute indexes for encoding; each must be in [next, limit). */
function checkIndexes(command: string, indexes: readonly number[], limit: number): void {
  let next = 0
  for (const i of indexes) {
    if (!Number.isInteger(i) || i < next || i >= limit) {
      throw new WireError('ENCODE_RANGE', `${command}: index ${i} not ascending or not below ${limit}`, {
        field: 'index',
        limit,
        actual: i,
      })
    }
    next = i + 1
  }
}

function tooMany(command: string, n: number, limit: number): WireError {
  return new WireError('ENCODE_RANGE', `${command}: ${n} transactions exceeds ${limit}`, { field: 'maxCompactTxs', limit, actual: n })
}

/** sendcmpct (BIP152). Any non-zero announce byte reads as true, as in Core; one other than 1 is kept in `announceByte`. */
export const sendcmpctCodec: Codec<SendcmpctMessage> = {
  command: 'sendcmpct',
  maxPayload: () => SENDCMPCT_PAYLOAD_BYTES,
  encode(w: ByteWriter, m: SendcmpctMessage) {
    const b = m.announceByte
    // The received byte, while it still says what `announce` says.
    const keep = b !== undefined && Number.isInteger(b) && b >= 0 && b <= 0xff && (b !== 0) === m.announce
    w.u8(keep ? b : m.announce ? 1 : 0).u64le(m.version)
  },
  decode(r: ByteReader): SendcmpctMessage {
    const b = r.u8()
    const version = r.u64le()
    if (b > 1) return { command: 'sendcmpct', announce: true, version, announceByte: b }
    return { command: 'sendcmpct', announce: b === 1, version }
  },
}

/** cmpctblock (BIP152). */
export const cmpctblockCodec: Codec<CmpctblockMessage> = {
  command: 'cmpctblock',
  maxPayload(ctx: CodecContext) {
    const n = maxCompactTxs(ctx)
    // Every transaction is either a 6-byte short id or prefilled whole (plus
    // an index of at most 3 bytes); a transaction is at least 60 bytes, so
    // the short ids never add to the block's own size.
    return BLOCK_HEADER_BYTES + 8 + 2 * compactSizeLength(n) + n * 3 + ctx.maxBlockPayload
  },
  encode(w: ByteWriter, m: CmpctblockMessage, ctx: CodecContext) {
    const total = m.shortIds.length + m.prefilledTxs.length
    const limit = maxCompactTxs(ctx)
    if (total > limit) throw tooMany('cmpctblock', total, limit)
    checkIndexes(
      'cmpctblock',
      m.prefilledTxs.map((p) => p.index),
      total,
    )
    encodeBlockHeader(w, m.header)
    w.u64le(m.nonce).compactSize(m.shortIds.length)
    for (const id of m.shortIds) {
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffffffff) {
        throw new WireError('ENCODE_RANGE', `cmpctblock: short id ${id} is not a 48-bit value`, { field: 'shortIds', actual: id })
      }
      const lo = id % 0x100000000
      w.u32le(lo).u16le((id - lo) / 0x100000000)
    }
    w.compactSize(m.prefilledTxs.length)
    let next = 0
    for (const p of m.prefilledTxs) {
      w.compactSize(p.index - next)
      encodeTx(w, p.tx, { witness: true })
      next = p.index + 1
    }
  },
  decode(r: ByteReader, ctx: CodecContext): CmpctblockMessage {
    const limit = maxCompactTxs(ctx)
    const header = decodeBlockHeader(r)
    const nonce = r.u64le()
    const nShort = r.count(limit, 'cmpctblock short ids', SHORTTXID_BYTES)
    const shortIds: number[] = []
    for (let i = 0; i < nShort; i++) {
      const lo = r.u32le()
      shortIds.push(r.u16le() * 0x100000000 + lo)
    }
    // Each prefilled entry is at least a 1-byte index and a minimal transaction.
    const nPrefilled = r.count(limit - nShort, 'cmpctblock prefilled txs', 1 + MIN_SERIALIZABLE_TX_BYTES)
    const total = nShort + nPrefilled
    const limits = txLimits(ctx.maxBlockPayload)
    const prefilledTxs: PrefilledTransaction[] = []
    let next = 0
    for (let i = 0; i < nPrefilled; i++) {
      const at = r.offset
      const index = readIndex(r, next, 'cmpctblock')
      if (index >= total) {
        throw new WireError('INVALID_VALUE', `cmpctblock: prefilled index ${index} beyond the block's ${total} transactions`, {
          field: 'index',
          offset: at,
          limit: total,
          actual: index,
        })
      }
      prefilledTxs.push({ index, tx: decodeTx(r, limits) })
      next = index + 1
    }
    return { command: 'cmpctblock', header, nonce, shortIds, prefilledTxs }
  },
}

/** getblocktxn (BIP152). */
export const getblocktxnCodec: Codec<GetblocktxnMessage> = {
  command: 'getblocktxn',
  maxPayload(ctx: CodecContext) {
    const n = maxCompactTxs(ctx)
    // A differential index below 2^16 takes at most 3 bytes.
    return 32 + compactSizeLength(n) + n * 3
  },
  encode(w: ByteWriter, m: GetblocktxnMessage, ctx: CodecContext) {
    const limit = maxCompactTxs(ctx)
    if (m.indexes.length > limit) throw tooMany('getblocktxn', m.indexes.length, limit)
    checkIndexes('getblocktxn', m.indexes, MAX_CMPCT_INDEX + 1)
    w.hash(m.blockHash).compactSize(m.indexes.length)
    let next = 0
    for (const i of m.indexes) {
      w.compactSize(i - next)
      next = i + 1
    }
  },
  decode(r: ByteReader, ctx: CodecContext): GetblocktxnMessage {
    const blockHash = r.hash()
    const n = r.count(maxCompactTxs(ctx), 'getblocktxn indexes', 1)
    const indexes: number[] = []
    let next = 0
    for (let i = 0; i < n; i++) {
      const index = readIndex(r, next, 'getblocktxn')
      indexes.push(index)
      next = index + 1
    }
    return { command: 'getblocktxn', blockHash, indexes }
  },
}

/** blocktxn (BIP152). Transactions are sent with their witness when they have one. */
export const blocktxnCodec: Codec<BlocktxnMessage> = {
  command: 'blocktxn',
  maxPayload(ctx: CodecContext) {
    return 32 + compactSizeLength(maxCompactTxs(ctx)) + ctx.maxBlockPayload
  },
  encode(w: ByteWriter, m: BlocktxnMessage, ctx: CodecContext) {
    const limit = maxCompactTxs(ctx)
    if (m.txs.length > limit) throw tooMany('blocktxn', m.txs.length, limit)
    w.hash(m.blockHash).compactSize(m.txs.length)
    for (const tx of m.txs) encodeTx(w, tx, { witness: true })
  },
  decode(r: ByteReader, ctx: CodecContext): BlocktxnMessage {
    const blockHash = r.hash()
    const n = r.count(maxCompactTxs(ctx), 'blocktxn txs', MIN_SERIALIZABLE_TX_BYTES)
    const limits = txLimits(ctx.maxBlockPayload)
    const txs: Transaction[] = []
    for (let i = 0; i < n; i++) txs.push(decodeTx(r, limits))
    return { command: 'blocktxn', blockHash, txs }
  },
}
