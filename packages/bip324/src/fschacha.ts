/**
 * BIP324's rekeying wrappers around RFC 8439 ChaCha20 and ChaCha20-Poly1305
 * (nothing here does cipher arithmetic). ChaCha20 is @noble/ciphers'; the
 * packet AEAD is aead.ts's: @noble/ciphers in the default build, node:crypto
 * in the Node variant (the package's "node" export condition).
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
import { chacha20 } from '@noble/ciphers/chacha.js'
import { aeadOpen, aeadSeal } from './aead.js'
import { REKEY_INTERVAL, TAG_BYTES } from './constants.js'
import { V2Error } from './errors.js'

const NONCE_BYTES = 12
const KEY_BYTES = 32
const BLOCK_BYTES = 64
const ZERO_KEY = new Uint8Array(KEY_BYTES)
const EMPTY = new Uint8Array(0)

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
   * @throws V2Error RANGE when `buf` is shorter than the tag.
   */
  encryptInPlace(aad: Uint8Array, buf: Uint8Array): void {
    this.seal(aad, buf, buf.length - TAG_BYTES, EMPTY)
  }

  /**
   * Encrypts the plaintext `out[0 .. headBytes] || tail` into `out`:
   * ciphertext, then the 16-byte tag (so `out.length` is headBytes +
   * tail.length + 16). The tail is read where it lies: a packet's payload
   * is not copied before encryption where the backend can read it directly
   * (node:crypto). Advances to the next packet.
   * @throws V2Error RANGE when the lengths do not fit.
   */
  seal(aad: Uint8Array, out: Uint8Array, headBytes: number, tail: Uint8Array): void {
    if (!Number.isInteger(headBytes) || headBytes < 0 || out.length !== headBytes + tail.length + TAG_BYTES) {
      throw new V2Error('RANGE', `sealing ${headBytes} + ${tail.length} plaintext bytes needs ${headBytes + tail.length + TAG_BYTES} bytes of output, got ${out.length}`)
    }
    aeadSeal(this.#key, this.#currentNonce(), aad, out, headBytes, tail)
    this.#advance()
  }

  /**
   * Authenticates `buf` (ciphertext then 16-byte tag) and decrypts it in
   * place; returns the plaintext, `buf` without its tag. Advances to the
   * next packet either way (a failure is fatal to the connection anyway).
   * @throws V2Error BAD_TAG when authentication fails; `buf` is then unchanged.
   */
  decryptInPlace(aad: Uint8Array, buf: Uint8Array): Uint8Array {
    const plain = this.open(aad, buf)
    const inPlace = buf.subarray(0, buf.length - TAG_BYTES)
    // node:crypto returns a new array: copy it back to keep this method's promise.
    if (plain.buffer !== buf.buffer || plain.byteOffset !== buf.byteOffset) inPlace.set(plain)
    return inPlace
  }

  /**
   * Authenticates `sealed` (ciphertext then 16-byte tag) and returns the
   * plaintext: decrypted in place (`sealed` without its tag) by the pure
   * backend, or a new array from node:crypto, which only reads `sealed`
   * (aead.ts's AEAD_OPEN_WRITES_INPUT says which). Advances to the next
   * packet either way (a failure is fatal to the connection anyway).
   * @throws V2Error RANGE when `sealed` is shorter than the tag; BAD_TAG when
   * authentication fails (`sealed` is then unchanged).
   */
  open(aad: Uint8Array, sealed: Uint8Array): Uint8Array {
    if (sealed.length < TAG_BYTES) throw new V2Error('RANGE', `a sealed packet holds at least the ${TAG_BYTES}-byte tag, got ${sealed.length} bytes`)
    let plain: Uint8Array | undefined
    try {
      plain = aeadOpen(this.#key, this.#currentNonce(), aad, sealed)
    } finally {
      this.#advance()
    }
    if (plain === undefined) throw new V2Error('BAD_TAG', 'packet authentication failed', { packet: this.#packets - 1 })
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
