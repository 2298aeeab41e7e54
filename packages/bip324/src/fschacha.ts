/**
 * BIP324's rekeying wrappers around RFC 8439 ChaCha20 and ChaCha20-Poly1305
 * (both from @noble/ciphers; nothing here does cipher arithmetic).
 *
 * One instance serves one direction: the sender and the receiver of a
 * direction hold identical instances and advance them in the same order.
 *
 * - FSChaCha20 encrypts the 3-byte packet lengths. One keystream (nonce =
 *   4 zero bytes || u64 LE rekey count, block counter from 0) is consumed
 *   across 224 chunks; then the next 32 keystream bytes become the new key
 *   and the block counter restarts. With 3-byte chunks that is exactly 11
 *   blocks per key: 224 * 3 + 32 = 704 = 11 * 64.
 * - FSChaCha20Poly1305 encrypts each packet's plaintext as one AEAD message
 *   with nonce = u32 LE (count mod 224) || u64 LE (count div 224). After
 *   packet 224k-1 the key becomes the first 32 bytes of the AEAD encryption
 *   of 32 zero bytes under nonce 0xffffffff || u64 LE rekey count, which is
 *   ChaCha20 keystream block 1 of that nonce (BIP324 notes the equivalence),
 *   so it is computed with chacha20 at counter 1 and no Poly1305.
 */
import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { REKEY_INTERVAL, TAG_BYTES } from './constants.js'
import { V2Error } from './errors.js'

const NONCE_BYTES = 12
const KEY_BYTES = 32
const BLOCK_BYTES = 64
const ZERO_KEY = new Uint8Array(KEY_BYTES)

/** Writes a non-negative integer below 2^53 as u64 little-endian at `offset`. */
function writeU64LE(out: Uint8Array, offset: number, n: number): void {
  let lo = n % 0x100000000
  let hi = Math.floor(n / 0x100000000)
  for (let i = 0; i < 4; i++) {
    out[offset + i] = lo & 0xff
    lo = lo >>> 8
    out[offset + 4 + i] = hi & 0xff
    hi = hi >>> 8
  }
}

function checkKey(key: Uint8Array): Uint8Array {
  if (key.length !== KEY_BYTES) throw new V2Error('RANGE', `cipher key must be 32 bytes, got ${key.length}`)
  return key.slice()
}

/** BIP324's FSChaCha20: the length cipher of one direction (encryption and decryption are the same XOR). */
export class FSChaCha20 {
  #key: Uint8Array
  #chunks = 0
  #block = 0
  /** Keystream generated and not used yet: #stream[#pos..]. */
  #stream: Uint8Array = new Uint8Array(0)
  #pos = 0
  readonly #nonce = new Uint8Array(NONCE_BYTES)

  /** @param key the 32-byte initial key (initiator_L or responder_L); copied. */
  constructor(key: Uint8Array) {
    this.#key = checkKey(key)
  }

  /** How many chunks this instance has processed. */
  get chunks(): number {
    return this.#chunks
  }

