/**
 * Bytes no honest Bitcoin node sends, shared by the hostile-peer harness
 * (test/harness/hostile-peer.ts) and the interop bad-actor step
 * (test/interop/bad-actors.ts).
 *
 * Runtime-neutral: no node:* import, no Buffer, no `process`, so the interop
 * steps that use it still run under Deno and Bun. Deterministic: no clock,
 * no Math.random.
 */
import { concatBytes, encodeMessage, ipFromString, type FramingParams, type KnownMessage } from '@bitp2p/wire'
import { encodeFrame } from '@bitp2p/wire/codecs'
import { HEADER_BYTES } from '@bitp2p/wire/limits'

/** Byte offset of the length field in a v1 frame header. */
const LENGTH_OFFSET = 16
/** Byte offset of the checksum field in a v1 frame header. */
const CHECKSUM_OFFSET = 20
/** The loopback address every hostile peer claims in its version message. */
const LOOPBACK_V4 = '127.0.0.1'

/**
 * A frame header for `command` announcing `length` payload bytes, with a
 * zero checksum: for attacks refused on the header alone (the checksum is
 * never reached).
 */
export function frameHeader(magic: Uint8Array, command: string, length: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES)
  h.set(magic, 0)
  for (let i = 0; i < command.length; i++) h[4 + i] = command.charCodeAt(i)
  new DataView(h.buffer).setUint32(LENGTH_OFFSET, length, true)
  return h
}

/**
 * `n` bytes of deterministic noise (xorshift32, 7-bit) starting with 'G',
 * as a stray HTTP request would: never a network magic's first byte.
 */
export function noise(n: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = 0x2545f491
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0x7f
  }
  out[0] = 0x47 // 'G', as in "GET / HTTP/1.1"
  return out
}

/** A copy of a framed message with one checksum bit flipped: framing BAD_CHECKSUM once the payload is in. */
export function withBadChecksum(frame: Uint8Array): Uint8Array {
  const out = frame.slice()
  out[CHECKSUM_OFFSET] ^= 0x01
  return out
}

/** A plausible version message from a full node on loopback (protocol 70016, NETWORK|WITNESS). */
export function hostileVersion(nonce: bigint, userAgent = '/hostile:0.1/'): KnownMessage {
  const loopback = { services: 0n, host: ipFromString(LOOPBACK_V4), port: 0 }
  return {
    command: 'version',
    version: 70016,
    services: 0x9n, // NODE_NETWORK | NODE_WITNESS
    timestamp: 0n,
    addrRecv: loopback,
    addrFrom: loopback,
    nonce,
    userAgent,
    startHeight: 0,
    relay: true,
  }
}

/** A version message framed for `network` (e.g. mainnet's, to send where regtest is expected). */
export function versionFrame(network: FramingParams, nonce: bigint): Uint8Array {
  return encodeMessage(hostileVersion(nonce), network)
}

/** CompactSize 2^64 - 1: the largest count a 9-byte prefix can announce. */
export const COMPACT_SIZE_U64_MAX = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
/** CompactSize 2^32 - 1 (the 5-byte form). */
export const COMPACT_SIZE_U32_MAX = Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0xff)

/**
 * Well-framed messages whose payload announces a count far above the
 * command's limit in a few bytes. Each must be refused as 'too-many-items'
 * (an OVERSIZE payload) without any allocation sized by the count.
 * In order: what each announces.
 */
export function hugeCountFrames(magic: Uint8Array): { readonly command: string; readonly announces: string; readonly frame: Uint8Array }[] {
  const version = Uint8Array.of(0x80, 0x11, 0x01, 0x00) // 70016, u32 LE
  const f = (command: string, announces: string, payload: Uint8Array) => ({ command, announces, frame: encodeFrame(magic, command, payload) })
  return [
    f('inv', '2^64-1 inventory items', COMPACT_SIZE_U64_MAX),
    f('addr', '2^32-1 addresses', COMPACT_SIZE_U32_MAX),
    f('headers', '2001 headers (limit 2000)', Uint8Array.of(0xfd, 0xd1, 0x07)),
    f('getheaders', 'a locator of 2^32-1 hashes', concatBytes(version, COMPACT_SIZE_U32_MAX)),
    f('tx', 'a transaction of 2^32-1 inputs', concatBytes(Uint8Array.of(0x01, 0x00, 0x00, 0x00), COMPACT_SIZE_U32_MAX)),
  ]
}
