/**
 * Bitcoin addresses <-> output scripts, for every network @bitp2p/wire
 * knows: bech32 (BIP173) for witness version 0, bech32m (BIP350) for
 * versions 1 to 16, base58check for P2PKH and P2SH. The codecs are
 * @scure/base's; this module decides what a decoded string means and says
 * precisely why one is refused.
 *
 * Checks run in a fixed order, so one string always gets the same error:
 *   1. the string: length, printable ASCII;
 *   2. which encoding: a human-readable part (HRP) of a known network before
 *      the last '1' means bech32; else a valid bech32/bech32m string means
 *      an unknown HRP; else base58;
 *   3. bech32: case, alphabet, data present, checksum (either variant),
 *      network, witness version, padding, program length, checksum variant;
 *   4. base58: length, alphabet, payload length, checksum, version byte.
 * The network is judged only once the checksum holds: WRONG_NETWORK means a
 * well-formed address of another network, not a typo.
 *
 * The test networks share their prefixes (tb, 111, 196): an address of
 * testnet3 is also one of testnet4 and signet. Nothing here can tell them
 * apart, and nothing needs to: the script is the same.
 */
import { base58, bech32, bech32m, createBase58check } from '@scure/base'
import { sha256 } from '@noble/hashes/sha2.js'
import { NETWORKS, type NetworkParams } from '@bitp2p/wire'
import { AddressError } from './error.js'
import {
  MAX_WITNESS_PROGRAM_BYTES,
  MAX_WITNESS_VERSION,
  MIN_WITNESS_PROGRAM_BYTES,
  p2pkhHashOf,
  p2pkhScript,
  p2shHashOf,
  p2shScript,
  witnessProgramOf,
  witnessScript,
  witnessType,
  type AddressType,
} from './script.js'

/**
 * What the address functions need to know about a network: a
 * `NetworkParams` object from @bitp2p/wire satisfies it. `bech32Hrp` must be
 * a valid BIP173 HRP (lowercase printable ASCII) when present; a network
 * without one (BSV) has no segwit addresses.
 */
export type AddressNetwork = Pick<NetworkParams, 'name' | 'bech32Hrp' | 'base58PubKeyHashPrefix' | 'base58ScriptHashPrefix'>

/** BIP173's limit on a whole bech32 string. Checked first, so no longer input is ever scanned. */
export const MAX_BECH32_ADDRESS_LENGTH = 90
/**
 * Longest base58 string that can hold a 25-byte payload (version, 20-byte
 * hash, 4-byte checksum): ceil(25 x log(256) / log(58)) = 35. Also keeps
 * base58's quadratic decoding small.
 */
export const MAX_BASE58_ADDRESS_LENGTH = 35

/** A bech32 checksum is 6 characters (30 bits). */
const BECH32_CHECKSUM_CHARS = 6
/** The 32 characters of bech32's data part, for pointing at the one that is not (the decoding is @scure/base's). */
const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
/** Bitcoin's base58 alphabet, for the same purpose. */
const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
/** A base58check address payload: a version byte and a 20-byte hash. */
const BASE58_PAYLOAD_BYTES = 21
/** The payload with base58check's 4-byte checksum. */
const BASE58_CHECKED_BYTES = BASE58_PAYLOAD_BYTES + 4
/** A 5-bit to 8-bit conversion may leave at most 4 bits of padding (BIP173). */
const MAX_PADDING_BITS = 4

/** base58check: payload || sha256d(payload)[0..4], in base58. */
const base58check = createBase58check(sha256)

/** How an address is written. */
export type AddressEncoding = 'base58check' | 'bech32' | 'bech32m'

/** What an address says, as `decodeAddress` returns it. */
export interface DecodedAddress {
  /** The kind of output script it pays to. */
  readonly type: AddressType
  /** How it was written: base58check for P2PKH and P2SH, bech32 for version 0, bech32m for 1 to 16. */
  readonly encoding: AddressEncoding
  /** Witness version 0 to 16; undefined for a base58check address. */
  readonly witnessVersion?: number
  /** The witness program (2 to 40 bytes), or the 20-byte hash of a P2PKH or P2SH address. */
  readonly program: Uint8Array
  /** The output script (scriptPubKey) the address stands for. */
  readonly script: Uint8Array
}

