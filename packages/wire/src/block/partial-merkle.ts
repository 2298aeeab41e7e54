/**
 * BIP37 partial merkle trees: the proof inside a `merkleblock` that some
 * txids are in a block, without sending the other txids.
 *
 * The tree is walked depth first from the root. At each node one flag bit
 * says whether the subtree holds a matched txid. A node with bit 0, or any
 * leaf, takes the next hash from the list (its own hash); a node with bit 1
 * above the leaves is rebuilt from its children. Bits are packed eight to a
 * byte, least significant bit first.
 *
 * `extractMatches` makes every check Bitcoin Core's
 * CPartialMerkleTree::ExtractMatches makes, but throws a WireError saying
 * which one failed instead of returning a zero hash.
 */
import { WireError } from '../errors.js'
import { bytesEqual } from '../bytes/hex.js'
import { sha256dPair } from '../hash/sha256.js'
import type { BlockHeader } from './header.js'

/**
 * Core's bound on transactions in a block: MAX_BLOCK_WEIGHT (4,000,000) /
 * MIN_TRANSACTION_WEIGHT (4 x 60). A merkleblock claiming more is invalid.
 */
export const MAX_MERKLE_BLOCK_TXS = Math.floor(4_000_000 / (4 * 60))

/**
 * Smallest serialization of a valid transaction (Core's
 * MIN_TRANSACTION_WEIGHT / 4): one input, one output, empty scripts.
 */
export const MIN_TRANSACTION_BYTES = 60

/**
 * Most transactions a block of `maxBlockPayload` bytes can hold; bounds
 * every per-transaction list in block-sized messages (merkleblock hashes,
 * cmpctblock short ids, blocktxn).
 */
export function maxBlockTxs(maxBlockPayload: number): number {
  return Math.floor(maxBlockPayload / MIN_TRANSACTION_BYTES)
}

/** A partial merkle tree as it travels in a merkleblock. */
export interface PartialMerkleTree {
  /** Number of transactions in the whole block (u32). */
  readonly totalTxs: number
  /** Hashes in depth-first order, 32 bytes each, internal byte order. */
  readonly hashes: readonly Uint8Array[]
  /** Flag bits, eight per byte, least significant bit first. */
  readonly flags: Uint8Array
}

/** A txid proven to be in the block, with its position in the block. */
export interface MatchedTx {
  readonly txid: Uint8Array
  readonly index: number
}

/** What a valid partial merkle tree proves. */
export interface PartialMerkleResult {
  /** The merkle root the tree commits to; compare it with the header's. */
  readonly root: Uint8Array
  /** The matched txids, in block order. */
  readonly matched: readonly MatchedTx[]
}

/** Nodes at `height` above the leaves (height 0 = the txids). */
function treeWidth(totalTxs: number, height: number): number {
  // (n + 2^h - 1) >> h without 32-bit overflow.
  return Math.floor((totalTxs + 2 ** height - 1) / 2 ** height)
}

function treeHeight(totalTxs: number): number {
  let h = 0
  while (treeWidth(totalTxs, h) > 1) h++
  return h
}

function invalid(message: string, field: string, extra: { expected?: number; actual?: number } = {}): WireError {
  return new WireError('INVALID_VALUE', `partial merkle tree: ${message}`, { field, ...extra })
}

/**
 * Build the partial merkle tree for a block's txids and which of them
 * matched (Core's CPartialMerkleTree(vTxid, vMatch)).
 */
export function buildPartialMerkleTree(txids: readonly Uint8Array[], matches: readonly boolean[]): PartialMerkleTree {
  const n = txids.length
  if (n === 0) throw new WireError('ENCODE_RANGE', 'partial merkle tree: a block has at least one transaction')
  if (matches.length !== n) {
    throw new WireError('ENCODE_RANGE', `partial merkle tree: ${matches.length} match flags for ${n} txids`, {
      expected: n,
      actual: matches.length,
    })
  }
  for (const t of txids) {
    if (t.length !== 32) throw new WireError('ENCODE_RANGE', `partial merkle tree: txid of ${t.length} bytes`, { actual: t.length })
  }
  const hashes: Uint8Array[] = []
  const bits: boolean[] = []

  // The hash of the subtree at (height, pos); a missing right child
  // repeats the left one, as in the block merkle root.
  const subtreeHash = (height: number, pos: number): Uint8Array => {
    if (height === 0) return txids[pos]!
    const left = subtreeHash(height - 1, pos * 2)
    const right = pos * 2 + 1 < treeWidth(n, height - 1) ? subtreeHash(height - 1, pos * 2 + 1) : left
    return sha256dPair(left, right)
  }

  const walk = (height: number, pos: number): void => {
    // Does any leaf under this node match?
    let parentOfMatch = false
    const first = pos * 2 ** height
    const end = Math.min((pos + 1) * 2 ** height, n)
    for (let p = first; p < end && !parentOfMatch; p++) parentOfMatch = matches[p]!
    bits.push(parentOfMatch)
    if (height === 0 || !parentOfMatch) {
      hashes.push(subtreeHash(height, pos))
    } else {
      walk(height - 1, pos * 2)
      if (pos * 2 + 1 < treeWidth(n, height - 1)) walk(height - 1, pos * 2 + 1)
    }
  }
  walk(treeHeight(n), 0)

  const flags = new Uint8Array(Math.ceil(bits.length / 8))
  for (let i = 0; i < bits.length; i++) if (bits[i]) flags[i >>> 3]! |= 1 << (i & 7)
  return { totalTxs: n, hashes, flags }
}

