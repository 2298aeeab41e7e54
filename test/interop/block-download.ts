/**
 * Interop step 3: block download by getdata(MSG_WITNESS_BLOCK), parsed
 * while it streams.
 *
 * The Peer runs with `streamBlocks: true`, so a block payload never sits in
 * memory whole: the driver hands out 'payload' events (start, chunks, end)
 * and each chunk goes straight into a BlockStreamParser, which yields the
 * header and every transaction's txid and checks the merkle root (and the
 * witness commitment when there is witness data) in end(). The txids must
 * be the ones bcoin lists for the block (getblock <hash> true).
 *
 * Blocks fetched in one getdata: the block at height 1 (coinbase only), the
 * block before the tip, and a tip mined here on top of two wallet payments,
 * one of them paying LARGE_TX_OUTPUTS outputs, so the block is ~100 KB: it
 * crosses several TCP reads and so arrives in several chunks, with
 * transactions cut between them. As a cross-check of the two parsers, the
 * tip is then fetched again without streaming, decoded whole by the message
 * codec and verified with verifyBlock/blockTxids.
 */
import { type Peer } from '@bitp2p/session'
import { blockTxids, hashToHex, hexToHash, InvType, regtest, verifyBlock } from '@bitp2p/wire'
import { BlockStreamParser, type BlockStreamEnd } from '@bitp2p/wire/codecs'
import { createSignedTx, waitForWalletTx, type InteropNode } from './node.js'
import { check, checkEqual, connectPeer, InteropError, since } from './util.js'
import { scaled } from '../harness/timing.js'

/** Deadline of the getdata, from its last progress. */
const GETDATA_TIMEOUT_MS = scaled(30_000)
/** Outputs of the large payment: ~34 bytes each, ~100 KB in all. */
export const LARGE_TX_OUTPUTS = 3_000
/** Sats per output of the large payment (above the dust limit). */
const LARGE_TX_OUTPUT_SATS = 10_000
/**
 * Where the large payment goes: a standard P2PKH script to a key hash no
 * wallet here holds (20 bytes of 0x42), so bcoin's wallet does not have to
 * track thousands of new coins of its own.
 */
const NOBODY_P2PKH = `76a914${'42'.repeat(20)}88ac`

/** One block as the stream parser saw it. */
export interface StreamedBlock {
  readonly hash: string
  readonly txids: readonly string[]
  readonly bytes: number
  /** payload-chunk events the block arrived in. */
  readonly chunks: number
  readonly weight: number
}

/** What step 3 measured. */
export interface BlockDownloadReport {
  readonly blocks: readonly StreamedBlock[]
  readonly txs: number
  readonly bytes: number
  /** From getdata to the last block parsed. */
  readonly downloadMs: number
  readonly ms: number
}

interface Collector {
  readonly done: Map<string, { readonly summary: BlockStreamEnd; readonly txids: string[]; readonly chunks: number }>
  failure: unknown
}

/** Feed the peer's streamed 'block' payloads into one BlockStreamParser each. */
function collectStreamedBlocks(peer: Peer): Collector {
  const c: Collector = { done: new Map(), failure: undefined }
  let parser: BlockStreamParser | undefined
  let txids: string[] = []
  let chunks = 0
  const fail = (e: unknown): void => {
    c.failure ??= e
    parser = undefined
  }
  peer.on('payload', (ev) => {
    if (ev.command !== 'block') return
    try {
      if (ev.type === 'payload-start') {
        parser = new BlockStreamParser({ totalLength: ev.length, maxBlockBytes: regtest.maxBlockPayload })
        txids = []
        chunks = 0
        return
      }
      if (!parser) return
      if (ev.type === 'payload-chunk') {
        chunks++
        for (const out of parser.push(ev.bytes)) {
          if (out.type === 'error') throw out.error
          if (out.type === 'tx') txids.push(hashToHex(out.txid))
        }
        return
      }
      const summary = parser.end()
      parser = undefined
      c.done.set(hashToHex(summary.hash), { summary, txids, chunks })
    } catch (e) {
      fail(e)
    }
  })
  return c
}

