import { describe, it, expect } from 'vitest'
import { SeededRandom } from '@bitp2p/session'
import type { Transport } from '@bitp2p/session'
import { MockNetwork } from '../src/network.js'

/**
 * Partitions that begin and heal while bytes are in flight, on a jittery,
 * chunking link, with unlimited and with finite bandwidth: every byte
 * arrives in order, and the trace is the one pinned before the simulation's
 * speed work (issue 17), so a change in how the network holds and releases
 * bytes across a stall cannot move a delivery unnoticed.
 */
const PINNED = [
  { bandwidth: Number.POSITIVE_INFINITY, hash: '51bcdb8c1a9c259e243867abfceed29d2a28e436e63e00a472930cb52819c878', events: 1807 },
  { bandwidth: 100_000, hash: '3e768d74d8ea1ec61cacf6f77bd9c357594baffaa424aae3d0db5b4e24ab8669', events: 2496 },
]
/** Partitions of the clients (all but every third) from both servers: [start, heal] in virtual ms. */
const PARTITIONS = [
  [40, 55],
  [70, 130],
  [135, 137],
  [150, 260],
] as const

describe('partitions healing with bytes in flight', () => {
  for (const { bandwidth, hash, events } of PINNED) {
    it(`deliver every byte in order and give the pinned trace (bandwidth ${bandwidth})`, async () => {
      const net = new MockNetwork({ seed: 'stalls', defaultLink: { latency: 15, jitter: 10, bandwidth, maxChunk: 300 }, trace: { record: false } })
      net.onDeliver((e, bytes) => (e.kind === 'data' && bytes ? `b${bytes[0]}` : undefined))
      const script = new SeededRandom('stall-script')
      // Servers echo the first half of every chunk, so both directions carry bytes.
      const received = new Map<string, number[]>()
      const servers = [0, 1].map((i) => ({ host: `10.1.0.${i + 1}`, port: 8333 }))
      for (const addr of servers) {
        net.listen(addr).onConnection((t) =>
          t.onData((b) => {
            received.set(t.remote.host, [...(received.get(t.remote.host) ?? []), ...b])
            t.send(b.slice(0, 1 + (b.length >> 1)))
          }),
        )
      }
      const sent = new Map<string, number[]>()
      const hosts = Array.from({ length: 12 }, (_, i) => `10.2.0.${i + 1}`)
      const clients = hosts.map(async (host, i) => {
        const sizes = Array.from({ length: 4 + script.int(8) }, () => 1 + script.int(900))
        const t: Transport = await net.connector(host).connect(servers[i % 2]!)
        t.onData(() => {})
        t.onClose(() => {})
        for (const size of sizes) {
          await new Promise<void>((r) => net.clock.setTimer(3 + script.int(20), r))
          const msg = new Uint8Array(size).map(() => script.int(256))
          sent.set(host, [...(sent.get(host) ?? []), ...msg])
          t.send(msg)
        }
        await new Promise<void>((r) => net.clock.setTimer(400, r))
        t.close()
      })
      for (const [start, heal] of PARTITIONS) {
        net.clock.setTimer(start, () => net.partition(['10.1.0.1', '10.1.0.2'], hosts.filter((_, i) => (i + start) % 3 !== 0)))
        net.clock.setTimer(heal, () => net.heal())
      }
      await net.clock.runAsync()
      await Promise.all(clients)
      for (const h of hosts) expect(received.get(h), h).toEqual(sent.get(h))
      expect(net.clock.eventsRun).toBe(events)
      expect(net.traceHash()).toBe(hash)
    })
  }
})
