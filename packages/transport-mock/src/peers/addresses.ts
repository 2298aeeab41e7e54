/**
 * Addresses for virtual peers: one IPv4 /16 group per peer.
 *
 * Address books and pools bucket peers by network group (/16 for IPv4), so
 * a simulation whose peers all sit in one /16 would test only the
 * degenerate case. `spreadHost(i)` puts peer i in its own /16 for as many
 * peers as there are usable first octets times 256, skipping the ranges
 * that are private, reserved or already used by the mock network
 * (198.18.0.0/15 for generated client hosts).
 *
 * These addresses exist only on the in-memory network.
 */

/** First octets never used: "this network", private, CGNAT, loopback, link-local, 172.16/12 and 192.168/16 blocks, benchmarking (the mock's own client hosts), multicast and above. */
const SKIPPED_FIRST_OCTETS: ReadonlySet<number> = new Set([0, 10, 100, 127, 169, 172, 192, 198])
/** Highest unicast first octet (224 and above are multicast and reserved). */
const LAST_UNICAST_OCTET = 223

/** Usable first octets, ascending. */
const FIRST_OCTETS: readonly number[] = Object.freeze(
  Array.from({ length: LAST_UNICAST_OCTET }, (_, i) => i + 1).filter((o) => !SKIPPED_FIRST_OCTETS.has(o)),
)

/** How many peers `spreadHost` can place, each in its own /16. */
export const MAX_SPREAD_HOSTS = FIRST_OCTETS.length * 256

/**
 * The IPv4 host of virtual peer `i` (0-based): `a.b.c.d` with a distinct
 * `a.b` (/16) for every i below MAX_SPREAD_HOSTS. The low half varies too,
 * so addresses do not look alike.
 * @throws RangeError outside [0, MAX_SPREAD_HOSTS).
 */
export function spreadHost(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_SPREAD_HOSTS) {
    throw new RangeError(`spreadHost: index must be an integer in [0, ${MAX_SPREAD_HOSTS}), got ${i}`)
  }
  const a = FIRST_OCTETS[i >> 8]!
  const b = i & 255
  const c = (i * 37 + 11) & 255
  const d = 1 + ((i * 101) % 254)
  return `${a}.${b}.${c}.${d}`
}

/** The /16 group of an IPv4 literal, "a.b" (for tests and diagnostics). */
export function ipv4Group16(host: string): string {
  const parts = host.split('.')
  if (parts.length !== 4) throw new RangeError(`ipv4Group16: not an IPv4 literal: ${host}`)
  return `${parts[0]}.${parts[1]}`
}
