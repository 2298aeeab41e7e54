/**
 * What was received is kept: for every message type, a payload (or frame)
 * that decodes re-encodes to the same bytes, byte for byte. Text fields of
 * invalid UTF-8, booleans sent as other bytes than 0/1, optional trailing
 * fields left out, entries the decoder drops: each has to survive
 * decode -> encode (issue 12). A non-canonical CompactSize is refused
 * (NON_CANONICAL), as Core refuses it, so it never needs keeping.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ByteReader } from '../../src/bytes/reader.js'
import { ByteWriter } from '../../src/bytes/writer.js'
import { fromHex, toHex } from '../../src/bytes/hex.js'
import { WireError } from '../../src/errors.js'
import { encodeFrame } from '../../src/framing/header.js'
import { encodeMessage, MessageDecoder } from '../../src/framing/message-decoder.js'
import type { CodecContext } from '../../src/messages/codec.js'
import { CODECS, codecFor, type Message } from '../../src/messages/registry.js'
import type { RejectMessage } from '../../src/messages/reject.js'
import type { VersionMessage } from '../../src/messages/version.js'
import { regtest } from '../../src/network/params.js'
import { messageSamples, uncoveredCommands } from '../../fuzz/corpus.js'
import { concatBytes } from '../../src/bytes/hex.js'
import { mutate } from '../../fuzz/mutate.js'
import { FuzzRng } from '../../fuzz/rng.js'
import { BLOCKS_PRESENT, readBlock } from '../block/blocks-data.js'

/** Contexts a payload is decoded and re-encoded under: ours, and a peer before BIP31 (ping changes form). */
const CONTEXTS: readonly CodecContext[] = [
  { protocolVersion: 70016, maxBlockPayload: 4_000_000 },
  { protocolVersion: 60000, maxBlockPayload: 4_000_000 },
]

/** The small real block (9 KB) when the shared data is there: real transactions among the seeds. */
const REAL = BLOCKS_PRESENT ? [readBlock('block482683.raw')] : []
const SAMPLES = messageSamples(REAL)
const PAYLOADS = SAMPLES.map((s) => s.payload)

/**
 * Decode `payload` as `command` under `ctx`. When it decodes (no trailing
 * bytes), encoding the result must give the same bytes; when it does not,
 * the error must be a WireError. Returns whether it decoded.
 */
function expectRoundTrip(command: string, payload: Uint8Array, ctx: CodecContext): boolean {
  const codec = codecFor(command)!
  let msg
  try {
    const r = new ByteReader(payload)
    msg = codec.decode(r, ctx)
    r.done()
  } catch (e) {
    expect(e, `${command} ${toHex(payload)}`).toBeInstanceOf(WireError)
    return false
  }
  const w = new ByteWriter()
  codec.encode(w, msg, ctx)
  expect(toHex(w.finish()), `${command} under protocol ${ctx.protocolVersion}`).toBe(toHex(payload))
  return true
}

/**
 * Push a byte stream through a MessageDecoder; every message it yields must
 * re-frame (encodeMessage) to exactly the bytes of its frame. Frames follow
 * each other without gaps, so each starts where the last one ended.
 */
function expectFramesRoundTrip(stream: Uint8Array, protocolVersion: number): number {
  const decoder = new MessageDecoder({ network: regtest, protocolVersion })
  let offset = 0
  let messages = 0
  for (const ev of decoder.push(stream)) {
    if (ev.type === 'message') {
      const frame = stream.subarray(offset, offset + ev.wireBytes)
      expect(toHex(encodeMessage(ev.message, regtest, protocolVersion)), ev.message.command).toBe(toHex(frame))
      messages++
    }
    if (ev.type === 'message' || ev.type === 'invalid') offset += ev.wireBytes
  }
  return messages
}

function onlyMessage(frameHex: string): Message {
  const events = new MessageDecoder({ network: regtest }).push(fromHex(frameHex))
  expect(events.map((e) => e.type)).toEqual(['message'])
  return (events[0] as { message: Message }).message
}

