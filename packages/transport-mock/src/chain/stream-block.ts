/**
 * A very large valid block as a stream of chunks, never held in memory.
 *
 * What a virtual BSV peer sends as a multi-gigabyte `block` (through an
 * extended message), or a Bitcoin peer as a full 4 MB block, without the
 * simulation paying for the bytes: memory stays at one transaction, one
 * chunk and an O(log n) merkle builder, whatever the block's size.
 *
 * The header must commit to every txid before its first byte is sent, so
 * the transactions are generated twice from one seed and never stored:
 *   pass 1   generate every transaction and fold its txid into a
 *            MerkleBuilder -> merkle root -> mined header;
 *   pass 2   generate the same transactions again and emit their bytes.
 * With `segwit` the coinbase must also commit to the wtxids, and its txid
 * (the first merkle leaf) depends on that commitment, so one more pass
 * comes first to fold the wtxids into the witness root.
 *
 * Layout. The coinbase (BIP34 height, miner tag, P2WPKH payout, commitment
 * when segwit) is followed by txCount - 1 transactions of exactly txBytes
 * bytes each: one input (spending a random outpoint: see txgen.ts, nothing
 * is signature-valid), a P2PKH output and an OP_RETURN output whose filler
 * (a repeated random pattern) pads the transaction to size. Legacy inputs
 * carry <sig> <pubkey> in their scriptSig; segwit inputs the P2WPKH-shaped
 * 2-item witness instead.
 *
 * Chunks are exactly chunkBytes long except the last. Each yielded chunk is
 * a fresh buffer (or a view of a fresh transaction buffer) that the
 * generator never touches again, so a consumer may keep or transfer it.
 */
import type { Random } from '@bitp2p/session'
import { SeededRandom } from '@bitp2p/session'
import {
  regtest,
  serializeTx,
  txid,
  txSize,
  wtxid,
  type BlockHeader,
  type NetworkParams,
  type Transaction,
} from '@bitp2p/wire'
import { ByteWriter, compactSizeLength, encodeBlockHeader } from '@bitp2p/wire/codecs'
import { witnessCommitment } from '@bitp2p/wire/consensus'
import { MerkleBuilder } from '@bitp2p/wire/hash'
import { BLOCK_HEADER_BYTES, WITNESS_RESERVED_VALUE_BYTES } from '@bitp2p/wire/limits'
import { blockSubsidy, buildCoinbase, halvingIntervalOf, mineHeader, SYNTHETIC_BLOCK_VERSION } from './miner.js'
import {
  fakePubkey,
  fakeSignature,
  fillerBytes,
  fitVarBytes,
  HASH160_BYTES,
  OP_RETURN,
  p2pkhScript,
  p2shScript,
  pushData,
  randomBytes,
} from './script.js'

/** Chunk size of the examples and tests: 64 KiB, a typical socket read. */
export const DEFAULT_STREAM_CHUNK_BYTES = 64 * 1024
const FINAL_SEQUENCE = 0xffffffff

/** What describes a streamed block. Everything but `random` is data: the same options and seed give the same bytes. */
export interface SyntheticBlockStreamOptions {
  /** Transactions in the block, the coinbase included (at least 1). */
  readonly txCount: number
  /** Exact serialized size of every transaction after the coinbase (see minStreamTxBytes). */
  readonly txBytes: number
  /** Size of the yielded chunks (the last may be shorter). */
  readonly chunkBytes: number
  /** Draws the block's seed and payout key once, at construction. */
  readonly random: Random
  /** Give the transactions P2WPKH-shaped witnesses (and the coinbase a commitment). Default false (BSV has no segwit). */
  readonly segwit?: boolean
  /** Network whose powLimitBits the header uses and must meet; default regtest (only easy bits can be mined). */
  readonly params?: NetworkParams
  /** Parent hash; default the network's genesis hash. */
  readonly prevBlock?: Uint8Array
  /** Height (in the coinbase); default 1. */
  readonly height?: number
  /** Header time in seconds; default genesis time + target spacing. */
  readonly time?: number
  readonly minerTag?: string
}

/** What a finished stream was. */
export interface SyntheticBlockSummary {
  readonly header: BlockHeader
  /** Block hash, internal byte order. */
  readonly hash: Uint8Array
  readonly txCount: number
  /** Payload bytes yielded in total. */
  readonly totalBytes: number
}

/** The fixed shape of the streamed transactions. */
interface TxLayout {
  readonly segwit: boolean
  /** Length of the OP_RETURN script that pads a transaction to txBytes. */
  readonly fillerLength: number
  /** P2PKH, or P2SH when P2PKH would leave the filler on a size no CompactSize field can take. */
  readonly payout: 'p2pkh' | 'p2sh'
}

