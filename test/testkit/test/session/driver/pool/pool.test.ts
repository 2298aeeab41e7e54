import { describe, expect, it } from 'vitest'
import { blockHash, InvType, Services, toHex, txid, type Block, type KnownMessage, type Message, type Transaction } from '@bitp2p/wire'
import { type DisconnectReason, Peer, Pool, type PoolOptions, type PoolPeerInfo, RequestError, SeededRandom } from '@bitp2p/session'
import { explainEviction } from '@bitp2p/session/core'
import { RELAY_BLOCK_TIME_WINDOW_S } from '@bitp2p/session/limits'
import { FULL, NET, Node, PORT, POOL_HOST, UNIX0, hostIn, makeChain, mineBlock, run, setup, watchCaps } from './sim.js'

const LIMITED = Services.NODE_NETWORK_LIMITED | Services.NODE_WITNESS

describe('Pool: slots and network groups', () => {
  it('fills the outbound slots to the cap, never beyond, one peer per network group', async () => {
    const { net, options } = setup('slots')
    // 90 nodes in 15 /16 groups (6 per group); a third offer only NODE_NETWORK_LIMITED.
    const nodes: Node[] = []
    for (let i = 0; i < 90; i++) {
      nodes.push(new Node(net, { host: hostIn(i % 15, i), port: PORT }, { services: i % 3 === 0 ? LIMITED : FULL }, `slots:${i}`))
    }
    for (const n of nodes) n.behaviour.known = nodes.map((m) => ({ ...m.addr, services: m.behaviour.services }))
    for (const n of nodes) n.up()
    const pool = new Pool({ ...options, outboundFullRelay: 6, outboundLimited: 3, seeds: nodes.slice(0, 4).map((n) => n.addr) })
    const violations = watchCaps(pool)
    let maxOutbound = 0
    pool.on('peer-added', () => (maxOutbound = Math.max(maxOutbound, pool.stats().peers.outbound)))
    pool.start()
    await run(net, 120_000)
    const s = pool.stats().peers
    expect(violations).toEqual([])
    expect(s.fullRelay).toBe(6)
    expect(s.limited).toBe(3)
    expect(s.ready).toBe(9)
    expect(maxOutbound).toBe(9)
    const conns = pool.connections()
    expect(new Set(conns.map((c) => c.group)).size).toBe(9)
    // Slot requirements: full-relay peers serve the whole chain; limited peers at least recent blocks.
    for (const c of conns) {
      if (c.slot === 'full-relay') expect(c.services & FULL).toBe(FULL)
      else expect(c.services & LIMITED).toBe(LIMITED)
    }
    // Churn: take every connected node down; the slots refill from other groups, caps still hold.
    for (const c of conns) nodes.find((n) => n.addr.host === c.addr.host)!.down()
    await run(net, 120_000)
    expect(violations).toEqual([])
    expect(pool.stats().peers.ready).toBe(9)
    await pool.stop()
  })

  it('takes inbound peers up to its inbound slots and the total cap, refusing the rest', async () => {
    const { net, options } = setup('inbound')
    const listener = net.listen({ host: '11.200.0.1', port: PORT })
    const pool = new Pool({ ...options, listener, outboundFullRelay: 0, maxInbound: 3, maxPeers: 3 })
    const violations = watchCaps(pool)
    pool.start()
    const results: string[] = []
    for (let i = 0; i < 6; i++) {
      void Peer.connect(listener.address, {
        network: NET,
        clock: net.clock,
        random: new SeededRandom(i),
        connector: net.connector(hostIn(40 + i, 1)),
        handshakeTimeoutMs: 5_000,
      }).then(
        () => results.push('ok'),
        (e) => results.push(e.reason.kind),
      )
    }
    await run(net, 10_000)
    expect(violations).toEqual([])
    expect(results.filter((r) => r === 'ok')).toHaveLength(3)
    expect(results.filter((r) => r !== 'ok')).toHaveLength(3)
    expect(pool.stats().peers).toMatchObject({ inbound: 3, ready: 3, total: 3 })
    expect(pool.stats().accepted).toBe(3)
    await pool.stop()
  })
})

