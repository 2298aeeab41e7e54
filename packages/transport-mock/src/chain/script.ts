/**
 * Script and byte helpers for synthetic chain data: BIP34 height pushes,
 * the standard output templates, and signature- and key-shaped filler.
 *
 * Nothing here signs or checks anything. The "signatures" are random bytes
 * in a DER-like envelope and the "keys" random bytes behind a valid prefix:
 * the SPV path of this SDK never executes scripts, so structurally valid
 * data is all a virtual peer needs to send.
 */
import type { Random } from '@bitp2p/session'
import { compactSizeLength } from '@bitp2p/wire/codecs'

/** Pushes an empty array (false); also the witness version 0 of P2WPKH/P2WSH outputs. */
export const OP_0 = 0x00
/** Next byte is the push length. */
export const OP_PUSHDATA1 = 0x4c
/** Next 2 bytes (LE) are the push length. */
export const OP_PUSHDATA2 = 0x4d
/** Next 4 bytes (LE) are the push length. */
export const OP_PUSHDATA4 = 0x4e
/** Pushes the number 1; OP_1..OP_16 are consecutive (small numbers in BIP34 height pushes, witness versions). */
export const OP_1 = 0x51
/** Pushes the number 16, the last of OP_1..OP_16. */
export const OP_16 = 0x60
/** Marks an output unspendable; what follows is data (the witness commitment, OP_RETURN payloads). */
export const OP_RETURN = 0x6a
/** Duplicates the top stack item (P2PKH). */
export const OP_DUP = 0x76
/** Pushes whether the top two items are equal (P2SH). */
export const OP_EQUAL = 0x87
/** OP_EQUAL, then fails the script unless true (P2PKH). */
export const OP_EQUALVERIFY = 0x88
/** Replaces the top item with its RIPEMD160(SHA256(x)) (P2PKH, P2SH). */
export const OP_HASH160 = 0xa9
/** Checks a signature against a public key (P2PKH). Never executed here. */
export const OP_CHECKSIG = 0xac

/** A HASH160 (P2PKH, P2WPKH and P2SH payloads). */
export const HASH160_BYTES = 20
/** A DER ECDSA signature with 33-byte r and 32-byte s plus the sighash byte: the common 72-byte size. */
export const FAKE_SIGNATURE_BYTES = 72
/** A compressed public key. */
export const COMPRESSED_PUBKEY_BYTES = 33
/** SIGHASH_ALL, the sighash byte at the end of the fake signatures. */
export const SIGHASH_ALL = 0x01

/** Largest push a single direct-length opcode (0x01..0x4b) covers. */
const MAX_DIRECT_PUSH = 0x4b

/** `n` bytes drawn from `random`, four per u32. */
export function randomBytes(random: Random, n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += 4) {
    let x = random.u32()
    for (let j = i; j < i + 4 && j < n; j++) {
      out[j] = x & 0xff
      x >>>= 8
    }
  }
  return out
}

/**
 * `n` bytes of cheap filler: 32 random bytes repeated. Large payloads (a
 * multi-megabyte OP_RETURN, a streamed gigabyte block) need bulk, not
 * entropy; doubling copies keep this at memcpy speed.
 */
export function fillerBytes(random: Random, n: number): Uint8Array {
  const out = new Uint8Array(n)
  out.set(randomBytes(random, Math.min(32, n)))
  for (let have = Math.min(32, n); have < n; have *= 2) out.copyWithin(have, 0, Math.min(have, n - have))
  return out
}

/** A minimal push of `data` (direct, OP_PUSHDATA1, 2 or 4 by length). */
export function pushData(data: Uint8Array): Uint8Array {
  const n = data.length
  let head: number[]
  if (n <= MAX_DIRECT_PUSH) head = [n]
  else if (n <= 0xff) head = [OP_PUSHDATA1, n]
  else if (n <= 0xffff) head = [OP_PUSHDATA2, n & 0xff, n >>> 8]
  else head = [OP_PUSHDATA4, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]
  const out = new Uint8Array(head.length + n)
  out.set(head)
  out.set(data, head.length)
  return out
}

