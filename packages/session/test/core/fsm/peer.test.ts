import { describe, expect, it } from 'vitest'
import { WireError } from '@bitp2p/wire'
import { LocalProtocolError } from '../../../src/core/fsm/errors.js'
import { MAX_TRACKED_UNKNOWN_COMMANDS, UNKNOWN_OTHER } from '../../../src/core/fsm/peer.js'
import { hash, PeerHarness, readyOutbound, verack, versionFrom } from './harness.js'

const unknown = (rawCommand: string) => ({ command: 'unknown' as const, rawCommand, payload: new Uint8Array(3) })

describe('PeerMachine: inputs and lifecycle', () => {
  it('refuses input before start, and a second start', () => {
    const h = new PeerHarness({ direction: 'outbound' })
    expect(() => h.received(verack)).toThrow(LocalProtocolError)
    h.start()
    expect(() => h.start()).toThrow(LocalProtocolError)
  })

  it('refuses send and request before the handshake completes', () => {
    const h = new PeerHarness({ direction: 'outbound' }).start()
    expect(() => h.send({ command: 'getaddr' })).toThrow(LocalProtocolError)
    expect(() => h.request({ kind: 'ping' })).toThrow(LocalProtocolError)
  })

  it('refuses handshake messages from the caller', () => {
    const h = readyOutbound()
    expect(() => h.send({ command: 'verack' })).toThrow(/handshake only/)
    expect(() => h.send({ command: 'wtxidrelay' })).toThrow(LocalProtocolError)
  })

  it('sends other messages as given, untracked', () => {
    const h = readyOutbound()
    expect(h.send({ command: 'getaddr' })).toBeUndefined()
    expect(h.sent()).toEqual([{ command: 'getaddr' }])
  })

  it('delivers messages after the handshake as events, in order', () => {
    const h = readyOutbound()
    h.received({ command: 'inv', items: [] }).received({ command: 'getaddr' })
    expect(h.events()).toEqual([
      { type: 'message', message: { command: 'inv', items: [] } },
      { type: 'message', message: { command: 'getaddr' } },
    ])
  })

  it('reports feature changes after the handshake once each', () => {
    const h = readyOutbound()
    h.received({ command: 'sendheaders' }).received({ command: 'sendheaders' }).received({ command: 'feefilter', feerate: 10n })
    const f = h.events().filter((e) => e.type === 'features')
    expect(f).toHaveLength(2)
    expect(h.machine.features).toMatchObject({ sendHeaders: true, feeFilter: 10n })
  })

  it('close is idempotent and silences the machine', () => {
    const h = readyOutbound()
    h.machine.close(h.now)
    h.machine.close(h.now, { kind: 'local', reason: 'again' })
    h.received({ command: 'ping', nonce: 1n })
    h.machine.timeout(h.now + 1e9)
    expect(h.disconnects()).toEqual([{ kind: 'local' }])
    expect(h.sent()).toEqual([])
    expect(h.machine.state).toBe('closed')
    expect(h.machine.closeReason).toEqual({ kind: 'local' })
    expect(h.machine.nextDeadline()).toBeUndefined()
    expect(() => h.send({ command: 'getaddr' })).toThrow(LocalProtocolError)
  })

  it('can be closed before it starts', () => {
    const h = new PeerHarness({ direction: 'inbound' })
    h.machine.close(0, { kind: 'aborted' })
    expect(h.machine.drain()).toEqual([{ type: 'disconnect', reason: { kind: 'aborted' } }])
  })

  it('lists its deadlines by name, and nextDeadline is their minimum', () => {
    const h = readyOutbound()
    h.request({ kind: 'ping' }, { timeoutMs: 10 })
    const ds = h.machine.deadlines()
    expect(ds.map((d) => d.name)).toEqual(['pong-wait', 'request'])
    expect(h.machine.nextDeadline()).toBe(Math.min(...ds.map((d) => d.at)))
    expect(h.machine.nextDeadline()).toBe(h.now + 10)
  })

  it('nextDeadline is the minimum of deadlines() through a whole life', () => {
    const h = new PeerHarness({ direction: 'outbound', ping: { intervalMs: 1_000, pongIdleTimeoutMs: 300, pongTimeoutMs: 800 } })
    const check = (step: string) => {
      const ds = h.machine.deadlines()
      expect(h.machine.nextDeadline(), step).toBe(ds.length === 0 ? undefined : Math.min(...ds.map((d) => d.at)))
    }
    check('idle')
    h.start()
    check('handshaking')
    h.received(versionFrom()).received(verack)
    check('ready, the first ping out: the pong wait')
    h.now += 10
    h.received({ command: 'inv', items: [] })
    check('activity moves the pong wait')
    h.received({ command: 'pong', nonce: h.lastSent('ping')!.nonce })
    check('the pong in: the next ping')
    const id = h.request({ kind: 'headers', locator: [hash(1)] }, { timeoutMs: 5 })
    check('a request with an earlier deadline')
    h.request({ kind: 'ping' }, { timeoutMs: 500 })
    check('two requests')
    h.elapse(6)
    check('the first request stalled (reported, not disconnected)')
    h.machine.cancel(h.now, id + 1)
    check('the second cancelled')
    expect(h.disconnected()).toBeUndefined()
    h.machine.close(h.now)
    check('closed')
  })

  it('poll returns actions one at a time, then undefined', () => {
    const h = new PeerHarness({ direction: 'inbound' })
    h.machine.start(0)
    h.machine.receive(0, { type: 'message', message: versionFrom(), wireBytes: 0 })
    const cmds: string[] = []
    for (let a = h.machine.poll(); a; a = h.machine.poll()) if (a.type === 'send') cmds.push(a.message.command)
    expect(cmds).toEqual(['version', 'wtxidrelay', 'sendaddrv2', 'verack'])
    expect(h.machine.poll()).toBeUndefined()
  })
})

