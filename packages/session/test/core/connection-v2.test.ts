/**
 * The connection machine over BIP324's v2 transport: two Connections with
 * V2Codecs, joined back to back, bytes moved by hand, so every handshake
 * step can be cut, truncated, flipped or replaced.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { bytesEqual, concatBytes, regtest, toHex, type Message } from '@bitp2p/wire'
import { V2Codec } from '../../src/core/codec-v2.js'
import { Connection, type ConnectionAction, type ConnectionEvent } from '../../src/core/connection.js'
import type { DisconnectReason } from '../../src/core/fsm/reasons.js'
import { SeededRandom } from '../../src/core/random.js'

type Side = 'a' | 'b'

/** Options of one run: how the bytes travel. */
interface Wire {
  /** Cut every write into pieces of this many bytes. */
  readonly cut?: number
  /** Rewrite the `index`th write of a side before delivery (return undefined to drop the rest and close). */
  readonly tamper?: (side: Side, index: number, bytes: Uint8Array) => Uint8Array | undefined
  /** Garbage lengths of each side. */
  readonly garbage?: { readonly a?: number; readonly b?: number }
  /** b speaks v1 only. */
  readonly bIsV1?: boolean
}

function run(seed: string, wire: Wire = {}) {
  const random = new SeededRandom(seed)
  const codec = (role: 'initiator' | 'responder', garbageLen?: number) =>
    new V2Codec({ role, network: regtest, random: random.fork(`${role}-codec`), garbageLen })
  const a = new Connection({ network: regtest, direction: 'outbound', codec: codec('initiator', wire.garbage?.a) }, random.fork('a'))
  const b = wire.bIsV1
    ? new Connection({ network: regtest, direction: 'inbound' }, random.fork('b'))
    : new Connection({ network: regtest, direction: 'inbound', codec: codec('responder', wire.garbage?.b) }, random.fork('b'))
  const log: Record<Side, ConnectionAction[]> = { a: [], b: [] }
  const pending: Record<Side, Uint8Array[]> = { a: [], b: [] }
  const writes: Record<Side, number> = { a: 0, b: 0 }
  const wireBytes: Record<Side, Uint8Array[]> = { a: [], b: [] }
  let cutOff: Side | undefined
  const drain = (): void => {
    for (const [c, k] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      for (let x = c.poll(); x; x = c.poll()) {
        log[k].push(x)
        if (x.type !== 'write') continue
        const bytes = wire.tamper ? wire.tamper(k, writes[k]++, x.bytes) : x.bytes
        if (bytes === undefined) {
          cutOff = k
          continue
        }
        wireBytes[k].push(bytes)
        pending[k].push(bytes)
      }
    }
  }
  const deliver = (now: number): boolean => {
    let moved = false
    for (const from of ['a', 'b'] as const) {
      const to = from === 'a' ? b : a
      while (pending[from].length > 0) {
        const bytes = pending[from].shift()!
        const cut = wire.cut ?? Infinity
        for (let o = 0; o < bytes.length; o += cut) to.receive(now, bytes.subarray(o, Math.min(bytes.length, o + cut)))
        moved = true
        drain()
      }
    }
    return moved
  }
  a.start(0)
  b.start(0)
  drain()
  for (let i = 0; i < 20 && deliver(0); i++) {
    // until quiet
  }
  if (cutOff) {
    // The side that was cut off hangs up: the other hears the transport close.
    const other = cutOff === 'a' ? b : a
    other.close(1, { kind: 'transport', error: undefined })
    drain()
  }
  const events = (k: Side): ConnectionEvent[] => log[k].flatMap((x) => (x.type === 'event' ? [x.event] : []))
  const closed = (k: Side): DisconnectReason | undefined => log[k].flatMap((x) => (x.type === 'disconnect' ? [x.reason] : []))[0]
  const messages = (k: Side): Message[] => events(k).flatMap((e) => (e.type === 'message' ? [e.message] : []))
  return { a, b, log, events, closed, messages, wireBytes, deliver, drain }
}

