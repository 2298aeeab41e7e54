/**
 * CompactRelay with three high-bandwidth peers on the mock network, in
 * virtual time: each scripted remote pushes its own cmpctblock of one block
 * (its own nonce) when asked for high-bandwidth mode, and answers
 * getblocktxn and getdata as its script says. The relay takes each
 * cmpctblock as an attempt; the first to complete delivers. Seeded; the
 * same seed gives the same trace.
 */
import { describe, expect, it } from 'vitest'
import { InvType, MSG_WITNESS_FLAG, type Block, type Transaction } from '@bitp2p/wire'
import { PeerList, type Peer } from '@bitp2p/session'
import { CompactRelay, type CompactVersion } from '@bitp2p/session/compact'
// The BIP152 fixtures are session's (its machine tests use them); turbo.json lists the file as an input here.
import { makeBlock, makeCmpct, makeTx } from '../../../../../../packages/session/test/core/compact-fixtures.js'
import { simulate, type Sim } from './helpers.js'

const body: Transaction[] = Array.from({ length: 8 }, (_, i) => makeTx(i + 1, true))
const block: Block = makeBlock(body)

/** How remote i behaves. */
interface Behaviour {
  /** Virtual ms after sendcmpct before it pushes its cmpctblock. */
  readonly pushAfter?: number
  /** Virtual ms before it answers a getblocktxn. */
  readonly answerAfter?: number
  /** What it answers a getblocktxn with (default: the asked transactions). */
  readonly blocktxn?: (asked: readonly number[]) => Transaction[]
}

/** What the remotes saw. */
interface Seen {
  getblocktxn: number
  fullBlockRequests: number
}

async function race(
  seed: string,
  behaviours: readonly Behaviour[],
  held: readonly Transaction[],
  setup?: (relay: CompactRelay, sim: Sim) => void,
  /** Virtual ms to run before stop() (default 3 s), and after it. */
  times: { readonly before?: number; readonly after?: number } = {},
) {
  const seen: Seen = { getblocktxn: 0, fullBlockRequests: 0 }
  let sim: Sim | undefined
  let t0 = 0
  const trace: string[] = []
  const at = (): number => sim!.clock.now() - t0
  const later = (ms: number, f: () => void): void => {
    if (ms === 0) f()
    else sim!.clock.setTimer(ms, f)
  }
  const script = (i: number, peer: Peer): void => {
    const b = behaviours[i]!
    peer.on('sendcmpct', (m) => {
      if (!m.announce) return
      later(b.pushAfter ?? 0, () => peer.send(makeCmpct(block, Number(m.version) as CompactVersion, { nonce: BigInt(0x1000 + i) })))
    })
    peer.on('getblocktxn', (m) => {
      seen.getblocktxn++
      trace.push(`${at()} r${i} got getblocktxn ${m.indexes.join(',')}`)
      const txs = b.blocktxn ? b.blocktxn(m.indexes) : m.indexes.map((x) => block.txs[x]!)
      later(b.answerAfter ?? 0, () => {
        if (peer.state === 'ready') peer.send({ command: 'blocktxn', blockHash: m.blockHash, txs })
      })
    })
    peer.on('getdata', (m) => {
      for (const it of m.items) {
        if (((it.type & ~MSG_WITNESS_FLAG) >>> 0) !== InvType.MSG_BLOCK) continue
        seen.fullBlockRequests++
        trace.push(`${at()} r${i} got getdata block`)
        peer.send({ command: 'block', block })
      }
    })
  }
  sim = await simulate({ seed, n: behaviours.length, script })
  const relay = new CompactRelay({ source: new PeerList(sim.clients), clock: sim.clock, highBandwidth: true })
  for (const tx of held) relay.addTx(tx)
  setup?.(relay, sim)
  const labels = new Map(sim.remotes.map((r, i) => [r.label, `r${i}`]))
  const name = (label: string): string => labels.get(label) ?? label
  t0 = sim.clock.now()
  relay.on('block', (e) => trace.push(`${at()} block ${name(e.peer)} ${e.how} attempts=${e.stats.attempts} fromExtra=${e.stats.fromExtra}`))
  relay.on('attempt-failed', (f) => trace.push(`${at()} attempt-failed ${name(f.peer)} ${f.reason}`))
  relay.on('fallback', (f) => trace.push(`${at()} fallback ${name(f.peer)} ${f.reason}`))
  relay.on('failed', (f) => trace.push(`${at()} failed ${name(f.peer)} ${f.reason}`))
  relay.on('offense', (o) => trace.push(`${at()} offense ${name(o.peer)} ${o.offense.kind}`))
  relay.start()
  await sim.run(times.before ?? 3_000)
  relay.stop()
  if (times.after !== undefined) await sim.run(times.after)
  /** The relay's events only, without their times. */
  const events = trace.filter((l) => !/ r\d got /.test(l)).map((l) => l.replace(/^\d+ /, ''))
  return { trace, events, seen, scores: sim.clients.map((c) => c.misbehaviorScore), states: sim.clients.map((c) => c.state) }
}

