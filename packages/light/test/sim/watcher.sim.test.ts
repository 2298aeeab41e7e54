// The ScriptWatcher on the mock network, with the production Peer driver:
// honest filter nodes beside one serving a filter that misses a watched
// output script, one serving wrong filter headers and one that never
// answers getcfilters. Every seed must find the same transactions and
// punish the same nodes.
import { describe, expect, it } from 'vitest'
import { PeerList } from '@bitp2p/session'
import { hashToHex, regtest, txid, type Transaction } from '@bitp2p/wire'
import { MemoryLightStore, type MemoryStorage } from '../../src/store/memory.js'
import { ScriptWatcher } from '../../src/watcher.js'
import { FilterServer, p2wpkh, World } from '../world.js'
import { startFilterNet, type NodeSpec } from './filter-node.js'

const A = p2wpkh(1)
const B = p2wpkh(2)

/** 1,300 blocks: A paid at 300, spent to B at 1,200, A and B paid at 1,250, noise every 97 blocks. */
function world() {
  const w = new World(5)
  w.mine(10)
  const payA = w.pay([A])
  const payAB = w.pay([A, B])
  let spend: Transaction | undefined
  w.mine(1290, (h) => {
    const out: Transaction[] = []
    if (h === 300) out.push(payA)
    if (h === 1200) out.push((spend = w.spend({ txid: txid(payA), index: 0 }, B)))
    if (h === 1250) out.push(payAB)
    if (h % 97 === 0) out.push(w.pay([p2wpkh(5000 + h)]))
    return out
  })
  return { w, expected: [`${hashToHex(txid(payA))}@300`, `${hashToHex(txid(spend!))}@1200`, `${hashToHex(txid(payAB))}@1250`] }
}

const W = world()

interface Outcome {
  found: string[]
  dropped: string[]
  stalled: string[]
  balance: bigint
  /** How each client connection ended before the test closed the rest: host -> reason kind. */
  closed: Record<string, string>
  /** The network's delivery trace hash once caught up. */
  trace: string
}

async function runOnce(seed: string, specs: readonly NodeSpec[], storage?: MemoryStorage, filtersPerRequest?: number): Promise<Outcome & { watcher: ScriptWatcher }> {
  const fnet = await startFilterNet(W.w, specs, seed)
  const source = new PeerList(fnet.clients)
  const store = storage ? new MemoryLightStore(storage) : undefined
  const watcher = new ScriptWatcher({ source, network: regtest, clock: fnet.clock, store, requestTimeoutMs: 10_000, filtersPerRequest })
  const out: Outcome = { found: [], dropped: [], stalled: [], balance: 0n, closed: {}, trace: '' }
  const label = (p: { remote: { host: string } }) => p.remote.host
  watcher.on('tx', (t) => out.found.push(`${hashToHex(t.txid)}@${t.height}`))
  watcher.on('peer-dropped', (p) => out.dropped.push(label(p)))
  watcher.on('peer-stalled', (p) => out.stalled.push(label(p)))
  await watcher.watch([A, B])
  const synced = watcher.synced()
  let done = false
  synced.then(
    () => (done = true),
    () => (done = true),
  )
  for (let i = 0; i < 600 && !done; i++) await fnet.clock.runAsync({ until: fnet.clock.now() + 1_000 })
  await synced
  out.balance = watcher.balance
  for (const c of fnet.clients) if (c.closeReason) out.closed[c.remote.host] = c.closeReason.kind
  out.trace = fnet.net.trace.hash()
  await watcher.stop()
  for (const c of fnet.clients) c.close('done')
  return { ...out, watcher }
}

const SEEDS = ['filters-1', 'filters-2', 'filters-3', 'filters-4', 'filters-5']

