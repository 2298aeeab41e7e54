import { describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION, Services, type MessageOf } from '@bitp2p/wire'
import { WTXID_RELAY_VERSION } from '@bitp2p/wire/limits'
import { CMPCT_VERSION_2 } from '@bitp2p/wire/messages'
import {
  DEFAULT_USER_AGENT,
  HANDSHAKE_TIMEOUT_MS,
  HANDSHAKE_TRANSITIONS,
  nextHandshakeState,
  renderHandshakeTransitions,
  type HandshakeStateName,
} from '../../../src/core/fsm/handshake.js'
import { PeerHarness, readyOutbound, verack, versionFrom } from './harness.js'

const outbound = () => new PeerHarness({ direction: 'outbound' }).start()
const inbound = () => new PeerHarness({ direction: 'inbound' }).start()

describe('handshake: outbound', () => {
  it('sends our version first, with our nonce and configuration', () => {
    const h = new PeerHarness({
      direction: 'outbound',
      services: Services.NODE_WITNESS,
      userAgent: '/test:1/',
      startHeight: 123,
      relay: false,
      unixTimeOffsetMs: 1_700_000_000_000,
    }).start()
    const [v, ...rest] = h.sent()
    expect(rest).toEqual([])
    expect(v!.command).toBe('version')
    const version = v as MessageOf<'version'>
    expect(version.version).toBe(PROTOCOL_VERSION)
    expect(version.services).toBe(Services.NODE_WITNESS)
    expect(version.addrFrom.services).toBe(Services.NODE_WITNESS)
    expect(version.userAgent).toBe('/test:1/')
    expect(version.startHeight).toBe(123)
    expect(version.relay).toBe(false)
    expect(version.nonce).toBe(h.machine.nonce)
    expect(version.nonce).not.toBe(0n)
    // now (1000 ms) + offset, in seconds
    expect(version.timestamp).toBe(1_700_000_001n)
    expect(h.machine.state).toBe('handshaking')
  })

  it('answers the peer version with wtxidrelay, sendaddrv2, verack (in that order)', () => {
    const h = outbound()
    h.sent()
    h.received(versionFrom())
    expect(h.sentCommands()).toEqual(['wtxidrelay', 'sendaddrv2', 'verack'])
    expect(h.machine.state).toBe('handshaking')
    expect(h.events()).toEqual([])
  })

  it('is ready on verack, reports what was negotiated, then sends sendheaders', () => {
    const h = outbound()
    h.received(versionFrom({ version: 70016, userAgent: '/Satoshi:27.0.0/', startHeight: 5 }))
    h.received({ command: 'wtxidrelay' }).received({ command: 'sendaddrv2' })
    h.sent()
    h.received(verack)
    expect(h.machine.state).toBe('ready')
    const ready = h.events().filter((e) => e.type === 'ready')
    expect(ready).toHaveLength(1)
    const info = (ready[0] as Extract<(typeof ready)[0], { type: 'ready' }>).info
    expect(info.direction).toBe('outbound')
    expect(info.negotiatedVersion).toBe(70016)
    expect(info.peer.userAgent).toBe('/Satoshi:27.0.0/')
    expect(info.peer.startHeight).toBe(5)
    expect(info.features).toEqual({ wtxidRelay: true, addrv2: true, sendHeaders: false })
    expect(info.nonce).toBe(h.machine.nonce)
    // sendheaders, then the first ping
    expect(h.sentCommands()).toEqual(['sendheaders', 'ping'])
  })

  it('sends sendcmpct and feefilter after verack when configured', () => {
    const h = new PeerHarness({
      direction: 'outbound',
      compactBlocks: { announce: false, version: CMPCT_VERSION_2 },
      feeFilter: 1000n,
      sendHeaders: false,
    }).start()
    h.received(versionFrom())
    h.sent()
    h.received(verack)
    const sent = h.sent()
    expect(sent.map((m) => m.command)).toEqual(['sendcmpct', 'feefilter', 'ping'])
    expect(sent[0]).toEqual({ command: 'sendcmpct', announce: false, version: CMPCT_VERSION_2 })
    expect(sent[1]).toEqual({ command: 'feefilter', feerate: 1000n })
  })

  it('gates features on the negotiated version', () => {
    // 70011: no wtxidrelay/sendaddrv2 (70016), no sendheaders (70012), no feefilter (70013), no sendcmpct (70014)
    const h = new PeerHarness({ direction: 'outbound', compactBlocks: { announce: true, version: 2n }, feeFilter: 1n }).start()
    h.sent()
    h.received(versionFrom({ version: 70011 }))
    expect(h.sentCommands()).toEqual(['verack'])
    h.received(verack)
    expect(h.sentCommands()).toEqual(['ping'])
    expect(h.machine.info!.negotiatedVersion).toBe(70011)
  })

  it('does not count wtxidrelay below 70016, nor when we did not offer it', () => {
    const low = outbound()
    low.received(versionFrom({ version: WTXID_RELAY_VERSION - 1 })).received({ command: 'wtxidrelay' }).received(verack)
    expect(low.machine.features!.wtxidRelay).toBe(false)
    expect(low.machine.misbehaviorScore).toBe(0)

    const off = new PeerHarness({ direction: 'outbound', wtxidRelay: false, addrv2: false }).start()
    off.sent()
    off.received(versionFrom())
    expect(off.sentCommands()).toEqual(['verack'])
    off.received({ command: 'wtxidrelay' }).received(verack)
    expect(off.machine.features!.wtxidRelay).toBe(false)
  })

  it('records sendtxrcncl before verack', () => {
    const h = outbound()
    h.received(versionFrom()).received({ command: 'sendtxrcncl', version: 1, salt: 42n }).received(verack)
    expect(h.machine.features!.txReconciliation).toEqual({ version: 1, salt: 42n })
  })
})

