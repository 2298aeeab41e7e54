/**
 * Second globalSetup of the browser project (runs in Node): a bcoin regtest
 * node with its wallet and 300 blocks, and a framing-validating bridge that
 * reaches only that node. The browser test (test/sdk.browser.test.ts) gets
 * the bridge URL, bcoin's P2P address and its best block through `inject`,
 * and asks bcoin to make a wallet transaction through the browser command
 * `bcoinSendFromWallet` (vitest's `commands`, which run here in Node);
 * `bcoinMine` extends the chain while the page is connected.
 *
 * The commands are registered in vitest.config.ts, which loads this module
 * apart from the globalSetup run, so:
 * - the running node and bridge are handed over on globalThis under a
 *   Symbol.for key rather than in a module variable;
 * - the bridge, wire and the bcoin harness are imported inside setup(), so
 *   loading the config does not load them (from dist, without the aliases).
 */
import type { BrowserCommand, TestProject } from 'vitest/node'
import type { Bridge, BridgeMetrics } from '../src/bridge.js'
import type { BcoinNode } from '../../../test/harness/bcoin.js'

/** Blocks bcoin mines at start: above 100 so the wallet has mature coinbases to spend. */
export const SDK_BCOIN_BLOCKS = 300
/** bcoin's tx inv flush interval in ms (its default 5 s would only slow the test). */
const SDK_BCOIN_INV_MS = 50

declare module 'vitest' {
  export interface ProvidedContext {
    sdkBridgeUrl: string
    sdkBcoinP2p: { host: string; port: number }
    sdkBcoinHeight: number
    /** getbestblockhash at start (RPC hex order). */
    sdkBcoinBestHash: string
  }
}

declare module 'vitest/browser' {
  interface BrowserCommands {
    /** bcoin's wallet pays itself 1 BTC; resolves with the txid (RPC hex order) once it is in the mempool. */
    bcoinSendFromWallet: () => Promise<string>
    /** bcoin mines `n` blocks; resolves with their hashes (RPC hex order) once they are connected. */
    bcoinMine: (n: number) => Promise<string[]>
    /** The SDK bridge's metrics (refusals and closes by name). */
    sdkBridgeMetrics: () => Promise<BridgeMetrics>
  }
}

interface SdkRig {
  readonly node: BcoinNode
  readonly bridge: Bridge
}

const RIG = Symbol.for('bitp2p.transport-ws.sdk-browser-rig')

function rig(): SdkRig {
  const r = (globalThis as { [RIG]?: SdkRig })[RIG]
  if (r === undefined) throw new Error('test/sdk.global.ts has not started bcoin and the bridge')
  return r
}

/** Browser commands of the SDK test; vitest.config.ts registers them on the browser project. */
export const sdkCommands: {
  readonly bcoinSendFromWallet: BrowserCommand<[]>
  readonly bcoinMine: BrowserCommand<[n: number]>
  readonly sdkBridgeMetrics: BrowserCommand<[]>
} = {
  bcoinSendFromWallet: () => rig().node.sendFromWallet(1),
  bcoinMine: (_ctx, n) => rig().node.mine(n),
  sdkBridgeMetrics: () => rig().bridge.metrics(),
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { regtest } = await import('@bitp2p/wire')
  const { createBridge } = await import('../src/bridge.js')
  const { startBcoin } = await import('../../../test/harness/bcoin.js')
  const node = await startBcoin({ mine: SDK_BCOIN_BLOCKS, wallet: true, invMs: SDK_BCOIN_INV_MS })
  let bridge: Bridge
  try {
    bridge = await createBridge({
      listen: { host: '127.0.0.1', port: 0 },
      allow: [`127.0.0.1:${node.p2p.port}`],
      allowPrivate: true,
      validateFraming: { magic: regtest.magic, maxMessageBytes: regtest.maxMessageBytes },
      log: () => {},
    })
  } catch (e) {
    await node.stop()
    throw e
  }
  ;(globalThis as { [RIG]?: SdkRig })[RIG] = { node, bridge }
  project.provide('sdkBridgeUrl', bridge.url)
  project.provide('sdkBcoinP2p', { host: node.p2p.host, port: node.p2p.port })
  project.provide('sdkBcoinHeight', await node.rpc('getblockcount', []))
  project.provide('sdkBcoinBestHash', await node.rpc('getbestblockhash', []))
  return async () => {
    delete (globalThis as { [RIG]?: SdkRig })[RIG]
    await bridge.close()
    await node.stop()
  }
}
