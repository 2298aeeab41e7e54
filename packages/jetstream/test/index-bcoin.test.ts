// Distributed indexing end to end, on real parts: a bcoin regtest chain of
// 300+ blocks (some with wallet transactions), one nats-server (loopback,
// JetStream, temp store), the CLI's producer (`bitp2p index`) and workers
// (`bitp2p index-worker`, each a child process) running the example
// block-stats handler plus a raw log of every handler run.
//
// Delivery is at least once; the sink is idempotent. The raw log shows
// every handler run (so it shows a redelivery), the block-stats bucket the
// effect (each part merged once). Each test checks both against the chain.
/// <reference types="node" />
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { DiscardPolicy, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream'
import type { BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { natsBudget, startNats, type NatsCluster } from '../../../test/harness/nats.js'
import { forWork, scaled } from '../../../test/harness/timing.js'
import { BlockProducer, DEAD_HEADERS, decodeMempoolTx, jetStreamNames, MempoolPublisher } from '../src/index.js'
import { DEFAULT_DUPLICATE_WINDOW_MS, NS_PER_MS } from '../src/limits.js'
import { HeaderSync, MempoolMonitor, Peer, RealtimeClock, singlePeer } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { hashToHex, regtest, txid } from '@bitp2p/wire'
import { buildChain, chainBudget, CHAIN_HEIGHT, MATURE_BLOCKS, type ChainTruth } from './chain.js'
import { killAll, runCli, type CliChild } from './cli-child.js'
import { readAll, streamMessages, TEST_STREAMS, until } from './nats-util.js'
import { byPart, consumerIdle, expectChainAtSink, readLog, readStats, SINK_HANDLER, THROWING_HANDLER } from './sink.js'

/** Bytes per part: small, so blocks have several parts and transactions cross chunks. */
const CHUNK = 200
/** Budget of one indexing run of the whole chain (3 workers, a few ms per part). */
const RUN_BUDGET = () => forWork(CHAIN_HEIGHT, 150, 20_000)

needs('bcoin', 'nats-server').describe('bitp2p index and index-worker against bcoin and nats-server', () => {
  let node: BcoinNode
  let truth: ChainTruth
  let nats: NatsCluster
  let nc: NatsConnection
  beforeAll(async () => {
    ;[{ node, truth }, nats] = await Promise.all([buildChain(), startNats()])
    nc = await connect({ servers: [...nats.urls] })
  }, chainBudget() + natsBudget(1))
  afterEach(killAll)
  afterAll(async () => {
    await nc?.close()
    await Promise.all([node?.stop(), nats?.stop()])
  })

  const producer = (ns: string, extra: string[] = []) =>
    runCli(['index', '--peer', `127.0.0.1:${node.p2p.port}`, '--network', 'regtest', '--transport', 'v1', '--nats', nats.urls[0]!, '--namespace', ns, '--chunk-size', String(CHUNK), '--json', ...extra])
  const worker = (ns: string, name: string, extra: string[] = [], env: Record<string, string> = {}) =>
    runCli(['index-worker', '--nats', nats.urls[0]!, '--namespace', ns, '--network', 'regtest', '--handler', SINK_HANDLER, '--name', name, '--json', ...extra], env)
  const doneEvent = (p: CliChild) => p.events.find((e) => e.event === 'done')
  const waitDone = async (p: CliChild, what: string) => {
    await until(() => doneEvent(p) !== undefined || p.closed, () => `${what} to finish\n${p.stderr()}`, RUN_BUDGET())
    expect(doneEvent(p), p.stderr()).toBeDefined()
    return doneEvent(p)!
  }

  needs('bcoin', 'nats-server').it('3 workers process every transaction of every block exactly once; the producer waits at its backlog until they make room', { timeout: RUN_BUDGET() * 2 }, async () => {
    const ns = 'ix'
    // A backlog of 40 parts: the producer reaches it long before the chain is out, with no worker yet.
    const p = producer(ns, ['--max-backlog', '40'])
    const acked = () => p.events.filter((e) => e.event === 'part').length
    await until(async () => (await streamMessages(nc, `${ns}-blocks`).catch(() => 0)) === 40 && acked() === 40, 'the backlog to fill')
    // Held back: the producer is not done, and the stream holds no more than its backlog.
    expect(doneEvent(p)).toBeUndefined()
    expect(await streamMessages(nc, `${ns}-blocks`)).toBe(40)
    const published = p.events.filter((e) => e.event === 'block').length
    expect(published).toBeLessThan(truth.blocks.length)

    const workers = [0, 1, 2].map((i) => worker(ns, `w${i}`))
    const done = await waitDone(p, 'the producer')
    await until(() => consumerIdle(nc, ns), 'the workers to drain the stream', RUN_BUDGET())
    expect(done).toMatchObject({ from: 0, to: truth.height, blocks: truth.blocks.length, txs: truth.txids.length, duplicates: 0 })
    expect(done.backlogWaits).toBeGreaterThan(0)
    expect(done.maxInFlight).toBeLessThanOrEqual(40)

    const log = await readLog(nc, ns)
    // No fault: every part handled once, on its first delivery, by all three workers between them.
    expect(log.length).toBe(done.parts)
    expect(byPart(log).size).toBe(log.length)
    expect(log.every((e) => e.deliveryCount === 1)).toBe(true)
    expect(new Set(log.map((e) => e.worker))).toEqual(new Set(['w0', 'w1', 'w2']))
    expectChainAtSink(truth, log, await readStats(nc, ns, truth.blocks.map((b) => b.hash)))
    expect(await streamMessages(nc, `${ns}-dead`)).toBe(0)
    for (const w of workers) expect(await w.interrupt()).toBe(130)
  })

  needs('bcoin', 'nats-server').it('kill -9 of a worker in the middle of a part: the part is delivered again to another worker; nothing lost, nothing doubled at the sink', { timeout: RUN_BUDGET() * 2 }, async () => {
    const ns = 'kx'
    // w0 hangs in its 20th part; a short ack wait makes the redelivery quick once it is dead.
    const w0 = worker(ns, 'w0', ['--ack-wait', '2000'], { SINK_HANG_AFTER: '20' })
    const others = [worker(ns, 'w1', ['--ack-wait', '2000']), worker(ns, 'w2', ['--ack-wait', '2000'])]
    const p = producer(ns)
    let hung: string | undefined
    await until(async () => {
      hung = (await readLog(nc, ns)).find((e) => e.hang)?.msgId
      return hung !== undefined
    }, 'w0 to hang in a part')
    await w0.kill()
    await waitDone(p, 'the producer')
    await until(() => consumerIdle(nc, ns), 'the workers to drain the stream', RUN_BUDGET())

    const log = await readLog(nc, ns)
    const runs = log.filter((e) => e.msgId === hung)
    // Its first run died with w0 (the merge into the sink had happened); a live worker ran it again.
    expect(runs.map((e) => [e.worker, e.deliveryCount])).toEqual([['w0', 1], [expect.stringMatching(/^w[12]$/), expect.any(Number)]])
    expect(runs[1]!.deliveryCount).toBeGreaterThanOrEqual(2)
    // Only that part ran twice.
    const twice = [...byPart(log).keys()].filter((id) => log.filter((e) => e.msgId === id).length > 1)
    expect(twice).toEqual([hung])
    // The sink counts it once.
    expectChainAtSink(truth, log, await readStats(nc, ns, truth.blocks.map((b) => b.hash)))
    for (const w of others) await w.interrupt()
  })

  needs('bcoin', 'nats-server').it('kill -9 of the producer in the middle of a block, then a restart: it resumes after its progress and the stream stores nothing twice', { timeout: RUN_BUDGET() * 3 }, async () => {
    const ns = 'px'
    const names = jetStreamNames(ns)
    const jsm = await jetstreamManager(nc)
    // Where to stop it: block h, the first after the maturity blocks with at least 3 parts. A stream
    // that takes exactly the parts before h and h's part 0 holds the producer there, in the middle of h.
    const partsOf = (height: number) => Math.ceil(truth.blocks[height]!.size / CHUNK)
    const h = truth.blocks.findIndex((_, height) => height > MATURE_BLOCKS && partsOf(height) >= 3)
    expect(h).toBeGreaterThan(0)
    let before = 0
    for (let height = 0; height < h; height++) before += partsOf(height)
    await jsm.streams.add({ name: names.blockStream, subjects: [names.blockSubject], retention: RetentionPolicy.Workqueue, discard: DiscardPolicy.New, max_msgs: before + 1, duplicate_window: DEFAULT_DUPLICATE_WINDOW_MS * NS_PER_MS })
    const first = producer(ns)
    await until(async () => (await streamMessages(nc, names.blockStream)) === before + 1 && first.events.some((e) => e.event === 'part' && e.height === h), () => `the first producer held in block ${h}\n${first.stderr()}`)
    await first.kill()
    expect(first.events.filter((e) => e.event === 'block').map((e) => e.height)).toEqual(Array.from({ length: h }, (_, i) => i))
    expect(first.events.filter((e) => e.event === 'part' && e.height === h).map((e) => e.partIndex)).toEqual([0])

    // Room again, workers, and the same command once more.
    await jsm.streams.update(names.blockStream, { max_msgs: -1 })
    const workers = [0, 1, 2].map((i) => worker(ns, `w${i}`))
    const second = producer(ns)
    const done = await waitDone(second, 'the restarted producer')
    const resume = second.events.find((e) => e.event === 'resume')
    expect(resume, second.stderr()).toBeDefined()
    // It resumes after the last height whose progress was written: at most h - 1 (that write is not awaited per block).
    expect(resume!.height).toBeLessThanOrEqual(h - 1)
    expect(resume!.from).toBe(resume!.height + 1)
    expect(done).toMatchObject({ resumedFrom: resume!.height, from: resume!.height + 1, to: truth.height, blocks: truth.height - resume!.height })
    // What it republished that the stream held was answered duplicate: the blocks after the progress up to h, and h's part 0.
    let republished = 1
    for (let height = resume!.height + 1; height < h; height++) republished += partsOf(height)
    expect(done.duplicates).toBe(republished)
    await until(() => consumerIdle(nc, ns), 'the workers to drain the stream', RUN_BUDGET())

    const log = await readLog(nc, ns)
    expect(byPart(log).size).toBe(log.length) // no part handled twice
    expectChainAtSink(truth, log, await readStats(nc, ns, truth.blocks.map((b) => b.hash)))
    for (const w of workers) await w.interrupt()
  })

  needs('bcoin', 'nats-server').it('a handler that always throws: each part is dead-lettered after --max-deliveries, with its subject, reason and count', { timeout: scaled(60_000) }, async () => {
    const ns = 'dx'
    const w = runCli(['index-worker', '--nats', nats.urls[0]!, '--namespace', ns, '--handler', THROWING_HANDLER, '--max-deliveries', '2', '--name', 'thrower', '--json'])
    const p = producer(ns, ['--from', '1', '--to', '3'])
    const done = await waitDone(p, 'the producer')
    await until(async () => (await streamMessages(nc, `${ns}-dead`)) === done.parts, () => `${done.parts} dead letters`)
    await until(() => consumerIdle(nc, ns), 'nothing left in the work queue')
    const dead = await readAll(nc, `${ns}-dead`)
    for (const d of dead) {
      expect(d.subject).toBe(`${ns}.dead.blocks.part`)
      expect(d.headers?.get(DEAD_HEADERS.subject)).toBe(`${ns}.blocks.part`)
      expect(d.headers?.get(DEAD_HEADERS.reason)).toBe('handler-failed')
      expect(d.headers?.get(DEAD_HEADERS.deliveries)).toBe('2')
      expect(d.headers?.get(DEAD_HEADERS.error)).toMatch(/^cannot handle part \d+$/)
    }
    expect(w.events.filter((e) => e.event === 'retry')).toHaveLength(done.parts)
    expect(w.events.filter((e) => e.event === 'dead-letter')).toHaveLength(done.parts)
    await w.interrupt()
  })

  needs('bcoin', 'nats-server').it('MempoolPublisher: the transactions bcoin relays land in the mempool stream once each, with their ids', { timeout: scaled(60_000) }, async () => {
    const ns = 'mx'
    const clock = new RealtimeClock()
    const peer = await Peer.connect(node.p2p, { connector: new TcpConnector(), network: regtest, clock, transport: 'v1' })
    const monitor = new MempoolMonitor({ source: singlePeer(peer), clock }).start()
    const stop = new AbortController()
    const publisher = new MempoolPublisher({ nc, names: jetStreamNames(ns), streams: TEST_STREAMS })
    const running = publisher.run(monitor, stop.signal)
    const sent: string[] = []
    for (let i = 0; i < 3; i++) sent.push(await node.walletRpc('sendtoaddress', [node.info.mineAddress, 0.5 + i]))
    await until(async () => (await streamMessages(nc, `${ns}-mempool`).catch(() => 0)) === 3, 'three transactions in the mempool stream')
    stop.abort()
    const summary = await running
    monitor.stop()
    peer.close('done')
    expect(summary).toMatchObject({ published: 3, dropped: 0 })
    const got = (await readAll(nc, `${ns}-mempool`)).map((m) => ({ ...decodeMempoolTx(m.data, m.headers), msgId: m.headers?.get('Nats-Msg-Id') }))
    expect(got.map((t) => t.txid).sort()).toEqual([...sent].sort())
    for (const t of got) {
      expect(hashToHex(txid(t.tx))).toBe(t.txid)
      expect(t.msgId).toBe(t.wtxid)
      expect(t.receivedFrom).toBe(`127.0.0.1:${node.p2p.port}`)
    }
  })

  needs('bcoin', 'nats-server').it('BlockProducer.run with an aborted signal rejects with "stopped" and publishes nothing; held at its backlog, an abort stops it too', { timeout: scaled(60_000) }, async () => {
    const ns = 'sx'
    const clock = new RealtimeClock()
    const peer = await Peer.connect(node.p2p, { connector: new TcpConnector(), network: regtest, clock, transport: 'v1', streamBlocks: true })
    try {
      const sync = new HeaderSync({ source: singlePeer(peer), network: regtest, clock, unixTimeOffsetMs: performance.timeOrigin })
      await sync.start()
      await sync.synced()
      sync.stop()
      const producer = new BlockProducer({ nc, names: jetStreamNames(ns), source: singlePeer(peer), network: regtest, tree: sync.tree, maxBacklog: 5, streams: TEST_STREAMS })
      const early = new AbortController()
      early.abort('test')
      await expect(producer.run({ from: 0, to: truth.height }, early.signal)).rejects.toMatchObject({ name: 'JetStreamAdapterError', code: 'stopped' })
      expect(await streamMessages(nc, `${ns}-blocks`)).toBe(0)

      const held = new AbortController()
      const blocks: number[] = []
      producer.on('block', (b) => blocks.push(b.height))
      const running = producer.run({ from: 0, to: truth.height }, held.signal)
      await until(async () => (await streamMessages(nc, `${ns}-blocks`)) === 5, 'the producer to reach its backlog of 5')
      held.abort('test')
      await expect(running).rejects.toMatchObject({ code: 'stopped' })
      expect(blocks.length).toBeLessThan(truth.blocks.length)
    } finally {
      peer.close('done')
    }
  })
})
