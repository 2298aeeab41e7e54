// Address generators shared by the pool tests. Every generator draws from a
// SeededRandom, so each test is reproducible from its seed.
import { BIP155Network, regtest, type FramingParams } from '@bitp2p/wire'
import type { Random } from '../../../src/core/ports.js'
import type { Endpoint } from '../../../src/core/pool/netgroup.js'

/**
 * Regtest framing (magic fabfb5da), Core's 4 MB caps, and regtest's powLimit.
 * The same value as NET in the pool simulations (@bitp2p/testkit's
 * test/session/driver/pool/sim.ts), which moved out of this package because
 * they run on the mock network.
 */
export const NET: FramingParams & { readonly powLimit: bigint } = {
  magic: Uint8Array.of(0xfa, 0xbf, 0xb5, 0xda),
  maxMessageBytes: 4_000_000,
  maxBlockPayload: 4_000_000,
  powLimit: regtest.powLimit,
}

/** The text address of host `h` in netgroup `g` (11.0/16 .. 99.255/16: no reserved block), as the simulations' hostIn. */
export function hostIn(g: number, h: number): string {
  const a = 11 + Math.floor(g / 256)
  const b = g % 256
  return `${a}.${b}.${(h >> 8) & 255}.${(h & 255) || 1}`
}

export const NOW = 1_750_000_000
export const DAY = 86_400

/** An IPv4 endpoint from its four numbers. */
export function ip4(a: number, b: number, c: number, d: number, port = 8333): Endpoint {
  return { network: BIP155Network.IPV4, bytes: Uint8Array.of(a, b, c, d), port }
}

/**
 * A random public IPv4 endpoint whose first byte is in [lo, hi]. The default
 * range 11..99 holds no reserved block (10/8, 100.64/10 and 127/8 are outside).
 */
export function randomIPv4(r: Random, lo = 11, hi = 99): Endpoint {
  return ip4(lo + r.int(hi - lo + 1), r.int(256), r.int(256), 1 + r.int(254))
}

/** A random Tor v3 endpoint (any 32 bytes are a valid key for bucketing). */
export function randomOnion(r: Random): Endpoint {
  const bytes = new Uint8Array(32)
  for (let i = 0; i < 32; i++) bytes[i] = r.int(256)
  return { network: BIP155Network.TORV3, bytes, port: 8333 }
}

/** An addr-style input for the book. */
export function input(addr: Endpoint, time = NOW - 3600, services = 1n) {
  return { addr, services, time }
}

/** Text of an endpoint for readable assertions. */
export function ipText(ep: Endpoint): string {
  return `${Array.from(ep.bytes).join('.')}:${ep.port}`
}
