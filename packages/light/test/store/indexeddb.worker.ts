// A worker that opens the IndexedDB stores, writes what the page asks, says
// so, and then never closes them: the page terminates it, as a tab that is
// closed or crashes goes away (see indexeddb.browser.test.ts).
import { regtest } from '@bitp2p/wire'
import { HeaderTree } from '@bitp2p/session/chain'
import { openIndexedDbStores } from '../../src/indexeddb.js'
import { mineChain } from '../../../session/test/core/chain/helpers.js'

/** What the page sends: where, and how many filter headers to write. */
export interface WorkerOrder {
  readonly name: string
  readonly filterHeaders: number
}

self.onmessage = async (e: MessageEvent<WorkerOrder>) => {
  try {
    const stores = await openIndexedDbStores(e.data.name)
    const fh = new Uint8Array(e.data.filterHeaders * 32)
    for (let i = 0; i < fh.length; i++) fh[i] = (i * 7 + 3) & 0xff
    await stores.light.putFilterHeaders(0, fh)
    await stores.light.saveState({ scanHeight: e.data.filterHeaders - 1, from: 'worker' })
    const tree = new HeaderTree(regtest)
    await stores.headers.put(tree.tip)
    for (const h of mineChain(regtest.genesis, 0, 5, { bits: regtest.powLimitBits, tag: 9 })) {
      const r = tree.accept(h)
      if (r.kind === 'connected') await stores.headers.put(r.entry)
    }
    self.postMessage({ ok: true, tipHash: Array.from(tree.tip.hash) })
    // Not closed: the page terminates this worker.
  } catch (err) {
    self.postMessage({ ok: false, code: (err as { code?: string }).code, message: String(err) })
  }
}
