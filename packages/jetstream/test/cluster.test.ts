// Indexing goes on when a node of a 3-node JetStream cluster fails: the
// streams and buckets are replicated (R3), the producer and the workers
// know all three servers. The node that leads the workers' consumer is
// killed (SIGKILL) while both workers are in the middle of a part and the
// producer is held back at its backlog; then the workers' handlers
// finish, they pull again, the producer publishes again, and every
// transaction of the chain reaches the sink. The test prints how long the
// recovery took (it asserts no duration: the machine may be busy).
/// <reference types="node" />
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { startBcoin, bcoinBudget, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { natsBudget, startNatsCluster, type NatsCluster } from '../../../test/harness/nats.js'
import { forWork, scaled } from '../../../test/harness/timing.js'
import { ensureBlockStreams, jetStreamNames } from '../src/index.js'
import { killAll, runCli } from './cli-child.js'
import { retrying, streamMessages, until } from './nats-util.js'
import { byPart, consumerIdle, readLog, readStats, SINK_HANDLER } from './sink.js'

/** Blocks of the chain (coinbase only: this test is about the cluster, not the transactions). */
const BLOCKS = 200
/** The producer's backlog: it is held back with the failure in the middle of the run. */
const MAX_BACKLOG = 60
/** Parts each worker handles before it waits at the gate. */
const GATE_AFTER = 10
/** Budget of the run, leader elections included (a few seconds each). */
const RUN_BUDGET = () => forWork(BLOCKS, 100, 60_000)

needs('bcoin', 'nats-server').describe('a 3-node JetStream cluster losing a node', () => {
  let node: BcoinNode
  let cluster: NatsCluster
  let nc: NatsConnection
  beforeAll(async () => {
    ;[node, cluster] = await Promise.all([startBcoin({ mine: BLOCKS }), startNatsCluster(3)])
    nc = await connect({ servers: [...cluster.urls] })
  }, bcoinBudget(BLOCKS) + natsBudget(3))
  afterEach(killAll)
  afterAll(async () => {
    await nc?.close()
    await Promise.all([node?.stop(), cluster?.stop()])
  })

  needs('bcoin', 'nats-server').it('SIGKILL of the node leading the consumer, in the middle of the run: indexing goes on, every transaction reaches the sink', { timeout: RUN_BUDGET() * 2 }, async () => {
    const ns = 'cx'
    const names = jetStreamNames(ns)
    const servers = cluster.urls.flatMap((u) => ['--nats', u])
    const jsm = await jetstreamManager(nc)
    await ensureBlockStreams(jsm, names, { replicas: 3, deadMaxBytes: 1024 * 1024 })
    const gate = await new Kvm(nc).create(`${ns}-gate`, { replicas: 3 })
    const workers = [0, 1].map((i) =>
      runCli(['index-worker', ...servers, '--namespace', ns, '--replicas', '3', '--network', 'regtest', '--handler', SINK_HANDLER, '--name', `w${i}`, '--ack-wait', '5000', '--json'], { SINK_GATE_AFTER: String(GATE_AFTER), SINK_REPLICAS: '3' }),
    )
    const producer = runCli(['index', '--peer', `127.0.0.1:${node.p2p.port}`, '--network', 'regtest', '--transport', 'v1', ...servers, '--namespace', ns, '--replicas', '3', '--max-backlog', String(MAX_BACKLOG), '--json'])
    // Both workers at the gate, the stream full: the producer is held.
    let gateLog: Awaited<ReturnType<typeof readLog>> = []
    await until(
      async () => (gateLog = await readLog(nc, ns)).filter((e) => e.gate).length === 2,
      // On a timeout, say what every process was doing: the workers and the producer feeding them.
      () =>
        `both workers at the gate\n${workers.map((w) => `${w.stderr()}its last events: ${JSON.stringify(w.events.slice(-3))}`).join('\n')}\n` +
        `producer (${producer.closed ? 'exited' : 'running'}): ${producer.stderr()}\nits last events: ${JSON.stringify(producer.events.slice(-5))}\n` +
        `handler log: ${gateLog.length} entries; by worker ${JSON.stringify(Object.fromEntries(['w0', 'w1'].map((w) => [w, gateLog.filter((e) => e.worker === w).length])))}, gates ${JSON.stringify(gateLog.filter((e) => e.gate).map((e) => e.worker))}`,
      RUN_BUDGET(),
    )
    await until(async () => (await streamMessages(nc, names.blockStream)) === MAX_BACKLOG, 'the backlog to fill')
    expect(producer.events.some((e) => e.event === 'done')).toBe(false)

    const info = await retrying(() => jsm.consumers.info(names.blockStream, names.blockConsumer), 'the consumer')
    const streamInfo = await retrying(() => jsm.streams.info(names.blockStream), 'the block stream')
    const leader = cluster.nodes.find((n) => n.name === info.cluster?.leader)!
    expect(leader).toBeDefined()
    expect(info.cluster?.replicas).toHaveLength(2)
    const t0 = performance.now()
    await leader.kill()
    // Open the gate (the bucket is R3; its leader may have been on the killed node: retry until a new one answers).
    await until(async () => gate.put('open', 'yes').then(() => true, () => false), 'the gate bucket to take a write')

    await until(() => producer.events.some((e) => e.event === 'done') || producer.closed, () => `the producer to finish\n${producer.stderr()}`, RUN_BUDGET())
    const done = producer.events.find((e) => e.event === 'done')
    expect(done, producer.stderr()).toBeDefined()
    await until(() => consumerIdle(nc, ns), 'the workers to drain the stream', RUN_BUDGET())
    const recoveredMs = performance.now() - t0

    const log = await readLog(nc, ns)
    const parts = byPart(log)
    // Every block's parts reached the sink; a part run twice is a redelivery (an ack lost with the leader).
    expect(parts.size).toBe(done!.parts)
    for (const e of log) if (log.filter((x) => x.msgId === e.msgId).length > 1 && e !== parts.get(e.msgId)) expect(e.deliveryCount).toBeGreaterThan(1)
    const hashes: string[] = []
    for (let h = 0; h <= BLOCKS; h++) hashes.push(await node.rpc('getblockhash', [h]))
    const stats = await readStats(nc, ns, hashes)
    expect(stats.size).toBe(BLOCKS + 1)
    for (const s of stats.values()) expect(s).toMatchObject({ complete: true, txs: 1, blockTxCount: 1 })
    const txids = [...parts.values()].flatMap((e) => e.txids)
    expect(new Set(txids).size).toBe(BLOCKS + 1)

    const recovered = workers.flatMap((w) => w.events.filter((e) => e.event === 'recovered').map((e) => e.ms))
    console.log(
      `[cluster] killed ${leader.name} (consumer leader${streamInfo.cluster?.leader === leader.name ? ' and stream leader' : ''}); ` +
        `workers pulled again after ${recovered.map((ms) => `${ms} ms`).join(', ') || 'no failed pull'}; ` +
        `the producer waited ${done!.backlogWaits} time(s) at its backlog and retried ${done!.retries} publish(es); everything indexed ${Math.round(recoveredMs)} ms after the kill; ` +
        `${log.length - parts.size} part(s) handled twice`,
    )
    for (const w of workers) await w.interrupt()
  })
})
