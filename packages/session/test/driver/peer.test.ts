import { describe, expect, it } from 'vitest'
import { InvType, type BlockHeader, type FramingParams, type MessageOf } from '@bitp2p/wire'
import { HEADER_BYTES } from '@bitp2p/wire/limits'
import { Peer, PeerError, RequestError, type PeerOptions } from '../../src/driver/peer.js'
import type { DisconnectReason } from '../../src/core/fsm/reasons.js'
import { SeededRandom } from '../../src/core/random.js'
import { TransportError } from '../../src/core/ports.js'
import { connectorFor, FakeClock, pipePair, type PipeEnd } from './pair.js'

/** Regtest framing (magic fabfb5da), Core's 4 MB caps. A local stand-in for wire's network params. */
const NET: FramingParams = { magic: Uint8Array.of(0xfa, 0xbf, 0xb5, 0xda), maxMessageBytes: 4_000_000, maxBlockPayload: 4_000_000 }
const LATENCY = 5

/** These tests read the v1 frames each end writes: v1 unless a test says otherwise (v2: peer-v2.test.ts). */
function opts(clock: FakeClock, seed: number, extra: Partial<PeerOptions> = {}): PeerOptions {
  return { network: NET, clock, random: new SeededRandom(seed), transport: 'v1', ...extra }
}

/** Dial a on b's end; run the clock until both handshakes settle. */
async function connectPair(clock: FakeClock, a: Partial<PeerOptions> = {}, b: Partial<PeerOptions> = {}) {
  const { a: endA, b: endB } = pipePair(clock, LATENCY)
  const pa = Peer.connect(endB.remote, { ...opts(clock, 1, a), connector: connectorFor(endA) })
  await Promise.resolve()
  const pb = Peer.accept(endB, opts(clock, 2, { userAgent: '/listener:1/', ...b }))
  clock.advance(100)
  const [alice, bob] = await Promise.all([pa, pb])
  return { alice, bob, endA, endB }
}

/** The command of a frame: bytes 4..16, NUL padded. */
const commandOf = (frame: Uint8Array) => new TextDecoder().decode(frame.subarray(4, 16)).replace(/\0+$/, '')
/** The commands of the frames one end sent (one frame per send). */
const commands = (end: PipeEnd): string[] => end.sentChunks.map(commandOf)

const header = (prev: Uint8Array, n: number): BlockHeader => ({
  version: 1,
  prevBlock: prev,
  merkleRoot: new Uint8Array(32).fill(n),
  time: 1_700_000_000 + n,
  bits: 0x207fffff,
  nonce: n,
})

describe('Peer: handshake over an in-memory pair', () => {
  it('two peers handshake with each other and report what they learned', async () => {
    const clock = new FakeClock()
    const { alice, bob, endA } = await connectPair(clock)
    expect(alice.state).toBe('ready')
    expect(bob.state).toBe('ready')
    expect(alice.direction).toBe('outbound')
    expect(bob.info!.direction).toBe('inbound')
    expect(alice.info!.peer.userAgent).toBe('/listener:1/')
    expect(alice.info!.features).toEqual({ wtxidRelay: true, addrv2: true, sendHeaders: false })
    // Bob's sendheaders arrives after his verack.
    expect(alice.features!.sendHeaders).toBe(true)
    expect(commands(endA).slice(0, 5)).toEqual(['version', 'wtxidrelay', 'sendaddrv2', 'verack', 'sendheaders'])
    // One clock timer per peer at most.
    expect(clock.pending).toBeLessThanOrEqual(2)
  })

  it('measures latency with the first keepalive ping', async () => {
    const clock = new FakeClock()
    const latencies: number[] = []
    const { alice } = await connectPair(clock, { setup: (p) => p.on('latency', (ms) => latencies.push(ms)) })
    expect(latencies).toEqual([2 * LATENCY])
    expect(alice.rtt.min).toBe(2 * LATENCY)
  })

  it('encodes with the negotiated version: pings to a pre-BIP31 peer carry no nonce', async () => {
    const clock = new FakeClock()
    const { alice, endA } = await connectPair(clock, {}, { protocolVersion: 60000 })
    expect(alice.info!.negotiatedVersion).toBe(60000)
    const ping = endA.sentChunks.find((c) => commandOf(c) === 'ping')!
    expect(ping.length).toBe(HEADER_BYTES)
  })

  it('rejects with a typed PeerError when the handshake fails', async () => {
    const clock = new FakeClock()
    const { a: endA, b: endB } = pipePair(clock, LATENCY)
    const pa = Peer.connect(endB.remote, { ...opts(clock, 1, { minProtocolVersion: 70016 }), connector: connectorFor(endA) })
    await Promise.resolve()
    const pb = Peer.accept(endB, opts(clock, 2, { protocolVersion: 70015 }))
    clock.advance(100)
    const err = await pa.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PeerError)
    expect((err as PeerError).reason).toEqual({ kind: 'protocol-version', min: 70016, actual: 70015 })
    expect(endA.isClosed).toBe(true)
    const errB = await pb.catch((e: unknown) => e)
    expect((errB as PeerError).reason.kind).toBe('transport')
  })

  it('rejects with handshake-timeout when the other side stays silent', async () => {
    const clock = new FakeClock()
    const { a: endA, b: endB } = pipePair(clock, LATENCY)
    const pa = Peer.connect(endB.remote, { ...opts(clock, 1, { handshakeTimeoutMs: 1_000 }), connector: connectorFor(endA) })
    await Promise.resolve()
    clock.advance(999)
    clock.advance(1)
    const err = (await pa.catch((e: unknown) => e)) as PeerError
    expect(err.reason).toEqual({ kind: 'handshake-timeout', state: 'awaiting-version', waitedMs: 1_000 })
  })

  it('rejects with a transport reason when the connector fails', async () => {
    const clock = new FakeClock()
    const error = new TransportError('connect-failed', 'refused')
    const err = (await Peer.connect({ host: '10.0.0.9', port: 1 }, { ...opts(clock, 1), connector: connectorFor(error) }).catch((e: unknown) => e)) as PeerError
    expect(err).toBeInstanceOf(PeerError)
    expect(err.reason).toEqual({ kind: 'transport', error })
  })

  it('aborts the handshake through an AbortSignal', async () => {
    const clock = new FakeClock()
    const { a: endA, b: endB } = pipePair(clock, LATENCY)
    const ac = new AbortController()
    const pa = Peer.connect(endB.remote, { ...opts(clock, 1), connector: connectorFor(endA), signal: ac.signal })
    await Promise.resolve()
    clock.advance(1)
    ac.abort('user')
    const err = (await pa.catch((e: unknown) => e)) as PeerError
    expect(err.reason).toEqual({ kind: 'aborted', reason: 'user' })
    expect(endA.isClosed).toBe(true)
    const already = (await Peer.connect(endB.remote, { ...opts(clock, 1), connector: connectorFor(endA), signal: ac.signal }).catch((e: unknown) => e)) as PeerError
    expect(already.reason.kind).toBe('aborted')
  })
})

