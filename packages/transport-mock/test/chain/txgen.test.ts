import { describe, expect, it } from 'vitest'
import { SeededRandom } from '@bitp2p/session'
import { hasWitness, hashToHex, parseTx, serializeTx, txid, txSize, type Transaction } from '@bitp2p/wire'
import { buildCoinbase } from '../../src/chain/miner.js'
import { isP2pkh, isP2wpkh, OP_RETURN } from '../../src/chain/script.js'
import { MIN_BIG_TX_BYTES, TxFactory, type SyntheticUtxo } from '../../src/chain/txgen.js'

const key = (txidBytes: Uint8Array, index: number) => `${hashToHex(txidBytes)}:${index}`

describe('TxFactory.next', () => {
  it('produces transactions that round-trip and spend only earlier outputs or funding outpoints, once each', () => {
    const factory = new TxFactory(new SeededRandom('graph'))
    const created = new Map<string, { value: bigint; script: Uint8Array }>()
    const spent = new Set<string>()
    let funding = 0
    const txs = factory.batch(300)
    for (const tx of txs) {
      const raw = serializeTx(tx)
      expect(serializeTx(parseTx(raw))).toEqual(raw)
      expect(txSize(tx)).toBe(raw.length)
      let inValue = 0n
      let known = true
      for (const input of tx.inputs) {
        const k = key(input.prevout.txid, input.prevout.index)
        expect(spent.has(k)).toBe(false)
        spent.add(k)
        const prev = created.get(k)
        if (prev === undefined) {
          funding++
          known = false
          continue
        }
        inValue += prev.value
        // The spend matches the template of the output it spends.
        if (isP2wpkh(prev.script)) {
          expect(input.scriptSig.length).toBe(0)
          expect(input.witness.map((w) => w.length)).toEqual([72, 33])
        } else {
          expect(isP2pkh(prev.script)).toBe(true)
          expect(input.scriptSig.length).toBe(107)
          expect(input.witness.length).toBe(0)
        }
      }
      const outValue = tx.outputs.reduce((s, o) => s + o.value, 0n)
      if (known) {
        expect(outValue).toBeLessThanOrEqual(inValue)
        expect(inValue - outValue).toBeLessThan(10_000n) // a small fee, not a leak
      }
      const id = txid(tx)
      tx.outputs.forEach((o, i) => created.set(key(id, i), { value: o.value, script: o.scriptPubKey }))
    }
    // Funding outpoints only when the pool ran dry (the first transaction at least).
    expect(funding).toBeGreaterThanOrEqual(1)
    expect(funding).toBeLessThan(30)
    // Every unspent created output is still in the pool, and nothing else.
    const unspent = [...created.keys()].filter((k) => !spent.has(k)).sort()
    expect(factory.utxos.map((u: SyntheticUtxo) => key(u.outpoint.txid, u.outpoint.index)).sort()).toEqual(unspent)
  })

  it('varies input and output counts, templates and forms', () => {
    const txs = new TxFactory(new SeededRandom(1)).batch(200)
    expect(new Set(txs.map((t) => t.inputs.length))).toEqual(new Set([1, 2, 3]))
    expect(new Set(txs.map((t) => t.outputs.length))).toEqual(new Set([1, 2, 3]))
    const outputs = txs.flatMap((t) => t.outputs.map((o) => o.scriptPubKey))
    expect(outputs.every((s) => isP2wpkh(s) || isP2pkh(s))).toBe(true)
    expect(outputs.some(isP2pkh)).toBe(true)
    expect(txs.some(hasWitness)).toBe(true)
    expect(txs.some((t) => !hasWitness(t))).toBe(true)
    // Mixed: witness and legacy inputs in one transaction.
    expect(txs.some((t) => t.inputs.some((i) => i.witness.length > 0) && t.inputs.some((i) => i.witness.length === 0))).toBe(true)
  })

  it('is deterministic per seed', () => {
    const bytes = (seed: number) => new TxFactory(new SeededRandom(seed)).batch(20).map((t) => hashToHex(txid(t)))
    expect(bytes(42)).toEqual(bytes(42))
    expect(bytes(43).some((h, i) => h === bytes(42)[i])).toBe(false)
  })

  it('spends funded coinbase outputs, not their commitment outputs', () => {
    const factory = new TxFactory(new SeededRandom(2), { maxInputs: 1 })
    const cb = buildCoinbase({ height: 101, value: 5_000_000_000n, payoutKeyHash: new Uint8Array(20).fill(1), witnessCommitment: new Uint8Array(32) })
    expect(factory.fund(cb)).toBe(1)
    const tx = factory.next()
    expect(tx.inputs[0]!.prevout).toEqual({ txid: txid(cb), index: 0 })
    expect(tx.inputs[0]!.witness.length).toBe(2)
  })

  it('checks its options', () => {
    const r = new SeededRandom(1)
    expect(() => new TxFactory(r, { segwitShare: 1.5 })).toThrow(RangeError)
    expect(() => new TxFactory(r, { maxInputs: 0 })).toThrow(RangeError)
    expect(() => new TxFactory(r, { maxOutputs: 2.5 })).toThrow(RangeError)
  })
})

describe('TxFactory.bigTx', () => {
  const sizes = [MIN_BIG_TX_BYTES, 300, 1_000, 65_530, 65_545, 400_000, 3_999_000]

  it('builds transactions of exactly the asked size, with the bulk where asked', () => {
    const factory = new TxFactory(new SeededRandom(3))
    for (const bytes of sizes) {
      const ret = factory.bigTx(bytes, 'op-return')
      const raw = serializeTx(ret)
      expect(raw.length).toBe(bytes)
      const parsed = parseTx(raw)
      const bulk = parsed.outputs[parsed.outputs.length - 1]!.scriptPubKey
      expect(bulk[0]).toBe(OP_RETURN)
      expect(bulk.length).toBeGreaterThan(bytes - 400)

      const wit = factory.bigTx(bytes, 'witness')
      expect(serializeTx(wit).length).toBe(bytes)
      const stack = parseTx(serializeTx(wit)).inputs[0]!.witness
      expect(stack.map((w) => w.length)).toEqual([64, stack[1]!.length, 33])
      expect(stack[1]!.length).toBeGreaterThan(bytes - 400)
      expect(stack[2]![0]! & 0xfe).toBe(0xc0)
    }
  })

  it('hits every size across the CompactSize boundaries', () => {
    const factory = new TxFactory(new SeededRandom(4))
    const check = (tx: Transaction, bytes: number) => expect(txSize(tx)).toBe(bytes)
    for (const bytes of [...Array.from({ length: 300 }, (_, i) => MIN_BIG_TX_BYTES + i), ...Array.from({ length: 20 }, (_, i) => 65_530 + i)]) {
      check(factory.bigTx(bytes, 'op-return'), bytes)
      check(factory.bigTx(bytes, 'witness'), bytes)
    }
  })

  it('refuses sizes below the smallest such transaction, leaving the pool as it was', () => {
    const factory = new TxFactory(new SeededRandom(5))
    factory.batch(3)
    const before = factory.utxos.length
    expect(() => factory.bigTx(60, 'op-return')).toThrow(RangeError)
    expect(() => factory.bigTx(0)).toThrow(RangeError)
    expect(factory.utxos.length).toBe(before)
  })
})
