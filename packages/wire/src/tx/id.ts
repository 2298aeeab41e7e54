/**
 * Transaction identifiers and sizes.
 *
 * txid   sha256d of the legacy serialization (no marker, flag or witness)
 * wtxid  sha256d of the BIP144 serialization; equals the txid when the
 *        transaction has no witness (BIP141)
 * weight base size x 3 + total size (BIP141); vsize = ceil(weight / 4)
 *
 * txidFromRaw / wtxidFromRaw hash a transaction straight from the bytes it
 * was decoded from, given its TxLayout: the txid preimage of a segwit
 * transaction is fed to the hasher as three ranges of those bytes
 * (version, inputs and outputs, locktime), so nothing is re-serialized,
 * and short ones nothing is copied either (sha256dRange3).
 */
import { sha256d, sha256dRange, sha256dRange3 } from '../hash/sha256.js'
import { serializeTx, txBaseLength, txHasWitness, txWitnessLength, type TxLayout } from './codec.js'
import type { Transaction } from './types.js'

/** The 4 bytes of version, and of locktime, at the ends of every form. */
const VERSION_BYTES = 4
const LOCKTIME_BYTES = 4
/** Marker + flag bytes after the version in the BIP144 form. */
const SEGWIT_HEADER_BYTES = 2
/** BIP141: weight units per base (non-witness) byte beyond the first. */
export const WITNESS_SCALE_FACTOR = 4

/** Whether any input carries a non-empty witness stack (Core's HasWitness). */
export function hasWitness(tx: Transaction): boolean {
  return txHasWitness(tx)
}

/** The txid, internal byte order (reverse it, e.g. with hashToHex, for display). */
export function txid(tx: Transaction): Uint8Array {
  return sha256d(serializeTx(tx, { witness: false }))
}

/** The wtxid, internal byte order. Equals txid(tx) when the transaction has no witness. */
export function wtxid(tx: Transaction): Uint8Array {
  return sha256d(serializeTx(tx, { witness: true }))
}

/** Total serialized size in bytes (BIP144 form when it has a witness). */
export function txSize(tx: Transaction): number {
  return txBaseLength(tx) + txWitnessLength(tx)
}

/** Size of the legacy serialization (what the txid hashes). */
export function txBaseSize(tx: Transaction): number {
  return txBaseLength(tx)
}

/** BIP141 weight: base size x 3 + total size. */
export function txWeight(tx: Transaction): number {
  const base = txBaseLength(tx)
  return base * (WITNESS_SCALE_FACTOR - 1) + base + txWitnessLength(tx)
}

/** Virtual size: weight / 4 rounded up. */
export function txVsize(tx: Transaction): number {
  return Math.ceil(txWeight(tx) / WITNESS_SCALE_FACTOR)
}

/**
 * txid of the transaction at `layout` in `raw`, without re-serializing it.
 *
 * @throws RangeError when the layout's ranges are not inside `raw`.
 */
export function txidFromRaw(raw: Uint8Array, layout: TxLayout): Uint8Array {
  const { start, end } = layout
  if (!layout.segwit) return sha256dRange(raw, start, end)
  return sha256dRange3(raw, start, start + VERSION_BYTES, start + VERSION_BYTES + SEGWIT_HEADER_BYTES, layout.witnessStart, end - LOCKTIME_BYTES, end)
}

/**
 * wtxid of the transaction at `layout` in `raw` (the whole serialization hashed).
 *
 * @throws RangeError when the layout's range is not inside `raw`.
 */
export function wtxidFromRaw(raw: Uint8Array, layout: TxLayout): Uint8Array {
  return sha256dRange(raw, layout.start, layout.end)
}

/** Size of the legacy form of the transaction at `layout` (witness data removed). */
export function baseSizeFromLayout(layout: TxLayout): number {
  const total = layout.end - layout.start
  return layout.segwit ? total - SEGWIT_HEADER_BYTES - (layout.witnessEnd - layout.witnessStart) : total
}
