/**
 * Synthetic transactions for virtual peers: structurally valid, NOT
 * signature-valid.
 *
 * Every transaction serializes and parses like a real one (canonical
 * CompactSizes, BIP144 form when an input has a witness, outputs in the
 * standard templates), and spends outputs of earlier synthetic transactions
 * when there are any, so a batch forms a plausible graph. But signatures
 * and public keys are random bytes in the right shape, and amounts only
 * roughly balance (inputs - outputs = a small fee). That is enough here: no
 * part of this SDK's SPV path executes scripts or checks signatures,
 * amounts or the UTXO set; it checks structure, merkle commitments and
 * proof of work only. A full node would reject these transactions.
 *
 * When the factory has no spendable output it spends a "funding" outpoint
 * with a random txid: a transaction that exists nowhere. fund(tx) adds real
 * synthetic outputs (e.g. coinbases of a SyntheticChain) to the pool.
 *
 * Spending a P2WPKH output gives an input with an empty scriptSig and the
 * 2-item witness [72-byte signature-like, 33-byte key-like]; spending a
 * P2PKH output gives the 107-byte scriptSig <sig> <pubkey> and no witness.
 */
import type { Random } from '@bitp2p/session'
import { txid, txSize, txVsize, type OutPoint, type Transaction, type TxInput, type TxOutput } from '@bitp2p/wire'
import {
  fakePubkey,
  fakeSignature,
  fillerBytes,
  fitVarBytes,
  HASH160_BYTES,
  isP2pkh,
  isP2wpkh,
  OP_RETURN,
  p2pkhScript,
  p2wpkhScript,
  pushData,
  randomBytes,
} from './script.js'

/** Outputs below this many satoshis are not created when it can be avoided (Core's P2PKH dust limit). */
export const DUST_LIMIT = 546n
/** Fee rate of synthetic transactions, satoshis per virtual byte. */
export const SYNTHETIC_FEE_RATE = 1n
/** Value of a funding outpoint minted when the pool is empty: 1 BTC. */
export const DEFAULT_FUNDING_VALUE = 100_000_000n
/** Default chance that a new output is P2WPKH rather than P2PKH. */
export const DEFAULT_SEGWIT_SHARE = 0.7
/** Default most inputs of a generated transaction (`maxInputs`). */
export const DEFAULT_MAX_INPUTS = 3
/** Default most outputs of a generated transaction (`maxOutputs`). */
export const DEFAULT_MAX_OUTPUTS = 3
/**
 * bigTx builds every size from this one up, whatever kind of output it
 * spends (the largest minimum is about 205 bytes: a P2PKH spend with its
 * 107-byte scriptSig, a change output and a 1-byte OP_RETURN).
 */
export const MIN_BIG_TX_BYTES = 256
/** A BIP340 signature, the first item of the taproot-shaped witness of bigTx. */
const SCHNORR_SIGNATURE_BYTES = 64
/** A taproot control block with no merkle path: leaf version byte + 32-byte internal key. */
const CONTROL_BLOCK_BYTES = 33
/** BIP342 tapscript leaf version, in the top bits of the control block's first byte (the low bit is the key's parity). */
const TAPSCRIPT_LEAF_VERSION = 0xc0
/** Opt-in RBF sequence (BIP125) and the final sequence; inputs use either. */
const RBF_SEQUENCE = 0xfffffffd
const FINAL_SEQUENCE = 0xffffffff

/** The output templates the factory creates and can spend. */
export type SyntheticOutputKind = 'p2wpkh' | 'p2pkh'

/** A spendable output known to the factory. */
export interface SyntheticUtxo {
  readonly outpoint: OutPoint
  readonly value: bigint
  readonly kind: SyntheticOutputKind
}

/** Options of a TxFactory. */
export interface TxFactoryOptions {
  /** Chance in [0, 1] that a new output is P2WPKH (else P2PKH). Default DEFAULT_SEGWIT_SHARE. */
  readonly segwitShare?: number
  /** Most inputs per transaction (at least 1). Default DEFAULT_MAX_INPUTS. */
  readonly maxInputs?: number
  /** Most outputs per transaction (at least 1). Default DEFAULT_MAX_OUTPUTS. */
  readonly maxOutputs?: number
  /** Value of a funding outpoint. Default DEFAULT_FUNDING_VALUE. */
  readonly fundingValue?: bigint
}

