import { describe, expect, it } from 'vitest'
import { hashToHex, toHex, txid, type Block, type Transaction } from '@bitp2p/wire'
import { WatchWallet, type WalletSnapshot } from '../../src/core/wallet.js'

const OURS = new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(0xaa)])
const ALSO_OURS = new Uint8Array([0x76, 0xa9, 0x14, ...new Uint8Array(20).fill(0xbb), 0x88, 0xac])
const THEIRS = new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(0xcc)])

let nonce = 0
/** A transaction spending `prevouts` to `outputs` (value, script). */
function tx(prevouts: { txid: Uint8Array; index: number }[], outputs: [bigint, Uint8Array][]): Transaction {
  nonce++
  return {
    version: 2,
    inputs: (prevouts.length > 0 ? prevouts : [{ txid: new Uint8Array(32), index: 0xffffffff }]).map((p) => ({
      prevout: p,
      scriptSig: new Uint8Array([nonce & 0xff, nonce >>> 8]),
      sequence: 0xffffffff,
      witness: [],
    })),
    outputs: outputs.map(([value, scriptPubKey]) => ({ value, scriptPubKey })),
    locktime: 0,
  }
}

function block(txs: Transaction[]): Block {
  return { header: { version: 1, prevBlock: new Uint8Array(32), merkleRoot: new Uint8Array(32), time: 0, bits: 0, nonce: nonce++ }, txs }
}

const hashOf = (i: number) => new Uint8Array(32).fill(i)

