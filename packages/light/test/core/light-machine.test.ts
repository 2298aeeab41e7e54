import { describe, expect, it } from 'vitest'
import { hashToHex, txid, type Transaction } from '@bitp2p/wire'
import { LightMachine, LightStateError } from '../../src/core/light-machine.js'
import { chainOf, MachineHarness } from '../machine-harness.js'
import { FilterServer, p2wpkh, World } from '../world.js'

const A = p2wpkh(1)
const B = p2wpkh(2)
const C = p2wpkh(3)
const OTHER = p2wpkh(99)

/**
 * 2,201 blocks (so two getcfheaders batches, three filter batches and two
 * checkpoints), with: A paid at 300; that coin spent to B at 1,200; A and
 * B paid in one tx at 2,100; C paid at 700; unrelated payments throughout.
 */
function scenario(seed: number) {
  const w = new World(seed)
  const txs = new Map<number, Transaction[]>()
  w.mine(10)
  const payA = w.pay([A, OTHER])
  const payC = w.pay([C])
  let spendToB: Transaction | undefined
  const payAB = w.pay([A, B])
  const plan = (h: number): Transaction[] => {
    const out: Transaction[] = []
    if (h === 300) out.push(payA)
    if (h === 700) out.push(payC)
    if (h === 1200) out.push((spendToB = w.spend({ txid: txid(payA), index: 0 }, B)))
    if (h === 2100) out.push(payAB)
    if (h % 97 === 0) out.push(w.pay([p2wpkh(1000 + h)]))
    txs.set(h, out)
    return out
  }
  w.mine(2190, plan)
  const expected = [`${hashToHex(txid(payA))}@300`, `${hashToHex(txid(spendToB!))}@1200`, `${hashToHex(txid(payAB))}@2100`]
  return { w, txs, payA, payC, payAB, spendToB: spendToB!, expected }
}

const base = scenario(7)

