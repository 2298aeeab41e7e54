/**
 * The session: packets out, push decoder in.
 *
 * Specification:
 *  - messages arrive as wire FrameEvents, in order, across more than 3 rekey
 *    intervals (224 packets) in each direction;
 *  - decoys (the ignore bit) are authenticated and reported, never delivered;
 *  - a command with a short id is sent with it, others in the long form, and
 *    both forms are accepted for every command;
 *  - packets without a usable type (empty, undefined short id, malformed
 *    long form) are authenticated, then dropped, and the connection goes on;
 *  - caps are enforced before buffering: a length over maxPayload + 13 is
 *    refused with only the 3 length bytes read; a payload over maxPayload or
 *    its command's cap after the 14 peeked bytes; never after the whole body;
 *  - peeked bytes are never delivered: a tampered type is a BAD_TAG;
 *  - a flipped bit or a wrong key is a typed error; any chunking gives the
 *    same events and the same error (property test).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { LONG_TYPE_BYTES, MAX_CONTENTS_BYTES, REKEY_INTERVAL } from '../src/constants.js'
import { deriveV2Keys, type V2Keys } from '../src/keys.js'
import { SHORT_IDS, shortIdOf } from '../src/message-type.js'
import { type V2Limits, V2Session, type V2SessionEvent } from '../src/session.js'
import { byteChunks, plain, randomChunks, REGTEST_MAGIC, TestRandom, toHex } from './helpers.js'
import { randomBytes } from '../src/random.js'
import { concatBytes } from '@bitp2p/wire'

function keysFor(seed: number): V2Keys {
  return deriveV2Keys(randomBytes(new TestRandom(seed), 32), REGTEST_MAGIC)
}

/** Two ends of one session: a (initiator) and b (responder). */
function pair(seed = 1, limits: Partial<V2Limits> = {}, limitsA: Partial<V2Limits> = {}) {
  const keys = keysFor(seed)
  const a = V2Session.fromKeys({ keys, role: 'initiator', maxPayload: 4_000_000, ...limitsA })
  const b = V2Session.fromKeys({ keys, role: 'responder', maxPayload: 4_000_000, ...limits })
  return { a, b }
}

/** Pushes chunks in order until an error (the caller disconnects then; a later push would repeat the sticky error). */
function pushAll(s: V2Session, chunks: readonly Uint8Array[]): V2SessionEvent[] {
  const out: V2SessionEvent[] = []
  for (const c of chunks) {
    out.push(...s.push(c))
    if (s.receiver.failed) break
  }
  return out
}

describe('messages both ways', () => {
  it(`${3 * REKEY_INTERVAL + 10} messages each way, of random sizes, arrive intact across 3 rekeys`, () => {
    const { a, b } = pair(2)
    const rng = new TestRandom(2)
    const n = 3 * REKEY_INTERVAL + 10
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const sent: { command: string; payload: string }[] = []
      const stream: Uint8Array[] = []
      for (let k = 0; k < n; k++) {
        const command = k % 3 === 0 ? 'inv' : k % 3 === 1 ? 'ping' : 'wtxidrelay'
        const payload = randomBytes(rng, rng.int(k % 50 === 0 ? 3000 : 60))
        sent.push({ command, payload: toHex(payload) })
        stream.push(from.encrypt(command, payload))
      }
      const events = pushAll(to, randomChunks(concatBytes(...stream), rng, 500))
      expect(events.map((e) => (e.type === 'frame' ? { command: e.command, payload: toHex(e.payload) } : e))).toEqual(sent)
      expect(from.sender.packets).toBe(n)
      expect(to.receiver.packets).toBe(n)
    }
  })

  it('the session id is the keys’ and equal on both ends', () => {
    const { a, b } = pair(3)
    expect(toHex(a.sessionId)).toBe(toHex(b.sessionId))
    expect(toHex(a.sessionId)).toBe(toHex(keysFor(3).sessionId))
  })

  it('a packet is its contents + 20 bytes: short id 1 byte, long form 13', () => {
    const { a } = pair(4)
    expect(a.encrypt('ping', new Uint8Array(8)).length).toBe(8 + 1 + 20)
    expect(a.encrypt('version', new Uint8Array(100)).length).toBe(100 + 13 + 20)
    expect(a.decoy(50).length).toBe(70)
  })
})

