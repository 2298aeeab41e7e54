// A real page reload (issue 14). The example page examples/light-browser,
// in headless Chromium (playwright, Debian's chromium), runs a
// ScriptWatcher with the IndexedDB stores through a framing-validating
// bitp2p-bridge to btcd over BIP324 v2, watching one address of a
// 1,142-block chain, everything on 127.0.0.1:
//
// 1. The first visit scans from genesis and shows what btcd's
//    searchrawtransactions finds.
// 2. page.reload(): the page reads the stored scan height from IndexedDB,
//    resumes from it, sends no getcfilters (nothing was mined), receives no
//    filter and no block, and shows the same transactions.
// 3. Stop (the page lets go of the node), btcd mines one more block paying
//    the address, page.reload(): exactly that block's filter is asked for
//    and received, its block fetched, its transaction found; the page shows
//    btcd's new answer.
//
// The page's state is read from its data-* attributes (see main.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright'
import { createBridge, type Bridge } from '@bitp2p/bridge'
import { regtest } from '@bitp2p/wire'
import { buildExample } from '../../../examples/light-browser/build.mjs'
import { startServer } from '../../../examples/light-browser/serve.mjs'
import type { BtcdNode } from '../../../test/harness/btcd.js'
import { needs } from '../../../test/harness/needs.js'
import { CHROMIUM_PATH } from '../../../test/harness/requirements.js'
import { forWork, scaled } from '../../../test/harness/timing.js'
import { btcdAnswer, payWatched, startWatchedBtcd, WATCH_CHAIN_BUDGET_MS, WATCH_CHAIN_HEIGHT } from './watch-chain.js'

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url))
/** The page bundles the packages' dist files. */
const built = ['wire', 'session', 'transport-ws', 'light'].every((p) => existsSync(here(`../../${p}/dist/index.js`)))

/** Budget of the page's first visit: a handshake, then headers, filter headers and filters of every block (about 5 ms a block in Chromium on an idle machine). */
const FIRST_VISIT_MS = forWork(WATCH_CHAIN_HEIGHT, 50, 20_000)
/** Budget of a visit that resumes: a handshake and a few requests. */
const RESUME_MS = scaled(20_000)
/** Budget of the bundle's build (rollup and esbuild, about 3 s on an idle machine) and Chromium's launch. */
const SETUP_MS = scaled(40_000)

const CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-quic']

/** What the page shows: its data-* attributes and its rows ("txid@height@blockhash", sorted). */
interface Shown {
  readonly resumedFrom: number
  readonly scanHeight: number
  readonly tip: number
  readonly getcfilters: number
  readonly getcfheaders: number
  readonly cfilters: number
  readonly blocks: number
  readonly foundNow: number
  readonly rows: string[]
}

/** Waits until the page says it is synced (its state written to IndexedDB), then reads it; an error shown by the page fails at once. */
async function whenSynced(page: Page, timeout: number): Promise<Shown> {
  await page.waitForSelector('#app[data-synced="true"], #app[data-state="error"]', { timeout })
  const data = await page.$eval('#app', (el) => ({ ...(el as HTMLElement).dataset }))
  if (data.state === 'error') throw new Error(`the page failed: ${data.error}`)
  const rows = await page.$$eval('#txs tr', (trs) => trs.map((tr) => `${(tr as HTMLElement).dataset.txid}@${(tr as HTMLElement).dataset.height}@${(tr as HTMLElement).dataset.block}`))
  const num = (k: string): number => {
    const v = data[k]
    if (v === undefined || v === '' || !Number.isSafeInteger(Number(v))) throw new Error(`the page's data-${k} is '${v}', not a number`)
    return Number(v)
  }
  return {
    resumedFrom: num('resumedFrom'),
    scanHeight: num('scanHeight'),
    tip: num('tip'),
    getcfilters: num('getcfilters'),
    getcfheaders: num('getcfheaders'),
    cfilters: num('cfilters'),
    blocks: num('blocks'),
    foundNow: num('foundNow'),
    rows: rows.sort(),
  }
}

