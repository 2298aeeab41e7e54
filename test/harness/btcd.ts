/// <reference types="node" />
/**
 * A btcd 0.25.0 regtest node for interop tests, on loopback only: the
 * suite's second independent node beside bcoin, and the one that speaks
 * BIP324 v2, BIP157/158 filters and addrv2.
 *
 *   const node = await startBtcd({ mine: 500, v2transport: true })
 *   await node.getBlockCount()                   // 500
 *   ... connect a TcpConnector to node.p2p ...
 *   await node.stop()
 *
 * Spawns test/harness/btcd-regtest-server.mjs (through spawn-btcd.mjs,
 * shared with the benches): a Node guard that starts the binary of
 * ../shared/tools/btcd with start-btcd.sh's flags on free loopback ports
 * (so test files running in parallel never share a node or a port), in a
 * fresh temporary directory, waits for its RPC and mines `mine` blocks. The
 * guard watches its stdin, so btcd goes when this process goes, and it
 * removes the directory when btcd stops.
 *
 * btcd's quirks the tests meet (../shared/tools/btcd/README.md):
 *  - every start is a fresh chain (its regtest database is deleted);
 *  - segwit activates at height SEGWIT_HEIGHT: mine past it before relying
 *    on witness data;
 *  - it does not answer a getheaders at its tip, nor a getcfcheckpt before
 *    it believes it is synced: mine before connecting;
 *  - the regtest subsidy halves every 150 blocks.
 */
import { formatPeerAddress, type PeerAddress } from '@bitp2p/session'
import { btcdRpcClient, interopSpend, killBtcd, removeBtcdData, spawnBtcd, type BtcdReadyLine } from './spawn-btcd.mjs'
import { forWork, scaled } from './timing.js'

/** Budget for btcd's start-up before mining: the guard, the binary, its database and RPC (about 1 s on an idle machine). */
const START_BUDGET_MS = 10_000
/** Budget per block btcd mines, at start or by RPC (about 4 ms on an idle machine). */
const BLOCK_BUDGET_MS = 40
/** How long the guard waits for btcd to exit after SIGTERM (it flushes its UTXO cache: well under a second) before SIGKILL. */
const GUARD_STOP_GRACE_MS = scaled(10_000)
/** How long stop() waits for the guard before SIGKILL: the guard's own grace and then some. */
const STOP_GRACE_MS = GUARD_STOP_GRACE_MS + scaled(5_000)

/** Height at which segwit (and taproot) activate on btcd's regtest. */
export const SEGWIT_HEIGHT = 432
/** btcd's protocol version. */
export const BTCD_PROTOCOL_VERSION = 70016
/** Coinbase maturity: a coinbase output is spendable this many blocks after its own. */
export const COINBASE_MATURITY = 100

/**
 * A deadline for starting btcd with `blocks` mined (its ready wait, and the
 * hook that starts it). Mining more by RPC needs the same per block, so
 * `btcdBudget(start + mined)` covers a start followed by `generate()`.
 */
export function btcdBudget(blocks: number): number {
  return forWork(blocks, BLOCK_BUDGET_MS, START_BUDGET_MS)
}

/** Options of startBtcd. */
export interface BtcdOptions {
  /** Blocks to mine before ready (to the interop key's P2WPKH address). Default 0. */
  readonly mine?: number
  /** Serve and dial BIP324 v2 (`--v2transport`). Default false. */
  readonly v2transport?: boolean
  /** `--txindex`. Default false. */
  readonly txindex?: boolean
  /** `--addrindex` (searchrawtransactions; needs txindex). Default false. */
  readonly addrindex?: boolean
  /**
   * btcd's one outbound peer (`--connect`): a listener of the test, on
   * 127.0.0.1. Default: an unused loopback port, so btcd dials nobody.
   */
  readonly connect?: PeerAddress
  /** btcd's --debuglevel (default 'info'; 'PEER=debug' and such to see its peer handling in its log). */
  readonly debugLevel?: string
}

/** One entry of btcd's getpeerinfo (the fields the tests read). */
export interface BtcdPeerInfo {
  readonly id: number
  /** "host:port" of the remote end. */
  readonly addr: string
  readonly services: string
  readonly inbound: boolean
  readonly subver: string
  readonly version: number
  readonly startingheight: number
  readonly bytessent: number
  readonly bytesrecv: number
  /** btcd 0.25: true when the connection runs the BIP324 v2 transport. */
  readonly v2_connection: boolean
}

/** An output of the interop key that `spend` can spend. */
export interface Coin {
  /** RPC hex order. */
  readonly txid: string
  readonly vout: number
  readonly sats: bigint
}

/** A transaction made and broadcast by `spend`. */
export interface Spend {
  /** RPC hex order. */
  readonly txid: string
  readonly hex: string
  /** Its P2WPKH output (vout 0): spendable again, also unconfirmed. */
  readonly change: Coin
}

