/**
 * The one error type of @bitp2p/wire. Every decoder throws only `WireError`;
 * anything else escaping a decoder is a bug.
 *
 * `code` is stable and meant for programs; `message` is for people.
 * `detail` carries the numbers behind the failure (expected vs actual, limit).
 */
export type WireErrorCode =
  /** Fewer bytes than the structure needs. */
  | 'TRUNCATED'
  /** A length, count or total size above its named limit. */
  | 'OVERSIZE'
  /** Frame magic is not the network's. */
  | 'BAD_MAGIC'
  /** Command field is not printable ASCII followed only by NUL padding. */
  | 'BAD_COMMAND'
  /** Frame checksum does not match sha256d(payload)[0..4]. */
  | 'BAD_CHECKSUM'
  /** CompactSize not in its shortest form. */
  | 'NON_CANONICAL'
  /** Bytes left over after a complete structure. */
  | 'TRAILING_BYTES'
  /** A field holds a value the protocol forbids (e.g. segwit flag != 1). */
  | 'INVALID_VALUE'
  /** Merkle root or witness commitment does not match the transactions. */
  | 'BAD_MERKLE_ROOT'
  | 'BAD_WITNESS_COMMITMENT'
  /** Caller misuse (e.g. encoding a value out of range). Never caused by remote bytes. */
  | 'ENCODE_RANGE'
  /** A decoder was used after it failed, or fed after end(). */
  | 'STATE'

/** The numbers and names behind a WireError; every field is optional. */
export interface WireErrorDetail {
  /** The command whose payload failed, when known. */
  command?: string
  /** Byte offset (within the payload or structure) where the failure was found. */
  offset?: number
  expected?: number | bigint | string
  actual?: number | bigint | string
  limit?: number | bigint
  /** Name of the field or limit involved, e.g. 'MAX_INV_ENTRIES'. */
  field?: string
  /** The bytes judged, hex (BAD_MAGIC: all four magic bytes received). */
  received?: string
}

/** An error about bytes: what a decoder throws, and an encoder on a value out of range. */
export class WireError extends Error {
  override readonly name = 'WireError'
  readonly code: WireErrorCode
  readonly detail: WireErrorDetail

  constructor(code: WireErrorCode, message: string, detail: WireErrorDetail = {}) {
    super(message)
    this.code = code
    this.detail = detail
  }

  /** A copy of this error with extra detail (e.g. the command) merged in. */
  withDetail(extra: WireErrorDetail): WireError {
    const e = new WireError(this.code, this.message, { ...this.detail, ...extra })
    e.stack = this.stack
    return e
  }
}

/** True for a WireError, or any object whose name is 'WireError' (such as one from a second copy of this package). */
export function isWireError(e: unknown): e is WireError {
  return e instanceof WireError || (typeof e === 'object' && e !== null && (e as Error).name === 'WireError')
}
