import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { SeededRandom } from '@bitp2p/session'
import { encodeMessage, mainnet, MessageDecoder, regtest, type KnownMessage } from '@bitp2p/wire'
import { encodeFrame } from '@bitp2p/wire/codecs'
import type { TraceEvent } from '../../src/trace.js'
import { BAD_FRAME_LABEL, CommandLabeler, UNFRAMED_LABEL } from '../../src/peers/labeler.js'
import { addrFloodFrame, foreignMagic, frameCommand, invFloodFrame } from '../../src/peers/behavior.js'

const MESSAGES: KnownMessage[] = [
  { command: 'verack' },
  { command: 'ping', nonce: 42n },
  { command: 'sendheaders' },
  { command: 'getaddr' },
  { command: 'inv', items: [{ type: 1, hash: new Uint8Array(32).fill(3) }] },
]
const frames = MESSAGES.map((m) => encodeMessage(m, regtest))
const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0))
frames.reduce((o, f) => (stream.set(f, o), o + f.length), 0)

const data = (conn: number, from: string, size: number): TraceEvent => ({ time: 0, conn, kind: 'data', from, to: 'x', size })

/** Split `bytes` at the given cut points (sorted, deduplicated, inside the array). */
function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const ps = [...new Set(points)].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of [...ps, bytes.length]) {
    out.push(bytes.subarray(prev, p))
    prev = p
  }
  return out
}

describe('CommandLabeler', () => {
  it('names each command once, however the stream is chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (points) => {
        const l = new CommandLabeler(regtest.magic)
        const labels = cut(stream, points).map((c) => l.hook(data(1, 'a', c.length), c)!)
        const named = labels.filter((s) => !s.endsWith('~')).flatMap((s) => s.split('+'))
        expect(named).toEqual(MESSAGES.map((m) => m.command))
      }),
    )
  })

  it('labels a continuation with the command it continues', () => {
    const l = new CommandLabeler(regtest.magic)
    const inv = frames[4]!
    expect(l.hook(data(1, 'a', 30), inv.subarray(0, 30))).toBe('inv')
    expect(l.hook(data(1, 'a', 10), inv.subarray(30, 40))).toBe('inv~')
  })

  it('keeps the two directions of a connection apart, and forgets each when its receiver closes', () => {
    const l = new CommandLabeler(regtest.magic)
    const ping = frames[1]!
    expect(l.hook(data(1, 'a', 20), ping.subarray(0, 20))).toBe('~')
    expect(l.hook(data(1, 'b', 24), frames[0]!)).toBe('verack')
    expect(l.hook(data(1, 'a', ping.length - 20), ping.subarray(20))).toBe('ping')
    expect(l.tracked).toBe(1)
    l.hook({ time: 0, conn: 1, kind: 'close', from: 'a', to: 'b', size: 0, reason: 'remote' }, undefined)
    expect(l.tracked).toBe(1)
    l.hook({ time: 0, conn: 1, kind: 'close', from: 'b', to: 'a', size: 0, reason: 'local' }, undefined)
    expect(l.tracked).toBe(0)
  })

  it('marks a header with a foreign magic, and everything after it on that direction', () => {
    const l = new CommandLabeler(regtest.magic)
    const wrong = encodeMessage({ command: 'verack' }, mainnet)
    expect(l.hook(data(2, 'a', wrong.length), wrong)).toBe(BAD_FRAME_LABEL)
    expect(l.hook(data(2, 'a', frames[0]!.length), frames[0]!)).toBe(UNFRAMED_LABEL)
    expect(l.hook(data(2, 'b', frames[0]!.length), frames[0]!)).toBe('verack')
  })

  it('names commands past its cache of names, and tells apart names that share a prefix', () => {
    // 100 distinct commands (more than the labeler keeps as strings), each sent twice, and names one byte apart.
    const commands = [...Array.from({ length: 100 }, (_, i) => `cmd${i}`), 'ping', 'pin', 'pingg', 'sendheaders', 'sendheader']
    const frame = (command: string) => encodeFrame(regtest.magic, command, new Uint8Array(3))
    const l = new CommandLabeler(regtest.magic)
    const labels = [...commands, ...commands].map((c) => l.hook(data(1, 'a', 27), frame(c)))
    expect(labels).toEqual([...commands, ...commands])
  })

  it('refuses a magic that is not 4 bytes', () => {
    expect(() => new CommandLabeler(new Uint8Array(3))).toThrow(RangeError)
  })
})

describe('misbehaviour frames', () => {
  it('frameCommand reads a frame header, and nothing else', () => {
    expect(frames.map(frameCommand)).toEqual(MESSAGES.map((m) => m.command))
    expect(frameCommand(new Uint8Array(10))).toBeUndefined()
    expect(frameCommand(new Uint8Array(24))).toBeUndefined()
  })

  it('foreignMagic is never the network magic', () => {
    expect(foreignMagic(regtest)).toEqual(mainnet.magic)
    expect(foreignMagic(mainnet)).not.toEqual(mainnet.magic)
  })

  it('flood frames pass framing and fail decoding on their count (OVERSIZE), not on bytes', () => {
    const random = new SeededRandom('flood')
    for (const [frame, command] of [
      [invFloodFrame(regtest, random), 'inv'],
      [addrFloodFrame(regtest, random, 1_700_000_000), 'addr'],
    ] as const) {
      const events = new MessageDecoder({ network: regtest }).push(frame)
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({ type: 'invalid', command, error: { code: 'OVERSIZE' } })
    }
  })
})
