import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { concatBytes } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { encodeFrame } from '../../src/framing/header.js'
import { encodeMessage, encodeMessageFrame, MessageDecoder, type MessageEvent } from '../../src/framing/message-decoder.js'
import { DEFAULT_CODEC_CONTEXT } from '../../src/messages/context.js'
import { decodePayload, decodePayloadRange, encodePayload } from '../../src/messages/registry.js'
import { regtest } from '../../src/network/params.js'
import { handMessages, messageSamples } from '../../fuzz/corpus.js'
import { FuzzRng } from '../../fuzz/rng.js'
import { mutate } from '../../fuzz/mutate.js'

/** One sample payload of every codec (and a few wire forms), framed for regtest. */
const SAMPLES = messageSamples()

/** What decodePayload makes of one payload on its own: the reference for MessageDecoder's events. */
function expectedEvent(command: string, payload: Uint8Array, wireBytes: number): unknown {
  try {
    return { type: 'message', message: decodePayload(command, payload.slice(), DEFAULT_CODEC_CONTEXT), wireBytes }
  } catch (e) {
    return { type: 'invalid', command, error: errorSummary(e as WireError), wireBytes }
  }
}

/** An error as everything it tells: code, message and detail. */
function errorSummary(e: WireError): unknown {
  return { code: e.code, message: e.message, detail: e.detail }
}

/** Events with errors reduced to errorSummary, for toEqual. */
function comparable(events: MessageEvent[]): unknown[] {
  return events.map((e) => (e.type === 'invalid' ? { ...e, error: errorSummary(e.error) } : e))
}

/** Push `bytes` in chunks of the given sizes (cycled); every event. */
function decodeAll(bytes: Uint8Array, sizes: readonly number[]): MessageEvent[] {
  const d = new MessageDecoder({ network: regtest })
  const out: MessageEvent[] = []
  for (let i = 0, k = 0; i < bytes.length; ) {
    const n = Math.max(1, sizes[k++ % sizes.length]!)
    out.push(...d.push(bytes.subarray(i, i + n)))
    i += n
  }
  return out
}

describe('MessageDecoder, frames read in place', () => {
  it('property: any chunking of frames of every command gives the messages decodePayload gives each payload alone', () => {
    // Small control and inventory payloads inside a chunk are read in place
    // (a reader over the chunk, no subarray); transactions and blocks record
    // offsets and get a payload of their own. Either way the message must be
    // the one its payload alone decodes to, offsets included.
    fc.assert(
      fc.property(
        fc.array(fc.nat(SAMPLES.length - 1), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 6 }),
        (picks, sizes) => {
          const frames = picks.map((i) => encodeFrame(regtest.magic, SAMPLES[i]!.command, SAMPLES[i]!.payload))
          const expected = picks.map((i, k) => expectedEvent(SAMPLES[i]!.command, SAMPLES[i]!.payload, frames[k]!.length))
          const stream = concatBytes(...frames)
          expect(comparable(decodeAll(stream, sizes))).toEqual(expected)
          expect(comparable(decodeAll(stream, [stream.length]))).toEqual(expected)
        },
      ),
      { numRuns: 150, seed: 23 },
    )
  })

  it('property: a payload that does not decode gives the same error, offsets counted from the payload, wherever its frame lies in the chunk', () => {
    // Mutated payloads, framed with a correct checksum: the 'invalid'
    // event's error must be decodePayload's on the payload alone (an
    // in-place read would count offsets from the chunk's start).
    fc.assert(
      fc.property(fc.nat(SAMPLES.length - 1), fc.integer(), fc.nat(3), (pick, seed, before) => {
        const s = SAMPLES[pick]!
        const payload = mutate(new FuzzRng(seed), s.payload, { maxLength: s.payload.length + 64 })
        const frame = encodeFrame(regtest.magic, s.command, payload)
        const ping = encodeMessage({ command: 'ping', nonce: 7n }, regtest)
        const stream = concatBytes(...Array<Uint8Array>(before).fill(ping), frame)
        const events = decodeAll(stream, [stream.length])
        if (events.at(-1)?.type === 'error') return // over a cap: a framing error, not this test's subject
        expect(comparable(events.slice(before))).toEqual([expectedEvent(s.command, payload, frame.length)])
      }),
      { numRuns: 400, seed: 29 },
    )
  })

  it('a truncated ping after another frame in the same chunk: TRUNCATED at payload offset 4, as decodePayload says', () => {
    const good = encodeMessage({ command: 'ping', nonce: 1n }, regtest)
    const short = encodeFrame(regtest.magic, 'ping', new Uint8Array(7))
    const events = new MessageDecoder({ network: regtest }).push(concatBytes(good, short))
    expect(events.map((e) => e.type)).toEqual(['message', 'invalid'])
    const invalid = events[1] as Extract<MessageEvent, { type: 'invalid' }>
    expect(invalid.error.code).toBe('TRUNCATED')
    // The nonce's second word: 4 bytes needed at payload offset 4, 3 there (not offset 60, in the chunk).
    expect(invalid.error.detail).toMatchObject({ command: 'ping', offset: 4, expected: 4, actual: 3 })
  })

  it('gives unknown commands their payload bytes exactly, and keeps commands apart past the size of its command cache', () => {
    // 40 distinct commands (more than the decoder's 16 cache slots, so
    // slots are shared and replaced), twice over, in one chunk.
    const names = Array.from({ length: 40 }, (_, i) => `x${i}${'abcdefghij'.slice(0, i % 10)}`)
    const frames = [...names, ...names].map((name, i) => encodeFrame(regtest.magic, name, Uint8Array.of(i, i + 1)))
    const events = new MessageDecoder({ network: regtest }).push(concatBytes(...frames))
    expect(events.map((e) => (e.type === 'message' && e.message.command === 'unknown' ? `${e.message.rawCommand}:${[...e.message.payload]}` : e.type))).toEqual(
      [...names, ...names].map((name, i) => `${name}:${i},${i + 1}`),
    )
  })
})

