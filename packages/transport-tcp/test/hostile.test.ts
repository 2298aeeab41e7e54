// Hostile peers over real TCP on 127.0.0.1 (issue 12, item 9): every mode of
// test/harness/hostile-peer.ts against our Peer, dialled through a
// TcpConnector (and, for the modes that matter inbound, accepted by a
// TcpListener).
//
// Each test asserts:
//  - the exact typed outcome: the DisconnectReason (kind and data), the
//    WireError code, the misbehaviour events (offense and score), or for a
//    peer that must stay connected, that it did, unscored, and still works;
//  - the time to it, in the Peer's own clock: the Peer runs on a
//    VirtualClock that stands still while bytes move and is advanced by the
//    test or the hostile script once nothing is in flight (see the harness).
//    So a recorded wait (`waitedMs`) equals the configured deadline
//    exactly, the outcome is checked not to happen 1 ms earlier, and a drip
//    of 1 byte/s is exactly that. The wall clock is only a safety net
//    (scaled()) and is printed, never asserted;
//  - no leaked handles: the Peer is closed with nothing buffered, its clock
//    has no timer left, the SDK's transport reported its close, the hostile
//    side saw the SDK hang up, and the process's open TCP sockets are back to
//    what they were before the test;
//  - bounded memory in the flood modes: bytes still reachable after full
//    garbage collections (retainedHeapBytes) grow by less than
//    FLOOD_RETAINED_LIMIT while the flood pushes many times that through.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  BlockFetcher,
  BlockFetchError,
  disconnectPolicy,
  Peer,
  PeerError,
  RealtimeClock,
  RequestError,
  SeededRandom,
  singlePeer,
  type DisconnectReason,
  type Offense,
  type PeerOptions,
  type Transport,
} from '@bitp2p/session'
import { DATA_REQUEST_TIMEOUT_MS, MIN_BLOCK_STREAM_BYTES_PER_SEC } from '@bitp2p/session/limits'
import { blockHash, encodeMessage, hashToHex, InvType, regtest, type Block, type InvItem, type WireErrorCode } from '@bitp2p/wire'
import { MAX_HEADERS_RESULTS } from '@bitp2p/wire/limits'
import { genesisBlock, VirtualClock } from '@bitp2p/transport-mock'
import { buildBlock } from '@bitp2p/transport-mock/chain'
import { TcpConnector, TcpListener } from '../src/index.js'
import { scaled } from '../../../test/harness/timing.js'
import {
  activeTcpSockets,
  dialHostile,
  HOSTILE_MODES,
  hostileMode,
  HostileServer,
  LOOPBACK,
  retainedHeapBytes,
  settle,
  TrackedTransport,
  TrackingConnector,
  UNKNOWN_COMMAND_NAMES,
  UNKNOWN_COMMAND_REPEATS,
  virtualPace,
  type HostileConn,
  type HostileEnv,
  type HostileModeName,
} from '../../../test/harness/hostile-peer.js'
import { until } from './helpers.js'

// --- deadlines (the Peer's clock, virtual ms) --------------------------------------

/** Handshake deadline (default 60 s). */
const HANDSHAKE_MS = 5_000
/** Pong deadline with nothing received (default 2 min). */
const PONG_IDLE_MS = 3_000
/** Pong deadline whatever arrives (default 20 min). */
const PONG_HARD_MS = 12_000
/** getdata deadline without progress (default 60 s). */
const DATA_MS = 4_000
/** One byte per second: the drip of issue 12. */
const DRIP_1_BPS = 1_000
/** The chatty-no-pong peer's inv interval. */
const CHATTER_MS = 1_000

// --- safety nets (real ms, never asserted) -------------------------------------------

/** Any single wait of a test. */
const WAIT_MS = scaled(15_000)
/** A flood reaching its volume (a few seconds on an idle machine). */
const FLOOD_WAIT_MS = scaled(45_000)
/** A whole test. */
const TEST_MS = scaled(60_000)

// --- memory ---------------------------------------------------------------------------

/**
 * Most bytes an inv or addr flood may leave reachable (after full GCs)
 * while it runs: the frame being assembled (an inv is at most 1.8 MB) and
 * its join, socket read buffers, the hostile side's frame and write queue,
 * and V8's own noise (measured: +1 to +4 MB). Keeping anything per inv item
 * or per address would break it: the inv flood pushes INV_FLOOD_FRAMES x
 * 50,000 items (1 M items, 36 MB), the addr flood ADDR_FLOOD_FRAMES x 1,000
 * addresses (1 M, 30 MB), so even 16 bytes kept per item shows.
 */
const FLOOD_RETAINED_LIMIT = 16_000_000
const INV_FLOOD_FRAMES = 20
const ADDR_FLOOD_FRAMES = 1_000
/** Pings the ping-flood peer gets answered at least. */
const PING_FLOOD_PINGS = 50_000
/**
 * The same bound for the ping flood, whose messages are 32 bytes: nothing
 * is in flight but a window of pings (measured: under +1 MB), so 80 bytes
 * kept per ping would show.
 */
const PING_FLOOD_RETAINED_LIMIT = 4_000_000
/** Send buffer of the Peer in ping-flood-unread: high-water mark and hard cap. */
const HIGH_WATER = 16 * 1024
const MAX_SEND_BUFFER = 64 * 1024
/** A pong frame: 24-byte header + 8-byte nonce. */
const PONG_FRAME_BYTES = 32

// --- fixtures -----------------------------------------------------------------------

