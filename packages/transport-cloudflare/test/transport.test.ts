// CloudflareTransport over a scripted socket (test/fake-socket.ts): how it
// paces writes (the writer's ready/desiredSize, the in-flight window), what
// bufferedAmount and onDrain say, the send-buffer cap, reading, and every
// way it closes. The same class runs in workerd in test/workerd.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { TransportError } from '@bitp2p/session'
import { CloudflareTransport, resolveTransportOptions, type CloudflareTransportOptions, type SendBufferOverflow } from '../src/index.js'
import { FakeSocket, flush } from './fake-socket.js'

const REMOTE = { host: '127.0.0.1', port: 18444 }

function open(options: CloudflareTransportOptions = {}): { s: FakeSocket; t: CloudflareTransport; closes: (TransportError | undefined)[]; drains: number[] } {
  const s = new FakeSocket()
  const t = new CloudflareTransport(s, REMOTE, options)
  const closes: (TransportError | undefined)[] = []
  const drains: number[] = []
  t.onClose((e) => closes.push(e))
  t.onDrain(() => drains.push(t.bufferedAmount))
  return { s, t, closes, drains }
}

const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill)

afterEach(() => {
  vi.useRealTimers()
})

describe('writing', () => {
  it('hands nothing to the writer while it reports desiredSize 0, and resumes when ready resolves', async () => {
    const { s, t } = open()
    const makeReady = s.writer.notReady()
    t.send(bytes(10))
    t.send(bytes(20))
    await flush()
    expect(s.writer.writes).toHaveLength(0)
    expect(t.bufferedAmount).toBe(30)
    makeReady()
    await flush()
    expect(s.writer.writes.map((w) => w.chunk.length)).toEqual([10, 20])
    // Handed over but not settled: still buffered.
    expect(t.bufferedAmount).toBe(30)
  })

  it('keeps at most maxInFlightBytes (plus one chunk) with the writer, the rest queued and counted', async () => {
    const { s, t, drains } = open({ maxWriteChunkBytes: 40, maxInFlightBytes: 100 })
    const data = bytes(400)
    t.send(data)
    await flush()
    // Chunks go out while fewer than 100 bytes are in flight: 40, 80, then 120 stops it.
    expect(s.writer.pending().map((w) => w.chunk.length)).toEqual([40, 40, 40])
    expect(t.bufferedAmount).toBe(400)
    s.writer.settleWrite()
    await flush()
    expect(s.writer.pendingBytes()).toBe(120)
    expect(t.bufferedAmount).toBe(360)
    while (s.writer.pending().length > 0) {
      expect(drains).toEqual([])
      s.writer.settleWrite()
      await flush()
    }
    expect(t.bufferedAmount).toBe(0)
    expect(drains).toEqual([0])
    // The chunks are views of the caller's array, in order, covering it exactly.
    expect(s.writer.writes.map((w) => w.chunk.length)).toEqual([40, 40, 40, 40, 40, 40, 40, 40, 40, 40])
    expect(s.writer.writes.every((w) => w.chunk.buffer === data.buffer)).toBe(true)
    expect(s.writer.writes.map((w) => w.chunk.byteOffset)).toEqual([0, 40, 80, 120, 160, 200, 240, 280, 320, 360])
  })

  it('fires onDrain once per return to 0, never while bytes remain', async () => {
    const { s, t, drains } = open()
    t.send(bytes(5))
    t.send(bytes(6))
    await flush()
    s.writer.settleWrite()
    await flush()
    expect(drains).toEqual([])
    s.writer.settleWrite()
    await flush()
    expect(drains).toEqual([0])
    t.send(bytes(7))
    await flush()
    s.writer.settleWrite()
    await flush()
    expect(drains).toEqual([0, 0])
  })

  it('keeps many tiny sends in order (the queue is compacted, not shifted)', async () => {
    const { s, t } = open({ maxInFlightBytes: 1 })
    const n = 5_000
    for (let i = 0; i < n; i++) t.send(Uint8Array.of(i & 0xff, i >> 8))
    await flush()
    const seen: number[] = []
    while (s.writer.pending().length > 0) {
      const w = s.writer.settleWrite()
      seen.push(w.chunk[0]! | (w.chunk[1]! << 8))
      await flush(3)
    }
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i))
    expect(t.bufferedAmount).toBe(0)
  })

  it('closes instead of buffering past maxBufferedBytes (kind local, cause SendBufferOverflow), dropping the queue', async () => {
    const { s, t, closes } = open({ maxBufferedBytes: 1_000, maxInFlightBytes: 100, maxWriteChunkBytes: 100 })
    t.send(bytes(600))
    t.send(bytes(400)) // exactly at the limit: accepted
    expect(t.bufferedAmount).toBe(1_000)
    expect(closes).toEqual([])
    t.send(bytes(1))
    await flush()
    expect(closes).toHaveLength(1)
    expect(closes[0]?.kind).toBe('local')
    expect(closes[0]?.cause as SendBufferOverflow).toEqual({ bufferedAmount: 1_000, sendBytes: 1, limit: 1_000 })
    expect(s.closeCalls).toBe(1)
    expect(t.bufferedAmount).toBe(0)
    t.send(bytes(1)) // dropped, no throw
    await flush()
    expect(closes).toHaveLength(1)
  })

  it('a failed write is a reset, reported once', async () => {
    const { s, t, closes } = open()
    t.send(bytes(3))
    await flush()
    const boom = new Error('Network connection lost.')
    s.writer.settleWrite(boom)
    await flush()
    expect(closes).toHaveLength(1)
    expect(closes[0]?.kind).toBe('reset')
    expect(closes[0]?.cause).toBe(boom)
    expect(s.closeCalls).toBe(1)
  })
})

