/**
 * Misbehaving virtual peers: what each mode does to the byte stream.
 *
 * A virtual peer runs the production `Peer` driver, which only ever writes
 * well-formed frames. The misbehaving modes need bytes that driver would
 * never produce, so `BehaviorTransport` sits between the driver and the mock
 * transport and rewrites, drops, delays or adds frames. It sees one whole
 * frame per `send()` (the driver encodes each message into one array).
 *
 * | mode                     | what the other side receives                                             | it should end in            |
 * |--------------------------|--------------------------------------------------------------------------|-----------------------------|
 * | garbage                  | GARBAGE_BYTES seeded random bytes instead of a frame                      | framing BAD_MAGIC           |
 * | wrong-magic              | the frame under another network's magic                                   | framing BAD_MAGIC           |
 * | bad-checksum             | the frame with its checksum corrupted                                     | framing BAD_CHECKSUM        |
 * | oversized                | a header whose length is one above the network's message cap              | framing OVERSIZE            |
 * | no-verack                | every frame but `verack`                                                  | handshake-timeout           |
 * | mute-pings               | after the handshake, every frame but `pong`                               | ping-timeout                |
 * | slowloris                | every frame, one byte per SLOWLORIS_BYTE_INTERVAL_MS of virtual time      | stalled (a request's deadline) |
 * | inv-flood                | FLOOD_MESSAGES inv frames, each claiming MAX_INV_SIZE + 1 items           | misbehaving (too-many-items) |
 * | addr-flood               | FLOOD_MESSAGES addr frames, each claiming MAX_ADDR_TO_SEND + 1 entries    | misbehaving (too-many-items) |
 *
 * A flood frame carries FLOOD_ITEMS_CARRIED real items after its count: a
 * decoder must refuse the count before it reads (or allocates for) the
 * items, so carrying all of them would only slow simulations down.
 * | non-connecting-headers   | NON_CONNECTING_REPLIES headers replies that connect to no locator hash    | misbehaving (non-connecting-headers) |
 * | tx-flood                 | every TX_FLOOD_INTERVAL_MS a well-formed inv of MAX_INV_SIZE fresh tx hashes, TX_FLOOD_MESSAGES in all; getdata for transactions goes unanswered | nothing by itself: valid announcements are no offense; the getdata it ignores stalls |
 *
 * 'tx-flood' is the announcement flood of issue 12: within every protocol
 * limit, it tries to fill a mempool monitor with hashes nobody will ever
 * deliver. It starts once the handshake is done, whatever the trigger, and
 * announces by wtxid (MSG_WTX) to a peer that negotiated wtxidrelay, else
 * by txid. It keeps at most TX_FLOOD_MAX_BUFFERED bytes queued (a flooder
 * goes as fast as the link takes it, no faster).
 *
 * The framing modes, slowloris and the floods start at a trigger: 'ready'
 * (default: once this side's handshake completed, so the stream breaks in
 * the middle of a session) or 'connect' (the first frame already is bad).
 * After a framing mode has sent its bad bytes, later frames are dropped:
 * the stream cannot be resynchronised anyway.
 */
import type { Cancel, Clock, Random, Transport, TransportError } from '@bitp2p/session'
import { bytesEqual, mainnet, testnet3, InvType, type FramingParams } from '@bitp2p/wire'
import { ByteWriter, encodeFrame, isCommandByte } from '@bitp2p/wire/codecs'
import { COMMAND_BYTES, HEADER_BYTES, MAX_ADDR_TO_SEND, MAX_INV_SIZE } from '@bitp2p/wire/limits'

/** Every mode of a virtual peer; 'honest' follows the protocol. */
export const VIRTUAL_PEER_BEHAVIORS = [
  'honest',
  'garbage',
  'wrong-magic',
  'bad-checksum',
  'oversized',
  'no-verack',
  'mute-pings',
  'slowloris',
  'inv-flood',
  'addr-flood',
  'non-connecting-headers',
  'tx-flood',
] as const

/** How a virtual peer behaves. */
export type VirtualPeerBehavior = (typeof VIRTUAL_PEER_BEHAVIORS)[number]

/** When the framing modes, slowloris and the floods start. */
export type MisbehaviorTrigger = 'connect' | 'ready'

