/**
 * CompactBlockMachine: rebuild blocks announced as BIP152 `cmpctblock` from
 * transactions we already hold. Sans-IO: every input carries `now` (driver
 * ms); what to send and what came of it are actions the driver drains with
 * `poll()`. CompactRelay (driver/services/compact-relay.ts) is its driver.
 *
 * Protocol (BIP152, as Core's PartiallyDownloadedBlock does it):
 *  1. A peer sends `cmpctblock` (pushed unasked in high-bandwidth mode, or
 *     as the answer to our getdata(MSG_CMPCT_BLOCK) after an announcement
 *     in low-bandwidth mode): the header, a nonce, one 6-byte short id per
 *     transaction and a few whole ("prefilled") transactions, at least the
 *     coinbase.
 *  2. The short id of a transaction is the low 48 bits of SipHash-2-4 of its
 *     txid (version 1) or wtxid (version 2), keyed by
 *     sha256(header || nonce)[0..16). We hash every candidate under the
 *     block's key and put each one whose short id the block lists in its
 *     slot. The candidates are, in this order: the transactions the driver
 *     holds (its mempool view, passed with each cmpctblock), the extra
 *     transactions (below), and what other peers' attempts at the same
 *     block taught us (their prefilled and blocktxn transactions).
 *  3. When every slot is filled, the merkle root (and the BIP141 witness
 *     commitment) decide: a match is the block ('mempool'); a mismatch means
 *     some candidate only shared a short id with the real transaction (a
 *     collision, 2^-48 a pair, or crafted): that attempt failed.
 *  4. Otherwise `getblocktxn` asks the same peer for the missing indexes;
 *     its `blocktxn` fills them and the same check decides ('blocktxn', or
 *     a failed attempt after a mismatch).
 *  5. The full block (getdata MSG_WITNESS_BLOCK, or MSG_BLOCK for a version 1
 *     peer) is the fallback once every attempt at a block failed ('full').
 *
 * Parallel attempts (BIP152 high-bandwidth mode: up to 3 peers push the same
 * new block; Core keeps up to 3 compact downloads of one block in flight):
 *  - the cmpctblock of one block is taken from up to `maxPeersPerBlock`
 *    (MAX_COMPACT_PEERS_PER_BLOCK) peers, each an attempt of its own (its
 *    own nonce, so its own short ids and slots). A second peer's cmpctblock
 *    that completes the block from the candidates delivers it while the
 *    first still waits for its blocktxn;
 *  - when the block is delivered, the other attempts are cancelled: a late
 *    blocktxn of theirs is ignored, never scored;
 *  - an attempt that fails (a commitment mismatch, duplicate short ids, a
 *    blocktxn that never came) ends alone while another attempt still runs
 *    ('attempt-failed'); its peer did nothing provably wrong and is not
 *    punished. Only when the last attempt ends does the block fall back to
 *    the full block, from the earliest peer whose attempt failed that way
 *    (Core likewise falls back only from its first download). When that
 *    peer does not serve it (it leaves, says notfound, stalls, or sends an
 *    invalid block), the next such peer is asked, oldest first; with no such
 *    peer left (each left, offended or failed to serve it), the block fails.
 *    Each 'fallback' names the reason of that peer's own attempt.
 *
 * Extra transactions (as Core's vExtraTxnForCompact): transactions seen but
 * not in the driver's mempool view (rejected, replaced, orphaned ones the
 * driver reports with addExtraTransaction(), and the blocktxn transactions
 * of a failed attempt or of a late answer for a block not delivered) are
 * kept in a ring of `extraTxs` (DEFAULT_COMPACT_EXTRA_TXS) transactions,
 * oldest out first, and matched beside the mempool. One blocktxn puts at
 * most ceil(extraTxs / COMPACT_EXTRA_TXS_PER_MESSAGE_DIVISOR) of its
 * transactions (its first) into the ring, so one peer cannot flush it. A late blocktxn for a
 * block already delivered is not kept: its transactions are that block's,
 * confirmed, and no later block can hold them.
 *
 * Collisions, without punishing honest peers:
 *  - two of the block's own short ids equal: the attempt cannot be rebuilt
 *    from short ids (Core's READ_STATUS_FAILED) and fails at once;
 *  - two candidates (mempool or extra) with the short id of one slot:
 *    neither is trusted, the slot is asked for with getblocktxn (as Core);
 *  - a filled block whose merkle root or witness commitment is wrong: the
 *    attempt fails. The peer is not punished, since our own candidates may
 *    be the cause.
 * Offenses, only for what is provably wrong whatever we hold:
 *  - a cmpctblock with no transactions at all ('invalid-compact-block');
 *  - a cmpctblock whose header fails proof of work, when the config names a
 *    `powLimit` ('invalid-header');
 *  - a blocktxn with another count of transactions than we asked for
 *    ('invalid-compact-block', as Core); that attempt ends, the others go on;
 *  - a blocktxn for a block we sent this peer no getblocktxn for, or a
 *    second one for a getblocktxn it answered already (whether that answer
 *    delivered the block, mismatched or had the wrong count)
 *    ('unsolicited-blocktxn'). A late answer to one we gave up on (timeout)
 *    or cancelled (the block delivered or failed while it was unanswered;
 *    the last RETIRED_COMPACT_KEPT are remembered) is ignored;
 *  - a full block whose hash is the one we asked for but whose transactions
 *    do not match its header ('invalid-block'): a block is checkable alone.
 * A malformed message (bad indexes, counts over the limits, bytes that do not
 * decode) never reaches the machine: the wire codecs reject it and the peer
 * machine scores 'malformed-payload'.
 *
 * Bounds: at most `maxBlocksInFlight` blocks being rebuilt, at most
 * `maxAttemptsInFlight` attempts over all of them, at most `maxPeersPerBlock`
 * attempts at one block, and a peer in at most `maxBlocksPerPeer` of them; a
 * cmpctblock beyond is skipped (reported, not punished) and can still come
 * from another peer or in full. Each attempt holds one slot per transaction
 * of the block (at most MAX_CMPCT_INDEX + 1, the 16-bit index limit); what
 * attempts taught a block is at most its transaction count (as the first
 * cmpctblock read says, so at most MAX_CMPCT_INDEX + 1) and at most
 * MAX_COMPACT_LEARNED_BYTES. A peer gets one attempt per block: once its
 * attempt ended, its next cmpctblock of that block is skipped, so it cannot
 * cycle through attempts. A peer that leaves takes its attempts (and its
 * place in the rebuild) with it; one block takes on at most
 * COMPACT_ATTEMPTS_PER_BLOCK_LIFETIME_FACTOR x maxPeersPerBlock attempts
 * over its whole life, so peers that come and go (or one that reconnects
 * again and again) cannot keep a rebuild open forever. The hashes of the last
 * `recentBlocks` blocks delivered are remembered so that repeats are
 * ignored; a failed block is not, so another peer may still bring it.
 *
 * Deadlines (nextDeadline(); `timeout(now)` with nothing due does nothing):
 *  - a getdata(MSG_CMPCT_BLOCK) unanswered `cmpctTimeoutMs`: that attempt
 *    ends (the block fails when it was the only one);
 *  - a getblocktxn unanswered `blocktxnTimeoutMs`: that attempt failed
 *    (the full block follows when it was the last);
 *  - a full block unanswered `blockTimeoutMs`: the next peer whose attempt
 *    failed is asked (with a fresh deadline); with none left, the block fails.
 * Every block the machine takes on ends in exactly one 'block' or 'failed'.
 */
