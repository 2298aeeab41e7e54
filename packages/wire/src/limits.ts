/**
 * @bitp2p/wire/limits: every named limit, size and protocol version the
 * codecs check against (caps on counts and payloads, fixed byte sizes, the
 * protocol versions that gate a message or field). Documented where defined.
 * @module @bitp2p/wire/limits
 */

export {
  BIP0031_VERSION,
  BIP0037_VERSION,
  CADDR_TIME_VERSION,
  FEEFILTER_VERSION,
  INVALID_CB_NO_BAN_VERSION,
  MIN_PEER_PROTO_VERSION,
  NO_BLOOM_VERSION,
  SENDHEADERS_VERSION,
  SHORT_IDS_BLOCKS_VERSION,
  WTXID_RELAY_VERSION,
} from './protocol.js'
export { HEADER_HASH_INPUT_BYTES, HEADER_HASH_OUTPUT_BYTES } from './hash/header-hash.js'
export { COMMAND_BYTES, EXT_HEADER_EXTRA_BYTES, HEADER_BYTES, MAX_PROTOCOL_MESSAGE_LENGTH } from './framing/header.js'
export { DEFAULT_UNKNOWN_COMMAND_LIMIT } from './framing/message-decoder.js'
export { MAX_BLOCK_SERIALIZED_SIZE } from './messages/context.js'
export { PING_PAYLOAD_BYTES } from './messages/ping.js'
export { IP_BYTES, NET_ADDRESS_BYTES, TIMESTAMPED_NET_ADDRESS_BYTES } from './messages/netaddr.js'
export { MAX_SUBVERSION_LENGTH, MAX_VERSION_PAYLOAD, MIN_VERSION_PAYLOAD, VERSION_ADDR_FROM_VERSION, VERSION_USER_AGENT_VERSION } from './messages/version.js'
export { MAX_ADDR_PAYLOAD, MAX_ADDR_TO_SEND } from './messages/addr.js'
export { MAX_ADDRV2_ENTRY_BYTES, MAX_ADDRV2_PAYLOAD, MAX_ADDRV2_SIZE, MIN_ADDRV2_ENTRY_BYTES } from './messages/addrv2.js'
export { INV_ITEM_BYTES, MAX_INV_PAYLOAD, MAX_INV_SIZE } from './messages/inventory.js'
export { LOCATOR_HASH_BYTES, MAX_LOCATOR_PAYLOAD, MAX_LOCATOR_SZ } from './messages/locator.js'
export { HEADERS_ENTRY_BYTES, MAX_HEADERS_PAYLOAD, MAX_HEADERS_RESULTS } from './messages/headers.js'
export { MAX_REJECT_COMMAND_LENGTH, MAX_REJECT_MESSAGE_LENGTH, MAX_REJECT_PAYLOAD, REJECT_DATA_BYTES } from './messages/reject.js'
export { FEEFILTER_PAYLOAD_BYTES } from './messages/feefilter.js'
export { SENDTXRCNCL_PAYLOAD_BYTES, TXRECONCILIATION_VERSION } from './messages/txrcncl.js'
export { BLOCK_HEADER_BYTES } from './block/header.js'
export { SIPHASH_KEY_BYTES } from './hash/siphash.js'
export { MAX_BLOOM_FILTER_SIZE, MAX_HASH_FUNCS } from './block/bloom-filter.js'
export { MAX_MERKLE_BLOCK_TXS, MIN_TRANSACTION_BYTES } from './block/partial-merkle.js'
export { MAX_GCS_ITEMS } from './block/gcs.js'
export { MAX_FILTERADD_PAYLOAD, MAX_FILTERLOAD_PAYLOAD, MAX_SCRIPT_ELEMENT_SIZE } from './messages/bloom.js'
export {
  CFCHECKPT_INTERVAL,
  GETCF_RANGE_PAYLOAD_BYTES,
  GETCFCHECKPT_PAYLOAD_BYTES,
  MAX_CFCHECKPT_HEADERS,
  MAX_CFCHECKPT_PAYLOAD,
  MAX_CFHEADERS_PAYLOAD,
  MAX_GETCFHEADERS_SIZE,
  MAX_GETCFILTERS_SIZE,
} from './messages/filters.js'
export { MAX_CMPCT_INDEX, MIN_SERIALIZABLE_TX_BYTES, SENDCMPCT_PAYLOAD_BYTES, SHORTTXID_BYTES } from './messages/compact.js'
export {
  DEFAULT_TX_LIMITS,
  MAX_SCRIPT_SIZE,
  MAX_TX_INPUTS,
  MAX_TX_OUTPUTS,
  MAX_WITNESS_ITEM_SIZE,
  MAX_WITNESS_ITEMS,
  MIN_TX_INPUT_BYTES,
  MIN_TX_OUTPUT_BYTES,
  MIN_WITNESS_ITEM_BYTES,
} from './tx/codec.js'
export { MAX_BLOCK_TXS } from './block/block.js'
export { MERKLE_HASH_BYTES } from './block/merkle.js'
export { MIN_WITNESS_COMMITMENT_SCRIPT_BYTES, WITNESS_RESERVED_VALUE_BYTES } from './block/witness.js'
export { MAX_BIP34_PUSH_BYTES } from './block/bip34.js'
export { BITCOIN_MAX_BLOCK_BYTES, BITCOIN_MAX_MESSAGE_BYTES, BSV_DEFAULT_MAX_PROTOCOL_RECV_PAYLOAD, BSV_MAX_BLOCK_BYTES } from './network/params.js'
export { POW_HASH_BYTES } from './network/pow.js'
export { CARRY_STEP_BYTES, DEFAULT_MAX_BLOCK_BYTES, DEFAULT_MAX_TX_BYTES } from './block/stream.js'
