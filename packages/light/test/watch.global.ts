/**
 * globalSetup of the browser project (runs in Node): btcd 0.25 with BIP324
 * v2, 1,100+ blocks with two payments to the interop key's P2PKH address
 * (what `interopspend` pays; nothing else does), behind a
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

/** Blocks at start (past segwit, so interopspend's P2WPKH spends are valid). */
const START_BLOCKS = 440

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { fromHex, regtest } = await import('@bitp2p/wire')
  const { scriptToAddress } = await import('../src/address/address.js')
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
  const { startBtcd } = await import('../../../test/harness/btcd.js')
  const { createBridge } = await import('../../bridge/src/bridge.js')
  const node = await startBtcd({ mine: START_BLOCKS, v2transport: true, txindex: true, addrindex: true })
  try {
    const address = scriptToAddress(fromHex(`76a914${node.info.mineKeyHash}88ac`), regtest)!
    for (const h of [1, 2]) {
      // A block with the payment, then more on top.
      await node.spend(await node.coinbase(h))
      await node.generate(1)
      await node.generate(h === 1 ? 400 : 300)
    }
    const list: { txid: string; blockhash: string }[] = await node.rpc('searchrawtransactions', [address, 1, 0, 100])
    const expected: string[] = []
    for (const t of list) expected.push(`${t.txid}@${(await node.getBlock(t.blockhash)).height}@${t.blockhash}`)
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
    project.provide('watchExpected', expected.sort())
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
