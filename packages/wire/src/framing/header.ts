/**
 * The 24-byte v1 message header:
 *
 *   magic      4 bytes   network start string
 *   command   12 bytes   ASCII, NUL padded
 *   length     4 bytes   u32 LE payload length
 *   checksum   4 bytes   first 4 bytes of sha256d(payload)
 *
 * BSV extended messages (protocol 70016 on BSV) put command 'extmsg',
 * length 0xffffffff and checksum 0 in that header, then 20 more bytes:
 *
 *   command   12 bytes   the real command
 *   length     8 bytes   u64 LE payload length (payloads over 4 GB)
 *
 * and carry no checksum.
 */
import { WireError } from '../errors.js'
import { sha256d } from '../hash/sha256.js'
import { SHORT_HASH_MAX_BYTES, shortChecksum } from '../hash/short-hash.js'

/** Size of the v1 message header (magic, command, length, checksum), in bytes. */
export const HEADER_BYTES = 24
/** Size of the command field, in bytes: ASCII, NUL padded. */
export const COMMAND_BYTES = 12
/** Extra header bytes of a BSV extended message. */
export const EXT_HEADER_EXTRA_BYTES = 20
/** Command in the outer header of a BSV extended message; the real command follows in the extra bytes. */
export const EXTMSG_COMMAND = 'extmsg'
/** Length field value that marks an extended message. */
export const EXTMSG_LENGTH_MARKER = 0xffffffff

/** Bitcoin Core's MAX_PROTOCOL_MESSAGE_LENGTH: 4,000,000 bytes. */
export const MAX_PROTOCOL_MESSAGE_LENGTH = 4_000_000

/** Is `c` a byte allowed in a command (printable ASCII, as Core's IsCommandValid)? */
export function isCommandByte(c: number): boolean {
  return c >= 0x20 && c <= 0x7e
}

/**
 * Read the 12-byte command field at `offset`: printable ASCII then only NUL
 * padding. Returns the command string or throws BAD_COMMAND.
 */
export function readCommand(bytes: Uint8Array, offset: number): string {
  let end = offset
  const stop = offset + COMMAND_BYTES
  while (end < stop && bytes[end] !== 0) {
    if (!isCommandByte(bytes[end]!)) {
      throw new WireError('BAD_COMMAND', `command byte 0x${bytes[end]!.toString(16)} is not printable ASCII`, {
        offset: end,
        actual: bytes[end]!,
      })
    }
    end++
  }
  if (end === offset) throw new WireError('BAD_COMMAND', 'empty command', { offset })
  for (let i = end; i < stop; i++) {
    if (bytes[i] !== 0) throw new WireError('BAD_COMMAND', 'command padding is not all NUL', { offset: i })
  }
  let s = ''
  for (let i = offset; i < end; i++) s += String.fromCharCode(bytes[i]!)
  return s
}

function writeCommand(out: Uint8Array, offset: number, command: string): void {
  if (command.length === 0 || command.length > COMMAND_BYTES) {
    throw new WireError('ENCODE_RANGE', `command must be 1..12 characters: '${command}'`, { actual: command.length })
  }
  for (let i = 0; i < command.length; i++) {
    const c = command.charCodeAt(i)
    if (!isCommandByte(c)) throw new WireError('ENCODE_RANGE', `command has a non-printable character: '${command}'`)
    out[offset + i] = c
  }
}

/** The 4-byte checksum of a payload. */
export function checksum(payload: Uint8Array): Uint8Array {
  return sha256d(payload).subarray(0, 4)
}

/** A 24-byte header for `payload` (which is not copied). */
export function encodeHeader(magic: Uint8Array, command: string, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(HEADER_BYTES)
  writeHeader(out, magic, command, payload)
  return out
}

function writeHeader(out: Uint8Array, magic: Uint8Array, command: string, payload: Uint8Array): void {
  writeHeaderFor(out, magic, command, payload, 0, payload.length)
}

/** The header of the payload `src[start .. end]` into `out[0 .. 24]`. */
function writeHeaderFor(out: Uint8Array, magic: Uint8Array, command: string, src: Uint8Array, start: number, end: number): void {
  if (magic.length !== 4) throw new WireError('ENCODE_RANGE', 'magic must be 4 bytes', { actual: magic.length })
  const n = end - start
  if (n > 0xfffffffe) {
    throw new WireError('ENCODE_RANGE', 'payload too large for a v1 header; use an extended message', { actual: n })
  }
  out.set(magic, 0)
  writeCommand(out, 4, command)
  out[16] = n & 0xff
  out[17] = (n >>> 8) & 0xff
  out[18] = (n >>> 16) & 0xff
  out[19] = (n >>> 24) & 0xff
  if (n <= SHORT_HASH_MAX_BYTES) {
    // Most messages: sha256d's first 4 bytes as a number, with no digest or subarray made.
    const c = shortChecksum(src, start, end)
    out[20] = c >>> 24
    out[21] = (c >>> 16) & 0xff
    out[22] = (c >>> 8) & 0xff
    out[23] = c & 0xff
  } else out.set(checksum(start === 0 && end === src.length ? src : src.subarray(start, end)), 20)
}

/**
 * Writes the 24-byte header into `frame[0 .. 24]` for the payload that
 * follows it in the same array (`frame[24 ..]`): a frame encoded with room
 * for its header, completed without a second array or a copy.
 */
export function writeHeaderInPlace(frame: Uint8Array, magic: Uint8Array, command: string): void {
  if (frame.length < HEADER_BYTES) throw new WireError('ENCODE_RANGE', 'a frame is at least its header', { actual: frame.length })
  writeHeaderFor(frame, magic, command, frame, HEADER_BYTES, frame.length)
}

/** Header and payload in one new array: the bytes of one framed message. */
export function encodeFrame(magic: Uint8Array, command: string, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(HEADER_BYTES + payload.length)
  writeHeader(out, magic, command, payload)
  out.set(payload, HEADER_BYTES)
  return out
}

/**
 * The 44-byte header of a BSV extended message for a payload of `length`
 * bytes (which may exceed 4 GB; the payload is sent separately, unhashed).
 */
export function encodeExtHeader(magic: Uint8Array, command: string, length: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(length) || length < 0) throw new WireError('ENCODE_RANGE', `bad extended length ${length}`)
  const out = new Uint8Array(HEADER_BYTES + EXT_HEADER_EXTRA_BYTES)
  out.set(magic, 0)
  writeCommand(out, 4, EXTMSG_COMMAND)
  out[16] = out[17] = out[18] = out[19] = 0xff
  // checksum bytes 20..23 stay zero
  writeCommand(out, 24, command)
  let lo = length % 0x100000000
  let hi = Math.floor(length / 0x100000000)
  for (let i = 0; i < 4; i++) {
    out[36 + i] = lo & 0xff
    lo = lo >>> 8
    out[40 + i] = hi & 0xff
    hi = hi >>> 8
  }
  return out
}