describe('decoys', () => {
  it('are authenticated and reported, never delivered, between messages, and can carry the ignore bit on a real message', () => {
    const { a, b } = pair(5)
    const stream = concatBytes(a.decoy(0), a.encrypt('ping', new Uint8Array(8)), a.decoy(1000), a.encrypt('tx', new Uint8Array(3), { decoy: true }), a.encrypt('pong', new Uint8Array(8)))
    expect(b.push(stream).map(plain)).toEqual([
      { type: 'decoy', contentBytes: 0, wireBytes: 20 },
      { type: 'frame', command: 'ping', payload: '0000000000000000', wireBytes: 29 },
      { type: 'decoy', contentBytes: 1000, wireBytes: 1020 },
      { type: 'decoy', contentBytes: 4, wireBytes: 24 },
      { type: 'frame', command: 'pong', payload: '0000000000000000', wireBytes: 29 },
    ])
  })

  it('a flipped bit in a decoy is still BAD_TAG', () => {
    const { a, b } = pair(6)
    const d = a.decoy(30)
    d[20] ^= 1
    expect(b.push(d).map(plain)).toEqual([{ type: 'error', code: 'BAD_TAG', detail: { packet: 0 }, retryV1: false }])
  })
})

describe('message types', () => {
  it('the BIP table: 28 short ids, addr = 1 ... addrv2 = 28; version has none', () => {
    expect(SHORT_IDS.length).toBe(29)
    expect([shortIdOf('addr'), shortIdOf('ping'), shortIdOf('headers'), shortIdOf('addrv2'), shortIdOf('version')]).toEqual([1, 18, 13, 28, undefined])
  })

  it('both forms are accepted for a command with a short id, and give the same message', () => {
    const { a, b } = pair(7)
    const long = new Uint8Array(LONG_TYPE_BYTES + 8)
    long.set(new TextEncoder().encode('ping'), 1)
    long.fill(9, LONG_TYPE_BYTES)
    const events = b.push(concatBytes(a.encrypt('ping', new Uint8Array(8).fill(9)), a.sender.encryptContents(long)))
    expect(events.map(plain)).toEqual([
      { type: 'frame', command: 'ping', payload: '0909090909090909', wireBytes: 29 },
      { type: 'frame', command: 'ping', payload: '0909090909090909', wireBytes: 41 },
    ])
  })

  it('empty contents, an undefined short id and a malformed long form are dropped after authentication; the stream goes on', () => {
    const { a, b } = pair(8)
    const badPad = new Uint8Array(LONG_TYPE_BYTES)
    badPad.set(new TextEncoder().encode('ab\0c'), 1)
    const nonAscii = new Uint8Array(LONG_TYPE_BYTES + 2)
    nonAscii[1] = 0x80
    const stream = concatBytes(
      a.sender.encryptContents(new Uint8Array(0)),
      a.sender.encryptContents(new Uint8Array([200, 1, 2])),
      a.sender.encryptContents(new Uint8Array([0, 0x61, 0x62])), // long form cut short
      a.sender.encryptContents(badPad),
      a.sender.encryptContents(nonAscii),
      a.sender.encryptContents(new Uint8Array(LONG_TYPE_BYTES)), // no command at all
      a.encrypt('feefilter', new Uint8Array(8)),
    )
    expect(b.push(stream).map(plain)).toEqual([
      { type: 'dropped', reason: 'EMPTY', wireBytes: 20 },
      { type: 'dropped', reason: 'UNKNOWN_SHORT_ID', shortId: 200, wireBytes: 23 },
      { type: 'dropped', reason: 'BAD_COMMAND', wireBytes: 23 },
      { type: 'dropped', reason: 'BAD_COMMAND', wireBytes: 33 },
      { type: 'dropped', reason: 'BAD_COMMAND', wireBytes: 35 },
      { type: 'dropped', reason: 'BAD_COMMAND', wireBytes: 33 },
      { type: 'frame', command: 'feefilter', payload: '0000000000000000', wireBytes: 29 },
    ])
  })

  it('encrypt refuses a command that is not 1..12 printable ASCII, and contents over 2^24-1', () => {
    const { a } = pair(9)
    for (const bad of ['', 'thirteen_char', 'caf\u00e9', 'a\nb']) expect(() => a.encrypt(bad, new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'RANGE' }))
    expect(() => a.encrypt('block', new Uint8Array(MAX_CONTENTS_BYTES))).toThrow(expect.objectContaining({ code: 'RANGE' }))
    expect(a.encrypt('block', new Uint8Array(MAX_CONTENTS_BYTES - 1)).length).toBe(MAX_CONTENTS_BYTES + 20)
    expect(a.sender.packets).toBe(1)
  })
})

