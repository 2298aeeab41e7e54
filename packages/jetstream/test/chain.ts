/// <reference types="node" />
// A bcoin regtest chain for the indexing tests: 300+ blocks, some with
// wallet transactions, and its ground truth read back over RPC.
import { startBcoin, bcoinBudget, type BcoinNode } from '../../../test/harness/bcoin.js'
import { forWork } from '../../../test/harness/timing.js'

/** Blocks mined before any transaction (coinbase maturity is 100). */
export const MATURE_BLOCKS = 110
/** Blocks with wallet transactions (1 to 4 each). */
export const TX_BLOCKS = 30
/** Empty blocks mined after (bcoin mines them in about 1 ms each). */
export const TAIL_BLOCKS = 170
/** The chain's height once built. */
export const CHAIN_HEIGHT = MATURE_BLOCKS + TX_BLOCKS + TAIL_BLOCKS
/** Budget per wallet transaction (about 100 ms on a busy machine: bcoin signs in JS). */
const TX_BUDGET_MS = 600

/** What the chain holds, from bcoin's RPC. */
export interface ChainTruth {
  readonly height: number
  /** Per height: the block hash (display hex), its txids in order, the coinbase's output value (sats), its size. */
  readonly blocks: readonly { readonly hash: string; readonly txids: readonly string[]; readonly coinbaseSats: bigint; readonly size: number }[]
  /** Every txid of every block, 0..height. */
  readonly txids: readonly string[]
}

/** A deadline for building the chain. */
export const chainBudget = (): number => bcoinBudget(CHAIN_HEIGHT) + forWork(TX_BLOCKS * 4, TX_BUDGET_MS)

/** Start bcoin and mine the chain; returns the node and its truth. */
export async function buildChain(): Promise<{ node: BcoinNode; truth: ChainTruth }> {
  // invMs: bcoin announces new transactions every 100 ms (not 5 s), for the mempool test.
  const node = await startBcoin({ wallet: true, mine: MATURE_BLOCKS, invMs: 100 })
  for (let i = 0; i < TX_BLOCKS; i++) {
    const n = 1 + (i % 4)
    for (let k = 0; k < n; k++) await node.walletRpc('sendtoaddress', [node.info.mineAddress, 0.1 + k])
    // The wallet hands each to the node without waiting for the mempool: wait for all n.
    while ((await node.mempool()).length < n) await new Promise((r) => setTimeout(r, 5))
    await node.mine(1)
  }
  await node.mine(TAIL_BLOCKS)
  const height: number = await node.rpc('getblockcount')
  const blocks: { hash: string; txids: string[]; coinbaseSats: bigint; size: number }[] = []
  for (let h = 0; h <= height; h++) {
    const hash: string = await node.rpc('getblockhash', [h])
    const b = await node.rpc('getblock', [hash, true, true])
    const cb = b.tx[0]
    let coinbaseSats = 0n
    for (const o of cb.vout) coinbaseSats += BigInt(Math.round(o.value * 1e8))
    blocks.push({ hash, txids: b.tx.map((t: { txid: string }) => t.txid), coinbaseSats, size: b.size })
  }
  return { node, truth: { height, blocks, txids: blocks.flatMap((b) => b.txids) } }
}
