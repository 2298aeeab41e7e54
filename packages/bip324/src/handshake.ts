/**
 * The BIP324 handshake as a sans-IO state machine, for both roles.
 *
 * `start()` gives the first bytes to send; `push(bytes)` takes what the peer
 * sent and returns `{ send, events }`: bytes to write, in order, and what
 * happened. Needing more bytes is a normal, empty result. Every check sits
 * at a fixed byte position, so any chunking gives the same result.
 *
 * Initiator                                  Responder
 *   start: key + garbage          ------>      awaiting-prefix: each byte is compared with
 *   awaiting-key                               magic + "version\0\0\0\0\0" (a v1 peer's
 *                                              first 16 bytes: 'v1' event, bytes handed back);
 *                                 <------      the first byte that differs: key + garbage
 *   64 bytes in: ECDH, keys;                   awaiting-key: 64 bytes in: ECDH, keys;
 *   terminator + decoys + version ------>      terminator + decoys + version
 *   awaiting-terminator: the peer's garbage is scanned for its terminator
 *     (at most 4095 bytes of garbage + 16: beyond, NO_TERMINATOR)
 *   awaiting-version: packets; decoys skipped; the first other packet is the
 *     peer's version packet (contents ignored, as BIP324 v2.0 says)
 *   ready: 'ready' event with the V2Session; later bytes are packets
 *
 * The first packet each side sends after its terminator carries the garbage
 * it sent as AAD, so garbage cannot be altered in flight.
 *
 * Time is not this machine's business: the connection machine that drives it
 * owns the handshake deadline, and tells the machine of a closed stream with
 * `end()`.
 */
import {
  ELLSWIFT_BYTES,
  GARBAGE_TERMINATOR_BYTES,
  MAX_GARBAGE_BYTES,
  MAX_SEND_GARBAGE_BYTES,
  TRANSPORT_VERSION,
  V1_PREFIX_BYTES,
} from './constants.js'
import { checkLimits } from './check-limits.js'
import { checkKeyPair, createEllSwiftKeyPair, type EllSwiftKeyPair, v2Ecdh } from './ellswift.js'
import { V2Error } from './errors.js'
import { deriveV2Keys, type V2Keys, type V2Role } from './keys.js'
import { randomBytes, type Random } from './random.js'
import { directionKeys, PacketReceiver, PacketSender, type V2Limits, V2Session, type V2SessionEvent } from './session.js'

/** How to set up one side of a v2 handshake. */
export interface V2HandshakeOptions extends V2Limits {
  /** 'initiator' (we dialled) or 'responder' (we accepted). */
  readonly role: V2Role
  /** The network's 4 magic bytes: salted into the keys, and the start of a v1 peer's first bytes. */
  readonly magic: Uint8Array
  /** Source of the secret key, the key's encoding, and the garbage (see Random). */
  readonly random: Random
  /**
   * How many garbage bytes to send after our key, 0..MAX_GARBAGE_BYTES.
   * Default: uniform in 0..MAX_SEND_GARBAGE_BYTES (4094, for btcd; see there).
   */
  readonly garbageLen?: number
  /** Content lengths of decoy packets to send before our version packet. Default none. */
  readonly decoys?: readonly number[]
  /** Our ephemeral key pair; default a fresh one from `random`. For test vectors and reproductions. */
  readonly keyPair?: EllSwiftKeyPair
}

/** Where the handshake is; see the module comment for the order. */
export type V2HandshakeState =
  | 'new'
  | 'awaiting-prefix'
  | 'awaiting-key'
  | 'awaiting-terminator'
  | 'awaiting-version'
  | 'ready'
  | 'v1'
  | 'failed'

/** The handshake is complete: send and receive through `session`. */
export interface V2ReadyEvent {
  readonly type: 'ready'
  readonly session: V2Session
  /** The session id (hex-encode it to show operators); the same on both sides. */
  readonly sessionId: Uint8Array
}

/**
 * Responder only: the peer's first 16 bytes are a v1 `version` header for
 * our network. Fall back to v1 and feed it `bytes`: everything received so
 * far, in order. Nothing was sent.
 */
export interface V1DetectedEvent {
  readonly type: 'v1'
  readonly bytes: Uint8Array
}

/** What `push` and `end` report: the handshake's own events, then the session's (decoys, messages, errors). */
export type V2HandshakeEvent = V2ReadyEvent | V1DetectedEvent | V2SessionEvent