describe('caps are checked before buffering', () => {
  it('contents over maxPayload + 13: OVERSIZE with only the 3 length bytes read', () => {
    const { a, b } = pair(10, { maxPayload: 1000 })
    const pkt = a.sender.encryptContents(new Uint8Array(1014))
    const events = b.push(pkt)
    expect(events.map(plain)).toEqual([{ type: 'error', code: 'OVERSIZE', detail: { limit: 1013, actual: 1014, field: 'maxPayload', packet: 0 }, retryV1: false }])
    expect(b.receiver.bytesConsumed).toBe(3)
    expect(b.receiver.bufferedBytes).toBe(0)
  })

  it('a payload over maxPayload after the type is known: OVERSIZE after 3 + 14 bytes (never the whole body)', () => {
    const { a, b } = pair(11, { maxPayload: 1000 })
    // Short id: 1012 bytes of contents is within maxPayload + 13, but the payload (1011) is not.
    const events = b.push(a.encrypt('tx', new Uint8Array(1011)))
    expect(events.map(plain)).toEqual([{ type: 'error', code: 'OVERSIZE', detail: { limit: 1000, actual: 1011, field: 'maxPayload', command: 'tx', packet: 0 }, retryV1: false }])
    expect(b.receiver.bytesConsumed).toBe(3 + 14)
    // Long form: 1013 bytes of contents = a 1000-byte payload, accepted.
    const c = pair(11, { maxPayload: 1000 })
    expect(c.b.push(c.a.encrypt('version', new Uint8Array(1000))).map((e) => e.type)).toEqual(['frame'])
  })

  it("a command's own cap (commandLimit), and unknownCommandLimit for commands without one", () => {
    const limits = { maxPayload: 4_000_000, commandLimit: (c: string) => (c === 'ping' ? 8 : undefined), unknownCommandLimit: 100 }
    const ok = pair(12, limits)
    expect(ok.b.push(concatBytes(ok.a.encrypt('ping', new Uint8Array(8)), ok.a.encrypt('mystery', new Uint8Array(100)))).map((e) => e.type)).toEqual(['frame', 'frame'])
    const p = pair(12, limits)
    const e1 = p.b.push(p.a.encrypt('ping', new Uint8Array(9)))
    expect(e1.map(plain)).toEqual([{ type: 'error', code: 'OVERSIZE', detail: { limit: 8, actual: 9, field: 'commandLimit', command: 'ping', packet: 0 }, retryV1: false }])
    // Peeked: header + the 1-byte type + payload bytes up to 14 in all (here the whole 11-byte body before the tag).
    expect(p.b.receiver.bytesConsumed).toBe(3 + 11)
    const u = pair(12, limits)
    const e2 = u.b.push(u.a.encrypt('mystery', new Uint8Array(101)))
    expect(e2.map(plain)).toEqual([{ type: 'error', code: 'OVERSIZE', detail: { limit: 100, actual: 101, field: 'unknownCommandLimit', command: 'mystery', packet: 0 }, retryV1: false }])
    // A packet that will be dropped (undefined short id) is capped like an unknown command.
    const d = pair(12, limits)
    expect(errorOf(d.b.push(d.a.sender.encryptContents(new Uint8Array(102).fill(250))))?.detail.field).toBe('unknownCommandLimit')
  })

  it('decoys are held to the global cap only', () => {
    const ok = pair(13, { maxPayload: 1000, commandLimit: () => 0, unknownCommandLimit: 0 })
    expect(ok.b.push(ok.a.decoy(1013)).map((e) => e.type)).toEqual(['decoy'])
    const big = pair(13, { maxPayload: 1000 })
    expect(errorOf(big.b.push(big.a.decoy(1014)))?.code).toBe('OVERSIZE')
    expect(big.b.receiver.bytesConsumed).toBe(3)
  })

  it('the same cap errors, at the same byte, byte by byte', () => {
    const { a, b } = pair(14, { maxPayload: 1000, commandLimit: (c) => (c === 'ping' ? 8 : undefined) })
    const events = pushAll(b, byteChunks(concatBytes(a.encrypt('ping', new Uint8Array(8)), a.encrypt('ping', new Uint8Array(9)))))
    expect(events.map((e) => e.type)).toEqual(['frame', 'error'])
    expect(b.receiver.bytesConsumed).toBe(29 + 3 + 11)
  })
})

