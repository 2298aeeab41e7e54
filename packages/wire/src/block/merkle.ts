/**
 * Bitcoin's merkle tree over txids (or wtxids).
 *
 * Each level pairs adjacent nodes and hashes sha256d(left || right); a
 * level with an odd number of nodes pairs its last node with itself. The
 * root of one hash is that hash; the root of none is 32 zero bytes (Core's
 * ComputeMerkleRoot).
 *
 * The duplicate-last rule lets two different transaction lists share a root
 * (CVE-2012-2459): [a, b, c] and [a, b, c, c] give the same tree. Core
 * rejects a block in which any level pairs two identical nodes; `mutated`
 * reports exactly that case.
 *
 * MerkleBuilder takes hashes one at a time and keeps only one pending node
 * per level: O(log n) memory, so a streamed block never holds all txids.
 */
import { bytesEqual } from '../bytes/hex.js'
import { sha256dPair } from '../hash/sha256.js'

/** Bytes of a hash (txid, wtxid, merkle node). */
export const MERKLE_HASH_BYTES = 32

/** A merkle root and whether the tree paired two identical nodes. */
export interface MerkleResult {
  readonly root: Uint8Array
  /** True when some level paired two equal nodes (CVE-2012-2459): the block is invalid. */
  readonly mutated: boolean
}

/**
 * Incremental merkle root. add() the leaves in order, then read root().
 * root() does not consume the builder: more leaves may be added after.
 */
export class MerkleBuilder {
  /** pending[level]: the left node waiting for its right sibling, or null. */
  private readonly pending: (Uint8Array | null)[] = []
  private n = 0
  private dup = false

  /** Leaves added so far. */
  get count(): number {
    return this.n
  }

  /** True once two identical adjacent nodes have been paired (see the module doc). */
  get mutated(): boolean {
    return this.dup || this.finish().mutated
  }

  /** Append one 32-byte leaf (kept by reference until paired; do not modify it). */
  add(hash: Uint8Array): void {
    const pending = this.pending
    let node = hash
    let level = 0
    // The bits of n say which levels hold a pending node: carry like a binary increment.
    while (level < pending.length && pending[level] !== null) {
      const left = pending[level]!
      if (!this.dup && bytesEqual(left, node)) this.dup = true
      node = sha256dPair(left, node)
      pending[level] = null
      level++
    }
    if (level === pending.length) pending.push(node)
    else pending[level] = node
    this.n++
  }

  /** The merkle root of the leaves added so far (32 zero bytes for none). */
  root(): Uint8Array {
    return this.finish().root
  }

  /** Root and mutation flag together. */
  result(): MerkleResult {
    const f = this.finish()
    return { root: f.root, mutated: this.dup || f.mutated }
  }

  /**
   * Close the incomplete right edge of the tree: carry a node up from the
   * lowest pending level, pairing it with a pending left sibling where there
   * is one and with itself where there is none.
   */
  private finish(): MerkleResult {
    const pending = this.pending
    if (this.n === 0) return { root: new Uint8Array(MERKLE_HASH_BYTES), mutated: false }
    let top = pending.length - 1
    while (pending[top] === null) top--
    let node: Uint8Array | null = null
    let mutated = false
    for (let level = 0; level <= top; level++) {
      const left = pending[level]!
      if (node === null) {
        if (left === null) continue
        // The whole tree is complete (n is a power of two): its root is pending at the top.
        if (level === top) return { root: left, mutated: false }
        // A lone last node at this level: paired with itself (not a mutation).
        node = sha256dPair(left, left)
      } else if (left !== null) {
        if (bytesEqual(left, node)) mutated = true
        node = sha256dPair(left, node)
      } else {
        node = sha256dPair(node, node)
      }
    }
    return { root: node!, mutated }
  }
}

/** Merkle root of `hashes` (32 bytes each), with the duplicate-last rule. */
export function merkleRoot(hashes: readonly Uint8Array[]): Uint8Array {
  return merkleRootMutated(hashes).root
}

/**
 * Merkle root of `hashes` and whether it is mutated: some level paired two
 * identical nodes, so the list can be changed without changing the root
 * (CVE-2012-2459; Core's ComputeMerkleRoot `mutated` output).
 */
export function merkleRootMutated(hashes: readonly Uint8Array[]): MerkleResult {
  const b = new MerkleBuilder()
  for (let i = 0; i < hashes.length; i++) b.add(hashes[i]!)
  return b.result()
}
