/// <reference types="node" />
/**
 * Hostile peers over real TCP, on loopback only.
 *
 * A HostileServer listens on 127.0.0.1 and plays one scripted hostile mode
 * on every connection our SDK opens to it (Peer.connect over TcpConnector);
 * dialHostile() plays a mode the other way round, as a client of our
 * TcpListener (Peer.accept). The hostile side speaks the wire protocol with
 * @bitp2p/wire's encoders where it must look honest (version, verack, pong,
 * blocks) and writes raw bytes where it must not (noise, broken frames,
 * huge counts).
 *
 * The modes are data: HOSTILE_MODES lists each one's name, what the peer
 * does, the outcome the SDK must reach, and the script that does it.
 * packages/transport-tcp/test/hostile.test.ts asserts every outcome exactly.
 *
 * Loopback only: listen() refuses any host but a loopback address, accepted
 * sockets from anywhere else are destroyed on arrival, and dialHostile()
 * refuses any other target (the same guard as the bcoin harness).
 *
 * Time. Scripts that wait (drips, chatter) wait through a Pace. With
 * realPace() that is setTimeout. With virtualPace() the test's virtual
 * clock stands still while bytes move; a pause first waits until every byte
 * written on either side has been read by the other (settle), then advances
 * the clock. A drip of "1 byte per second" is then exactly that in the
 * SDK's time, however busy the machine, and the test runs in milliseconds.
 *
 * Also here, for the tests' leak and memory checks: TrackingConnector /
 * TrackedTransport (bytes and close of the SDK's side of the socket),
 * activeTcpSockets() and retainedHeapBytes().
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import type { Connector, DisconnectKind, PeerAddress, Transport, TransportError } from '@bitp2p/session'
import {
  blockHash,
  encodeMessage,
  InvType,
  ipFromString,
  mainnet,
  MessageDecoder,
  type Block,
  type BlockHeader,
  type Command,
  type InvItem,
  type KnownMessage,
  type Message,
  type MessageOf,
  type NetworkParams,
} from '@bitp2p/wire'
import { encodeFrame } from '@bitp2p/wire/codecs'
import { MAX_ADDR_TO_SEND, MAX_HEADERS_RESULTS, MAX_INV_SIZE } from '@bitp2p/wire/limits'
import { frameHeader, hostileVersion, hugeCountFrames, noise, versionFrame, withBadChecksum } from './hostile-bytes.js'

/** The only address a hostile server binds by default. */
export const LOOPBACK = '127.0.0.1'
/** Noise bytes the 'garbage' mode sends. */
export const GARBAGE_BYTES = 256
/** Payload the 'oversize-command' mode announces for a ping (whose cap is 8). */
export const OVERSIZE_PING_LENGTH = 1_000
/** Distinct unknown command names the 'unknown-commands' mode sends (more than the SDK tracks by name). */
export const UNKNOWN_COMMAND_NAMES = 40
/** Times the 'unknown-commands' mode sends each name. */
export const UNKNOWN_COMMAND_REPEATS = 3
/** Payload of each unknown command, bytes. */
export const UNKNOWN_COMMAND_PAYLOAD = 1_000
/** The ping nonce the 'unknown-commands' mode sends after its unknowns, expecting it back in a pong. */
export const UNKNOWN_MODE_PING_NONCE = 0x5eed_0001n
/** Pings per write in the ping-flood modes. */
export const PING_BATCH = 256
/** Most pings the 'ping-flood' mode leaves unanswered. */
export const PING_FLOOD_WINDOW = 16 * PING_BATCH
/** Messages kept for HostileConn.next(); older unclaimed ones are dropped (counts are kept). */
const INBOX_LIMIT = 256
/** Polling step of settle(), real ms. */
const SETTLE_POLL_MS = 1

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '::ffff:127.0.0.1' || /^(::ffff:)?127\./.test(host)
}

// --- time --------------------------------------------------------------------

/** How a script waits. */
export interface Pace {
  /** Let `ms` pass (real or virtual, see the module comment). */
  sleep(ms: number): Promise<void>
}

/** Real time: setTimeout. */
export function realPace(): Pace {
  return { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }
}

/**
 * Virtual time: each sleep waits for `settled()` (every byte in flight
 * read by its receiver), then advances `clock` by `ms`, which runs the SDK's
 * timers due by then synchronously.
 */
export function virtualPace(clock: { advance(ms: number): unknown }, settled: () => Promise<void>): Pace {
  return {
    sleep: async (ms) => {
      await settled()
      clock.advance(ms)
    },
  }
}

// --- the SDK's side of a connection --------------------------------------------

