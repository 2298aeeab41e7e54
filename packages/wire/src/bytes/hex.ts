import { WireError } from '../errors.js'

const HEX = '0123456789abcdef'
/** Two hex digits for each byte value, built once and never changed. */
const HEX_PAIRS: readonly string[] = Object.freeze(Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!))

/** Lower-case hex of the bytes in order. */
export function toHex(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += HEX_PAIRS[bytes[i]!]
  return s
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** Bytes from hex (either case). Throws WireError INVALID_VALUE on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length % 2 !== 0) throw new WireError('INVALID_VALUE', 'hex string has odd length', { actual: hex.length })
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i))
    const lo = nibble(hex.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) throw new WireError('INVALID_VALUE', `invalid hex digit near index ${2 * i}`, { offset: 2 * i })
    out[i] = (hi << 4) | lo
  }
  return out
}

/**
 * Display form of a 32-byte hash (block hash, txid): bytes reversed, as
 * Bitcoin Core and block explorers print them.
 */
export function hashToHex(hash: Uint8Array): string {
  let s = ''
  for (let i = hash.length - 1; i >= 0; i--) s += HEX_PAIRS[hash[i]!]
  return s
}

/** Internal byte order of a hash given in display (reversed) hex. */
export function hexToHash(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length !== 64) throw new WireError('INVALID_VALUE', 'a hash is 64 hex digits', { expected: 64, actual: hex.length })
  return fromHex(hex).reverse()
}

/** Byte-wise equality. Returns at the first difference: not constant-time (nothing here is secret). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Concatenate byte arrays into one new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
