/**
 * feefilter (BIP133, FEEFILTER_VERSION): the lowest fee rate, in satoshis
 * per 1000 virtual bytes, of transactions the sender wants announced.
 *   i64 feerate
 * Core reads it as a CAmount (signed) and ignores values outside
 * [0, MAX_MONEY] instead of failing; we decode any i64 and leave that
 * policy to the caller (see `isFeerateInMoneyRange`).
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import type { Codec } from './codec.js'

/** Payload size: the i64 fee rate. */
export const FEEFILTER_PAYLOAD_BYTES = 8
/** Core's MAX_MONEY: 21 million BTC in satoshis. */
export const MAX_MONEY = 21_000_000n * 100_000_000n

/** feefilter: do not announce transactions paying less than `feerate`. */
export interface FeefilterMessage {
  readonly command: 'feefilter'
  /** Satoshis per 1000 virtual bytes (i64). */
  readonly feerate: bigint
}

/** Core's MoneyRange: a fee rate Core would act on (others are ignored). */
export function isFeerateInMoneyRange(feerate: bigint): boolean {
  return feerate >= 0n && feerate <= MAX_MONEY
}

/** feefilter (BIP133). */
export const feefilterCodec: Codec<FeefilterMessage> = {
  command: 'feefilter',
  maxPayload: () => FEEFILTER_PAYLOAD_BYTES,
  encode(w: ByteWriter, m: FeefilterMessage) {
    w.i64le(m.feerate)
  },
  decode(r: ByteReader): FeefilterMessage {
    return { command: 'feefilter', feerate: r.i64le() }
  },
}
