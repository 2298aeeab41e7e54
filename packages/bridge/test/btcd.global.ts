/**
 * Third globalSetup of the browser project (runs in Node): btcd 0.25 with
 * BIP324 v2 (`--v2transport`) and 150 blocks, a recording relay in front of
 * it, and a framing-validating bridge that reaches only the relay. The
 * browser test (test/sdk-v2.browser.test.ts) speaks v2 end to end through
 * the bridge; the relay keeps every byte the bridge sent on (the bytes the
 * bridge saw from the page), so the command `v2BridgeSaw` can tell whether
 * any plaintext got through.
 *
 * Same arrangement as sdk.global.ts: commands registered in
 * vitest.config.ts, the rig handed over on globalThis, imports inside
 * setup(). Without btcd's binaries (../shared/tools/btcd) nothing starts:
 * locally `v2BtcdAbsent` tells the test why it skips; in CI the setup fails.
 */
import type { BrowserCommand, TestProject } from 'vitest/node'
import type { Bridge } from '../src/bridge.js'
import type { BtcdNode } from '../../../test/harness/btcd.js'
import type { Relay } from '../../../test/harness/relay.js'

/** Blocks btcd mines at start. */
export const V2_BTCD_BLOCKS = 150

declare module 'vitest' {
  export interface ProvidedContext {
    /** Empty when btcd is absent (see v2BtcdAbsent). */
    v2BridgeUrl: string
    /** The relay's address: what the page asks the bridge for. */
    v2PeerAddress: { host: string; port: number }
    v2BtcdHeight: number
    /** getbestblockhash at start (RPC hex order). */
    v2BtcdBestHash: string
    /** Why btcd did not start, or '' when it did. */
    v2BtcdAbsent: string
  }
}

/** What the bridge sent on to the node: its size, and whether the network magic or any command name appears in it. */
export interface BridgeSaw {
  readonly bytes: number
  readonly magic: boolean
  readonly commands: readonly string[]
}

declare module 'vitest/browser' {
  interface BrowserCommands {
    /** What crossed the bridge towards btcd so far (see BridgeSaw). */
    v2BridgeSaw: () => Promise<BridgeSaw>
    /** The v2 bridge's count of BIP324 streams. */
    v2BridgeStreams: () => Promise<number>
  }
}

interface V2Rig {
  readonly node: BtcdNode
  readonly relay: Relay
  readonly bridge: Bridge
  readonly magic: Uint8Array
  readonly commands: readonly string[]
}

const RIG = Symbol.for('bitp2p.transport-ws.v2-browser-rig')

function rig(): V2Rig {
  const r = (globalThis as { [RIG]?: V2Rig })[RIG]
  if (r === undefined) throw new Error('test/btcd.global.ts has not started btcd, the relay and the bridge')
  return r
}

/** Browser commands of the v2 test; vitest.config.ts registers them on the browser project. */
export const v2Commands: {
  readonly v2BridgeSaw: BrowserCommand<[]>
  readonly v2BridgeStreams: BrowserCommand<[]>
} = {
  v2BridgeSaw: async () => {
    const { joinChunks, indexOfBytes } = await import('../../../test/harness/relay.js')
    const r = rig()
    const all = joinChunks(r.relay.up)
    const ascii = new TextDecoder('latin1').decode(all)
    return { bytes: all.length, magic: indexOfBytes(all, r.magic) >= 0, commands: r.commands.filter((c) => ascii.includes(c)) }
  },
  v2BridgeStreams: async () => rig().bridge.metrics().v2Connections,
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { CODECS, regtest } = await import('@bitp2p/wire')
  const { createBridge } = await import('../src/bridge.js')
  const { absence, IN_CI } = await import('../../../test/harness/requirements.js')
  const none = async (): Promise<void> => {}
  const why = absence('btcd')
  if (why !== undefined) {
    // In CI nothing may skip.
    if (IN_CI) throw new Error(`the v2 browser test needs btcd: ${why}`)
    console.log(`[@bitp2p/transport-ws] btcd absent (${why}): the v2-through-the-bridge browser test is skipped`)
    project.provide('v2BtcdAbsent', why)
    project.provide('v2BridgeUrl', '')
    project.provide('v2PeerAddress', { host: '127.0.0.1', port: 0 })
    project.provide('v2BtcdHeight', 0)
    project.provide('v2BtcdBestHash', '')
    return none
  }
  const { startBtcd } = await import('../../../test/harness/btcd.js')
  const { startRelay } = await import('../../../test/harness/relay.js')
  const node = await startBtcd({ mine: V2_BTCD_BLOCKS, v2transport: true })
  let relay: Relay | undefined
  let bridge: Bridge
  try {
    relay = await startRelay(node.p2p)
    bridge = await createBridge({
      listen: { host: '127.0.0.1', port: 0 },
      allow: [`127.0.0.1:${relay.address.port}`],
      allowPrivate: true,
      validateFraming: { magic: regtest.magic, maxMessageBytes: regtest.maxMessageBytes },
      log: () => {},
    })
  } catch (e) {
    await relay?.close()
    await node.stop()
    throw e
  }
  // Command names long enough not to turn up by chance in a few KB of random bytes (6 letters and more: version, verack, getheaders, ...).
  const commands = CODECS.map((c) => c.command).filter((c) => c.length >= 6)
  ;(globalThis as { [RIG]?: V2Rig })[RIG] = { node, relay, bridge, magic: regtest.magic, commands }
  project.provide('v2BtcdAbsent', '')
  project.provide('v2BridgeUrl', bridge.url)
  project.provide('v2PeerAddress', relay.address)
  project.provide('v2BtcdHeight', await node.getBlockCount())
  project.provide('v2BtcdBestHash', await node.getBestBlockHash())
  return async () => {
    delete (globalThis as { [RIG]?: V2Rig })[RIG]
    await bridge.close()
    await relay!.close()
    await node.stop()
  }
}