/** Bytes of noise a 'garbage' peer sends in place of its next frame. */
export const GARBAGE_BYTES = 64
/** A 'slowloris' peer sends one byte per this many ms of virtual time (a virtual minute). */
export const SLOWLORIS_BYTE_INTERVAL_MS = 60_000
/** Over-limit inv/addr frames a flooding peer sends: more than the 5 that reach the misbehaviour threshold (5 x 20 = 100). */
export const FLOOD_MESSAGES = 8
/** Items a flood frame carries after its over-limit count. */
export const FLOOD_ITEMS_CARRIED = 1000
/** Non-connecting headers replies a 'non-connecting-headers' peer sends per getheaders (5 x 20 reach the threshold). */
export const NON_CONNECTING_REPLIES = 8

/** A 'tx-flood' peer sends one maximal inv this often (virtual ms): 100,000 announcements a second, 20 times Core's per-peer cap. */
export const TX_FLOOD_INTERVAL_MS = 500
/** Maximal invs a 'tx-flood' peer sends on one connection (a virtual minute at TX_FLOOD_INTERVAL_MS). */
export const TX_FLOOD_MESSAGES = 120
/** Bytes of the CompactSize count of a maximal inv (0xfd and two bytes). */
const INV_COUNT_BYTES = 3
/** Bytes of one inv item: type (4) and hash (32). */
const INV_ITEM_BYTES = 36
/** A 'tx-flood' peer skips a beat while more than this many bytes wait in its transport (two maximal invs). */
export const TX_FLOOD_MAX_BUFFERED = 2 * (HEADER_BYTES + INV_COUNT_BYTES + INV_ITEM_BYTES * MAX_INV_SIZE)

/** Modes that rewrite one frame into bad framing. */
const FRAMING_MODES: ReadonlySet<VirtualPeerBehavior> = new Set(['garbage', 'wrong-magic', 'bad-checksum', 'oversized'])
/** Modes whose start depends on the trigger. */
const TRIGGERED_MODES: ReadonlySet<VirtualPeerBehavior> = new Set([...FRAMING_MODES, 'slowloris', 'inv-flood', 'addr-flood'])

const CHECKSUM_OFFSET = 20
const LENGTH_OFFSET = 16
const MAGIC_BYTES = 4

/** Does `behavior` wait for a trigger ('connect' or 'ready') before it starts? */
export function isTriggered(behavior: VirtualPeerBehavior): boolean {
  return TRIGGERED_MODES.has(behavior)
}

/** The command of a v1 frame, or undefined if `frame` does not start with a readable header. */
export function frameCommand(frame: Uint8Array): string | undefined {
  if (frame.length < HEADER_BYTES) return undefined
  let s = ''
  for (let i = MAGIC_BYTES; i < MAGIC_BYTES + COMMAND_BYTES && frame[i] !== 0; i++) {
    if (!isCommandByte(frame[i]!)) return undefined
    s += String.fromCharCode(frame[i]!)
  }
  return s === '' ? undefined : s
}

/** A magic that is not `network`'s: mainnet's, or testnet3's when the network is mainnet. */
export function foreignMagic(network: FramingParams): Uint8Array {
  return bytesEqual(network.magic, mainnet.magic) ? testnet3.magic : mainnet.magic
}

/**
 * One frame of `command` whose payload starts with a CompactSize count of
 * `claimed` items but carries only `carried` items of `itemBytes` bytes
 * each (filled by `fill`): a count over the protocol limit inside a payload
 * the framing accepts.
 */
function overCountFrame(network: FramingParams, command: string, claimed: number, carried: number, itemBytes: number, fill: (w: ByteWriter, i: number) => void): Uint8Array {
  const w = new ByteWriter(5 + carried * itemBytes)
  w.compactSize(claimed)
  for (let i = 0; i < carried; i++) fill(w, i)
  return encodeFrame(network.magic, command, w.finish())
}

/** An inv frame that announces MAX_INV_SIZE + 1 items and carries FLOOD_ITEMS_CARRIED of them. */
export function invFloodFrame(network: FramingParams, random: Random): Uint8Array {
  const hash = new Uint8Array(32)
  return overCountFrame(network, 'inv', MAX_INV_SIZE + 1, FLOOD_ITEMS_CARRIED, 36, (w) => {
    const v = random.u32()
    hash[0] = v & 0xff
    hash[1] = (v >>> 8) & 0xff
    hash[2] = (v >>> 16) & 0xff
    hash[3] = v >>> 24
    w.u32le(InvType.MSG_TX).hash(hash)
  })
}

