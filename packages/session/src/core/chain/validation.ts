/**
 * Header validation as Bitcoin Core does it for a header whose parent is
 * known (CheckBlockHeader + ContextualCheckBlockHeader + GetNextWorkRequired
 * in Core's validation.cpp and pow.cpp), as pure functions over a network's
 * parameters. Nothing here throws for a bad header, reads a clock or keeps
 * state: every rule returns a typed `HeaderError` that carries the numbers
 * behind the failure.
 *
 * Checked, in this order:
 *   1. proof of work: the header's own target is valid and <= powLimit, and
 *      hash <= target;
 *   2. nBits equals the required next work (retarget, testnet min-difficulty
 *      rules, BIP94, no-retargeting);
 *   3. checkpoints: a header at a checkpoint height has that hash; no header
 *      below the last checkpoint the chain already holds (a fork);
 *   4. time > median time past of the previous 11 blocks;
 *   5. BIP94 timewarp rule on the first block of a period;
 *   6. time <= now + 2 h, when the caller passes `now`;
 *   7. version minimums after the BIP34/66/65 heights.
 *
 * Not checked: the signet block challenge (it signs the block's coinbase
 * commitment, which a header alone does not carry), and anything about the
 * block body. A signet header chain is therefore only as trustworthy as its
 * proof of work, which on signet is low: callers that need signet blocks to
 * be authentic must verify the challenge on full blocks.
 *
 * BSV (difficultyAdjustment 'bsv-daa'): Bitcoin's difficulty rule is
 * checked below BSV_UAHF_HEIGHT; from there BSV used its emergency and
 * per-block adjustments, which are not implemented, so rule 2 is skipped
 * and only the header's own proof of work (rule 1), chain work and the
 * checkpoints (BSV pins blocks up to 530359) constrain the chain.
 */
import { blockHash, bytesEqual, hashToHex } from '@bitp2p/wire'
import type { BlockHeader } from '@bitp2p/wire'
import type { NetworkParams } from '@bitp2p/wire'
import { BSV_UAHF_HEIGHT, TWO_POW_256, bitsToTarget, checkProofOfWork, targetToBits } from '@bitp2p/wire/consensus'
import type { PowFailure } from '@bitp2p/wire/consensus'

/** Core's MAX_FUTURE_BLOCK_TIME: a header may be at most 2 hours ahead of our clock. */
export const MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60

/** Core's MEDIAN_TIME_SPAN: blocks in the median-time-past window. */
export const MEDIAN_TIME_SPAN = 11

/** BIP94's MAX_TIMEWARP: how far before its parent the first block of a period may be dated. */
export const MAX_TIMEWARP = 600


/** A header rejected, with the values that made it so. Hashes are display hex. */
export type HeaderError =
  /** The hash is above the target the header claims. */
  | { readonly kind: 'bad-pow'; readonly hash: string; readonly target: bigint }
  /** nBits decodes to a negative, overflowing or zero target, or one above powLimit. */
  | {
      readonly kind: 'bad-target'
      readonly bits: number
      readonly powLimit: bigint
      readonly reason: Exclude<PowFailure, 'HASH_ABOVE_TARGET'>
    }
  /** nBits is not the required next work. */
  | { readonly kind: 'bad-diffbits'; readonly expected: number; readonly actual: number }
  /** time <= median time past of the 11 blocks before it. */
  | { readonly kind: 'time-too-old'; readonly mtp: number; readonly time: number }
  /** time > now + MAX_FUTURE_BLOCK_TIME. */
  | { readonly kind: 'time-too-new'; readonly limit: number; readonly time: number }
  /** BIP94: the first block of a period is dated more than MAX_TIMEWARP before its parent. */
  | { readonly kind: 'timewarp'; readonly time: number; readonly parentTime: number; readonly min: number }
  /** version below the minimum of an activated soft fork (BIP34: 2, BIP66: 3, BIP65: 4). */
  | { readonly kind: 'bad-version'; readonly min: number; readonly actual: number }
  /** A header at a checkpoint height with another hash. */
  | { readonly kind: 'checkpoint-mismatch'; readonly height: number; readonly expected: string; readonly actual: string }
  /** A header below the last checkpoint the chain holds: a fork older than it. */
  | { readonly kind: 'fork-below-checkpoint'; readonly height: number; readonly checkpointHeight: number }
  /** A rule needs a block the chain does not hold (below a trusted base). */
  | { readonly kind: 'missing-ancestor'; readonly height: number }
  /** The parent is not known. */
  | { readonly kind: 'orphan'; readonly prevBlock: string }
  /** The header is already held. */
  | { readonly kind: 'duplicate'; readonly hash: string }
  /** The header forks off the active chain deeper than the tree's maxReorgDepth. */
  | { readonly kind: 'reorg-too-deep'; readonly forkHeight: number; readonly tipHeight: number; readonly maxDepth: number }
  /** In a headers message, a header that does not follow the one before it. */
  | { readonly kind: 'non-continuous'; readonly index: number }

