/**
 * A whole block: the 80-byte header, a CompactSize transaction count, the
 * transactions (BIP144 form for those with a witness).
 *
 * decodeBlock records where each transaction lies in the input
 * (DecodedBlock.txLayouts), so blockTxids / blockWtxids hash the original
 * bytes instead of re-serializing every transaction. For blocks too large
 * to hold in memory use BlockStreamParser (stream.ts).
 */
import { ByteReader } from '../bytes/reader.js'
import { ByteWriter, compactSizeLength } from '../bytes/writer.js'
import { bytesEqual, hashToHex } from '../bytes/hex.js'
import { WireError } from '../errors.js'
import type { CodecContext } from '../messages/codec.js'
import { MAX_BLOCK_SERIALIZED_SIZE } from '../messages/context.js'
import { encodeTx, readTx, txLimits, type TxLayout } from '../tx/codec.js'
import {
  baseSizeFromLayout,
  hasWitness,
  txBaseSize,
  txid,
  txidFromRaw,
  txSize,
  WITNESS_SCALE_FACTOR,
  wtxid,
  wtxidFromRaw,
} from '../tx/id.js'
import type { Transaction } from '../tx/types.js'
import { BLOCK_HEADER_BYTES, type BlockHeader, decodeBlockHeader, encodeBlockHeader } from './header.js'
import { type MerkleResult, merkleRootMutated } from './merkle.js'
import { maxBlockTxs, MIN_TRANSACTION_BYTES } from './partial-merkle.js'
import { checkWitnessCommitment, witnessMerkleRoot } from './witness.js'

/**
 * Most transactions in a Bitcoin block: 4,000,000 / 60 = 66,666, the
 * payload limit over the smallest valid transaction (MIN_TRANSACTION_BYTES:
 * one input, one output, empty scripts). Other payload limits:
 * maxBlockTxs(ctx.maxBlockPayload).
 */
export const MAX_BLOCK_TXS = maxBlockTxs(MAX_BLOCK_SERIALIZED_SIZE)

/** A block: its header and its transactions, the coinbase first. */
export interface Block {
  readonly header: BlockHeader
  readonly txs: readonly Transaction[]
}

/** A block decoded from bytes: also where each transaction lies in `raw`. */
export interface DecodedBlock extends Block {
  /** The buffer the block was decoded from (transaction byte fields are views into it). */
  readonly raw: Uint8Array
  /** txLayouts[i]: the offsets of txs[i] in `raw`. */
  readonly txLayouts: readonly TxLayout[]
}

/**
 * Ids already hashed for a DecodedBlock, kept on the block under
 * non-enumerable symbol keys (invisible to spreads and equality checks):
 * blockTxids, blockWtxids and verifyBlock hash each transaction's ids once
 * between them, in any order and any number of calls. A legacy
 * transaction's wtxid is its txid, so only segwit ones have a second entry.
 */
const TXID_CACHE = Symbol('txids')
const WTXID_CACHE = Symbol('wtxids')
type IdCache = (Uint8Array | undefined)[]

function idCache(block: DecodedBlock, key: typeof TXID_CACHE | typeof WTXID_CACHE): IdCache {
  const holder = block as DecodedBlock & { [TXID_CACHE]?: IdCache; [WTXID_CACHE]?: IdCache }
  let cache = holder[key]
  if (cache === undefined) {
    cache = new Array<Uint8Array | undefined>(block.txLayouts.length).fill(undefined)
    Object.defineProperty(holder, key, { value: cache, enumerable: false })
  }
  return cache
}

/** Limits of a decode: ctx.maxBlockPayload bounds the tx count and every tx field. */
export type BlockDecodeContext = Pick<CodecContext, 'maxBlockPayload'>

const BITCOIN_CONTEXT: BlockDecodeContext = { maxBlockPayload: MAX_BLOCK_SERIALIZED_SIZE }

/**
 * Read one block. Transaction byte fields are views into r.bytes.
 * The transaction count is at most ctx.maxBlockPayload / 60 (OVERSIZE) and
 * at most the bytes left / 60 (TRUNCATED), checked before anything is read.
 */
export function decodeBlock(r: ByteReader, ctx: BlockDecodeContext = BITCOIN_CONTEXT): DecodedBlock {
  const header = decodeBlockHeader(r)
  const n = r.count(maxBlockTxs(ctx.maxBlockPayload), 'block txs', MIN_TRANSACTION_BYTES)
  const limits = txLimits(ctx.maxBlockPayload)
  const txs: Transaction[] = []
  const txLayouts: TxLayout[] = []
  for (let i = 0; i < n; i++) txs.push(readTx(r, limits, txLayouts))
  return { header, txs, raw: r.bytes, txLayouts }
}

/** Write a block (each transaction in BIP144 form when it has a witness). */
export function encodeBlock(w: ByteWriter, block: Block): void {
  encodeBlockHeader(w, block.header)
  w.compactSize(block.txs.length)
  for (const tx of block.txs) encodeTx(w, tx, { witness: true })
}

