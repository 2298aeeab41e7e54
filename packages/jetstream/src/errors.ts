/**
 * Typed errors of the adapter. Bytes that do not decode give a
 * PartCodecError (a code, the offset, what was expected); everything else
 * is a JetStreamAdapterError whose `code` says what failed and whose
 * `detail` carries the data (subject, sizes, attempts...).
 */

/** Codes of PartCodecError. */
export type PartCodecErrorCode =
  /** Fewer bytes than the layout needs. */
  | 'TRUNCATED'
  /** Not a block part (wrong first bytes). */
  | 'BAD_MAGIC'
  /** A format version this code does not know. */
  | 'BAD_VERSION'
  /** Fields that contradict each other (a part index past the count, transactions not contiguous, lengths that do not add up). */
  | 'BAD_LAYOUT'
  /** Bytes after the end of the part. */
  | 'TRAILING_BYTES'

/** A message that is not a well-formed block part (see PartCodecErrorCode). */
export class PartCodecError extends Error {
  /** 'PartCodecError' (also across realms). */
  override readonly name = 'PartCodecError'
  /** What is wrong. */
  readonly code: PartCodecErrorCode
  /** Byte offset in the message where it was found. */
  readonly offset: number
  /** Values involved (expected and actual sizes, the field). */
  readonly detail: Readonly<Record<string, number | string>>

  /** A codec error at `offset` with `detail`. */
  constructor(code: PartCodecErrorCode, offset: number, message: string, detail: Readonly<Record<string, number | string>> = {}) {
    super(`${code} at byte ${offset}: ${message}`)
    this.code = code
    this.offset = offset
    this.detail = detail
  }
}

/** Codes of JetStreamAdapterError. */
export type JetStreamAdapterErrorCode =
  /** An option out of range or malformed (`detail.option`). */
  | 'bad-option'
  /** A message larger than the server's max_payload (`detail.bytes`, `detail.maxPayload`). */
  | 'payload-too-large'
  /** A publish was not acknowledged within the publish deadline, retries included (`detail.subject`, `detail.msgId`, `detail.attempts`). */
  | 'publish-failed'
  /** The stream exists with settings that contradict what is asked (`detail.stream`). */
  | 'stream-mismatch'
  /** A producer asked to resume onto progress written with another chunk size (`detail.stored`, `detail.asked`). */
  | 'chunk-size-mismatch'
  /** The block download failed (the BlockFetchError is the cause). */
  | 'fetch-failed'
  /** Stopped by its AbortSignal or stop(). */
  | 'stopped'
  /** The NATS connection closed under the component. */
  | 'connection-closed'
  /** A handler module does not export what a worker needs (`detail.path`). */
  | 'bad-handler'

/**
 * The old name of JetStreamAdapterErrorCode.
 * @deprecated Use JetStreamAdapterErrorCode; this name goes in the next minor release.
 */
export type JetStreamAdapterErrorKind = JetStreamAdapterErrorCode

/** An adapter failure; see JetStreamAdapterErrorCode. */
export class JetStreamAdapterError extends Error {
  /** 'JetStreamAdapterError' (also across realms). */
  override readonly name = 'JetStreamAdapterError'
  /** What failed. */
  readonly code: JetStreamAdapterErrorCode
  /** The data of the failure. */
  readonly detail: Readonly<Record<string, unknown>>

  /** An adapter error of `code`; `cause` is the underlying error, if any. */
  constructor(code: JetStreamAdapterErrorCode, message: string, detail: Readonly<Record<string, unknown>> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.code = code
    this.detail = detail
  }

  /**
   * The old name of `code`.
   * @deprecated Use `code` (the one discriminant of every bitp2p error); `kind` goes in the next minor release.
   */
  get kind(): JetStreamAdapterErrorCode {
    return this.code
  }
}

/** True for a JetStreamAdapterError (also across realms: checks the name). */
export function isJetStreamAdapterError(e: unknown): e is JetStreamAdapterError {
  return e instanceof JetStreamAdapterError || (e instanceof Error && e.name === 'JetStreamAdapterError')
}
