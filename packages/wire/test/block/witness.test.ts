import { describe, expect, it } from 'vitest'
import { hashToHex, toHex } from '../../src/bytes/hex.js'
import { blockWtxids, parseBlock } from '../../src/block/block.js'
import { merkleRoot } from '../../src/block/merkle.js'
import {
  checkWitnessCommitment,
  findWitnessCommitment,
  witnessCommitmentIndex,
  witnessMerkleRoot,
} from '../../src/block/witness.js'
import type { Transaction, TxOutput } from '../../src/tx/types.js'
import { BLOCKS_PRESENT, readBlock, SKIP_MESSAGE } from './blocks-data.js'
import { wireErrorOf, nodeSha256d } from '../util.js'

const filled = (n: number, v: number) => new Uint8Array(n).fill(v)
const commitmentScript = (c: Uint8Array, extra = 0) => Uint8Array.from([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed, ...c, ...filled(extra, 0x99)])
const out = (script: Uint8Array): TxOutput => ({ value: 0n, scriptPubKey: script })
const coinbaseWith = (outputs: TxOutput[], witness: Uint8Array[]): Transaction => ({
  version: 2,
  inputs: [{ prevout: { txid: new Uint8Array(32), index: 0xffffffff }, scriptSig: Uint8Array.of(3, 1, 2, 3), sequence: 0xffffffff, witness }],
  outputs,
  locktime: 0,
})

describe('BIP141 witness commitment', () => {
  const wtxids = [filled(32, 0xee), filled(32, 1), filled(32, 2)]
  const root = witnessMerkleRoot(wtxids)
  const reserved = filled(32, 0)
  const good = nodeSha256d(root, reserved)

  it('the witness merkle root takes the coinbase wtxid as 32 zero bytes', () => {
    expect(toHex(root)).toBe(toHex(merkleRoot([new Uint8Array(32), wtxids[1]!, wtxids[2]!])))
  })

  it('accepts the right commitment, in the last matching output', () => {
    const decoy = commitmentScript(filled(32, 0x77))
    const cb = coinbaseWith([out(Uint8Array.of(0x51)), out(decoy), out(commitmentScript(good, 4))], [reserved])
    expect(witnessCommitmentIndex(cb)).toBe(2)
    expect(toHex(findWitnessCommitment(cb)!)).toBe(toHex(good))
    expect(() => checkWitnessCommitment(cb, root)).not.toThrow()
    // The last match wins: the right commitment first and a decoy after fails.
    const swapped = coinbaseWith([out(commitmentScript(good)), out(decoy)], [reserved])
    expect(wireErrorOf(() => checkWitnessCommitment(swapped, root)).code).toBe('BAD_WITNESS_COMMITMENT')
  })

  it('a script shorter than 38 bytes is not a commitment', () => {
    const short = coinbaseWith([out(commitmentScript(good).subarray(0, 37))], [reserved])
    expect(witnessCommitmentIndex(short)).toBe(-1)
    const e = wireErrorOf(() => checkWitnessCommitment(short, root))
    expect([e.code, e.detail.field]).toEqual(['BAD_WITNESS_COMMITMENT', 'witness commitment'])
  })

  it('a wrong root gives expected (committed) and actual (computed) hex', () => {
    const cb = coinbaseWith([out(commitmentScript(good))], [reserved])
    const other = witnessMerkleRoot([wtxids[0]!, wtxids[2]!, wtxids[1]!])
    const e = wireErrorOf(() => checkWitnessCommitment(cb, other))
    expect(e.code).toBe('BAD_WITNESS_COMMITMENT')
    expect(e.detail.expected).toBe(hashToHex(good))
    expect(e.detail.actual).toBe(hashToHex(nodeSha256d(other, reserved)))
  })

  it('the reserved value must be exactly one 32-byte witness item', () => {
    for (const witness of [[], [filled(31, 0)], [reserved, reserved]]) {
      const cb = coinbaseWith([out(commitmentScript(good))], witness)
      const e = wireErrorOf(() => checkWitnessCommitment(cb, root))
      expect([e.code, e.detail.field]).toEqual(['BAD_WITNESS_COMMITMENT', 'witness reserved value'])
    }
  })

  for (const file of ['block482683.raw', 'block702861.raw']) {
    it.skipIf(!BLOCKS_PRESENT)(`${file}: the coinbase commits to the block's wtxids (${BLOCKS_PRESENT ? 'data present' : SKIP_MESSAGE})`, () => {
      const block = parseBlock(readBlock(file))
      const cb = block.txs[0]!
      const wroot = witnessMerkleRoot(blockWtxids(block))
      expect(witnessCommitmentIndex(cb)).toBeGreaterThanOrEqual(0)
      expect(() => checkWitnessCommitment(cb, wroot)).not.toThrow()
      // Independent recomputation of the commitment with node:crypto.
      expect(toHex(findWitnessCommitment(cb)!)).toBe(toHex(nodeSha256d(wroot, cb.inputs[0]!.witness[0]!)))
    })
  }
})
