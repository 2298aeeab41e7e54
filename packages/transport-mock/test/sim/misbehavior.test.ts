import { describe, it, expect } from 'vitest'
import { disconnectPolicy, PeerError, type DisconnectReason, type Peer } from '@bitp2p/session'
import { DATA_REQUEST_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS } from '@bitp2p/session/limits'
import { InvType } from '@bitp2p/wire'
import { Simulation, type SimulationOptions } from '../../src/peers/simulation.js'
import { SLOWLORIS_BYTE_INTERVAL_MS, VIRTUAL_PEER_BEHAVIORS, type MisbehaviorTrigger, type VirtualPeerBehavior } from '../../src/peers/behavior.js'
import { BAD_FRAME_LABEL } from '../../src/peers/labeler.js'

interface Outcome {
  /** The driver, if the handshake completed. */
  readonly peer: Peer | undefined
  readonly reason: DisconnectReason
  /** Virtual time of the disconnect. */
  readonly at: number
}

/**
 * The driver connects to one virtual peer with `behavior`, asks for headers
 * and for the tip block once the handshake is done, and waits for the
 * connection to end. Returns the outcome and the simulation, run until idle.
 */
async function misbehave(behavior: VirtualPeerBehavior, trigger?: MisbehaviorTrigger, driver?: SimulationOptions['driver']) {
  const sim = new Simulation({ seed: `misbehave-${behavior}-${trigger}`, peers: 1, behaviors: [behavior], trigger, driver, trace: { record: true } })
  const baseline = { timers: sim.clock.pendingTimers, connections: sim.net.connections().length }
  const outcome = (async (): Promise<Outcome> => {
    let peer: Peer
    try {
      peer = await sim.connect(0)
    } catch (e) {
      if (!(e instanceof PeerError)) throw e
      return { peer: undefined, reason: e.reason, at: sim.now() }
    }
    peer.getHeaders([sim.chain.genesis.hash]).catch(() => undefined)
    peer.getData([{ type: InvType.MSG_WITNESS_BLOCK, hash: sim.chain.tip.hash }]).catch(() => undefined)
    const reason = await peer.closed
    return { peer, reason, at: sim.now() }
  })()
  await sim.run()
  return { sim, baseline, outcome: await outcome }
}

/** Nothing of the connection is left: timers, mock connections, sessions, send buffers, labeller state. */
function expectReleased(r: Awaited<ReturnType<typeof misbehave>>): void {
  const { sim, baseline, outcome } = r
  expect(sim.clock.pendingTimers).toBe(baseline.timers)
  expect(sim.net.connections()).toHaveLength(baseline.connections)
  expect(sim.peers[0]!.sessionCount).toBe(0)
  expect(sim.labeler!.tracked).toBe(0)
  if (outcome.peer !== undefined) {
    expect(outcome.peer.state).toBe('closed')
    expect(outcome.peer.bufferedAmount).toBe(0)
  }
}