describe('Pool: retry with backoff', () => {
  it('never retries a failed address before its time, and gives up after maxAttempts', async () => {
    const { net, options } = setup('backoff')
    const dead = { host: hostIn(1, 1), port: PORT } // nothing listens: connect-failed after one round trip
    const pool = new Pool({ ...options, seeds: [dead], backoff: { base: 1_000, factor: 2, cap: 60_000, jitter: 'none', maxAttempts: 4 } })
    const fails: { at: number; retryAt: number }[] = []
    pool.on('connect-failed', (_info, reason, retryAt) => {
      expect(reason.kind).toBe('transport')
      fails.push({ at: net.now(), retryAt })
    })
    pool.start()
    await run(net, 600_000)
    // Attempts 1..5: delays 1 s, 2 s, 4 s, 8 s, then given up.
    expect(fails).toHaveLength(5)
    expect(fails[4]!.retryAt).toBe(Number.POSITIVE_INFINITY)
    const rtt = 40
    for (let i = 1; i < fails.length; i++) {
      const attemptAt = fails[i]!.at - rtt
      expect(attemptAt).toBeGreaterThanOrEqual(fails[i - 1]!.retryAt)
      expect(fails[i - 1]!.retryAt - fails[i - 1]!.at).toBe(1_000 * 2 ** (i - 1))
      // ...and not much later either: the refill tick is REFILL_INTERVAL_MS.
      expect(attemptAt - fails[i - 1]!.retryAt).toBeLessThanOrEqual(500)
    }
    expect(pool.stats().attempts).toBe(5)
    await pool.stop()
  })
})

describe('Pool: bans', () => {
  it('bans a misbehaving peer for 24 h, but never a slow one', async () => {
    const { net, options } = setup('bans')
    const chain = makeChain(10)
    let badAccepts = 0
    const bad = new Node(net, { host: hostIn(1, 1), port: PORT }, { chain, misbehave: 5, setup: () => badAccepts++ }, 'bad').up()
    let slowAccepts = 0
    const slow = new Node(net, { host: hostIn(2, 1), port: PORT }, { chain, stall: true, setup: () => slowAccepts++ }, 'slow').up()
    const pool = new Pool({ ...options, outboundFullRelay: 2, seeds: [bad.addr, slow.addr], backoff: { base: 1_000, factor: 2, cap: 10_000, jitter: 'none', maxAttempts: 100 } })
    const bans: string[] = []
    const banTimes: number[] = []
    const removed: DisconnectReason[] = []
    pool.on('ban', (host) => {
      bans.push(host)
      banTimes.push(net.now())
    })
    pool.on('peer-removed', (_i, reason) => removed.push(reason))
    pool.start()
    await run(net, 5_000)
    expect(bans).toEqual([`ipv4:${bad.addr.host}`])
    expect(removed.map((r) => r.kind)).toContain('misbehaving')
    expect(pool.machine.isBanned(net.now(), bad.addr)).toBe(true)

    // The slow peer stalls a request: it is dropped and the request fails, but nothing is banned.
    const err = await Promise.all([pool.getData([{ type: InvType.MSG_BLOCK, hash: chain.hashes[3]! }], { timeoutMs: 2_000, maxAttempts: 1 }).catch((e) => e), run(net, 3_000)])
    // One error class for a peer's request and a pool's: the pool's has no peer request, and its code is the PoolFailure's kind.
    expect(err[0]).toBeInstanceOf(RequestError)
    expect(err[0]).toMatchObject({ name: 'RequestError', code: 'exhausted', request: undefined })
    expect((err[0] as RequestError).message).toBe('request failed: exhausted after 1 attempts (last: closed)')
    // The stall closed the peer (onStall 'disconnect'), which is what the request saw.
    expect((err[0] as RequestError).failure).toMatchObject({ kind: 'exhausted', attempts: 1, last: { kind: 'closed', reason: { kind: 'stalled' } } })
    expect(removed.map((r) => r.kind)).toContain('stalled')
    expect(bans).toHaveLength(1)
    expect(pool.machine.isBanned(net.now(), slow.addr)).toBe(false)
    // The stall lowered the slow address's preference in the book.
    expect(pool.machine.book.get(slow.addr)!.attempts).toBeGreaterThan(0)

    // An hour later: the slow node was reconnected, the banned one never.
    const before = badAccepts
    await run(net, 3600_000)
    expect(slowAccepts).toBeGreaterThan(1)
    expect(badAccepts).toBe(before)
    // After 24 h the ban expires: the address is tried again (and, misbehaving again, banned again).
    await run(net, 24 * 3600_000)
    expect(badAccepts).toBeGreaterThan(before)
    expect(banTimes).toHaveLength(2)
    expect(banTimes[1]! - banTimes[0]!).toBeGreaterThanOrEqual(24 * 3600_000)
    expect(bans).toEqual([`ipv4:${bad.addr.host}`, `ipv4:${bad.addr.host}`])
    await pool.stop()
  })
})

