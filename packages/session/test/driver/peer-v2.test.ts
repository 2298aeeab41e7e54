/**
 * Peer over BIP324's v2 transport: what `transport` means for connect and
 * accept, the v1 fallback (and what is remembered), the session id.
 */
import { describe, expect, it } from 'vitest'
import { encodeMessage, toHex, type FramingParams } from '@bitp2p/wire'
import { Peer, PeerError, type PeerOptions } from '../../src/driver/peer.js'
import { TransportMemory } from '../../src/core/transport-memory.js'
import { SeededRandom } from '../../src/core/random.js'
import { FakeClock, listenerConnector, type PipeEnd } from './pair.js'
import { v2 } from '../../src/v2.js'

const NET: FramingParams = { magic: Uint8Array.of(0xfa, 0xbf, 0xb5, 0xda), maxMessageBytes: 4_000_000, maxBlockPayload: 4_000_000 }
const ADDR = { host: '10.0.0.1', port: 50000 }

function opts(clock: FakeClock, seed: string, extra: Partial<PeerOptions> = {}): PeerOptions {
  return { network: NET, clock, random: new SeededRandom(seed), handshakeTimeoutMs: 5_000, v2, ...extra }
}

/** A listener accepting with `accept` options; returns its connector and the accepted peers' outcomes. */
function listener(clock: FakeClock, accept: Partial<PeerOptions>) {
  const accepted: Promise<Peer | PeerError>[] = []
  let n = 0
  const connector = listenerConnector(clock, (end) => {
    accepted.push(Peer.accept(end, opts(clock, `listener-${n++}`, accept)).catch((e: PeerError) => e))
  })
  return { connector, accepted }
}

/** Run the fake clock until `p` settles (or `ms` passed). */
async function settle<T>(clock: FakeClock, p: Promise<T>, ms = 10_000): Promise<T | PeerError> {
  let done = false
  const out = p.then(
    (v) => ((done = true), v),
    (e: PeerError) => ((done = true), e),
  )
  for (let t = 0; t < ms && !done; t += 10) {
    clock.advance(10)
    await new Promise((r) => setTimeout(r, 0))
  }
  return out
}