describe('misbehaving virtual peers end in typed reasons, with nothing leaked', () => {
  // [mode, error code, whether the bytes are unframeable even to a header-only reader]
  const framing: [VirtualPeerBehavior, string, boolean][] = [
    ['garbage', 'BAD_MAGIC', true],
    ['wrong-magic', 'BAD_MAGIC', true],
    ['bad-checksum', 'BAD_CHECKSUM', false],
    ['oversized', 'OVERSIZE', false],
  ]
  for (const [behavior, code, unframeable] of framing) {
    it(`${behavior} in the middle of a session: framing ${code}`, async () => {
      const r = await misbehave(behavior)
      expect(r.outcome.peer).toBeDefined() // the handshake had completed
      expect(r.outcome.reason).toMatchObject({ kind: 'framing', error: { code } })
      expect(disconnectPolicy(r.outcome.reason).transient).toBe(false)
      // The bad bytes were written raw; a bad magic defeats the labeller too.
      expect(r.sim.net.trace.events.some((e) => e.label === BAD_FRAME_LABEL)).toBe(unframeable)
      expectReleased(r)
    })

    it(`${behavior} as the first frame: the handshake fails with framing ${code}`, async () => {
      const r = await misbehave(behavior, 'connect')
      expect(r.outcome.peer).toBeUndefined()
      expect(r.outcome.reason).toMatchObject({ kind: 'framing', error: { code } })
      expectReleased(r)
    })
  }

  it('no-verack: handshake-timeout after the handshake deadline', async () => {
    const r = await misbehave('no-verack')
    expect(r.outcome.peer).toBeUndefined()
    expect(r.outcome.reason).toMatchObject({ kind: 'handshake-timeout', state: 'awaiting-verack' })
    expect(r.outcome.at).toBe(HANDSHAKE_TIMEOUT_MS + 20) // dialled at 0, version sent once connected (20 ms)
    expect(disconnectPolicy(r.outcome.reason)).toMatchObject({ transient: true, unresponsive: true, banScore: 0 })
    // The virtual peer did send verack's neighbours, only never verack itself.
    const fromVirtual = r.sim.net.trace.events.filter((e) => e.kind === 'data' && e.to.startsWith(r.sim.driverHost)).map((e) => e.label)
    expect(fromVirtual).toContain('version')
    expect(fromVirtual).not.toContain('verack')
    expectReleased(r)
  })

  it('mute-pings: ping-timeout, while headers were still served', async () => {
    const r = await misbehave('mute-pings')
    expect(r.outcome.peer).toBeDefined()
    expect(r.outcome.reason).toMatchObject({ kind: 'ping-timeout' })
    expect(r.sim.peers[0]!.stats.headersServed).toBe(r.sim.chain.tip.height)
    expect(disconnectPolicy(r.outcome.reason)).toMatchObject({ transient: true, unresponsive: true })
    const pongs = r.sim.net.trace.events.filter((e) => e.kind === 'data' && e.to.startsWith(r.sim.driverHost) && e.label === 'pong')
    expect(pongs).toHaveLength(0)
    expectReleased(r)
  })

  it('slowloris: the getdata stalls at its deadline', async () => {
    const r = await misbehave('slowloris')
    expect(r.outcome.peer).toBeDefined()
    expect(r.outcome.reason).toMatchObject({ kind: 'stalled', request: { kind: 'data' }, waitedMs: DATA_REQUEST_TIMEOUT_MS })
    expect(disconnectPolicy(r.outcome.reason)).toMatchObject({ transient: true, unresponsive: true })
    expectReleased(r)
  })

  it('slowloris: one byte per virtual minute, until a longer deadline stalls', async () => {
    const deadline = 10 * 60_000
    const r = await misbehave('slowloris', 'ready', {
      requestTimeouts: { data: deadline },
      ping: { pongIdleTimeoutMs: 60 * 60_000, pongTimeoutMs: 60 * 60_000 },
    })
    expect(r.outcome.reason).toMatchObject({ kind: 'stalled', request: { kind: 'data' }, waitedMs: deadline })
    const dribble = r.sim.net.trace.events.filter((e) => e.kind === 'data' && e.to.startsWith(r.sim.driverHost) && e.size === 1)
    // A byte at once, then one a minute until the driver gives up.
    expect(dribble.length).toBe(Math.floor((r.outcome.at - dribble[0]!.time) / SLOWLORIS_BYTE_INTERVAL_MS) + 1)
    expect(dribble.length).toBeGreaterThanOrEqual(deadline / SLOWLORIS_BYTE_INTERVAL_MS)
    for (let i = 1; i < dribble.length; i++) expect(dribble[i]!.time - dribble[i - 1]!.time).toBe(SLOWLORIS_BYTE_INTERVAL_MS)
    expectReleased(r)
  })

  for (const [behavior, command] of [
    ['inv-flood', 'inv'],
    ['addr-flood', 'addr'],
  ] as const) {
    it(`${behavior}: misbehaving after five over-limit ${command} messages`, async () => {
      const r = await misbehave(behavior)
      expect(r.outcome.reason).toMatchObject({ kind: 'misbehaving', score: 100, threshold: 100, last: { kind: 'too-many-items', command } })
      expect(disconnectPolicy(r.outcome.reason)).toMatchObject({ transient: false, banScore: 100 })
      expectReleased(r)
    })
  }

  it('non-connecting-headers: misbehaving after five replies that connect to no locator hash', async () => {
    const r = await misbehave('non-connecting-headers')
    expect(r.outcome.reason).toMatchObject({ kind: 'misbehaving', score: 100, last: { kind: 'non-connecting-headers', count: 9 } })
    expectReleased(r)
  })

  it('an honest peer, same flow, is still connected until the driver closes it', async () => {
    const sim = new Simulation({ seed: 'honest-control', peers: 1 })
    const peer = sim.connect(0)
    await sim.run({ until: 10 * 60_000 })
    const p = await peer
    expect(p.state).toBe('ready')
    expect(p.rtt.samples).toBeGreaterThanOrEqual(5) // one ping every 2 min
    p.close('done')
    await sim.run()
    expect(sim.clock.pendingTimers).toBe(0)
  })
})

describe('every mode at once, against one driver', () => {
  // What the standard visit (handshake, first ping, getheaders, getdata) ends
  // in, per mode. Slowloris ends in ping-timeout here: the visit waits for its
  // first pong, and nothing complete arrives within the pong idle deadline.
  const EXPECTED: Record<VirtualPeerBehavior, { kind: string; step: string }> = {
    honest: { kind: 'local', step: 'done' },
    garbage: { kind: 'framing', step: 'ping' },
    'wrong-magic': { kind: 'framing', step: 'ping' },
    'bad-checksum': { kind: 'framing', step: 'ping' },
    oversized: { kind: 'framing', step: 'ping' },
    'no-verack': { kind: 'handshake-timeout', step: 'connect' },
    'mute-pings': { kind: 'ping-timeout', step: 'ping' },
    slowloris: { kind: 'ping-timeout', step: 'ping' },
    'inv-flood': { kind: 'misbehaving', step: 'ping' },
    'addr-flood': { kind: 'misbehaving', step: 'ping' },
    'non-connecting-headers': { kind: 'misbehaving', step: 'headers' },
    // Valid announcements are no offense, and the visit asks for no transaction.
    'tx-flood': { kind: 'local', step: 'done' },
  }

  it('each peer ends as its mode says, whatever its neighbours do, and the run replays', async () => {
    const run = async () => {
      const n = VIRTUAL_PEER_BEHAVIORS.length * 3
      const sim = new Simulation({ seed: 'all-modes', peers: n, link: { latency: 12, jitter: 6, maxChunk: 300 }, behaviors: (i) => VIRTUAL_PEER_BEHAVIORS[i % VIRTUAL_PEER_BEHAVIORS.length]! })
      const visits = sim.peers.map((_, i) => sim.visit(i))
      await sim.run()
      const results = await Promise.all(visits)
      for (const r of results) {
        const mode = sim.peers[r.peer]!.behavior
        expect({ mode, kind: r.reason.kind, step: r.step }).toEqual({ mode, ...EXPECTED[mode] })
      }
      expect(sim.clock.pendingTimers).toBe(0)
      expect(sim.net.connections()).toHaveLength(0)
      return sim.traceHash()
    }
    expect(await run()).toBe(await run())
  })
})