describe('Pool: requests with failover', () => {
  it('moves outstanding getdata and getheaders off peers killed mid-request; none is lost', async () => {
    const { net, options } = setup('failover')
    const chain = makeChain(60)
    const nodes = [
      new Node(net, { host: hostIn(1, 1), port: PORT }, { chain, dieOnGetdata: true }, 'f1'),
      new Node(net, { host: hostIn(2, 1), port: PORT }, { chain, stall: true }, 'f2'),
      new Node(net, { host: hostIn(3, 1), port: PORT }, { chain }, 'f3'),
      new Node(net, { host: hostIn(4, 1), port: PORT }, { chain }, 'f4'),
    ].map((n) => n.up())
    const pool = new Pool({ ...options, outboundFullRelay: 4, seeds: nodes.map((n) => n.addr), requestAttempts: 8 })
    const failovers: string[] = []
    // A stall closes the serving peer, so its requests fail over as 'closed' with reason 'stalled'.
    pool.on('failover', (_id, _from, _to, f) => failovers.push(f.kind === 'closed' ? f.reason.kind : f.kind))
    pool.start()
    await run(net, 2_000)
    expect(pool.stats().peers.ready).toBe(4)

    const blocks = chain.hashes.map((hash) => pool.getData([{ type: InvType.MSG_BLOCK, hash }], { timeoutMs: 3_000 }))
    const headers = pool.getHeaders([chain.hashes[9]!], { timeoutMs: 3_000 })
    await run(net, 60_000)
    const got = await Promise.all(blocks)
    for (let i = 0; i < got.length; i++) {
      expect(got[i]!.notFound).toEqual([])
      const m = got[i]!.found[0]!.message as Message & { command: 'block' }
      expect(toHex(blockHash(m.block.header))).toBe(toHex(chain.hashes[i]!))
      expect(m.block.header.nonce).toBe(i)
    }
    const h = await headers
    expect(h.map((x) => x.nonce)).toEqual(chain.headers.slice(10).map((x) => x.nonce))
    // Both kinds of failure happened and were survived.
    expect(failovers).toContain('transport') // the dying node closed the connection under the request
    expect(failovers).toContain('stalled')
    expect(pool.stats().pendingRequests).toBe(0)
    await pool.stop()
  })

  it('a request waits for a peer when none is ready, and least-loaded spreads work', async () => {
    const { net, options } = setup('wait')
    const chain = makeChain(24)
    const nodes = [1, 2, 3].map((g) => new Node(net, { host: hostIn(g, 1), port: PORT }, { chain }, `w${g}`))
    const pool = new Pool({ ...options, outboundFullRelay: 3, seeds: nodes.map((n) => n.addr) })
    pool.start()
    const p = pool.getData([{ type: InvType.MSG_BLOCK, hash: chain.hashes[5]! }])
    await run(net, 5_000) // nobody listens yet
    expect(pool.stats().pendingRequests).toBe(1)
    for (const n of nodes) n.up()
    await run(net, 30_000)
    expect((await p).found).toHaveLength(1)
    expect(pool.stats().peers.ready).toBe(3)
    const all = chain.hashes.map((hash) => pool.getData([{ type: InvType.MSG_BLOCK, hash }]))
    await run(net, 10_000)
    await Promise.all(all)
    // 24 requests issued at one instant over 3 idle peers: 8 each.
    expect(nodes.map((n) => n.getdatas).sort()).toEqual([8, 8, 9].sort())
    await pool.stop()
  })
})