/**
 * A Transport wrapper that counts what the SDK wrote and read and records
 * its close: for settle() and the leak checks. It changes nothing else:
 * reading starts when the Peer registers onData, as with the bare transport.
 */
export class TrackedTransport implements Transport {
  readonly remote: PeerAddress
  /** Bytes the SDK handed to send(). */
  bytesOut = 0
  /** Bytes delivered to the SDK's onData. */
  bytesIn = 0
  /** onClose fired. */
  isClosed = false
  closeError: TransportError | undefined
  /** Resolves when the transport has closed (onClose fired). */
  readonly closed: Promise<void>
  private readonly inner: Transport
  private userClose: ((err?: TransportError) => void) | undefined
  private resolveClosed!: () => void

  constructor(inner: Transport) {
    this.inner = inner
    this.remote = inner.remote
    this.closed = new Promise((r) => (this.resolveClosed = r))
    inner.onClose((err) => {
      this.isClosed = true
      this.closeError = err
      this.resolveClosed()
      this.userClose?.(err)
    })
  }

  get bufferedAmount(): number {
    return this.inner.bufferedAmount
  }
  send(bytes: Uint8Array): void {
    if (!this.isClosed) this.bytesOut += bytes.length
    this.inner.send(bytes)
  }
  close(reason?: unknown): void {
    this.inner.close(reason)
  }
  onData(cb: (bytes: Uint8Array) => void): void {
    this.inner.onData((bytes) => {
      this.bytesIn += bytes.length
      cb(bytes)
    })
  }
  onClose(cb: (err?: TransportError) => void): void {
    this.userClose = cb
    if (this.isClosed) queueMicrotask(() => cb(this.closeError))
  }
  onDrain(cb: () => void): void {
    this.inner.onDrain(cb)
  }
}

/** A Connector that wraps each transport of `inner` in a TrackedTransport (kept in `transports`). */
export class TrackingConnector implements Connector {
  readonly transports: TrackedTransport[] = []
  private readonly inner: Connector
  constructor(inner: Connector) {
    this.inner = inner
  }
  async connect(addr: PeerAddress, signal?: AbortSignal): Promise<TrackedTransport> {
    const t = new TrackedTransport(await this.inner.connect(addr, signal))
    this.transports.push(t)
    return t
  }
}

/**
 * Resolves once nothing is in flight between `conn` and the SDK's `sdk`
 * transport: every byte either side wrote has been read by the other, both
 * write buffers are empty, and that still holds after one macrotask (so
 * reactions to the last bytes have been written). Also resolves once either
 * side has closed. Rejects after `timeoutMs` of real time (a safety net).
 */
export async function settle(conn: HostileConn, sdk: TrackedTransport, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const snapshot = (): string => `${conn.bytesIn}/${conn.bytesOut}/${sdk.bytesIn}/${sdk.bytesOut}`
  const balanced = (): boolean =>
    conn.bytesOut === sdk.bytesIn && sdk.bytesOut === conn.bytesIn && conn.writableLength === 0 && sdk.bufferedAmount === 0
  for (;;) {
    if (conn.isClosed || sdk.isClosed) return
    if (balanced()) {
      const before = snapshot()
      await new Promise((r) => setImmediate(r))
      if (balanced() && snapshot() === before) return
    }
    if (Date.now() > deadline) {
      throw new Error(`settle: still in flight after ${timeoutMs} ms (hostile in/out ${conn.bytesIn}/${conn.bytesOut}, sdk in/out ${sdk.bytesIn}/${sdk.bytesOut})`)
    }
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS))
  }
}

// --- resources -------------------------------------------------------------------

/** Open (ref'd) TCP sockets of this process, both ends of a loopback pair included. */
export function activeTcpSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length
}

let gc: (() => void) | undefined
/**
 * Bytes still reachable after full garbage collections: V8 heap plus
 * memory outside it (ArrayBuffers, Node buffers). Independent of when the
 * collector would have run, so it does not flake on a busy machine. gc is
 * exposed at run time (v8 flag), so no special vitest options are needed.
 */
