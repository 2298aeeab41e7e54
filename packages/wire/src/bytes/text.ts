/**
 * Text fields (CompactSize length + bytes, Core's "var_str"): what the
 * protocol calls a string is any bytes at all, not necessarily UTF-8.
 *
 * Decoded messages show such a field as a JS string (invalid UTF-8 becomes
 * U+FFFD) and, when that string does not give the same bytes back, also
 * keep the bytes as received; the encoder writes those bytes while they
 * still decode to the string beside them. So a received message re-encodes
 * byte for byte, a message built from a plain string needs nothing more,
 * and a string edited after decoding is sent as the new text (the stale
 * bytes no longer match it and are ignored).
 */
import type { ByteReader } from './reader.js'

// Stateless between calls (no `stream` option), so one instance serves all.
// ignoreBOM keeps a leading U+FEFF in the string: it is part of the field,
// and stripping it would make valid UTF-8 re-encode to fewer bytes.
const textDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })
const textEncoder = new TextEncoder()

/** UTF-8 text of the bytes; invalid sequences become U+FFFD (never throws). A leading BOM is kept as U+FEFF. */
export function decodeText(bytes: Uint8Array): string {
  return textDecoder.decode(bytes)
}

/** The UTF-8 bytes of `text` (lone surrogates become U+FFFD). */
export function encodeText(text: string): Uint8Array<ArrayBuffer> {
  return textEncoder.encode(text)
}

/** A text field as read: the string to show, and the bytes when the string alone does not give them back. */
export interface DecodedText {
  /** The bytes as UTF-8, invalid sequences as U+FFFD. */
  readonly text: string
  /** The bytes as received, only when `encodeText(text)` differs from them (invalid UTF-8); a copy. */
  readonly raw: Uint8Array | undefined
}

/**
 * Read a CompactSize-prefixed text field of at most `limit` bytes (OVERSIZE
 * above, TRUNCATED when the bytes are not there, NON_CANONICAL for a
 * non-shortest length).
 */
export function readText(r: ByteReader, limit: number, field: string): DecodedText {
  const n = r.count(limit, field, 1)
  const bytes = r.view(n, field)
  const text = decodeText(bytes)
  return { text, raw: sameBytes(encodeText(text), bytes) ? undefined : bytes.slice() }
}

/**
 * The bytes a text field is sent as: `raw` when given and it still decodes
 * to `text` (a received field, unchanged), otherwise the UTF-8 of `text`.
 */
export function textBytes(text: string, raw?: Uint8Array): Uint8Array {
  if (raw !== undefined && decodeText(raw) === text) return raw
  return encodeText(text)
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
