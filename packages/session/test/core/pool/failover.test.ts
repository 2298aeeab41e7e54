import { describe, expect, it } from 'vitest'
import { RequestRouter } from '../../../src/core/pool/failover.js'
import { PoolOutbox } from '../../../src/core/pool/outbox.js'
import type { PeerRequest, RequestFailure } from '../../../src/core/fsm/requests.js'
import { drainOut } from './harness.js'

const REQ: PeerRequest = { kind: 'headers', locator: [] }
const TIMEOUT: RequestFailure = { kind: 'stalled', waitedMs: 30_000 }

function router(maxAttempts = 2, peerWaitMs = 1_000) {
  const out = new PoolOutbox()
  return { out, r: new RequestRouter(out, { maxAttempts, maxInFlightPerPeer: Infinity, peerWaitMs, selection: 'least-loaded' }) }
}

describe('RequestRouter', () => {
  it('waits for a ready peer, then asks it with the request and its deadline', () => {
    const { out, r } = router()
    const id = r.submit(0, REQ, 5_000, undefined)
    expect(drainOut(out)).toEqual([])
    expect(r.size).toBe(1)
    r.peerReady(10, 4)
    expect(drainOut(out)).toEqual([{ type: 'request', requestId: id, peerId: 4, request: REQ, timeoutMs: 5_000 }])
    expect(r.inFlight(4)).toBe(1)
    expect(r.done(20, id, 4)).toBe(true)
    expect(r.size).toBe(0)
    expect(r.done(21, id, 4)).toBe(false)
  })

  it('moves a failed attempt to another peer, and gives up after maxAttempts with the last failure', () => {
    const { out, r } = router(2)
    r.peerReady(0, 1)
    r.peerReady(0, 2)
    const id = r.submit(0, REQ, undefined, undefined)
    const first = drainOut(out)[0] as Extract<ReturnType<typeof drainOut>[number], { type: 'request' }>
    r.failed(10, id, first.peerId, TIMEOUT)
    const acts = drainOut(out)
    expect(acts).toEqual([
      { type: 'request', requestId: id, peerId: 3 - first.peerId, request: REQ, timeoutMs: undefined },
      { type: 'event', event: { type: 'failover', requestId: id, from: first.peerId, to: 3 - first.peerId, failure: TIMEOUT } },
    ])
    r.failed(20, id, 3 - first.peerId, TIMEOUT)
    expect(drainOut(out)).toContainEqual({ type: 'request-failed', requestId: id, failure: { kind: 'exhausted', attempts: 2, last: TIMEOUT } })
    expect(r.size).toBe(0)
  })

  it('fails over what a closed peer served, with the close as its failure', () => {
    const { out, r } = router(3)
    r.peerReady(0, 1)
    const id = r.submit(0, REQ, undefined, undefined)
    drainOut(out)
    r.peerClosing(5, 1)
    expect(drainOut(out)).toEqual([]) // still served until it has closed
    r.peerReady(6, 2)
    r.peerGone(7, 1, { kind: 'ping-timeout', nonce: 1n, waitedMs: 1 })
    const acts = drainOut(out)
    expect(acts).toContainEqual({ type: 'request', requestId: id, peerId: 2, request: REQ, timeoutMs: undefined })
    expect(acts).toContainEqual({
      type: 'event',
      event: { type: 'failover', requestId: id, from: 1, to: 2, failure: { kind: 'closed', reason: { kind: 'ping-timeout', nonce: 1n, waitedMs: 1 } } },
    })
  })

  it("fails 'no-peers' after peerWaitMs with no ready peer, and everything 'stopped' at stop", () => {
    const { out, r } = router(2, 1_000)
    const a = r.submit(0, REQ, undefined, undefined)
    expect(r.nextDeadline()).toBe(1_000)
    r.timeout(999)
    expect(drainOut(out)).toEqual([])
    r.timeout(1_000)
    expect(drainOut(out)).toEqual([{ type: 'request-failed', requestId: a, failure: { kind: 'no-peers', waitedMs: 1_000 } }])
    const b = r.submit(2_000, REQ, undefined, undefined)
    r.stop(2_001)
    expect(drainOut(out)).toEqual([{ type: 'request-failed', requestId: b, failure: { kind: 'stopped' } }])
  })
})
