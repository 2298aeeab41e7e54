/**
 * The handshake machine, both roles, wired together in memory.
 *
 * Specification:
 *  - an initiator and a responder reach 'ready' with the same session id,
 *    for many seeds, and messages then flow both ways;
 *  - the bytes sent and the events seen do not depend on how the streams
 *    are chunked (one push, random cuts with empty chunks, byte by byte);
 *  - the same seed gives byte-identical traffic; randomness comes only from
 *    the injected source;
 *  - we send at most 4,094 garbage bytes (btcd's limit) and accept 4,095
 *    (the BIP's), and 4,096 is NO_TERMINATOR;
 *  - a responder hands a v1 peer back with its bytes, and refuses a v1 peer
 *    of another network;
 *  - every fault at every step ends in a typed error: truncation (end()),
 *    a wrong terminator, a wrong key, a wrong network, a flipped bit in the
 *    garbage, the version packet or a later packet.
 */
import { describe, expect, it } from 'vitest'
import { concatBytes, regtest, testnet3 } from '@bitp2p/wire'
import { encodeFrame } from '@bitp2p/wire/codecs'
import { MAX_GARBAGE_BYTES, MAX_SEND_GARBAGE_BYTES } from '../src/constants.js'
import { createEllSwiftKeyPair } from '../src/ellswift.js'
import { V2Error } from '../src/errors.js'
import { V2Handshake, type V2HandshakeEvent, type V2Step } from '../src/handshake.js'
import type { V2Session } from '../src/session.js'
import { byteChunks, exchange, MAINNET_MAGIC, options, plain, randomChunks, REGTEST_MAGIC, TestRandom, toHex } from './helpers.js'

function ready(events: readonly V2HandshakeEvent[]): V2Session {
  const e = events.find((x) => x.type === 'ready')
  if (e === undefined || e.type !== 'ready') throw new Error(`not ready: ${JSON.stringify(events.map(plain))}`)
  return e.session
}

function errorOf(events: readonly V2HandshakeEvent[]): V2Error | undefined {
  const e = events.at(-1)
  return e?.type === 'error' ? e.error : undefined
}

/** Feeds chunks to a machine, collecting what it sends and reports. */
function feed(hs: V2Handshake, chunks: readonly Uint8Array[]): V2Step {
  const all: V2Step = { send: [], events: [] }
  for (const c of chunks) {
    const s = hs.push(c)
    all.send.push(...s.send)
    all.events.push(...s.events)
  }
  return all
}

const cuts: [string, (seed: number) => (b: Uint8Array) => Uint8Array[]][] = [
  ['one push', () => (b) => [b]],
  ['random cuts', (seed) => {
    const rng = new TestRandom(seed ^ 0x5eed)
    return (b) => randomChunks(b, rng)
  }],
  ['byte by byte', () => byteChunks],
]

