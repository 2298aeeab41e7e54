/**
 * V2Codec: BIP324's v2 transport behind the FrameCodec interface.
 *
 * The cryptography, the packet format and the handshake machine are
 * `@bitp2p/bip324`'s; this adapter plugs them into a Connection:
 *  - until the v2 handshake completes, the codec is not `ready` (the
 *    version/verack handshake waits), and messages written meanwhile wait
 *    (in practice none: the peer machine starts once the codec is ready);
 *  - decrypted packets are decoded with wire's codec table; a `block`
 *    comes out as one streamed piece (start, chunk, end) so the peer
 *    machine ties it to its request as it does for v1;
 *  - a responder that meets a v1 peer hands the bytes back ('fallback-v1');
 *  - an initiator that hears the network magic first is talking to a v1
 *    node (a v2 responder's first bytes are a random-looking key: the
 *    chance of matching 4 bytes is 2^-32): it fails at once with
 *    V1_RESPONDER, `retryV1` set, instead of waiting for the deadline; so
 *    does one whose first 16 bytes are a v1 header of another network
 *    (any magic, then a NUL-padded lowercase command), so that the v1 retry
 *    names the wrong network instead of a v2 error;
 *  - any v2 failure is a 'v2' disconnect reason carrying the error's code
 *    and whether a v1 retry makes sense;
 *  - with `holdGarbage` (an initiator that does not know whether the peer
 *    speaks v2: Peer's 'v2-first'), only the 64-byte key goes out first;
 *    the garbage follows once the responder's first bytes show it is not a
 *    v1 node (BIP324 lets garbage go any time before the terminator, which
 *    needs the responder's key anyway). A v1 node then reads 64 bytes, not
 *    up to 4,158: bcoin 1.0.2 reads every 24 bytes as a malformed message
 *    (10 ban points each) and bans the address at 100, so a full first
 *    flight of 176+ garbage bytes got us banned before the v1 retry.
 *
 * This module is only loaded when a connection uses v2 (`Peer` imports it
 * dynamically), so a v1-only app does not carry the ciphers.
 */
import { ELLSWIFT_BYTES, isV2Error, shortIdOf, V2Handshake, type V2Error, type V2HandshakeEvent, type V2Session } from '@bitp2p/bip324'
import {
  bytesEqual,
  toHex,
  decodePayload,
  isWireError,
  maxPayloadFor,
  PROTOCOL_VERSION,
  type CodecContext,
  type FramingParams,
  type WireError,
} from '@bitp2p/wire'
import type { Random } from '../transport.js'
import type { CodecEvent, FrameCodec, V2Failure } from './codec.js'

/** Options of a V2Codec. */
export interface V2CodecOptions {
  readonly role: 'initiator' | 'responder'
  readonly network: FramingParams
  /** Keys, their encoding and the garbage come from here (seeded in simulations). */
  readonly random: Random
  readonly protocolVersion?: number
  /** Garbage bytes to send (default: uniform in 0..4094, see @bitp2p/bip324). */
  readonly garbageLen?: number
  /** Content lengths of decoy packets to send before the version packet. */
  readonly decoys?: readonly number[]
  /**
   * Initiator: send the key alone first, the garbage once the responder's
   * first bytes are not the network magic (see the module comment). Default
   * false: key and garbage in one write, as Core sends them.
   */
  readonly holdGarbage?: boolean
}

/** Bytes of the network magic an initiator compares the responder's first bytes with. */
const MAGIC_BYTES = 4
/** A v1 header's magic and command field: what an initiator reads before deciding a responder that does not use our magic is v2. */
const V1_HEADER_PREFIX_BYTES = 16

/**
 * True when `b` (16 bytes) starts like a v1 message header of any network:
 * 4 magic bytes, then a command of 1 to 12 lowercase letters or digits,
 * NUL-padded (every Bitcoin command is such). A v2 responder's first 16
 * bytes are part of a uniformly random key: they pass with probability
 * below 36^12 / 256^12, about 6e-11.
 */
function looksLikeV1Header(b: Uint8Array): boolean {
  let i = MAGIC_BYTES
  const isCommandChar = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)
  if (!isCommandChar(b[i]!)) return false
  while (i < V1_HEADER_PREFIX_BYTES && isCommandChar(b[i]!)) i++
  while (i < V1_HEADER_PREFIX_BYTES && b[i] === 0) i++
  return i === V1_HEADER_PREFIX_BYTES
}

/** See the module comment. */
export class V2Codec implements FrameCodec {
  readonly version = 2
  readonly #hs: V2Handshake
  readonly #role: 'initiator' | 'responder'
  readonly #magic: Uint8Array
  #session: V2Session | undefined
  #ctx: CodecContext
  readonly #out: Uint8Array[] = []
  #outHead = 0
  /** Messages written before the session existed. */
  readonly #pending: { readonly command: string; readonly payload: Uint8Array }[] = []
  /** The responder's first bytes, until they show whether it is a v1 node (initiator only). */
  #prefix: Uint8Array | undefined
  /** Our garbage, held until the responder shows it is not a v1 node (holdGarbage). */
  #heldGarbage: Uint8Array | undefined
  #failed = false