describe('handshake: inbound', () => {
  it('sends nothing until the peer version, then version, wtxidrelay, sendaddrv2, verack', () => {
    const h = inbound()
    expect(h.sent()).toEqual([])
    h.received(versionFrom())
    const sent = h.sent()
    expect(sent.map((m) => m.command)).toEqual(['version', 'wtxidrelay', 'sendaddrv2', 'verack'])
    expect((sent[0] as MessageOf<'version'>).nonce).toBe(h.machine.nonce)
    h.received(verack)
    expect(h.machine.state).toBe('ready')
    expect(h.machine.info!.direction).toBe('inbound')
  })

  it('does not require services of inbound peers (as Core)', () => {
    const h = new PeerHarness({ direction: 'inbound', requiredServices: Services.NODE_NETWORK }).start()
    h.received(versionFrom({ services: Services.NONE })).received(verack)
    expect(h.machine.state).toBe('ready')
  })
})

describe('handshake: rejections', () => {
  it('rejects a protocol version below the minimum, with min and actual', () => {
    const h = new PeerHarness({ direction: 'outbound', minProtocolVersion: 70001 }).start()
    h.sent()
    h.received(versionFrom({ version: 60002 }))
    expect(h.disconnected()).toEqual({ kind: 'protocol-version', min: 70001, actual: 60002 })
    expect(h.sentCommands()).toEqual([])
    expect(h.machine.state).toBe('closed')
  })

  it('accepts exactly the minimum version', () => {
    const h = new PeerHarness({ direction: 'outbound', minProtocolVersion: 70001 }).start()
    h.received(versionFrom({ version: 70001 }))
    expect(h.disconnected()).toBeUndefined()
  })

  it('rejects an outbound peer without the required services', () => {
    const required = Services.NODE_NETWORK | Services.NODE_WITNESS
    const h = new PeerHarness({ direction: 'outbound', requiredServices: required }).start()
    h.received(versionFrom({ services: Services.NODE_NETWORK }))
    expect(h.disconnected()).toEqual({ kind: 'missing-services', required, actual: Services.NODE_NETWORK })
  })

  it('detects a connection to itself by its own nonce', () => {
    const h = inbound()
    h.received(versionFrom({ nonce: h.machine.nonce }))
    expect(h.disconnected()).toEqual({ kind: 'self-connection', nonce: h.machine.nonce })
    expect(h.sent()).toEqual([])
  })

  it('detects self-connection through the injected nonce predicate', () => {
    const ours = new Set([777n])
    const h = new PeerHarness({ direction: 'inbound', isOwnNonce: (n) => ours.has(n) }).start()
    h.received(versionFrom({ nonce: 777n }))
    expect(h.disconnected()).toEqual({ kind: 'self-connection', nonce: 777n })
    const other = new PeerHarness({ direction: 'inbound', isOwnNonce: (n) => ours.has(n) }).start()
    other.received(versionFrom({ nonce: 778n }))
    expect(other.disconnected()).toBeUndefined()
  })

  it('never treats nonce 0 (a legacy version without nonce) as ourselves', () => {
    const h = new PeerHarness({ direction: 'inbound', isOwnNonce: () => true }).start()
    h.received(versionFrom({ nonce: 0n }))
    expect(h.disconnected()).toBeUndefined()
  })

  it('checks self-connection before version and services', () => {
    const h = new PeerHarness({ direction: 'outbound', minProtocolVersion: 70016, requiredServices: Services.NODE_NETWORK }).start()
    h.received(versionFrom({ nonce: h.machine.nonce, version: 1, services: 0n }))
    expect(h.disconnected()!.kind).toBe('self-connection')
  })
})