/** The result of one input: bytes to send (in order) and events (an 'error' event is always the last). */
export interface V2Step {
  readonly send: Uint8Array[]
  readonly events: V2HandshakeEvent[]
}

const TEXT = new TextEncoder()
/** "version" and 5 NULs: bytes 4..16 of a v1 version message header. */
const V1_VERSION_COMMAND = TEXT.encode('version\0\0\0\0\0')
/** Garbage we may buffer while searching for the terminator: 4095 + 16. */
const MAX_SCAN_BYTES = MAX_GARBAGE_BYTES + GARBAGE_TERMINATOR_BYTES

/**
 * One side of a BIP324 handshake, then the way to the session. After 'ready',
 * `push` and `end` go to the session (so a caller may keep calling them here).
 */
export class V2Handshake {
  readonly #opts: V2HandshakeOptions
  readonly #role: V2Role
  readonly #magic: Uint8Array
  readonly #v1Prefix: Uint8Array
  #state: V2HandshakeState = 'new'
  #keyPair: EllSwiftKeyPair | undefined
  #garbage: Uint8Array = new Uint8Array(0)
  readonly #theirKey = new Uint8Array(ELLSWIFT_BYTES)
  #theirKeyLen = 0
  #keys: V2Keys | undefined
  #sender: PacketSender | undefined
  #recvTerminator: Uint8Array = new Uint8Array(0)
  #scan: Uint8Array | undefined
  #scanLen = 0
  #session: V2Session | undefined
  #error: V2Error | undefined
  #received = 0

  /**
   * Checks the options; draws nothing yet.
   * @throws V2Error RANGE (magic not 4 bytes, garbageLen out of range, bad decoy length), BAD_KEY (keyPair invalid).
   */
  constructor(opts: V2HandshakeOptions) {
    if (opts.role !== 'initiator' && opts.role !== 'responder') throw new V2Error('RANGE', `role must be 'initiator' or 'responder'`)
    if (opts.magic.length !== 4) throw new V2Error('RANGE', `magic must be 4 bytes, got ${opts.magic.length}`)
    const g = opts.garbageLen
    if (g !== undefined && (!Number.isInteger(g) || g < 0 || g > MAX_GARBAGE_BYTES)) {
      throw new V2Error('RANGE', `garbageLen must be 0..${MAX_GARBAGE_BYTES}, got ${g}`, { limit: MAX_GARBAGE_BYTES, actual: g })
    }
    for (const d of opts.decoys ?? []) {
      if (!Number.isInteger(d) || d < 0 || d > 0xffffff) throw new V2Error('RANGE', `decoy length must be 0..2^24-1, got ${d}`)
    }
    if (opts.keyPair !== undefined) checkKeyPair(opts.keyPair)
    // The caps are checked now rather than at the first packet.
    checkLimits(opts)
    this.#opts = opts
    this.#role = opts.role
    this.#magic = opts.magic.slice()
    this.#v1Prefix = new Uint8Array(V1_PREFIX_BYTES)
    this.#v1Prefix.set(this.#magic, 0)
    this.#v1Prefix.set(V1_VERSION_COMMAND, 4)
  }

  /** Where the handshake is. */
  get state(): V2HandshakeState {
    return this.#state
  }

  /** Our role. */
  get role(): V2Role {
    return this.#role
  }

  /** The session, once 'ready'. */
  get session(): V2Session | undefined {
    return this.#session
  }

  /** The session id, as soon as the keys are derived (before 'ready'). */
  get sessionId(): Uint8Array | undefined {
    return this.#keys?.sessionId
  }

  /** Our 64-byte ElligatorSwift public key, once generated. */
  get ourKey(): Uint8Array | undefined {
    return this.#keyPair?.ellswift
  }

  /** Bytes received from the peer so far, through the handshake (not counting what went to the session after 'ready'). */
  get bytesReceived(): number {
    return this.#received
  }

