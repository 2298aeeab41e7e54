import { describe, expect, it } from 'vitest'
import { RequestScheduler, type SchedulerAction, type SchedulerConfig } from '../../src/core/scheduler.js'

type F = string
const config = (c: Partial<SchedulerConfig> = {}): SchedulerConfig => ({ maxAttempts: 3, maxInFlightPerPeer: 2, peerWaitMs: 1_000, ...c })

/** Drain every action. */
function drain(s: RequestScheduler<F>): SchedulerAction<F>[] {
  const out: SchedulerAction<F>[] = []
  for (let a = s.poll(); a; a = s.poll()) out.push(a)
  return out
}
const assigns = (a: SchedulerAction<F>[]) => a.flatMap((x) => (x.type === 'assign' ? [[x.job, x.peer]] : []))

describe('RequestScheduler: assignment', () => {
  it('spreads jobs to the least loaded peer with room, in submission order', () => {
    const s = new RequestScheduler<F>(config())
    s.addPeer(0, 1)
    s.addPeer(0, 2)
    for (let i = 0; i < 5; i++) s.submit(0)
    // Two peers, two slots each: four assigned alternately, the fifth waits.
    expect(assigns(drain(s))).toEqual([[1, 1], [2, 2], [3, 1], [4, 2]])
    expect([s.inFlight(1), s.inFlight(2)]).toEqual([2, 2])
    s.succeeded(1, 2, 2)
    expect(assigns(drain(s))).toEqual([[5, 2]])
  })

  it('waits for a peer: a job submitted with none ready goes to the first one that becomes ready', () => {
    const s = new RequestScheduler<F>(config())
    const job = s.submit(0)
    expect(drain(s)).toEqual([])
    s.addPeer(500, 7)
    expect(drain(s)).toEqual([{ type: 'assign', job, peer: 7, attempt: 1 }])
  })

  it('round-robin takes the next peer in id order whatever the load', () => {
    const s = new RequestScheduler<F>(config({ selection: 'round-robin', maxInFlightPerPeer: Infinity }))
    for (const p of [3, 1, 2]) s.addPeer(0, p)
    for (let i = 0; i < 4; i++) s.submit(0)
    expect(assigns(drain(s)).map(([, peer]) => peer)).toEqual([1, 2, 3, 1])
  })

  it('a paused group gets nothing new until resumed; other groups go on', () => {
    const s = new RequestScheduler<F>(config())
    s.addPeer(0, 1)
    s.setPaused(0, 5, false) // unknown group: no-op
    const a = s.submit(0, { group: 1 })
    drain(s)
    s.setPaused(0, 1, true)
    const b = s.submit(0, { group: 1 })
    const c = s.submit(0, { group: 2 })
    expect(assigns(drain(s))).toEqual([[c, 1]])
    s.succeeded(1, a, 1)
    expect(drain(s)).toEqual([])
    s.setPaused(2, 1, false)
    expect(assigns(drain(s))).toEqual([[b, 1]])
  })
})

describe('RequestScheduler: failover', () => {
  it('moves a failed job to a peer that has not tried it, ahead of jobs never asked', () => {
    const s = new RequestScheduler<F>(config({ maxInFlightPerPeer: 1 }))
    s.addPeer(0, 1)
    s.addPeer(0, 2)
    const [a, b, c] = [s.submit(0), s.submit(0), s.submit(0)]
    expect(assigns(drain(s))).toEqual([[a, 1], [b, 2]])
    s.failed(10, a, 1, 'notfound')
    // Peer 1 has room again but tried `a`; peer 2 has not, but is busy: `a` waits for it, and so does `c` behind it.
    expect(drain(s)).toEqual([{ type: 'failover', job: a, from: 1, to: undefined, failure: 'notfound', attempts: 1 }])
    s.succeeded(20, b, 2)
    expect(assigns(drain(s))).toEqual([[a, 2], [c, 1]])
  })

  it('gives a peer another chance once every ready peer has tried the job', () => {
    const s = new RequestScheduler<F>(config())
    s.addPeer(0, 1)
    const a = s.submit(0)
    drain(s)
    s.failed(5, a, 1, 'stalled')
    expect(drain(s)).toEqual([
      { type: 'assign', job: a, peer: 1, attempt: 2 },
      { type: 'failover', job: a, from: 1, to: 1, failure: 'stalled', attempts: 1 },
    ])
  })

  it('fails "exhausted" with the last failure after maxAttempts attempts', () => {
    const s = new RequestScheduler<F>(config({ maxAttempts: 2 }))
    s.addPeer(0, 1)
    const a = s.submit(0)
    drain(s)
    s.failed(1, a, 1, 'first')
    drain(s)
    s.failed(2, a, 1, 'second')
    expect(drain(s)).toEqual([{ type: 'failed', job: a, failure: { kind: 'exhausted', attempts: 2, last: 'second' } }])
    expect(s.has(a)).toBe(false)
  })

  it('a departing peer fails over everything it held', () => {
    const s = new RequestScheduler<F>(config())
    s.addPeer(0, 1)
    const [a, b] = [s.submit(0), s.submit(0)]
    drain(s)
    s.addPeer(1, 2)
    s.removePeer(2, 1, 'closed')
    expect(drain(s)).toEqual([
      { type: 'assign', job: a, peer: 2, attempt: 2 },
      { type: 'assign', job: b, peer: 2, attempt: 2 },
      { type: 'failover', job: a, from: 1, to: 2, failure: 'closed', attempts: 1 },
      { type: 'failover', job: b, from: 1, to: 2, failure: 'closed', attempts: 1 },
    ])
  })

  it('a draining (closing) peer keeps what it holds, takes nothing new, and counts as gone for the no-peers wait', () => {
    const s = new RequestScheduler<F>(config({ peerWaitMs: 100 }))
    s.addPeer(0, 1)
    const a = s.submit(0)
    drain(s)
    s.drainPeer(10, 1)
    const b = s.submit(10)
    expect(drain(s)).toEqual([])
    expect(s.assignedTo(a)).toBe(1)
    expect(s.nextDeadline()).toBe(110)
    s.succeeded(20, a, 1)
    s.timeout(110)
    expect(drain(s)).toEqual([{ type: 'failed', job: b, failure: { kind: 'no-peers', waitedMs: 100 } }])
  })

  it('ignores a failure reported by a peer the job already left', () => {
    const s = new RequestScheduler<F>(config())
    s.addPeer(0, 1)
    s.addPeer(0, 2)
    const a = s.submit(0)
    drain(s)
    s.failed(1, a, 1, 'x')
    drain(s)
    expect(s.assignedTo(a)).toBe(2)
    s.failed(2, a, 1, 'stale')
    expect(drain(s)).toEqual([])
    expect(s.assignedTo(a)).toBe(2)
  })

  it('an answer from the peer a job left still counts, and revokes the current attempt', () => {
    const s = new RequestScheduler<F>(config())
    s.addPeer(0, 1)
    s.addPeer(0, 2)
    const a = s.submit(0)
    drain(s)
    s.failed(1, a, 1, 'stalled')
    drain(s)
    expect(s.succeeded(2, a, 1)).toBe(true)
    expect(drain(s)).toEqual([{ type: 'revoke', job: a, peer: 2 }])
    expect(s.succeeded(3, a, 2)).toBe(false)
  })
})