import {
  blockHash,
  blockSize,
  bytesEqual,
  hashToHex,
  hasWitness,
  InvType,
  txid as txidOf,
  verifyBlock,
  WireError,
  wtxid as wtxidOf,
  type Block,
  type BlockHeader,
  type InvItem,
  type KnownMessage,
  type Transaction,
  txSize,
} from '@bitp2p/wire'
import { compactSizeLength } from '@bitp2p/wire/codecs'
import type { CmpctblockMessage } from '@bitp2p/wire/messages'
import { checkMerkleRoot, checkWitnessCommitment } from '@bitp2p/wire/consensus'
import { shortId, shortIdKey, witnessMerkleRoot } from '@bitp2p/wire/hash'
import { MAX_BLOCK_SERIALIZED_SIZE, MAX_CMPCT_INDEX, SHORTTXID_BYTES } from '@bitp2p/wire/limits'
import { checkHeaderPow } from './chain/validation.js'
import { FRAME_HEADER_BYTES } from './meter.js'
import type { Offense } from './fsm/misbehavior.js'

/** Blocks rebuilt at once, over all peers (Core's MAX_BLOCKS_IN_TRANSIT_PER_PEER, 16, as a total: a relay follows the tip). */
export const DEFAULT_MAX_COMPACT_BLOCKS_IN_FLIGHT = 16
/** Blocks rebuilt at once from one peer (bcoin keeps at most 15 per peer; a tip moves one block at a time). */
export const DEFAULT_MAX_COMPACT_BLOCKS_PER_PEER = 4
/**
 * Peers whose cmpctblock for one block is taken on at once: BIP152 lets a
 * node pick up to 3 high-bandwidth peers, which all push the same new block
 * (Core's MAX_CMPCTBLOCKS_INFLIGHT_PER_BLOCK is 3 too).
 */
export const MAX_COMPACT_PEERS_PER_BLOCK = 3
/**
 * Attempts one block may take on over its whole life, as a multiple of
 * `maxPeersPerBlock` (2 x 3 = 6 by default): room for each of the first
 * peers to be replaced once (one left, another pushes the block), but a peer
 * that reconnects again and again, pushing the same header each time, cannot
 * keep one rebuild open forever. Beyond, a cmpctblock is skipped ('busy').
 */
export const COMPACT_ATTEMPTS_PER_BLOCK_LIFETIME_FACTOR = 2
/**
 * Serialized bytes of the transactions that attempts at one block taught it
 * (prefilled, blocktxn), beside the count cap (the block's transaction
 * count): an honest block holds at most MAX_BLOCK_SERIALIZED_SIZE bytes of
 * transactions, so this bounds what peers' made-up transactions cost.
 */
export const MAX_COMPACT_LEARNED_BYTES = MAX_BLOCK_SERIALIZED_SIZE
/**
 * Attempts (one peer's cmpctblock for one block) at once over all blocks.
 * A race at the tip is one block from 3 peers; 32 leaves room for a burst of
 * blocks and bounds the slot arrays held to 32.
 */
export const DEFAULT_MAX_COMPACT_ATTEMPTS_IN_FLIGHT = 32
/** Extra transactions (seen, not in the mempool view) kept for reconstruction; Core's -blockreconstructionextratxn default is 100 too. */
export const DEFAULT_COMPACT_EXTRA_TXS = 100
/**
 * One peer message (a blocktxn) puts at most ceil(extraTxs / this) of its
 * transactions into the extra ring (25 of the default 100): one large
 * mismatched blocktxn cannot flush what the app added.
 */
export const COMPACT_EXTRA_TXS_PER_MESSAGE_DIVISOR = 4
/** A getdata(MSG_CMPCT_BLOCK) unanswered this long ends that attempt. */
export const DEFAULT_CMPCT_TIMEOUT_MS = 10_000
/** A getblocktxn unanswered this long: that attempt failed (the full block follows when it was the last). */
export const DEFAULT_BLOCKTXN_TIMEOUT_MS = 10_000
/** A full block (the fallback) unanswered this long fails the block. */
export const DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS = 60_000
/** Block hashes remembered as delivered, so a repeated cmpctblock is ignored. */
export const DEFAULT_RECENT_COMPACT_BLOCKS = 1_000
/** Attempts given up on or cancelled whose peer may still answer late: a late blocktxn for one of these is ignored, not punished. */
export const RETIRED_COMPACT_KEPT = 64

/**
 * A transaction the driver holds, offered to every rebuild. The ids must be
 * the transaction's own (computed by the driver, never taken from a peer):
 * the rebuilt block's merkle root and witness commitment are checked from
 * them without hashing the transaction again.
 */
export interface CompactCandidate {
  readonly tx: Transaction
  readonly txid: Uint8Array
  /** The wtxid (the txid for a transaction without witness). */
  readonly wtxid: Uint8Array
}

/** sendcmpct version spoken with a peer: 1 short ids of txids, 2 of wtxids (BIP152, segwit). */
export type CompactVersion = 1 | 2

/** Configuration of a CompactBlockMachine; every field has a default. */
export interface CompactBlockConfig {
  /** Default DEFAULT_MAX_COMPACT_BLOCKS_IN_FLIGHT. */
  readonly maxBlocksInFlight?: number
  /** Default DEFAULT_MAX_COMPACT_BLOCKS_PER_PEER. */
  readonly maxBlocksPerPeer?: number
  /** Peers whose cmpctblock for one block is taken on at once. Default MAX_COMPACT_PEERS_PER_BLOCK; 1 takes each block from its first peer only. */
  readonly maxPeersPerBlock?: number
  /** Attempts at once over all blocks. Default DEFAULT_MAX_COMPACT_ATTEMPTS_IN_FLIGHT. */
  readonly maxAttemptsInFlight?: number
  /** Extra transactions kept for reconstruction. Default DEFAULT_COMPACT_EXTRA_TXS; 0 keeps none. */
  readonly extraTxs?: number
  /** Default DEFAULT_CMPCT_TIMEOUT_MS. */
  readonly cmpctTimeoutMs?: number
  /** Default DEFAULT_BLOCKTXN_TIMEOUT_MS. */
  readonly blocktxnTimeoutMs?: number
  /** Default DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS. */
  readonly blockTimeoutMs?: number
  /** Default DEFAULT_RECENT_COMPACT_BLOCKS. */
  readonly recentBlocks?: number
  /** The network's proof-of-work limit: when set, a cmpctblock's header must meet its own target (else 'invalid-header'). */
  readonly powLimit?: bigint
}