  constructor(opts: V2CodecOptions) {
    this.#role = opts.role
    this.#magic = opts.network.magic
    this.#ctx = { protocolVersion: opts.protocolVersion ?? PROTOCOL_VERSION, maxBlockPayload: opts.network.maxBlockPayload }
    this.#hs = new V2Handshake({
      role: opts.role,
      magic: opts.network.magic,
      random: opts.random,
      maxPayload: opts.network.maxMessageBytes,
      commandLimit: (command) => maxPayloadFor(command, this.#ctx),
      garbageLen: opts.garbageLen,
      decoys: opts.decoys,
    })
    this.#prefix = opts.role === 'initiator' ? new Uint8Array(0) : undefined
    const first = this.#hs.start()
    if (opts.role === 'initiator' && opts.holdGarbage === true && first.length > ELLSWIFT_BYTES) {
      this.#out.push(first.subarray(0, ELLSWIFT_BYTES))
      this.#heldGarbage = first.subarray(ELLSWIFT_BYTES)
    } else if (first.length > 0) {
      this.#out.push(first)
    }
  }

  get ready(): boolean {
    return this.#session !== undefined
  }

  /** The session id once ready (compare it out of band to detect a man in the middle). */
  get sessionId(): Uint8Array | undefined {
    return this.#session?.sessionId
  }

  setProtocolVersion(v: number): void {
    this.#ctx = { ...this.#ctx, protocolVersion: v }
  }

  push(bytes: Uint8Array): CodecEvent[] {
    if (this.#failed) return []
    if (this.#prefix !== undefined) {
      // Initiator: the responder's first bytes decide whether a v1 node is answering.
      const have = this.#prefix
      const take = Math.min(V1_HEADER_PREFIX_BYTES - have.length, bytes.length)
      const next = new Uint8Array(have.length + take)
      next.set(have)
      next.set(bytes.subarray(0, take), have.length)
      const ours = next.length >= MAGIC_BYTES && bytesEqual(next.subarray(0, MAGIC_BYTES), this.#magic)
      if (!ours && next.length < V1_HEADER_PREFIX_BYTES) {
        this.#prefix = next
        return []
      }
      this.#prefix = undefined
      if (ours || looksLikeV1Header(next)) {
        this.#failed = true
        this.#heldGarbage = undefined
        const message = ours
          ? 'the responder answered with v1 framing (its first bytes are the network magic)'
          : `the responder answered with v1 framing of another network (magic ${toHex(next.subarray(0, MAGIC_BYTES))})`
        return [{ type: 'v2-error', failure: { code: 'V1_RESPONDER', message, retryV1: true } }]
      }
      // A v2 responder: the garbage goes now, ahead of the terminator the handshake sends once it has the key.
      if (this.#heldGarbage !== undefined) {
        this.#out.push(this.#heldGarbage)
        this.#heldGarbage = undefined
      }
      return [...this.#feed(next), ...(bytes.length > take ? this.#feed(bytes.subarray(take)) : [])]
    }
    return this.#feed(bytes)
  }

  write(command: string, payload: Uint8Array): number {
    const s = this.#session
    if (!s) {
      this.#pending.push({ command, payload })
      // Its size once sent: the packet's overhead is fixed by the command's encoding.
      return payload.length + packetOverhead(command)
    }
    const packet = s.encrypt(command, payload)
    this.#out.push(packet)
    return packet.length
  }

  poll(): Uint8Array | undefined {
    if (this.#outHead >= this.#out.length) {
      this.#out.length = 0
      this.#outHead = 0
      return undefined
    }
    const b = this.#out[this.#outHead]!
    this.#out[this.#outHead++] = EMPTY
    return b
  }

  #feed(bytes: Uint8Array): CodecEvent[] {
    let step: { send: readonly Uint8Array[]; events: readonly V2HandshakeEvent[] }
    try {
      step = this.#session ? { send: [], events: this.#session.push(bytes) } : this.#hs.push(bytes)
    } catch (e) {
      if (!isV2Error(e)) throw e
      return this.#fail(e)
    }
    for (const b of step.send) this.#out.push(b)
    const out: CodecEvent[] = []
    for (const ev of step.events) {
      switch (ev.type) {
        case 'ready':
          this.#session = ev.session
          for (const m of this.#pending.splice(0)) this.#out.push(ev.session.encrypt(m.command, m.payload))
          out.push({ type: 'codec-ready', sessionId: ev.sessionId })
          break
        case 'v1':
          out.push({ type: 'fallback-v1', bytes: ev.bytes })
          break
        case 'frame':
          out.push({ type: 'frame', direction: 'in', command: ev.command, wireBytes: ev.wireBytes })
          if (ev.command === 'block') {
            // One piece: the peer machine claims it at its header, as for v1.
            out.push({ type: 'payload-start', command: 'block', length: ev.payload.length })
            out.push({ type: 'payload-chunk', command: 'block', offset: 0, bytes: ev.payload })
            out.push({ type: 'payload-end', command: 'block', length: ev.payload.length, wireBytes: ev.wireBytes })
            break
          }
          try {
            out.push({ type: 'message', message: decodePayload(ev.command, ev.payload, this.#ctx), wireBytes: ev.wireBytes })
          } catch (e) {
            if (!isWireError(e)) throw e
            out.push({ type: 'invalid', command: ev.command, error: e as WireError, wireBytes: ev.wireBytes })
          }
          break
        case 'error':
          out.push(...this.#fail(ev.error))
          return out
        default:
          // Decoys, dropped packets (unusable type: ignored, as Core) and the version packet carry nothing.
          break
      }
    }
    return out
  }

  #fail(error: V2Error): CodecEvent[] {
    this.#failed = true
    return [{ type: 'v2-error', failure: { code: error.code, message: error.message, retryV1: error.retryV1 } }]
  }
}

/** Bytes a v2 packet adds to a payload: length (3), header (1), type (1 short id, or 1 + 12 for a command), tag (16). */
function packetOverhead(command: string): number {
  return 3 + 1 + 16 + (shortIdOf(command) !== undefined ? 1 : 13)
}

const EMPTY = new Uint8Array(0)