describe('Pool: every request settles', () => {
  it('a request that finds no ready peer within requestPeerWaitMs rejects with "no-peers"; a later one is served', async () => {
    const { net, options } = setup('no-peers')
    const chain = makeChain(2)
    const node = new Node(net, { host: hostIn(1, 1), port: PORT }, { chain }, 'np')
    const pool = new Pool({ ...options, seeds: [node.addr], requestPeerWaitMs: 20_000 })
    pool.start()
    const failed = pool.getData([{ type: InvType.MSG_BLOCK, hash: chain.hashes[0]! }]).catch((e: unknown) => e)
    await run(net, 19_000)
    expect(pool.stats().pendingRequests).toBe(1)
    await run(net, 2_000)
    const err = await failed
    expect(err).toBeInstanceOf(RequestError)
    expect((err as RequestError).code).toBe('no-peers')
    expect((err as RequestError).failure).toEqual({ kind: 'no-peers', waitedMs: 20_000 })
    expect(pool.stats().pendingRequests).toBe(0)
    // The node comes up; once the pool (past its connect backoff) has it, requests are served again.
    node.up()
    for (let i = 0; i < 60 && pool.stats().peers.ready === 0; i++) await run(net, 5_000)
    const served = pool.getData([{ type: InvType.MSG_BLOCK, hash: chain.hashes[0]! }])
    await run(net, 1_000)
    expect((await served).found).toHaveLength(1)
    await pool.stop()
  })
})

describe('Pool: outbound queue', () => {
  it('keeps a broadcast until a peer is ready, then delivers it', async () => {
    const { net, options } = setup('queue')
    const node = new Node(net, { host: hostIn(1, 1), port: PORT }, {}, 'q')
    const pool = new Pool({ ...options, seeds: [node.addr], maxQueuedBroadcasts: 2 })
    pool.start()
    const item = { type: InvType.MSG_TX, hash: new Uint8Array(32).fill(7) }
    let settled: number | string | undefined
    const first = pool.broadcast({ command: 'inv', items: [item] }).catch((e: RequestError) => e.code)
    const second = pool.broadcast({ command: 'inv', items: [{ ...item, hash: new Uint8Array(32).fill(8) }] }).then((n) => (settled = n))
    const third = pool.broadcast({ command: 'inv', items: [{ ...item, hash: new Uint8Array(32).fill(9) }] })
    await run(net, 10_000)
    // Over the limit of 2 the oldest is dropped, loudly.
    expect(await first).toBe('queue-full')
    expect(settled).toBeUndefined()
    expect(pool.stats().queuedBroadcasts).toBe(2)
    expect(pool.sendToAll({ command: 'inv', items: [item] })).toBe(0)
    node.up()
    await run(net, 10_000)
    expect(await second).toBe(1)
    expect(await third).toBe(1)
    expect(node.received.filter((c) => c === 'inv')).toHaveLength(2)
    expect(pool.stats().queuedBroadcasts).toBe(0)
    await pool.stop()
  })
})

