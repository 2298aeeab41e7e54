/**
 * reject (BIP61, legacy): a peer tells us why it refused one of our
 * messages. Core stopped sending it by default in 0.18 and removed it in 0.20; other
 * implementations (btcd, some forks) still send it, so we decode it.
 *   varstr message (<= 12) | u8 ccode | varstr reason (<= 111) | [32-byte data]
 * For rejected `tx` and `block` messages the data is the object's hash. We
 * read it whenever bytes follow the reason, whatever the message, and
 * tolerate its absence (as btcd and old Core readers did for other commands).
 *
 * `message` and `reason` are any bytes on the wire, shown as UTF-8; when
 * they are not valid UTF-8 the decoder also keeps the bytes
 * (`messageBytes`, `reasonBytes`) so the message re-encodes as received.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import { readText, textBytes } from '../bytes/text.js'
import type { Codec } from './codec.js'

/** Longest `message` field: a command name (Core's CMessageHeader::COMMAND_SIZE). */
export const MAX_REJECT_COMMAND_LENGTH = 12
/** Core's MAX_REJECT_MESSAGE_LENGTH: longest `reason` field, in bytes. */
export const MAX_REJECT_MESSAGE_LENGTH = 111
/** Bytes of the optional data field (a tx or block hash). */
export const REJECT_DATA_BYTES = 32
/** Largest payload: 1 + 12 + 1 + 1 + 111 + 32. */
export const MAX_REJECT_PAYLOAD = 1 + MAX_REJECT_COMMAND_LENGTH + 1 + 1 + MAX_REJECT_MESSAGE_LENGTH + REJECT_DATA_BYTES

/** BIP61 reject codes. Unknown codes are decoded as-is. */
export const RejectCode = {
  MALFORMED: 0x01,
  INVALID: 0x10,
  OBSOLETE: 0x11,
  DUPLICATE: 0x12,
  NONSTANDARD: 0x40,
  DUST: 0x41,
  INSUFFICIENTFEE: 0x42,
  CHECKPOINT: 0x43,
} as const

/** Name of a reject code, e.g. 'NONSTANDARD'; unknown ones as 'UNKNOWN(0x..)'. */
export function rejectCodeName(ccode: number): string {
  for (const [name, v] of Object.entries(RejectCode)) if (v === ccode) return name
  return `UNKNOWN(0x${ccode.toString(16).padStart(2, '0')})`
}

/** reject: why a message of ours was refused. */
export interface RejectMessage {
  readonly command: 'reject'
  /** The command of the refused message, e.g. 'tx'. */
  readonly message: string
  /** A RejectCode value (u8). */
  readonly ccode: number
  /** Human-readable reason, e.g. 'bad-txns-inputs-missingorspent'. */
  readonly reason: string
  /** The refused object's hash (internal byte order), when sent. */
  readonly data?: Uint8Array
  /**
   * The `message` field's bytes as received, set by the decoder only when
   * they are not valid UTF-8. Encoded instead of `message` while they still
   * decode to it; leave unset to send `message` as UTF-8.
   */
  readonly messageBytes?: Uint8Array
  /** The `reason` field's bytes as received, when not valid UTF-8; see `messageBytes`. */
  readonly reasonBytes?: Uint8Array
}

function checkedText(s: string, raw: Uint8Array | undefined, limit: number, field: string): Uint8Array {
  const b = textBytes(s, raw)
  if (b.length > limit) {
    throw new WireError('ENCODE_RANGE', `reject ${field} is ${b.length} bytes, limit ${limit}`, { field, limit, actual: b.length })
  }
  return b
}

/** reject (BIP61). */
export const rejectCodec: Codec<RejectMessage> = {
  command: 'reject',
  maxPayload: () => MAX_REJECT_PAYLOAD,
  encode(w: ByteWriter, m: RejectMessage) {
    w.varBytes(checkedText(m.message, m.messageBytes, MAX_REJECT_COMMAND_LENGTH, 'message'))
    w.u8(m.ccode)
    w.varBytes(checkedText(m.reason, m.reasonBytes, MAX_REJECT_MESSAGE_LENGTH, 'reason'))
    if (m.data !== undefined) {
      if (m.data.length !== REJECT_DATA_BYTES) {
        throw new WireError('ENCODE_RANGE', `reject data must be ${REJECT_DATA_BYTES} bytes, got ${m.data.length}`, {
          expected: REJECT_DATA_BYTES,
          actual: m.data.length,
        })
      }
      w.bytes(m.data)
    }
  },
  decode(r: ByteReader): RejectMessage {
    const message = readText(r, MAX_REJECT_COMMAND_LENGTH, 'reject message')
    const ccode = r.u8()
    const reason = readText(r, MAX_REJECT_MESSAGE_LENGTH, 'reject reason')
    const m: { -readonly [K in keyof RejectMessage]: RejectMessage[K] } = {
      command: 'reject',
      message: message.text,
      ccode,
      reason: reason.text,
    }
    if (r.remaining > 0) m.data = r.copy(REJECT_DATA_BYTES, 'reject data')
    // The raw bytes only when the text alone would not give them back.
    if (message.raw !== undefined) m.messageBytes = message.raw
    if (reason.raw !== undefined) m.reasonBytes = reason.raw
    return m
  },
}
