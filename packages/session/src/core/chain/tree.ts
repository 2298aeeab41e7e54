/**
 * HeaderTree: every valid header we have seen, as a tree rooted at genesis
 * (or at a trusted base), with the active chain being the branch of most
 * cumulative work. Sans-IO: `accept` takes a header and the caller's clock
 * reading and returns what changed as a value (kyoto's accept_header shape):
 * connected, fork-added, reorg (with the fork point and the blocks
 * disconnected and connected), duplicate, or rejected with a HeaderError.
 *
 * Fork choice is Core's: most work, not most blocks; on equal work the
 * branch seen first stays active. A header that forks off the active chain
 * more than `maxReorgDepth` blocks below the tip is rejected, so a reorg is
 * never deeper than that.
 *
 * Memory: headers live in a HeaderTable (80 raw bytes + 32-byte hash + 32
 * bytes of chain work + a few integers per header, all typed arrays); the
 * active chain is one Int32Array of slots by height. Measured for a million
 * headers (Node 20, a trusted base, after GC): 178 bytes per header of typed
 * arrays, hash index and growth slack included, and no heap object per
 * header; the process grew by ~190 bytes per header, ~190 MB for a million.
 *
 * Speed: a header that extends the active tip (all of initial sync) takes a
 * fast path that allocates nothing but its result: it is serialized and
 * hashed in place in the table (wire's header-specialised sha256d), its
 * prevBlock compared with the previous header's hash word by word as it is
 * copied; a child of the tip needs no duplicate lookup, and its parent is
 * the header before it in the message; its hash is compared with a target decoded once per
 * bits value (no bigint); the median time past comes from a window of the
 * last 11 times slid along the tip; the work per bits value is cached and
 * added as 32-bit words; the hash index is updated once per call. The fast
 * path only ever says "valid": whenever a rule fails it, or at a retarget
 * or checkpoint height, the header goes through `contextualCheck` like any
 * other, so the verdict and the error are the general rules' own.
 *
 * Entries handed out (`HeaderEntry`) are small views made on demand; compare
 * them by hash, not by identity. Side branches are kept until the tree is
 * dropped (they are bounded by the work an attacker must spend on them and
 * by maxReorgDepth).
 */
import { hashToHex, parseBlockHeader, serializeBlockHeader } from '@bitp2p/wire'
import { TWO_POW_256, bitsToTarget, workFromBits } from '@bitp2p/wire/consensus'
import { BLOCK_HEADER_BYTES } from '@bitp2p/wire/limits'
import type { BlockHeader, NetworkParams } from '@bitp2p/wire'
import { HeaderTable } from './header-table.js'
import { MedianTimeWindow } from './median-time.js'
import { locatorHeights } from './locator.js'
import { WORDS_256, toWords256 } from './pow-words.js'
import {
  type AncestorView,
  type HeaderError,
  type HeaderRuleParams,
  MAX_FUTURE_BLOCK_TIME,
  MEDIAN_TIME_SPAN,
  checksDifficulty,
  contextualCheck,
  lastCheckpointAtOrBelow,
  medianTimePastOf,
  minimumVersion,
} from './validation.js'

/**
 * Default deepest reorg accepted: Core's MIN_BLOCKS_TO_KEEP (288 blocks, two
 * days), the depth a pruned Core node can still reorganise.
 */
export const DEFAULT_MAX_REORG_DEPTH = 288

/** One header held by the tree. */
export interface HeaderEntry {
  /** Block hash, internal byte order (a copy, made on each access). */
  readonly hash: Uint8Array
  readonly height: number
  /** Cumulative work of the branch up to and including this header (computed on each access). */
  readonly chainWork: bigint
  /** The decoded header (decoded on each access). */
  readonly header: BlockHeader
  /** The 80 serialized bytes (a copy). */
  readonly raw: Uint8Array
  /** The parent entry, or undefined for the tree's base. */
  readonly parent: HeaderEntry | undefined
}