describe('handshake: deadline', () => {
  it('times out waiting for version, and not a millisecond earlier', () => {
    const h = outbound()
    expect(h.machine.deadlines()).toEqual([{ name: 'handshake', at: 1_000 + HANDSHAKE_TIMEOUT_MS }])
    h.elapse(HANDSHAKE_TIMEOUT_MS - 1)
    expect(h.disconnected()).toBeUndefined()
    h.elapse(1)
    expect(h.disconnected()).toEqual({ kind: 'handshake-timeout', state: 'awaiting-version', waitedMs: HANDSHAKE_TIMEOUT_MS })
    expect(h.machine.nextDeadline()).toBeUndefined()
  })

  it('times out waiting for verack, counting from start', () => {
    const h = new PeerHarness({ direction: 'inbound', handshakeTimeoutMs: 5_000 }).start()
    h.elapse(3_000)
    h.received(versionFrom())
    h.elapse(1_999)
    expect(h.disconnected()).toBeUndefined()
    h.elapse(1)
    expect(h.disconnected()).toEqual({ kind: 'handshake-timeout', state: 'awaiting-verack', waitedMs: 5_000 })
  })

  it('a timeout call with nothing due is a no-op', () => {
    const h = outbound()
    h.sent()
    for (let i = 0; i < 3; i++) h.machine.timeout(h.now + 10)
    expect(h.machine.poll()).toBeUndefined()
    expect(h.machine.state).toBe('handshaking')
  })

  it('disarms the handshake deadline once ready', () => {
    const h = readyOutbound()
    expect(h.machine.deadlines().map((d) => d.name)).not.toContain('handshake')
  })
})

