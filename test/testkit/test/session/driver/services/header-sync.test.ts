import { describe, expect, it } from 'vitest'
import { blockHash, bytesEqual, hashToHex, InvType, regtest, type BlockHeader } from '@bitp2p/wire'
import { MAX_HEADERS_RESULTS } from '@bitp2p/wire/limits'
import { HeaderSync, HeaderSyncError, MemoryHeaderStore, PeerList, singlePeer, type SyncProgress, type SyncReorg } from '@bitp2p/session'
import { checkHeaderPow, HeaderTree } from '@bitp2p/session/chain'
import { mineChain, serveHeaders, simulate } from './helpers.js'

describe('HeaderSync', () => {
  it('treats silence from a peer that claims nothing beyond our tip as "nothing new" (bcoin does not answer then)', async () => {
    const chain = mineChain('hs-silent', 50)
    const tree = new HeaderTree(regtest)
    // Our tree already holds the peer's whole chain.
    const all = chain.locate([regtest.genesisHash], new Uint8Array(32)).map((b) => b.header)
    expect(tree.acceptMany(all).rejected).toBeUndefined()
    expect(tree.height).toBe(50)
    let asked = 0
    const sim = await simulate({
      seed: 'hs-silent',
      n: 1,
      startHeight: () => 50,
      script: (_i, peer) => peer.on('getheaders', () => asked++), // never answers
    })
    const sync = new HeaderSync({ source: new PeerList(sim.clients), network: regtest, clock: sim.clock, tree, requestTimeoutMs: 5_000 })
    const synced = sync.synced()
    await sync.start()
    await sim.run(6_000)
    const tip = await synced
    expect(asked).toBe(1)
    expect(tip.height).toBe(50)
    expect(sync.isSynced).toBe(true)
    expect(sim.clients[0]!.state).toBe('ready')
  })

  it('syncs 5,000 regtest headers from two peers, one killed mid-sync, and persists them', async () => {
    const chain = mineChain('hs-5000', 5_000)
    const served = [{ getheaders: 0 }, { getheaders: 0 }]
    const sim = await simulate({
      seed: 'hs-5000',
      n: 2,
      startHeight: () => 5_000,
      script: (i, peer) => {
        if (i === 0) {
          // Serves two full batches, then dies on the third request.
          peer.on('getheaders', (m) => {
            served[0]!.getheaders++
            if (served[0]!.getheaders === 3) return peer.close('killed')
            peer.send({ command: 'headers', headers: chain.locate(m.locator, m.hashStop).map((b) => b.header) })
          })
        } else serveHeaders(peer, () => chain, served[1])
      },
    })
    const store = new MemoryHeaderStore()
    const sync = new HeaderSync({ source: new PeerList(sim.clients), network: regtest, clock: sim.clock, store })
    const progress: SyncProgress[] = []
    sync.on('progress', (p) => progress.push(p))
    let syncedCount = 0
    sync.on('synced', () => syncedCount++)
    const synced = sync.synced()
    await sync.start()
    await sim.run(60_000)
    const tip = await synced
    await sync.flush()

    expect(tip.height).toBe(5_000)
    expect(bytesEqual(tip.hash, chain.tip.hash)).toBe(true)
    expect(sync.isSynced).toBe(true)
    expect(syncedCount).toBe(1)
    // Peer 0 served 2 x 2000 headers and was killed on its third request; peer 1 took over from 4000.
    expect(served[0]!.getheaders).toBe(3)
    expect(sim.clients[0]!.state).toBe('closed')
    expect(served[1]!.getheaders).toBeGreaterThanOrEqual(1)
    expect(progress.map((p) => p.height).slice(0, 2)).toEqual([MAX_HEADERS_RESULTS, 2 * MAX_HEADERS_RESULTS])
    expect(progress[progress.length - 1]!.height).toBe(5_000)
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.height).toBeGreaterThanOrEqual(progress[i - 1]!.height)
    expect(progress.every((p) => p.peerHeight >= p.height)).toBe(true)
    expect(progress[1]!.headersPerSecond).toBeGreaterThan(0)
    // Persisted: the whole chain, genesis included.
    expect((await store.tip())!.height).toBe(5_000)
    for (const h of [0, 1, 2_000, 4_001, 5_000]) {
      expect(hashToHex((await store.getByHeight(h))!.hash)).toBe(hashToHex(chain.atHeight(h)!.hash))
    }
    // A new tree loaded from the store starts at the synced tip.
    const reloaded = new HeaderSync({ source: new PeerList([]), network: regtest, clock: sim.clock, store })
    await reloaded.start()
    expect(reloaded.tree.height).toBe(5_000)
    reloaded.stop()
    sync.stop()
  })

  it('follows announcements by headers (sendheaders) and by inv', async () => {
    const chain = mineChain('hs-ann', 10)
    const log = { getheaders: 0 }
    const sim = await simulate({ seed: 'hs-ann', n: 1, startHeight: () => 10, script: (_, p) => serveHeaders(p, () => chain, log) })
    const sync = new HeaderSync({ source: singlePeer(sim.clients[0]!), network: regtest, clock: sim.clock })
    const tips: number[] = []
    sync.on('tip', (t) => tips.push(t.height))
    await sync.start()
    await sim.run(5_000)
    expect(sync.tree.height).toBe(10)
    const asked = log.getheaders
    const remote = sim.remotes[0]!.peer

    // BIP130: the next block announced as a header is accepted without a getheaders.
    const [b11] = chain.fork(chain.tip.hash, 1)
    remote.send({ command: 'headers', headers: [b11!.header] })
    await sim.run(1_000)
    expect(sync.tree.height).toBe(11)
    expect(log.getheaders).toBe(asked)

    // An inv of an unknown block makes us ask the sender for headers.
    const [b12] = chain.fork(chain.tip.hash, 1)
    remote.send({ command: 'inv', items: [{ type: InvType.MSG_BLOCK, hash: b12!.hash }] })
    await sim.run(1_000)
    expect(log.getheaders).toBe(asked + 1)
    expect(bytesEqual(sync.tree.tip.hash, b12!.hash)).toBe(true)

    // Headers that do not connect (we missed some) also trigger a getheaders.
    const more = chain.fork(chain.tip.hash, 3)
    remote.send({ command: 'headers', headers: [more[2]!.header] })
    await sim.run(1_000)
    expect(log.getheaders).toBe(asked + 2)
    expect(sync.tree.height).toBe(15)
    expect(tips.slice(-3)).toEqual([11, 12, 15])
    expect(sync.isSynced).toBe(true)
    sync.stop()
  })

  it('reports a reorg to a longer competing branch with the fork point', async () => {
    const chain = mineChain('hs-reorg', 20)
    const sim = await simulate({ seed: 'hs-reorg', n: 1, startHeight: () => 20, script: (_, p) => serveHeaders(p, () => chain) })
    const store = new MemoryHeaderStore()
    const sync = new HeaderSync({ source: singlePeer(sim.clients[0]!), network: regtest, clock: sim.clock, store })
    const reorgs: SyncReorg[] = []
    sync.on('reorg', (r) => reorgs.push(r))
    await sync.start()
    await sim.run(5_000)
    expect(sync.tree.height).toBe(20)

    // A competing branch from height 15, 8 blocks long (23 > 20: more work on regtest).
    const fork = chain.atHeight(15)!
    const branch = chain.fork(fork.hash, 8, { minerTag: '/other-miner/' })
    expect(chain.tip.height).toBe(23)
    sim.remotes[0]!.peer.send({ command: 'inv', items: [{ type: InvType.MSG_BLOCK, hash: chain.tip.hash }] })
    await sim.run(2_000)
    await sync.flush()

    expect(reorgs).toHaveLength(1)
    const r = reorgs[0]!
    expect(r.fork.height).toBe(15)
    expect(bytesEqual(r.fork.hash, fork.hash)).toBe(true)
    expect(r.disconnected.map((e) => e.height)).toEqual([16, 17, 18, 19, 20])
    // The reorg happens at the first branch header with more work (height 21); 22 and 23 then connect.
    expect(r.connected.map((e) => hashToHex(e.hash))).toEqual(branch.slice(0, 6).map((b) => hashToHex(b.hash)))
    expect(sync.tree.height).toBe(23)
    // The store's tail was rewritten from the fork point.
    expect(hashToHex((await store.getByHeight(16))!.hash)).toBe(hashToHex(branch[0]!.hash))
    expect((await store.tip())!.height).toBe(23)
    sync.stop()
  })

  it('drops a peer serving a header with invalid proof of work and syncs from another', async () => {
    const chain = mineChain('hs-badpow', 30)
    // Peer 0 serves the first 10 headers with the 10th re-nonced until its hash misses the target.
    const good = chain.locate([chain.genesis.hash], new Uint8Array(32)).map((b) => b.header)
    let bad: BlockHeader = good[9]!
    for (let nonce = 0; ; nonce++) {
      bad = { ...good[9]!, nonce }
      if (!checkHeaderPow(bad, blockHash(bad), regtest).ok) break
    }
    const sim = await simulate({
      seed: 'hs-badpow',
      n: 2,
      startHeight: () => 30,
      script: (i, p) => {
        if (i === 0) p.on('getheaders', () => p.send({ command: 'headers', headers: [...good.slice(0, 9), bad] }))
        else serveHeaders(p, () => chain)
      },
    })
    const sync = new HeaderSync({ source: new PeerList(sim.clients), network: regtest, clock: sim.clock })
    const dropped: string[] = []
    sync.on('peer-dropped', (peer, offense) => dropped.push(`${peer.remote.host} ${offense.kind} ${offense.kind === 'invalid-header' ? offense.error.kind : ''}`))
    await sync.start()
    await sim.run(5_000)

    expect(dropped).toEqual(['10.0.1.1 invalid-header bad-pow'])
    expect(sim.clients[0]!.closeReason).toMatchObject({ kind: 'misbehaving', score: 100, last: { kind: 'invalid-header', error: { kind: 'bad-pow' } } })
    // The 9 valid headers it sent were kept; the rest came from peer 1.
    expect(sync.tree.height).toBe(30)
    expect(bytesEqual(sync.tree.tip.hash, chain.tip.hash)).toBe(true)
    expect(sync.tree.has(blockHash(bad))).toBe(false)
    sync.stop()
  })

  it('asks other peers when the tip goes stale while they claim more', async () => {
    const chain = mineChain('hs-stale', 12)
    const short = mineChain('hs-stale', 12)
    const log = [{ getheaders: 0 }, { getheaders: 0 }]
    const sim = await simulate({
      seed: 'hs-stale',
      n: 2,
      // Peer 0 claims 5 and serves 5; peer 1 claims 12 but only answers after the stale check.
      startHeight: (i) => (i === 0 ? 5 : 12),
      script: (i, p) => {
        if (i === 0) {
          p.on('getheaders', (m) => {
            log[0]!.getheaders++
            p.send({ command: 'headers', headers: short.locate(m.locator, m.hashStop).filter((b) => b.height <= 5).map((b) => b.header) })
          })
        } else {
          p.on('getheaders', (m) => {
            log[1]!.getheaders++
            if (log[1]!.getheaders > 1) p.send({ command: 'headers', headers: chain.locate(m.locator, m.hashStop).map((b) => b.header) })
          })
        }
      },
      // Peer 1's first getheaders is left unanswered: report the stall instead of disconnecting.
      client: { onStall: 'report' },
    })
    const sync = new HeaderSync({ source: new PeerList(sim.clients), network: regtest, clock: sim.clock, staleTipMs: 120_000, requestTimeoutMs: 5_000 })
    const stale: number[] = []
    sync.on('stale-tip', (s) => stale.push(s.tip.height))
    await sync.start()
    await sim.run(60_000)
    // Peer 0 gave 5; peer 1 stalled and was set aside; the tip is stuck at 5.
    expect(sync.tree.height).toBe(5)
    expect(sync.isSynced).toBe(false)
    expect(log[1]!.getheaders).toBe(1)
    await sim.run(70_000)
    expect(stale).toEqual([5])
    expect(log[1]!.getheaders).toBe(2)
    expect(sync.tree.height).toBe(12)
    expect(sync.isSynced).toBe(true)
    sync.stop()
  })

  it('starts from a given tree and rejects nothing it already holds', async () => {
    const chain = mineChain('hs-tree', 40)
    const tree = new HeaderTree(regtest)
    for (let h = 1; h <= 25; h++) tree.accept(chain.atHeight(h)!.header)
    const log = { getheaders: 0 }
    const sim = await simulate({ seed: 'hs-tree', n: 1, startHeight: () => 40, script: (_, p) => serveHeaders(p, () => chain, log) })
    const sync = new HeaderSync({ source: singlePeer(sim.clients[0]!), network: regtest, clock: sim.clock, tree })
    const progress: number[] = []
    sync.on('progress', (p) => progress.push(p.height))
    await sync.start()
    await sim.run(5_000)
    expect(sync.tree).toBe(tree)
    expect(tree.height).toBe(40)
    // One getheaders from height 25 got the 15 missing headers in a short reply: done.
    expect(log.getheaders).toBe(1)
    expect(progress).toEqual([40])
    sync.stop()
  })
})