describe('issue 12 regressions: received messages re-encode byte for byte', () => {
  it('a version with a 200-byte non-UTF-8 user agent (was re-encoded to 600 bytes: ENCODE_RANGE)', () => {
    const ua = 'ff'.repeat(200)
    const payload = fromHex(
      '80110100' + '0904000000000000' + '00e1f50500000000' + '00'.repeat(52) + '0100000000000000' + 'c8' + ua + '40d10c00' + '01',
    )
    const frame = encodeFrame(regtest.magic, 'version', payload)
    const m = onlyMessage(toHex(frame)) as VersionMessage
    // Shown as text, one U+FFFD per bad byte; the bytes are kept beside it.
    expect(m.userAgent).toBe('\ufffd'.repeat(200))
    expect(toHex(m.userAgentBytes!)).toBe(ua)
    expect(toHex(encodeMessage(m, regtest))).toBe(toHex(frame))
  })

  it('the regtest reject frame fabfb5da...6f6c64 (message with bytes fe ff ff)', () => {
    const frame = 'fabfb5da72656a6563740000000000000d00000006cb3138077665feffff112d11036f6c64'
    const m = onlyMessage(frame) as RejectMessage
    expect(m.message).toBe('ve\ufffd\ufffd\ufffd\x11-')
    expect(m.reason).toBe('old')
    expect(m.ccode).toBe(0x11)
    expect(toHex(encodeMessage(m, regtest))).toBe(frame)
  })
})

describe('messages built from JS strings stay simple', () => {
  it('a reject or version from plain strings encodes them as UTF-8', () => {
    const reject: RejectMessage = { command: 'reject', message: 'tx', ccode: 0x10, reason: 'née' }
    expect(toHex(encodeMessage(reject, regtest).subarray(24))).toBe('0274781004' + '6ec3a965')
  })

  it('an edited text field is sent as the new text: the kept bytes no longer match it and are ignored', () => {
    const m = onlyMessage('fabfb5da72656a6563740000000000000d00000006cb3138077665feffff112d11036f6c64') as RejectMessage
    const edited: RejectMessage = { ...m, message: 'version' }
    expect(toHex(encodeMessage(edited, regtest).subarray(24))).toBe('0776657273696f6e' + '11' + '036f6c64')
  })

  it('a valid UTF-8 field, BOM included, needs no kept bytes', () => {
    const m = onlyMessage(toHex(encodeFrame(regtest.magic, 'reject', fromHex('02747810' + '06efbbbf616263')))) as RejectMessage
    expect(m.reason).toBe('\ufeffabc')
    expect(m.reasonBytes).toBeUndefined()
    expect(m.messageBytes).toBeUndefined()
  })
})

describe('every wire form the typed fields cannot say alone survives decode -> encode', () => {
  const cases: [string, string, string][] = [
    // [what, command, payload hex]
    ['relay byte 2', 'version', '80110100' + '00'.repeat(16) + '00'.repeat(52) + '00'.repeat(8) + '00' + '00000000' + '02'],
    ['relay byte 0 from a pre-BIP37 peer', 'version', '60ea0000' + '00'.repeat(16) + '00'.repeat(52) + '00'.repeat(8) + '00' + '00000000' + '00'],
    ['no relay byte (70016)', 'version', '80110100' + '00'.repeat(16) + '00'.repeat(52) + '00'.repeat(8) + '00' + '00000000'],
    ['version 105, ends after addrRecv', 'version', '69000000' + '00'.repeat(16) + '00'.repeat(26)],
    ['version 106, ends after the nonce', 'version', '6a000000' + '00'.repeat(16) + '00'.repeat(52) + '00'.repeat(8)],
    ['version 200, ends after the user agent', 'version', 'c8000000' + '00'.repeat(16) + '00'.repeat(52) + '00'.repeat(8) + '0161'],
    ['empty ping (pre-BIP31 form)', 'ping', ''],
    ['sendcmpct announce byte 0xff', 'sendcmpct', 'ff' + '0100000000000000'],
    ['addrv2 with an unknown network between usable entries', 'addrv2', '03' + '01000000' + '01' + '01' + '04' + '01020304' + '0001' + '02000000' + '00' + 'f0' + '03' + 'aabbcc' + '0002' + '03000000' + '02' + '01' + '04' + '05060708' + '0003'],
    ['reject without data, invalid UTF-8 reason', 'reject', '02747810' + '02c328'],
  ]
  for (const [what, command, hex] of cases) {
    it(`${command}: ${what}`, () => {
      for (const ctx of CONTEXTS) expect(expectRoundTrip(command, fromHex(hex), ctx)).toBe(true)
    })
  }

  it('a ping with a nonce, decoded at a pre-BIP31 version, keeps its nonce', () => {
    expect(expectRoundTrip('ping', fromHex('0102030405060708'), CONTEXTS[1]!)).toBe(true)
  })
})

