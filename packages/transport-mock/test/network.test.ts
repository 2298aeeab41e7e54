import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { TransportError } from '@bitp2p/session'
import type { Transport } from '@bitp2p/session'
import { MockNetwork, type LinkOptions, type MockTransport } from '../src/network.js'

const SERVER = { host: '10.0.0.1', port: 8333 }

/** Everything one end observes, with virtual timestamps. */
function observe(t: Transport, clock: { now(): number }) {
  const o = {
    chunks: [] as Uint8Array[],
    times: [] as number[],
    closes: [] as { at: number; err: TransportError | undefined }[],
    drains: [] as number[],
    bytes(): Uint8Array {
      const out = new Uint8Array(o.chunks.reduce((n, c) => n + c.length, 0))
      let off = 0
      for (const c of o.chunks) {
        out.set(c, off)
        off += c.length
      }
      return out
    },
  }
  t.onData((b) => {
    o.chunks.push(b)
    o.times.push(clock.now())
  })
  t.onClose((err) => o.closes.push({ at: clock.now(), err }))
  t.onDrain(() => o.drains.push(clock.now()))
  return o
}

/** A network with one listener; returns the established pair after running the handshake. */
async function pair(link: LinkOptions = {}, seed: number | string = 1) {
  const net = new MockNetwork({ seed, defaultLink: link })
  const accepted: Transport[] = []
  net.listen(SERVER).onConnection((t) => accepted.push(t))
  const p = net.connector('10.0.0.2').connect(SERVER)
  net.clock.run({ until: net.now() + 2 * (link.latency ?? 10) })
  const client = (await p) as MockTransport
  expect(accepted).toHaveLength(1)
  const server = accepted[0] as MockTransport
  return { net, client, server, c: observe(client, net.clock), s: observe(server, net.clock) }
}