/** Block A (asked for by the tests): the regtest genesis block. */
const blockA: Block = genesisBlock(regtest)!
const hashA = blockHash(blockA.header)
/** Block B: a valid block on top of it, served by wrong-block. */
const blockB: Block = buildBlock(
  { prevBlock: hashA, height: 1, time: blockA.header.time + 600, bits: regtest.genesis.bits, coinbaseValue: 5_000_000_000n, payoutKeyHash: new Uint8Array(20) },
  regtest,
  new SeededRandom('hostile-block-b'),
).block
const hashB = blockHash(blockB.header)
const itemA: InvItem = { type: InvType.MSG_WITNESS_BLOCK, hash: hashA }
/**
 * Block C: a block of about 1.7 KB (one transaction with a 1,500-byte
 * output script), long enough that dripping it at 1 byte/s outlasts every
 * default deadline.
 */
const blockC: Block = buildBlock(
  {
    prevBlock: hashA,
    height: 1,
    time: blockA.header.time + 600,
    bits: regtest.genesis.bits,
    coinbaseValue: 5_000_000_000n,
    payoutKeyHash: new Uint8Array(20),
    txs: [
      {
        version: 2,
        inputs: [{ prevout: { txid: new Uint8Array(32).fill(0x11), index: 0 }, scriptSig: Uint8Array.of(0x51), sequence: 0xffffffff, witness: [] }],
        outputs: [{ value: 1_000n, scriptPubKey: new Uint8Array(1_500).fill(0x6a) }],
        locktime: 0,
      },
    ],
  },
  regtest,
  new SeededRandom('hostile-block-c'),
).block
const hashC = blockHash(blockC.header)
/** Bytes of block A's frame (what block-drip drips). */
/** Bytes of a v1 frame header. */
const FRAME_HEADER = 24
const BLOCK_A_FRAME = encodeMessage({ command: 'block', block: blockA }, regtest).length

/** Peer options of every test; a test adds its own. */
function peerOptions(mode: string, extra: Partial<PeerOptions>): Omit<PeerOptions, 'clock'> {
  return {
    network: regtest,
    random: new SeededRandom(`hostile-${mode}`),
    handshakeTimeoutMs: HANDSHAKE_MS,
    ping: { pongIdleTimeoutMs: PONG_IDLE_MS, pongTimeoutMs: PONG_HARD_MS },
    requestTimeouts: { data: DATA_MS },
    ...extra,
  }
}

// --- one connection to a hostile peer ------------------------------------------------

type Direction = 'outbound' | 'inbound'

/** One test's connection, both ends, and what happened on it. */
interface Run {
  readonly mode: HostileModeName
  readonly direction: Direction
  readonly clock: VirtualClock
  readonly conn: HostileConn
  readonly sdk: TrackedTransport
  /** The Peer (captured by `setup`, so also when the handshake fails). */
  readonly peer: Peer
  /** Peer.connect / Peer.accept: the ready Peer, or the PeerError. */
  readonly handshake: Promise<Peer | PeerError>
  /** Misbehaviour events, in order. */
  readonly offenses: { readonly offense: Offense; readonly score: number }[]
  /** Virtual time of the 'close' event, once closed. */
  closedAt: number | undefined
  /** Virtual time of the 'ready' event, once ready. */
  readyAt: number | undefined
  /** The Peer's clock when the connection started (it starts at 0). */
  readonly startedAt: number
  /** Open TCP sockets of the process before the test. */
  readonly socketsBefore: number
  /** performance.now() at the start, for the printed summary only. */
  readonly realStart: number
  /** Resolves once nothing is in flight between the two ends. */
  settle(): Promise<void>
}

let server: HostileServer
let listener: TcpListener
let onInbound: ((t: Transport) => void) | undefined
/** The connection of the running test: torn down after it, so a failure does not spill into the next test. */
let current: Run | undefined
const tested = new Set<string>()
const summary: string[] = []

beforeAll(async () => {
  server = await HostileServer.listen(regtest)
  listener = await TcpListener.listen({ host: LOOPBACK, port: 0 })
  listener.onConnection((t) => {
    if (onInbound) onInbound(t)
    else t.close('no test is waiting')
  })
})

afterEach(async () => {
  const run = current
  current = undefined
  onInbound = undefined
  if (!run) return
  // After a failure: tear the connection down and let its sockets go, so the
  // next test's socket count starts clean.
  run.peer.close('test over')
  run.conn.destroy()
  await until(() => activeTcpSockets() <= run.socketsBefore, 'the sockets of the test to close', WAIT_MS).catch(() => undefined)
})

afterAll(async () => {
  await server?.close()
  await listener?.close()
  if (summary.length > 0) console.log(`[hostile] mode | outcome | Peer clock | real\n${summary.join('\n')}`)
})

/**
 * Connect our Peer to a hostile peer playing `mode`: outbound (Peer.connect
 * to the hostile server) or inbound (the hostile client dials our listener,
 * Peer.accept). Returns once both ends exist; the handshake may still run.
 */
