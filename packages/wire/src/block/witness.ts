/**
 * BIP141 witness commitment.
 *
 * A block with witness data commits to it in its coinbase: an output whose
 * scriptPubKey starts with
 *   0x6a OP_RETURN | 0x24 push 36 | aa21a9ed (tag) | 32-byte commitment
 * where commitment = sha256d(witness merkle root || witness reserved value).
 * The witness merkle root is the merkle root of all wtxids with the
 * coinbase's taken as 32 zero bytes, and the reserved value is the
 * coinbase input's witness stack, which must be exactly one 32-byte item.
 * When several outputs match, the last one counts (Core's
 * GetWitnessCommitmentIndex).
 */
import { bytesEqual, hashToHex } from '../bytes/hex.js'
import { WireError } from '../errors.js'
import { sha256dPair } from '../hash/sha256.js'
import type { Transaction } from '../tx/types.js'
import { MERKLE_HASH_BYTES, MerkleBuilder } from './merkle.js'

/** OP_RETURN, push 36, then the 4-byte commitment tag aa21a9ed (frozen: shared by every call). */
export const WITNESS_COMMITMENT_HEADER: readonly number[] = Object.freeze([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed])
/** Shortest commitment script: the 6-byte header and the 32-byte commitment (Core's MINIMUM_WITNESS_COMMITMENT). */
export const MIN_WITNESS_COMMITMENT_SCRIPT_BYTES = 38
/** Size of the coinbase's witness reserved value. */
export const WITNESS_RESERVED_VALUE_BYTES = 32

/**
 * Index of the coinbase output holding the witness commitment: the last
 * output whose script is at least 38 bytes and starts with 6a24aa21a9ed.
 * -1 when there is none.
 */
export function witnessCommitmentIndex(coinbase: Transaction): number {
  const outs = coinbase.outputs
  for (let i = outs.length - 1; i >= 0; i--) {
    const s = outs[i]!.scriptPubKey
    if (s.length < MIN_WITNESS_COMMITMENT_SCRIPT_BYTES) continue
    let match = true
    for (let j = 0; j < WITNESS_COMMITMENT_HEADER.length; j++) {
      if (s[j] !== WITNESS_COMMITMENT_HEADER[j]) {
        match = false
        break
      }
    }
    if (match) return i
  }
  return -1
}

/** The 32-byte commitment in the coinbase (a view of its script), or undefined when absent. */
export function findWitnessCommitment(coinbase: Transaction): Uint8Array | undefined {
  const i = witnessCommitmentIndex(coinbase)
  if (i < 0) return undefined
  const h = WITNESS_COMMITMENT_HEADER.length
  return coinbase.outputs[i]!.scriptPubKey.subarray(h, h + MERKLE_HASH_BYTES)
}

/**
 * Merkle root of the block's wtxids in block order. The first entry (the
 * coinbase's) is ignored and taken as 32 zero bytes, as BIP141 defines.
 */
export function witnessMerkleRoot(wtxids: readonly Uint8Array[]): Uint8Array {
  const b = new MerkleBuilder()
  if (wtxids.length === 0) return b.root()
  b.add(new Uint8Array(MERKLE_HASH_BYTES))
  for (let i = 1; i < wtxids.length; i++) b.add(wtxids[i]!)
  return b.root()
}

/** sha256d(witnessRoot || reservedValue): what the coinbase must commit to. */
export function witnessCommitment(witnessRoot: Uint8Array, reservedValue: Uint8Array): Uint8Array {
  return sha256dPair(witnessRoot, reservedValue)
}

/**
 * Check the coinbase's witness commitment against the block's witness merkle
 * root. Throws WireError BAD_WITNESS_COMMITMENT when the commitment output
 * is missing, the coinbase witness is not exactly one 32-byte item, or the
 * commitment differs (detail.expected = what the coinbase commits to,
 * detail.actual = what the transactions give, both hex).
 */
export function checkWitnessCommitment(coinbase: Transaction, witnessRoot: Uint8Array): void {
  const committed = findWitnessCommitment(coinbase)
  if (committed === undefined) {
    throw new WireError('BAD_WITNESS_COMMITMENT', 'block has witness data but its coinbase has no witness commitment', {
      field: 'witness commitment',
    })
  }
  const stack = coinbase.inputs[0]?.witness ?? []
  if (stack.length !== 1 || stack[0]!.length !== WITNESS_RESERVED_VALUE_BYTES) {
    throw new WireError('BAD_WITNESS_COMMITMENT', 'coinbase witness must be exactly one 32-byte reserved value', {
      field: 'witness reserved value',
      expected: WITNESS_RESERVED_VALUE_BYTES,
      actual: stack.length === 1 ? stack[0]!.length : `${stack.length} items`,
    })
  }
  const actual = witnessCommitment(witnessRoot, stack[0]!)
  if (!bytesEqual(committed, actual)) {
    throw new WireError('BAD_WITNESS_COMMITMENT', 'witness commitment does not match the transactions', {
      field: 'witness commitment',
      expected: hashToHex(committed),
      actual: hashToHex(actual),
    })
  }
}