/** Byte equality without vitest's deep diff, which is slow on megabytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function pattern(n: number, salt = 0): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 8) + salt) & 0xff
  return b
}

describe('connect', () => {
  it('accepts after one latency and resolves after the round trip', async () => {
    const net = new MockNetwork({ seed: 1, defaultLink: { latency: 25 } })
    let acceptedAt = -1
    let server: Transport | undefined
    const listener = net.listen(SERVER)
    listener.onConnection((t) => {
      acceptedAt = net.now()
      server = t
    })
    let resolvedAt = -1
    const p = net.connector('10.0.0.2').connect(SERVER).then((t) => {
      resolvedAt = net.now()
      return t
    })
    await net.clock.runAsync()
    const client = await p
    expect(acceptedAt).toBe(25)
    expect(resolvedAt).toBe(50)
    expect(client.remote).toEqual(SERVER)
    expect(server!.remote).toEqual({ host: '10.0.0.2', port: 49152 })
    expect((client as MockTransport).local).toEqual(server!.remote)
    expect(listener.address).toEqual(SERVER)
  })

  it("fails with 'connect-failed' after the round trip when nothing listens", async () => {
    const net = new MockNetwork({ seed: 1, defaultLink: { latency: 7 } })
    const p = net.connector().connect(SERVER)
    const failed = expect(p).rejects.toMatchObject({ name: 'TransportError', code: 'connect-failed' })
    net.clock.runUntilIdle()
    await failed
    expect(net.now()).toBe(14)
  })

  it("fails with 'connect-failed' on refuse(addr) even while listening, and recovers after refuse(addr, false)", async () => {
    const net = new MockNetwork({ seed: 1 })
    let accepted = 0
    net.listen(SERVER).onConnection(() => accepted++)
    net.refuse(SERVER)
    const p1 = net.connector().connect(SERVER)
    net.clock.runUntilIdle()
    await expect(p1).rejects.toBeInstanceOf(TransportError)
    await expect(p1).rejects.toMatchObject({ code: 'connect-failed' })
    expect(accepted).toBe(0)
    net.refuse(SERVER, false)
    const p2 = net.connector().connect(SERVER)
    net.clock.runUntilIdle()
    await expect(p2).resolves.toBeDefined()
    expect(accepted).toBe(1)
  })

  it("rejects at once with kind 'aborted' when the signal is already aborted", async () => {
    const net = new MockNetwork({ seed: 1 })
    let accepted = 0
    net.listen(SERVER).onConnection(() => accepted++)
    const ac = new AbortController()
    ac.abort()
    const err = await net.connector().connect(SERVER, ac.signal).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TransportError)
    expect((err as TransportError).kind).toBe('aborted')
    // The signal's reason (a DOMException named AbortError) is kept as the cause.
    expect(((err as TransportError).cause as Error).name).toBe('AbortError')
    expect(net.clock.pendingEvents).toBe(0)
    net.clock.runUntilIdle()
    expect(accepted).toBe(0)
  })

  it("aborting after the listener accepted rejects 'aborted' and resets the accepted end one latency later", async () => {
    const net = new MockNetwork({ seed: 1, defaultLink: { latency: 10 } })
    const ac = new AbortController()
    let server: Transport | undefined
    net.listen(SERVER).onConnection((t) => (server = t))
    const p = net.connector().connect(SERVER, ac.signal)
    const rejected = expect(p).rejects.toMatchObject({ code: 'aborted' })
    net.clock.run({ until: 15 }) // SYN arrived at 10; SYN-ACK due at 20
    expect(server).toBeDefined()
    const s = observe(server!, net.clock)
    ac.abort()
    await rejected
    net.clock.runUntilIdle()
    expect(s.closes).toHaveLength(1)
    expect(s.closes[0].at).toBe(25)
    expect(s.closes[0].err?.code).toBe('reset')
    expect(net.connections()).toHaveLength(0)
  })

  it("a blackholed address ends in 'timeout' from the connector's virtual timeout, or from a TimeoutError signal", async () => {
    const net = new MockNetwork({ seed: 1 })
    net.listen(SERVER).onConnection(() => {
      throw new Error('must not be reached')
    })
    net.blackhole(SERVER)
    const p = net.connector('10.0.0.2', { timeout: 3_000 }).connect(SERVER)
    const timedOut = expect(p).rejects.toMatchObject({ code: 'timeout' })
    net.clock.runUntilIdle()
    await timedOut
    expect(net.now()).toBe(3_000)

    const ac = new AbortController()
    const p2 = net.connector().connect(SERVER, ac.signal)
    net.clock.setTimer(500, () => ac.abort(new DOMException('too slow', 'TimeoutError')))
    const timedOut2 = expect(p2).rejects.toMatchObject({ code: 'timeout' })
    net.clock.runUntilIdle()
    await timedOut2
  })

  it('cancels the connect timeout on success, so no timer leaks', async () => {
    const net = new MockNetwork({ seed: 1 })
    net.listen(SERVER).onConnection(() => {})
    const p = net.connector('10.0.0.2', { timeout: 60_000 }).connect(SERVER)
    net.clock.runUntilIdle()
    await p
    expect(net.clock.pendingTimers).toBe(0)
    expect(net.now()).toBe(20)
  })

  it('allocates ephemeral ports per host and rejects a second listener on one address', () => {
    const net = new MockNetwork({ seed: 1 })
    const a = net.listen({ host: '10.0.0.9', port: 0 })
    const b = net.listen({ host: '10.0.0.9', port: 0 })
    expect([a.address.port, b.address.port]).toEqual([49152, 49153])
    expect(() => net.listen(SERVER) && net.listen(SERVER)).toThrow(/already in use/)
  })

  it('a closed listener refuses new connections; established ones stay open', async () => {
    const { net, client, server, s } = await pair()
    const listener = net.listen({ host: '10.0.0.1', port: 9000 })
    await listener.close()
    const p = net.connector().connect({ host: '10.0.0.1', port: 9000 })
    const failed = expect(p).rejects.toMatchObject({ code: 'connect-failed' })
    client.send(new Uint8Array([1, 2, 3]))
    net.clock.runUntilIdle()
    await failed
    expect(s.bytes()).toEqual(new Uint8Array([1, 2, 3]))
    expect(server.isOpen).toBe(true)
  })
})

describe('data', () => {
  it('small writes arrive in order after exactly one latency (virtual time)', async () => {
    const { net, client, server, c, s } = await pair({ latency: 40 })
    const t0 = net.now()
    client.send(new Uint8Array([1]))
    client.send(new Uint8Array([2, 3]))
    net.clock.advance(39)
    expect(s.chunks).toHaveLength(0)
    net.clock.advance(1)
    expect(s.chunks).toEqual([new Uint8Array([1]), new Uint8Array([2, 3])])
    expect(s.times).toEqual([t0 + 40, t0 + 40])
    server.send(new Uint8Array([9]))
    net.clock.runUntilIdle()
    expect(c.times).toEqual([t0 + 80])
    expect(client.bufferedAmount).toBe(0)
  })

  it('jitter delays each transmission within [latency, latency + jitter) and never reorders', async () => {
    const { net, client, s } = await pair({ latency: 20, jitter: 15 }, 'jitter')
    const sentAt: number[] = []
    for (let i = 0; i < 200; i++) {
      net.clock.setTimer(i, () => {
        sentAt.push(net.now())
        client.send(new Uint8Array([i]))
      })
    }
    net.clock.runUntilIdle()
    expect(s.chunks.map((b) => b[0])).toEqual(Array.from({ length: 200 }, (_, i) => i))
    const delays = s.times.map((t, i) => t - sentAt[i])
    for (const d of delays) expect(d >= 20 && d < 35).toBe(true)
    expect(new Set(delays).size).toBeGreaterThan(50) // jitter is really drawn
    for (let i = 1; i < s.times.length; i++) expect(s.times[i]).toBeGreaterThanOrEqual(s.times[i - 1])
  })

  it('one 4 MB+ write arrives intact and in order through a chunking, rate-limited link', async () => {
    const size = 4 * 1024 * 1024 + 12_345
    const { net, client, s } = await pair({ latency: 30, bandwidth: 8_000_000, maxChunk: 65_536 })
    const payload = pattern(size)
    const t0 = net.now()
    client.send(payload)
    expect(client.bufferedAmount).toBe(size)
    net.clock.runUntilIdle()
    expect(sameBytes(s.bytes(), payload)).toBe(true)
    expect(s.chunks.length).toBeGreaterThan(size / 65_536)
    for (const c of s.chunks) expect(c.length >= 1 && c.length <= 65_536).toBe(true)
    // Serialized at 8 MB/s, then one latency.
    expect(s.times.at(-1)).toBeCloseTo(t0 + (size * 1000) / 8_000_000 + 30, 6)
  })

  it('many tiny writes arrive byte for byte and in order', async () => {
    const { net, client, s } = await pair({ latency: 5, jitter: 3, maxChunk: 1 }, 7)
    const n = 20_000
    for (let i = 0; i < n; i++) client.send(new Uint8Array([i & 0xff]))
    net.clock.runUntilIdle()
    const got = s.bytes()
    expect(got.length).toBe(n)
    for (let i = 0; i < n; i++) if (got[i] !== (i & 0xff)) throw new Error(`byte ${i} out of order`)
  })

  it('any chunking of any sends delivers the same byte stream', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 64 }),
        fc.nat({ max: 0xffffffff }),
        async (sends, maxChunk, seed) => {
          const { net, client, s } = await pair({ latency: 3, jitter: 4, maxChunk }, seed)
          for (const b of sends) client.send(b)
          net.clock.runUntilIdle()
          const expected = new Uint8Array(sends.reduce((n, b) => n + b.length, 0))
          let off = 0
          for (const b of sends) {
            expected.set(b, off)
            off += b.length
          }
          expect(s.bytes()).toEqual(expected)
          for (const c of s.chunks) expect(c.length >= 1 && c.length <= maxChunk).toBe(true)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('data that arrives before onData is registered is kept and handed over in order', async () => {
    const net = new MockNetwork({ seed: 1 })
    let server: Transport | undefined
    net.listen(SERVER).onConnection((t) => {
      server = t
      t.send(new Uint8Array([1]))
      t.send(new Uint8Array([2]))
      t.close()
    })
    const p = net.connector().connect(SERVER)
    net.clock.runUntilIdle() // everything is delivered before the client registers handlers
    const client = await p
    const o = observe(client, net.clock)
    net.clock.runUntilIdle()
    expect(o.chunks).toEqual([new Uint8Array([1]), new Uint8Array([2])])
    expect(o.closes.map((c) => c.err?.code)).toEqual(['remote'])
    expect(server).toBeDefined()
  })

  it('does not copy by default; copyOnSend protects callers that reuse buffers', async () => {
    for (const copyOnSend of [false, true]) {
      const net = new MockNetwork({ seed: 1, copyOnSend })
      let got: Uint8Array | undefined
      net.listen(SERVER).onConnection((t) => t.onData((b) => (got = b)))
      const p = net.connector().connect(SERVER)
      net.clock.runUntilIdle()
      const client = await p
      const buf = new Uint8Array([1, 2, 3])
      client.send(buf)
      buf[0] = 99
      net.clock.runUntilIdle()
      expect(got![0]).toBe(copyOnSend ? 1 : 99)
    }
  })
})

describe('backpressure', () => {
  it('bufferedAmount counts unserialized bytes on a slow link and onDrain fires once when it empties', async () => {
    const { net, client, s, c } = await pair({ latency: 10, bandwidth: 1_000 })
    const t0 = net.now()
    client.send(pattern(3_000))
    client.send(pattern(2_000, 1))
    expect(client.bufferedAmount).toBe(5_000)
    net.clock.run({ until: t0 + 3_000 }) // first send serialized
    expect(client.bufferedAmount).toBe(2_000)
    expect(c.drains).toEqual([])
    net.clock.runUntilIdle()
    expect(client.bufferedAmount).toBe(0)
    expect(c.drains).toEqual([t0 + 5_000])
    expect(s.times).toEqual([t0 + 3_010, t0 + 5_010])
    expect(s.bytes().length).toBe(5_000)
  })

  it('with unlimited bandwidth bufferedAmount stays 0 and onDrain never fires', async () => {
    const { net, client, c } = await pair({ latency: 10 })
    for (let i = 0; i < 100; i++) client.send(pattern(10_000))
    expect(client.bufferedAmount).toBe(0)
    net.clock.runUntilIdle()
    expect(c.drains).toEqual([])
  })
})

describe('receive window', () => {
  /** A pair whose server end has not registered onData (it reads only when the test says so). */
  async function pairNotReading(link: LinkOptions, seed: number | string = 1) {
    const net = new MockNetwork({ seed, defaultLink: link })
    const accepted: MockTransport[] = []
    net.listen(SERVER).onConnection((t) => accepted.push(t as MockTransport))
    const p = net.connector('10.0.0.2').connect(SERVER)
    net.clock.run({ until: net.now() + 2 * (link.latency ?? 10) })
    const client = (await p) as MockTransport
    const server = accepted[0]
    const c = observe(client, net.clock)
    const got: Uint8Array[] = []
    const times: number[] = []
    const startReading = (): void =>
      server.onData((b) => {
        got.push(b)
        times.push(net.now())
      })
    return { net, client, server, c, got, times, startReading }
  }

  const joined = (chunks: readonly Uint8Array[]): Uint8Array => {
    const out = new Uint8Array(chunks.reduce((n, x) => n + x.length, 0))
    let off = 0
    for (const x of chunks) {
      out.set(x, off)
      off += x.length
    }
    return out
  }

  it('holds the sender back once a peer that is not reading has a window full, then flows in order and drains when it reads', async () => {
    const { net, client, c, got, times, startReading } = await pairNotReading({ latency: 10, receiveWindow: 1_000 })
    const sent = [pattern(600), pattern(600, 1), pattern(600, 2)]
    for (const b of sent) client.send(b)
    // 1,000 bytes fit the window (the first send and 400 of the second); the rest waits in the sender's buffer.
    expect(client.bufferedAmount).toBe(800)
    net.clock.runUntilIdle()
    expect(client.bufferedAmount).toBe(800)
    expect(c.drains).toEqual([])
    const t0 = net.now()
    startReading()
    net.clock.runUntilIdle()
    // What the window let in is handed over at once, the held bytes one latency later.
    expect(times[0]).toBe(t0)
    expect(times.at(-1)).toBe(t0 + 10)
    expect(sameBytes(joined(got), joined(sent))).toBe(true)
    expect(client.bufferedAmount).toBe(0)
    expect(c.drains).toEqual([t0])
  })

  it('on a slow link serializes only what fits the window while the peer does not read', async () => {
    const { net, client, c, got, startReading } = await pairNotReading({ latency: 10, bandwidth: 1_000, receiveWindow: 1_000 })
    const t0 = net.now()
    const big = pattern(2_500)
    client.send(big)
    expect(client.bufferedAmount).toBe(2_500)
    net.clock.run({ until: t0 + 60_000 })
    expect(client.bufferedAmount).toBe(1_500)
    expect(c.drains).toEqual([])
    startReading()
    net.clock.runUntilIdle()
    // The remaining 1,500 bytes take 1.5 s to serialize once the window opens.
    expect(c.drains).toEqual([t0 + 60_000 + 1_500])
    expect(sameBytes(joined(got), big)).toBe(true)
  })

  it('never limits an end that reads: a window far below what is in flight still delivers everything at once', async () => {
    const { net, client, s } = await pair({ latency: 10, receiveWindow: 100 })
    const sent = Array.from({ length: 10 }, (_, i) => pattern(1_000, i))
    for (const b of sent) client.send(b)
    expect(client.bufferedAmount).toBe(0)
    net.clock.runUntilIdle()
    expect(sameBytes(s.bytes(), joined(sent))).toBe(true)
  })

  it('gives the same trace for the same seed when the window binds, with chunking and jitter', async () => {
    const run = async (): Promise<string> => {
      const { net, client, startReading } = await pairNotReading({ latency: 10, jitter: 5, maxChunk: 64, receiveWindow: 700 }, 'window')
      for (let i = 0; i < 5; i++) client.send(pattern(300, i))
      net.clock.runUntilIdle()
      startReading()
      net.clock.runUntilIdle()
      return net.traceHash()
    }
    expect(await run()).toBe(await run())
  })

  it('rejects a receive window that is not a positive integer', () => {
    expect(() => new MockNetwork({ seed: 1, defaultLink: { receiveWindow: 0 } })).toThrow(RangeError)
    expect(() => new MockNetwork({ seed: 1, defaultLink: { receiveWindow: 1.5 } })).toThrow(RangeError)
  })
})

