import { afterEach, describe, expect, it, vi } from 'vitest'
import { encodeMessage, regtest, WireError } from '@bitp2p/wire'
import { codecFor, encodeMessageFrame } from '@bitp2p/wire/codecs'
import { V1Codec } from '../../src/core/codec.js'

const CTX = { protocolVersion: 70016, maxBlockPayload: regtest.maxBlockPayload }

describe('V1Codec', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('decodes whole and split frames into a meter event and a message each, in order', () => {
    const bytes = new Uint8Array([...encodeMessage({ command: 'ping', nonce: 5n }, regtest), ...encodeMessage({ command: 'verack' }, regtest)])
    for (const cut of [bytes.length, 7, 30, 33]) {
      const codec = new V1Codec({ network: regtest })
      const events = [...codec.push(bytes.subarray(0, cut)), ...codec.push(bytes.subarray(cut))]
      expect(events, `cut at ${cut}`).toMatchObject([
        { type: 'frame', direction: 'in', command: 'ping', wireBytes: 32 },
        { type: 'message', message: { command: 'ping', nonce: 5n }, wireBytes: 32 },
        { type: 'frame', direction: 'in', command: 'verack', wireBytes: 24 },
        { type: 'message', message: { command: 'verack' }, wireBytes: 24 },
      ])
    }
  })

  it("reports a payload that does not decode as 'invalid' (the peer's fault) and carries on", () => {
    const bad = encodeMessageFrame(regtest.magic, { command: 'unknown', rawCommand: 'ping', payload: Uint8Array.of(1, 2, 3) }, CTX)
    const codec = new V1Codec({ network: regtest })
    const events = codec.push(new Uint8Array([...bad, ...encodeMessage({ command: 'verack' }, regtest)]))
    expect(events[1]).toMatchObject({ type: 'invalid', command: 'ping' })
    expect((events[1] as { error: unknown }).error).toBeInstanceOf(WireError)
    expect(events[3]).toMatchObject({ type: 'message', message: { command: 'verack' } })
  })

  it("reports a payload decoder's own bug typed ('invalid', WireError INVALID_VALUE, as wire's decodePayload does), never as a framing failure", () => {
    const ping = codecFor('ping')!
    vi.spyOn(ping, 'decode').mockImplementation(() => {
      throw new TypeError('decoder bug')
    })
    const codec = new V1Codec({ network: regtest })
    const events = codec.push(new Uint8Array([...encodeMessage({ command: 'ping', nonce: 1n }, regtest), ...encodeMessage({ command: 'verack' }, regtest)]))
    expect(events.map((e) => e.type)).toEqual(['frame', 'invalid', 'frame', 'message'])
    expect((events[1] as { error: WireError }).error).toMatchObject({ code: 'INVALID_VALUE' })
  })

  it('writeMessage queues the same bytes as write(command, encodePayload(...)), and the extended-message network takes the general path', () => {
    const codec = new V1Codec({ network: regtest })
    const n = codec.writeMessage({ command: 'ping', nonce: 9n }, CTX)
    const frame = codec.poll()!
    expect(n).toBe(frame.length)
    expect(frame).toEqual(encodeMessage({ command: 'ping', nonce: 9n }, regtest))
    const bsvLike = { ...regtest, supportsExtMsg: true }
    const ext = new V1Codec({ network: bsvLike })
    expect(ext.writeMessage({ command: 'ping', nonce: 9n }, CTX)).toBe(32)
    expect(ext.poll()).toEqual(frame)
  })
})