describe('Pool: address gossip', () => {
  it('sends getaddr once per outbound peer and rate limits unsolicited addr (0.1/s)', async () => {
    const { net, options } = setup('ratelimit')
    const known = Array.from({ length: 1000 }, (_, i) => ({ host: hostIn(100 + (i % 100), i + 1), port: PORT }))
    let gossip: (() => void) | undefined
    const node = new Node(net, { host: hostIn(1, 1), port: PORT }, {
      known,
      answerSize: 1000,
      setup: (p) => {
        gossip = () => p.send({ command: 'addr', addresses: known.slice(0, 1000).map((a, i) => ({ time: UNIX0 / 1000 - 60, services: FULL, host: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 50, 1, (i >> 8) & 255, i & 255]), port: PORT })) })
      },
    }, 'gossip').up()
    const pool = new Pool({ ...options, outboundFullRelay: 1, seeds: [node.addr] })
    const addrEvents: [number, number][] = []
    pool.on('addr', (_id, received, accepted) => addrEvents.push([received, accepted]))
    pool.start()
    await run(net, 60_000)
    // The answer to our getaddr is taken whole.
    expect(addrEvents).toEqual([[1000, 1000]])
    expect(node.getaddrs).toBe(1)
    gossip!()
    await run(net, 1_000)
    // ~61 s after the grant: 1 token left + 0.1/s.
    const [received, accepted] = addrEvents[1]!
    expect(received).toBe(1000)
    expect(accepted).toBeGreaterThanOrEqual(6)
    expect(accepted).toBeLessThanOrEqual(8)
    expect(pool.connections()[0]!.addrsDropped).toBe(1000 - accepted)
    expect(node.getaddrs).toBe(1)
    await pool.stop()
  })

  it('answers getaddr from an inbound peer once, from its address book', async () => {
    const { net, options } = setup('answer')
    const listener = net.listen({ host: '11.200.0.1', port: PORT })
    const seeds = Array.from({ length: 100 }, (_, i) => ({ host: hostIn(i, 7), port: PORT }))
    const pool = new Pool({ ...options, listener, outboundFullRelay: 0, seeds }).start()
    const replies: number[] = []
    const client = Peer.connect(listener.address, {
      network: NET,
      clock: net.clock,
      random: new SeededRandom(1),
      connector: net.connector(hostIn(60, 1)),
      addrv2: false,
      setup: (p) => p.on('addr', (m) => replies.push(m.addresses.length)),
    })
    await run(net, 1_000)
    const peer = await client
    peer.send({ command: 'getaddr' })
    peer.send({ command: 'getaddr' })
    await run(net, 1_000)
    // Core's rule: 23 % of the book, one answer per connection.
    expect(replies).toEqual([23])
    await pool.stop()
  })
})

describe('Pool: saved state', () => {
  it('restores the address book and the bans', async () => {
    const run1 = setup('state')
    const nodes = Array.from({ length: 40 }, (_, i) => new Node(run1.net, { host: hostIn(i, 1), port: PORT }, {}, `s${i}`))
    for (const n of nodes) n.behaviour.known = nodes.map((m) => m.addr)
    for (const n of nodes) n.up()
    const pool = new Pool({ ...run1.options, seeds: [nodes[0]!.addr] }).start()
    await run(run1.net, 30_000)
    pool.ban(nodes[39]!.addr, 3600_000, 'test')
    const state = pool.saveState()
    const size = pool.machine.book.size
    expect(size).toBe(40)
    await pool.stop()

    // A fresh network with the same nodes; the new pool has no seeds at all.
    const run2 = setup('state-2')
    const nodes2 = nodes.map((n, i) => new Node(run2.net, n.addr, { known: n.behaviour.known }, `s2${i}`).up())
    let banned = 0
    nodes2[39]!.behaviour.setup = () => banned++
    const pool2 = new Pool({ ...run2.options, addressBook: state.addressBook, banList: state.banList }).start()
    expect(pool2.machine.book.size).toBe(size)
    expect(pool2.machine.isBanned(run2.net.now(), nodes[39]!.addr)).toBe(true)
    expect(pool2.saveState().banList).toEqual(state.banList)
    await run(run2.net, 30_000)
    expect(pool2.stats().peers.ready).toBe(8)
    expect(banned).toBe(0)
    await pool2.stop()
  })
})

describe('Pool: determinism', () => {
  async function scenario(seed: string): Promise<{ hash: string; log: string[] }> {
    const { net, options } = setup(seed)
    const chain = makeChain(20)
    const nodes = Array.from({ length: 50 }, (_, i) => new Node(net, { host: hostIn(i % 25, i), port: PORT }, { chain, misbehave: i === 7 ? 5 : 0 }, `${seed}:${i}`))
    for (const n of nodes) n.behaviour.known = nodes.map((m) => m.addr)
    for (const n of nodes) n.up()
    const pool = new Pool({ ...options, seeds: nodes.slice(0, 3).map((n) => n.addr) })
    const log: string[] = []
    pool.on('peer-added', (_p, i) => log.push(`${net.now()} + ${i.addr.host}`))
    pool.on('peer-removed', (i, r) => log.push(`${net.now()} - ${i.addr.host} ${r.kind}`))
    pool.on('ban', (h) => log.push(`${net.now()} ban ${h}`))
    pool.start()
    await run(net, 20_000)
    for (let i = 0; i < 10; i++) nodes[(i * 7) % 50]!.down()
    const reqs = chain.hashes.map((hash) => pool.getData([{ type: InvType.MSG_BLOCK, hash }]))
    await run(net, 60_000)
    await Promise.all(reqs)
    await pool.stop()
    return { hash: net.traceHash(), log }
  }

  it('the same seed gives the same trace; another seed another', async () => {
    const a = await scenario('det-1')
    const b = await scenario('det-1')
    const c = await scenario('det-2')
    expect(a.log.length).toBeGreaterThan(8)
    expect(b.hash).toBe(a.hash)
    expect(b.log).toEqual(a.log)
    expect(c.hash).not.toBe(a.hash)
  })
})