describe('PeerMachine: bytes that go wrong', () => {
  it('a framing error disconnects with the error, scored by its kind', () => {
    const h = readyOutbound()
    const error = new WireError('BAD_CHECKSUM', 'checksum mismatch')
    h.receivedEvent({ type: 'error', error })
    expect(h.events()).toEqual([{ type: 'misbehavior', offense: { kind: 'bad-checksum', error }, score: 50, threshold: 100 }])
    expect(h.disconnected()).toEqual({ kind: 'framing', error })
  })

  it('an oversized frame reaches the threshold at once, but the reason stays "framing"', () => {
    const h = readyOutbound()
    const error = new WireError('OVERSIZE', 'too big')
    h.receivedEvent({ type: 'error', error })
    expect(h.disconnected()).toEqual({ kind: 'framing', error })
  })

  it('an undecodable payload scores malformed-payload (10) and the stream goes on', () => {
    const h = readyOutbound()
    const error = new WireError('TRUNCATED', 'short')
    h.receivedEvent({ type: 'invalid', command: 'inv', error, wireBytes: 30 })
    expect(h.events()).toEqual([{ type: 'misbehavior', offense: { kind: 'malformed-payload', command: 'inv', error }, score: 10, threshold: 100 }])
    h.received({ command: 'getaddr' })
    expect(h.events().map((e) => e.type)).toEqual(['message'])
  })

  it('lists over their limit score too-many-items (20): five disconnect', () => {
    const h = readyOutbound()
    const error = new WireError('OVERSIZE', 'inv items: 50001 items exceeds limit 50000')
    for (let i = 0; i < 4; i++) h.receivedEvent({ type: 'invalid', command: 'inv', error, wireBytes: 30 })
    expect(h.disconnected()).toBeUndefined()
    h.receivedEvent({ type: 'invalid', command: 'inv', error, wireBytes: 30 })
    expect(h.disconnected()).toEqual({ kind: 'misbehaving', score: 100, threshold: 100, last: { kind: 'too-many-items', command: 'inv', error } })
  })

  it('a lower threshold is honoured', () => {
    const h = readyOutbound({ misbehaviorThreshold: 10 })
    h.receivedEvent({ type: 'invalid', command: 'tx', error: new WireError('TRUNCATED', 'x'), wireBytes: 30 })
    expect(h.disconnected()?.kind).toBe('misbehaving')
  })
})

describe('PeerMachine: unknown commands', () => {
  it('are counted by name and dropped, never scored, before or after the handshake', () => {
    const h = new PeerHarness({ direction: 'outbound' }).start()
    h.received(unknown('xversion'))
    h.received(versionFrom()).received(verack)
    h.events()
    h.received(unknown('foo')).received(unknown('foo'))
    expect(h.events()).toEqual([
      { type: 'unknown-command', command: 'foo', count: 1 },
      { type: 'unknown-command', command: 'foo', count: 2 },
    ])
    expect([...h.machine.unknownCommands]).toEqual([
      ['xversion', 1],
      ['foo', 2],
    ])
    expect(h.machine.unknownCommandCount).toBe(3)
    expect(h.machine.misbehaviorScore).toBe(0)
    expect(h.disconnected()).toBeUndefined()
  })

  it(`keeps at most ${MAX_TRACKED_UNKNOWN_COMMANDS} names; the rest share one bucket`, () => {
    const h = readyOutbound()
    for (let i = 0; i < MAX_TRACKED_UNKNOWN_COMMANDS + 5; i++) h.received(unknown(`c${i}`))
    expect(h.machine.unknownCommands.size).toBe(MAX_TRACKED_UNKNOWN_COMMANDS + 1)
    expect(h.machine.unknownCommands.get(UNKNOWN_OTHER)).toBe(5)
    expect(h.machine.unknownCommandCount).toBe(MAX_TRACKED_UNKNOWN_COMMANDS + 5)
  })
})

describe('PeerMachine: determinism', () => {
  it('the same seed and inputs give the same actions', () => {
    const run = () => {
      const h = readyOutbound({}, {}, 42)
      h.request({ kind: 'ping' })
      h.elapse(3 * 60_000)
      return h.log
    }
    expect(run()).toEqual(run())
  })
})
