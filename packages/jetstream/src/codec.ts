/**
 * The block part: what the producer publishes for each chunk of a block and
 * what a worker gets. One part holds the transactions that END in one
 * BlockFetcher chunk, whole: the bytes of a transaction that began in an
 * earlier chunk are carried over, so every part can be processed on its own,
 * by any worker, in any order (the ConduitP2P on_block_chunk idea).
 *
 * Binary layout, version 1 (integers little-endian):
 *
 *   offset size
 *        0    4  magic "BPRT"
 *        4    1  version (1)
 *        5    1  flags: bit 0 = height present; other bits 0
 *        6    2  reserved, 0
 *        8   32  block hash, internal byte order
 *       40    4  height (0 when absent)
 *       44    4  part index
 *       48    4  part count (the block's chunks)
 *       52    4  chunk size of the producer (names the partition of the block)
 *       56    4  transactions in the block
 *       60    8  block size, bytes
 *       68    8  block weight
 *       76   80  block header
 *      156    4  transactions in this part (n)
 *      160 80*n  per transaction: index u32, offset in the block u64,
 *                length u32, txid 32, wtxid 32
 *   160+80n  ... the transactions' bytes, contiguous: exactly the sum of
 *                their lengths, starting at the first one's offset
 *
 * Decoding checks every count against the bytes present before it
 * allocates, and the fields against each other (PartCodecError).
 */
import { hashToHex, toHex } from '@bitp2p/wire'
import { BLOCK_HEADER_BYTES } from '@bitp2p/wire/limits'
import { PartCodecError } from './errors.js'

/** First bytes of every block part: "BPRT". */
export const PART_MAGIC: Uint8Array = new Uint8Array([0x42, 0x50, 0x52, 0x54])
/** The format version this code writes and reads. */
export const PART_VERSION = 1
/** Bytes before the transaction table. */
export const PART_FIXED_BYTES = 160
/** Bytes of one transaction entry in the table. */
export const PART_TX_ENTRY_BYTES = 80

const FLAG_HEIGHT = 1

/** A transaction in a part, located in its block. */
export interface PartTx {
  /** Position in the block (0 = coinbase). */
  readonly index: number
  /** Byte offset in the block payload. */
  readonly offset: number
  /** Serialized length, bytes (with witness). */
  readonly length: number
  /** Internal byte order. */
  readonly txid: Uint8Array
  /** Internal byte order. */
  readonly wtxid: Uint8Array
}

/** One part of a block: the transactions that ended in one chunk, with their bytes. */
export interface BlockPart {
  /** Block hash, internal byte order. */
  readonly hash: Uint8Array
  /** Height, when the producer knew it (it does when it fetches by height). */
  readonly height: number | undefined
  /** 0 .. partCount-1. */
  readonly partIndex: number
  /** Parts of this block (its chunks). */
  readonly partCount: number
  /** The producer's chunk size: two producers with different sizes cut a block differently. */
  readonly chunkSize: number
  /** Transactions in the whole block. */
  readonly blockTxCount: number
  /** Block payload size, bytes. */
  readonly blockSize: number
  /** BIP141 weight of the block. */
  readonly blockWeight: number
  /** The 80-byte block header. */
  readonly header: Uint8Array
  /** The transactions, in block order, contiguous. */
  readonly txs: readonly PartTx[]
  /** Their bytes: `txs[0].offset` .. end of the last one (empty when `txs` is). */
  readonly bytes: Uint8Array
}

/** The bytes of transaction `i` of `part` (a view, no copy). */
export function partTxBytes(part: BlockPart, i: number): Uint8Array {
  const tx = part.txs[i]
  if (tx === undefined) throw new RangeError(`part has ${part.txs.length} transactions, no #${i}`)
  const start = tx.offset - part.txs[0]!.offset
  return part.bytes.subarray(start, start + tx.length)
}

/**
 * The Nats-Msg-Id of a part: block hash (display hex), chunk size and part
 * index. A producer that restarts republishes the same ids, which the
 * stream de-duplicates within its duplicate window.
 */
export function partMsgId(hash: Uint8Array, chunkSize: number, partIndex: number): string {
  return `${displayHex(hash)}:${chunkSize}:${partIndex}`
}

/**
 * A hash in display (RPC) order, hex. Never reverses in place: message
 * bodies from the NATS client are Node Buffers, whose slice() is a view.
 */