/** What `accept` did with a header. Lists of entries are in ascending height. */
export type AcceptResult =
  /** The header extended the active chain. */
  | { readonly kind: 'connected'; readonly entry: HeaderEntry }
  /** The header was stored on a side branch that has no more work than the active chain. */
  | { readonly kind: 'fork-added'; readonly entry: HeaderEntry }
  /**
   * The header made a side branch the most-work chain. `fork` is the last
   * block both chains share; `disconnected` are the old active blocks above
   * it, `connected` the new ones (ending with `entry`), both ascending.
   */
  | {
      readonly kind: 'reorg'
      readonly entry: HeaderEntry
      readonly fork: HeaderEntry
      readonly disconnected: readonly HeaderEntry[]
      readonly connected: readonly HeaderEntry[]
    }
  /** The header is already held. */
  | { readonly kind: 'duplicate'; readonly entry: HeaderEntry }
  /** The header broke a rule; nothing changed. */
  | { readonly kind: 'rejected'; readonly error: HeaderError }

/** What `acceptMany` did with a headers message. */
export interface AcceptManyResult {
  /** Headers taken (new or duplicate) before the first invalid one. */
  readonly accepted: number
  /** Of those, headers that were new. */
  readonly added: number
  /** One result per header examined, the rejected one last if any. */
  readonly results: readonly AcceptResult[]
  /** The first invalid header, by index in the input. */
  readonly rejected?: { readonly index: number; readonly error: HeaderError }
}

/**
 * A starting point the tree trusts without validation: consecutive headers
 * from `height` upwards (often just one: a checkpoint or genesis). Only their
 * linkage is checked; proof of work and the difficulty rules are not. The
 * difficulty rules need the first block of the current retarget period and
 * the median-time rule the 11 blocks before the parent, so a base should
 * start at a period boundary (height % retargetInterval === 0); a rule that
 * needs a block below the base rejects with `missing-ancestor`, and the
 * median time of the first 10 blocks above a one-header base is taken over
 * the blocks held.
 */
export interface TrustedBase {
  /** Height of the first header. */
  readonly height: number
  /** One or more 80-byte headers, concatenated, ascending and linked. */
  readonly headers: Uint8Array
  /** Cumulative work up to and including the first header, in [0, 2^256). */
  readonly chainWork: bigint
  /** If given, the hash the last header must have. */
  readonly tipHash?: Uint8Array
}

/** Options of a HeaderTree. */
export interface HeaderTreeOptions {
  /** Where the tree starts; default the network's genesis header. */
  readonly base?: TrustedBase
  /** Deepest reorg accepted; default DEFAULT_MAX_REORG_DEPTH. */
  readonly maxReorgDepth?: number
}

/** The parameters the tree reads: the header rules and the genesis header. */
export type TreeParams = HeaderRuleParams & Pick<NetworkParams, 'genesis'>

/** The most-work header tree; see the module comment. */
export class HeaderTree {
  /** Network parameters the headers are checked against. */
  readonly params: TreeParams
  /** Deepest reorg accepted. */
  readonly maxReorgDepth: number
  /** Height of the lowest header held (0 from genesis). */
  readonly baseHeight: number

  private readonly table = new HeaderTable()
  /** Slots of the active chain, indexed by height - baseHeight. */
  private active = new Int32Array(1024)
  private activeLength = 0
  /** Highest height of any header held (side branches included). */
  private maxHeight: number

