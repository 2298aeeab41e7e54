/**
 * Key derivation (BIP324 "Keys and session ID derivation"): HKDF-SHA256 over
 * the ECDH shared secret, salted with "bitcoin_v2_shared_secret" and the
 * network magic, so peers on different networks derive different keys and
 * never find each other's garbage terminator.
 */
import { expand, extract } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { GARBAGE_TERMINATOR_BYTES, SESSION_ID_BYTES } from './constants.js'
import { V2Error } from './errors.js'

/** Which end of the connection: the initiator dialled, the responder accepted. */
export type V2Role = 'initiator' | 'responder'

/** Everything HKDF derives from one shared secret; both peers derive the same. */
export interface V2Keys {
  /** 32 bytes that name the encrypted channel; equal on both sides (operators may compare them out of band). */
  readonly sessionId: Uint8Array
  /** Length-cipher key, initiator to responder. */
  readonly initiatorL: Uint8Array
  /** Packet-cipher key, initiator to responder. */
  readonly initiatorP: Uint8Array
  /** Length-cipher key, responder to initiator. */
  readonly responderL: Uint8Array
  /** Packet-cipher key, responder to initiator. */
  readonly responderP: Uint8Array
  /** The 16 bytes that end the initiator's garbage. */
  readonly initiatorTerminator: Uint8Array
  /** The 16 bytes that end the responder's garbage. */
  readonly responderTerminator: Uint8Array
}

const TEXT = new TextEncoder()
const SALT_PREFIX = TEXT.encode('bitcoin_v2_shared_secret')
const KEY_BYTES = 32

/**
 * BIP324's initialize_v2_transport key schedule.
 * @param sharedSecret the 32-byte v2_ecdh output
 * @param magic the network's 4 magic bytes
 */
export function deriveV2Keys(sharedSecret: Uint8Array, magic: Uint8Array): V2Keys {
  if (magic.length !== 4) throw new V2Error('RANGE', `magic must be 4 bytes, got ${magic.length}`)
  if (sharedSecret.length !== 32) throw new V2Error('RANGE', 'shared secret must be 32 bytes')
  const salt = new Uint8Array(SALT_PREFIX.length + 4)
  salt.set(SALT_PREFIX, 0)
  salt.set(magic, SALT_PREFIX.length)
  const prk = extract(sha256, sharedSecret, salt)
  const info = (label: string, n: number) => expand(sha256, prk, TEXT.encode(label), n)
  const terminators = info('garbage_terminators', 2 * GARBAGE_TERMINATOR_BYTES)
  const keys: V2Keys = {
    sessionId: info('session_id', SESSION_ID_BYTES),
    initiatorL: info('initiator_L', KEY_BYTES),
    initiatorP: info('initiator_P', KEY_BYTES),
    responderL: info('responder_L', KEY_BYTES),
    responderP: info('responder_P', KEY_BYTES),
    initiatorTerminator: terminators.slice(0, GARBAGE_TERMINATOR_BYTES),
    responderTerminator: terminators.slice(GARBAGE_TERMINATOR_BYTES),
  }
  // Forward secrecy: the PRK could re-derive every key; wipe it.
  prk.fill(0)
  return keys
}
