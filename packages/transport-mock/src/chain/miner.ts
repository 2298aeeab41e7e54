/**
 * Mining for simulations: a nonce search that meets a header's own bits,
 * and the assembly of a real block around a list of transactions.
 *
 * A block built here is valid as far as the SDK's SPV path can tell:
 * - the coinbase starts its scriptSig with the BIP34 height push (then a
 *   miner tag), takes the null prevout, and pays a P2WPKH-shaped output;
 * - when any transaction carries a witness, the coinbase carries the BIP141
 *   commitment to the wtxids, and its witness is the 32-byte reserved value
 *   (all zeros, as every miner uses);
 * - the header commits to the txids and meets its bits.
 * Amounts, fees and scripts are not checked anywhere in this SDK (see
 * txgen.ts), so a coinbase pays the subsidy only and fees are ignored.
 *
 * Only easy targets are practical: regtest's 0x207fffff is met by half of
 * all hashes (about two tries per block). The header's bits are used as
 * given; no difficulty adjustment is computed.
 */
import type { Random } from '@bitp2p/session'
import {
  hasWitness,
  serializeBlockHeader,
  txid,
  wtxid,
  type Block,
  type BlockHeader,
  type NetworkParams,
  type Transaction,
} from '@bitp2p/wire'
import { checkProofOfWork, witnessCommitment, WITNESS_COMMITMENT_HEADER } from '@bitp2p/wire/consensus'
import { merkleRoot, sha256d, witnessMerkleRoot } from '@bitp2p/wire/hash'
import { WITNESS_RESERVED_VALUE_BYTES } from '@bitp2p/wire/limits'
import { heightScript, OP_0, p2wpkhScript, pushData } from './script.js'

/**
 * Nonces tried before mineHeader gives up. At regtest difficulty the chance
 * of needing more is 2^-1,000,000; a harder target is a caller error that
 * should fail fast, not hang a test.
 */
export const DEFAULT_MAX_MINING_TRIES = 1_000_000
/** Offset of the nonce in the 80-byte header. */
const NONCE_OFFSET = 76

/** Consensus bounds on the coinbase scriptSig length (Core's CheckTransaction). */
export const MIN_COINBASE_SCRIPT_SIG_BYTES = 2
/** Longest coinbase scriptSig (consensus); buildCoinbase throws a RangeError beyond it (shorten the miner tag). */
export const MAX_COINBASE_SCRIPT_SIG_BYTES = 100
/** The null prevout index of every coinbase. */
export const COINBASE_PREVOUT_INDEX = 0xffffffff
/** The default coinbase tag (goes after the height push). */
export const DEFAULT_MINER_TAG = '/bitp2p-sim/'

/** 50 BTC in satoshis: the subsidy before the first halving. */
export const INITIAL_SUBSIDY = 5_000_000_000n
/** Blocks between halvings on every network but regtest. */
export const HALVING_INTERVAL = 210_000
/** Blocks between halvings on regtest (Core's nSubsidyHalvingInterval = 150). */
export const REGTEST_HALVING_INTERVAL = 150
/** After this many halvings the subsidy is 0 (Core: a shift >= 64 is undefined, so it returns 0). */
const MAX_HALVINGS = 64

/** BIP9 top bits with no deployment signalled (what miners use today). */
export const SYNTHETIC_BLOCK_VERSION = 0x20000000

const FINAL_SEQUENCE = 0xffffffff
const TEXT = new TextEncoder()

/** A header to mine: any nonce given is where the search starts. */
export type HeaderTemplate = Omit<BlockHeader, 'nonce'> & { readonly nonce?: number }

/** A header that meets its bits. */
export interface MinedHeader {
  readonly header: BlockHeader
  /** Block hash, internal byte order. */
  readonly hash: Uint8Array
  /** Nonces tried (at least 1). */
  readonly tries: number
}

/**
 * Find a nonce so the header's hash meets its own bits (Core's
 * CheckProofOfWork). The search starts at template.nonce, or at a nonce
 * drawn from `random`, or at 0, and counts up (wrapping at 2^32).
 *
 * @throws RangeError when the bits are not a valid target within
 *   params.powLimit, or no nonce is found within maxTries.
 */
export function mineHeader(
  template: HeaderTemplate,
  params: Pick<NetworkParams, 'powLimit'>,
  random?: Random,
  maxTries: number = DEFAULT_MAX_MINING_TRIES,
): MinedHeader {
  const start = template.nonce ?? (random !== undefined ? random.u32() : 0)
  const raw = serializeBlockHeader({ ...template, nonce: start })
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  let nonce = start
  for (let tries = 1; tries <= maxTries; tries++) {
    view.setUint32(NONCE_OFFSET, nonce, true)
    const hash = sha256d(raw)
    const check = checkProofOfWork(hash, template.bits, params)
    if (check.ok) return { header: { ...template, nonce }, hash, tries }
    if (check.reason !== 'HASH_ABOVE_TARGET') {
      throw new RangeError(`cannot mine bits 0x${template.bits.toString(16).padStart(8, '0')}: ${check.reason}`)
    }
    nonce = (nonce + 1) >>> 0
  }
  throw new RangeError(`no nonce met bits 0x${template.bits.toString(16).padStart(8, '0')} in ${maxTries} tries`)
}