describe('LightMachine: sync and scan', () => {
  it('syncs filter headers in batches of 2,000 against checkpoints, scans in batches of 1,000, and finds every payment and spend', () => {
    const { w, expected } = base
    const h = new MachineHarness(w)
    h.machine.addScripts(h.now, [A, B], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    h.addPeer(2, { server: new FilterServer(w) })
    h.run()
    expect(h.found()).toEqual(expected)
    const tip = w.chain.tip.height
    expect(h.machine.filterHeaders.height).toBe(tip)
    expect(h.machine.scanHeight).toBe(tip)
    expect(h.machine.synced).toBe(true)
    expect(h.events.filter((e) => e.type === 'synced')).toHaveLength(1)
    expect(h.punished).toEqual([])
    // Headers: 2 sync batches of at most 2,000, checkpoints from both peers, one tip check for the second peer.
    const cfh = h.sent.filter((s) => s.message.command === 'getcfheaders')
    expect(cfh.length).toBe(3)
    expect(h.sent.filter((s) => s.message.command === 'getcfcheckpt').map((s) => s.peer)).toEqual([1, 2])
    const filters = h.sent.filter((s) => s.message.command === 'getcfilters')
    expect(filters.length).toBe(3)
    for (const f of filters) {
      if (f.message.command !== 'getcfilters') continue
      const stop = w.chain.height(f.message.stopHash)!
      expect(stop - f.message.startHeight + 1).toBeLessThanOrEqual(1000)
    }
    // Only the matching blocks were fetched (false positives are about 1 in 784,931 per script and block).
    expect(h.blocksFetched).toEqual([300, 1200, 2100])
    // Values: the spend at 1,200 spent A's 10,000 and paid B 5,000.
    const spend = h.events.find((e) => e.type === 'tx' && e.tx.height === 1200)
    expect(spend?.type === 'tx' && spend.tx.inputs.map((i) => i.value)).toEqual([10_000n])
    expect(spend?.type === 'tx' && spend.tx.outputs.map((o) => o.value)).toEqual([5_000n])
    expect(h.machine.wallet.balance).toBe(5_000n + 20_000n)
  })

  it('with nothing watched, headers sync and the scan follows at once; a script added later is rescanned from its birthday', () => {
    const { w, payC } = base
    const h = new MachineHarness(w)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    expect(h.machine.synced).toBe(true)
    expect(h.sent.filter((s) => s.message.command === 'getcfilters')).toEqual([])
    h.machine.addScripts(h.now, [C], 600)
    h.run()
    expect(h.found()).toEqual([`${hashToHex(txid(payC))}@700`])
    // Scanned from 600 only: the first batch starts there.
    const first = h.sent.find((s) => s.message.command === 'getcfilters')!.message
    expect(first.command === 'getcfilters' && first.startHeight).toBe(600)
    expect(h.machine.synced).toBe(true)
  })

  it('a later birthday than the payment misses it; adding the script again with an earlier one rescans and finds it', () => {
    const { w, payC } = base
    const h = new MachineHarness(w)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.machine.addScripts(h.now, [C], 800)
    h.addPeer(1, { server: new FilterServer(w) })
    expect(h.found()).toEqual([])
    h.machine.addScripts(h.now, [C], 0)
    h.run()
    expect(h.found()).toEqual([`${hashToHex(txid(payC))}@700`])
  })
})

describe('LightMachine: hostile peers', () => {
  for (const order of ['liar first', 'honest first'] as const) {
    it(`a peer serving a filter that misses an output script is caught by the block and punished (${order})`, () => {
      const { w, expected } = base
      const bad = w.chain.atHeight(300)!
      const liar = { server: new FilterServer(w, w.missingScript(bad, A)) }
      const honest = { server: new FilterServer(w) }
      const h = new MachineHarness(w)
      h.machine.addScripts(h.now, [A, B], 0)
      h.machine.chainUpdated(h.now, chainOf(w))
      if (order === 'liar first') {
        h.addPeer(1, liar)
        // Alone, the liar's filter hides the payment at 300; the spend at 1,200 is seen only by its output to B.
        expect(h.found()).toEqual([expected[1], expected[2]])
        expect(h.machine.wallet.transactions()[0]!.inputs).toEqual([])
        h.addPeer(2, honest)
      } else {
        h.addPeer(2, honest)
        h.addPeer(1, liar)
      }
      h.run()
      expect(h.punished.map((p) => p.peer)).toEqual([1])
      expect(h.punished[0]!.offense).toMatchObject({ kind: 'invalid-filter', height: 300, hash: hashToHex(bad.hash) })
      expect(h.punished[0]!.offense.detail).toMatch(/missing from the filter/)
      // Every transaction is found; the wallet holds each once, the spend at 1,200 now with its input.
      expect([...new Set(h.found())].sort()).toEqual([...expected].sort())
      expect(h.machine.wallet.transactions().map((t) => `${hashToHex(t.txid)}@${t.height}`)).toEqual(expected)
      expect(h.machine.wallet.transactions()[1]!.inputs.map((i) => i.value)).toEqual([10_000n])
      const resolved = h.events.find((e) => e.type === 'dispute-resolved')
      expect(resolved).toMatchObject({ wrong: [1], undecided: false, rolledBackTo: order === 'liar first' ? 299 : undefined })
      expect(h.machine.synced).toBe(true)
    })
  }

  it('a peer serving wrong filter headers is punished: its filter does not match its own header', () => {
    const { w, expected } = base
    const h = new MachineHarness(w)
    h.machine.addScripts(h.now, [A, B], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w, w.wrongHeaders(w.chain.atHeight(1500)!)) })
    h.addPeer(2, { server: new FilterServer(w) })
    h.run()
    expect(h.punished.map((p) => p.peer)).toEqual([1])
    // It served our headers, then a filter that does not match them: punished at its first filter past 1,500.
    expect(h.punished[0]!.offense).toMatchObject({ height: 1500 })
    expect(h.punished[0]!.offense.detail).toMatch(/does not match the filter header it agreed to/)
    expect(h.found()).toEqual(expected)
    expect(h.machine.filterHeaders.height).toBe(w.chain.tip.height)
    expect(h.machine.synced).toBe(true)
  })

  it('a second peer serving wrong filter headers is disputed and punished: its filter does not match its own cfheaders', () => {
    const { w, expected } = base
    const h = new MachineHarness(w)
    h.machine.addScripts(h.now, [A, B], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    h.addPeer(2, { server: new FilterServer(w, w.wrongHeaders(w.chain.atHeight(1500)!)) })
    h.run()
    expect(h.events.find((e) => e.type === 'dispute')).toMatchObject({ peer: 2 })
    expect(h.punished.map((p) => p.peer)).toEqual([2])
    expect(h.punished[0]!.offense).toMatchObject({ height: 1500 })
    expect(h.punished[0]!.offense.detail).toMatch(/does not match its own cfheaders/)
    expect(h.events.find((e) => e.type === 'dispute-resolved')).toMatchObject({ wrong: [2], rolledBackTo: undefined })
    expect(h.found()).toEqual(expected)
  })

  it('filters that differ only in a spent script: the block cannot tell, nobody is punished, the block is scanned whole and the peer is not asked again', () => {
    const { w, expected } = scenario(41)
    const h = new MachineHarness(w)
    h.machine.addScripts(h.now, [A, B], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    // Block 1,200 spends A's coin: its filter without A still holds every output script.
    h.addPeer(2, { server: new FilterServer(w, w.missingScript(w.chain.atHeight(1200)!, A)) })
    h.run()
    expect(h.punished).toEqual([])
    expect(h.events.find((e) => e.type === 'dispute-resolved')).toMatchObject({ peer: 2, height: 1200, wrong: [], undecided: true })
    expect(h.machine.state().forced).toEqual([1200])
    expect(h.machine.wallet.transactions().map((t) => `${hashToHex(t.txid)}@${t.height}`)).toEqual(expected)
    const resolvedAt = h.sent.length
    // A new block: peer 2 is no longer asked for anything.
    w.mine(1)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.run()
    expect(h.sent.slice(resolvedAt).filter((x) => x.peer === 2)).toEqual([])
    expect(h.machine.synced).toBe(true)
  })

  it('a peer whose cfheaders contradict its own cfcheckpt is punished at once', () => {
    const { w } = base
    const wrong = new FilterServer(w, w.wrongHeaders(w.chain.atHeight(500)!))
    const honest = new FilterServer(w)
    // Checkpoints from the honest view, headers from the wrong one.
    const mixed = { reply: (m: Parameters<FilterServer['reply']>[0]) => (m.command === 'getcfcheckpt' ? honest.reply(m) : wrong.reply(m)) } as FilterServer
    const h = new MachineHarness(w)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: mixed })
    expect(h.punished.map((p) => p.peer)).toEqual([1])
    expect(h.punished[0]!.offense.detail).toMatch(/other than its cfcheckpt/)
    expect(h.machine.filterHeaders.height).toBe(-1)
  })

  it('a peer that never answers getcfilters is reported stalled after the deadline and its batches go to another peer', () => {
    const { w, expected } = base
    const h = new MachineHarness(w, { requestTimeoutMs: 5_000 })
    h.machine.addScripts(h.now, [A, B], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w), ignores: new Set(['getcfilters']) })
    h.addPeer(2, { server: new FilterServer(w) })
    h.run()
    expect(h.stalled).toEqual([])
    h.elapse(4_999)
    expect(h.stalled).toEqual([])
    h.elapse(1)
    expect(h.stalled).toEqual([1])
    expect(h.found()).toEqual(expected)
    expect(h.machine.synced).toBe(true)
    expect(h.punished).toEqual([])
  })

  it('a batch that gives up (one attempt allowed, its peer stalled) is asked again in order, and the other batches are not left hanging', () => {
    const { w, expected } = base
    const h = new MachineHarness(w, { requestTimeoutMs: 5_000, maxAttempts: 1, filtersPerRequest: 100 })
    h.machine.addScripts(h.now, [A, B], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w), ignores: new Set(['getcfilters']) })
    // Its replies take a while: it holds batches when the other one stalls.
    h.addPeer(2, { server: new FilterServer(w), delayMs: 1_000 })
    h.elapse(120_000)
    expect(h.stalled).toEqual([1])
    expect(h.found()).toEqual(expected)
    expect(h.machine.synced).toBe(true)
  })

  it('with nothing watched, a restart keeps the filter headers (the state is saved with them)', () => {
    const { w } = base
    const h = new MachineHarness(w)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    expect(h.machine.synced).toBe(true)
    const before = h.sent.length
    h.restart()
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    expect(h.machine.filterHeaders.height).toBe(w.chain.tip.height)
    expect(h.sent.slice(before).filter((x) => x.message.command === 'getcfheaders').length).toBeLessThanOrEqual(1)
  })

  it('a peer that never sends checkpoints (btcd before it thinks itself synced) is not dropped for it', () => {
    const { w, expected } = base
    const h = new MachineHarness(w, { requestTimeoutMs: 5_000 })
    h.machine.addScripts(h.now, [A, B], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w), ignores: new Set(['getcfcheckpt']) })
    h.elapse(60_000)
    expect(h.stalled).toEqual([])
    expect(h.found()).toEqual(expected)
    expect(h.machine.nextDeadline()).toBeUndefined()
  })

  it('a single peer that never answers leaves the scan waiting, not failed; a new peer finishes it', () => {
    const { w, expected } = base
    const h = new MachineHarness(w, { requestTimeoutMs: 5_000 })
    h.machine.addScripts(h.now, [A, B], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w), ignores: new Set(['getcfilters']) })
    h.elapse(60_000)
    expect(h.stalled).toEqual([1])
    expect(h.machine.synced).toBe(false)
    h.addPeer(2, { server: new FilterServer(w) })
    expect(h.found()).toEqual(expected)
  })
})