  /**
   * Begins: the initiator's key and garbage, to send first; for the
   * responder an empty array (it speaks once the peer's first byte shows it
   * is not a v1 peer).
   * @throws V2Error STATE when called twice.
   */
  start(): Uint8Array {
    if (this.#state !== 'new') throw new V2Error('STATE', `start() in state ${this.#state}`, { state: this.#state })
    if (this.#role === 'initiator') {
      this.#state = 'awaiting-key'
      return this.#keyAndGarbage()
    }
    this.#state = 'awaiting-prefix'
    return new Uint8Array(0)
  }

  /**
   * Feed bytes received from the peer (any chunking). Do not modify a chunk
   * afterwards: packet bytes are kept by reference until their packet is done.
   * @throws V2Error STATE before start() and after a 'v1' event (caller bugs);
   * the peer's faults come back as an 'error' event, never thrown.
   */
  push(chunk: Uint8Array): V2Step {
    const step: V2Step = { send: [], events: [] }
    switch (this.#state) {
      case 'new':
      case 'v1':
        throw new V2Error('STATE', `push() in state ${this.#state}`, { state: this.#state })
      case 'failed':
        step.events.push({ type: 'error', error: this.#error! })
        return step
      case 'ready':
        step.events.push(...this.#session!.push(chunk))
        return step
    }
    let i = 0
    try {
      // (#state changes inside the loop; read it through a getter so TypeScript does not narrow it.)
      while (i < chunk.length && this.state !== 'v1') {
        if (this.#state === 'awaiting-prefix') i = this.#readPrefix(chunk, i, step)
        else if (this.#state === 'awaiting-key') i = this.#readKey(chunk, i, step)
        else if (this.#state === 'awaiting-terminator') i = this.#readGarbage(chunk, i)
        else {
          // awaiting-version or ready: the rest is packets.
          const before = this.#session!.receiver.bytesConsumed
          this.#toSession(chunk.subarray(i), step)
          this.#received += this.#session!.receiver.bytesConsumed - before
          i = chunk.length
        }
      }
    } catch (e) {
      this.#fail(e instanceof V2Error ? e : new V2Error('STATE', String(e), { state: this.#state }), step)
    }
    return step
  }

  /**
   * The peer closed the stream. Before 'ready' that is a TRUNCATED error
   * (with `retryV1` set when we initiated and the peer hung up without
   * sending a byte, as a v1-only node does); after it, whatever the session
   * says (TRUNCATED inside a packet, else nothing).
   */
  end(): V2Step {
    const step: V2Step = { send: [], events: [] }
    if (this.#state === 'failed') {
      step.events.push({ type: 'error', error: this.#error! })
    } else if (this.#state === 'ready' || this.#state === 'awaiting-version') {
      const events = this.#session!.end()
      if (events.some((e) => e.type === 'error')) this.#state = 'failed'
      step.events.push(...events)
    } else if (this.#state !== 'v1') {
      const retryV1 = this.#role === 'initiator' && this.#state === 'awaiting-key' && this.#received === 0
      const err = new V2Error('TRUNCATED', `stream ended in handshake state ${this.#state}`, { state: this.#state, received: this.#received }, retryV1)
      this.#fail(err, step)
    }
    return step
  }

  #fail(err: V2Error, step: V2Step): void {
    this.#state = 'failed'
    this.#error = err
    this.#scan = undefined
    step.events.push({ type: 'error', error: err })
  }

  /** Our key and garbage, drawing both from the random source. */
  #keyAndGarbage(): Uint8Array {
    const random = this.#opts.random
    this.#keyPair = this.#opts.keyPair ?? createEllSwiftKeyPair(random)
    const len = this.#opts.garbageLen ?? random.int(MAX_SEND_GARBAGE_BYTES + 1)
    this.#garbage = randomBytes(random, len)
    const out = new Uint8Array(ELLSWIFT_BYTES + len)
    out.set(this.#keyPair.ellswift, 0)
    out.set(this.#garbage, ELLSWIFT_BYTES)
    return out
  }

  /** Responder: compare byte by byte with the v1 prefix; speak at the first difference. */
  #readPrefix(chunk: Uint8Array, i: number, step: V2Step): number {
    while (i < chunk.length) {
      const b = chunk[i++]!
      this.#received++
      this.#theirKey[this.#theirKeyLen++] = b
      if (b !== this.#v1Prefix[this.#theirKeyLen - 1]) {
        this.#state = 'awaiting-key'
        step.send.push(this.#keyAndGarbage())
        return i
      }
      if (this.#theirKeyLen === V1_PREFIX_BYTES) {
        this.#state = 'v1'
        const rest = chunk.subarray(i)
        const bytes = new Uint8Array(V1_PREFIX_BYTES + rest.length)
        bytes.set(this.#theirKey.subarray(0, V1_PREFIX_BYTES), 0)
        bytes.set(rest, V1_PREFIX_BYTES)
        step.events.push({ type: 'v1', bytes })
        return chunk.length
      }
    }
    return i
  }

  /** Both roles: collect the peer's 64-byte key, then derive keys and send terminator, decoys, version packet. */
  #readKey(chunk: Uint8Array, i: number, step: V2Step): number {
    const before = this.#theirKeyLen
    // The responder stops at byte 16 for the wrong-network check, so its error is the same in any chunking.
    const upTo = this.#role === 'responder' && before < V1_PREFIX_BYTES ? V1_PREFIX_BYTES : ELLSWIFT_BYTES
    const take = Math.min(upTo - before, chunk.length - i)
    this.#theirKey.set(chunk.subarray(i, i + take), before)
    this.#theirKeyLen += take
    this.#received += take
    // A v1 version header for another network (BIP324 allows disconnecting it).
    if (this.#role === 'responder' && before < V1_PREFIX_BYTES && this.#theirKeyLen >= V1_PREFIX_BYTES) {
      if (V1_VERSION_COMMAND.every((c, k) => this.#theirKey[4 + k] === c)) {
        throw new V2Error('V1_WRONG_NETWORK', 'a v1 version message for another network', { state: 'awaiting-key', received: this.#received })
      }
    }
    if (this.#theirKeyLen < ELLSWIFT_BYTES) return i + take
    const pair = this.#keyPair!
    const initiating = this.#role === 'initiator'
    const secret = v2Ecdh(pair.secretKey, this.#theirKey, pair.ellswift, initiating)
    const keys = deriveV2Keys(secret, this.#magic)
    secret.fill(0)
    this.#keys = keys
    const { send } = directionKeys(keys, this.#role)
    this.#sender = new PacketSender(send, this.#garbage)
    this.#recvTerminator = initiating ? keys.responderTerminator : keys.initiatorTerminator
    const sendTerminator = initiating ? keys.initiatorTerminator : keys.responderTerminator
    step.send.push(sendTerminator.slice())
    for (const d of this.#opts.decoys ?? []) step.send.push(this.#sender.decoy(d))
    step.send.push(this.#sender.encryptContents(TRANSPORT_VERSION))
    this.#scan = new Uint8Array(MAX_SCAN_BYTES)
    this.#scanLen = 0
    this.#state = 'awaiting-terminator'
    return i + take
  }

  /**
   * Scan the peer's garbage for its terminator, one byte at a time as the BIP
   * does (so the result does not depend on chunking): after each byte, are
   * the last 16 the terminator? At most 4095 + 16 bytes are looked at.
   */
  #readGarbage(chunk: Uint8Array, i: number): number {
    const scan = this.#scan!
    const term = this.#recvTerminator
    while (i < chunk.length) {
      scan[this.#scanLen++] = chunk[i++]!
      this.#received++
      const n = this.#scanLen
      if (n >= GARBAGE_TERMINATOR_BYTES && endsWith(scan, n, term)) {
        const garbage = scan.slice(0, n - GARBAGE_TERMINATOR_BYTES)
        this.#scan = undefined
        const { recv } = directionKeys(this.#keys!, this.#role)
        const receiver = new PacketReceiver(recv, { ...this.#opts, receivedGarbage: garbage, expectVersion: true })
        this.#session = new V2Session(this.#keys!.sessionId, this.#sender!, receiver)
        this.#state = 'awaiting-version'
        return i
      }
      if (n === MAX_SCAN_BYTES) {
        throw new V2Error('NO_TERMINATOR', `no garbage terminator in ${MAX_GARBAGE_BYTES} bytes of garbage + ${GARBAGE_TERMINATOR_BYTES}`, {
          state: 'awaiting-terminator',
          limit: MAX_SCAN_BYTES,
          received: this.#received,
        })
      }
    }
    return i
  }

  /** Packets: the version packet completes the handshake; events after it are the session's. */
  #toSession(bytes: Uint8Array, step: V2Step): void {
    for (const e of this.#session!.push(bytes)) {
      if (e.type === 'version') {
        this.#state = 'ready'
        step.events.push({ type: 'ready', session: this.#session!, sessionId: this.#keys!.sessionId })
      } else if (e.type === 'error') {
        this.#state = 'failed'
        this.#error = e.error
        step.events.push(e)
      } else {
        step.events.push(e)
      }
    }
  }
}

function endsWith(buf: Uint8Array, n: number, term: Uint8Array): boolean {
  const o = n - term.length
  for (let k = 0; k < term.length; k++) if (buf[o + k] !== term[k]) return false
  return true
}