export function displayHex(hash: Uint8Array): string {
  return hashToHex(hash)
}

function writeU64(v: DataView, at: number, n: number): void {
  v.setUint32(at, n % 0x1_0000_0000, true)
  v.setUint32(at + 4, Math.floor(n / 0x1_0000_0000), true)
}

function checkU32(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new RangeError(`${name} must be a u32, got ${n}`)
}

/** Serialize a part (see the module comment); throws RangeError on fields out of range or contradicting each other. */
export function encodeBlockPart(part: BlockPart): Uint8Array {
  if (part.hash.length !== 32) throw new RangeError(`hash must be 32 bytes, got ${part.hash.length}`)
  if (part.header.length !== BLOCK_HEADER_BYTES) throw new RangeError(`header must be ${BLOCK_HEADER_BYTES} bytes, got ${part.header.length}`)
  for (const [k, n] of [
    ['partIndex', part.partIndex],
    ['partCount', part.partCount],
    ['chunkSize', part.chunkSize],
    ['blockTxCount', part.blockTxCount],
  ] as const) {
    checkU32(k, n)
  }
  if (part.height !== undefined) checkU32('height', part.height)
  if (!(part.partIndex < part.partCount)) throw new RangeError(`partIndex ${part.partIndex} is not below partCount ${part.partCount}`)
  for (const [k, n] of [
    ['blockSize', part.blockSize],
    ['blockWeight', part.blockWeight],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${k} must be a non-negative safe integer, got ${n}`)
  }
  let expected = 0
  part.txs.forEach((tx, i) => {
    if (tx.txid.length !== 32 || tx.wtxid.length !== 32) throw new RangeError(`tx ${tx.index}: txid and wtxid must be 32 bytes`)
    if (i > 0) {
      const prev = part.txs[i - 1]!
      if (tx.index !== prev.index + 1 || tx.offset !== prev.offset + prev.length) throw new RangeError(`tx ${tx.index} does not follow tx ${prev.index}`)
    }
    expected += tx.length
  })
  if (part.bytes.length !== expected) throw new RangeError(`bytes hold ${part.bytes.length}, the transactions ${expected}`)

  const out = new Uint8Array(PART_FIXED_BYTES + part.txs.length * PART_TX_ENTRY_BYTES + part.bytes.length)
  const v = new DataView(out.buffer)
  out.set(PART_MAGIC, 0)
  out[4] = PART_VERSION
  out[5] = part.height !== undefined ? FLAG_HEIGHT : 0
  out.set(part.hash, 8)
  v.setUint32(40, part.height ?? 0, true)
  v.setUint32(44, part.partIndex, true)
  v.setUint32(48, part.partCount, true)
  v.setUint32(52, part.chunkSize, true)
  v.setUint32(56, part.blockTxCount, true)
  writeU64(v, 60, part.blockSize)
  writeU64(v, 68, part.blockWeight)
  out.set(part.header, 76)
  v.setUint32(156, part.txs.length, true)
  let at = PART_FIXED_BYTES
  for (const tx of part.txs) {
    v.setUint32(at, tx.index, true)
    writeU64(v, at + 4, tx.offset)
    v.setUint32(at + 12, tx.length, true)
    out.set(tx.txid, at + 16)
    out.set(tx.wtxid, at + 48)
    at += PART_TX_ENTRY_BYTES
  }
  out.set(part.bytes, at)
  return out
}

/** A u64 field that must be a safe integer. */
function readU64(v: DataView, at: number, field: string): number {
  const lo = v.getUint32(at, true)
  const hi = v.getUint32(at + 4, true)
  if (hi > 0x1f_ffff) throw new PartCodecError('BAD_LAYOUT', at, `${field} is beyond 2^53`, { field })
  return hi * 0x1_0000_0000 + lo
}

/**
 * Parse a part. The result's byte fields are views into `msg` (no copy).
 * Throws PartCodecError on anything malformed; never allocates more than
 * the transaction table the bytes present can hold.
 */
export function decodeBlockPart(msg: Uint8Array): BlockPart {
  if (msg.length < 8) throw new PartCodecError('TRUNCATED', msg.length, `a part starts with ${PART_FIXED_BYTES} fixed bytes, got ${msg.length}`, { expected: PART_FIXED_BYTES, actual: msg.length })
  for (let i = 0; i < 4; i++) {
    if (msg[i] !== PART_MAGIC[i]) throw new PartCodecError('BAD_MAGIC', i, 'not a block part', { received: toHex(msg.subarray(0, 4)) })
  }
  if (msg[4] !== PART_VERSION) throw new PartCodecError('BAD_VERSION', 4, `version ${msg[4]}, this code reads ${PART_VERSION}`, { expected: PART_VERSION, actual: msg[4]! })
  if (msg.length < PART_FIXED_BYTES) throw new PartCodecError('TRUNCATED', msg.length, `a part starts with ${PART_FIXED_BYTES} fixed bytes, got ${msg.length}`, { expected: PART_FIXED_BYTES, actual: msg.length })
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength)
  const flags = msg[5]!
  if ((flags & ~FLAG_HEIGHT) !== 0 || v.getUint16(6, true) !== 0) throw new PartCodecError('BAD_LAYOUT', 5, `unknown flags ${flags} or reserved bits set`, { field: 'flags' })
  // One encoding per part: no height, no height field.
  if (!(flags & FLAG_HEIGHT) && v.getUint32(40, true) !== 0) throw new PartCodecError('BAD_LAYOUT', 40, 'a height field without the height flag', { field: 'height' })
  const partIndex = v.getUint32(44, true)
  const partCount = v.getUint32(48, true)
  if (partIndex >= partCount) throw new PartCodecError('BAD_LAYOUT', 44, `part index ${partIndex} is not below the count ${partCount}`, { field: 'partIndex', partIndex, partCount })
  const chunkSize = v.getUint32(52, true)
  const blockTxCount = v.getUint32(56, true)
  const blockSize = readU64(v, 60, 'blockSize')
  const blockWeight = readU64(v, 68, 'blockWeight')
  const n = v.getUint32(156, true)
  // The table must fit in what is there before anything is allocated for it.
  const tableEnd = PART_FIXED_BYTES + n * PART_TX_ENTRY_BYTES
  if (tableEnd > msg.length) {
    throw new PartCodecError('TRUNCATED', msg.length, `${n} transaction entries need ${tableEnd} bytes, got ${msg.length}`, { expected: tableEnd, actual: msg.length })
  }
  if (n > blockTxCount) throw new PartCodecError('BAD_LAYOUT', 156, `${n} transactions in a part of a block of ${blockTxCount}`, { field: 'txCount', txCount: n, blockTxCount })
  const txs: PartTx[] = []
  let at = PART_FIXED_BYTES
  let total = 0
  for (let i = 0; i < n; i++) {
    const index = v.getUint32(at, true)
    const offset = readU64(v, at + 4, 'offset')
    const length = v.getUint32(at + 12, true)
    const prev = txs[i - 1]
    if (index >= blockTxCount) throw new PartCodecError('BAD_LAYOUT', at, `transaction index ${index} in a block of ${blockTxCount}`, { field: 'index', index, blockTxCount })
    if (prev !== undefined && (index !== prev.index + 1 || offset !== prev.offset + prev.length)) {
      throw new PartCodecError('BAD_LAYOUT', at, `transaction ${index} at ${offset} does not follow ${prev.index} at ${prev.offset}+${prev.length}`, { field: 'offset', index, offset })
    }
    if (length === 0 || offset + length > blockSize) throw new PartCodecError('BAD_LAYOUT', at, `transaction ${index} (${offset}+${length}) is not inside the block of ${blockSize} bytes`, { field: 'length', index, offset, length, blockSize })
    txs.push({ index, offset, length, txid: msg.subarray(at + 16, at + 48), wtxid: msg.subarray(at + 48, at + 80) })
    total += length
    at += PART_TX_ENTRY_BYTES
  }
  const left = msg.length - at
  if (left < total) throw new PartCodecError('TRUNCATED', msg.length, `the transactions need ${total} bytes, ${left} follow the table`, { expected: at + total, actual: msg.length })
  if (left > total) throw new PartCodecError('TRAILING_BYTES', at + total, `${left - total} bytes after the transactions`, { expected: at + total, actual: msg.length })
  return {
    hash: msg.subarray(8, 40),
    height: flags & FLAG_HEIGHT ? v.getUint32(40, true) : undefined,
    partIndex,
    partCount,
    chunkSize,
    blockTxCount,
    blockSize,
    blockWeight,
    header: msg.subarray(76, 156),
    txs,
    bytes: msg.subarray(at),
  }
}
