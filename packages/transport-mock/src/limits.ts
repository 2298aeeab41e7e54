/**
 * @bitp2p/transport-mock/limits: every tunable and size of the mock (event
 * budgets, ephemeral ports, mining and transaction defaults, misbehaviour
 * rates and sizes, simulation defaults, trace encoding).
 */
export { COMPACT_MIN_CANCELLED, DEFAULT_MAX_EVENTS } from './scheduler.js'
export { CLOSE_REASONS, MAX_TRACE_STRING_BYTES, TRACE_ENCODING_VERSION } from './trace.js'
export { EPHEMERAL_PORT_FIRST, EPHEMERAL_PORT_LAST } from './network.js'
export { COINBASE_PREVOUT_INDEX, DEFAULT_MAX_MINING_TRIES, DEFAULT_MINER_TAG, HALVING_INTERVAL, INITIAL_SUBSIDY, MAX_COINBASE_SCRIPT_SIG_BYTES, MIN_COINBASE_SCRIPT_SIG_BYTES, REGTEST_HALVING_INTERVAL, SYNTHETIC_BLOCK_VERSION } from './chain/miner.js'
export { DEFAULT_STREAM_CHUNK_BYTES } from './chain/stream-block.js'
export { MAX_GETBLOCKS_RESULTS } from './chain/synthetic-chain.js'
export { DEFAULT_FUNDING_VALUE, DEFAULT_MAX_INPUTS, DEFAULT_MAX_OUTPUTS, DEFAULT_SEGWIT_SHARE, DUST_LIMIT, MIN_BIG_TX_BYTES, SYNTHETIC_FEE_RATE } from './chain/txgen.js'
export { MAX_SPREAD_HOSTS, MAX_VIRTUAL_HOSTS } from './peers/addresses.js'
export { FLOOD_ITEMS_CARRIED, FLOOD_MESSAGES, GARBAGE_BYTES, NON_CONNECTING_REPLIES, SLOWLORIS_BYTE_INTERVAL_MS, TX_FLOOD_INTERVAL_MS, TX_FLOOD_MAX_BUFFERED, TX_FLOOD_MESSAGES } from './peers/behavior.js'
export { BAD_FRAME_LABEL, CONTINUATION_SUFFIX, UNFRAMED_LABEL } from './peers/labeler.js'
export { DEFAULT_SIM_ADDRESSES_PER_PEER, DEFAULT_SIM_CHAIN_LENGTH, DEFAULT_SIM_CONNECT_TIMEOUT_MS, DEFAULT_SIM_MEMPOOL_SIZE, DEFAULT_SIM_TXS_PER_BLOCK, SIM_DRIVER_HOST } from './peers/simulation.js'
export { SLOWLORIS_PATIENCE_MS, VIRTUAL_PEER_SERVICES, VIRTUAL_PEER_USER_AGENT } from './peers/virtual-peer.js'