/** The kinds of HeaderError. */
export type HeaderErrorKind = HeaderError['kind']

/** Result of a check: ok, or the first rule broken. */
export type CheckResult = { readonly ok: true } | { readonly ok: false; readonly error: HeaderError }

/** What the rules need to know about a block already held. */
export interface ChainPoint {
  readonly height: number
  readonly time: number
  readonly bits: number
}

/**
 * Read access to the branch that ends at the parent being extended. Heights
 * are absolute. `timeAt`/`bitsAt` return undefined for a height the caller
 * does not hold (below a trusted base) or above the parent.
 */
export interface AncestorView {
  /** Header time (Unix seconds) of the branch's block at absolute `height`, or undefined when not held (median time past, retargeting). */
  timeAt(height: number): number | undefined
  /** Compact target (nBits) of the branch's block at absolute `height`, or undefined when not held (retargeting, the min-difficulty walk-back). */
  bitsAt(height: number): number | undefined
  /**
   * Height of the highest checkpoint the chain already holds, if any (Core's
   * GetLastCheckpoint). New headers below it are forks and are rejected.
   */
  readonly lastCheckpointHeight?: number
  /**
   * Optional cache: the bits Core's min-difficulty walk-back starting at the
   * parent returns (the bits of the nearest block at or below the parent
   * that is a period boundary, genesis, or not at powLimitBits), or
   * undefined when unknown. Without it nextWorkRequired walks block by
   * block, which on testnet can be thousands of steps per header.
   */
  minDifficultyWalkBits?(): number | undefined
}

/** The parameters the header rules read; `NetworkParams` provides them. */
export type HeaderRuleParams = Pick<
  NetworkParams,
  | 'powLimit'
  | 'powLimitBits'
  | 'targetTimespan'
  | 'targetSpacing'
  | 'retargetInterval'
  | 'allowMinDifficultyBlocks'
  | 'noRetargeting'
  | 'enforceBip94'
  | 'bip34Height'
  | 'bip65Height'
  | 'bip66Height'
  | 'checkpoints'
  | 'difficultyAdjustment'
>

/** Options of contextualCheck. */
export interface CheckOptions {
  /**
   * Current network-adjusted time in seconds. Without it the future-time
   * rule is skipped (replaying stored headers, tests).
   */
  readonly now?: number
  /** The header's hash when the caller has already computed it. */
  readonly hash?: Uint8Array
}

const OK: CheckResult = { ok: true }

function fail(error: HeaderError): CheckResult {
  return { ok: false, error }
}

/**
 * Every rule for `header` extending `parent` (see the module comment for
 * the list and order). `view` reads the parent's branch. Returns the first
 * rule broken; never throws for bad input.
 */
