/**
 * An established v2 session: packet encryption out, a push decoder in.
 *
 * Decoding follows the v1 FrameDecoder's rules (design rule 4): `push(chunk)`
 * returns what became complete, "need more bytes" is an empty result, and
 * each check runs at a fixed byte position, so any chunking of the same bytes
 * gives the same events and the same error:
 *
 *   1. length     after the 3 length bytes: contents <= maxPayload + 13
 *                 (the largest payload plus the long type form), else
 *                 OVERSIZE with only those 3 bytes consumed.
 *   2. type       after min(14, 1 + contents) body bytes: the header and the
 *                 message type are decrypted ahead of the tag ("peek") and
 *                 the payload is checked against maxPayload and the command's
 *                 cap, else OVERSIZE before the rest is buffered.
 *   3. tag        when the packet is complete: ChaCha20-Poly1305 verifies it
 *                 (BAD_TAG), then the event is built from the authenticated
 *                 plaintext, never from the peeked bytes.
 *
 * Why peeking is sound: the ciphertext is the plaintext XOR a ChaCha20
 * keystream (block 1 on), so its first bytes decrypt on their own. Peeked
 * bytes are unauthenticated, and they are used for one thing only: to refuse
 * a packet early. Nothing is delivered before the tag is verified, and the
 * delivered command is read again from the authenticated plaintext, which is
 * the same bytes under the same keystream (a valid tag means the ciphertext
 * is what the peer sent). If an attacker altered the type bytes, the packet
 * would have failed its tag anyway: the connection ends in both cases, only
 * sooner and with less memory held. No ciphertext is produced by the peek,
 * so nothing about the keys leaks.
 *
 * A decoding error is fatal and sticky: later pushes return the same error.
 * Memory: body bytes are kept as the chunks that carried them (the caller
 * must not modify a pushed chunk afterwards). When the packet is complete,
 * the pure AEAD gets one copy of them, which it decrypts in place; the
 * node:crypto AEAD (the Node variant) reads them and writes the plaintext
 * into a new array, so a packet that came in one chunk is not copied at all
 * and one that came in several is joined once. No buffer is sized from the
 * length field alone: a peer must send N bytes to make us hold N bytes, and
 * N is capped before that.
 */
import type { FrameEvent } from '@bitp2p/wire/codecs'
import {
  IGNORE_BIT,
  LENGTH_FIELD_BYTES,
  LONG_TYPE_BYTES,
  MAX_CONTENTS_BYTES,
  PACKET_HEADER_BYTES,
  PACKET_OVERHEAD_BYTES,
  PEEK_BYTES,
  TAG_BYTES,
} from './constants.js'
import { AEAD_OPEN_WRITES_INPUT } from './aead.js'
import { checkLimits } from './check-limits.js'
import { V2Error } from './errors.js'
import { FSChaCha20, FSChaCha20Poly1305 } from './fschacha.js'
import type { V2Keys, V2Role } from './keys.js'
import { type DropReason, readMessageType, typeBytesFor, writeMessageType } from './message-type.js'

/** The caps a session enforces on what it receives (the same as the v1 FrameDecoder's). */
export interface V2Limits {
  /** Global cap on any message payload, in bytes (the network's maxMessageBytes). */
  readonly maxPayload: number
  /** Per-command payload cap; undefined for a command without one (then `unknownCommandLimit`). */
  readonly commandLimit?: (command: string) => number | undefined
  /** Cap for commands `commandLimit` does not know, and for packets that will be dropped. Default: maxPayload. */
  readonly unknownCommandLimit?: number
}

/** A decoy packet: authenticated, then ignored (its contents are not kept). */
export interface DecoyEvent {
  readonly type: 'decoy'
  /** Its contents length. */
  readonly contentBytes: number
  /** Bytes on the wire, contents + 20. */
  readonly wireBytes: number
}

/**
 * An authenticated packet without a usable message type: dropped, and the
 * connection kept, as Bitcoin Core does (count it; it is not a violation).
 */
export interface DroppedEvent {
  readonly type: 'dropped'
  readonly reason: DropReason
  /** The undefined short id, for UNKNOWN_SHORT_ID. */
  readonly shortId?: number
  readonly wireBytes: number
}

/** The peer's transport version packet (its contents are ignored by BIP324 v2.0); the handshake turns it into 'ready'. */
export interface VersionPacketEvent {
  readonly type: 'version'
  /** The version packet's contents (empty from v2.0 peers). */
  readonly contents: Uint8Array
  readonly wireBytes: number
}

