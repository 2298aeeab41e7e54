import { describe, expect, it } from 'vitest'
import { ProgressSaver } from '../src/producer.js'

/** An error named as the NATS client names them. */
function natsError(name: string): Error {
  const e = new Error(name)
  e.name = name
  return e
}

/** A KV whose put fails with `failures` in turn, then succeeds; records what was stored. */
function flakyKv(failures: Error[]) {
  const stored: string[] = []
  let calls = 0
  return {
    stored,
    get calls() {
      return calls
    },
    put: async (_key: string, value: string) => {
      calls++
      const f = failures.shift()
      if (f !== undefined) throw f
      stored.push(value)
      return 1
    },
  }
}

const progress = (height: number) => ({ height, hash: `h${height}`, chunkSize: 1000 }) as never

describe('ProgressSaver.flush', () => {
  it('retries the last value while the failure is transient (a cluster electing its JetStream leader), then resolves', async () => {
    const kv = flakyKv([natsError('JetStreamNotEnabled'), natsError('NoRespondersError'), natsError('TimeoutError')])
    const saver = new ProgressSaver(kv, 'p', 10_000, 1)
    saver.save(progress(7))
    await saver.flush()
    expect(kv.stored.map((v) => JSON.parse(v).height)).toEqual([7])
    expect(kv.calls).toBe(4)
  })

  it('throws a failure that is not transient at once, without retrying', async () => {
    const kv = flakyKv([new Error('permission denied')])
    const saver = new ProgressSaver(kv, 'p', 10_000, 1)
    saver.save(progress(3))
    await expect(saver.flush()).rejects.toThrow('permission denied')
    expect(kv.calls).toBe(1)
  })

  it('gives up on a transient failure after its deadline, with that failure', async () => {
    const kv = flakyKv(Array.from({ length: 1000 }, () => natsError('JetStreamNotEnabled')))
    const saver = new ProgressSaver(kv, 'p', 30, 1)
    saver.save(progress(5))
    await expect(saver.flush()).rejects.toMatchObject({ name: 'JetStreamNotEnabled' })
    expect(kv.stored).toEqual([])
  })

  it('writes the newest value: one saved while a failed one waits replaces it', async () => {
    const kv = flakyKv([natsError('TimeoutError')])
    const saver = new ProgressSaver(kv, 'p', 10_000, 1)
    saver.save(progress(1))
    await new Promise((r) => setTimeout(r, 5))
    saver.save(progress(2))
    await saver.flush()
    expect(kv.stored.map((v) => JSON.parse(v).height)).toEqual([2])
  })
})