describe('Peer over v2', () => {
  it('with v2 support, connect and accept speak v2 by default; both ends hold the same session id', async () => {
    const clock = new FakeClock()
    const l = listener(clock, {})
    const alice = (await settle(clock, Peer.connect(ADDR, { ...opts(clock, 'alice'), connector: l.connector }))) as Peer
    const bob = (await settle(clock, l.accepted[0]!)) as Peer
    expect(alice).toBeInstanceOf(Peer)
    expect([alice.transportVersion, bob.transportVersion]).toEqual([2, 2])
    expect(toHex(alice.sessionId!)).toBe(toHex(bob.sessionId!))
    expect(await settle(clock, alice.ping())).toBeTypeOf('number')
    alice.close()
  })

  it("'v2-first' to a v1-only listener: one refused v2 attempt, then v1 in the same call; a TransportMemory skips the attempt next time", async () => {
    const clock = new FakeClock()
    const l = listener(clock, { transport: 'v1' })
    const memory = new TransportMemory()
    const first = (await settle(clock, Peer.connect(ADDR, { ...opts(clock, 'a1'), connector: l.connector, transportMemory: memory }))) as Peer
    expect(first).toBeInstanceOf(Peer)
    expect(first.transportVersion).toBe(1)
    expect(l.connector.connections).toBe(2)
    expect(memory.isV1Only(ADDR)).toBe(true)
    first.close()
    const second = (await settle(clock, Peer.connect(ADDR, { ...opts(clock, 'a2'), connector: l.connector, transportMemory: memory }))) as Peer
    expect(second.transportVersion).toBe(1)
    expect(l.connector.connections).toBe(3)
    second.close()
  })

  it('an initiator sends its key alone, and its garbage only once the responder\'s key is in (it could not send its terminator sooner anyway)', async () => {
    for (const transport of ['v2-first', 'v2'] as const) {
      const clock = new FakeClock()
      const ends: PipeEnd[] = []
      const connector = listenerConnector(clock, (end) => {
        ends.push(end)
        Peer.accept(end, opts(clock, `listener-${transport}`)).catch(() => {})
      })
      const alice = (await settle(clock, Peer.connect(ADDR, { ...opts(clock, `garbage-${transport}`), connector, transport, v2Options: { garbageLen: 1_000 } }))) as Peer
      expect(alice.transportVersion).toBe(2)
      const sent = ends[0]!.other.sentChunks.map((c) => c.length)
      expect(sent.slice(0, 2)).toEqual([64, 1_000])
      alice.close()
    }
  })

  it("a v1 node reads only our key from a 'v2-first' attempt, never its garbage (bcoin bans an address for ten malformed 24-byte headers)", async () => {
    const clock = new FakeClock()
    const ends: PipeEnd[] = []
    const connector = listenerConnector(clock, (end) => {
      ends.push(end)
      Peer.accept(end, opts(clock, `v1-listener-${ends.length}`, { transport: 'v1' })).catch(() => {})
    })
    const alice = (await settle(clock, Peer.connect(ADDR, { ...opts(clock, 'held'), connector, v2Options: { garbageLen: 4_094 } }))) as Peer
    expect(alice.transportVersion).toBe(1)
    expect(ends).toHaveLength(2)
    // The first attempt: 64 bytes in all; the v1 node answered in v1 (or closed) before any garbage went.
    expect(ends[0]!.other.sentChunks.reduce((n, c) => n + c.length, 0)).toBe(64)
    alice.close()
  })

  it("a v1 node of another network answering a 'v2-first' attempt is known by its magic: no garbage sent, and the v1 retry names the wrong magic", async () => {
    const clock = new FakeClock()
    const mainnetMagic = Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9)
    const ends: PipeEnd[] = []
    // A v1 node on mainnet: whatever it reads, it answers with a mainnet-framed ping (bcoin answers with reject).
    const connector = listenerConnector(clock, (end) => {
      ends.push(end)
      end.onData(() => end.send(encodeMessage({ command: 'ping', nonce: 7n }, { magic: mainnetMagic, maxMessageBytes: 4_000_000, maxBlockPayload: 4_000_000 })))
    })
    const reasons: string[] = []
    const err = await settle(
      clock,
      Peer.connect(ADDR, {
        ...opts(clock, 'other-net'),
        connector,
        v2Options: { garbageLen: 4_094 },
        setup: (p) => p.once('close', (r) => reasons.push(r.kind === 'v2' ? `v2 ${r.code}` : r.kind === 'framing' ? `framing ${r.error.code}` : r.kind)),
      }),
    )
    expect(err).toBeInstanceOf(PeerError)
    expect(reasons).toEqual(['v2 V1_RESPONDER', 'framing BAD_MAGIC'])
    expect(ends[0]!.other.sentChunks.reduce((n, c) => n + c.length, 0)).toBe(64)
  })

  it("'v2' only to a v1-only listener fails with a typed reason at the transport stage, no second attempt", async () => {
    const clock = new FakeClock()
    const l = listener(clock, { transport: 'v1' })
    const err = await settle(clock, Peer.connect(ADDR, { ...opts(clock, 'only'), connector: l.connector, transport: 'v2' }))
    expect(err).toBeInstanceOf(PeerError)
    expect((err as PeerError).stage).toBe('transport')
    expect(l.connector.connections).toBe(1)
  })

  it("'v1' connects in plaintext to a v2 listener, which recognises it and serves it v1", async () => {
    const clock = new FakeClock()
    const l = listener(clock, {})
    const alice = (await settle(clock, Peer.connect(ADDR, { ...opts(clock, 'plain'), connector: l.connector, transport: 'v1' }))) as Peer
    expect(alice.transportVersion).toBe(1)
    expect(((await settle(clock, l.accepted[0]!)) as Peer).transportVersion).toBe(1)
    alice.close()
  })

  it("an accept with transport 'v2' refuses a v1 client: 'v2' V1_REFUSED", async () => {
    const clock = new FakeClock()
    const l = listener(clock, { transport: 'v2' })
    const alice = settle(clock, Peer.connect(ADDR, { ...opts(clock, 'refused'), connector: l.connector, transport: 'v1' }))
    await alice
    const bob = await l.accepted[0]
    expect(bob).toBeInstanceOf(PeerError)
    expect((bob as PeerError).reason).toMatchObject({ kind: 'v2', code: 'V1_REFUSED' })
  })

  it('without v2 support a Peer speaks v1, and asking for v2 is a RangeError naming the entry to import', async () => {
    const clock = new FakeClock()
    const l = listener(clock, { v2: undefined })
    const alice = (await settle(clock, Peer.connect(ADDR, { ...opts(clock, 'nov2'), v2: undefined, connector: l.connector }))) as Peer
    expect(alice.transportVersion).toBe(1)
    alice.close()
    await expect(Peer.connect(ADDR, { ...opts(clock, 'nov2b'), v2: undefined, transport: 'v2', connector: l.connector })).rejects.toThrow(/@bitp2p\/session\/v2/)
  })

  it('a network with BSV extended messages stays v1 whatever is asked (v2 packets hold at most 16 MB)', async () => {
    const clock = new FakeClock()
    const bsv: FramingParams = { ...NET, supportsExtMsg: true }
    const l = listener(clock, { network: bsv })
    const alice = (await settle(clock, Peer.connect(ADDR, { ...opts(clock, 'bsv'), network: bsv, connector: l.connector, transport: 'v2' }))) as Peer
    expect(alice.transportVersion).toBe(1)
    alice.close()
  })
})