/** The serialized bytes of a block. */
export function serializeBlock(block: Block): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter(blockSize(block))
  encodeBlock(w, block)
  return w.finish()
}

/** Parse a buffer holding exactly one block (TRAILING_BYTES if more). */
export function parseBlock(bytes: Uint8Array, ctx: BlockDecodeContext = BITCOIN_CONTEXT): DecodedBlock {
  const r = new ByteReader(bytes)
  const block = decodeBlock(r, ctx)
  r.done('block')
  return block
}

function isDecoded(block: Block): block is DecodedBlock {
  return (block as Partial<DecodedBlock>).txLayouts !== undefined
}

/**
 * txids of every transaction, in block order. For a decoded block they are
 * hashed from the raw bytes and remembered; the arrays returned are shared,
 * so do not modify them.
 */
export function blockTxids(block: Block): Uint8Array[] {
  const out: Uint8Array[] = []
  if (isDecoded(block)) {
    const { raw, txLayouts } = block
    const cache = idCache(block, TXID_CACHE)
    for (let i = 0; i < txLayouts.length; i++) out.push((cache[i] ??= txidFromRaw(raw, txLayouts[i]!)))
  } else {
    for (const tx of block.txs) out.push(txid(tx))
  }
  return out
}

/**
 * wtxids of every transaction, in block order (the coinbase's real wtxid,
 * not the zeros of the witness tree). A legacy transaction's wtxid is its
 * txid, hashed once (see blockTxids). For a decoded block they are
 * remembered like the txids: the arrays returned are shared, so do not
 * modify them.
 */
export function blockWtxids(block: Block): Uint8Array[] {
  const out: Uint8Array[] = []
  if (isDecoded(block)) {
    const { raw, txLayouts } = block
    const txids = idCache(block, TXID_CACHE)
    const wtxids = idCache(block, WTXID_CACHE)
    for (let i = 0; i < txLayouts.length; i++) {
      const l = txLayouts[i]!
      out.push(l.segwit ? (wtxids[i] ??= wtxidFromRaw(raw, l)) : (txids[i] ??= txidFromRaw(raw, l)))
    }
  } else {
    for (const tx of block.txs) out.push(wtxid(tx))
  }
  return out
}

/** Serialized size: header, count, transactions in BIP144 form. */
export function blockSize(block: Block): number {
  let n = BLOCK_HEADER_BYTES + compactSizeLength(block.txs.length)
  for (const tx of block.txs) n += txSize(tx)
  return n
}

/** BIP141 block weight: size without witness data x 3 + total size. */
export function blockWeight(block: Block): number {
  const head = BLOCK_HEADER_BYTES + compactSizeLength(block.txs.length)
  let base = head
  let total = head
  if (isDecoded(block)) {
    for (const l of block.txLayouts) {
      base += baseSizeFromLayout(l)
      total += l.end - l.start
    }
  } else {
    for (const tx of block.txs) {
      base += txBaseSize(tx)
      total += txSize(tx)
    }
  }
  return base * (WITNESS_SCALE_FACTOR - 1) + total
}

/**
 * Check that the header commits to the transactions:
 * - at least one transaction (INVALID_VALUE);
 * - the merkle root of the txids equals header.merkleRoot, and no level of
 *   the tree pairs two identical nodes (CVE-2012-2459); else BAD_MERKLE_ROOT;
 * - when any transaction has a witness, the coinbase's BIP141 commitment
 *   matches the wtxids (else BAD_WITNESS_COMMITMENT).
 * Detail carries expected (header / coinbase) and actual (computed) hex.
 * Consensus rules beyond these commitments (scripts, amounts, PoW) are not checked.
 */
export function verifyBlock(block: Block): void {
  if (block.txs.length === 0) {
    throw new WireError('INVALID_VALUE', 'block has no transactions', { field: 'block txs', actual: 0 })
  }
  checkMerkleRoot(block.header, blockTxids(block))
  if (block.txs.some(hasWitness)) checkWitnessCommitment(block.txs[0]!, witnessMerkleRoot(blockWtxids(block)))
}

/** Throw BAD_MERKLE_ROOT unless `txids` give header.merkleRoot without mutation. */
export function checkMerkleRoot(header: BlockHeader, txids: readonly Uint8Array[]): void {
  checkMerkleResult(header, merkleRootMutated(txids))
}

/** checkMerkleRoot for a root already computed (e.g. by a MerkleBuilder). */
export function checkMerkleResult(header: BlockHeader, { root, mutated }: MerkleResult): void {
  if (!bytesEqual(root, header.merkleRoot)) {
    throw new WireError('BAD_MERKLE_ROOT', 'merkle root of the transactions does not match the header', {
      field: 'merkleRoot',
      expected: hashToHex(header.merkleRoot),
      actual: hashToHex(root),
    })
  }
  if (mutated) {
    throw new WireError('BAD_MERKLE_ROOT', 'merkle tree pairs identical nodes (duplicate transactions, CVE-2012-2459)', {
      field: 'merkle mutation',
      expected: hashToHex(header.merkleRoot),
      actual: hashToHex(root),
    })
  }
}