describe('tampering and wrong keys', () => {
  it('peeked bytes are never delivered: a flipped type byte (ping -> pong) is BAD_TAG, not a pong', () => {
    const { a, b } = pair(15)
    const pkt = a.encrypt('ping', new Uint8Array(8))
    pkt[4] ^= 18 ^ 19 // the encrypted short id: ping (18) becomes pong (19) under the same keystream
    expect(b.push(pkt).map((e) => (e.type === 'error' ? e.error.code : e.type))).toEqual(['BAD_TAG'])
  })

  it('a wrong packet key is BAD_TAG; wrong keys altogether are an error or need-more, and end() then says TRUNCATED', () => {
    const keys = keysFor(16)
    const a = V2Session.fromKeys({ keys, role: 'initiator', maxPayload: 4_000_000 })
    const wrongP = V2Session.fromKeys({ keys: { ...keys, initiatorP: keysFor(17).initiatorP }, role: 'responder', maxPayload: 4_000_000 })
    expect(errorOf(wrongP.push(a.encrypt('ping', new Uint8Array(8))))?.code).toBe('BAD_TAG')
    for (let s = 20; s < 30; s++) {
      const wrong = V2Session.fromKeys({ keys: keysFor(s), role: 'responder', maxPayload: 4_000_000 })
      const events = wrong.push(a.encrypt('ping', new Uint8Array(8)))
      const code = errorOf(events)?.code ?? errorOf(wrong.end())?.code
      expect(['BAD_TAG', 'OVERSIZE', 'TRUNCATED']).toContain(code)
      expect(events.some((e) => e.type === 'frame')).toBe(false)
    }
  })

  it('the stream ending inside a packet is TRUNCATED; between packets it is nothing', () => {
    const { a, b } = pair(18)
    const pkt = a.encrypt('ping', new Uint8Array(8))
    b.push(pkt)
    expect(b.end()).toEqual([])
    const c = pair(18)
    c.b.push(pkt.subarray(0, 10))
    expect(errorOf(c.b.end())?.code).toBe('TRUNCATED')
  })

  it('property: for any stream of packets with at most one flipped bit, any chunking gives the events of one push', () => {
    const packet = fc.oneof(
      fc.record({ kind: fc.constant('msg' as const), command: fc.constantFrom('ping', 'inv', 'version', 'mystery', 'tx'), size: fc.nat(300) }),
      fc.record({ kind: fc.constant('decoy' as const), size: fc.nat(300) }),
      fc.record({ kind: fc.constant('raw' as const), first: fc.nat(255), size: fc.nat(20) }),
    )
    fc.assert(
      fc.property(
        fc.array(packet, { minLength: 1, maxLength: 12 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.nat(7),
        fc.integer({ min: 1, max: 2 ** 31 }),
        (packets, flipAt, bit, seed) => {
          const limits = { maxPayload: 200, commandLimit: (c: string) => (c === 'inv' ? 100 : c === 'ping' ? 8 : undefined), unknownCommandLimit: 150 }
          const make = () => pair(seed, limits)
          const { a } = make()
          const stream = concatBytes(...
            packets.map((p) =>
              p.kind === 'msg' ? a.encrypt(p.command, new Uint8Array(p.size)) : p.kind === 'decoy' ? a.decoy(p.size) : a.sender.encryptContents(new Uint8Array(p.size + 1).fill(p.first, 0, 1)),
            ),
          )
          if (flipAt !== undefined) stream[flipAt % stream.length] ^= 1 << bit
          const baseline = make().b
          const expected = baseline.push(stream).map(plain)
          const rng = new TestRandom(seed)
          for (const chunks of [byteChunks(stream), randomChunks(stream, rng, 40)]) {
            const b = make().b
            expect(pushAll(b, chunks).map(plain)).toEqual(expected)
            expect(b.receiver.bytesConsumed).toBe(baseline.receiver.bytesConsumed)
          }
          // Without a flip every packet is accounted for; with one, the stream fails or needs more.
          if (flipAt === undefined) expect(expected.filter((e) => (e as { type: string }).type === 'error').length).toBeLessThanOrEqual(1)
        },
      ),
      { numRuns: 150, seed: 324 },
    )
  })
})

function errorOf(events: readonly V2SessionEvent[]) {
  const e = events.at(-1)
  return e?.type === 'error' ? e.error : undefined
}
