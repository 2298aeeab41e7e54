/**
 * The Node default DNS seed resolver: A and AAAA records through node:dns.
 * Browsers and workers have no DNS API; pass your own `resolve` there
 * (e.g. DNS over HTTPS) or none.
 */
import { promises as dns } from 'node:dns'
import type { Resolver } from './pool.js'

/**
 * Resolve a seed name to every IPv4 and IPv6 address it lists. A family
 * that fails (no records) counts as empty; the lookup rejects only when
 * both fail.
 */
export const nodeResolver: Resolver = async (host: string): Promise<string[]> => {
  const [v4, v6] = await Promise.allSettled([dns.resolve4(host), dns.resolve6(host)])
  if (v4.status === 'rejected' && v6.status === 'rejected') throw v4.reason
  return [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])]
}
