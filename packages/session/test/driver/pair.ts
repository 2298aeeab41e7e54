/**
 * A tiny in-memory transport pair on a fake clock, for driver tests: bytes
 * sent on one end arrive at the other `latency` ms later, in order.
 * `pause()` stops one end's delivery (its bufferedAmount grows) until
 * `resume()`, which delivers and fires onDrain.
 */
import type { Cancel, Clock, Connector, PeerAddress, Transport } from '../../src/core/ports.js'
import { TransportError } from '../../src/core/ports.js'

/** Timers run in (time, sequence) order. */
export class FakeClock implements Clock {
  private t = 0
  private seq = 0
  private timers: { at: number; seq: number; cb: () => void; live: boolean }[] = []
  now(): number {
    return this.t
  }
  setTimer(ms: number, cb: () => void): Cancel {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, cb, live: true }
    this.timers.push(timer)
    return () => {
      timer.live = false
    }
  }
  /** Live timers. */
  get pending(): number {
    return this.timers.filter((t) => t.live).length
  }
  /** Run every timer due within `ms`, each at its own time. */
  advance(ms: number): void {
    const target = this.t + ms
    for (;;) {
      this.timers = this.timers.filter((t) => t.live)
      let next: (typeof this.timers)[0] | undefined
      for (const t of this.timers) if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t
      if (!next) break
      next.live = false
      this.t = Math.max(this.t, next.at)
      next.cb()
    }
    this.t = target
  }
}

export class PipeEnd implements Transport {
  other!: PipeEnd
  readonly remote: PeerAddress
  /** Every chunk this end sent, for inspection. */
  readonly sentChunks: Uint8Array[] = []
  private dataCb: (b: Uint8Array) => void = () => {}
  private closeCb: (e?: TransportError) => void = () => {}
  private drainCb: () => void = () => {}
  private held: Uint8Array[] = []
  private paused = false
  private closedFlag = false
  bufferedAmount = 0

  constructor(
    private readonly clock: FakeClock,
    remote: PeerAddress,
    private readonly latency: number,
  ) {
    this.remote = remote
  }

  get isClosed(): boolean {
    return this.closedFlag
  }

  send(bytes: Uint8Array): void {
    if (this.closedFlag) return
    this.sentChunks.push(bytes)
    if (this.paused) {
      this.held.push(bytes)
      this.bufferedAmount += bytes.length
      return
    }
    this.clock.setTimer(this.latency, () => this.other.deliver(bytes))
  }
  private deliver(bytes: Uint8Array): void {
    if (!this.closedFlag) this.dataCb(bytes)
  }
  pause(): void {
    this.paused = true
  }
  resume(): void {
    this.paused = false
    const held = this.held
    this.held = []
    this.bufferedAmount = 0
    for (const b of held) this.clock.setTimer(this.latency, () => this.other.deliver(b))
    if (held.length > 0) this.drainCb()
  }
  close(): void {
    if (this.closedFlag) return
    this.closedFlag = true
    this.closeCb()
    // The other side learns of it after the latency, as a clean remote close.
    this.clock.setTimer(this.latency, () => this.other.remoteClosed())
  }
  private remoteClosed(): void {
    if (this.closedFlag) return
    this.closedFlag = true
    this.closeCb(new TransportError('remote', 'closed by peer'))
  }
  onData(cb: (b: Uint8Array) => void): void {
    this.dataCb = cb
  }
  onClose(cb: (e?: TransportError) => void): void {
    this.closeCb = cb
  }
  onDrain(cb: () => void): void {
    this.drainCb = cb
  }
}

/** Two connected ends: `a` is the dialer's, `b` the listener's. */
export function pipePair(clock: FakeClock, latency = 5): { a: PipeEnd; b: PipeEnd } {
  const a = new PipeEnd(clock, { host: '10.0.0.2', port: 8333 }, latency)
  const b = new PipeEnd(clock, { host: '10.0.0.1', port: 50000 }, latency)
  a.other = b
  b.other = a
  return { a, b }
}

/** A connector that hands out `end` (or fails with `error`). */
export function connectorFor(end: PipeEnd | TransportError): Connector {
  return {
    connect: async () => {
      if (end instanceof TransportError) throw end
      return end
    },
  }
}

/**
 * A dialler's connector to a listener: each connect makes a fresh pipe pair
 * and hands the listener's end to `accept` (so a second attempt, e.g. a v1
 * fallback, gets a connection of its own).
 */
export function listenerConnector(clock: FakeClock, accept: (end: PipeEnd) => void, latency = 5): Connector & { readonly connections: number } {
  let connections = 0
  return {
    get connections() {
      return connections
    },
    connect: async () => {
      connections++
      const { a, b } = pipePair(clock, latency)
      accept(b)
      return a
    },
  }
}
