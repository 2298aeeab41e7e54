/**
 * Why a peer connection ended, with the data behind it and what it means
 * for the peer's address afterwards.
 *
 * Three questions a caller (a pool, an address book) asks of a reason:
 *  - transient: might a retry later succeed? (timeouts, resets: yes;
 *    too-old protocol, wrong services, self-connection: no)
 *  - banScore: how much misbehaviour to hold against the address. Only
 *    invalid behaviour scores; a slow or silent peer never does.
 *  - unresponsive: the peer did not answer in time. Kept apart from
 *    invalid (neutrino #349): a peer on a bad link is not a bad peer.
 */
import type { WireError } from '@bitp2p/wire'
import type { TransportError } from '../ports.js'
import { framingOffense, offenseScore, type Offense } from './misbehavior.js'
import type { RequestSummary, StreamProgress } from './requests.js'

/** Every way a peer connection ends. */
export type DisconnectReason =
  /** version/verack did not complete within the handshake deadline. */
  | { readonly kind: 'handshake-timeout'; readonly state: string; readonly waitedMs: number }
  /** The peer's protocol version is below our minimum. */
  | { readonly kind: 'protocol-version'; readonly min: number; readonly actual: number }
  /** The peer lacks service bits we require (outbound connections). */
  | { readonly kind: 'missing-services'; readonly required: bigint; readonly actual: bigint }
  /** The peer's version nonce is one of ours: we connected to ourselves. */
  | { readonly kind: 'self-connection'; readonly nonce: bigint }
  /** No pong for our ping within the pong deadline. */
  | { readonly kind: 'ping-timeout'; readonly nonce: bigint; readonly waitedMs: number }
  /** A request passed its deadline: no progress for `waitedMs`, or with `stream`, a block streamed too slowly. */
  | { readonly kind: 'stalled'; readonly request: RequestSummary; readonly waitedMs: number; readonly stream?: StreamProgress }
  /** Misbehaviour reached the threshold; `last` is the offense that crossed it. */
  | { readonly kind: 'misbehaving'; readonly score: number; readonly threshold: number; readonly last: Offense }
  /** The byte stream broke (bad magic, oversize, bad checksum): it cannot be resynchronised. */
  | { readonly kind: 'framing'; readonly error: WireError }
  /**
   * The BIP324 v2 transport failed: its handshake (no terminator, a v1 node
   * answering, ...) or a packet (bad tag, oversize). `retryV1`: a v1
   * connection to the same peer may work (BIP324's advice for a garbled or
   * refused handshake).
   */
  | { readonly kind: 'v2'; readonly code: string; readonly message: string; readonly retryV1: boolean }
  /** A message that is never valid in the current state (e.g. wtxidrelay after verack). */
  | { readonly kind: 'unexpected-message'; readonly command: string; readonly state: string }
  /** The peer does not read: our send buffer passed its hard cap. */
  | { readonly kind: 'send-buffer-full'; readonly buffered: number; readonly limit: number }
  /** The transport closed or failed (remote close, reset, connect failure). */
  | { readonly kind: 'transport'; readonly error: TransportError | undefined }
  /** An AbortSignal given by the caller fired. */
  | { readonly kind: 'aborted'; readonly reason?: unknown }
  /** We closed the connection on purpose (a caller's decision; `reason` in its words). */
  | { readonly kind: 'local'; readonly reason?: string }
  /** The pool closed this inbound peer to make room for a newer one (inbound slots full; eviction.ts chose it). */
  | { readonly kind: 'evicted' }
  /** The pool closed this feeler after its handshake: the address was tested (and marked good). */
  | { readonly kind: 'feeler-done' }
  /** The pool closed this peer because its host was banned (`reason`: the ban's). */
  | { readonly kind: 'banned'; readonly reason: string }
  /** The pool stopped. */
  | { readonly kind: 'pool-stopped' }
  /** The crawler closed this peer after its visit (its addresses were collected). */
  | { readonly kind: 'crawled' }

/** The `kind` tag of a DisconnectReason: 'handshake-timeout', 'framing', 'transport', ... */
export type DisconnectKind = DisconnectReason['kind']

/** What a disconnect means for the peer's address. */
export interface DisconnectPolicy {
  /** A later attempt may succeed. */
  readonly transient: boolean
  /** Misbehaviour points to hold against the address (0 for anything not invalid). */
  readonly banScore: number
  /** The peer was slow or silent (never invalid, never banned). */
  readonly unresponsive: boolean
}

const TRANSIENT_UNRESPONSIVE: DisconnectPolicy = Object.freeze({ transient: true, banScore: 0, unresponsive: true })
const TRANSIENT: DisconnectPolicy = Object.freeze({ transient: true, banScore: 0, unresponsive: false })
const PERMANENT: DisconnectPolicy = Object.freeze({ transient: false, banScore: 0, unresponsive: false })

