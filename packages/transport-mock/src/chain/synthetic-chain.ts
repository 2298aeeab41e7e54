/**
 * A tree of real, mined blocks for virtual peers to serve.
 *
 * SyntheticChain starts at a network's genesis and grows by `extend` (one
 * block on any known parent) and `fork` (a run of blocks), so a simulation
 * can give miners of different hash rates different tips and watch a node
 * reorganise. Each block is built by buildBlock (miner.ts): BIP34 coinbase,
 * witness commitment when needed, correct merkle root, mined nonce.
 *
 * The active chain is the branch with the most cumulative work; on a tie the
 * tip seen first stays (Core's nSequenceId rule). On regtest every block
 * adds the same work, so the longest branch wins and the first to reach a
 * height keeps it.
 *
 * `locate` answers getheaders as Core does (net_processing.cpp):
 * - empty locator: only the hashStop block, if known (on any branch);
 * - otherwise the fork point is the first locator hash on the active chain
 *   (Core's FindForkInGlobalIndex; unknown and side-branch hashes are
 *   skipped, and genesis is the answer when none matches); the reply is the
 *   active blocks after it, at most MAX_HEADERS_RESULTS, ending early at
 *   hashStop (included).
 * `locateBlocks` answers getblocks: same fork point, at most
 * MAX_GETBLOCKS_RESULTS hashes, ending before hashStop (excluded).
 *
 * Blocks are kept by hash in insertion order; hex keys are only for lookup.
 * Time is always an argument: nothing reads a clock.
 */
import type { Random } from '@bitp2p/session'
import { locatorHeights } from '@bitp2p/session/chain'
import {
  bytesEqual,
  regtest,
  serializeBlock,
  toHex,
  type Block,
  type BlockHeader,
  type NetworkParams,
  type Transaction,
} from '@bitp2p/wire'
import { isNullHashStop } from '@bitp2p/wire/codecs'
import { workFromBits } from '@bitp2p/wire/consensus'
import { MAX_HEADERS_RESULTS } from '@bitp2p/wire/limits'
import { genesisBlock } from './genesis.js'
import { blockSubsidy, buildBlock, halvingIntervalOf, SYNTHETIC_BLOCK_VERSION } from './miner.js'
import { HASH160_BYTES, randomBytes } from './script.js'

/** Core answers getblocks with an inv of at most 500 blocks. */
export const MAX_GETBLOCKS_RESULTS = 500

/** One block of the tree. */
export interface SyntheticBlock {
  /** Block hash, internal byte order. */
  readonly hash: Uint8Array
  readonly header: BlockHeader
  readonly height: number
  /** Cumulative work of the branch up to and including this block. */
  readonly chainWork: bigint
  /** The parent, or undefined for genesis. */
  readonly parent: SyntheticBlock | undefined
  /** The whole block; undefined only for a genesis whose coinbase is not known (see genesis.ts). */
  readonly block: Block | undefined
  /** The serialized block (what a `block` message carries), when block is known. */
  readonly raw: Uint8Array | undefined
  /** Order of arrival in this tree (0 = genesis): the tie-breaker between equal-work tips. */
  readonly sequence: number
}

/** Options of a SyntheticChain. */
export interface SyntheticChainOptions {
  /** Source of payout keys and nonce starts. */
  readonly random: Random
  /** Network to start from; default regtest. Only easy bits can be mined (see miner.ts). */
  readonly params?: NetworkParams
  /** Default coinbase tag of every block. */
  readonly minerTag?: string
  /** Default header version; SYNTHETIC_BLOCK_VERSION. */
  readonly version?: number
}

/** Options of one `extend`. */
export interface ExtendOptions {
  /** Header time in seconds. */
  readonly time: number
  /** Transactions after the coinbase, in block order. */
  readonly txs?: readonly Transaction[]
  readonly minerTag?: string
  readonly version?: number
  /** 20-byte payout key hash; default drawn from the chain's random source. */
  readonly payoutKeyHash?: Uint8Array
}

/** Options of a `fork`. */
export interface ForkOptions {
  /** Time of the first new block; default the parent's time + spacing. */
  readonly time?: number
  /** Seconds between the new blocks; default params.targetSpacing. */
  readonly spacing?: number
  readonly minerTag?: string
  readonly version?: number
}

