import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { SeededRandom } from '@bitp2p/session'
import type { Transport } from '@bitp2p/session'
import { MockNetwork } from '../src/network.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { CLOSE_REASONS, HASH_BATCH_BYTES, Trace, TRACE_ENCODING_VERSION, type TraceEvent, type TraceOptions } from '../src/trace.js'

/**
 * A busy little world: 24 clients talk to 3 servers over a jittery,
 * chunking, slightly lossy network, with a partition and a reset in the
 * middle. The actions are driven by their own seeded stream (`script`), the
 * network by `seed`; clients use await, so microtask scheduling is covered.
 */
async function scenario(seed: string, options: { trace?: TraceOptions; label?: boolean } = {}) {
  const net = new MockNetwork({
    seed,
    defaultLink: { latency: 20, jitter: 10, bandwidth: 200_000, maxChunk: 200, loss: 0.002 },
    trace: options.trace,
  })
  if (options.label !== false) {
    // A higher layer labels messages; here the first byte names the "command".
    net.onDeliver((e, bytes) => (e.kind === 'data' && bytes ? `cmd${bytes[0] % 4}` : undefined))
  }
  const script = new SeededRandom('script')
  const servers = [0, 1, 2].map((i) => ({ host: `10.1.0.${i + 1}`, port: 8333 }))
  for (const addr of servers) {
    net.listen(addr).onConnection((t) => t.onData((b) => t.send(b.slice().reverse())))
  }
  const clients: Promise<void>[] = []
  for (let i = 0; i < 24; i++) {
    const host = `10.2.0.${i + 1}`
    const target = servers[script.int(servers.length)]
    const startAt = script.int(500)
    const sizes = Array.from({ length: 1 + script.int(6) }, () => 1 + script.int(3_000))
    clients.push(
      new Promise<void>((resolve) => net.clock.setTimer(startAt, resolve)).then(async () => {
        let t: Transport
        try {
          t = await net.connector(host, { timeout: 5_000 }).connect(target)
        } catch {
          return
        }
        t.onClose(() => {})
        for (const size of sizes) {
          const msg = new Uint8Array(size).fill(size & 0xff)
          await new Promise<void>((resolve) => net.clock.setTimer(50, resolve))
          t.send(msg)
        }
      }),
    )
  }
  net.clock.setTimer(700, () => net.partition(['10.1.0.1'], ['10.2.0.1', '10.2.0.2', '10.2.0.3'], { resetAfter: 400 }))
  net.clock.setTimer(900, () => net.heal())
  net.clock.setTimer(800, () => {
    const first = net.connections()[0]
    if (first) net.resetAt(net.now() + 5, first)
  })
  await net.clock.runAsync()
  await Promise.all(clients)
  return net
}

describe('trace determinism', () => {
  it('the same seed and actions give a byte-identical trace and hash', async () => {
    const a = await scenario('seed-A')
    const b = await scenario('seed-A')
    expect(a.trace.events.length).toBeGreaterThan(200)
    const kinds = new Set(a.trace.events.map((e) => e.kind))
    expect(kinds).toEqual(new Set(['connect', 'data', 'close']))
    expect(b.trace.events).toEqual(a.trace.events)
    expect(b.traceHash()).toBe(a.traceHash())
    expect(a.traceHash()).toMatch(/^[0-9a-f]{64}$/)
  })

  it('a different seed gives a different hash', async () => {
    const a = await scenario('seed-A')
    const c = await scenario('seed-C')
    expect(c.traceHash()).not.toBe(a.traceHash())
  })

  it('labels from onDeliver are part of the trace and the hash', async () => {
    const labelled = await scenario('seed-A')
    const plain = await scenario('seed-A', { label: false })
    expect(labelled.trace.events.some((e) => e.label === 'cmd1')).toBe(true)
    expect(plain.trace.events.every((e) => e.label === undefined)).toBe(true)
    expect(plain.traceHash()).not.toBe(labelled.traceHash())
  })

  it('keeping events or not does not change the hash', async () => {
    const full = await scenario('seed-A')
    const hashOnly = await scenario('seed-A', { trace: { record: false } })
    expect(hashOnly.trace.events).toHaveLength(0)
    expect(hashOnly.traceHash()).toBe(full.traceHash())
  })

  it('querying the hash midway does not disturb it', async () => {
    const net = new MockNetwork({ seed: 5 })
    net.listen({ host: '10.0.0.1', port: 1 }).onConnection((t) => t.send(new Uint8Array([1])))
    const p = net.connector('10.0.0.2').connect({ host: '10.0.0.1', port: 1 })
    const empty = net.traceHash()
    net.clock.run({ until: 10 })
    const mid = net.traceHash()
    expect(net.traceHash()).toBe(mid)
    net.clock.runUntilIdle()
    await p
    expect(new Set([empty, mid, net.traceHash()]).size).toBe(3)
  })
})

