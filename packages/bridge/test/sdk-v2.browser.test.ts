// BIP324 v2 end to end from headless Chromium: the page runs the v2
// handshake with btcd (--v2transport) itself, through a framing-validating
// bitp2p-bridge, and syncs headers over the encrypted session. Between the
// bridge and btcd a recording relay keeps every byte the bridge passed on
// (test/btcd.global.ts): the bridge must have seen ciphertext only, no
// network magic and no command name.
import { describe, expect, inject, it } from 'vitest'
import { commands } from 'vitest/browser'
import { HeaderTree, Peer } from '@bitp2p/session'
import { v2 } from '@bitp2p/session/v2'
import { hashToHex, regtest } from '@bitp2p/wire'
import { WsConnector } from '@bitp2p/transport-ws'
import { scaled } from '../../../test/harness/timing.js'

/** Deadline of one request to btcd through the bridge. */
const REQUEST_TIMEOUT_MS = scaled(10_000)
/** Largest headers message: a shorter one means the peer has no more. */
const MAX_HEADERS_RESULTS = 2000

const absent = inject('v2BtcdAbsent')

describe('the SDK in the browser over BIP324 v2, through the bridge, to btcd', () => {
  it.skipIf(absent !== '')(`speaks v2 end to end: the page's session id, ${inject('v2BtcdHeight')} headers validated, and only ciphertext through the bridge${absent ? ` (skipped: ${absent})` : ''}`, async () => {
    const before = await commands.v2BridgeSaw()
    const peer = await Peer.connect(inject('v2PeerAddress'), {
      connector: new WsConnector({ url: inject('v2BridgeUrl'), connectTimeoutMs: REQUEST_TIMEOUT_MS }),
      network: regtest,
      v2,
      transport: 'v2',
      userAgent: '/bitp2p-browser-v2:0.1/',
      handshakeTimeoutMs: REQUEST_TIMEOUT_MS,
    })
    expect(peer.transportVersion).toBe(2)
    expect(peer.sessionId).toHaveLength(32)
    expect(peer.info!.peer.userAgent).toMatch(/btcd/)

    const tree = new HeaderTree(regtest)
    for (;;) {
      const headers = await peer.getHeaders(tree.locator(), { timeoutMs: REQUEST_TIMEOUT_MS })
      const r = tree.acceptMany(headers)
      expect(r.rejected).toBeUndefined()
      if (headers.length < MAX_HEADERS_RESULTS) break
    }
    expect(tree.height).toBe(inject('v2BtcdHeight'))
    expect(hashToHex(tree.tip.hash)).toBe(inject('v2BtcdBestHash'))
    expect(await peer.ping({ timeoutMs: REQUEST_TIMEOUT_MS })).toBeGreaterThanOrEqual(0)
    peer.close()

    // What the bridge passed on to btcd: our key, garbage and packets; never a magic or a command.
    const saw = await commands.v2BridgeSaw()
    expect(saw.bytes).toBeGreaterThan(before.bytes + 64)
    expect(saw.magic).toBe(false)
    expect(saw.commands).toEqual([])
    expect(await commands.v2BridgeStreams()).toBeGreaterThanOrEqual(1)
  })
})
