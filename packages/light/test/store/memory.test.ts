import { MemoryLightStore, type MemoryStorage } from '../../src/store/memory.js'
import { lightStoreCompliance } from './compliance.js'

// Stores opened with the same key share one MemoryStorage: a reopen sees what was written.
const storages = new Map<string, MemoryStorage>()
lightStoreCompliance({
  name: 'memory',
  async open(key) {
    let storage = storages.get(key)
    if (storage === undefined) {
      storage = { headers: new Uint8Array(0), state: undefined }
      storages.set(key, storage)
    }
    return new MemoryLightStore(storage)
  },
})