describe('close', () => {
  it("close is graceful: queued bytes arrive, then the far end closes 'remote'; the closer's onClose has no error", async () => {
    const { net, client, server, c, s } = await pair({ latency: 10, bandwidth: 10_000 })
    const t0 = net.now()
    client.send(pattern(1_000))
    client.close()
    client.close() // idempotent
    expect(client.bufferedAmount).toBe(0)
    net.clock.runUntilIdle()
    expect(s.bytes()).toEqual(pattern(1_000))
    expect(s.closes).toHaveLength(1)
    expect(s.closes[0].err?.code).toBe('remote')
    expect(s.closes[0].at).toBe(t0 + 100 + 10)
    expect(c.closes).toEqual([{ at: t0, err: undefined }])
    expect(server.isOpen).toBe(false)
    expect(net.connections()).toHaveLength(0)
  })

  it('close while the other side writes: the closer receives nothing more, the writer sees remote close and its sends are dropped', async () => {
    const { net, client, server, c, s } = await pair({ latency: 10 })
    let sent = 0
    const write = () => {
      server.send(new Uint8Array([sent++ & 0xff]))
      net.clock.setTimer(1, write)
    }
    write()
    const stopAt = net.now() + 50
    net.clock.setTimer(50, () => client.close())
    net.clock.run({ until: stopAt + 200 })
    expect(c.closes).toEqual([{ at: stopAt, err: undefined }])
    // Bytes sent at time t arrive at t + 10; the client closed at stopAt.
    for (const t of c.times) expect(t).toBeLessThanOrEqual(stopAt)
    expect(c.chunks.length).toBeGreaterThan(30)
    expect(s.closes).toHaveLength(1)
    expect(s.closes[0].err?.code).toBe('remote')
    expect(s.closes[0].at).toBe(stopAt + 10)
    expect(sent).toBeGreaterThan(200) // kept writing after the close, without throwing
    expect(server.bufferedAmount).toBe(0)
  })
})

