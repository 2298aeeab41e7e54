import { describe, it, expect } from 'vitest'
import { PeerError, SeededRandom, type Peer } from '@bitp2p/session'
import {
  BIP155Network,
  bytesEqual,
  hasWitness,
  InvType,
  ipToString,
  serializeBlock,
  toHex,
  txid,
  wtxid,
  type Message,
  type Transaction,
} from '@bitp2p/wire'
import { MockNetwork } from '../../src/network.js'
import { SyntheticChain, TxFactory } from '../../src/chain/index.js'
import { Simulation } from '../../src/peers/simulation.js'
import { VirtualPeer } from '../../src/peers/virtual-peer.js'
import { MAX_SPREAD_HOSTS, MAX_VIRTUAL_HOSTS, spreadHost, ipv4Group16 } from '../../src/peers/addresses.js'

/** A one-peer simulation with the driver connected; `msgs` collects what the driver receives after the handshake. */
async function connected(driver: Parameters<Simulation['connect']>[1] = {}, seed = 'serve') {
  const sim = new Simulation({ seed, peers: 2, trace: { record: true } })
  const msgs: Message[] = []
  const p = sim.connect(0, { ...driver, setup: (peer) => peer.on('message', (m) => msgs.push(m)) })
  await sim.run({ until: 1_000 })
  return { sim, peer: await p, msgs, virtual: sim.peers[0]! }
}

/** Let `ms` of virtual time pass. */
const pass = (sim: Simulation, ms: number) => sim.run({ until: sim.now() + ms })

describe('VirtualPeer serves what a full node serves', () => {
  it('getaddr: addrv2 to a peer that sent sendaddrv2, with the addresses it knows', async () => {
    const { sim, peer, msgs, virtual } = await connected()
    peer.send({ command: 'getaddr' })
    await pass(sim, 100)
    const reply = msgs.find((m) => m.command === 'addrv2')
    expect(reply?.command).toBe('addrv2')
    if (reply?.command !== 'addrv2') return
    expect(reply.addresses.map((a) => a.networkId)).toEqual(virtual.addresses.map(() => BIP155Network.IPV4))
    expect(reply.addresses.map((a) => a.addr.join('.'))).toEqual(virtual.addresses.map((a) => ipToString(a.host)))
    expect(reply.addresses.every((a) => a.addr.join('.') !== virtual.address.host)).toBe(true)
    expect(virtual.stats.addrServed).toBe(virtual.addresses.length)
  })

  it('getaddr: addr to a peer that did not send sendaddrv2', async () => {
    const { sim, peer, msgs, virtual } = await connected({ addrv2: false })
    peer.send({ command: 'getaddr' })
    await pass(sim, 100)
    const reply = msgs.find((m) => m.command === 'addr' || m.command === 'addrv2')
    expect(reply?.command).toBe('addr')
    if (reply?.command === 'addr') expect(reply.addresses.map((a) => ipToString(a.host))).toEqual(virtual.addresses.map((a) => ipToString(a.host)))
  })

  it('getdata: transactions by wtxid (with witness) and by txid (without), notfound for the rest', async () => {
    const { sim, peer, virtual } = await connected()
    const segwit = sim.mempool.find((e) => hasWitness(e.tx))!
    expect(segwit).toBeDefined()
    const unknown = new Uint8Array(32).fill(7)
    // One getdata per form: the driver matches replies to items by id, and both forms share the txid.
    const byWtxid = peer.getData([{ type: InvType.MSG_WTX, hash: segwit.wtxid }, { type: InvType.MSG_TX, hash: unknown }])
    await pass(sim, 100)
    const byTxid = peer.getData([{ type: InvType.MSG_TX, hash: segwit.txid }])
    await pass(sim, 100)
    const r = await byWtxid
    expect(r.notFound.map((i) => toHex(i.hash))).toEqual([toHex(unknown)])
    const txs = [...r.found, ...(await byTxid).found].map((f) => (f.message?.command === 'tx' ? f.message.tx : undefined)) as Transaction[]
    expect(bytesEqual(wtxid(txs[0]!), segwit.wtxid)).toBe(true)
    expect(hasWitness(txs[0]!)).toBe(true)
    expect(bytesEqual(txid(txs[1]!), segwit.txid)).toBe(true)
    expect(hasWitness(txs[1]!)).toBe(false)
    expect(virtual.stats).toMatchObject({ txsServed: 2, notFound: 1 })
  })

  it('getdata: MSG_BLOCK without witnesses, MSG_WITNESS_BLOCK byte-identical to the chain', async () => {
    const { sim, peer } = await connected()
    // The tip carries factory transactions; find a block with a witness.
    const withWitness = [...sim.chain.blocks()].find((b) => b.block?.txs.some(hasWitness))!
    const blockOf = async (type: number) => {
      const r = peer.getData([{ type, hash: withWitness.hash }])
      await pass(sim, 100)
      const m = (await r).found[0]?.message
      return m?.command === 'block' ? m.block : undefined
    }
    const full = await blockOf(InvType.MSG_WITNESS_BLOCK)
    const stripped = await blockOf(InvType.MSG_BLOCK)
    expect(serializeBlock(full!)).toEqual(withWitness.raw)
    expect(stripped!.txs.some(hasWitness)).toBe(false)
    expect(stripped!.txs.map((t) => toHex(txid(t)))).toEqual(full!.txs.map((t) => toHex(txid(t))))
  })

  it('mempool: an inv of every held transaction, by wtxid to a wtxidrelay peer', async () => {
    const { sim, peer, msgs } = await connected()
    peer.send({ command: 'mempool' })
    await pass(sim, 100)
    const inv = msgs.find((m) => m.command === 'inv')
    expect(inv?.command === 'inv' && inv.items.map((i) => [i.type, toHex(i.hash)])).toEqual(sim.mempool.map((e) => [InvType.MSG_WTX, e.wtxidHex]))
  })
})