  // Caches of the fast path (see the module comment); none changes a verdict.
  /** Bits whose target passed the target rules (valid, <= powLimit), or -1. */
  private powBits = -1
  /** That target as eight u32 words, least significant first. */
  private readonly powTarget = new Uint32Array(WORDS_256)
  /** Bits of the last work computed, and that work (workFromBits) as words. */
  private workBits = -1
  private readonly workWords = new Uint32Array(WORDS_256)
  /** Heights that carry a checkpoint (a header there takes the general path), and the highest. */
  private readonly checkpointHeights: ReadonlySet<number>
  private readonly checkpointMax: number
  /** lastCheckpointAtOrBelow(maxHeight), valid while maxHeight < checkpointNext. */
  private checkpointLast: number | undefined
  private checkpointNext = -1
  /** Median-time window ending at mtpSlot (-1: none), slid as the tip grows. */
  private readonly mtpWindow = new MedianTimeWindow()
  private mtpSlot = -1
  /** Scratch for refilling the window: the up to 11 times, newest first. */
  private readonly mtpTimes = new Float64Array(MEDIAN_TIME_SPAN)
  /**
   * One Entry and one BranchView held for the tree's lifetime, never handed
   * out or read. V8 gives all entries one hidden class, reached from
   * Entry's initial class by weak transitions (BranchView's likewise): once
   * every entry made is collected (a caller drops each message's results),
   * a full GC frees that class and discards the optimized code that checks
   * it (acceptMany's), and the next messages run unoptimized while V8
   * recompiles. Measured in the headers bench: a round after such a GC took
   * ~1.6x the CPU of one without. These two keep the classes alive.
   */
  private readonly classKeepers: readonly [Entry, BranchView]

