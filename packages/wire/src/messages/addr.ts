/**
 * getaddr / addr: address gossip in the legacy (pre-BIP155) format.
 * `getaddr` is empty and asks for addresses; `addr` carries up to
 * MAX_ADDR_TO_SEND timestamped addresses of 30 bytes each (u32 time,
 * u64 services, 16-byte IPv6 host, u16 big-endian port).
 * Tor v3, I2P and CJDNS addresses do not fit in 16 bytes: see addrv2.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { compactSizeLength } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import { type Codec, emptyCodec } from './codec.js'
import {
  decodeTimestampedNetAddress,
  encodeTimestampedNetAddress,
  TIMESTAMPED_NET_ADDRESS_BYTES,
  type TimestampedNetAddress,
} from './netaddr.js'

/**
 * Core's MAX_ADDR_TO_SEND: most entries in one addr (or addrv2) message.
 * Core treats more as misbehaviour and disconnects.
 */
export const MAX_ADDR_TO_SEND = 1000
/** Largest addr payload: CompactSize(1000) + 1000 entries of 30 bytes. */
export const MAX_ADDR_PAYLOAD = compactSizeLength(MAX_ADDR_TO_SEND) + MAX_ADDR_TO_SEND * TIMESTAMPED_NET_ADDRESS_BYTES

/** getaddr: please send me addresses. */
export interface GetaddrMessage {
  readonly command: 'getaddr'
}

/** addr: up to MAX_ADDR_TO_SEND timestamped addresses. */
export interface AddrMessage {
  readonly command: 'addr'
  readonly addresses: readonly TimestampedNetAddress[]
}

/** getaddr: empty; asks the peer for addresses it knows. */
export const getaddrCodec: Codec<GetaddrMessage> = emptyCodec('getaddr')

/** addr: CompactSize count, then 30-byte entries. */
export const addrCodec: Codec<AddrMessage> = {
  command: 'addr',
  maxPayload: () => MAX_ADDR_PAYLOAD,
  encode(w: ByteWriter, m: AddrMessage) {
    if (m.addresses.length > MAX_ADDR_TO_SEND) {
      throw new WireError('ENCODE_RANGE', `addr: ${m.addresses.length} entries exceeds ${MAX_ADDR_TO_SEND}`, {
        field: 'MAX_ADDR_TO_SEND',
        limit: MAX_ADDR_TO_SEND,
        actual: m.addresses.length,
      })
    }
    w.compactSize(m.addresses.length)
    for (const a of m.addresses) encodeTimestampedNetAddress(w, a)
  },
  decode(r: ByteReader): AddrMessage {
    const n = r.count(MAX_ADDR_TO_SEND, 'addr entries', TIMESTAMPED_NET_ADDRESS_BYTES)
    const addresses: TimestampedNetAddress[] = []
    for (let i = 0; i < n; i++) addresses.push(decodeTimestampedNetAddress(r))
    return { command: 'addr', addresses }
  },
}
