/**
 * getblocks / getheaders: ask for the chain after the first locator hash
 * the peer recognises.
 *   u32 version | CompactSize count | count x 32-byte hash | 32-byte hashStop
 * The locator lists block hashes from the tip backwards, dense first then
 * exponentially sparse, ending at genesis. A hashStop of all zeros means
 * "as many as allowed" (500 inv entries for getblocks, MAX_HEADERS_RESULTS
 * headers for getheaders).
 */
import type { ByteReader } from '../bytes/reader.js'
import type { ByteWriter } from '../bytes/writer.js'
import { compactSizeLength } from '../bytes/writer.js'
import { WireError } from '../errors.js'
import type { Codec } from './codec.js'

/**
 * Core's MAX_LOCATOR_SZ: most hashes in a locator. A locator built the
 * usual way (10 dense, then doubling steps) stays far below it for any
 * realistic chain; Core disconnects a peer that sends more.
 */
export const MAX_LOCATOR_SZ = 101
/** Bytes of one hash. */
export const LOCATOR_HASH_BYTES = 32
/** Largest payload: version 4 + CompactSize(101) + 101 hashes + hashStop. */
export const MAX_LOCATOR_PAYLOAD = 4 + compactSizeLength(MAX_LOCATOR_SZ) + MAX_LOCATOR_SZ * LOCATOR_HASH_BYTES + LOCATOR_HASH_BYTES

/** getblocks: asks for an inv of the blocks after the locator (at most 500). */
export interface GetblocksMessage {
  readonly command: 'getblocks'
  /**
   * The sender's protocol version (u32). Core writes its own version here
   * and ignores the value it receives.
   */
  readonly version: number
  /** Block hashes, internal byte order, newest first. */
  readonly locator: readonly Uint8Array[]
  /** Last block wanted, or 32 zero bytes for "as many as allowed". */
  readonly hashStop: Uint8Array
}

/** getheaders: asks for the headers after the locator (at most MAX_HEADERS_RESULTS). */
export interface GetheadersMessage {
  readonly command: 'getheaders'
  /** The sender's protocol version (u32); see GetblocksMessage.version. */
  readonly version: number
  /** Block hashes, internal byte order, newest first. */
  readonly locator: readonly Uint8Array[]
  /** Last header wanted, or 32 zero bytes for "as many as allowed". */
  readonly hashStop: Uint8Array
}

/** True when a hashStop is all zeros ("as many as allowed"). */
export function isNullHashStop(hashStop: Uint8Array): boolean {
  for (let i = 0; i < hashStop.length; i++) if (hashStop[i] !== 0) return false
  return hashStop.length === LOCATOR_HASH_BYTES
}

type LocatorMessage = GetblocksMessage | GetheadersMessage

/** The shared layout; `make` builds the typed message from the decoded fields. */
function locatorCodec<M extends LocatorMessage>(
  command: M['command'],
  make: (version: number, locator: Uint8Array[], hashStop: Uint8Array) => M,
): Codec<M> {
  return {
    command,
    maxPayload: () => MAX_LOCATOR_PAYLOAD,
    encode(w: ByteWriter, m: M) {
      if (m.locator.length > MAX_LOCATOR_SZ) {
        throw new WireError('ENCODE_RANGE', `${command}: ${m.locator.length} locator hashes exceeds ${MAX_LOCATOR_SZ}`, {
          field: 'MAX_LOCATOR_SZ',
          limit: MAX_LOCATOR_SZ,
          actual: m.locator.length,
        })
      }
      w.u32le(m.version).compactSize(m.locator.length)
      for (const h of m.locator) w.hash(h)
      w.hash(m.hashStop)
    },
    decode(r: ByteReader): M {
      const version = r.u32le()
      // Checked against the limit and the bytes left before anything is kept.
      const n = r.count(MAX_LOCATOR_SZ, `${command} locator`, LOCATOR_HASH_BYTES)
      const locator: Uint8Array[] = []
      for (let i = 0; i < n; i++) locator.push(r.hash())
      const hashStop = r.hash()
      return make(version, locator, hashStop)
    },
  }
}

/** getblocks: locator-based request for block announcements. */
export const getblocksCodec: Codec<GetblocksMessage> = locatorCodec<GetblocksMessage>('getblocks', (version, locator, hashStop) => ({
  command: 'getblocks',
  version,
  locator,
  hashStop,
}))
/** getheaders: locator-based request for headers. */
export const getheadersCodec: Codec<GetheadersMessage> = locatorCodec<GetheadersMessage>('getheaders', (version, locator, hashStop) => ({
  command: 'getheaders',
  version,
  locator,
  hashStop,
}))
