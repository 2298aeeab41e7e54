/**
 * Interop step 6: BIP130 sendheaders. Our Peer sends `sendheaders` right
 * after verack (its default); bcoin 1.0.2 honours it (Peer.preferHeaders):
 * a block it mines is announced to us as a `headers` message carrying that
 * block's header, never as a block `inv`. The step asserts exactly that:
 * every mined block arrives as a header, in order and linked, and no block
 * inv is seen. (bcoin's announcement would be an inv without our
 * sendheaders; its compact mode 1 would push cmpctblock, but it asks for
 * mode 0.)
 */
import { blockHash, hashToHex, InvType, MSG_WITNESS_FLAG, type BlockHeader } from '@bitp2p/wire'
import type { InteropNode } from './node.js'
import { check, checkEqual, connectPeer, PING_TIMEOUT_MS, since, waitUntil } from './util.js'

/** What step 6 measured. */
export interface SendHeadersReport {
  readonly mined: number
  /** How bcoin announced the blocks. */
  readonly announcedBy: 'headers'
  /** headers messages received for them. */
  readonly messages: number
  /** From the mining call until every announcement was seen (polled every 20 ms). */
  readonly announceMs: number
  readonly ms: number
}

/** Step 6. Mines `count` blocks; checks they are announced to us as headers. */
export async function sendHeadersAnnouncements(node: InteropNode, count = 3): Promise<SendHeadersReport> {
  const start = performance.now()
  const headers: BlockHeader[] = []
  let headerMessages = 0
  let blockInvs = 0
  const peer = await connectPeer(node, {
    sendHeaders: true,
    setup: (p) => {
      p.on('headers', (m) => {
        headerMessages++
        headers.push(...m.headers)
      })
      p.on('inv', (m) => {
        blockInvs += m.items.filter((i) => (i.type & ~MSG_WITNESS_FLAG) === InvType.MSG_BLOCK).length
      })
    },
  })
  try {
    // A round trip: bcoin has read our sendheaders (sent before the ping) once the pong is back.
    await peer.ping({ timeoutMs: PING_TIMEOUT_MS })
    const tipBefore: string = await node.rpc('getbestblockhash', [])
    const mineAt = performance.now()
    const mined = await node.mine(count)
    await waitUntil(() => headers.length >= count || blockInvs > 0, `announcements of ${count} blocks`)
    const announceMs = since(mineAt)
    checkEqual(blockInvs, 0, 'blocks announced by inv despite sendheaders')
    checkEqual(headers.map((h) => hashToHex(blockHash(h))).join(','), mined.join(','), 'announced headers vs mined hashes')
    checkEqual(hashToHex(headers[0]!.prevBlock), tipBefore, 'first announced header links to the old tip')
    for (let i = 1; i < headers.length; i++) {
      check(hashToHex(headers[i]!.prevBlock) === mined[i - 1], `announced header ${i} does not link to header ${i - 1}`)
    }
    return { mined: count, announcedBy: 'headers', messages: headerMessages, announceMs, ms: since(start) }
  } finally {
    peer.close('interop step 6 done')
  }
}
