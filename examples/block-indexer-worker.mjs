// The worker of examples/block-indexer.mjs (run it, not this file).
//
// Receives a slice of a block's bytes and the transactions that lie in it
// (offsets are positions in the whole block; `base` is the block offset of
// the slice's first byte), decodes each transaction and returns a few facts
// about it. Decoding is the CPU-heavy part of indexing, so it runs here,
// off the thread that reads the network.
import { parentPort } from 'node:worker_threads'
import { hashToHex, hasWitness, parseTx, txid, txVsize } from '@bitp2p/wire'

parentPort.on('message', ({ id, bytes, base, txs }) => {
  try {
    const facts = txs.map((t) => {
      const start = t.offset - base
      const tx = parseTx(bytes.subarray(start, start + t.length)) // exactly one transaction, or it throws
      return {
        index: t.index,
        offset: t.offset,
        length: t.length,
        txid: hashToHex(txid(tx)),
        inputs: tx.inputs.length,
        outputs: tx.outputs.length,
        value: tx.outputs.reduce((sum, o) => sum + o.value, 0n), // bigint survives postMessage
        vsize: txVsize(tx),
        segwit: hasWitness(tx),
      }
    })
    parentPort.postMessage({ id, facts })
  } catch (e) {
    parentPort.postMessage({ id, error: e.message })
  }
})
