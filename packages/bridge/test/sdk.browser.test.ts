// The whole SDK in headless Chromium: the sources of wire, session and the
// WsConnector, as vite bundles them for the page, on the browser's own
// WebSocket, through a framing-validating bridge to a bcoin regtest node
// (both started in Node by test/sdk.global.ts).
import { describe, expect, inject, it } from 'vitest'
import { commands } from 'vitest/browser'
import { HeaderTree, Peer } from '@bitp2p/session'
import { hashToHex, InvType, regtest, txid, type InvItem } from '@bitp2p/wire'
import { WsConnector } from '@bitp2p/transport-ws'
import { scaled } from '../../../test/harness/timing.js'

/** Deadline of one request to bcoin through the bridge (milliseconds on an idle machine). */
const REQUEST_TIMEOUT_MS = scaled(10_000)
/** How long bcoin may take to announce a block it mined or a wallet tx (its inv flush is 50 ms here). */
const INV_WAIT_MS = scaled(15_000)

/** Largest headers message (Core's MAX_HEADERS_RESULTS): a shorter one means the peer has no more. */
const MAX_HEADERS_RESULTS = 2000

/** Resolves with the first inv item `matches` accepts, among those seen so far or arriving later. */
function invWaiter(): { onInv: (items: readonly InvItem[]) => void; next: (matches: (i: InvItem) => boolean, ms: number) => Promise<InvItem> } {
  const seen: InvItem[] = []
  const waiters: { matches: (i: InvItem) => boolean; resolve: (i: InvItem) => void }[] = []
  return {
    onInv(items) {
      seen.push(...items)
      for (const item of items) {
        for (const w of waiters.filter((w) => w.matches(item))) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(item)
        }
      }
    },
    next(matches, ms) {
      const hit = seen.find(matches)
      if (hit !== undefined) return Promise.resolve(hit)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching inv within ${ms} ms (saw ${seen.length} items)`)), ms)
        waiters.push({
          matches,
          resolve: (i) => {
            clearTimeout(timer)
            resolve(i)
          },
        })
      })
    },
  }
}

/**
 * getheaders from the tree's locator until a batch is not full; every batch
 * must validate and connect in full. Returns the batch sizes.
 */
async function syncHeaders(peer: Peer, tree: HeaderTree, now: number): Promise<number[]> {
  const batches: number[] = []
  for (;;) {
    const headers = await peer.getHeaders(tree.locator(), { timeoutMs: REQUEST_TIMEOUT_MS })
    batches.push(headers.length)
    const r = tree.acceptMany(headers, now)
    expect(r.rejected).toBeUndefined()
    expect(r.added).toBe(headers.length)
    if (headers.length < MAX_HEADERS_RESULTS) return batches
  }
}

describe('the SDK in the browser against bcoin regtest', () => {
  it('runs in real headless Chromium, with no Node globals', () => {
    expect(navigator.userAgent).toMatch(/HeadlessChrome\/\d+/)
    expect(typeof (globalThis as { process?: unknown }).process).toBe('undefined')
    expect(typeof (globalThis as { Buffer?: unknown }).Buffer).toBe('undefined')
    expect(typeof WebSocket).toBe('function')
  })

  it('handshakes through the bridge, syncs and validates every header, and fetches a wallet tx bcoin announces', { timeout: scaled(60_000) }, async () => {
    const height = inject('sdkBcoinHeight')
    expect(height).toBe(300) // startBcoin({ mine: 300 }) in sdk.global.ts
    const invs = invWaiter()
    // No WebSocket option: the browser's own is used.
    const peer = await Peer.connect(inject('sdkBcoinP2p'), {
      connector: new WsConnector({ url: inject('sdkBridgeUrl') }),
      network: regtest,
      userAgent: '/bitp2p-browser-test:0.1.0/',
      // New blocks come as inv, so every headers message is a getheaders reply.
      sendHeaders: false,
      setup: (p) => p.on('inv', (m) => invs.onInv(m.items)),
    })
    try {
      // The handshake: bcoin's version, as seen through the bridge.
      expect(peer.state).toBe('ready')
      expect(peer.info!.peer.userAgent).toMatch(/bcoin/)
      expect(peer.info!.peer.startHeight).toBe(height)

      // Header sync: getheaders from the tree's locator, again and again
      // while the peer sends full batches (bcoin, unlike Core, does not
      // answer at all when it has nothing after the locator). Every header
      // passes regtest validation.
      const tree = new HeaderTree(regtest)
      const now = Math.floor(Date.now() / 1000)
      expect(await syncHeaders(peer, tree, now)).toEqual([height]) // < 2000: one batch holds them all
      expect(tree.height).toBe(height)
      expect(hashToHex(tree.tip.hash)).toBe(inject('sdkBcoinBestHash'))

      // bcoin mines on while we are connected: it announces the blocks by
      // inv (we did not send sendheaders), and a getheaders from the
      // synced tree's locator returns just the new headers.
      const mined = await commands.bcoinMine(3)
      const lastInv = await invs.next((i) => hashToHex(i.hash) === mined[2], INV_WAIT_MS)
      expect(lastInv.type).toBe(InvType.MSG_BLOCK)
      expect(await syncHeaders(peer, tree, now)).toEqual([3])
      expect(tree.height).toBe(height + 3)
      expect([1, 2, 3].map((d) => hashToHex(tree.getByHeight(height + d)!.hash))).toEqual(mined)

      // While connected, bcoin's wallet makes a transaction (a Node-side
      // command); bcoin announces it to us with an inv, and we fetch it.
      const sent = await commands.bcoinSendFromWallet()
      expect(sent).toMatch(/^[0-9a-f]{64}$/)
      const item = await invs.next((i) => hashToHex(i.hash) === sent, INV_WAIT_MS)
      expect(item.type).toBe(InvType.MSG_TX)
      const { found, notFound } = await peer.getData([{ type: InvType.MSG_TX, hash: item.hash }], { timeoutMs: REQUEST_TIMEOUT_MS })
      expect(notFound).toEqual([])
      expect(found).toHaveLength(1)
      const msg = found[0]!.message
      expect(msg?.command).toBe('tx')
      if (msg?.command !== 'tx') return
      expect(msg.tx.inputs.length).toBeGreaterThan(0)
      expect(hashToHex(txid(msg.tx))).toBe(sent)
    } finally {
      peer.close()
    }

    // Every byte the page sent was valid regtest P2P framing.
    const metrics = await commands.sdkBridgeMetrics()
    expect(metrics.connectionsTotal).toBeGreaterThanOrEqual(1)
    expect(metrics.closes['framing-violation'] ?? 0).toBe(0)
    expect(Object.values(metrics.refusals).reduce((a, b) => a + b, 0)).toBe(0)
  })
})
