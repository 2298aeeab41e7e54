// The ScriptWatcher against btcd 0.25.0 (an independent BIP157/158
// implementation) over real TCP on 127.0.0.1, in v1 and in BIP324 v2.
//
// btcd mines past segwit and taproot (432), then, spread over 1,100+
// blocks, transactions we sign with @scure/btc-signer pay three watched
// addresses (P2WPKH, P2TR, P2PKH) and spend from all three. The watcher
// scans from genesis through one peer; what it finds must be what btcd
// itself answers with `searchrawtransactions` (--txindex --addrindex):
// the same txids, heights and blocks. Then `invalidateblock` on a block
// with a watched transaction and a longer branch: the reorg is reported
// and the transaction found again on the new chain. Then a new block with
// a watched payment, found while following.
import { afterAll, beforeAll, expect, it } from 'vitest'
import * as btc from '@scure/btc-signer'
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { Peer, RealtimeClock, singlePeer, type PeerOptions } from '@bitp2p/session'
import { v2 } from '@bitp2p/session/v2'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { hashToHex, regtest } from '@bitp2p/wire'
import { btcdBudget, SEGWIT_HEIGHT, startBtcd, type BtcdNode } from '../../../../test/harness/btcd.js'
import { needs } from '../../../../test/harness/needs.js'
import { scaled } from '../../../../test/harness/timing.js'
import { within } from '../../../../test/interop/util.js'
import { MemoryLightStore } from '../../src/store/memory.js'
import { ScriptWatcher } from '../../src/watcher.js'
import type { WalletTx } from '../../src/core/wallet.js'

/** btc-signer's view of regtest. */
const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }
/** Blocks mined at start: past segwit and taproot activation. */
const START_BLOCKS = SEGWIT_HEIGHT + 8
/** Blocks between the rounds of watched transactions. */
const GAP = 300
/** Fee of every transaction we build, in satoshis. */
const FEE = 10_000n
const WAIT_MS = scaled(60_000)
const TEST_TIMEOUT_MS = scaled(180_000)
const SETUP_MS = btcdBudget(START_BLOCKS + 3 * GAP + 40) + scaled(30_000)

const key = (s: string) => sha256(new TextEncoder().encode(s))
/** The key btcd mines to (start-btcd.sh: sha256("bitp2p-interop")). */
const MINER = key('bitp2p-interop')
const KEY_A = key('bitp2p-light-a')
const KEY_B = key('bitp2p-light-b')
const miner = btc.p2wpkh(secp256k1.getPublicKey(MINER, true), REGTEST)
/** The watched addresses. */
const W1 = btc.p2wpkh(secp256k1.getPublicKey(KEY_A, true), REGTEST)
const W2 = btc.p2tr(schnorr.getPublicKey(KEY_B), undefined, REGTEST)
const W3 = btc.p2pkh(secp256k1.getPublicKey(KEY_A, true), REGTEST)
const WATCHED = [W1.address!, W2.address!, W3.address!]

interface Coin {
  readonly txid: string
  readonly index: number
  readonly amount: bigint
  readonly script: Uint8Array
  /** The whole previous transaction, for a P2PKH input. */
  readonly prevTx?: Uint8Array
  /** Key that spends it, and how. */
  readonly key: Uint8Array
  readonly kind: 'wpkh' | 'tr' | 'pkh'
}

/** Sign a transaction spending `coins` to `outputs` (address, sats); the rest minus FEE goes back to the miner. */
function build(coins: readonly Coin[], outputs: readonly [string, bigint][]): { hex: string; txid: string; bytes: Uint8Array; outs: { script: Uint8Array; amount: bigint }[] } {
  const tx = new btc.Transaction()
  for (const c of coins) {
    if (c.kind === 'pkh') tx.addInput({ txid: c.txid, index: c.index, nonWitnessUtxo: c.prevTx! })
    else if (c.kind === 'tr') tx.addInput({ txid: c.txid, index: c.index, witnessUtxo: { script: c.script, amount: c.amount }, tapInternalKey: schnorr.getPublicKey(c.key) })
    else tx.addInput({ txid: c.txid, index: c.index, witnessUtxo: { script: c.script, amount: c.amount } })
  }
  let total = 0n
  for (const c of coins) total += c.amount
  for (const [addr, amount] of outputs) {
    tx.addOutputAddress(addr, amount, REGTEST)
    total -= amount
  }
  tx.addOutputAddress(miner.address!, total - FEE, REGTEST)
  for (const c of coins) tx.signIdx(c.key, coins.indexOf(c))
  tx.finalize()
  const outs: { script: Uint8Array; amount: bigint }[] = []
  for (let i = 0; i < tx.outputsLength; i++) outs.push({ script: tx.getOutput(i).script!, amount: tx.getOutput(i).amount! })
  return { hex: tx.hex, txid: tx.id, bytes: tx.toBytes(true, false), outs }
}