  /** XORs `chunk` with the next keystream bytes into `out` at `offset` (default: a new array); one call is one chunk. */
  crypt(chunk: Uint8Array, out: Uint8Array = new Uint8Array(chunk.length), offset = 0): Uint8Array {
    const ks = this.#take(chunk.length)
    for (let i = 0; i < chunk.length; i++) out[offset + i] = chunk[i]! ^ ks[i]!
    if ((this.#chunks + 1) % REKEY_INTERVAL === 0) {
      this.#key = this.#take(KEY_BYTES).slice()
      this.#block = 0
    }
    this.#chunks++
    return out
  }

  /** The next `n` keystream bytes, generating whole blocks as needed (the BIP's get_keystream_bytes). */
  #take(n: number): Uint8Array {
    const have = this.#stream.length - this.#pos
    if (have < n) {
      const blocks = Math.ceil((n - have) / BLOCK_BYTES)
      writeU64LE(this.#nonce, 4, Math.floor(this.#chunks / REKEY_INTERVAL))
      const fresh = chacha20(this.#key, this.#nonce, new Uint8Array(blocks * BLOCK_BYTES), undefined, this.#block)
      this.#block += blocks
      const next = new Uint8Array(have + fresh.length)
      next.set(this.#stream.subarray(this.#pos), 0)
      next.set(fresh, have)
      this.#stream = next
      this.#pos = 0
    }
    const out = this.#stream.subarray(this.#pos, this.#pos + n)
    this.#pos += n
    return out
  }
}

/** BIP324's FSChaCha20Poly1305: the packet AEAD of one direction. */
export class FSChaCha20Poly1305 {
  #key: Uint8Array
  #packets = 0
  readonly #nonce = new Uint8Array(NONCE_BYTES)

  /** @param key the 32-byte initial key (initiator_P or responder_P); copied. */
  constructor(key: Uint8Array) {
    this.#key = checkKey(key)
  }

  /** How many packets this instance has encrypted or decrypted. */
  get packets(): number {
    return this.#packets
  }

  /** The nonce of the current packet. */
  #currentNonce(): Uint8Array {
    const n = this.#nonce
    const c = this.#packets % REKEY_INTERVAL
    n[0] = c & 0xff
    n[1] = (c >>> 8) & 0xff
    n[2] = (c >>> 16) & 0xff
    n[3] = (c >>> 24) & 0xff
    writeU64LE(n, 4, Math.floor(this.#packets / REKEY_INTERVAL))
    return n
  }

  /**
   * Encrypts `buf[0 .. buf.length - 16]` in place and writes the tag into
   * the last 16 bytes of `buf`. Advances to the next packet.
   */
  encryptInPlace(aad: Uint8Array, buf: Uint8Array): void {
    const nonce = this.#currentNonce()
    chacha20poly1305(this.#key, nonce, aad).encrypt(buf.subarray(0, buf.length - TAG_BYTES), buf)
    this.#advance()
  }

  /**
   * Authenticates `buf` (ciphertext then 16-byte tag) and decrypts it in
   * place; returns the plaintext, `buf` without its tag. Advances to the
   * next packet either way (a failure is fatal to the connection anyway).
   * @throws V2Error BAD_TAG when authentication fails; `buf` is then unchanged.
   */
  decryptInPlace(aad: Uint8Array, buf: Uint8Array): Uint8Array {
    const nonce = this.#currentNonce()
    const plain = buf.subarray(0, buf.length - TAG_BYTES)
    try {
      chacha20poly1305(this.#key, nonce, aad).decrypt(buf, plain)
    } catch {
      throw new V2Error('BAD_TAG', 'packet authentication failed', { packet: this.#packets })
    } finally {
      this.#advance()
    }
    return plain
  }

  /**
   * The first bytes of the current packet's plaintext, decrypted from its
   * first ciphertext bytes WITHOUT authentication and without advancing:
   * the AEAD's ciphertext is the plaintext XOR ChaCha20 keystream from block
   * 1, so a prefix decrypts on its own. Only for deciding early to refuse a
   * packet; the tag is checked when the packet is complete (see packet.ts).
   */
  peek(ciphertextPrefix: Uint8Array): Uint8Array {
    return chacha20(this.#key, this.#currentNonce(), ciphertextPrefix, undefined, 1)
  }

  #advance(): void {
    if ((this.#packets + 1) % REKEY_INTERVAL === 0) {
      const nonce = this.#currentNonce()
      nonce[0] = nonce[1] = nonce[2] = nonce[3] = 0xff
      // AEAD-encrypting 32 zero bytes = keystream bytes 64..95 = block 1.
      this.#key = chacha20(this.#key, nonce, ZERO_KEY, undefined, 1)
    }
    this.#packets++
  }
}
