/**
 * The delivery trace of a mock network.
 *
 * Every event the network delivers to an endpoint (a connection accepted or
 * established, a chunk of bytes, a close) is appended here, and folded into
 * a running SHA-256 over a canonical byte encoding. Two runs with the same
 * seed and the same actions must end with the same `hash()`; a simulation
 * test compares hashes to catch any hidden non-determinism (iteration over
 * network-supplied keys, real time, unseeded randomness).
 *
 * The network does not parse bytes. Higher layers label events (e.g. with
 * the P2P command) through `onDeliver`; labels are part of the hash.
 *
 * Canonical encoding of one event, version TRACE_ENCODING_VERSION
 * (integers big-endian, strings as u16 length + UTF-8):
 *   u8 kind (1 connect, 2 data, 3 close) | f64 time | u32 connection id |
 *   u32 size | u8 close reason (0 none, else 1 + index in CLOSE_REASONS) |
 *   str from | str to | u8 has-label | str label (if has-label)
 * The hash starts from the 4 ASCII bytes "bpt" + version byte.
 *
 * Encoded events are gathered in a HASH_BATCH_BYTES buffer and hashed a
 * batch at a time (SHA-256 of a stream does not depend on how it is split),
 * so an event costs a few byte writes, not a hasher call.
 */
import { createSha256 } from '@bitp2p/wire/hash'
import { bytesToHex } from '@noble/hashes/utils.js'
import type { TransportCloseKind } from '@bitp2p/session'

/** Version of the canonical event encoding; bump it if the layout changes. */
export const TRACE_ENCODING_VERSION = 1

/** Close reasons in their fixed encoding order. */
export const CLOSE_REASONS: readonly TransportCloseKind[] = [
  'local',
  'remote',
  'reset',
  'connect-failed',
  'timeout',
  'aborted',
  'refused',
]

/** Longest address or label string the encoding takes (u16 length prefix). */
export const MAX_TRACE_STRING_BYTES = 0xffff

/** Bytes of encoded events gathered before they are hashed. */
export const HASH_BATCH_BYTES = 16 * 1024

/** What was delivered. */
export type TraceKind = 'connect' | 'data' | 'close'

/** One delivered event. */
export interface TraceEvent {
  /** Virtual time of delivery, ms. */
  readonly time: number
  /** Connection id (assigned per connect attempt, from 1). */
  readonly conn: number
  readonly kind: TraceKind
  /** Sender's address as `host:port` (`[v6]:port`). For a close: the other end. */
  readonly from: string
  /** Receiving endpoint's address. */
  readonly to: string
  /** Bytes delivered (0 for connect and close). */
  readonly size: number
  /** For a close: how the receiving end saw it close. */
  readonly reason?: TransportCloseKind
  /** Set by an `onDeliver` hook. */
  readonly label?: string
}

/**
 * Called for each delivered event before the endpoint's handler runs; may
 * return a label. `bytes` is the delivered chunk for data events; do not
 * keep or modify it.
 */
export type DeliverHook = (event: TraceEvent, bytes: Uint8Array | undefined) => string | undefined | void

/** What the trace keeps. Turning both off (with no hooks) makes it free. */
export interface TraceOptions {
  /** Keep every event in `events`. Default true. */
  readonly record?: boolean
  /** Maintain the running hash. Default true. */
  readonly hash?: boolean
}

const KIND_CODE: Record<TraceKind, number> = { connect: 1, data: 2, close: 3 }
const TEXT = new TextEncoder()

/** Append-only record of deliveries plus its running hash. */
export class Trace {
  readonly #record: boolean
  readonly #hashing: boolean
  readonly #events: TraceEvent[] = []
  readonly #hooks: DeliverHook[] = []
  // wire's SHA-256: node:crypto on Node (a few times @noble/hashes' rate on the batches), @noble/hashes elsewhere.
  readonly #hasher = createSha256()
  // Encoded events not hashed yet: #batch[0, #used).
  #batch = new Uint8Array(HASH_BATCH_BYTES)
  #view = new DataView(this.#batch.buffer)
  #used = 0

  constructor(options: TraceOptions = {}) {
    this.#record = options.record ?? true
    this.#hashing = options.hash ?? true
    this.#hasher.update(new Uint8Array([0x62, 0x70, 0x74, TRACE_ENCODING_VERSION]))
  }