/**
 * Decodes an address of `network` into its script and parts.
 *
 * @throws {AddressError} for anything that is not a valid address of
 * `network`, with a `code` saying why (BAD_ENCODING, BAD_CHECKSUM,
 * WRONG_CHECKSUM_VARIANT, UNKNOWN_PREFIX, WRONG_NETWORK,
 * BAD_WITNESS_VERSION, BAD_PADDING, BAD_PROGRAM_LENGTH, BAD_PAYLOAD_LENGTH)
 * and the values behind it in `detail`. It throws nothing else.
 */
export function decodeAddress(address: string, network: AddressNetwork): DecodedAddress {
  const at = { network: network.name }
  if (typeof address !== 'string') {
    throw new AddressError('BAD_ENCODING', `an address is a string, not ${typeof address}`, { ...at, actual: typeof address })
  }
  if (address.length === 0) throw new AddressError('BAD_ENCODING', 'empty address', at)
  if (address.length > MAX_BECH32_ADDRESS_LENGTH) {
    throw new AddressError('BAD_ENCODING', `address of ${address.length} characters, longer than any (${MAX_BECH32_ADDRESS_LENGTH})`, {
      ...at,
      actual: address.length,
      limit: MAX_BECH32_ADDRESS_LENGTH,
    })
  }
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i)
    // Both encodings use printable ASCII only (BIP173: 33..126).
    if (c < 33 || c > 126) {
      throw new AddressError('BAD_ENCODING', `character ${i} (code ${c}) is not printable ASCII`, { ...at, position: i, actual: c })
    }
  }

  const lower = address.toLowerCase()
  // The data part of bech32 never holds a '1': the last one is the separator.
  const separator = lower.lastIndexOf('1')
  const hrp = separator > 0 ? lower.slice(0, separator) : undefined
  if (hrp !== undefined && isKnownHrp(hrp, network)) return decodeSegwit(address, lower, separator, hrp, network)
  if (hrp !== undefined && (bech32.decodeUnsafe(address) || bech32m.decodeUnsafe(address))) {
    throw new AddressError('UNKNOWN_PREFIX', `no known network uses the human-readable part '${hrp}'`, { ...at, actual: hrp })
  }
  const bad = firstNotIn(address, BASE58_ALPHABET)
  if (bad >= 0) {
    throw new AddressError('BAD_ENCODING', `neither a segwit address of a known network nor base58 (character ${bad} '${address[bad]}')`, {
      ...at,
      position: bad,
      actual: address[bad],
    })
  }
  return decodeBase58(address, network)
}

/**
 * The output script (scriptPubKey) an address of `network` pays to:
 * `decodeAddress(address, network).script`.
 *
 * @throws {AddressError} as `decodeAddress` does.
 *
 * @example
 * ```ts
 * import { mainnet } from '@bitp2p/wire'
 * addressToScript('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', mainnet)
 * // 0014751e76e8199196d454941c45d1b3a323f1433bd6
 * ```
 */
export function addressToScript(address: string, network: AddressNetwork): Uint8Array {
  return decodeAddress(address, network).script
}

/**
 * The address of an output script on `network`, or undefined when the
 * script has none: a non-standard script (bare key, multisig, OP_RETURN,
 * a version 0 program of another length than 20 or 32), or a segwit script
 * on a network without segwit addresses. Segwit addresses come out in
 * lowercase, version 0 in bech32 and versions 1 to 16 in bech32m (BIP350).
 *
 * @example
 * ```ts
 * import { fromHex, mainnet } from '@bitp2p/wire'
 * scriptToAddress(fromHex('76a914751e76e8199196d454941c45d1b3a323f1433bd688ac'), mainnet)
 * // '1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH'
 * ```
 */
