// The connector in a real worker runtime: workerd (the npm package), on
// 127.0.0.1 only. A worker bundled from test/worker/test-worker.ts (with the
// BUILT packages: dist/, through the workspace links) dials the bcoin
// regtest node with connect() of cloudflare:sockets, handshakes and syncs
// its headers; runs the shared transport compliance suite with both ends
// its own sockets, joined by a loopback splice; and shows how connect
// failures are typed. The example worker (examples/cloudflare-worker) runs
// against the same node.
//
// workerd's `internet` service (the worker's only way out) is overridden
// by a network allowing 127.0.0.1 alone: see test/harness/workerd.ts.
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build, type Metafile } from 'esbuild'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { startSplice, type Splice } from '../../../test/harness/splice.js'
import { scaled, TIME_SCALE } from '../../../test/harness/timing.js'
import { LOOPBACK_ONLY_ALLOW, startWorkerd, workerdConfig, type Workerd } from '../../../test/harness/workerd.js'
import { COMPLIANCE_CASES } from '@bitp2p/testkit/compliance'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const TEST_WORKER = fileURLToPath(new URL('./worker/test-worker.ts', import.meta.url))
const VITEST_SHIM = fileURLToPath(new URL('./worker/vitest-shim.ts', import.meta.url))
const EXAMPLE_WORKER = `${ROOT}examples/cloudflare-worker/worker.mjs`
/** The bundles the worker imports (built by `npm run build`). */
const DISTS = ['wire', 'session', 'transport-cloudflare'].map((p) => `${ROOT}packages/${p}/dist/index.js`)
/** Blocks bcoin mines at start; the worker syncs all of them. */
const BLOCKS = 300
/** Bundling a worker with esbuild (well under a second on an idle machine), scaled. */
const BUNDLE_BUDGET_MS = scaled(20_000)
/** Starting workerd and bundling its worker, scaled. */
const WORKERD_BUDGET_MS = scaled(15_000) + BUNDLE_BUDGET_MS
/** One worker request against bcoin: connect, handshake, 300 headers (under 0.5 s on an idle machine), scaled. */
const SYNC_BUDGET_MS = scaled(30_000)
/**
 * The compliance suite in the worker: eight cases moving about 30 MB over
 * loopback (a few seconds on an idle machine). Each case has its own 30 s
 * budget inside the worker; this is the hang net of the whole request.
 */
const COMPLIANCE_BUDGET_MS = scaled(120_000)

/** The first ```js block after `heading` in `markdown`. */
function codeBlockAfter(markdown: string, heading: string): string {
  const at = markdown.indexOf(`\n${heading}\n`)
  if (at < 0) throw new Error(`no '${heading}' section`)
  const m = /```js\n([\s\S]*?)```/.exec(markdown.slice(at))
  if (m === null) throw new Error(`no js block under '${heading}'`)
  return m[1]!
}

/** Bundle a worker: ES module, the browser/worker side of every package, `cloudflare:sockets` left to the runtime. */
async function bundleWorker(entry: string | { contents: string; resolveDir: string }): Promise<{ code: string; metafile: Metafile }> {
  const r = await build({
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.contents, resolveDir: entry.resolveDir, sourcefile: 'README.js', loader: 'js' } }),
    // Metafile paths relative to the repository root.
    absWorkingDir: ROOT,
    // A tsconfig without `paths`: @bitp2p/* resolve to the built dist/ through
    // the workspace links, not to the sources the package's tsconfig maps.
    tsconfig: `${ROOT}tsconfig.base.json`,
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:sockets'],
    // The compliance suite imports vitest, which does not run in a worker.
    alias: { vitest: VITEST_SHIM },
    // test/harness/timing.ts reads the scale from import.meta.env where there is no process.
    define: { 'import.meta.env': JSON.stringify({ BITP2P_TIME_SCALE: String(TIME_SCALE) }) },
    logLevel: 'silent',
  })
  return { code: r.outputFiles[0]!.text, metafile: r.metafile }
}

/** GET `path` from the worker; its JSON answer. */
async function ask<T>(wd: Workerd, path: string): Promise<T> {
  const res = await fetch(`${wd.url}${path}`)
  const text = await res.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new Error(`worker answered ${res.status}: ${text.slice(0, 500)}\nworkerd output:\n${wd.output()}`)
  }
  if (!res.ok) throw new Error(`worker answered ${res.status}: ${JSON.stringify(body)}\nworkerd output:\n${wd.output()}`)
  return body as T
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** What /connect answers. */
interface ConnectAnswer {
  readonly ok: boolean
  readonly name?: string
  readonly code?: string
  readonly message?: string
}