describe('LightMachine: reorgs and restarts', () => {
  it('a reorg below a found transaction reports it unconfirmed, rolls filter headers back and finds the replacement chain’s transactions', () => {
    const w = new World(11)
    w.mine(5)
    const p1 = w.pay([A])
    const p2 = w.pay([A])
    w.mine(20, (h) => (h === 22 ? [p1] : []))
    const h = new MachineHarness(w)
    h.machine.addScripts(h.now, [A], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    expect(h.found()).toEqual([`${hashToHex(txid(p1))}@22`])
    // A longer branch from 20: p1 again at 23, and p2 at 24.
    let tip = w.chain.atHeight(20)!
    for (let i = 21; i <= 27; i++) tip = w.mineOn(tip, i === 23 ? [p1] : i === 24 ? [p2] : [])
    expect(w.chain.tip).toBe(tip)
    h.machine.reorg(h.now, 20, chainOf(w))
    h.run()
    const reorg = h.events.find((e) => e.type === 'reorg')
    expect(reorg?.type === 'reorg' && reorg.fork.height).toBe(20)
    expect(reorg?.type === 'reorg' && reorg.unconfirmed.map((t) => `${hashToHex(t.txid)}@${t.height}`)).toEqual([`${hashToHex(txid(p1))}@22`])
    expect(h.found().slice(1)).toEqual([`${hashToHex(txid(p1))}@23`, `${hashToHex(txid(p2))}@24`])
    expect(h.machine.filterHeaders.height).toBe(27)
    expect(h.machine.wallet.transactions().map((t) => t.height)).toEqual([23, 24])
  })

  it('a reorg in the middle of a dispute ends it; the disagreeing peer is checked again and still punished', () => {
    const { w, expected } = scenario(31)
    const h = new MachineHarness(w)
    h.machine.addScripts(h.now, [A, B], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    const liar = new FilterServer(w, w.missingScript(w.chain.atHeight(300)!, A))
    h.addPeer(2, { server: liar, delayMs: 1_000 })
    h.elapse(1_000)
    expect(h.events.some((e) => e.type === 'dispute')).toBe(true)
    expect(h.punished).toEqual([])
    // Two blocks on the tip's parent: a reorg of one block while the dispute waits for the liar.
    const top = w.chain.tip.height
    w.mineOn(w.mineOn(w.chain.atHeight(top - 1)!))
    h.machine.reorg(h.now, top - 1, chainOf(w))
    h.run()
    h.elapse(60_000)
    expect(h.punished.map((p) => p.peer)).toEqual([2])
    expect(h.machine.wallet.transactions().map((t) => `${hashToHex(t.txid)}@${t.height}`)).toEqual(expected)
    expect(h.machine.filterHeaders.height).toBe(top + 1)
    expect(h.machine.synced).toBe(true)
  })

  it('restarts from its store without asking for filter headers or filters again, then follows new blocks', () => {
    const { w, expected } = scenario(21)
    const h = new MachineHarness(w)
    h.machine.addScripts(h.now, [A, B], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    expect(h.found()).toEqual(expected)
    const sentBefore = h.sent.length
    h.restart()
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    const asked = h.sent.slice(sentBefore).map((s) => s.message.command)
    // Only the cross-checks: checkpoints and one tip header.
    expect(asked.filter((c) => c === 'getcfilters')).toEqual([])
    expect(asked.filter((c) => c === 'getcfheaders').length).toBeLessThanOrEqual(1)
    expect(h.machine.wallet.transactions().map((t) => `${hashToHex(t.txid)}@${t.height}`)).toEqual(expected)
    expect(h.machine.scanHeight).toBe(w.chain.tip.height)
    // A new block paying B.
    const pay = w.pay([B])
    w.mine(1, () => [pay])
    h.machine.chainUpdated(h.now, chainOf(w))
    h.run()
    expect(h.found().at(-1)).toBe(`${hashToHex(txid(pay))}@${w.chain.tip.height}`)
  })

  it('a restart after a reorg that happened while it was off rolls back to the fork', () => {
    const w = new World(12)
    w.mine(5)
    const p1 = w.pay([A])
    w.mine(20, (h) => (h === 22 ? [p1] : []))
    const h = new MachineHarness(w)
    h.machine.addScripts(h.now, [A], 0)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    h.restart()
    let tip = w.chain.atHeight(21)!
    for (let i = 22; i <= 30; i++) tip = w.mineOn(tip)
    h.machine.chainUpdated(h.now, chainOf(w))
    h.addPeer(1, { server: new FilterServer(w) })
    const reorg = h.events.filter((e) => e.type === 'reorg')
    expect(reorg.length).toBe(1)
    expect(reorg[0]!.type === 'reorg' && reorg[0]!.fork.height).toBe(21)
    expect(h.machine.wallet.transactions()).toEqual([])
    expect(h.machine.filterHeaders.height).toBe(30)
  })

  it('refuses a saved state of another network or a malformed one, with a typed error', () => {
    const w = new World(13)
    const h = new MachineHarness(w)
    h.machine.addScripts(0, [A], 0)
    const state = JSON.parse(JSON.stringify(h.machine.state()))
    const other = new Uint8Array(32).fill(1)
    expect(() => new LightMachine({ genesisHash: other }, { headers: new Uint8Array(0), state })).toThrow(LightStateError)
    try {
      new LightMachine({ genesisHash: other }, { headers: new Uint8Array(0), state })
    } catch (e) {
      expect((e as LightStateError).code).toBe('wrong-network')
    }
    const g = w.chain.genesis.hash
    for (const bad of [{ ...state, version: 9 }, { ...state, scanHeight: 'x' }, { ...state, recent: ['zz'] }, { ...state, forced: [-3] }]) {
      expect(() => new LightMachine({ genesisHash: g }, { headers: new Uint8Array(0), state: bad })).toThrow(/malformed/)
    }
    expect(new LightMachine({ genesisHash: g }, { headers: new Uint8Array(0), state }).wallet.watches(A)).toBe(true)
  })
})
