/**
 * @bitp2p/light/node: the Node/Deno/Bun-only store (file system access).
 * Kept out of the main entry so a browser bundle never sees node:fs.
 * @module @bitp2p/light/node
 */
export {
  FileLightStore,
  FILE_LIGHT_STORE_VERSION,
  FILTER_HEADERS_FILE,
  LOCK_FILE,
  STATE_FILE,
  STATE_TEMP_FILE,
} from './store/file.node.js'