/** A block tree from genesis; see the module documentation. */
export class SyntheticChain {
  readonly params: NetworkParams
  readonly genesis: SyntheticBlock
  private readonly random: Random
  private readonly minerTag: string | undefined
  private readonly version: number
  private readonly byHash = new Map<string, SyntheticBlock>()
  /** active[h]: the active chain's block at height h. */
  private readonly active: SyntheticBlock[] = []

  constructor(opts: SyntheticChainOptions) {
    this.params = opts.params ?? regtest
    this.random = opts.random
    this.minerTag = opts.minerTag
    this.version = opts.version ?? SYNTHETIC_BLOCK_VERSION
    const block = genesisBlock(this.params)
    this.genesis = {
      hash: this.params.genesisHash,
      header: this.params.genesis,
      height: 0,
      chainWork: workFromBits(this.params.genesis.bits),
      parent: undefined,
      block,
      raw: block === undefined ? undefined : serializeBlock(block),
      sequence: 0,
    }
    this.byHash.set(toHex(this.genesis.hash), this.genesis)
    this.active.push(this.genesis)
  }

  /** Blocks held, genesis included. */
  get size(): number {
    return this.byHash.size
  }

  /** The most-work block (first seen among equals). */
  get tip(): SyntheticBlock {
    return this.active[this.active.length - 1]!
  }

  /** Every block, in the order it was added. */
  blocks(): IterableIterator<SyntheticBlock> {
    return this.byHash.values()
  }

  /** The block with this hash, or undefined. */
  get(hash: Uint8Array): SyntheticBlock | undefined {
    return this.byHash.get(toHex(hash))
  }

  /** Whether the tree holds the block with this hash (internal byte order), on any branch. */
  has(hash: Uint8Array): boolean {
    return this.byHash.has(toHex(hash))
  }

  /** The header of the block with this hash, or undefined when the tree does not hold it. */
  header(hash: Uint8Array): BlockHeader | undefined {
    return this.get(hash)?.header
  }

  /** The whole block with this hash; undefined when not held, or for a genesis whose coinbase is not known. */
  block(hash: Uint8Array): Block | undefined {
    return this.get(hash)?.block
  }

  /** The serialized block, ready to be a `block` payload. */
  rawBlock(hash: Uint8Array): Uint8Array | undefined {
    return this.get(hash)?.raw
  }

  /** The block's height (genesis 0) on whichever branch holds it, or undefined when not held. */
  height(hash: Uint8Array): number | undefined {
    return this.get(hash)?.height
  }

  /** The active chain's block at `height`, or undefined above the tip. */
  atHeight(height: number): SyntheticBlock | undefined {
    return this.active[height]
  }

  /** Whether the block is on the active chain. */
  isActive(hash: Uint8Array): boolean {
    const b = this.get(hash)
    return b !== undefined && this.active[b.height] === b
  }

  /** The block's ancestors, parent first, down to genesis (at most `count`). */
  ancestors(hash: Uint8Array, count: number = Infinity): SyntheticBlock[] {
    const out: SyntheticBlock[] = []
    let b = this.require(hash).parent
    while (b !== undefined && out.length < count) {
      out.push(b)
      b = b.parent
    }
    return out
  }

  /** The ancestor of the block at `height` (the block itself at its own height). */
  ancestorAt(hash: Uint8Array, height: number): SyntheticBlock | undefined {
    let b: SyntheticBlock | undefined = this.require(hash)
    if (height < 0 || height > b.height) return undefined
    while (b !== undefined && b.height > height) b = b.parent
    return b
  }

  /** A block locator for the branch ending at `hash` (default the tip), newest first, as Core builds it. */
  locator(hash: Uint8Array = this.tip.hash): Uint8Array[] {
    const end = this.require(hash)
    const out: Uint8Array[] = []
    let b: SyntheticBlock | undefined = end
    for (const h of locatorHeights(end.height)) {
      while (b!.height > h) b = b!.parent
      out.push(b!.hash)
    }
    return out
  }

