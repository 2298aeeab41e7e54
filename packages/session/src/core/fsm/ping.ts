/**
 * Keep-alive and latency: BIP31 ping/pong.
 *
 * - A peer's ping is answered at once with a pong echoing its nonce (only
 *   to BIP31 peers, version > 60000, as Core; older pings carry no nonce).
 * - We ping every PING_INTERVAL_MS (Core's PING_INTERVAL, 2 min), the first
 *   time right after the handshake, so latency is known early. The nonce
 *   comes from the injected random source and is never 0.
 * - Each matching pong gives a round-trip sample: last, min, and a smoothed
 *   value (EWMA with weight 1/8, TCP's SRTT from RFC 6298).
 * - Pong timeout. Core allows 20 min (TIMEOUT_INTERVAL). That is right for
 *   a node serving many blocks, whose pong can queue behind megabytes of
 *   replies, but slow to notice a dead link. We wait at most
 *   PONG_TIMEOUT_MS (Core's 20 min) in any case, and give up sooner, after
 *   PONG_IDLE_TIMEOUT_MS (2 min), if nothing at all arrives from the peer
 *   meanwhile: a peer still sending us data is alive and its pong may be
 *   queued behind that data, a peer sending nothing is not.
 * - Core's pong rules: a pong with our nonce completes the ping; a pong with
 *   nonce 0 cancels it ("nonce zero"); any other pong is ignored ("nonce
 *   mismatch", "unsolicited pong"). None of these is an offense.
 *
 * Deadlines: 'ping' (when the next ping is due) and 'pong-wait'.
 */
import type { Random } from '../ports.js'
import type { Outbox } from './outbox.js'
import type { DisconnectReason } from './reasons.js'

/** Core's PING_INTERVAL: ping every 2 minutes. */
export const PING_INTERVAL_MS = 2 * 60_000
/** Give up on a pong after this long with nothing received from the peer. */
export const PONG_IDLE_TIMEOUT_MS = 2 * 60_000
/** Core's TIMEOUT_INTERVAL: give up on a pong after 20 minutes whatever else arrives. */
export const PONG_TIMEOUT_MS = 20 * 60_000
/** Weight of a new sample in the smoothed RTT (RFC 6298 alpha). */
export const RTT_SMOOTHING = 1 / 8

/** Ping schedule and pong deadlines of one peer, in ms; every field is optional. */
export interface PingConfig {
  /** Default PING_INTERVAL_MS. */
  readonly intervalMs?: number
  /** Default PONG_IDLE_TIMEOUT_MS. */
  readonly pongIdleTimeoutMs?: number
  /** Default PONG_TIMEOUT_MS. */
  readonly pongTimeoutMs?: number
}

/** Round-trip statistics, in ms. Undefined until the first sample. */
export interface RttStats {
  readonly last: number | undefined
  readonly min: number | undefined
  readonly smoothed: number | undefined
  readonly samples: number
}

/** What a received pong did. */
export type PongOutcome =
  | { readonly type: 'matched'; readonly rttMs: number }
  | { readonly type: 'cancelled' }
  | { readonly type: 'mismatch' }
  | { readonly type: 'unsolicited' }

/** Named deadlines of the pinger. */
export type PingDeadlineName = 'ping' | 'pong-wait'

/** Draws a ping nonce: a random u64, never 0 (0 cancels, by Core's rules). */
export function pingNonce(random: Random): bigint {
  for (;;) {
    const n = random.u64()
    if (n !== 0n) return n
  }
}

/** A running RTT estimate. */
export class RttEstimator {
  private lastMs: number | undefined
  private minMs: number | undefined
  private smoothedMs: number | undefined
  private count = 0

  /** Add one sample. */
  add(rttMs: number): void {
    this.lastMs = rttMs
    this.minMs = this.minMs === undefined ? rttMs : Math.min(this.minMs, rttMs)
    this.smoothedMs = this.smoothedMs === undefined ? rttMs : this.smoothedMs + RTT_SMOOTHING * (rttMs - this.smoothedMs)
    this.count++
  }

  /** A snapshot of the statistics (a fresh object; later samples do not change it). */
  get stats(): RttStats {
    return { last: this.lastMs, min: this.minMs, smoothed: this.smoothedMs, samples: this.count }
  }
}

