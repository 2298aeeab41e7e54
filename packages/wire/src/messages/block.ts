/**
 * block: a whole block (header, transactions). For blocks too large to
 * buffer, feed the payload to BlockStreamParser instead (block/stream.ts).
 * The payload cap is ctx.maxBlockPayload (4,000,000 on Bitcoin).
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { type Block, decodeBlock, encodeBlock } from '../block/block.js'
import type { Codec, CodecContext } from './codec.js'

/** 'block': one whole block, sent in answer to getdata. */
export interface BlockMessage {
  readonly command: 'block'
  /** Decoded with decodeBlock: transaction byte fields are views into the payload. */
  readonly block: Block
}

/** block: decodes with decodeBlock (no merkle check; call verifyBlock). */
export const blockCodec: Codec<BlockMessage> = {
  command: 'block',
  maxPayload: (ctx: CodecContext) => ctx.maxBlockPayload,
  encode(w: ByteWriter, m: BlockMessage) {
    encodeBlock(w, m.block)
  },
  decode(r: ByteReader, ctx: CodecContext): BlockMessage {
    return { command: 'block', block: decodeBlock(r, ctx) }
  },
}
