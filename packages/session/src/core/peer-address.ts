/**
 * "host:port" text and PeerAddress: the one formatter and the one parser
 * every package, the CLI and the examples use, so a peer is written the
 * same way in logs, keys, URLs and command lines.
 *
 * The text form is `host:port` for an IPv4 address or a host name and
 * `[v6]:port` for an IPv6 literal (RFC 3986's authority, as Core's
 * `-connect` takes it): an IPv6 literal without brackets is ambiguous
 * (`::1:8333`) and refused, never guessed.
 */
import { ipFromString } from '@bitp2p/wire'
import type { PeerAddress } from './ports.js'

/** Lowest port a peer can listen on (0 means "any port" to a listener, never a peer's). */
export const MIN_PEER_PORT = 1
/** Highest TCP port. */
export const MAX_PEER_PORT = 65535
/** Longest host name (RFC 1035, without the trailing dot). */
export const MAX_HOST_NAME_LENGTH = 253
/** Longest label of a host name (RFC 1035). */
const MAX_LABEL_LENGTH = 63
/** At most this much of the refused text is quoted in an error message (the text may come from anywhere). */
const MAX_QUOTED_CHARS = 64

/** Why a text is not a peer address; see PeerAddressError. */
export type PeerAddressErrorCode =
  /** The text is empty. */
  | 'EMPTY'
  /**
   * The host is empty, longer than MAX_HOST_NAME_LENGTH, holds a character
   * no host name or IP literal has (whitespace, '/', '@', '%' of a zone
   * id...), is an empty label ('a..b'), looks like dotted IPv4 but is not
   * one ('1.2.3.256'), or is in brackets without being an IPv6 literal.
   */
  | 'BAD_HOST'
  /** An IPv6 literal (two or more colons) without brackets: write `[::1]:8333`. */
  | 'UNBRACKETED_IPV6'
  /** No `:port` and no default port given. */
  | 'MISSING_PORT'
  /** The port is not decimal digits without a leading zero ('', '+1', '08333', '1 '). */
  | 'BAD_PORT'
  /** The port (or the default port) is outside MIN_PEER_PORT..MAX_PEER_PORT: 0, 65536. */
  | 'PORT_OUT_OF_RANGE'

/**
 * A text that is not `host:port`: `code` for programs, the message for
 * people (`'<input>' is not a peer address: <reason>`), `input` the text
 * refused and `reason` what is wrong in words, for a caller that words
 * its own message (a command line naming its option).
 */
export class PeerAddressError extends Error {
  /** Always 'PeerAddressError' (also across copies of the package). */
  override readonly name = 'PeerAddressError'
  /** What is wrong; see PeerAddressErrorCode. */
  readonly code: PeerAddressErrorCode
  /** The text that was refused, whole. */
  readonly input: string
  /** What is wrong, in words, without the input ('no port', 'port 0 is not in 1-65535'). */
  readonly reason: string

  /** An error of `code` about `input`; `cause` is the underlying error, if any. */
  constructor(code: PeerAddressErrorCode, input: string, reason: string, cause?: unknown) {
    const shown = input.length > MAX_QUOTED_CHARS ? `${input.slice(0, MAX_QUOTED_CHARS)}...` : input
    super(`'${shown}' is not a peer address: ${reason}`, cause === undefined ? undefined : { cause })
    this.code = code
    this.input = input
    this.reason = reason
  }
}

/**
 * `host:port`, with an IPv6 literal in brackets: `1.2.3.4:8333`,
 * `[2001:db8::1]:8333`, `seed.example.org:8333`. A host already in
 * brackets keeps one pair. The inverse of parsePeerAddress for the
 * addresses it returns (lower-case hosts, ports 1..65535).
 */
export function formatPeerAddress(addr: PeerAddress): string {
  const host = unbracketHost(addr.host)
  return host.includes(':') ? `[${host}]:${addr.port}` : `${host}:${addr.port}`
}

/**
 * `[::1]` as `::1`: the host as sockets and resolvers want it. Anything
 * else is returned as it is. Transports call it on a PeerAddress whose
 * host a caller wrote in brackets.
 */
