// Plays an EventLog to one viewer at a chosen speed: an event of time t is
// sent when the playback clock reaches t, where the playback clock runs at
// `speed` virtual ms per wall ms. Speed Infinity sends everything as fast
// as the socket drains. A log that is still growing (a simulation being
// computed, a live peer) is followed: new events go out when their time
// comes, or at once if it has passed.
//
// A log keeps only its newest events (EventLog's maxEvents): a player
// starts from the oldest event still kept, and one that falls behind what
// the log dropped goes on from the oldest kept event too.

/** Most events in one message to the page. */
export const MAX_BATCH = 2_000
/** Socket bytes buffered above which a player waits (as fast as possible mode). */
export const HIGH_WATER_BYTES = 1_000_000
/** Wall ms between checks while the socket drains. */
const DRAIN_POLL_MS = 20
/** Longest wall wait between two looks at the clock (so a speed change is felt soon). */
const MAX_WAIT_MS = 1_000

/**
 * Parse a speed: a positive number, or 0 / 'max' / 'Infinity' for as fast as
 * possible. Returns undefined when `v` is none of these.
 */
export function parseSpeed(v) {
  if (v === 'max' || v === 'Infinity' || v === Infinity) return Infinity
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN
  if (!Number.isFinite(n) || n < 0) return undefined
  return n === 0 ? Infinity : n
}

/** A speed as JSON carries it (JSON has no Infinity). */
export const speedJson = (speed) => (speed === Infinity ? 'max' : speed)

/**
 * One viewer's playback. `send(obj)` writes one protocol message;
 * `buffered()` says how many bytes the socket still holds. With `live`,
 * playback starts at the source's present (`origin()`), so history arrives
 * at once and then events as they happen, and the speed is fixed at 1.
 */
export class Player {
  #log
  #send
  #buffered
  #now
  #origin
  #live
  #speed
  #paused = false
  #i = 0
  #anchorWall = 0
  #anchorT = 0
  #timer
  #unlisten
  #ended = false
  #closed = false

  /**
   * @param {import('./recorder.mjs').EventLog} log
   * @param {{ send: (msg: object) => void, buffered?: () => number, speed: number, live?: boolean,
   *   origin?: () => number, now?: () => number }} opts
   */
  constructor(log, opts) {
    this.#log = log
    this.#send = opts.send
    this.#buffered = opts.buffered ?? (() => 0)
    this.#now = opts.now ?? (() => performance.now())
    this.#origin = opts.origin ?? (() => 0)
    this.#live = opts.live ?? false
    this.#speed = this.#live ? 1 : opts.speed
    this.#unlisten = log.listen(() => {
      if (this.#timer === undefined && !this.#closed) this.#schedule(0)
    })
  }

  /** The playback clock: the virtual time up to which events are sent. */
  position() {
    if (this.#paused) return this.#anchorT
    if (this.#speed === Infinity) return Infinity
    return this.#anchorT + (this.#now() - this.#anchorWall) * this.#speed
  }

  /** Start from the oldest event the log keeps (or, live, from its present). */
  start() {
    this.#i = this.#log.base
    this.#ended = false
    this.#anchorWall = this.#now()
    this.#anchorT = this.#live ? this.#origin() : (this.#log.at(this.#i)?.t ?? 0)
    this.#sendState()
    this.#schedule(0)
  }

  /** Play from the oldest kept event again. */
  restart() {
    if (this.#closed) return
    this.#send({ kind: 'reset' })
    this.start()
  }

  /** Change speed, keeping the playback clock where it is. Ignored live. */
  setSpeed(speed) {
    if (this.#live || this.#closed) return
    this.#rebase()
    this.#speed = speed
    this.#sendState()
    this.#schedule(0)
  }

  /** Hold or release the playback clock. Ignored live. */
  setPaused(paused) {
    if (this.#live || this.#closed || paused === this.#paused) return
    this.#rebase()
    this.#paused = paused
    this.#sendState()
    this.#schedule(0)
  }

  /** Stop for good. */
  close() {
    this.#closed = true
    this.#unlisten()
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #rebase() {
    const pos = this.position()
    // From "as fast as possible", the clock is where the last sent event was.
    this.#anchorT = pos === Infinity ? (this.#log.at(this.#i - 1)?.t ?? 0) : pos
    this.#anchorWall = this.#now()
  }

  #sendState() {
    this.#send({ kind: 'state', speed: speedJson(this.#speed), paused: this.#paused, live: this.#live, complete: this.#log.complete })
  }

  #schedule(ms) {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#pump()
    }, ms)
  }

  #pump() {
    if (this.#closed || this.#paused) return
    if (this.#buffered() > HIGH_WATER_BYTES) return this.#schedule(DRAIN_POLL_MS)
    const log = this.#log
    // Events dropped before this viewer got them are gone: go on from the oldest kept.
    if (this.#i < log.base) this.#i = log.base
    const total = log.total
    const pos = this.position()
    const batch = []
    while (this.#i < total && batch.length < MAX_BATCH && log.at(this.#i).t <= pos) batch.push(log.at(this.#i++))
    if (batch.length > 0) this.#send({ kind: 'events', events: batch })
    if (this.#i < total) {
      // More due now (a full batch), or wait for the next event's time.
      const next = log.at(this.#i).t
      const wait = next <= pos ? 0 : Math.min(MAX_WAIT_MS, (next - pos) / this.#speed)
      return this.#schedule(Math.ceil(wait))
    }
    if (log.complete && !this.#ended) {
      this.#ended = true
      this.#send({ kind: 'end', events: total })
    }
    // Otherwise the log listener wakes us when something is appended.
  }
}