describe.skipIf(!built)('examples/light-browser (needs `npm run build`)', () => {
  it('bundles into one self-contained file with no node:* import', { timeout: SETUP_MS }, async () => {
    const r = await buildExample()
    expect(r.warnings).toEqual([])
    const code = readFileSync(r.file, 'utf8')
    expect(code).not.toMatch(/\bfrom\s*["']node:|\bimport\(\s*["']node:|\brequire\(/)
    expect(code).not.toMatch(/\bfrom\s*["']@bitp2p\/|\bfrom\s*["']idb["']/) // the packages are inside, not imported
  })

  needs('btcd', 'chromium').describe('a real reload in headless Chromium, through the bridge, to btcd', () => {
    let node: BtcdNode | undefined
    let address: string
    let bridge: Bridge | undefined
    let server: Awaited<ReturnType<typeof startServer>> | undefined
    let browser: Browser | undefined

    beforeAll(async () => {
      await buildExample()
      ;({ node, address } = await startWatchedBtcd())
      bridge = await createBridge({
        listen: { host: '127.0.0.1', port: 0 },
        allow: [`127.0.0.1:${node.p2p.port}`],
        allowPrivate: true,
        validateFraming: { magic: regtest.magic, maxMessageBytes: regtest.maxMessageBytes },
        log: () => {},
      })
      server = await startServer(0)
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
    }, WATCH_CHAIN_BUDGET_MS + SETUP_MS)

    afterAll(async () => {
      await browser?.close()
      await new Promise<void>((r) => (server ? server.server.close(() => r()) : r()))
      await bridge?.close()
      await node?.stop()
    })

    it('resumes from the stored height after page.reload(): no filter again, the same transactions; then exactly the new block', { timeout: FIRST_VISIT_MS + 2 * RESUME_MS + scaled(20_000) }, async () => {
      // A new context: an empty IndexedDB, kept across the reloads of its page.
      const page = await browser!.newPage()
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      const q = new URLSearchParams({ bridge: bridge!.url, peer: `127.0.0.1:${node!.p2p.port}`, address, network: 'regtest', db: 'reload-test' })
      await page.goto(`${server!.url}?${q}`)

      // 1. From genesis: btcd's answer.
      const expected = await btcdAnswer(node!, address)
      expect(expected).toHaveLength(2)
      const first = await whenSynced(page, FIRST_VISIT_MS)
      expect(first.resumedFrom).toBe(-1)
      expect(first.tip).toBe(WATCH_CHAIN_HEIGHT)
      expect(first.scanHeight).toBe(WATCH_CHAIN_HEIGHT)
      expect(first.rows).toEqual(expected)
      expect(first.foundNow).toBe(2)
      expect(first.getcfilters).toBeGreaterThan(0)
      // Every block's filter, genesis included, once.
      expect(first.cfilters).toBe(WATCH_CHAIN_HEIGHT + 1)
      // The blocks with a payment at least (a false positive of the filter may add one).
      expect(first.blocks).toBeGreaterThanOrEqual(2)

      // 2. A reload with nothing new: resumed, nothing downloaded again.
      await page.reload()
      const second = await whenSynced(page, RESUME_MS)
      expect(second.resumedFrom).toBe(first.scanHeight)
      expect(second.scanHeight).toBe(first.scanHeight)
      expect(second.tip).toBe(WATCH_CHAIN_HEIGHT)
      expect(second.getcfilters).toBe(0)
      expect(second.cfilters).toBe(0)
      expect(second.blocks).toBe(0)
      expect(second.foundNow).toBe(0)
      expect(second.rows).toEqual(first.rows)

      // 3. The page stops; a block pays the address; a reload scans exactly that block.
      await page.click('#stop')
      await page.waitForSelector('#app[data-state="stopped"]', { timeout: RESUME_MS })
      const paid = await payWatched(node!, 3)
      const expectedNow = await btcdAnswer(node!, address)
      expect(expectedNow).toEqual([...expected, `${paid.txid}@${WATCH_CHAIN_HEIGHT + 1}@${paid.block}`].sort())
      await page.reload()
      const third = await whenSynced(page, RESUME_MS)
      expect(third.resumedFrom).toBe(first.scanHeight)
      expect(third.tip).toBe(WATCH_CHAIN_HEIGHT + 1)
      expect(third.scanHeight).toBe(WATCH_CHAIN_HEIGHT + 1)
      expect(third.getcfilters).toBe(1)
      expect(third.cfilters).toBe(1)
      expect(third.blocks).toBe(1)
      expect(third.foundNow).toBe(1)
      expect(third.rows).toEqual(expectedNow)
      expect(errors).toEqual([])
      console.log(
        `[light-reload] ${first.tip} blocks: ${first.rows.length} txs = btcd's answer; first visit ${first.getcfheaders} getcfheaders, ${first.getcfilters} getcfilters, ` +
          `${first.cfilters} filters, ${first.blocks} blocks; reload ${second.getcfheaders} getcfheaders, ${second.getcfilters} getcfilters; ` +
          `after one more block ${third.getcfheaders} getcfheaders, ${third.getcfilters} getcfilters, ${third.cfilters} filter, ${third.blocks} block, 1 tx found`,
      )
      await page.close()
    })
  })
})
