// The light client in headless Chromium: a ScriptWatcher with the
// IndexedDB stores, through a framing-validating bitp2p-bridge, to btcd
// (BIP324 v2 end to end), watching an address from genesis: it finds what
// btcd's searchrawtransactions finds. Then the page's stores are closed
// and opened again by name (what a reload does) and a new watcher resumes
// from the stored height: no filter or filter header downloaded again, the
// same transactions.
import { describe, expect, inject, it } from 'vitest'
import { Peer, singlePeer } from '@bitp2p/session'
import { v2 } from '@bitp2p/session/v2'
import { WsConnector } from '@bitp2p/transport-ws'
import { hashToHex, regtest } from '@bitp2p/wire'
import { ScriptWatcher } from '../src/watcher.js'
import { deleteIndexedDbStores, openIndexedDbStores } from '../src/indexeddb.js'
import { scaled } from '../../../test/harness/timing.js'

const WAIT_MS = scaled(60_000)
const absent = inject('watchAbsent')

/** One page visit: connect, watch, catch up; what it found and which BIP157 requests it sent. */
async function visit(db: string): Promise<{ found: string[]; sent: string[]; height: number; scanned: number }> {
  const stores = await openIndexedDbStores(db)
  const sent: string[] = []
  const peer = await Peer.connect(inject('watchPeer'), {
    connector: new WsConnector({ url: inject('watchBridgeUrl'), connectTimeoutMs: WAIT_MS }),
    network: regtest,
    v2,
    transport: 'v2',
    handshakeTimeoutMs: WAIT_MS,
    setup: (p) => p.on('frame', (dir, command) => dir === 'out' && command.startsWith('getcf') && sent.push(command)),
  })
  const watcher = new ScriptWatcher({ source: singlePeer(peer), network: regtest, store: stores.light, headerStore: stores.headers, headersTimeoutMs: 5_000 })
  try {
    await watcher.watch([inject('watchAddress')])
    const tip = await watcher.synced(AbortSignal.timeout(WAIT_MS))
    return {
      found: watcher.transactions().map((t) => `${hashToHex(t.txid)}@${t.height}@${hashToHex(t.blockHash)}`).sort(),
      sent,
      height: tip.height,
      scanned: watcher.machine.scanHeight,
    }
  } finally {
    await watcher.stop()
    peer.close()
    await stores.close()
  }
}

describe('the light client in the browser, through the bridge, to btcd', () => {
  it.skipIf(absent !== '')(`finds what btcd finds, and resumes from IndexedDB after a reload without downloading again${absent ? ` (skipped: ${absent})` : ''}`, { timeout: 3 * WAIT_MS }, async () => {
    const db = `bitp2p-watch-${Math.floor(performance.now())}`
    await deleteIndexedDbStores(db)
    const first = await visit(db)
    expect(first.height).toBe(inject('watchHeight'))
    expect(inject('watchExpected')).toHaveLength(2)
    expect(first.found).toEqual(inject('watchExpected'))
    expect(first.sent.filter((c) => c === 'getcfilters').length).toBeGreaterThan(0)
    const second = await visit(db)
    expect(second.found).toEqual(first.found)
    expect(second.scanned).toBe(first.height)
    expect(second.sent.filter((c) => c === 'getcfilters')).toEqual([])
    expect(second.sent.filter((c) => c === 'getcfheaders').length).toBeLessThanOrEqual(1)
    console.log(`[light-browser] ${first.height} blocks: ${first.found.length} txs = btcd's answer (${first.found.map((f) => f.split('@')[1]).join(', ')}); first visit sent ${first.sent.length} BIP157 requests, the reload ${second.sent.length} (${second.sent.join(', ') || 'none'})`)
    await deleteIndexedDbStores(db)
  })
})
