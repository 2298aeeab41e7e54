/**
 * The table of every message codec, and typed encode/decode of payloads.
 *
 * The `Message` union is derived from the table, so adding a codec here is
 * all it takes to make a command known everywhere.
 */
import { ByteReader } from '../bytes/reader.js'
import { ByteWriter } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import type { Codec, CodecContext, UnknownMessage } from './codec.js'
import { addrCodec, getaddrCodec } from './addr.js'
import { addrv2Codec, sendaddrv2Codec } from './addrv2.js'
import { blockCodec } from './block.js'
import { filterclearCodec, filteraddCodec, filterloadCodec, merkleblockCodec } from './bloom.js'
import { blocktxnCodec, cmpctblockCodec, getblocktxnCodec, sendcmpctCodec } from './compact.js'
import { feefilterCodec } from './feefilter.js'
import {
  cfcheckptCodec,
  cfheadersCodec,
  cfilterCodec,
  getcfcheckptCodec,
  getcfheadersCodec,
  getcfiltersCodec,
} from './filters.js'
import { headersCodec, sendheadersCodec } from './headers.js'
import { getdataCodec, invCodec, notfoundCodec } from './inventory.js'
import { getblocksCodec, getheadersCodec } from './locator.js'
import { mempoolCodec } from './mempool.js'
import { pingCodec, pongCodec } from './ping.js'
import { rejectCodec } from './reject.js'
import { txCodec } from './tx.js'
import { sendtxrcnclCodec } from './txrcncl.js'
import { verackCodec, versionCodec } from './version.js'
import { wtxidrelayCodec } from './wtxidrelay.js'

/** Every codec, in a fixed order. */
export const CODECS = [
  versionCodec,
  verackCodec,
  pingCodec,
  pongCodec,
  getaddrCodec,
  addrCodec,
  addrv2Codec,
  sendaddrv2Codec,
  invCodec,
  getdataCodec,
  notfoundCodec,
  getblocksCodec,
  getheadersCodec,
  headersCodec,
  sendheadersCodec,
  txCodec,
  blockCodec,
  mempoolCodec,
  rejectCodec,
  feefilterCodec,
  sendcmpctCodec,
  cmpctblockCodec,
  getblocktxnCodec,
  blocktxnCodec,
  filterloadCodec,
  filteraddCodec,
  filterclearCodec,
  merkleblockCodec,
  getcfiltersCodec,
  cfilterCodec,
  getcfheadersCodec,
  cfheadersCodec,
  getcfcheckptCodec,
  cfcheckptCodec,
  wtxidrelayCodec,
  sendtxrcnclCodec,
] as const

/** The message type a codec handles, e.g. `CodecMessage<typeof pingCodec>` is PingMessage. */
export type CodecMessage<C> = C extends Codec<infer M> ? M : never

/** Every known message, discriminated by `command`. */
export type KnownMessage = CodecMessage<(typeof CODECS)[number]>
/** Any decoded message: a known one, or an unknown command kept raw. */
export type Message = KnownMessage | UnknownMessage
/** Command names we have codecs for. */
export type Command = KnownMessage['command']
/** The message type of one command, e.g. `MessageOf<'version'>`. */
export type MessageOf<C extends Command> = Extract<KnownMessage, { command: C }>

const BY_COMMAND: ReadonlyMap<string, Codec<KnownMessage>> = new Map(
  (CODECS as readonly Codec<any>[]).map((c) => [c.command, c as Codec<KnownMessage>]),
)

/** The codec of a command, or undefined when we do not know it. */
export function codecFor(command: string): Codec<KnownMessage> | undefined {
  return BY_COMMAND.get(command)
}

/** Is this a command we have a codec for? */
export function isKnownCommand(command: string): command is Command {
  return BY_COMMAND.has(command)
}

/** Per-command payload cap, or undefined for an unknown command. */
export function maxPayloadFor(command: string, ctx: CodecContext): number | undefined {
  return BY_COMMAND.get(command)?.maxPayload(ctx)
}

