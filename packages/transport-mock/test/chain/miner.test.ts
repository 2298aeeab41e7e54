import { describe, expect, it } from 'vitest'
import { SeededRandom } from '@bitp2p/session'
import {
  blockHash,
  bytesEqual,
  mainnet,
  parseBlock,
  regtest,
  serializeBlock,
  verifyBlock,
  WireError,
  type BlockHeader,
  type Transaction,
} from '@bitp2p/wire'
import { checkProofOfWork, coinbaseHeight, findWitnessCommitment, heightFromScriptSig } from '@bitp2p/wire/consensus'
import {
  blockSubsidy,
  buildBlock,
  buildCoinbase,
  commitmentFor,
  DEFAULT_MINER_TAG,
  halvingIntervalOf,
  mineHeader,
  REGTEST_HALVING_INTERVAL,
} from '../../src/chain/miner.js'
import { TxFactory } from '../../src/chain/txgen.js'

const template = (seed: number): Omit<BlockHeader, 'nonce'> => {
  const r = new SeededRandom(seed)
  const bytes = () => Uint8Array.from({ length: 32 }, () => r.int(256))
  return { version: 0x20000000, prevBlock: bytes(), merkleRoot: bytes(), time: 1_700_000_000 + seed, bits: regtest.powLimitBits }
}

describe('mineHeader', () => {
  it('returns the first nonce from the start that meets the bits, and its hash', () => {
    for (let seed = 0; seed < 30; seed++) {
      const start = 0xffffffff - (seed % 3) // also crosses the 2^32 wrap
      const { header, hash, tries } = mineHeader({ ...template(seed), nonce: start }, regtest)
      expect(checkProofOfWork(hash, header.bits, regtest).ok).toBe(true)
      expect(bytesEqual(blockHash(header), hash)).toBe(true)
      expect(header.nonce).toBe((start + tries - 1) >>> 0)
      for (let k = 0; k < tries - 1; k++) {
        const earlier = { ...header, nonce: (start + k) >>> 0 }
        expect(checkProofOfWork(blockHash(earlier), earlier.bits, regtest).ok).toBe(false)
      }
    }
  })

  it('takes about two tries on regtest bits (half of all hashes qualify)', () => {
    const random = new SeededRandom('tries')
    let total = 0
    const n = 400
    for (let i = 0; i < n; i++) total += mineHeader(template(i), regtest, random).tries
    expect(total / n).toBeGreaterThan(1.6)
    expect(total / n).toBeLessThan(2.4)
  })

  it('draws the starting nonce from random when the template has none', () => {
    const a = mineHeader(template(1), regtest, new SeededRandom(11))
    const b = mineHeader(template(1), regtest, new SeededRandom(11))
    const c = mineHeader(template(1), regtest)
    expect(a.header.nonce).toBe(b.header.nonce)
    expect(c.header.nonce).toBe(c.tries - 1)
  })

  it('fails fast on bits it cannot meet', () => {
    // Mainnet difficulty: not found in a few tries.
    expect(() => mineHeader({ ...template(2), bits: mainnet.powLimitBits }, mainnet, undefined, 50)).toThrow(/no nonce met bits 0x1d00ffff in 50 tries/)
    // Easier than the network allows.
    expect(() => mineHeader({ ...template(2), bits: 0x2100ffff }, regtest)).toThrow(/TARGET_ABOVE_POW_LIMIT/)
    expect(() => mineHeader({ ...template(2), bits: 0x20800001 }, regtest)).toThrow(/NEGATIVE_TARGET/)
    expect(() => mineHeader({ ...template(2), bits: 0x20000000 }, regtest)).toThrow(/ZERO_TARGET/)
  })
})

describe('blockSubsidy', () => {
  it('halves every interval and reaches zero', () => {
    expect(halvingIntervalOf(regtest)).toBe(REGTEST_HALVING_INTERVAL)
    expect(halvingIntervalOf(mainnet)).toBe(210_000)
    expect(blockSubsidy(149, 150)).toBe(5_000_000_000n)
    expect(blockSubsidy(150, 150)).toBe(2_500_000_000n)
    expect(blockSubsidy(840_000)).toBe(312_500_000n)
    expect(blockSubsidy(33 * 210_000)).toBe(0n)
    expect(blockSubsidy(64 * 150, 150)).toBe(0n)
  })
})