/** A streamed transaction with an OP_RETURN script of `fillerLength` bytes. */
function makeTx(rng: Random, layout: TxLayout): Transaction {
  const prevout = { txid: randomBytes(rng, 32), index: rng.int(4) }
  const sig = fakeSignature(rng)
  const key = fakePubkey(rng)
  const input = layout.segwit
    ? { prevout, scriptSig: new Uint8Array(0), sequence: FINAL_SEQUENCE, witness: [sig, key] }
    : { prevout, scriptSig: concat(pushData(sig), pushData(key)), sequence: FINAL_SEQUENCE, witness: [] }
  const hash = randomBytes(rng, HASH160_BYTES)
  const payout = layout.payout === 'p2pkh' ? p2pkhScript(hash) : p2shScript(hash)
  const filler = fillerBytes(rng, layout.fillerLength)
  filler[0] = OP_RETURN
  return {
    version: 2,
    inputs: [input],
    outputs: [
      { value: BigInt(1_000 + rng.int(1_000_000)), scriptPubKey: payout },
      { value: 0n, scriptPubKey: filler },
    ],
    locktime: 0,
  }
}

/** The layout giving transactions of exactly txBytes, or undefined when txBytes is too small. */
function layoutFor(txBytes: number, segwit: boolean): TxLayout | undefined {
  // Sizes do not depend on the random values: measure a 1-byte-filler transaction built from a fixed seed.
  for (const payout of ['p2pkh', 'p2sh'] as const) {
    const probe = txSize(makeTx(new SeededRandom(0), { segwit, fillerLength: 1, payout }))
    const fillerLength = fitVarBytes(txBytes - (probe - 2))
    if (fillerLength !== undefined && fillerLength >= 1) return { segwit, fillerLength, payout }
  }
  return undefined
}

/** The smallest txBytes a stream accepts (a P2SH payout and a 1-byte OP_RETURN); every size above works too. */
export function minStreamTxBytes(segwit = false): number {
  return txSize(makeTx(new SeededRandom(0), { segwit, fillerLength: 1, payout: 'p2sh' }))
}

/** The payload size of the block `opts` describe, without generating it (no random draws). */
export function syntheticBlockBytes(opts: Omit<SyntheticBlockStreamOptions, 'random' | 'chunkBytes'>): number {
  const coinbase = streamCoinbase(opts, new Uint8Array(HASH160_BYTES), opts.segwit === true ? new Uint8Array(32) : undefined)
  return BLOCK_HEADER_BYTES + compactSizeLength(opts.txCount) + txSize(coinbase) + (opts.txCount - 1) * opts.txBytes
}

function streamCoinbase(
  opts: Pick<SyntheticBlockStreamOptions, 'params' | 'height' | 'minerTag'>,
  payoutKeyHash: Uint8Array,
  commitment: Uint8Array | undefined,
): Transaction {
  const params = opts.params ?? regtest
  const height = opts.height ?? 1
  return buildCoinbase({
    height,
    value: blockSubsidy(height, halvingIntervalOf(params)),
    payoutKeyHash,
    minerTag: opts.minerTag,
    witnessCommitment: commitment,
  })
}

/**
 * A streamed synthetic block. The header is computed (pass 1) on first use
 * of `header`, `hash` or `chunks()` and kept; every call of chunks()
 * yields the same bytes.
 */
export class SyntheticBlockStream {
  readonly txCount: number
  readonly txBytes: number
  readonly chunkBytes: number
  /** Payload size in bytes: what an extended message header announces. */
  readonly totalBytes: number
  private readonly opts: SyntheticBlockStreamOptions
  private readonly params: NetworkParams
  private readonly layout: TxLayout | undefined
  private readonly seed: number
  private readonly payoutKeyHash: Uint8Array
  private committed: { readonly header: BlockHeader; readonly hash: Uint8Array; readonly coinbase: Transaction } | undefined