export function unbracketHost(host: string): string {
  return host.length >= 2 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/**
 * Parse `host:port`: IPv4 (`1.2.3.4:8333`), an IPv6 literal in brackets
 * (`[2001:db8::1]:8333`, `[::ffff:1.2.3.4]:8333`), or a host name
 * (`seed.example.org:8333`; letters, digits, '-' and '_' in dot-separated
 * labels). Without `:port`, `defaultPort` is used (`[::1]` too); without
 * one either, the text is refused. The host comes back in lower case;
 * IPv6 is otherwise kept as written (not shortened).
 *
 * Nothing is trimmed: whitespace anywhere is refused, so a value with a
 * stray space is reported rather than half-read.
 *
 * Throws PeerAddressError (only), whose `code` says what is wrong.
 */
export function parsePeerAddress(text: string, defaultPort?: number): PeerAddress {
  if (defaultPort !== undefined && !(Number.isInteger(defaultPort) && defaultPort >= MIN_PEER_PORT && defaultPort <= MAX_PEER_PORT)) {
    throw fail('PORT_OUT_OF_RANGE', text, `the default port ${defaultPort} is not in ${MIN_PEER_PORT}-${MAX_PEER_PORT}`)
  }
  if (text.length === 0) throw fail('EMPTY', text, 'empty (expected host:port)')
  let host: string
  let portText: string | undefined
  if (text.startsWith('[')) {
    const end = text.indexOf(']')
    if (end < 0) throw fail('BAD_HOST', text, "'[' without its ']'")
    host = text.slice(1, end)
    const rest = text.slice(end + 1)
    if (rest !== '' && !rest.startsWith(':')) throw fail('BAD_PORT', text, "expected ':' and a port after ']'")
    portText = rest === '' ? undefined : rest.slice(1)
    checkIPv6(text, host)
  } else {
    const first = text.indexOf(':')
    if (first >= 0 && text.indexOf(':', first + 1) >= 0) {
      throw fail('UNBRACKETED_IPV6', text, 'an IPv6 address needs brackets, as in [::1]:8333')
    }
    host = first < 0 ? text : text.slice(0, first)
    portText = first < 0 ? undefined : text.slice(first + 1)
    checkHostName(text, host)
  }
  return { host: host.toLowerCase(), port: portText === undefined ? defaultPortOr(text, defaultPort) : parsePort(text, portText) }
}

function defaultPortOr(text: string, defaultPort: number | undefined): number {
  if (defaultPort === undefined) throw fail('MISSING_PORT', text, 'no port')
  return defaultPort
}

/** Decimal, no sign, no leading zero, in range. */
function parsePort(text: string, portText: string): number {
  // Six digits are enough to tell "out of range" from "not a number" and keep Number() exact.
  if (!/^[1-9][0-9]{0,5}$/.test(portText)) {
    if (/^0+$/.test(portText)) throw fail('PORT_OUT_OF_RANGE', text, `port 0 is not in ${MIN_PEER_PORT}-${MAX_PEER_PORT}`)
    if (/^[1-9][0-9]*$/.test(portText)) throw fail('PORT_OUT_OF_RANGE', text, `the port is not in ${MIN_PEER_PORT}-${MAX_PEER_PORT}`)
    throw fail('BAD_PORT', text, portText === '' ? 'an empty port' : 'the port is not a decimal number without a leading zero')
  }
  const port = Number(portText)
  if (port > MAX_PEER_PORT) throw fail('PORT_OUT_OF_RANGE', text, `port ${port} is not in ${MIN_PEER_PORT}-${MAX_PEER_PORT}`)
  return port
}

/** Bracketed hosts are IPv6 literals (wire's parser decides: no zone ids, no IPv4 in brackets). */
function checkIPv6(text: string, host: string): void {
  if (!host.includes(':')) throw fail('BAD_HOST', text, 'brackets hold an IPv6 address')
  try {
    ipFromString(host)
  } catch (e) {
    throw fail('BAD_HOST', text, 'not an IPv6 address in the brackets', e)
  }
}

/** A host name or dotted IPv4: dot-separated labels of letters, digits, '-' and '_'; all-numeric means IPv4. */
function checkHostName(text: string, host: string): void {
  if (host.length === 0) throw fail('BAD_HOST', text, 'an empty host')
  if (host.length > MAX_HOST_NAME_LENGTH) throw fail('BAD_HOST', text, `a host longer than ${MAX_HOST_NAME_LENGTH} characters`)
  if (/^[0-9.]+$/.test(host)) {
    try {
      ipFromString(host)
    } catch (e) {
      throw fail('BAD_HOST', text, 'not an IPv4 address', e)
    }
    return
  }
  for (const label of host.split('.')) {
    if (label.length === 0 || label.length > MAX_LABEL_LENGTH || !/^[A-Za-z0-9_-]+$/.test(label)) {
      throw fail('BAD_HOST', text, 'not a host name (letters, digits, - and _ in dot-separated labels) nor an IP address')
    }
  }
}

function fail(code: PeerAddressErrorCode, text: string, reason: string, cause?: unknown): PeerAddressError {
  return new PeerAddressError(code, text, reason, cause)
}