/** A running btcd regtest node. */
export interface BtcdNode {
  /** btcd's P2P listener on 127.0.0.1. */
  readonly p2p: PeerAddress
  readonly info: BtcdReadyLine
  /** JSON-RPC; rejects with BtcdRpcError on an RPC error. */
  rpc(method: string, params?: readonly unknown[]): Promise<any>
  /** Mine `n` blocks; their hashes (RPC hex order). */
  generate(n: number): Promise<string[]>
  getBlockCount(): Promise<number>
  getBlockHash(height: number): Promise<string>
  getBestBlockHash(): Promise<string>
  /** getblock with verbosity 1: header fields and `tx` (txids). */
  getBlock(hash: string): Promise<any>
  /** The serialized block, hex (getblock verbosity 0). */
  getBlockHex(hash: string): Promise<string>
  /** The block's basic (BIP158) filter as btcd serves it, hex (getcfilter HASH 0). */
  getCFilter(hash: string): Promise<string>
  /** The basic filter header of the block (getcfilterheader HASH 0), RPC hex order. */
  getCFilterHeader(hash: string): Promise<string>
  getPeerInfo(): Promise<BtcdPeerInfo[]>
  /** Resolves with the txid. */
  sendRawTransaction(hex: string): Promise<string>
  /** btcd rewinds its chain to the block's parent (a real reorg once more blocks are mined). */
  invalidateBlock(hash: string): Promise<void>
  reconsiderBlock(hash: string): Promise<void>
  /** The coinbase output of the block at `height` (vout 0, paid to the interop key); spendable COINBASE_MATURITY blocks later. */
  coinbase(height: number): Promise<Coin>
  /** Sign (interopspend) and broadcast a P2WPKH spend of `coin`, with real witness data. */
  spend(coin: Coin): Promise<Spend>
  /** Stop btcd, wait for it and its guard to exit; the data directory is gone after. Idempotent. */
  stop(): Promise<void>
}

/** Satoshis of an RPC amount in BTC (a JSON number with at most 8 decimals). */
export function btcToSats(btc: number): bigint {
  return BigInt(Math.round(btc * 1e8))
}

/** Start a btcd regtest node on loopback; resolves once its RPC answers and `mine` blocks are mined. */
export async function startBtcd(opts: BtcdOptions = {}): Promise<BtcdNode> {
  if (opts.connect !== undefined && !/^127\.\d+\.\d+\.\d+$/.test(opts.connect.host)) {
    throw new Error(`startBtcd: connect must be a 127.x.x.x address, got ${opts.connect.host}`)
  }
  const env: Record<string, string> = {
    MINE: String(opts.mine ?? 0),
    V2TRANSPORT: opts.v2transport ? '1' : '0',
    TXINDEX: opts.txindex || opts.addrindex ? '1' : '0',
    ADDRINDEX: opts.addrindex ? '1' : '0',
    ...(opts.connect ? { CONNECT: formatPeerAddress(opts.connect) } : {}),
    ...(opts.debugLevel ? { DEBUGLEVEL: opts.debugLevel } : {}),
    // How long the guard gives btcd to flush and exit on stop before SIGKILL.
    STOP_GRACE_MS: String(GUARD_STOP_GRACE_MS),
  }
  const { child, info } = await spawnBtcd(env, { readyTimeoutMs: btcdBudget(opts.mine ?? 0) })
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  const rpc = btcdRpcClient(info.rpc)

  let stopped: Promise<void> | undefined
  const node: BtcdNode = {
    p2p: { host: '127.0.0.1', port: info.p2p },
    info,
    rpc,
    generate: (n) => rpc('generate', [n]),
    getBlockCount: () => rpc('getblockcount'),
    getBlockHash: (height) => rpc('getblockhash', [height]),
    getBestBlockHash: () => rpc('getbestblockhash'),
    getBlock: (hash) => rpc('getblock', [hash, 1]),
    getBlockHex: (hash) => rpc('getblock', [hash, 0]),
    getCFilter: (hash) => rpc('getcfilter', [hash, 0]),
    getCFilterHeader: (hash) => rpc('getcfilterheader', [hash, 0]),
    getPeerInfo: () => rpc('getpeerinfo'),
    sendRawTransaction: (hex) => rpc('sendrawtransaction', [hex]),
    invalidateBlock: async (hash) => {
      await rpc('invalidateblock', [hash])
    },
    reconsiderBlock: async (hash) => {
      await rpc('reconsiderblock', [hash])
    },
    coinbase: async (height) => {
      const block = await rpc('getblock', [await node.getBlockHash(height), 2])
      // btcd puts verbosity 2 transactions under `rawtx` (Core: `tx`).
      const cb = (block.rawtx ?? block.tx)[0]
      const out = cb.vout[0]
      if (out.scriptPubKey.type !== 'witness_v0_keyhash') throw new Error(`the coinbase of block ${height} pays ${out.scriptPubKey.type}, not the interop key's P2WPKH`)
      return { txid: cb.txid, vout: 0, sats: btcToSats(out.value) }
    },
    spend: async (coin) => {
      const hex = await interopSpend(coin.txid, coin.vout, coin.sats)
      const txid: string = await node.sendRawTransaction(hex)
      const decoded = await rpc('decoderawtransaction', [hex])
      const out = decoded.vout[0]
      if (out.scriptPubKey.type !== 'witness_v0_keyhash') throw new Error(`interopspend's output 0 is ${out.scriptPubKey.type}, not P2WPKH`)
      return { txid, hex, change: { txid, vout: 0, sats: btcToSats(out.value) } }
    },
    stop: () => {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM')
          const timer = setTimeout(() => {
            child.kill('SIGKILL')
            killBtcd(info)
          }, STOP_GRACE_MS)
          await exited
          clearTimeout(timer)
        }
        child.stdin?.destroy()
        // The guard removes it; after a SIGKILL it could not.
        removeBtcdData(info)
      })()
      return stopped
    },
  }
  return node
}
