import { WireError } from '../errors.js'
import { decodeText } from './text.js'

/**
 * Eight bytes where u64le assembles a bigint. Shared by every reader: the
 * two words are written and read back within one synchronous call.
 */
const U64_SCRATCH = new DataView(new ArrayBuffer(8))

/**
 * A bounds-checked little-endian reader over one Uint8Array.
 *
 * Every read checks the bytes present first, so a hostile length can never
 * make us allocate or slice past the input. Counts read with `count()` are
 * also checked against a named limit and against the bytes left
 * (count x smallest item size), which bounds any array we build from them.
 */
export class ByteReader {
  readonly bytes: Uint8Array
  /** Current read position, in bytes from the start of `bytes`. */
  offset: number
  private readonly end: number

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    this.bytes = bytes
    this.offset = offset
    this.end = end
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.offset
  }

  /** Throws TRUNCATED unless `n` more bytes are present. */
  need(n: number, field?: string): void {
    if (n > this.end - this.offset) {
      throw new WireError('TRUNCATED', `need ${n} bytes${field ? ` for ${field}` : ''}, have ${this.end - this.offset}`, {
        offset: this.offset,
        expected: n,
        actual: this.end - this.offset,
        ...(field ? { field } : {}),
      })
    }
  }

  /** One unsigned byte. Throws TRUNCATED at the end of input. */
  u8(): number {
    this.need(1)
    return this.bytes[this.offset++]!
  }

  /** Unsigned 16-bit little-endian integer (0..65535). Throws TRUNCATED if fewer than 2 bytes are left. */
  u16le(): number {
    this.need(2)
    const b = this.bytes
    const o = this.offset
    this.offset = o + 2
    return b[o]! | (b[o + 1]! << 8)
  }

  /** Big-endian u16: only the port in network addresses uses it. */
  u16be(): number {
    this.need(2)
    const b = this.bytes
    const o = this.offset
    this.offset = o + 2
    return (b[o]! << 8) | b[o + 1]!
  }

  /**
   * Unsigned 32-bit little-endian integer (0..2^32-1). The top byte is
   * multiplied in, not shifted, so the result never goes negative.
   * Throws TRUNCATED if fewer than 4 bytes are left.
   */
  u32le(): number {
    this.need(4)
    const b = this.bytes
    const o = this.offset
    this.offset = o + 4
    return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000
  }

  /** Signed 32-bit little-endian integer (two's complement), e.g. a block or tx version. Throws TRUNCATED if fewer than 4 bytes are left. */
  i32le(): number {
    this.need(4)
    const b = this.bytes
    const o = this.offset
    this.offset = o + 4
    return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)
  }

  /** Unsigned 64-bit little-endian integer as a bigint (full range: services flags, nonces). Throws TRUNCATED if fewer than 8 bytes are left. */
  u64le(): bigint {
    const lo = this.u32le()
    const hi = this.u32le()
    // One bigint through a scratch DataView, not three from BigInt(hi) << 32n | BigInt(lo):
    // a ping's nonce costs a third as much.
    U64_SCRATCH.setUint32(0, lo, true)
    U64_SCRATCH.setUint32(4, hi, true)
    return U64_SCRATCH.getBigUint64(0, true)
  }

  /** Signed 64-bit little-endian integer (two's complement) as a bigint, e.g. the `version` timestamp. Throws TRUNCATED if fewer than 8 bytes are left. */
  i64le(): bigint {
    return BigInt.asIntN(64, this.u64le())
  }

  /**
   * A u64 that must fit in a JS number exactly (amounts, 64-bit lengths).
   * Values above 2^53-1 are OVERSIZE rather than silently rounded.
   */
  u64leNumber(field = 'u64'): number {
    const lo = this.u32le()
    const hi = this.u32le()
    if (hi > 0x1fffff) {
      throw new WireError('OVERSIZE', `${field} exceeds 2^53-1`, { field, offset: this.offset - 8 })
    }
    return hi * 0x100000000 + lo
  }

  /**
   * CompactSize ("varint" in Core): 1, 3, 5 or 9 bytes. The shortest form is
   * required (NON_CANONICAL otherwise), as Core's ReadCompactSize does.
   * Values above 2^53-1 are OVERSIZE.
   */
  compactSize(): number {
    const start = this.offset
    const first = this.u8()
    if (first < 0xfd) return first
    let v: number
    let min: number
    if (first === 0xfd) {
      v = this.u16le()
      min = 0xfd
    } else if (first === 0xfe) {
      v = this.u32le()
      min = 0x10000
    } else {
      v = this.u64leNumber('CompactSize')
      min = 0x100000000
    }
    if (v < min) {
      throw new WireError('NON_CANONICAL', `CompactSize ${v} not in shortest form`, { offset: start, actual: v })
    }
    return v
  }

  /**
   * A CompactSize count of items, checked before anything is allocated:
   * count <= limit (OVERSIZE) and count x minItemBytes <= bytes left (TRUNCATED).
   */
  count(limit: number, field: string, minItemBytes = 1): number {
    const start = this.offset
    const n = this.compactSize()
    if (n > limit) {
      throw new WireError('OVERSIZE', `${field}: ${n} items exceeds limit ${limit}`, { field, limit, actual: n, offset: start })
    }
    if (n * minItemBytes > this.end - this.offset) {
      throw new WireError('TRUNCATED', `${field}: ${n} items need at least ${n * minItemBytes} bytes, have ${this.end - this.offset}`, {
        field,
        expected: n * minItemBytes,
        actual: this.end - this.offset,
        offset: start,
      })
    }
    return n
  }

  /** A view (no copy) of the next `n` bytes. Keep only short-lived; use `copy` to retain. */
  view(n: number, field?: string): Uint8Array {
    this.need(n, field)
    const o = this.offset
    this.offset = o + n
    return this.bytes.subarray(o, o + n)
  }

  /** A fresh copy of the next `n` bytes (does not pin the input buffer). */
  copy(n: number, field?: string): Uint8Array<ArrayBuffer> {
    this.need(n, field)
    const o = this.offset
    this.offset = o + n
    return this.bytes.slice(o, o + n)
  }

  /** A 32-byte hash, copied, in internal byte order. */
  hash(): Uint8Array<ArrayBuffer> {
    return this.copy(32, 'hash')
  }

  /** CompactSize length then that many bytes (copied), at most `limit`. */
  varBytes(limit: number, field: string): Uint8Array<ArrayBuffer> {
    const n = this.count(limit, field, 1)
    return this.copy(n, field)
  }

  /**
   * CompactSize length then that many bytes decoded as UTF-8, at most
   * `limit` bytes. Lossy (invalid UTF-8 becomes U+FFFD): for display only;
   * message codecs use `readText`, which keeps the bytes too.
   */
  varString(limit: number, field: string): string {
    const n = this.count(limit, field, 1)
    return decodeText(this.view(n, field))
  }

  /** Advances past `n` bytes without reading them. Throws TRUNCATED (naming `field`) if fewer are left. */
  skip(n: number, field?: string): void {
    this.need(n, field)
    this.offset += n
  }

  /** Throws TRAILING_BYTES if any input is left. Decoders call this last. */
  done(what = 'payload'): void {
    if (this.offset !== this.end) {
      throw new WireError('TRAILING_BYTES', `${this.end - this.offset} bytes left after ${what}`, {
        offset: this.offset,
        actual: this.end - this.offset,
      })
    }
  }
}
