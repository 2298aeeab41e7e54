/**
 * Addresses for virtual peers: one IPv4 /16 group per peer.
 *
 * Address books and pools bucket peers by network group (/16 for IPv4), so
 * a simulation whose peers all sit in one /16 would test only the
 * degenerate case. `spreadHost(i)` puts peer i in its own /16 for as many
 * peers as there are usable first octets times 256 (MAX_SPREAD_HOSTS),
 * skipping the ranges that are private, reserved or already used by the mock
 * network (198.18.0.0/15 for generated client hosts). Past that the /16s are
 * reused round by round, each round with its own third octet and a last
 * octet of 255 the first round never uses, so every index still gets its own
 * address: up to MAX_VIRTUAL_HOSTS peers, at most 255 per /16.
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
/** Rounds after the first that reuse the /16s (third octets 0-253 with last octet 255; x.y.255.255 is left out). */
const REUSE_ROUNDS = 254
/** How many peers `spreadHost` can place in all: MAX_SPREAD_HOSTS in their own /16, then sharing /16s. */
export const MAX_VIRTUAL_HOSTS = MAX_SPREAD_HOSTS * (1 + REUSE_ROUNDS)

/**
 * The IPv4 host of virtual peer `i` (0-based): `a.b.c.d` with a distinct
 * `a.b` (/16) for every i below MAX_SPREAD_HOSTS, and a distinct address for
 * every i below MAX_VIRTUAL_HOSTS (see the module comment). In the first
 * round the low half varies too, so addresses do not look alike.
 * @throws RangeError outside [0, MAX_VIRTUAL_HOSTS).
 */
export function spreadHost(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_VIRTUAL_HOSTS) {
    throw new RangeError(`spreadHost: index must be an integer in [0, ${MAX_VIRTUAL_HOSTS}), got ${i}`)
  }
  const slot = i % MAX_SPREAD_HOSTS
  const round = Math.floor(i / MAX_SPREAD_HOSTS)
  const a = FIRST_OCTETS[slot >> 8]!
  const b = slot & 255
  // First round: d in 1-254. Later rounds: d = 255 and c = the round, so no two indices meet.
  const c = round === 0 ? (i * 37 + 11) & 255 : round - 1
  const d = round === 0 ? 1 + ((i * 101) % 254) : 255
  return `${a}.${b}.${c}.${d}`
}

/** The /16 group of an IPv4 literal, "a.b" (for tests and diagnostics). */
export function ipv4Group16(host: string): string {
  const parts = host.split('.')
  if (parts.length !== 4) throw new RangeError(`ipv4Group16: not an IPv4 literal: ${host}`)
  return `${parts[0]}.${parts[1]}`
}