export function retainedHeapBytes(): number {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

// --- the hostile side of a connection ----------------------------------------------

/** Which side opened the socket: 'server' when our SDK dialled the hostile server, 'client' when the hostile dialled our listener. */
export type HostileRole = 'server' | 'client'

/** What a script may report back (HostileConn.done). */
export type HostileReport = Readonly<Record<string, number | boolean | string>>

/** The connection closed before the message a script waited for. */
export class HostileConnClosed extends Error {
  override readonly name = 'HostileConnClosed'
}

/** One hostile connection: the socket, a decoder of what our SDK sends, counters. */
export class HostileConn {
  readonly role: HostileRole
  readonly network: NetworkParams
  /** Bytes read from the SDK. */
  bytesIn = 0
  /** Bytes handed to the socket for the SDK. */
  bytesOut = 0
  /** Messages from the SDK, by command. */
  readonly counts = new Map<string, number>()
  /** Answer the SDK's pings with pongs (an honest peer does). */
  answerPings = true
  /** The SDK's bytes did not decode (never expected: our SDK sends valid frames). */
  decodeError: string | undefined
  /** The script threw something other than HostileConnClosed. */
  scriptError: unknown
  /** Set by stop(): flood and drip loops end. */
  stopped = false
  /** True once the socket closed. */
  isClosed = false
  /** The socket saw the SDK's end first (FIN or reset) rather than being destroyed by us. */
  closedBySdk = false
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>
  /** Resolves with the script's report when it ends (undefined when it reports nothing or failed). */
  done: Promise<HostileReport | undefined> = Promise.resolve(undefined)
  private readonly socket: Socket
  private readonly decoder: MessageDecoder
  private readonly inbox: Message[] = []
  private readonly waiters: { command: string; resolve(m: Message): void; reject(e: Error): void }[] = []
  private readonly watchers: ((m: Message) => void)[] = []
  private destroyedByUs = false
  /** The last unit (frame, drip) queued for writing: the next waits for it. */
  private unit: Promise<void> = Promise.resolve()

  constructor(socket: Socket, role: HostileRole, network: NetworkParams) {
    this.socket = socket
    this.role = role
    this.network = network
    this.decoder = new MessageDecoder({ network })
    let resolveClosed!: () => void
    this.closed = new Promise((r) => (resolveClosed = r))
    socket.setNoDelay(true)
    socket.on('data', (buf: Uint8Array) => this.onData(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)))
    socket.on('end', () => this.sdkEnded())
    socket.on('error', () => this.sdkEnded())
    socket.on('close', () => {
      if (!this.destroyedByUs) this.closedBySdk = true
      this.isClosed = true
      const err = new HostileConnClosed('connection closed')
      for (const w of this.waiters.splice(0)) w.reject(err)
      resolveClosed()
    })
  }

  /** Bytes accepted by write() and not yet handed to the kernel. */
  get writableLength(): number {
    return this.socket.destroyed ? 0 : this.socket.writableLength
  }

  /** Run `script` on this connection; its report (if any) comes through `done`. */
  run(script: HostileScript, env: HostileEnv): void {
    this.done = script(this, env).then(
      (report) => report ?? undefined,
      (e: unknown) => {
        if (!(e instanceof HostileConnClosed)) this.scriptError = e
        return undefined
      },
    )
  }

  /**
   * Send raw bytes as one unit: a frame being dripped is never cut by
   * another (an auto-pong waits behind it, as behind any frame on a real
   * link). Resolves once the socket wants more (after 'drain' when its
   * buffer is full).
   */
  send(bytes: Uint8Array): Promise<void> {
    return this.exclusive(() => this.write(bytes))
  }

  /** Encode and send a message for this connection's network. */
  sendMessage(msg: KnownMessage): Promise<void> {
    return this.send(encodeMessage(msg, this.network))
  }

  /**
   * Send `bytes` one at a time, pausing `intervalMs` after each, as one
   * unit (see send); stops early once closed or stopped. Returns the bytes
   * sent.
   */
  drip(bytes: Uint8Array, intervalMs: number, pace: Pace): Promise<number> {
    return this.exclusive(async () => {
      let sent = 0
      for (let i = 0; i < bytes.length && !this.isClosed && !this.stopped; i++) {
        await this.write(bytes.subarray(i, i + 1))
        sent++
        await pace.sleep(intervalMs)
      }
      return sent
    })
  }

  /** Send `next(i)` for i = 0, 1, ... with backpressure until stopped or closed. Returns how many were sent. */
  async flood(next: (i: number) => Uint8Array): Promise<number> {
    let i = 0
    while (!this.isClosed && !this.stopped) await this.send(next(i++))
    return i
  }

  /** The next message from the SDK with this command (one already received and unclaimed first). */
  next<C extends Command>(command: C): Promise<MessageOf<C>> {
    const i = this.inbox.findIndex((m) => m.command === command)
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as MessageOf<C>)
    if (this.isClosed) return Promise.reject(new HostileConnClosed(`closed before ${command}`))
    return new Promise((resolve, reject) => this.waiters.push({ command, resolve: resolve as (m: Message) => void, reject }))
  }

  /** Call `cb` with every message from the SDK from now on. */
  watch(cb: (m: Message) => void): void {
    this.watchers.push(cb)
  }

  /** Stop reading (the SDK's writes back up into its own buffers). */
  pause(): void {
    this.socket.pause()
  }
  /** Read again (what was held back is read and decoded as usual). */
  resume(): void {
    this.socket.resume()
  }
  /** End flood and drip loops. */
  stop(): void {
    this.stopped = true
  }
  /** Close our end at once. */
  destroy(): void {
    this.destroyedByUs = !this.isClosed
    this.socket.destroy()
  }

  /** Run `fn` once every unit queued before it has been written. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.unit
    let release!: () => void
    this.unit = new Promise((r) => (release = r))
    await before
    try {
      return await fn()
    } finally {
      release()
    }
  }

  private async write(bytes: Uint8Array): Promise<void> {
    if (this.isClosed || this.socket.destroyed) return
    this.bytesOut += bytes.length
    if (this.socket.write(bytes)) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done)
        this.socket.off('close', done)
        resolve()
      }
      this.socket.on('drain', done)
      this.socket.on('close', done)
    })
  }

  private sdkEnded(): void {
    if (!this.destroyedByUs) this.closedBySdk = true
  }

  private onData(bytes: Uint8Array): void {
    this.bytesIn += bytes.length
    if (this.decodeError !== undefined) return
    for (const ev of this.decoder.push(bytes)) {
      if (ev.type === 'error' || ev.type === 'invalid') {
        this.decodeError = `${ev.type}: ${ev.error.code} ${ev.error.message}`
        return
      }
      if (ev.type !== 'message') continue
      this.onMessage(ev.message)
    }
  }

  private onMessage(m: Message): void {
    const command = m.command === 'unknown' ? m.rawCommand : m.command
    this.counts.set(command, (this.counts.get(command) ?? 0) + 1)
    if (m.command === 'ping' && this.answerPings) void this.sendMessage({ command: 'pong', nonce: m.nonce })
    for (const w of this.watchers) w(m)
    const i = this.waiters.findIndex((w) => w.command === m.command)
    if (i >= 0) {
      this.waiters.splice(i, 1)[0]!.resolve(m)
      return
    }
    this.inbox.push(m)
    if (this.inbox.length > INBOX_LIMIT) this.inbox.shift()
  }
}

/** Accepts our SDK's connections on loopback and plays the current mode on each. */
export class HostileServer {
  readonly address: PeerAddress
  private readonly server: Server
  private readonly network: NetworkParams
  private readonly open = new Set<HostileConn>()
  private script: { readonly run: HostileScript; readonly env: HostileEnv } | undefined
  private readonly arrived: HostileConn[] = []
  private readonly waiting: ((c: HostileConn) => void)[] = []
  /** Connections refused because they did not come from loopback. */
  refused = 0

