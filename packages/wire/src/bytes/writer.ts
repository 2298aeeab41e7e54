import { WireError } from '../errors.js'

const textEncoder = new TextEncoder()

/**
 * A growable little-endian writer. Capacity doubles as needed; pass a size
 * hint when the final length is known to avoid any copy.
 */
export class ByteWriter {
  private buf: Uint8Array<ArrayBuffer>
  private len = 0

  constructor(sizeHint = 256) {
    this.buf = new Uint8Array(Math.max(16, sizeHint))
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len
  }

  private reserve(n: number): void {
    const need = this.len + n
    if (need <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < need) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  /** One byte. Throws ENCODE_RANGE unless `v` is an integer in 0..255. */
  u8(v: number): this {
    checkUint(v, 0xff, 'u8')
    this.reserve(1)
    this.buf[this.len++] = v
    return this
  }

  /** Unsigned 16-bit little-endian. Throws ENCODE_RANGE unless `v` is an integer in 0..65535. */
  u16le(v: number): this {
    checkUint(v, 0xffff, 'u16')
    this.reserve(2)
    this.buf[this.len++] = v & 0xff
    this.buf[this.len++] = v >>> 8
    return this
  }

  /** Unsigned 16-bit big-endian: only the port in network addresses uses it. Throws ENCODE_RANGE outside 0..65535. */
  u16be(v: number): this {
    checkUint(v, 0xffff, 'u16')
    this.reserve(2)
    this.buf[this.len++] = v >>> 8
    this.buf[this.len++] = v & 0xff
    return this
  }

  /** Unsigned 32-bit little-endian. Throws ENCODE_RANGE unless `v` is an integer in 0..2^32-1. */
  u32le(v: number): this {
    checkUint(v, 0xffffffff, 'u32')
    this.reserve(4)
    const b = this.buf
    let o = this.len
    b[o++] = v & 0xff
    b[o++] = (v >>> 8) & 0xff
    b[o++] = (v >>> 16) & 0xff
    b[o++] = (v >>> 24) & 0xff
    this.len = o
    return this
  }

  /** Signed 32-bit little-endian (two's complement). Throws ENCODE_RANGE unless `v` is an integer in -2^31..2^31-1. */
  i32le(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new WireError('ENCODE_RANGE', `i32 out of range: ${v}`, { actual: v })
    }
    return this.u32le(v >>> 0)
  }

  /**
   * Unsigned 64-bit little-endian. A number must be a non-negative safe
   * integer; pass a bigint for values above 2^53-1. Throws ENCODE_RANGE
   * outside 0..2^64-1.
   */
  u64le(v: bigint | number): this {
    const x = typeof v === 'number' ? toBigUint(v) : v
    if (x < 0n || x > 0xffffffffffffffffn) throw new WireError('ENCODE_RANGE', `u64 out of range: ${x}`, { actual: x })
    this.u32le(Number(x & 0xffffffffn))
    this.u32le(Number(x >> 32n))
    return this
  }

  /** Signed 64-bit little-endian (two's complement). Throws ENCODE_RANGE outside -2^63..2^63-1. */
  i64le(v: bigint): this {
    if (v < -(1n << 63n) || v >= 1n << 63n) throw new WireError('ENCODE_RANGE', `i64 out of range: ${v}`, { actual: v })
    return this.u64le(BigInt.asUintN(64, v))
  }

  /**
   * CompactSize ("varint" in Core) in its shortest form: 1, 3, 5 or 9 bytes,
   * the only form `ByteReader.compactSize` accepts. Throws ENCODE_RANGE for a
   * negative or unsafe number, or a bigint above 2^64-1.
   */
  compactSize(v: number | bigint): this {
    const n = typeof v === 'bigint' ? v : toBigUint(v)
    if (n < 0xfdn) return this.u8(Number(n))
    if (n <= 0xffffn) return this.u8(0xfd).u16le(Number(n))
    if (n <= 0xffffffffn) return this.u8(0xfe).u32le(Number(n))
    return this.u8(0xff).u64le(n)
  }

  /** The bytes of `b`, as they are (copied in; `b` may be reused after). */
  bytes(b: Uint8Array): this {
    this.reserve(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
    return this
  }

  /** Exactly 32 bytes (a hash in internal order). */
  hash(h: Uint8Array): this {
    if (h.length !== 32) throw new WireError('ENCODE_RANGE', `hash must be 32 bytes, got ${h.length}`, { actual: h.length })
    return this.bytes(h)
  }

  /** CompactSize length, then the bytes of `b`. */
  varBytes(b: Uint8Array): this {
    return this.compactSize(b.length).bytes(b)
  }

  /** CompactSize length, then `s` encoded as UTF-8 (the length counts bytes, not characters). */
  varString(s: string): this {
    return this.varBytes(textEncoder.encode(s))
  }

  /** The written bytes (a view of the internal buffer; the writer must not be used after). */
  finish(): Uint8Array<ArrayBuffer> {
    return this.buf.subarray(0, this.len)
  }
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new WireError('ENCODE_RANGE', `${what} out of range: ${v}`, { actual: v })
}

function toBigUint(v: number): bigint {
  if (!Number.isSafeInteger(v) || v < 0) throw new WireError('ENCODE_RANGE', `not a non-negative safe integer: ${v}`, { actual: v })
  return BigInt(v)
}

/** Bytes a CompactSize of `n` takes. */
export function compactSizeLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9
}