/** How a block was rebuilt. */
export type ReconstructionKind =
  /** From prefilled transactions and candidates alone: no round trip after the cmpctblock. */
  | 'mempool'
  /** With the transactions one getblocktxn fetched. */
  | 'blocktxn'
  /** The full block, after the reconstruction failed. */
  | 'full'

/** Why a reconstruction attempt failed (and, for the last one, why the full block was asked for). */
export type CompactFallbackReason =
  /** Two of the block's short ids are equal: the block cannot be rebuilt from them. */
  | 'duplicate-short-ids'
  /** Filled from candidates, the block's merkle root or witness commitment did not match (a short id collision). */
  | 'mempool-mismatch'
  /** Filled with the peer's blocktxn, the block still did not match (a collision among our candidates, or a wrong blocktxn). */
  | 'blocktxn-mismatch'
  /** The getblocktxn went unanswered for blocktxnTimeoutMs. */
  | 'blocktxn-timeout'

/** Why a block the machine took on (or one attempt at it) was not delivered. */
export type CompactFailureReason =
  /** The cmpctblock or the full block did not come in time. */
  | 'timeout'
  /** The peer answered notfound. */
  | 'notfound'
  /** The peer left (or its request failed) before the block was complete. */
  | 'peer-gone'
  /** The peer served provably invalid data for this block (see the offense). */
  | 'invalid'

/** Counts and sizes of one delivered block. */
export interface ReconstructionStats {
  /** Transactions in the block. */
  readonly txs: number
  /** Transactions the delivering peer's cmpctblock carried whole. */
  readonly prefilled: number
  /** Transactions taken from the driver's candidates (its mempool view). */
  readonly fromMempool: number
  /** Transactions taken from the extra transactions or from what other peers' attempts at this block sent. */
  readonly fromExtra: number
  /** Transactions fetched with getblocktxn (0 when none was sent). */
  readonly fetched: number
  /** Slots two or more candidates claimed (each was asked for instead). */
  readonly collisions: number
  /** Peers whose cmpctblock for this block was taken on (or asked for), the delivering one included. */
  readonly attempts: number
  /** Wire bytes received for this block as v1 frames, from every attempt: cmpctblocks + blocktxns + full block, each with its 24-byte header. */
  readonly bytesReceived: number
  /** The block as a v1 `block` frame would be: blockSize + 24. */
  readonly fullBlockBytes: number
  /** `now` of the first cmpctblock (or of the announcement in low-bandwidth mode). */
  readonly startedAt: number
  /** `now` of the delivery. */
  readonly finishedAt: number
}

/** What the machine asks its driver to do, or tells it. */
export type CompactAction<P> =
  /** Send `message` (a getblocktxn) to `peer`. */
  | { readonly type: 'send'; readonly peer: P; readonly message: KnownMessage }
  /**
   * A getdata for one block the driver sends as a request, so that its
   * answer comes back through blockReceived / blockFailed: the full block
   * (MSG_WITNESS_BLOCK or MSG_BLOCK), or in low-bandwidth mode the
   * cmpctblock (MSG_CMPCT_BLOCK; that reply arrives as a cmpctblock input,
   * a full block in its place through blockReceived).
   */
  | { readonly type: 'request-block'; readonly peer: P; readonly hash: Uint8Array; readonly item: InvItem }
  /** A block, rebuilt (or fetched whole) and checked against its header. */
  | {
      readonly type: 'block'
      readonly peer: P
      readonly hash: Uint8Array
      readonly block: Block
      readonly how: ReconstructionKind
      /** Why the full block was needed, for how = 'full'. */
      readonly fallback: CompactFallbackReason | undefined
      readonly stats: ReconstructionStats
    }
  /** One peer's attempt at a block ended without it while other attempts go on; no fallback yet, nobody punished for it. */
  | { readonly type: 'attempt-failed'; readonly peer: P; readonly hash: Uint8Array; readonly reason: CompactFallbackReason | CompactFailureReason }
  /**
   * Every attempt failed and the full block is asked for from `peer` (a
   * 'request-block' follows); again from the next such peer when the one
   * asked before left, said notfound, stalled or sent an invalid block.
   * `reason`: why `peer`'s own attempt failed.
   */
  | { readonly type: 'fallback'; readonly peer: P; readonly hash: Uint8Array; readonly reason: CompactFallbackReason }
  /** A block the machine took on ends without one (`peer`: the last one it waited on). */
  | { readonly type: 'failed'; readonly peer: P; readonly hash: Uint8Array; readonly reason: CompactFailureReason }
  /** A cmpctblock not taken on: the block is done or its full block asked for, this peer already sent it, or a cap is reached. */
  | { readonly type: 'skipped'; readonly peer: P; readonly hash: Uint8Array; readonly reason: 'known' | 'busy' }
  /** `peer` sent something provably wrong; the driver reports it (score, disconnect). */
  | { readonly type: 'punish'; readonly peer: P; readonly offense: Offense }

/** Where a rebuild (or one peer's attempt at it) stands. */
export type CompactStage =
  /** getdata(MSG_CMPCT_BLOCK) sent after an announcement; waiting for the cmpctblock. */
  | 'cmpct'
  /** getblocktxn sent; waiting for the blocktxn. */
  | 'blocktxn'
  /** The full block asked for. */
  | 'full'

/** One peer's cmpctblock for a block (or our request for it), rebuilt on its own short ids. */
interface Attempt<P> {
  readonly peer: P
  stage: 'cmpct' | 'blocktxn'
  deadline: number
  version: CompactVersion
  /** One slot per transaction of the block; undefined while missing. */
  slots: (Transaction | undefined)[]
  /** The txid and wtxid of each filled slot. */
  txids: Uint8Array[]
  wtxids: Uint8Array[]
  /** Indexes asked with getblocktxn, ascending. */
  missing: number[]
  prefilled: number
  fromMempool: number
  fromExtra: number
  fetched: number
  collisions: number
  /** Its blocktxn came (whatever it held): a second one is unsolicited, never a late answer. */
  answered: boolean
}

