import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { bsv, mainnet } from '@bitp2p/wire'
import { encodeExtHeader, encodeFrame } from '@bitp2p/wire/codecs'
import {
  CommandMeter,
  FrameMeter,
  MAX_METERED_COMMANDS,
  OVERFLOW_COMMAND_LABEL,
  UNFRAMED_LABEL,
  UNKNOWN_COMMAND_LABEL,
} from '../../src/core/meter.js'

const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  parts.reduce((o, p) => (out.set(p, o), o + p.length), 0)
  return out
}

/** Push `stream` in pieces whose sizes cycle through `cuts`; returns where each push ended. */
function pushIn(m: FrameMeter, stream: Uint8Array, cuts: readonly number[], ends: number[] = []): number[] {
  let o = 0
  for (let i = 0; o < stream.length; i++) {
    const n = cuts[i % cuts.length]!
    m.push(stream.subarray(o, o + n))
    o = Math.min(stream.length, o + n)
    ends.push(o)
  }
  return ends
}

describe('FrameMeter: onFrame', () => {
  const magic = mainnet.magic
  const frames = [
    encodeFrame(magic, 'verack', new Uint8Array(0)),
    encodeFrame(magic, 'ping', new Uint8Array(8).fill(1)),
    encodeFrame(magic, 'tx', new Uint8Array(300).fill(2)),
    encodeFrame(magic, 'sendheaders', new Uint8Array(0)),
    encodeFrame(magic, 'ping', new Uint8Array(8).fill(3)),
  ]
  const stream = concat(frames)
  const frameEnds = frames.map((_, i) => frames.slice(0, i + 1).reduce((n, f) => n + f.length, 0))

  it('hears each frame once, in order, with its size, in the push that carries its last byte, whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }), fc.boolean(), (cuts, withNetwork) => {
        const heard: { command: string; bytes: number; push: number }[] = []
        let pushes = 0
        const m = new FrameMeter({ network: withNetwork ? mainnet : undefined, onFrame: (command, bytes) => heard.push({ command, bytes, push: pushes }) })
        const ends: number[] = []
        let o = 0
        for (let i = 0; o < stream.length; i++) {
          const n = cuts[i % cuts.length]!
          m.push(stream.subarray(o, o + n))
          o = Math.min(stream.length, o + n)
          ends.push(o)
          pushes++
        }
        expect(heard.map((h) => [h.command, h.bytes])).toEqual([
          ['verack', 24],
          ['ping', 32],
          ['tx', 324],
          ['sendheaders', 24],
          ['ping', 32],
        ])
        // The push a frame was heard in is the one that took its last byte.
        for (let i = 0; i < heard.length; i++) {
          const p = heard[i]!.push
          expect(ends[p]!).toBeGreaterThanOrEqual(frameEnds[i]!)
          expect(p === 0 ? 0 : ends[p - 1]!).toBeLessThan(frameEnds[i]!)
        }
        // The counts are what they were without a callback.
        expect(m.counts.get('ping')).toEqual({ messages: 2, bytes: 64 })
        expect(m.totalBytes).toBe(stream.length)
      }),
    )
  })

  it('with the network, a wrong magic ends framing: one unframed report, later bytes counted under it', () => {
    const wrong = encodeFrame(Uint8Array.of(1, 2, 3, 4), 'ping', new Uint8Array(8))
    const s = concat([frames[1]!, wrong, frames[2]!])
    const heard: [string, number][] = []
    const m = new FrameMeter({ network: mainnet, onFrame: (c, b) => heard.push([c, b]) })
    pushIn(m, s, [7])
    expect(heard).toEqual([
      ['ping', 32],
      [UNFRAMED_LABEL, 24],
    ])
    expect(m.counts.get(UNFRAMED_LABEL)).toEqual({ messages: 1, bytes: s.length - 32 })
    expect(m.totalBytes).toBe(s.length)
    // Without the network the meter trusts any magic.
    const blind = new FrameMeter()
    blind.push(s)
    expect([...blind.counts.keys()]).toEqual(['ping', 'tx'])
    expect(blind.counts.get('ping')!.messages).toBe(2)
  })

  it('names at most MAX_METERED_COMMANDS commands; the rest are (other), bad command fields (invalid)', () => {
    const many = Array.from({ length: MAX_METERED_COMMANDS + 10 }, (_, i) => encodeFrame(magic, `cmd${i}`, new Uint8Array(1)))
    const bad = encodeFrame(magic, 'ping', new Uint8Array(0))
    bad[5] = 0x01 // a control byte in the command
    const heard: string[] = []
    const m = new FrameMeter({ network: mainnet, onFrame: (c) => heard.push(c) })
    m.push(concat([...many, bad]))
    expect(m.counts.size).toBe(MAX_METERED_COMMANDS + 2)
    expect(m.counts.get(OVERFLOW_COMMAND_LABEL)).toEqual({ messages: 10, bytes: 10 * 25 })
    expect(m.counts.get(UNKNOWN_COMMAND_LABEL)).toEqual({ messages: 1, bytes: 24 })
    expect(heard.slice(MAX_METERED_COMMANDS - 1)).toEqual([`cmd${MAX_METERED_COMMANDS - 1}`, ...Array(10).fill(OVERFLOW_COMMAND_LABEL), UNKNOWN_COMMAND_LABEL])
  })
})

