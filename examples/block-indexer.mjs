// block-indexer: stream the last blocks of a node's chain and build a
// transaction index (txid -> block, byte offset, length), with the decoding
// done by a pool of worker threads.
//
//   npm run build
//   node examples/block-indexer.mjs [host:port] [--blocks N] [--workers W] [--chunk-size BYTES]
//                                  (defaults 127.0.0.1:18444, 10 blocks, 2 workers, 64 KiB chunks)
//
// BlockFetcher never holds a block whole: it hands out chunks of
// --chunk-size bytes, each listing the transactions that END in it with
// their offsets in the block. A transaction may start in an earlier chunk,
// so we keep the bytes from the end of the last complete transaction
// onwards and send each worker a slice holding whole transactions only.
// Try --chunk-size 100 to see transactions cut across chunks.
// BITP2P_PEER and BITP2P_NETWORK (default regtest) work as in connect-and-ping.mjs.
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import { BlockFetcher, HeaderSync, parsePeerAddress, Peer, RealtimeClock, singlePeer } from '@bitp2p/session'
import { DEFAULT_CHUNK_BYTES } from '@bitp2p/session/limits'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { concatBytes, hashToHex, networkByName } from '@bitp2p/wire'

/** getheaders deadline: bcoin is silent when it has nothing new (see spv-sync.mjs). */
const HEADERS_TIMEOUT_MS = 5_000

/** N workers running block-indexer-worker.mjs; run(task) resolves with its facts. */
function workerPool(n) {
  const workers = Array.from({ length: n }, () => new Worker(new URL('./block-indexer-worker.mjs', import.meta.url)))
  const waiting = new Map()
  let nextId = 0
  for (const w of workers) {
    w.on('message', ({ id, facts, error }) => {
      const p = waiting.get(id)
      waiting.delete(id)
      if (error) p.reject(new Error(error))
      else p.resolve(facts)
    })
    w.on('error', (e) => {
      for (const p of waiting.values()) p.reject(e) // a crashed worker fails what is pending
      waiting.clear()
    })
  }
  return {
    run(task) {
      const id = nextId++
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject })
        workers[id % n].postMessage({ id, ...task }, [task.bytes.buffer]) // moved, not copied
      })
    },
    close: () => Promise.all(workers.map((w) => w.terminate())),
  }
}

async function main() {
  const opts = { blocks: { type: 'string' }, workers: { type: 'string' }, 'chunk-size': { type: 'string' } }
  const { values, positionals } = parseArgs({ options: opts, allowPositionals: true })
  const addr = parsePeerAddress(positionals[0] ?? process.env.BITP2P_PEER ?? '127.0.0.1:18444')
  const network = networkByName(process.env.BITP2P_NETWORK ?? 'regtest')
  if (!network) throw new Error(`unknown network '${process.env.BITP2P_NETWORK}'`)
  const clock = new RealtimeClock()

  // streamBlocks: block payloads arrive as pieces instead of one decoded message.
  const peer = await Peer.connect(addr, { connector: new TcpConnector(), network, clock, streamBlocks: true })
  const pool = workerPool(Number(values.workers ?? 2))
  try {
    // Headers first: they map heights to block hashes.
    const source = singlePeer(peer)
    const sync = new HeaderSync({ source, network, clock, requestTimeoutMs: HEADERS_TIMEOUT_MS })
    await sync.start()
    const tip = await sync.synced()
    sync.stop()
    const from = Math.max(1, tip.height - Number(values.blocks ?? 10) + 1)
    console.log(`connected to ${peer.info.peer.userAgent}; indexing blocks ${from}..${tip.height}`)

    const fetcher = new BlockFetcher({ source, network, tree: sync.tree, chunkSize: Number(values['chunk-size'] ?? DEFAULT_CHUNK_BYTES) })
    const index = new Map() // txid hex -> { block, height, offset, length }
    const blocks = new Map() // per block being streamed: the carried bytes and the workers' pending answers
    for await (const ev of fetcher.fetchRange(from, tip.height)) {
      const key = hashToHex(ev.hash)
      if (ev.type === 'chunk') {
        // Chunk 0 (again, after a retry from another peer) starts the block afresh.
        if (ev.chunkIndex === 0) blocks.set(key, { carry: new Uint8Array(0), carryAt: 0, tasks: [], txids: [] })
        const b = blocks.get(key)
        const bytes = concatBytes(b.carry, ev.bytes) // the block's bytes from offset b.carryAt on
        const txs = ev.txs.map(({ index, offset, length }) => ({ index, offset, length })) // positions are all a worker needs
        const end = txs.length > 0 ? txs.at(-1).offset + txs.at(-1).length : b.carryAt
        if (txs.length > 0) {
          // Whole transactions only, moved to a worker (block offsets stay as they are: `base` maps them).
          const task = pool.run({ bytes: bytes.slice(txs[0].offset - b.carryAt, end - b.carryAt), base: txs[0].offset, txs })
          task.catch(() => {}) // awaited at the block's end; until then a worker failure must not be an unhandled rejection
          b.tasks.push(task)
          b.txids.push(...ev.txs.map((t) => hashToHex(t.txid))) // what the stream parser hashed, to cross-check
        }
        b.carry = bytes.slice(end - b.carryAt) // the start of the next, unfinished transaction
        b.carryAt = end
      } else {
        // 'block': every chunk arrived and the merkle root matched. Only now do its transactions count.
        const b = blocks.get(key)
        blocks.delete(key)
        const facts = (await Promise.all(b.tasks)).flat()
        console.log(`block ${ev.height} ${key}: ${ev.txCount} txs, ${ev.size} bytes in ${ev.chunks} chunk(s), merkle root verified`)
        for (const [i, f] of facts.entries()) {
          if (f.txid !== b.txids[i]) throw new Error(`worker decoded ${f.txid} at offset ${f.offset}, the stream said ${b.txids[i]}`)
          index.set(f.txid, { block: key, height: ev.height, offset: f.offset, length: f.length })
          console.log(`  tx ${f.txid} offset ${f.offset} length ${f.length}: ${f.inputs} in, ${f.outputs} out, ${f.value} sat${f.segwit ? ', segwit' : ''}`)
        }
      }
    }
    console.log(`indexed ${index.size} transactions in ${tip.height - from + 1} blocks with ${values.workers ?? 2} workers`)
  } finally {
    await pool.close()
    peer.close('done')
  }
}

main().catch((e) => {
  console.error(`block-indexer failed: ${e.message}`)
  process.exitCode = 1
})