describe('WatchWallet', () => {
  it('finds outputs paying watched scripts and inputs spending coins found earlier, in the same block too', () => {
    const w = new WatchWallet()
    expect(w.add(OURS, 0)).toBe(0)
    expect(w.add(ALSO_OURS, 5)).toBe(5)
    const cb = tx([], [[5000n, THEIRS]])
    const pay = tx([{ txid: txid(cb), index: 0 }], [[1000n, THEIRS], [3000n, OURS]])
    const found1 = w.applyBlock(10, hashOf(10), block([cb, pay]))
    expect(found1.map((t) => hashToHex(t.txid))).toEqual([hashToHex(txid(pay))])
    expect(found1[0]).toMatchObject({ height: 10, position: 1, inputs: [] })
    expect(found1[0]!.outputs).toEqual([{ index: 1, value: 3000n, script: OURS }])
    expect(w.balance).toBe(3000n)

    // Spend it and pay the change to the other watched script, then spend that in the same block.
    const spend = tx([{ txid: txid(pay), index: 1 }], [[2000n, THEIRS], [900n, ALSO_OURS]])
    const spend2 = tx([{ txid: txid(spend), index: 1 }], [[800n, THEIRS]])
    const found2 = w.applyBlock(11, hashOf(11), block([tx([], [[1n, THEIRS]]), spend, spend2]))
    expect(found2.map((t) => t.position)).toEqual([1, 2])
    expect(found2[0]!.inputs).toEqual([{ index: 0, prevout: { txid: txid(pay), index: 1 }, value: 3000n, script: OURS }])
    expect(found2[0]!.outputs.map((o) => o.value)).toEqual([900n])
    expect(found2[1]!.inputs.map((i) => i.value)).toEqual([900n])
    expect(w.balance).toBe(0n)
    expect(w.coins().map((c) => [c.value, c.spentHeight])).toEqual([
      [3000n, 11],
      [900n, 11],
    ])
  })

  it('applying a block twice reports nothing twice and keeps the balance', () => {
    const w = new WatchWallet()
    w.add(OURS, 0)
    const pay = tx([{ txid: hashOf(1), index: 0 }], [[7n, OURS]])
    const b = block([tx([], [[1n, THEIRS]]), pay])
    expect(w.applyBlock(3, hashOf(3), b)).toHaveLength(1)
    expect(w.applyBlock(3, hashOf(3), b)).toHaveLength(0)
    expect(w.balance).toBe(7n)
    expect(w.transactions()).toHaveLength(1)
  })

  it('disconnect takes out the txs, coins and spends at and above a height (a reorg), and they can be found again', () => {
    const w = new WatchWallet()
    w.add(OURS, 0)
    const pay = tx([{ txid: hashOf(1), index: 0 }], [[50n, OURS]])
    const spend = tx([{ txid: txid(pay), index: 0 }], [[40n, THEIRS]])
    w.applyBlock(5, hashOf(5), block([tx([], [[1n, THEIRS]]), pay]))
    w.applyBlock(8, hashOf(8), block([tx([], [[1n, THEIRS]]), spend]))
    expect(w.balance).toBe(0n)
    const gone = w.disconnect(8)
    expect(gone.map((t) => toHex(t.txid))).toEqual([toHex(txid(spend))])
    expect(w.balance).toBe(50n)
    expect(w.coins()[0]!.spentBy).toBeUndefined()
    // The same spend confirmed again in a replacement block at another height.
    const again = w.applyBlock(9, hashOf(99), block([tx([], [[1n, THEIRS]]), spend]))
    expect(again).toHaveLength(1)
    expect(again[0]!.height).toBe(9)
    expect(w.disconnect(0).map((t) => t.height)).toEqual([5, 9])
    expect(w.coins()).toEqual([])
  })

  it('add: a later birthday changes nothing, an earlier one asks for a rescan from it; bad input is a RangeError', () => {
    const w = new WatchWallet()
    expect(w.add(OURS, 100)).toBe(100)
    expect(w.add(OURS, 200)).toBeUndefined()
    expect(w.add(OURS, 50)).toBe(50)
    expect(w.earliestBirthday).toBe(50)
    expect(w.watches(OURS)).toBe(true)
    expect(w.watches(THEIRS)).toBe(false)
    expect(w.scripts()).toHaveLength(1)
    expect(() => w.add(new Uint8Array(0), 0)).toThrow(RangeError)
    expect(() => w.add(THEIRS, -1)).toThrow(RangeError)
    expect(() => w.add(THEIRS, 1.5)).toThrow(RangeError)
  })

  it('match reports without changing anything (for unconfirmed transactions)', () => {
    const w = new WatchWallet()
    w.add(OURS, 0)
    const pay = tx([{ txid: hashOf(1), index: 0 }], [[50n, OURS]])
    w.applyBlock(5, hashOf(5), block([tx([], [[1n, THEIRS]]), pay]))
    const spend = tx([{ txid: txid(pay), index: 0 }], [[40n, OURS]])
    const m = w.match(spend)
    expect(m.inputs.map((i) => i.value)).toEqual([50n])
    expect(m.outputs.map((o) => o.value)).toEqual([40n])
    expect(w.balance).toBe(50n)
    expect(w.transactions()).toHaveLength(1)
  })

  it('snapshot is JSON and restore gives back the same wallet', () => {
    const w = new WatchWallet()
    w.add(OURS, 3)
    w.add(ALSO_OURS, 0)
    const pay = tx([{ txid: hashOf(1), index: 0 }], [[50n, OURS]])
    const spend = tx([{ txid: txid(pay), index: 0 }], [[40n, ALSO_OURS]])
    w.applyBlock(5, hashOf(5), block([tx([], [[1n, THEIRS]]), pay]))
    w.applyBlock(6, hashOf(6), block([tx([], [[1n, THEIRS]]), spend]))
    const snap = JSON.parse(JSON.stringify(w.snapshot())) as WalletSnapshot
    const r = WatchWallet.restore(snap)
    expect(r.snapshot()).toEqual(w.snapshot())
    expect(r.balance).toBe(40n)
    expect(r.watchedScripts().map((s) => s.birthday)).toEqual([3, 0])
    expect(() => WatchWallet.restore({ ...snap, coins: [{ ...snap.coins[0]!, txid: 'zz' }] })).toThrow(RangeError)
  })
})

describe('WatchWallet.restore checks what a store gives back', () => {
  it('a height that is not a count, or a missing list, is a RangeError', () => {
    const w = new WatchWallet()
    w.add(OURS, 0)
    w.applyBlock(5, hashOf(5), block([tx([], [[1n, THEIRS]]), tx([{ txid: hashOf(1), index: 0 }], [[50n, OURS]])]))
    const snap = JSON.parse(JSON.stringify(w.snapshot())) as WalletSnapshot
    expect(() => WatchWallet.restore({ ...snap, coins: [{ ...snap.coins[0]!, height: '5' as unknown as number }] })).toThrow(/coin height/)
    expect(() => WatchWallet.restore({ ...snap, txs: [{ ...snap.txs[0]!, position: -1 }] })).toThrow(/tx position/)
    expect(() => WatchWallet.restore({ ...snap, txs: undefined as unknown as WalletSnapshot['txs'] })).toThrow(RangeError)
  })
})
