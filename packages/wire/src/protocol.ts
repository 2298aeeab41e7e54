/**
 * Protocol versions and service flags, each with what it enables.
 * Values follow Bitcoin Core's version.h and protocol.h.
 */

/** The version we speak: 70016 enables wtxidrelay (BIP339). */
export const PROTOCOL_VERSION = 70016

/** Oldest peer version we accept by default (Core's MIN_PEER_PROTO_VERSION). */
export const MIN_PEER_PROTO_VERSION = 31800
/** addr entries carry a timestamp from this version on. */
export const CADDR_TIME_VERSION = 31402
/** BIP31: ping carries a nonce and pong answers it. */
export const BIP0031_VERSION = 60000
/** BIP37 filterload/filteradd/filterclear/merkleblock from this version. */
export const BIP0037_VERSION = 70001
/** BIP111: from here NODE_BLOOM must be advertised to serve bloom filters. */
export const NO_BLOOM_VERSION = 70011
/** BIP130: sendheaders. */
export const SENDHEADERS_VERSION = 70012
/** BIP133: feefilter. */
export const FEEFILTER_VERSION = 70013
/** BIP152: compact blocks and short ids. */
export const SHORT_IDS_BLOCKS_VERSION = 70014
/** Invalid compact blocks are not punished from this version. */
export const INVALID_CB_NO_BAN_VERSION = 70015
/** BIP339: wtxidrelay. */
export const WTXID_RELAY_VERSION = 70016

/** Service flags (u64 bit field in version and addr). */
export const Services = {
  NONE: 0n,
  /** Serves the full block chain. */
  NODE_NETWORK: 1n << 0n,
  /** BIP64 getutxo (obsolete). */
  NODE_GETUTXO: 1n << 1n,
  /** BIP111: serves bloom-filtered connections. */
  NODE_BLOOM: 1n << 2n,
  /** BIP144: serves witness data. */
  NODE_WITNESS: 1n << 3n,
  /** Xtreme thinblocks (not Core). */
  NODE_XTHIN: 1n << 4n,
  /** BIP157: serves compact block filters. */
  NODE_COMPACT_FILTERS: 1n << 6n,
  /** BIP159: serves the last 288 blocks only. */
  NODE_NETWORK_LIMITED: 1n << 10n,
  /** BIP324: supports the v2 encrypted transport. */
  NODE_P2P_V2: 1n << 11n,
} as const

const SERVICE_NAMES: ReadonlyArray<readonly [bigint, string]> = [
  [Services.NODE_NETWORK, 'NETWORK'],
  [Services.NODE_GETUTXO, 'GETUTXO'],
  [Services.NODE_BLOOM, 'BLOOM'],
  [Services.NODE_WITNESS, 'WITNESS'],
  [Services.NODE_XTHIN, 'XTHIN'],
  [Services.NODE_COMPACT_FILTERS, 'COMPACT_FILTERS'],
  [Services.NODE_NETWORK_LIMITED, 'NETWORK_LIMITED'],
  [Services.NODE_P2P_V2, 'P2P_V2'],
]

/** Names of the set service bits, e.g. ['NETWORK', 'WITNESS'], unknown bits as 'BIT_n'. */
export function serviceNames(services: bigint): string[] {
  const out: string[] = []
  let rest = services
  for (const [bit, name] of SERVICE_NAMES) {
    if (services & bit) {
      out.push(name)
      rest &= ~bit
    }
  }
  for (let i = 0n; rest > 0n && i < 64n; i++) {
    if (rest & (1n << i)) {
      out.push(`BIT_${i}`)
      rest &= ~(1n << i)
    }
  }
  return out
}

/** True when every bit of `required` is set in `services`. */
export function hasServices(services: bigint, required: bigint): boolean {
  return (services & required) === required
}