describe('Trace encoding', () => {
  const event = fc.record({
    time: fc.double({ min: 0, max: 1e9, noNaN: true }),
    conn: fc.nat({ max: 0xffffffff }),
    kind: fc.constantFrom('connect' as const, 'data' as const, 'close' as const),
    from: fc.string({ maxLength: 40 }),
    to: fc.string({ maxLength: 40 }),
    size: fc.nat({ max: 0xffffffff }),
    reason: fc.option(fc.constantFrom('local' as const, 'remote' as const, 'reset' as const), { nil: undefined }),
    label: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
  })

  function replay(events: readonly (TraceEvent & { label?: string })[]): Trace {
    const t = new Trace()
    let current: string | undefined
    t.onDeliver(() => current)
    for (const e of events) {
      current = e.label
      t.deliver(e.time, e.conn, e.kind, e.from, e.to, e.size, e.reason, undefined)
    }
    return t
  }

  it('equal event sequences hash equal, and changing any one field changes the hash', () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), fc.nat(), fc.nat({ max: 7 }), (events, pick, field) => {
        const base = replay(events)
        expect(replay(events).hash()).toBe(base.hash())
        const i = pick % events.length
        const e = events[i]
        const changed = { ...e }
        switch (field) {
          case 0: changed.time = e.time + 1; break
          case 1: changed.conn = (e.conn + 1) % 2 ** 32; break
          case 2: changed.kind = e.kind === 'data' ? 'close' : 'data'; break
          case 3: changed.from = e.from + 'x'; break
          case 4: changed.to = e.to + 'x'; break
          case 5: changed.size = (e.size + 1) % 2 ** 32; break
          case 6: changed.reason = e.reason === 'reset' ? undefined : 'reset'; break
          case 7: changed.label = e.label === undefined ? '' : undefined; break
        }
        const other = events.slice()
        other[i] = changed
        expect(replay(other).hash()).not.toBe(base.hash())
      }),
    )
  })

  /** The canonical encoding of the module comment, written out plainly: the reference the hash must match. */
  function reference(events: readonly (TraceEvent & { label?: string })[]): string {
    const parts: number[] = [0x62, 0x70, 0x74, TRACE_ENCODING_VERSION]
    const text = new TextEncoder()
    const u = (n: number, bytes: number) => {
      for (let k = bytes - 1; k >= 0; k--) parts.push(Math.floor(n / 2 ** (8 * k)) & 0xff)
    }
    const str = (s: string) => {
      const b = text.encode(s)
      u(b.length, 2)
      parts.push(...b)
    }
    for (const e of events) {
      parts.push({ connect: 1, data: 2, close: 3 }[e.kind])
      const f = new DataView(new ArrayBuffer(8))
      f.setFloat64(0, e.time)
      parts.push(...new Uint8Array(f.buffer))
      u(e.conn, 4)
      u(e.size, 4)
      parts.push(e.reason === undefined ? 0 : 1 + CLOSE_REASONS.indexOf(e.reason))
      str(e.from)
      str(e.to)
      if (e.label === undefined) parts.push(0)
      else {
        parts.push(1)
        str(e.label)
      }
    }
    return bytesToHex(sha256(new Uint8Array(parts)))
  }

  it('hashes the canonical encoding, across batch boundaries and whatever the characters', () => {
    // More than three batches of events, with non-ASCII strings among ASCII addresses and commands.
    const events: (TraceEvent & { label?: string })[] = []
    const random = new SeededRandom('trace-reference')
    const labels = [undefined, 'version', 'verack+sendheaders', 'block~', 'h\u00e9ll\u00f6', '\u{1f600}', '']
    for (let bytes = 0; bytes < 3 * HASH_BATCH_BYTES + 100; ) {
      const e = {
        time: random.int(1_000_000) / 7,
        conn: random.int(2 ** 32),
        kind: (['connect', 'data', 'close'] as const)[random.int(3)]!,
        from: `10.${random.int(256)}.${random.int(256)}.1:8333`,
        to: random.int(10) === 0 ? `[2001:db8::${random.int(9)}]:49152 \u00fc` : `192.0.2.1:${49152 + random.int(16384)}`,
        size: random.int(2 ** 32),
        reason: random.int(3) === 0 ? CLOSE_REASONS[random.int(CLOSE_REASONS.length)] : undefined,
        label: labels[random.int(labels.length)],
      }
      events.push(e)
      bytes += 30 + 3 * (e.from.length + e.to.length + (e.label?.length ?? 0))
    }
    expect(replay(events).hash()).toBe(reference(events))
    // The hash midway covers exactly the events so far, and asking does not disturb the rest.
    const t = new Trace()
    let current: string | undefined
    t.onDeliver(() => current)
    events.forEach((e, i) => {
      current = e.label
      t.deliver(e.time, e.conn, e.kind, e.from, e.to, e.size, e.reason, undefined)
      if (i % 997 === 0) expect(t.hash()).toBe(reference(events.slice(0, i + 1)))
    })
    expect(t.hash()).toBe(reference(events))
  })

  it('string boundaries are encoded (from/to cannot trade characters)', () => {
    const a = replay([{ time: 1, conn: 1, kind: 'data', from: 'ab', to: 'c', size: 1 }])
    const b = replay([{ time: 1, conn: 1, kind: 'data', from: 'a', to: 'bc', size: 1 }])
    expect(a.hash()).not.toBe(b.hash())
  })

  it('format gives a readable line', () => {
    const line = Trace.format({ time: 12.5, conn: 3, kind: 'close', from: '10.0.0.1:8333', to: '10.0.0.2:49152', size: 0, reason: 'reset', label: 'x' })
    expect(line).toBe('12.500 #3 close 10.0.0.1:8333 -> 10.0.0.2:49152 0 reset [x]')
  })
})