/** A block being rebuilt: its live attempts, or (after they all failed) its full-block request. */
interface Rebuild<P> {
  readonly key: string
  readonly hash: Uint8Array
  readonly startedAt: number
  header: BlockHeader | undefined
  /** Live attempts, oldest first; empty once the full block is asked for. */
  attempts: Attempt<P>[]
  /** Attempts ever taken on (stats). */
  taken: number
  /** Every peer still connected that had an attempt at this block: one attempt per peer, however it ended. A peer that leaves is dropped (removePeer). */
  peers: P[]
  /** Transactions of the block, from the first cmpctblock read (0 before): the cap of `learned`. */
  txCount: number
  /**
   * Peers whose attempt failed without an offense, oldest first, each with
   * its own attempt's reason: who is asked for the full block. The first is
   * the one asked; when it fails to serve it, it is dropped and the next is
   * asked.
   */
  tried: { readonly peer: P; readonly version: CompactVersion; readonly reason: CompactFallbackReason }[]
  /** The reason of the attempt of the peer the full block is asked of: the fallback's reason. */
  fallback: CompactFallbackReason | undefined
  /** Transactions the attempts' peers sent whole (prefilled, blocktxn), by wtxid, at most txCount: candidates for the next attempt. */
  learned: Map<string, CompactCandidate>
  /** Serialized bytes of `learned`, at most MAX_COMPACT_LEARNED_BYTES. */
  learnedBytes: number
  /** Set once every attempt failed and the full block is asked for. */
  full: { readonly peer: P; readonly version: CompactVersion; readonly deadline: number } | undefined
  bytes: number
}

/** A getblocktxn given up on (or cancelled) whose answer may still come. */
interface Retired<P> {
  readonly key: string
  readonly peer: P
  /** Its late answer already went into the extra transactions. */
  used: boolean
}

function positive(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt
  if (!Number.isInteger(x) || x < 1) throw new RangeError(`CompactBlockMachine: ${name} must be a positive integer, got ${x}`)
  return x
}

function nonNegative(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt
  if (!Number.isInteger(x) || x < 0) throw new RangeError(`CompactBlockMachine: ${name} must be a non-negative integer, got ${x}`)
  return x
}

/** The key of a block hash in the machine's maps. */
function keyOf(hash: Uint8Array): string {
  return hashToHex(hash)
}

const FAILURE_REASONS: ReadonlySet<string> = new Set<CompactFailureReason>(['timeout', 'notfound', 'peer-gone', 'invalid'])

function isFailure(reason: CompactFallbackReason | CompactFailureReason): reason is CompactFailureReason {
  return FAILURE_REASONS.has(reason)
}

/** A transaction's candidate form: its own ids, hashed here. */
function candidateOf(tx: Transaction): CompactCandidate {
  const id = txidOf(tx)
  return { tx, txid: id, wtxid: hasWitness(tx) ? wtxidOf(tx) : id }
}

/** Payload bytes of a cmpctblock, as it travels (each prefilled index differential, each tx with its witness). */
export function cmpctblockBytes(m: CmpctblockMessage): number {
  let n = 80 + 8 + compactSizeLength(m.shortIds.length) + m.shortIds.length * SHORTTXID_BYTES + compactSizeLength(m.prefilledTxs.length)
  let next = 0
  for (const p of m.prefilledTxs) {
    n += compactSizeLength(p.index - next) + txSize(p.tx)
    next = p.index + 1
  }
  return n
}

/** The rebuild policy of BIP152 compact blocks; see the module comment. */
export class CompactBlockMachine<P> {
  private readonly maxInFlight: number
  private readonly maxPerPeer: number
  private readonly maxPeersPerBlock: number
  /** Attempts one block may take on over its whole life: COMPACT_ATTEMPTS_PER_BLOCK_LIFETIME_FACTOR x maxPeersPerBlock. */
  private readonly maxTakenPerBlock: number
  private readonly maxAttempts: number
  private readonly cmpctTimeoutMs: number
  private readonly blocktxnTimeoutMs: number
  private readonly blockTimeoutMs: number
  private readonly recentCapacity: number
  private readonly powLimit: bigint | undefined
  private readonly rebuilds = new Map<string, Rebuild<P>>()
  /** Finished or failed blocks, oldest first. */
  private readonly recent = new Set<string>()
  /** (block, peer) pairs whose getblocktxn we gave up on or cancelled, oldest first. */
  private readonly retired: Retired<P>[] = []
  /** The extra transactions, by wtxid, oldest first (a ring of extraCapacity). */
  private readonly extra = new Map<string, CompactCandidate>()
  private readonly extraCapacity: number
  /** Transactions one peer message may put into the ring: ceil(extraCapacity / COMPACT_EXTRA_TXS_PER_MESSAGE_DIVISOR). */
  private readonly extraPerMessage: number
  private readonly queue: CompactAction<P>[] = []
  private head = 0
  private readonly scratch = new Uint32Array(2)

  constructor(config: CompactBlockConfig = {}) {
    this.maxInFlight = positive('maxBlocksInFlight', config.maxBlocksInFlight, DEFAULT_MAX_COMPACT_BLOCKS_IN_FLIGHT)
    this.maxPerPeer = positive('maxBlocksPerPeer', config.maxBlocksPerPeer, DEFAULT_MAX_COMPACT_BLOCKS_PER_PEER)
    this.maxPeersPerBlock = positive('maxPeersPerBlock', config.maxPeersPerBlock, MAX_COMPACT_PEERS_PER_BLOCK)
    this.maxTakenPerBlock = COMPACT_ATTEMPTS_PER_BLOCK_LIFETIME_FACTOR * this.maxPeersPerBlock
    this.maxAttempts = positive('maxAttemptsInFlight', config.maxAttemptsInFlight, DEFAULT_MAX_COMPACT_ATTEMPTS_IN_FLIGHT)
    this.extraCapacity = nonNegative('extraTxs', config.extraTxs, DEFAULT_COMPACT_EXTRA_TXS)
    this.extraPerMessage = Math.ceil(this.extraCapacity / COMPACT_EXTRA_TXS_PER_MESSAGE_DIVISOR)
    this.cmpctTimeoutMs = positive('cmpctTimeoutMs', config.cmpctTimeoutMs, DEFAULT_CMPCT_TIMEOUT_MS)
    this.blocktxnTimeoutMs = positive('blocktxnTimeoutMs', config.blocktxnTimeoutMs, DEFAULT_BLOCKTXN_TIMEOUT_MS)
    this.blockTimeoutMs = positive('blockTimeoutMs', config.blockTimeoutMs, DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS)
    this.recentCapacity = positive('recentBlocks', config.recentBlocks, DEFAULT_RECENT_COMPACT_BLOCKS)
    this.powLimit = config.powLimit
  }