/**
 * Serialize a message's payload into `w`, after what it already holds (the
 * frame encoder leaves room for the header this way, see encodeMessageFrame).
 */
export function encodePayloadTo(w: ByteWriter, msg: KnownMessage | UnknownMessage, ctx: CodecContext): void {
  if (msg.command === 'unknown') {
    w.bytes((msg as UnknownMessage).payload)
    return
  }
  const codec = BY_COMMAND.get(msg.command)
  if (!codec) throw new WireError('ENCODE_RANGE', `no codec for command '${msg.command}'`)
  codec.encode(w, msg as KnownMessage, ctx)
}

/** Serialize a message's payload (no header). */
export function encodePayload(msg: KnownMessage | UnknownMessage, ctx: CodecContext): Uint8Array<ArrayBuffer> {
  if (msg.command === 'unknown') return (msg as UnknownMessage).payload.slice()
  const codec = BY_COMMAND.get(msg.command)
  if (!codec) throw new WireError('ENCODE_RANGE', `no codec for command '${msg.command}'`)
  const w = new ByteWriter(64)
  codec.encode(w, msg as KnownMessage, ctx)
  return w.finish()
}

/**
 * Decode a payload for `command`. Unknown commands come back as
 * UnknownMessage; known ones must consume the payload exactly
 * (TRAILING_BYTES otherwise). Throws only WireError, with `detail.command` set.
 */
export function decodePayload(command: string, payload: Uint8Array, ctx: CodecContext): Message {
  const codec = BY_COMMAND.get(command)
  if (!codec) return { command: 'unknown', rawCommand: command, payload }
  const r = new ByteReader(payload)
  try {
    const msg = codec.decode(r, ctx)
    r.done(command)
    return msg
  } catch (e) {
    if (e instanceof WireError) throw e.withDetail({ command })
    // A non-WireError escaping a codec is a bug; still report it typed.
    throw new WireError('INVALID_VALUE', `${command}: ${String(e)}`, { command })
  }
}

/**
 * The commands whose codecs may read their payload in place, inside the
 * larger array that carries it (a ByteReader over `bytes[start .. end]`):
 * their messages hold values and subarrays, never offsets. The others
 * (transactions, blocks and the messages that carry them record where each
 * transaction lies; filters and headers are large anyway) always get a
 * payload array of their own, as decodePayload gives them.
 */
const IN_PLACE: ReadonlyMap<string, Codec<KnownMessage>> = new Map(
  (
    [
      versionCodec,
      verackCodec,
      pingCodec,
      pongCodec,
      getaddrCodec,
      addrCodec,
      addrv2Codec,
      sendaddrv2Codec,
      invCodec,
      getdataCodec,
      notfoundCodec,
      getblocksCodec,
      getheadersCodec,
      sendheadersCodec,
      mempoolCodec,
      feefilterCodec,
      sendcmpctCodec,
      getblocktxnCodec,
      filterclearCodec,
      getcfiltersCodec,
      getcfheadersCodec,
      getcfcheckptCodec,
      wtxidrelayCodec,
      sendtxrcnclCodec,
    ] as readonly Codec<any>[]
  ).map((c) => [c.command, c as Codec<KnownMessage>]),
)

/**
 * `decodePayload` of the payload `bytes[start .. end]`: the same message or
 * the same error. A small control or inventory message (see IN_PLACE) is
 * read in place, without a subarray; should that fail, the payload is
 * decoded again as an array of its own, so that the error's offsets count
 * from the payload's start as ever. Offsets must lie in `bytes`.
 */
export function decodePayloadRange(command: string, bytes: Uint8Array, start: number, end: number, ctx: CodecContext): Message {
  const codec = start === 0 && end === bytes.length ? undefined : IN_PLACE.get(command)
  if (codec === undefined) return decodePayload(command, start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), ctx)
  const r = new ByteReader(bytes, start, end)
  try {
    const msg = codec.decode(r, ctx)
    r.done(command)
    return msg
  } catch {
    // Rare (a peer's malformed payload): the canonical error, from the payload alone.
    return decodePayload(command, bytes.subarray(start, end), ctx)
  }
}
