/**
 * Connection: one peer connection as a sans-IO machine that owns its bytes.
 *
 * It composes a FrameCodec (v1 framing, or BIP324 v2) and a PeerMachine
 * (handshake, pings, requests, misbehaviour), the way h11 and quinn-proto
 * own a connection: bytes in with the time, bytes out through `poll()`.
 *
 *   inputs   start(now)  receive(now, bytes)  timeout(now)
 *            send(now, msg)  request(now, req)  cancel  punish  close(now, reason)
 *   outputs  poll(): write(bytes) | event(PeerEvent | frame meter | codec) | disconnect(reason)
 *   timers   nextDeadline()
 *
 * What it decides in one place:
 *  - framing and the protocol version: the codec decodes with ours until
 *    the handshake, then with the negotiated one;
 *  - encoding: a message is encoded when it is sent (so one that cannot be
 *    encoded throws there and changes nothing);
 *  - metering: a 'frame' event per whole frame in and out, with its command
 *    and its size on the wire (so nothing else parses the stream);
 *  - the version handshake starts with the connection, so its deadline
 *    covers v2's own handshake too; messages it sends before the codec is
 *    ready wait inside the codec (v2 encrypts them once it has keys); a v2
 *    responder that meets a v1 peer carries on with v1 over the same bytes.
 */
import { PROTOCOL_VERSION, Services, type FramingParams, type KnownMessage } from '@bitp2p/wire'
import { encodePayload } from '@bitp2p/wire/codecs'

const NODE_P2P_V2 = Services.NODE_P2P_V2
import type { Random } from './ports.js'
import type { Offense } from './fsm/misbehavior.js'
import type { PeerEvent } from './fsm/outbox.js'
import { PeerMachine, pickPeerMachineConfig, type Deadline, type PeerMachineConfig, type PeerMachineState } from './fsm/peer.js'
import type { DisconnectReason } from './fsm/reasons.js'
import type { PeerRequest } from './fsm/requests.js'
import { V1Codec, type CodecEvent, type FrameCodec, type FrameMeterEvent } from './codec.js'

/** Settings of a Connection: the peer machine's, the network's framing, and the codec. */
export interface ConnectionConfig extends PeerMachineConfig {
  /** Magic and caps (a NetworkParams object satisfies this). */
  readonly network: FramingParams
  /** The codec to run; default a V1Codec for `network`. */
  readonly codec?: FrameCodec
  /** A v2 responder that meets a v1 peer carries on in v1 (default true); false refuses it ('v2' V1_REFUSED). */
  readonly v1Fallback?: boolean
}

/** Something a Connection reports besides the peer machine's events. */
export type ConnectionEvent =
  | PeerEvent
  | FrameMeterEvent
  /** The codec's own handshake completed (v2): the session id both sides can compare. */
  | { readonly type: 'codec-ready'; readonly version: 1 | 2; readonly sessionId: Uint8Array | undefined }
  /** A v2 responder met a v1 peer and carries on in v1. */
  | { readonly type: 'fallback-v1' }

/** What the driver must do. */
export type ConnectionAction =
  | { readonly type: 'write'; readonly bytes: Uint8Array }
  | { readonly type: 'event'; readonly event: ConnectionEvent }
  | { readonly type: 'disconnect'; readonly reason: DisconnectReason }

/** See the module comment. */
export class Connection {
  readonly #machine: PeerMachine
  readonly #network: FramingParams
  #codec: FrameCodec
  readonly #v1Fallback: boolean
  readonly #out: ConnectionAction[] = []
  #outHead = 0
  #startAt: number | undefined
  #started = false
  #decodeVersion: number
  #sessionId: Uint8Array | undefined
  /** The payload encoded by send() for the message it hands the machine (used when that message comes out). */
  #preEncoded: { readonly msg: KnownMessage; readonly payload: Uint8Array } | undefined