  /** Blocks being rebuilt. */
  get inFlight(): number {
    return this.rebuilds.size
  }

  /** Attempts running over all blocks (a block waiting for its full block counts none). */
  get attemptsInFlight(): number {
    let n = 0
    for (const r of this.rebuilds.values()) n += r.attempts.length
    return n
  }

  /** Blocks being rebuilt in which `peer` has an attempt or is asked for the full block. */
  inFlightOf(peer: P): number {
    let n = 0
    for (const r of this.rebuilds.values()) if (r.full?.peer === peer || r.attempts.some((a) => a.peer === peer)) n++
    return n
  }

  /** Extra transactions held. */
  get extraSize(): number {
    return this.extra.size
  }

  /**
   * Where the rebuild of `hash` stands, or undefined when none runs: 'full'
   * once the full block is asked for, else 'blocktxn' when any attempt waits
   * for a blocktxn, else 'cmpct'. With `peer`: where that peer's attempt
   * stands (undefined when it has none).
   */
  stageOf(hash: Uint8Array, peer?: P): CompactStage | undefined {
    const r = this.rebuilds.get(keyOf(hash))
    if (r === undefined) return undefined
    if (peer !== undefined) return r.full?.peer === peer ? 'full' : r.attempts.find((a) => a.peer === peer)?.stage
    if (r.full !== undefined) return 'full'
    return r.attempts.some((a) => a.stage === 'blocktxn') ? 'blocktxn' : 'cmpct'
  }

  /** Whether `hash` was delivered recently, or is being rebuilt. */
  isKnown(hash: Uint8Array): boolean {
    const k = keyOf(hash)
    return this.rebuilds.has(k) || this.recent.has(k)
  }

  /** The next action, or undefined when none is queued. */
  poll(): CompactAction<P> | undefined {
    if (this.head >= this.queue.length) {
      if (this.head > 0) {
        this.queue.length = 0
        this.head = 0
      }
      return undefined
    }
    return this.queue[this.head++]
  }

  /** Every queued action. */
  drain(): CompactAction<P>[] {
    const all: CompactAction<P>[] = []
    for (let a = this.poll(); a; a = this.poll()) all.push(a)
    return all
  }

  /** The earliest deadline (call timeout() then), or undefined when nothing is timed. */
  nextDeadline(): number | undefined {
    let at: number | undefined
    const see = (d: number): void => {
      if (at === undefined || d < at) at = d
    }
    for (const r of this.rebuilds.values()) {
      if (r.full !== undefined) see(r.full.deadline)
      for (const a of r.attempts) see(a.deadline)
    }
    return at
  }

  /**
   * A transaction seen but not among the driver's candidates (rejected,
   * replaced, orphaned...): kept in the extra ring (the oldest leaves at
   * `extraTxs`) and matched beside the candidates by every later
   * cmpctblock. The ids must be the transaction's own, as for any
   * candidate. One already held (same wtxid) is not added twice.
   */
  addExtraTransaction(c: CompactCandidate): void {
    if (this.extraCapacity === 0) return
    const k = hashToHex(c.wtxid)
    if (this.extra.has(k)) return
    this.extra.set(k, c)
    if (this.extra.size > this.extraCapacity) this.extra.delete(this.extra.keys().next().value!)
  }

  /**
   * Low-bandwidth mode: `peer` announced block `hash` (inv or headers).
   * Asks it for the cmpctblock ('request-block' of MSG_CMPCT_BLOCK), unless
   * the block is known or a cap is reached (then nothing happens: the
   * announcement is not ours to judge).
   */
  announced(now: number, peer: P, hash: Uint8Array, version: CompactVersion): void {
    const key = keyOf(hash)
    if (this.rebuilds.has(key) || this.recent.has(key) || !this.hasRoom(peer, true)) return
    const r = this.open(now, hash, key)
    this.attempt(r, peer, version, now + this.cmpctTimeoutMs)
    // A request, not a bare send: BIP152 lets the peer answer with the full block (Core and bcoin do for old blocks).
    this.push({ type: 'request-block', peer, hash, item: { type: InvType.MSG_CMPCT_BLOCK, hash } })
  }

