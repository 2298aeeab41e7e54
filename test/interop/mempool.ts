/**
 * Interop step 4: a transaction enters bcoin's mempool (its wallet creates
 * and broadcasts it), bcoin announces it to us with `inv`, and we fetch it
 * with getdata(MSG_WITNESS_TX) and decode it.
 *
 * bcoin 1.0.2 announces transactions by txid as MSG_TX (it predates BIP339
 * wtxid relay) on its inv timer (Peer.INV_INTERVAL; the harness lowers it
 * with `invMs`). The decoded transaction must have bcoin's txid, and its
 * re-serialization must equal bcoin's getrawtransaction bytes exactly.
 */
import { hashToHex, hexToHash, InvType, serializeTx, toHex, txid, txVsize, type InvItem, type Transaction } from '@bitp2p/wire'
import type { InteropNode } from './node.js'
import { check, checkEqual, connectPeer, nextEvent, since } from './util.js'
import { scaled } from '../harness/timing.js'

/** What step 4 measured. */
export interface MempoolReport {
  readonly txid: string
  /** From the wallet call to the inv announcing it. */
  readonly announceMs: number
  /** getdata round trip. */
  readonly fetchMs: number
  readonly vsize: number
  readonly inputs: number
  readonly outputs: readonly { readonly sats: bigint; readonly scriptHex: string }[]
  /** The decoded transaction. */
  readonly tx: Transaction
  readonly ms: number
}

/** Step 4. Has bcoin's wallet send a payment, waits for its inv, fetches and decodes the transaction. */
export async function mempoolTx(node: InteropNode, btc = 0.5): Promise<MempoolReport> {
  const start = performance.now()
  const announced: InvItem[] = []
  const peer = await connectPeer(node, {
    setup: (p) => p.on('inv', (m) => announced.push(...m.items)),
  })
  try {
    const sendStart = performance.now()
    const id = await node.sendFromWallet(btc)
    const hash = hexToHash(id)
    const isOurs = (i: InvItem): boolean => i.type === InvType.MSG_TX && hashToHex(i.hash) === id
    if (!announced.some(isOurs)) {
      await nextEvent(peer, 'inv', `bcoin's inv of ${id}`, (m) => m.items.some(isOurs))
    }
    const announceMs = since(sendStart)

    const fetchStart = performance.now()
    const res = await peer.getData([{ type: InvType.MSG_WITNESS_TX, hash }], { timeoutMs: scaled(10_000) })
    const fetchMs = since(fetchStart)
    checkEqual(res.notFound.length, 0, 'transactions bcoin did not have')
    const m = res.found[0]?.message
    check(m?.command === 'tx', `getdata answered with ${m?.command}`)
    const tx = m.tx
    checkEqual(hashToHex(txid(tx)), id, "decoded txid vs bcoin's")
    const raw: string = await node.rpc('getrawtransaction', [id, false])
    checkEqual(toHex(serializeTx(tx)), raw, 'our re-serialization vs bcoin getrawtransaction')
    check((await node.mempool()).includes(id), `${id} left bcoin's mempool`)

    return {
      txid: id,
      announceMs,
      fetchMs,
      vsize: txVsize(tx),
      inputs: tx.inputs.length,
      outputs: tx.outputs.map((o) => ({ sats: o.value, scriptHex: toHex(o.scriptPubKey) })),
      tx,
      ms: since(start),
    }
  } finally {
    peer.close('interop step 4 done')
  }
}
