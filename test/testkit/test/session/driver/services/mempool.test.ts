import { describe, expect, it } from 'vitest'
import { hasWitness, InvType, toHex, txid, wtxid, type InvItem, type Transaction } from '@bitp2p/wire'
import { MempoolMonitor, type MempoolTx, type Peer, PeerList, SeededRandom } from '@bitp2p/session'
import { TxFactory } from '@bitp2p/transport-mock'
import { simulate } from './helpers.js'

/** Remote behaviour: answer getdata for transactions in `txs` (by txid or wtxid); record each item and when. */
function serveTxs(peer: Peer, txs: readonly Transaction[], log: { at: number; item: InvItem }[], now: () => number, opts: { notfound?: boolean; silent?: boolean } = {}): void {
  peer.on('getdata', (m) => {
    const missing: InvItem[] = []
    for (const it of m.items) {
      log.push({ at: now(), item: it })
      if (opts.silent) continue
      const tx = txs.find((t) => toHex(it.type === InvType.MSG_WTX ? wtxid(t) : txid(t)) === toHex(it.hash))
      if (!tx || opts.notfound) missing.push(it)
      else peer.send({ command: 'tx', tx })
    }
    if (missing.length > 0) peer.send({ command: 'notfound', items: missing })
  })
}

function txs(seed: string, n: number, witness?: boolean): Transaction[] {
  const f = new TxFactory(new SeededRandom(seed), { segwitShare: witness === false ? 0 : 1 })
  const out: Transaction[] = []
  while (out.length < n) {
    const t = f.next()
    if (witness === undefined || hasWitness(t) === witness) out.push(t)
  }
  return out
}