  /**
   * A cmpctblock from `peer`, spoken in `version`; `candidates` are the
   * transactions we hold (iterated once, synchronously).
   */
  cmpctblock(now: number, peer: P, msg: CmpctblockMessage, version: CompactVersion, candidates: Iterable<CompactCandidate>): void {
    const hash = blockHash(msg.header)
    const key = keyOf(hash)
    const total = msg.shortIds.length + msg.prefilledTxs.length
    if (total === 0) {
      // Every block has a coinbase (Core: READ_STATUS_INVALID).
      return this.offend(peer, { kind: 'invalid-compact-block', hash: hashToHex(hash), detail: 'no transactions' })
    }
    if (this.powLimit !== undefined) {
      const pow = checkHeaderPow(msg.header, hash, { powLimit: this.powLimit })
      if (!pow.ok) return this.offend(peer, { kind: 'invalid-header', error: pow.error })
    }
    let r = this.rebuilds.get(key)
    let a: Attempt<P> | undefined
    if (r !== undefined) {
      // The full block is asked for already: it settles the block.
      if (r.full !== undefined) return this.push({ type: 'skipped', peer, hash, reason: 'known' })
      a = r.attempts.find((x) => x.peer === peer)
      if (a !== undefined) {
        // Our own low-bandwidth request answered: go on. A second cmpctblock from one peer is a repeat.
        if (a.stage !== 'cmpct') return this.push({ type: 'skipped', peer, hash, reason: 'known' })
        a.version = version
      } else if (r.peers.includes(peer)) {
        // Its attempt ended (failed, or it offended): one attempt per peer, so a peer cannot cycle through them.
        return this.push({ type: 'skipped', peer, hash, reason: 'known' })
      } else {
        // At most maxPeersPerBlock at once, and maxTakenPerBlock over the block's life (peers that come and go).
        if (r.attempts.length >= this.maxPeersPerBlock || r.taken >= this.maxTakenPerBlock || !this.hasRoom(peer, false)) {
          return this.push({ type: 'skipped', peer, hash, reason: 'busy' })
        }
        a = this.attempt(r, peer, version, now)
      }
    } else {
      if (this.recent.has(key)) return this.push({ type: 'skipped', peer, hash, reason: 'known' })
      if (!this.hasRoom(peer, true)) return this.push({ type: 'skipped', peer, hash, reason: 'busy' })
      r = this.open(now, hash, key)
      a = this.attempt(r, peer, version, now)
    }
    r.header = msg.header
    if (r.txCount === 0) r.txCount = total
    r.bytes += FRAME_HEADER_BYTES + cmpctblockBytes(msg)

    const slots: (Transaction | undefined)[] = new Array<Transaction | undefined>(total).fill(undefined)
    a.slots = slots
    a.txids = new Array<Uint8Array>(total)
    a.wtxids = new Array<Uint8Array>(total)
    const sent: CompactCandidate[] = []
    for (const p of msg.prefilledTxs) sent.push(this.fill(a, p.index, p.tx))
    a.prefilled = msg.prefilledTxs.length

    // Short id -> slot. The short ids fill the slots the prefilled ones leave, in order.
    const bySid = new Map<number, number>()
    let s = 0
    let duplicate = false
    for (const sid of msg.shortIds) {
      while (slots[s] !== undefined) s++
      if (bySid.has(sid)) duplicate = true
      bySid.set(sid, s)
      s++
    }
    if (duplicate) return this.attemptFailed(now, r, a, 'duplicate-short-ids')

    // Match the candidates: the driver's, then the extra ring, then what other attempts learned.
    // A slot claimed by two different transactions is trusted to neither.
    const sidKey = shortIdKey(msg.header, msg.nonce)
    const byWtxid = version === 2
    const claimed = new Map<number, { readonly c: CompactCandidate; readonly extra: boolean }>()
    const contested = new Set<number>()
    const offer = (c: CompactCandidate, extra: boolean): void => {
      const slot = bySid.get(shortId(sidKey, byWtxid ? c.wtxid : c.txid, this.scratch))
      if (slot === undefined || contested.has(slot)) return
      const had = claimed.get(slot)
      if (had === undefined) claimed.set(slot, { c, extra })
      else if (!bytesEqual(had.c.wtxid, c.wtxid)) {
        claimed.delete(slot)
        contested.add(slot)
      }
    }
    for (const c of candidates) offer(c, false)
    for (const c of this.extra.values()) offer(c, true)
    for (const c of r.learned.values()) offer(c, true)
    let fromExtra = 0
    for (const [slot, { c, extra }] of claimed) {
      slots[slot] = c.tx
      a.txids[slot] = c.txid
      a.wtxids[slot] = c.wtxid
      if (extra) fromExtra++
    }
    a.fromMempool = claimed.size - fromExtra
    a.fromExtra = fromExtra
    a.collisions = contested.size
    // Learned after matching: this attempt's own prefilled transactions are not its candidates.
    for (const c of sent) this.learn(r, c)

    const missing: number[] = []
    for (let i = 0; i < total; i++) if (slots[i] === undefined) missing.push(i)
    if (missing.length === 0) {
      if (this.matches(r, a)) return this.deliver(now, r, a.peer, { header: r.header, txs: slots as Transaction[] }, 'mempool', a)
      return this.attemptFailed(now, r, a, 'mempool-mismatch')
    }
    if (missing.length - 1 > MAX_CMPCT_INDEX) return this.attemptFailed(now, r, a, 'mempool-mismatch')
    a.missing = missing
    a.stage = 'blocktxn'
    a.deadline = now + this.blocktxnTimeoutMs
    this.push({ type: 'send', peer, message: { command: 'getblocktxn', blockHash: hash, indexes: missing } })
  }

  /** A blocktxn from `peer`. */
  blocktxn(now: number, peer: P, blockHashBytes: Uint8Array, txs: readonly Transaction[]): void {
    const key = keyOf(blockHashBytes)
    const r = this.rebuilds.get(key)
    const a = r?.attempts.find((x) => x.peer === peer && x.stage === 'blocktxn')
    if (r === undefined || a === undefined) {
      const late = this.retired.find((x) => x.key === key && x.peer === peer)
      if (late === undefined) return this.offend(peer, { kind: 'unsolicited-blocktxn', hash: hashToHex(blockHashBytes) })
      // Late: we gave up on it or cancelled it. Not punished. For a block not delivered its transactions may
      // help the next attempt; a delivered block's are confirmed, no later block holds them.
      if (!late.used && !this.recent.has(key)) this.keepExtra(txs.slice(0, this.extraPerMessage).map(candidateOf))
      late.used = true
      return
    }
    r.bytes += FRAME_HEADER_BYTES + 32 + compactSizeLength(txs.length) + txs.reduce((n, tx) => n + txSize(tx), 0)
    // Answered: whatever comes of it, this attempt is not retired, so a second blocktxn is unsolicited.
    a.answered = true
    if (txs.length !== a.missing.length) {
      // Core: READ_STATUS_INVALID, Misbehaving(100). No collision explains a wrong count.
      this.attemptEnded(now, r, a, 'invalid')
      return this.offend(peer, {
        kind: 'invalid-compact-block',
        hash: hashToHex(r.hash),
        detail: `blocktxn carries ${txs.length} transactions, getblocktxn asked for ${a.missing.length}`,
      })
    }
    const got: CompactCandidate[] = []
    for (let i = 0; i < txs.length; i++) got.push(this.fill(a, a.missing[i]!, txs[i]!))
    for (const c of got) this.learn(r, c)
    a.fetched = txs.length
    if (this.matches(r, a)) return this.deliver(now, r, a.peer, { header: r.header!, txs: a.slots as Transaction[] }, 'blocktxn', a)
    // The peer's transactions, or our candidates, were not the block's: keep the peer's for later reconstructions.
    this.keepExtra(got)
    this.attemptFailed(now, r, a, 'blocktxn-mismatch')
  }

  /** The full block asked for with 'request-block' arrived from `peer`. */
  blockReceived(now: number, peer: P, block: Block, wireBytes?: number): void {
    const hash = blockHash(block.header)
    const r = this.rebuilds.get(keyOf(hash))
    if (r === undefined) return
    // A block nobody here asked for: the peer machine judges unsolicited blocks, not us.
    // Stage 'cmpct': the peer answered our getdata(MSG_CMPCT_BLOCK) with the full block, as BIP152 allows.
    const a = r.attempts.find((x) => x.peer === peer && x.stage === 'cmpct')
    if (a === undefined && r.full?.peer !== peer) return
    r.bytes += wireBytes ?? FRAME_HEADER_BYTES + blockSize(block)
    try {
      verifyBlock(block)
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      if (a !== undefined) this.attemptEnded(now, r, a, 'invalid')
      else this.fullFailed(now, r, peer, 'invalid')
      return this.offend(peer, { kind: 'invalid-block', hash: hashToHex(hash), error: e })
    }
    this.deliver(now, r, peer, block, 'full', undefined)
  }

