/// <reference types="node" />
// What a web app ships from this package: its entries bundled for the
// browser from the built dist files (examples/browser/build.mjs, the
// browser export conditions), minified and gzipped. The main entry pulls
// neither idb nor anything Node-only; the IndexedDB entry pulls idb and
// nothing Node-only; both are self-contained, and within their budgets.
import { describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bundleForBrowser, shippedSizes } from '../../../examples/browser/build.mjs'
import { scaled } from '../../../test/harness/timing.js'

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url))
const built = ['light', 'wire', 'session', 'transport-ws'].every((p) => existsSync(here(`../../${p}/dist/index.js`))) && existsSync(here('../dist/indexeddb.js'))

/**
 * Gzip budget of everything the main entry exports: the light client
 * (ScriptWatcher and its LightMachine, with the session services they
 * drive: HeaderSync, BlockFetcher, RequestScheduler, and the wire codecs
 * they need), addresses with the networks, the memory store, the store
 * types and errors. 54 KiB when the watcher came.
 */
const MAIN_ENTRY_GZIP_BUDGET = 64 * 1024
/** Gzip budget of what ScriptWatcher adds to a browser light client: its core and wallet, HeaderSync, BlockFetcher with the streaming block parser, the scheduler, GCS matching and the address codecs (@scure/base). 29.8 KiB when it came. */
const WATCHER_ADDED_GZIP_BUDGET = 36 * 1024
/**
 * Gzip budget of what the IndexedDB stores add to a browser light client
 * (the bundle transport-ws's bundle-size test measures): idb and the two
 * stores; what they use of wire and session is in that bundle already.
 */
const INDEXEDDB_STORES_ADDED_GZIP_BUDGET = 6 * 1024

/** What a browser light client imports (as in packages/transport-ws/test/bundle-size.test.ts). */
const LIGHT_CLIENT = `
export { WsConnector } from '@bitp2p/transport-ws'
export { describeDisconnect, Peer } from '@bitp2p/session'
export { HeaderTree } from '@bitp2p/session/chain'
export { blockHash, hashToHex, InvType, networkByName, Services, txid, txVsize } from '@bitp2p/wire'
`
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`

/** Bundles `code` as one browser file and checks it is self-contained and browser-clean; returns its module ids and gzip size. */
async function browserBundle(name: string, code: string): Promise<{ ids: string[]; gzipBytes: number }> {
  const b = await bundleForBrowser({ id: `\0bitp2p-light-${name.replaceAll(' ', '-')}`, code }, { inline: true })
  expect(b.warnings).toEqual([])
  expect(b.imports).toEqual([])
  for (const c of b.code) expect(c).not.toMatch(/\bfrom\s*["']node:|\bimport\(\s*["']node:|\brequire\(/)
  const ids = b.modules.map((m) => m.id)
  expect(ids.filter((id) => /\.node\.js$|\/light\/dist\/node\.js$/.test(id))).toEqual([])
  const s = await shippedSizes(b.code)
  console.log(`[bundle-size] ${name}: ${s.minifiedBytes} B minified, ${s.gzipBytes} B gzipped (${kb(s.gzipBytes)})`)
  return { ids, gzipBytes: s.gzipBytes }
}

describe.skipIf(!built)('browser bundles of @bitp2p/light (from dist; run `npm run build` first)', () => {
  it(`the main entry: no idb, nothing Node-only, gzip < ${kb(MAIN_ENTRY_GZIP_BUDGET)}`, { timeout: scaled(60_000) }, async () => {
    const { ids, gzipBytes } = await browserBundle('light main entry', `export * from '@bitp2p/light'`)
    expect(ids.some((id) => id.startsWith(here('../dist/')))).toBe(true)
    expect(ids.filter((id) => id.includes('/node_modules/idb/') || id.endsWith('/store/indexeddb.js'))).toEqual([])
    expect(gzipBytes).toBeLessThan(MAIN_ENTRY_GZIP_BUDGET)
  })

  it(`ScriptWatcher adds its core, the services it drives and the address codecs to a light client: gzip < ${kb(WATCHER_ADDED_GZIP_BUDGET)}`, { timeout: scaled(120_000) }, async () => {
    const base = await browserBundle('light client', LIGHT_CLIENT)
    const withWatcher = await browserBundle('light client + ScriptWatcher', `${LIGHT_CLIENT}export { ScriptWatcher, MemoryLightStore } from '@bitp2p/light'\n`)
    expect(withWatcher.ids).toContain(here('../dist/watcher.js'))
    expect(withWatcher.ids.filter((id) => id.includes('/node_modules/idb/'))).toEqual([])
    const added = withWatcher.gzipBytes - base.gzipBytes
    console.log(`[bundle-size] ScriptWatcher adds ${added} B gzipped (${kb(added)}) to a light client`)
    expect(added).toBeLessThan(WATCHER_ADDED_GZIP_BUDGET)
  })

  it(`the IndexedDB stores add idb and themselves to a light client, nothing Node-only, gzip < ${kb(INDEXEDDB_STORES_ADDED_GZIP_BUDGET)}`, { timeout: scaled(120_000) }, async () => {
    const base = await browserBundle('light client', LIGHT_CLIENT)
    const withStores = await browserBundle('light client + IndexedDB stores', `${LIGHT_CLIENT}export { openIndexedDbStores } from '@bitp2p/light/indexeddb'\n`)
    expect(base.ids.some((id) => id.includes('/node_modules/idb/'))).toBe(false)
    expect(withStores.ids.some((id) => id.includes('/node_modules/idb/'))).toBe(true)
    expect(withStores.ids).toContain(here('../dist/store/indexeddb.js'))
    const added = withStores.gzipBytes - base.gzipBytes
    console.log(`[bundle-size] the IndexedDB stores add ${added} B gzipped (${kb(added)})`)
    expect(added).toBeGreaterThan(0)
    expect(added).toBeLessThan(INDEXEDDB_STORES_ADDED_GZIP_BUDGET)
  })
})