export function contextualCheck(
  header: BlockHeader,
  parent: ChainPoint,
  view: AncestorView,
  params: HeaderRuleParams,
  options: CheckOptions = {},
): CheckResult {
  const hash = options.hash ?? blockHash(header)
  const height = parent.height + 1

  const pow = checkHeaderPow(header, hash, params)
  if (!pow.ok) return pow

  if (checksDifficulty(height, params)) {
    const expected = nextWorkRequired(parent, header.time, view, params)
    if (typeof expected !== 'number') return fail(expected)
    if (header.bits !== expected) return fail({ kind: 'bad-diffbits', expected, actual: header.bits })
  }

  const cp = checkCheckpoint(height, hash, params)
  if (!cp.ok) return cp
  const last = view.lastCheckpointHeight
  if (last !== undefined && height < last) return fail({ kind: 'fork-below-checkpoint', height, checkpointHeight: last })

  const mtp = medianTimePastOf(parent.height, view)
  if (mtp === undefined) return fail({ kind: 'missing-ancestor', height: parent.height })
  if (header.time <= mtp) return fail({ kind: 'time-too-old', mtp, time: header.time })

  if (params.enforceBip94 && height % params.retargetInterval === 0) {
    const min = parent.time - MAX_TIMEWARP
    if (header.time < min) return fail({ kind: 'timewarp', time: header.time, parentTime: parent.time, min })
  }

  if (options.now !== undefined) {
    const limit = options.now + MAX_FUTURE_BLOCK_TIME
    if (header.time > limit) return fail({ kind: 'time-too-new', limit, time: header.time })
  }

  const min = minimumVersion(height, params)
  if (header.version < min) return fail({ kind: 'bad-version', min, actual: header.version })

  return OK
}

/**
 * False where the required-bits rule is not implemented: BSV from the UAHF
 * fork on (see the module comment).
 */
export function checksDifficulty(height: number, params: Pick<NetworkParams, 'difficultyAdjustment'>): boolean {
  return params.difficultyAdjustment === 'bitcoin' || height < BSV_UAHF_HEIGHT
}

/**
 * Core's CheckProofOfWork (wire's checkProofOfWork), as a HeaderError: the
 * compact target must decode to a positive, non-overflowing value no higher
 * than powLimit (`bad-target`, with wire's reason), and the hash, read as a
 * little-endian 256-bit number, must not exceed it (`bad-pow`).
 */
export function checkHeaderPow(header: BlockHeader, hash: Uint8Array, params: Pick<NetworkParams, 'powLimit'>): CheckResult {
  const r = checkProofOfWork(hash, header.bits, params)
  if (r.ok) return OK
  if (r.reason === 'HASH_ABOVE_TARGET') return fail({ kind: 'bad-pow', hash: hashToHex(hash), target: r.target })
  return fail({ kind: 'bad-target', bits: header.bits, powLimit: params.powLimit, reason: r.reason })
}

/**
 * Core's GetNextWorkRequired for the block after `parent` dated `time`:
 * the nBits it must carry, or `missing-ancestor` when the rule needs a block
 * the view does not hold.
 *
 * Outside a retarget height the work stays the parent's, except on networks
 * that allow min-difficulty blocks (testnet3, testnet4, regtest): there a
 * block dated more than 2 x spacing after its parent may use powLimitBits,
 * and any other block must carry the bits of the last block that is either
 * a period boundary or not a min-difficulty block.
 */
