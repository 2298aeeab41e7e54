// Helpers shared by the wire tests: one-shot codec calls, catching the
// WireError a call throws, the truncation and random-bytes properties every
// decoder must pass, and node:crypto as an independent double SHA-256.
import { expect } from 'vitest'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { ByteReader } from '../src/bytes/reader.js'
import { ByteWriter } from '../src/bytes/writer.js'
import { fromHex } from '../src/bytes/hex.js'
import { WireError } from '../src/errors.js'
import type { Codec, CodecContext } from '../src/messages/codec.js'

/** Any message codec, for tests that run several at once. */
export type AnyCodec = Codec<{ readonly command: string }>

/** A Bitcoin mainnet context: protocol 70016, 4,000,000-byte blocks. */
export const CTX: CodecContext = { protocolVersion: 70016, maxBlockPayload: 4_000_000 }

/** Decode a whole payload; trailing bytes fail with TRAILING_BYTES as in the frame decoder. */
export function decode<M extends { readonly command: string }>(codec: Codec<M>, bytes: Uint8Array, ctx: CodecContext = CTX): M {
  const r = new ByteReader(bytes)
  const m = codec.decode(r, ctx)
  r.done()
  return m
}

/** Encode one message to its payload bytes. */
export function encode<M extends { readonly command: string }>(codec: Codec<M>, m: M, ctx: CodecContext = CTX): Uint8Array {
  const w = new ByteWriter()
  codec.encode(w, m, ctx)
  return w.finish()
}

/** The WireError `f` throws, or undefined if it returns. Any other error is rethrown, failing the test. */
export function errorOf(f: () => unknown): WireError | undefined {
  try {
    f()
  } catch (e) {
    if (e instanceof WireError) return e
    throw e
  }
  return undefined
}

/** The WireError `f` throws; fails the test if `f` returns or throws anything else. */
export function wireErrorOf(f: () => unknown): WireError {
  const e = errorOf(f)
  if (e === undefined) throw new Error('expected a WireError')
  return e
}

/** The code of the WireError `f` throws, or 'none' if it returns. Any other error is rethrown. */
export function code(f: () => unknown): string {
  return errorOf(f)?.code ?? 'none'
}

/** Bytes from hex pieces, so a fixture can be written field by field. */
export const hex = (...parts: string[]): Uint8Array => fromHex(parts.join(''))

/** Every strict prefix of a valid payload must fail with TRUNCATED. */
export function expectTruncatedAtEveryOffset<M extends { readonly command: string }>(
  codec: Codec<M>,
  bytes: Uint8Array,
  ctx: CodecContext = CTX,
): void {
  for (let n = 0; n < bytes.length; n++) {
    expect(errorOf(() => decode(codec, bytes.subarray(0, n), ctx))?.code, `prefix of ${n} bytes`).toBe('TRUNCATED')
  }
}

/** `f` returns, or throws a WireError; anything else it throws (an assertion too) fails the test. */
export function expectOnlyWireError(f: () => unknown): void {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(WireError)
  }
}

/** Options of expectRandomBytesThrowOnlyWireError. */
export interface RandomBytesOptions {
  /** Longest random payload. */
  readonly maxLength: number
  /** fast-check runs; its default (100) when absent. */
  readonly numRuns?: number
  /** Contexts to decode under, one picked per run; default [CTX]. */
  readonly contexts?: readonly CodecContext[]
}

/** Property: random payloads, given to any of `codecs`, decode or throw only WireError. */
export function expectRandomBytesThrowOnlyWireError(codecs: readonly AnyCodec[], options: RandomBytesOptions): void {
  const { maxLength, numRuns, contexts = [CTX] } = options
  fc.assert(
    fc.property(fc.constantFrom(...codecs), fc.constantFrom(...contexts), fc.uint8Array({ maxLength }), (codec, ctx, bytes) => {
      expectOnlyWireError(() => decode(codec, bytes, ctx))
    }),
    numRuns === undefined ? {} : { numRuns },
  )
}

/** Double SHA-256 of the pieces joined, by node:crypto: a reference independent of src/hash. */
export function nodeSha256d(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(createHash('sha256').update(h.digest()).digest())
}