/** An addr frame that announces MAX_ADDR_TO_SEND + 1 entries and carries FLOOD_ITEMS_CARRIED (at most MAX_ADDR_TO_SEND) of them. */
export function addrFloodFrame(network: FramingParams, random: Random, unixTime: number): Uint8Array {
  const host = new Uint8Array(16)
  host[10] = host[11] = 0xff
  return overCountFrame(network, 'addr', MAX_ADDR_TO_SEND + 1, Math.min(FLOOD_ITEMS_CARRIED, MAX_ADDR_TO_SEND), 30, (w) => {
    const v = random.u32()
    host[12] = 11 + (v % 200)
    host[13] = (v >>> 8) & 0xff
    host[14] = (v >>> 16) & 0xff
    host[15] = v >>> 24
    w.u32le(unixTime >>> 0).u64le(1n).bytes(host).u16be(8333)
  })
}

/**
 * A well-formed inv frame of MAX_INV_SIZE transaction announcements
 * (MSG_WTX when `byWtxid`, else MSG_TX), each hash 128 random bits from
 * `random` followed by zeros: fresh hashes nobody holds (`random` decides
 * them all: the same seed, the same frames).
 */
export function txFloodFrame(network: FramingParams, random: Random, byWtxid: boolean): Uint8Array {
  // Written straight into the payload: this runs for every beat of a flood.
  const payload = new Uint8Array(INV_COUNT_BYTES + INV_ITEM_BYTES * MAX_INV_SIZE)
  const view = new DataView(payload.buffer)
  payload[0] = 0xfd // CompactSize: a 2-byte count follows
  view.setUint16(1, MAX_INV_SIZE, true)
  const type = byWtxid ? InvType.MSG_WTX : InvType.MSG_TX
  for (let i = 0, at = INV_COUNT_BYTES; i < MAX_INV_SIZE; i++, at += INV_ITEM_BYTES) {
    view.setUint32(at, type, true)
    for (let k = 4; k < 20; k += 4) view.setUint32(at + k, random.u32(), true)
  }
  return encodeFrame(network.magic, 'inv', payload)
}

/** Options of a BehaviorTransport. */
export interface BehaviorTransportOptions {
  readonly behavior: VirtualPeerBehavior
  /** Framing of the network (magic, caps). */
  readonly network: FramingParams
  /** Drives slowloris's dribble. */
  readonly clock: Clock
  /** Noise for 'garbage'. */
  readonly random: Random
}

/**
 * The transport a virtual peer's driver writes into: passes frames through,
 * or rewrites them as its behaviour says (see the module documentation).
 * Call `arm()` at the trigger, `handshakeDone()` when the driver's
 * handshake completed.
 */
export class BehaviorTransport implements Transport {
  readonly behavior: VirtualPeerBehavior
  readonly #inner: Transport
  readonly #network: FramingParams
  readonly #clock: Clock
  readonly #random: Random
  #armed = false
  #ready = false
  #broken = false
  #closed = false
  // slowloris: bytes accepted and not yet dribbled out.
  readonly #dribble: Uint8Array[] = []
  #dribbleOffset = 0
  #dribbleBytes = 0
  #dribbleTimer: Cancel | undefined
  #onClose: ((err?: TransportError) => void) | undefined

  constructor(inner: Transport, opts: BehaviorTransportOptions) {
    this.#inner = inner
    this.behavior = opts.behavior
    this.#network = opts.network
    this.#clock = opts.clock
    this.#random = opts.random
    inner.onClose((err) => {
      this.#closed = true
      this.#stopDribble()
      this.#onClose?.(err)
    })
  }

  get remote() {
    return this.#inner.remote
  }

  /** The underlying transport's buffer plus bytes slowloris has not sent yet. */
  get bufferedAmount(): number {
    return this.#inner.bufferedAmount + this.#dribbleBytes
  }

  /** True while a slowloris dribble timer is armed (for leak checks). */
  get dribbling(): boolean {
    return this.#dribbleTimer !== undefined
  }

