import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { FrameDecoder, type FrameDecoderEvent, type FrameDecoderOptions } from '../../src/framing/decoder.js'
import { CODECS } from '../../src/messages/registry.js'
import { encodeExtHeader, encodeFrame, encodeHeader, HEADER_BYTES } from '../../src/framing/header.js'
import { sha256d } from '../../src/hash/sha256.js'
import { WireError } from '../../src/errors.js'
import { concatBytes, fromHex, toHex } from '../../src/bytes/hex.js'

const MAGIC = fromHex('fabfb5da') // regtest
const ascii = (s: string) => new TextEncoder().encode(s)

function opts(extra: Partial<FrameDecoderOptions> = {}): FrameDecoderOptions {
  return { magic: MAGIC, maxPayload: 4_000_000, commandLimit: (c) => (c === 'ping' ? 8 : undefined), ...extra }
}

/** Feed `bytes` in chunks of the given sizes (cycled) and collect every event. */
function feed(bytes: Uint8Array, sizes: number[], o = opts()): FrameDecoderEvent[] {
  const d = new FrameDecoder(o)
  const out: FrameDecoderEvent[] = []
  let i = 0
  let k = 0
  // Stop at the first error, as a driver does (a failed decoder only repeats it).
  while (i < bytes.length && !d.failed) {
    const n = Math.max(1, sizes[k++ % sizes.length]!)
    out.push(...d.push(bytes.subarray(i, i + n)))
    i += n
  }
  return out
}

/** A comparable summary of events: frames as command+hex, errors as code. */
function summary(events: FrameDecoderEvent[]): string[] {
  const out: string[] = []
  let streamed: Uint8Array[] = []
  for (const e of events) {
    if (e.type === 'frame') out.push(`frame ${e.command} ${toHex(e.payload)} ${e.wireBytes}`)
    else if (e.type === 'error') out.push(`error ${e.error.code}`)
    else if (e.type === 'payload-start') {
      streamed = []
      out.push(`start ${e.command} ${e.length}`)
    } else if (e.type === 'payload-chunk') streamed.push(e.bytes.slice())
    else out.push(`end ${e.command} ${toHex(concatBytes(...streamed))} ${e.wireBytes}`)
  }
  return out
}

const ping = encodeFrame(MAGIC, 'ping', fromHex('0102030405060708'))
const verack = encodeFrame(MAGIC, 'verack', new Uint8Array(0))

describe('frame header', () => {
  it('lays out magic, NUL-padded command, LE length and sha256d checksum', () => {
    const payload = fromHex('0102030405060708')
    const h = encodeHeader(MAGIC, 'ping', payload)
    expect(toHex(h.subarray(0, 4))).toBe('fabfb5da')
    expect(toHex(h.subarray(4, 16))).toBe(toHex(ascii('ping')) + '00'.repeat(8))
    expect(toHex(h.subarray(16, 20))).toBe('08000000')
    expect(toHex(h.subarray(20, 24))).toBe(toHex(sha256d(payload).subarray(0, 4)))
  })
  it('uses the well-known empty-payload checksum 5df6e0e2', () => {
    expect(toHex(verack.subarray(20, 24))).toBe('5df6e0e2')
  })
  it('refuses to encode a command longer than 12 characters', () => {
    expect(() => encodeFrame(MAGIC, 'thirteenchars', new Uint8Array(0))).toThrow(WireError)
  })
})

