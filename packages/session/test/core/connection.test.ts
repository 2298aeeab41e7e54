import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { encodeMessage, regtest, WireError, type Message } from '@bitp2p/wire'
import { Connection, type ConnectionAction, type ConnectionEvent } from '../../src/core/connection.js'
import { SeededRandom } from '../../src/core/random.js'

/** Two connections joined back to back; bytes move only when `deliver` is called, in pieces of `cut` bytes. */
function pair(seed = 1) {
  const a = new Connection({ network: regtest, direction: 'outbound' }, new SeededRandom(`a${seed}`))
  const b = new Connection({ network: regtest, direction: 'inbound' }, new SeededRandom(`b${seed}`))
  const log = { a: [] as ConnectionAction[], b: [] as ConnectionAction[] }
  const wire = { a: [] as Uint8Array[], b: [] as Uint8Array[] }
  const drain = () => {
    for (const [c, k] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      for (let x = c.poll(); x; x = c.poll()) {
        log[k].push(x)
        if (x.type === 'write') wire[k].push(x.bytes)
      }
    }
  }
  /** Hand everything `from` wrote to the other side, `cut` bytes at a time. */
  const deliver = (from: 'a' | 'b', now: number, cut = Infinity) => {
    const to = from === 'a' ? b : a
    while (wire[from].length > 0) {
      const bytes = wire[from].shift()!
      for (let o = 0; o < bytes.length; o += cut) to.receive(now, bytes.subarray(o, Math.min(bytes.length, o + cut)))
      drain()
    }
  }
  const handshake = (cut = Infinity) => {
    a.start(0)
    b.start(0)
    drain()
    for (let i = 0; i < 4; i++) {
      deliver('a', 0, cut)
      deliver('b', 0, cut)
    }
  }
  const events = (k: 'a' | 'b'): ConnectionEvent[] => log[k].flatMap((x) => (x.type === 'event' ? [x.event] : []))
  return { a, b, log, drain, deliver, handshake, events }
}

const messages = (ev: ConnectionEvent[]): Message[] => ev.flatMap((e) => (e.type === 'message' ? [e.message] : []))

describe('Connection: the machine owns its bytes', () => {
  it('two connections complete the version handshake over bytes alone', () => {
    const p = pair()
    p.handshake()
    expect([p.a.state, p.b.state]).toEqual(['ready', 'ready'])
    expect(p.a.transportVersion).toBe(1)
  })

  it('meters every whole frame in and out with its size on the wire', () => {
    const p = pair()
    p.handshake()
    p.a.send(1, { command: 'feefilter', feerate: 1000n })
    p.drain()
    p.deliver('a', 1)
    const out = p.events('a').filter((e) => e.type === 'frame' && e.direction === 'out')
    const inB = p.events('b').filter((e) => e.type === 'frame' && e.direction === 'in')
    // Every frame a sent, b received, with the same command and size: a v1 frame is 24 bytes + payload.
    expect(inB).toEqual(out.map((e) => ({ ...e, direction: 'in' })))
    expect(out.at(-1)).toEqual({ type: 'frame', direction: 'out', command: 'feefilter', wireBytes: encodeMessage({ command: 'feefilter', feerate: 1000n }, regtest).length })
  })

  it('property: the same bytes in any chunking give the same messages', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), (cut) => {
        const whole = pair(3)
        whole.handshake()
        const chunked = pair(3)
        chunked.handshake(cut)
        expect(messages(chunked.events('b'))).toEqual(messages(whole.events('b')))
        expect(messages(chunked.events('a'))).toEqual(messages(whole.events('a')))
        expect([chunked.a.state, chunked.b.state]).toEqual(['ready', 'ready'])
      }),
      { numRuns: 40, seed: 11 },
    )
  })

  it('a message that cannot be encoded throws at send and changes nothing', () => {
    const p = pair()
    p.handshake()
    const before = p.log.a.length
    // A fee rate beyond i64 cannot be encoded.
    expect(() => p.a.send(1, { command: 'feefilter', feerate: 1n << 63n })).toThrow(WireError)
    p.drain()
    expect(p.log.a.length).toBe(before)
    expect(p.a.state).toBe('ready')
  })

  it('a framing error from the peer ends the connection with "framing"', () => {
    const p = pair()
    p.handshake()
    p.a.receive(1, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))
    p.drain()
    expect(p.log.a.at(-1)).toMatchObject({ type: 'disconnect', reason: { kind: 'framing', error: { code: 'BAD_MAGIC' } } })
  })
})
