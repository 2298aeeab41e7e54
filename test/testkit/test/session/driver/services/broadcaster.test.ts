import { describe, expect, it } from 'vitest'
import { InvType, toHex, txid, wtxid, type InvItem, type Transaction } from '@bitp2p/wire'
import { Broadcaster, PeerList, SeededRandom } from '@bitp2p/session'
import { TxFactory } from '@bitp2p/transport-mock'
import { simulate } from './helpers.js'

function oneTx(seed: string): Transaction {
  return new TxFactory(new SeededRandom(seed), { segwitShare: 1 }).next()
}

/** What a remote received: inv items with their arrival times, and tx messages. */
interface RemoteLog {
  invs: { at: number; item: InvItem }[]
  txs: string[]
}

describe('Broadcaster', () => {
  it('reports who fetched it and who announced it back', async () => {
    const tx = oneTx('bc-sets')
    const logs: RemoteLog[] = [0, 1, 2].map(() => ({ invs: [], txs: [] }))
    let now = (): number => 0
    const sim = await simulate({
      seed: 'bc-sets',
      n: 3,
      script: (i, p) => {
        p.on('inv', (m) => {
          for (const item of m.items) logs[i]!.invs.push({ at: now(), item })
          // Remote 0 fetches what it is offered.
          if (i === 0) p.send({ command: 'getdata', items: m.items })
        })
        p.on('tx', (m) => logs[i]!.txs.push(toHex(txid(m.tx))))
      },
    })
    now = () => sim.clock.now()
    const b = new Broadcaster({ source: new PeerList(sim.clients), clock: sim.clock })
    const done = b.broadcast(tx, { reannounceMs: 5_000, deadlineMs: 60_000 })
    // Remote 1 never fetches, but announces it 2 s later (it heard of it from elsewhere).
    sim.clock.setTimer(2_000, () => sim.remotes[1]!.peer.send({ command: 'inv', items: [{ type: InvType.MSG_WTX, hash: wtxid(tx) }] }))
    await sim.run(10_000)
    const r = await done

    expect(r.outcome).toBe('propagated')
    expect(toHex(r.txid)).toBe(toHex(txid(tx)))
    expect(r.announcedTo).toEqual(sim.remotes.map((x) => x.label))
    expect(r.fetchedBy).toEqual([sim.remotes[0]!.label])
    expect(r.seenFrom).toEqual([sim.remotes[1]!.label])
    expect(r.rejectedBy).toEqual([])
    // wtxidrelay was negotiated: announced by wtxid; remote 0 got the transaction.
    expect(logs[0]!.invs[0]!.item).toEqual({ type: InvType.MSG_WTX, hash: wtxid(tx) })
    expect(logs[0]!.txs).toEqual([toHex(txid(tx))])
    // Resolved at 2 s, before the first re-announcement (5 s): everyone got exactly one inv.
    expect(logs.map((l) => l.invs.length)).toEqual([1, 1, 1])
  })

  it('re-announces on schedule to peers that did not react, until the deadline', async () => {
    const tx = oneTx('bc-timing')
    const logs: RemoteLog[] = [0, 1].map(() => ({ invs: [], txs: [] }))
    let now = (): number => 0
    const sim = await simulate({
      seed: 'bc-timing',
      n: 2,
      latency: 10,
      // Legacy announcement path: no wtxidrelay on the remotes.
      remoteWtxidRelay: false,
      script: (i, p) => {
        p.on('inv', (m) => {
          for (const item of m.items) logs[i]!.invs.push({ at: now(), item })
          if (i === 0 && logs[0]!.invs.length === 1) p.send({ command: 'getdata', items: m.items })
        })
      },
    })
    now = () => sim.clock.now()
    const b = new Broadcaster({ source: new PeerList(sim.clients), clock: sim.clock })
    const t0 = sim.clock.now()
    const done = b.broadcast(tx, { reannounceMs: 5_000, deadlineMs: 20_000 })
    await sim.run(30_000)
    const r = await done

    // Fetched by one, echoed by none: 'fetched', not a bare 'deadline'.
    expect(r.outcome).toBe('fetched')
    expect(r.fetchedBy).toEqual([sim.remotes[0]!.label])
    expect(r.seenFrom).toEqual([])
    // Remote 0 fetched it after the first inv: never re-announced to.
    expect(logs[0]!.invs.map((x) => x.at - t0)).toEqual([10])
    // Remote 1 is re-announced to every 5 s until the deadline at 20 s (one-way latency 10 ms).
    expect(logs[1]!.invs.map((x) => x.at - t0)).toEqual([10, 5_010, 10_010, 15_010])
    expect(logs[1]!.invs[0]!.item).toEqual({ type: InvType.MSG_TX, hash: txid(tx) })
    expect(r.announcements).toBe(5)
    expect(b.active).toBe(0)
  })

  it('records a legacy reject without waiting for one, and aborts on the signal', async () => {
    const tx = oneTx('bc-reject')
    const sim = await simulate({
      seed: 'bc-reject',
      n: 1,
      script: (_, p) => p.on('inv', () => p.send({ command: 'reject', message: 'tx', ccode: 0x10, reason: 'bad-txns-inputs-missingorspent', data: txid(tx) })),
    })
    const b = new Broadcaster({ source: new PeerList(sim.clients), clock: sim.clock })
    const done = b.broadcast(tx, { deadlineMs: 3_000 })
    await sim.run(5_000)
    const r = await done
    expect(r.outcome).toBe('deadline')
    expect(r.rejectedBy).toEqual([{ peer: sim.remotes[0]!.label, ccode: 0x10, reason: 'bad-txns-inputs-missingorspent' }])

    const ac = new AbortController()
    const aborted = b.broadcast(oneTx('bc-abort'), { signal: ac.signal }).catch((e: unknown) => e)
    sim.clock.setTimer(100, () => ac.abort(new Error('user gave up')))
    await sim.run(200)
    expect(await aborted).toEqual(new Error('user gave up'))
    expect(b.active).toBe(0)
  })
})