  /**
   * Mine one block on `parentHash`. Returns the new block (or the one
   * already held, if an identical header was built before).
   * @throws RangeError when the parent is unknown.
   */
  extend(parentHash: Uint8Array, opts: ExtendOptions): SyntheticBlock {
    const parent = this.require(parentHash)
    const height = parent.height + 1
    const { block, hash } = buildBlock(
      {
        prevBlock: parent.hash,
        height,
        time: opts.time,
        // No difficulty adjustment: regtest never retargets, and simulations keep their bits.
        bits: parent.header.bits,
        version: opts.version ?? this.version,
        txs: opts.txs,
        coinbaseValue: blockSubsidy(height, halvingIntervalOf(this.params)),
        payoutKeyHash: opts.payoutKeyHash ?? randomBytes(this.random, HASH160_BYTES),
        minerTag: opts.minerTag ?? this.minerTag,
      },
      this.params,
      this.random,
    )
    const known = this.get(hash)
    if (known !== undefined) return known
    const entry: SyntheticBlock = {
      hash,
      header: block.header,
      height,
      chainWork: parent.chainWork + workFromBits(block.header.bits),
      parent,
      block,
      raw: serializeBlock(block),
      sequence: this.byHash.size,
    }
    this.byHash.set(toHex(hash), entry)
    // Strictly more work: an equal-work branch does not displace the tip seen first.
    if (entry.chainWork > this.tip.chainWork) this.activate(entry)
    return entry
  }

  /**
   * Mine `n` blocks in a row on `fromHash` (a new branch when fromHash is
   * not a tip). Returns them in order; the last is the branch's tip.
   */
  fork(fromHash: Uint8Array, n: number, opts: ForkOptions = {}): SyntheticBlock[] {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`fork: block count must be a non-negative integer, got ${n}`)
    let parent = this.require(fromHash)
    const spacing = opts.spacing ?? this.params.targetSpacing
    let time = opts.time ?? parent.header.time + spacing
    const out: SyntheticBlock[] = []
    for (let i = 0; i < n; i++) {
      parent = this.extend(parent.hash, { time, minerTag: opts.minerTag, version: opts.version })
      out.push(parent)
      time += spacing
    }
    return out
  }

  /**
   * Answer getheaders (see the module documentation): the blocks whose
   * headers Core would send, in ascending height.
   */
  locate(locator: readonly Uint8Array[], hashStop: Uint8Array, limit: number = MAX_HEADERS_RESULTS): SyntheticBlock[] {
    if (locator.length === 0) {
      // Core: a null locator asks for the hashStop block alone, on whatever branch.
      const stop = isNullHashStop(hashStop) ? undefined : this.get(hashStop)
      return stop === undefined || limit < 1 ? [] : [stop]
    }
    const out: SyntheticBlock[] = []
    for (let h = this.forkPoint(locator).height + 1; h < this.active.length && out.length < limit; h++) {
      const b = this.active[h]!
      out.push(b)
      if (bytesEqual(b.hash, hashStop)) break
    }
    return out
  }

  /** Answer getblocks: hashes of the active blocks after the fork point, hashStop excluded. */
  locateBlocks(locator: readonly Uint8Array[], hashStop: Uint8Array, limit: number = MAX_GETBLOCKS_RESULTS): Uint8Array[] {
    const out: Uint8Array[] = []
    for (let h = this.forkPoint(locator).height + 1; h < this.active.length && out.length < limit; h++) {
      const b = this.active[h]!
      if (bytesEqual(b.hash, hashStop)) break
      out.push(b.hash)
    }
    return out
  }

  /**
   * Core's FindForkInGlobalIndex: the first locator entry that is on the
   * active chain; a known entry whose ancestor at the tip's height is the tip
   * gives the tip; genesis when nothing matches.
   */
  private forkPoint(locator: readonly Uint8Array[]): SyntheticBlock {
    const tip = this.tip
    for (const hash of locator) {
      const b = this.get(hash)
      if (b === undefined) continue
      if (this.active[b.height] === b) return b
      if (this.ancestorAt(b.hash, tip.height) === tip) return tip
    }
    return this.genesis
  }

  /** Make `entry` the tip: rewrite the active chain from the fork point up. */
  private activate(entry: SyntheticBlock): void {
    this.active.length = entry.height + 1
    let b: SyntheticBlock | undefined = entry
    while (b !== undefined && this.active[b.height] !== b) {
      this.active[b.height] = b
      b = b.parent
    }
  }

  private require(hash: Uint8Array): SyntheticBlock {
    const b = this.get(hash)
    if (b === undefined) throw new RangeError(`unknown block ${toHex(hash)}`)
    return b
  }
}
