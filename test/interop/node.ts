/**
 * What the interop steps need of a running bcoin regtest node, and a
 * runtime-neutral client for one.
 *
 * The harness's BcoinNode (test/harness/bcoin.ts, Node only: it spawns the
 * server) satisfies InteropNode as it is. Deno and Bun get the same shape
 * from `bcoinClient(endpoints)`, which only needs `fetch`: scripts/rt-smoke.ts
 * builds it from the ports a vitest test passes in BITP2P_BCOIN_* variables.
 *
 * Everything talks to 127.0.0.1 only.
 */
import { formatPeerAddress, type PeerAddress } from '@bitp2p/session'
import { scaled } from '../harness/timing.js'

/** The loopback host every endpoint lives on. */
export const LOOPBACK = '127.0.0.1'
/** How long sendFromWallet waits for its transaction to reach bcoin's mempool. */
export const MEMPOOL_WAIT_MS = scaled(10_000)
/** Poll interval while waiting on bcoin's mempool. */
const POLL_MS = 20

/** The parts of the harness's ready line the steps read. */
export interface InteropNodeInfo {
  readonly http: number
  readonly wallet: number | null
  readonly apiKey: string
  /** Regtest address of bcoin's wallet (where start-up blocks were mined). */
  readonly mineAddress: string
}

/** A running bcoin regtest node, as the interop steps use it. */
export interface InteropNode {
  /** bcoin's P2P listener. */
  readonly p2p: PeerAddress
  readonly info: InteropNodeInfo
  /** Node JSON-RPC; throws on an RPC error. */
  rpc(method: string, params?: readonly unknown[]): Promise<any>
  /** Mine `n` blocks to the wallet's address; their hashes in RPC hex order. */
  mine(n: number, address?: string): Promise<string[]>
  /** Txids in bcoin's mempool (RPC hex order). */
  mempool(): Promise<string[]>
  /** Ask bcoin to open one outbound connection to `addr`. */
  connectTo(addr: PeerAddress): Promise<void>
  /** Create, sign and broadcast a wallet payment; resolves with its txid once in the mempool. */
  sendFromWallet(btc?: number, address?: string): Promise<string>
}

/** Where a running bcoin listens, and its API key. */
export interface BcoinEndpoints {
  readonly p2p: number
  readonly http: number
  readonly wallet: number
  readonly apiKey: string
  readonly mineAddress: string
}

/** The environment variables that carry BcoinEndpoints to another process. */
export const BCOIN_ENV = {
  p2p: 'BITP2P_BCOIN_P2P',
  http: 'BITP2P_BCOIN_HTTP',
  wallet: 'BITP2P_BCOIN_WALLET',
  apiKey: 'BITP2P_BCOIN_API_KEY',
  mineAddress: 'BITP2P_BCOIN_MINE_ADDRESS',
} as const

/** The variables that hand `node` to a child process (see endpointsFromEnv). */
export function endpointsToEnv(node: InteropNode): Record<string, string> {
  if (node.info.wallet === null) throw new Error('bcoin was started without { wallet: true }')
  return {
    [BCOIN_ENV.p2p]: String(node.p2p.port),
    [BCOIN_ENV.http]: String(node.info.http),
    [BCOIN_ENV.wallet]: String(node.info.wallet),
    [BCOIN_ENV.apiKey]: node.info.apiKey,
    [BCOIN_ENV.mineAddress]: node.info.mineAddress,
  }
}

/** Reads BcoinEndpoints from environment variables; throws naming the first one missing. */
export function endpointsFromEnv(env: Readonly<Record<string, string | undefined>>): BcoinEndpoints {
  const get = (name: string): string => {
    const v = env[name]
    if (v === undefined || v === '') throw new Error(`environment variable ${name} is not set`)
    return v
  }
  const port = (name: string): number => {
    const n = Number(get(name))
    if (!Number.isInteger(n) || n <= 0 || n > 0xffff) throw new Error(`${name}=${env[name]} is not a port`)
    return n
  }
  return {
    p2p: port(BCOIN_ENV.p2p),
    http: port(BCOIN_ENV.http),
    wallet: port(BCOIN_ENV.wallet),
    apiKey: get(BCOIN_ENV.apiKey),
    mineAddress: get(BCOIN_ENV.mineAddress),
  }
}

/**
 * One HTTP request to bcoin on loopback with its API key (HTTP basic auth,
 * any user name): a POST of `body` as JSON, or a GET without one.
 */