describe('handshake: messages out of order', () => {
  it('drops and scores any message before the peer version, verack included', () => {
    const h = outbound()
    h.received(verack).received({ command: 'inv', items: [] })
    const mis = h.events().filter((e) => e.type === 'misbehavior')
    expect(mis.map((e) => (e.type === 'misbehavior' ? e.offense : undefined))).toEqual([
      { kind: 'before-handshake', command: 'verack', state: 'awaiting-version' },
      { kind: 'before-handshake', command: 'inv', state: 'awaiting-version' },
    ])
    expect(h.machine.misbehaviorScore).toBe(20)
    expect(h.machine.state).toBe('handshaking')
  })

  it('drops and scores data messages between version and verack', () => {
    const h = outbound()
    h.received(versionFrom())
    h.events()
    h.received({ command: 'inv', items: [] })
    const ev = h.events()
    expect(ev).toEqual([
      { type: 'misbehavior', offense: { kind: 'before-handshake', command: 'inv', state: 'awaiting-verack' }, score: 10, threshold: 100 },
    ])
  })

  it('tolerates sendheaders, sendcmpct, feefilter and ping before verack', () => {
    const h = outbound()
    h.received(versionFrom())
    h.sent()
    h.received({ command: 'sendheaders' })
      .received({ command: 'sendcmpct', announce: true, version: 2n })
      .received({ command: 'feefilter', feerate: 5000n })
      .received({ command: 'ping', nonce: 99n })
    expect(h.sent()).toEqual([{ command: 'pong', nonce: 99n }])
    h.received(verack)
    expect(h.machine.misbehaviorScore).toBe(0)
    expect(h.machine.features).toEqual({
      wtxidRelay: false,
      addrv2: false,
      sendHeaders: true,
      compactBlocks: { announce: true, version: 2n },
      feeFilter: 5000n,
    })
  })

  it('scores a duplicate version by 1, before and after verack', () => {
    const h = outbound()
    h.received(versionFrom()).received(versionFrom())
    expect(h.machine.misbehaviorScore).toBe(1)
    h.received(verack).received(versionFrom())
    expect(h.machine.misbehaviorScore).toBe(2)
    expect(h.disconnected()).toBeUndefined()
  })

  it('ignores a second verack', () => {
    const h = readyOutbound()
    h.received(verack)
    expect(h.events()).toEqual([])
    expect(h.machine.misbehaviorScore).toBe(0)
  })

  it.each(['wtxidrelay', 'sendaddrv2'] as const)('disconnects on %s after verack (as Core)', (command) => {
    const h = readyOutbound()
    h.received({ command })
    expect(h.disconnected()).toEqual({ kind: 'unexpected-message', command, state: 'ready' })
  })

  it('disconnects on sendtxrcncl after verack', () => {
    const h = readyOutbound()
    h.received({ command: 'sendtxrcncl', version: 1, salt: 1n })
    expect(h.disconnected()).toEqual({ kind: 'unexpected-message', command: 'sendtxrcncl', state: 'ready' })
  })

  it('ten early messages reach the threshold and disconnect', () => {
    const h = outbound()
    for (let i = 0; i < 9; i++) h.received({ command: 'getaddr' })
    expect(h.disconnected()).toBeUndefined()
    h.received({ command: 'getaddr' })
    expect(h.disconnected()).toEqual({
      kind: 'misbehaving',
      score: 100,
      threshold: 100,
      last: { kind: 'before-handshake', command: 'getaddr', state: 'awaiting-version' },
    })
  })
})

describe('handshake: transition table', () => {
  const states: HandshakeStateName[] = ['idle', 'awaiting-version', 'awaiting-verack', 'ready', 'closed']

  it('has at most one row per (state, input)', () => {
    const keys = HANDSHAKE_TRANSITIONS.map((t) => `${t.from}/${t.input}`)
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('reaches every state from idle', () => {
    const seen = new Set<HandshakeStateName>(['idle'])
    for (let grew = true; grew; ) {
      grew = false
      for (const t of HANDSHAKE_TRANSITIONS) {
        if (seen.has(t.from) && !seen.has(t.to)) {
          seen.add(t.to)
          grew = true
        }
      }
    }
    expect([...seen].sort()).toEqual([...states].sort())
  })

  it('lets every state be closed, and nothing leave closed', () => {
    for (const s of states) expect(nextHandshakeState(s, 'close')).toBe('closed')
    expect(HANDSHAKE_TRANSITIONS.filter((t) => t.from === 'closed').map((t) => t.to)).toEqual(['closed'])
  })

  it('has no row for a version while ready (that is a duplicate-version)', () => {
    expect(nextHandshakeState('ready', 'version')).toBeUndefined()
    expect(nextHandshakeState('ready', 'duplicate-version')).toBe('ready')
  })

  it('prints as an aligned table with one line per row', () => {
    const text = renderHandshakeTransitions()
    const lines = text.split('\n')
    expect(lines).toHaveLength(HANDSHAKE_TRANSITIONS.length + 1)
    expect(lines[0]).toMatch(/^from\s+input\s+to\s+effect$/)
    expect(lines).toContain(
      'awaiting-verack   verack             ready             send sendheaders?, sendcmpct?, feefilter?; event ready',
    )
  })

  it('uses the default user agent', () => {
    const h = outbound()
    expect((h.sent()[0] as MessageOf<'version'>).userAgent).toBe(DEFAULT_USER_AGENT)
  })
})