describe('property: whatever decodes re-encodes byte-identically, for every codec', () => {
  it('the seeds cover every command of the registry', () => {
    expect(uncoveredCommands(SAMPLES)).toEqual([])
  })

  it('every seed itself round-trips under both contexts', () => {
    for (const s of SAMPLES) for (const ctx of CONTEXTS) expect(expectRoundTrip(s.command, s.payload, ctx), s.command).toBe(true)
  })

  it('random payloads, given to any codec', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CODECS.map((c) => c.command)), fc.constantFrom(...CONTEXTS), fc.uint8Array({ maxLength: 400 }), (command, ctx, bytes) => {
        expectRoundTrip(command, bytes, ctx)
      }),
      { seed: 12, numRuns: 3000 },
    )
  })

  it('mutated and bit-flipped valid payloads (a few thousand decode)', () => {
    let decoded = 0
    fc.assert(
      fc.property(fc.nat(SAMPLES.length - 1), fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(...CONTEXTS), (i, seed, ctx) => {
        const rng = new FuzzRng(seed)
        const s = SAMPLES[i]!
        if (expectRoundTrip(s.command, mutate(rng, s.payload, { maxLength: 20_000, others: PAYLOADS }), ctx)) decoded++
      }),
      { seed: 1212, numRuns: 6000 },
    )
    // The property means something only if mutants do decode often.
    expect(decoded).toBeGreaterThan(1000)
  })

  it('version payloads of any declared version, user agent bytes, relay byte and length', () => {
    const u32 = (n: number) => toHex(Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24))
    fc.assert(
      fc.property(
        fc.constantFrom(0, 105, 106, 208, 209, 60000, 70000, 70001, 70016, 0x7fffffff, -1),
        fc.uint8Array({ maxLength: 260 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 4 }),
        fc.uint8Array({ minLength: 60, maxLength: 60 }),
        (version, ua, relay, cut, rest) => {
          const head = u32(version) + toHex(rest.subarray(0, 16)) + '00'.repeat(26)
          const groups = [toHex(rest.subarray(16, 50)), toHex(new ByteWriter().varBytes(ua).finish()), toHex(rest.subarray(50, 54)), relay.toString(16).padStart(2, '0')]
          const payload = fromHex(head + groups.slice(0, cut).join(''))
          for (const ctx of CONTEXTS) expectRoundTrip('version', payload, ctx)
        },
      ),
      { seed: 1213, numRuns: 3000 },
    )
  })

  it('reject payloads with any message and reason bytes, with or without data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 14 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 115 }), fc.boolean(), (msg, ccode, reason, data) => {
        const w = new ByteWriter().varBytes(msg).u8(ccode).varBytes(reason)
        if (data) w.bytes(new Uint8Array(32).fill(7))
        expectRoundTrip('reject', w.finish(), CONTEXTS[0]!)
      }),
      { seed: 1214, numRuns: 3000 },
    )
  })

  it('frames: mutated payloads re-framed, and bit-flipped frame streams, through the MessageDecoder', () => {
    let messages = 0
    fc.assert(
      fc.property(fc.array(fc.nat(SAMPLES.length - 1), { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(...CONTEXTS), (picks, seed, ctx) => {
        const rng = new FuzzRng(seed)
        const frames = picks.map((i) => {
          const s = SAMPLES[i]!
          const payload = rng.chance(0.7) ? mutate(rng, s.payload, { maxLength: 20_000, others: PAYLOADS }) : s.payload
          return encodeFrame(regtest.magic, s.command, payload)
        })
        let stream: Uint8Array = concatBytes(...frames)
        // Sometimes damage the framed bytes too (header, checksum or payload).
        if (rng.chance(0.3)) stream = mutate(rng, stream, { maxLength: stream.length + 64 })
        messages += expectFramesRoundTrip(stream, ctx.protocolVersion)
      }),
      { seed: 1215, numRuns: 2000 },
    )
    expect(messages).toBeGreaterThan(1000)
  })
})
