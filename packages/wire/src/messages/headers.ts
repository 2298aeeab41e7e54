/**
 * headers / sendheaders.
 *
 * `headers` answers getheaders with up to MAX_HEADERS_RESULTS block headers.
 * Each entry is the 80-byte header followed by a CompactSize transaction
 * count, a leftover of the block serialization that is always 0:
 *   CompactSize count | count x (80-byte header | CompactSize 0)
 * Core reads and ignores the count; we require 0 (INVALID_VALUE otherwise),
 * as btcd does, since no honest peer sends anything else.
 *
 * `sendheaders` (BIP130, SENDHEADERS_VERSION) is empty and asks the peer to
 * announce new blocks with `headers` instead of `inv`.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { compactSizeLength } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import { BLOCK_HEADER_BYTES, type BlockHeader, decodeBlockHeader, encodeBlockHeader } from '../block/header.js'
import { type Codec, emptyCodec } from './codec.js'

/** Core's MAX_HEADERS_RESULTS: most headers in one message. More is misbehaviour. */
export const MAX_HEADERS_RESULTS = 2000
/** Bytes of one entry: the header and its one-byte zero tx count. */
export const HEADERS_ENTRY_BYTES = BLOCK_HEADER_BYTES + 1
/** Largest headers payload: CompactSize(2000) + 2000 x 81. */
export const MAX_HEADERS_PAYLOAD = compactSizeLength(MAX_HEADERS_RESULTS) + MAX_HEADERS_RESULTS * HEADERS_ENTRY_BYTES

/** headers: block headers, oldest first, each connecting to the one before. */
export interface HeadersMessage {
  readonly command: 'headers'
  readonly headers: readonly BlockHeader[]
}

/** sendheaders: announce blocks to me with headers. */
export interface SendheadersMessage {
  readonly command: 'sendheaders'
}

/** headers: a list of 80-byte block headers. */
export const headersCodec: Codec<HeadersMessage> = {
  command: 'headers',
  maxPayload: () => MAX_HEADERS_PAYLOAD,
  encode(w: ByteWriter, m: HeadersMessage) {
    if (m.headers.length > MAX_HEADERS_RESULTS) {
      throw new WireError('ENCODE_RANGE', `headers: ${m.headers.length} headers exceeds ${MAX_HEADERS_RESULTS}`, {
        field: 'MAX_HEADERS_RESULTS',
        limit: MAX_HEADERS_RESULTS,
        actual: m.headers.length,
      })
    }
    w.compactSize(m.headers.length)
    for (const h of m.headers) {
      encodeBlockHeader(w, h)
      w.u8(0)
    }
  },
  decode(r: ByteReader): HeadersMessage {
    const n = r.count(MAX_HEADERS_RESULTS, 'headers', HEADERS_ENTRY_BYTES)
    const headers: BlockHeader[] = []
    for (let i = 0; i < n; i++) {
      headers.push(decodeBlockHeader(r))
      const at = r.offset
      const txCount = r.compactSize()
      if (txCount !== 0) {
        throw new WireError('INVALID_VALUE', `headers: entry ${i} has tx count ${txCount}, must be 0`, {
          field: 'tx count',
          offset: at,
          expected: 0,
          actual: txCount,
        })
      }
    }
    return { command: 'headers', headers }
  },
}

/** sendheaders (BIP130): empty. */
export const sendheadersCodec: Codec<SendheadersMessage> = emptyCodec('sendheaders')
