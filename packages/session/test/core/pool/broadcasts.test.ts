import { describe, expect, it } from 'vitest'
import { BroadcastQueue } from '../../../src/core/pool/broadcasts.js'
import { PoolOutbox } from '../../../src/core/pool/outbox.js'
import { drainOut } from './harness.js'

const TX = { command: 'ping', nonce: 1n } as const
const TX2 = { command: 'ping', nonce: 2n } as const

describe('BroadcastQueue', () => {
  it('sends to every ready peer at once and settles with their number', () => {
    const out = new PoolOutbox()
    const q = new BroadcastQueue(out, 10)
    const id = q.broadcast(0, TX, [3, 5])
    expect(drainOut(out)).toEqual([
      { type: 'send', peerId: 3, message: TX },
      { type: 'send', peerId: 5, message: TX },
      { type: 'broadcast-settled', broadcastId: id, peers: 2 },
    ])
    expect(q.size).toBe(0)
  })

  it('keeps broadcasts while no peer is ready; the first ready peer takes them all, oldest first', () => {
    const out = new PoolOutbox()
    const q = new BroadcastQueue(out, 10)
    const a = q.broadcast(0, TX, [])
    const b = q.broadcast(1, TX2, [])
    expect(drainOut(out)).toEqual([])
    expect(q.size).toBe(2)
    q.peerReady(2, 7)
    expect(drainOut(out)).toEqual([
      { type: 'send', peerId: 7, message: TX },
      { type: 'broadcast-settled', broadcastId: a, peers: 1 },
      { type: 'send', peerId: 7, message: TX2 },
      { type: 'broadcast-settled', broadcastId: b, peers: 1 },
    ])
    q.peerReady(3, 8)
    expect(drainOut(out)).toEqual([])
  })

  it('drops the oldest past its limit, and says so', () => {
    const out = new PoolOutbox()
    const q = new BroadcastQueue(out, 2)
    const ids = [q.broadcast(0, TX, []), q.broadcast(0, TX, []), q.broadcast(0, TX2, [])]
    expect(drainOut(out)).toEqual([{ type: 'broadcast-settled', broadcastId: ids[0], peers: 0, failure: { kind: 'queue-full', limit: 2 } }])
    expect(q.size).toBe(2)
  })

  it('settles what waits as stopped, and every later broadcast at once', () => {
    const out = new PoolOutbox()
    const q = new BroadcastQueue(out, 10)
    const a = q.broadcast(0, TX, [])
    q.stop(1)
    const b = q.broadcast(2, TX, [4])
    expect(b).toBe(a + 1)
    expect(drainOut(out)).toEqual([
      { type: 'broadcast-settled', broadcastId: a, peers: 0, failure: { kind: 'stopped' } },
      { type: 'broadcast-settled', broadcastId: b, peers: 0, failure: { kind: 'stopped' } },
    ])
  })
})
