/**
 * @bitp2p/wire/codecs: how messages become bytes. The codec of every
 * message and the registry over them, ByteReader/ByteWriter, the encoders
 * and decoders of transactions, blocks, headers and addresses, the frame
 * decoder and framing helpers, text fields, and the streaming block parser.
 * @module @bitp2p/wire/codecs
 */

export { ByteReader } from './bytes/reader.js'
export { ByteWriter, compactSizeLength } from './bytes/writer.js'
export { decodeText, encodeText, readText, textBytes, type DecodedText } from './bytes/text.js'
export { checksum, encodeExtHeader, encodeFrame, encodeHeader, EXTMSG_COMMAND, EXTMSG_LENGTH_MARKER, isCommandByte, readCommand } from './framing/header.js'
export {
  FrameDecoder,
  type FrameDecoderEvent,
  type FrameDecoderOptions,
  type FrameErrorEvent,
  type FrameEvent,
  type FrameSink,
  type PayloadChunkEvent,
  type PayloadEndEvent,
  type PayloadStartEvent,
} from './framing/decoder.js'
export { emptyCodec, type Codec, type CodecContext } from './messages/codec.js'
export { DEFAULT_CODEC_CONTEXT } from './messages/context.js'
export { codecFor, CODECS, decodePayload, decodePayloadRange, encodePayload, isKnownCommand, maxPayloadFor } from './messages/registry.js'
export { encodeMessageFrame } from './framing/message-decoder.js'
export { pingCodec, pongCodec } from './messages/ping.js'
export {
  decodeNetAddress,
  decodeTimestampedNetAddress,
  encodeNetAddress,
  encodeTimestampedNetAddress,
  ipv4Mapped,
  ipv6ToString,
  isIPv4Mapped,
} from './messages/netaddr.js'
export { verackCodec, versionCodec } from './messages/version.js'
export { addrCodec, getaddrCodec } from './messages/addr.js'
export { addrv2Codec, bip155AddressLength, sendaddrv2Codec, TORV3_VERSION } from './messages/addrv2.js'
export { getdataCodec, invCodec, notfoundCodec } from './messages/inventory.js'
export { getblocksCodec, getheadersCodec, isNullHashStop } from './messages/locator.js'
export { headersCodec, sendheadersCodec } from './messages/headers.js'
export { rejectCodec } from './messages/reject.js'
export { feefilterCodec } from './messages/feefilter.js'
export { mempoolCodec } from './messages/mempool.js'
export { wtxidrelayCodec } from './messages/wtxidrelay.js'
export { sendtxrcnclCodec } from './messages/txrcncl.js'
export { decodeBlockHeader, encodeBlockHeader, writeBlockHeader } from './block/header.js'
export { filteraddCodec, filterclearCodec, filterloadCodec, merkleblockCodec } from './messages/bloom.js'
export { cfcheckptCodec, cfheadersCodec, cfilterCodec, getcfcheckptCodec, getcfheadersCodec, getcfiltersCodec } from './messages/filters.js'
export { blocktxnCodec, cmpctblockCodec, getblocktxnCodec, maxCompactTxs, sendcmpctCodec } from './messages/compact.js'
export {
  decodeTx,
  decodeTxWithLayout,
  encodeTx,
  readTx,
  SEGWIT_FLAG,
  SEGWIT_MARKER,
  txBaseLength,
  txHasWitness,
  txLimits,
  txWitnessLength,
  type TxLayout,
} from './tx/codec.js'
export { baseSizeFromLayout, txidFromRaw, wtxidFromRaw } from './tx/id.js'
export { decodeBlock, encodeBlock } from './block/block.js'
export { txCodec } from './messages/tx.js'
export { blockCodec } from './messages/block.js'
export {
  BlockStreamParser,
  type BlockStreamEnd,
  type BlockStreamErrorEvent,
  type BlockStreamEvent,
  type BlockStreamHeaderEvent,
  type BlockStreamOptions,
  type BlockStreamTxEvent,
} from './block/stream.js'