describe('MempoolMonitor', () => {
  it('fetches a transaction announced by 3 peers once, remembering every announcer', async () => {
    const [tx] = txs('mp-dedupe', 1, false)
    const logs = [[], [], []] as { at: number; item: InvItem }[][]
    const sim = await simulate({
      seed: 'mp-dedupe',
      n: 3,
      client: { wtxidRelay: false },
      script: (i, p) => serveTxs(p, [tx!], logs[i]!, () => 0),
    })
    const monitor = new MempoolMonitor({ source: new PeerList(sim.clients), clock: sim.clock }).start()
    const seen: MempoolTx[] = []
    monitor.on('tx', (t) => seen.push(t))
    // Announcements 1 ms apart: the second and third arrive while the first getdata is in flight.
    sim.remotes.forEach((r, i) => sim.clock.setTimer(i, () => r.peer.send({ command: 'inv', items: [{ type: InvType.MSG_TX, hash: txid(tx!) }] })))
    await sim.run(1_000)

    expect(logs.map((l) => l.length)).toEqual([1, 0, 0])
    expect(logs[0]![0]!.item.type).toBe(InvType.MSG_WITNESS_TX)
    expect(seen).toHaveLength(1)
    expect(toHex(seen[0]!.txid)).toBe(toHex(txid(tx!)))
    expect(seen[0]!.announcedBy).toEqual(sim.remotes.map((r) => r.label))
    expect(seen[0]!.firstSeenBy).toBe(sim.remotes[0]!.label)
    expect(seen[0]!.receivedFrom).toBe(sim.remotes[0]!.label)
    expect(seen[0]!.vsize).toBeLessThanOrEqual(seen[0]!.size)

    // Announced again afterwards: already seen, not fetched again.
    sim.remotes[2]!.peer.send({ command: 'inv', items: [{ type: InvType.MSG_TX, hash: txid(tx!) }] })
    await sim.run(1_000)
    expect(logs.map((l) => l.length)).toEqual([1, 0, 0])
    expect(monitor.hasSeen(txid(tx!))).toBe(true)
    expect(monitor.pending).toBe(0)
    monitor.stop()
  })

  it('asks the next announcer after notfound', async () => {
    const [tx] = txs('mp-notfound', 1, false)
    const logs = [[], []] as { at: number; item: InvItem }[][]
    const sim = await simulate({
      seed: 'mp-notfound',
      n: 2,
      client: { wtxidRelay: false },
      script: (i, p) => serveTxs(p, [tx!], logs[i]!, () => 0, { notfound: i === 0 }),
    })
    const monitor = new MempoolMonitor({ source: new PeerList(sim.clients), clock: sim.clock }).start()
    const seen: MempoolTx[] = []
    const notfound: string[] = []
    monitor.on('tx', (t) => seen.push(t))
    monitor.on('notfound', (n) => notfound.push(n.peer))
    for (const r of sim.remotes) r.peer.send({ command: 'inv', items: [{ type: InvType.MSG_TX, hash: txid(tx!) }] })
    await sim.run(1_000)
    expect(notfound).toEqual([sim.remotes[0]!.label])
    expect(logs.map((l) => l.length)).toEqual([1, 1])
    expect(seen.map((t) => t.receivedFrom)).toEqual([sim.remotes[1]!.label])
    expect(seen[0]!.firstSeenBy).toBe(sim.remotes[0]!.label)
    monitor.stop()
  })

  it('asks the next announcer when the first stays silent for requestTimeoutMs; the silent one is not asked again', async () => {
    const [tx] = txs('mp-stall', 1, false)
    const logs = [[], []] as { at: number; item: InvItem }[][]
    let now = (): number => 0
    const sim = await simulate({
      seed: 'mp-stall',
      n: 2,
      // 'report': the stalled getdata fails but the connection stays, so only the monitor's policy acts.
      client: { wtxidRelay: false, onStall: 'report' },
      script: (i, p) => serveTxs(p, [tx!], logs[i]!, () => now(), { silent: i === 0 }),
    })
    now = () => sim.clock.now()
    const monitor = new MempoolMonitor({ source: new PeerList(sim.clients), clock: sim.clock, requestTimeoutMs: 5_000 }).start()
    const seen: MempoolTx[] = []
    monitor.on('tx', (t) => seen.push(t))
    const t0 = sim.clock.now()
    sim.remotes[0]!.peer.send({ command: 'inv', items: [{ type: InvType.MSG_TX, hash: txid(tx!) }] })
    await sim.run(100)
    sim.remotes[1]!.peer.send({ command: 'inv', items: [{ type: InvType.MSG_TX, hash: txid(tx!) }] })
    await sim.run(4_800)
    expect(logs.map((l) => l.length)).toEqual([1, 0])
    await sim.run(1_000)
    expect(logs.map((l) => l.length)).toEqual([1, 1])
    expect(logs[1]![0]!.at - t0).toBeGreaterThanOrEqual(5_000)
    expect(seen.map((t) => t.receivedFrom)).toEqual([sim.remotes[1]!.label])
    expect(seen[0]!.announcedBy).toEqual(sim.remotes.map((r) => r.label))
    expect(sim.clients[0]!.state).toBe('ready')
    expect(monitor.inFlightTo(sim.clients[0]!)).toBe(0)
    monitor.stop()
  })

  it('requests by wtxid (MSG_WTX) from a peer that negotiated wtxidrelay', async () => {
    const [tx] = txs('mp-wtx', 1, true)
    const log: { at: number; item: InvItem }[] = []
    const sim = await simulate({ seed: 'mp-wtx', n: 1, script: (_, p) => serveTxs(p, [tx!], log, () => 0) })
    expect(sim.clients[0]!.features!.wtxidRelay).toBe(true)
    const monitor = new MempoolMonitor({ source: new PeerList(sim.clients), clock: sim.clock }).start()
    const seen: MempoolTx[] = []
    monitor.on('tx', (t) => seen.push(t))
    sim.remotes[0]!.peer.send({ command: 'inv', items: [{ type: InvType.MSG_WTX, hash: wtxid(tx!) }] })
    await sim.run(1_000)
    expect(log.map((l) => [l.item.type, toHex(l.item.hash)])).toEqual([[InvType.MSG_WTX, toHex(wtxid(tx!))]])
    expect(seen).toHaveLength(1)
    expect(toHex(seen[0]!.wtxid)).toBe(toHex(wtxid(tx!)))
    expect(toHex(seen[0]!.txid)).not.toBe(toHex(seen[0]!.wtxid))
    // Both ids are now known: an announcement by either is ignored.
    expect(monitor.hasSeen(wtxid(tx!), true)).toBe(true)
    expect(monitor.hasSeen(txid(tx!))).toBe(true)
    monitor.stop()
  })

  it('keeps to maxTxPerSecond and maxInFlightPerPeer', async () => {
    const batch = txs('mp-rate', 20, false)
    const log: { at: number; item: InvItem }[] = []
    let clockNow = (): number => 0
    const sim = await simulate({
      seed: 'mp-rate',
      n: 1,
      client: { wtxidRelay: false },
      script: (_, p) => serveTxs(p, batch, log, () => clockNow()),
    })
    clockNow = () => sim.clock.now()
    const monitor = new MempoolMonitor({ source: new PeerList(sim.clients), clock: sim.clock, maxTxPerSecond: 5, maxInFlightPerPeer: 3 }).start()
    const seen: MempoolTx[] = []
    monitor.on('tx', (t) => seen.push(t))
    const t0 = sim.clock.now()
    sim.remotes[0]!.peer.send({ command: 'inv', items: batch.map((t) => ({ type: InvType.MSG_TX, hash: txid(t) })) })
    let maxInFlight = 0
    const sample = (): void => {
      maxInFlight = Math.max(maxInFlight, monitor.inFlightTo(sim.clients[0]!))
      if (seen.length < 20) sim.clock.setTimer(1, sample)
    }
    sample()
    await sim.run(10_000)
    expect(seen).toHaveLength(20)
    expect(maxInFlight).toBe(3)
    // A bucket of 5, refilled at 5 per second: the k-th request (k >= 5) no earlier than (k - 4) x 200 ms after the first.
    const times = log.map((l) => l.at)
    for (let k = 5; k < times.length; k++) expect(times[k]! - times[0]!).toBeGreaterThanOrEqual((k - 4) * 200 - 1)
    // ... and not much later either: 20 requests in about 3.2 s.
    expect(times[19]! - t0).toBeLessThan(3_500)
    monitor.stop()
  })

  it('iterates with for await until the signal aborts', async () => {
    const batch = txs('mp-iter', 6, false)
    const sim = await simulate({
      seed: 'mp-iter',
      n: 1,
      client: { wtxidRelay: false },
      script: (_, p) => serveTxs(p, batch, [], () => 0),
    })
    const monitor = new MempoolMonitor({ source: new PeerList(sim.clients), clock: sim.clock }).start()
    const ac = new AbortController()
    const got: string[] = []
    const loop = (async () => {
      for await (const t of monitor.stream({ signal: ac.signal })) {
        got.push(toHex(t.txid))
        if (got.length === 3) ac.abort()
      }
      return 'ended'
    })()
    // Three now, three after the loop has ended.
    sim.remotes[0]!.peer.send({ command: 'inv', items: batch.slice(0, 3).map((t) => ({ type: InvType.MSG_TX, hash: txid(t) })) })
    await sim.run(1_000)
    expect(await loop).toBe('ended')
    let events = 0
    monitor.on('tx', () => events++)
    sim.remotes[0]!.peer.send({ command: 'inv', items: batch.slice(3).map((t) => ({ type: InvType.MSG_TX, hash: txid(t) })) })
    await sim.run(1_000)
    expect(events).toBe(3)
    expect(got).toEqual(batch.slice(0, 3).map((t) => toHex(txid(t))))
    monitor.stop()
  })

  it("bounds the seen set (LRU) and each peer's announcements, not the others'", async () => {
    const batch = txs('mp-lru', 8, false)
    const sim = await simulate({ seed: 'mp-lru', n: 2, client: { wtxidRelay: false }, script: (_, p) => serveTxs(p, batch, [], () => 0) })
    const monitor = new MempoolMonitor({ source: new PeerList(sim.clients), clock: sim.clock, seenCapacity: 4, maxAnnouncementsPerPeer: 6 }).start()
    const dropped: { peer: string; dropped: number; total: number }[] = []
    monitor.on('dropped', (d) => dropped.push(d))
    const seen: string[] = []
    monitor.on('tx', (t) => seen.push(toHex(t.txid)))
    sim.remotes[0]!.peer.send({ command: 'inv', items: batch.map((t) => ({ type: InvType.MSG_TX, hash: txid(t) })) })
    await sim.run(1_000)
    // 6 taken (peer 0's cap), 2 dropped and counted; each seen tx leaves 2 keys (txid, and wtxid = txid here: 2 distinct keys), at most 4 kept.
    expect(monitor.ignoredAnnouncements).toBe(2)
    expect(dropped).toEqual([{ peer: sim.remotes[0]!.label, dropped: 2, total: 2 }])
    expect(seen).toEqual(batch.slice(0, 6).map((t) => toHex(txid(t))))
    expect(monitor.seenCount).toBe(4)
    expect(monitor.hasSeen(txid(batch[5]!))).toBe(true)
    expect(monitor.hasSeen(txid(batch[0]!))).toBe(false)
    // Announcing past the budget is volume, not misbehaviour (as in Core): not scored, still connected.
    expect(sim.clients[0]!.misbehaviorScore).toBe(0)
    expect(sim.clients[0]!.state).toBe('ready')
    // Peer 0's cap is its own: peer 1's announcement of the two it dropped is taken.
    sim.remotes[1]!.peer.send({ command: 'inv', items: batch.slice(6).map((t) => ({ type: InvType.MSG_TX, hash: txid(t) })) })
    await sim.run(1_000)
    expect(seen.slice(6)).toEqual(batch.slice(6).map((t) => toHex(txid(t))))
    expect(monitor.ignoredAnnouncements).toBe(2)
    expect(monitor.pending).toBe(0)
    expect(monitor.announcements).toBe(0)
    monitor.stop()
  })
})
