/**
 * The transport compliance suite (design rule 11): one set of behaviours
 * every bitp2p Transport must show. In this repository it runs against tcp
 * (packages/transport-tcp), ws through the bridge (packages/bridge), the
 * mock (test/compliance/mock.test.ts here) and, inside workerd, cloudflare
 * sockets (packages/transport-cloudflare).
 *
 *   import { acceptQueue, runTransportCompliance } from '@bitp2p/testkit/compliance'
 *
 *   runTransportCompliance('my transport', {
 *     async setup() {
 *       const listener = await MyListener.listen({ host: '127.0.0.1', port: 0 })
 *       return {
 *         connect: (signal) => new MyConnector().connect(listener.address, signal),
 *         accept: acceptQueue(listener),
 *         teardown: () => listener.close(),
 *       }
 *     },
 *   })
 *
 * Call it at the top level of a vitest test file (it registers one
 * describe block). The fixture gives a fresh, connected pair on demand:
 * `connect(signal?)` opens our side, `accept()` resolves with the matching
 * far side, in the order the connections were made. Nothing here depends on
 * the runtime: only vitest and the types of @bitp2p/session are imported,
 * so the file also runs in a worker (with a vitest stand-in) or a browser.
 *
 * What the suite pins down beyond the interface's doc comments:
 * - close() with no reason reports no error; close(reason) reports kind
 *   'local' with `cause === reason`; the peer of either sees kind 'remote'.
 * - Bytes that arrive before onData is registered are kept, not dropped
 *   (the backpressure case relies on a peer that registers late).
 * - onDrain is called with bufferedAmount back at 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Transport, TransportCloseKind, TransportError } from '@bitp2p/session'

export { acceptQueue } from './accept-queue.js'

/** A fixture: a fresh endpoint pair factory for one transport. */
export interface TransportFixture {
  setup(): Promise<TransportPairFactory>
  /**
   * Wall-clock budget of each case, in ms (default DEFAULT_CASE_TIMEOUT_MS):
   * a net against a hang, never an assertion about speed. Raise it on a
   * slow or loaded machine.
   */
  readonly timeoutMs?: number
  /**
   * Cases this transport cannot pass yet, each with the reason, shown as
   * skipped in the report. For a documented gap only: a skipped case checks
   * nothing.
   */
  readonly skip?: { readonly [C in ComplianceCase]?: string }
}

/** The cases of the suite, by id (for TransportFixture.skip). */
export const COMPLIANCE_CASES = [
  'small-write',
  'big-write',
  'tiny-writes',
  'abort-before-connect',
  'close-while-writing',
  'close-kinds',
  'backpressure',
  'send-after-close',
] as const

/** One case of the suite. */
export type ComplianceCase = (typeof COMPLIANCE_CASES)[number]

/** What a fixture's setup() returns. */
export interface TransportPairFactory {
  /** Open a transport to the fixture's endpoint. Rejects with a TransportError. */
  connect(signal?: AbortSignal): Promise<Transport>
  /** The far side of the next connection made by connect(), in order. */
  accept(): Promise<Transport>
  /** Release everything (listeners, servers). */
  teardown(): Promise<void>
}

/** Default per-case budget: the 4 MB+ cases move tens of MB through a real stack (well under a second on an idle machine). */
export const DEFAULT_CASE_TIMEOUT_MS = 30_000
/** Size of the big write: above Bitcoin's 4 MB message cap, as a block would be. */
const BIG_WRITE_BYTES = 4 * 1024 * 1024 + 4099
/** Number of tiny writes. */
const TINY_WRITES = 10_000
/** Size of the write to a peer that is not reading: beyond any loopback socket buffer. */
const BACKPRESSURE_BYTES = 16 * 1024 * 1024
/** How long to keep watching for a second (forbidden) close callback. */
const SETTLE_MS = 50

/** Deterministic, non-periodic test bytes (xorshift32), so a reorder or a dropped chunk shows. */
function patternBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

