/**
 * The seeded random source implementing `Random` (ports.ts).
 *
 * - `SeededRandom`: xoshiro128** (Blackman and Vigna, 2018), a small, fast,
 *   well-studied 32-bit generator. Used by tests and simulations, where the
 *   same seed must give the same run.
 * - The platform CSPRNG used in production is `systemRandom()` in
 *   driver/system-random.ts: it shares `U32Source` so both agree on
 *   int/u64/float.
 *
 * Seeding: a number seed (u32) is expanded into the 128-bit state with
 * splitmix32, the usual companion of xoshiro. A string seed, and the key of a
 * forked stream, are derived with SHA-256 so that distinct strings and labels
 * give unrelated states (no 32-bit funnel). Nothing here keeps module state.
 */
// wire's SHA-256 (node:crypto on Node, @noble/hashes elsewhere): a fork per connection hashes its label.
import { sha256 } from '@bitp2p/wire/hash'
import type { Random } from './ports.js'

/** Largest `n` accepted by `int(n)`: integers above 2^53 are not exact in a JS number. */
export const MAX_RANDOM_INT = 2 ** 53

const TWO_32 = 2 ** 32
const TWO_21 = 2 ** 21
const TEXT = new TextEncoder()

/** Shared derivations on top of `u32()`, so both sources agree on int/u64/float. */
export abstract class U32Source implements Random {
  /** A uniformly random u32. */
  abstract u32(): number

  /**
   * Uniform integer in [0, n) without modulo bias: draws that fall in the
   * incomplete last block of size `2^k mod n` are rejected and redrawn.
   * @throws RangeError unless n is an integer in [1, 2^53].
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > MAX_RANDOM_INT) {
      throw new RangeError(`Random.int: n must be an integer in [1, 2^53], got ${n}`)
    }
    if (n <= TWO_32) {
      // limit is the largest multiple of n that is <= 2^32.
      const limit = TWO_32 - (TWO_32 % n)
      for (;;) {
        const x = this.u32()
        if (x < limit) return x % n
      }
    }
    // 53-bit draws for large n (rare: shuffles and indices never need this).
    const limit = MAX_RANDOM_INT - (MAX_RANDOM_INT % n)
    for (;;) {
      const x = (this.u32() >>> 11) * TWO_32 + this.u32()
      if (x < limit) return x % n
    }
  }

  /** A uniformly random u64 as a bigint (high word drawn first). */
  u64(): bigint {
    const hi = this.u32()
    const lo = this.u32()
    return (BigInt(hi) << 32n) | BigInt(lo)
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.u32() >>> 11 // 21 bits
    const lo = this.u32() // 32 bits
    return (hi * TWO_32 + lo) / MAX_RANDOM_INT
  }
}

/** splitmix32 step: returns [output, next state]. Constants from the MurmurHash3-style finaliser. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0
  let z = next
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
  z ^= z >>> 15
  return [z >>> 0, next]
}

/** The 16-byte key of a stream as four u32 words (little-endian). */
function wordsOf(digest: Uint8Array): [number, number, number, number] {
  const dv = new DataView(digest.buffer, digest.byteOffset, 16)
  return [dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true), dv.getUint32(12, true)]
}

function keyFromSeed(seed: number | string): [number, number, number, number] {
  if (typeof seed === 'string') return wordsOf(sha256(TEXT.encode(seed)))
  if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_32) {
    throw new RangeError(`SeededRandom: a number seed must be a u32, got ${seed}`)
  }
  let s = seed | 0
  const out: number[] = []
  for (let i = 0; i < 4; i++) {
    const [z, next] = splitmix32(s)
    out.push(z)
    s = next
  }
  return [out[0], out[1], out[2], out[3]]
}

/**
 * Deterministic random source: xoshiro128** over a 128-bit state.
 *
 * The same seed gives the same sequence on every runtime. Not for secrets:
 * use `systemRandom()` for anything an attacker must not predict.
 */
export class SeededRandom extends U32Source {
  // The key the stream started from; forks derive from it, not from the
  // current position, so a child stream does not shift when the parent draws.
  #key: readonly [number, number, number, number] = [0, 0, 0, 0]
  #s0 = 0
  #s1 = 0
  #s2 = 0
  #s3 = 0

  /**
   * @param seed a u32, or a string (hashed with SHA-256).
   * @throws RangeError for a number that is not a u32.
   */
  constructor(seed: number | string) {
    super()
    this.#start(keyFromSeed(seed))
  }

  #start(key: readonly [number, number, number, number]): void {
    this.#key = key
    this.#setState(key[0], key[1], key[2], key[3])
  }

  #setState(s0: number, s1: number, s2: number, s3: number): void {
    this.#s0 = s0 | 0
    this.#s1 = s1 | 0
    this.#s2 = s2 | 0
    this.#s3 = s3 | 0
    // The all-zero state is the generator's one fixed point.
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1
  }

  /**
   * A generator started from an explicit xoshiro128** state, for checking
   * against the reference implementation's published outputs.
   */
  static fromState(s0: number, s1: number, s2: number, s3: number): SeededRandom {
    const r = new SeededRandom(0)
    r.#setState(s0, s1, s2, s3)
    return r
  }

  /** A uniformly random u32 (one xoshiro128** step). */
  u32(): number {
    const s1 = this.#s1
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9)
    const t = s1 << 9
    this.#s2 ^= this.#s0
    this.#s3 ^= s1
    this.#s1 = s1 ^ this.#s2
    this.#s0 ^= this.#s3
    this.#s2 ^= t
    this.#s3 = rotl(this.#s3, 11)
    return result >>> 0
  }

  /**
   * An independent deterministic stream for a sub-component, keyed by this
   * stream's seed and `label`: SHA-256(key || 0x00 || label).
   *
   * The child does not depend on how much the parent has drawn, and does not
   * advance the parent, so adding a draw somewhere does not reshuffle every
   * other component. The same label always gives the same child stream: use
   * distinct labels (e.g. `peer:${id}`) for distinct components.
   */
  fork(label: string): SeededRandom {
    const labelBytes = TEXT.encode(label)
    const input = new Uint8Array(17 + labelBytes.length)
    const dv = new DataView(input.buffer)
    for (let i = 0; i < 4; i++) dv.setUint32(i * 4, this.#key[i], true)
    input[16] = 0 // separator: key bytes are fixed-size, so this only documents the layout
    input.set(labelBytes, 17)
    const child = new SeededRandom(0)
    child.#start(wordsOf(sha256(input)))
    return child
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
