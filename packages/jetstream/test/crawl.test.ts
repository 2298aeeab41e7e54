// The distributed crawl: two crawlers (`bitp2p crawl --nats`, each a child
// process) share one frontier in nats-server and visit a network of real
// TCP nodes on loopback addresses (127.0.0.x: session Peers answering
// getaddr with the addresses they know). Every node is visited exactly once
// whichever crawler learns it, unreachable ones are recorded as failures,
// and both crawlers stop when the frontier is exhausted.
/// <reference types="node" />
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { createServer } from 'node:net'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { Peer, RealtimeClock } from '@bitp2p/session'
import { TcpListener } from '@bitp2p/transport-tcp'
import { ipFromString, regtest } from '@bitp2p/wire'
import { needs } from '../../../test/harness/needs.js'
import { natsBudget, startNats, type NatsCluster } from '../../../test/harness/nats.js'
import { scaled } from '../../../test/harness/timing.js'
import { addressKey, CrawlFrontier, jetStreamNames, type CrawlRecord } from '../src/index.js'
import { killAll, runCli } from './cli-child.js'
import { until } from './nats-util.js'

/** Nodes of the test network. */
const NODES = 12
/** Addresses the nodes know that nobody listens on. */
const OFFLINE = ['127.0.0.40', '127.0.0.41']
const host = (i: number) => `127.0.0.${10 + i}`

/** A free port on 127.0.0.10 (the other hosts are other addresses: the same port is free there too, or listen() says so). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, host(0), () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

needs('nats-server').describe('bitp2p crawl --nats: two crawlers, one frontier', () => {
  let nats: NatsCluster
  let nc: NatsConnection
  let port: number
  const listeners: TcpListener[] = []
  const handshakes = new Map<string, number>()
  beforeAll(async () => {
    nats = await startNats()
    nc = await connect({ servers: [...nats.urls] })
    port = await freePort()
    const clock = new RealtimeClock()
    for (let i = 0; i < NODES; i++) {
      // Each node knows two others and one offline address.
      const known = [host((i + 1) % NODES), host((i + 5) % NODES), OFFLINE[i % 2]!]
      const l = await TcpListener.listen({ host: host(i), port })
      listeners.push(l)
      l.onConnection((t) => {
        void Peer.accept(t, {
          network: regtest,
          clock,
          userAgent: `/node${i}:1/`,
          startHeight: i,
          setup: (p) =>
            p.on('message', (m) => {
              if (m.command !== 'getaddr') return
              const time = Math.floor(Date.now() / 1000) - 600
              p.send({ command: 'addr', addresses: known.map((h) => ({ time, services: 1n, host: ipFromString(h), port })) })
            }),
        }).then(
          () => handshakes.set(host(i), (handshakes.get(host(i)) ?? 0) + 1),
          () => undefined,
        )
      })
    }
  }, natsBudget(1) + scaled(10_000))
  afterEach(killAll)
  afterAll(async () => {
    await Promise.all(listeners.map((l) => l.close()))
    await nc?.close()
    await nats?.stop()
  })

  needs('nats-server').it('every reachable node is visited exactly once between the two crawlers; unreachable ones are failures; both stop when the frontier is exhausted', { timeout: scaled(60_000) }, async () => {
    const ns = 'cr'
    const args = (name: string) => ['crawl', '--nats', nats.urls[0]!, '--namespace', ns, '--network', 'regtest', '--seed', `${host(0)}:${port}`, '--concurrency', '2', '--addr-wait', '2000', '--timeout', '5000', '--name', name, '--json']
    const crawlers = [runCli(args('cA')), runCli(args('cB'))]
    await until(() => crawlers.every((c) => c.closed), () => `both crawlers to stop\n${crawlers.map((c) => c.stderr()).join('\n')}`, scaled(45_000))
    expect(await Promise.all(crawlers.map((c) => c.exited))).toEqual([0, 0])
    const docs = crawlers.map((c) => JSON.parse(c.stdout()))

    // Each reachable node saw one handshake: no address was visited twice.
    expect([...handshakes.keys()].sort()).toEqual(Array.from({ length: NODES }, (_, i) => host(i)).sort())
    expect([...handshakes.values()].every((n) => n === 1)).toBe(true)

    const records = await new CrawlFrontier({ nc, names: jetStreamNames(ns) }).records()
    const byAddress = new Map<string, CrawlRecord>([...records.values()].map((r) => [r.address, r]))
    expect(records.size).toBe(NODES + OFFLINE.length)
    for (let i = 0; i < NODES; i++) expect(byAddress.get(`${host(i)}:${port}`)).toMatchObject({ state: 'node', userAgent: `/node${i}:1/`, startHeight: i, addrsLearned: 3 })
    for (const h of OFFLINE) expect(byAddress.get(`${h}:${port}`)).toMatchObject({ state: 'failure' })
    expect(records.has(addressKey({ host: host(0), port })!)).toBe(true)

    // Both reports cover the whole shared crawl; the visits split between them add up.
    for (const d of docs) expect(d).toMatchObject({ namespace: ns, reachable: NODES, failed: OFFLINE.length, queued: 0 })
    expect(docs[0].visitedHere + docs[1].visitedHere).toBe(NODES + OFFLINE.length)
    expect(new Set([...records.values()].map((r) => (r.state === 'queued' ? '' : r.visitedBy)))).toEqual(new Set(docs.filter((d) => d.visitedHere > 0).map((d) => d.worker)))
  })
})