/**
 * `CScript() << height` as BIP34 wants it at the start of a coinbase
 * scriptSig: OP_0, OP_1..OP_16, or a push of the minimal little-endian
 * script number (a 0x00 byte added when the top bit would read as a sign).
 * @throws RangeError unless height is an integer in [0, 2^31).
 */
export function heightScript(height: number): Uint8Array {
  if (!Number.isInteger(height) || height < 0 || height > 0x7fffffff) {
    throw new RangeError(`BIP34 height must be an integer in [0, 2^31), got ${height}`)
  }
  if (height === 0) return Uint8Array.of(OP_0)
  if (height <= 16) return Uint8Array.of(OP_1 + height - 1)
  const bytes: number[] = []
  for (let h = height; h > 0; h = Math.floor(h / 256)) bytes.push(h % 256)
  if (bytes[bytes.length - 1]! & 0x80) bytes.push(0)
  return Uint8Array.of(bytes.length, ...bytes)
}

/** OP_0 <20-byte key hash>: a P2WPKH output script (22 bytes). */
export function p2wpkhScript(keyHash: Uint8Array): Uint8Array {
  checkHash160(keyHash)
  return Uint8Array.of(OP_0, HASH160_BYTES, ...keyHash)
}

/** OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG: a P2PKH output script (25 bytes). */
export function p2pkhScript(keyHash: Uint8Array): Uint8Array {
  checkHash160(keyHash)
  return Uint8Array.of(OP_DUP, OP_HASH160, HASH160_BYTES, ...keyHash, OP_EQUALVERIFY, OP_CHECKSIG)
}

/** OP_HASH160 <20> OP_EQUAL: a P2SH output script (23 bytes). */
export function p2shScript(scriptHash: Uint8Array): Uint8Array {
  checkHash160(scriptHash)
  return Uint8Array.of(OP_HASH160, HASH160_BYTES, ...scriptHash, OP_EQUAL)
}

/** Whether `script` is exactly the P2WPKH template. */
export function isP2wpkh(script: Uint8Array): boolean {
  return script.length === 22 && script[0] === OP_0 && script[1] === HASH160_BYTES
}

/** Whether `script` is exactly the P2PKH template. */
export function isP2pkh(script: Uint8Array): boolean {
  return (
    script.length === 25 &&
    script[0] === OP_DUP &&
    script[1] === OP_HASH160 &&
    script[2] === HASH160_BYTES &&
    script[23] === OP_EQUALVERIFY &&
    script[24] === OP_CHECKSIG
  )
}

/**
 * 72 bytes shaped like a DER signature plus SIGHASH_ALL:
 * 30 45 | 02 21 00 <32-byte r> | 02 20 <32-byte s> | 01. Not a signature.
 */
export function fakeSignature(random: Random): Uint8Array {
  const out = new Uint8Array(FAKE_SIGNATURE_BYTES)
  out.set([0x30, 0x45, 0x02, 0x21, 0x00], 0)
  out.set(randomBytes(random, 32), 5)
  out.set([0x02, 0x20], 37)
  out.set(randomBytes(random, 32), 39)
  // A DER integer is positive: clear the top bit of s (r has its 0x00 pad).
  out[39] &= 0x7f
  out[71] = SIGHASH_ALL
  return out
}

/** 33 bytes shaped like a compressed public key (0x02 or 0x03 prefix). Not a curve point. */
export function fakePubkey(random: Random): Uint8Array {
  const out = new Uint8Array(COMPRESSED_PUBKEY_BYTES)
  out.set(randomBytes(random, 32), 1)
  out[0] = 0x02 | (random.u32() & 1)
  return out
}

function checkHash160(h: Uint8Array): void {
  if (h.length !== HASH160_BYTES) throw new RangeError(`expected a ${HASH160_BYTES}-byte hash, got ${h.length} bytes`)
}

/**
 * The length L of a length-prefixed field (CompactSize + L bytes) that
 * takes exactly `room` bytes, or undefined when none does: a canonical
 * CompactSize grows from 1 to 3 bytes at 253, so 254 and 255 (and 65,539
 * and 65,540) cannot be filled by one field.
 */
export function fitVarBytes(room: number): number | undefined {
  for (const prefix of [1, 3, 5, 9]) {
    const n = room - prefix
    if (n >= 0 && compactSizeLength(n) === prefix) return n
  }
  return undefined
}