describe('VirtualPeer announces', () => {
  it('blocks as headers to a peer that sent sendheaders, as inv otherwise', async () => {
    for (const sendHeaders of [true, false]) {
      const { sim, msgs, virtual } = await connected({ sendHeaders }, `announce-${sendHeaders}`)
      const next = sim.chain.extend(sim.chain.tip.hash, { time: sim.chain.tip.header.time + 600 })
      virtual.announceBlock(next)
      await pass(sim, 100)
      const last = msgs[msgs.length - 1]!
      if (sendHeaders) expect(last.command === 'headers' && toHex(last.headers[0]!.prevBlock)).toBe(toHex(next.parent!.hash))
      else expect(last.command === 'inv' && last.items.map((i) => [i.type, toHex(i.hash)])).toEqual([[InvType.MSG_BLOCK, toHex(next.hash)]])
    }
  })

  it('transactions by wtxid, and none to a peer that asked for no relay', async () => {
    for (const relay of [true, false]) {
      const { sim, msgs, virtual } = await connected({ relay }, `announce-tx-${relay}`)
      const tx = new TxFactory(new SeededRandom('extra-tx')).next()
      virtual.addTransaction(tx)
      await pass(sim, 100)
      expect(virtual.transaction(txid(tx))).toBe(tx)
      const invs = msgs.filter((m) => m.command === 'inv')
      if (relay) expect(invs.map((m) => m.command === 'inv' && toHex(m.items[0]!.hash))).toEqual([toHex(wtxid(tx))])
      else expect(invs).toHaveLength(0)
    }
  })

  it('gossips addresses', async () => {
    const { sim, msgs, virtual } = await connected()
    const host = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 8, 8, 4, 4)
    virtual.gossipAddresses([{ time: 1_700_000_000, services: 1n, host, port: 8333 }])
    await pass(sim, 100)
    const last = msgs[msgs.length - 1]!
    expect(last.command === 'addrv2' && last.addresses.map((a) => a.addr.join('.'))).toEqual(['8.8.4.4'])
  })
})

describe('VirtualPeer mempools', () => {
  it("peers of one simulation share the mempool's index until one adds a transaction: the others never see it", async () => {
    const { sim, virtual } = await connected({}, 'shared-mempool')
    const other = sim.peers[1]!
    expect(Object.isFrozen(sim.mempool)).toBe(true)
    const tx = new TxFactory(new SeededRandom('only-one')).next()
    virtual.addTransaction(tx)
    expect(virtual.transaction(txid(tx))).toBe(tx)
    expect(virtual.mempool).toHaveLength(sim.mempool.length + 1)
    expect(other.transaction(txid(tx))).toBeUndefined()
    expect(other.mempool).toEqual(sim.mempool.map((e) => e.tx))
    // A new peer built from the same array starts from the original, too.
    const late = new VirtualPeer({ net: sim.net, address: { host: '10.9.9.9', port: 18444 }, chain: sim.chain, random: new SeededRandom('late'), mempool: sim.mempool })
    expect(late.mempool).toEqual(sim.mempool.map((e) => e.tx))
  })

  it('a mutable mempool array is indexed per peer, as it was when the peer was built', () => {
    const chain = new SyntheticChain({ random: new SeededRandom('mutable-chain') })
    const net = new MockNetwork({ seed: 'mutable' })
    const factory = new TxFactory(new SeededRandom('mutable-txs'))
    const pool = [factory.next()]
    const a = new VirtualPeer({ net, address: { host: '10.0.0.1', port: 18444 }, chain, random: new SeededRandom('a'), mempool: pool })
    pool.push(factory.next())
    const b = new VirtualPeer({ net, address: { host: '10.0.0.2', port: 18444 }, chain, random: new SeededRandom('b'), mempool: pool })
    expect(a.mempool).toHaveLength(1)
    expect(b.mempool).toHaveLength(2)
  })
})

