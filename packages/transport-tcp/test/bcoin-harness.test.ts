// Smoke test of the bcoin regtest harness (test/harness/bcoin.ts) and of
// TcpConnector/TcpListener against a real, independent node on 127.0.0.1.
import { encodeMessage, MessageDecoder, ipFromString, type FramingParams, type Message } from '@bitp2p/wire'
import { describe, expect, it } from 'vitest'
import { bcoinBudget, startBcoin } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { scaled } from '../../../test/harness/timing.js'
import { TcpConnector, TcpListener, type TcpTransport } from '../src/index.js'
import { acceptQueue, rejection } from './helpers.js'

const fromHex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)))

/** Framing for bcoin's regtest: magic from its ready line, Bitcoin's 4 MB caps. */
function regtestFraming(magicHex: string): FramingParams {
  return { magic: fromHex(magicHex), maxMessageBytes: 4_000_000, maxBlockPayload: 4_000_000 }
}

/** Collect decoded messages from `t` until one with `command` arrives. */
function waitForCommand(t: TcpTransport, framing: FramingParams, command: string): Promise<Message[]> {
  const decoder = new MessageDecoder({ network: framing })
  const seen: Message[] = []
  return new Promise((resolve, reject) => {
    t.onClose((err) => reject(new Error(`closed before '${command}': ${err?.code ?? 'clean'} ${err?.message ?? ''}`)))
    t.onData((bytes) => {
      for (const ev of decoder.push(bytes)) {
        if (ev.type === 'error') reject(ev.error)
        if (ev.type !== 'message') continue
        seen.push(ev.message)
        if (ev.message.command === command) resolve(seen)
      }
    })
  })
}

function ourVersion(startHeight: number): Message {
  const loopback = { services: 0n, host: ipFromString('127.0.0.1'), port: 0 }
  return {
    command: 'version',
    version: 70016,
    services: 0n,
    timestamp: BigInt(Math.floor(Date.now() / 1000)),
    addrRecv: loopback,
    addrFrom: loopback,
    nonce: 0x0123_4567_89ab_cdefn,
    userAgent: '/bitp2p-test:0.1.0/',
    startHeight,
    relay: false,
  }
}

/** Budget of what a test does with its node besides starting it: P2P exchanges, RPC calls, a few blocks mined (well under a second on an idle machine). */
const NODE_WORK_BUDGET_MS = 20_000

needs('bcoin').describe('bcoin regtest harness', () => {
  it('starts with 10 blocks, speaks P2P over TcpConnector, mines, connects out, and stops', { timeout: bcoinBudget(10) + scaled(NODE_WORK_BUDGET_MS) }, async () => {
    const node = await startBcoin({ mine: 10 })
    let stopped = false
    try {
      expect(node.info.network).toBe('regtest')
      expect(node.info.magic).toBe('fabfb5da')
      expect(node.info.height).toBe(10)
      expect(await node.rpc('getblockcount', [])).toBe(10)
      const framing = regtestFraming(node.info.magic)

      // Inbound to bcoin: send our version, get bcoin's version back.
      const t = await new TcpConnector({ connectTimeoutMs: scaled(5_000) }).connect(node.p2p)
      const got = waitForCommand(t, framing, 'version')
      t.send(encodeMessage(ourVersion(0), framing))
      const msgs = await got
      const v = msgs.find((m) => m.command === 'version')
      expect(v?.command).toBe('version')
      if (v?.command === 'version') {
        expect(v.userAgent).toMatch(/bcoin/)
        expect(v.startHeight).toBe(10)
        expect(v.version).toBeGreaterThanOrEqual(70001)
      }
      t.close()

      // Mining through RPC.
      const hashes = await node.mine(5)
      expect(hashes).toHaveLength(5)
      expect(await node.rpc('getblockcount', [])).toBe(15)
      expect(await node.rpc('getbestblockhash', [])).toBe(hashes[4])

      // Outbound from bcoin (addnode onetry) to our listener: bcoin opens with its version.
      const listener = await TcpListener.listen({ host: '127.0.0.1', port: 0 })
      try {
        const accept = acceptQueue(listener)
        await node.connectTo(listener.address)
        const inbound = await accept()
        const fromBcoin = await waitForCommand(inbound, framing, 'version')
        const bv = fromBcoin[0]
        expect(bv.command).toBe('version')
        if (bv.command === 'version') expect(bv.startHeight).toBe(15)
      } finally {
        await listener.close()
      }

      // invalidateblock rewinds the tip to the block's parent (a reorg
      // source for interop tests); bcoin's reconsiderblock only clears the
      // mark, so the chain then moves on by mining.
      await node.rpc('invalidateblock', [hashes[4]])
      expect(await node.rpc('getblockcount', [])).toBe(14)
      expect(await node.rpc('getbestblockhash', [])).toBe(hashes[3])
      expect(await node.rpc('reconsiderblock', [hashes[4]])).toBeNull()
      const [replacement] = await node.mine(1)
      expect(await node.rpc('getblockcount', [])).toBe(15)
      expect(await node.rpc('getbestblockhash', [])).toBe(replacement)

      const pid = node.info.pid
      await node.stop()
      stopped = true
      // The process is gone and its P2P port is closed.
      expect(() => process.kill(pid, 0)).toThrow()
      const err = await rejection(new TcpConnector().connect(node.p2p))
      expect(err.kind).toBe('connect-failed')
      await node.stop() // idempotent
    } finally {
      if (!stopped) await node.stop()
    }
  })

  it('creates and broadcasts a wallet transaction that shows in the mempool until mined', { timeout: bcoinBudget(101) + scaled(NODE_WORK_BUDGET_MS) }, async () => {
    const node = await startBcoin({ mine: 101, wallet: true, invMs: 50 })
    try {
      expect(await node.mempool()).toEqual([])
      const txid = await node.sendFromWallet(1)
      expect(txid).toMatch(/^[0-9a-f]{64}$/)
      expect(await node.mempool()).toEqual([txid])
      await node.mine(1)
      expect(await node.mempool()).toEqual([])
      const block = await node.rpc('getblock', [await node.rpc('getbestblockhash', [])])
      expect(block.tx).toContain(txid)
    } finally {
      await node.stop()
    }
  })

  it('reports a failing RPC as a BcoinRpcError', { timeout: bcoinBudget(0) + scaled(NODE_WORK_BUDGET_MS) }, async () => {
    const node = await startBcoin()
    try {
      await expect(node.rpc('getblockhash', [999])).rejects.toThrow(/bcoin rpc getblockhash/)
      await expect(node.walletRpc('getbalance', [])).rejects.toThrow(/wallet/)
    } finally {
      await node.stop()
    }
    const closedT = new TcpConnector().connect(node.p2p)
    expect((await rejection(closedT)).kind).toBe('connect-failed')
  })
})
