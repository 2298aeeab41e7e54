/**
 * The one error type of @bitp2p/bip324.
 *
 * Codes caused by the peer's bytes (`remote` true) say the connection is
 * finished; codes caused by the caller (`remote` false) are bugs in the code
 * using this package. `detail` carries the numbers behind the failure.
 */
export type V2ErrorCode =
  /** A packet's length, or its payload for its command, is over a cap. Refused before the body is buffered. */
  | 'OVERSIZE'
  /** A packet failed ChaCha20-Poly1305 authentication: tampering, a lost byte, or keys that differ (wrong key, wrong magic). */
  | 'BAD_TAG'
  /** The peer's garbage terminator was not in the first MAX_GARBAGE_BYTES + 16 bytes after its key (wrong key or wrong network, usually). */
  | 'NO_TERMINATOR'
  /** Responder: the first 16 bytes are a v1 'version' header for another network's magic. */
  | 'V1_WRONG_NETWORK'
  /** The stream ended (end()) in the middle of the handshake or of a packet. */
  | 'TRUNCATED'
  /** A key given by the caller is invalid (secret key 0 or >= n, an encoding of another key), or the curve library refused one. */
  | 'BAD_KEY'
  /** Caller misuse: push before start, encrypt before the handshake is done, push after a v1 peer was detected. */
  | 'STATE'
  /** Caller misuse: an argument out of range (magic not 4 bytes, contents over 2^24-1, garbage over 4095, a bad command). */
  | 'RANGE'

/** The numbers and names behind a V2Error; every field is optional. */
export interface V2ErrorDetail {
  /** The handshake state in which the error happened. */
  readonly state?: string
  /** The limit that was exceeded. */
  readonly limit?: number
  /** The value found. */
  readonly actual?: number
  /** The command of the packet, when known. */
  readonly command?: string
  /** The name of the limit or field, e.g. 'maxPayload'. */
  readonly field?: string
  /** Bytes received from the peer so far (handshake errors). */
  readonly received?: number
  /** Index of the packet (0 = first after the garbage terminator) in this direction. */
  readonly packet?: number
}

/** Codes caused by the peer's bytes, as opposed to the caller's mistakes. */
const REMOTE_CODES: ReadonlySet<V2ErrorCode> = new Set<V2ErrorCode>(['OVERSIZE', 'BAD_TAG', 'NO_TERMINATOR', 'V1_WRONG_NETWORK', 'TRUNCATED'])

/** An error of the v2 transport: a `code` for programs, a message for people, `detail` for the numbers. */
export class V2Error extends Error {
  /** Always 'V2Error' (what isV2Error recognises across package copies). */
  override readonly name = 'V2Error'
  /** Stable code; see V2ErrorCode. */
  readonly code: V2ErrorCode
  /** The numbers behind the failure. */
  readonly detail: V2ErrorDetail
  /**
   * Only for TRUNCATED as initiator when the peer closed before sending a
   * single byte: BIP324 advises retrying the peer with the v1 protocol (it
   * probably read our key as a bad v1 header and hung up).
   */
  readonly retryV1: boolean

  constructor(code: V2ErrorCode, message: string, detail: V2ErrorDetail = {}, retryV1 = false) {
    super(message)
    this.code = code
    this.detail = detail
    this.retryV1 = retryV1
  }

  /** True when the peer's bytes caused this error (the connection is over), false for caller misuse. */
  get remote(): boolean {
    return REMOTE_CODES.has(this.code)
  }
}

/** True for a V2Error, or any object whose name is 'V2Error' (e.g. from a second copy of this package). */
export function isV2Error(e: unknown): e is V2Error {
  return e instanceof V2Error || (typeof e === 'object' && e !== null && (e as Error).name === 'V2Error')
}
