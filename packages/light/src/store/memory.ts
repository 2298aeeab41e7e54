/**
 * MemoryLightStore: a LightStore in memory, for tests and for clients that
 * resync on every start. Copies in and out, so callers can't alias its
 * state. Two stores given the same `MemoryStorage` see one storage: that is
 * how a test restarts a client without a disk.
 */
import { LightStoreError } from './error.js'
import { stateToJson } from './serial.js'
import { checkFilterHeaderWrite, STORED_FILTER_HEADER_BYTES, type JsonValue, type LightStore } from './store.js'

/** What a MemoryLightStore keeps; share one between stores to model a restart. */
export interface MemoryStorage {
  headers: Uint8Array
  /** The state, serialised (so no caller can reach into it). */
  state: string | undefined
}

/** A LightStore that keeps everything in memory; see the module comment. */
export class MemoryLightStore implements LightStore {
  private closed = false

  /** A store over `storage` (a fresh, empty one by default). */
  constructor(private readonly storage: MemoryStorage = { headers: new Uint8Array(0), state: undefined }) {}

  async loadFilterHeaders(): Promise<Uint8Array> {
    this.checkOpen()
    return this.storage.headers.slice()
  }

  async putFilterHeaders(height: number, headers: Uint8Array): Promise<void> {
    this.checkOpen()
    checkFilterHeaderWrite(height, headers, this.storage.headers.length / STORED_FILTER_HEADER_BYTES)
    const keep = height * STORED_FILTER_HEADER_BYTES
    const next = new Uint8Array(keep + headers.length)
    next.set(this.storage.headers.subarray(0, keep))
    next.set(headers, keep)
    this.storage.headers = next
  }

  async loadState(): Promise<JsonValue | undefined> {
    this.checkOpen()
    return this.storage.state === undefined ? undefined : (JSON.parse(this.storage.state) as JsonValue)
  }

  async saveState(state: JsonValue): Promise<void> {
    this.checkOpen()
    this.storage.state = stateToJson(state)
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private checkOpen(): void {
    if (this.closed) throw new LightStoreError('CLOSED', 'light store: closed')
  }
}
