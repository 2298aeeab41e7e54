// Smoke test of the btcd regtest harness (test/harness/btcd.ts): start,
// RPC helpers, a signed P2WPKH spend mined into a block, the loopback
// guards, and clean shutdown (process gone, temporary directory removed),
// also when the test process goes away without stopping it.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { btcdBudget, COINBASE_MATURITY, SEGWIT_HEIGHT, startBtcd } from '../../../test/harness/btcd.js'
import { needs } from '../../../test/harness/needs.js'
import { btcdAbsence, spawnBtcd } from '../../../test/harness/spawn-btcd.mjs'
import { scaled } from '../../../test/harness/timing.js'
import { until } from './helpers.js'

/** Blocks mined at start: past segwit's activation, so a spend carries witness data in a block. */
const START_BLOCKS = SEGWIT_HEIGHT + 10
/** Budget of what a test does with its node besides starting it (RPC calls, a spend, a block: well under a second on an idle machine). */
const NODE_WORK_BUDGET_MS = 20_000

/** True while a process with `pid` exists (signal 0 checks without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

needs('btcd').describe('btcd regtest harness', () => {
  it(`starts on loopback with ${START_BLOCKS} blocks, answers RPC, mines a P2WPKH spend, and stops without a trace`, { timeout: btcdBudget(START_BLOCKS + 1) + scaled(NODE_WORK_BUDGET_MS) }, async () => {
    const node = await startBtcd({ mine: START_BLOCKS })
    try {
      expect(node.info).toMatchObject({ network: 'regtest', magic: 'fabfb5da', height: START_BLOCKS, v2transport: false })
      expect(node.p2p.host).toBe('127.0.0.1')
      // The loopback guard: btcd's only outbound peer is an unused loopback port.
      expect(node.info.connect).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(new Set([node.info.p2p, node.info.rpc, Number(node.info.connect.split(':')[1])]).size).toBe(3)
      expect(existsSync(node.info.datadir)).toBe(true)
      expect(alive(node.info.btcdPid)).toBe(true)

      expect(await node.getBlockCount()).toBe(START_BLOCKS)
      const coin = await node.coinbase(1)
      expect(coin.sats).toBe(50_0000_0000n)
      const spend = await node.spend(coin)
      expect(spend.txid).toMatch(/^[0-9a-f]{64}$/)
      // Half of the input less interopspend's fee, to the same key.
      expect(spend.change.sats).toBeLessThan(coin.sats / 2n)
      expect(spend.change.sats).toBeGreaterThan(coin.sats / 2n - 100_000n)
      const [hash] = await node.generate(1)
      const block = await node.getBlock(hash!)
      expect(block.height).toBe(START_BLOCKS + 1)
      expect(block.tx).toEqual([expect.any(String), spend.txid])
      // A witness spend: the stripped size is smaller than the full size.
      expect(block.strippedsize).toBeLessThan(block.size)
      expect(await node.getBlockHex(hash!)).toHaveLength(block.size * 2)
      expect(await node.getCFilter(hash!)).toMatch(/^[0-9a-f]+$/)
      expect(await node.getCFilterHeader(hash!)).toMatch(/^[0-9a-f]{64}$/)
      expect(await node.getPeerInfo()).toEqual([])
      // invalidateblock rewinds to the parent; reconsiderblock brings the block back.
      const parent = await node.getBlockHash(START_BLOCKS)
      await node.invalidateBlock(hash!)
      expect(await node.getBestBlockHash()).toBe(parent)
      await node.reconsiderBlock(hash!)
      expect(await node.getBestBlockHash()).toBe(hash)
      await expect(node.rpc('nosuchmethod')).rejects.toThrow(/btcd rpc nosuchmethod/)
    } finally {
      await node.stop()
    }
    expect(alive(node.info.btcdPid)).toBe(false)
    expect(existsSync(node.info.datadir)).toBe(false)
    await node.stop() // idempotent
  })

  it('the guard stops btcd and removes its data when its parent goes (stdin closes)', { timeout: btcdBudget(0) + scaled(NODE_WORK_BUDGET_MS) }, async () => {
    const { child, info } = await spawnBtcd({}, { readyTimeoutMs: btcdBudget(0) })
    expect(alive(info.btcdPid)).toBe(true)
    const exited = new Promise((r) => child.once('exit', r))
    // What a SIGKILLed test process leaves: the guard's stdin pipe closed.
    child.stdin!.destroy()
    await exited
    await until(() => !alive(info.btcdPid), `btcd ${info.btcdPid} gone`, scaled(15_000))
    expect(existsSync(info.datadir)).toBe(false)
  })

  it('with addrindex (and so txindex): searchrawtransactions finds what the interop key received, getrawtransaction a confirmed tx', { timeout: btcdBudget(5) + scaled(NODE_WORK_BUDGET_MS) }, async () => {
    const node = await startBtcd({ mine: 5, addrindex: true })
    try {
      expect(node.info).toMatchObject({ txindex: true, addrindex: true })
      const found: { txid: string }[] = await node.rpc('searchrawtransactions', [node.info.mineAddress, 1, 0, 100])
      const coinbases = await Promise.all([1, 2, 3, 4, 5].map(async (h) => (await node.coinbase(h)).txid))
      expect(found.map((t) => t.txid).sort()).toEqual(coinbases.sort())
      expect((await node.rpc('getrawtransaction', [coinbases[0], 1])).txid).toBe(coinbases[0])
    } finally {
      await node.stop()
    }
  })

  it('refuses a non-loopback --connect', async () => {
    await expect(startBtcd({ connect: { host: '10.0.0.1', port: 8333 } })).rejects.toThrow(/127\.x\.x\.x/)
  })
})

describe('btcd harness without btcd binaries', () => {
  it('btcdAbsence names the missing binary', () => {
    expect(btcdAbsence(scaled(5_000), '/nonexistent/btcd-tools')).toMatch(/\/nonexistent\/btcd-tools\/bin\/btcd not found/)
  })

  it('a start without binaries rejects with the reason, and leaves no directory behind', { timeout: scaled(20_000) }, async () => {
    await expect(spawnBtcd({ BTCD_TOOLS: '/nonexistent/btcd-tools' }, { readyTimeoutMs: scaled(15_000) })).rejects.toThrow(/before btcd was ready[\s\S]*ENOENT/)
    // btcd itself missing (interopaddr, run first, present): the data directory made for it is removed.
    const base = mkdtempSync(join(tmpdir(), 'bitp2p-btcd-harness-test-'))
    try {
      mkdirSync(join(base, 'tools', 'bin'), { recursive: true })
      mkdirSync(join(base, 'tmp'))
      writeFileSync(join(base, 'tools', 'bin', 'interopaddr'), '#!/bin/sh\necho bcrt1qaddress mAddress 00112233445566778899aabbccddeeff00112233\n', { mode: 0o755 })
      await expect(spawnBtcd({ BTCD_TOOLS: join(base, 'tools'), TMPDIR: join(base, 'tmp') }, { readyTimeoutMs: scaled(15_000) })).rejects.toThrow(/before btcd was ready[\s\S]*ENOENT/)
      expect(readdirSync(join(base, 'tmp'))).toEqual([])
    } finally {
      rmSync(base, { recursive: true, force: true })
    }
  })
})