/** A fatal decoding error; always the last event. */
export interface V2ErrorEvent {
  readonly type: 'error'
  readonly error: V2Error
}

/**
 * What `V2Session.push` returns. Messages are wire's `FrameEvent`
 * (`{ type: 'frame', command, payload, wireBytes }`), the same shape the v1
 * FrameDecoder yields, so the layer above handles both transports alike.
 */
export type V2SessionEvent = FrameEvent | DecoyEvent | DroppedEvent | VersionPacketEvent | V2ErrorEvent

/** Options of `encrypt`. */
export interface EncryptOptions {
  /** Set the ignore bit: the peer verifies the packet and then ignores it. */
  readonly decoy?: boolean
}

/** The keys of one direction: the length cipher's and the packet cipher's. */
export interface DirectionKeys {
  /** FSChaCha20 key (initiator_L or responder_L). */
  readonly l: Uint8Array
  /** FSChaCha20Poly1305 key (initiator_P or responder_P). */
  readonly p: Uint8Array
}

/** The keys we send with and the keys we receive with, for `role`. */
export function directionKeys(keys: V2Keys, role: V2Role): { readonly send: DirectionKeys; readonly recv: DirectionKeys } {
  const i = { l: keys.initiatorL, p: keys.initiatorP }
  const r = { l: keys.responderL, p: keys.responderP }
  return role === 'initiator' ? { send: i, recv: r } : { send: r, recv: i }
}

const EMPTY = new Uint8Array(0)

/**
 * The sending half of a v2 connection: contents in, packets out. The first
 * packet it makes authenticates the garbage we sent (its AAD).
 */
export class PacketSender {
  readonly #l: FSChaCha20
  readonly #p: FSChaCha20Poly1305
  #aad: Uint8Array

  /**
   * @param keys this direction's keys
   * @param sentGarbage the garbage we sent after our key (AAD of our first packet)
   */
  constructor(keys: DirectionKeys, sentGarbage: Uint8Array = EMPTY) {
    this.#l = new FSChaCha20(keys.l)
    this.#p = new FSChaCha20Poly1305(keys.p)
    this.#aad = sentGarbage.slice()
  }

  /** Packets made so far (decoys included). */
  get packets(): number {
    return this.#p.packets
  }

  /**
   * One message as a packet: message type (short id when the command has
   * one, else 0 + 12-byte command) then the payload.
   * @throws V2Error RANGE for a bad command or contents over 2^24-1 bytes.
   */
  encrypt(command: string, payload: Uint8Array, opts: EncryptOptions = {}): Uint8Array<ArrayBuffer> {
    const typeBytes = typeBytesFor(command)
    const out = allocatePacket(typeBytes + payload.length)
    writeMessageType(out, LENGTH_FIELD_BYTES + PACKET_HEADER_BYTES, command)
    return this.#seal(out, payload, opts.decoy === true)
  }

  /** A decoy packet with `contentBytes` bytes of (zero) contents: the peer authenticates and ignores it. */
  decoy(contentBytes: number): Uint8Array<ArrayBuffer> {
    return this.#seal(allocatePacket(contentBytes), EMPTY, true)
  }

  /** A packet with raw `contents` (BIP324's v2_enc_packet; no message type is added). */
  encryptContents(contents: Uint8Array, ignore = false): Uint8Array<ArrayBuffer> {
    return this.#seal(allocatePacket(contents.length), contents, ignore)
  }

  /**
   * Encrypts a packet in place: `out` is laid out with its contents at
   * offset 4, except their last `tail.length` bytes, which the AEAD reads
   * from `tail` (a payload is not copied into the packet before it is
   * encrypted). AEAD first, then the length (independent ciphers).
   */
  #seal(out: Uint8Array<ArrayBuffer>, tail: Uint8Array, ignore: boolean): Uint8Array<ArrayBuffer> {
    const n = out.length - PACKET_OVERHEAD_BYTES
    out[LENGTH_FIELD_BYTES] = ignore ? IGNORE_BIT : 0
    const sealed = out.subarray(LENGTH_FIELD_BYTES)
    this.#p.seal(this.#aad, sealed, sealed.length - TAG_BYTES - tail.length, tail)
    this.#aad = EMPTY
    out[0] = n & 0xff
    out[1] = (n >>> 8) & 0xff
    out[2] = (n >>> 16) & 0xff
    this.#l.crypt(out.subarray(0, LENGTH_FIELD_BYTES), out, 0)
    return out
  }
}

