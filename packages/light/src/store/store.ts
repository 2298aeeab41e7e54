/**
 * Persistence of a light client's own state: the BIP157 filter headers and
 * the scan state (watched scripts, what was found, how far the scan got).
 * Block headers are not here: they go to a session `HeaderStore`.
 *
 * Filter headers are one linear chain by height from 0, 32 bytes each.
 * Writing at height h replaces what was at h and drops everything above it:
 * that is how a reorg rewrites the tail. The scan state is one JSON-ready
 * value the client writes whole and validates when it reads it back (the
 * store never interprets it).
 *
 * Trust model: a store only ever holds what this client accepted and must
 * live where only this program can write; what `loadFilterHeaders` returns
 * is not re-checked against peers, only against the header chain.
 *
 * Every implementation passes the compliance suite in
 * `test/store/compliance.ts`.
 */

/** A value JSON can hold: what `saveState` accepts and `loadState` returns. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue }

/** Bytes of one stored filter header. */
export const STORED_FILTER_HEADER_BYTES = 32

/** Storage of a light client's state; see the module comment. */
export interface LightStore {
  /** The stored filter headers from height 0, concatenated (a multiple of 32 bytes; empty when none). */
  loadFilterHeaders(): Promise<Uint8Array>
  /**
   * Stores `headers` (concatenated 32-byte headers) at `height`, `height + 1`,
   * ..., dropping anything stored above them. `height` must be in
   * [0, stored count]; anything else is a RangeError (a program bug).
   */
  putFilterHeaders(height: number, headers: Uint8Array): Promise<void>
  /** The last state passed to `saveState`, or undefined when none was saved. */
  loadState(): Promise<JsonValue | undefined>
  /** Replaces the state; after the promise resolves a reload returns it, even after a crash. */
  saveState(state: JsonValue): Promise<void>
  /** Releases the store's resources; further calls reject. */
  close(): Promise<void>
}

/**
 * Checks a `putFilterHeaders` call against a store holding `count` headers.
 * Throws RangeError: a misuse by the program, never caused by remote data.
 */
export function checkFilterHeaderWrite(height: number, headers: Uint8Array, count: number): void {
  if (!Number.isSafeInteger(height) || height < 0 || height > count) {
    throw new RangeError(`filter headers written at height ${height}: the store holds heights 0..${count - 1}, so a write must start in [0, ${count}]`)
  }
  if (headers.length % STORED_FILTER_HEADER_BYTES !== 0) {
    throw new RangeError(`filter headers: ${headers.length} bytes is not a whole number of ${STORED_FILTER_HEADER_BYTES}-byte headers`)
  }
}
