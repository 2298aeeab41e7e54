/**
 * Transaction serialization, legacy and BIP144 (segwit).
 *
 * legacy   i32 version | CompactSize nIn | nIn x input | CompactSize nOut
 *          | nOut x output | u32 locktime
 * segwit   i32 version | 0x00 marker | 0x01 flag | inputs | outputs
 *          | nIn x witness stack | u32 locktime
 * input    32-byte prevout txid | u32 prevout index | CompactSize len
 *          | scriptSig | u32 sequence
 * output   i64 value | CompactSize len | scriptPubKey
 * witness  CompactSize nItems | nItems x (CompactSize len | item)
 *
 * A 0x00 where the input count would be is read as the segwit marker, as
 * Core does when witness serialization is allowed. The flag must then be
 * 0x01 (INVALID_VALUE otherwise, Core's "Unknown transaction optional
 * data"), and at least one input must carry a non-empty witness stack
 * (INVALID_VALUE otherwise, Core's "Superfluous witness record"), so every
 * transaction has exactly one serialization of each form.
 *
 * Decoded byte fields (prevout txids, scripts, witness items) are views
 * into the input buffer, not copies: decoding a block costs no copying.
 */
import { ByteReader } from '../bytes/reader.js'
import { ByteWriter, compactSizeLength } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import { MAX_BLOCK_SERIALIZED_SIZE } from '../messages/context.js'
import type { Transaction, TxInput, TxOutput } from './types.js'

/** Smallest input: 36-byte outpoint, 1-byte empty script length, 4-byte sequence. */
export const MIN_TX_INPUT_BYTES = 41
/** Smallest output: 8-byte value, 1-byte empty script length. */
export const MIN_TX_OUTPUT_BYTES = 9
/** Smallest witness item: its 1-byte length (an empty item). */
export const MIN_WITNESS_ITEM_BYTES = 1
/** The BIP144 marker byte, where a legacy transaction has its input count. */
export const SEGWIT_MARKER = 0x00
/** The only BIP144 flag value defined. */
export const SEGWIT_FLAG = 0x01

/**
 * Per-transaction decoding limits. Each is what a transaction filling a
 * whole block can reach, so no valid transaction is ever refused; together
 * with ByteReader.count's bytes-left check they bound every allocation by
 * the bytes actually present.
 */
export interface TxLimits {
  readonly maxInputs: number
  readonly maxOutputs: number
  /**
   * Largest scriptSig / scriptPubKey. Consensus script limits
   * (MAX_SCRIPT_SIZE = 10,000 and friends) are checked when a script is
   * executed, not when it is parsed: an unspendable output with a larger
   * script is valid in a block, so the parser's bound is the payload size.
   */
  readonly maxScriptBytes: number
  readonly maxWitnessItems: number
  readonly maxWitnessItemBytes: number
}

/** Limits for transactions inside a payload of at most `maxPayloadBytes` (a block, or a tx message). */
export function txLimits(maxPayloadBytes: number): TxLimits {
  return Object.freeze({
    maxInputs: Math.floor(maxPayloadBytes / MIN_TX_INPUT_BYTES),
    maxOutputs: Math.floor(maxPayloadBytes / MIN_TX_OUTPUT_BYTES),
    maxScriptBytes: maxPayloadBytes,
    maxWitnessItems: Math.floor(maxPayloadBytes / MIN_WITNESS_ITEM_BYTES),
    maxWitnessItemBytes: maxPayloadBytes,
  })
}

/** Most inputs a transaction in a 4,000,000-byte block can have (4,000,000 / 41). */
export const MAX_TX_INPUTS = Math.floor(MAX_BLOCK_SERIALIZED_SIZE / MIN_TX_INPUT_BYTES)
/** Most outputs a transaction in a 4,000,000-byte block can have (4,000,000 / 9). */
export const MAX_TX_OUTPUTS = Math.floor(MAX_BLOCK_SERIALIZED_SIZE / MIN_TX_OUTPUT_BYTES)
/** Largest script the decoder accepts: the block payload size (see TxLimits.maxScriptBytes for why). */
export const MAX_SCRIPT_SIZE = MAX_BLOCK_SERIALIZED_SIZE
/** Most items in one witness stack (each takes at least its 1-byte length). */
export const MAX_WITNESS_ITEMS = Math.floor(MAX_BLOCK_SERIALIZED_SIZE / MIN_WITNESS_ITEM_BYTES)
/** Largest witness item: the block payload size. */
export const MAX_WITNESS_ITEM_SIZE = MAX_BLOCK_SERIALIZED_SIZE

/** Limits for Bitcoin (4,000,000-byte blocks): the MAX_* constants above. */
export const DEFAULT_TX_LIMITS: TxLimits = txLimits(MAX_BLOCK_SERIALIZED_SIZE)

