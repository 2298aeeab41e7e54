/**
 * @bitp2p/light: a private BIP157/158 light client. Addresses to the
 * output scripts a wallet watches and back; the sans-IO light client core
 * (filter headers, cross-checks, disputes, the filter scan, the wallet);
 * the ScriptWatcher service over any PeerSource; stores.
 * Uint8Array only; no Node built-ins.
 */
export { AddressError, isAddressError, type AddressErrorCode, type AddressErrorDetail } from './address/error.js'
export {
  addressToScript,
  decodeAddress,
  scriptToAddress,
  MAX_BASE58_ADDRESS_LENGTH,
  MAX_BECH32_ADDRESS_LENGTH,
  type AddressEncoding,
  type AddressNetwork,
  type DecodedAddress,
} from './address/address.js'
export {
  scriptType,
  MAX_WITNESS_PROGRAM_BYTES,
  MAX_WITNESS_VERSION,
  MIN_WITNESS_PROGRAM_BYTES,
  type AddressType,
  type ScriptType,
} from './address/script.js'
export { checkFilterHeaderWrite, STORED_FILTER_HEADER_BYTES, type JsonValue, type LightStore } from './store/store.js'
export {
  isLightStoreError,
  LightStoreError,
  type LightStoreErrorCode,
  type LightStoreErrorDetail,
} from './store/error.js'
export { MemoryLightStore, type MemoryStorage } from './store/memory.js'
export { FilterHeaderChain, chainFilterHashes, FILTER_HEADER_BYTES, ZERO_FILTER_HEADER } from './core/filter-header-chain.js'
export { checkFilterAgainstBlock, describeFilterCheck, type FilterBlockCheck } from './core/filter-check.js'
export { filterMatchesAny, ScriptMatcher } from './core/match.js'
export {
  WatchWallet,
  type MatchedInput,
  type MatchedOutput,
  type TxMatch,
  type WalletCoin,
  type WalletSnapshot,
  type WalletTx,
  type WatchedScript,
} from './core/wallet.js'
export {
  LightMachine,
  LightStateError,
  DEFAULT_FILTER_REQUEST_TIMEOUT_MS,
  DEFAULT_MAX_BLOCKS_IN_FLIGHT,
  DEFAULT_MAX_FILTER_ATTEMPTS,
  DEFAULT_MAX_FILTER_BATCHES,
  FILTER_HEADERS_PER_REQUEST,
  FILTERS_PER_REQUEST,
  LIGHT_STATE_VERSION,
  MAX_BLOCK_FETCHES,
  RECENT_HASHES_KEPT,
  type ChainView,
  type InvalidFilterOffense,
  type LightAction,
  type LightEvent,
  type LightMachineConfig,
  type LightProgress,
  type LightState,
} from './core/light-machine.js'
export {
  ScriptWatcher,
  WatcherError,
  watchedScript,
  DEFAULT_WATCHER_PEER_WAIT_MS,
  MAX_WATCHED_SCRIPT_BYTES,
  MAX_UNCONFIRMED_KEPT,
  type UnconfirmedTx,
  type ScriptWatcherEvents,
  type ScriptWatcherOptions,
  type WatcherEvent,
  type WatcherProgress,
} from './watcher.js'