export function scriptToAddress(script: Uint8Array, network: AddressNetwork): string | undefined {
  const pkh = p2pkhHashOf(script)
  if (pkh !== undefined) return base58check.encode(withVersion(network.base58PubKeyHashPrefix, pkh))
  const sh = p2shHashOf(script)
  if (sh !== undefined) return base58check.encode(withVersion(network.base58ScriptHashPrefix, sh))
  const w = witnessProgramOf(script)
  const hrp = network.bech32Hrp
  if (w === undefined || hrp === undefined || witnessType(w.version, w.program.length) === 'nonstandard') return undefined
  const words = [w.version, ...bech32.toWords(w.program)]
  // A custom network's HRP could make the string longer than BIP173 allows.
  if (hrp.length + 1 + words.length + BECH32_CHECKSUM_CHARS > MAX_BECH32_ADDRESS_LENGTH) return undefined
  return (w.version === 0 ? bech32 : bech32m).encode(hrp, words, MAX_BECH32_ADDRESS_LENGTH)
}

// ---------------------------------------------------------------------------

function decodeSegwit(address: string, lower: string, separator: number, hrp: string, network: AddressNetwork): DecodedAddress {
  const at = { network: network.name }
  // BIP173: all lowercase or all uppercase, never mixed.
  if (address !== lower && address !== address.toUpperCase()) {
    throw new AddressError('BAD_ENCODING', 'mixed case (a bech32 string is all lowercase or all uppercase)', at)
  }
  const data = lower.slice(separator + 1)
  const bad = firstNotIn(data, BECH32_CHARSET)
  if (bad >= 0) {
    const position = separator + 1 + bad
    throw new AddressError('BAD_ENCODING', `character ${position} '${address[position]}' is not in the bech32 alphabet`, {
      ...at,
      position,
      actual: address[position],
    })
  }
  if (data.length <= BECH32_CHECKSUM_CHARS) {
    throw new AddressError(
      'BAD_ENCODING',
      data.length < BECH32_CHECKSUM_CHARS ? `checksum of ${data.length} characters, not ${BECH32_CHECKSUM_CHARS}` : 'no data before the checksum',
      { ...at, actual: data.length, expected: `more than ${BECH32_CHECKSUM_CHARS}` },
    )
  }

  // No string is valid in both variants (BIP350), so at most one decodes.
  const asBech32 = bech32.decodeUnsafe(address) || undefined
  const decoded = asBech32 ?? (bech32m.decodeUnsafe(address) || undefined)
  if (decoded === undefined) throw new AddressError('BAD_CHECKSUM', 'the bech32 and bech32m checksums both fail', at)
  const variant: AddressEncoding = asBech32 !== undefined ? 'bech32' : 'bech32m'

  if (hrp !== network.bech32Hrp?.toLowerCase()) {
    throw new AddressError(
      'WRONG_NETWORK',
      network.bech32Hrp === undefined
        ? `${network.name} has no segwit addresses ('${hrp}' is ${networksWithHrp(hrp).join(', ')})`
        : `a '${hrp}' address (${networksWithHrp(hrp).join(', ')}), not ${network.name}'s '${network.bech32Hrp}'`,
      { ...at, expected: network.bech32Hrp ?? 'no segwit', actual: hrp, networks: networksWithHrp(hrp) },
    )
  }

  const version = decoded.words[0]!
  if (version > MAX_WITNESS_VERSION) {
    throw new AddressError('BAD_WITNESS_VERSION', `witness version ${version}, above ${MAX_WITNESS_VERSION}`, {
      ...at,
      actual: version,
      expected: `0..${MAX_WITNESS_VERSION}`,
    })
  }

  // The program's 5-bit groups turn back into bytes with fewer than 5 bits
  // left over, all zero (BIP173's convertbits without padding).
  const programWords = decoded.words.slice(1)
  const paddingBits = (programWords.length * 5) % 8
  if (paddingBits > MAX_PADDING_BITS) {
    throw new AddressError('BAD_PADDING', `${paddingBits} bits of padding, more than ${MAX_PADDING_BITS}`, {
      ...at,
      actual: paddingBits,
      limit: MAX_PADDING_BITS,
    })
  }
  const program = bech32.fromWordsUnsafe(programWords)
  if (program === undefined) throw new AddressError('BAD_PADDING', 'padding bits that are not zero', at)

  if (program.length < MIN_WITNESS_PROGRAM_BYTES || program.length > MAX_WITNESS_PROGRAM_BYTES) {
    throw new AddressError('BAD_PROGRAM_LENGTH', `witness program of ${bytes(program.length)}, not ${MIN_WITNESS_PROGRAM_BYTES}..${MAX_WITNESS_PROGRAM_BYTES}`, {
      ...at,
      actual: program.length,
      expected: `${MIN_WITNESS_PROGRAM_BYTES}..${MAX_WITNESS_PROGRAM_BYTES}`,
    })
  }
  if (version === 0 && program.length !== 20 && program.length !== 32) {
    throw new AddressError('BAD_PROGRAM_LENGTH', `version 0 witness program of ${bytes(program.length)}, not 20 or 32 (BIP141)`, {
      ...at,
      actual: program.length,
      expected: '20 or 32',
    })
  }

  const expected: AddressEncoding = version === 0 ? 'bech32' : 'bech32m'
  if (variant !== expected) {
    throw new AddressError('WRONG_CHECKSUM_VARIANT', `a version ${version} address has a ${expected} checksum, not ${variant} (BIP350)`, {
      ...at,
      expected,
      actual: variant,
    })
  }

  const type = witnessType(version, program.length) as AddressType
  return { type, encoding: variant, witnessVersion: version, program, script: witnessScript(version, program) }
}