describe('buildCoinbase', () => {
  const keyHash = new Uint8Array(20).fill(3)

  it('starts with the BIP34 height and keeps the scriptSig within 2..100 bytes', () => {
    for (const height of [1, 2, 16, 17, 500, 1_000_000]) {
      for (const minerTag of [undefined, '', 'x', 'a'.repeat(90)]) {
        const cb = buildCoinbase({ height, value: 1n, payoutKeyHash: keyHash, minerTag })
        expect(heightFromScriptSig(cb.inputs[0]!.scriptSig)).toBe(height)
        const len = cb.inputs[0]!.scriptSig.length
        expect(len).toBeGreaterThanOrEqual(2)
        expect(len).toBeLessThanOrEqual(100)
        expect(cb.inputs[0]!.prevout.index).toBe(0xffffffff)
        expect(cb.inputs[0]!.prevout.txid.every((b) => b === 0)).toBe(true)
      }
    }
    const tagged = buildCoinbase({ height: 300, value: 1n, payoutKeyHash: keyHash })
    expect(new TextDecoder().decode(tagged.inputs[0]!.scriptSig)).toContain(DEFAULT_MINER_TAG)
    expect(() => buildCoinbase({ height: 300, value: 1n, payoutKeyHash: keyHash, minerTag: 'a'.repeat(97) })).toThrow(RangeError)
  })

  it('adds the commitment output and the zero reserved value only when asked', () => {
    const plain = buildCoinbase({ height: 5, value: 1n, payoutKeyHash: keyHash })
    expect(plain.outputs.length).toBe(1)
    expect(plain.inputs[0]!.witness.length).toBe(0)
    expect(findWitnessCommitment(plain)).toBeUndefined()
    const c = new Uint8Array(32).fill(9)
    const sw = buildCoinbase({ height: 5, value: 1n, payoutKeyHash: keyHash, witnessCommitment: c })
    expect(sw.outputs.length).toBe(2)
    expect(findWitnessCommitment(sw)).toEqual(c)
    expect(sw.inputs[0]!.witness).toEqual([new Uint8Array(32)])
  })
})

describe('buildBlock', () => {
  const params = regtest

  function build(txs: readonly Transaction[], seed = 1) {
    return buildBlock(
      {
        prevBlock: params.genesisHash,
        height: 1,
        time: params.genesis.time + 600,
        bits: params.powLimitBits,
        txs,
        coinbaseValue: blockSubsidy(1, 150),
        payoutKeyHash: new Uint8Array(20).fill(seed),
      },
      params,
      new SeededRandom(seed),
    )
  }

  it('gives blocks that parse and verify, with a commitment exactly when a tx has a witness', () => {
    const factory = new TxFactory(new SeededRandom(2))
    const txs = factory.batch(40)
    expect(txs.some((t) => t.inputs.some((i) => i.witness.length > 0))).toBe(true)
    const legacyOnly = new TxFactory(new SeededRandom(3), { segwitShare: 0 }).batch(10).slice(1)
    expect(commitmentFor(legacyOnly)).toBeUndefined()
    for (const list of [[], txs, legacyOnly]) {
      const { block, hash } = build(list)
      const raw = serializeBlock(block)
      const parsed = parseBlock(raw)
      expect(() => verifyBlock(parsed)).not.toThrow()
      expect(parsed.txs.length).toBe(list.length + 1)
      expect(coinbaseHeight(parsed, regtest)).toBe(1)
      expect(bytesEqual(blockHash(parsed.header), hash)).toBe(true)
      expect(checkProofOfWork(hash, parsed.header.bits, params).ok).toBe(true)
      expect(findWitnessCommitment(parsed.txs[0]!) !== undefined).toBe(list === txs)
    }
  })

  it('commits to the witnesses: changing one breaks verifyBlock', () => {
    const txs = new TxFactory(new SeededRandom(4), { segwitShare: 1 }).batch(5)
    const { block } = build(txs)
    const i = block.txs.findIndex((t, k) => k > 0 && t.inputs[0]!.witness.length > 0)
    const victim = block.txs[i]!
    const tampered = { ...victim, inputs: [{ ...victim.inputs[0]!, witness: [new Uint8Array(72), victim.inputs[0]!.witness[1]!] }, ...victim.inputs.slice(1)] }
    const bad = { ...block, txs: block.txs.map((t, k) => (k === i ? tampered : t)) }
    // The txid (and so the merkle root) does not cover the witness; the commitment does.
    expect(() => verifyBlock(bad)).toThrow(WireError)
    try {
      verifyBlock(bad)
    } catch (e) {
      expect((e as WireError).code).toBe('BAD_WITNESS_COMMITMENT')
    }
  })
})
