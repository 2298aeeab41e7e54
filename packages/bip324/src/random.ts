/**
 * The randomness this package needs, injected: the same shape as
 * @bitp2p/session's `Random` (declared here so that this package does not
 * depend on session). Simulations pass a seeded source and get the same keys,
 * garbage and bytes every run; production passes a CSPRNG-backed source
 * (session's `systemRandom()`): the secret key and the encoding come from it.
 */
export interface Random {
  /** A uniformly random u32. */
  u32(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** A uniformly random u64. */
  u64(): bigint
  /** Uniform float in [0, 1). */
  float(): number
}

/** `n` random bytes, four per `u32()` draw (little-endian), so a seeded source gives the same bytes everywhere. */
export function randomBytes(random: Random, n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += 4) {
    const w = random.u32()
    out[i] = w & 0xff
    if (i + 1 < n) out[i + 1] = (w >>> 8) & 0xff
    if (i + 2 < n) out[i + 2] = (w >>> 16) & 0xff
    if (i + 3 < n) out[i + 3] = (w >>> 24) & 0xff
  }
  return out
}
