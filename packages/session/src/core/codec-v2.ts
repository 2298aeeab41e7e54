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
 *  - an initiator sends its 64-byte key at once but holds its garbage back
 *    until the responder's 64-byte key is in (it could not send its
 *    terminator sooner anyway): a v1 node answers the key with v1 frames (a
 *    reject, or nothing), and a v1 node that scores each bad frame header
 *    (bcoin: 10 points per 24 bytes, a ban at 100) would ban us for 4 KB of
 *    garbage; 64 bytes cost it 30. The stream is the same, only later;
 *  - an initiator that hears a network magic first (any network's: a node
 *    of another network answers with its own) is talking to a v1 node (a v2
 *    responder's first bytes are a random-looking key: the chance of
 *    matching is a few in 2^32): it fails at once with V1_RESPONDER,
 *    `retryV1` set, instead of waiting for the deadline;
 *  - any v2 failure is a 'v2' disconnect reason carrying the error's code
 *    and whether a v1 retry makes sense.
 *
 * It is reached only through the `@bitp2p/session/v2` entry, so a v1-only
 * app does not carry the ciphers.
 */
import { isV2Error, shortIdOf, V2Handshake, type V2Error, type V2HandshakeEvent, type V2Session } from '@bitp2p/bip324'
import { bytesEqual, NETWORKS, isWireError, PROTOCOL_VERSION, type FramingParams, type WireError } from '@bitp2p/wire'
import { decodePayload, maxPayloadFor, type CodecContext } from '@bitp2p/wire/codecs'
import type { Random } from './ports.js'
import { SendQueue, type CodecEvent, type FrameCodec, type V2Failure } from './codec.js'

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
}

/** Bytes of the network magic an initiator compares the responder's first bytes with. */
const MAGIC_BYTES = 4
/** Bytes of an ElligatorSwift public key: what an initiator sends before its garbage. */
const ELLSWIFT_KEY_BYTES = 64

/** See the module comment. */
export class V2Codec implements FrameCodec {
  readonly version = 2
  readonly #hs: V2Handshake
  readonly #role: 'initiator' | 'responder'
  readonly #magic: Uint8Array
  #session: V2Session | undefined
  #ctx: CodecContext
  readonly #out = new SendQueue()
  /** Messages written before the session existed. */
  readonly #pending: { readonly command: string; readonly payload: Uint8Array }[] = []
  /** The responder's first bytes, while fewer than MAGIC_BYTES have come (initiator only). */
  #prefix: Uint8Array | undefined
  #failed = false
  /** The initiator's garbage, held until the responder's key is in. */
  #heldGarbage: Uint8Array | undefined
  /** Bytes received (counted up to the key's 64). */
  #received = 0

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
    if (opts.role === 'initiator' && first.length > ELLSWIFT_KEY_BYTES) {
      this.#out.push(first.subarray(0, ELLSWIFT_KEY_BYTES))
      this.#heldGarbage = first.subarray(ELLSWIFT_KEY_BYTES)
    } else if (first.length > 0) this.#out.push(first)
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
      // Initiator: the first 4 bytes decide whether this is a v1 node answering.
      const have = this.#prefix
      const take = Math.min(MAGIC_BYTES - have.length, bytes.length)
      const next = new Uint8Array(have.length + take)
      next.set(have)
      next.set(bytes.subarray(0, take), have.length)
      if (next.length < MAGIC_BYTES) {
        this.#prefix = next
        return []
      }
      this.#prefix = undefined
      const v1 = NETWORKS.find((n) => bytesEqual(next, n.magic))
      if (v1 !== undefined) {
        this.#failed = true
        const what = bytesEqual(v1.magic, this.#magic) ? 'the network magic' : `${v1.name}'s magic`
        return [{ type: 'v2-error', failure: { code: 'V1_RESPONDER', message: `the responder answered with v1 framing (its first bytes are ${what})`, retryV1: true } }]
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
    return this.#out.poll()
  }

  #feed(bytes: Uint8Array): CodecEvent[] {
    this.#received += bytes.length
    if (this.#heldGarbage && this.#received >= ELLSWIFT_KEY_BYTES) {
      // The responder's key is in: it speaks v2; our garbage goes out ahead of anything the handshake adds.
      this.#out.push(this.#heldGarbage)
      this.#heldGarbage = undefined
    }
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