/**
 * Check a partial merkle tree and return its root and the matched txids.
 *
 * Throws WireError INVALID_VALUE when: totalTxs is 0 or above `maxTxs`;
 * there are more hashes than transactions or fewer flag bits than hashes;
 * the walk needs more bits or hashes than given; it leaves a hash unused or
 * a whole flag byte unused (only the padding of the last byte may be left);
 * or a node's two children are equal (CVE-2012-2459: a duplicated pair
 * would let two different txid lists share a root).
 */
export function extractMatches(
  totalTxs: number,
  hashes: readonly Uint8Array[],
  flags: Uint8Array,
  maxTxs: number = MAX_MERKLE_BLOCK_TXS,
): PartialMerkleResult {
  if (totalTxs === 0) throw invalid('total transaction count is 0', 'totalTxs', { actual: 0 })
  if (!Number.isInteger(totalTxs) || totalTxs < 0 || totalTxs > maxTxs) {
    throw invalid(`total transaction count ${totalTxs} exceeds ${maxTxs}`, 'MAX_MERKLE_BLOCK_TXS', { expected: maxTxs, actual: totalTxs })
  }
  if (hashes.length > totalTxs) {
    throw invalid(`${hashes.length} hashes for ${totalTxs} transactions`, 'hashes', { expected: totalTxs, actual: hashes.length })
  }
  const bitCount = flags.length * 8
  if (bitCount < hashes.length) {
    throw invalid(`${bitCount} flag bits for ${hashes.length} hashes`, 'flags', { expected: hashes.length, actual: bitCount })
  }
  for (const h of hashes) {
    if (h.length !== 32) throw invalid(`hash of ${h.length} bytes`, 'hashes', { expected: 32, actual: h.length })
  }

  let bitsUsed = 0
  let hashesUsed = 0
  const matched: MatchedTx[] = []

  const walk = (height: number, pos: number): Uint8Array => {
    if (bitsUsed >= bitCount) throw invalid('ran out of flag bits', 'flags', { actual: bitCount })
    const parentOfMatch = (flags[bitsUsed >>> 3]! >>> (bitsUsed & 7)) & 1
    bitsUsed++
    if (height === 0 || !parentOfMatch) {
      if (hashesUsed >= hashes.length) throw invalid('ran out of hashes', 'hashes', { actual: hashes.length })
      const hash = hashes[hashesUsed++]!
      if (height === 0 && parentOfMatch) matched.push({ txid: hash, index: pos })
      return hash
    }
    const left = walk(height - 1, pos * 2)
    let right = left
    if (pos * 2 + 1 < treeWidth(totalTxs, height - 1)) {
      right = walk(height - 1, pos * 2 + 1)
      if (bytesEqual(left, right)) throw invalid('identical sibling hashes (CVE-2012-2459)', 'hashes')
    }
    return sha256dPair(left, right)
  }
  const root = walk(treeHeight(totalTxs), 0)

  // Every flag byte must be needed; only the last one's padding may go unused.
  if (Math.ceil(bitsUsed / 8) !== flags.length) {
    throw invalid(`${flags.length} flag bytes but only ${Math.ceil(bitsUsed / 8)} used`, 'flags', {
      expected: Math.ceil(bitsUsed / 8),
      actual: flags.length,
    })
  }
  if (hashesUsed !== hashes.length) {
    throw invalid(`${hashes.length} hashes but only ${hashesUsed} used`, 'hashes', { expected: hashesUsed, actual: hashes.length })
  }
  return { root, matched }
}

/**
 * Verify a merkleblock against its own header: extract the matches and
 * require the tree's root to equal header.merkleRoot (BAD_MERKLE_ROOT
 * otherwise). Returns the matched txids in block order.
 */
export function verifyMerkleBlock(
  mb: { readonly header: BlockHeader } & PartialMerkleTree,
  maxTxs: number = MAX_MERKLE_BLOCK_TXS,
): readonly MatchedTx[] {
  const { root, matched } = extractMatches(mb.totalTxs, mb.hashes, mb.flags, maxTxs)
  if (!bytesEqual(root, mb.header.merkleRoot)) {
    throw new WireError('BAD_MERKLE_ROOT', 'merkleblock: partial tree root does not match the header merkle root', {
      field: 'merkleRoot',
    })
  }
  return matched
}
