import { describe, expect, it } from 'vitest'
import { crawl, crawlNode, SeededRandom } from '@bitp2p/session'
import type { CrawlItem } from '@bitp2p/session/core'
import { CRAWL_MAX_LEARNED_PER_NODE } from '@bitp2p/session/limits'
import { ipFromString } from '@bitp2p/wire'
import { NET, Node, PORT, UNIX0, hostIn, run, setup } from './sim.js'

describe('crawl', () => {
  it('discovers every reachable node of a 200-node graph, each knowing 10 others, within its concurrency', async () => {
    const { net, options } = setup('crawl')
    const r = new SeededRandom('crawl-graph')
    const nodes: Node[] = []
    let live = 0
    let maxLive = 0
    for (let i = 0; i < 200; i++) {
      nodes.push(
        new Node(net, { host: hostIn(i, 1), port: PORT }, {
          answerSize: 10,
          setup: (p) => {
            maxLive = Math.max(maxLive, ++live)
            p.once('close', () => live--)
          },
        }, `c${i}`),
      )
    }
    for (const n of nodes) n.behaviour.known = Array.from({ length: 10 }, () => nodes[r.int(200)]!.addr)
    // 15 nodes are offline: discovered (someone knows them) but unreachable.
    const offline = new Set(Array.from({ length: 15 }, () => r.int(200)))
    nodes.forEach((n, i) => !offline.has(i) && n.up())
    const seeds = [nodes[0]!.addr, nodes[1]!.addr].filter((_, i) => !offline.has(i))

    // What a crawl must find: breadth-first over online nodes' known lists.
    const reachable = new Set<string>()
    const discovered = new Set<string>(seeds.map((s) => s.host))
    const queue = [...seeds.map((s) => s.host)]
    const byHost = new Map(nodes.map((n, i) => [n.addr.host, { n, i }]))
    while (queue.length > 0) {
      const h = queue.shift()!
      const { n, i } = byHost.get(h)!
      if (offline.has(i)) continue
      reachable.add(h)
      for (const k of n.behaviour.known!) if (!discovered.has(k.host)) discovered.add(k.host), queue.push(k.host)
    }

    const items: CrawlItem[] = []
    const done = (async () => {
      for await (const item of crawl({ seeds, concurrency: 8, connector: options.connector, network: NET, clock: net.clock, random: new SeededRandom(9), peer: { unixTimeOffsetMs: UNIX0 }, addrWaitMs: 2_000 })) items.push(item)
    })()
    await run(net, 600_000)
    await done
    const ok = items.filter((i) => i.type === 'node')
    const failed = items.filter((i) => i.type === 'failure')
    expect(new Set(ok.map((i) => i.address.host))).toEqual(reachable)
    expect(ok).toHaveLength(reachable.size)
    expect(failed.map((i) => i.address.host).sort()).toEqual([...discovered].filter((h) => !reachable.has(h)).sort())
    expect(reachable.size).toBeGreaterThan(150)
    expect(maxLive).toBeLessThanOrEqual(8)
    expect(maxLive).toBeGreaterThan(1)
    for (const i of ok) {
      if (i.type !== 'node') continue
      expect(i.userAgent).toBe('/node:1/')
      expect(i.latencyMs).toBe(40) // the connect round trip at 20 ms one way
      expect(i.addrsLearned).toBe(10)
    }
  })

  it('stops at maxNodes and when the consumer breaks out', async () => {
    const { net, options } = setup('crawl-stop')
    const nodes = Array.from({ length: 30 }, (_, i) => new Node(net, { host: hostIn(i, 1), port: PORT }, {}, `s${i}`))
    for (const n of nodes) n.behaviour.known = nodes.map((m) => m.addr)
    for (const n of nodes) n.up()
    const base = { connector: options.connector, network: NET, clock: net.clock, random: new SeededRandom(3), addrWaitMs: 1_000 }
    const items: CrawlItem[] = []
    const a = (async () => {
      for await (const item of crawl({ ...base, seeds: [nodes[0]!.addr], maxNodes: 12, concurrency: 4 })) items.push(item)
    })()
    await run(net, 120_000)
    await a
    expect(items).toHaveLength(12)
    let taken = 0
    const b = (async () => {
      for await (const _ of crawl({ ...base, seeds: [nodes[0]!.addr], concurrency: 4 })) if (++taken === 3) break
    })()
    await run(net, 120_000)
    await b
    expect(taken).toBe(3)
    await run(net, 10_000)
    // Nothing left open: every node's connections were closed.
    expect(nodes.every((n) => n.peers.size === 0)).toBe(true)
  })

  it('crawlNode visits one node and returns the addresses it told, at most CRAWL_MAX_LEARNED_PER_NODE of a flood', async () => {
    const { net, options } = setup('crawl-node')
    const told = Array.from({ length: 5 }, (_, k) =>
      Array.from({ length: 1_000 }, (_, i) => ({ time: Math.floor(UNIX0 / 1000), services: 1n, host: ipFromString(`10.${k}.${i >> 8}.${i & 255}`), port: 8333 })),
    )
    // On getaddr it sends five full addr messages at once (5,000 addresses).
    const flooder = new Node(net, { host: hostIn(1, 1), port: PORT }, { setup: (p) => p.on('getaddr', () => told.forEach((addresses) => p.send({ command: 'addr', addresses }))) }, 'flood')
    const honest = new Node(net, { host: hostIn(2, 1), port: PORT }, { answerSize: 3 }, 'honest')
    honest.behaviour.known = [flooder.addr, { host: '10.9.9.9', port: 8333 }, { host: '10.9.9.8', port: 8333 }]
    flooder.up()
    honest.up()
    const base = { connector: options.connector, network: NET, clock: net.clock, random: new SeededRandom(5), peer: { unixTimeOffsetMs: UNIX0 }, addrWaitMs: 1_000 }
    const a = crawlNode(flooder.addr, base)
    const b = crawlNode(honest.addr, base)
    await run(net, 30_000)
    const [flood, fine] = await Promise.all([a, b])
    expect(flood.type).toBe('node')
    expect(flood.learned).toHaveLength(CRAWL_MAX_LEARNED_PER_NODE)
    expect(flood.learned[0]).toEqual({ host: '10.0.0.0', port: 8333 })
    expect(fine.type).toBe('node')
    expect(new Set(fine.learned.map((x) => x.host))).toEqual(new Set([flooder.addr.host, '10.9.9.9', '10.9.9.8']))
    // An unreachable node is a failure with nothing learned.
    const gone = crawlNode({ host: hostIn(3, 1), port: PORT }, base)
    await run(net, 30_000)
    const g = await gone
    expect(g.type).toBe('failure')
    expect(g.learned).toEqual([])
  })
})