describe('HeaderSync: every synced() settles', () => {
  it('with no peer at all, synced() rejects "no-peers" after peerWaitMs', async () => {
    const sim = await simulate({ seed: 'hs-none', n: 0 })
    const sync = new HeaderSync({ source: new PeerList(), network: regtest, clock: sim.clock, peerWaitMs: 10_000 })
    await sync.start()
    const start = sim.clock.now()
    let at: number | undefined
    const outcome = sync.synced().catch((e: unknown) => ((at = sim.clock.now()), e))
    await sim.run(9_999)
    expect(at).toBeUndefined()
    await sim.run(1)
    expect(await outcome).toEqual(new HeaderSyncError('no-peers', 10_000))
    expect(at! - start).toBe(10_000)
  })

  it('a lone peer that claims more but never answers (its stall only reported) leaves no usable peer: synced() rejects "no-peers"', async () => {
    const sim = await simulate({
      seed: 'hs-liar',
      n: 1,
      startHeight: () => 1_000,
      script: () => undefined, // never answers getheaders
      client: { onStall: 'report' },
    })
    const sync = new HeaderSync({ source: new PeerList(sim.clients), network: regtest, clock: sim.clock, requestTimeoutMs: 5_000, peerWaitMs: 10_000 })
    await sync.start()
    const outcome = sync.synced().catch((e: unknown) => e)
    await sim.run(5_000 + 10_000 + 100)
    const err = await outcome
    expect(err).toBeInstanceOf(HeaderSyncError)
    expect(err).toMatchObject({ code: 'no-peers', waitedMs: 10_000 })
    expect(sim.clients[0]!.state).toBe('ready')
    sync.stop()
  })

  it('a peer that arrives within peerWaitMs is synced from; stop() rejects what still waits', async () => {
    const chain = mineChain('hs-late', 30)
    const sim = await simulate({ seed: 'hs-late', n: 1, startHeight: () => 30, script: (_i, p) => serveHeaders(p, () => chain) })
    const source = new PeerList()
    const sync = new HeaderSync({ source, network: regtest, clock: sim.clock, peerWaitMs: 10_000 })
    await sync.start()
    const first = sync.synced()
    await sim.run(9_000)
    source.add(sim.clients[0]!)
    await sim.run(1_000)
    expect((await first).height).toBe(30)
    // Behind again (an announcement of more), then stopped: the waiter hears 'stopped'.
    sim.clients[0]!.emit('inv', { command: 'inv', items: [{ type: InvType.MSG_BLOCK, hash: new Uint8Array(32).fill(9) }] })
    const second = sync.synced().catch((e: unknown) => e)
    sync.stop()
    expect(await second).toEqual(new HeaderSyncError('stopped'))
  })
})
