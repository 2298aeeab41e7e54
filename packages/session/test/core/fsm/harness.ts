/**
 * A test harness in the manner of nakamoto's tests/peer.rs: one PeerMachine,
 * a virtual "now", and helpers that read as the protocol:
 *   h.received(msg)   the peer sent us msg
 *   h.elapse(ms)      time passes; every deadline on the way fires, in order
 *   h.sent()          what we sent since the last look
 *   h.events()        what we reported since the last look
 *   h.disconnected()  the disconnect reason, if we hung up
 */
import {
  PROTOCOL_VERSION,
  Services,
  type BlockHeader,
  type KnownMessage,
  type Message,
  type MessageEvent,
  type MessageOf,
} from '@bitp2p/wire'
import { IP_BYTES } from '@bitp2p/wire/limits'
import { SeededRandom } from '../../../src/core/random.js'
import type { PeerAction, PeerEvent } from '../../../src/core/fsm/outbox.js'
import { PeerMachine, type PeerMachineConfig } from '../../../src/core/fsm/peer.js'
import type { DisconnectReason } from '../../../src/core/fsm/reasons.js'

export class PeerHarness {
  now: number
  readonly machine: PeerMachine
  /** Every action ever drained, in order. */
  readonly log: PeerAction[] = []
  private seenSent = 0
  private seenEvents = 0

  constructor(config: PeerMachineConfig, seed = 1, start = 1_000) {
    this.now = start
    this.machine = new PeerMachine(config, new SeededRandom(seed))
  }

  private collect(): void {
    for (let a = this.machine.poll(); a; a = this.machine.poll()) this.log.push(a)
  }

  start(): this {
    this.machine.start(this.now)
    this.collect()
    return this
  }

  /** The peer sent `msg`. */
  received(msg: Message): this {
    return this.receivedEvent({ type: 'message', message: msg, wireBytes: 24 })
  }

  /** A raw decoder event arrived. */
  receivedEvent(ev: MessageEvent): this {
    this.machine.receive(this.now, ev)
    this.collect()
    return this
  }

  /** We send `msg`; returns the request id when it is tracked. */
  send(msg: KnownMessage): number | undefined {
    const id = this.machine.send(this.now, msg)
    this.collect()
    return id
  }

  request(...args: Parameters<PeerMachine['request']> extends [number, ...infer R] ? R : never): number {
    const id = this.machine.request(this.now, ...args)
    this.collect()
    return id
  }

  /** Advance time by `ms`, firing every deadline reached on the way at its own time. */
  elapse(ms: number): this {
    const target = this.now + ms
    for (let d = this.machine.nextDeadline(); d !== undefined && d <= target; d = this.machine.nextDeadline()) {
      this.now = Math.max(this.now, d)
      this.machine.timeout(this.now)
      this.collect()
    }
    this.now = target
    return this
  }

  /** Messages sent since the last call. */
  sent(): KnownMessage[] {
    const out: KnownMessage[] = []
    for (; this.seenSent < this.log.length; this.seenSent++) {
      const a = this.log[this.seenSent]!
      if (a.type === 'send') out.push(a.message)
    }
    return out
  }

  /** The last message of this command ever sent (whether or not sent() saw it). */
  lastSent<C extends KnownMessage['command']>(command: C): Extract<KnownMessage, { command: C }> | undefined {
    for (let i = this.log.length - 1; i >= 0; i--) {
      const a = this.log[i]!
      if (a.type === 'send' && a.message.command === command) return a.message as Extract<KnownMessage, { command: C }>
    }
    return undefined
  }

  /** Commands sent since the last call. */
  sentCommands(): string[] {
    return this.sent().map((m) => m.command)
  }

  /** Events since the last call. */
  events(): PeerEvent[] {
    const out: PeerEvent[] = []
    for (; this.seenEvents < this.log.length; this.seenEvents++) {
      const a = this.log[this.seenEvents]!
      if (a.type === 'event') out.push(a.event)
    }
    return out
  }

  /** Events of one type since the last call to events() (does not consume). */
  peekEvents<T extends PeerEvent['type']>(type: T): Extract<PeerEvent, { type: T }>[] {
    return this.log
      .slice(this.seenEvents)
      .flatMap((a) => (a.type === 'event' && a.event.type === type ? [a.event as Extract<PeerEvent, { type: T }>] : []))
  }

  /** Every disconnect action so far. */
  disconnects(): DisconnectReason[] {
    return this.log.flatMap((a) => (a.type === 'disconnect' ? [a.reason] : []))
  }

  /** The (single) disconnect reason, or undefined. */
  disconnected(): DisconnectReason | undefined {
    const d = this.disconnects()
    if (d.length > 1) throw new Error(`machine disconnected ${d.length} times`)
    return d[0]
  }
}

/** A peer's version message; override any field. */
export function versionFrom(overrides: Partial<MessageOf<'version'>> = {}): MessageOf<'version'> {
  return {
    command: 'version',
    version: PROTOCOL_VERSION,
    services: Services.NODE_NETWORK | Services.NODE_WITNESS,
    timestamp: 1_700_000_000n,
    addrRecv: { services: 0n, host: new Uint8Array(IP_BYTES), port: 0 },
    addrFrom: { services: 0n, host: new Uint8Array(IP_BYTES), port: 0 },
    nonce: 0x1234_5678_9abc_def0n,
    userAgent: '/Satoshi:27.0.0/',
    startHeight: 840_000,
    relay: true,
    ...overrides,
  }
}

export const verack: MessageOf<'verack'> = { command: 'verack' }

/** An outbound machine that has completed the handshake; sent/events are cleared. */
export function readyOutbound(config: Partial<PeerMachineConfig> = {}, peer: Partial<MessageOf<'version'>> = {}, seed = 1): PeerHarness {
  const h = new PeerHarness({ direction: 'outbound', ...config }, seed).start()
  h.received(versionFrom(peer)).received(verack)
  if (h.machine.state !== 'ready') throw new Error(`handshake did not complete: ${h.machine.state}`)
  h.sent()
  h.events()
  return h
}

/** A 32-byte hash filled with `b`. */
export function hash(b: number): Uint8Array {
  return new Uint8Array(32).fill(b)
}

/** A header whose prevBlock is `prev`; `n` varies the rest. */
export function header(prev: Uint8Array, n = 0): BlockHeader {
  return { version: 0x20000000, prevBlock: prev, merkleRoot: hash(0xee), time: 1_700_000_000 + n, bits: 0x207fffff, nonce: n }
}