  /** False when nothing observes deliveries, so the network can skip `deliver` calls. */
  get active(): boolean {
    return this.#record || this.#hashing || this.#hooks.length > 0
  }

  /** Register a hook; hooks run in registration order and the first label returned wins. */
  onDeliver(cb: DeliverHook): void {
    this.#hooks.push(cb)
  }

  /** Recorded events, oldest first (empty when `record` is off). */
  get events(): readonly TraceEvent[] {
    return this.#events
  }

  /**
   * Append one delivered event. Called by the network; returns the label.
   * @throws RangeError if an address or label exceeds MAX_TRACE_STRING_BYTES.
   */
  deliver(
    time: number,
    conn: number,
    kind: TraceKind,
    from: string,
    to: string,
    size: number,
    reason: TransportCloseKind | undefined,
    bytes: Uint8Array | undefined,
  ): string | undefined {
    let label: string | undefined
    if (this.#hooks.length > 0 || this.#record) {
      const event: TraceEvent = reason === undefined ? { time, conn, kind, from, to, size } : { time, conn, kind, from, to, size, reason }
      const hooks = this.#hooks
      for (let i = 0; i < hooks.length; i++) {
        const l = hooks[i]!(event, bytes)
        if (typeof l === 'string') {
          label = l
          break
        }
      }
      if (this.#record) this.#events.push(label === undefined ? event : { ...event, label })
    }
    if (this.#hashing) this.#hashEvent(time, conn, kind, from, to, size, reason, label)
    return label
  }

  /** Hex SHA-256 of the canonical encoding of every event so far. */
  hash(): string {
    const h = this.#hasher.clone()
    if (this.#used > 0) h.update(this.#batch.subarray(0, this.#used))
    return bytesToHex(h.digest())
  }

  /** One event as a readable line, for failure messages. */
  static format(e: TraceEvent): string {
    const extra = (e.reason ? ` ${e.reason}` : '') + (e.label ? ` [${e.label}]` : '')
    return `${e.time.toFixed(3)} #${e.conn} ${e.kind} ${e.from} -> ${e.to} ${e.size}${extra}`
  }

  #hashEvent(
    time: number,
    conn: number,
    kind: TraceKind,
    from: string,
    to: string,
    size: number,
    reason: TransportCloseKind | undefined,
    label: string | undefined,
  ): void {
    // Strings are at most 3 bytes per UTF-16 unit; reserve for the worst case.
    const need = 24 + 3 * (from.length + to.length + (label?.length ?? 0))
    if (this.#used + need > this.#batch.length) this.#flush(need)
    const v = this.#view
    const start = this.#used
    v.setUint8(start, KIND_CODE[kind])
    v.setFloat64(start + 1, time)
    v.setUint32(start + 9, conn)
    v.setUint32(start + 13, size)
    v.setUint8(start + 17, reason === undefined ? 0 : 1 + CLOSE_REASONS.indexOf(reason))
    let o = this.#putString(start + 18, from)
    o = this.#putString(o, to)
    if (label === undefined) {
      v.setUint8(o++, 0)
    } else {
      v.setUint8(o++, 1)
      o = this.#putString(o, label)
    }
    this.#used = o
  }

  // Hash the batch, and make room for an event of up to `need` bytes.
  #flush(need: number): void {
    if (this.#used > 0) this.#hasher.update(this.#batch.subarray(0, this.#used))
    this.#used = 0
    if (need > this.#batch.length) {
      let size = this.#batch.length
      while (size < need) size *= 2
      this.#batch = new Uint8Array(size)
      this.#view = new DataView(this.#batch.buffer)
    }
  }

  // u16 length + UTF-8 of `s` at `o`; ASCII (addresses, commands) byte by byte, anything else through TextEncoder.
  #putString(o: number, s: string): number {
    const buf = this.#batch
    const n = s.length
    let ascii = n <= MAX_TRACE_STRING_BYTES
    for (let i = 0; ascii && i < n; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x80) buf[o + 2 + i] = c
      else ascii = false
    }
    let written = n
    if (!ascii) {
      written = TEXT.encodeInto(s, buf.subarray(o + 2)).written
      if (written > MAX_TRACE_STRING_BYTES) throw new RangeError('Trace: string longer than 65535 bytes')
    }
    this.#view.setUint16(o, written)
    return o + 2 + written
  }
}