describe('encodeMessageFrame', () => {
  it('gives the bytes of encodeFrame(magic, command, encodePayload(msg)) for every hand-made message, short and long', () => {
    const msgs = handMessages()
    expect(msgs.some((m) => encodePayload(m, DEFAULT_CODEC_CONTEXT).length <= 55)).toBe(true)
    expect(msgs.some((m) => encodePayload(m, DEFAULT_CODEC_CONTEXT).length > 55)).toBe(true)
    for (const m of msgs) {
      const expected = encodeFrame(regtest.magic, m.command, encodePayload(m, DEFAULT_CODEC_CONTEXT))
      expect(encodeMessageFrame(regtest.magic, m, DEFAULT_CODEC_CONTEXT), m.command).toEqual(expected)
      expect(encodeMessage(m, regtest), m.command).toEqual(expected)
    }
  })

  it('frames an unknown message under its raw command, and round-trips through MessageDecoder', () => {
    const raw = { command: 'unknown' as const, rawCommand: 'xyzzy', payload: Uint8Array.of(1, 2, 3) }
    const frame = encodeMessageFrame(regtest.magic, raw, DEFAULT_CODEC_CONTEXT)
    expect(frame).toEqual(encodeFrame(regtest.magic, 'xyzzy', raw.payload))
    const events = new MessageDecoder({ network: regtest }).push(frame)
    expect(events).toMatchObject([{ type: 'message', message: { command: 'unknown', rawCommand: 'xyzzy', payload: raw.payload } }])
  })

  it('keeps at most a few KiB to spare behind a frame: a large one is copied out of the grown writer', () => {
    const big = { command: 'unknown' as const, rawCommand: 'big', payload: new Uint8Array(100_000).fill(7) }
    const frame = encodeMessageFrame(regtest.magic, big, DEFAULT_CODEC_CONTEXT)
    expect(frame.length).toBe(24 + 100_000)
    expect(frame.buffer.byteLength - frame.length).toBeLessThanOrEqual(4096)
    expect(frame).toEqual(encodeFrame(regtest.magic, 'big', big.payload))
  })
})

describe('decodePayloadRange', () => {
  it('gives what decodePayload gives the payload alone (message or error), for every sample, wherever it lies in a larger array', () => {
    const outcome = (f: () => unknown) => {
      try {
        return { ok: f() }
      } catch (e) {
        return { error: e instanceof WireError ? [e.code, e.message] : String(e) }
      }
    }
    for (const { command, payload } of SAMPLES) {
      const expected = outcome(() => decodePayload(command, payload.slice(), DEFAULT_CODEC_CONTEXT))
      for (const before of [0, 3]) {
        const bytes = new Uint8Array(before + payload.length + 5).fill(0xee)
        bytes.set(payload, before)
        expect(outcome(() => decodePayloadRange(command, bytes, before, before + payload.length, DEFAULT_CODEC_CONTEXT)), command).toEqual(expected)
      }
    }
  })
})