function allocatePacket(contentBytes: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(contentBytes) || contentBytes < 0 || contentBytes > MAX_CONTENTS_BYTES) {
    throw new V2Error('RANGE', `packet contents must be 0..${MAX_CONTENTS_BYTES} bytes, got ${contentBytes}`, {
      limit: MAX_CONTENTS_BYTES,
      actual: contentBytes,
    })
  }
  return new Uint8Array(contentBytes + PACKET_OVERHEAD_BYTES)
}

/** Options of a PacketReceiver beyond its keys. */
export interface PacketReceiverOptions extends V2Limits {
  /** The garbage the peer sent before its terminator: the AAD of its first packet. Default empty. */
  readonly receivedGarbage?: Uint8Array
  /**
   * True while the peer's version packet is still to come (the handshake
   * sets it): the first non-decoy packet is then reported as 'version' and
   * not read as a message.
   */
  readonly expectVersion?: boolean
}

const enum Rx {
  Length,
  Body,
  Failed,
}

/**
 * The receiving half of a v2 connection: a push decoder from bytes to
 * messages (see the module comment for the order of checks).
 */
export class PacketReceiver {
  readonly #l: FSChaCha20
  readonly #p: FSChaCha20Poly1305
  #aad: Uint8Array
  #expectVersion: boolean
  readonly #maxContents: number
  readonly #maxPayload: number
  readonly #unknownLimit: number
  readonly #commandLimit: ((command: string) => number | undefined) | undefined

  #rx: Rx = Rx.Length
  readonly #lenBuf = new Uint8Array(LENGTH_FIELD_BYTES)
  #lenHave = 0
  #contents = 0
  #bodyBytes = 0
  #received = 0
  #peekNeed = 0
  readonly #peekBuf = new Uint8Array(PEEK_BYTES)
  #pieces: Uint8Array[] = []
  #error: V2Error | null = null
  /** Position in the chunk being pushed. */
  #at = 0
  /** Total bytes consumed by `push` since creation (on an error: up to and including the bytes that failed). */
  bytesConsumed = 0

  /**
   * @param keys this direction's keys (the peer's sending keys)
   * @throws V2Error RANGE for a negative or non-integer cap.
   */
  constructor(keys: DirectionKeys, opts: PacketReceiverOptions) {
    checkLimits(opts)
    this.#l = new FSChaCha20(keys.l)
    this.#p = new FSChaCha20Poly1305(keys.p)
    this.#aad = (opts.receivedGarbage ?? EMPTY).slice()
    this.#expectVersion = opts.expectVersion ?? false
    this.#maxPayload = opts.maxPayload
    this.#maxContents = Math.min(MAX_CONTENTS_BYTES, opts.maxPayload + LONG_TYPE_BYTES)
    this.#unknownLimit = Math.min(opts.unknownCommandLimit ?? opts.maxPayload, opts.maxPayload)
    this.#commandLimit = opts.commandLimit
  }

  /** Packets received and authenticated so far (decoys included). */
  get packets(): number {
    return this.#p.packets
  }

  /** True once a decoding error has occurred. */
  get failed(): boolean {
    return this.#rx === Rx.Failed
  }

  /** Bytes held for the packet in progress. */
  get bufferedBytes(): number {
    return this.#rx === Rx.Body ? LENGTH_FIELD_BYTES + this.#received : this.#lenHave
  }