describe('a full handshake', () => {
  for (let seed = 1; seed <= 8; seed++) {
    it(`seed ${seed}: both sides ready with one session id; the same traffic and events under every chunking`, () => {
      const runs = cuts.map(([name, cut]) => {
        const { a, b } = exchange(new V2Handshake(options('initiator', seed)), new V2Handshake(options('responder', seed + 1000)), cut(seed))
        return { name, a, b }
      })
      const base = runs[0]!
      const sa = ready(base.a.events)
      const sb = ready(base.b.events)
      expect(toHex(sa.sessionId)).toBe(toHex(sb.sessionId))
      expect(base.a.hs.state).toBe('ready')
      expect(base.b.hs.state).toBe('ready')
      expect(base.a.hs.sessionId).toEqual(sa.sessionId)
      for (const r of runs.slice(1)) {
        expect(toHex(concatBytes(...r.a.sent)), r.name).toBe(toHex(concatBytes(...base.a.sent)))
        expect(toHex(concatBytes(...r.b.sent)), r.name).toBe(toHex(concatBytes(...base.b.sent)))
        expect(r.a.events.map(plain), r.name).toEqual(base.a.events.map(plain))
        expect(r.b.events.map(plain), r.name).toEqual(base.b.events.map(plain))
      }
      // Messages both ways through the sessions.
      const ping = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])
      expect(sb.push(sa.encrypt('ping', ping)).map(plain)).toEqual([{ type: 'frame', command: 'ping', payload: toHex(ping), wireBytes: 29 }])
      expect(sa.push(sb.encrypt('verack', new Uint8Array(0))).map(plain)).toEqual([{ type: 'frame', command: 'verack', payload: '', wireBytes: 33 }])
    })
  }

  it('the same seeds give byte-identical traffic; other seeds give other keys', () => {
    const run = (i: number, r: number) => exchange(new V2Handshake(options('initiator', i)), new V2Handshake(options('responder', r)))
    const x = run(7, 8)
    const y = run(7, 8)
    const z = run(9, 8)
    expect(toHex(concatBytes(...x.a.sent))).toBe(toHex(concatBytes(...y.a.sent)))
    expect(toHex(concatBytes(...x.b.sent))).toBe(toHex(concatBytes(...y.b.sent)))
    expect(toHex(x.a.sent[0]!.subarray(0, 64))).not.toBe(toHex(z.a.sent[0]!.subarray(0, 64)))
    expect(toHex(ready(x.a.events).sessionId)).not.toBe(toHex(ready(z.a.events).sessionId))
  })

  it('packets sent right after the version packet arrive in the same push, after ready', () => {
    const i = new V2Handshake(options('initiator', 1))
    const r = new V2Handshake(options('responder', 2))
    r.start()
    const s1 = r.push(i.start())
    const s2 = i.push(concatBytes(...s1.send))
    const si = ready(s2.events)
    // The initiator's terminator + version packet + two messages, in one chunk.
    const stream = concatBytes(...s2.send, si.encrypt('ping', new Uint8Array(8)), si.encrypt('sendheaders', new Uint8Array(0)))
    const s3 = r.push(stream)
    expect(s3.events.map((e) => e.type)).toEqual(['ready', 'frame', 'frame'])
    expect(s3.events.slice(1).map((e) => (e.type === 'frame' ? e.command : ''))).toEqual(['ping', 'sendheaders'])
    // After ready, push on the handshake goes to the session.
    expect(r.push(si.encrypt('pong', new Uint8Array(8))).events.map(plain)).toEqual([{ type: 'frame', command: 'pong', payload: '0000000000000000', wireBytes: 29 }])
  })

  it('decoys sent before the version packet are reported, then ignored', () => {
    const { a, b } = exchange(new V2Handshake(options('initiator', 3, { decoys: [0, 5, 300] })), new V2Handshake(options('responder', 4, { decoys: [7] })))
    expect(b.events.map((e) => e.type)).toEqual(['decoy', 'decoy', 'decoy', 'ready'])
    expect(b.events.slice(0, 3).map((e) => (e.type === 'decoy' ? e.contentBytes : -1))).toEqual([0, 5, 300])
    expect(a.events.map((e) => e.type)).toEqual(['decoy', 'ready'])
  })
})

