import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { VirtualClock, COMPACT_MIN_CANCELLED } from '../src/scheduler.js'

describe('VirtualClock ordering', () => {
  it('runs events in time order and moves now() to each event', () => {
    const clock = new VirtualClock()
    const seen: [string, number][] = []
    clock.setTimer(30, () => seen.push(['c', clock.now()]))
    clock.setTimer(10, () => seen.push(['a', clock.now()]))
    clock.setTimer(20, () => seen.push(['b', clock.now()]))
    expect(clock.runUntilIdle()).toBe(3)
    expect(seen).toEqual([['a', 10], ['b', 20], ['c', 30]])
  })

  it('breaks ties by scheduling order, including events scheduled while running', () => {
    const clock = new VirtualClock()
    const seen: string[] = []
    clock.setTimer(5, () => {
      seen.push('t1')
      clock.setTimer(0, () => seen.push('t1-child')) // same instant, after t2 and t3
    })
    clock.setTimer(5, () => seen.push('t2'))
    clock.callAt(5, (x: string) => seen.push(x), 't3')
    clock.runUntilIdle()
    expect(seen).toEqual(['t1', 't2', 't3', 't1-child'])
  })

  it('matches a reference sort by (time, insertion index) for any schedule', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (delays) => {
        const clock = new VirtualClock()
        const order: number[] = []
        delays.forEach((d, i) => clock.setTimer(d, () => order.push(i)))
        clock.runUntilIdle()
        const expected = delays.map((d, i) => [d, i]).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map((p) => p[1])
        expect(order).toEqual(expected)
      }),
    )
  })

  it('clamps negative and NaN delays to now and rejects an infinite one', () => {
    const clock = new VirtualClock({ start: 100 })
    const at: number[] = []
    clock.setTimer(-5, () => at.push(clock.now()))
    clock.setTimer(Number.NaN, () => at.push(clock.now()))
    clock.callAt(50, () => at.push(clock.now()), undefined)
    clock.runUntilIdle()
    expect(at).toEqual([100, 100, 100])
    expect(() => clock.setTimer(Number.POSITIVE_INFINITY, () => {})).toThrow(RangeError)
  })
})

describe('VirtualClock run modes', () => {
  it('run({ until }) stops before later events and moves the clock to until', () => {
    const clock = new VirtualClock()
    const seen: number[] = []
    for (const t of [5, 10, 15]) clock.setTimer(t, () => seen.push(t))
    expect(clock.run({ until: 10 })).toBe(2)
    expect(seen).toEqual([5, 10])
    expect(clock.now()).toBe(10)
    expect(clock.advance(2)).toBe(0)
    expect(clock.now()).toBe(12)
    expect(clock.nextEventTime()).toBe(15)
  })

  it('run({ maxEvents }) stops after that many and leaves the clock at the last event', () => {
    const clock = new VirtualClock()
    for (const t of [1, 2, 3]) clock.setTimer(t, () => {})
    expect(clock.run({ maxEvents: 2, until: 100 })).toBe(2)
    expect(clock.now()).toBe(2)
    expect(clock.pendingTimers).toBe(1)
  })

  it('step() runs exactly one event', () => {
    const clock = new VirtualClock()
    let n = 0
    clock.setTimer(1, () => n++)
    clock.setTimer(2, () => n++)
    expect(clock.step()).toBe(true)
    expect(n).toBe(1)
    expect(clock.step()).toBe(true)
    expect(clock.step()).toBe(false)
    expect(clock.eventsRun).toBe(2)
  })

  it('runUntilIdle throws when a periodic timer never lets it finish', () => {
    const clock = new VirtualClock()
    const tick = () => clock.setTimer(1000, tick)
    tick()
    expect(() => clock.runUntilIdle(50)).toThrow(/still busy after 50 events/)
    expect(clock.now()).toBe(50_000)
  })

  it('runAsync lets promise continuations run at the instant a settle was requested', async () => {
    const clock = new VirtualClock()
    const seen: string[] = []
    let resolve!: () => void
    const p = new Promise<void>((r) => (resolve = r))
    void p.then(async () => {
      await null // a chain of microtasks, not just one
      seen.push(`continuation@${clock.now()}`)
      clock.setTimer(0, () => seen.push(`child@${clock.now()}`))
    })
    clock.setTimer(10, () => {
      resolve()
      clock.requestSettle()
    })
    clock.setTimer(10, () => seen.push('same-instant@10'))
    clock.setTimer(20, () => seen.push('later@20'))
    await clock.runAsync({ settle: 'requested' })
    expect(seen).toEqual(['same-instant@10', 'continuation@10', 'child@10', 'later@20'])
  })

  it("runAsync in the default 'instant' mode settles after every instant, without requestSettle", async () => {
    const clock = new VirtualClock()
    const seen: string[] = []
    const sleep = (ms: number) => new Promise<void>((r) => clock.setTimer(ms, r))
    const task = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(100)
        seen.push(`woke@${clock.now()}`)
      }
    })()
    clock.setTimer(150, () => seen.push('timer@150'))
    await clock.runAsync()
    await task
    expect(seen).toEqual(['woke@100', 'timer@150', 'woke@200', 'woke@300'])
  })

  it("runAsync in 'requested' mode does not wait for continuations nobody asked for", async () => {
    const clock = new VirtualClock()
    const seen: string[] = []
    void new Promise<void>((r) => clock.setTimer(100, r)).then(() => seen.push(`woke@${clock.now()}`))
    clock.setTimer(150, () => seen.push('timer@150'))
    await clock.runAsync({ settle: 'requested' })
    await null
    expect(seen).toEqual(['timer@150', 'woke@150'])
  })
})

