/**
 * globalSetup of the browser project (runs in Node): btcd 0.25 with BIP324
 * v2, 1,100+ blocks with two payments to the interop key's P2PKH address
 * (what `interopspend` pays; nothing else does: test/watch-chain.ts), behind a
 * framing-validating bitp2p-bridge that reaches only btcd. The page
 * (test/watch.browser.test.ts) runs a ScriptWatcher with the IndexedDB
 * stores through the bridge; btcd's own answer (searchrawtransactions) is
 * handed over with provide().
 *
 * Without btcd's binaries (../shared/tools/btcd) nothing starts: locally
 * `watchAbsent` tells the test why it skips; in CI the setup fails.
 */
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why btcd did not start, or '' when it did. */
    watchAbsent: string
    watchBridgeUrl: string
    /** btcd's P2P address: what the page asks the bridge for. */
    watchPeer: { host: string; port: number }
    /** The watched address (regtest P2PKH). */
    watchAddress: string
    /** btcd's answer for it: "txid@height@blockhash", sorted. */
    watchExpected: string[]
    watchHeight: number
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { regtest } = await import('@bitp2p/wire')
  const { absence, IN_CI } = await import('../../../test/harness/requirements.js')
  const none = async (): Promise<void> => {}
  const why = absence('btcd')
  const empty = (): void => {
    project.provide('watchBridgeUrl', '')
    project.provide('watchPeer', { host: '127.0.0.1', port: 0 })
    project.provide('watchAddress', '')
    project.provide('watchExpected', [])
    project.provide('watchHeight', 0)
  }
  if (why !== undefined) {
    if (IN_CI) throw new Error(`the light client's browser test needs btcd: ${why}`)
    console.log(`[@bitp2p/light] btcd absent (${why}): the browser watch test is skipped`)
    project.provide('watchAbsent', why)
    empty()
    return none
  }
  const { btcdAnswer, startWatchedBtcd } = await import('./watch-chain.js')
  const { createBridge } = await import('../../bridge/src/bridge.js')
  const { node, address } = await startWatchedBtcd()
  try {
    const expected = await btcdAnswer(node, address)
    const bridge = await createBridge({
      listen: { host: '127.0.0.1', port: 0 },
      allow: [`127.0.0.1:${node.p2p.port}`],
      allowPrivate: true,
      validateFraming: { magic: regtest.magic, maxMessageBytes: regtest.maxMessageBytes },
      log: () => {},
    })
    project.provide('watchAbsent', '')
    project.provide('watchBridgeUrl', bridge.url)
    project.provide('watchPeer', node.p2p)
    project.provide('watchAddress', address)
    project.provide('watchExpected', expected)
    project.provide('watchHeight', await node.getBlockCount())
    return async () => {
      await bridge.close()
      await node.stop()
    }
  } catch (e) {
    await node.stop()
    throw e
  }
}
