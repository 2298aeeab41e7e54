/**
 * Transaction data types (BIP144 segwit aware).
 *
 * Byte fields decoded from a larger buffer (a block or tx payload) may be
 * views into that buffer (no copy) for speed; copy them (`.slice()`) if you
 * keep a small part of a large buffer alive for long.
 */
export interface OutPoint {
  /** Txid of the spent transaction, internal byte order (32 bytes). */
  readonly txid: Uint8Array
  readonly index: number
}

export interface TxInput {
  readonly prevout: OutPoint
  readonly scriptSig: Uint8Array
  readonly sequence: number
  /** Witness stack items; empty for non-witness inputs. */
  readonly witness: readonly Uint8Array[]
}

export interface TxOutput {
  /** Amount in satoshis. */
  readonly value: bigint
  readonly scriptPubKey: Uint8Array
}

export interface Transaction {
  /** Signed 32-bit version. */
  readonly version: number
  readonly inputs: readonly TxInput[]
  readonly outputs: readonly TxOutput[]
  readonly locktime: number
}
