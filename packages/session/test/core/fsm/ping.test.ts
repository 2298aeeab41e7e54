import { describe, expect, it } from 'vitest'
import { Outbox } from '../../../src/core/fsm/outbox.js'
import { PING_INTERVAL_MS, Pinger, PONG_IDLE_TIMEOUT_MS, PONG_TIMEOUT_MS, RttEstimator, pingNonce } from '../../../src/core/fsm/ping.js'
import { SeededRandom } from '../../../src/core/random.js'
import type { Random } from '../../../src/core/ports.js'
import { readyOutbound, verack, versionFrom, PeerHarness } from './harness.js'

function lastPing(h: PeerHarness): bigint {
  const ping = h.lastSent('ping')
  expect(ping).toBeDefined()
  return ping!.nonce
}

describe('ping: answering', () => {
  it('answers a ping at once with the same nonce', () => {
    const h = readyOutbound()
    h.received({ command: 'ping', nonce: 0xdeadbeefn })
    expect(h.sent()).toEqual([{ command: 'pong', nonce: 0xdeadbeefn }])
  })

  it('does not answer pings of a pre-BIP31 peer (version <= 60000)', () => {
    const h = readyOutbound({}, { version: 60000 })
    h.received({ command: 'ping', nonce: 0n })
    expect(h.sent()).toEqual([])
  })
})

describe('ping: keepalive schedule', () => {
  it('pings right after the handshake with a nonce from the injected random source', () => {
    const a = new PeerHarness({ direction: 'outbound' }, 7).start()
    a.received(versionFrom()).received(verack)
    const b = new PeerHarness({ direction: 'outbound' }, 7).start()
    b.received(versionFrom()).received(verack)
    const na = lastPing(a)
    expect(na).not.toBe(0n)
    expect(lastPing(b)).toBe(na) // same seed, same nonce
  })

  it('pings again one interval after the last ping once the pong came back', () => {
    const h = readyOutbound()
    const start = h.now
    expect(h.machine.deadlines().map((d) => d.name)).toEqual(['pong-wait'])
    h.elapse(50)
    h.received({ command: 'pong', nonce: lastPing(h) })
    h.sent()
    expect(h.machine.deadlines()).toEqual([{ name: 'ping', at: start + PING_INTERVAL_MS }])
    h.elapse(PING_INTERVAL_MS - 51)
    expect(h.sentCommands()).toEqual([])
    h.elapse(1)
    expect(h.sentCommands()).toEqual(['ping'])
  })

  it('sends empty keepalive pings to pre-BIP31 peers and never times them out', () => {
    const h = readyOutbound({}, { version: 60000 })
    h.elapse(PING_INTERVAL_MS * 20)
    const pings = h.sent()
    expect(pings).toHaveLength(20)
    expect(pings.every((m) => m.command === 'ping' && m.nonce === 0n)).toBe(true)
    expect(h.disconnected()).toBeUndefined()
  })
})

describe('ping: RTT', () => {
  it('measures last, min and smoothed RTT and reports latency events', () => {
    const h = readyOutbound()
    const samples = [100, 40, 200]
    for (const rtt of samples) {
      const nonce = lastPing(h)
      h.elapse(rtt)
      h.received({ command: 'pong', nonce })
      h.elapse(PING_INTERVAL_MS - rtt)
    }
    const lat = h.events().filter((e) => e.type === 'latency')
    expect(lat.map((e) => (e.type === 'latency' ? e.rttMs : -1))).toEqual(samples)
    // smoothed: 100, then 100 + (40-100)/8 = 92.5, then 92.5 + (200-92.5)/8 = 105.9375
    expect(h.machine.rtt).toEqual({ last: 200, min: 40, smoothed: 105.9375, samples: 3 })
  })

  it('ignores a pong with another nonce and keeps waiting', () => {
    const h = readyOutbound()
    const nonce = lastPing(h)
    h.received({ command: 'pong', nonce: nonce + 1n })
    expect(h.events().filter((e) => e.type === 'latency')).toEqual([])
    expect(h.machine.deadlines().map((d) => d.name)).toContain('pong-wait')
    expect(h.machine.misbehaviorScore).toBe(0)
  })

  it('a pong with nonce 0 cancels the ping without a sample (Core)', () => {
    const h = readyOutbound()
    h.received({ command: 'pong', nonce: 0n })
    expect(h.machine.rtt.samples).toBe(0)
    expect(h.machine.deadlines().map((d) => d.name)).toEqual(['ping'])
  })

  it('an unsolicited pong is ignored', () => {
    const h = readyOutbound()
    h.received({ command: 'pong', nonce: lastPing(h) })
    h.events()
    h.received({ command: 'pong', nonce: 5n })
    expect(h.events().map((e) => e.type)).toEqual(['message'])
    expect(h.machine.misbehaviorScore).toBe(0)
  })

  it('RttEstimator starts empty', () => {
    expect(new RttEstimator().stats).toEqual({ last: undefined, min: undefined, smoothed: undefined, samples: 0 })
  })
})

describe('ping: pong timeout', () => {
  it('disconnects when a silent peer leaves the ping unanswered for the idle timeout', () => {
    const h = readyOutbound()
    const nonce = lastPing(h)
    h.elapse(PONG_IDLE_TIMEOUT_MS - 1)
    expect(h.disconnected()).toBeUndefined()
    h.elapse(1)
    expect(h.disconnected()).toEqual({ kind: 'ping-timeout', nonce, waitedMs: PONG_IDLE_TIMEOUT_MS })
    expect(h.machine.nextDeadline()).toBeUndefined()
  })

  it('waits longer while the peer is sending other data, up to the hard timeout', () => {
    const h = readyOutbound()
    const nonce = lastPing(h)
    // A message every minute keeps the idle deadline moving.
    for (let t = 60_000; t < PONG_TIMEOUT_MS; t += 60_000) {
      h.elapse(60_000)
      h.received({ command: 'inv', items: [] })
      expect(h.disconnected()).toBeUndefined()
    }
    h.elapse(60_000)
    expect(h.disconnected()).toEqual({ kind: 'ping-timeout', nonce, waitedMs: PONG_TIMEOUT_MS })
  })

  it('honours configured timeouts', () => {
    const h = readyOutbound({ ping: { pongIdleTimeoutMs: 5_000, pongTimeoutMs: 8_000, intervalMs: 1_000 } })
    h.elapse(4_999)
    expect(h.disconnected()).toBeUndefined()
    h.elapse(1)
    expect(h.disconnected()?.kind).toBe('ping-timeout')
  })
})

describe('ping: Pinger alone', () => {
  it('has no deadline until started, and none after stop', () => {
    const out = new Outbox()
    const p = new Pinger(new SeededRandom(3), out)
    expect(p.deadline()).toBeUndefined()
    expect(p.timeout(1e12)).toBeUndefined()
    expect(out.size).toBe(0)
    p.start(0, true)
    expect(p.deadline()).toEqual({ name: 'pong-wait', at: PONG_IDLE_TIMEOUT_MS })
    p.stop()
    expect(p.deadline()).toBeUndefined()
  })

  it('never uses nonce 0', () => {
    let calls = 0
    const zeroFirst: Random = { u32: () => 0, int: () => 0, float: () => 0, u64: () => (calls++ === 0 ? 0n : 9n) }
    expect(pingNonce(zeroFirst)).toBe(9n)
    expect(calls).toBe(2)
  })
})