  constructor(params: TreeParams, options: HeaderTreeOptions = {}) {
    this.params = params
    const depth = options.maxReorgDepth ?? DEFAULT_MAX_REORG_DEPTH
    if (!Number.isInteger(depth) || depth < 0) throw new RangeError(`maxReorgDepth must be a non-negative integer, got ${depth}`)
    this.maxReorgDepth = depth
    this.checkpointHeights = new Set(params.checkpoints.map((cp) => cp.height))
    this.checkpointMax = Math.max(-1, ...this.checkpointHeights)
    const base: TrustedBase = options.base ?? {
      height: 0,
      headers: serializeBlockHeader(params.genesis),
      chainWork: workFromBits(params.genesis.bits),
    }
    const n = base.headers.length / BLOCK_HEADER_BYTES
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`trusted base: ${base.headers.length} bytes is not a whole number of headers`)
    if (!Number.isInteger(base.height) || base.height < 0) throw new RangeError(`trusted base: bad height ${base.height}`)
    this.baseHeight = base.height
    this.maxHeight = base.height
    if (typeof base.chainWork !== 'bigint' || base.chainWork < 0n || base.chainWork >= TWO_POW_256) {
      throw new RangeError('trusted base: chainWork must be a bigint in [0, 2^256)')
    }
    const table = this.table
    const baseWork = new Uint32Array(WORDS_256)
    toWords256(base.chainWork, baseWork)
    let parent = -1
    for (let i = 0; i < n; i++) {
      const raw = base.headers.subarray(i * BLOCK_HEADER_BYTES, (i + 1) * BLOCK_HEADER_BYTES)
      table.stageRaw(raw)
      // prevBlock is bytes 4..36 of the serialized header.
      if (parent >= 0 && !table.hashEquals(parent, raw.subarray(4, 36))) {
        throw new RangeError(`trusted base: header at height ${base.height + i} does not link to the one before`)
      }
      const bits = this.readBits(raw)
      // The first header carries the base's chain work; each next one adds its own.
      parent = table.commit(parent, base.height + i, parent < 0 ? baseWork : this.workOf(bits), this.walkOf(parent, base.height + i, bits))
      this.pushActive(parent)
    }
    this.maxHeight = base.height + n - 1
    this.classKeepers = [new Entry(table, parent), this.branchView(parent)]
    if (base.tipHash !== undefined && !table.hashEquals(parent, base.tipHash)) {
      throw new RangeError(`trusted base: last header hash ${hashToHex(table.hash(parent))} is not the expected ${hashToHex(base.tipHash)}`)
    }
    table.syncIndex()
  }

  /** The active chain's tip. */
  get tip(): HeaderEntry {
    return this.entry(this.active[this.activeLength - 1]!)
  }

  /** Height of the active tip. */
  get height(): number {
    return this.baseHeight + this.activeLength - 1
  }

  /** Headers held, side branches included. */
  get size(): number {
    return this.table.size
  }

  /** Bytes of typed arrays held: all of the tree's per-header storage, growth slack included. */
  get byteLength(): number {
    return this.table.byteLength + this.active.byteLength
  }

  /** Validates `header` and adds it; see AcceptResult. `now` is the current time in seconds. */
  accept(header: BlockHeader, now?: number): AcceptResult {
    this.table.stage(header)
    const r = this.acceptStaged(header, now, -1)
    this.table.syncIndex()
    return r
  }

  /**
   * Accepts the headers of one headers message in order, stopping at the
   * first invalid one. A header that does not build on the one before it is
   * `non-continuous` (Core treats such a message as misbehaviour).
   */
  acceptMany(headers: readonly BlockHeader[], now?: number): AcceptManyResult {
    const r = this.acceptRun(headers, now)
    // The hash index is brought up to date once per message (see HeaderTable.syncIndex).
    this.table.syncIndex()
    return r
  }

  private acceptRun(headers: readonly BlockHeader[], now: number | undefined): AcceptManyResult {
    const results: AcceptResult[] = []
    let added = 0
    // Slot of the header before this one in the message: stageChild
    // compares its hash in place, and it is the parent, so no lookup is needed.
    let prevSlot = -1
    const table = this.table
    for (let i = 0; i < headers.length; i++) {
      const header = headers[i]!
      if (prevSlot < 0) table.stage(header)
      else if (!table.stageChild(header, prevSlot)) {
        const error: HeaderError = { kind: 'non-continuous', index: i }
        results.push({ kind: 'rejected', error })
        return { accepted: i, added, results, rejected: { index: i, error } }
      }
      const r = this.acceptStaged(header, now, prevSlot)
      results.push(r)
      if (r.kind === 'rejected') return { accepted: i, added, results, rejected: { index: i, error: r.error } }
      if (r.kind !== 'duplicate') added++
      prevSlot = (r.entry as Entry).slot
    }
    return { accepted: headers.length, added, results }
  }

  /** The header with this hash (internal byte order), on any branch. */
  getByHash(hash: Uint8Array): HeaderEntry | undefined {
    const slot = this.table.find(hash)
    return slot < 0 ? undefined : this.entry(slot)
  }

  /** True when a header with this hash is held. */
  has(hash: Uint8Array): boolean {
    return this.table.find(hash) >= 0
  }

  /** The active chain's header at `height`. */
  getByHeight(height: number): HeaderEntry | undefined {
    const slot = this.activeSlot(height)
    return slot < 0 ? undefined : this.entry(slot)
  }

  /** True when `entry` is on the active chain. */
  isActive(entry: HeaderEntry): boolean {
    const slot = this.table.find(entry.hash)
    return slot >= 0 && this.isActiveSlot(slot)
  }

  /** The ancestor of `entry` at `height` on entry's own branch (itself at its height). */
  ancestor(entry: HeaderEntry, height: number): HeaderEntry | undefined {
    const slot = this.table.find(entry.hash)
    if (slot < 0) return undefined
    const s = this.branchView(slot).slotAt(height)
    return s < 0 ? undefined : this.entry(s)
  }

  /** Median time past at `entry`: median of its time and the 10 before it (fewer near the base). */
  medianTimePast(entry: HeaderEntry): number {
    const slot = this.table.find(entry.hash)
    if (slot < 0) throw new RangeError(`medianTimePast: ${hashToHex(entry.hash)} is not in the tree`)
    return medianTimePastOf(entry.height, this.branchView(slot))!
  }

  /** Block locator of the active chain (Core's shape; see locator.ts), newest first. */
  locator(): Uint8Array[] {
    return locatorHeights(this.height, this.baseHeight).map((h) => this.table.hash(this.activeSlot(h)))
  }

  // ---------------------------------------------------------------- internal

  /**
   * Decides on `header`, which the caller has just staged in the table.
   * `knownParent` is the parent's slot when the caller already knows it
   * (the previous header of a message, whose hash stageChild compared with
   * prevBlock), else -1.
   */
  private acceptStaged(header: BlockHeader, now: number | undefined, knownParent: number): AcceptResult {
    const table = this.table
    const parent = knownParent >= 0 ? knownParent : table.find(header.prevBlock)
    const tipSlot = this.active[this.activeLength - 1]!
    // The active tip never has a child held: a header added on the tip becomes
    // the tip, and a reorg ends on the header just added. So a child of the
    // tip is new, and only other headers need the duplicate lookup (before the
    // orphan check: a base header is held although its parent is not).
    if (parent !== tipSlot) {
      const existing = table.findStaged()
      if (existing >= 0) return { kind: 'duplicate', entry: this.entry(existing) }
    }
    if (parent < 0) return { kind: 'rejected', error: { kind: 'orphan', prevBlock: hashToHex(header.prevBlock) } }

    if (parent === tipSlot && this.passesOnTip(header, parent, now)) {
      const height = table.height(parent) + 1
      const slot = table.commit(parent, height, this.workOf(header.bits), this.walkOf(parent, height, header.bits))
      if (height > this.maxHeight) this.maxHeight = height
      this.pushActive(slot)
      // passesOnTip read the window at the parent; slide it to the new tip.
      if (this.mtpSlot === parent) {
        this.mtpWindow.push(header.time)
        this.mtpSlot = slot
      }
      return { kind: 'connected', entry: this.entry(slot) }
    }
    return this.acceptGeneral(header, now, parent, tipSlot)
  }

  /**
   * The general path for the staged header, whose parent slot is known
   * (and held): any branch, every rule through contextualCheck, fork choice
   * and reorgs. Kept apart from acceptStaged so that the fast path stays
   * small enough for V8 to inline its helpers.
   */
  private acceptGeneral(header: BlockHeader, now: number | undefined, parent: number, tipSlot: number): AcceptResult {
    const table = this.table
    const view = this.branchView(parent)
    const tipHeight = this.height
    if (tipHeight - view.forkHeight > this.maxReorgDepth) {
      return {
        kind: 'rejected',
        error: { kind: 'reorg-too-deep', forkHeight: view.forkHeight, tipHeight, maxDepth: this.maxReorgDepth },
      }
    }

    const hash = table.stagedHash()
    const parentPoint = { height: table.height(parent), time: table.time(parent), bits: table.bits(parent) }
    const check = contextualCheck(header, parentPoint, view, this.params, now === undefined ? { hash } : { hash, now })
    if (!check.ok) return { kind: 'rejected', error: check.error }

    const height = parentPoint.height + 1
    const slot = table.commit(parent, height, this.workOf(header.bits), this.walkOf(parent, height, header.bits))
    if (height > this.maxHeight) this.maxHeight = height
    const entry = this.entry(slot)

    if (parent === tipSlot) {
      this.pushActive(slot)
      return { kind: 'connected', entry }
    }
    // Strictly more work: on a tie the chain seen first stays active (Core).
    if (table.compareChainWork(slot, tipSlot) <= 0) return { kind: 'fork-added', entry }

    const forkHeight = view.forkHeight
    const disconnected: HeaderEntry[] = []
    for (let h = forkHeight + 1; h <= tipHeight; h++) disconnected.push(this.entry(this.activeSlot(h)))
    const newSlots = [...view.side, slot]
    this.activeLength = forkHeight - this.baseHeight + 1
    for (const s of newSlots) this.pushActive(s)
    return {
      kind: 'reorg',
      entry,
      fork: this.entry(this.activeSlot(forkHeight)),
      disconnected,
      connected: newSlots.map((s) => this.entry(s)),
    }
  }

  /**
   * The fast path's verdict on the staged header extending the active tip
   * `parent`: true only when every rule of contextualCheck holds, each
   * tested the same way with cached inputs. False means "not decided here"
   * (a rule failed, or the height needs the general code): the caller then
   * runs contextualCheck, which names the failure.
   */
  private passesOnTip(header: BlockHeader, parent: number, now: number | undefined): boolean {
    const table = this.table
    const params = this.params
    const height = table.height(parent) + 1
    const bits = header.bits
    // Retarget heights (the retarget, BIP94's timewarp rule) and checkpoint heights: general path.
    if (height % params.retargetInterval === 0) return false
    if (height <= this.checkpointMax && this.checkpointHeights.has(height)) return false

    // 1. Proof of work: the target rules once per bits value, then hash <= target.
    if (bits !== this.powBits && !this.cachePowTarget(bits)) return false
    if (!table.stagedHashAtMost(this.powTarget)) return false

    // 2. Required bits off a retarget height (nextWorkRequired).
    if (checksDifficulty(height, params)) {
      let expected = table.bits(parent)
      if (params.allowMinDifficultyBlocks) {
        if (header.time > table.time(parent) + params.targetSpacing * 2) expected = params.powLimitBits
        else {
          const w = table.walk(parent)
          if (w < 0) return false
          expected = table.bits(w)
        }
      }
      if (bits !== expected) return false
    }

    // 3. No header below the last checkpoint the tree holds.
    const last = this.lastCheckpoint()
    if (last !== undefined && height < last) return false

    // 4. time > median time past of the 11 blocks ending at the parent.
    if (header.time <= this.medianTimeOf(parent)) return false

    // 6. Not too far in the future (5, BIP94, only applies at retarget heights).
    if (now !== undefined && header.time > now + MAX_FUTURE_BLOCK_TIME) return false

    // 7. Version minimums.
    return header.version >= minimumVersion(height, params)
  }

  /**
   * Decodes `bits` and, when its target passes Core's target rules (not
   * negative, no overflow, not zero, at most powLimit), keeps it as the
   * cached target. False leaves the cache unchanged.
   */
  private cachePowTarget(bits: number): boolean {
    if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) return false
    const { target, negative, overflow } = bitsToTarget(bits)
    if (negative || overflow || target === 0n || target > this.params.powLimit) return false
    toWords256(target, this.powTarget)
    this.powBits = bits
    return true
  }

  /** workFromBits as words, cached for the last bits value (valid until the next call). */
  private workOf(bits: number): Uint32Array {
    if (bits !== this.workBits) {
      toWords256(workFromBits(bits), this.workWords)
      this.workBits = bits
    }
    return this.workWords
  }

  /** lastCheckpointAtOrBelow(maxHeight), recomputed only when maxHeight reaches the next checkpoint. */
  private lastCheckpoint(): number | undefined {
    if (this.maxHeight >= this.checkpointNext) this.findLastCheckpoint()
    return this.checkpointLast
  }

  // Out of line (as refillMedianTime): rare work kept out of the per-header code V8 inlines.
  private findLastCheckpoint(): void {
    this.checkpointLast = lastCheckpointAtOrBelow(this.maxHeight, this.params)
    let next = Infinity
    for (const cp of this.params.checkpoints) if (cp.height > this.maxHeight && cp.height < next) next = cp.height
    this.checkpointNext = next
  }

  /**
   * Median time past at `slot` (medianTimePastOf over its branch). The
   * window of the last slot asked about is kept and slid along the tip (see
   * MedianTimeWindow); another slot refills it from the parent links.
   */
  private medianTimeOf(slot: number): number {
    if (slot !== this.mtpSlot) this.refillMedianTime(slot)
    return this.mtpWindow.median()!
  }

  private refillMedianTime(slot: number): void {
    const table = this.table
    const times = this.mtpTimes
    let n = 0
    for (let s = slot; s >= 0 && n < MEDIAN_TIME_SPAN; s = table.parent(s)) times[n++] = table.time(s)
    const window = this.mtpWindow
    window.clear()
    while (n > 0) window.push(times[--n]!)
    this.mtpSlot = slot
  }

  /**
   * Where the min-difficulty walk-back starting at a new header ends (Core:
   * while (pindex->pprev && pindex->nHeight % interval != 0 && pindex->nBits
   * == powLimit) pindex = pindex->pprev): at the header itself (-2) when it
   * stops there, else wherever its parent's walk ends; -1 when that is below
   * a trusted base. O(1) per header instead of a walk per header.
   */
  private walkOf(parent: number, height: number, bits: number): number {
    if (height === 0 || height % this.params.retargetInterval === 0 || bits !== this.params.powLimitBits) return -2
    return parent < 0 ? -1 : this.table.walk(parent)
  }

  private pushActive(slot: number): void {
    if (this.activeLength === this.active.length) {
      const a = new Int32Array(this.active.length * 2)
      a.set(this.active)
      this.active = a
    }
    this.active[this.activeLength++] = slot
  }

  private activeSlot(height: number): number {
    const i = height - this.baseHeight
    return Number.isInteger(i) && i >= 0 && i < this.activeLength ? this.active[i]! : -1
  }

  private isActiveSlot(slot: number): boolean {
    return this.activeSlot(this.table.height(slot)) === slot
  }

  /** The branch ending at `slot`, split into the active part and the side part above the fork point. */
  private branchView(slot: number): BranchView {
    const side: number[] = []
    let s = slot
    while (!this.isActiveSlot(s)) {
      side.push(s)
      s = this.table.parent(s)
      // Every stored header descends from the base, which is active; reaching
      // -1 would mean the table is corrupt.
      if (s < 0) throw new Error('header tree: branch does not reach the active chain')
    }
    side.reverse()
    const lastCp = lastCheckpointAtOrBelow(this.maxHeight, this.params)
    return new BranchView((h) => this.activeSlot(h), this.table, slot, this.table.height(s), side, lastCp)
  }

  private entry(slot: number): HeaderEntry {
    return new Entry(this.table, slot)
  }

  private readBits(raw: Uint8Array): number {
    return (raw[72]! | (raw[73]! << 8) | (raw[74]! << 16) | (raw[75]! << 24)) >>> 0
  }
}

