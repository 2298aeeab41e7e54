/**
 * The fuzzer's seeded random source: sfc32 (small fast counter), 128 bits
 * of state filled from a 32-bit seed by splitmix32. Every input the fuzzer
 * runs gets its own generator, seeded from (run seed, target, iteration),
 * so any one input can be rebuilt from those three numbers alone, whatever
 * ran before it.
 */

/** A seeded pseudo-random generator (not for cryptography). */
export class FuzzRng {
  private a: number
  private b: number
  private c: number
  private d: number

  /** A generator whose whole sequence follows from `seed` (any 32-bit value). */
  constructor(seed: number) {
    let s = seed >>> 0
    const next = (): number => {
      // splitmix32
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next()
    for (let i = 0; i < 12; i++) this.u32()
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0
    this.c = (this.c + t) >>> 0
    return t
  }

  /** An integer in [0, n) for 1 <= n <= 2^32 (n < 1 gives 0). */
  below(n: number): number {
    if (n <= 1) return 0
    return Math.floor((this.u32() / 0x100000000) * n)
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + this.below(max - min + 1)
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p
  }

  /** One element of a non-empty list. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff
    return out
  }

  /** A small size, biased towards 0..16, rarely up to `max`. */
  size(max: number): number {
    const r = this.below(8)
    const cap = r < 5 ? 16 : r < 7 ? 256 : max
    return this.below(Math.min(cap, max) + 1)
  }
}

/** FNV-1a of a string: a stable 32-bit number for a target's name. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** The seed of one input: run seed, target and iteration mixed into 32 bits. */
export function inputSeed(seed: number, target: string, iteration: number): number {
  let h = (seed >>> 0) ^ nameHash(target)
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0
  h = (h + Math.imul(iteration >>> 0, 0x9e3779b1) + Math.floor(iteration / 0x100000000)) >>> 0
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}