describe('VirtualPeer connections', () => {
  it('dials out to another virtual peer; both run the production handshake and serve each other', async () => {
    const sim = new Simulation({ seed: 'dial', peers: 2 })
    const [a, b] = sim.peers as [VirtualPeer, VirtualPeer]
    let headers = -1
    const dial = (async () => {
      const peer = await a.connect(b.address)
      expect(peer.info?.peer.userAgent).toBe('/bitp2p-virtual:0.1.0/')
      headers = (await peer.getHeaders([sim.chain.genesis.hash])).length
      peer.close('done')
    })()
    await sim.run()
    await dial
    expect(headers).toBe(sim.chain.tip.height)
    expect(b.stats).toMatchObject({ connections: 1, handshakes: 1, headersServed: sim.chain.tip.height })
    expect(a.stats).toMatchObject({ connections: 1, handshakes: 1 })
    expect(sim.clock.pendingTimers).toBe(0)
  })

  it('close() ends every session and stops listening', async () => {
    const { sim, peer, virtual } = await connected()
    virtual.close()
    await sim.run()
    expect(await peer.closed).toMatchObject({ kind: 'transport', error: { code: 'remote' } })
    expect(virtual.sessionCount).toBe(0)
    const again = sim.connect(0).catch((e: unknown) => e)
    await sim.run()
    expect(await again).toBeInstanceOf(PeerError)
    expect(((await again) as PeerError).reason).toMatchObject({ kind: 'transport', error: { code: 'connect-failed' } })
  })

  it('works on a plain MockNetwork with its own chain', async () => {
    const net = new MockNetwork({ seed: 'plain' })
    const random = new SeededRandom('plain')
    const chain = new SyntheticChain({ random: random.fork('chain') })
    chain.fork(chain.tip.hash, 3)
    const v = new VirtualPeer({ net, address: { host: '203.0.113.7', port: 18444 }, chain, random: random.fork('v') })
    v.listen()
    let got: Peer | undefined
    const other = new VirtualPeer({ net, address: { host: '203.0.113.8', port: 18444 }, chain, random: random.fork('w') })
    void other.connect(v.address).then((p) => {
      got = p
      p.close()
    })
    await net.clock.runAsync()
    expect(got?.info?.peer.startHeight).toBe(3)
  })
})

describe('spreadHost', () => {
  it('puts every peer in its own /16, outside private and reserved ranges', () => {
    const groups = new Set<string>()
    for (let i = 0; i < MAX_SPREAD_HOSTS; i += 7) {
      const h = spreadHost(i)
      const [a, b] = h.split('.').map(Number) as [number, number]
      expect([0, 10, 100, 127, 169, 172, 192, 198]).not.toContain(a)
      expect(a).toBeLessThanOrEqual(223)
      expect(b).toBe(i & 255)
      groups.add(ipv4Group16(h))
    }
    expect(groups.size).toBe(Math.ceil(MAX_SPREAD_HOSTS / 7))
    expect(() => spreadHost(-1)).toThrow(RangeError)
    expect(() => spreadHost(1.5)).toThrow(RangeError)
  })

  it('past MAX_SPREAD_HOSTS, reuses the /16s with a distinct address for every index, up to MAX_VIRTUAL_HOSTS', () => {
    // 100,000 and 1,000,000 virtual peers fit (the old cap was MAX_SPREAD_HOSTS, 55,296).
    expect(MAX_VIRTUAL_HOSTS).toBeGreaterThan(1_000_000)
    const seen = new Set<string>()
    for (let i = 0; i < 200_000; i++) seen.add(spreadHost(i))
    expect(seen.size).toBe(200_000)
    // Index i and i + MAX_SPREAD_HOSTS share a /16 and differ in the address.
    for (const i of [0, 1, 255, 256, MAX_SPREAD_HOSTS - 1]) {
      expect(ipv4Group16(spreadHost(i + MAX_SPREAD_HOSTS))).toBe(ipv4Group16(spreadHost(i)))
      expect(spreadHost(i + MAX_SPREAD_HOSTS)).not.toBe(spreadHost(i))
    }
    // The last rounds: still distinct, never x.y.255.255, every octet valid.
    const tail = new Set<string>()
    for (let i = MAX_VIRTUAL_HOSTS - 3 * MAX_SPREAD_HOSTS; i < MAX_VIRTUAL_HOSTS; i += 13) {
      const h = spreadHost(i)
      const parts = h.split('.').map(Number)
      expect(parts.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)).toBe(true)
      expect(parts[2] === 255 && parts[3] === 255).toBe(false)
      tail.add(h)
    }
    expect(tail.size).toBe(Math.ceil((3 * MAX_SPREAD_HOSTS) / 13))
    expect(() => spreadHost(MAX_VIRTUAL_HOSTS)).toThrow(RangeError)
  })
})