  constructor(config: ConnectionConfig, random: Random) {
    this.#network = config.network
    this.#decodeVersion = config.protocolVersion ?? PROTOCOL_VERSION
    this.#codec = config.codec ?? new V1Codec({ network: config.network, protocolVersion: this.#decodeVersion })
    // Speaking v2, we say so in our version message (NODE_P2P_V2), as Core does.
    const services = this.#codec.version === 2 ? (config.services ?? 0n) | NODE_P2P_V2 : config.services
    // The machine keeps its config for the connection's life: its own settings only, not the first codec (which a v1 fallback replaces).
    const machineConfig = pickPeerMachineConfig(config)
    machineConfig.services = services
    machineConfig.maxBlockPayload = config.maxBlockPayload ?? config.network.maxBlockPayload
    this.#machine = new PeerMachine(machineConfig, random)
    this.#v1Fallback = config.v1Fallback ?? true
  }

  // --- state -------------------------------------------------------------------

  /** The peer machine (its state, handshake result, rtt, scores, requests in flight). */
  get machine(): PeerMachine {
    return this.#machine
  }
  /** 'idle' until start(), 'handshaking' (codec or version handshake), 'ready', 'closed'. */
  get state(): PeerMachineState {
    if (this.#startAt !== undefined && this.#machine.state === 'idle') return 'handshaking'
    return this.#machine.state
  }
  /** The transport version in use: 1 or 2 (BIP324). */
  get transportVersion(): 1 | 2 {
    return this.#codec.version
  }
  /** True once the transport's own handshake (v2) is done; always for v1. */
  get transportReady(): boolean {
    return this.#codec.ready
  }
  /** The v2 session id (both sides have the same; compare it out of band to rule out a man in the middle), once ready. */
  get sessionId(): Uint8Array | undefined {
    return this.#sessionId
  }

  // --- outputs -----------------------------------------------------------------

  /** The next action, or undefined. */
  poll(): ConnectionAction | undefined {
    if (this.#outHead >= this.#out.length) {
      if (this.#out.length > 0) {
        this.#out.length = 0
        this.#outHead = 0
      }
      return undefined
    }
    return this.#out[this.#outHead++]
  }

  /** Every armed deadline of the peer machine. */
  deadlines(): Deadline[] {
    return this.#machine.deadlines()
  }

  /** The earliest deadline; call timeout() then. */
  nextDeadline(): number | undefined {
    return this.#machine.nextDeadline()
  }

  // --- inputs ------------------------------------------------------------------

  /** Begin: the codec's handshake (v2) and the version handshake, one deadline for both. */
  start(now: number): void {
    if (this.#startAt !== undefined) return
    this.#startAt = now
    this.#flushCodec()
    this.#startMachine(now)
  }

  /** Bytes from the transport. */
  receive(now: number, bytes: Uint8Array): void {
    if (this.#machine.state === 'closed') return
    const events = this.#codec.push(bytes)
    // The codec may answer on its own (v2's handshake): those bytes go out first.
    this.#flushCodec()
    this.#onCodecEvents(now, events)
  }

  /** Deadlines due at `now`. Nothing due: no-op. */
  timeout(now: number): void {
    this.#machine.timeout(now)
    this.#pump()
  }

  /**
   * Send a message (see PeerMachine.send). The message is encoded first:
   * WireError if it cannot be, LocalProtocolError if it may not be sent now;
   * either way nothing changes.
   */
  send(now: number, msg: KnownMessage): number | undefined {
    const payload = encodePayload(msg, { protocolVersion: this.#machine.protocolVersion, maxBlockPayload: this.#network.maxBlockPayload })
    this.#preEncoded = { msg, payload }
    try {
      const id = this.#machine.send(now, msg)
      this.#pump()
      return id
    } finally {
      this.#preEncoded = undefined
    }
  }

  /** Ask the peer for something (see PeerMachine.request). */
  request(now: number, req: PeerRequest, opts: { readonly timeoutMs?: number } = {}): number {
    const id = this.#machine.request(now, req, opts)
    this.#pump()
    return id
  }

  /** Stop waiting for a request. */
  cancel(now: number, id: number): boolean {
    const ok = this.#machine.cancel(now, id)
    this.#pump()
    return ok
  }

  /** Score an offense found outside the machine. */
  punish(now: number, offense: Offense): void {
    this.#machine.punish(now, offense)
    this.#pump()
  }

  /** End the connection. Idempotent. */
  close(now: number, reason: DisconnectReason = { kind: 'local' }): void {
    this.#machine.close(now, reason)
    this.#pump()
  }

  // --- internals ---------------------------------------------------------------

  #startMachine(now: number): void {
    if (this.#started) return
    this.#started = true
    this.#machine.start(now)
    this.#pump()
  }

  #onCodecEvents(now: number, events: readonly CodecEvent[]): void {
    for (const ev of events) {
      switch (ev.type) {
        case 'frame':
          this.#out.push({ type: 'event', event: ev })
          continue
        case 'codec-ready':
          this.#sessionId = ev.sessionId
          this.#out.push({ type: 'event', event: { type: 'codec-ready', version: this.#codec.version, sessionId: ev.sessionId } })
          this.#flushCodec()
          continue
        case 'v2-error':
          this.close(now, { kind: 'v2', code: ev.failure.code, message: ev.failure.message, retryV1: ev.failure.retryV1 })
          return
        case 'fallback-v1': {
          if (!this.#v1Fallback) {
            this.close(now, { kind: 'v2', code: 'V1_REFUSED', message: 'a v1 peer, and v1 is not accepted here', retryV1: false })
            return
          }
          this.#codec = new V1Codec({ network: this.#network, protocolVersion: this.#decodeVersion })
          this.#out.push({ type: 'event', event: { type: 'fallback-v1' } })
          this.#onCodecEvents(now, this.#codec.push(ev.bytes))
          return
        }
        default:
          if (this.#machine.state === 'idle') {
            // Only a fatal codec error can come before the version handshake.
            if (ev.type === 'error') this.close(now, { kind: 'framing', error: ev.error })
            continue
          }
          this.#machine.receive(now, ev)
          this.#pump()
          if (this.#machine.state === 'closed') return
      }
    }
    this.#pump()
  }

  /** Carry the machine's actions out: encode sends into the codec, pass events and the disconnect on. */
  #pump(): void {
    for (let a = this.#machine.poll(); a; a = this.#machine.poll()) {
      switch (a.type) {
        case 'send': {
          const pre = this.#preEncoded
          let wireBytes: number
          if (pre && pre.msg === a.message) wireBytes = this.#codec.write(a.message.command, pre.payload)
          else {
            const ctx = { protocolVersion: this.#machine.protocolVersion, maxBlockPayload: this.#network.maxBlockPayload }
            // A codec that frames a message in one go (v1) spares the payload's own array and its copy.
            wireBytes =
              this.#codec.writeMessage !== undefined
                ? this.#codec.writeMessage(a.message, ctx)
                : this.#codec.write(a.message.command, encodePayload(a.message, ctx))
          }
          this.#out.push({ type: 'event', event: { type: 'frame', direction: 'out', command: a.message.command, wireBytes } })
          this.#flushCodec()
          break
        }
        case 'event':
          if (a.event.type === 'ready' && a.event.info.negotiatedVersion !== this.#decodeVersion) {
            this.#decodeVersion = a.event.info.negotiatedVersion
            this.#codec.setProtocolVersion(this.#decodeVersion)
          }
          this.#out.push(a)
          break
        case 'disconnect':
          this.#out.push(a)
          break
      }
    }
  }

  #flushCodec(): void {
    for (let b = this.#codec.poll(); b; b = this.#codec.poll()) this.#out.push({ type: 'write', bytes: b })
  }
}