/** Where bigTx puts its bulk. */
export type BigTxPayload =
  /** One OP_RETURN output holding the payload (counts fully toward weight). */
  | 'op-return'
  /** A taproot-script-path-shaped witness [signature, payload, control block] (an inscription's shape). */
  | 'witness'

/** Generates synthetic transactions from a seeded random source; see the module documentation. */
export class TxFactory {
  private readonly random: Random
  private readonly segwitShare: number
  private readonly maxInputs: number
  private readonly maxOutputs: number
  private readonly fundingValue: bigint
  /** Spendable outputs; order comes only from the factory's own draws. */
  private readonly pool: SyntheticUtxo[] = []

  constructor(random: Random, opts: TxFactoryOptions = {}) {
    this.random = random
    this.segwitShare = opts.segwitShare ?? DEFAULT_SEGWIT_SHARE
    this.maxInputs = opts.maxInputs ?? DEFAULT_MAX_INPUTS
    this.maxOutputs = opts.maxOutputs ?? DEFAULT_MAX_OUTPUTS
    this.fundingValue = opts.fundingValue ?? DEFAULT_FUNDING_VALUE
    if (!(this.segwitShare >= 0 && this.segwitShare <= 1)) throw new RangeError(`segwitShare must be in [0, 1], got ${this.segwitShare}`)
    for (const [name, v] of [
      ['maxInputs', this.maxInputs],
      ['maxOutputs', this.maxOutputs],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`)
    }
  }

  /** The spendable outputs the factory holds. */
  get utxos(): readonly SyntheticUtxo[] {
    return this.pool
  }

  /**
   * Add the P2WPKH and P2PKH outputs of `tx` (e.g. a coinbase) to the pool.
   * Other outputs (commitments, OP_RETURN) are skipped. Returns how many were added.
   */
  fund(tx: Transaction): number {
    const id = txid(tx)
    let added = 0
    tx.outputs.forEach((out, index) => {
      const kind = isP2wpkh(out.scriptPubKey) ? 'p2wpkh' : isP2pkh(out.scriptPubKey) ? 'p2pkh' : undefined
      if (kind === undefined) return
      this.pool.push({ outpoint: { txid: id, index }, value: out.value, kind })
      added++
    })
    return added
  }

  /**
   * One transaction spending 1..maxInputs pooled outputs (a funding outpoint
   * when the pool is empty) into 1..maxOutputs new ones, which join the pool.
   */
  next(): Transaction {
    const nIn = 1 + this.random.int(this.maxInputs)
    const spent: SyntheticUtxo[] = []
    for (let i = 0; i < nIn && (i === 0 || this.pool.length > 0); i++) spent.push(this.take())
    let nOut = 1 + this.random.int(this.maxOutputs)
    const inputs = spent.map((u) => this.spend(u))
    const total = spent.reduce((sum, u) => sum + u.value, 0n)

    const version = this.random.int(8) === 0 ? 1 : 2
    const scripts: Uint8Array[] = []
    for (let i = 0; i < nOut; i++) scripts.push(this.newScript())
    // Size does not depend on the amounts, so the fee is known before they are chosen.
    const fee = BigInt(txVsize({ version, inputs, outputs: scripts.map((s) => ({ value: 0n, scriptPubKey: s })), locktime: 0 })) * SYNTHETIC_FEE_RATE
    const spendable = total > fee ? total - fee : 0n
    if (spendable < DUST_LIMIT * BigInt(nOut)) {
      nOut = 1
      scripts.length = 1
    }
    const values = this.split(spendable, nOut)
    const tx: Transaction = {
      version,
      inputs,
      outputs: scripts.map((scriptPubKey, i) => ({ value: values[i]!, scriptPubKey })),
      locktime: 0,
    }
    this.fund(tx)
    return tx
  }

  /** `n` transactions from next(), in an order where each spends only earlier ones. */
  batch(n: number): Transaction[] {
    const out: Transaction[] = []
    for (let i = 0; i < n; i++) out.push(this.next())
    return out
  }

  /**
   * A transaction of exactly `bytes` serialized bytes (BIP144 form), its bulk
   * in one OP_RETURN output or in a witness item (filler: a repeated random
   * pattern). It spends one pooled output and returns the change to the pool.
   * Every size from MIN_BIG_TX_BYTES up works; smaller ones may.
   * @throws RangeError when `bytes` is below the smallest such transaction.
   */
  bigTx(bytes: number, payload: BigTxPayload = 'op-return'): Transaction {
    if (!Number.isSafeInteger(bytes) || bytes < 1) throw new RangeError(`bigTx: size must be a positive integer, got ${bytes}`)
    const utxo = this.take()
    const input = this.spend(utxo)
    const keyHash = randomBytes(this.random, HASH160_BYTES)
    // A change script of another size moves the payload off the few sizes one CompactSize field cannot fill.
    for (const change of [p2wpkhScript(keyHash), p2pkhScript(keyHash)]) {
      const build = (n: number) => this.bigTxShape(input, change, payload, n, utxo.value)
      const small = build(1)
      const length = fitVarBytes(bytes - (txSize(small) - 2))
      if (length === undefined || length < 1) continue
      const tx = build(length)
      if (txSize(tx) !== bytes) throw new Error(`bigTx: built ${txSize(tx)} bytes instead of ${bytes}`)
      this.fund(tx)
      return tx
    }
    // Nothing was built: put the output back so the pool is unchanged apart from the draws.
    this.pool.push(utxo)
    throw new RangeError(`bigTx: ${bytes} bytes is smaller than the smallest ${payload} transaction`)
  }

  /** The bigTx layout with a payload of `n` bytes (n >= 1). */
  private bigTxShape(input: TxInput, change: Uint8Array, payload: BigTxPayload, n: number, value: bigint): Transaction {
    const outputs: TxOutput[] = [{ value: 0n, scriptPubKey: change }]
    let spend = input
    if (payload === 'op-return') {
      const script = fillerBytes(this.random, n)
      script[0] = OP_RETURN
      outputs.push({ value: 0n, scriptPubKey: script })
    } else {
      const control = randomBytes(this.random, CONTROL_BLOCK_BYTES)
      control[0] = TAPSCRIPT_LEAF_VERSION | (control[0]! & 1)
      const witness = [randomBytes(this.random, SCHNORR_SIGNATURE_BYTES), fillerBytes(this.random, n), control]
      spend = { ...input, scriptSig: new Uint8Array(0), witness }
    }
    const tx: Transaction = { version: 2, inputs: [spend], outputs, locktime: 0 }
    const fee = BigInt(txVsize(tx)) * SYNTHETIC_FEE_RATE
    outputs[0] = { value: value > fee ? value - fee : 0n, scriptPubKey: change }
    return tx
  }

  /** Remove and return a random pooled output, or mint a funding outpoint when the pool is empty. */
  private take(): SyntheticUtxo {
    if (this.pool.length === 0) {
      return {
        outpoint: { txid: randomBytes(this.random, 32), index: this.random.int(4) },
        value: this.fundingValue,
        kind: this.random.float() < this.segwitShare ? 'p2wpkh' : 'p2pkh',
      }
    }
    const i = this.random.int(this.pool.length)
    const u = this.pool[i]!
    // Swap-remove: O(1), and the order stays a function of the draws.
    this.pool[i] = this.pool[this.pool.length - 1]!
    this.pool.pop()
    return u
  }

  /** The input spending `u`, with the scriptSig or witness its template needs. */
  private spend(u: SyntheticUtxo): TxInput {
    const sequence = this.random.int(2) === 0 ? RBF_SEQUENCE : FINAL_SEQUENCE
    const sig = fakeSignature(this.random)
    const key = fakePubkey(this.random)
    if (u.kind === 'p2wpkh') return { prevout: u.outpoint, scriptSig: new Uint8Array(0), sequence, witness: [sig, key] }
    const a = pushData(sig)
    const b = pushData(key)
    const scriptSig = new Uint8Array(a.length + b.length)
    scriptSig.set(a)
    scriptSig.set(b, a.length)
    return { prevout: u.outpoint, scriptSig, sequence, witness: [] }
  }

  private newScript(): Uint8Array {
    const keyHash = randomBytes(this.random, HASH160_BYTES)
    return this.random.float() < this.segwitShare ? p2wpkhScript(keyHash) : p2pkhScript(keyHash)
  }

  /** `total` split into `n` random parts (the last takes the remainder). */
  private split(total: bigint, n: number): bigint[] {
    const weights: bigint[] = []
    let sum = 0n
    for (let i = 0; i < n; i++) {
      const w = BigInt(1 + this.random.int(100))
      weights.push(w)
      sum += w
    }
    const out: bigint[] = []
    let left = total
    for (let i = 0; i < n - 1; i++) {
      const v = (total * weights[i]!) / sum
      out.push(v)
      left -= v
    }
    out.push(left)
    return out
  }
}
