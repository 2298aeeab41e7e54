import { describe, expect, it } from 'vitest'
import { WireError } from '@bitp2p/wire'
import { describeDisconnect, disconnectPolicy, isLocalDisconnect, type DisconnectReason } from '../../../src/core/fsm/reasons.js'
import { TransportError } from '../../../src/core/ports.js'

const request = { id: 3, kind: 'ping' as const, request: { kind: 'ping' as const }, sentAt: 0 }

/** One reason of every kind, with the policy it must have: [reason, transient, banScore, unresponsive]. */
const TABLE: [DisconnectReason, boolean, number, boolean][] = [
  [{ kind: 'handshake-timeout', state: 'awaiting-version', waitedMs: 60_000 }, true, 0, true],
  [{ kind: 'ping-timeout', nonce: 1n, waitedMs: 120_000 }, true, 0, true],
  [{ kind: 'stalled', request, waitedMs: 60_000 }, true, 0, true],
  [{ kind: 'send-buffer-full', buffered: 40e6, limit: 32e6 }, true, 0, true],
  [{ kind: 'protocol-version', min: 70001, actual: 60002 }, false, 0, false],
  [{ kind: 'missing-services', required: 9n, actual: 1n }, false, 0, false],
  [{ kind: 'self-connection', nonce: 5n }, false, 0, false],
  [{ kind: 'unexpected-message', command: 'wtxidrelay', state: 'ready' }, false, 0, false],
  [{ kind: 'misbehaving', score: 110, threshold: 100, last: { kind: 'duplicate-version' } }, false, 110, false],
  [{ kind: 'framing', error: new WireError('OVERSIZE', 'x') }, false, 100, false],
  [{ kind: 'framing', error: new WireError('BAD_CHECKSUM', 'x') }, false, 50, false],
  [{ kind: 'framing', error: new WireError('BAD_MAGIC', 'x') }, false, 0, false],
  [{ kind: 'transport', error: new TransportError('reset', 'x') }, true, 0, false],
  [{ kind: 'transport', error: new TransportError('timeout', 'x') }, true, 0, true],
  [{ kind: 'transport', error: new TransportError('connect-failed', 'x') }, true, 0, true],
  [{ kind: 'transport', error: undefined }, true, 0, false],
  [{ kind: 'aborted' }, true, 0, false],
  [{ kind: 'local', reason: 'shutdown' }, true, 0, false],
  // The pool's and the crawler's own closes: no fault of the peer's.
  [{ kind: 'evicted' }, true, 0, false],
  [{ kind: 'feeler-done' }, true, 0, false],
  [{ kind: 'banned', reason: 'misbehaving: score 100 >= 100' }, true, 0, false],
  [{ kind: 'pool-stopped' }, true, 0, false],
  [{ kind: 'crawled' }, true, 0, false],
]

/** The kinds by which we end a connection ourselves. */
const LOCAL_KINDS = ['aborted', 'local', 'evicted', 'feeler-done', 'banned', 'pool-stopped', 'crawled']

describe('disconnectPolicy', () => {
  it.each(TABLE)('%o', (reason, transient, banScore, unresponsive) => {
    expect(disconnectPolicy(reason)).toEqual({ transient, banScore, unresponsive })
  })

  it('never bans for unresponsiveness', () => {
    for (const [reason] of TABLE) {
      const p = disconnectPolicy(reason)
      if (p.unresponsive) expect(p.banScore).toBe(0)
    }
  })
})

describe('isLocalDisconnect', () => {
  it('is true exactly for the closes we decide (a caller, an AbortSignal, the pool, the crawler)', () => {
    for (const [reason] of TABLE) expect(isLocalDisconnect(reason), reason.kind).toBe(LOCAL_KINDS.includes(reason.kind))
  })
})

describe('describeDisconnect', () => {
  it('says what happened with the numbers', () => {
    expect(describeDisconnect({ kind: 'protocol-version', min: 70001, actual: 60002 })).toBe('protocol-version: 60002 < 70001')
    expect(describeDisconnect({ kind: 'missing-services', required: 9n, actual: 1n })).toBe('missing-services: need 0x9, have 0x1')
    expect(describeDisconnect({ kind: 'stalled', request, waitedMs: 5 })).toBe('stalled: ping request #3 unanswered after 5 ms')
    expect(describeDisconnect({ kind: 'local' })).toBe('local')
    expect(describeDisconnect({ kind: 'evicted' })).toBe('evicted: inbound slots full')
    expect(describeDisconnect({ kind: 'feeler-done' })).toBe('feeler-done: address tested')
    expect(describeDisconnect({ kind: 'banned', reason: 'manual' })).toBe('banned: manual')
    expect(describeDisconnect({ kind: 'pool-stopped' })).toBe('pool-stopped')
    expect(describeDisconnect({ kind: 'crawled' })).toBe('crawled: visit complete')
  })

  it('describes every kind in the table', () => {
    for (const [reason] of TABLE) expect(describeDisconnect(reason).startsWith(reason.kind)).toBe(true)
  })
})
