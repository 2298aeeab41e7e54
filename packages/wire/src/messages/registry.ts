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