/** First index where a and b differ, or -1 (cheaper to report than a 4 MB diff). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : n
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Watches one transport: collects its bytes and its close calls. */
interface Probe {
  /** Resolves with the first `n` bytes received; rejects if the transport closes first. */
  read(n: number): Promise<Uint8Array>
  /** Resolves with the close argument on the first onClose call. */
  readonly closed: Promise<TransportError | undefined>
  /** How many times onClose fired. */
  closeCalls(): number
  /** Bytes received so far. */
  received(): number
  /** Every chunk was a plain Uint8Array (not a Buffer or another subclass). */
  allPlain(): boolean
}

/** Register onData (now, or later with startReading) and onClose on `t`. */
function probe(t: Transport, opts: { reading?: boolean } = {}): Probe & { startReading(): void } {
  const chunks: Uint8Array[] = []
  let total = 0
  let plain = true
  let calls = 0
  let closeArg: TransportError | undefined
  let waiter: { n: number; resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | undefined
  let resolveClosed!: (e: TransportError | undefined) => void
  const closed = new Promise<TransportError | undefined>((r) => (resolveClosed = r))

  const joined = (n: number): Uint8Array => {
    const out = new Uint8Array(n)
    let off = 0
    for (const c of chunks) {
      if (off >= n) break
      const take = Math.min(c.length, n - off)
      out.set(c.subarray(0, take), off)
      off += take
    }
    return out
  }
  const check = (): void => {
    if (waiter === undefined) return
    if (total >= waiter.n) {
      const w = waiter
      waiter = undefined
      w.resolve(joined(w.n))
    } else if (calls > 0) {
      const w = waiter
      waiter = undefined
      w.reject(new Error(`closed (${closeArg?.kind ?? 'clean'}) after ${total} of ${w.n} bytes`))
    }
  }
  const startReading = (): void =>
    t.onData((bytes) => {
      // Design rule 1: bytes are Uint8Array, never a Buffer.
      if (Object.getPrototypeOf(bytes) !== Uint8Array.prototype) plain = false
      // Copy: a transport may reuse or release its buffers after the callback.
      chunks.push(bytes.slice())
      total += bytes.length
      check()
    })
  if (opts.reading !== false) startReading()
  t.onClose((err) => {
    calls++
    if (calls === 1) {
      closeArg = err
      resolveClosed(err)
    }
    check()
  })
  return {
    read(n) {
      return new Promise((resolve, reject) => {
        waiter = { n, resolve, reject }
        check()
      })
    },
    closed,
    closeCalls: () => calls,
    received: () => total,
    allPlain: () => plain,
    startReading,
  }
}

/** Assert that a close argument is a TransportError of one of `kinds`. */
function expectKind(err: TransportError | undefined, kinds: readonly TransportCloseKind[]): void {
  expect(err, `expected a TransportError of kind ${kinds.join(' or ')}, got none`).toBeDefined()
  // By name, not instanceof: the suite may meet a TransportError from another module instance.
  expect(err?.name).toBe('TransportError')
  expect(kinds).toContain(err?.code)
}

/**
 * Register the transport compliance suite for `name` as a vitest describe
 * block. Each case makes its own connection(s) and closes them.
 */
export function runTransportCompliance(name: string, fixture: TransportFixture): void {
  const TEST_TIMEOUT_MS = fixture.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS
  /** vitest's it, or it.skip (with the reason in the title) for a case the fixture skips. */
  const test = (id: ComplianceCase, title: string, body: () => Promise<void>): void => {
    const reason = fixture.skip?.[id]
    if (reason === undefined) it(title, { timeout: TEST_TIMEOUT_MS }, body)
    else it.skip(`${title} (skipped: ${reason})`, body)
  }
  describe(`transport compliance: ${name}`, () => {
    let f: TransportPairFactory
    beforeAll(async () => {
      f = await fixture.setup()
    })
    afterAll(async () => {
      await f?.teardown()
    })

    /** A connected pair: `a` is ours (connect), `b` the far side (accept). */
    const pair = async (): Promise<{ a: Transport; b: Transport }> => {
      const [a, b] = await Promise.all([f.connect(), f.accept()])
      return { a, b }
    }

    test('small-write', 'delivers one small write each way', async () => {
      const { a, b } = await pair()
      const pa = probe(a)
      const pb = probe(b)
      a.send(Uint8Array.of(1, 2, 3))
      expect(await pb.read(3)).toEqual(Uint8Array.of(1, 2, 3))
      b.send(Uint8Array.of(9, 8, 7, 6))
      expect(await pa.read(4)).toEqual(Uint8Array.of(9, 8, 7, 6))
      expect(pa.allPlain() && pb.allPlain()).toBe(true)
      a.close()
      await Promise.all([pa.closed, pb.closed])
    })

    test('big-write', 'delivers a 4 MB+ write intact and in order, both ways at once', async () => {
      const { a, b } = await pair()
      const pa = probe(a)
      const pb = probe(b)
      const ab = patternBytes(BIG_WRITE_BYTES, 0x1234)
      const ba = patternBytes(BIG_WRITE_BYTES, 0xbeef)
      a.send(ab)
      b.send(ba)
      const [gotB, gotA] = await Promise.all([pb.read(ab.length), pa.read(ba.length)])
      expect(firstDifference(gotB, ab)).toBe(-1)
      expect(firstDifference(gotA, ba)).toBe(-1)
      expect(pa.allPlain() && pb.allPlain()).toBe(true)
      // Nothing extra arrives.
      await sleep(SETTLE_MS)
      expect(pb.received()).toBe(ab.length)
      expect(pa.received()).toBe(ba.length)
      a.close()
      await Promise.all([pa.closed, pb.closed])
    })

    test('tiny-writes', `delivers ${TINY_WRITES} tiny writes in order`, async () => {
      const { a, b } = await pair()
      const pa = probe(a)
      const pb = probe(b)
      // Write i is 1 to 3 bytes long and carries i, so a reorder, a loss or a duplicate shows.
      const writes: Uint8Array[] = []
      for (let i = 0; i < TINY_WRITES; i++) {
        const len = 1 + (i % 3)
        const w = new Uint8Array(len)
        for (let j = 0; j < len; j++) w[j] = (i >>> (8 * j)) & 0xff
        writes.push(w)
      }
      const total = writes.reduce((s, w) => s + w.length, 0)
      const expected = new Uint8Array(total)
      let off = 0
      for (const w of writes) {
        expected.set(w, off)
        off += w.length
      }
      for (const w of writes) a.send(w)
      const got = await pb.read(total)
      expect(firstDifference(got, expected)).toBe(-1)
      b.close()
      await Promise.all([pa.closed, pb.closed])
    })

    test('abort-before-connect', 'rejects a connect whose signal is already aborted with kind aborted, opening nothing', async () => {
      const ac = new AbortController()
      ac.abort(new Error('test abort'))
      const err = await f.connect(ac.signal).then(
        () => undefined,
        (e: unknown) => e as TransportError,
      )
      expectKind(err, ['aborted'])
      // Had the aborted attempt reached the endpoint, accept() would return
      // it first and the marker below would never arrive on it.
      const { a, b } = await pair()
      const pb = probe(b)
      const pa = probe(a)
      a.send(Uint8Array.of(0x5a))
      expect(await pb.read(1)).toEqual(Uint8Array.of(0x5a))
      a.close()
      await Promise.all([pa.closed, pb.closed])
    })

    test('close-while-writing', 'survives a close while the other side is writing: each side closes once, nothing throws', async () => {
      const { a, b } = await pair()
      const pa = probe(a)
      const pb = probe(b)
      const chunk = patternBytes(16 * 1024, 7)
      let bClosed = false
      void pb.closed.then(() => (bClosed = true))
      // b writes until it sees the close, yielding to the event loop between writes.
      const writer = (async () => {
        while (!bClosed) {
          b.send(chunk)
          await sleep(0)
        }
        // And once more after its close: dropped, no throw.
        b.send(chunk)
      })()
      await pa.read(64 * 1024)
      a.close()
      expect(await pa.closed).toBeUndefined()
      const errB = await pb.closed
      // The far side may see a clean FIN or, because unread bytes were in
      // flight, a reset: both are a close, and it must be reported once.
      expectKind(errB, ['remote', 'reset'])
      await writer
      await sleep(SETTLE_MS)
      expect(pa.closeCalls()).toBe(1)
      expect(pb.closeCalls()).toBe(1)
    })

    test('close-kinds', "reports kind 'local' for our close(reason), nothing for close(), 'remote' for the peer's", async () => {
      // close() with no reason: clean, no error; the peer sees 'remote'.
      {
        const { a, b } = await pair()
        const pa = probe(a)
        const pb = probe(b)
        a.close()
        a.close() // idempotent
        expect(await pa.closed).toBeUndefined()
        expectKind(await pb.closed, ['remote'])
        await sleep(SETTLE_MS)
        expect(pa.closeCalls()).toBe(1)
        expect(pb.closeCalls()).toBe(1)
      }
      // close(reason) on the accepted side: kind 'local' carrying the reason.
      {
        const { a, b } = await pair()
        const pa = probe(a)
        const pb = probe(b)
        const reason = new Error('policy: test')
        b.close(reason)
        b.close(new Error('second close is ignored'))
        const errB = await pb.closed
        expectKind(errB, ['local'])
        expect(errB?.cause).toBe(reason)
        expectKind(await pa.closed, ['remote'])
        await sleep(SETTLE_MS)
        expect(pa.closeCalls()).toBe(1)
        expect(pb.closeCalls()).toBe(1)
      }
    })

    test('backpressure', 'shows backpressure: bufferedAmount rises for a peer that is not reading, onDrain fires once flushed', async () => {
      const { a, b } = await pair()
      const pa = probe(a)
      const pb = probe(b, { reading: false })
      let drains = 0
      let bufferedAtDrain = -1
      let drained!: () => void
      const drainedP = new Promise<void>((r) => (drained = r))
      a.onDrain(() => {
        drains++
        bufferedAtDrain = a.bufferedAmount
        drained()
      })
      expect(a.bufferedAmount).toBe(0)
      const big = patternBytes(BACKPRESSURE_BYTES, 99)
      a.send(big)
      expect(a.bufferedAmount).toBeGreaterThan(0)
      expect(a.bufferedAmount).toBeLessThanOrEqual(BACKPRESSURE_BYTES)
      // The peer is still not reading: no drain while the bytes cannot go anywhere.
      await sleep(SETTLE_MS)
      expect(a.bufferedAmount).toBeGreaterThan(0)
      expect(drains).toBe(0)
      pb.startReading()
      const got = await pb.read(big.length)
      await drainedP
      expect(drains).toBeGreaterThanOrEqual(1)
      expect(bufferedAtDrain).toBe(0)
      expect(a.bufferedAmount).toBe(0)
      expect(firstDifference(got, big)).toBe(-1)
      a.close()
      await Promise.all([pa.closed, pb.closed])
    })

    test('send-after-close', 'drops a send after close without throwing, on both sides', async () => {
      const { a, b } = await pair()
      const pa = probe(a)
      const pb = probe(b)
      a.close()
      expect(() => a.send(Uint8Array.of(1))).not.toThrow()
      await pa.closed
      expect(() => a.send(Uint8Array.of(2))).not.toThrow()
      expectKind(await pb.closed, ['remote'])
      expect(() => b.send(Uint8Array.of(3))).not.toThrow()
      await sleep(SETTLE_MS)
      expect(pa.received()).toBe(0)
      expect(pb.received()).toBe(0)
      expect(pa.closeCalls()).toBe(1)
      expect(pb.closeCalls()).toBe(1)
    })
  })
}