async function open(
  mode: HostileModeName,
  opts: { direction?: Direction; peer?: Partial<PeerOptions>; env?: Partial<HostileEnv>; listen?: (peer: Peer) => void } = {},
): Promise<Run> {
  const direction = opts.direction ?? 'outbound'
  tested.add(mode)
  const socketsBefore = activeTcpSockets()
  const realStart = performance.now()
  const clock = new VirtualClock()
  const offenses: Run['offenses'] = []
  let run: Run | undefined
  let ends: (() => void) | undefined
  const bothEnds = new Promise<void>((r) => (ends = r))
  const env: HostileEnv = {
    network: regtest,
    pace: virtualPace(clock, async () => {
      await bothEnds
      await run!.settle()
    }),
    block: blockA,
    otherBlock: blockB,
    dripIntervalMs: DRIP_1_BPS,
    chatterIntervalMs: CHATTER_MS,
    ...opts.env,
  }
  let peer: Peer | undefined
  let closedAt: number | undefined
  let readyAt: number | undefined
  const options: PeerOptions = {
    ...peerOptions(mode, opts.peer ?? {}),
    clock,
    setup: (p) => {
      peer = p
      // Before the handshake starts: messages may arrive in the read that completes it.
      opts.listen?.(p)
      p.on('misbehavior', (offense, score) => offenses.push({ offense, score }))
      p.on('ready', () => {
        readyAt = clock.now()
        if (run) run.readyAt = readyAt
      })
      p.on('close', () => {
        closedAt = clock.now()
        if (run) run.closedAt = closedAt
      })
    },
  }
  const settled = (p: Promise<Peer>): Promise<Peer | PeerError> =>
    p.catch((e: unknown) => {
      if (e instanceof PeerError) return e
      throw e
    })

  let conn: HostileConn
  let sdk: TrackedTransport
  let handshake: Promise<Peer | PeerError>
  if (direction === 'outbound') {
    const connector = new TrackingConnector(new TcpConnector({ connectTimeoutMs: WAIT_MS }))
    server.play(hostileMode(mode), env)
    handshake = settled(Peer.connect(server.address, { ...options, connector }))
    conn = await server.nextConnection()
    await until(() => connector.transports.length === 1, 'the SDK side of the connection', WAIT_MS)
    sdk = connector.transports[0]!
  } else {
    let accepted: ((v: { sdk: TrackedTransport; handshake: Promise<Peer | PeerError> }) => void) | undefined
    const inbound = new Promise<{ sdk: TrackedTransport; handshake: Promise<Peer | PeerError> }>((r) => (accepted = r))
    onInbound = (t) => {
      onInbound = undefined
      const tracked = new TrackedTransport(t)
      accepted!({ sdk: tracked, handshake: settled(Peer.accept(tracked, options)) })
    }
    conn = await dialHostile(listener.address, hostileMode(mode), env)
    ;({ sdk, handshake } = await inbound)
  }
  await until(() => peer !== undefined, 'the Peer', WAIT_MS)
  run = {
    mode,
    direction,
    clock,
    conn,
    sdk,
    peer: peer!,
    handshake,
    offenses,
    closedAt,
    readyAt,
    startedAt: 0,
    socketsBefore,
    realStart,
    settle: () => settle(conn, sdk, WAIT_MS),
  }
  ends!()
  current = run
  return run
}

/** The reason the connection ended (waits for the close). */
async function closeReason(run: Run, ms = WAIT_MS): Promise<DisconnectReason> {
  return within(run.peer.closed, `the close of ${run.mode}`, ms)
}

/** `p`, or a rejection after `ms` of real time (a safety net, not an assertion on speed). */
function within<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)))
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

/** The PeerError the handshake of `run` failed with. */
async function handshakeError(run: Run): Promise<PeerError> {
  const r = await within(run.handshake, `the handshake of ${run.mode}`)
  if (!(r instanceof PeerError)) throw new Error(`${run.mode}: the handshake completed`)
  return r
}

/** The ready Peer of `run`. */
async function ready(run: Run): Promise<Peer> {
  const r = await within(run.handshake, `the handshake of ${run.mode}`)
  if (r instanceof PeerError) throw new Error(`${run.mode}: the handshake failed: ${r.message}`)
  return r
}

/**
 * Nothing of the connection is left: the Peer closed with nothing
 * buffered and no timer, the SDK's transport closed, the hostile end saw
 * the SDK hang up (FIN or reset, not a close of its own), both sockets are
 * gone from the process, and the hostile script neither failed nor saw a
 * frame it could not decode.
 */
async function expectReleased(run: Run, outcome: string): Promise<void> {
  expect(run.peer.state).toBe('closed')
  expect(run.clock.pendingTimers).toBe(0)
  await within(run.sdk.closed, 'the SDK transport close')
  await within(run.conn.closed, 'the hostile socket close')
  expect(run.conn.closedBySdk).toBe(true)
  await until(() => activeTcpSockets() === run.socketsBefore, () => `open TCP sockets back to ${run.socketsBefore} (now ${activeTcpSockets()})`, WAIT_MS)
  // Bytes still queued at the close may flush for the transport's close
  // linger; once the socket is gone nothing is held.
  expect(run.peer.bufferedAmount).toBe(0)
  await within(run.conn.done, 'the hostile script')
  expect(run.conn.scriptError).toBeUndefined()
  expect(run.conn.decodeError).toBeUndefined()
  const t = run.closedAt === undefined ? '-' : `${run.closedAt - run.startedAt} ms`
  summary.push(`${run.mode} (${run.direction}) | ${outcome} | ${t} | ${Math.round(performance.now() - run.realStart)} ms`)
}

/** The outcome kind the harness table promises for `mode`. */
function promised(mode: HostileModeName): string {
  return HOSTILE_MODES.find((m) => m.name === mode)!.outcome
}

// --- the modes -------------------------------------------------------------------------

