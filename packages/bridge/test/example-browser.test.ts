// examples/browser: its bundle builds from the packages' dist files and is
// browser-clean; then the page, served by serve.mjs, runs in headless
// Chromium (playwright, Debian's chromium) against bcoin regtest through
// the bitp2p-bridge CLI, started as the example's README says, and shows
// the synced height, a wallet transaction, and the block that confirms it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright'
import { buildExample } from '../../../examples/browser/build.mjs'
import { startServer } from '../../../examples/browser/serve.mjs'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { CHROMIUM_PATH as CHROMIUM } from '../../../test/harness/requirements.js'
import { scaled } from '../../../test/harness/timing.js'

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url))
const BIN = here('../dist/bin.js')
const built = ['wire', 'session', 'transport-ws', 'bridge'].every((p) => existsSync(here(`../../${p}/dist/index.js`))) && existsSync(BIN)

/** Blocks bcoin mines at start (over 100, so the wallet can spend). */
const BLOCKS = 120
/** How long the page may take to show each change. */
const PAGE_WAIT_MS = scaled(20_000)
/** Budget of the example's build (esbuild, about 1.4 s on an idle machine), the bridge CLI's start and Chromium's launch. */
const SETUP_BUDGET_MS = 30_000

/** Start the bitp2p-bridge CLI; resolves with its port once it logs 'listening'. */
function startBridgeCli(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    child.once('exit', (code) => reject(new Error(`bitp2p-bridge exited (${code}): ${err}`)))
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue
        const ev = JSON.parse(line) as { event?: string; port?: number }
        if (ev.event === 'listening') resolve({ child, port: ev.port! })
      }
    })
  })
}

describe.skipIf(!built)('examples/browser (needs `npm run build`)', () => {
  it('builds a self-contained browser bundle with no node:* import', { timeout: scaled(60_000) }, async () => {
    const r = await buildExample()
    expect(r.warnings).toEqual([])
    const code = readFileSync(r.file, 'utf8')
    expect(code).not.toMatch(/\bfrom\s*["']node:|\bimport\(\s*["']node:|\brequire\(/)
    expect(code).not.toMatch(/\bfrom\s*["']@bitp2p\//) // the packages are inside, not imported
    expect(r.minifiedBytes).toBeGreaterThan(10_000)
    expect(r.gzipBytes).toBeLessThan(r.minifiedBytes)
    console.log(`[example-browser] dist/main.js: ${r.minifiedBytes} B minified, ${r.gzipBytes} B gzipped`)
  })

  needs('chromium', 'bcoin').describe('the page in headless Chromium against bcoin regtest', () => {
    let node: BcoinNode
    let bridge: ChildProcess | undefined
    let bridgePort: number
    let server: Awaited<ReturnType<typeof startServer>> | undefined
    let browser: Browser | undefined

    beforeAll(async () => {
      await buildExample()
      node = await startBcoin({ mine: BLOCKS, wallet: true, invMs: 50 })
      ;({ child: bridge, port: bridgePort } = await startBridgeCli([
        '--listen', '127.0.0.1:0',
        '--allow', `127.0.0.1:${node.p2p.port}`,
        '--allow-private',
        '--validate-network', 'regtest',
      ]))
      server = await startServer(0)
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-quic'],
      })
    }, bcoinBudget(BLOCKS) + scaled(SETUP_BUDGET_MS))

    afterAll(async () => {
      await browser?.close()
      await new Promise<void>((r) => (server ? server.server.close(() => r()) : r()))
      if (bridge !== undefined && bridge.exitCode === null) {
        const exited = new Promise((r) => bridge!.once('exit', r))
        bridge.kill('SIGTERM')
        await exited
      }
      await node?.stop()
    })

    it('shows the peer, the synced header height, a wallet tx, and its confirmation', { timeout: 5 * PAGE_WAIT_MS }, async () => {
      const page = await browser!.newPage()
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      const q = new URLSearchParams({ bridge: `ws://127.0.0.1:${bridgePort}/`, peer: `127.0.0.1:${node.p2p.port}`, network: 'regtest' })
      await page.goto(`${server!.url}?${q}`)

      // Handshake through the CLI bridge, then every header synced and validated.
      await page.waitForSelector(`#height[data-height="${BLOCKS}"]`, { timeout: PAGE_WAIT_MS })
      expect(await page.textContent('#tip')).toBe(await node.rpc('getbestblockhash', []))
      const row = page.locator(`#peers tr[data-peer="127.0.0.1:${node.p2p.port}"]`)
      expect(await row.getAttribute('data-state')).toBe('ready')
      expect(await row.locator('.agent').textContent()).toMatch(/bcoin/)
      expect(await page.evaluate(() => navigator.userAgent)).toMatch(/HeadlessChrome/)

      // A wallet transaction appears in the list...
      const txid = await node.sendFromWallet(1)
      await page.waitForSelector(`#mempool tr[data-txid="${txid}"]`, { timeout: PAGE_WAIT_MS })
      expect(await page.textContent('#tx-count')).toBe('1')

      // ...and leaves it when a block confirms it; the height follows.
      const [mined] = await node.mine(1)
      await page.waitForSelector(`#height[data-height="${BLOCKS + 1}"]`, { timeout: PAGE_WAIT_MS })
      expect(await page.textContent('#tip')).toBe(mined)
      await page.waitForSelector(`#mempool tr[data-txid="${txid}"]`, { state: 'detached', timeout: PAGE_WAIT_MS })
      expect(await page.textContent('#tx-count')).toBe('0')
      expect(errors).toEqual([])
      await page.close()
    })
  })
})
