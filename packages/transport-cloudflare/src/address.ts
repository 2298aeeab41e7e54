/**
 * Host strings as connect() wants them and as logs show them.
 */
import type { PeerAddress } from '@bitp2p/session'

/** Strip URL-style brackets: '[::1]' -> '::1'. connect() wants a bare hostname. */
export function bareHost(host: string): string {
  return host.length >= 2 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** 'host:port', with IPv6 literals in brackets: '[::1]:18444'. */
export function formatAddress(addr: PeerAddress): string {
  return addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`
}
