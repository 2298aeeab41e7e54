/**
 * BIP324 message types: the first bytes of a packet's contents.
 *
 *   1..255   a one-byte short id (the BIP's table; undefined ids are dropped)
 *   0        followed by the 12-byte ASCII command, NUL padded, as in v1
 *
 * We send the short id whenever the command has one and the long form
 * otherwise (version, verack, sendheaders, wtxidrelay, ...). We accept both
 * forms for every command, as the BIP requires.
 */
import { isCommandByte } from '@bitp2p/wire/codecs'
import { COMMAND_BYTES } from '@bitp2p/wire/limits'
import { LONG_TYPE_BYTES } from './constants.js'
import { V2Error } from './errors.js'

/**
 * The short message ids of BIP324 (index = id; 0 means "12 bytes follow").
 * Ids 29 and up are undefined in the BIP (some are proposed elsewhere);
 * packets using them are authenticated and then dropped.
 */
export const SHORT_IDS: readonly string[] = Object.freeze([
  '', 'addr', 'block', 'blocktxn', 'cmpctblock', 'feefilter', 'filteradd', 'filterclear',
  'filterload', 'getblocks', 'getblocktxn', 'getdata', 'getheaders', 'headers', 'inv', 'mempool',
  'merkleblock', 'notfound', 'ping', 'pong', 'sendcmpct', 'tx', 'getcfilters', 'cfilter',
  'getcfheaders', 'cfheaders', 'getcfcheckpt', 'cfcheckpt', 'addrv2',
])

const SHORT_ID_OF: ReadonlyMap<string, number> = new Map(SHORT_IDS.map((c, i) => [c, i] as const).filter(([c]) => c !== ''))

/** The short id of `command`, or undefined when it has none. */
export function shortIdOf(command: string): number | undefined {
  return SHORT_ID_OF.get(command)
}

/** Size of the message-type field `command` is sent with: 1 (short id) or 13. */
export function typeBytesFor(command: string): number {
  return SHORT_ID_OF.has(command) ? 1 : LONG_TYPE_BYTES
}

/**
 * Writes the message type of `command` at `out[offset]` and returns its size.
 * @throws V2Error RANGE for a command that is not 1..12 printable ASCII characters.
 */
export function writeMessageType(out: Uint8Array, offset: number, command: string): number {
  const id = SHORT_ID_OF.get(command)
  if (id !== undefined) {
    out[offset] = id
    return 1
  }
  checkCommand(command)
  out[offset] = 0
  for (let i = 0; i < COMMAND_BYTES; i++) out[offset + 1 + i] = i < command.length ? command.charCodeAt(i) : 0
  return LONG_TYPE_BYTES
}

/** Throws RANGE unless `command` is 1..12 printable ASCII characters (what a v1 header can carry). */
export function checkCommand(command: string): void {
  if (command.length === 0 || command.length > COMMAND_BYTES) {
    throw new V2Error('RANGE', `command must be 1..12 characters: '${command}'`, { actual: command.length })
  }
  for (let i = 0; i < command.length; i++) {
    if (!isCommandByte(command.charCodeAt(i))) throw new V2Error('RANGE', `command has a non-printable character: '${command}'`)
  }
}

/** Why an authenticated packet carried no usable message type (such packets are dropped, as Bitcoin Core does). */
export type DropReason =
  /** Empty contents: no type byte at all. */
  | 'EMPTY'
  /** A short id the BIP does not define. */
  | 'UNKNOWN_SHORT_ID'
  /** Long form with fewer than 12 command bytes, non-ASCII bytes, no command, or non-NUL padding. */
  | 'BAD_COMMAND'

/** The message type read from the start of the contents. */
export type MessageType =
  | { readonly ok: true; readonly command: string; readonly typeBytes: number; readonly shortId?: number }
  | { readonly ok: false; readonly reason: DropReason; readonly shortId?: number }

/**
 * Reads the message type at the start of `contents` (which may be only a
 * prefix of the contents, at least min(contentsLength, 13) bytes long).
 * Follows Bitcoin Core's GetMessageType: printable ASCII up to the first NUL,
 * then only NULs; anything else is a drop, never an error.
 */
export function readMessageType(contents: Uint8Array, contentsLength: number): MessageType {
  if (contentsLength === 0) return { ok: false, reason: 'EMPTY' }
  const first = contents[0]!
  if (first !== 0) {
    const command = first < SHORT_IDS.length ? SHORT_IDS[first] : undefined
    return command === undefined ? { ok: false, reason: 'UNKNOWN_SHORT_ID', shortId: first } : { ok: true, command, typeBytes: 1, shortId: first }
  }
  if (contentsLength < LONG_TYPE_BYTES) return { ok: false, reason: 'BAD_COMMAND' }
  let end = 1
  while (end < LONG_TYPE_BYTES && contents[end] !== 0) {
    if (!isCommandByte(contents[end]!)) return { ok: false, reason: 'BAD_COMMAND' }
    end++
  }
  if (end === 1) return { ok: false, reason: 'BAD_COMMAND' }
  for (let i = end; i < LONG_TYPE_BYTES; i++) if (contents[i] !== 0) return { ok: false, reason: 'BAD_COMMAND' }
  let command = ''
  for (let i = 1; i < end; i++) command += String.fromCharCode(contents[i]!)
  return { ok: true, command, typeBytes: LONG_TYPE_BYTES }
}