/** Transport failures that mean "nobody answered" rather than "someone hung up". */
const UNRESPONSIVE_TRANSPORT_KINDS: ReadonlySet<string> = new Set(['timeout', 'connect-failed'])

/** The policy of a disconnect reason. Total over every kind. */
export function disconnectPolicy(reason: DisconnectReason): DisconnectPolicy {
  switch (reason.kind) {
    case 'handshake-timeout':
    case 'ping-timeout':
    case 'stalled':
    case 'send-buffer-full':
      return TRANSIENT_UNRESPONSIVE
    case 'protocol-version':
    case 'missing-services':
    case 'self-connection':
      // The peer will answer the same way next time; no fault of its own.
      return PERMANENT
    case 'unexpected-message':
      // Core disconnects without discouraging (e.g. wtxidrelay after verack).
      return PERMANENT
    case 'misbehaving':
      return { transient: false, banScore: reason.score, unresponsive: false }
    case 'framing':
      return { transient: false, banScore: offenseScore(framingOffense(reason.error)), unresponsive: false }
    case 'v2':
      // A garbled or refused handshake is no misbehaviour (Core disconnects without a score); try again, perhaps in v1.
      return TRANSIENT
    case 'transport': {
      const kind = reason.error?.code
      return kind !== undefined && UNRESPONSIVE_TRANSPORT_KINDS.has(kind) ? TRANSIENT_UNRESPONSIVE : TRANSIENT
    }
    case 'aborted':
    case 'local':
    case 'evicted':
    case 'feeler-done':
    case 'pool-stopped':
    case 'crawled':
      return TRANSIENT
    case 'banned':
      // The ban itself holds the host; closing its other connections scores nothing more.
      return TRANSIENT
  }
}

/**
 * True when we ended the connection ourselves (a caller, an AbortSignal,
 * the pool or the crawler): no fault of the peer's, so nothing counts
 * against its address.
 */
export function isLocalDisconnect(reason: DisconnectReason): boolean {
  switch (reason.kind) {
    case 'aborted':
    case 'local':
    case 'evicted':
    case 'feeler-done':
    case 'banned':
    case 'pool-stopped':
    case 'crawled':
      return true
    default:
      return false
  }
}

/** Milliseconds for people: whole numbers (a real clock gives 60029.208959999996). */
function ms(v: number): string {
  return String(Math.round(v))
}

/** One line for logs, e.g. "protocol-version: 60001 < 70001". */
export function describeDisconnect(reason: DisconnectReason): string {
  switch (reason.kind) {
    case 'handshake-timeout':
      return `handshake-timeout: still ${reason.state} after ${ms(reason.waitedMs)} ms`
    case 'protocol-version':
      return `protocol-version: ${reason.actual} < ${reason.min}`
    case 'missing-services':
      return `missing-services: need 0x${reason.required.toString(16)}, have 0x${reason.actual.toString(16)}`
    case 'self-connection':
      return `self-connection: nonce 0x${reason.nonce.toString(16)}`
    case 'ping-timeout':
      return `ping-timeout: no pong after ${ms(reason.waitedMs)} ms`
    case 'stalled':
      return reason.stream
        ? `stalled: ${reason.request.kind} request #${reason.request.id} streamed ${reason.stream.received} of ${reason.stream.length} bytes in ${ms(reason.stream.elapsedMs)} ms`
        : `stalled: ${reason.request.kind} request #${reason.request.id} unanswered after ${ms(reason.waitedMs)} ms`
    case 'misbehaving':
      return `misbehaving: score ${reason.score} >= ${reason.threshold} (last: ${reason.last.kind})`
    case 'framing':
      return `framing: ${reason.error.code} ${reason.error.message}`
    case 'v2':
      return `v2: ${reason.code} ${reason.message}${reason.retryV1 ? ' (a v1 connection may work)' : ''}`
    case 'unexpected-message':
      return `unexpected-message: ${reason.command} in ${reason.state}`
    case 'send-buffer-full':
      return `send-buffer-full: ${reason.buffered} bytes > ${reason.limit}`
    case 'transport':
      return `transport: ${reason.error ? `${reason.error.code} ${reason.error.message}` : 'closed'}`
    case 'aborted':
      return 'aborted'
    case 'local':
      return `local${reason.reason ? `: ${reason.reason}` : ''}`
    case 'evicted':
      return 'evicted: inbound slots full'
    case 'feeler-done':
      return 'feeler-done: address tested'
    case 'banned':
      return `banned: ${reason.reason}`
    case 'pool-stopped':
      return 'pool-stopped'
    case 'crawled':
      return 'crawled: visit complete'
  }
}