async function bcoinHttp(port: number, apiKey: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`http://${LOOPBACK}:${port}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`x:${apiKey}`)}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, json, text }
}

/** A JSON-RPC call; throws with bcoin's message on an error. */
async function jsonRpc(port: number, apiKey: string, method: string, params: readonly unknown[]): Promise<any> {
  const { status, json, text } = await bcoinHttp(port, apiKey, '/', { method, params, id: 1 })
  if (json === undefined) throw new Error(`bcoin rpc ${method}: HTTP ${status}: ${text.slice(0, 200)}`)
  if (json.error) throw new Error(`bcoin rpc ${method}: ${json.error.message ?? 'unknown error'}`)
  return json.result
}

/** An InteropNode over fetch only (Node, Deno, Bun). */
export function bcoinClient(ep: BcoinEndpoints): InteropNode {
  const node: InteropNode = {
    p2p: { host: LOOPBACK, port: ep.p2p },
    info: { http: ep.http, wallet: ep.wallet, apiKey: ep.apiKey, mineAddress: ep.mineAddress },
    rpc: (method, params = []) => jsonRpc(ep.http, ep.apiKey, method, params),
    mine: (n, address = ep.mineAddress) => node.rpc('generatetoaddress', [n, address]),
    mempool: () => node.rpc('getrawmempool', [false]),
    connectTo: async (addr) => {
      await node.rpc('addnode', [formatPeerAddress(addr), 'onetry'])
    },
    // As the harness: bcoin's wallet hands the tx to the node without
    // awaiting the mempool insert, so wait until the mempool holds it.
    sendFromWallet: async (btc = 1, address = ep.mineAddress) => {
      const txid: string = await jsonRpc(ep.wallet, ep.apiKey, 'sendtoaddress', [address, btc])
      const deadline = Date.now() + MEMPOOL_WAIT_MS
      while (!(await node.mempool()).includes(txid)) {
        if (Date.now() > deadline) throw new Error(`wallet tx ${txid} did not reach bcoin's mempool within ${MEMPOOL_WAIT_MS} ms`)
        await new Promise((r) => setTimeout(r, POLL_MS))
      }
      return txid
    },
  }
  return node
}

/** A transaction bcoin's wallet built and signed but did not broadcast. */
export interface SignedWalletTx {
  /** RPC hex order. */
  readonly txid: string
  /** The serialized transaction. */
  readonly hex: string
}

/** One output of a wallet transaction: `sats` to a regtest address or to a raw output script. */
export type WalletOutput =
  | { readonly address: string; readonly sats: number }
  | { readonly scriptHex: string; readonly sats: number }

/**
 * Has bcoin's wallet create and sign a payment of `sats` to `address`
 * (default: its own address), or to a list of outputs, WITHOUT broadcasting
 * it: the wallet HTTP API's POST /wallet/primary/create funds, signs and
 * returns the transaction. Nothing else learns of it until someone relays it.
 */
export async function createSignedTx(node: InteropNode, pay: number | readonly WalletOutput[]): Promise<SignedWalletTx> {
  if (node.info.wallet === null) throw new Error('bcoin was started without { wallet: true }')
  const outputs = typeof pay === 'number' ? [{ address: node.info.mineAddress, sats: pay }] : pay
  const { status, json, text } = await bcoinHttp(node.info.wallet, node.info.apiKey, '/wallet/primary/create', {
    outputs: outputs.map((o) => ('address' in o ? { address: o.address, value: o.sats } : { script: o.scriptHex, value: o.sats })),
  })
  if (status !== 200 || typeof json?.hex !== 'string' || typeof json?.hash !== 'string') {
    throw new Error(`bcoin wallet create: HTTP ${status}: ${text.slice(0, 300)}`)
  }
  return { txid: json.hash, hex: json.hex }
}

/**
 * Waits until bcoin's wallet knows transaction `txid` with at least
 * `confirmations` confirmations. The wallet follows the node's mempool and
 * chain asynchronously: a transaction it signed but did not send itself
 * (createSignedTx) is unknown to it until it sees the relayed copy, and
 * until then it may pick the same coins again and build a double spend.
 * Steps that relay such a transaction wait here before the next step uses
 * the wallet. Asks the wallet HTTP API (GET /wallet/primary/tx/<txid>,
 * 404 while unknown): bcoin 1.0.2's `gettransaction` RPC fails with
 * "Invalid integer value" on such transactions.
 */
export async function waitForWalletTx(node: InteropNode, txid: string, confirmations = 0): Promise<void> {
  if (node.info.wallet === null) throw new Error('bcoin was started without { wallet: true }')
  const deadline = Date.now() + MEMPOOL_WAIT_MS
  for (;;) {
    const { status, json } = await bcoinHttp(node.info.wallet, node.info.apiKey, `/wallet/primary/tx/${txid}`)
    if (status === 200 && typeof json?.confirmations === 'number' && json.confirmations >= confirmations) return
    if (Date.now() > deadline) throw new Error(`bcoin's wallet did not see ${txid} with ${confirmations} confirmation(s) within ${MEMPOOL_WAIT_MS} ms`)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}