describe('garbage: what we send, what we accept', () => {
  /** A Random whose int(n) is always n - 1: the largest garbage the machine may choose. */
  class MaxRandom extends TestRandom {
    override int(n: number): number {
      super.int(n)
      return n - 1
    }
  }

  it(`by default sends at most ${MAX_SEND_GARBAGE_BYTES} bytes (btcd drops exactly 4,095), in both roles`, () => {
    const i = new V2Handshake({ ...options('initiator', 1), random: new MaxRandom(1) })
    expect(i.start().length).toBe(64 + MAX_SEND_GARBAGE_BYTES)
    const r = new V2Handshake({ ...options('responder', 2), random: new MaxRandom(2) })
    r.start()
    expect(concatBytes(...r.push(new Uint8Array([0])).send).length).toBe(64 + MAX_SEND_GARBAGE_BYTES)
    const lengths = Array.from({ length: 40 }, (_, s) => new V2Handshake(options('initiator', s)).start().length - 64)
    expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_SEND_GARBAGE_BYTES)
    expect(new Set(lengths).size).toBeGreaterThan(30)
  })

  it(`accepts ${MAX_GARBAGE_BYTES} bytes of garbage in both roles (the BIP's limit), also byte by byte`, () => {
    for (const cut of [(b: Uint8Array) => [b], byteChunks]) {
      const { a, b } = exchange(
        new V2Handshake(options('initiator', 5, { garbageLen: MAX_GARBAGE_BYTES })),
        new V2Handshake(options('responder', 6, { garbageLen: MAX_GARBAGE_BYTES })),
        cut,
      )
      expect(a.sent[0]!.length).toBe(64 + MAX_GARBAGE_BYTES)
      expect(toHex(ready(a.events).sessionId)).toBe(toHex(ready(b.events).sessionId))
    }
  })

  it('4,096 bytes of garbage: NO_TERMINATOR as byte 4,111 after the key arrives, whatever the chunking', () => {
    const i = new V2Handshake(options('initiator', 5, { garbageLen: MAX_GARBAGE_BYTES }))
    const first = i.start()
    const r0 = new V2Handshake(options('responder', 6))
    r0.start()
    const reply = concatBytes(...r0.push(first).send)
    const rest = concatBytes(...i.push(reply).send) // terminator + version packet
    // A middlebox adds one garbage byte: key, 4,096 bytes of garbage, terminator, version packet.
    const stream = concatBytes(first, new Uint8Array([0x42]), rest)
    const results = cuts.map(([, cut]) => {
      const r = new V2Handshake(options('responder', 6))
      r.start()
      const step = feed(r, cut(9)(stream))
      return { r, err: errorOf(step.events)! }
    })
    for (const { r, err } of results) {
      expect(err.code).toBe('NO_TERMINATOR')
      expect(err.detail).toEqual({ state: 'awaiting-terminator', limit: 4111, received: 64 + 4111 })
      expect(r.state).toBe('failed')
      expect(r.bytesReceived).toBe(64 + 4111)
    }
  })
})

describe('a v1 peer at the responder', () => {
  // A v1 frame whose command is 'version' (its payload does not matter: 16 bytes decide).
  const version = encodeFrame(regtest.magic, 'version', new Uint8Array(102).fill(7))

  it('is recognised from its first 16 bytes and handed back with every byte received; nothing is sent', () => {
    for (const [name, cut] of cuts) {
      const r = new V2Handshake(options('responder', 1))
      expect(r.start().length).toBe(0)
      const chunks = cut(3)(version)
      const events: V2HandshakeEvent[] = []
      let k = 0
      for (; k < chunks.length && r.state !== 'v1'; k++) {
        const step = r.push(chunks[k]!)
        expect(step.send, name).toEqual([])
        events.push(...step.events)
      }
      expect(r.state).toBe('v1')
      expect(events.map((e) => e.type), name).toEqual(['v1'])
      // What was handed back, then the chunks the caller had not pushed yet, are the whole v1 stream.
      const handedBack = events[0]!.type === 'v1' ? events[0]!.bytes : new Uint8Array(0)
      expect(handedBack.length, name).toBeGreaterThanOrEqual(16)
      expect(toHex(concatBytes(handedBack, ...chunks.slice(k))), name).toBe(toHex(version))
      // The machine is done: pushing more is a caller bug.
      expect(() => r.push(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'STATE' }))
    }
  })

  it('15 matching bytes then a different one is a v2 peer: the responder answers at that byte', () => {
    const prefix = version.subarray(0, 16).slice()
    prefix[15] ^= 1
    const r = new V2Handshake(options('responder', 1))
    r.start()
    expect(feed(r, byteChunks(prefix.subarray(0, 15))).send).toEqual([])
    const step = r.push(prefix.subarray(15))
    expect(step.send.length).toBe(1)
    expect(r.state).toBe('awaiting-key')
  })

  it("a v1 version header with another network's magic is V1_WRONG_NETWORK at byte 16", () => {
    const header = encodeFrame(testnet3.magic, 'version', new Uint8Array(0)).subarray(0, 16)
    const r = new V2Handshake(options('responder', 1))
    r.start()
    const step = feed(r, byteChunks(header))
    expect(step.send.length).toBe(1) // it answered at byte 0 (magic differs), as the BIP's responder does
    expect(errorOf(step.events)?.code).toBe('V1_WRONG_NETWORK')
    expect(r.bytesReceived).toBe(16)
  })

  it('V1_WRONG_NETWORK is judged at byte 16 in any chunking (regression: one push used to report every byte of the chunk)', () => {
    const stream = encodeFrame(testnet3.magic, 'version', new Uint8Array(50))
    for (const [name, cut] of cuts) {
      const r = new V2Handshake(options('responder', 1))
      r.start()
      const err = errorOf(feed(r, cut(4)(stream)).events)
      expect(err?.detail, name).toEqual({ state: 'awaiting-key', received: 16 })
      expect(r.bytesReceived, name).toBe(16)
    }
  })
})

