/**
 * Interop step 2: header sync from genesis through repeated getheaders.
 *
 * Each round sends the block locator of our HeaderTree's active chain
 * (packages/session/src/chain) and feeds the reply to the tree, which runs
 * the full header rules for regtest (linkage, PoW against powLimit, the
 * difficulty rule, median time past, future time, version minimums,
 * checkpoints) and keeps the most-work chain. Independently of the tree,
 * every header is also checked here to link to the one before it and to
 * meet its own target with checkProofOfWork under regtest's powLimit, so
 * the step does not rest on the tree alone. Sync ends when a reply is
 * shorter than MAX_HEADERS_RESULTS; our tip must then be bcoin's.
 */
import { HeaderTree } from '@bitp2p/session/chain'
import { blockHash, bytesEqual, hashToHex, regtest } from '@bitp2p/wire'
import { checkProofOfWork } from '@bitp2p/wire/consensus'
import type { InteropNode } from './node.js'
import { check, checkEqual, connectPeer, since } from './util.js'
import { scaled } from '../harness/timing.js'

/** A full headers reply (Core's and bcoin's MAX_HEADERS_RESULTS): fewer means the peer has no more. */
export const MAX_HEADERS_RESULTS = 2_000
/** Deadline of one getheaders round (up to MAX_HEADERS_RESULTS headers: about 0.1 s on an idle machine). */
const ROUND_TIMEOUT_MS = scaled(30_000)

/** Options of step 2. */
export interface HeaderSyncOptions {
  /** Mine until bcoin's chain has at least this many blocks. Default 2,500. */
  readonly minBlocks?: number
  /** Called after each round (for progress output). */
  readonly onRound?: (height: number, target: number, headersPerSec: number) => void
}

/** What step 2 measured. */
export interface HeaderSyncReport {
  readonly height: number
  readonly tipHash: string
  /** getheaders round trips, the final short (or empty) reply included. */
  readonly rounds: number
  readonly headers: number
  /** Sync time only (connect and mining excluded). */
  readonly syncMs: number
  readonly headersPerSec: number
  /** Time spent mining to reach minBlocks (0 if bcoin had enough). */
  readonly mineMs: number
  readonly ms: number
}

/** Step 2. Syncs headers from genesis and checks the tip against bcoin's. */
export async function headerSync(node: InteropNode, opts: HeaderSyncOptions = {}): Promise<HeaderSyncReport> {
  const start = performance.now()
  const minBlocks = opts.minBlocks ?? 2_500
  const have: number = await node.rpc('getblockcount', [])
  if (have < minBlocks) await node.mine(minBlocks - have)
  const mineMs = since(start)
  const target: number = await node.rpc('getblockcount', [])
  check(target >= minBlocks, `bcoin has ${target} blocks, wanted >= ${minBlocks}`)

  const tree = new HeaderTree(regtest)
  const peer = await connectPeer(node)
  try {
    const syncStart = performance.now()
    let rounds = 0
    let headers = 0
    let prevHash = regtest.genesisHash
    for (;;) {
      const batch = await peer.getHeaders(tree.locator(), { timeoutMs: ROUND_TIMEOUT_MS })
      rounds++
      for (const h of batch) {
        const hash = blockHash(h)
        check(bytesEqual(h.prevBlock, prevHash), `header ${hashToHex(hash)} does not link to ${hashToHex(prevHash)}`)
        const pow = checkProofOfWork(hash, h.bits, regtest)
        check(pow.ok, `header ${hashToHex(hash)} fails regtest PoW: ${pow.ok ? '' : pow.reason}`)
        prevHash = hash
      }
      const r = tree.acceptMany(batch, Math.floor(Date.now() / 1000))
      check(r.rejected === undefined, `header tree rejected header #${r.rejected?.index} of round ${rounds}: ${JSON.stringify(r.rejected?.error, bigintJson)}`)
      checkEqual(r.added, batch.length, `new headers in round ${rounds}`)
      headers += batch.length
      opts.onRound?.(tree.height, target, headers / ((performance.now() - syncStart) / 1000))
      if (batch.length < MAX_HEADERS_RESULTS) break
    }
    const syncMs = since(syncStart)

    const best: string = await node.rpc('getbestblockhash', [])
    const tipHash = hashToHex(tree.tip.hash)
    checkEqual(tipHash, best, 'our tip vs bcoin getbestblockhash')
    checkEqual(tree.height, target, 'our height vs bcoin getblockcount')
    checkEqual(headers, target, 'headers received (genesis excluded)')
    check(rounds >= Math.ceil(target / MAX_HEADERS_RESULTS), `only ${rounds} getheaders rounds for ${target} headers`)

    return {
      height: tree.height,
      tipHash,
      rounds,
      headers,
      syncMs,
      headersPerSec: Math.round(headers / (syncMs / 1000)),
      mineMs,
      ms: since(start),
    }
  } finally {
    peer.close('interop step 2 done')
  }
}

/** JSON.stringify replacer that prints bigints. */
function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}