describe('hostile peers over TCP on 127.0.0.1', () => {
  describe('broken framing: a typed framing error at once, scored by kind', () => {
    // [mode, code, detail, offense, score]
    const cases: [HostileModeName, WireErrorCode, object, Offense['kind'], number][] = [
      ['garbage', 'BAD_MAGIC', { offset: 0, expected: regtest.magic[0], actual: 0x47 }, 'wrong-network', 0],
      ['bad-magic', 'BAD_MAGIC', { offset: 0, expected: regtest.magic[0], actual: 0xf9 }, 'wrong-network', 0],
      ['bad-checksum', 'BAD_CHECKSUM', { command: 'version' }, 'bad-checksum', 50],
      ['oversize-length', 'OVERSIZE', { command: 'block', limit: regtest.maxMessageBytes, actual: regtest.maxMessageBytes + 1, field: 'maxMessageBytes' }, 'oversized-message', 100],
      ['oversize-command', 'OVERSIZE', { command: 'ping', limit: 8, actual: 1_000, field: 'maxPayload' }, 'oversized-message', 100],
    ]
    for (const direction of ['outbound', 'inbound'] as const) {
      for (const [mode, code, detail, offense, score] of cases) {
        it(`${mode} (${direction}): framing ${code}, offense ${offense} (${score})`, { timeout: TEST_MS }, async () => {
          const run = await open(mode, { direction })
          const err = await handshakeError(run)
          const reason = err.reason
          if (reason.kind !== 'framing') throw new Error(`expected framing, got ${reason.kind}`)
          expect(reason.kind).toBe(promised(mode))
          expect(reason.error.code).toBe(code)
          expect(reason.error.detail).toMatchObject(detail)
          expect(run.offenses).toEqual([{ offense: { kind: offense, error: reason.error }, score }])
          expect(disconnectPolicy(reason)).toEqual({ transient: false, banScore: score, unresponsive: false })
          // Refused on the bytes alone: no time passed on the Peer's clock.
          expect(run.closedAt).toBe(run.startedAt)
          await expectReleased(run, `framing ${code}`)
        })
      }
    }
  })

  describe('handshake deadlines: the Peer gives up exactly at its deadline, counted from the start', () => {
    for (const direction of ['outbound', 'inbound'] as const) {
      for (const [mode, state] of [
        ['never-version', 'awaiting-version'],
        ['never-verack', 'awaiting-verack'],
      ] as const) {
        it(`${mode} (${direction}): handshake-timeout in ${state} after exactly ${HANDSHAKE_MS} ms`, { timeout: TEST_MS }, async () => {
          const run = await open(mode, { direction })
          await run.settle()
          run.clock.advance(HANDSHAKE_MS - 1)
          expect(run.peer.state).toBe('handshaking')
          run.clock.advance(1)
          const err = await handshakeError(run)
          expect(err.reason).toEqual({ kind: 'handshake-timeout', state, waitedMs: HANDSHAKE_MS })
          expect(err.reason.kind).toBe(promised(mode))
          expect(run.closedAt! - run.startedAt).toBe(HANDSHAKE_MS)
          expect(disconnectPolicy(err.reason)).toEqual({ transient: true, banScore: 0, unresponsive: true })
          expect(run.offenses).toEqual([])
          await expectReleased(run, `handshake-timeout ${state}`)
        })
      }

      it(`slow-handshake (${direction}): version and verack at 1 byte/s time out at the deadline, not reset by each byte`, { timeout: TEST_MS }, async () => {
        const run = await open('slow-handshake', { direction })
        const err = await handshakeError(run)
        expect(err.reason).toEqual({ kind: 'handshake-timeout', state: 'awaiting-version', waitedMs: HANDSHAKE_MS })
        expect(err.reason.kind).toBe(promised('slow-handshake'))
        expect(run.closedAt! - run.startedAt).toBe(HANDSHAKE_MS)
        // One byte at 0, 1000, ... 4000 ms: five bytes were in when the deadline fell.
        expect(run.sdk.bytesIn).toBe(HANDSHAKE_MS / DRIP_1_BPS)
        expect(run.offenses).toEqual([])
        await expectReleased(run, 'handshake-timeout awaiting-version')
      })
    }

    it('slow-handshake at 1 byte per ms: one byte at a time is fine within the deadline', { timeout: TEST_MS }, async () => {
      const run = await open('slow-handshake', { env: { dripIntervalMs: 1 } })
      const peer = await ready(run)
      expect(peer.info!.peer.userAgent).toBe('/hostile:0.1/')
      // A version and a verack one byte per ms from 0: ready when the last byte arrived.
      const report = await within(run.conn.done, 'the drip')
      expect(report!['sent']).toBe(report!['total'])
      expect(run.readyAt! - run.startedAt).toBe(Number(report!['total']) - 1)
      expect(run.offenses).toEqual([])
      peer.close('done')
      await closeReason(run)
      await expectReleased(run, 'ready (byte by byte)')
    })

    it('never-version on the real clock: the same handshake-timeout, waitedMs at least the deadline', { timeout: TEST_MS }, async () => {
      // The one test on real time: the RealtimeClock path of the driver. Its
      // timer may run late on a busy machine, so only a lower bound holds;
      // a silent peer keeps the state exact whatever the load.
      tested.add('never-version')
      const before = activeTcpSockets()
      const deadline = 200
      server.play(hostileMode('never-version'), {
        network: regtest,
        pace: { sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
        block: blockA,
        otherBlock: blockB,
        dripIntervalMs: DRIP_1_BPS,
        chatterIntervalMs: CHATTER_MS,
      })
      const connector = new TrackingConnector(new TcpConnector({ connectTimeoutMs: WAIT_MS }))
      const p = Peer.connect(server.address, { ...peerOptions('never-version-realtime', { handshakeTimeoutMs: deadline }), clock: new RealtimeClock(), connector })
      const conn = await server.nextConnection()
      const err = await within(
        p.then(
          () => undefined,
          (e: unknown) => e,
        ),
        'the real-time handshake timeout',
      )
      expect(err).toBeInstanceOf(PeerError)
      const reason = (err as PeerError).reason
      if (reason.kind !== 'handshake-timeout') throw new Error(`expected handshake-timeout, got ${reason.kind}`)
      expect(reason.state).toBe('awaiting-version')
      expect(reason.waitedMs).toBeGreaterThanOrEqual(deadline)
      await within(connector.transports[0]!.closed, 'the SDK transport close')
      await within(conn.closed, 'the hostile socket close')
      expect(conn.closedBySdk).toBe(true)
      await until(() => activeTcpSockets() === before, 'open TCP sockets back to before', WAIT_MS)
    })
  })

  describe('pong deadlines', () => {
    it(`silent-pong: ping-timeout for our ping's nonce after exactly ${PONG_IDLE_MS} ms of silence`, { timeout: TEST_MS }, async () => {
      const run = await open('silent-pong')
      await ready(run)
      const readyAt = run.clock.now()
      const ping = await within(run.conn.next('ping'), "our first ping")
      await run.settle()
      run.clock.advance(PONG_IDLE_MS - 1)
      expect(run.peer.state).toBe('ready')
      run.clock.advance(1)
      const reason = await closeReason(run)
      expect(reason).toEqual({ kind: 'ping-timeout', nonce: ping.nonce, waitedMs: PONG_IDLE_MS })
      expect(reason.kind).toBe(promised('silent-pong'))
      expect(run.closedAt! - readyAt).toBe(PONG_IDLE_MS)
      expect(disconnectPolicy(reason)).toEqual({ transient: true, banScore: 0, unresponsive: true })
      await expectReleased(run, 'ping-timeout (idle)')
    })

    it(`chatty-no-pong: activity defers the idle deadline, not the hard one (${PONG_HARD_MS} ms)`, { timeout: TEST_MS }, async () => {
      let invs = 0
      const run = await open('chatty-no-pong', { listen: (p) => p.on('inv', () => invs++) })
      await ready(run)
      const ping = await within(run.conn.next('ping'), 'our first ping')
      const reason = await closeReason(run)
      expect(reason).toEqual({ kind: 'ping-timeout', nonce: ping.nonce, waitedMs: PONG_HARD_MS })
      expect(reason.kind).toBe(promised('chatty-no-pong'))
      // An inv every second from 1 s on: the twelfth second's never arrived.
      expect(invs).toBe(PONG_HARD_MS / CHATTER_MS - 1)
      expect(run.offenses).toEqual([])
      await expectReleased(run, 'ping-timeout (hard)')
    })
  })

  describe('floods: the peer stays connected, unscored, in bounded memory', () => {
    for (const [mode, command, frames] of [
      ['inv-flood', 'inv', INV_FLOOD_FRAMES],
      ['addr-flood', 'addr', ADDR_FLOOD_FRAMES],
    ] as const) {
      it(`${mode}: ${frames} maximal ${command} messages, not scored, retained memory under ${FLOOD_RETAINED_LIMIT / 1e6} MB`, { timeout: TEST_MS }, async () => {
        const baseline = retainedHeapBytes()
        let got = 0
        const run = await open(mode, { listen: (p) => p.on(command, () => got++) })
        const peer = await ready(run)
        await until(() => got >= frames, () => `${frames} ${command} messages (got ${got})`, FLOOD_WAIT_MS)
        // Measured while the flood still runs.
        const retained = retainedHeapBytes() - baseline
        expect(retained).toBeLessThan(FLOOD_RETAINED_LIMIT)
        run.conn.stop()
        const report = await within(run.conn.done, 'the flood to stop', FLOOD_WAIT_MS)
        expect(peer.state).toBe('ready')
        expect(peer.misbehaviorScore).toBe(0)
        expect(run.offenses).toEqual([])
        expect(promised(mode)).toBe('stays-connected')
        // Still a working connection: our ping is answered.
        await within(peer.ping(), 'a ping after the flood')
        await run.settle()
        expect(got).toBe(report!['frames'])
        peer.close('done')
        await closeReason(run)
        summary.push(`${mode}: ${got} frames, ${((got * Number(report!['frameBytes'])) / 1e6).toFixed(0)} MB, retained +${(retained / 1e6).toFixed(1)} MB`)
        await expectReleased(run, 'stays connected')
      })
    }

    it(`ping-flood: at least ${PING_FLOOD_PINGS} pings, every one answered in order, not scored, retained memory under ${PING_FLOOD_RETAINED_LIMIT / 1e6} MB`, { timeout: TEST_MS }, async () => {
      const baseline = retainedHeapBytes()
      const run = await open('ping-flood')
      const peer = await ready(run)
      await until(() => (run.conn.counts.get('pong') ?? 0) >= PING_FLOOD_PINGS, () => `${PING_FLOOD_PINGS} pongs (got ${run.conn.counts.get('pong')})`, FLOOD_WAIT_MS)
      const retained = retainedHeapBytes() - baseline
      expect(retained).toBeLessThan(PING_FLOOD_RETAINED_LIMIT)
      run.conn.stop()
      const report = await within(run.conn.done, 'every pong', FLOOD_WAIT_MS)
      expect(report!['pongs']).toBe(report!['pings'])
      expect(report!['outOfOrder']).toBe(0)
      expect(peer.state).toBe('ready')
      expect(peer.misbehaviorScore).toBe(0)
      expect(promised('ping-flood')).toBe('stays-connected')
      peer.close('done')
      await closeReason(run)
      summary.push(`ping-flood: ${report!['pings']} pings, retained +${(retained / 1e6).toFixed(1)} MB`)
      await expectReleased(run, 'stays connected')
    })

    it('ping-flood-unread: our pongs pile up to maxSendBuffer, then send-buffer-full', { timeout: TEST_MS }, async () => {
      const run = await open('ping-flood-unread', { peer: { highWaterMark: HIGH_WATER, maxSendBuffer: MAX_SEND_BUFFER } })
      await ready(run)
      const reason = await closeReason(run, FLOOD_WAIT_MS)
      if (reason.kind !== 'send-buffer-full') throw new Error(`expected send-buffer-full, got ${reason.kind}`)
      expect(reason.kind).toBe(promised('ping-flood-unread'))
      expect(reason.limit).toBe(MAX_SEND_BUFFER)
      // Checked at every write: at most one pong over the cap.
      expect(reason.buffered).toBeGreaterThan(MAX_SEND_BUFFER)
      expect(reason.buffered).toBeLessThanOrEqual(MAX_SEND_BUFFER + PONG_FRAME_BYTES)
      expect(disconnectPolicy(reason)).toEqual({ transient: true, banScore: 0, unresponsive: true })
      expect(run.closedAt).toBe(run.startedAt)
      // The hostile peer gives up too, reading what is left, so its end closes.
      run.conn.stop()
      run.conn.resume()
      const report = await within(run.conn.done, 'the flood to stop', FLOOD_WAIT_MS)
      summary.push(`ping-flood-unread: ${report!['pings']} pings sent before the close`)
      await expectReleased(run, `send-buffer-full ${reason.buffered} > ${reason.limit}`)
    })
  })

  describe('bad answers', () => {
    it('non-connecting-headers: five replies that connect to no locator hash, misbehaving at 100', { timeout: TEST_MS }, async () => {
      const run = await open('non-connecting-headers')
      const peer = await ready(run)
      const request = peer.getHeaders([regtest.genesisHash], { timeoutMs: 60_000 }).then(
        () => undefined,
        (e: unknown) => e,
      )
      const reason = await closeReason(run)
      expect(reason).toMatchObject({ kind: 'misbehaving', score: 100, threshold: 100, last: { kind: 'non-connecting-headers', count: MAX_HEADERS_RESULTS } })
      expect(reason.kind).toBe(promised('non-connecting-headers'))
      expect(run.offenses.map((o) => [o.offense.kind, o.score])).toEqual([20, 40, 60, 80, 100].map((s) => ['non-connecting-headers', s]))
      const failure = await request
      expect(failure).toBeInstanceOf(RequestError)
      expect((failure as RequestError).failure).toEqual({ kind: 'closed', reason })
      expect(disconnectPolicy(reason)).toEqual({ transient: false, banScore: 100, unresponsive: false })
      expect(run.closedAt).toBe(run.startedAt)
      await expectReleased(run, 'misbehaving non-connecting-headers')
    })

    it('huge-counts: counts up to 2^64-1 in a few bytes, each too-many-items, nothing allocated by them', { timeout: TEST_MS }, async () => {
      const baseline = retainedHeapBytes()
      const run = await open('huge-counts')
      await ready(run)
      const reason = await closeReason(run)
      expect(reason).toMatchObject({ kind: 'misbehaving', score: 100, threshold: 100, last: { kind: 'too-many-items', command: 'tx' } })
      expect(reason.kind).toBe(promised('huge-counts'))
      expect(run.offenses.map((o) => [o.offense.kind, (o.offense as { command: string }).command, (o.offense as { error: { code: string } }).error.code, o.score])).toEqual([
        ['too-many-items', 'inv', 'OVERSIZE', 20],
        ['too-many-items', 'addr', 'OVERSIZE', 40],
        ['too-many-items', 'headers', 'OVERSIZE', 60],
        ['too-many-items', 'getheaders', 'OVERSIZE', 80],
        ['too-many-items', 'tx', 'OVERSIZE', 100],
      ])
      expect(retainedHeapBytes() - baseline).toBeLessThan(FLOOD_RETAINED_LIMIT)
      expect(run.closedAt).toBe(run.startedAt)
      await expectReleased(run, 'misbehaving too-many-items')
    })

    it(`unknown-commands: ${UNKNOWN_COMMAND_NAMES * UNKNOWN_COMMAND_REPEATS} unknown messages counted, never scored, pings still answered both ways`, { timeout: TEST_MS }, async () => {
      let events = 0
      const run = await open('unknown-commands', { listen: (p) => p.on('unknown-command', () => events++) })
      const peer = await ready(run)
      const report = await within(run.conn.done, 'the unknown commands and the ping')
      const sent = UNKNOWN_COMMAND_NAMES * UNKNOWN_COMMAND_REPEATS
      expect(report).toEqual({ sent, pongEchoed: true })
      expect(peer.state).toBe('ready')
      expect(peer.misbehaviorScore).toBe(0)
      expect(events).toBe(sent)
      // 32 names are counted by name, the 8 others under '(other)'.
      const expected = new Map<string, number>()
      for (let i = 0; i < 32; i++) expected.set(`hostile${String(i).padStart(2, '0')}`, UNKNOWN_COMMAND_REPEATS)
      expected.set('(other)', (UNKNOWN_COMMAND_NAMES - 32) * UNKNOWN_COMMAND_REPEATS)
      expect(new Map(peer.unknownCommands)).toEqual(expected)
      expect(promised('unknown-commands')).toBe('stays-connected')
      await within(peer.ping(), 'our ping after the unknown commands')
      peer.close('done')
      await closeReason(run)
      await expectReleased(run, 'stays connected, counted')
    })

    for (const streamBlocks of [false, true]) {
      it(`wrong-block${streamBlocks ? ' (streamBlocks)' : ''}: unsolicited-block (20), then the getdata stalls after exactly ${DATA_MS} ms`, { timeout: TEST_MS }, async () => {
        const run = await open('wrong-block', { peer: { streamBlocks } })
        const peer = await ready(run)
        const sentAt = run.clock.now()
        const request = peer.getData([itemA]).then(
          () => undefined,
          (e: unknown) => e,
        )
        await run.settle()
        expect(run.offenses).toEqual([{ offense: { kind: 'unsolicited-block', command: 'block', hash: hashB }, score: 20 }])
        run.clock.advance(DATA_MS - 1)
        expect(peer.state).toBe('ready')
        run.clock.advance(1)
        const reason = await closeReason(run)
        expect(reason).toMatchObject({ kind: 'stalled', request: { kind: 'data', request: { kind: 'data', items: [itemA] }, sentAt }, waitedMs: DATA_MS })
        expect(reason.kind).toBe(promised('wrong-block'))
        expect(run.closedAt! - sentAt).toBe(DATA_MS)
        const failure = await request
        expect((failure as RequestError).failure).toEqual({ kind: 'stalled', waitedMs: DATA_MS })
        await expectReleased(run, 'unsolicited-block, then stalled')
      })
    }

    it('tampered-block: the Peer matches it by hash; the BlockFetcher finds the merkle root wrong and the peer is dropped', { timeout: TEST_MS }, async () => {
      const run = await open('tampered-block', { peer: { streamBlocks: true } })
      const peer = await ready(run)
      // Peer level: a block reply is matched by its header's hash, which is intact.
      const r = await within(peer.getData([itemA]), 'the tampered block')
      expect(r.found.map((f) => f.item)).toEqual([itemA])
      expect(r.notFound).toEqual([])
      expect(peer.misbehaviorScore).toBe(0)
      // Service level: the block's transactions do not hash to its merkle root.
      const fetcher = new BlockFetcher({ source: singlePeer(peer), network: regtest, timeoutMs: DATA_MS })
      const download = fetcher.fetch([hashA])
      const invalid = new Promise<BlockFetchError>((resolve) => download.once('invalid-block', resolve))
      const err = await within(invalid, 'invalid-block')
      expect(err).toMatchObject({ code: 'invalid-block', hash: hashToHex(hashA), error: { code: 'BAD_MERKLE_ROOT' } })
      const reason = await closeReason(run)
      expect(reason).toMatchObject({ kind: 'misbehaving', score: 100, threshold: 100, last: { kind: 'invalid-block', hash: hashToHex(hashA), error: { code: 'BAD_MERKLE_ROOT' } } })
      expect(reason.kind).toBe(promised('tampered-block'))
      expect(disconnectPolicy(reason)).toEqual({ transient: false, banScore: 100, unresponsive: false })
      // With its only peer gone the download waits for another one: settling it is the fetcher's business (not asserted here).
      download.cancel('test over')
      await expectReleased(run, 'misbehaving invalid-block')
    })

    it('notfound: getdata settles at once with everything notFound, unscored; a BlockFetcher gives up after maxAttempts', { timeout: TEST_MS }, async () => {
      const run = await open('notfound')
      const peer = await ready(run)
      const itemB: InvItem = { type: InvType.MSG_WITNESS_BLOCK, hash: hashB }
      const r = await within(peer.getData([itemA, itemB]), 'the notfound reply')
      expect(r).toEqual({ kind: 'data', found: [], notFound: [itemA, itemB] })
      expect(run.clock.now()).toBe(run.startedAt)
      const maxAttempts = 3
      const download = new BlockFetcher({ source: singlePeer(peer), network: regtest, maxAttempts }).fetch([hashA])
      let retries = 0
      download.on('retry', () => retries++)
      const failed = await within(download.done.then(() => undefined, (e: unknown) => e), 'the download to give up')
      expect(failed).toBeInstanceOf(BlockFetchError)
      expect(failed).toMatchObject({ code: 'exhausted', hash: hashToHex(hashA) })
      expect(retries).toBe(maxAttempts - 1)
      expect(peer.state).toBe('ready')
      expect(peer.misbehaviorScore).toBe(0)
      expect(promised('notfound')).toBe('stays-connected')
      peer.close('done')
      await closeReason(run)
      await expectReleased(run, 'stays connected, all notfound')
    })
  })

  describe('a block dripped slowly', () => {
    // Without streamBlocks the bytes of a frame in progress are no progress:
    // the getdata stalls at its deadline from the request, whatever the rate.
    // [bytes per second, drip interval, data deadline]
    for (const [bps, interval, deadline] of [
      [1, DRIP_1_BPS, DATA_REQUEST_TIMEOUT_MS],
      [20, 50, DATA_MS],
    ] as const) {
      it(`block-drip at ${bps} byte/s without streamBlocks: stalled exactly ${deadline} ms after the getdata`, { timeout: TEST_MS }, async () => {
        const run = await open('block-drip', { env: { dripIntervalMs: interval }, peer: { requestTimeouts: { data: deadline } } })
        const peer = await ready(run)
        await run.settle()
        const sentAt = run.clock.now()
        const bytesBefore = run.sdk.bytesIn
        const request = peer.getData([itemA]).then(
          () => undefined,
          (e: unknown) => e,
        )
        const reason = await closeReason(run)
        expect(reason).toMatchObject({ kind: 'stalled', request: { kind: 'data', sentAt }, waitedMs: deadline })
        expect(reason.kind).toBe(promised('block-drip'))
        expect(run.closedAt! - sentAt).toBe(deadline)
        // A byte at 0, interval, 2 x interval, ... strictly before the deadline.
        expect(run.sdk.bytesIn - bytesBefore).toBe(deadline / interval)
        expect((await request) as RequestError).toMatchObject({ failure: { kind: 'stalled', waitedMs: deadline } })
        await expectReleased(run, `stalled after ${deadline / interval} of ${BLOCK_A_FRAME} bytes`)
      })
    }

    // With streamBlocks a stream belongs to the request it answers from its
    // 80-byte header on; its pieces are progress, but a stream also has a
    // total budget: the data deadline plus its length at
    // MIN_BLOCK_STREAM_BYTES_PER_SEC (Core bounds a block download in total
    // too). So a drip can hold a request only so long.
    it(`block-drip at 50 byte/s with streamBlocks: claimed at its header, progressing, stalled when its stream budget runs out`, { timeout: TEST_MS }, async () => {
      const interval = 20
      const run = await open('block-drip', { env: { dripIntervalMs: interval }, peer: { streamBlocks: true } })
      const peer = await ready(run)
      await run.settle()
      const sentAt = run.clock.now()
      const pieces: number[] = []
      peer.on('payload', (ev, requestId) => {
        if (ev.type === 'payload-start') pieces.push(run.clock.now() - sentAt, requestId ?? -1)
      })
      const request = peer.getData([itemA]).then(
        () => undefined,
        (e: unknown) => e,
      )
      const reason = await closeReason(run)
      const length = BLOCK_A_FRAME - FRAME_HEADER
      const budget = DATA_MS + Math.ceil((length * 1000) / MIN_BLOCK_STREAM_BYTES_PER_SEC)
      // The stream was claimed when its 80-byte header was in: frame header and block header, a byte per interval.
      const claimedAfter = pieces[0]!
      expect(claimedAfter).toBe((FRAME_HEADER + 80 - 1) * interval)
      expect(pieces[1]).toBe(1)
      expect(reason).toMatchObject({ kind: 'stalled', request: { kind: 'data', sentAt }, stream: { length, elapsedMs: budget } })
      expect(reason.kind === 'stalled' && reason.waitedMs).toBeLessThanOrEqual(interval)
      expect(run.closedAt! - sentAt).toBe(claimedAfter + budget)
      // It stalled before the block was complete.
      expect(run.sdk.bytesIn).toBeLessThan(BLOCK_A_FRAME + 1_000)
      expect((await request) as RequestError).toMatchObject({ failure: { kind: 'stalled', stream: { length } } })
      summary.push(`block-drip streamed at 50 B/s: claimed after ${claimedAfter} ms, stalled ${budget} ms later on its stream budget`)
      await expectReleased(run, `stalled on its stream budget after ${run.closedAt! - sentAt} ms`)
    })

    it(`block-drip at 1 byte/s with streamBlocks and every default: the header does not come within the ${DATA_REQUEST_TIMEOUT_MS / 1000} s data deadline, so the getdata stalls then`, { timeout: TEST_MS }, async () => {
      const run = await open('block-drip', {
        env: { block: blockC },
        peer: { streamBlocks: true, handshakeTimeoutMs: undefined, ping: {}, requestTimeouts: {} },
      })
      const peer = await ready(run)
      await run.settle()
      const sentAt = run.clock.now()
      const request = peer.getData([{ type: InvType.MSG_WITNESS_BLOCK, hash: hashC }]).then(
        () => undefined,
        (e: unknown) => e,
      )
      const reason = await closeReason(run)
      expect(reason).toMatchObject({ kind: 'stalled', request: { kind: 'data', sentAt }, waitedMs: DATA_REQUEST_TIMEOUT_MS })
      expect(reason.kind === 'stalled' && reason.stream).toBeUndefined()
      expect(run.closedAt! - sentAt).toBe(DATA_REQUEST_TIMEOUT_MS)
      expect(((await request) as RequestError).failure).toMatchObject({ kind: 'stalled', waitedMs: DATA_REQUEST_TIMEOUT_MS })
      summary.push(`block-drip streamed at 1 B/s, defaults: stalled ${DATA_REQUEST_TIMEOUT_MS / 1000} s after the getdata`)
      await expectReleased(run, `stalled after ${DATA_REQUEST_TIMEOUT_MS / 1000} s`)
    })
  })

  it('the harness stays on loopback: it will not listen on or dial anything else', async () => {
    await expect(HostileServer.listen(regtest, '0.0.0.0')).rejects.toThrow(/non-loopback/)
    const env = { network: regtest, pace: { sleep: async () => {} }, block: blockA, otherBlock: blockB, dripIntervalMs: 1, chatterIntervalMs: 1 }
    await expect(dialHostile({ host: '192.0.2.1', port: 8333 }, hostileMode('garbage'), env)).rejects.toThrow(/non-loopback/)
    expect(server.address.host).toBe(LOOPBACK)
    expect(server.refused).toBe(0)
  })

  it('covers every mode of the harness table', (ctx) => {
    // Meaningful only after the tests above ran (not in a run filtered to this one).
    if (tested.size === 0) ctx.skip()
    expect([...tested].sort()).toEqual(HOSTILE_MODES.map((m) => m.name).sort())
  })
})