export function nextWorkRequired(
  parent: ChainPoint,
  time: number,
  view: AncestorView,
  params: HeaderRuleParams,
): number | HeaderError {
  const interval = params.retargetInterval
  if ((parent.height + 1) % interval !== 0) {
    if (params.allowMinDifficultyBlocks) {
      // Core: if (pblock->GetBlockTime() > pindexLast->GetBlockTime() + nPowTargetSpacing*2)
      if (time > parent.time + params.targetSpacing * 2) return params.powLimitBits
      const cached = view.minDifficultyWalkBits?.()
      if (cached !== undefined) return cached
      // Walk back over min-difficulty blocks, stopping at a period boundary or genesis.
      let h = parent.height
      let bits = parent.bits
      while (h > 0 && h % interval !== 0 && bits === params.powLimitBits) {
        h--
        const b = view.bitsAt(h)
        if (b === undefined) return { kind: 'missing-ancestor', height: h }
        bits = b
      }
      return bits
    }
    return parent.bits
  }

  // Retarget height. Core: if (params.fPowNoRetargeting) return pindexLast->nBits
  if (params.noRetargeting) return parent.bits

  // The first block of the period is interval - 1 blocks back: Core measures
  // 2015 intervals, not 2016 (the original off-by-one, now consensus).
  const firstHeight = parent.height - (interval - 1)
  const firstTime = view.timeAt(firstHeight)
  if (firstTime === undefined) return { kind: 'missing-ancestor', height: firstHeight }
  let baseBits = parent.bits
  if (params.enforceBip94) {
    // BIP94: retarget from the first block of the period, which can never be
    // a min-difficulty block, so a min-difficulty last block cannot drag the
    // whole next period down.
    const b = view.bitsAt(firstHeight)
    if (b === undefined) return { kind: 'missing-ancestor', height: firstHeight }
    baseBits = b
  }
  return retargetBits(baseBits, parent.time - firstTime, params)
}

/**
 * Core's CalculateNextWorkRequired arithmetic: clamp the measured timespan
 * to [timespan/4, timespan*4], scale the target by actual/timespan (integer
 * division after the multiplication, modulo 2^256 as arith_uint256 does),
 * cap at powLimit, and compact-encode.
 */
export function retargetBits(
  baseBits: number,
  actualTimespan: number,
  params: Pick<NetworkParams, 'powLimit' | 'targetTimespan'>,
): number {
  const timespan = params.targetTimespan
  // Integer division as in C++ int64 arithmetic (timespan is positive).
  const minSpan = Math.trunc(timespan / 4)
  const maxSpan = timespan * 4
  const actual = Math.min(Math.max(actualTimespan, minSpan), maxSpan)
  let target = bitsToTarget(baseBits).target
  target = (target * BigInt(actual)) % TWO_POW_256
  target = target / BigInt(timespan)
  if (target > params.powLimit) target = params.powLimit
  return targetToBits(target)
}

/**
 * Median of the times of the block at `height` and the up to 10 before it
 * (Core's GetMedianTimePast; fewer near genesis). Undefined when a needed
 * block above genesis is not in the view.
 */
export function medianTimePastOf(height: number, view: Pick<AncestorView, 'timeAt'>): number | undefined {
  const times: number[] = []
  for (let h = height; h >= 0 && times.length < MEDIAN_TIME_SPAN; h--) {
    const t = view.timeAt(h)
    if (t === undefined) break
    times.push(t)
  }
  if (times.length === 0) return undefined
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

/** The lowest version a header at `height` may carry (BIP34: 2, BIP66: 3, BIP65: 4). */
export function minimumVersion(height: number, params: Pick<NetworkParams, 'bip34Height' | 'bip65Height' | 'bip66Height'>): number {
  if (height >= params.bip65Height) return 4
  if (height >= params.bip66Height) return 3
  if (height >= params.bip34Height) return 2
  return 1
}

/** A header at a checkpoint height must have the checkpoint's hash. */
export function checkCheckpoint(height: number, hash: Uint8Array, params: Pick<NetworkParams, 'checkpoints'>): CheckResult {
  for (const cp of params.checkpoints) {
    if (cp.height === height && !bytesEqual(cp.hash, hash)) {
      return fail({ kind: 'checkpoint-mismatch', height, expected: hashToHex(cp.hash), actual: hashToHex(hash) })
    }
  }
  return OK
}

/** Height of the highest checkpoint at or below `height`, if any. */
export function lastCheckpointAtOrBelow(height: number, params: Pick<NetworkParams, 'checkpoints'>): number | undefined {
  let best: number | undefined
  for (const cp of params.checkpoints) if (cp.height <= height && (best === undefined || cp.height > best)) best = cp.height
  return best
}
