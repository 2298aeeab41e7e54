/**
 * PartAssembler: BlockFetcher's chunk events in, block parts out.
 *
 * A chunk lists the transactions that END in it; one that began in an
 * earlier chunk has its first bytes there. The assembler keeps the bytes
 * from the start of the first unfinished transaction onward (as the
 * chunks they came in: no copying of a growing buffer), so each part holds
 * its transactions whole.
 *
 * Chunk events are provisional until the block's 'block' event (a block
 * that fails its checks is streamed again, from chunk 0, by another peer).
 * So nothing leaves the assembler before `block()`: it holds each block's
 * parts until then, and a chunk 0 for a block it holds starts that block
 * over. What it holds is at most the bytes of the blocks in flight, which
 * BlockFetcher bounds (blocks per peer, and the block size cap).
 *
 * Pure and synchronous: no IO, no clock.
 */
import type { BlockChunkEvent, BlockDoneEvent } from '@bitp2p/session'
import { toHex } from '@bitp2p/wire'
import { BLOCK_HEADER_BYTES } from '@bitp2p/wire/limits'
import type { BlockPart, PartTx } from './codec.js'

interface Piece {
  /** Offset of `bytes` in the block. */
  readonly offset: number
  readonly bytes: Uint8Array
}

interface Held {
  header: Uint8Array | undefined
  /** Parts so far, each with its transactions and their bytes. */
  readonly parts: { txs: readonly PartTx[]; bytes: Uint8Array }[]
  /** Bytes from the first unfinished transaction (or the block start) to the end of the last chunk. */
  pieces: Piece[]
  /** Offset the next chunk must start at. */
  next: number
  /** Bytes of `parts`. */
  partsBytes: number
  /** partsBytes and the pieces' bytes. */
  heldBytes: number
}

/** Assembles block parts from chunk events; see the module comment. */
export class PartAssembler {
  private readonly blocks = new Map<string, Held>()
  private held = 0
  /** The chunk size of the fetcher whose events come in: recorded in every part. */
  readonly chunkSize: number

  /** An assembler for the events of a BlockFetcher with this `chunkSize`. */
  constructor(chunkSize: number) {
    if (!Number.isSafeInteger(chunkSize) || chunkSize < BLOCK_HEADER_BYTES + 9) throw new RangeError(`chunkSize must be an integer >= ${BLOCK_HEADER_BYTES + 9}, got ${chunkSize}`)
    this.chunkSize = chunkSize
  }

  /** Bytes held over all blocks not yet done. */
  get heldBytes(): number {
    return this.held
  }

  /** Blocks with chunks held. */
  get pendingBlocks(): number {
    return this.blocks.size
  }

  /** Take a chunk event. Throws RangeError when it does not continue its block where the last one ended. */
  chunk(ev: BlockChunkEvent): void {
    const key = toHex(ev.hash)
    let b = this.blocks.get(key)
    if (ev.chunkIndex === 0) {
      // A block streamed again (after an invalid attempt) starts over.
      if (b) this.forget(key, b)
      b = { header: undefined, parts: [], pieces: [], next: 0, partsBytes: 0, heldBytes: 0 }
      this.blocks.set(key, b)
    }
    if (!b || ev.offset !== b.next || ev.chunkIndex !== b.parts.length) {
      throw new RangeError(`chunk ${ev.chunkIndex} of block ${key} at offset ${ev.offset} does not follow what was received (${b ? `${b.parts.length} chunks, ${b.next} bytes` : 'nothing'})`)
    }
    if (ev.chunkIndex === 0) b.header = ev.bytes.slice(0, BLOCK_HEADER_BYTES)
    b.pieces.push({ offset: ev.offset, bytes: ev.bytes })
    b.next = ev.offset + ev.bytes.length

    let bytes: Uint8Array = new Uint8Array(0)
    if (ev.txs.length > 0) {
      const first = ev.txs[0]!.offset
      const last = ev.txs[ev.txs.length - 1]!
      const end = last.offset + last.length
      bytes = this.copyRange(b.pieces, first, end)
      // Keep only what follows the last complete transaction (copied, so the chunk can go).
      const tail = b.next - end
      b.pieces = tail > 0 ? [{ offset: end, bytes: ev.bytes.slice(ev.bytes.length - tail) }] : []
    }
    b.partsBytes += bytes.length
    const before = b.heldBytes
    b.heldBytes = b.partsBytes + this.piecesBytes(b.pieces)
    this.held += b.heldBytes - before
    b.parts.push({ txs: ev.txs.map((t) => ({ index: t.index, offset: t.offset, length: t.length, txid: t.txid, wtxid: t.wtxid })), bytes })
  }

  /**
   * The block passed its checks: its parts, in order, and the block is
   * forgotten. Throws RangeError when the chunks held do not make up the
   * block the event describes.
   */
  block(ev: BlockDoneEvent): BlockPart[] {
    const key = toHex(ev.hash)
    const b = this.blocks.get(key)
    if (!b || b.header === undefined || b.parts.length !== ev.chunks || b.next !== ev.size) {
      throw new RangeError(`block ${key}: ${ev.chunks} chunks and ${ev.size} bytes reported, ${b ? `${b.parts.length} chunks and ${b.next} bytes` : 'nothing'} held`)
    }
    const txs = b.parts.reduce((n, p) => n + p.txs.length, 0)
    if (txs !== ev.txCount) throw new RangeError(`block ${key}: ${ev.txCount} transactions reported, ${txs} in the chunks`)
    this.forget(key, b)
    const header = b.header
    return b.parts.map((p, i) => ({
      hash: ev.hash,
      height: ev.height,
      partIndex: i,
      partCount: b.parts.length,
      chunkSize: this.chunkSize,
      blockTxCount: ev.txCount,
      blockSize: ev.size,
      blockWeight: ev.weight,
      header,
      txs: p.txs,
      bytes: p.bytes,
    }))
  }

  /** Drop a block (its download failed or was cancelled). */
  drop(hash: Uint8Array): void {
    const key = toHex(hash)
    const b = this.blocks.get(key)
    if (b) this.forget(key, b)
  }

  private forget(key: string, b: Held): void {
    this.held -= b.heldBytes
    this.blocks.delete(key)
  }

  private piecesBytes(pieces: readonly Piece[]): number {
    let n = 0
    for (const p of pieces) n += p.bytes.length
    return n
  }

  /** Copy block bytes [from, to) out of `pieces`. */
  private copyRange(pieces: readonly Piece[], from: number, to: number): Uint8Array {
    const out = new Uint8Array(to - from)
    for (const p of pieces) {
      const s = Math.max(from, p.offset)
      const e = Math.min(to, p.offset + p.bytes.length)
      if (s < e) out.set(p.bytes.subarray(s - p.offset, e - p.offset), s - from)
    }
    return out
  }
}
