/**
 * tx: one transaction, in BIP144 form when it has a witness.
 *
 * Core relays witness data only to peers that signalled NODE_WITNESS; a
 * caller talking to a pre-segwit peer strips the witnesses before sending.
 * The payload cap is the block payload: a transaction can fill a block.
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { decodeTx, encodeTx, txLimits } from '../tx/codec.js'
import type { Transaction } from '../tx/types.js'
import type { Codec, CodecContext } from './codec.js'

/** 'tx': one transaction, relayed or sent in answer to getdata. */
export interface TxMessage {
  readonly command: 'tx'
  /** Byte fields are views into the payload buffer. */
  readonly tx: Transaction
}

/** tx: a transaction; limits follow ctx.maxBlockPayload. */
export const txCodec: Codec<TxMessage> = {
  command: 'tx',
  maxPayload: (ctx: CodecContext) => ctx.maxBlockPayload,
  encode(w: ByteWriter, m: TxMessage) {
    encodeTx(w, m.tx, { witness: true })
  },
  decode(r: ByteReader, ctx: CodecContext): TxMessage {
    return { command: 'tx', tx: decodeTx(r, txLimits(ctx.maxBlockPayload)) }
  },
}
