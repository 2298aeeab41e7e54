/**
 * @bitp2p/bip324: the BIP324 v2 encrypted transport, sans-IO.
 *
 * `V2Handshake` runs the key exchange for either role and yields a
 * `V2Session`, which encrypts messages into packets and push-decodes
 * packets into messages. No IO, no clock: bytes in, bytes and events out;
 * randomness is injected. Uint8Array only.
 */
export * from './constants.js'
export * from './errors.js'
export type { Random } from './random.js'
export { createEllSwiftKeyPair, ellswiftDecode, ellswiftEncode, ellswiftEcdhX, v2Ecdh, xswiftecInv, type EllSwiftKeyPair } from './ellswift.js'
export { deriveV2Keys, type V2Keys, type V2Role } from './keys.js'
export { FSChaCha20, FSChaCha20Poly1305 } from './fschacha.js'
export { PACKET_AEAD_BACKEND, type PacketAeadBackend } from './aead.js'
export { SHORT_IDS, shortIdOf, readMessageType, type DropReason, type MessageType } from './message-type.js'
export * from './session.js'
export * from './handshake.js'