/** Step 3. Mines a block with a wallet payment, downloads three blocks streamed, checks them against bcoin. */
export async function blockDownload(node: InteropNode): Promise<BlockDownloadReport> {
  const start = performance.now()
  const paid = await node.sendFromWallet(0.25)
  const outputs = Array.from({ length: LARGE_TX_OUTPUTS }, () => ({ scriptHex: NOBODY_P2PKH, sats: LARGE_TX_OUTPUT_SATS }))
  const large = await createSignedTx(node, outputs)
  checkEqual(await node.rpc('sendrawtransaction', [large.hex]), large.txid, 'sendrawtransaction txid')
  const [tip] = await node.mine(1)
  // The wallet signed the large payment but did not send it: let it catch up before anyone spends again.
  await waitForWalletTx(node, large.txid, 1)
  const tipHeight: number = await node.rpc('getblockcount', [])
  check(tipHeight >= 3, `chain too short (${tipHeight}) for step 3`)
  const wanted: string[] = [await node.rpc('getblockhash', [1]), await node.rpc('getblockhash', [tipHeight - 1]), tip!]

  let collector: Collector | undefined
  const peer = await connectPeer(node, {
    streamBlocks: true,
    setup: (p) => {
      collector = collectStreamedBlocks(p)
    },
  })
  try {
    const downloadStart = performance.now()
    const items = wanted.map((h) => ({ type: InvType.MSG_WITNESS_BLOCK, hash: hexToHash(h) }))
    const res = await peer.getData(items, { timeoutMs: GETDATA_TIMEOUT_MS })
    const downloadMs = since(downloadStart)
    if (collector!.failure) throw collector!.failure
    checkEqual(res.notFound.length, 0, 'blocks bcoin did not have')
    checkEqual(res.found.length, wanted.length, 'blocks answered')

    const blocks: StreamedBlock[] = []
    for (const hash of wanted) {
      const got = collector!.done.get(hash)
      if (!got) throw new InteropError(`block ${hash} was answered but never parsed from the stream`)
      const { summary, txids, chunks } = got
      check(summary.verified, `block ${hash}: merkle root was not checked`)
      checkEqual(hashToHex(summary.merkleRoot), hashToHex(summary.header.merkleRoot), `block ${hash} merkle root`)
      const bcoinBlock = await node.rpc('getblock', [hash, true])
      const bcoinTxids: string[] = bcoinBlock.tx
      checkEqual(txids.join(','), bcoinTxids.join(','), `block ${hash} txids vs bcoin getblock`)
      checkEqual(summary.length, bcoinBlock.size, `block ${hash} size vs bcoin`)
      blocks.push({ hash, txids, bytes: summary.length, chunks, weight: summary.weight })
    }
    const tipBlock = blocks[blocks.length - 1]!
    check(tipBlock.txids.includes(paid), `the mined block does not hold the wallet payment ${paid}`)
    check(tipBlock.txids.includes(large.txid), `the mined block does not hold the large payment ${large.txid}`)
    check(tipBlock.chunks > 1, `the ${tipBlock.bytes}-byte block arrived in ${tipBlock.chunks} chunk(s): nothing was streamed`)

    // The same tip, decoded whole by the block codec: the two parsers agree.
    const whole = await connectPeer(node)
    try {
      const r = await whole.getData([{ type: InvType.MSG_WITNESS_BLOCK, hash: hexToHash(tip!) }], { timeoutMs: GETDATA_TIMEOUT_MS })
      const m = r.found[0]?.message
      check(m?.command === 'block', `non-streamed getdata answered with ${m?.command}`)
      verifyBlock(m.block)
      checkEqual(blockTxids(m.block).map(hashToHex).join(','), tipBlock.txids.join(','), 'whole-block txids vs streamed txids')
    } finally {
      whole.close('interop step 3 cross-check done')
    }

    return {
      blocks,
      txs: blocks.reduce((n, b) => n + b.txids.length, 0),
      bytes: blocks.reduce((n, b) => n + b.bytes, 0),
      downloadMs,
      ms: since(start),
    }
  } finally {
    peer.close('interop step 3 done')
  }
}
