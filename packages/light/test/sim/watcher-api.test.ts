// The ScriptWatcher's promises, errors and iterator, on the mock network.
import { describe, expect, it } from 'vitest'
import { MempoolMonitor, PeerList, SeededRandom } from '@bitp2p/session'
import { hashToHex, regtest, Services, toHex, txid } from '@bitp2p/wire'
import { ScriptWatcher, WatcherError, watchedScript, type WatcherEvent } from '../../src/watcher.js'
import { FilterServer, p2wpkh, World } from '../world.js'
import { startFilterNet } from './filter-node.js'

const A = p2wpkh(1)

function smallWorld() {
  const w = new World(9)
  w.mine(5)
  const pay = w.pay([A])
  w.mine(40, (h) => (h === 30 ? [pay] : []))
  return { w, pay }
}

describe('ScriptWatcher API', () => {
  it('events(): tx, progress and synced in order, as an async iterator that ends on stop()', async () => {
    const { w, pay } = smallWorld()
    const fnet = await startFilterNet(w, [{ server: new FilterServer(w) }], 'api-1')
    const watcher = new ScriptWatcher({ source: new PeerList(fnet.clients), network: regtest, clock: fnet.clock })
    const events = watcher.events()
    const seen: WatcherEvent[] = []
    const reading = (async () => {
      for await (const e of events) seen.push(e)
    })()
    await watcher.watch([toHex(A)])
    const synced = watcher.synced()
    await fnet.clock.runAsync({ until: fnet.clock.now() + 30_000 })
    const tip = await synced
    expect(tip.height).toBe(45)
    await watcher.stop()
    await reading
    const types = seen.map((e) => e.type)
    expect(types).toContain('progress')
    const tx = seen.find((e) => e.type === 'tx')
    expect(tx?.type === 'tx' && hashToHex(tx.tx.txid)).toBe(hashToHex(txid(pay)))
    expect(types.indexOf('tx')).toBeLessThan(types.indexOf('synced'))
    expect(types.filter((t) => t === 'synced')).toHaveLength(1)
    // Stopped: a new iterator ends at once, synced() rejects 'stopped'.
    const after = watcher.events()
    expect(await after.next()).toEqual({ value: undefined, done: true })
    await expect(watcher.synced()).rejects.toMatchObject({ name: 'WatcherError', code: 'stopped' })
  })

  it("synced() rejects 'no-peers' after peerWaitMs when no peer serves filters", async () => {
    const { w } = smallWorld()
    const fnet = await startFilterNet(w, [{ server: new FilterServer(w), services: Services.NODE_NETWORK | Services.NODE_WITNESS }], 'api-2')
    const watcher = new ScriptWatcher({ source: new PeerList(fnet.clients), network: regtest, clock: fnet.clock, peerWaitMs: 20_000 })
    await watcher.watch([A])
    const synced = watcher.synced()
    let outcome: unknown
    synced.catch((e: unknown) => (outcome = e))
    await fnet.clock.runAsync({ until: fnet.clock.now() + 19_000 })
    expect(outcome).toBeUndefined()
    await fnet.clock.runAsync({ until: fnet.clock.now() + 2_000 })
    expect(outcome).toBeInstanceOf(WatcherError)
    expect((outcome as WatcherError).code).toBe('no-peers')
    expect((outcome as WatcherError).waitedMs).toBeGreaterThanOrEqual(20_000)
    await watcher.stop()
  })

  it('synced() rejects with the signal’s reason on abort, and stop() rejects what waits', async () => {
    const { w } = smallWorld()
    const fnet = await startFilterNet(w, [{ server: new FilterServer(w), services: Services.NODE_NETWORK }], 'api-3')
    const watcher = new ScriptWatcher({ source: new PeerList(fnet.clients), network: regtest, clock: fnet.clock })
    await watcher.start()
    const ac = new AbortController()
    const aborted = watcher.synced(ac.signal)
    const waiting = watcher.synced()
    ac.abort(new Error('enough'))
    await expect(aborted).rejects.toThrow('enough')
    await watcher.stop()
    await expect(waiting).rejects.toMatchObject({ code: 'stopped' })
  })

  it("watch() takes addresses, scripts and hex; anything else is WatcherError 'bad-script', and nothing is watched", async () => {
    expect(toHex(watchedScript('bcrt1qkk496r0xehcqxr5z6amlnnl7yvaceh3tehyw4t', regtest))).toBe('0014b5aa5d0de6cdf0030e82d777f9cffe233b8cde2b')
    expect(toHex(watchedScript('0014B5AA5D0DE6CDF0030E82D777F9CFFE233B8CDE2B', regtest))).toBe('0014b5aa5d0de6cdf0030e82d777f9cffe233b8cde2b')
    expect(watchedScript(A, regtest)).not.toBe(A)
    for (const bad of ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 'xyz', '0', new Uint8Array(0)]) {
      expect(() => watchedScript(bad, regtest)).toThrow(WatcherError)
    }
    try {
      watchedScript('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', regtest)
    } catch (e) {
      expect((e as WatcherError).code).toBe('bad-script')
      expect((e as Error).message).toMatch(/WRONG_NETWORK/)
    }
    const { w } = smallWorld()
    const fnet = await startFilterNet(w, [{ server: new FilterServer(w) }], 'api-4')
    const watcher = new ScriptWatcher({ source: new PeerList(fnet.clients), network: regtest, clock: fnet.clock })
    await expect(watcher.watch([A, 'nonsense'])).rejects.toMatchObject({ code: 'bad-script', input: 'nonsense' })
    expect(watcher.machine.wallet.scripts()).toEqual([])
    await watcher.stop()
  })

  it("with a MempoolMonitor: a payment is reported 'unconfirmed' when relayed, then as 'tx' when a block holds it", async () => {
    const { w } = smallWorld()
    const fnet = await startFilterNet(w, [{ server: new FilterServer(w) }], 'api-5')
    const source = new PeerList(fnet.clients)
    const mempool = new MempoolMonitor({ source, clock: fnet.clock, random: new SeededRandom('api-5') }).start()
    const watcher = new ScriptWatcher({ source, network: regtest, clock: fnet.clock, mempool })
    const order: string[] = []
    watcher.on('unconfirmed', (u) => order.push(`unconfirmed ${hashToHex(u.txid)} ${u.outputs.map((o) => o.value).join(',')}`))
    watcher.on('tx', (t) => order.push(`tx ${hashToHex(t.txid)}@${t.height}`))
    await watcher.watch([A], { birthday: 40 })
    const synced = watcher.synced()
    await fnet.clock.runAsync({ until: fnet.clock.now() + 20_000 })
    await synced
    const pay = w.pay([A], 7_777n)
    fnet.announceTx(pay)
    await fnet.clock.runAsync({ until: fnet.clock.now() + 10_000 })
    expect(watcher.unconfirmed().map((u) => hashToHex(u.txid))).toEqual([hashToHex(txid(pay))])
    w.mine(1, () => [pay])
    fnet.announceTip(w)
    await fnet.clock.runAsync({ until: fnet.clock.now() + 20_000 })
    expect(order).toEqual([`unconfirmed ${hashToHex(txid(pay))} 7777`, `tx ${hashToHex(txid(pay))}@${w.chain.tip.height}`])
    expect(watcher.unconfirmed()).toEqual([])
    mempool.stop()
    await watcher.stop()
  })
})