describe('FrameMeter: BSV extended messages', () => {
  const magic = bsv.magic
  const payload = new Uint8Array(100).fill(9)
  const ext = concat([encodeExtHeader(magic, 'block', payload.length), payload])
  const ping = encodeFrame(magic, 'ping', new Uint8Array(8))

  it('reads the second header (real command, u64 length) on a network with extended messages, whatever the chunking', () => {
    expect(bsv.supportsExtMsg).toBe(true)
    const s = concat([ping, ext, ping])
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 10 }), (cuts) => {
        const heard: [string, number][] = []
        const m = new FrameMeter({ network: bsv, onFrame: (c, b) => heard.push([c, b]) })
        pushIn(m, s, cuts)
        expect(heard).toEqual([
          ['ping', 32],
          ['block', 44 + 100],
          ['ping', 32],
        ])
        expect([...m.counts]).toEqual([
          ['ping', { messages: 2, bytes: 64 }],
          ['block', { messages: 1, bytes: 144 }],
        ])
      }),
    )
  })

  it('skips a payload over 4 GB by its 64-bit length without holding it', () => {
    const length = 5 * 2 ** 30 + 7 // past what the v1 length field can say
    const heard: [string, number][] = []
    const m = new FrameMeter({ network: bsv, onFrame: (c, b) => heard.push([c, b]) })
    m.push(encodeExtHeader(magic, 'block', length))
    const zeros = new Uint8Array(1 << 24)
    let left = length
    while (left > 0) {
      const n = Math.min(left, zeros.length)
      m.push(zeros.subarray(0, n))
      left -= n
      if (left > 0) expect(heard).toEqual([])
    }
    m.push(ping)
    expect(heard).toEqual([
      ['block', 44 + length],
      ['ping', 32],
    ])
    expect(m.counts.get('block')).toEqual({ messages: 1, bytes: 44 + length })
  })

  it('a length past 2^53 cannot be followed (the decoder refuses it too): unframed', () => {
    const h = encodeExtHeader(magic, 'block', 0)
    h.fill(0xff, 40, 44) // high word of the u64 length
    const heard: string[] = []
    const m = new FrameMeter({ network: bsv, onFrame: (c) => heard.push(c) })
    m.push(concat([h, ping]))
    expect(heard).toEqual([UNFRAMED_LABEL])
    expect(m.counts.get(UNFRAMED_LABEL)).toEqual({ messages: 1, bytes: 44 + 32 })
  })

  it('without extended messages (or without the network) the outer header is all there is', () => {
    for (const network of [mainnet, undefined]) {
      const m = new FrameMeter({ network: network && { ...network, magic } })
      m.push(ext)
      expect([...m.counts.keys()]).toEqual(['extmsg'])
      expect(m.counts.get('extmsg')).toEqual({ messages: 1, bytes: 24 + 0xffffffff })
    }
  })


})

describe('CommandMeter (what the pool counts from its peers\' frame events)', () => {
  it('adds frames per command, names at most MAX_METERED_COMMANDS, the rest under the overflow label', () => {
    const m = new CommandMeter()
    m.count('ping', 32)
    m.count('ping', 32)
    m.count('inv', 61)
    for (let i = 0; i < MAX_METERED_COMMANDS + 3; i++) m.count(`cmd${i}`, 24)
    expect(m.counts.get('ping')).toEqual({ messages: 2, bytes: 64 })
    expect(m.counts.get('inv')).toEqual({ messages: 1, bytes: 61 })
    expect(m.counts.size).toBe(MAX_METERED_COMMANDS + 1)
    // 2 names taken by ping and inv: 62 more fit, 5 overflow.
    expect(m.counts.get(OVERFLOW_COMMAND_LABEL)).toEqual({ messages: 5, bytes: 5 * 24 })
    expect(m.totalBytes).toBe(64 + 61 + (MAX_METERED_COMMANDS + 3) * 24)
  })
})