  /** Listen on `host` (loopback only; default 127.0.0.1), port 0. */
  static listen(network: NetworkParams, host = LOOPBACK): Promise<HostileServer> {
    if (!isLoopback(host)) return Promise.reject(new Error(`hostile server: refusing to listen on non-loopback ${host}`))
    return new Promise((resolve, reject) => {
      const server = createServer({ allowHalfOpen: false })
      server.once('error', reject)
      server.listen({ host, port: 0 }, () => {
        server.off('error', reject)
        resolve(new HostileServer(server, network))
      })
    })
  }

  private constructor(server: Server, network: NetworkParams) {
    this.server = server
    this.network = network
    const a = server.address()
    if (a === null || typeof a === 'string') throw new Error('hostile server: not bound to a TCP address')
    this.address = { host: a.address, port: a.port }
    server.on('connection', (socket) => this.accept(socket))
  }

  /** Play `mode` on every connection accepted from now on. */
  play(mode: HostileMode, env: HostileEnv): void {
    this.script = { run: mode.script, env }
  }

  /** The next accepted connection (in arrival order). */
  nextConnection(): Promise<HostileConn> {
    const c = this.arrived.shift()
    if (c) return Promise.resolve(c)
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  /** Accepted sockets not yet closed. */
  get openConnections(): number {
    return this.open.size
  }

  /** Stop listening and destroy every open connection. */
  close(): Promise<void> {
    for (const c of this.open) c.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private accept(socket: Socket): void {
    if (!isLoopback(socket.remoteAddress ?? '')) {
      this.refused++
      socket.on('error', () => {})
      socket.destroy()
      return
    }
    const conn = new HostileConn(socket, 'server', this.network)
    this.open.add(conn)
    void conn.closed.then(() => this.open.delete(conn))
    if (this.script) conn.run(this.script.run, this.script.env)
    const w = this.waiting.shift()
    if (w) w(conn)
    else this.arrived.push(conn)
  }
}

/** Dial our listener at `addr` (loopback only) and play `mode` on it. */
export function dialHostile(addr: PeerAddress, mode: HostileMode, env: HostileEnv): Promise<HostileConn> {
  if (!isLoopback(addr.host)) return Promise.reject(new Error(`hostile client: refusing to dial non-loopback ${addr.host}`))
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: addr.host, port: addr.port, allowHalfOpen: false })
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.off('error', reject)
      const conn = new HostileConn(socket, 'client', env.network)
      conn.run(mode.script, env)
      resolve(conn)
    })
  })
}

