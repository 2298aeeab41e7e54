/**
 * An in-memory network of byte-stream transports on virtual time.
 *
 * `MockNetwork` hands out `Listener`s and `Connector`s that behave like TCP
 * as seen through the `Transport` interface, with every timing decided by
 * the virtual clock and every random choice drawn from one seeded stream, so
 * that the same seed and the same actions give a byte-identical trace.
 *
 * The model, per direction of a connection (a "pipe"):
 *
 * - Ordering: bytes arrive in the order sent, always. Jitter delays a
 *   transmission but never lets it overtake an earlier one.
 * - Timing: a send is first serialized at `bandwidth` bytes/s behind the
 *   sends before it (this is what `bufferedAmount` counts: bytes accepted by
 *   send() and not yet on the wire); it then arrives after `latency` plus a
 *   seeded jitter in [0, jitter). With unlimited bandwidth, bufferedAmount
 *   stays 0 except while the pipe is stalled by a partition.
 * - Chunking: with `maxChunk`, a send is delivered as pieces of seeded sizes
 *   in [1, maxChunk] (all at the same instant), to exercise push decoders.
 *   Sends are never merged. Zero-length sends are ignored.
 * - Loss: TCP never drops bytes from the middle of a stream, so loss is
 *   modelled as a reset: each send, with probability `loss`, is replaced by
 *   a reset that reaches the far end when that send would have arrived.
 *   Everything sent before it is delivered; then both ends close with
 *   kind 'reset'.
 * - Partitions: while two hosts are partitioned, their connections stall
 *   like a TCP connection over a dead path: new sends accumulate in the
 *   sender's buffer (bufferedAmount grows), and bytes already in flight are
 *   held. On `heal()` held bytes arrive one latency later, in order, and the
 *   buffers drain. With `resetAfter`, a connection still stalled that many ms
 *   after the partition began is reset instead (both ends, kind 'reset').
 *   Connection attempts across a partition are dropped silently (they end
 *   only by the caller's timeout or abort).
 * - Receive window: an end that has not registered onData yet keeps what
 *   arrives for it, but only up to the link's `receiveWindow` (default
 *   MOCK_RECEIVE_WINDOW_BYTES): the sender puts no more than that on the wire
 *   towards it (a send that does not fit goes partly, the rest waits), so
 *   the sender's bufferedAmount stays up and onDrain does not fire while the
 *   peer reads nothing. When the peer registers onData, what it kept is
 *   handed over first, then the waiting bytes flow in order and the sender
 *   drains. An end that reads consumes at once, so the window never limits
 *   a reading end (the mock does not model the window's cap on throughput).
 *   A send split by the window is two transmissions (two loss draws).
 * - Close: `close()` is graceful: queued bytes are still sent, then a FIN;
 *   the far end sees all of them, then closes with kind 'remote'. The closed
 *   end stops receiving at once, and its own onClose (no error) fires as a
 *   separate event at the same virtual time. Half-closed streams are not
 *   modelled: receiving a FIN closes that end too.
 * - Connect: the SYN takes one latency to reach the listener, which accepts
 *   at once (its onConnection fires); the SYN-ACK takes one more latency,
 *   and then connect() resolves. Nothing listening, or `refuse(addr)`, gives
 *   'connect-failed' after the round trip. `blackhole(addr)` or a partition
 *   drops the SYN, so only the caller's timeout ('timeout') or AbortSignal
 *   ('aborted', or 'timeout' if the signal's reason is a TimeoutError) ends
 *   the attempt. A client that gives up after the listener accepted resets
 *   the accepted end one latency later.
 * - Buffers are not copied: after `send(bytes)` the caller must not modify
 *   `bytes` (set `copyOnSend` to have the network copy them).
 *
 * Iteration order anywhere in the network comes from insertion order;
 * string keys (`host:port`) are used only for lookups.
 */
import { formatPeerAddress, SeededRandom, TransportError } from '@bitp2p/session'
import type { Connector, Listener, PeerAddress, Transport, TransportCloseKind } from '@bitp2p/session'
import { VirtualClock } from './scheduler.js'
import { Trace } from './trace.js'
import type { DeliverHook, TraceOptions } from './trace.js'

/**
 * A TransportError without a captured stack. A mock connection's close is
 * an event of virtual time: the stack an error would capture is only the
 * scheduler's run loop, and capturing one at every close cost about 3 % of
 * a 100,000-peer simulation's CPU. V8 and JavaScriptCore read
 * Error.stackTraceLimit when an error is made; elsewhere it is left alone.
 */
function closeError(...args: ConstructorParameters<typeof TransportError>): TransportError {
  const E = Error as { stackTraceLimit?: number }
  const limit = E.stackTraceLimit
  if (typeof limit !== 'number') return new TransportError(...args)
  E.stackTraceLimit = 0
  try {
    return new TransportError(...args)
  } finally {
    E.stackTraceLimit = limit
  }
}

