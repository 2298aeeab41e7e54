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
 * Memory: headers live in a HeaderTable (80 raw bytes + 32-byte hash + a few
 * integers + a bigint of work per header); the active chain is one Int32Array
 * of slots by height. Measured for a million headers (Node 20, after GC):
 * 151 bytes per header of typed arrays (including the hash index and
 * growth slack) plus 34 bytes of heap (the bigints of work): ~185 bytes per
 * header, 185 MB for a million.
 *
 * Entries handed out (`HeaderEntry`) are small views made on demand; compare
 * them by hash, not by identity. Side branches are kept until the tree is
 * dropped (they are bounded by the work an attacker must spend on them and
 * by maxReorgDepth).
 */
import { BLOCK_HEADER_BYTES, bytesEqual, hashToHex, parseBlockHeader, serializeBlockHeader, sha256d, workFromBits } from '@bitp2p/wire'
import type { BlockHeader, NetworkParams } from '@bitp2p/wire'
import { HeaderTable } from './header-table.js'
import { locatorHeights } from './locator.js'
import {
  type AncestorView,
  type HeaderError,
  type HeaderRuleParams,
  contextualCheck,
  lastCheckpointAtOrBelow,
  medianTimePastOf,
} from './validation.js'

/**
 * Default deepest reorg accepted: Core's MIN_BLOCKS_TO_KEEP (288 blocks, two
 * days), the depth a pruned Core node can still reorganise.
 */
export const DEFAULT_MAX_REORG_DEPTH = 288

/** One header held by the tree. */
export interface HeaderEntry {
  /** Block hash, internal byte order. */
  readonly hash: Uint8Array
  readonly height: number
  /** Cumulative work of the branch up to and including this header. */
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
  /** Cumulative work up to and including the first header. */
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

  constructor(params: TreeParams, options: HeaderTreeOptions = {}) {
    this.params = params
    const depth = options.maxReorgDepth ?? DEFAULT_MAX_REORG_DEPTH
    if (!Number.isInteger(depth) || depth < 0) throw new RangeError(`maxReorgDepth must be a non-negative integer, got ${depth}`)
    this.maxReorgDepth = depth
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
    let parent = -1
    let work = base.chainWork
    let prevHash: Uint8Array | undefined
    for (let i = 0; i < n; i++) {
      const raw = base.headers.subarray(i * BLOCK_HEADER_BYTES, (i + 1) * BLOCK_HEADER_BYTES)
      const hash = sha256d(raw)
      if (prevHash !== undefined) {
        // prevBlock is bytes 4..36 of the serialized header.
        if (!bytesEqual(raw.subarray(4, 36), prevHash)) {
          throw new RangeError(`trusted base: header at height ${base.height + i} does not link to the one before`)
        }
        work += workFromBits(this.readBits(raw))
      }
      parent = this.table.add(raw, hash, parent, base.height + i, work, this.walkOf(parent, base.height + i, this.readBits(raw)))
      this.pushActive(parent)
      prevHash = hash
    }
    this.maxHeight = base.height + n - 1
    if (base.tipHash !== undefined && !bytesEqual(base.tipHash, prevHash!)) {
      throw new RangeError(`trusted base: last header hash ${hashToHex(prevHash!)} is not the expected ${hashToHex(base.tipHash)}`)
    }
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

  /** Bytes of typed arrays held (excludes the per-header bigints of work, ~24-32 bytes each). */
  get byteLength(): number {
    return this.table.byteLength + this.active.byteLength
  }

  /** Validates `header` and adds it; see AcceptResult. `now` is the current time in seconds. */
  accept(header: BlockHeader, now?: number): AcceptResult {
    return this.acceptHeader(header, serializeBlockHeader(header), now)
  }

  /**
   * Accepts the headers of one headers message in order, stopping at the
   * first invalid one. A header that does not build on the one before it is
   * `non-continuous` (Core treats such a message as misbehaviour).
   */
  acceptMany(headers: readonly BlockHeader[], now?: number): AcceptManyResult {
    const results: AcceptResult[] = []
    let added = 0
    let prevHash: Uint8Array | undefined
    for (let i = 0; i < headers.length; i++) {
      const header = headers[i]!
      if (prevHash !== undefined && !bytesEqual(header.prevBlock, prevHash)) {
        const error: HeaderError = { kind: 'non-continuous', index: i }
        results.push({ kind: 'rejected', error })
        return { accepted: i, added, results, rejected: { index: i, error } }
      }
      const raw = serializeBlockHeader(header)
      const r = this.acceptHeader(header, raw, now)
      results.push(r)
      if (r.kind === 'rejected') return { accepted: i, added, results, rejected: { index: i, error: r.error } }
      if (r.kind !== 'duplicate') added++
      prevHash = r.entry.hash
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

  private acceptHeader(header: BlockHeader, raw: Uint8Array, now: number | undefined): AcceptResult {
    const table = this.table
    const hash = sha256d(raw)
    const existing = table.find(hash)
    if (existing >= 0) return { kind: 'duplicate', entry: this.entry(existing) }

    const parent = table.find(header.prevBlock)
    if (parent < 0) return { kind: 'rejected', error: { kind: 'orphan', prevBlock: hashToHex(header.prevBlock) } }

    const view = this.branchView(parent)
    const tipHeight = this.height
    if (tipHeight - view.forkHeight > this.maxReorgDepth) {
      return {
        kind: 'rejected',
        error: { kind: 'reorg-too-deep', forkHeight: view.forkHeight, tipHeight, maxDepth: this.maxReorgDepth },
      }
    }

    const parentPoint = { height: table.height(parent), time: table.time(parent), bits: table.bits(parent) }
    const check = contextualCheck(header, parentPoint, view, this.params, now === undefined ? { hash } : { hash, now })
    if (!check.ok) return { kind: 'rejected', error: check.error }

    const height = parentPoint.height + 1
    const work = table.chainWork(parent) + workFromBits(header.bits)
    const slot = table.add(raw, hash, parent, height, work, this.walkOf(parent, height, header.bits))
    if (height > this.maxHeight) this.maxHeight = height
    const entry = this.entry(slot)

    const tipSlot = this.active[this.activeLength - 1]!
    if (parent === tipSlot) {
      this.pushActive(slot)
      return { kind: 'connected', entry }
    }
    // Strictly more work: on a tie the chain seen first stays active (Core).
    if (work <= table.chainWork(tipSlot)) return { kind: 'fork-added', entry }

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

/** A HeaderEntry read from the table on demand. */
class Entry implements HeaderEntry {
  readonly hash: Uint8Array
  readonly height: number
  readonly chainWork: bigint

  constructor(
    private readonly table: HeaderTable,
    private readonly slot: number,
  ) {
    this.hash = table.hash(slot)
    this.height = table.height(slot)
    this.chainWork = table.chainWork(slot)
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
