/**
 * Transaction data types (BIP144 segwit aware).
 *
 * Byte fields decoded from a larger buffer (a block or tx payload) may be
 * views into that buffer (no copy) for speed; copy them (`.slice()`) if you
 * keep a small part of a large buffer alive for long.
 */

/** A reference to one output of an earlier transaction: what an input spends. */
export interface OutPoint {
  /** Txid of the spent transaction, internal byte order (32 bytes). */
  readonly txid: Uint8Array
  /** Index of the spent output in that transaction's outputs (u32). */
  readonly index: number
}

/** A transaction input: the output it spends and the data that unlocks it. */
export interface TxInput {
  readonly prevout: OutPoint
  readonly scriptSig: Uint8Array
  /** u32 nSequence; 0xffffffff is final (BIP68 and BIP125 give lower values meaning). */
  readonly sequence: number
  /** Witness stack items; empty for non-witness inputs. */
  readonly witness: readonly Uint8Array[]
}

/** A transaction output: an amount and the script that locks it. */
export interface TxOutput {
  /** Amount in satoshis. */
  readonly value: bigint
  readonly scriptPubKey: Uint8Array
}

/**
 * A transaction as on the wire. encodeTx uses the BIP144 (segwit) form when
 * any input has witness items, the legacy form otherwise.
 */
export interface Transaction {
  /** Signed 32-bit version. */
  readonly version: number
  readonly inputs: readonly TxInput[]
  readonly outputs: readonly TxOutput[]
  /** u32 nLockTime: 0 for none, a block height below 500,000,000, a Unix time in seconds above. */
  readonly locktime: number
}
