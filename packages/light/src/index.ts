/**
 * @bitp2p/light: a private BIP157/158 light client. This first part turns
 * addresses into the output scripts a wallet watches, and back.
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
