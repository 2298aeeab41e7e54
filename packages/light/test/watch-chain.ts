/**
 * The btcd chain the browser tests watch: 1,142 blocks with two payments
 * to the interop key's P2PKH address (what `interopspend` pays; nothing
 * else does), far apart, and btcd's own answer for that address
 * (searchrawtransactions, with --txindex --addrindex) to compare with.
 * Used by the vitest browser project's globalSetup (watch.global.ts) and
 * by the page reload test (reload.test.ts).
 */
import { fromHex, regtest } from '@bitp2p/wire'
import { scriptToAddress } from '../src/address/address.js'
import { btcdBudget, startBtcd, type BtcdNode } from '../../../test/harness/btcd.js'

/** Blocks at start (past segwit, so interopspend's P2WPKH spends are valid). */
export const WATCH_START_BLOCKS = 440
/** Blocks mined on top of each payment's block, in order. */
const GAPS = [400, 300] as const
/** The chain's height once built: the start, then each payment's block and the blocks above it. */
export const WATCH_CHAIN_HEIGHT = WATCH_START_BLOCKS + GAPS.reduce((n, gap) => n + 1 + gap, 0)
/** A deadline for startWatchedBtcd (btcd's start and every block it mines). */
export const WATCH_CHAIN_BUDGET_MS = btcdBudget(WATCH_CHAIN_HEIGHT)

/** The watched address: the interop key's P2PKH on regtest. */
export function watchedAddress(node: BtcdNode): string {
  return scriptToAddress(fromHex(`76a914${node.info.mineKeyHash}88ac`), regtest)!
}

/**
 * One block holding a payment to the watched address, spending the
 * coinbase of block `coinbaseHeight` (mature by then); resolves with the
 * payment's txid (RPC hex order) and the block's hash.
 */
export async function payWatched(node: BtcdNode, coinbaseHeight: number): Promise<{ txid: string; block: string }> {
  const { txid } = await node.spend(await node.coinbase(coinbaseHeight))
  const [block] = await node.generate(1)
  return { txid, block: block! }
}

/** btcd with v2, --txindex and --addrindex, and the chain of the module comment mined. */
export async function startWatchedBtcd(): Promise<{ node: BtcdNode; address: string }> {
  const node = await startBtcd({ mine: WATCH_START_BLOCKS, v2transport: true, txindex: true, addrindex: true })
  try {
    for (const [i, gap] of GAPS.entries()) {
      await payWatched(node, i + 1)
      await node.generate(gap)
    }
    return { node, address: watchedAddress(node) }
  } catch (e) {
    await node.stop()
    throw e
  }
}

/** btcd's answer for `address`: every confirmed transaction touching it, as "txid@height@blockhash", sorted. */
export async function btcdAnswer(node: BtcdNode, address: string): Promise<string[]> {
  const list: { txid: string; blockhash?: string }[] = await node.rpc('searchrawtransactions', [address, 1, 0, 1000])
  const answer: string[] = []
  for (const t of list) {
    if (t.blockhash === undefined) continue
    answer.push(`${t.txid}@${(await node.getBlock(t.blockhash)).height}@${t.blockhash}`)
  }
  return answer.sort()
}