/** Properties of the path between two hosts; each direction gets its own pipe with these values. */
export interface LinkOptions {
  /** One-way delay in ms. */
  readonly latency?: number
  /** Extra delay per transmission, uniform in [0, jitter) ms (seeded; order kept). */
  readonly jitter?: number
  /** Bytes per second per direction; Infinity for no serialization delay. */
  readonly bandwidth?: number
  /** Probability in [0, 1] that a send resets the connection (see the model above). */
  readonly loss?: number
  /** Largest piece a send is delivered in (seeded split); Infinity to deliver sends whole. */
  readonly maxChunk?: number
  /**
   * Bytes an end that is not reading (no onData yet) takes in before its
   * sender is held back, per direction (default MOCK_RECEIVE_WINDOW_BYTES).
   */
  readonly receiveWindow?: number
}

/** A link with every field set. */
export type ResolvedLink = { readonly [K in keyof LinkOptions]-?: number }

/**
 * Default receive window of a mock end, in bytes: Linux's ceiling for an
 * autotuned TCP receive buffer (net.ipv4.tcp_rmem max, 6 MiB), what a
 * loopback socket grows to. Bytes for an end that has not registered onData
 * collect up to this much; then the sender's buffer holds the rest.
 */
export const MOCK_RECEIVE_WINDOW_BYTES = 6 * 1024 * 1024

/** The link used between hosts with no `setLink` entry, unless `defaultLink` overrides fields. */
export const DEFAULT_LINK: ResolvedLink = Object.freeze({
  latency: 10,
  jitter: 0,
  bandwidth: Number.POSITIVE_INFINITY,
  loss: 0,
  maxChunk: Number.POSITIVE_INFINITY,
  receiveWindow: MOCK_RECEIVE_WINDOW_BYTES,
})

/** First ephemeral port handed out per host (IANA dynamic range). */
export const EPHEMERAL_PORT_FIRST = 49152
/** Last ephemeral port; allocation wraps around to EPHEMERAL_PORT_FIRST after it. */
export const EPHEMERAL_PORT_LAST = 65535

/** Options of `new MockNetwork`. */
export interface MockNetworkOptions {
  /** Seed of the network's random stream (jitter, loss, chunk splits). */
  readonly seed: number | string
  /** Fields overriding DEFAULT_LINK for every pair of hosts without `setLink`. */
  readonly defaultLink?: LinkOptions
  /** The clock to run on; a fresh VirtualClock by default. */
  readonly clock?: VirtualClock
  /** What the trace keeps (default: events and hash). */
  readonly trace?: TraceOptions
  /** Copy every buffer passed to send() (default false: callers must not reuse buffers). */
  readonly copyOnSend?: boolean
}

/** Options of `MockNetwork.connector`. */
export interface MockConnectorOptions {
  /** Give up a connect attempt after this many virtual ms, with kind 'timeout'. */
  readonly timeout?: number
}

/** Options of `MockNetwork.partition`. */
export interface PartitionOptions {
  /** Reset connections still stalled this many ms after the partition began. */
  readonly resetAfter?: number
}

function resolveLink(base: ResolvedLink, o: LinkOptions = {}): ResolvedLink {
  const link = {
    latency: o.latency ?? base.latency,
    jitter: o.jitter ?? base.jitter,
    bandwidth: o.bandwidth ?? base.bandwidth,
    loss: o.loss ?? base.loss,
    maxChunk: o.maxChunk ?? base.maxChunk,
    receiveWindow: o.receiveWindow ?? base.receiveWindow,
  }
  if (!(link.latency >= 0 && Number.isFinite(link.latency))) throw new RangeError(`latency must be finite and >= 0, got ${link.latency}`)
  if (!(link.jitter >= 0 && Number.isFinite(link.jitter))) throw new RangeError(`jitter must be finite and >= 0, got ${link.jitter}`)
  if (!(link.bandwidth > 0)) throw new RangeError(`bandwidth must be > 0, got ${link.bandwidth}`)
  if (!(link.loss >= 0 && link.loss <= 1)) throw new RangeError(`loss must be in [0, 1], got ${link.loss}`)
  if (!(link.maxChunk >= 1) || (Number.isFinite(link.maxChunk) && !Number.isInteger(link.maxChunk))) {
    throw new RangeError(`maxChunk must be an integer >= 1 or Infinity, got ${link.maxChunk}`)
  }
  if (!(link.receiveWindow >= 1) || (Number.isFinite(link.receiveWindow) && !Number.isInteger(link.receiveWindow))) {
    throw new RangeError(`receiveWindow must be an integer >= 1 or Infinity, got ${link.receiveWindow}`)
  }
  return Object.freeze(link)
}

// Control items travelling in a pipe next to data chunks; compared by identity.
const FIN = Object.freeze({ control: 'fin' })
const RST = Object.freeze({ control: 'rst' })
type Item = Uint8Array | typeof FIN | typeof RST

/** A FIFO queue with O(1) amortised shift. */
class Fifo<T> {
  #items: (T | undefined)[] = []
  #head = 0

  get size(): number {
    return this.#items.length - this.#head
  }

  push(x: T): void {
    this.#items.push(x)
  }

  peek(): T | undefined {
    return this.#items[this.#head]
  }

  /** Replace the first item (the queue must not be empty). */
  replaceHead(x: T): void {
    this.#items[this.#head] = x
  }