describe('FrameDecoder', () => {
  it('decodes back-to-back frames, including an empty payload', () => {
    const ev = feed(concatBytes(ping, verack, ping), [1 << 20])
    expect(summary(ev)).toEqual([
      'frame ping 0102030405060708 32',
      'frame verack  24',
      'frame ping 0102030405060708 32',
    ])
  })

  it('gives the same frames one byte at a time as all at once', () => {
    const stream = concatBytes(ping, verack, encodeFrame(MAGIC, 'inv', new Uint8Array(1000).fill(7)))
    expect(summary(feed(stream, [1]))).toEqual(summary(feed(stream, [stream.length])))
  })

  it('rejects wrong magic at the first wrong byte, before anything else is read', () => {
    const mainnetPing = concatBytes(fromHex('f9beb4d9'), ping.subarray(4))
    const ev = feed(mainnetPing, [1])
    expect(ev).toHaveLength(1)
    expect(ev[0]!.type).toBe('error')
    const err = (ev[0] as { error: WireError }).error
    expect(err.code).toBe('BAD_MAGIC')
    expect(err.detail.offset).toBe(0)
  })

  it('drops an HTTP request sent to a P2P port as BAD_MAGIC', () => {
    const ev = feed(ascii('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), [5])
    expect(summary(ev)).toEqual(['error BAD_MAGIC'])
  })

  it('rejects a command with a non-printable byte or non-NUL padding', () => {
    const bad1 = ping.slice()
    bad1[5] = 0x01
    expect(summary(feed(bad1, [3]))).toEqual(['error BAD_COMMAND'])
    const bad2 = ping.slice()
    bad2[12] = 0x41 // 'A' after the NUL that ends "ping"
    expect(summary(feed(bad2, [3]))).toEqual(['error BAD_COMMAND'])
    const empty = ping.slice()
    empty.fill(0, 4, 16)
    expect(summary(feed(empty, [3]))).toEqual(['error BAD_COMMAND'])
  })

  it('rejects a length over the global cap as soon as the length field is read', () => {
    const h = encodeHeader(MAGIC, 'block', new Uint8Array(0))
    h.set([0x00, 0x00, 0x00, 0xff], 16) // 4,278,190,080 bytes claimed
    const d = new FrameDecoder(opts())
    const ev = d.push(h.subarray(0, 20)) // checksum not even sent
    expect(summary(ev)).toEqual(['error OVERSIZE'])
    expect((ev[0] as { error: WireError }).error.detail).toMatchObject({ field: 'maxMessageBytes', limit: 4_000_000 })
    expect(d.bufferedBytes).toBeLessThanOrEqual(HEADER_BYTES)
  })

  it('rejects a length over the per-command cap before buffering the payload', () => {
    const big = encodeFrame(MAGIC, 'ping', new Uint8Array(9))
    const d = new FrameDecoder(opts())
    const ev = d.push(big.subarray(0, 24))
    expect(summary(ev)).toEqual(['error OVERSIZE'])
    expect((ev[0] as { error: WireError }).error.detail).toMatchObject({ command: 'ping', limit: 8, actual: 9 })
  })

  it('caps unknown commands separately and passes them through as frames', () => {
    const o = opts({ unknownCommandLimit: 100 })
    const small = encodeFrame(MAGIC, 'futurecmd', new Uint8Array(100))
    expect(summary(feed(small, [7], o))[0]).toMatch(/^frame futurecmd /)
    const big = encodeFrame(MAGIC, 'futurecmd', new Uint8Array(101))
    expect(summary(feed(big, [7], o))).toEqual(['error OVERSIZE'])
  })

  it('rejects a bad checksum after the payload, whatever the chunking', () => {
    const bad = ping.slice()
    bad[HEADER_BYTES + 3] ^= 1
    for (const sizes of [[1], [5], [HEADER_BYTES + 1], [1000]]) {
      expect(summary(feed(bad, sizes))).toEqual(['error BAD_CHECKSUM'])
    }
  })

  it('judges the magic on all four bytes, and names them (so a tool can tell which network they are)', () => {
    const d = new FrameDecoder(opts())
    // Mainnet's first byte, then garbage: not mainnet, and the error says what came.
    expect(d.push(fromHex('f9'))).toEqual([])
    expect(d.failed).toBe(false)
    const [ev] = d.push(fromHex('000102'))
    const err = (ev as { error: WireError }).error
    expect([err.code, err.detail]).toEqual(['BAD_MAGIC', { offset: 0, expected: MAGIC[0], actual: 0xf9, received: 'f9000102' }])
  })

  it('stays failed: every later push repeats the same error', () => {
    const d = new FrameDecoder(opts())
    const first = d.push(fromHex('00000000'))
    expect(d.failed).toBe(true)
    const again = d.push(ping)
    expect(again).toHaveLength(1)
    expect((again[0] as { error: WireError }).error).toBe((first[0] as { error: WireError }).error)
  })

  it('holds at most one frame: a slow payload is never sized from its length field', () => {
    const payload = new Uint8Array(3_000_000).fill(1)
    const frame = encodeFrame(MAGIC, 'block', payload)
    const d = new FrameDecoder(opts())
    d.push(frame.subarray(0, HEADER_BYTES + 10))
    expect(d.bufferedBytes).toBe(HEADER_BYTES + 10)
    const rest = d.push(frame.subarray(HEADER_BYTES + 10))
    expect(rest).toHaveLength(1)
    expect((rest[0] as { payload: Uint8Array }).payload.length).toBe(3_000_000)
  })

  it('streams the payload of stream commands without holding it, checksum checked at the end', () => {
    const payload = new Uint8Array(100_000).map((_, i) => i & 0xff)
    const frame = encodeFrame(MAGIC, 'block', payload)
    const o = opts({ streamCommands: new Set(['block']) })
    const d = new FrameDecoder(o)
    const ev: FrameDecoderEvent[] = []
    for (let i = 0; i < frame.length; i += 4096) {
      ev.push(...d.push(frame.subarray(i, i + 4096)))
      expect(d.bufferedBytes).toBeLessThanOrEqual(HEADER_BYTES)
    }
    expect(ev[0]).toMatchObject({ type: 'payload-start', command: 'block', length: 100_000 })
    expect(ev.at(-1)).toMatchObject({ type: 'payload-end', command: 'block', length: 100_000 })
    const chunks = ev.filter((e) => e.type === 'payload-chunk') as { bytes: Uint8Array; offset: number }[]
    expect(toHex(concatBytes(...chunks.map((c) => c.bytes)))).toBe(toHex(payload))
    expect(chunks.map((c) => c.offset)).toEqual(chunks.map((_, i) => (i === 0 ? 0 : 4096 * i - HEADER_BYTES)))

    const bad = frame.slice()
    bad[frame.length - 1] ^= 0xff
    expect(summary(feed(bad, [4096], o)).at(-1)).toBe('error BAD_CHECKSUM')
  })

  it('reads BSV extended messages only when enabled', () => {
    const payload = new Uint8Array(300).fill(9)
    const ext = concatBytes(encodeExtHeader(MAGIC, 'block', payload.length), payload)
    expect(toHex(ext.subarray(4, 24))).toBe(toHex(ascii('extmsg')) + '000000000000' + 'ffffffff' + '00000000')
    const on = opts({ extmsg: true, maxPayload: Number.MAX_SAFE_INTEGER })
    expect(summary(feed(ext, [1], on))).toEqual([`frame block ${toHex(payload)} 344`])
    // Disabled: the 0xffffffff length is simply over the cap.
    expect(summary(feed(ext, [1]))).toEqual(['error OVERSIZE'])
  })

  it('accepts an extended length above 4 GB up to its cap and rejects it beyond', () => {
    const fiveGB = 5 * 1024 ** 3
    const h = encodeExtHeader(MAGIC, 'block', fiveGB)
    const d = new FrameDecoder(opts({ extmsg: true, maxPayload: 8 * 1024 ** 3, streamCommands: new Set(['block']) }))
    expect(d.push(h)).toEqual([])
    expect(d.currentCommand).toBe('block')
    const first = d.push(new Uint8Array(10))
    expect(first[0]).toMatchObject({ type: 'payload-start', length: fiveGB })
    const capped = new FrameDecoder(opts({ extmsg: true, maxPayload: 4 * 1024 ** 3 }))
    expect(summary(capped.push(h))).toEqual(['error OVERSIZE'])
  })

  it('property: any chunking of any frame sequence gives identical events', () => {
    const frameArb = fc.record({
      command: fc.constantFrom('ping', 'inv', 'tx', 'x'),
      payload: fc.uint8Array({ maxLength: 300 }),
    })
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        (frames, sizes, corruptAt) => {
          let bytes = concatBytes(...frames.map((f) => encodeFrame(MAGIC, f.command, f.payload)))
          if (corruptAt !== undefined && bytes.length > 0) {
            bytes = bytes.slice()
            bytes[corruptAt % bytes.length] ^= 0x5a
          }
          expect(summary(feed(bytes, sizes))).toEqual(summary(feed(bytes, [bytes.length || 1])))
        },
      ),
      { numRuns: 300, seed: 42 },
    )
  })

  it('property: errors are the same in full (code, message, detail) whatever the chunking, and name the checksum bytes', () => {
    // A frame inside one chunk is read in place and falls back to the
    // byte-by-byte path on any failed check: the error must not depend on
    // which path saw the frame.
    const frameArb = fc.record({
      command: fc.constantFrom('ping', 'inv', 'x'),
      payload: fc.uint8Array({ maxLength: 120 }),
    })
    const full = (events: FrameDecoderEvent[]) =>
      events.map((e) => (e.type === 'error' ? { code: e.error.code, message: e.error.message, detail: e.error.detail } : e.type))
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 5 }), fc.nat(), fc.integer({ min: 1, max: 40 }), (frames, corruptAt, size) => {
        const bytes = concatBytes(...frames.map((f) => encodeFrame(MAGIC, f.command, f.payload))).slice()
        bytes[corruptAt % bytes.length] ^= 0x5a
        expect(full(feed(bytes, [size]))).toEqual(full(feed(bytes, [bytes.length])))
        expect(full(feed(bytes, [1]))).toEqual(full(feed(bytes, [bytes.length])))
      }),
      { numRuns: 300, seed: 43 },
    )
    // A short payload's checksum, split across chunks or not: the header's bytes and the payload's.
    const bad = ping.slice()
    bad[20] ^= 0xff
    const expected = { command: 'ping', expected: toHex(bad.subarray(20, 24)), actual: toHex(sha256d(bad.subarray(HEADER_BYTES)).subarray(0, 4)) }
    for (const sizes of [[bad.length], [HEADER_BYTES + 3], [1]]) {
      const [e] = feed(bad, sizes)
      expect(e).toMatchObject({ type: 'error', error: { code: 'BAD_CHECKSUM', detail: expected } })
    }
  })

  it('pushTo hands a sink the frames push returns, as ranges of the bytes, with the other events in the same order', () => {
    const frames = [ping, verack, encodeFrame(MAGIC, 'inv', new Uint8Array(300).fill(3)), ping]
    const stream = concatBytes(...frames)
    for (const size of [stream.length, 7, 1]) {
      const viaPush: string[] = []
      const viaSink: string[] = []
      const a = new FrameDecoder(opts({ streamCommands: new Set(['inv']) }))
      const b = new FrameDecoder(opts({ streamCommands: new Set(['inv']) }))
      const sink = {
        frame(command: string, bytes: Uint8Array, start: number, end: number, wireBytes: number) {
          viaSink.push(...summary([{ type: 'frame', command, payload: bytes.slice(start, end), wireBytes }]))
        },
        event(ev: FrameDecoderEvent) {
          viaSink.push(ev.type === 'payload-chunk' ? `chunk ${ev.offset} ${ev.bytes.length}` : `${ev.type}`)
        },
      }
      for (let i = 0; i < stream.length; i += size) {
        for (const ev of a.push(stream.subarray(i, i + size))) {
          if (ev.type === 'frame') viaPush.push(...summary([ev]))
          else viaPush.push(ev.type === 'payload-chunk' ? `chunk ${ev.offset} ${ev.bytes.length}` : `${ev.type}`)
        }
        b.pushTo(stream.subarray(i, i + size), sink)
      }
      expect(viaSink).toEqual(viaPush)
      expect(viaPush.filter((e) => e.startsWith('frame'))).toHaveLength(3)
      expect(b.bytesConsumed).toBe(stream.length)
    }
  })

  it('property: random bytes produce only frames or a WireError event, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (junk, withMagic) => {
        const bytes = withMagic ? concatBytes(MAGIC, junk) : junk
        const ev = feed(bytes, [13])
        for (const e of ev) if (e.type === 'error') expect(e.error).toBeInstanceOf(WireError)
        expect(ev.filter((e) => e.type === 'error').length).toBeLessThanOrEqual(1)
      }),
      { numRuns: 500, seed: 7 },
    )
  })
})

describe('command names', () => {
  it("names every frame's command right: the registry's commands and others, repeated, interleaved, in any order", () => {
    const known = CODECS.map((c) => c.command)
    // More unknown commands than a decoder's own cache has slots (16), so some evict others.
    const unknown = Array.from({ length: 40 }, (_, i) => `x${i.toString(36)}${'abcdefghij'.slice(0, i % 10)}`)
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...known, ...unknown), { minLength: 1, maxLength: 200 }), (commands) => {
        const d = new FrameDecoder({ magic: MAGIC, maxPayload: 1000 })
        const events = d.push(concatBytes(...commands.map((c) => encodeFrame(MAGIC, c, new Uint8Array(0)))))
        expect(events.map((e) => (e.type === 'frame' ? e.command : e.type))).toEqual(commands)
      }),
      { numRuns: 50 },
    )
  })
})
