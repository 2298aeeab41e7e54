/**
 * Reconnect policy: exponential backoff with jitter, and a per-address
 * schedule of when an address may be tried again.
 *
 * The jitter modes are those of "Exponential Backoff And Jitter" (Marc
 * Brooker, AWS Architecture Blog, 2015). With the ceiling
 * c(n) = min(cap, base * factor^n) for attempt n (0-based):
 * - 'none':          c(n)
 * - 'full':          uniform in [0, c(n))
 * - 'equal':         c(n)/2 + uniform in [0, c(n)/2)
 * - 'decorrelated':  min(cap, uniform in [base, 3 * previous)), previous
 *                    starting at base
 * Jitter spreads the reconnects of many clients that lost the same peer at
 * the same moment, so they do not return in lock step.
 *
 * Times are plain numbers in one unit chosen by the caller (the pool uses
 * seconds, like the address book). Randomness is injected; nothing reads a
 * clock.
 */
import type { Random } from '../ports.js'
import { type AddressLike, endpointKey, isValidEndpoint, toEndpoint } from './netgroup.js'

/** How a delay is drawn below its ceiling. */
export type JitterMode = 'none' | 'full' | 'equal' | 'decorrelated'

/** Parameters of an exponential backoff. */
export interface BackoffPolicy {
  /** First ceiling, and the floor of decorrelated jitter. */
  readonly base: number
  /** Largest delay. */
  readonly cap: number
  /** Growth of the ceiling per attempt. */
  readonly factor: number
  /** Attempts allowed; `nextDelay(n)` for n >= maxAttempts gives up (undefined). Infinity for never. */
  readonly maxAttempts: number
  readonly jitter: JitterMode
}

/** Default reconnect policy, in seconds: 1 s doubling to 10 min, give up after 10 failures, full jitter. */
export const DEFAULT_BACKOFF: BackoffPolicy = { base: 1, cap: 600, factor: 2, maxAttempts: 10, jitter: 'full' }

/** Records a RetryTracker keeps before it forgets the least recently updated (bounds memory). */
export const MAX_TRACKED_ADDRESSES = 10_000

/** Default idle time after which a RetryTracker forgets an address's failures: one day (seconds). */
export const DEFAULT_FORGET_AFTER = 86_400

function resolvePolicy(p: Partial<BackoffPolicy>): BackoffPolicy {
  const policy = { ...DEFAULT_BACKOFF, ...p }
  if (!(policy.base > 0) || !(policy.cap >= policy.base) || !(policy.factor >= 1)) {
    throw new RangeError(`backoff: need 0 < base <= cap and factor >= 1, got base ${policy.base}, cap ${policy.cap}, factor ${policy.factor}`)
  }
  if (!(policy.maxAttempts >= 0)) throw new RangeError(`backoff: maxAttempts must be >= 0, got ${policy.maxAttempts}`)
  return policy
}

/** The un-jittered delay of attempt `attempt` (0-based): min(cap, base * factor^attempt). Non-decreasing in `attempt`. */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  // For a huge attempt factor^attempt overflows to Infinity; the cap still applies.
  const d = policy.base * policy.factor ** attempt
  return d < policy.cap ? d : policy.cap
}

/** Exponential backoff with jitter drawn from an injected Random. */
export class Backoff {
  readonly policy: BackoffPolicy
  readonly #random: Random

  /** @throws RangeError for base <= 0, cap < base, factor < 1 or maxAttempts < 0. */
  constructor(random: Random, policy: Partial<BackoffPolicy> = {}) {
    this.#random = random
    this.policy = resolvePolicy(policy)
  }