/**
 * Where the parts of one serialized transaction lie in a buffer, so its
 * txid and wtxid can be hashed from the bytes without re-serializing.
 * All offsets index the same buffer. For a legacy transaction
 * witnessStart = witnessEnd = end - 4 (the locktime).
 */
export interface TxLayout {
  /** First byte (the version). */
  readonly start: number
  /** One past the last byte (after the locktime). */
  readonly end: number
  /** True when serialized with the BIP144 marker and flag. */
  readonly segwit: boolean
  /** First byte of the witness stacks (right after the outputs). */
  readonly witnessStart: number
  /** One past the witness stacks (where the locktime starts). */
  readonly witnessEnd: number
}

/** Options for encodeTx / serializeTx. */
export interface EncodeTxOptions {
  /**
   * Use the BIP144 form when the transaction has any witness (default true).
   * false gives the legacy form, the txid preimage.
   */
  readonly witness?: boolean
}

/**
 * Read one transaction (either form). Byte fields are views into r.bytes.
 * Throws WireError: TRUNCATED, OVERSIZE (a count above `limits`),
 * NON_CANONICAL (CompactSize), INVALID_VALUE (flag or empty witness).
 */
export function decodeTx(r: ByteReader, limits: TxLimits = DEFAULT_TX_LIMITS): Transaction {
  return readTx(r, limits, null)
}

/**
 * decodeTx that also reports where the parts of the transaction lie in
 * r.bytes (for txidFromRaw / wtxidFromRaw).
 */
export function decodeTxWithLayout(r: ByteReader, limits: TxLimits = DEFAULT_TX_LIMITS): { tx: Transaction; layout: TxLayout } {
  const out: TxLayout[] = []
  const tx = readTx(r, limits, out)
  return { tx, layout: out[0]! }
}

/**
 * The decoder behind decodeTx and decodeBlock. When `layouts` is given the
 * transaction's layout is appended to it.
 */
export function readTx(r: ByteReader, limits: TxLimits, layouts: TxLayout[] | null): Transaction {
  const start = r.offset
  const version = r.i32le()
  let segwit = false
  r.need(1, 'tx input count')
  if (r.bytes[r.offset] === SEGWIT_MARKER) {
    r.offset++
    const flagAt = r.offset
    const flag = r.u8()
    if (flag !== SEGWIT_FLAG) {
      throw new WireError('INVALID_VALUE', `tx: segwit flag must be 1, got ${flag}`, {
        field: 'segwit flag',
        offset: flagAt,
        expected: SEGWIT_FLAG,
        actual: flag,
      })
    }
    segwit = true
  }

  const nIn = r.count(limits.maxInputs, 'tx inputs', MIN_TX_INPUT_BYTES)
  // Inputs are built before their witnesses are read; `witness` is filled
  // in afterwards on the same objects (one shape, no second pass of copies).
  const inputs: MutableInput[] = newList(nIn)
  for (let i = 0; i < nIn; i++) {
    const txid = readView(r, 32, 'prevout txid')
    const index = r.u32le()
    const scriptSig = readView(r, r.count(limits.maxScriptBytes, 'scriptSig', 1), 'scriptSig')
    const sequence = r.u32le()
    inputs[i] = { prevout: { txid, index }, scriptSig, sequence, witness: NO_WITNESS }
  }

  const nOut = r.count(limits.maxOutputs, 'tx outputs', MIN_TX_OUTPUT_BYTES)
  const outputs: TxOutput[] = newList(nOut)
  for (let i = 0; i < nOut; i++) {
    const value = readAmount(r)
    const scriptPubKey = readView(r, r.count(limits.maxScriptBytes, 'scriptPubKey', 1), 'scriptPubKey')
    outputs[i] = { value, scriptPubKey }
  }

  const witnessStart = r.offset
  if (segwit) {
    let anyWitness = false
    for (let i = 0; i < nIn; i++) {
      const nItems = r.count(limits.maxWitnessItems, 'witness items', MIN_WITNESS_ITEM_BYTES)
      if (nItems === 0) continue
      const witness: Uint8Array[] = newList(nItems)
      for (let j = 0; j < nItems; j++) {
        witness[j] = readView(r, r.count(limits.maxWitnessItemBytes, 'witness item', 1), 'witness item')
      }
      inputs[i]!.witness = witness
      anyWitness = true
    }
    if (!anyWitness) {
      throw new WireError('INVALID_VALUE', 'tx: segwit marker but every witness stack is empty (superfluous witness record)', {
        field: 'witness',
        offset: witnessStart,
      })
    }
  }
  const witnessEnd = r.offset
  const locktime = r.u32le()
  if (layouts !== null) layouts.push({ start, end: r.offset, segwit, witnessStart, witnessEnd })
  return { version, inputs, outputs, locktime }
}