/** A branch: active chain up to forkHeight, then `side` slots up to tipHeight. */
class BranchView implements AncestorView {
  private readonly tipHeight: number

  constructor(
    /** Slot of the active chain at a height, or -1. */
    private readonly activeSlot: (height: number) => number,
    private readonly table: HeaderTable,
    /** The branch's last slot (the parent being extended). */
    private readonly tipSlot: number,
    /** Height of the highest active block on the branch (the fork point). */
    readonly forkHeight: number,
    /** Slots above the fork point, ascending. */
    readonly side: readonly number[],
    readonly lastCheckpointHeight: number | undefined,
  ) {
    this.tipHeight = table.height(tipSlot)
  }

  minDifficultyWalkBits(): number | undefined {
    const w = this.table.walk(this.tipSlot)
    return w < 0 ? undefined : this.table.bits(w)
  }

  slotAt(height: number): number {
    if (!Number.isInteger(height) || height > this.tipHeight) return -1
    if (height > this.forkHeight) return this.side[height - this.forkHeight - 1]!
    return this.activeSlot(height)
  }

  timeAt(height: number): number | undefined {
    const s = this.slotAt(height)
    return s < 0 ? undefined : this.table.time(s)
  }

  bitsAt(height: number): number | undefined {
    const s = this.slotAt(height)
    return s < 0 ? undefined : this.table.bits(s)
  }
}

/**
 * A HeaderEntry read from the table on demand: each property is read (and
 * the hash copied) on access. Two fields only: acceptMany makes one per
 * header, and most are never read.
 */
class Entry implements HeaderEntry {
  constructor(
    private readonly table: HeaderTable,
    /** The entry's slot in the table (internal to this module). */
    readonly slot: number,
  ) {}

  get hash(): Uint8Array {
    return this.table.hash(this.slot)
  }

  get height(): number {
    return this.table.height(this.slot)
  }

  get chainWork(): bigint {
    return this.table.chainWork(this.slot)
  }

  get header(): BlockHeader {
    return parseBlockHeader(this.table.rawHeader(this.slot))
  }

  get raw(): Uint8Array {
    return this.table.rawHeader(this.slot)
  }

  get parent(): HeaderEntry | undefined {
    const p = this.table.parent(this.slot)
    return p < 0 ? undefined : new Entry(this.table, p)
  }
}