describe('faults at every step end in a typed error', () => {
  /** Runs the first legs of a handshake by hand: i1 = initiator's key+garbage, r1 = responder's reply, i2 = initiator's terminator + version. */
  function legs(seed: number) {
    const i = new V2Handshake(options('initiator', seed, { garbageLen: 100 }))
    const r = new V2Handshake(options('responder', seed + 1, { garbageLen: 100 }))
    const i1 = i.start()
    r.start()
    const r1 = concatBytes(...r.push(i1).send)
    const s = i.push(r1)
    return { i, r, i1, r1, i2: concatBytes(...s.send) }
  }

  it('truncation: end() in each state is TRUNCATED naming the state; retryV1 only when the peer sent nothing to our key', () => {
    const i = new V2Handshake(options('initiator', 1))
    i.start()
    const e1 = errorOf(i.end().events)!
    expect([e1.code, e1.detail.state, e1.retryV1, e1.remote]).toEqual(['TRUNCATED', 'awaiting-key', true, true])

    const i2 = new V2Handshake(options('initiator', 1))
    i2.start()
    i2.push(new Uint8Array(10))
    const e2 = errorOf(i2.end().events)!
    expect([e2.code, e2.detail.state, e2.retryV1, e2.detail.received]).toEqual(['TRUNCATED', 'awaiting-key', false, 10])

    const r = new V2Handshake(options('responder', 1))
    r.start()
    expect(errorOf(r.end().events)?.detail.state).toBe('awaiting-prefix')

    const { r1, i2: rest } = legs(3)
    const ini = new V2Handshake(options('initiator', 3, { garbageLen: 100 }))
    ini.start()
    ini.push(r1.subarray(0, 64 + 50))
    expect(errorOf(ini.end().events)?.detail.state).toBe('awaiting-terminator')

    const l = legs(4)
    l.r.push(l.i2.subarray(0, 16 + 5)) // the terminator and part of the version packet
    expect(l.r.state).toBe('awaiting-version')
    const e4 = errorOf(l.r.end().events)!
    expect(e4.code).toBe('TRUNCATED')
    expect(l.r.state).toBe('failed')
    expect(rest.length).toBeGreaterThan(16)
  })

  it('a wrong garbage terminator: need-more until the scan limit, then NO_TERMINATOR', () => {
    const { r, i2 } = legs(5)
    const bad = i2.slice()
    bad[3] ^= 0x10
    const step = r.push(bad)
    expect(step.events).toEqual([])
    expect(r.state).toBe('awaiting-terminator')
    const more = r.push(new Uint8Array(4111 - bad.length))
    expect(errorOf(more.events)?.code).toBe('NO_TERMINATOR')
    // Sticky: the same error again, nothing sent.
    expect(r.push(new Uint8Array(1)).events.map(plain)).toEqual(more.events.map(plain))
  })

  it('a wrong key (a middlebox swaps the responder key): the initiator never finds the terminator', () => {
    const i = new V2Handshake(options('initiator', 6))
    const r = new V2Handshake(options('responder', 7))
    r.start()
    const r1 = concatBytes(...r.push(i.start()).send)
    const swapped = concatBytes(createEllSwiftKeyPair(new TestRandom(99)).ellswift, r1.subarray(64))
    const step = i.push(swapped)
    expect(step.send.length).toBe(2) // it derived (wrong) keys and sent its terminator + version
    const err = errorOf(i.push(new Uint8Array(4111)).events)!
    expect(err.code).toBe('NO_TERMINATOR')
    expect(err.remote).toBe(true)
  })

  it('a wrong network (magic): keys differ, so neither finds the other terminator', () => {
    const { a, b } = exchange(new V2Handshake(options('initiator', 8)), new V2Handshake(options('responder', 9, { magic: MAINNET_MAGIC })))
    expect(a.hs.state).toBe('awaiting-terminator')
    expect(b.hs.state).toBe('awaiting-terminator')
    expect(errorOf(a.hs.push(new Uint8Array(4111)).events)?.code).toBe('NO_TERMINATOR')
    expect(errorOf(b.hs.end().events)?.code).toBe('TRUNCATED')
    expect(toHex(REGTEST_MAGIC)).not.toBe(toHex(MAINNET_MAGIC))
  })

  it('a flipped bit in the garbage (the first packet authenticates it): BAD_TAG at the version packet', () => {
    const { r, i1, i2 } = legs(10)
    const r2 = new V2Handshake(options('responder', 11, { garbageLen: 100 }))
    r2.start()
    const tampered = i1.slice()
    tampered[64 + 7] ^= 1
    r2.push(tampered)
    const err = errorOf(r2.push(i2).events)!
    expect(err.code).toBe('BAD_TAG')
    expect(err.detail.packet).toBe(0)
    // Untampered, the same bytes complete the handshake.
    expect(r.push(i2).events.map((e) => e.type)).toEqual(['ready'])
  })

  it('a flipped bit in the version packet: BAD_TAG', () => {
    const { r, i2 } = legs(12)
    const bad = i2.slice()
    bad[bad.length - 1] ^= 0x80
    expect(errorOf(r.push(bad).events)?.code).toBe('BAD_TAG')
    expect(r.state).toBe('failed')
  })

  it('a flipped bit in a packet after ready: BAD_TAG, and the session stays failed', () => {
    const { a, b } = exchange(new V2Handshake(options('initiator', 13)), new V2Handshake(options('responder', 14)))
    const sa = ready(a.events)
    const pkt = sa.encrypt('inv', new Uint8Array(37))
    pkt[10] ^= 4
    const events = b.hs.push(pkt).events
    expect(errorOf(events)?.code).toBe('BAD_TAG')
    expect(b.hs.push(sa.encrypt('ping', new Uint8Array(8))).events.map((e) => e.type)).toEqual(['error'])
  })

  it('caller mistakes throw STATE or RANGE (never a peer fault)', () => {
    const i = new V2Handshake(options('initiator', 1))
    expect(() => i.push(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'STATE' }))
    i.start()
    expect(() => i.start()).toThrow(expect.objectContaining({ code: 'STATE' }))
    expect(() => new V2Handshake(options('initiator', 1, { garbageLen: 4096 }))).toThrow(expect.objectContaining({ code: 'RANGE' }))
    expect(() => new V2Handshake(options('initiator', 1, { magic: new Uint8Array(3) }))).toThrow(expect.objectContaining({ code: 'RANGE' }))
    expect(() => new V2Handshake(options('initiator', 1, { maxPayload: -1 }))).toThrow(expect.objectContaining({ code: 'RANGE' }))
    const pair = createEllSwiftKeyPair(new TestRandom(1))
    const other = createEllSwiftKeyPair(new TestRandom(2))
    expect(() => new V2Handshake(options('initiator', 1, { keyPair: { secretKey: pair.secretKey, ellswift: other.ellswift } }))).toThrow(
      expect.objectContaining({ code: 'BAD_KEY' }),
    )
    expect(new V2Error('STATE', 'x').remote).toBe(false)
  })
})