/** The block subsidy at `height`: 50 BTC halved every `halvingInterval` blocks. */
export function blockSubsidy(height: number, halvingInterval: number = HALVING_INTERVAL): bigint {
  const halvings = Math.floor(height / halvingInterval)
  return halvings >= MAX_HALVINGS ? 0n : INITIAL_SUBSIDY >> BigInt(halvings)
}

/** The halving interval of a network: 150 on regtest, 210,000 elsewhere. */
export function halvingIntervalOf(params: Pick<NetworkParams, 'name'>): number {
  return params.name === 'regtest' ? REGTEST_HALVING_INTERVAL : HALVING_INTERVAL
}

/** What goes into a coinbase. */
export interface CoinbaseOptions {
  readonly height: number
  /** Amount of the payout output. */
  readonly value: bigint
  /** 20-byte key hash of the P2WPKH payout. */
  readonly payoutKeyHash: Uint8Array
  /** Pushed after the height; default DEFAULT_MINER_TAG. An empty tag gives OP_0 (scriptSig >= 2 bytes). */
  readonly minerTag?: string | Uint8Array
  /** 32-byte BIP141 commitment: adds the commitment output and the reserved-value witness. */
  readonly witnessCommitment?: Uint8Array
}

/**
 * A coinbase transaction: null prevout, scriptSig = height push + tag push,
 * one P2WPKH payout, and (with witnessCommitment) an OP_RETURN commitment
 * output last and a witness of one 32-byte zero reserved value.
 * @throws RangeError when the scriptSig would exceed 100 bytes.
 */
export function buildCoinbase(opts: CoinbaseOptions): Transaction {
  const tag = opts.minerTag ?? DEFAULT_MINER_TAG
  const tagBytes = typeof tag === 'string' ? TEXT.encode(tag) : tag
  const head = heightScript(opts.height)
  const tail = tagBytes.length > 0 ? pushData(tagBytes) : Uint8Array.of(OP_0)
  const scriptSig = new Uint8Array(head.length + tail.length)
  scriptSig.set(head)
  scriptSig.set(tail, head.length)
  if (scriptSig.length > MAX_COINBASE_SCRIPT_SIG_BYTES) {
    throw new RangeError(`coinbase scriptSig of ${scriptSig.length} bytes exceeds ${MAX_COINBASE_SCRIPT_SIG_BYTES}: shorten the miner tag`)
  }
  const outputs = [{ value: opts.value, scriptPubKey: p2wpkhScript(opts.payoutKeyHash) }]
  let witness: Uint8Array[] = []
  if (opts.witnessCommitment !== undefined) {
    const script = new Uint8Array(WITNESS_COMMITMENT_HEADER.length + opts.witnessCommitment.length)
    script.set(WITNESS_COMMITMENT_HEADER)
    script.set(opts.witnessCommitment, WITNESS_COMMITMENT_HEADER.length)
    outputs.push({ value: 0n, scriptPubKey: script })
    witness = [new Uint8Array(WITNESS_RESERVED_VALUE_BYTES)]
  }
  return {
    version: 2,
    inputs: [{ prevout: { txid: new Uint8Array(32), index: COINBASE_PREVOUT_INDEX }, scriptSig, sequence: FINAL_SEQUENCE, witness }],
    outputs,
    locktime: 0,
  }
}

/**
 * The BIP141 commitment for a block whose non-coinbase transactions are
 * `txs`, or undefined when none has a witness (no commitment needed).
 * The coinbase's own wtxid is taken as zeros, so it can be built after.
 */
export function commitmentFor(txs: readonly Transaction[]): Uint8Array | undefined {
  if (!txs.some(hasWitness)) return undefined
  const wtxids = [new Uint8Array(32), ...txs.map(wtxid)]
  return witnessCommitment(witnessMerkleRoot(wtxids), new Uint8Array(WITNESS_RESERVED_VALUE_BYTES))
}

/** Everything buildBlock needs. */
export interface BlockTemplate {
  readonly prevBlock: Uint8Array
  readonly height: number
  /** Header time, seconds (u32). */
  readonly time: number
  readonly bits: number
  /** Default SYNTHETIC_BLOCK_VERSION. */
  readonly version?: number
  /** Transactions after the coinbase, in block order. */
  readonly txs?: readonly Transaction[]
  readonly coinbaseValue: bigint
  readonly payoutKeyHash: Uint8Array
  readonly minerTag?: string | Uint8Array
}

/** A mined block and its hash. */
export interface BuiltBlock {
  readonly block: Block
  readonly hash: Uint8Array
}

/** Assemble coinbase, commitment and merkle root around template.txs, then mine the header. */
export function buildBlock(template: BlockTemplate, params: Pick<NetworkParams, 'powLimit'>, random?: Random): BuiltBlock {
  const txs = template.txs ?? []
  const coinbase = buildCoinbase({
    height: template.height,
    value: template.coinbaseValue,
    payoutKeyHash: template.payoutKeyHash,
    minerTag: template.minerTag,
    witnessCommitment: commitmentFor(txs),
  })
  const all = [coinbase, ...txs]
  const { header, hash } = mineHeader(
    {
      version: template.version ?? SYNTHETIC_BLOCK_VERSION,
      prevBlock: template.prevBlock,
      merkleRoot: merkleRoot(all.map(txid)),
      time: template.time,
      bits: template.bits,
    },
    params,
    random,
  )
  return { block: { header, txs: all }, hash }
}