  /**
   * The delay before retry number `attempt` (0 for the first retry), or
   * undefined once `attempt` reaches maxAttempts. `previous` is the last
   * delay returned, used only by decorrelated jitter (default: base).
   */
  nextDelay(attempt: number, previous?: number): number | undefined {
    if (!(attempt >= 0) || attempt >= this.policy.maxAttempts) return undefined
    const { base, cap, jitter } = this.policy
    const ceiling = backoffCeiling(attempt, this.policy)
    switch (jitter) {
      case 'none':
        return ceiling
      case 'full':
        return this.#random.float() * ceiling
      case 'equal':
        return ceiling / 2 + (this.#random.float() * ceiling) / 2
      case 'decorrelated': {
        const prev = previous !== undefined && previous >= base ? previous : base
        return Math.min(cap, base + this.#random.float() * (prev * 3 - base))
      }
    }
  }
}

/** What a RetryTracker knows about one address. */
export interface RetryState {
  /** Consecutive failures since the last success. */
  readonly failures: number
  /** Earliest time of the next try; Infinity once given up. */
  readonly notBefore: number
  /** The last backoff delay drawn. */
  readonly lastDelay: number
  /** Time of the last update. */
  readonly updated: number
}

/** Options of a RetryTracker. */
export interface RetryTrackerOptions {
  readonly random: Random
  readonly policy?: Partial<BackoffPolicy>
  /** Records kept at most (default MAX_TRACKED_ADDRESSES); the least recently updated go first. */
  readonly maxTracked?: number
  /** A record idle this long past its hold is forgotten by `sweep` (default DEFAULT_FORGET_AFTER). */
  readonly forgetAfter?: number
}

/** Key of an address for per-address state: its endpointKey, or 'name:host:port' for a DNS name. */
export function retryKey(addr: AddressLike | string): string {
  if (typeof addr === 'string') return addr
  const ep = toEndpoint(addr)
  if (ep && isValidEndpoint(ep)) return endpointKey(ep)
  const p = addr as { host: string; port: number }
  return `name:${String(p.host).toLowerCase()}:${p.port}`
}

/**
 * When each address may be tried again. A failure pushes the address back
 * by the next backoff delay; after maxAttempts failures it is given up
 * (never ready) until `succeeded` or `forget`. A hold (`holdUntil`, e.g. from
 * a ban) keeps it back regardless of failures.
 */
export class RetryTracker {
  readonly #backoff: Backoff
  readonly #max: number
  readonly #forgetAfter: number
  /** Insertion order = least recently updated first. */
  readonly #states = new Map<string, RetryState>()

  constructor(options: RetryTrackerOptions) {
    this.#backoff = new Backoff(options.random, options.policy)
    this.#max = options.maxTracked ?? MAX_TRACKED_ADDRESSES
    this.#forgetAfter = options.forgetAfter ?? DEFAULT_FORGET_AFTER
    if (!Number.isInteger(this.#max) || this.#max < 1) throw new RangeError(`RetryTracker: maxTracked must be a positive integer, got ${this.#max}`)
  }

  /** Addresses tracked. */
  get size(): number {
    return this.#states.size
  }

  #put(key: string, s: RetryState): void {
    this.#states.delete(key)
    this.#states.set(key, s)
    if (this.#states.size > this.#max) {
      const oldest = this.#states.keys().next().value as string
      this.#states.delete(oldest)
    }
  }

  /**
   * A connection attempt to `addr` failed at `now`.
   * @returns the earliest time of the next try, or Infinity when given up.
   */
  failed(addr: AddressLike | string, now: number): number {
    const key = retryKey(addr)
    const prev = this.#states.get(key)
    const failures = (prev?.failures ?? 0) + 1
    const delay = this.#backoff.nextDelay(failures - 1, prev?.lastDelay)
    const hold = prev && prev.notBefore > now ? prev.notBefore : 0
    const notBefore = delay === undefined ? Infinity : Math.max(hold, now + delay)
    this.#put(key, { failures, notBefore, lastDelay: delay ?? prev?.lastDelay ?? 0, updated: now })
    return notBefore
  }

  /** A connection to `addr` succeeded: forget its failures. */
  succeeded(addr: AddressLike | string): void {
    this.#states.delete(retryKey(addr))
  }

  /** Keep `addr` back until `until` (a ban, or a peer's request to come back later). Never shortens a hold. */
  holdUntil(addr: AddressLike | string, until: number, now: number): void {
    const key = retryKey(addr)
    const prev = this.#states.get(key)
    this.#put(key, {
      failures: prev?.failures ?? 0,
      notBefore: Math.max(prev?.notBefore ?? 0, until),
      lastDelay: prev?.lastDelay ?? 0,
      updated: now,
    })
  }

  /** True when `addr` may be tried at `now`. */
  canTry(addr: AddressLike | string, now: number): boolean {
    const s = this.#states.get(retryKey(addr))
    return s === undefined || now >= s.notBefore
  }

  /** The state of `addr`, if tracked. */
  get(addr: AddressLike | string): RetryState | undefined {
    return this.#states.get(retryKey(addr))
  }

  /** Forget `addr` entirely (also un-gives-up). */
  forget(addr: AddressLike | string): void {
    this.#states.delete(retryKey(addr))
  }

  /** The earliest finite hold still in the future, for setting one timer; undefined when none. */
  nextReadyAt(now: number): number | undefined {
    let best: number | undefined
    for (const s of this.#states.values()) {
      if (s.notBefore > now && Number.isFinite(s.notBefore) && (best === undefined || s.notBefore < best)) best = s.notBefore
    }
    return best
  }

  /**
   * Forget records whose hold ended more than `forgetAfter` ago (their
   * failures are old news). Given-up records stay.
   * @returns how many were forgotten.
   */
  sweep(now: number): number {
    let n = 0
    for (const [key, s] of [...this.#states]) {
      if (Number.isFinite(s.notBefore) && now - Math.max(s.notBefore, s.updated) > this.#forgetAfter) {
        this.#states.delete(key)
        n++
      }
    }
    return n
  }
}
