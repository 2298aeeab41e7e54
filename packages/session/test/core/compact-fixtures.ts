/**
 * Blocks and compact blocks for the BIP152 tests: synthetic transactions
 * (with or without witness), a coinbase with the BIP141 commitment when the
 * block has witness data, a header whose merkle root is right, and the
 * cmpctblock a peer would send for it.
 */
import { blockHash, hasWitness, txid, wtxid, type Block, type Transaction } from '@bitp2p/wire'
import { merkleRoot, shortId, shortIdKey, witnessMerkleRoot } from '@bitp2p/wire/hash'
import { witnessCommitment } from '@bitp2p/wire/consensus'
import type { CmpctblockMessage } from '@bitp2p/wire/messages'
import type { CompactCandidate, CompactVersion } from '../../src/core/compact-block.js'

/** Regtest's easiest target: any hash passes about half the time; tests that check PoW grind the nonce. */
export const REGTEST_BITS = 0x207fffff

/** Transaction number n, spending a made-up outpoint; `witness` gives it one witness item (`tag` varies that item only). */
export function makeTx(n: number, witness = false, tag = 0): Transaction {
  const prev = new Uint8Array(32)
  new DataView(prev.buffer).setUint32(0, n, true)
  prev[31] = 0x5a
  return {
    version: 2,
    inputs: [{ prevout: { txid: prev, index: n % 7 }, scriptSig: witness ? new Uint8Array(0) : new Uint8Array([0x51, n & 0xff]), sequence: 0xfffffffe, witness: witness ? [new Uint8Array([0xee, tag, n & 0xff])] : [] }],
    outputs: [{ value: BigInt(1_000 + n), scriptPubKey: new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(n & 0xff)]) }],
    locktime: 0,
  }
}

/** A block of a coinbase and `txs`, its header committing to them (and the witness commitment when any has a witness). */
export function makeBlock(txs: readonly Transaction[], opts: { readonly height?: number; readonly bits?: number } = {}): Block {
  const segwit = txs.some(hasWitness)
  const height = opts.height ?? 1
  const base: Transaction = {
    version: 1,
    inputs: [
      {
        prevout: { txid: new Uint8Array(32), index: 0xffffffff },
        scriptSig: new Uint8Array([0x03, height & 0xff, (height >> 8) & 0xff, 0x00, 0x51]),
        sequence: 0xffffffff,
        witness: segwit ? [new Uint8Array(32)] : [],
      },
    ],
    outputs: [{ value: 5_000_000_000n, scriptPubKey: new Uint8Array([0x51]) }],
    locktime: 0,
  }
  let coinbase = base
  if (segwit) {
    // The coinbase's own wtxid is taken as zero, so the commitment can be computed before it is added.
    const root = witnessMerkleRoot([new Uint8Array(32), ...txs.map((t) => wtxid(t))])
    const commitment = witnessCommitment(root, new Uint8Array(32))
    coinbase = { ...base, outputs: [...base.outputs, { value: 0n, scriptPubKey: new Uint8Array([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed, ...commitment]) }] }
  }
  const all = [coinbase, ...txs]
  const header = { version: 0x20000000, prevBlock: new Uint8Array(32).fill(height & 0xff), merkleRoot: merkleRoot(all.map((t) => txid(t))), time: 1_700_000_000 + height, bits: opts.bits ?? REGTEST_BITS, nonce: 0 }
  return { header, txs: all }
}

/**
 * The cmpctblock of `block`: the transactions at `prefilled` (default: the
 * coinbase) whole, the others as short ids of their txid (version 1) or
 * wtxid (version 2).
 */
export function makeCmpct(block: Block, version: CompactVersion, opts: { readonly nonce?: bigint; readonly prefilled?: readonly number[] } = {}): CmpctblockMessage {
  const nonce = opts.nonce ?? 0x0123456789abcdefn
  const pre = new Set(opts.prefilled ?? [0])
  const key = shortIdKey(block.header, nonce)
  const shortIds: number[] = []
  const prefilledTxs: { index: number; tx: Transaction }[] = []
  block.txs.forEach((tx, i) => {
    if (pre.has(i)) prefilledTxs.push({ index: i, tx })
    else shortIds.push(shortId(key, version === 2 ? wtxid(tx) : txid(tx)))
  })
  return { command: 'cmpctblock', header: block.header, nonce, shortIds, prefilledTxs }
}

/** A candidate as the relay's pool holds it. */
export function candidate(tx: Transaction): CompactCandidate {
  const id = txid(tx)
  return { tx, txid: id, wtxid: hasWitness(tx) ? wtxid(tx) : id }
}

/** The display hash of a block. */
export function hashOf(block: Block): Uint8Array {
  return blockHash(block.header)
}