/** The ping schedule and pong deadline of one peer. Inactive until start(). */
export class Pinger {
  private readonly random: Random
  private readonly out: Outbox
  private readonly intervalMs: number
  private readonly idleTimeoutMs: number
  private readonly hardTimeoutMs: number
  private readonly rtt = new RttEstimator()
  private running = false
  private bip31 = true
  private nextPingAt = 0
  private outstanding: { readonly nonce: bigint; readonly sentAt: number } | undefined
  private lastActivity = 0

  constructor(random: Random, out: Outbox, config: PingConfig = {}) {
    this.random = random
    this.out = out
    this.intervalMs = config.intervalMs ?? PING_INTERVAL_MS
    this.idleTimeoutMs = config.pongIdleTimeoutMs ?? PONG_IDLE_TIMEOUT_MS
    this.hardTimeoutMs = config.pongTimeoutMs ?? PONG_TIMEOUT_MS
  }

  /** Round-trip statistics so far. */
  get stats(): RttStats {
    return this.rtt.stats
  }

  /** The ping awaiting its pong, if any. */
  get pending(): { readonly nonce: bigint; readonly sentAt: number } | undefined {
    return this.outstanding
  }

  /**
   * Start pinging (after the handshake): the first ping goes out now.
   * `bip31` false (peer version <= 60000): pings carry no nonce and expect
   * no pong, so they only keep the link busy.
   */
  start(now: number, bip31: boolean): void {
    this.running = true
    this.bip31 = bip31
    this.lastActivity = now
    this.nextPingAt = now
    this.timeout(now)
  }

  /** Stop: no more pings, no deadlines. */
  stop(): void {
    this.running = false
    this.outstanding = undefined
  }

  /** Answer the peer's ping. */
  answer(nonce: bigint, bip31: boolean): void {
    if (bip31) this.out.send({ command: 'pong', nonce })
  }

  /** Something arrived from the peer at `now`: it is alive. */
  activity(now: number): void {
    if (now > this.lastActivity) this.lastActivity = now
  }

  /** Record an RTT measured elsewhere (a user-level ping). */
  sample(rttMs: number): RttStats {
    this.rtt.add(rttMs)
    return this.rtt.stats
  }

  /** Feed a pong. */
  receivePong(now: number, nonce: bigint): PongOutcome {
    const o = this.outstanding
    if (!o) return { type: 'unsolicited' }
    if (nonce === o.nonce) {
      this.outstanding = undefined
      const rttMs = now - o.sentAt
      this.rtt.add(rttMs)
      return { type: 'matched', rttMs }
    }
    if (nonce === 0n) {
      this.outstanding = undefined
      return { type: 'cancelled' }
    }
    return { type: 'mismatch' }
  }

  /** The pinger's next deadline: the pong wait while a ping is out, else the next ping. */
  deadline(): { readonly name: PingDeadlineName; readonly at: number } | undefined {
    const at = this.deadlineAt()
    if (at === undefined) return undefined
    return { name: this.outstanding ? 'pong-wait' : 'ping', at }
  }

  /** When `deadline()` falls, without naming it (the driver asks this after every input). */
  deadlineAt(): number | undefined {
    if (!this.running) return undefined
    const o = this.outstanding
    if (o) {
      const idle = Math.max(o.sentAt, this.lastActivity) + this.idleTimeoutMs
      return Math.min(idle, o.sentAt + this.hardTimeoutMs)
    }
    return this.nextPingAt
  }

  /**
   * Handle the deadline: a ping-timeout reason when the pong is overdue,
   * otherwise send the ping if one is due. Nothing due: no-op.
   */
  timeout(now: number): DisconnectReason | undefined {
    const d = this.deadline()
    if (!d || now < d.at) return undefined
    const o = this.outstanding
    if (o) {
      this.stop()
      return { kind: 'ping-timeout', nonce: o.nonce, waitedMs: now - o.sentAt }
    }
    if (this.bip31) {
      const nonce = pingNonce(this.random)
      this.outstanding = { nonce, sentAt: now }
      this.out.send({ command: 'ping', nonce })
    } else {
      this.out.send({ command: 'ping', nonce: 0n })
    }
    this.nextPingAt = now + this.intervalMs
    return undefined
  }
}
