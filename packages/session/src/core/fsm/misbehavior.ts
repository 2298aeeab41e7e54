/**
 * Misbehaviour: what a peer did wrong, what it costs, and when it has cost
 * too much.
 *
 * Bitcoin Core scored peers with `Misbehaving(peer, howmuch, message)` and
 * discouraged a peer whose score reached DISCOURAGEMENT_THRESHOLD (100);
 * since v25 every offense it still punishes is worth 100 and the others are
 * only logged. We keep the older graded scale: one stray message should not
 * cost a light client a good peer, a stream of them should. Each score below
 * says where it comes from; "ours" marks a choice Core does not make.
 *
 * Only misbehaviour counts here. Slowness (timeouts, stalls) is
 * unresponsiveness, never an offense: see `disconnectPolicy` in reasons.ts.
 * Nor is volume within the protocol's limits: transaction announcements
 * beyond the MempoolMonitor's per-peer budget (Core's 5,000) are dropped
 * and counted, not scored, as in Core (an honest peer answering `mempool`
 * goes past it; see services/tx-request.ts). An `inv` over MAX_INV_SIZE is
 * an offense ('too-many-items').
 */
import type { WireError } from '@bitp2p/wire'
import type { HeaderError } from '../chain/validation.js'

/** Core's old DISCOURAGEMENT_THRESHOLD: a peer reaching this score is disconnected. */
export const DISCOURAGEMENT_THRESHOLD = 100

/**
 * Most headers an unsolicited `headers` message may carry and still be a
 * block announcement (Core's MAX_BLOCKS_TO_ANNOUNCE, BIP130).
 */
export const MAX_BLOCKS_TO_ANNOUNCE = 8

/** One thing a peer did wrong. Every kind carries what we saw. */
export type Offense =
  /** A frame longer than the global or per-command cap (framing OVERSIZE). */
  | { readonly kind: 'oversized-message'; readonly error: WireError }
  /** A frame whose checksum does not match its payload. */
  | { readonly kind: 'bad-checksum'; readonly error: WireError }
  /** Any other broken frame, e.g. a command field that is not NUL-padded printable ASCII. */
  | { readonly kind: 'bad-frame'; readonly error: WireError }
  /** Bytes that do not start with the network magic: another network, or noise. */
  | { readonly kind: 'wrong-network'; readonly error: WireError }
  /** A well-framed payload that does not decode. */
  | { readonly kind: 'malformed-payload'; readonly command: string; readonly error: WireError }
  /** A list above its protocol limit (addr > 1000, inv > 50000, headers > 2000...). */
  | { readonly kind: 'too-many-items'; readonly command: string; readonly error: WireError }
  /** A message the handshake does not allow yet (before version, or before verack). */
  | { readonly kind: 'before-handshake'; readonly command: string; readonly state: string }
  /** A second version message. */
  | { readonly kind: 'duplicate-version' }
  /** A block (or merkleblock) nobody asked for. */
  | { readonly kind: 'unsolicited-block'; readonly command: string; readonly hash: Uint8Array }
  /** A transaction nobody asked for. */
  | { readonly kind: 'unsolicited-tx'; readonly txid: Uint8Array }
  /** More unsolicited headers than an announcement carries (MAX_BLOCKS_TO_ANNOUNCE). */
  | { readonly kind: 'unsolicited-headers'; readonly count: number }
  /** A reply to our getheaders whose first header connects to nothing in our locator. */
  | { readonly kind: 'non-connecting-headers'; readonly count: number; readonly prevBlock: Uint8Array }
  /** A header that failed validation (bad proof of work, difficulty, checkpoint...), found by a service. */
  | { readonly kind: 'invalid-header'; readonly error: HeaderError }
  /** A block whose bytes, merkle root or witness commitment are wrong, found by a service. */
  | { readonly kind: 'invalid-block'; readonly hash: string; readonly error: WireError }
  /**
   * A BIP157 filter, filter header or checkpoint provably wrong, found by a
   * service: it contradicts the block (an output script missing from the
   * basic filter) or what the same peer said before. `hash` is the block's
   * display hex, `height` its height, `detail` what was wrong.
   */
  | { readonly kind: 'invalid-filter'; readonly hash: string; readonly height: number; readonly detail: string }
  /**
   * BIP152 data that cannot be right whoever else is honest, found by the
   * compact block relay: a cmpctblock of no transactions, or a blocktxn
   * whose count differs from what our getblocktxn asked. `hash` is the
   * block's display hex, `detail` what was wrong. (A block that only fails
   * its merkle root after filling is not this: a short id collision can
   * cause that, so it falls back to the full block unpunished.)
   */
  | { readonly kind: 'invalid-compact-block'; readonly hash: string; readonly detail: string }
  /** A blocktxn for a block we sent this peer no getblocktxn for (a late reply to one we gave up on is not this). */
  | { readonly kind: 'unsolicited-blocktxn'; readonly hash: string }

