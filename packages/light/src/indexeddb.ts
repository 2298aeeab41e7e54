/**
 * @bitp2p/light/indexeddb: the browser and worker stores, in IndexedDB
 * (with the `idb` package): a LightStore and a session HeaderStore over
 * one database. Kept out of the main entry so an application that stores
 * elsewhere never bundles idb.
 * @module @bitp2p/light/indexeddb
 */
export {
  deleteIndexedDbStores,
  openIndexedDbStores,
  type IndexedDbHeaderStore,
  type IndexedDbLightStore,
  BLOCK_HEADERS_PER_CHUNK,
  FILTER_HEADERS_PER_CHUNK,
  INDEXEDDB_LOCK_PREFIX,
  INDEXEDDB_STORE_VERSION,
  type IndexedDbStores,
} from './store/indexeddb.js'