describe('ScriptWatcher on the mock network', () => {
  it('two honest nodes: finds every transaction; the same under every seed', async () => {
    const results = []
    for (const seed of SEEDS.slice(0, 3)) {
      const r = await runOnce(seed, [{ server: new FilterServer(W.w) }, { server: new FilterServer(W.w) }])
      expect(r.found, seed).toEqual(W.expected)
      expect(r.dropped).toEqual([])
      results.push({ found: r.found, balance: r.balance })
    }
    expect(new Set(results.map((r) => JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? v.toString() : v)))).size).toBe(1)
  })

  it('hostile nodes (a filter missing a watched output, wrong filter headers, no getcfilters answers) are punished or replaced under every seed, and the results are the same', async () => {
    const bad = W.w.chain.atHeight(300)!
    const specs: NodeSpec[] = [
      { server: new FilterServer(W.w, W.w.missingScript(bad, A)) },
      { server: new FilterServer(W.w) },
      { server: new FilterServer(W.w, W.w.wrongHeaders(W.w.chain.atHeight(1100)!)) },
      { server: new FilterServer(W.w), ignores: new Set(['getcfilters']) },
      { server: new FilterServer(W.w) },
    ]
    const outcomes = []
    for (const seed of SEEDS) {
      // Batches of 100 filters, so every node is given some.
      const r = await runOnce(seed, specs, undefined, 100)
      // The wallet holds each transaction once; a rescan after a lost dispute may report one again.
      expect([...new Set(r.found)].sort(), seed).toEqual([...W.expected].sort())
      expect(r.watcher.transactions().map((t) => `${hashToHex(t.txid)}@${t.height}`), seed).toEqual(W.expected)
      expect([...r.dropped].sort(), seed).toEqual(['10.0.2.1', '10.0.2.3'])
      expect(r.stalled, seed).toEqual(['10.0.2.4'])
      // Punished: closed as misbehaving (score 100); the silent one closed by us, not banned.
      expect(r.closed, seed).toEqual({ '10.0.2.1': 'misbehaving', '10.0.2.3': 'misbehaving', '10.0.2.4': 'local' })
      outcomes.push({ wallet: r.watcher.machine.wallet.snapshot(), dropped: [...r.dropped].sort() })
    }
    expect(new Set(outcomes.map((o) => JSON.stringify(o))).size).toBe(1)
  })

  it('a node that never answers getcfilters, beside one honest node, is closed and the scan finishes on the other', async () => {
    const r = await runOnce('silent-1', [{ server: new FilterServer(W.w), ignores: new Set(['getcfilters']) }, { server: new FilterServer(W.w) }])
    expect(r.found).toEqual(W.expected)
    expect(r.stalled).toEqual(['10.0.2.1'])
  })

  it('a restart with the same store resumes without asking for filter headers or filters again', async () => {
    const storage: MemoryStorage = { headers: new Uint8Array(0), state: undefined }
    const first = await runOnce('restart-1', [{ server: new FilterServer(W.w) }], storage)
    expect(first.found).toEqual(W.expected)
    expect(storage.headers.length).toBe((W.w.chain.tip.height + 1) * 32)
    const spec = { server: new FilterServer(W.w) }
    const asked: string[] = []
    const second = await (async () => {
      const fnet = await startFilterNet(W.w, [spec], 'restart-2')
      for (const s of fnet.sessions[0]!) s.on('message', (m) => asked.push(m.command))
      const watcher = new ScriptWatcher({ source: new PeerList(fnet.clients), network: regtest, clock: fnet.clock, store: new MemoryLightStore(storage) })
      await watcher.start()
      const synced = watcher.synced()
      let done = false
      void synced.then(() => (done = true))
      for (let i = 0; i < 120 && !done; i++) await fnet.clock.runAsync({ until: fnet.clock.now() + 1_000 })
      await synced
      const txs = watcher.transactions().map((t) => `${hashToHex(t.txid)}@${t.height}`)
      await watcher.stop()
      return txs
    })()
    expect(second).toEqual(W.expected)
    expect(asked.filter((c) => c === 'getcfilters')).toEqual([])
    expect(asked.filter((c) => c === 'getcfheaders').length).toBeLessThanOrEqual(1)
  })

  it('the same seed gives the same trace, byte for byte (hostile nodes included)', async () => {
    const bad = W.w.chain.atHeight(300)!
    const specs: NodeSpec[] = [
      { server: new FilterServer(W.w, W.w.missingScript(bad, A)) },
      { server: new FilterServer(W.w) },
      { server: new FilterServer(W.w), ignores: new Set(['getcfilters']) },
    ]
    const a = await runOnce('trace-1', specs, undefined, 100)
    const b = await runOnce('trace-1', specs, undefined, 100)
    const c = await runOnce('trace-2', specs, undefined, 100)
    expect(a.trace).toMatch(/^[0-9a-f]{64}$/)
    expect(b.trace).toBe(a.trace)
    expect(c.trace).not.toBe(a.trace)
    expect(b.found).toEqual(a.found)
  })
})