describe('faults', () => {
  it("resetAt closes both ends with kind 'reset' and drops bytes in flight", async () => {
    const { net, client, c, s } = await pair({ latency: 10 })
    const t0 = net.now()
    client.send(new Uint8Array([1]))
    net.clock.setTimer(15, () => client.send(new Uint8Array([2]))) // would arrive at t0 + 25
    net.resetAt(t0 + 20, client)
    net.clock.runUntilIdle()
    expect(s.chunks).toEqual([new Uint8Array([1])])
    expect(c.closes.map((x) => [x.at, x.err?.code])).toEqual([[t0 + 20, 'reset']])
    expect(s.closes.map((x) => [x.at, x.err?.code])).toEqual([[t0 + 20, 'reset']])
    expect(c.closes[0].err).toBeInstanceOf(TransportError)
    expect(net.connections()).toHaveLength(0)
  })

  it('dropSilentlyAt stops delivery without closing either end', async () => {
    const { net, client, server, c, s } = await pair({ latency: 10 })
    const t0 = net.now()
    client.send(new Uint8Array([1]))
    net.dropSilentlyAt(t0 + 20, client.connection)
    net.clock.setTimer(30, () => {
      client.send(new Uint8Array([2]))
      server.send(new Uint8Array([3]))
    })
    net.clock.runUntilIdle()
    expect(s.chunks).toEqual([new Uint8Array([1])])
    expect(c.chunks).toEqual([])
    expect(c.closes).toEqual([])
    expect(s.closes).toEqual([])
    expect(client.isOpen && server.isOpen).toBe(true)
  })

  it('closeAt closes the chosen end at the chosen time', async () => {
    const { net, client, c, s } = await pair({ latency: 10 })
    const t0 = net.now()
    net.closeAt(t0 + 100, client.connection, 'server')
    net.clock.runUntilIdle()
    expect(s.closes).toEqual([{ at: t0 + 100, err: undefined }])
    expect(c.closes.map((x) => [x.at, x.err?.code])).toEqual([[t0 + 110, 'remote']])
  })

  it('loss resets the connection: the receiver gets a prefix of what was sent, then a reset at both ends', async () => {
    const { net, client, c, s } = await pair({ latency: 10, loss: 0.05 }, 'lossy')
    const sent: number[] = []
    for (let i = 0; i < 500; i++) {
      net.clock.setTimer(i, () => {
        sent.push(i & 0xff)
        client.send(new Uint8Array([i & 0xff]))
      })
    }
    net.clock.runUntilIdle()
    const got = Array.from(s.bytes())
    expect(got.length).toBeGreaterThan(0)
    expect(got.length).toBeLessThan(sent.length)
    expect(got).toEqual(sent.slice(0, got.length))
    expect(s.closes.map((x) => x.err?.code)).toEqual(['reset'])
    expect(c.closes.map((x) => x.err?.code)).toEqual(['reset'])
    expect(c.closes[0].at).toBe(s.closes[0].at)
  })

  it('loss 1 resets on the first send, when it would have arrived', async () => {
    const { net, client, c, s } = await pair({ latency: 10, loss: 1 })
    const t0 = net.now()
    client.send(new Uint8Array([1]))
    net.clock.runUntilIdle()
    expect(s.chunks).toEqual([])
    expect(s.closes.map((x) => [x.at, x.err?.code])).toEqual([[t0 + 10, 'reset']])
    expect(c.closes.map((x) => [x.at, x.err?.code])).toEqual([[t0 + 10, 'reset']])
  })
})