  /** The request for the full block (or the cmpctblock) of `hash` failed: notfound, the request stalled or its peer left. */
  blockFailed(now: number, peer: P, hash: Uint8Array, reason: 'notfound' | 'peer-gone' | 'timeout'): void {
    const r = this.rebuilds.get(keyOf(hash))
    if (r === undefined) return
    if (r.full?.peer === peer) return this.fullFailed(now, r, peer, reason)
    const a = r.attempts.find((x) => x.peer === peer && x.stage === 'cmpct')
    if (a !== undefined) this.attemptEnded(now, r, a, reason)
  }

  /**
   * `peer` left: its attempts end ('peer-gone'; a block whose last attempt
   * it was falls back to the full block from a peer whose attempt failed
   * earlier, or fails), a full block asked of it is asked of the next such
   * peer (or fails), and it is no longer a candidate for any fallback.
   */
  removePeer(now: number, peer: P): void {
    for (const r of [...this.rebuilds.values()]) {
      r.tried = r.tried.filter((t) => t.peer !== peer)
      // A peer gone holds no place in the rebuild (r.taken still counts its attempt against the lifetime cap).
      const at = r.peers.indexOf(peer)
      if (at >= 0) r.peers.splice(at, 1)
      if (r.full?.peer === peer) {
        this.fullFailed(now, r, peer, 'peer-gone')
        continue
      }
      const a = r.attempts.find((x) => x.peer === peer)
      if (a !== undefined) this.attemptEnded(now, r, a, 'peer-gone')
    }
    for (let i = this.retired.length - 1; i >= 0; i--) if (this.retired[i]!.peer === peer) this.retired.splice(i, 1)
  }

  /** Deadlines due at `now`: see the module comment. Nothing due: nothing happens. */
  timeout(now: number): void {
    for (const r of [...this.rebuilds.values()]) {
      if (r.full !== undefined) {
        if (r.full.deadline <= now) this.fullFailed(now, r, r.full.peer, 'timeout')
        continue
      }
      for (const a of [...r.attempts]) {
        if (a.deadline > now) continue
        if (a.stage === 'blocktxn') this.attemptFailed(now, r, a, 'blocktxn-timeout')
        else this.attemptEnded(now, r, a, 'timeout')
        // The last attempt ended: the block failed or now waits for its full block (with a fresh deadline).
        if (r.full !== undefined || this.rebuilds.get(r.key) !== r) break
      }
    }
  }

  /** Forget every rebuild without actions (the driver stops). Recent hashes and the extra transactions are kept. */
  clear(): void {
    this.rebuilds.clear()
    this.retired.length = 0
    this.queue.length = 0
    this.head = 0
  }

  // --- internals -------------------------------------------------------------

  /** Room for one more attempt by `peer` (and, for `newBlock`, one more block). */
  private hasRoom(peer: P, newBlock: boolean): boolean {
    if (newBlock && this.rebuilds.size >= this.maxInFlight) return false
    return this.attemptsInFlight < this.maxAttempts && this.inFlightOf(peer) < this.maxPerPeer
  }

  private open(now: number, hash: Uint8Array, key: string): Rebuild<P> {
    const r: Rebuild<P> = {
      key,
      hash,
      startedAt: now,
      header: undefined,
      attempts: [],
      taken: 0,
      peers: [],
      txCount: 0,
      tried: [],
      fallback: undefined,
      learned: new Map(),
      learnedBytes: 0,
      full: undefined,
      bytes: 0,
    }
    this.rebuilds.set(key, r)
    return r
  }

  /** A new attempt at `r` by `peer`, in stage 'cmpct' until its cmpctblock is read. */
  private attempt(r: Rebuild<P>, peer: P, version: CompactVersion, deadline: number): Attempt<P> {
    const a: Attempt<P> = {
      peer,
      stage: 'cmpct',
      deadline,
      version,
      slots: [],
      txids: [],
      wtxids: [],
      missing: [],
      prefilled: 0,
      fromMempool: 0,
      fromExtra: 0,
      fetched: 0,
      collisions: 0,
      answered: false,
    }
    r.attempts.push(a)
    r.peers.push(peer)
    r.taken++
    return a
  }

  /** Put a transaction that came from the peer into its slot, hashing it for its ids. */
  private fill(a: Attempt<P>, slot: number, tx: Transaction): CompactCandidate {
    const c = candidateOf(tx)
    a.slots[slot] = tx
    a.txids[slot] = c.txid
    a.wtxids[slot] = c.wtxid
    return c
  }

  /**
   * Remember a transaction a peer sent whole for this block: the next
   * attempt's candidate. At most the block's transaction count, and at
   * most MAX_COMPACT_LEARNED_BYTES serialized bytes, are kept (an honest
   * peer sends only the block's own), whatever the peers send; one that
   * would pass the byte cap is not kept.
   */
  private learn(r: Rebuild<P>, c: CompactCandidate): void {
    if (r.learned.size >= r.txCount) return
    const k = hashToHex(c.wtxid)
    if (r.learned.has(k)) return
    const size = txSize(c.tx)
    if (r.learnedBytes + size > MAX_COMPACT_LEARNED_BYTES) return
    r.learned.set(k, c)
    r.learnedBytes += size
  }

  /**
   * All slots of `a` filled: check them against the header (verifyBlock's
   * checks, from the ids already known: candidates are not hashed again).
   */
  private matches(r: Rebuild<P>, a: Attempt<P>): boolean {
    try {
      checkMerkleRoot(r.header!, a.txids)
      let segwit = false
      for (let i = 0; i < a.txids.length && !segwit; i++) segwit = a.txids[i] !== a.wtxids[i] && !bytesEqual(a.txids[i]!, a.wtxids[i]!)
      if (segwit) checkWitnessCommitment(a.slots[0]!, witnessMerkleRoot(a.wtxids))
      return true
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      return false
    }
  }

  /** A reconstruction of `a` failed (no offense): its peer may be asked for the full block. */
  private attemptFailed(now: number, r: Rebuild<P>, a: Attempt<P>, reason: CompactFallbackReason): void {
    r.tried.push({ peer: a.peer, version: a.version, reason })
    this.attemptEnded(now, r, a, reason)
  }

  /**
   * Take `a` off `r`. Other attempts still running: that is all
   * ('attempt-failed'). It was the last: the full block from the earliest
   * peer whose reconstruction failed, or, with none, the block fails.
   */
  private attemptEnded(now: number, r: Rebuild<P>, a: Attempt<P>, reason: CompactFallbackReason | CompactFailureReason): void {
    // Only a getblocktxn still unanswered may be answered late; an answered one's repeat is unsolicited.
    if (a.stage === 'blocktxn' && !a.answered) this.retire(r.key, a.peer)
    r.attempts = r.attempts.filter((x) => x !== a)
    if (r.attempts.length > 0) return this.push({ type: 'attempt-failed', peer: a.peer, hash: r.hash, reason })
    const to = r.tried[0]
    // No peer to ask: a failed reconstruction always leaves one (attemptFailed added it), so `reason` is a failure here.
    if (to === undefined) return this.fail(r, a.peer, isFailure(reason) ? reason : 'invalid')
    this.toFull(now, r, to.peer, to.version, to.reason)
  }

