/**
 * Rate limit on gossiped addresses, per peer: Core's addr token bucket
 * (net_processing, PR #22387).
 *
 * Each address a peer sends costs one token. Tokens refill at
 * MAX_ADDR_RATE_PER_SECOND up to MAX_ADDR_PROCESSING_TOKEN_BUCKET. A peer
 * starts with one token (room for its self-announcement), and each getaddr
 * we send it grants MAX_ADDR_TO_SEND more, so the answer we asked for is
 * never cut. Addresses beyond the tokens are dropped and counted, not
 * punished: a chatty peer is not a bad peer.
 *
 * Sans-IO: time is an argument (ms).
 */
import { MAX_ADDR_TO_SEND } from '@bitp2p/wire/limits'

/** Core's MAX_ADDR_RATE_PER_SECOND: addresses per second a peer earns. */
export const MAX_ADDR_RATE_PER_SECOND = 0.1
/** Core's MAX_ADDR_PROCESSING_TOKEN_BUCKET: most tokens refill can reach. */
export const MAX_ADDR_PROCESSING_TOKEN_BUCKET = MAX_ADDR_TO_SEND
/** Tokens a new peer starts with (Core: 1, for its self-announcement). */
export const ADDR_INITIAL_TOKENS = 1

/** Parameters of an AddrRateLimiter (Core's values by default). */
export interface AddrRateOptions {
  /** Tokens per second. */
  readonly ratePerSecond?: number
  /** Refill cap. */
  readonly burst?: number
  /** Tokens at start. */
  readonly initial?: number
}

/** One peer's addr token bucket. */
export class AddrRateLimiter {
  readonly #rate: number
  readonly #burst: number
  #tokens: number
  #last: number
  /** Addresses dropped for want of tokens. */
  dropped = 0

  constructor(now: number, options: AddrRateOptions = {}) {
    this.#rate = options.ratePerSecond ?? MAX_ADDR_RATE_PER_SECOND
    this.#burst = options.burst ?? MAX_ADDR_PROCESSING_TOKEN_BUCKET
    this.#tokens = options.initial ?? ADDR_INITIAL_TOKENS
    this.#last = now
    if (!(this.#rate >= 0) || !(this.#burst >= 0)) throw new RangeError('AddrRateLimiter: rate and burst must be >= 0')
  }

  /** Tokens available at `now` (after refill). */
  tokens(now: number): number {
    this.#refill(now)
    return this.#tokens
  }

  #refill(now: number): void {
    const elapsed = now - this.#last
    if (elapsed <= 0) return
    this.#last = now
    // As Core: refill only up to the cap, but never take away tokens a getaddr granted.
    if (this.#tokens < this.#burst) this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed / 1000) * this.#rate)
  }

  /** We sent the peer a getaddr: allow a full answer (Core adds MAX_ADDR_TO_SEND, uncapped). */
  grant(now: number, n = MAX_ADDR_TO_SEND): void {
    this.#refill(now)
    this.#tokens += n
  }

  /**
   * `n` addresses arrived at `now`: how many of them (the first ones) to take in.
   * The rest are counted in `dropped`.
   */
  take(now: number, n: number): number {
    this.#refill(now)
    const ok = Math.min(n, Math.floor(this.#tokens))
    this.#tokens -= ok
    this.dropped += n - ok
    return ok
  }
}
