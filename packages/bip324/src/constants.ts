/**
 * BIP324 sizes and limits, as named constants.
 *
 * A v2 connection starts with two ElligatorSwift public keys and up to 4095
 * bytes of "garbage" each way, each side's garbage ends with a 16-byte
 * terminator, then everything is a packet:
 *
 *   length    3 bytes   contents length, encrypted with FSChaCha20 (L key)
 *   header    1 byte  \
 *   contents  n bytes  } ChaCha20-Poly1305 with the P key (FSChaCha20Poly1305)
 *   tag      16 bytes /
 */

/** Size of an ElligatorSwift-encoded public key on the wire (u || t, 32 bytes each). */
export const ELLSWIFT_BYTES = 64

/** Size of a secp256k1 secret key. */
export const SECRET_KEY_BYTES = 32

/** Size of each direction's garbage terminator (HKDF output, 'garbage_terminators' split in two). */
export const GARBAGE_TERMINATOR_BYTES = 16

/**
 * The most garbage a peer may send after its public key (BIP324: "up to
 * 4095 bytes"). We accept this much, in both roles: the terminator search
 * gives up after MAX_GARBAGE_BYTES + GARBAGE_TERMINATOR_BYTES bytes.
 */
export const MAX_GARBAGE_BYTES = 4095

/**
 * The most garbage we send by default: one byte less than the BIP allows.
 *
 * Why: btcd 0.25's terminator search (v2transport CompleteHandshake, shared
 * by both roles) checks the last 16 bytes only up to 4,110 received bytes,
 * one position short of 4,095 + 16, so it drops a peer that sends exactly
 * 4,095 bytes of garbage. Sending at most 4,094 costs nothing in shapability
 * and keeps us compatible; we still accept 4,095 from others, as the BIP says.
 */
export const MAX_SEND_GARBAGE_BYTES = 4094

/** Size of the session id (HKDF 'session_id'). */
export const SESSION_ID_BYTES = 32

/** Size of the encrypted length field at the start of every packet. */
export const LENGTH_FIELD_BYTES = 3

/** Size of the packet header (the first plaintext byte: transport flags). */
export const PACKET_HEADER_BYTES = 1

/** The header bit that marks a decoy packet, to be verified and then ignored (bit 7). */
export const IGNORE_BIT = 0x80

/** Size of the Poly1305 tag that follows every packet's ciphertext. */
export const TAG_BYTES = 16

/** Bytes a packet adds to its contents: length + header + tag = 20. */
export const PACKET_OVERHEAD_BYTES = LENGTH_FIELD_BYTES + PACKET_HEADER_BYTES + TAG_BYTES

/** Largest contents a 3-byte length field can describe: 2^24 - 1. */
export const MAX_CONTENTS_BYTES = 0xffffff

/** Both ciphers of a direction switch to a new key after this many packets (BIP324). */
export const REKEY_INTERVAL = 224

/** Size of the long message-type form: a 0x00 byte then the 12-byte ASCII command. */
export const LONG_TYPE_BYTES = 13

/**
 * How many plaintext bytes the decoder decrypts ahead of the tag to learn a
 * packet's header and message type: header + the long type form.
 */
export const PEEK_BYTES = PACKET_HEADER_BYTES + LONG_TYPE_BYTES

/** Size of the v1 prefix a responder compares with: magic + 'version' + 5 NULs. */
export const V1_PREFIX_BYTES = 16

/** The contents of our transport version packet: empty (BIP324 v2.0). */
export const TRANSPORT_VERSION: Uint8Array = new Uint8Array(0)