type MutableInput = { -readonly [K in keyof TxInput]: TxInput[K] }

// Shared by every input without witness; frozen so no caller can push into it.
const NO_WITNESS: readonly Uint8Array[] = Object.freeze([])

/**
 * Lists up to this length are allocated at their final size (no regrowth);
 * longer ones grow as they fill, since V8 stores very large preallocated
 * arrays as slow dictionaries. Counts are already checked against the bytes.
 */
const PREALLOCATE_MAX = 1024

function newList<T>(n: number): T[] {
  return n <= PREALLOCATE_MAX ? new Array<T>(n) : []
}

// Shared by every empty script or witness item (most segwit scriptSigs): nothing in it to modify.
const EMPTY_BYTES = new Uint8Array(0)

/**
 * A view of the next `n` bytes, like ByteReader.view but built with the
 * Uint8Array constructor: about twice as fast as subarray (no species
 * lookup), and always a plain Uint8Array, even over Node Buffer input.
 */
function readView(r: ByteReader, n: number, field: string): Uint8Array {
  r.need(n, field)
  const o = r.offset
  r.offset = o + n
  if (n === 0) return EMPTY_BYTES
  const b = r.bytes
  return new Uint8Array(b.buffer, b.byteOffset + o, n)
}

const TWO_32 = 0x100000000

/** A signed 64-bit amount (Core's CAmount is int64_t), one BigInt per value. */
function readAmount(r: ByteReader): bigint {
  const lo = r.u32le()
  const hi = r.i32le()
  // |hi| < 2^21 keeps hi * 2^32 + lo inside the exact range of a double.
  if (hi < 0x200000 && hi >= -0x200000) return BigInt(hi * TWO_32 + lo)
  return (BigInt(hi) << 32n) | BigInt(lo)
}

/** Whether any input carries a non-empty witness stack (Core's HasWitness). */
export function txHasWitness(tx: Transaction): boolean {
  const ins = tx.inputs
  for (let i = 0; i < ins.length; i++) if (ins[i]!.witness.length !== 0) return true
  return false
}

/**
 * Write one transaction. With `witness` (default true) and any witness
 * present, the BIP144 form; otherwise the legacy form. Throws WireError
 * ENCODE_RANGE on values that do not fit their fields.
 */
export function encodeTx(w: ByteWriter, tx: Transaction, opts: EncodeTxOptions = {}): void {
  const segwit = opts.witness !== false && txHasWitness(tx)
  w.i32le(tx.version)
  if (segwit) w.u8(SEGWIT_MARKER).u8(SEGWIT_FLAG)
  w.compactSize(tx.inputs.length)
  for (const input of tx.inputs) {
    w.hash(input.prevout.txid).u32le(input.prevout.index).varBytes(input.scriptSig).u32le(input.sequence)
  }
  w.compactSize(tx.outputs.length)
  for (const output of tx.outputs) w.i64le(output.value).varBytes(output.scriptPubKey)
  if (segwit) {
    for (const input of tx.inputs) {
      w.compactSize(input.witness.length)
      for (const item of input.witness) w.varBytes(item)
    }
  }
  w.u32le(tx.locktime)
}

/** Serialized size in the legacy form (the txid preimage). */
export function txBaseLength(tx: Transaction): number {
  let n = 4 + compactSizeLength(tx.inputs.length) + compactSizeLength(tx.outputs.length) + 4
  for (const input of tx.inputs) n += 40 + compactSizeLength(input.scriptSig.length) + input.scriptSig.length
  for (const output of tx.outputs) n += 8 + compactSizeLength(output.scriptPubKey.length) + output.scriptPubKey.length
  return n
}

/** Bytes the BIP144 form adds to the legacy form (0 when no witness). */
export function txWitnessLength(tx: Transaction): number {
  if (!txHasWitness(tx)) return 0
  let n = 2 // marker and flag
  for (const input of tx.inputs) {
    n += compactSizeLength(input.witness.length)
    for (const item of input.witness) n += compactSizeLength(item.length) + item.length
  }
  return n
}

/** The serialized bytes of a transaction (see encodeTx for `opts`). */
export function serializeTx(tx: Transaction, opts: EncodeTxOptions = {}): Uint8Array<ArrayBuffer> {
  const base = txBaseLength(tx)
  const size = opts.witness === false ? base : base + txWitnessLength(tx)
  const w = new ByteWriter(size)
  encodeTx(w, tx, opts)
  return w.finish()
}

/**
 * Parse a buffer holding exactly one transaction (TRAILING_BYTES if more).
 * Byte fields of the result are views into `bytes`.
 */
export function parseTx(bytes: Uint8Array, limits: TxLimits = DEFAULT_TX_LIMITS): Transaction {
  const r = new ByteReader(bytes)
  const tx = readTx(r, limits, null)
  r.done('transaction')
  return tx
}
