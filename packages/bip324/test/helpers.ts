// Helpers shared by the bip324 tests: a seeded Random, the BIP vector files,
// a pair of handshakes wired together in memory, and chunkings of a stream.
import { existsSync, readFileSync } from 'node:fs'
import { concatBytes, fromHex, toHex } from '@bitp2p/wire'
import type { Random } from '../src/random.js'
import { V2Handshake, type V2HandshakeEvent, type V2HandshakeOptions } from '../src/handshake.js'

export { fromHex, toHex }

/** Mainnet magic (the BIP's packet vectors use it) and regtest's. */
export const MAINNET_MAGIC = fromHex('f9beb4d9')
export const REGTEST_MAGIC = fromHex('fabfb5da')

/**
 * A small seeded Random for tests (splitmix32 steps): same seed, same
 * draws. Not the session's SeededRandom, so this package's tests do not
 * depend on @bitp2p/session (which will depend on this package).
 */
export class TestRandom implements Random {
  #s: number
  /** How many u32 draws were made (to see that randomness was used). */
  draws = 0
  constructor(seed: number) {
    this.#s = seed >>> 0
  }
  u32(): number {
    this.draws++
    this.#s = (this.#s + 0x9e3779b9) | 0
    let z = this.#s
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
    return (z ^ (z >>> 15)) >>> 0
  }
  int(n: number): number {
    const limit = 2 ** 32 - (2 ** 32 % n)
    for (;;) {
      const x = this.u32()
      if (x < limit) return x % n
    }
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32())
  }
  float(): number {
    return this.u32() / 2 ** 32
  }
}

/** ../shared/data/bip-vectors, relative to the repository root. */
export const VECTORS_DIR = new URL('../../../../shared/data/bip-vectors/', import.meta.url)

/** True when the vector file exists. In CI (CI=true) a missing file is a failure, never a skip. */
export function haveVectors(name: string): boolean {
  const present = existsSync(new URL(name, VECTORS_DIR))
  if (!present && process.env.CI === 'true') throw new Error(`BIP vector file ${name} is missing from ../shared/data/bip-vectors (CI must not skip)`)
  return present
}

/** The rows of a CSV vector file (no quoted fields in these files) as objects keyed by the header. */
export function readCsv(name: string): Record<string, string>[] {
  const lines = readFileSync(new URL(name, VECTORS_DIR), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '')
  const header = lines[0]!.split(',')
  return lines.slice(1).map((l) => {
    const cells = l.split(',')
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']))
  })
}

/** Splits `bytes` at random cut points (seeded); includes empty chunks now and then. */
export function randomChunks(bytes: Uint8Array, rng: TestRandom, maxChunk = 97): Uint8Array[] {
  const out: Uint8Array[] = []
  let i = 0
  while (i < bytes.length) {
    if (rng.int(10) === 0) out.push(bytes.subarray(i, i))
    const n = 1 + rng.int(maxChunk)
    out.push(bytes.subarray(i, Math.min(bytes.length, i + n)))
    i += n
  }
  return out
}

/** One byte per chunk. */
export function byteChunks(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))
}

/** An event as plain data for comparisons (the session object and error instances replaced by what identifies them). */
export function plain(e: V2HandshakeEvent): unknown {
  switch (e.type) {
    case 'ready':
      return { type: 'ready', sessionId: toHex(e.sessionId) }
    case 'error':
      return { type: 'error', code: e.error.code, detail: e.error.detail, retryV1: e.error.retryV1 }
    case 'frame':
      return { type: 'frame', command: e.command, payload: toHex(e.payload), wireBytes: e.wireBytes }
    case 'v1':
      return { type: 'v1', bytes: toHex(e.bytes) }
    case 'version':
      return { type: 'version', contents: toHex(e.contents) }
    default:
      return e
  }
}

/** Common options: regtest magic and mainnet's 4,000,000-byte cap. */
export function options(role: 'initiator' | 'responder', seed: number, extra: Partial<V2HandshakeOptions> = {}): V2HandshakeOptions {
  return { role, magic: REGTEST_MAGIC, random: new TestRandom(seed), maxPayload: 4_000_000, ...extra }
}

/** What one side sent and saw during an exchange. */
export interface SideLog {
  readonly hs: V2Handshake
  /** Every byte this side sent, in order. */
  readonly sent: Uint8Array[]
  /** Every event this side reported, in order. */
  readonly events: V2HandshakeEvent[]
}

/**
 * Runs a handshake between two machines in memory until neither has
 * anything more to send. `cut` chooses how each side's bytes are chunked on
 * the way to the other.
 */
export function exchange(
  a: V2Handshake,
  b: V2Handshake,
  cut: (bytes: Uint8Array) => Uint8Array[] = (x) => [x],
): { a: SideLog; b: SideLog } {
  const logA: SideLog = { hs: a, sent: [], events: [] }
  const logB: SideLog = { hs: b, sent: [], events: [] }
  let toB: Uint8Array[] = [a.start()]
  const first = b.start()
  let toA: Uint8Array[] = first.length > 0 ? [first] : []
  logA.sent.push(...toB)
  logB.sent.push(...toA)
  for (let round = 0; round < 10 && (toA.length > 0 || toB.length > 0); round++) {
    const nextA: Uint8Array[] = []
    const nextB: Uint8Array[] = []
    for (const chunk of cut(concatBytes(...toB))) {
      const step = b.push(chunk)
      nextA.push(...step.send)
      logB.events.push(...step.events)
    }
    for (const chunk of cut(concatBytes(...toA))) {
      const step = a.push(chunk)
      nextB.push(...step.send)
      logA.events.push(...step.events)
    }
    logA.sent.push(...nextB)
    logB.sent.push(...nextA)
    toA = nextA
    toB = nextB
  }
  return { a: logA, b: logB }
}