/** The `kind` tag of an Offense; OFFENSE_SCORES gives each one's score. */
export type OffenseKind = Offense['kind']

/**
 * The score of each offense. Read as "how many of these before we give up":
 * 100 is one, 20 is five, 10 is ten, 1 is a hundred.
 */
export const OFFENSE_SCORES: Readonly<Record<OffenseKind, number>> = {
  // Core disconnects on an oversized header ("oversized message").
  'oversized-message': 100,
  // Core drops the message and carries on; our framing cannot resync, so we
  // disconnect, but one corrupt frame alone does not ban (ours).
  'bad-checksum': 50,
  // Core disconnects ("Header error: Unable to deserialize"); not
  // necessarily hostile (ours).
  'bad-frame': 50,
  // A peer on another network is misconfigured, not hostile: disconnect only.
  'wrong-network': 0,
  // Core logs and ignores undecodable messages; ten of them is a pattern (ours).
  'malformed-payload': 10,
  // Core: Misbehaving(20) for oversized addr, inv, getdata, headers.
  'too-many-items': 20,
  // Core <= 0.20: Misbehaving(1) before version; later only logs. Ours: 10.
  'before-handshake': 10,
  // Core <= 0.20: Misbehaving(1, "redundant version message").
  'duplicate-version': 1,
  // Core only sends blocks and transactions in reply to getdata (ours).
  'unsolicited-block': 20,
  'unsolicited-tx': 5,
  'unsolicited-headers': 20,
  // Core: Misbehaving(20) per MAX_UNCONNECTING_HEADERS non-connecting messages.
  'non-connecting-headers': 20,
  // Core: Misbehaving(100) for an invalid header or block (BlockChecked, "invalid header received").
  'invalid-header': 100,
  'invalid-block': 100,
  // Core (a filter server) never judges filters; a light client that proved one wrong gives up on its peer (ours, as BIP157's "Client Operation" advises).
  'invalid-filter': 100,
  // Core: Misbehaving(100, "invalid compact block") for READ_STATUS_INVALID, and for a blocktxn of the wrong count.
  'invalid-compact-block': 100,
  // Core ignores a blocktxn it did not ask for; a stray one is cheap to send, a stream of them is a pattern (ours).
  'unsolicited-blocktxn': 10,
}

/** The score of one offense. */
export function offenseScore(o: Offense): number {
  return OFFENSE_SCORES[o.kind]
}

/** What `Misbehavior.add` reports. */
export interface MisbehaviorResult {
  /** Points this offense added. */
  readonly added: number
  /** Total score after it. */
  readonly score: number
  /** True exactly once: when this offense takes the score to the threshold or above. */
  readonly crossed: boolean
}

/** Accumulates one peer's offenses against a threshold. */
export class Misbehavior {
  /** Score at which the peer is disconnected. */
  readonly threshold: number
  private total = 0
  private lastOffense: Offense | undefined

  constructor(threshold: number = DISCOURAGEMENT_THRESHOLD) {
    if (!(threshold > 0)) throw new RangeError(`misbehavior threshold must be > 0, got ${threshold}`)
    this.threshold = threshold
  }

  /** Current score. */
  get score(): number {
    return this.total
  }

  /** The most recent offense, if any. */
  get last(): Offense | undefined {
    return this.lastOffense
  }

  /** True once the score has reached the threshold. */
  get exceeded(): boolean {
    return this.total >= this.threshold
  }

  /** Record an offense. */
  add(o: Offense): MisbehaviorResult {
    const before = this.total
    const added = offenseScore(o)
    this.total = before + added
    this.lastOffense = o
    return { added, score: this.total, crossed: before < this.threshold && this.total >= this.threshold }
  }
}

/** The offense a fatal framing error stands for. */
export function framingOffense(error: WireError): Offense {
  switch (error.code) {
    case 'BAD_MAGIC':
      return { kind: 'wrong-network', error }
    case 'BAD_CHECKSUM':
      return { kind: 'bad-checksum', error }
    case 'OVERSIZE':
      return { kind: 'oversized-message', error }
    default:
      return { kind: 'bad-frame', error }
  }
}

/** The offense an undecodable payload stands for: over a count limit, or just malformed. */
export function payloadOffense(command: string, error: WireError): Offense {
  return error.code === 'OVERSIZE' ? { kind: 'too-many-items', command, error } : { kind: 'malformed-payload', command, error }
}