  /** @throws RangeError on a bad count or size. */
  constructor(opts: SyntheticBlockStreamOptions) {
    const { txCount, txBytes, chunkBytes } = opts
    if (!Number.isSafeInteger(txCount) || txCount < 1) throw new RangeError(`txCount must be a positive integer, got ${txCount}`)
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`)
    if (!Number.isSafeInteger(txBytes)) throw new RangeError(`txBytes must be an integer, got ${txBytes}`)
    const segwit = opts.segwit === true
    this.layout = txCount > 1 ? layoutFor(txBytes, segwit) : undefined
    if (txCount > 1 && this.layout === undefined) {
      throw new RangeError(`txBytes ${txBytes} is below the smallest streamed transaction (${minStreamTxBytes(segwit)} bytes)`)
    }
    this.opts = opts
    this.params = opts.params ?? regtest
    this.txCount = txCount
    this.txBytes = txBytes
    this.chunkBytes = chunkBytes
    this.totalBytes = syntheticBlockBytes(opts)
    this.seed = opts.random.u32()
    this.payoutKeyHash = randomBytes(opts.random, HASH160_BYTES)
    this.committed = undefined
  }

  /** The mined header (computing it is one pass over every transaction). */
  get header(): BlockHeader {
    return this.commit().header
  }

  /** Block hash, internal byte order. */
  get hash(): Uint8Array {
    return this.commit().hash
  }

  /** The block payload in chunks of chunkBytes. */
  *chunks(): Generator<Uint8Array, void, undefined> {
    const { header, coinbase } = this.commit()
    const out = new Chunker(this.chunkBytes)
    const head = new ByteWriter(BLOCK_HEADER_BYTES + compactSizeLength(this.txCount))
    encodeBlockHeader(head, header)
    head.compactSize(this.txCount)
    yield* out.write(head.finish())
    yield* out.write(serializeTx(coinbase))
    for (const tx of this.transactions()) yield* out.write(serializeTx(tx))
    yield* out.flush()
    if (out.total !== this.totalBytes) throw new Error(`stream: yielded ${out.total} bytes, announced ${this.totalBytes}`)
  }

  /** The transactions after the coinbase, regenerated from the seed on each call. */
  private *transactions(): Generator<Transaction, void, undefined> {
    const rng = new SeededRandom(this.seed)
    for (let i = 1; i < this.txCount; i++) yield makeTx(rng, this.layout!)
  }

  /** Pass 1 (and the wtxid pass with segwit): coinbase, merkle root, mined header. */
  private commit(): { readonly header: BlockHeader; readonly hash: Uint8Array; readonly coinbase: Transaction } {
    if (this.committed !== undefined) return this.committed
    let commitment: Uint8Array | undefined
    if (this.opts.segwit === true) {
      const witnessTree = new MerkleBuilder()
      // BIP141: the coinbase's wtxid counts as zeros.
      witnessTree.add(new Uint8Array(32))
      for (const tx of this.transactions()) witnessTree.add(wtxid(tx))
      commitment = witnessCommitment(witnessTree.root(), new Uint8Array(WITNESS_RESERVED_VALUE_BYTES))
    }
    const coinbase = streamCoinbase(this.opts, this.payoutKeyHash, commitment)
    const tree = new MerkleBuilder()
    tree.add(txid(coinbase))
    for (const tx of this.transactions()) tree.add(txid(tx))
    const { header, hash } = mineHeader(
      {
        version: SYNTHETIC_BLOCK_VERSION,
        prevBlock: this.opts.prevBlock ?? this.params.genesisHash,
        merkleRoot: tree.root(),
        time: this.opts.time ?? this.params.genesis.time + this.params.targetSpacing,
        bits: this.params.powLimitBits,
      },
      this.params,
    )
    this.committed = { header, hash, coinbase }
    return this.committed
  }
}

/**
 * The chunks of a synthetic block (see SyntheticBlockStream); returns the
 * header, hash and size once the last chunk is out.
 */
export function* streamSyntheticBlock(opts: SyntheticBlockStreamOptions): Generator<Uint8Array, SyntheticBlockSummary, undefined> {
  const stream = new SyntheticBlockStream(opts)
  yield* stream.chunks()
  return { header: stream.header, hash: stream.hash, txCount: stream.txCount, totalBytes: stream.totalBytes }
}

/** Cuts a byte sequence into chunks of a fixed size. */
class Chunker {
  private buf: Uint8Array | undefined
  private len = 0
  /** Bytes yielded so far. */
  total = 0

  constructor(private readonly size: number) {}

  /** Take `bytes`; yield every chunk they complete. */
  *write(bytes: Uint8Array): Generator<Uint8Array, void, undefined> {
    let at = 0
    while (at < bytes.length) {
      if (this.len === 0 && bytes.length - at >= this.size) {
        // A whole chunk inside one fresh buffer: hand out a view, no copy.
        const view = bytes.subarray(at, at + this.size)
        at += this.size
        this.total += this.size
        yield view
        continue
      }
      const buf = (this.buf ??= new Uint8Array(this.size))
      const n = Math.min(this.size - this.len, bytes.length - at)
      buf.set(bytes.subarray(at, at + n), this.len)
      this.len += n
      at += n
      if (this.len === this.size) yield* this.flush()
    }
  }

  /** Yield the partial chunk, if any. */
  *flush(): Generator<Uint8Array, void, undefined> {
    if (this.len === 0) return
    const chunk = this.buf!.subarray(0, this.len)
    this.total += this.len
    this.buf = undefined
    this.len = 0
    yield chunk
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