describe('Pool: connect from a DNS seed', () => {
  it('asks the resolver when the book is empty and dials what it returns', async () => {
    const { net, options } = setup('dns')
    const nodes = [1, 2, 3].map((g) => new Node(net, { host: hostIn(g, 1), port: PORT }, {}, `d${g}`).up())
    const asked: string[] = []
    const pool = new Pool({
      ...options,
      dnsSeeds: ['seed.example'],
      resolve: async (host) => {
        asked.push(host)
        return nodes.map((n) => n.addr.host)
      },
    }).start()
    await new Promise((r) => setTimeout(r, 0)) // the resolver's promise settles outside virtual time
    await run(net, 5_000)
    expect(asked).toEqual(['seed.example'])
    expect(pool.stats().peers.ready).toBe(3)
    expect(pool.connections().every((c) => c.addr.port === 8333 && c.addr.host !== POOL_HOST)).toBe(true)
    await pool.stop()
  })
})

describe('Pool: inbound eviction', () => {
  /**
   * A pool with 22 inbound slots, full: 10 honest clients on fast links, one
   * per /16, then 12 slow ones from one /16 (the attacker). Every client
   * serves `tx` and `blocks` on getdata; `setup` adds more to each.
   */
  async function fullPool(seed: string, serve: { tx: Transaction; blocks: Block[] }, extra: Partial<PoolOptions> = {}) {
    const { net, options } = setup(seed)
    const listener = net.listen({ host: '11.200.0.1', port: PORT })
    const pool = new Pool({ ...options, listener, outboundFullRelay: 0, maxInbound: 22, maxPeers: 30, ...extra })
    const violations = watchCaps(pool)
    const evicted: [PoolPeerInfo, string][] = []
    pool.on('evicted', (info, by) => evicted.push([info, by.host]))
    const removed: [string, DisconnectReason][] = []
    pool.on('peer-removed', (info, reason) => removed.push([info.addr.host, reason]))
    pool.start()
    const closedClients = new Set<string>()
    const clients = new Map<string, Peer>()
    const connect = async (host: string, latency: number): Promise<void> => {
      net.setLink(host, '11.200.0.1', { latency })
      void Peer.connect(listener.address, {
        network: NET,
        clock: net.clock,
        random: new SeededRandom(host),
        connector: net.connector(host),
        setup: (peer) => {
          peer.on('close', () => closedClients.add(host))
          peer.on('getdata', (m) => {
            for (const item of m.items) {
              if (item.type === InvType.MSG_TX) peer.send({ command: 'tx', tx: serve.tx })
              else peer.send({ command: 'block', block: serve.blocks.find((b) => toHex(blockHash(b.header)) === toHex(item.hash))! })
            }
          })
        },
      }).then((p) => void clients.set(host, p))
      await run(net, 300)
    }
    const honest = Array.from({ length: 10 }, (_, i) => hostIn(40 + i, 1))
    const attackers = Array.from({ length: 12 }, (_, i) => hostIn(100, 1 + i))
    for (const h of honest) await connect(h, 2)
    for (const h of attackers) await connect(h, 50)
    await run(net, 2_000)
    expect(pool.stats().peers).toMatchObject({ inbound: 22, ready: 22 })
    const idOf = (host: string): number => pool.connections().find((c) => c.addr.host === host)!.id
    const facts = () => new Map(pool.machine.evictionCandidates().map((c) => [c.id, c]))
    return { net, pool, violations, evicted, removed, closedClients, clients, connect, honest, attackers, idOf, facts }
  }

  it('a full pool evicts for a newcomer from facts it gathered itself and the application reported: ping, tx and block relay', async () => {
    const chain = makeChain(1)
    const tx: Transaction = chain.blocks.get(toHex(chain.hashes[0]!))!.txs[0]!
    // A block that passes proof of work and is recent (virtual time 0 is Unix time UNIX0).
    const block = mineBlock(1, UNIX0 / 1000)
    const blockId = blockHash(block.header)
    const f = await fullPool('evict', { tx, blocks: [block] })
    const { net, pool, attackers, honest, idOf } = f

    // The youngest attacker brings a tx first: the pool credits nothing on its own...
    const txItem = [{ type: InvType.MSG_TX, hash: txid(tx) }]
    const [got] = await Promise.all([pool.peerById(idOf(attackers[11]!))!.getData(txItem), run(net, 500)])
    expect(f.facts().get(idOf(attackers[11]!))!.lastTxAt).toBe(0)
    // ...until the application, having checked the transaction, says it accepted it.
    const delivered = got.found[0]!.message as Message & { command: 'tx' }
    expect(toHex(txid(delivered.tx))).toBe(toHex(txid(tx)))
    const creditAt = net.now()
    expect(pool.creditRelay(pool.peerById(idOf(attackers[11]!))!, 'tx')).toBe(true)
    // A peer may be named by its label (as MempoolMonitor's receivedFrom); nobody by an unknown one.
    expect(pool.creditRelay(`${attackers[0]!}:1`, 'tx')).toBe(false)
    // The next one brings the block (valid proof of work): the pool credits it; the third brings the same block again.
    await Promise.all([pool.peerById(idOf(attackers[10]!))!.getData([{ type: InvType.MSG_BLOCK, hash: blockId }]), run(net, 500)])
    await Promise.all([pool.peerById(idOf(attackers[9]!))!.getData([{ type: InvType.MSG_BLOCK, hash: blockId }]), run(net, 500)])
    const facts = f.facts()
    expect(facts.get(idOf(attackers[11]!))).toMatchObject({ lastTxAt: creditAt, lastBlockAt: 0 })
    expect(facts.get(idOf(attackers[10]!))!.lastBlockAt).toBeGreaterThan(0)
    expect(facts.get(idOf(attackers[9]!))).toMatchObject({ lastTxAt: 0, lastBlockAt: 0 }) // not novel: no credit
    // Round trips from the pool's pings: 2 x 2 ms for the honest, 2 x 50 ms for the others.
    expect(honest.map((h) => facts.get(idOf(h))!.minPingMs)).toEqual(honest.map(() => 4))
    expect(attackers.map((h) => facts.get(idOf(h))!.minPingMs)).toEqual(attackers.map(() => 100))

    // A newcomer: the biggest group loses its youngest member that nothing protects.
    const victimId = idOf(attackers[9]!)
    const newcomer = hostIn(150, 1)
    await f.connect(newcomer, 20)
    await run(net, 1_000)
    expect(f.evicted.map(([info, by]) => [info.id, info.addr.host, by])).toEqual([[victimId, attackers[9], newcomer]])
    expect(f.removed).toEqual([[attackers[9], { kind: 'evicted' }]])
    expect(f.closedClients).toEqual(new Set([attackers[9]]))
    expect(pool.stats().peers).toMatchObject({ inbound: 22, ready: 22 })
    expect(pool.connections().some((c) => c.addr.host === newcomer)).toBe(true)
    expect(f.violations).toEqual([])
    await pool.stop()
  })

  it('an attacker relaying garbage transactions and compact blocks without valid proof of work gains no protection', async () => {
    const now = UNIX0 / 1000
    const filler = mineBlock(0, now)
    const f = await fullPool('evict-garbage', { tx: filler.txs[0]!, blocks: [] })
    const { net, pool, attackers, idOf } = f
    const cmpct = (block: Block): KnownMessage => ({ command: 'cmpctblock', header: block.header, nonce: 1n, shortIds: [], prefilledTxs: [{ index: 0, tx: block.txs[0]! }] })
    const send = (host: string, m: KnownMessage): void => void f.clients.get(host)!.send(m)
    // Fresh transactions nobody asked for, and headers that claim work they lack:
    for (let i = 0; i < 3; i++) send(attackers[11]!, { command: 'tx', tx: mineBlock(100 + i, now).txs[0]! })
    send(attackers[11]!, cmpct(mineBlock(11, now, { valid: false }))) // hash above its target
    send(attackers[10]!, cmpct(mineBlock(10, now, { bits: 0x2100ffff, valid: false }))) // target easier than the network allows
    send(attackers[9]!, cmpct(mineBlock(9, now - 24 * 3600))) // real work, but an old header replayed
    // One attacker does relay a new block with valid work: that is credited.
    send(attackers[8]!, cmpct(mineBlock(8, now)))
    await run(net, 500)
    const facts = f.facts()
    for (const h of attackers.slice(9)) expect(facts.get(idOf(h))).toMatchObject({ lastTxAt: 0, lastBlockAt: 0 })
    expect(facts.get(idOf(attackers[8]!))!.lastBlockAt).toBeGreaterThan(0)
    expect(pool.stats().peers).toMatchObject({ inbound: 22, ready: 22 }) // nothing there is worth a ban
    const decision = explainEviction(pool.machine.evictionCandidates())
    expect(decision.protected.get(idOf(attackers[8]!))).toBe('block')
    expect(decision.evict).toBe(idOf(attackers[11]!)) // the youngest: no credit protects it

    // Newcomers push out the garbage senders, youngest first; the one with real work stays.
    const newcomers = [150, 151, 152].map((g) => hostIn(g, 1))
    for (const n of newcomers) {
      await f.connect(n, 20)
      await run(net, 1_000)
    }
    expect(f.evicted.map(([info, by]) => [info.addr.host, by])).toEqual([
      [attackers[11], newcomers[0]],
      [attackers[10], newcomers[1]],
      [attackers[9], newcomers[2]],
    ])
    expect(f.clients.get(attackers[8]!)!.state).toBe('ready')
    expect(f.violations).toEqual([])
    await pool.stop()
  })

  it('credits a block by itself only with a powLimit, with autoBlockCredit on, and a header time inside the window', async () => {
    const now = UNIX0 / 1000
    const filler = mineBlock(0, now)
    const cmpct = (block: Block): KnownMessage => ({ command: 'cmpctblock', header: block.header, nonce: 1n, shortIds: [], prefilledTxs: [{ index: 0, tx: block.txs[0]! }] })
    const configs: [string, Partial<PoolOptions>, boolean][] = [
      ['default', {}, true],
      ['no powLimit', { network: { ...NET, powLimit: undefined } }, false],
      ['autoBlockCredit off', { autoBlockCredit: false }, false],
    ]
    for (const [name, extra, credits] of configs) {
      const f = await fullPool(`evict-config-${name}`, { tx: filler.txs[0]!, blocks: [] }, extra)
      const [a, b, c] = [f.attackers[11]!, f.attackers[10]!, f.attackers[9]!]
      const t = Math.floor(now + f.net.now() / 1000) // the pool's Unix time, s
      f.clients.get(a)!.send(cmpct(mineBlock(1, t))) // fresh
      f.clients.get(b)!.send(cmpct(mineBlock(2, t + RELAY_BLOCK_TIME_WINDOW_S - 60))) // ahead, inside the window
      f.clients.get(c)!.send(cmpct(mineBlock(3, t + RELAY_BLOCK_TIME_WINDOW_S + 60))) // too far ahead
      await run(f.net, 500)
      const facts = f.facts()
      expect([a, b, c].map((h) => facts.get(f.idOf(h))!.lastBlockAt > 0), name).toEqual([credits, credits, false])
      // The application's word counts whatever the configuration.
      expect(f.pool.creditRelay(f.pool.peerById(f.idOf(c))!, 'block')).toBe(true)
      expect(f.facts().get(f.idOf(c))!.lastBlockAt).toBe(f.net.now())
      await f.pool.stop()
    }
  })
})
