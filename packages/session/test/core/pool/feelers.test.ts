import { describe, expect, it } from 'vitest'
import { Services } from '@bitp2p/wire'
import { FeelerManager } from '../../../src/core/pool/feelers.js'
import { RECENT_TRY_SECONDS } from '../../../src/core/pool/addrman.js'
import { retryKey } from '../../../src/core/pool/backoff.js'
import type { DisconnectReason } from '../../../src/core/fsm/reasons.js'
import type { PeerAddress } from '../../../src/core/ports.js'
import { hostIn } from './fixtures.js'
import { drainOut, eventsOf, unix, viewOf, world } from './harness.js'

const FULL = Services.NODE_NETWORK | Services.NODE_WITNESS
const INTERVAL = 120_000

function feelers(opts: { open?: boolean; book?: number; services?: bigint; seed?: string } = {}) {
  const w = world(opts.seed)
  const n = opts.book ?? 0
  if (n > 0) {
    const entries = Array.from({ length: n }, (_, i) => ({ addr: { host: hostIn(i, 1), port: 8333 }, services: opts.services ?? FULL, time: unix(0) }))
    w.book.add(entries, { host: 'test', port: 0 }, unix(0), { timePenalty: 0 })
  }
  const dials: PeerAddress[] = []
  const closes: [number, DisconnectReason][] = []
  let open = opts.open ?? true
  const f = new FeelerManager(w.out, w.book, w.retry, w.random, unix, { enabled: true, intervalMs: INTERVAL }, {
    mayOpen: () => open,
    connected: (key) => w.peers.hasKey(key),
    mayTry: (now, key) => !w.peers.hasKey(key) && w.retry.canTry(key, now),
    dial: (_now, addr) => {
      dials.push(addr)
      w.peers.add(addr, 'feeler', 'connecting')
    },
    close: (_now, id, reason) => closes.push([id, reason]),
  })
  return { ...w, f, dials, closes, setOpen: (v: boolean) => (open = v) }
}

describe('FeelerManager', () => {
  it('ticks at exponential gaps drawn from the seeded Random: same seed, same gaps', () => {
    const gaps = (seed: string) => {
      const { f } = feelers({ seed })
      f.start(0)
      const out: number[] = []
      let at = 0
      for (let i = 0; i < 200; i++) {
        const next = f.nextDeadline()!
        out.push(next - at)
        at = next
        f.timeout(at)
      }
      return out
    }
    const a = gaps('x')
    expect(gaps('x')).toEqual(a)
    expect(gaps('y')).not.toEqual(a)
    expect(a.every((g) => Number.isInteger(g) && g >= 0)).toBe(true)
    // The mean of 200 exponential gaps lies well within a factor of two of the interval.
    const mean = a.reduce((s, g) => s + g, 0) / a.length
    expect(mean).toBeGreaterThan(INTERVAL / 2)
    expect(mean).toBeLessThan(INTERVAL * 2)
  })

  it('a tick opens one feeler to an address of the new table, and none when the pool says no', () => {
    const no = feelers({ open: false, book: 5 })
    no.f.start(0)
    no.f.timeout(no.f.nextDeadline()!)
    expect(no.dials).toEqual([])
    expect(no.f.nextDeadline()).toBeGreaterThan(0) // skipped, not deferred: the next tick is scheduled

    const yes = feelers({ book: 5 })
    yes.f.start(0)
    const at = yes.f.nextDeadline()!
    yes.f.timeout(at - 1)
    expect(yes.dials).toEqual([])
    yes.f.timeout(at)
    expect(yes.dials).toHaveLength(1)
    expect(yes.book.get(yes.dials[0]!)?.table).toBe('new')
  })

  it('does not test an address tried within RECENT_TRY_SECONDS, nor one whose peer keeps no chain', () => {
    const recent = feelers({ book: 1 })
    recent.book.attempt({ host: hostIn(0, 1), port: 8333 }, unix(0), false)
    recent.f.start(0)
    const at = recent.f.nextDeadline()!
    expect(at).toBeLessThan(RECENT_TRY_SECONDS * 1000) // true for this seed; the test relies on it
    recent.f.timeout(at)
    expect(recent.dials).toEqual([])

    const useless = feelers({ book: 3, services: Services.NODE_WITNESS })
    useless.f.start(0)
    useless.f.timeout(useless.f.nextDeadline()!)
    expect(useless.dials).toEqual([])
  })

  it('a passed feeler moves its address to tried, closes at once, and ends ok', () => {
    const { f, out, peers, book, closes, dials } = feelers({ book: 3 })
    f.start(0)
    f.timeout(f.nextDeadline()!)
    const p = [...peers.values()][0]!
    f.passed(10, p, FULL)
    expect(closes).toEqual([[p.id, { kind: 'feeler-done' }]])
    expect(book.get(dials[0]!)?.table).toBe('tried')
    f.ended(11, p, viewOf(p), { kind: 'feeler-done' })
    expect(eventsOf(drainOut(out))).toEqual([expect.objectContaining({ type: 'feeler', ok: true, book: 'tried' })])
  })

  it('a failed feeler counts against its address, unless we closed it', () => {
    const failed = feelers({ book: 3 })
    failed.f.start(0)
    failed.f.timeout(failed.f.nextDeadline()!)
    const p = [...failed.peers.values()][0]!
    failed.f.failed(10, p, { kind: 'transport', error: undefined })
    expect(failed.retry.canTry(retryKey(p.addr), 10)).toBe(false)
    expect(failed.book.get(p.addr)?.attempts).toBe(1)
    failed.f.ended(10, p, viewOf(p), { kind: 'transport', error: undefined })
    expect(eventsOf(drainOut(failed.out))).toEqual([expect.objectContaining({ type: 'feeler', ok: false, book: undefined })])

    const ours = feelers({ book: 3 })
    ours.f.start(0)
    ours.f.timeout(ours.f.nextDeadline()!)
    const q = [...ours.peers.values()][0]!
    ours.f.failed(10, q, { kind: 'pool-stopped' })
    expect(ours.retry.canTry(retryKey(q.addr), 10)).toBe(true)
    expect(ours.book.get(q.addr)?.attempts).toBe(0)
  })

  it('stop clears every deadline', () => {
    const { f } = feelers({ book: 1 })
    f.start(0)
    f.stop()
    expect(f.nextDeadline()).toBeUndefined()
  })
})
