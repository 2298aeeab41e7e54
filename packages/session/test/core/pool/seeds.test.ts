import { describe, expect, it } from 'vitest'
import { Services } from '@bitp2p/wire'
import { AddressSources, DNS_SEED_DELAY_MS, DNS_SEED_MIN_OUTBOUND } from '../../../src/core/pool/seeds.js'
import { hostIn } from './fixtures.js'
import { drainOut, unix, world } from './harness.js'

const FULL = Services.NODE_NETWORK | Services.NODE_WITNESS
const DNS = ['seed.a.example', 'seed.b.example']

function sources(seeds: number) {
  const w = world()
  const s = new AddressSources(w.out, w.book, unix, {
    seeds: Array.from({ length: seeds }, (_, i) => ({ host: hostIn(i, 1), port: 8333 })),
    dnsSeeds: DNS,
    defaultPort: 18333,
    services: FULL,
  })
  return { ...w, s }
}

describe('AddressSources', () => {
  it('puts the fixed seeds in the book, with the full-relay services', () => {
    const { book } = sources(3)
    expect(book.size).toBe(3)
    expect(book.get({ host: hostIn(0, 1), port: 8333 })?.services).toBe(FULL)
  })

  it('asks every DNS seed at start when the book is empty', () => {
    const { out, s } = sources(0)
    s.start(0)
    expect(drainOut(out)).toEqual(DNS.map((host) => ({ type: 'resolve', host, port: 18333 })))
    expect(s.nextDeadline()).toBeUndefined()
  })

  it(`with addresses in the book, asks them after ${DNS_SEED_DELAY_MS} ms only while short of ${DNS_SEED_MIN_OUTBOUND} ready outbound peers`, () => {
    const a = sources(2)
    a.s.start(100)
    expect(drainOut(a.out)).toEqual([])
    expect(a.s.nextDeadline()).toBe(100 + DNS_SEED_DELAY_MS)
    a.s.timeout(100 + DNS_SEED_DELAY_MS - 1, () => 0)
    expect(drainOut(a.out)).toEqual([])
    a.s.timeout(100 + DNS_SEED_DELAY_MS, () => DNS_SEED_MIN_OUTBOUND - 1)
    expect(drainOut(a.out)).toHaveLength(DNS.length)
    expect(a.s.nextDeadline()).toBeUndefined()

    const b = sources(2)
    b.s.start(0)
    b.s.timeout(DNS_SEED_DELAY_MS, () => DNS_SEED_MIN_OUTBOUND)
    expect(drainOut(b.out)).toEqual([])
    expect(b.s.nextDeadline()).toBeUndefined()
  })

  it('stop cancels the delayed check', () => {
    const { out, s } = sources(1)
    s.start(0)
    s.stop()
    s.timeout(DNS_SEED_DELAY_MS, () => 0)
    expect(drainOut(out)).toEqual([])
  })

  it('adds plain addresses with the full-relay services and the current time; entries keep their own', () => {
    const { s, book } = sources(0)
    const src = { host: 'user', port: 0 }
    expect(s.add(5_000, [{ host: hostIn(1, 1), port: 8333 }, { addr: { host: hostIn(2, 1), port: 8333 }, services: Services.NODE_NETWORK_LIMITED, time: unix(0) }], src)).toBe(2)
    expect(book.get({ host: hostIn(1, 1), port: 8333 })).toMatchObject({ services: FULL, time: unix(5_000) })
    expect(book.get({ host: hostIn(2, 1), port: 8333 })?.services).toBe(Services.NODE_NETWORK_LIMITED)
  })
})
