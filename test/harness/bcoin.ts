/// <reference types="node" />
/**
 * A bcoin regtest node for interop tests, on loopback only.
 *
 *   const node = await startBcoin({ mine: 10 })
 *   await node.rpc('getblockcount', [])        // 10
 *   ... connect a TcpConnector to node.p2p ...
 *   await node.stop()
 *
 * Spawns test/harness/bcoin-regtest-server.cjs with the current Node
 * (through spawn-bcoin.mjs, shared with the demo and the benches), waits for
 * its one JSON ready line, and talks JSON-RPC over HTTP to
 * 127.0.0.1 with the API key. stop() always ends the child (SIGTERM, then
 * SIGKILL); a process 'exit' hook and the child's own stdin watch make sure
 * no node outlives a failed or killed test run.
 */
import { formatPeerAddress, type PeerAddress } from '@bitp2p/session'
import { spawnBcoin } from './spawn-bcoin.mjs'
import { forWork, scaled } from './timing.js'

/** Budget for bcoin's start-up before mining: its process, chain and wallet (about 0.7 s on an idle machine). */
const START_BUDGET_MS = 10_000
/** Budget per block bcoin mines, at start or by RPC (about 1 ms on an idle machine). */
const BLOCK_BUDGET_MS = 10
/** How long stop() waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = scaled(5_000)
/** How long sendFromWallet waits for its tx to enter the mempool. */
const MEMPOOL_WAIT_MS = scaled(10_000)

/**
 * A deadline for starting bcoin with `blocks` mined: its ready wait, and the
 * hook or test that starts it. Mining `blocks` more by RPC needs the same
 * per block, so `bcoinBudget(start + mined)` covers a start followed by `mine()`.
 */
export function bcoinBudget(blocks: number): number {
  return forWork(blocks, BLOCK_BUDGET_MS, START_BUDGET_MS)
}

/** Options of startBcoin. */
export interface BcoinOptions {
  /** Blocks to mine at start (to the wallet's address with `wallet`). Default 0. */
  readonly mine?: number
  /** Load bcoin's in-memory wallet (needed for walletRpc / sendFromWallet). Default false. */
  readonly wallet?: boolean
  /** bcoin's tx inv flush interval, ms (bcoin default 5000; lower makes tx relay tests fast). */
  readonly invMs?: number
  /** bcoin log level ('error' by default; 'debug' to see its peer handling on stderr). */
  readonly logLevel?: string
  /** P2P port on 127.0.0.1 (default 0: a free port). A fixed one lets a test restart a node where its peers expect it. */
  readonly p2pPort?: number
}

/** The ready line the server script prints. */
export interface BcoinInfo {
  readonly ready: true
  readonly pid: number
  readonly bcoin: string
  readonly network: string
  /** Network magic as wire bytes, hex ('fabfb5da' on regtest). */
  readonly magic: string
  readonly p2p: number
  readonly http: number
  readonly wallet: number | null
  readonly apiKey: string
  /** Chain height once ready (= `mine`). */
  readonly height: number
  /** Where the start-up blocks were mined to (the wallet's receive address with `wallet`). */
  readonly mineAddress: string
  readonly startup_ms: number
}

/** A running bcoin regtest node. */
export interface BcoinNode {
  /** bcoin's P2P listener on 127.0.0.1. */
  readonly p2p: PeerAddress
  readonly info: BcoinInfo
  /**
   * Node JSON-RPC (generatetoaddress, getrawmempool, addnode, invalidateblock, ...).
   * Throws BcoinRpcError on an RPC error. Note bcoin 1.0.2's semantics:
   * invalidateblock rewinds the chain to the block's parent and marks it
   * invalid; reconsiderblock only clears the mark (it does not reconnect the
   * block: mine or relay a block to move the tip again).
   */
  rpc(method: string, params?: readonly unknown[]): Promise<any>
  /** Wallet JSON-RPC (getnewaddress, sendtoaddress, ...). Needs `wallet: true`. */
  walletRpc(method: string, params?: readonly unknown[]): Promise<any>
  /** Mine `n` blocks (to `address`, default info.mineAddress); returns their hashes (RPC hex order). */
  mine(n: number, address?: string): Promise<string[]>
  /** Txids in bcoin's mempool (RPC hex order). */
  mempool(): Promise<string[]>
  /** Ask bcoin to open one outbound connection to `addr` (addnode onetry). */
  connectTo(addr: PeerAddress): Promise<void>
  /**
   * Create, sign and broadcast a wallet transaction paying `btc` to `address`
   * (the wallet's own info.mineAddress by default); returns its txid. Needs `wallet: true`
   * and a mature coinbase: mine at least 101 blocks first. Resolves once the
   * tx is in bcoin's mempool.
   */
  sendFromWallet(btc?: number, address?: string): Promise<string>
  /** Stop the node and wait for the process to exit. Idempotent. */
  stop(): Promise<void>
}

