/**
 * The packet AEAD behind FSChaCha20Poly1305: RFC 8439 ChaCha20-Poly1305,
 * one call per packet, with the key and nonce FSChaCha20Poly1305 computes.
 *
 * This is the default build (browsers, bundlers, edge workers): pure JS from
 * @noble/ciphers, about 100 MB/s. The package's "node" export condition
 * (Node, Deno, Bun) selects aead.node.ts instead, which uses node:crypto's
 * 'chacha20-poly1305' (about 1 GB/s) where the runtime has it. Both give the
 * same bytes and the same failures (test/aead.test.ts).
 */
import { nobleOpen, nobleSeal } from './aead-noble.js'

/** Which ChaCha20-Poly1305 implementation seals and opens packets. */
export type PacketAeadBackend = 'noble' | 'node:crypto'

/**
 * Which packet AEAD this build uses: 'noble' here (pure JS); the Node
 * variant says 'node:crypto', or 'noble' on a runtime whose node:crypto
 * lacks a working 'chacha20-poly1305' (Bun 1.4).
 */
export const PACKET_AEAD_BACKEND: PacketAeadBackend = 'noble'

/**
 * True when `aeadOpen` decrypts in place (the ciphertext it is given is
 * overwritten by the plaintext), so a caller must pass bytes it owns. The
 * node:crypto backend only reads its input and returns a new array.
 */
export const AEAD_OPEN_WRITES_INPUT: boolean = true

/**
 * Seals the plaintext `out[0 .. headBytes] || tail` into `out` (ciphertext,
 * then the 16-byte tag). `out.length` must be headBytes + tail.length + 16,
 * and `tail` must not overlap `out`.
 */
export const aeadSeal: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, out: Uint8Array, headBytes: number, tail: Uint8Array) => void = nobleSeal

/**
 * Authenticates `sealed` (ciphertext then tag) and returns its plaintext,
 * or undefined when the tag does not verify (`sealed` is then unchanged).
 * Decrypts in place when AEAD_OPEN_WRITES_INPUT is true.
 */
export const aeadOpen: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array) => Uint8Array | undefined = nobleOpen