/** Output `index` of a built transaction as a coin spendable by `key`. */
function coinOf(t: ReturnType<typeof build>, index: number, key: Uint8Array, kind: Coin['kind']): Coin {
  return { txid: t.txid, index, amount: t.outs[index]!.amount, script: t.outs[index]!.script, key, kind, prevTx: t.bytes }
}

/** btcd's answer: every transaction touching a watched address, as "txid@height@blockhash". */
async function btcdAnswer(node: BtcdNode): Promise<string[]> {
  const seen = new Map<string, string>()
  for (const addr of WATCHED) {
    const list: { txid: string; blockhash?: string }[] = await node.rpc('searchrawtransactions', [addr, 1, 0, 1000])
    for (const t of list) {
      if (!t.blockhash) continue
      const block = await node.getBlock(t.blockhash)
      seen.set(t.txid, `${t.txid}@${block.height}@${t.blockhash}`)
    }
  }
  return [...seen.values()].sort()
}

const ours = (txs: readonly WalletTx[]) => txs.map((t) => `${hashToHex(t.txid)}@${t.height}@${hashToHex(t.blockHash)}`).sort()

for (const mode of ['v1', 'v2'] as const) {
  needs('btcd').describe(`ScriptWatcher against btcd 0.25.0 over ${mode} (regtest, 127.0.0.1)`, () => {
    let node: BtcdNode
    let peer: Peer
    let watcher: ScriptWatcher
    const planned: { txid: string; height: number }[] = []
    let lastWatched: { txid: string; height: number; block: string } | undefined

    beforeAll(async () => {
      node = await startBtcd({ mine: START_BLOCKS, txindex: true, addrindex: true, v2transport: mode === 'v2' })
      const cb = async (h: number): Promise<Coin> => {
        const c = await node.coinbase(h)
        return { txid: c.txid, index: c.vout, amount: c.sats, script: miner.script, key: MINER, kind: 'wpkh' }
      }
      const send = async (t: ReturnType<typeof build>): Promise<void> => {
        expect(await node.sendRawTransaction(t.hex)).toBe(t.txid)
      }
      const mineWith = async (ts: ReturnType<typeof build>[]): Promise<void> => {
        for (const t of ts) await send(t)
        const [hash] = await node.generate(1)
        const block = await node.getBlock(hash!)
        for (const t of ts) {
          expect(block.tx).toContain(t.txid)
          planned.push({ txid: t.txid, height: block.height })
        }
      }
      // Round 1: a coinbase pays W1.
      const tx1 = build([await cb(1)], [[W1.address!, 100_000_000n]])
      await mineWith([tx1])
      await node.generate(GAP)
      // Round 2: a coinbase pays W2 (taproot) and W3 (P2PKH); W1's coin pays W2, with change to W1.
      const tx2 = build([await cb(2)], [[W2.address!, 50_000_000n], [W3.address!, 30_000_000n]])
      const tx3 = build([coinOf(tx1, 0, KEY_A, 'wpkh')], [[W2.address!, 40_000_000n], [W1.address!, 50_000_000n]])
      await mineWith([tx2, tx3])
      await node.generate(GAP)
      // Round 3: W1's change pays W3; W2 (key path) and W3 (P2PKH) are spent away together.
      const tx4 = build([coinOf(tx3, 1, KEY_A, 'wpkh')], [[W3.address!, 40_000_000n]])
      const tx5 = build([coinOf(tx2, 0, KEY_B, 'tr'), coinOf(tx2, 1, KEY_A, 'pkh')], [])
      await mineWith([tx4, tx5])
      await node.generate(GAP)
      // Round 4: W2's coin from round 2 pays W1; then a few blocks on top.
      const tx6 = build([coinOf(tx3, 0, KEY_B, 'tr')], [[W1.address!, 30_000_000n]])
      await mineWith([tx6])
      lastWatched = { txid: tx6.txid, height: planned.at(-1)!.height, block: await node.getBlockHash(planned.at(-1)!.height) }
      await node.generate(5)
      expect(await node.getBlockCount()).toBeGreaterThan(1_100)
    }, SETUP_MS)

    afterAll(async () => {
      await watcher?.stop()
      peer?.close('done')
      await node?.stop()
    })

    it('scans from genesis and finds exactly what btcd’s searchrawtransactions finds: txids, heights, blocks', { timeout: TEST_TIMEOUT_MS }, async () => {
      const opts: Partial<PeerOptions> = mode === 'v2' ? { v2, transport: 'v2' } : { transport: 'v1' }
      peer = await Peer.connect(node.p2p, { connector: new TcpConnector({ connectTimeoutMs: scaled(5_000) }), network: regtest, clock: new RealtimeClock(), ...opts })
      expect(peer.transportVersion).toBe(mode === 'v2' ? 2 : 1)
      watcher = new ScriptWatcher({ source: singlePeer(peer), network: regtest, store: new MemoryLightStore() })
      let progress = 0
      watcher.on('progress', () => progress++)
      await watcher.watch(WATCHED, { birthday: 0 })
      const tip = await within(watcher.synced(), 'the watcher catching up with btcd', WAIT_MS)
      expect(tip.height).toBe(await node.getBlockCount())
      const answer = await btcdAnswer(node)
      expect(answer.length).toBe(6)
      expect(answer.map((a) => a.split('@')[0]).sort()).toEqual(planned.map((p) => p.txid).sort())
      expect(ours(watcher.transactions())).toEqual(answer)
      expect(progress).toBeGreaterThan(0)
      const p = watcher.machine.progress()
      console.log(`[btcd-watch ${mode}] ${tip.height} blocks scanned, ${p.blocks} blocks fetched; found ${answer.length} txs = btcd's searchrawtransactions: ${answer.map((a) => a.split('@').slice(0, 2).join('@').slice(0, 12) + '...' + a.split('@')[1]).join(', ')}`)
      // Values: tx5 spent W2's 0.5 BTC and W3's 0.3 BTC.
      const tx5 = watcher.transactions().find((t) => t.inputs.length === 2)!
      expect(tx5.inputs.map((i) => i.value).sort()).toEqual([30_000_000n, 50_000_000n])
      // Left: W1's 0.3 BTC from tx6 and W3's 0.4 BTC from tx4.
      expect(watcher.balance).toBe(70_000_000n)
      expect(watcher.machine.filterHeaders.height).toBe(tip.height)
    })

    it('invalidateblock on the block with a watched tx and a longer branch: the reorg is reported and the tx found again on the new chain', { timeout: TEST_TIMEOUT_MS }, async () => {
      const reorg = new Promise<{ fork: { height: number }; unconfirmed: readonly WalletTx[] }>((resolve) => watcher.once('reorg', resolve))
      const refound = new Promise<WalletTx>((resolve) => {
        const on = (t: WalletTx) => {
          if (hashToHex(t.txid) !== lastWatched!.txid) return
          watcher.off('tx', on)
          resolve(t)
        }
        watcher.on('tx', on)
      })
      const before = await node.getBlockCount()
      await node.invalidateBlock(lastWatched!.block)
      // The transaction goes back to btcd's mempool and into the new branch's first block.
      await node.generate(before - lastWatched!.height + 2)
      const r = await within(reorg, 'the reorg event', WAIT_MS)
      expect(r.fork.height).toBe(lastWatched!.height - 1)
      expect(r.unconfirmed.map((t) => hashToHex(t.txid))).toEqual([lastWatched!.txid])
      const again = await within(refound, 'the transaction found on the new branch', WAIT_MS)
      expect(hashToHex(again.blockHash)).not.toBe(lastWatched!.block)
      await within(watcher.synced(), 'caught up after the reorg', WAIT_MS)
      console.log(`[btcd-watch ${mode}] reorg at fork ${r.fork.height}: ${lastWatched!.txid.slice(0, 12)}... unconfirmed from ${lastWatched!.block.slice(0, 12)}..., found again in ${hashToHex(again.blockHash).slice(0, 12)}... at ${again.height}`)
      expect(ours(watcher.transactions())).toEqual(await btcdAnswer(node))
    })

    it('following: a new block paying a watched address is found', { timeout: TEST_TIMEOUT_MS }, async () => {
      const c = await node.coinbase(3)
      const t = build([{ txid: c.txid, index: c.vout, amount: c.sats, script: miner.script, key: MINER, kind: 'wpkh' }], [[W3.address!, 12_345_678n]])
      const found = new Promise<WalletTx>((resolve) => watcher.once('tx', resolve))
      await node.sendRawTransaction(t.hex)
      const [hash] = await node.generate(1)
      const tx = await within(found, 'the new payment', WAIT_MS)
      expect(hashToHex(tx.txid)).toBe(t.txid)
      expect(hashToHex(tx.blockHash)).toBe(hash)
      expect(tx.outputs.map((o) => o.value)).toEqual([12_345_678n])
      expect(ours(watcher.transactions())).toEqual(await btcdAnswer(node))
    })
  })
}
