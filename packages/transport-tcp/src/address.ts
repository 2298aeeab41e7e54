/**
 * Host strings as node:net reports them. "host:port" text is
 * @bitp2p/session's formatPeerAddress / parsePeerAddress.
 */

/** Prefix Node puts on IPv4 peers accepted by a dual-stack (::) server. */
const IPV4_MAPPED_PREFIX = '::ffff:'

/** '::ffff:127.0.0.1' -> '127.0.0.1', so one peer has one address in logs and address books. */
export function unmapIPv4(host: string): string {
  if (host.toLowerCase().startsWith(IPV4_MAPPED_PREFIX) && host.includes('.')) {
    return host.slice(IPV4_MAPPED_PREFIX.length)
  }
  return host
}
