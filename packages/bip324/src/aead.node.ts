/**
 * The packet AEAD for Node, Deno and Bun (the package's "node" export
 * condition; see aead.ts for the default build and the API): node:crypto's
 * 'chacha20-poly1305', the same RFC 8439 AEAD in native code, about ten
 * times @noble/ciphers' speed on large packets and two to five times on
 * small ones (bench/packets.bench.mjs), so block downloads over v2 are no
 * longer bound by our decryption.
 *
 * Chosen once, at load, deterministically: node:crypto is used only if the
 * runtime lists the cipher and a fixed self-test passes (its seal equals
 * @noble/ciphers' byte for byte, it opens that, and it refuses the same
 * packet with one bit flipped). Otherwise this module falls back to the
 * pure implementation, and PACKET_AEAD_BACKEND says 'noble'. Deno 2.9 has
 * the cipher; Bun 1.4 does not ("Unknown cipher") and falls back.
 *
 * Copies: node:crypto cannot write into a given array, so opening returns
 * the plaintext in a new array and never writes its input (a packet that
 * arrived in one piece is opened where it lies); sealing writes the
 * ciphertext node:crypto returns into the packet, with the payload read
 * straight from the caller's array (no copy into the packet first).
 */
import { createCipheriv, createDecipheriv, getCiphers } from 'node:crypto'
import { nobleOpen, nobleSeal } from './aead-noble.js'
import type { PacketAeadBackend } from './aead.js'
import { TAG_BYTES } from './constants.js'
import { V2Error } from './errors.js'

export type { PacketAeadBackend }

/** node:crypto's name for RFC 8439 ChaCha20-Poly1305. */
const ALGORITHM = 'chacha20-poly1305'

/** A node:crypto result (a Buffer) as a plain Uint8Array over the same memory, so no Buffer semantics reach users. */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/** Writes `part` into `out` at `offset`; returns the offset after it. */
function put(out: Uint8Array, offset: number, part: Uint8Array): number {
  out.set(part, offset)
  return offset + part.length
}

/** aeadSeal with node:crypto: the ciphertext of head and tail, then the tag. */
function nodeSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, out: Uint8Array, headBytes: number, tail: Uint8Array): void {
  const c = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES })
  c.setAAD(aad, { plaintextLength: out.length - TAG_BYTES })
  // update() returns a new array before anything is written back, so the head may be read from `out` itself.
  let o = put(out, 0, c.update(out.subarray(0, headBytes)))
  o = put(out, o, c.update(tail))
  o = put(out, o, c.final())
  // A stream cipher returns as many bytes as it is given; anything else would misplace the tag.
  if (o !== out.length - TAG_BYTES) throw new V2Error('STATE', `node:crypto ${ALGORITHM} returned ${o} ciphertext bytes for ${out.length - TAG_BYTES}`)
  out.set(c.getAuthTag(), o)
}

/** aeadOpen with node:crypto: a new array; `sealed` is only read. */
function nodeOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
  const n = sealed.length - TAG_BYTES
  const d = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES })
  d.setAAD(aad, { plaintextLength: n })
  d.setAuthTag(sealed.subarray(n))
  const out = d.update(sealed.subarray(0, n))
  try {
    // final() verifies the tag; the plaintext is dropped unless it passes.
    d.final()
  } catch {
    return undefined
  }
  if (out.length !== n) throw new V2Error('STATE', `node:crypto ${ALGORITHM} returned ${out.length} plaintext bytes for ${n}`)
  return plain(out)
}

/** Bytes of the self-test's plaintext: more than one 64-byte block and not a multiple of it. */
const SELF_TEST_BYTES = 77
/** Of which the head (the rest is the tail): both parts of nodeSeal are exercised. */
const SELF_TEST_HEAD = 3

/**
 * True when node:crypto has a ChaCha20-Poly1305 that agrees with
 * @noble/ciphers on a fixed message with AAD: same ciphertext and tag, it
 * opens that packet, and it refuses it with one bit flipped. Fixed inputs:
 * the answer depends on the runtime only.
 */
function nodeCryptoWorks(): boolean {
  try {
    if (!getCiphers().includes(ALGORITHM)) return false
    const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 1) & 0xff)
    const nonce = Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i)
    const aad = Uint8Array.from({ length: 5 }, (_, i) => 0x50 + i)
    const message = Uint8Array.from({ length: SELF_TEST_BYTES }, (_, i) => (i * 13 + 5) & 0xff)
    const expected = new Uint8Array(SELF_TEST_BYTES + TAG_BYTES)
    nobleSeal(key, nonce, aad, expected, 0, message)
    const sealed = new Uint8Array(SELF_TEST_BYTES + TAG_BYTES)
    sealed.set(message.subarray(0, SELF_TEST_HEAD))
    nodeSeal(key, nonce, aad, sealed, SELF_TEST_HEAD, message.subarray(SELF_TEST_HEAD))
    if (!sealed.every((b, i) => b === expected[i])) return false
    const opened = nodeOpen(key, nonce, aad, expected)
    if (opened === undefined || !opened.every((b, i) => b === message[i])) return false
    expected[SELF_TEST_BYTES >> 1]! ^= 1
    return nodeOpen(key, nonce, aad, expected) === undefined
  } catch {
    return false
  }
}

const NATIVE = nodeCryptoWorks()

/** Which packet AEAD this build uses: 'node:crypto', or 'noble' where the runtime's node:crypto lacks a working 'chacha20-poly1305'. */
export const PACKET_AEAD_BACKEND: PacketAeadBackend = NATIVE ? 'node:crypto' : 'noble'

/** True when `aeadOpen` decrypts in place: only with the 'noble' fallback (see aead.ts). */
export const AEAD_OPEN_WRITES_INPUT: boolean = !NATIVE

/** Seals `out[0 .. headBytes] || tail` into `out` (ciphertext, then tag); see aead.ts. */
export const aeadSeal: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, out: Uint8Array, headBytes: number, tail: Uint8Array) => void = NATIVE ? nodeSeal : nobleSeal

/** Authenticates and decrypts `sealed`; undefined for a bad tag; see aead.ts. */
export const aeadOpen: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array) => Uint8Array | undefined = NATIVE ? nodeOpen : nobleOpen