needs('workerd').describe('CloudflareConnector in workerd (127.0.0.1 only)', () => {
  let wd: Workerd
  let metafile: Metafile
  /** The bundled test worker. */
  let script: string

  beforeAll(async () => {
    const missing = DISTS.filter((d) => !existsSync(d))
    if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` first`)
    const bundle = await bundleWorker(TEST_WORKER)
    metafile = bundle.metafile
    script = bundle.code
    wd = await startWorkerd({ script })
  }, WORKERD_BUDGET_MS)

  afterAll(async () => {
    await wd?.stop()
  })

  it('the worker bundle leaves cloudflare:sockets to the runtime, uses the built package, and pulls in no node:* module', () => {
    const imports = Object.values(metafile.inputs).flatMap((i) => i.imports)
    const sockets = imports.filter((i) => i.path === 'cloudflare:sockets')
    expect(sockets.length).toBeGreaterThan(0)
    expect(sockets.every((i) => i.external === true)).toBe(true)
    expect(imports.filter((i) => i.path.startsWith('node:')).map((i) => i.path)).toEqual([])
    expect(Object.keys(metafile.inputs)).toContain('packages/transport-cloudflare/dist/runtime.js')
  })

  it("the config gives the worker one way out, a network that allows 127.0.0.1 alone", () => {
    expect(LOOPBACK_ONLY_ALLOW).toEqual(['127.0.0.1/32'])
    const config = workerdConfig(8080)
      .split('\n')
      .filter((l) => !l.trim().startsWith('#')) // capnp comments
      .join('\n')
    // One network service, named `internet` (it replaces workerd's implicit
    // one, every worker's globalOutbound), and nothing else that could dial.
    expect(config.match(/\bnetwork\s*=/g)).toHaveLength(1)
    expect(config).toMatch(/\(name = "internet", network = \(allow = \["127\.0\.0\.1\/32"\]\)\)/)
    expect(config).not.toMatch(/external\s*=|globalOutbound|compatibilityFlags|"public"|"private"|"local"/)
    // The running workerd has exactly this config.
    expect(wd.config).toBe(workerdConfig(Number(new URL(wd.url).port)))
    expect(wd.config).toContain('address = "127.0.0.1:')
  })

  it("connect() goes through the restricted network: with 127.0.0.1 taken out of it, the same listener is refused", { timeout: WORKERD_BUDGET_MS + SYNC_BUDGET_MS }, async () => {
    // A listener on 127.0.0.1 that counts what reaches it.
    let accepted = 0
    const server: Server = createServer((s) => {
      accepted++
      s.destroy()
    })
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
    const port = (server.address() as { port: number }).port
    // The same worker, with a network that allows nothing.
    const closed = await startWorkerd({ script: script, allow: [] })
    try {
      expect(closed.config).toMatch(/\(name = "internet", network = \(allow = \[\]\)\)/)
      // The test worker (127.0.0.1 allowed) reaches it...
      expect(await ask<ConnectAnswer>(wd, `/connect?host=127.0.0.1&port=${port}`)).toEqual({ ok: true })
      expect(accepted).toBe(1)
      // ...the one without 127.0.0.1 does not: workerd refuses the address before dialing.
      const r = await ask<ConnectAnswer>(closed, `/connect?host=127.0.0.1&port=${port}`)
      expect(r).toMatchObject({ ok: false, name: 'TransportError', code: 'connect-failed' })
      expect(accepted).toBe(1)
    } finally {
      await closed.stop()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('the harness refuses a network wider than 127.0.0.1', () => {
    expect(() => workerdConfig(8080, {}, ['127.0.0.1/32', 'local'])).toThrow(/not local/)
    expect(() => workerdConfig(8080, {}, ['public'])).toThrow(/not public/)
  })

  it("types connect failures: a refused port and an invalid address are 'connect-failed' TransportErrors", { timeout: SYNC_BUDGET_MS }, async () => {
    const refused = await ask<ConnectAnswer>(wd, `/connect?host=127.0.0.1&port=${await closedPort()}`)
    expect(refused).toMatchObject({ ok: false, name: 'TransportError', code: 'connect-failed' })
    expect(refused.message).toMatch(/^connect to 127\.0\.0\.1:\d+ failed: /)
    const empty = await ask<ConnectAnswer>(wd, `/connect?host=&port=18444`)
    expect(empty).toMatchObject({ ok: false, name: 'TransportError', code: 'connect-failed', message: 'invalid peer address :18444' })
  })

  it('passes the transport compliance suite inside the worker, both ends its own sockets through a loopback splice', { timeout: COMPLIANCE_BUDGET_MS }, async () => {
    const splice: Splice = await startSplice()
    try {
      const { results } = await ask<{ results: { name: string; ok: boolean; error?: string; ms: number }[] }>(wd, `/compliance?port=${splice.address.port}`)
      console.log(`[workerd] compliance: ${results.map((r) => `${r.ok ? 'ok' : 'FAILED'} ${r.name} (${r.ms} ms)`).join('; ')}`)
      // Every case of the suite ran (none skipped for this transport).
      const cases = COMPLIANCE_CASES.length
      expect(cases).toBeGreaterThanOrEqual(8)
      expect(results).toHaveLength(cases)
      expect(results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}`)).toEqual([])
      // Each case made its pairs through the splice: two connections a pair, none for the aborted connect.
      expect(splice.connections).toBeGreaterThanOrEqual(2 * cases)
      expect(splice.connections % 2).toBe(0)
    } finally {
      await splice.close()
    }
  })

  needs('bcoin').describe('against bcoin regtest', () => {
    let node: BcoinNode
    let example: Workerd | undefined
    let readme: Workerd | undefined

    beforeAll(async () => {
      node = await startBcoin({ mine: BLOCKS })
    }, bcoinBudget(BLOCKS))

    afterAll(async () => {
      await example?.stop()
      await readme?.stop()
      await node?.stop()
    })

    it(`handshakes and syncs ${BLOCKS} headers over connect(): the tip is bcoin's`, { timeout: SYNC_BUDGET_MS }, async () => {
      const r = await ask<{
        transports: string[]
        userAgent: string
        version: number
        negotiatedVersion: number
        startHeight: number
        height: number
        headers: number
        tip: string
      }>(wd, `/sync?port=${node.p2p.port}`)
      const [best, count, net] = await Promise.all([node.rpc('getbestblockhash', []), node.rpc('getblockcount', []), node.rpc('getnetworkinfo', [])])
      expect(r.transports).toEqual(['CloudflareTransport'])
      expect(r.userAgent).toBe(net.subversion)
      expect(r.userAgent).toMatch(/^\/bcoin:/)
      expect(r.version).toBe(net.protocolversion)
      expect(r.negotiatedVersion).toBe(Math.min(70016, net.protocolversion))
      expect(r.startHeight).toBe(BLOCKS)
      expect(count).toBe(BLOCKS)
      expect(r.height).toBe(BLOCKS)
      expect(r.headers).toBe(BLOCKS)
      expect(r.tip).toBe(best)
    })

    it('runs the example worker (examples/cloudflare-worker) against the node', { timeout: WORKERD_BUDGET_MS + SYNC_BUDGET_MS }, async () => {
      const bundle = await bundleWorker(EXAMPLE_WORKER)
      example = await startWorkerd({ script: bundle.code, bindings: { BITCOIN_PEER: `127.0.0.1:${node.p2p.port}`, BITCOIN_NETWORK: 'regtest' } })
      const r = await ask<{ peer: { userAgent: string; version: number; startHeight: number }; height: number; tip: string }>(example, '/')
      expect(r.peer.userAgent).toMatch(/^\/bcoin:/)
      expect(r.peer.startHeight).toBe(await node.rpc('getblockcount', []))
      expect(r.height).toBe(await node.rpc('getblockcount', []))
      expect(r.tip).toBe(await node.rpc('getbestblockhash', []))
    })

    it("runs the package README's example worker as written", { timeout: WORKERD_BUDGET_MS + SYNC_BUDGET_MS }, async () => {
      const code = codeBlockAfter(readFileSync(`${ROOT}packages/transport-cloudflare/README.md`, 'utf8'), '## Example')
      const bundle = await bundleWorker({ contents: code, resolveDir: `${ROOT}packages/transport-cloudflare` })
      readme = await startWorkerd({ script: bundle.code, bindings: { BITCOIN_PEER: `127.0.0.1:${node.p2p.port}`, BITCOIN_NETWORK: 'regtest' } })
      const r = await ask<{ peer: string; height: number; tip: string }>(readme, '/')
      expect(r.peer).toMatch(/^\/bcoin:/)
      expect(r.height).toBe(await node.rpc('getblockcount', []))
      expect(r.tip).toBe(await node.rpc('getbestblockhash', []))
    })
  })
})