/** We lack body[4] (block index 5) when the first cmpctblocks come. */
const held = body.filter((_, i) => i !== 4)

describe('CompactRelay: one block from three high-bandwidth peers (mock network)', () => {
  it('the third peer’s cmpctblock completes the block from the mempool while two getblocktxns wait; their late answers are ignored, nobody is scored', async () => {
    const slow: Behaviour = { answerAfter: 1_000 }
    const { events, seen, scores } = await race('cmpct-par-1', [slow, slow, { pushAfter: 200 }], held, (relay, sim) => {
      // The missing transaction reaches the mempool view after the first two cmpctblocks.
      sim.clock.setTimer(100, () => relay.addTx(body[4]!))
    })
    expect(seen.getblocktxn).toBe(2)
    expect(events).toEqual(['block r2 mempool attempts=3 fromExtra=0'])
    expect(seen.fullBlockRequests).toBe(0)
    expect(scores).toEqual([0, 0, 0])
  })

  it('a wrong blocktxn from one peer ends its attempt alone, unscored; another peer’s blocktxn delivers', async () => {
    const wrong: Behaviour = { blocktxn: (asked) => asked.map((i) => makeTx(100 + i, true)) }
    const { events, seen, scores, states } = await race('cmpct-par-2', [wrong, { answerAfter: 300 }], held)
    expect(events).toEqual(['attempt-failed r0 blocktxn-mismatch', 'block r1 blocktxn attempts=2 fromExtra=0'])
    expect(seen.fullBlockRequests).toBe(0)
    expect(scores).toEqual([0, 0])
    expect(states).toEqual(['ready', 'ready'])
  })

  it('every peer’s blocktxn is wrong: the full block is asked for exactly once', async () => {
    const wrong = (n: number): Behaviour => ({ answerAfter: 100 * n, blocktxn: (asked) => asked.map((i) => makeTx(100 * n + i, true)) })
    const { events, seen, scores } = await race('cmpct-par-3', [wrong(1), wrong(2), wrong(3)], held)
    expect(events).toEqual([
      'attempt-failed r0 blocktxn-mismatch',
      'attempt-failed r1 blocktxn-mismatch',
      'fallback r0 blocktxn-mismatch',
      'block r0 full attempts=3 fromExtra=0',
    ])
    expect(seen.fullBlockRequests).toBe(1)
    expect(scores).toEqual([0, 0, 0])
  })

  it('stop() with a block in flight sends nothing more: no fallback to a peer about to be detached, one failed event', async () => {
    // r1's attempt failed (r1 would be asked for the full block); r0's getblocktxn is still unanswered at stop().
    const wrong: Behaviour = { blocktxn: (asked) => asked.map((i) => makeTx(300 + i, true)) }
    const { events, seen } = await race('cmpct-par-6', [{ answerAfter: 5_000 }, wrong], held, undefined, { before: 1_000, after: 1_000 })
    expect(events).toEqual(['attempt-failed r1 blocktxn-mismatch', 'failed r1 peer-gone'])
    expect(seen.fullBlockRequests).toBe(0)
  })

  it('addExtraTransaction: a transaction held only as extra completes the block with no getblocktxn', async () => {
    const { events, seen } = await race('cmpct-par-4', [{}], held, (relay) => {
      relay.addExtraTransaction(body[4]!)
      expect(relay.extraSize).toBe(1)
    })
    expect(events).toEqual(['block r0 mempool attempts=1 fromExtra=1'])
    expect(seen.getblocktxn).toBe(0)
  })

  it('same seed, same trace (virtual times included)', async () => {
    const behaviours: Behaviour[] = [{ answerAfter: 400, blocktxn: (asked) => asked.map((i) => makeTx(200 + i, true)) }, { pushAfter: 50, answerAfter: 900 }, { pushAfter: 90, answerAfter: 500 }]
    const a = await race('cmpct-par-5', behaviours, held)
    const b = await race('cmpct-par-5', behaviours, held)
    expect(a.events).toEqual(['attempt-failed r0 blocktxn-mismatch', 'block r2 blocktxn attempts=3 fromExtra=0'])
    expect(b.trace).toEqual(a.trace)
  })
})
