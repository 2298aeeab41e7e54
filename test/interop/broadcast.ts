/**
 * Interop step 5: we broadcast a transaction and bcoin takes it.
 *
 * bcoin's wallet builds and signs a payment but does not broadcast it
 * (createSignedTx: the wallet API's create call). We decode it, announce it
 * with `inv` (MSG_TX, by txid), answer bcoin's `getdata` with the `tx`, and
 * the transaction must then appear in bcoin's mempool. Before our
 * announcement it must not be there: nothing but our relay can put it in.
 */
import { bytesEqual, fromHex, hashToHex, InvType, MSG_WITNESS_FLAG, parseTx, txid, type InvItem } from '@bitp2p/wire'
import { createSignedTx, waitForWalletTx, type InteropNode } from './node.js'
import { check, checkEqual, connectPeer, nextEvent, since, waitUntil } from './util.js'

/** What step 5 measured. */
export interface BroadcastReport {
  readonly txid: string
  /** The inv type bcoin asked for in its getdata (MSG_TX or MSG_WITNESS_TX). */
  readonly requestedType: number
  /** From our inv to bcoin's getdata. */
  readonly getdataMs: number
  /** From our tx to bcoin's mempool holding it (polling getrawmempool). */
  readonly acceptMs: number
  readonly ms: number
}

/** Step 5. Relays a wallet-signed, never-broadcast transaction to bcoin; checks its mempool. */
export async function broadcastTx(node: InteropNode, sats = 10_000_000): Promise<BroadcastReport> {
  const start = performance.now()
  const signed = await createSignedTx(node, sats)
  const tx = parseTx(fromHex(signed.hex))
  const hash = txid(tx)
  checkEqual(hashToHex(hash), signed.txid, "decoded txid vs bcoin wallet's")
  check(!(await node.mempool()).includes(signed.txid), `${signed.txid} is in bcoin's mempool before we announced it`)

  const asksForOurs = (i: InvItem): boolean => (i.type & ~MSG_WITNESS_FLAG) === InvType.MSG_TX && bytesEqual(i.hash, hash)
  let served = 0
  const peer = await connectPeer(node, {
    setup: (p) =>
      p.on('getdata', (m) => {
        if (!m.items.some(asksForOurs)) return
        p.send({ command: 'tx', tx })
        served++
      }),
  })
  try {
    const askedFor = nextEvent(peer, 'getdata', `bcoin's getdata for ${signed.txid}`, (m) => m.items.some(asksForOurs))
    const invAt = performance.now()
    peer.send({ command: 'inv', items: [{ type: InvType.MSG_TX, hash }] })
    const [getdata] = await askedFor
    const getdataMs = since(invAt)
    const requestedType = getdata.items.find(asksForOurs)!.type
    const txAt = performance.now()
    await waitUntil(async () => (await node.mempool()).includes(signed.txid), `${signed.txid} in bcoin's mempool`)
    const acceptMs = since(txAt)
    // The wallet learns of its own signed payment only from the relayed copy; later steps spend from it.
    await waitForWalletTx(node, signed.txid)
    checkEqual(served, 1, 'times we served the tx')
    const entry = await node.rpc('getmempoolentry', [signed.txid])
    check(entry !== null && typeof entry === 'object', `bcoin has no mempool entry for ${signed.txid}`)
    return { txid: signed.txid, requestedType, getdataMs, acceptMs, ms: since(start) }
  } finally {
    peer.close('interop step 5 done')
  }
}
