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
 *     sha256(header || nonce)[0..16). We hash every candidate (the
 *     transactions the driver holds) under the block's key and put each one
 *     whose short id the block lists in its slot.
 *  3. When every slot is filled, the merkle root (and the BIP141 witness
 *     commitment) decide: a match is the block ('mempool'); a mismatch means
 *     some candidate only shared a short id with the real transaction (a
 *     collision, 2^-48 a pair, or crafted), so the full block is asked for.
 *  4. Otherwise `getblocktxn` asks the same peer for the missing indexes;
 *     its `blocktxn` fills them and the same check decides ('blocktxn', or
 *     the full block after a mismatch).
 *  5. The full block (getdata MSG_WITNESS_BLOCK, or MSG_BLOCK for a version 1
 *     peer) is the fallback of every failed reconstruction ('full').
 *
 * Collisions, without punishing honest peers:
 *  - two of the block's own short ids equal: the block cannot be rebuilt
 *    from short ids (Core's READ_STATUS_FAILED): full block at once;
 *  - two candidates with the short id of one slot: neither is trusted, the
 *    slot is asked for with getblocktxn (Core does the same);
 *  - a filled block whose merkle root or witness commitment is wrong: full
 *    block. The peer is not punished, since our own candidates may be the
 *    cause.
 * Offenses, only for what is provably wrong whatever we hold:
 *  - a cmpctblock with no transactions at all ('invalid-compact-block');
 *  - a cmpctblock whose header fails proof of work, when the config names a
 *    `powLimit` ('invalid-header');
 *  - a blocktxn with another count of transactions than we asked for
 *    ('invalid-compact-block', as Core);
 *  - a blocktxn for a block we sent this peer no getblocktxn for
 *    ('unsolicited-blocktxn'). A late answer to one we gave up on (the last
 *    RETIRED_COMPACT_KEPT are remembered) is ignored, not punished;
 *  - a full block whose hash is the one we asked for but whose transactions
 *    do not match its header ('invalid-block'): a block is checkable alone.
 * A malformed message (bad indexes, counts over the limits, bytes that do not
 * decode) never reaches the machine: the wire codecs reject it and the peer
 * machine scores 'malformed-payload'.
 *
 * Bounds: at most `maxBlocksInFlight` blocks being rebuilt, at most
 * `maxBlocksPerPeer` of them from one peer; a cmpctblock beyond is skipped
 * (reported, not punished) and can still come from another peer or in full.
 * Each rebuild holds one slot per transaction of the block (at most
 * MAX_CMPCT_INDEX + 1, the 16-bit index limit). The hashes of the last
 * `recentBlocks` blocks delivered are remembered so that repeats are
 * ignored; a failed block is not, so another peer may still bring it.
 *
 * Deadlines (nextDeadline(); `timeout(now)` with nothing due does nothing):
 *  - a getdata(MSG_CMPCT_BLOCK) unanswered `cmpctTimeoutMs`: failed;
 *  - a getblocktxn unanswered `blocktxnTimeoutMs`: the full block is asked for;
 *  - a full block unanswered `blockTimeoutMs`: failed.
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
import { MAX_CMPCT_INDEX, SHORTTXID_BYTES } from '@bitp2p/wire/limits'
import { checkHeaderPow } from './chain/validation.js'
import { FRAME_HEADER_BYTES } from './meter.js'
import type { Offense } from './fsm/misbehavior.js'

/** Blocks rebuilt at once, over all peers (Core's MAX_BLOCKS_IN_TRANSIT_PER_PEER, 16, as a total: a relay follows the tip). */
export const DEFAULT_MAX_COMPACT_BLOCKS_IN_FLIGHT = 16
/** Blocks rebuilt at once from one peer (bcoin keeps at most 15 per peer; a tip moves one block at a time). */
export const DEFAULT_MAX_COMPACT_BLOCKS_PER_PEER = 4
/** A getdata(MSG_CMPCT_BLOCK) unanswered this long fails the block. */
export const DEFAULT_CMPCT_TIMEOUT_MS = 10_000
/** A getblocktxn unanswered this long: the full block is asked for instead. */
export const DEFAULT_BLOCKTXN_TIMEOUT_MS = 10_000
/** A full block (the fallback) unanswered this long fails the block. */
export const DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS = 60_000
/** Block hashes remembered as delivered, so a repeated cmpctblock is ignored. */
export const DEFAULT_RECENT_COMPACT_BLOCKS = 1_000
/** Rebuilds given up on whose peer may still answer late: a late blocktxn for one of these is ignored, not punished. */
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

/** Why a reconstruction gave way to the full block. */
export type CompactFallbackReason =
  /** Two of the block's short ids are equal: the block cannot be rebuilt from them. */
  | 'duplicate-short-ids'
  /** Filled from candidates, the block's merkle root or witness commitment did not match (a short id collision). */
  | 'mempool-mismatch'
  /** Filled with the peer's blocktxn, the block still did not match (a collision among our candidates, or a wrong blocktxn). */
  | 'blocktxn-mismatch'
  /** The getblocktxn went unanswered for blocktxnTimeoutMs. */
  | 'blocktxn-timeout'

/** Why a block the machine took on was not delivered. */
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
  /** Transactions the cmpctblock carried whole. */
  readonly prefilled: number
  /** Transactions taken from the candidates. */
  readonly fromMempool: number
  /** Transactions fetched with getblocktxn (0 when none was sent). */
  readonly fetched: number
  /** Slots two or more candidates claimed (each was asked for instead). */
  readonly collisions: number
  /** Wire bytes received for this block as v1 frames: cmpctblock + blocktxn + full block, each with its 24-byte header. */
  readonly bytesReceived: number
  /** The block as a v1 `block` frame would be: blockSize + 24. */
  readonly fullBlockBytes: number
  /** `now` of the cmpctblock (or of the announcement in low-bandwidth mode). */
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
  /** The reconstruction failed and the full block is asked for (a 'request-block' follows). */
  | { readonly type: 'fallback'; readonly peer: P; readonly hash: Uint8Array; readonly reason: CompactFallbackReason }
  /** A block the machine took on ends without one. */
  | { readonly type: 'failed'; readonly peer: P; readonly hash: Uint8Array; readonly reason: CompactFailureReason }
  /** A cmpctblock not taken on: the block is being rebuilt or already done, or a cap is reached. */
  | { readonly type: 'skipped'; readonly peer: P; readonly hash: Uint8Array; readonly reason: 'known' | 'busy' }
  /** `peer` sent something provably wrong; the driver reports it (score, disconnect). */
  | { readonly type: 'punish'; readonly peer: P; readonly offense: Offense }

/** Where a rebuild stands. */
export type CompactStage =
  /** getdata(MSG_CMPCT_BLOCK) sent after an announcement; waiting for the cmpctblock. */
  | 'cmpct'
  /** getblocktxn sent; waiting for the blocktxn. */
  | 'blocktxn'
  /** The full block asked for. */
  | 'full'

interface Rebuild<P> {
  readonly key: string
  readonly hash: Uint8Array
  readonly peer: P
  readonly startedAt: number
  stage: CompactStage
  deadline: number
  version: CompactVersion
  header: BlockHeader | undefined
  /** One slot per transaction of the block; undefined while missing. */
  slots: (Transaction | undefined)[]
  /** The txid and wtxid of each filled slot. */
  txids: Uint8Array[]
  wtxids: Uint8Array[]
  /** Indexes asked with getblocktxn, ascending. */
  missing: number[]
  prefilled: number
  fromMempool: number
  fetched: number
  collisions: number
  bytes: number
  fallback: CompactFallbackReason | undefined
}

function positive(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt
  if (!Number.isInteger(x) || x < 1) throw new RangeError(`CompactBlockMachine: ${name} must be a positive integer, got ${x}`)
  return x
}

/** The key of a block hash in the machine's maps. */
function keyOf(hash: Uint8Array): string {
  return hashToHex(hash)
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
  private readonly cmpctTimeoutMs: number
  private readonly blocktxnTimeoutMs: number
  private readonly blockTimeoutMs: number
  private readonly recentCapacity: number
  private readonly powLimit: bigint | undefined
  private readonly rebuilds = new Map<string, Rebuild<P>>()
  private readonly perPeer = new Map<P, number>()
  /** Finished or failed blocks, oldest first. */
  private readonly recent = new Set<string>()
  /** (block, peer) pairs whose getblocktxn we gave up on, oldest first. */
  private readonly retired: { readonly key: string; readonly peer: P }[] = []
  private readonly queue: CompactAction<P>[] = []
  private head = 0
  private readonly scratch = new Uint32Array(2)

  constructor(config: CompactBlockConfig = {}) {
    this.maxInFlight = positive('maxBlocksInFlight', config.maxBlocksInFlight, DEFAULT_MAX_COMPACT_BLOCKS_IN_FLIGHT)
    this.maxPerPeer = positive('maxBlocksPerPeer', config.maxBlocksPerPeer, DEFAULT_MAX_COMPACT_BLOCKS_PER_PEER)
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

  /** Blocks being rebuilt from `peer`. */
  inFlightOf(peer: P): number {
    return this.perPeer.get(peer) ?? 0
  }

  /** Where the rebuild of `hash` stands, or undefined when none runs. */
  stageOf(hash: Uint8Array): CompactStage | undefined {
    return this.rebuilds.get(keyOf(hash))?.stage
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
    for (const r of this.rebuilds.values()) if (at === undefined || r.deadline < at) at = r.deadline
    return at
  }

  /**
   * Low-bandwidth mode: `peer` announced block `hash` (inv or headers).
   * Asks it for the cmpctblock ('request-block' of MSG_CMPCT_BLOCK), unless
   * the block is known or a cap is reached (then nothing happens: the
   * announcement is not ours to judge).
   */
  announced(now: number, peer: P, hash: Uint8Array, version: CompactVersion): void {
    const key = keyOf(hash)
    if (this.rebuilds.has(key) || this.recent.has(key) || !this.hasRoom(peer)) return
    const r = this.open(now, peer, hash, key, version)
    r.stage = 'cmpct'
    r.deadline = now + this.cmpctTimeoutMs
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
    if (r !== undefined) {
      // Our own low-bandwidth request answered: go on. Anything else is a repeat.
      if (r.stage !== 'cmpct' || r.peer !== peer) return this.push({ type: 'skipped', peer, hash, reason: 'known' })
      r.version = version
    } else {
      if (this.recent.has(key)) return this.push({ type: 'skipped', peer, hash, reason: 'known' })
      if (!this.hasRoom(peer)) return this.push({ type: 'skipped', peer, hash, reason: 'busy' })
      r = this.open(now, peer, hash, key, version)
    }
    r.header = msg.header
    r.bytes += FRAME_HEADER_BYTES + cmpctblockBytes(msg)

    const slots: (Transaction | undefined)[] = new Array<Transaction | undefined>(total).fill(undefined)
    r.slots = slots
    r.txids = new Array<Uint8Array>(total)
    r.wtxids = new Array<Uint8Array>(total)
    for (const p of msg.prefilledTxs) this.fill(r, p.index, p.tx)
    r.prefilled = msg.prefilledTxs.length

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
    if (duplicate) return this.toFull(now, r, 'duplicate-short-ids')

    // Match the candidates. A slot claimed twice by different transactions is trusted to neither.
    const key2 = shortIdKey(msg.header, msg.nonce)
    const byWtxid = version === 2
    const claimed = new Map<number, CompactCandidate>()
    const contested = new Set<number>()
    for (const c of candidates) {
      const slot = bySid.get(shortId(key2, byWtxid ? c.wtxid : c.txid, this.scratch))
      if (slot === undefined || contested.has(slot)) continue
      const had = claimed.get(slot)
      if (had === undefined) claimed.set(slot, c)
      else if (!bytesEqual(had.wtxid, c.wtxid)) {
        claimed.delete(slot)
        contested.add(slot)
      }
    }
    for (const [slot, c] of claimed) {
      slots[slot] = c.tx
      r.txids[slot] = c.txid
      r.wtxids[slot] = c.wtxid
    }
    r.fromMempool = claimed.size
    r.collisions = contested.size

    const missing: number[] = []
    for (let i = 0; i < total; i++) if (slots[i] === undefined) missing.push(i)
    if (missing.length === 0) return this.finish(now, r, 'mempool', 'mempool-mismatch')
    if (missing.length - 1 > MAX_CMPCT_INDEX) return this.toFull(now, r, 'mempool-mismatch')
    r.missing = missing
    r.stage = 'blocktxn'
    r.deadline = now + this.blocktxnTimeoutMs
    this.push({ type: 'send', peer, message: { command: 'getblocktxn', blockHash: hash, indexes: missing } })
  }

  /** A blocktxn from `peer`. */
  blocktxn(now: number, peer: P, blockHashBytes: Uint8Array, txs: readonly Transaction[]): void {
    const key = keyOf(blockHashBytes)
    const r = this.rebuilds.get(key)
    if (r === undefined || r.stage !== 'blocktxn' || r.peer !== peer) {
      if (this.retired.some((x) => x.key === key && x.peer === peer)) return // late: we gave up on it
      return this.offend(peer, { kind: 'unsolicited-blocktxn', hash: hashToHex(blockHashBytes) })
    }
    r.bytes += FRAME_HEADER_BYTES + 32 + compactSizeLength(txs.length) + txs.reduce((n, tx) => n + txSize(tx), 0)
    if (txs.length !== r.missing.length) {
      // Core: READ_STATUS_INVALID, Misbehaving(100). No collision explains a wrong count.
      this.fail(r, 'invalid')
      return this.offend(peer, {
        kind: 'invalid-compact-block',
        hash: hashToHex(r.hash),
        detail: `blocktxn carries ${txs.length} transactions, getblocktxn asked for ${r.missing.length}`,
      })
    }
    for (let i = 0; i < txs.length; i++) this.fill(r, r.missing[i]!, txs[i]!)
    r.fetched = txs.length
    this.finish(now, r, 'blocktxn', 'blocktxn-mismatch')
  }

  /** The full block asked for with 'request-block' arrived from `peer`. */
  blockReceived(now: number, peer: P, block: Block, wireBytes?: number): void {
    const hash = blockHash(block.header)
    const r = this.rebuilds.get(keyOf(hash))
    // A block nobody here asked for: the peer machine judges unsolicited blocks, not us.
    // Stage 'cmpct': the peer answered our getdata(MSG_CMPCT_BLOCK) with the full block, as BIP152 allows.
    if (r === undefined || (r.stage !== 'full' && r.stage !== 'cmpct') || r.peer !== peer) return
    r.bytes += wireBytes ?? FRAME_HEADER_BYTES + blockSize(block)
    try {
      verifyBlock(block)
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      this.fail(r, 'invalid')
      return this.offend(peer, { kind: 'invalid-block', hash: hashToHex(hash), error: e })
    }
    this.deliver(now, r, block, 'full')
  }

  /** The request for the full block (or the cmpctblock) of `hash` failed: notfound, the request stalled or its peer left. */
  blockFailed(_now: number, peer: P, hash: Uint8Array, reason: 'notfound' | 'peer-gone' | 'timeout'): void {
    const r = this.rebuilds.get(keyOf(hash))
    if (r === undefined || r.peer !== peer || (r.stage !== 'full' && r.stage !== 'cmpct')) return
    this.fail(r, reason)
  }

  /** `peer` left: every rebuild from it fails 'peer-gone'. */
  removePeer(_now: number, peer: P): void {
    for (const r of [...this.rebuilds.values()]) if (r.peer === peer) this.fail(r, 'peer-gone')
    for (let i = this.retired.length - 1; i >= 0; i--) if (this.retired[i]!.peer === peer) this.retired.splice(i, 1)
  }

  /** Deadlines due at `now`: see the module comment. Nothing due: nothing happens. */
  timeout(now: number): void {
    for (const r of [...this.rebuilds.values()]) {
      if (r.deadline > now) continue
      if (r.stage === 'blocktxn') this.toFull(now, r, 'blocktxn-timeout')
      else this.fail(r, 'timeout')
    }
  }

  /** Forget every rebuild without actions (the driver stops). Recent hashes are kept. */
  clear(): void {
    this.rebuilds.clear()
    this.perPeer.clear()
    this.retired.length = 0
    this.queue.length = 0
    this.head = 0
  }

  // --- internals -------------------------------------------------------------

  private hasRoom(peer: P): boolean {
    return this.rebuilds.size < this.maxInFlight && this.inFlightOf(peer) < this.maxPerPeer
  }

  private open(now: number, peer: P, hash: Uint8Array, key: string, version: CompactVersion): Rebuild<P> {
    const r: Rebuild<P> = {
      key,
      hash,
      peer,
      startedAt: now,
      stage: 'cmpct',
      deadline: now,
      version,
      header: undefined,
      slots: [],
      txids: [],
      wtxids: [],
      missing: [],
      prefilled: 0,
      fromMempool: 0,
      fetched: 0,
      collisions: 0,
      bytes: 0,
      fallback: undefined,
    }
    this.rebuilds.set(key, r)
    this.perPeer.set(peer, this.inFlightOf(peer) + 1)
    return r
  }

  /** Put a transaction that came from the peer into its slot, hashing it for its ids. */
  private fill(r: Rebuild<P>, slot: number, tx: Transaction): void {
    const id = txidOf(tx)
    r.slots[slot] = tx
    r.txids[slot] = id
    r.wtxids[slot] = hasWitness(tx) ? wtxidOf(tx) : id
  }

  /**
   * All slots filled: check against the header (verifyBlock's checks, from
   * the ids already known: the candidates' are not hashed again), deliver
   * or fall back.
   */
  private finish(now: number, r: Rebuild<P>, how: 'mempool' | 'blocktxn', onMismatch: CompactFallbackReason): void {
    const block: Block = { header: r.header!, txs: r.slots as Transaction[] }
    try {
      checkMerkleRoot(block.header, r.txids)
      let segwit = false
      for (let i = 0; i < r.txids.length && !segwit; i++) segwit = r.txids[i] !== r.wtxids[i] && !bytesEqual(r.txids[i]!, r.wtxids[i]!)
      if (segwit) checkWitnessCommitment(block.txs[0]!, witnessMerkleRoot(r.wtxids))
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      return this.toFull(now, r, onMismatch)
    }
    this.deliver(now, r, block, how)
  }

  private toFull(now: number, r: Rebuild<P>, reason: CompactFallbackReason): void {
    if (r.stage === 'blocktxn') this.retire(r)
    r.stage = 'full'
    r.fallback = reason
    r.slots = []
    r.txids = []
    r.wtxids = []
    r.missing = []
    r.deadline = now + this.blockTimeoutMs
    this.push({ type: 'fallback', peer: r.peer, hash: r.hash, reason })
    const item: InvItem = { type: r.version === 2 ? InvType.MSG_WITNESS_BLOCK : InvType.MSG_BLOCK, hash: r.hash }
    this.push({ type: 'request-block', peer: r.peer, hash: r.hash, item })
  }

  private deliver(now: number, r: Rebuild<P>, block: Block, how: ReconstructionKind): void {
    this.close(r, true)
    this.push({
      type: 'block',
      peer: r.peer,
      hash: r.hash,
      block,
      how,
      fallback: how === 'full' ? r.fallback : undefined,
      stats: {
        txs: block.txs.length,
        prefilled: how === 'full' ? 0 : r.prefilled,
        fromMempool: how === 'full' ? 0 : r.fromMempool,
        fetched: r.fetched,
        collisions: r.collisions,
        bytesReceived: r.bytes,
        fullBlockBytes: FRAME_HEADER_BYTES + blockSize(block),
        startedAt: r.startedAt,
        finishedAt: now,
      },
    })
  }

  private fail(r: Rebuild<P>, reason: CompactFailureReason): void {
    if (r.stage === 'blocktxn') this.retire(r)
    this.close(r, false)
    this.push({ type: 'failed', peer: r.peer, hash: r.hash, reason })
  }

  /** End a rebuild; a delivered block is remembered so repeats of it are skipped (a failed one may still come from another peer). */
  private close(r: Rebuild<P>, delivered: boolean): void {
    this.rebuilds.delete(r.key)
    const n = this.inFlightOf(r.peer) - 1
    if (n > 0) this.perPeer.set(r.peer, n)
    else this.perPeer.delete(r.peer)
    if (!delivered) return
    this.recent.add(r.key)
    if (this.recent.size > this.recentCapacity) this.recent.delete(this.recent.values().next().value!)
  }

  private retire(r: Rebuild<P>): void {
    this.retired.push({ key: r.key, peer: r.peer })
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