describe('reading', () => {
  it('reads nothing before onData, then delivers chunks in order as plain Uint8Array', async () => {
    const { s, t } = open()
    s.push(Uint8Array.of(1, 2))
    await flush()
    expect(s.reading).toBe(false)
    const got: Uint8Array[] = []
    t.onData((b) => got.push(b))
    // A subclass (as a runtime with Buffer would hand out) is delivered as a plain view.
    class Sub extends Uint8Array {}
    const backing = new Sub(8).fill(9)
    s.push(backing.subarray(2, 5))
    await flush()
    expect(s.reading).toBe(true)
    expect(got.map((c) => [...c])).toEqual([[1, 2], [9, 9, 9]])
    expect(got.every((c) => Object.getPrototypeOf(c) === Uint8Array.prototype)).toBe(true)
    expect(got[1]!.buffer).toBe(backing.buffer) // no copy
  })

  it("the peer's FIN is 'remote'; the socket is closed and later sends are dropped", async () => {
    const { s, t, closes } = open()
    t.onData(() => {})
    s.end()
    await flush()
    expect(closes.map((e) => e?.code)).toEqual(['remote'])
    expect(s.closeCalls).toBe(1)
    t.send(bytes(1))
    await flush()
    expect(s.writer.writes).toHaveLength(0)
  })

  it("a read error is 'reset' carrying the runtime's error", async () => {
    const { s, t, closes } = open()
    t.onData(() => {})
    const boom = new Error('Network connection lost.')
    s.fail(boom)
    await flush()
    expect(closes).toHaveLength(1)
    expect(closes[0]?.kind).toBe('reset')
    expect(closes[0]?.cause).toBe(boom)
  })

  it("the socket's closed promise rejecting while nobody reads is 'reset' too", async () => {
    const { s, closes } = open()
    const boom = new Error('Network connection lost.')
    s.closedD.reject(boom)
    await flush()
    expect(closes.map((e) => e?.code)).toEqual(['reset'])
    expect(closes[0]?.cause).toBe(boom)
  })
})

describe('closing', () => {
  it('close() flushes what is queued, then sends a FIN, and closes the socket at the peer FIN', async () => {
    const { s, t, closes } = open({ maxInFlightBytes: 1 })
    t.send(bytes(10))
    t.send(bytes(10))
    t.close()
    t.close() // idempotent
    t.send(bytes(10)) // after close: dropped
    await flush()
    expect(closes).toEqual([undefined])
    expect(s.reading).toBe(true) // reading, to see the peer's FIN
    expect(s.writer.closeCalls).toBe(0)
    s.writer.settleWrite()
    await flush()
    expect(s.writer.closeCalls).toBe(0)
    s.writer.settleWrite()
    await flush()
    expect(s.writer.writes).toHaveLength(2)
    expect(s.writer.closeCalls).toBe(1)
    expect(s.closeCalls).toBe(0)
    s.end()
    await flush()
    expect(s.closeCalls).toBe(1)
    expect(closes).toEqual([undefined])
  })

  it("close(reason) reports kind 'local' with the reason as cause", async () => {
    const { t, closes } = open()
    const reason = new Error('policy')
    t.close(reason)
    await flush()
    expect(closes).toHaveLength(1)
    expect(closes[0]?.kind).toBe('local')
    expect(closes[0]?.cause).toBe(reason)
  })

  it('a peer that never answers the FIN: the socket is closed after closeLingerMs', async () => {
    vi.useFakeTimers()
    const { s, t } = open({ closeLingerMs: 500 })
    t.close()
    await flush()
    expect(s.writer.closeCalls).toBe(1)
    vi.advanceTimersByTime(499)
    expect(s.closeCalls).toBe(0)
    vi.advanceTimersByTime(1)
    expect(s.closeCalls).toBe(1)
  })

  it('destroy() closes the socket at once and drops the queue', async () => {
    const { s, t, closes } = open({ maxInFlightBytes: 1 })
    t.send(bytes(10))
    t.send(bytes(10))
    t.destroy()
    await flush()
    expect(s.closeCalls).toBe(1)
    expect(t.bufferedAmount).toBe(0)
    expect(s.writer.writes).toHaveLength(1)
    expect(closes).toEqual([undefined])
  })

  it('onClose registered after the close still fires, once, from a microtask', async () => {
    const s = new FakeSocket()
    const t = new CloudflareTransport(s, REMOTE)
    t.close()
    const calls: unknown[] = []
    t.onClose((e) => calls.push(e))
    expect(calls).toEqual([]) // not from inside our call
    await flush()
    expect(calls).toEqual([undefined])
    t.onClose((e) => calls.push(e))
    await flush()
    expect(calls).toEqual([undefined])
  })
})

describe('options', () => {
  it('rejects bad numbers with a RangeError naming the option', () => {
    expect(() => resolveTransportOptions({ maxInFlightBytes: 0 })).toThrow(/maxInFlightBytes/)
    expect(() => resolveTransportOptions({ maxWriteChunkBytes: 1.5 })).toThrow(/maxWriteChunkBytes/)
    expect(() => resolveTransportOptions({ maxBufferedBytes: Number.NaN })).toThrow(/maxBufferedBytes/)
    expect(() => resolveTransportOptions({ closeLingerMs: -1 })).toThrow(/closeLingerMs/)
    expect(resolveTransportOptions({})).toEqual({ closeLingerMs: 2_000, maxWriteChunkBytes: 65_536, maxInFlightBytes: 262_144, maxBufferedBytes: 33_554_432 })
  })
})