describe('RequestScheduler: every job settles', () => {
  it('with no ready peer, a waiting job fails "no-peers" after peerWaitMs', () => {
    const s = new RequestScheduler<F>(config({ peerWaitMs: 1_000 }))
    const a = s.submit(100)
    expect(s.nextDeadline()).toBe(1_100)
    s.timeout(1_099)
    expect(drain(s)).toEqual([])
    s.timeout(1_100)
    expect(drain(s)).toEqual([{ type: 'failed', job: a, failure: { kind: 'no-peers', waitedMs: 1_000 } }])
    expect(s.nextDeadline()).toBeUndefined()
  })

  it('the wait counts from when the last peer left, not from submission', () => {
    const s = new RequestScheduler<F>(config({ peerWaitMs: 1_000, maxAttempts: 5 }))
    s.addPeer(0, 1)
    const a = s.submit(0)
    s.timeout(5_000)
    drain(s)
    s.removePeer(5_000, 1, 'closed')
    expect(drain(s)).toEqual([{ type: 'failover', job: a, from: 1, to: undefined, failure: 'closed', attempts: 1 }])
    expect(s.nextDeadline()).toBe(6_000)
    s.timeout(6_000)
    expect(drain(s)).toEqual([{ type: 'failed', job: a, failure: { kind: 'no-peers', waitedMs: 1_000 } }])
  })

  it('busy peers are no reason to give up: no deadline while any peer is ready', () => {
    const s = new RequestScheduler<F>(config({ maxInFlightPerPeer: 1 }))
    s.addPeer(0, 1)
    s.submit(0)
    s.submit(0)
    expect(s.nextDeadline()).toBeUndefined()
    s.timeout(1e9)
    expect(drain(s).map((a) => a.type)).toEqual(['assign'])
  })

  it('cancel revokes the attempt in flight and fails "aborted"; stop fails the rest "stopped" and refuses new jobs', () => {
    const s = new RequestScheduler<F>(config())
    s.addPeer(0, 1)
    const [a, b] = [s.submit(0), s.submit(0)]
    drain(s)
    s.cancel(1, a, 'user')
    expect(drain(s)).toEqual([
      { type: 'revoke', job: a, peer: 1 },
      { type: 'failed', job: a, failure: { kind: 'aborted', reason: 'user' } },
    ])
    s.stop(2)
    expect(drain(s)).toEqual([
      { type: 'revoke', job: b, peer: 1 },
      { type: 'failed', job: b, failure: { kind: 'stopped' } },
    ])
    expect(() => s.submit(3)).toThrow(/stopped/)
  })

  it('dropGroup forgets a group silently, revoking its attempts in flight', () => {
    const s = new RequestScheduler<F>(config({ maxInFlightPerPeer: 1 }))
    s.addPeer(0, 1)
    const a = s.submit(0, { group: 4 })
    s.submit(0, { group: 4 })
    const c = s.submit(0, { group: 5 })
    drain(s)
    s.dropGroup(1, 4)
    expect(drain(s)).toEqual([
      { type: 'revoke', job: a, peer: 1 },
      { type: 'assign', job: c, peer: 1, attempt: 1 },
    ])
    expect(s.size).toBe(1)
  })

  it('refuses settings that could never settle a job', () => {
    expect(() => new RequestScheduler<F>(config({ maxAttempts: 0 }))).toThrow(RangeError)
    expect(() => new RequestScheduler<F>(config({ peerWaitMs: Infinity }))).toThrow(RangeError)
    expect(() => new RequestScheduler<F>(config({ maxInFlightPerPeer: 0 }))).toThrow(RangeError)
  })
})
