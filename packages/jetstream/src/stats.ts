/**
 * Per-block statistics from block parts, merged into a key-value bucket:
 * the sink of the example index handler.
 *
 * Fees need the values of the outputs a transaction spends (its
 * prevouts), which are in earlier blocks, not in the block: a part alone
 * cannot give them, and we do not fake them. What a part does give:
 *  - transaction, input and output counts;
 *  - the total value of the outputs of the non-coinbase transactions;
 *  - the coinbase's output value. The fees a miner CLAIMED are that value
 *    minus the block subsidy (coinbase outputs may not exceed subsidy plus
 *    fees): the block's fees exactly when the miner claimed them all, as
 *    miners do, and a lower bound otherwise. `claimedFeeSats` is that.
 *
 * Idempotent merging. A block's entry lists the part indexes merged into
 * it; a part already listed changes nothing. Updates are compare-and-set
 * on the entry's revision (KV create / update), so workers merging parts
 * of one block at once never lose one, and a part delivered twice (after a
 * crash: delivery is at least once) counts once.
 */
import type { KV } from '@nats-io/kv'
import { parseTx } from '@bitp2p/wire'
import { displayHex, partTxBytes, type BlockPart } from './codec.js'
import { JetStreamAdapterError } from './errors.js'

/** Satoshis per coin. */
const COIN = 100_000_000n
/** The first block subsidy: 50 coins. */
export const INITIAL_SUBSIDY_SATS = 50n * COIN
/** Blocks between subsidy halvings on mainnet, testnet and signet. */
export const HALVING_INTERVAL = 210_000
/** Blocks between subsidy halvings on regtest. */
export const REGTEST_HALVING_INTERVAL = 150
/** Compare-and-set attempts of one merge before it gives up (each failure means another worker merged meanwhile). */
export const MAX_MERGE_ATTEMPTS = 100

/** The subsidy of a block at `height` with `halvingInterval` (Core's GetBlockSubsidy). */
export function blockSubsidy(height: number, halvingInterval: number = HALVING_INTERVAL): bigint {
  const halvings = Math.floor(height / halvingInterval)
  return halvings >= 64 ? 0n : INITIAL_SUBSIDY_SATS >> BigInt(halvings)
}

/** What one part contributes. */
export interface PartStats {
  readonly txs: number
  readonly inputs: number
  readonly outputs: number
  /** Output value of its non-coinbase transactions. */
  readonly outputSats: bigint
  /** The coinbase's output value, when the part holds the coinbase. */
  readonly coinbaseSats: bigint | undefined
}

/** Parse a part's transactions (wire's parseTx: throws WireError on bad bytes) and sum them. */
export function partStats(part: BlockPart): PartStats {
  let inputs = 0
  let outputs = 0
  let outputSats = 0n
  let coinbaseSats: bigint | undefined
  part.txs.forEach((t, i) => {
    const tx = parseTx(partTxBytes(part, i))
    inputs += tx.inputs.length
    outputs += tx.outputs.length
    let value = 0n
    for (const o of tx.outputs) value += o.value
    if (t.index === 0) coinbaseSats = value
    else outputSats += value
  })
  return { txs: part.txs.length, inputs, outputs, outputSats, coinbaseSats }
}

/** A block's entry in the bucket (JSON; amounts as decimal strings). */
export interface BlockStats {
  /** Display hex. */
  readonly hash: string
  readonly height: number | undefined
  readonly partCount: number
  /** Part indexes merged, ascending. */
  readonly partsDone: readonly number[]
  /** True once every part is merged. */
  readonly complete: boolean
  readonly txs: number
  readonly blockTxCount: number
  readonly inputs: number
  readonly outputs: number
  readonly outputSats: string
  readonly coinbaseSats: string | undefined
  /** Coinbase outputs minus the subsidy, once the coinbase is merged and the height known. */
  readonly claimedFeeSats: string | undefined
  readonly size: number
  readonly weight: number
}

/** Options of a BlockStatsSink. */
export interface BlockStatsSinkOptions {
  readonly kv: KV
  /** Of the network indexed: HALVING_INTERVAL (default) or REGTEST_HALVING_INTERVAL. */
  readonly halvingInterval?: number
}

/** Merges parts into per-block entries keyed by block hash; see the module comment. */
export class BlockStatsSink {
  private readonly kv: KV
  private readonly halvingInterval: number

  /** A sink over `opts.kv`. */
  constructor(opts: BlockStatsSinkOptions) {
    this.kv = opts.kv
    this.halvingInterval = opts.halvingInterval ?? HALVING_INTERVAL
  }

  /** The entry of block `hash` (display hex), or undefined. */
  async get(hash: string): Promise<BlockStats | undefined> {
    const e = await this.kv.get(hash)
    return e && e.operation === 'PUT' && e.length > 0 ? e.json<BlockStats>() : undefined
  }

  /**
   * Merge `part`: 'added', or 'already' when its index was merged before
   * (a redelivery). Throws WireError when a transaction does not parse,
   * JetStreamAdapterError 'publish-failed' when the compare-and-set kept
   * losing.
   */
  async add(part: BlockPart): Promise<'added' | 'already'> {
    const s = partStats(part)
    const key = displayHex(part.hash)
    for (let attempt = 0; attempt < MAX_MERGE_ATTEMPTS; attempt++) {
      const e = await this.kv.get(key)
      const prev = e && e.operation === 'PUT' && e.length > 0 ? e.json<BlockStats>() : undefined
      if (prev?.partsDone.includes(part.partIndex)) return 'already'
      const next = this.merge(prev, part, s)
      try {
        if (prev === undefined) await this.kv.create(key, JSON.stringify(next))
        else await this.kv.update(key, JSON.stringify(next), e!.revision)
        return 'added'
      } catch (err) {
        // Another worker wrote first (wrong last sequence, or the key exists): read again.
        if (!isCasConflict(err)) throw err
      }
    }
    throw new JetStreamAdapterError('publish-failed', `block ${key}: ${MAX_MERGE_ATTEMPTS} compare-and-set attempts all lost`, { key, attempts: MAX_MERGE_ATTEMPTS })
  }

  private merge(prev: BlockStats | undefined, part: BlockPart, s: PartStats): BlockStats {
    const partsDone = [...(prev?.partsDone ?? []), part.partIndex].sort((a, b) => a - b)
    const coinbase = s.coinbaseSats ?? (prev?.coinbaseSats !== undefined ? BigInt(prev.coinbaseSats) : undefined)
    const height = part.height ?? prev?.height
    return {
      hash: displayHex(part.hash),
      height,
      partCount: part.partCount,
      partsDone,
      complete: partsDone.length === part.partCount,
      txs: (prev?.txs ?? 0) + s.txs,
      blockTxCount: part.blockTxCount,
      inputs: (prev?.inputs ?? 0) + s.inputs,
      outputs: (prev?.outputs ?? 0) + s.outputs,
      outputSats: String(BigInt(prev?.outputSats ?? '0') + s.outputSats),
      coinbaseSats: coinbase === undefined ? undefined : String(coinbase),
      claimedFeeSats: coinbase === undefined || height === undefined ? undefined : String(coinbase - blockSubsidy(height, this.halvingInterval)),
      size: part.blockSize,
      weight: part.blockWeight,
    }
  }
}

/** A KV create on an existing key or an update on a stale revision. */
function isCasConflict(e: unknown): boolean {
  const err = e as { code?: number; message?: string } | undefined
  // 10071: wrong last sequence (update); create on an existing key reports the same, or "key exists".
  return err?.code === 10071 || /wrong last sequence|key exists/i.test(err?.message ?? '')
}
