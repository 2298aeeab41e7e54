/**
 * The one error type of the address functions: `addressToScript` and
 * `decodeAddress` throw only `AddressError`; anything else escaping them is
 * a bug.
 *
 * `code` is stable and meant for programs; `message` is for people;
 * `detail` carries the values behind the failure (expected vs actual).
 */
export type AddressErrorCode =
  /**
   * Not a well-formed bech32 or base58 string: empty, too long, a character
   * outside printable ASCII or outside the alphabet, mixed case, no
   * separator, no data before the bech32 checksum.
   */
  | 'BAD_ENCODING'
  /** Well formed, but the checksum (bech32, bech32m or base58check) does not match. */
  | 'BAD_CHECKSUM'
  /**
   * A valid checksum of the wrong variant (BIP350): bech32m on a version 0
   * program, or bech32 on version 1 and above (as BIP173 wrote them).
   */
  | 'WRONG_CHECKSUM_VARIANT'
  /** A human-readable part or base58 version byte that no known network uses. */
  | 'UNKNOWN_PREFIX'
  /** A valid address of another network (detail.networks names which). */
  | 'WRONG_NETWORK'
  /** A witness version above 16. */
  | 'BAD_WITNESS_VERSION'
  /** The 5-to-8-bit conversion left more than 4 bits of padding, or padding that is not zero. */
  | 'BAD_PADDING'
  /** A witness program outside 2..40 bytes, or a version 0 program that is not 20 or 32 bytes (BIP141). */
  | 'BAD_PROGRAM_LENGTH'
  /** A base58check payload that is not a version byte and a 20-byte hash. */
  | 'BAD_PAYLOAD_LENGTH'

/** The values behind an AddressError; every field is optional. */
export interface AddressErrorDetail {
  /** Name of the network the address was decoded for. */
  readonly network?: string
  readonly expected?: number | string
  readonly actual?: number | string
  /** A limit that was exceeded (string length). */
  readonly limit?: number
  /** 0-based index in the address of the offending character. */
  readonly position?: number
  /** WRONG_NETWORK: the known networks the address belongs to. */
  readonly networks?: readonly string[]
}

/** An address that cannot be turned into a script for the given network. */
export class AddressError extends Error {
  /** Always 'AddressError' (what `isAddressError` checks across copies of the package). */
  override readonly name = 'AddressError'
  /** Why the address was refused, stable for programs. */
  readonly code: AddressErrorCode
  /** The values behind the failure. */
  readonly detail: AddressErrorDetail

  constructor(code: AddressErrorCode, message: string, detail: AddressErrorDetail = {}) {
    super(message)
    this.code = code
    this.detail = detail
  }
}

/** True for an AddressError, or any object whose name is 'AddressError' (such as one from a second copy of this package). */
export function isAddressError(e: unknown): e is AddressError {
  return e instanceof AddressError || (typeof e === 'object' && e !== null && (e as Error).name === 'AddressError')
}
