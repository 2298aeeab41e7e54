/**
 * The bitp2p WebSocket bridge protocol, shared by the client and the bridge.
 *
 * A client asks a bridge for one TCP connection to one Bitcoin peer:
 *
 *   new WebSocket('wss://bridge.example/?peer=203.0.113.5:8333',
 *                 ['bitp2p.v1', 'bitp2p.refused', 'bitp2p.token.<token>'])
 *
 * - The peer is named by the `peer` query parameter, `host:port`, with IPv6
 *   literals in brackets (`[2001:db8::1]:8333`), URL-encoded.
 * - The bridge decides before it completes the WebSocket upgrade: it checks
 *   the request, resolves and checks the target, and opens the upstream TCP
 *   connection. The selected subprotocol is its verdict:
 *     'bitp2p.v1'      the upstream TCP connection is up; bytes flow now.
 *     'bitp2p.refused' no upstream; a close frame with a 4xxx code follows.
 *   So the client never reports "connected" before the upstream is.
 *   (A refusal cannot be an HTTP error status: browsers hide it.)
 * - The token, when the bridge wants one, travels as the subprotocol
 *   `bitp2p.token.<token>`: a header, so it stays out of URLs, access logs
 *   and Referer headers. The bridge never echoes it back.
 * - Data: binary frames only, in both directions, carrying the raw TCP byte
 *   stream. Frame boundaries mean nothing. A text frame is a protocol error.
 * - Close codes: see BridgeCloseCode.
 *
 * This module is runtime-neutral (no node:* imports): the browser client
 * bundles it.
 */
import { formatPeerAddress, type PeerAddress } from '@bitp2p/session'

/** Subprotocol of a successful upgrade: the upstream is connected. Protocol version 1. */
export const SUBPROTOCOL_V1 = 'bitp2p.v1'
/** Subprotocol of a refused upgrade: a close frame with the reason follows. */
export const SUBPROTOCOL_REFUSED = 'bitp2p.refused'
/** Prefix of the subprotocol that carries the shared-secret token. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'bitp2p.token.'
/** Query parameter naming the target peer. */
export const PEER_QUERY_PARAM = 'peer'
/** Longest token accepted (it travels in an HTTP header). */
export const MAX_TOKEN_LENGTH = 256
/** Token alphabet: base64url plus '.' and '~', all valid in a subprotocol name (an HTTP token). */
const TOKEN_PATTERN = /^[A-Za-z0-9._~-]+$/

/**
 * Close codes of the bridge (RFC 6455 private range 4000-4999, plus the
 * standard 1000 and 1001). The reason string of the close frame says more
 * (at most 123 bytes).
 */
export const BridgeCloseCode = {
  /** Either side ended the stream normally. */
  normal: 1000,
  /** The bridge is shutting down. */
  goingAway: 1001,
  /** Malformed request: missing or bad `peer`, missing subprotocol 'bitp2p.v1'. */
  badRequest: 4000,
  /** The target is not on the bridge's allowlist. */
  notAllowed: 4001,
  /** The target is (or resolves to) a private, loopback or otherwise non-global address. */
  privateTarget: 4002,
  /** The bridge or this client address has too many connections. */
  tooManyConnections: 4003,
  /** Missing or wrong token. */
  unauthorized: 4004,
  /** The page's Origin is not allowed. */
  badOrigin: 4005,
  /** The upstream TCP connect (or its DNS lookup) failed or timed out. */
  upstreamConnectFailed: 4006,
  /** The upstream peer closed the TCP connection. */
  upstreamClosed: 4007,
  /** No bytes in either direction for the bridge's idle timeout. */
  idleTimeout: 4008,
  /** The client sent bytes that are not valid Bitcoin P2P framing (validating bridges only). */
  framingViolation: 4009,
  /** A buffer went past its hard limit despite flow control. */
  bufferOverflow: 4010,
  /** The upstream TCP connection failed (reset, error). */
  upstreamReset: 4011,
} as const

/** One of the BridgeCloseCode values. */
export type BridgeCloseCodeValue = (typeof BridgeCloseCode)[keyof typeof BridgeCloseCode]

/** Short names of the bridge's close codes, as used in logs, metrics and errors. */
export const BRIDGE_CLOSE_NAMES: Readonly<Record<number, string>> = {
  1000: 'normal',
  1001: 'going-away',
  1003: 'unsupported-data',
  1005: 'no-status',
  1006: 'abnormal',
  1009: 'message-too-big',
  4000: 'bad-request',
  4001: 'not-allowed',
  4002: 'private-target',
  4003: 'too-many-connections',
  4004: 'unauthorized',
  4005: 'bad-origin',
  4006: 'upstream-connect-failed',
  4007: 'upstream-closed',
  4008: 'idle-timeout',
  4009: 'framing-violation',
  4010: 'buffer-overflow',
  4011: 'upstream-reset',
}

/** The short name of a close code ('not-allowed'), or `code-<n>` for codes the protocol does not define. */
export function closeCodeName(code: number): string {
  return BRIDGE_CLOSE_NAMES[code] ?? `code-${code}`
}

/** True if `token` can travel as a subprotocol (see MAX_TOKEN_LENGTH and the alphabet above). */
export function isValidToken(token: string): boolean {
  return token.length > 0 && token.length <= MAX_TOKEN_LENGTH && TOKEN_PATTERN.test(token)
}

/** The subprotocols a client offers, in order of preference. The token, if any, comes last. */
export function clientSubprotocols(token?: string): string[] {
  const list = [SUBPROTOCOL_V1, SUBPROTOCOL_REFUSED]
  if (token !== undefined) list.push(TOKEN_SUBPROTOCOL_PREFIX + token)
  return list
}

/** The bridge URL for `peer`: `base` with `?peer=host:port` set (other query parameters are kept). */
export function bridgeUrl(base: string, peer: PeerAddress): string {
  const url = new URL(base)
  url.searchParams.set(PEER_QUERY_PARAM, formatPeerAddress(peer))
  return url.toString()
}
