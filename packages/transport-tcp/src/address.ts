/**
 * Host strings as node:net wants them and as logs show them.
 */
import type { PeerAddress } from '@bitp2p/session'

/** Prefix Node puts on IPv4 peers accepted by a dual-stack (::) server. */
const IPV4_MAPPED_PREFIX = '::ffff:'

/** Strip URL-style brackets: '[::1]' -> '::1'. node:net wants bare literals. */
export function bareHost(host: string): string {
  return host.length >= 2 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** '::ffff:127.0.0.1' -> '127.0.0.1', so one peer has one address in logs and address books. */
export function unmapIPv4(host: string): string {
  if (host.toLowerCase().startsWith(IPV4_MAPPED_PREFIX) && host.includes('.')) {
    return host.slice(IPV4_MAPPED_PREFIX.length)
  }
  return host
}

/** 'host:port', with IPv6 literals in brackets: '[::1]:18444'. */
export function formatAddress(addr: PeerAddress): string {
  return addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`
}
