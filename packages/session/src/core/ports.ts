/**
 * The seams between the sans-IO core and the outside world. Transports
 * (tcp, ws, mock) implement these; session never imports a transport.
 */

/** Where to reach a peer. `host` is an IP literal or a DNS name. */
export interface PeerAddress {
  readonly host: string
  readonly port: number
}

/** Why a transport closed, as a transport reports it. */
export type TransportCloseKind =
  /** We called close(). */
  | 'local'
  /** The remote end closed cleanly (FIN / WebSocket close). */
  | 'remote'
  /** Connection reset or other socket error. */
  | 'reset'
  /** Connect attempt failed (refused, unreachable, DNS failure). */
  | 'connect-failed'
  /** Connect attempt timed out. */
  | 'timeout'
  /** Aborted through an AbortSignal. */
  | 'aborted'
  /** The relay (WebSocket bridge) refused or dropped the upstream. */
  | 'refused'

/**
 * How a transport reports a failed connect (the rejection of
 * `Connector.connect`) or a close it did not ask for (the argument of
 * `onClose`). `code` says what happened; `message` is for humans.
 */
export class TransportError extends Error {
  override readonly name = 'TransportError'
  /** What happened; see TransportCloseKind. */
  readonly code: TransportCloseKind
  /** Underlying error or close code, when there is one. */
  override readonly cause?: unknown
  constructor(code: TransportCloseKind, message: string, cause?: unknown) {
    super(message)
    this.code = code
    this.cause = cause
  }

  /**
   * The old name of `code`.
   * @deprecated Use `code` (the one discriminant of every bitp2p error); `kind` goes in the next minor release.
   */
  get kind(): TransportCloseKind {
    return this.code
  }
}

/**
 * One duplex byte stream to one peer.
 *
 * `send` never blocks and never throws for a closed transport (the bytes are
 * dropped and `onClose` has fired or will fire). Backpressure is visible
 * through `bufferedAmount` and the `onDrain` callback: a driver stops
 * producing while bufferedAmount is above its high-water mark.
 */
export interface Transport {
  /**
   * Queue `bytes` for the peer, in order. Never blocks, never throws; bytes
   * sent after close are dropped. Implementations may keep a reference to
   * `bytes` until written, so the caller must not modify it afterwards.
   */
  send(bytes: Uint8Array): void
  /** Close the stream; `onClose` fires once (with kind 'local'). Idempotent. */
  close(reason?: unknown): void
  /** Register the data handler (one). Chunks arrive in order. */
  onData(cb: (bytes: Uint8Array) => void): void
  /** Register the close handler (one). Fires exactly once. `err` is absent for a clean local close. */
  onClose(cb: (err?: TransportError) => void): void
  /** Bytes accepted by send() but not yet handed to the network. */
  readonly bufferedAmount: number
  /** Register a handler called when bufferedAmount falls back to 0 after being non-zero. */
  onDrain(cb: () => void): void
  /** Where this transport goes, for logs and address books. */
  readonly remote: PeerAddress
}

/** Opens outbound transports. */
export interface Connector {
  /**
   * Open a transport to `addr`. Resolves once it is usable; rejects with a
   * TransportError of kind 'connect-failed', 'timeout', 'aborted' (through
   * `signal`) or, for a relay, 'refused'.
   */
  connect(addr: PeerAddress, signal?: AbortSignal): Promise<Transport>
}

/** Accepts inbound transports. */
export interface Listener {
  /** Called for each accepted inbound transport. */
  onConnection(cb: (t: Transport) => void): void
  /** The address actually listened on (port resolved if 0 was asked). */
  readonly address: PeerAddress
  /**
   * Stop accepting; resolves once the listener is closed. Whether transports
   * already accepted are closed too depends on the implementation (the TCP
   * listener closes them, the mock one does not).
   */
  close(): Promise<void>
}

/** Cancels a timer. Calling it twice, or after the timer fired, is a no-op. */
export type Cancel = () => void

/**
 * The driver's clock. Production uses the real clock (driver/realtime-clock.ts);
 * simulations use transport-mock's virtual clock. State machines never see
 * a Clock: they receive `now` as an argument.
 */
export interface Clock {
  /** Milliseconds, monotonic non-decreasing. */
  now(): number
  /**
   * Wall time: Unix ms = now() + unixTimeOffsetMs (for version timestamps and
   * address times). The real-time clock gives the platform's time origin; a
   * virtual clock its epoch. Absent means 0: a clock whose now() is Unix ms.
   */
  readonly unixTimeOffsetMs?: number
  /** Call `cb` once, `ms` milliseconds of this clock's time from now (0 or less: as soon as possible, but never before setTimer returns). */
  setTimer(ms: number, cb: () => void): Cancel
}

/** Seeded or system randomness, injected wherever randomness is needed. */
export interface Random {
  /** A uniformly random u32. */
  u32(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** A uniformly random u64 (nonces). */
  u64(): bigint
  /** Uniform float in [0, 1). */
  float(): number
}
