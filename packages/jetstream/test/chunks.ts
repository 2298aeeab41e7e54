// Chunk events as BlockFetcher makes them (bytes in chunks of `chunkSize`,
// each listing the transactions that end in it), from a raw block, without
// a peer: for the assembler's tests. The 'block' event is the parser's
// summary, as BlockFetcher reports it.
import type { BlockChunkEvent, BlockDoneEvent } from '@bitp2p/session'
import { BlockStreamParser } from '@bitp2p/wire/codecs'
import { sha256d } from '@bitp2p/wire/hash'

/** The chunk events and the block event of `raw` cut into `chunkSize` bytes. */
export function chunkEvents(raw: Uint8Array, chunkSize: number, height = 7): { chunks: BlockChunkEvent[]; block: BlockDoneEvent; txs: { offset: number; length: number; txid: Uint8Array }[] } {
  const parser = new BlockStreamParser({ maxBlockBytes: 4_000_000, totalLength: raw.length })
  const hash = sha256d(raw.subarray(0, 80))
  const chunks: BlockChunkEvent[] = []
  const txs: { offset: number; length: number; txid: Uint8Array }[] = []
  for (let off = 0, i = 0; off < raw.length; off += chunkSize, i++) {
    const bytes = raw.slice(off, Math.min(raw.length, off + chunkSize))
    const ended = []
    for (const ev of parser.push(bytes)) {
      if (ev.type === 'error') throw ev.error
      if (ev.type === 'tx') {
        ended.push({ index: ev.index, offset: ev.offset, length: ev.length, txid: ev.txid, wtxid: ev.wtxid })
        txs.push({ offset: ev.offset, length: ev.length, txid: ev.txid })
      }
    }
    chunks.push({ type: 'chunk', hash, height, chunkIndex: i, offset: off, bytes, txs: ended, peer: 'test' })
  }
  const end = parser.end()
  const block: BlockDoneEvent = {
    type: 'block',
    hash,
    height,
    header: end.header,
    txCount: end.txCount,
    size: end.length,
    weight: end.weight,
    merkleRootVerified: true,
    witnessCommitment: end.hasWitness ? 'verified' : 'none',
    chunks: chunks.length,
    peer: 'test',
  }
  return { chunks, block, txs }
}