// --- modes ---------------------------------------------------------------------------

/** What every script gets besides its connection. */
export interface HostileEnv {
  readonly network: NetworkParams
  /** How scripts wait (see the module comment). */
  readonly pace: Pace
  /** The block the tests ask for; block-drip serves it, tampered-block serves it altered. */
  readonly block: Block
  /** A different block: what wrong-block serves instead. */
  readonly otherBlock: Block
  /** Pause between dripped bytes (slow-handshake, block-drip), in the pace's ms. */
  readonly dripIntervalMs: number
  /** Pause between chatter messages (chatty-no-pong), in the pace's ms. */
  readonly chatterIntervalMs: number
}

/** A mode's behaviour on one connection; may report numbers back. */
export type HostileScript = (conn: HostileConn, env: HostileEnv) => Promise<HostileReport | void>

/** One hostile mode: what it does and the outcome the SDK must reach. */
export interface HostileMode {
  readonly name: string
  /** What the hostile peer does. */
  readonly does: string
  /** How the connection must end: a DisconnectReason kind, or 'stays-connected'. */
  readonly outcome: DisconnectKind | 'stays-connected'
  /** The outcome in full, as the tests assert it. */
  readonly expect: string
  readonly script: HostileScript
}

/** Outbound (the SDK dialled us): wait for its version before misbehaving. Inbound: nothing to wait for. */
async function afterTheirVersion(conn: HostileConn): Promise<void> {
  if (conn.role === 'server') await conn.next('version')
}

/** Our version nonce: fixed, never one of the SDK's (its nonces come from its seeded random). */
const HOSTILE_NONCE = 0x4057_11e0_0000_0001n

/** The version handshake, as an honest peer would do it; `verack: false` leaves it hanging. */
async function handshake(conn: HostileConn, opts: { readonly verack?: boolean } = {}): Promise<void> {
  const verack = opts.verack ?? true
  if (conn.role === 'server') await conn.next('version')
  await conn.sendMessage(hostileVersion(HOSTILE_NONCE))
  if (conn.role === 'client') await conn.next('version')
  if (!verack) return
  await conn.sendMessage({ command: 'verack' })
  await conn.next('verack')
}

/** `n` inventory items of type `type`, hashes derived from their index (deterministic). */
function invItems(n: number, type: number, salt: number): InvItem[] {
  const items: InvItem[] = []
  for (let i = 0; i < n; i++) {
    const hash = new Uint8Array(32)
    new DataView(hash.buffer).setUint32(0, i, true)
    new DataView(hash.buffer).setUint32(4, salt, true)
    items.push({ type, hash })
  }
  return items
}

/** MAX_HEADERS_RESULTS headers, chained among themselves, whose first prevBlock is in no locator. */
function nonConnectingHeaders(round: number): BlockHeader[] {
  const headers: BlockHeader[] = []
  let prev: Uint8Array = new Uint8Array(32).fill(0xee)
  new DataView(prev.buffer).setUint32(0, round, true)
  for (let i = 0; i < MAX_HEADERS_RESULTS; i++) {
    const h: BlockHeader = { version: 4, prevBlock: prev, merkleRoot: new Uint8Array(32), time: 1_700_000_000 + i, bits: 0x207fffff, nonce: i }
    headers.push(h)
    prev = blockHash(h)
  }
  return headers
}

/** `block` with its coinbase's first output worth one satoshi more: the header (and hash) unchanged, the merkle root wrong. */
export function tamper(block: Block): Block {
  const [coinbase, ...rest] = block.txs
  const [out0, ...outs] = coinbase!.outputs
  return { header: block.header, txs: [{ ...coinbase!, outputs: [{ ...out0!, value: out0!.value + 1n }, ...outs] }, ...rest] }
}