/** A JSON-RPC error from bcoin. */
export class BcoinRpcError extends Error {
  override readonly name = 'BcoinRpcError'
  constructor(
    readonly method: string,
    readonly code: number | undefined,
    message: string,
  ) {
    super(`bcoin rpc ${method}: ${message}`)
  }
}

/** Start a bcoin regtest node on loopback; resolves once it is ready. */
export async function startBcoin(opts: BcoinOptions = {}): Promise<BcoinNode> {
  // spawn-bcoin kills the child if it never gets ready, and on this process's exit.
  const { child, info } = await spawnBcoin<BcoinInfo>(
    {
      NODE_BACKEND: 'js',
      P2P_PORT: String(opts.p2pPort ?? 0),
      API_KEY: `bitp2p-test-${process.pid}`,
      MINE: String(opts.mine ?? 0),
      WALLET: opts.wallet ? '1' : '0',
      LOG_LEVEL: opts.logLevel ?? 'error',
      ...(opts.invMs !== undefined ? { INV_MS: String(opts.invMs) } : {}),
    },
    { readyTimeoutMs: bcoinBudget(opts.mine ?? 0), captureStderr: true },
  )
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })

  const call = async (port: number, method: string, params: readonly unknown[] = []): Promise<any> => {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${btoa(`x:${info.apiKey}`)}`,
      },
      body: JSON.stringify({ method, params, id: 1 }),
    })
    const text = await res.text()
    let body: { result?: unknown; error?: { code?: number; message?: string } | null }
    try {
      body = JSON.parse(text)
    } catch {
      throw new BcoinRpcError(method, undefined, `HTTP ${res.status}: ${text.slice(0, 200)}`)
    }
    if (body.error) throw new BcoinRpcError(method, body.error.code, body.error.message ?? 'unknown error')
    if (!res.ok) throw new BcoinRpcError(method, undefined, `HTTP ${res.status}`)
    return body.result
  }

  let stopped: Promise<void> | undefined
  const node: BcoinNode = {
    p2p: { host: '127.0.0.1', port: info.p2p },
    info,
    rpc: (method, params) => call(info.http, method, params),
    walletRpc: (method, params) => {
      if (info.wallet === null) return Promise.reject(new Error('bcoin was started without { wallet: true }'))
      return call(info.wallet, method, params)
    },
    mine: (n, address = info.mineAddress) => node.rpc('generatetoaddress', [n, address]),
    mempool: () => node.rpc('getrawmempool', [false]),
    connectTo: async (addr) => {
      await node.rpc('addnode', [formatPeerAddress(addr), 'onetry'])
    },
    // Default recipient: the wallet's own receive address (bcoin 1.0.2's
    // getnewaddress prints mainnet-encoded addresses that its own
    // sendtoaddress then rejects on regtest).
    // bcoin's wallet hands the tx to the node without awaiting the mempool
    // insert, so wait until the mempool really holds it.
    sendFromWallet: async (btc = 1, address = info.mineAddress) => {
      const txid: string = await node.walletRpc('sendtoaddress', [address, btc])
      const deadline = Date.now() + MEMPOOL_WAIT_MS
      while (!(await node.mempool()).includes(txid)) {
        if (Date.now() > deadline) throw new Error(`wallet tx ${txid} did not reach bcoin's mempool within ${MEMPOOL_WAIT_MS} ms`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return txid
    },
    stop: () => {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM')
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
          await exited
          clearTimeout(timer)
        }
        child.stdin?.destroy()
      })()
      return stopped
    },
  }
  return node
}