describe('Peer: messages and requests', () => {
  it('emits per-command events and answers requests matched by content', async () => {
    const clock = new FakeClock()
    const { alice, bob } = await connectPair(clock)
    const tip = new Uint8Array(32).fill(7)
    const headers = [header(tip, 1), header(new Uint8Array(32).fill(8), 2)]
    const seen: MessageOf<'getheaders'>[] = []
    bob.on('getheaders', (m) => {
      seen.push(m)
      // An unrelated message first: it must not be taken as the reply.
      bob.send({ command: 'inv', items: [] })
      bob.send({ command: 'headers', headers })
    })
    const invs: unknown[] = []
    alice.on('inv', (m) => invs.push(m))
    const p = alice.getHeaders([tip])
    clock.advance(100)
    const got = await p
    expect(got).toEqual(headers)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.locator).toEqual([tip])
    expect(invs).toEqual([{ command: 'inv', items: [] }])
  })

  it('ping() resolves with the round-trip time', async () => {
    const clock = new FakeClock()
    const { alice } = await connectPair(clock)
    const p = alice.ping()
    clock.advance(100)
    expect(await p).toBe(2 * LATENCY)
  })

  it('a getdata that times out fails with RequestError(stalled) and, by default, drops the peer', async () => {
    const clock = new FakeClock()
    const { alice, bob } = await connectPair(clock)
    const stalls: number[] = []
    alice.on('stalled', (_r, waited) => stalls.push(waited))
    bob.removeAllListeners('getdata') // bob never answers
    const p = alice.request({ kind: 'data', items: [{ type: InvType.MSG_WITNESS_BLOCK, hash: new Uint8Array(32).fill(3) }] }, { timeoutMs: 50 })
    clock.advance(50)
    const err = (await p.catch((e: unknown) => e)) as RequestError
    expect(err).toBeInstanceOf(RequestError)
    expect(err.code).toBe('stalled')
    expect(err.request).toMatchObject({ kind: 'data' })
    expect(err.failure).toEqual({ kind: 'stalled', waitedMs: 50 })
    expect(stalls).toEqual([50])
    expect(alice.closeReason?.kind).toBe('stalled')
  })

  it('an unanswered getheaders fails the request but, by default, keeps the peer (Core ignores it in IBD)', async () => {
    const clock = new FakeClock()
    const { alice, bob } = await connectPair(clock)
    bob.removeAllListeners('getheaders')
    const p = alice.request({ kind: 'headers', locator: [new Uint8Array(32)] }, { timeoutMs: 50 })
    clock.advance(50)
    const err = (await p.catch((e: unknown) => e)) as RequestError
    expect(err.failure).toEqual({ kind: 'stalled', waitedMs: 50 })
    expect(alice.state).toBe('ready')
    expect(alice.closeReason).toBeUndefined()
  })

  it('with onStall "disconnect" an unanswered getheaders drops the peer too', async () => {
    const clock = new FakeClock()
    const { alice } = await connectPair(clock, { onStall: 'disconnect' })
    const p = alice.request({ kind: 'headers', locator: [new Uint8Array(32)] }, { timeoutMs: 50 })
    clock.advance(50)
    await expect(p).rejects.toBeInstanceOf(RequestError)
    expect(alice.closeReason?.kind).toBe('stalled')
  })

  it('with onStall "report" the peer stays after a timeout', async () => {
    const clock = new FakeClock()
    const { alice } = await connectPair(clock, { onStall: 'report' })
    const p = alice.request({ kind: 'headers', locator: [new Uint8Array(32)] }, { timeoutMs: 50 })
    clock.advance(50)
    await expect(p).rejects.toBeInstanceOf(RequestError)
    expect(alice.state).toBe('ready')
  })

  it('a request can be aborted', async () => {
    const clock = new FakeClock()
    const { alice } = await connectPair(clock)
    const ac = new AbortController()
    const p = alice.request({ kind: 'headers', locator: [new Uint8Array(32)] }, { signal: ac.signal })
    ac.abort('enough')
    const err = (await p.catch((e: unknown) => e)) as RequestError
    expect(err.code).toBe('aborted')
    expect(err.failure).toEqual({ kind: 'aborted', reason: 'enough' })
    expect(alice.state).toBe('ready')
    ac.abort()
    await expect(alice.request({ kind: 'ping' }, { signal: ac.signal })).rejects.toBeInstanceOf(RequestError)
  })

  it('pending requests reject when the connection closes', async () => {
    const clock = new FakeClock()
    const { alice } = await connectPair(clock)
    const p = alice.getHeaders([new Uint8Array(32)])
    alice.close('done')
    const err = (await p.catch((e: unknown) => e)) as RequestError
    expect(err.code).toBe('closed')
    expect(err.failure).toEqual({ kind: 'closed', reason: { kind: 'local', reason: 'done' } })
  })
})

