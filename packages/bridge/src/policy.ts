/**
 * The bridge's target policy: which upstream a client may reach.
 *
 * Not an open proxy. A target is allowed only if it is on the allowlist
 * (exact 'host:port' entries), and, unless private targets are allowed,
 * only if its address is global (not loopback, private, link-local,
 * unique-local, CGNAT...). A DNS name is resolved here and EVERY address it
 * resolves to must pass; the bridge then connects to a checked address,
 * never to the name again, so a second lookup cannot be steered elsewhere
 * (DNS rebinding).
 *
 * Pure: the resolver is injected (the bridge passes node:dns).
 */
import { formatPeerAddress, parsePeerAddress, PeerAddressError, type PeerAddress } from '@bitp2p/session'
import { BridgeCloseCode } from '@bitp2p/transport-ws'
import { canonicalIp, formatIp, ipScope, parseIp, type IpScope } from './ip.js'

/** Resolves a DNS name to IP literals (both families). Rejects or returns [] when the name does not resolve. */
export type Resolver = (hostname: string) => Promise<readonly string[]>

/** Longest allowlist a bridge accepts (a guard against a config mistake, not a tuning knob). */
export const MAX_ALLOWLIST_ENTRIES = 100_000
/** Most addresses of one DNS name that are checked; a longer answer is refused. */
export const MAX_RESOLVED_ADDRESSES = 64

/** A compiled allowlist: canonical 'host:port' keys. */
export interface Allowlist {
  /** True if `host:port` is listed. `host` is compared canonically: an IP in any spelling, a name in any case. */
  has(host: string, port: number): boolean
  readonly size: number
}

/** The policy's decision for one target. */
export type TargetVerdict =
  | { readonly ok: true; /** The checked IP literal to connect to. */ readonly ip: string; readonly addresses: readonly string[] }
  | { readonly ok: false; readonly code: number; readonly reason: string }

/** What checkTarget needs. */
export interface TargetPolicy {
  readonly allow: Allowlist
  readonly allowPrivate: boolean
  readonly resolve: Resolver
}

/**
 * Compile allowlist entries: 'host:port' where host is an IP literal (IPv6
 * in brackets) or a DNS name. IP literals are canonicalised ('::ffff:1.2.3.4'
 * and '1.2.3.4' are one entry), names lowercased. Throws a RangeError naming
 * the first malformed entry.
 */
export function compileAllowlist(entries: readonly string[]): Allowlist {
  if (entries.length > MAX_ALLOWLIST_ENTRIES) throw new RangeError(`allowlist has ${entries.length} entries, more than ${MAX_ALLOWLIST_ENTRIES}`)
  const keys = new Set<string>()
  for (const entry of entries) {
    const parsed = splitHostPort(entry)
    if (parsed === undefined) throw new RangeError(`allowlist entry '${entry}' is not host:port (IPv6 in brackets)`)
    keys.add(key(parsed.host, parsed.port))
  }
  return {
    has: (host, port) => keys.has(key(host, port)),
    get size() {
      return keys.size
    },
  }
}

/** The allowlist key of a host: canonical IP, or the lowercased name. */
function key(host: string, port: number): string {
  const ip = canonicalIp(host)
  return `${ip ?? host.toLowerCase()}|${port}`
}

/** An allowlist entry as host and port (parsePeerAddress's rules; surrounding whitespace ignored), or undefined. */
function splitHostPort(entry: string): PeerAddress | undefined {
  try {
    return parsePeerAddress(entry.trim())
  } catch (e) {
    if (e instanceof PeerAddressError) return undefined
    throw e
  }
}

/** True if `host` looks like a DNS name (LDH labels of 1-63 characters). */
export function isHostname(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false
  return host.split('.').every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label))
}

const refuse = (code: number, reason: string): TargetVerdict => ({ ok: false, code, reason })

/**
 * Decide whether `host:port` may be reached, in this order:
 * 1. an IP literal must be on the allowlist (4001), then be global unless
 *    allowPrivate (4002);
 * 2. a DNS name must resolve (4006 if not), and each address must be
 *    allowed, either through the name's own entry or through its address
 *    entry (4001), and be global unless allowPrivate (4002).
 * The verdict names the address to connect to: the first one resolved.
 */
export async function checkTarget(policy: TargetPolicy, host: string, port: number): Promise<TargetVerdict> {
  const literal = parseIp(host)
  if (literal !== undefined) {
    const ip = formatIp(literal)
    if (!policy.allow.has(ip, port)) return refuse(BridgeCloseCode.notAllowed, `${display(ip, port)} is not on the allowlist`)
    const scope = ipScope(literal)
    if (scope !== 'global' && !policy.allowPrivate) return refuse(BridgeCloseCode.privateTarget, `${display(ip, port)} is ${scope}`)
    return { ok: true, ip, addresses: [ip] }
  }
  if (!isHostname(host)) return refuse(BridgeCloseCode.badRequest, 'peer host is neither an IP literal nor a DNS name')
  const name = host.toLowerCase()
  const nameAllowed = policy.allow.has(name, port)
  let answers: readonly string[]
  try {
    answers = await policy.resolve(name)
  } catch {
    // An unknown name is refused like a name off the list when it is not on the list.
    if (!nameAllowed) return refuse(BridgeCloseCode.notAllowed, `${name}:${port} is not on the allowlist`)
    return refuse(BridgeCloseCode.upstreamConnectFailed, `${name} does not resolve`)
  }
  if (answers.length === 0) {
    if (!nameAllowed) return refuse(BridgeCloseCode.notAllowed, `${name}:${port} is not on the allowlist`)
    return refuse(BridgeCloseCode.upstreamConnectFailed, `${name} has no addresses`)
  }
  if (answers.length > MAX_RESOLVED_ADDRESSES) return refuse(BridgeCloseCode.notAllowed, `${name} resolves to too many addresses`)
  const addresses: string[] = []
  for (const answer of answers) {
    const b = parseIp(answer)
    if (b === undefined) return refuse(BridgeCloseCode.upstreamConnectFailed, `${name} resolved to a non-IP answer`)
    const ip = formatIp(b)
    if (!nameAllowed && !policy.allow.has(ip, port)) {
      // The address itself stays out of the reason: it may be an internal one.
      return refuse(BridgeCloseCode.notAllowed, `${name}:${port} resolves to an address not on the allowlist`)
    }
    const scope: IpScope = ipScope(b)
    if (scope !== 'global' && !policy.allowPrivate) return refuse(BridgeCloseCode.privateTarget, `${name} resolves to a ${scope} address`)
    addresses.push(ip)
  }
  return { ok: true, ip: addresses[0]!, addresses }
}

function display(ip: string, port: number): string {
  return formatPeerAddress({ host: ip, port })
}