  /**
   * The full block asked of `peer` did not come (it left, said notfound,
   * stalled, or sent an invalid one): ask the next peer whose attempt
   * failed; with none left, the block fails.
   */
  private fullFailed(now: number, r: Rebuild<P>, peer: P, reason: CompactFailureReason): void {
    r.tried = r.tried.filter((t) => t.peer !== peer)
    const next = r.tried[0]
    if (next === undefined) return this.fail(r, peer, reason)
    this.toFull(now, r, next.peer, next.version, next.reason)
  }

  private toFull(now: number, r: Rebuild<P>, peer: P, version: CompactVersion, reason: CompactFallbackReason): void {
    r.full = { peer, version, deadline: now + this.blockTimeoutMs }
    r.fallback = reason
    r.learned.clear()
    r.learnedBytes = 0
    this.push({ type: 'fallback', peer, hash: r.hash, reason })
    const item: InvItem = { type: version === 2 ? InvType.MSG_WITNESS_BLOCK : InvType.MSG_BLOCK, hash: r.hash }
    this.push({ type: 'request-block', peer, hash: r.hash, item })
  }

  /** Deliver the block; every other attempt is cancelled (a late blocktxn of theirs is ignored). */
  private deliver(now: number, r: Rebuild<P>, peer: P, block: Block, how: ReconstructionKind, a: Attempt<P> | undefined): void {
    // The winner is not retired: a second blocktxn from it is unsolicited.
    r.attempts = r.attempts.filter((x) => x !== a)
    this.close(r, true)
    // Extra transactions the block confirms can be in no later block: free their places in the ring.
    if (a !== undefined && this.extra.size > 0) for (const w of a.wtxids) this.extra.delete(hashToHex(w))
    this.push({
      type: 'block',
      peer,
      hash: r.hash,
      block,
      how,
      fallback: how === 'full' ? r.fallback : undefined,
      stats: {
        txs: block.txs.length,
        prefilled: a?.prefilled ?? 0,
        fromMempool: a?.fromMempool ?? 0,
        fromExtra: a?.fromExtra ?? 0,
        fetched: a?.fetched ?? 0,
        collisions: a?.collisions ?? 0,
        attempts: r.taken,
        bytesReceived: r.bytes,
        fullBlockBytes: FRAME_HEADER_BYTES + blockSize(block),
        startedAt: r.startedAt,
        finishedAt: now,
      },
    })
  }

  private fail(r: Rebuild<P>, peer: P, reason: CompactFailureReason): void {
    this.close(r, false)
    this.push({ type: 'failed', peer, hash: r.hash, reason })
  }

  /** End a rebuild, retiring its attempts' getblocktxns; a delivered block is remembered so repeats of it are skipped (a failed one may still come from another peer). */
  private close(r: Rebuild<P>, delivered: boolean): void {
    for (const a of r.attempts) if (a.stage === 'blocktxn' && !a.answered) this.retire(r.key, a.peer)
    r.attempts = []
    this.rebuilds.delete(r.key)
    if (!delivered) return
    this.recent.add(r.key)
    if (this.recent.size > this.recentCapacity) this.recent.delete(this.recent.values().next().value!)
  }

  /** A peer message's transactions into the extra ring: at most extraPerMessage of them (the first). */
  private keepExtra(cs: readonly CompactCandidate[]): void {
    const n = Math.min(cs.length, this.extraPerMessage)
    for (let i = 0; i < n; i++) this.addExtraTransaction(cs[i]!)
  }

  private retire(key: string, peer: P): void {
    this.retired.push({ key, peer, used: false })
    if (this.retired.length > RETIRED_COMPACT_KEPT) this.retired.shift()
  }

  private offend(peer: P, offense: Offense): void {
    this.push({ type: 'punish', peer, offense })
  }

  private push(a: CompactAction<P>): void {
    this.queue.push(a)
  }
}

/** Transactions a CompactTxPool holds by default. */
export const DEFAULT_COMPACT_POOL_TXS = 50_000
/** Serialized bytes a CompactTxPool holds by default: dozens of full blocks' worth of candidates, in bounded memory. */
export const DEFAULT_COMPACT_POOL_BYTES = 64_000_000

/**
 * The candidates of a compact block rebuild: recent transactions by txid,
 * oldest first, bounded by count and by serialized bytes (the oldest go
 * first when either cap is passed). Not a validating mempool: whatever the
 * driver saw relayed. A transaction that a block confirms is removed.
 */
export class CompactTxPool {
  /** Most transactions held. */
  readonly maxTxs: number
  /** Most serialized bytes held. */
  readonly maxBytes: number
  private readonly txs = new Map<string, { readonly c: CompactCandidate; readonly size: number }>()
  private total = 0

  constructor(opts: { readonly maxTxs?: number; readonly maxBytes?: number } = {}) {
    this.maxTxs = positive('maxTxs', opts.maxTxs, DEFAULT_COMPACT_POOL_TXS)
    this.maxBytes = positive('maxBytes', opts.maxBytes, DEFAULT_COMPACT_POOL_BYTES)
  }

  /** Transactions held. */
  get size(): number {
    return this.txs.size
  }

  /** Serialized bytes held. */
  get bytes(): number {
    return this.total
  }

  /** Hold `c` (a no-op when its txid is held already or it alone passes maxBytes); evicts the oldest beyond the caps. */
  add(c: CompactCandidate): void {
    const key = hashToHex(c.txid)
    if (this.txs.has(key)) return
    const size = txSize(c.tx)
    if (size > this.maxBytes) return
    this.txs.set(key, { c, size })
    this.total += size
    while (this.txs.size > this.maxTxs || this.total > this.maxBytes) {
      const [k, v] = this.txs.entries().next().value!
      this.txs.delete(k)
      this.total -= v.size
    }
  }

  /** Whether a transaction of this txid is held. */
  has(txidBytes: Uint8Array): boolean {
    return this.txs.has(hashToHex(txidBytes))
  }

  /** Drop the transactions of these txids (e.g. a block's). */
  remove(txids: Iterable<Uint8Array>): void {
    for (const id of txids) {
      const key = hashToHex(id)
      const v = this.txs.get(key)
      if (v === undefined) continue
      this.txs.delete(key)
      this.total -= v.size
    }
  }

  /** The candidates, oldest first. */
  *candidates(): IterableIterator<CompactCandidate> {
    for (const v of this.txs.values()) yield v.c
  }
}