describe('Peer: close reasons', () => {
  it('a local close is "local" here and "transport/remote" there', async () => {
    const clock = new FakeClock()
    const { alice, bob } = await connectPair(clock)
    const closes: DisconnectReason[] = []
    bob.on('close', (r) => closes.push(r))
    alice.close('bye')
    clock.advance(100)
    expect(await alice.closed).toEqual({ kind: 'local', reason: 'bye' })
    expect(closes).toHaveLength(1)
    expect(closes[0]!.kind).toBe('transport')
    expect((closes[0] as Extract<DisconnectReason, { kind: 'transport' }>).error!.code).toBe('remote')
    alice.close()
    expect(closes).toHaveLength(1)
    expect(clock.pending).toBe(0)
  })

  it("a typed reason (the pool's, the crawler's) is kept as given", async () => {
    const clock = new FakeClock()
    const { alice } = await connectPair(clock)
    alice.close({ kind: 'evicted' })
    clock.advance(100)
    expect(await alice.closed).toEqual({ kind: 'evicted' })
    expect(alice.closeReason).toEqual({ kind: 'evicted' })
  })

  it('garbage on the wire closes with a framing reason', async () => {
    const clock = new FakeClock()
    const { alice, endB } = await connectPair(clock)
    endB.send(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'))
    clock.advance(100)
    const r = await alice.closed
    expect(r.kind).toBe('framing')
    expect((r as Extract<DisconnectReason, { kind: 'framing' }>).error.code).toBe('BAD_MAGIC')
  })
})

describe('Peer: backpressure', () => {
  it('send() returns false above the high-water mark and "drain" fires once the queue empties', async () => {
    const clock = new FakeClock()
    const { alice, endA } = await connectPair(clock, { highWaterMark: 100, maxSendBuffer: 10_000 })
    endA.pause()
    const inv = { command: 'inv' as const, items: [{ type: 1, hash: new Uint8Array(32) }] } // 24 + 37 bytes
    expect(alice.send(inv)).toBe(true) // 61 buffered in the transport
    expect(alice.send(inv)).toBe(false) // 122 > 100
    expect(endA.bufferedAmount).toBe(122)
    expect(alice.send(inv)).toBe(false) // held in the peer's own queue
    expect(endA.bufferedAmount).toBe(122)
    expect(alice.bufferedAmount).toBe(3 * 61)
    let drained = 0
    alice.on('drain', () => drained++)
    endA.resume()
    expect(drained).toBe(1)
    expect(alice.bufferedAmount).toBe(0)
  })

  it('disconnects with send-buffer-full above the hard cap', async () => {
    const clock = new FakeClock()
    const { alice, endA } = await connectPair(clock, { highWaterMark: 100, maxSendBuffer: 500 })
    endA.pause()
    const inv = { command: 'inv' as const, items: [{ type: 1, hash: new Uint8Array(32) }] }
    for (let i = 0; i < 8; i++) alice.send(inv)
    expect(alice.state).toBe('ready')
    alice.send(inv)
    expect(alice.closeReason).toEqual({ kind: 'send-buffer-full', buffered: 9 * 61, limit: 500 })
    expect(endA.isClosed).toBe(true)
  })
})