describe('VirtualClock cancellation', () => {
  it('a cancelled timer does not fire, and cancel is idempotent and safe after firing', () => {
    const clock = new VirtualClock()
    let fired = 0
    const c1 = clock.setTimer(10, () => fired++)
    const c2 = clock.setTimer(20, () => fired++)
    expect(clock.pendingTimers).toBe(2)
    c1()
    c1()
    expect(clock.pendingTimers).toBe(1)
    expect(clock.pendingEvents).toBe(1)
    clock.runUntilIdle()
    c2()
    expect(fired).toBe(1)
    expect(clock.pendingTimers).toBe(0)
    expect(clock.pendingEvents).toBe(0)
  })

  it('leaks no timers and keeps the heap bounded when timers are re-armed many times', () => {
    const clock = new VirtualClock()
    let cancel = clock.setTimer(1_000, () => {})
    // A driver re-arming its ping timer on every message.
    for (let i = 0; i < 20 * COMPACT_MIN_CANCELLED; i++) {
      cancel()
      cancel = clock.setTimer(1_000, () => {})
      expect(clock.pendingTimers).toBe(1)
      // Cancelled entries are compacted away instead of accumulating.
      expect(clock.heapSize).toBeLessThanOrEqual(2 * COMPACT_MIN_CANCELLED + 1)
    }
    expect(clock.pendingEvents).toBe(1)
    expect(clock.runUntilIdle()).toBe(1)
    expect(clock.pendingTimers).toBe(0)
  })

  it('cancelling from inside another callback at the same instant prevents the later one', () => {
    const clock = new VirtualClock()
    const seen: string[] = []
    let cancelB = () => {}
    clock.setTimer(5, () => {
      seen.push('a')
      cancelB()
    })
    cancelB = clock.setTimer(5, () => seen.push('b'))
    clock.runUntilIdle()
    expect(seen).toEqual(['a'])
    expect(clock.pendingTimers).toBe(0)
  })

  it('keeps order under random interleavings of scheduling and cancelling', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ delay: fc.integer({ min: 0, max: 20 }), cancel: fc.boolean() }), { maxLength: 300 }),
        (ops) => {
          const clock = new VirtualClock()
          const order: number[] = []
          ops.forEach((op, i) => {
            const c = clock.setTimer(op.delay, () => order.push(i))
            if (op.cancel) c()
          })
          expect(clock.pendingTimers).toBe(ops.filter((o) => !o.cancel).length)
          clock.runUntilIdle()
          const expected = ops
            .map((o, i) => ({ ...o, i }))
            .filter((o) => !o.cancel)
            .sort((x, y) => x.delay - y.delay || x.i - y.i)
            .map((o) => o.i)
          expect(order).toEqual(expected)
          expect(clock.pendingTimers).toBe(0)
        },
      ),
    )
  })
})