/** Answer every getdata with `reply(items)` until the connection ends. */
async function serveGetdata(conn: HostileConn, reply: (items: readonly InvItem[]) => Promise<unknown>): Promise<HostileReport> {
  let served = 0
  for (;;) {
    const req = await conn.next('getdata').catch((e: unknown) => {
      if (e instanceof HostileConnClosed) return undefined
      throw e
    })
    if (!req) return { served }
    await reply(req.items)
    served++
  }
}

/** A batch of PING_BATCH pings with nonces first+1 ... first+PING_BATCH. */
function pingBatch(network: NetworkParams, first: number): Uint8Array {
  const frames = []
  for (let i = 1; i <= PING_BATCH; i++) frames.push(encodeMessage({ command: 'ping', nonce: BigInt(first + i) }, network))
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0))
  let o = 0
  for (const f of frames) {
    out.set(f, o)
    o += f.length
  }
  return out
}

/**
 * Every hostile mode, in the order of issue 12 item 9, plus the variants
 * the tests need (never-version, oversize-command, chatty-no-pong,
 * ping-flood-unread). `outcome` and `expect` are what the SDK must do.
 */
export const HOSTILE_MODES = [
  {
    name: 'garbage',
    does: `answers our version with ${GARBAGE_BYTES} bytes of noise`,
    outcome: 'framing',
    expect: 'framing BAD_MAGIC at the first byte; offense wrong-network (0 points): misconfigured, not banned',
    script: async (conn) => {
      await afterTheirVersion(conn)
      await conn.send(noise(GARBAGE_BYTES))
    },
  },
  {
    name: 'bad-magic',
    does: 'answers with a well-formed mainnet version',
    outcome: 'framing',
    expect: 'framing BAD_MAGIC; offense wrong-network (0 points)',
    script: async (conn) => {
      await afterTheirVersion(conn)
      await conn.send(versionFrame(mainnet, HOSTILE_NONCE))
    },
  },
  {
    name: 'bad-checksum',
    does: 'answers with a version frame whose checksum has one bit flipped',
    outcome: 'framing',
    expect: 'framing BAD_CHECKSUM once the payload is in; offense bad-checksum (50 points)',
    script: async (conn, env) => {
      await afterTheirVersion(conn)
      await conn.send(withBadChecksum(encodeMessage(hostileVersion(HOSTILE_NONCE), env.network)))
    },
  },
  {
    name: 'oversize-length',
    does: "sends a block header announcing one byte more than the network's 4 MB message cap",
    outcome: 'framing',
    expect: 'framing OVERSIZE on the header alone (nothing buffered); offense oversized-message (100 points)',
    script: async (conn, env) => {
      await afterTheirVersion(conn)
      await conn.send(frameHeader(env.network.magic, 'block', env.network.maxMessageBytes + 1))
    },
  },
  {
    name: 'oversize-command',
    does: `sends a ping header announcing ${OVERSIZE_PING_LENGTH} bytes (a ping's cap is 8)`,
    outcome: 'framing',
    expect: 'framing OVERSIZE on the header alone; offense oversized-message (100 points)',
    script: async (conn, env) => {
      await afterTheirVersion(conn)
      await conn.send(frameHeader(env.network.magic, 'ping', OVERSIZE_PING_LENGTH))
    },
  },
  {
    name: 'never-version',
    does: 'accepts the connection and never says anything',
    outcome: 'handshake-timeout',
    expect: 'handshake-timeout in awaiting-version, waitedMs = the handshake deadline; unresponsive, never banned',
    script: async () => {},
  },
  {
    name: 'never-verack',
    does: 'sends its version, never its verack',
    outcome: 'handshake-timeout',
    expect: 'handshake-timeout in awaiting-verack, waitedMs = the handshake deadline',
    script: async (conn) => handshake(conn, { verack: false }),
  },
  {
    name: 'silent-pong',
    does: 'completes the handshake, then never answers a ping and sends nothing',
    outcome: 'ping-timeout',
    expect: "ping-timeout for our first ping's nonce, waitedMs = the pong idle deadline",
    script: async (conn) => {
      conn.answerPings = false
      await handshake(conn)
    },
  },
  {
    name: 'chatty-no-pong',
    does: 'never answers a ping but keeps the link busy with an inv every chatterIntervalMs',
    outcome: 'ping-timeout',
    expect: 'ping-timeout, waitedMs = the hard pong deadline (activity defers only the idle deadline)',
    script: async (conn, env) => {
      conn.answerPings = false
      await handshake(conn)
      let sent = 0
      while (!conn.isClosed && !conn.stopped) {
        await env.pace.sleep(env.chatterIntervalMs)
        await conn.sendMessage({ command: 'inv', items: invItems(1, InvType.MSG_TX, sent++) })
      }
      return { chatter: sent }
    },
  },
  {
    name: 'slow-handshake',
    does: 'sends its version and verack one byte at a time, dripIntervalMs apart',
    outcome: 'handshake-timeout',
    expect: 'handshake-timeout at the handshake deadline, counted from the start, not reset by each byte',
    script: async (conn, env) => {
      if (conn.role === 'server') await conn.next('version')
      const bytes = new Uint8Array([...encodeMessage(hostileVersion(HOSTILE_NONCE), env.network), ...encodeMessage({ command: 'verack' }, env.network)])
      const sent = await conn.drip(bytes, env.dripIntervalMs, env.pace)
      return { sent, total: bytes.length }
    },
  },
  {
    name: 'inv-flood',
    does: `sends inv messages of MAX_INV_SIZE (${MAX_INV_SIZE}) items nonstop`,
    outcome: 'stays-connected',
    expect: 'stays connected, not scored (a full inv is legal), memory bounded; our pings still answered',
    script: async (conn, env) => {
      await handshake(conn)
      const frame = encodeMessage({ command: 'inv', items: invItems(MAX_INV_SIZE, InvType.MSG_TX, 0) }, env.network)
      return { frames: await conn.flood(() => frame), frameBytes: frame.length }
    },
  },
  {
    name: 'addr-flood',
    does: `sends addr messages of MAX_ADDR_TO_SEND (${MAX_ADDR_TO_SEND}) addresses nonstop`,
    outcome: 'stays-connected',
    expect: 'stays connected, not scored (a full addr is legal; rate limiting is the pool\'s job), memory bounded',
    script: async (conn, env) => {
      await handshake(conn)
      const addrs = []
      for (let i = 0; i < MAX_ADDR_TO_SEND; i++) {
        addrs.push({ time: 1_700_000_000, services: 0x9n, host: ipFromString(`10.${(i >> 8) & 0xff}.${i & 0xff}.1`), port: 18444 })
      }
      const frame = encodeMessage({ command: 'addr', addresses: addrs }, env.network)
      return { frames: await conn.flood(() => frame), frameBytes: frame.length }
    },
  },
  {
    name: 'non-connecting-headers',
    does: `answers our getheaders with ${MAX_HEADERS_RESULTS} headers that connect to no locator hash, again and again`,
    outcome: 'misbehaving',
    expect: 'offense non-connecting-headers (20) per message: misbehaving at the fifth, score 100; the getheaders fails closed',
    script: async (conn, env) => {
      await handshake(conn)
      await conn.next('getheaders')
      let sent = 0
      while (!conn.isClosed && !conn.stopped) await conn.send(encodeMessage({ command: 'headers', headers: nonConnectingHeaders(sent++) }, env.network))
      return { sent }
    },
  },
  {
    name: 'huge-counts',
    does: 'sends inv, addr, headers, getheaders and tx payloads of a few bytes announcing counts up to 2^64-1',
    outcome: 'misbehaving',
    expect: 'each is too-many-items (20), nothing allocated by the count: misbehaving at the fifth, last too-many-items tx',
    script: async (conn, env) => {
      await handshake(conn)
      for (const f of hugeCountFrames(env.network.magic)) await conn.send(f.frame)
    },
  },
  {
    name: 'unknown-commands',
    does: `sends ${UNKNOWN_COMMAND_NAMES} unknown commands ${UNKNOWN_COMMAND_REPEATS} times each, then a ping`,
    outcome: 'stays-connected',
    expect: 'stays connected, never scored; counted (32 names, the rest under "(other)"); the ping after them is answered',
    script: async (conn, env) => {
      await handshake(conn)
      const payload = new Uint8Array(UNKNOWN_COMMAND_PAYLOAD).fill(0xab)
      let sent = 0
      for (let r = 0; r < UNKNOWN_COMMAND_REPEATS; r++) {
        for (let i = 0; i < UNKNOWN_COMMAND_NAMES; i++) {
          await conn.send(encodeFrame(env.network.magic, `hostile${String(i).padStart(2, '0')}`, payload))
          sent++
        }
      }
      const pong = new Promise<boolean>((resolve) => conn.watch((m) => m.command === 'pong' && m.nonce === UNKNOWN_MODE_PING_NONCE && resolve(true)))
      await conn.sendMessage({ command: 'ping', nonce: UNKNOWN_MODE_PING_NONCE })
      return { sent, pongEchoed: await pong }
    },
  },
  {
    name: 'wrong-block',
    does: 'answers a getdata for one block with a different (valid) block',
    outcome: 'stalled',
    expect: 'offense unsolicited-block (20) with the wrong hash; the getdata stalls at the data deadline (waitedMs = it) and disconnects',
    script: async (conn, env) => {
      await handshake(conn)
      return serveGetdata(conn, () => conn.sendMessage({ command: 'block', block: env.otherBlock }))
    },
  },
  {
    name: 'tampered-block',
    does: "answers a getdata with the block asked for, its coinbase's value changed (same header, wrong merkle root)",
    outcome: 'misbehaving',
    expect: 'Peer: the getdata resolves (the hash matches); BlockFetcher: invalid-block BAD_MERKLE_ROOT, the peer misbehaving score 100, last invalid-block',
    script: async (conn, env) => {
      await handshake(conn)
      const bad = tamper(env.block)
      return serveGetdata(conn, () => conn.sendMessage({ command: 'block', block: bad }))
    },
  },
  {
    name: 'ping-flood',
    does: `sends pings nonstop (nonces 1, 2, 3, ...), at most PING_FLOOD_WINDOW (${PING_FLOOD_WINDOW}) unanswered, and reads the pongs`,
    outcome: 'stays-connected',
    expect: 'every ping answered with its own nonce, in order; not scored; memory bounded',
    script: async (conn, env) => {
      await handshake(conn)
      let pongs = 0
      let outOfOrder = 0
      let wake: (() => void) | undefined
      conn.watch((m) => {
        if (m.command !== 'pong') return
        pongs++
        if (m.nonce !== BigInt(pongs)) outOfOrder++
        wake?.()
      })
      // Paced by our answers rather than by kernel buffers, so stopping it
      // leaves at most a window of pings in flight.
      const answered = (n: number): Promise<void> =>
        new Promise((resolve) => {
          wake = () => {
            if (pongs < n && !conn.isClosed) return
            wake = undefined
            resolve()
          }
          wake()
        })
      let pings = 0
      while (!conn.isClosed && !conn.stopped) {
        await answered(pings - PING_FLOOD_WINDOW)
        await conn.send(pingBatch(env.network, pings))
        pings += PING_BATCH
      }
      await answered(pings)
      return { pings, pongs, outOfOrder }
    },
  },
  {
    name: 'ping-flood-unread',
    does: 'never reads a byte: sends its version and verack unasked, then pings nonstop, so our pongs can only pile up',
    outcome: 'send-buffer-full',
    expect: 'send-buffer-full once buffered pongs pass maxSendBuffer (limit = it, buffered at most one pong over)',
    script: async (conn, env) => {
      // Not reading from the start also keeps the kernel from growing this
      // socket's receive buffer, so fewer pings fill the path.
      conn.pause()
      await conn.sendMessage(hostileVersion(HOSTILE_NONCE))
      await conn.sendMessage({ command: 'verack' })
      // Nobody reads the pongs: one batch of nonces, sent again and again.
      const batch = pingBatch(env.network, 0)
      const batches = await conn.flood(() => batch)
      return { pings: batches * PING_BATCH }
    },
  },
  {
    name: 'notfound',
    does: 'answers every getdata with a notfound for all of it',
    outcome: 'stays-connected',
    expect: 'getdata resolves at once with found [] and every item notFound; not scored; a BlockFetcher gives up after maxAttempts (exhausted)',
    script: async (conn) => {
      await handshake(conn)
      return serveGetdata(conn, (items) => conn.sendMessage({ command: 'notfound', items }))
    },
  },
  {
    name: 'block-drip',
    does: 'answers a getdata with the block asked for, one byte every dripIntervalMs',
    outcome: 'stalled',
    expect:
      'without streamBlocks: stalled at the data deadline from the getdata (waitedMs = it). With streamBlocks: every byte is progress, the request never stalls (SDK bug, reported)',
    script: async (conn, env) => {
      await handshake(conn)
      let dripped = 0
      const report = await serveGetdata(conn, async () => {
        dripped += await conn.drip(encodeMessage({ command: 'block', block: env.block }, env.network), env.dripIntervalMs, env.pace)
      })
      return { ...report, dripped }
    },
  },
] as const satisfies readonly HostileMode[]

/** The name of a mode in HOSTILE_MODES. */
export type HostileModeName = (typeof HOSTILE_MODES)[number]['name']

/** The mode called `name`. */
export function hostileMode(name: HostileModeName): HostileMode {
  const m = HOSTILE_MODES.find((x) => x.name === name)
  if (!m) throw new Error(`no hostile mode ${name}`)
  return m
}
