/**
 * @bitp2p/wire: Bitcoin P2P bytes <-> typed messages.
 * Uint8Array only; no Node built-ins; depends only on @noble/hashes.
 *
 * This entry holds what applications use: the message types, blocks,
 * transactions and headers with their parse/serialize and ids, hex and hash
 * display, network parameters, the message framing (encodeMessage,
 * MessageDecoder) and the typed WireError. The rest sits behind subpaths:
 *
 * - `@bitp2p/wire/messages`: the interface of every P2P message
 * - `@bitp2p/wire/codecs`: the per-message codecs, readers and writers, framing, the streaming block parser
 * - `@bitp2p/wire/hash`: SHA-256, SipHash, merkle roots, BIP152 short ids
 * - `@bitp2p/wire/filters`: BIP37 bloom filters and partial merkle trees, BIP158 compact filters
 * - `@bitp2p/wire/consensus`: proof of work, merkle and witness commitment checks, BIP34 heights
 * - `@bitp2p/wire/limits`: named limits, sizes and protocol versions
 * @module @bitp2p/wire
 */

export { isWireError, WireError, type WireErrorCode, type WireErrorDetail } from './errors.js'
export { hasServices, PROTOCOL_VERSION, serviceNames, Services } from './protocol.js'
export { bytesEqual, concatBytes, fromHex, hashToHex, hexToHash, toHex } from './bytes/hex.js'
export { encodeMessage, MessageDecoder, type FramingParams, type MessageDecoderOptions, type MessageEvent } from './framing/message-decoder.js'
export type { UnknownMessage } from './messages/codec.js'
export type { Command, KnownMessage, Message, MessageOf } from './messages/registry.js'
export { ipFromString, ipToString, type NetAddress, type TimestampedNetAddress } from './messages/netaddr.js'
export { addrV2FromString, addrV2ToString, BIP155Network, type AddrV2Host } from './messages/addrv2.js'
export { InvType, invTypeName, MSG_WITNESS_FLAG, type InvItem } from './messages/inventory.js'
export { blockHash, parseBlockHeader, serializeBlockHeader, type BlockHeader } from './block/header.js'
export type { OutPoint, Transaction, TxInput, TxOutput } from './tx/types.js'
export { parseTx, serializeTx, type EncodeTxOptions, type TxLimits } from './tx/codec.js'
export { hasWitness, txid, txSize, txVsize, txWeight, wtxid } from './tx/id.js'
export {
  blockSize,
  blockTxids,
  blockWeight,
  parseBlock,
  serializeBlock,
  verifyBlock,
  type Block,
  type BlockDecodeContext,
  type DecodedBlock,
} from './block/block.js'
export {
  bsv,
  mainnet,
  networkByMagic,
  networkByName,
  NETWORKS,
  regtest,
  signet,
  testnet3,
  testnet4,
  type Checkpoint,
  type NetworkParams,
} from './network/params.js'
