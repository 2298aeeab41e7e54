/**
 * RFC 8439 ChaCha20-Poly1305 for one packet, from @noble/ciphers (pure JS).
 *
 * The default build's packet AEAD (aead.ts re-exports it), and the Node
 * variant's fallback where node:crypto lacks the cipher (aead.node.ts).
 * It lives in its own module so that aead.node.ts can import it: in the
 * Node variant build every `./aead.js` import resolves to aead.node.ts.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { TAG_BYTES } from './constants.js'

/**
 * Seals one message into `out`: the plaintext is `out[0 .. headBytes]`
 * followed by `tail`; afterwards `out` holds the ciphertext then the 16-byte
 * tag. The caller guarantees `out.length === headBytes + tail.length + 16`
 * and that `tail` does not overlap `out`.
 */
export function nobleSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, out: Uint8Array, headBytes: number, tail: Uint8Array): void {
  if (tail.length > 0) out.set(tail, headBytes)
  // In place: noble reads each block of the plaintext before writing its ciphertext there.
  chacha20poly1305(key, nonce, aad).encrypt(out.subarray(0, out.length - TAG_BYTES), out)
}

/**
 * Authenticates `sealed` (ciphertext then 16-byte tag) and decrypts it IN
 * PLACE: the plaintext returned is `sealed` without its tag. Returns
 * undefined, with `sealed` unchanged, when the tag does not verify (noble
 * checks the tag before decrypting).
 */
export function nobleOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
  const plain = sealed.subarray(0, sealed.length - TAG_BYTES)
  try {
    chacha20poly1305(key, nonce, aad).decrypt(sealed, plain)
  } catch {
    return undefined
  }
  return plain
}
