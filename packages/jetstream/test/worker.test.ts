// The worker API against a real nats-server (loopback, JetStream on, store
// in a temp dir): ack after the handler succeeds, redelivery after a
// failure, dead letters after the maximum deliveries (with the bytes and
// why), undecodable messages dead-lettered at once, a message whose every
// taker died dead-lettered without running the handler; and the publish
// window: bounded in flight, paced by a full stream, nothing lost or doubled.
/// <reference types="node" />
import { afterAll, beforeAll, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { jetstream, jetstreamManager, RetentionPolicy, DiscardPolicy, StorageType } from '@nats-io/jetstream'
import { toHex } from '@bitp2p/wire'
import { needs } from '../../../test/harness/needs.js'
import { startNats, natsBudget, type NatsCluster } from '../../../test/harness/nats.js'
import { scaled } from '../../../test/harness/timing.js'
import { AckedPublisher, blockWorker, DEAD_HEADERS, encodeBlockPart, ensureBucket, jetStreamNames, PartAssembler, partMsgId, ensureBlockStreams, ensureWorkConsumer, type BlockPart } from '../src/index.js'
import { TimeoutError } from '@nats-io/nats-core'
import { chunkEvents } from './chunks.js'
import { readAll, streamMessages, TEST_STREAMS, until } from './nats-util.js'

const RAW = new Uint8Array(readFileSync(new URL('../../../../shared/data/blocks/block482683.raw', import.meta.url)))

/** The parts of mainnet block 482,683 in chunks of 1,000 bytes (10 parts). */
function sampleParts(): BlockPart[] {
  const { chunks, block } = chunkEvents(RAW, 1_000, 482_683)
  const a = new PartAssembler(1_000)
  for (const c of chunks) a.chunk(c)
  return a.block(block)
}

needs('nats-server').describe('worker and publisher against nats-server', () => {
  let nats: NatsCluster
  let nc: NatsConnection
  beforeAll(async () => {
    nats = await startNats()
    nc = await connect({ servers: [...nats.urls] })
  }, natsBudget(1))
  afterAll(async () => {
    await nc?.close()
    await nats?.stop()
  })

  async function publishParts(ns: string, parts: readonly BlockPart[]) {
    const names = jetStreamNames(ns)
    await ensureBlockStreams(await jetstreamManager(nc), names, TEST_STREAMS)
    const js = jetstream(nc)
    for (const p of parts) await js.publish(names.blockSubject, encodeBlockPart(p), { msgID: partMsgId(p.hash, p.chunkSize, p.partIndex) })
    return names
  }

  needs('nats-server').it('every part is handled and acknowledged once; the stream is empty after', { timeout: scaled(30_000) }, async () => {
    const parts = sampleParts()
    const names = await publishParts('w-ok', parts)
    const seen: string[] = []
    const w = blockWorker({ nc, names, name: 'w1', concurrency: 3, handler: (p, ctx) => void seen.push(`${p.partIndex}@${ctx.deliveryCount}`) }).start()
    await until(() => w.stats.acked === parts.length, () => `all ${parts.length} acked (${JSON.stringify(w.stats)})`)
    await until(async () => (await streamMessages(nc, names.blockStream)) === 0, 'the work queue to be empty')
    const stats = await w.stop()
    expect(seen.sort()).toEqual(parts.map((p) => `${p.partIndex}@1`).sort())
    expect(stats).toMatchObject({ acked: parts.length, retried: 0, deadLettered: 0, redeliveries: 0 })
  })

  needs('nats-server').it('a handler that always throws: its part is delivered maxDeliveries times, then dead-lettered with its bytes and why', { timeout: scaled(30_000) }, async () => {
    const parts = sampleParts()
    const bad = parts[4]!
    const names = await publishParts('w-dead', parts)
    const calls = new Map<number, number>()
    const w = blockWorker({
      nc,
      names,
      name: 'thrower',
      maxDeliveries: 3,
      retryBaseMs: 20,
      handler: (p) => {
        calls.set(p.partIndex, (calls.get(p.partIndex) ?? 0) + 1)
        if (p.partIndex === bad.partIndex) throw new Error('always fails\non two lines')
      },
    }).start()
    await until(() => w.stats.deadLettered === 1 && w.stats.acked === parts.length - 1, () => `one dead letter (${JSON.stringify(w.stats)})`)
    await w.stop()
    expect(calls.get(bad.partIndex)).toBe(3)
    expect([...calls].filter(([i]) => i !== bad.partIndex).every(([, n]) => n === 1)).toBe(true)
    expect(w.stats.retried).toBe(2)
    const dead = await readAll(nc, names.deadStream)
    expect(dead).toHaveLength(1)
    const d = dead[0]!
    expect(d.subject).toBe(names.blockDeadSubject)
    expect(toHex(d.data)).toBe(toHex(encodeBlockPart(bad)))
    expect(d.headers?.get(DEAD_HEADERS.subject)).toBe(names.blockSubject)
    expect(d.headers?.get(DEAD_HEADERS.reason)).toBe('handler-failed')
    expect(d.headers?.get(DEAD_HEADERS.deliveries)).toBe('3')
    expect(d.headers?.get(DEAD_HEADERS.error)).toBe('always fails on two lines')
    expect(d.headers?.get(DEAD_HEADERS.worker)).toBe('thrower')
    // Nothing left in the work queue: the dead part was moved, not stuck.
    expect(await streamMessages(nc, names.blockStream)).toBe(0)
  })

  needs('nats-server').it('bytes that are not a block part are dead-lettered at once, without the handler', { timeout: scaled(30_000) }, async () => {
    const names = await publishParts('w-junk', [])
    await jetstream(nc).publish(names.blockSubject, new TextEncoder().encode('not a part'), { msgID: 'junk' })
    let handled = 0
    const w = blockWorker({ nc, names, handler: () => void handled++ }).start()
    await until(() => w.stats.deadLettered === 1, 'the junk to be dead-lettered')
    await w.stop()
    const [d] = await readAll(nc, names.deadStream)
    expect(d!.headers?.get(DEAD_HEADERS.reason)).toBe('undecodable')
    expect(d!.headers?.get(DEAD_HEADERS.error)).toMatch(/BAD_MAGIC/)
    expect(handled).toBe(0)
  })

  needs('nats-server').it('a part delivered more than maxDeliveries times without an outcome (every taker died) is dead-lettered without running the handler', { timeout: scaled(30_000) }, async () => {
    const parts = sampleParts().slice(0, 1)
    const names = await publishParts('w-crash', parts)
    const jsm = await jetstreamManager(nc)
    await ensureWorkConsumer(jsm, { stream: names.blockStream, consumer: names.blockConsumer, filterSubject: names.blockSubject })
    // Three takers that "die": each gets the part and gives it back without an outcome (nak: redelivered now, counted as a delivery).
    const c = await jetstream(nc).consumers.get(names.blockStream, names.blockConsumer)
    for (let i = 1; i <= 3; i++) {
      const m = await c.next({ expires: scaled(5_000) })
      expect(m?.info.deliveryCount).toBe(i)
      m!.nak()
    }
    let handled = 0
    const w = blockWorker({ nc, names, maxDeliveries: 3, handler: () => void handled++ }).start()
    await until(() => w.stats.deadLettered === 1, 'the crash-looping part to be dead-lettered')
    await w.stop()
    const [d] = await readAll(nc, names.deadStream)
    expect(d!.headers?.get(DEAD_HEADERS.reason)).toBe('crashed')
    expect(d!.headers?.get(DEAD_HEADERS.deliveries)).toBe('4')
    expect(handled).toBe(0)
  })

  needs('nats-server').it('the publish window: at most maxInFlight awaiting acks; a full stream holds publishes back until a consumer makes room; every message stored once', { timeout: scaled(60_000) }, async () => {
    const jsm = await jetstreamManager(nc)
    // A work queue of at most ten messages (bounded by count: see streams.ts on max_bytes).
    await jsm.streams.add({ name: 'pw', subjects: ['pw.x'], retention: RetentionPolicy.Workqueue, discard: DiscardPolicy.New, max_msgs: 10, storage: StorageType.File })
    const N = 120
    const MAX = 8
    const pub = new AckedPublisher({ js: jetstream(nc), maxInFlight: MAX, retryDeadlineMs: scaled(60_000) })
    let submitted = 0
    const producing = (async () => {
      for (let i = 0; i < N; i++) {
        const data = new Uint8Array(4 * 1024).fill(i)
        await pub.submit({ subject: 'pw.x', data, msgId: `m${i}`, stream: 'pw' })
        submitted++
      }
      await pub.drain()
    })()
    // No consumer yet: the stream fills and the producer is held back.
    await until(() => pub.stats.fullRetries > 0, 'a publish refused by the full stream')
    const held = submitted
    expect(held).toBeLessThan(N)
    expect(held).toBeLessThanOrEqual((await streamMessages(nc, 'pw')) + MAX)
    // A consumer drains it; everything arrives, each message once.
    await jsm.consumers.add('pw', { durable_name: 'd', ack_policy: 'explicit' as never })
    const c = await jetstream(nc).consumers.get('pw', 'd')
    const got: number[] = []
    while (got.length < N) {
      const batch = await c.fetch({ max_messages: 20, expires: 1_000 })
      for await (const m of batch) {
        got.push(m.data[0]!)
        m.ack()
      }
    }
    await producing
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i))
    expect(pub.stats.stored).toBe(N)
    expect(pub.stats.maxInFlightSeen).toBeLessThanOrEqual(MAX)
    expect(pub.stats.maxInFlightSeen).toBeGreaterThan(1)
  })

  /** `nc` whose first `failures` JetStream stream-create requests time out (as a busy cluster's do), counting them. */
  function timingOut(failures: number): { nc: NatsConnection; timedOut: () => number } {
    let left = failures
    let count = 0
    const proxy = new Proxy(nc, {
      get(target, prop) {
        if (prop === 'request') {
          return (subject: string, ...rest: unknown[]) => {
            if (subject.startsWith('$JS.API.STREAM.CREATE.') && left > 0) {
              left--
              count++
              return Promise.reject(new TimeoutError())
            }
            return (target.request as (...a: unknown[]) => Promise<unknown>).call(target, subject, ...rest)
          }
        }
        const v = Reflect.get(target, prop, target)
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
    return { nc: proxy, timedOut: () => count }
  }

  needs('nats-server').it('ensureBucket tries again when the stream-create request times out, and gives up after its attempts', async () => {
    const two = timingOut(2)
    const kv = await ensureBucket(two.nc, 'retry-bucket')
    expect(two.timedOut()).toBe(2)
    await kv.put('k', 'v')
    expect((await kv.get('k'))?.string()).toBe('v')
    // Five timeouts in a row: the fifth is thrown, typed as the client's TimeoutError.
    const always = timingOut(100)
    await expect(ensureBucket(always.nc, 'never-bucket')).rejects.toMatchObject({ name: 'TimeoutError' })
    expect(always.timedOut()).toBe(5)
  })
})