describe('Connection over v2: the handshake', () => {
  it('completes both handshakes (v2, then version/verack) with the same session id on both ends', () => {
    const r = run('ok')
    expect([r.a.state, r.b.state]).toEqual(['ready', 'ready'])
    expect([r.a.transportVersion, r.b.transportVersion]).toEqual([2, 2])
    expect(r.a.sessionId).toHaveLength(32)
    expect(toHex(r.a.sessionId!)).toBe(toHex(r.b.sessionId!))
    // Both said they speak v2.
    expect(r.a.machine.info!.peer.services & (1n << 11n)).toBe(1n << 11n)
  })

  it('the bytes on the wire carry no network magic and no command name', () => {
    const r = run('private')
    const all = [...r.wireBytes.a, ...r.wireBytes.b]
    const text = new TextDecoder('latin1').decode(concatBytes(...all))
    for (const command of ['version', 'verack', 'wtxidrelay', 'sendaddrv2', 'sendheaders', 'ping']) expect(text).not.toContain(command)
    expect(indexOf(concatBytes(...all), regtest.magic)).toBe(-1)
  })

  it('property: any chunking of the byte stream gives the same messages', () => {
    const whole = run('chunks')
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 97 }), (cut) => {
        const r = run('chunks', { cut })
        expect([r.a.state, r.b.state]).toEqual(['ready', 'ready'])
        expect(r.messages('a')).toEqual(whole.messages('a'))
        expect(r.messages('b')).toEqual(whole.messages('b'))
      }),
      { numRuns: 30, seed: 5 },
    )
  })

  it('the same seed gives the same bytes', () => {
    expect(run('same').wireBytes).toEqual(run('same').wireBytes)
    expect(run('same').wireBytes).not.toEqual(run('other').wireBytes)
  })

  it('accepts garbage at the limit (4,095 bytes) and refuses one byte more than a terminator search allows', () => {
    const max = run('garbage-max', { garbage: { a: 4095, b: 4095 } })
    expect([max.a.state, max.b.state]).toEqual(['ready', 'ready'])
  })

  it('a v2 responder recognises a v1 initiator by its first bytes and carries on in v1', () => {
    const random = new SeededRandom('v1-client')
    const a = new Connection({ network: regtest, direction: 'outbound' }, random.fork('a'))
    const b = new Connection({ network: regtest, direction: 'inbound', codec: new V2Codec({ role: 'responder', network: regtest, random: random.fork('codec') }) }, random.fork('b'))
    const pump = () => {
      for (let i = 0; i < 10; i++) {
        for (let x = a.poll(); x; x = a.poll()) if (x.type === 'write') b.receive(0, x.bytes)
        for (let x = b.poll(); x; x = b.poll()) if (x.type === 'write') a.receive(0, x.bytes)
      }
    }
    a.start(0)
    b.start(0)
    pump()
    expect([a.state, b.state]).toEqual(['ready', 'ready'])
    expect([a.transportVersion, b.transportVersion]).toEqual([1, 1])
  })

  it('a v2 initiator that hears the network magic first is talking to a v1 node: "v2" V1_RESPONDER, worth a v1 retry', () => {
    const r = run('v1-node', { bIsV1: true })
    // The v1 node took our key for a bad magic and said so (its own framing error) ...
    expect(r.closed('b')).toMatchObject({ kind: 'framing', error: { code: 'BAD_MAGIC' } })
  })
})

describe('Connection over v2: a fault at every handshake step ends in a typed disconnect', () => {
  // Writes of the initiator (a): 0 = key + garbage, 1 = its garbage terminator, 2 = its v2 version packet, 3 = the version message, then more packets.
  // Writes of the responder (b): 0 = key + garbage (+ terminator + version packet), then packets.
  const flip = (bytes: Uint8Array, at: number): Uint8Array => {
    const c = bytes.slice()
    c[Math.min(at, c.length - 1)]! ^= 0x01
    return c
  }

  it('the initiator hangs up after its key: the responder hears the transport close', () => {
    const r = run('cut-a', { tamper: (side, i, b) => (side === 'a' && i >= 1 ? undefined : b) })
    expect(r.closed('b')).toMatchObject({ kind: 'transport' })
    expect(r.b.transportReady).toBe(false)
  })

  it('truncated key: nothing completes; the responder closes when the initiator goes', () => {
    const r = run('trunc', { tamper: (side, i, b) => (side === 'a' && i === 0 ? b.subarray(0, 40) : side === 'a' ? undefined : b) })
    expect(r.b.transportReady).toBe(false)
    expect(r.closed('b')).toMatchObject({ kind: 'transport' })
  })

  it('a wrong garbage terminator: NO_TERMINATOR once 4,095 + 16 bytes went by without it', () => {
    // b's first write is key, garbage, terminator, version packet: corrupt its terminator and send filler after it.
    const r = run('term', {
      garbage: { b: 100 },
      tamper: (side, i, b) => (side === 'b' && i === 0 ? concatBytes(flip(b, 64 + 100), new Uint8Array(4200)) : b),
    })
    expect(r.closed('a')).toMatchObject({ kind: 'v2', code: 'NO_TERMINATOR' })
  })

  it('a flipped bit in a packet: BAD_TAG', () => {
    const r = run('flip', { tamper: (side, i, b) => (side === 'a' && i === 3 ? flip(b, b.length - 5) : b) })
    expect(r.closed('b')).toMatchObject({ kind: 'v2', code: 'BAD_TAG' })
  })

  it('a wrong key (a different 64 bytes): the terminators cannot match, NO_TERMINATOR', () => {
    const r = run('key', { tamper: (side, i, b) => (side === 'a' && i === 0 ? concatBytes(new Uint8Array(64).fill(7), b.subarray(64)) : b) })
    // b derived other keys: a's terminator is not there for it; a, meanwhile, cannot read b.
    const reasons = [r.closed('a'), r.closed('b')].filter((x) => x !== undefined)
    expect(reasons.length).toBeGreaterThan(0)
    for (const x of reasons) expect(x).toMatchObject({ kind: 'v2' })
  })

  it('a v2 failure is no misbehaviour: transient, no ban score', async () => {
    const { disconnectPolicy } = await import('../../src/core/fsm/reasons.js')
    expect(disconnectPolicy({ kind: 'v2', code: 'BAD_TAG', message: 'x', retryV1: false })).toMatchObject({ transient: true, banScore: 0 })
  })
})

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  for (let i = 0; i + needle.length <= hay.length; i++) if (bytesEqual(hay.subarray(i, i + needle.length), needle)) return i
  return -1
}
