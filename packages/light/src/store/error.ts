/**
 * The one error type of the light stores for what is not a program bug:
 * storage that is in use, damaged, from another format version, or closed.
 * A misuse of the interface (a write leaving a gap) stays a RangeError.
 *
 * `code` is stable and meant for programs; `message` is for people;
 * `detail` carries the values behind the failure.
 */
export type LightStoreErrorCode =
  /**
   * Another holder has the store open: a live process holds the file
   * store's lock file (detail.pid, detail.host, detail.path), or another tab
   * or worker holds the IndexedDB store's Web Lock (detail.name).
   */
  | 'LOCKED'
  /**
   * The stored scan state cannot be read back: not the store's format, a
   * checksum that does not match, or text that is not JSON (detail.path or
   * detail.name, detail.reason). The filter headers are still readable, and
   * the next `saveState` replaces the damaged state.
   */
  | 'CORRUPT_STATE'
  /** The stored filter headers are not whole, consecutive records (detail.reason). */
  | 'CORRUPT_FILTER_HEADERS'
  /** The stored block headers are not whole, consecutive records, or their base record is damaged (detail.reason). */
  | 'CORRUPT_HEADERS'
  /** The storage was written by another format version of this package (detail.expected, detail.actual). */
  | 'UNSUPPORTED_VERSION'
  /** The store was closed (by `close()`, or by the browser: detail.reason). */
  | 'CLOSED'

/** The values behind a LightStoreError; every field is optional. */
export interface LightStoreErrorDetail {
  /** The file concerned (file store). */
  readonly path?: string
  /** The database or lock name concerned (IndexedDB store). */
  readonly name?: string
  /** LOCKED: the process id that holds the lock file. */
  readonly pid?: number
  /** LOCKED: the host name written in the lock file. */
  readonly host?: string
  /** What exactly is wrong, in words. */
  readonly reason?: string
  readonly expected?: number | string
  readonly actual?: number | string
}

/** Storage that cannot be used as it is; see the module comment. */
export class LightStoreError extends Error {
  /** Always 'LightStoreError' (what `isLightStoreError` checks across copies of the package). */
  override readonly name = 'LightStoreError'
  /** What went wrong, stable for programs. */
  readonly code: LightStoreErrorCode
  /** The values behind the failure. */
  readonly detail: LightStoreErrorDetail

  /** An error with `code`, a message for people and the values behind it. */
  constructor(code: LightStoreErrorCode, message: string, detail: LightStoreErrorDetail = {}) {
    super(message)
    this.code = code
    this.detail = detail
  }
}

/** True for a LightStoreError, or any object whose name is 'LightStoreError' (such as one from a second copy of this package). */
export function isLightStoreError(e: unknown): e is LightStoreError {
  return e instanceof LightStoreError || (typeof e === 'object' && e !== null && (e as Error).name === 'LightStoreError')
}