  /** Start the triggered misbehaviour (framing modes, slowloris). */
  arm(): void {
    this.#armed = true
  }

  /** This side's handshake completed ('mute-pings' starts here). */
  handshakeDone(): void {
    this.#ready = true
  }

  /** Write bytes past the behaviour (floods). */
  raw(bytes: Uint8Array): void {
    if (!this.#closed) this.#inner.send(bytes)
  }

  /**
   * One whole frame from the driver: passed on, dropped, dribbled or
   * corrupted as the behaviour says. After a framing mode has sent its
   * corrupt frame, everything else is dropped (the stream is broken anyway).
   */
  send(bytes: Uint8Array): void {
    if (this.#closed || this.#broken || bytes.length === 0) return
    switch (this.behavior) {
      case 'no-verack':
        if (frameCommand(bytes) === 'verack') return
        break
      case 'mute-pings':
        if (this.#ready && frameCommand(bytes) === 'pong') return
        break
      case 'slowloris':
        if (this.#armed) return this.#queueDribble(bytes)
        break
      case 'garbage':
      case 'wrong-magic':
      case 'bad-checksum':
      case 'oversized':
        if (this.#armed) {
          this.#broken = true
          this.#inner.send(this.#corrupt(bytes))
          return
        }
        break
    }
    this.#inner.send(bytes)
  }

  close(reason?: unknown): void {
    this.#stopDribble()
    this.#inner.close(reason)
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.#inner.onData(cb)
  }

  onClose(cb: (err?: TransportError) => void): void {
    this.#onClose = cb
  }

  onDrain(cb: () => void): void {
    this.#inner.onDrain(cb)
  }

  // The bad bytes that replace `frame` in a framing mode.
  #corrupt(frame: Uint8Array): Uint8Array {
    const magic = this.#network.magic
    switch (this.behavior) {
      case 'garbage': {
        const out = new Uint8Array(GARBAGE_BYTES)
        for (let i = 0; i < out.length; i++) out[i] = this.#random.int(256)
        // Noise that happens to start with the magic would be a different test.
        if (bytesEqual(out.subarray(0, MAGIC_BYTES), magic)) out[0] = out[0]! ^ 0xff
        return out
      }
      case 'wrong-magic': {
        const out = frame.slice()
        out.set(foreignMagic(this.#network), 0)
        return out
      }
      case 'bad-checksum': {
        const out = frame.slice()
        out[CHECKSUM_OFFSET] = out[CHECKSUM_OFFSET]! ^ 0xff
        return out
      }
      default: {
        // 'oversized': the frame's header with a length one above the global cap.
        const out = frame.slice(0, HEADER_BYTES)
        const n = this.#network.maxMessageBytes + 1
        out[LENGTH_OFFSET] = n & 0xff
        out[LENGTH_OFFSET + 1] = (n >>> 8) & 0xff
        out[LENGTH_OFFSET + 2] = (n >>> 16) & 0xff
        out[LENGTH_OFFSET + 3] = (n >>> 24) & 0xff
        return out
      }
    }
  }

  #queueDribble(bytes: Uint8Array): void {
    this.#dribble.push(bytes)
    this.#dribbleBytes += bytes.length
    // An idle dribble sends its first byte at once, the next ones a virtual minute apart.
    if (this.#dribbleTimer === undefined) this.#dribbleOne()
  }

  readonly #dribbleOne = (): void => {
    this.#dribbleTimer = undefined
    if (this.#closed || this.#dribble.length === 0) return
    const head = this.#dribble[0]!
    this.#inner.send(head.subarray(this.#dribbleOffset, this.#dribbleOffset + 1))
    this.#dribbleBytes--
    if (++this.#dribbleOffset === head.length) {
      this.#dribble.shift()
      this.#dribbleOffset = 0
    }
    // The pause follows every byte, so the next one (queued now or later) waits a full interval.
    this.#dribbleTimer = this.#clock.setTimer(SLOWLORIS_BYTE_INTERVAL_MS, this.#dribbleOne)
  }

  #stopDribble(): void {
    this.#dribbleTimer?.()
    this.#dribbleTimer = undefined
    this.#dribble.length = 0
    this.#dribbleOffset = 0
    this.#dribbleBytes = 0
  }
}