describe('partitions', () => {
  it('hold bytes like a stalled TCP: nothing arrives, the sender buffers, and heal delivers everything in order', async () => {
    const { net, client, server, c, s } = await pair({ latency: 10 })
    const t0 = net.now()
    client.send(new Uint8Array([1])) // in flight when the partition starts: held
    net.partition(['10.0.0.2'], ['10.0.0.1'])
    client.send(new Uint8Array([2, 3])) // buffered at the sender
    server.send(new Uint8Array([4]))
    expect(client.bufferedAmount).toBe(2)
    expect(server.bufferedAmount).toBe(1)
    net.clock.advance(1_000)
    expect(s.chunks).toEqual([])
    expect(c.chunks).toEqual([])
    net.heal()
    net.clock.runUntilIdle()
    expect(s.chunks).toEqual([new Uint8Array([1]), new Uint8Array([2, 3])])
    expect(s.times).toEqual([t0 + 1_010, t0 + 1_010])
    expect(c.chunks).toEqual([new Uint8Array([4])])
    expect(c.drains).toEqual([t0 + 1_000])
    expect(client.bufferedAmount).toBe(0)
    expect(c.closes).toEqual([])
  })

  it('resetAfter resets connections still partitioned, at both ends', async () => {
    const { net, c, s } = await pair({ latency: 10 })
    const t0 = net.now()
    net.partition(['10.0.0.1'], ['10.0.0.2'], { resetAfter: 5_000 })
    net.clock.runUntilIdle()
    expect(c.closes.map((x) => [x.at, x.err?.code])).toEqual([[t0 + 5_000, 'reset']])
    expect(s.closes.map((x) => [x.at, x.err?.code])).toEqual([[t0 + 5_000, 'reset']])
  })

  it('a partition healed before resetAfter does not reset', async () => {
    const { net, client, c, s } = await pair({ latency: 10 })
    net.partition(['10.0.0.1'], ['10.0.0.2'], { resetAfter: 5_000 })
    net.clock.advance(1_000)
    net.heal()
    client.send(new Uint8Array([7]))
    net.clock.runUntilIdle()
    expect(c.closes).toEqual([])
    expect(s.chunks).toEqual([new Uint8Array([7])])
  })

  it('hosts outside the partition are unaffected, and connects across it are dropped silently', async () => {
    const net = new MockNetwork({ seed: 1 })
    net.listen(SERVER).onConnection(() => {})
    net.partition(['10.0.0.1'], ['10.0.0.66'])
    const across = net.connector('10.0.0.66', { timeout: 2_000 }).connect(SERVER)
    const outside = net.connector('10.0.0.77').connect(SERVER)
    const timedOut = expect(across).rejects.toMatchObject({ code: 'timeout' })
    net.clock.runUntilIdle()
    await timedOut
    await expect(outside).resolves.toBeDefined()
  })
})

describe('runAsync with promise-based drivers', () => {
  it('an async echo client written with await runs in virtual time', async () => {
    const net = new MockNetwork({ seed: 1, defaultLink: { latency: 5 } })
    net.listen(SERVER).onConnection((t) => t.onData((b) => t.send(b)))
    const log: string[] = []
    const client = (async () => {
      const t = await net.connector('10.0.0.2').connect(SERVER)
      log.push(`connected@${net.now()}`)
      const reply = new Promise<Uint8Array>((resolve) => t.onData(resolve))
      t.send(new TextEncoder().encode('ping'))
      const got = await reply
      log.push(`reply ${new TextDecoder().decode(got)}@${net.now()}`)
      t.close()
    })()
    await net.clock.runAsync()
    await client
    expect(log).toEqual(['connected@10', 'reply ping@20'])
  })
})