function decodeBase58(address: string, network: AddressNetwork): DecodedAddress {
  const at = { network: network.name }
  if (address.length > MAX_BASE58_ADDRESS_LENGTH) {
    throw new AddressError('BAD_ENCODING', `base58 string of ${address.length} characters, longer than an address (${MAX_BASE58_ADDRESS_LENGTH})`, {
      ...at,
      actual: address.length,
      limit: MAX_BASE58_ADDRESS_LENGTH,
    })
  }
  // The caller checked the alphabet, so this decodes.
  const raw = base58.decode(address)
  if (raw.length !== BASE58_CHECKED_BYTES) {
    throw new AddressError('BAD_PAYLOAD_LENGTH', `base58 payload of ${bytes(raw.length)}, not ${BASE58_CHECKED_BYTES} (version, 20-byte hash, checksum)`, {
      ...at,
      actual: raw.length,
      expected: BASE58_CHECKED_BYTES,
    })
  }
  let payload: Uint8Array
  try {
    payload = base58check.decode(address)
  } catch {
    throw new AddressError('BAD_CHECKSUM', 'the base58check checksum fails', at)
  }
  const version = payload[0]!
  const hash = payload.slice(1)
  if (version === network.base58PubKeyHashPrefix) return { type: 'p2pkh', encoding: 'base58check', program: hash, script: p2pkhScript(hash) }
  if (version === network.base58ScriptHashPrefix) return { type: 'p2sh', encoding: 'base58check', program: hash, script: p2shScript(hash) }
  const networks = NETWORKS.filter((n) => n.base58PubKeyHashPrefix === version || n.base58ScriptHashPrefix === version).map((n) => n.name)
  if (networks.length > 0) {
    throw new AddressError('WRONG_NETWORK', `a base58 address with version byte ${version} (${networks.join(', ')}), not one of ${network.name}`, {
      ...at,
      expected: `${network.base58PubKeyHashPrefix} or ${network.base58ScriptHashPrefix}`,
      actual: version,
      networks,
    })
  }
  throw new AddressError('UNKNOWN_PREFIX', `no known network uses the base58 version byte ${version}`, { ...at, actual: version })
}

/** True when `hrp` is the HRP of `network` or of a network @bitp2p/wire knows. */
function isKnownHrp(hrp: string, network: AddressNetwork): boolean {
  return hrp === network.bech32Hrp?.toLowerCase() || NETWORKS.some((n) => n.bech32Hrp === hrp)
}

/** The names of the known networks whose HRP is `hrp`. */
function networksWithHrp(hrp: string): string[] {
  return NETWORKS.filter((n) => n.bech32Hrp === hrp).map((n) => n.name)
}

/** Index of the first character of `s` not in `alphabet`, or -1. */
function firstNotIn(s: string, alphabet: string): number {
  for (let i = 0; i < s.length; i++) if (!alphabet.includes(s[i]!)) return i
  return -1
}

/** '1 byte', '5 bytes'. */
function bytes(n: number): string {
  return n === 1 ? '1 byte' : `${n} bytes`
}

/** version || hash. */
function withVersion(version: number, hash: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + hash.length)
  out[0] = version
  out.set(hash, 1)
  return out
}