  shift(): T | undefined {
    const items = this.#items
    if (this.#head === items.length) return undefined
    const x = items[this.#head]
    items[this.#head++] = undefined
    if (this.#head === items.length) {
      items.length = 0
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= items.length) {
      this.#items = items.slice(this.#head)
      this.#head = 0
    }
    return x
  }

  clear(): void {
    this.#items = []
    this.#head = 0
  }
}

/**
 * One direction of a connection: the sender's buffer, the wire, and
 * deliveries. Internal to the network; exported only because
 * `MockTransport` and `MockConnection` reference it.
 */
export class Pipe {
  readonly #net: MockNetwork
  readonly #conn: MockConnection
  readonly #link: ResolvedLink
  readonly #finiteBandwidth: boolean
  src!: MockTransport
  dst!: MockTransport
  // Sender side: items accepted by send() and not yet on the wire (made on
  // first use: with unlimited bandwidth and no partition nothing waits).
  #backlog: Fifo<Item> | undefined
  buffered = 0
  #transmitting = false
  // Bytes of the head item being serialized (finite bandwidth): all of it,
  // or the part the receive window lets through.
  #serializing = 0
  // Receive window: data bytes put on the wire while `dst` had no onData.
  // All of them are still unread (an end without onData consumes nothing,
  // and once it reads it reads for good), so this is what fills the window.
  #unread = 0
  // Sending stopped on a full window; dst registering onData restarts it.
  #windowBlocked = false
  // Wire side: each item on the wire rides its own delivery event (the
  // event's argument), so the scheduler holds them in order. Arrivals
  // while stalled, and any that arrive after them, wait here until
  // delivered in order (made on first use).
  #held: Fifo<Item> | undefined
  // Delivery events scheduled by resume() for held items, not yet run.
  #heldEvents = 0
  lastArrival = 0
  stalled = false
  #dead = false
  // Bound once per pipe, so scheduling a delivery allocates no closure.
  readonly #deliver = (item: Item | undefined): void => this.#onDeliver(item)

  constructor(net: MockNetwork, conn: MockConnection, link: ResolvedLink) {
    this.#net = net
    this.#conn = conn
    this.#link = link
    this.#finiteBandwidth = Number.isFinite(link.bandwidth)
  }

  /**
   * @internal Accept bytes (or a FIN) from the sender. Internal because
   * `Item` (bytes or a control marker) is private to this module.
   */
  send(item: Item): void {
    if (this.#dead) return
    if (
      !this.#finiteBandwidth &&
      !this.stalled &&
      (this.#backlog === undefined || this.#backlog.size === 0) &&
      (item === FIN || this.#room() >= (item as Uint8Array).length)
    ) {
      this.#transmit(item)
      return
    }
    ;(this.#backlog ??= new Fifo<Item>()).push(item)
    if (item !== FIN) this.buffered += (item as Uint8Array).length
    this.#pump()
  }

  /** Stop the pipe for good: nothing more is sent or delivered. */
  kill(): void {
    this.#dead = true
    this.#backlog?.clear()
    this.#held?.clear()
    this.buffered = 0
  }

  /** Hold the pipe (a partition began): new sends wait in the backlog, arrivals are held until `resume()`. */
  stall(): void {
    this.stalled = true
  }

  /** Resume after a partition: held arrivals come one latency from now, then the backlog drains. */
  resume(): void {
    if (!this.stalled) return
    this.stalled = false
    if (this.#dead) return
    const clock = this.#net.clock
    const waiting = (this.#held?.size ?? 0) - this.#heldEvents
    if (waiting > 0) {
      let t = clock.now() + this.#link.latency
      if (t < this.lastArrival) t = this.lastArrival
      this.lastArrival = t
      for (let k = 0; k < waiting; k++) clock.callAt(t, this.#deliver, undefined)
      this.#heldEvents += waiting
    }
    this.#pump()
  }

  // Bytes the receive window lets onto the wire now: unlimited while the
  // far end reads.
  #room(): number {
    return this.dst._reading ? Number.POSITIVE_INFINITY : this.#link.receiveWindow - this.#unread
  }

  // How many bytes of the backlog's head may go on the wire now: all of it
  // (0 for a FIN), the part that fits the receive window, or -1 if the
  // window is full (then sending waits for the far end to read).
  #admit(head: Item): number {
    const size = head === FIN ? 0 : (head as Uint8Array).length
    if (size === 0) return 0
    const room = this.#room()
    if (room >= size) return size
    if (room > 0) return room
    this.#windowBlocked = true
    return -1
  }

  // Take `n` bytes off the backlog's head: the whole item, or its first `n`
  // bytes with the rest left as the new head.
  #takeHead(backlog: Fifo<Item>, n: number): Item {
    const head = backlog.peek()!
    if (head === FIN || (head as Uint8Array).length === n) return backlog.shift()!
    const bytes = head as Uint8Array
    backlog.replaceHead(bytes.subarray(n))
    return bytes.subarray(0, n)
  }

  #pump(): void {
    if (this.#transmitting || this.stalled || this.#dead) return
    const backlog = this.#backlog
    if (backlog === undefined || backlog.size === 0) return
    if (!this.#finiteBandwidth) {
      const had = this.buffered > 0
      while (backlog.size > 0) {
        const n = this.#admit(backlog.peek()!)
        if (n < 0) return
        const item = this.#takeHead(backlog, n)
        this.buffered -= n
        this.#transmit(item)
      }
      if (had) this.#drained()
      return
    }
    const size = this.#admit(backlog.peek()!)
    if (size < 0) return
    this.#serializing = size
    this.#transmitting = true
    const clock = this.#net.clock
    clock.callAt(clock.now() + (size * 1000) / this.#link.bandwidth, serialized, this)
  }

  /** @internal The head of the backlog is serialized (finite bandwidth): put it on the wire. */
  _onSerialized(): void {
    this.#transmitting = false
    if (this.#dead) return
    const backlog = this.#backlog!
    const n = this.#serializing
    const item = this.#takeHead(backlog, n)
    this.buffered -= n
    this.#transmit(item)
    if (backlog.size > 0) this.#pump()
    else this.#drained()
  }

  /**
   * @internal The far end registered onData: if sending waits on a full
   * window, resume it (as an event of its own, so the sender's onDrain
   * never runs inside the reader's onData() call).
   */
  _windowOpened(): void {
    if (!this.#windowBlocked) return
    this.#windowBlocked = false
    const clock = this.#net.clock
    clock.callAt(clock.now(), windowOpened, this)
  }

  /** @internal */
  _resumeSending(): void {
    this.#pump()
  }

  #drained(): void {
    if (this.buffered === 0) this.src._drained()
  }

  // Put one item on the wire now; it arrives after latency + jitter, never
  // before the item ahead of it.
  #transmit(item: Item): void {
    const net = this.#net
    const link = this.#link
    const rng = net.random
    if (item !== FIN && !this.dst._reading) this.#unread += (item as Uint8Array).length
    if (item !== FIN && link.loss > 0 && rng.float() < link.loss) item = RST
    let t = net.clock.now() + link.latency
    if (link.jitter > 0) t += rng.float() * link.jitter
    if (t < this.lastArrival) t = this.lastArrival
    this.lastArrival = t
    const clock = net.clock
    if (item !== FIN && item !== RST && (item as Uint8Array).length > link.maxChunk) {
      const bytes = item as Uint8Array
      let off = 0
      while (off < bytes.length) {
        const left = bytes.length - off
        const size = 1 + rng.int(left < link.maxChunk ? left : link.maxChunk)
        clock.callAt(t, this.#deliver, bytes.subarray(off, off + size))
        off += size
      }
      return
    }
    clock.callAt(t, this.#deliver, item)
  }

  // One delivery event: `item` is the item it carries (undefined for an
  // event resume() scheduled). Items reach the far end in the order they
  // were transmitted: the oldest held item goes first.
  #onDeliver(item: Item | undefined): void {
    if (this.#dead) return
    const held = this.#held
    if (item === undefined) this.#heldEvents--
    else if (this.stalled || (held !== undefined && held.size > 0)) (this.#held ??= new Fifo<Item>()).push(item)
    if (this.stalled) return
    const next = item === undefined || (held !== undefined && held.size > 0) ? held!.shift() : item
    if (next === undefined) return
    if (next === FIN) this.dst._receiveFin()
    else if (next === RST) this.#conn.reset()
    else this.dst._receiveData(next as Uint8Array)
  }
}

// The serialization event of a pipe (one function for all pipes: no closure per pipe).
function serialized(p: Pipe): void {
  p._onSerialized()
}

// The event that restarts a pipe held by a full receive window.
function windowOpened(p: Pipe): void {
  p._resumeSending()
}

// States of one end. A client end is Connecting until the SYN-ACK arrives;
// it is handed to the caller only once Open.
const CONNECTING = 0
const OPEN = 1
const CLOSED = 2


/**
 * One end of a mock connection. Implements `Transport`; the extra members
 * (`local`, `connection`, `isClient`) are for tests and fault injection.
 */
export class MockTransport implements Transport {
  /** The far end's address. */
  readonly remote: PeerAddress
  /** This end's address. */
  readonly local: PeerAddress
  /** The connection this end belongs to. */
  readonly connection: MockConnection
  /** True for the end that called connect(). */
  readonly isClient: boolean
  /** @internal `host:port` of each end, for the trace. */
  readonly _localName: string
  /** @internal */
  readonly _remoteName: string
  /** @internal The pipe this end sends into. */
  _out!: Pipe
  /** @internal The pipe this end receives from. */
  _in!: Pipe
  /** @internal */
  _state: 0 | 1 | 2
  readonly #net: MockNetwork
  #onData: ((bytes: Uint8Array) => void) | undefined
  #onClose: ((err?: TransportError) => void) | undefined
  #onDrain: (() => void) | undefined
  // Data delivered before onData was registered.
  #inbox: Uint8Array[] | undefined
  #closeDue = false
  #closeFired = false
  #closeErr: TransportError | undefined
  #flushScheduled = false
  readonly #flush = (): void => {
    this.#flushScheduled = false
    this.#flushNow()
  }

  /** @internal Created by MockNetwork only. */
  constructor(net: MockNetwork, conn: MockConnection, isClient: boolean, local: PeerAddress, remote: PeerAddress) {
    this.#net = net
    this.connection = conn
    this.isClient = isClient
    this.local = local
    this.remote = remote
    this._localName = formatPeerAddress(local)
    this._remoteName = formatPeerAddress(remote)
    this._state = isClient ? CONNECTING : OPEN
  }

  /** True until this end has closed (for any reason). */
  get isOpen(): boolean {
    return this._state === OPEN
  }

  get bufferedAmount(): number {
    return this._state === CLOSED ? 0 : this._out.buffered
  }

  /**
   * Queue `bytes` for the far end (see the module comment for timing, chunking
   * and loss). Ignored when this end is not open or `bytes` is empty. Not
   * copied unless the network has `copyOnSend`: do not modify `bytes` after.
   */
  send(bytes: Uint8Array): void {
    if (this._state !== OPEN || bytes.length === 0) return
    this._out.send(this.#net._copy ? bytes.slice() : bytes)
  }

  /**
   * Close gracefully: queued bytes still go out, then a FIN. onClose fires
   * with no error for close(), and with a TransportError of kind 'local'
   * carrying `reason` as its cause for close(reason) (as every transport
   * does: the transport compliance suite checks it). Idempotent.
   */
  close(reason?: unknown): void {
    if (this._state === CLOSED) return
    this._state = CLOSED
    this.#inbox = undefined
    this._out.send(FIN)
    const err = reason === undefined ? undefined : closeError('local', `closed by ${this._localName}`, reason)
    this.#setCloseDue(err, 'local')
    this.connection._endClosed()
    this.#scheduleFlush()
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.#onData = cb
    if (this.#inbox !== undefined) this.#scheduleFlush()
    // Reading now: a sender held back by this end's receive window goes on.
    this._in._windowOpened()
  }

  /** @internal Whether this end consumes what arrives (onData registered): its receive window is then always open. */
  get _reading(): boolean {
    return this.#onData !== undefined
  }

  onClose(cb: (err?: TransportError) => void): void {
    this.#onClose = cb
    if (this.#closeDue && !this.#closeFired) this.#scheduleFlush()
  }

  onDrain(cb: () => void): void {
    this.#onDrain = cb
  }

  /** @internal The client end became usable (SYN-ACK arrived). */
  _establish(): void {
    this._state = OPEN
    this.#net._traced(this.connection.id, 'connect', this._remoteName, this._localName, 0, undefined, undefined)
  }

  /** @internal */
  _receiveData(bytes: Uint8Array): void {
    if (this._state !== OPEN) return
    this.#net._traced(this.connection.id, 'data', this._remoteName, this._localName, bytes.length, undefined, bytes)
    if (this.#onData !== undefined && this.#inbox === undefined) this.#onData(bytes)
    else (this.#inbox ??= []).push(bytes)
  }

  /** @internal The far end closed cleanly. */
  _receiveFin(): void {
    if (this._state !== OPEN) return
    this.#closeNetwork(closeError('remote', `${this._remoteName} closed the connection`))
  }

  /** @internal Reset by the network; a client end still connecting closes without notice. */
  _reset(): void {
    if (this._state === CLOSED) return
    if (this._state === CONNECTING) {
      this._state = CLOSED
      this._out.kill()
      return
    }
    this.#closeNetwork(closeError('reset', `connection to ${this._remoteName} reset`))
  }

  /** @internal The pipe this end sends into has emptied its buffer. */
  _drained(): void {
    if (this._state === OPEN && this.#onDrain !== undefined) this.#onDrain()
  }

  #closeNetwork(err: TransportError): void {
    this._state = CLOSED
    this._out.kill()
    this.#setCloseDue(err, err.code)
    this.connection._endClosed()
    // Already inside a network event: notify now, after any buffered data.
    this.#flushNow()
  }

  #setCloseDue(err: TransportError | undefined, kind: TransportCloseKind): void {
    this.#closeDue = true
    this.#closeErr = err
    this.#net._traced(this.connection.id, 'close', this._remoteName, this._localName, 0, kind, undefined)
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    const clock = this.#net.clock
    clock.callAt(clock.now(), this.#flush, undefined)
  }

  // Hand buffered data to onData, then the close to onClose, as far as
  // handlers are registered. Data still buffered when the close is
  // delivered (no onData registered) is dropped.
  #flushNow(): void {
    const inbox = this.#inbox
    if (inbox !== undefined && this.#onData !== undefined) {
      this.#inbox = undefined
      for (let i = 0; i < inbox.length; i++) this.#onData(inbox[i])
    }
    if (this.#closeDue && !this.#closeFired && this.#onClose !== undefined) {
      this.#closeFired = true
      this.#inbox = undefined
      this.#onClose(this.#closeErr)
    }
  }
}

/** A connection: two ends and the two pipes between them. */
export class MockConnection {
  /** Id shared with the connect attempt and used in the trace. */
  readonly id: number
  /** The end that called connect(). */
  readonly client: MockTransport
  /** The end handed to the listener. */
  readonly server: MockTransport
  /** @internal */
  readonly _pipes: readonly [Pipe, Pipe]
  readonly #net: MockNetwork
  #live = true

  /** @internal Created by MockNetwork only. */
  constructor(net: MockNetwork, id: number, link: ResolvedLink, clientAddr: PeerAddress, serverAddr: PeerAddress) {
    this.#net = net
    this.id = id
    this.client = new MockTransport(net, this, true, clientAddr, serverAddr)
    this.server = new MockTransport(net, this, false, serverAddr, clientAddr)
    const up = new Pipe(net, this, link)
    const down = new Pipe(net, this, link)
    up.src = down.dst = this.client
    up.dst = down.src = this.server
    this.client._out = this.server._in = up
    this.server._out = this.client._in = down
    this._pipes = [up, down]
  }

  /** False once both ends have closed or the connection was reset. */
  get isLive(): boolean {
    return this.#live
  }

  /** Reset now: both ends close with kind 'reset'; data in flight is lost. */
  reset(): void {
    if (!this.#live) return
    this._pipes[0].kill()
    this._pipes[1].kill()
    this.client._reset()
    this.server._reset()
    this.#release()
  }

  /** Stop delivering in both directions without closing either end. */
  dropSilently(): void {
    this._pipes[0].kill()
    this._pipes[1].kill()
  }

  /** @internal */
  _setStalled(stalled: boolean): void {
    for (const p of this._pipes) {
      if (stalled) p.stall()
      else p.resume()
    }
  }

  /** @internal */
  get _stalled(): boolean {
    return this._pipes[0].stalled
  }

  /** @internal One end closed; release when both are. */
  _endClosed(): void {
    if (this.client._state === CLOSED && this.server._state === CLOSED) this.#release()
  }

  #release(): void {
    if (!this.#live) return
    this.#live = false
    this.#net._forget(this)
  }
}

/** A listening address on the mock network. */
export class MockListener implements Listener {
  readonly address: PeerAddress
  readonly #net: MockNetwork
  #cb: ((t: Transport) => void) | undefined
  #queue: MockTransport[] = []
  #closed = false
  readonly #flush = (): void => {
    const q = this.#queue
    this.#queue = []
    for (const t of q) this.#cb!(t)
  }

  /** @internal Created by MockNetwork.listen only. */
  constructor(net: MockNetwork, address: PeerAddress) {
    this.#net = net
    this.address = address
  }

  onConnection(cb: (t: Transport) => void): void {
    this.#cb = cb
    if (this.#queue.length > 0) this.#net.clock.callAt(this.#net.clock.now(), this.#flush, undefined)
  }

  /** Stop accepting. Established connections stay open. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      this.#net._unlisten(this)
    }
    return Promise.resolve()
  }

  /** @internal */
  _accept(t: MockTransport): void {
    if (this.#cb !== undefined && this.#queue.length === 0) this.#cb(t)
    else this.#queue.push(t)
  }
}

/** Opens connections from one host of the mock network. */
export class MockConnector implements Connector {
  /** The host connections are made from. */
  readonly host: string
  readonly #net: MockNetwork
  readonly #timeout: number | undefined

  /** @internal Created by MockNetwork.connector only. */
  constructor(net: MockNetwork, host: string, options: MockConnectorOptions) {
    this.#net = net
    this.host = host
    this.#timeout = options.timeout
  }

  /**
   * Connect to `addr` on virtual time: resolves after one round trip, or
   * rejects with TransportError 'connect-failed' (nothing listening, refused),
   * 'timeout' (the connector's `timeout`) or 'aborted' (`signal`). A
   * blackholed or partitioned target never answers: only a timeout or the
   * signal ends the attempt.
   */
  connect(addr: PeerAddress, signal?: AbortSignal): Promise<Transport> {
    return this.#net._connect(this.host, addr, signal, this.#timeout)
  }
}

// State of one connect() call until it settles.
interface Attempt {
  readonly id: number
  readonly local: PeerAddress
  readonly target: PeerAddress
  readonly link: ResolvedLink
  readonly resolve: (t: Transport) => void
  readonly reject: (e: TransportError) => void
  settled: boolean
  conn: MockConnection | undefined
  cancelTimer: (() => void) | undefined
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

interface Partition {
  readonly a: ReadonlySet<string>
  readonly b: ReadonlySet<string>
}

/** The simulated network. See the module comment for the model. */
export class MockNetwork {
  /** Virtual time of this network. */
  readonly clock: VirtualClock
  /** The network's seeded random stream. */
  readonly random: SeededRandom
  /** Everything delivered so far. */
  readonly trace: Trace
  /** @internal */
  readonly _copy: boolean
  readonly #defaultLink: ResolvedLink
  readonly #links = new Map<string, ResolvedLink>()
  readonly #listeners = new Map<string, MockListener>()
  readonly #refused = new Set<string>()
  readonly #blackholed = new Set<string>()
  readonly #ports = new Map<string, number>()
  readonly #live = new Map<number, MockConnection>()
  #partitions: Partition[] = []
  #partitionEpoch = 0
  #nextConnId = 1
  #nextHost = 1

  constructor(options: MockNetworkOptions) {
    this.clock = options.clock ?? new VirtualClock()
    this.random = new SeededRandom(options.seed)
    this.trace = new Trace(options.trace)
    this._copy = options.copyOnSend ?? false
    this.#defaultLink = resolveLink(DEFAULT_LINK, options.defaultLink)
  }

  /** Current virtual time. */
  now(): number {
    return this.clock.now()
  }

  /** Running hash of the trace (hex SHA-256). */
  traceHash(): string {
    return this.trace.hash()
  }

  /** Observe (and label) every delivered event. See `DeliverHook`. */
  onDeliver(cb: DeliverHook): void {
    this.trace.onDeliver(cb)
  }

  /** Use `link` (fields over the network's default) for connections between two hosts, made from now on. */
  setLink(hostA: string, hostB: string, link: LinkOptions): void {
    const resolved = resolveLink(this.#defaultLink, link)
    this.#links.set(`${hostA}\n${hostB}`, resolved)
    this.#links.set(`${hostB}\n${hostA}`, resolved)
  }

  /** The link between two hosts. */
  linkBetween(hostA: string, hostB: string): ResolvedLink {
    return this.#links.get(`${hostA}\n${hostB}`) ?? this.#defaultLink
  }

  /**
   * Listen on `addr`; port 0 picks the host's next ephemeral port.
   * @throws Error if something already listens there.
   */
  listen(addr: PeerAddress): MockListener {
    const address = addr.port === 0 ? { host: addr.host, port: this.#ephemeralPort(addr.host) } : { host: addr.host, port: addr.port }
    const key = formatPeerAddress(address)
    if (this.#listeners.has(key)) throw new Error(`MockNetwork.listen: ${key} is already in use`)
    const l = new MockListener(this, address)
    this.#listeners.set(key, l)
    return l
  }

  /** A connector for `fromHost` (default: a fresh host address from 198.18.0.0/15). */
  connector(fromHost?: string, options: MockConnectorOptions = {}): MockConnector {
    return new MockConnector(this, fromHost ?? this.#freshHost(), options)
  }

  /** Refuse (true) or stop refusing (false) connections to `addr`, even while something listens. */
  refuse(addr: PeerAddress, on = true): void {
    if (on) this.#refused.add(formatPeerAddress(addr))
    else this.#refused.delete(formatPeerAddress(addr))
  }

  /** Silently drop (true) or stop dropping (false) connection attempts to `addr`. */
  blackhole(addr: PeerAddress, on = true): void {
    if (on) this.#blackholed.add(formatPeerAddress(addr))
    else this.#blackholed.delete(formatPeerAddress(addr))
  }

  /** Partition hosts in `groupA` from hosts in `groupB` until `heal()`. */
  partition(groupA: readonly string[], groupB: readonly string[], options: PartitionOptions = {}): void {
    this.#partitions.push({ a: new Set(groupA), b: new Set(groupB) })
    const epoch = this.#partitionEpoch
    const resetAfter = options.resetAfter
    for (const conn of this.#live.values()) {
      if (conn._stalled || !this.#partitioned(conn.client.local.host, conn.server.local.host)) continue
      conn._setStalled(true)
      if (resetAfter !== undefined) {
        this.clock.callAt(this.clock.now() + Math.max(0, resetAfter), (c: MockConnection) => {
          if (this.#partitionEpoch === epoch && c._stalled) c.reset()
        }, conn)
      }
    }
  }

  /** End every partition; stalled connections resume. */
  heal(): void {
    this.#partitions = []
    this.#partitionEpoch++
    for (const conn of this.#live.values()) if (conn._stalled) conn._setStalled(false)
  }

  /** Reset `target` (a connection or either of its ends) at virtual time `time`. */
  resetAt(time: number, target: MockConnection | MockTransport): void {
    this.clock.callAt(time, (c: MockConnection) => c.reset(), connOf(target))
  }

  /** From virtual time `time`, deliver nothing more on `target`, and do not close it. */
  dropSilentlyAt(time: number, target: MockConnection | MockTransport): void {
    this.clock.callAt(time, (c: MockConnection) => c.dropSilently(), connOf(target))
  }

  /**
   * Close one end at virtual time `time`, as if it called close(): the given
   * transport, or for a connection the end named by `side` (default client).
   */
  closeAt(time: number, target: MockConnection | MockTransport, side: 'client' | 'server' = 'client'): void {
    const end = target instanceof MockTransport ? target : side === 'client' ? target.client : target.server
    this.clock.callAt(time, (t: MockTransport) => t.close(), end)
  }

  /** Live connections, oldest first. */
  connections(): MockConnection[] {
    return [...this.#live.values()]
  }

  /** @internal */
  _unlisten(l: MockListener): void {
    const key = formatPeerAddress(l.address)
    if (this.#listeners.get(key) === l) this.#listeners.delete(key)
  }

  /** @internal */
  _forget(conn: MockConnection): void {
    this.#live.delete(conn.id)
  }

  /** @internal Record a delivery in the trace, if anything observes it. */
  _traced(
    conn: number,
    kind: 'connect' | 'data' | 'close',
    from: string,
    to: string,
    size: number,
    reason: TransportCloseKind | undefined,
    bytes: Uint8Array | undefined,
  ): void {
    const trace = this.trace
    if (trace.active) trace.deliver(this.clock.now(), conn, kind, from, to, size, reason, bytes)
  }

  /** @internal MockConnector.connect. */
  _connect(fromHost: string, target: PeerAddress, signal: AbortSignal | undefined, timeout: number | undefined): Promise<Transport> {
    const id = this.#nextConnId++
    const local: PeerAddress = { host: fromHost, port: this.#ephemeralPort(fromHost) }
    const targetAddr: PeerAddress = { host: target.host, port: target.port }
    if (signal?.aborted) {
      const err = abortError(signal)
      this._traced(id, 'close', formatPeerAddress(targetAddr), formatPeerAddress(local), 0, err.code, undefined)
      return Promise.reject(err)
    }
    return new Promise<Transport>((resolve, reject) => {
      const a: Attempt = {
        id,
        local,
        target: targetAddr,
        link: this.linkBetween(fromHost, target.host),
        resolve,
        reject,
        settled: false,
        conn: undefined,
        cancelTimer: undefined,
        signal,
        onAbort: undefined,
      }
      if (signal !== undefined) {
        a.onAbort = () => this.#giveUp(a, abortError(signal))
        signal.addEventListener('abort', a.onAbort, { once: true })
      }
      if (timeout !== undefined) {
        a.cancelTimer = this.clock.setTimer(timeout, () =>
          this.#giveUp(a, new TransportError('timeout', `connect to ${formatPeerAddress(targetAddr)} timed out after ${timeout} ms`)),
        )
      }
      this.clock.callAt(this.clock.now() + a.link.latency, this.#synArrives, a)
    })
  }

  readonly #synArrives = (a: Attempt): void => {
    if (a.settled) return
    const key = formatPeerAddress(a.target)
    if (this.#blackholed.has(key) || this.#partitioned(a.local.host, a.target.host)) return
    const listener = this.#listeners.get(key)
    if (listener === undefined || this.#refused.has(key)) {
      this.clock.callAt(this.clock.now() + a.link.latency, this.#rstArrives, a)
      return
    }
    const conn = new MockConnection(this, a.id, a.link, a.local, listener.address)
    a.conn = conn
    this.#live.set(conn.id, conn)
    const synAckAt = this.clock.now() + a.link.latency
    // The server's first bytes must not arrive before the SYN-ACK.
    conn._pipes[1].lastArrival = synAckAt
    this.clock.callAt(synAckAt, this.#synAckArrives, a)
    this._traced(conn.id, 'connect', conn.client._localName, conn.server._localName, 0, undefined, undefined)
    listener._accept(conn.server)
  }

  readonly #synAckArrives = (a: Attempt): void => {
    if (a.settled) return
    const conn = a.conn!
    // If the server end closed meanwhile, its FIN follows the SYN-ACK: the
    // client sees the connection open, then closed.
    if (this.#partitioned(a.local.host, a.target.host)) return
    if (conn.client._state !== CONNECTING) {
      // Reset (resetAt, loss) before the handshake completed.
      this.#fail(a, new TransportError('connect-failed', `connection to ${formatPeerAddress(a.target)} reset during connect`))
      return
    }
    this.#settle(a)
    conn.client._establish()
    a.resolve(conn.client)
  }

  readonly #rstArrives = (a: Attempt): void => {
    if (a.settled) return
    this.#fail(a, new TransportError('connect-failed', `connection to ${formatPeerAddress(a.target)} refused`))
  }

  #giveUp(a: Attempt, err: TransportError): void {
    if (a.settled) return
    this.#fail(a, err)
    const conn = a.conn
    if (conn !== undefined) {
      // The listener already accepted: our RST reaches it one latency later.
      conn.client._reset()
      this.clock.callAt(this.clock.now() + a.link.latency, (c: MockConnection) => c.reset(), conn)
    }
  }

  #fail(a: Attempt, err: TransportError): void {
    this.#settle(a)
    this._traced(a.id, 'close', formatPeerAddress(a.target), formatPeerAddress(a.local), 0, err.code, undefined)
    a.reject(err)
  }

  #settle(a: Attempt): void {
    a.settled = true
    a.cancelTimer?.()
    if (a.onAbort !== undefined) a.signal!.removeEventListener('abort', a.onAbort)
    this.clock.requestSettle()
  }

  #partitioned(h1: string, h2: string): boolean {
    for (const p of this.#partitions) {
      if ((p.a.has(h1) && p.b.has(h2)) || (p.a.has(h2) && p.b.has(h1))) return true
    }
    return false
  }

  #ephemeralPort(host: string): number {
    const port = this.#ports.get(host) ?? EPHEMERAL_PORT_FIRST
    this.#ports.set(host, port === EPHEMERAL_PORT_LAST ? EPHEMERAL_PORT_FIRST : port + 1)
    return port
  }

  // 198.18.0.0/15 is reserved for benchmarking (RFC 2544): never a real peer.
  #freshHost(): string {
    const n = this.#nextHost++
    if (n >= 2 ** 17) throw new Error('MockNetwork: out of generated host addresses; pass fromHost')
    return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`
  }
}

function connOf(target: MockConnection | MockTransport): MockConnection {
  return target instanceof MockTransport ? target.connection : target
}

function abortError(signal: AbortSignal): TransportError {
  const reason: unknown = signal.reason
  const timedOut = typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError'
  return timedOut
    ? new TransportError('timeout', 'connect timed out (signal)', reason)
    : new TransportError('aborted', 'connect aborted', reason)
}