  /**
   * Feed received bytes; returns the events they complete. A chunk is not
   * copied until its packet is complete: do not modify it afterwards.
   */
  push(chunk: Uint8Array): V2SessionEvent[] {
    const out: V2SessionEvent[] = []
    if (this.#rx === Rx.Failed) {
      out.push({ type: 'error', error: this.#error! })
      return out
    }
    // #at is advanced by the readers as they take bytes, so that on an error
    // the bytes consumed include exactly those the failing check looked at.
    this.#at = 0
    try {
      while (this.#at < chunk.length) {
        if (this.#rx === Rx.Length) this.#readLength(chunk)
        else this.#readBody(chunk, out)
      }
    } catch (e) {
      this.#fail(e instanceof V2Error ? e : new V2Error('STATE', String(e)), out)
    } finally {
      this.bytesConsumed += this.#at
    }
    return out
  }

  /** The peer closed the stream: a TRUNCATED error event when a packet (or the version packet) was in progress, else nothing. */
  end(): V2SessionEvent[] {
    if (this.#rx === Rx.Failed) return [{ type: 'error', error: this.#error! }]
    if (this.#rx === Rx.Body || this.#lenHave > 0 || this.#expectVersion) {
      const out: V2SessionEvent[] = []
      const what = this.#expectVersion ? 'before the version packet was complete' : 'inside a packet'
      this.#fail(new V2Error('TRUNCATED', `stream ended ${what}`, { received: this.bufferedBytes, packet: this.#p.packets }), out)
      return out
    }
    return []
  }

  #fail(err: V2Error, out: V2SessionEvent[]): void {
    this.#rx = Rx.Failed
    this.#error = err
    this.#pieces = []
    out.push({ type: 'error', error: err })
  }

  #readLength(chunk: Uint8Array): void {
    while (this.#lenHave < LENGTH_FIELD_BYTES && this.#at < chunk.length) this.#lenBuf[this.#lenHave++] = chunk[this.#at++]!
    if (this.#lenHave < LENGTH_FIELD_BYTES) return
    const l = this.#l.crypt(this.#lenBuf)
    const contents = l[0]! | (l[1]! << 8) | (l[2]! << 16)
    this.#lenHave = 0
    // Check 1: no type form makes a payload within the cap out of this length.
    if (contents > this.#maxContents) {
      throw new V2Error('OVERSIZE', `packet of ${contents} content bytes exceeds the cap ${this.#maxContents} (maxPayload + 13)`, {
        limit: this.#maxContents,
        actual: contents,
        field: 'maxPayload',
        packet: this.#p.packets,
      })
    }
    this.#contents = contents
    this.#bodyBytes = PACKET_HEADER_BYTES + contents + TAG_BYTES
    this.#received = 0
    this.#pieces = []
    // The version packet's contents are ignored: only the global cap applies to it.
    this.#peekNeed = this.#expectVersion ? 0 : Math.min(PEEK_BYTES, PACKET_HEADER_BYTES + contents)
    this.#rx = Rx.Body
  }

  #readBody(chunk: Uint8Array, out: V2SessionEvent[]): void {
    // Until the type is checked, take only the bytes the peek needs.
    const want = this.#received < this.#peekNeed ? this.#peekNeed - this.#received : this.#bodyBytes - this.#received
    const i = this.#at
    const take = Math.min(want, chunk.length - i)
    const piece = chunk.subarray(i, i + take)
    this.#at = i + take
    const peeking = this.#received < this.#peekNeed
    if (peeking) this.#peekBuf.set(piece, this.#received)
    this.#keep(piece)
    this.#received += take
    if (peeking && this.#received === this.#peekNeed) this.#checkType()
    if (this.#received === this.#bodyBytes) this.#finish(out)
  }

  /**
   * Holds a piece of the body. A piece that continues the last one in
   * memory (the rest of the same chunk after the peek) extends it, so a
   * packet that came in one chunk stays one view of it, which the
   * node:crypto AEAD opens without a copy.
   */
  #keep(piece: Uint8Array): void {
    const pieces = this.#pieces
    const last = pieces[pieces.length - 1]
    if (last !== undefined && last.buffer === piece.buffer && last.byteOffset + last.length === piece.byteOffset) {
      pieces[pieces.length - 1] = new Uint8Array(last.buffer, last.byteOffset, last.length + piece.length)
    } else pieces.push(piece)
  }

  /** Check 2: header and message type decrypted ahead of the tag; caps checked before buffering the rest. */
  #checkType(): void {
    const plain = this.#p.peek(this.#peekBuf.subarray(0, this.#peekNeed))
    if ((plain[0]! & IGNORE_BIT) !== 0) return // decoy: the global cap was enough
    const type = readMessageType(plain.subarray(PACKET_HEADER_BYTES), this.#contents)
    if (!type.ok) {
      // Will be dropped once authenticated; hold no more than an unknown command may.
      this.#checkPayload(this.#contents, this.#unknownLimit, 'unknownCommandLimit', undefined)
      return
    }
    const payload = this.#contents - type.typeBytes
    this.#checkPayload(payload, this.#maxPayload, 'maxPayload', type.command)
    const known = this.#commandLimit?.(type.command)
    this.#checkPayload(payload, known ?? this.#unknownLimit, known === undefined ? 'unknownCommandLimit' : 'commandLimit', type.command)
  }

  #checkPayload(payload: number, limit: number, field: string, command: string | undefined): void {
    if (payload <= limit) return
    throw new V2Error('OVERSIZE', `${command ?? 'packet'}: payload of ${payload} bytes exceeds its cap ${limit}`, {
      limit,
      actual: payload,
      field,
      ...(command === undefined ? {} : { command }),
      packet: this.#p.packets,
    })
  }

  /** Check 3: authenticate, then build the event from the verified plaintext. */
  #finish(out: V2SessionEvent[]): void {
    const pieces = this.#pieces
    // The pushed chunks are the caller's: an AEAD that decrypts in place gets a copy.
    const sealed = pieces.length === 1 && !AEAD_OPEN_WRITES_INPUT ? pieces[0]! : joinPieces(pieces, this.#bodyBytes)
    this.#pieces = []
    const plain = this.#p.open(this.#aad, sealed)
    this.#aad = EMPTY
    this.#rx = Rx.Length
    const wireBytes = LENGTH_FIELD_BYTES + this.#bodyBytes
    const contents = plain.subarray(PACKET_HEADER_BYTES)
    if ((plain[0]! & IGNORE_BIT) !== 0) {
      out.push({ type: 'decoy', contentBytes: contents.length, wireBytes })
      return
    }
    if (this.#expectVersion) {
      this.#expectVersion = false
      out.push({ type: 'version', contents, wireBytes })
      return
    }
    const type = readMessageType(contents, contents.length)
    if (!type.ok) {
      out.push(type.shortId === undefined ? { type: 'dropped', reason: type.reason, wireBytes } : { type: 'dropped', reason: type.reason, shortId: type.shortId, wireBytes })
      return
    }
    out.push({ type: 'frame', command: type.command, payload: contents.subarray(type.typeBytes), wireBytes })
  }
}

/** How to build a V2Session from derived keys (test vectors, a custom handshake). */
export interface V2SessionInit extends PacketReceiverOptions {
  /** Derived keys (deriveV2Keys); both peers hold the same. */
  readonly keys: V2Keys
  /** Our role: picks which keys send and which receive. */
  readonly role: V2Role
  /** The garbage we sent: the AAD of the first packet we send. Default empty. */
  readonly sentGarbage?: Uint8Array
}

/**
 * One v2 connection after the key exchange: `encrypt` makes packets and
 * `push` decodes them. V2Handshake builds it; build one yourself only from
 * keys you derived (`V2Session.fromKeys`).
 */
export class V2Session {
  /** 32 bytes naming the channel, equal on both sides (BIP324 session id). */
  readonly sessionId: Uint8Array
  /** The sending half (also reachable through encrypt/decoy). */
  readonly sender: PacketSender
  /** The receiving half (also reachable through push/end). */
  readonly receiver: PacketReceiver

  /** Joins two halves that belong to one connection. */
  constructor(sessionId: Uint8Array, sender: PacketSender, receiver: PacketReceiver) {
    this.sessionId = sessionId
    this.sender = sender
    this.receiver = receiver
  }

  /** A session from derived keys and our role. */
  static fromKeys(init: V2SessionInit): V2Session {
    const { send, recv } = directionKeys(init.keys, init.role)
    return new V2Session(init.keys.sessionId, new PacketSender(send, init.sentGarbage), new PacketReceiver(recv, init))
  }

  /** A message as one packet; see PacketSender.encrypt. */
  encrypt(command: string, payload: Uint8Array, opts: EncryptOptions = {}): Uint8Array<ArrayBuffer> {
    return this.sender.encrypt(command, payload, opts)
  }

  /** A decoy packet of `contentBytes` zero bytes; see PacketSender.decoy. */
  decoy(contentBytes: number): Uint8Array<ArrayBuffer> {
    return this.sender.decoy(contentBytes)
  }

  /** Decode received bytes; see PacketReceiver.push. */
  push(chunk: Uint8Array): V2SessionEvent[] {
    return this.receiver.push(chunk)
  }

  /** The peer closed the stream; see PacketReceiver.end. */
  end(): V2SessionEvent[] {
    return this.receiver.end()
  }
}


/** One new buffer holding the pieces (always a copy: the pure AEAD decrypts it in place). */
function joinPieces(pieces: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let o = 0
  for (const p of pieces) {
    out.set(p, o)
    o += p.length
  }
  return out
}
