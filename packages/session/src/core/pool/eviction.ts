/**
 * Inbound eviction: when a new inbound connection arrives and the inbound
 * slots are full, which inbound peer (if any) makes room for it.
 *
 * After Bitcoin Core's SelectNodeToEvict and ProtectEvictionCandidatesByRatio
 * (src/node/eviction.cpp; src/net.cpp before v25). The idea: an attacker
 * who opens many inbound connections must not be able to push out the peers
 * that are hard to fake. Each step below protects (removes from the
 * candidates) the peers best by one measure an attacker cannot cheaply
 * improve, in Core's order:
 *
 *   0. never candidates: outbound and manual connections, noban peers
 *   1. 4 peers in 4 distinct network groups, the groups chosen by a
 *      secret-keyed hash of the group (an attacker cannot aim at them)
 *   2. 8 with the lowest minimum ping (needs physical nearness)
 *   3. 4 that most recently sent us a novel transaction (useful work)
 *   4. up to 8 block-relay-only peers (no tx relay, useful services),
 *      most recent novel block first (Core's CompareNodeBlockRelayOnlyTime)
 *   5. 4 that most recently sent us a novel block (useful work)
 *   6. half of the rest, by longest uptime (attacks that start later lose)
 *
 * Of what is left, the network group with the most connections loses its
 * youngest member; between groups of equal size, the group whose youngest
 * member is youngest. Nothing left: nobody is evicted (refuse the newcomer).
 *
 * Where we differ from Core:
 *  - Step 1 protects one peer in each of 4 *distinct* groups (the oldest
 *    peer of each); only with fewer than 4 groups does a group get a second
 *    place. Core sorts by keyed group and protects the last 4 entries,
 *    which may all share the top group.
 *  - Step 6 is plain uptime: Core first reserves up to half of it for
 *    disadvantaged networks (Tor, I2P, CJDNS, localhost), which our
 *    transports do not accept inbound today.
 *  - No `prefer_evict`: Core marks discouraged peers for eviction first; we
 *    ban misbehaving peers outright, so none stays connected to prefer.
 *  - No bloom-filter tie-break in step 3 (we serve no BIP37 filters).
 *  - Every sort ends on the id, so equal candidates are ordered the same way
 *    on every run (Core's std::sort leaves ties unspecified).
 *
 * Pure and sans-IO: the caller gathers the facts (times in its own clock's
 * ms) and the keyed group hash.
 */

/** Step 1: peers protected in distinct network groups (Core: 4). */
export const EVICTION_PROTECT_NETGROUPS = 4
/** Step 2: peers protected by lowest minimum ping (Core: 8). */
export const EVICTION_PROTECT_PING = 8
/** Step 3: peers protected by most recent novel transaction (Core: 4). */
export const EVICTION_PROTECT_TX = 4
/** Step 4: block-relay-only peers protected by most recent novel block (Core: 8). */
export const EVICTION_PROTECT_BLOCK_RELAY_ONLY = 8
/** Step 5: peers protected by most recent novel block (Core: 4). */
export const EVICTION_PROTECT_BLOCKS = 4
/** Step 6: of what remains, protect floor(n / this) by uptime (Core: half). */
export const EVICTION_UPTIME_DIVISOR = 2

/** What the eviction logic knows about one connection. */
export interface EvictionCandidate {
  readonly id: number
  /** Printable network group (netgroup.ts groupToString): the unit of step 1 and of the final pick. */
  readonly netgroup: string
  /**
   * Secret-keyed hash of the group (the same for every peer of one group):
   * which groups step 1 protects. Keep the key private.
   */
  readonly keyedNetgroup: number
  /** When the connection was accepted (caller's clock, ms). */
  readonly connectedAt: number
  /** Lowest ping round trip seen, ms; undefined when never measured (worst). */
  readonly minPingMs: number | undefined
  /** Last novel block from this peer (caller's clock, ms); 0 when never. */
  readonly lastBlockAt: number
  /** Last novel transaction from this peer (caller's clock, ms); 0 when never. */
  readonly lastTxAt: number
  /** The peer asked for transaction relay (version `relay` flag). */
  readonly relayTxs: boolean
  /** The peer offers the services we want from a peer (network or network-limited, with witness). */
  readonly relevantServices: boolean
  /** Only inbound connections may be evicted. */
  readonly inbound: boolean
  /** Never evict (Core's noban permission). */
  readonly noBan: boolean
  /** A connection the user asked for: never evicted. */
  readonly manual: boolean
}

/** Which rule kept a candidate. */
export type EvictionProtection =
  | 'outbound'
  | 'manual'
  | 'noban'
  | 'netgroup'
  | 'ping'
  | 'tx'
  | 'block-relay-only'
  | 'block'
  | 'uptime'

/** The whole decision, for logs and tests. */
export interface EvictionDecision {
  /** The peer to evict, or undefined when every candidate is protected. */
  readonly evict: number | undefined
  /** The victim's network group. */
  readonly netgroup: string | undefined
  /** Each protected candidate and the rule that kept it, in the order they were kept. */
  readonly protected: ReadonlyMap<number, EvictionProtection>
}

type Cmp = (a: EvictionCandidate, b: EvictionCandidate) => number

function cmpNum(x: number, y: number): number {
  return x < y ? -1 : x > y ? 1 : 0
}

function cmpBool(x: boolean, y: boolean): number {
  return x === y ? 0 : x ? 1 : -1
}

// Every comparator sorts "more evictable first, most worth keeping last";
// the last tie-breaks are younger-first and then higher-id-first.

/** Younger (later connectedAt) first, then higher id first. */
const youngerFirst: Cmp = (a, b) => cmpNum(b.connectedAt, a.connectedAt) || cmpNum(b.id, a.id)

/** Core's ReverseCompareNodeMinPingTime: highest minimum ping first; never measured counts as infinite. */
const byPing: Cmp = (a, b) => cmpNum(b.minPingMs ?? Infinity, a.minPingMs ?? Infinity) || youngerFirst(a, b)

/** Core's CompareNodeTXTime: oldest novel tx first; then peers that do not relay txs. */
const byTx: Cmp = (a, b) => cmpNum(a.lastTxAt, b.lastTxAt) || cmpBool(a.relayTxs, b.relayTxs) || youngerFirst(a, b)

/** Core's CompareNodeBlockRelayOnlyTime: tx-relaying peers first, then by novel block time, then services. */
const byBlockRelayOnly: Cmp = (a, b) =>
  cmpBool(b.relayTxs, a.relayTxs) || cmpNum(a.lastBlockAt, b.lastBlockAt) || cmpBool(a.relevantServices, b.relevantServices) || youngerFirst(a, b)

/** Core's CompareNodeBlockTime: oldest novel block first, then peers without useful services. */
const byBlock: Cmp = (a, b) => cmpNum(a.lastBlockAt, b.lastBlockAt) || cmpBool(a.relevantServices, b.relevantServices) || youngerFirst(a, b)

/**
 * Core's EraseLastKElements: sort by `cmp`, then protect those of the last
 * `k` that pass `when`. Returns the candidates left.
 */
function protectLast(
  list: readonly EvictionCandidate[],
  cmp: Cmp,
  k: number,
  why: EvictionProtection,
  kept: Map<number, EvictionProtection>,
  when: (c: EvictionCandidate) => boolean = () => true,
): EvictionCandidate[] {
  const sorted = [...list].sort(cmp)
  const from = Math.max(0, sorted.length - k)
  const out = sorted.slice(0, from)
  for (const c of sorted.slice(from)) {
    if (when(c)) kept.set(c.id, why)
    else out.push(c)
  }
  return out
}

/**
 * Step 1: EVICTION_PROTECT_NETGROUPS peers by keyed group: the oldest peer
 * of each group, groups in descending keyed-hash order; with fewer groups
 * than places, further members (oldest first) in the same order.
 */
function protectNetgroups(list: readonly EvictionCandidate[], kept: Map<number, EvictionProtection>): EvictionCandidate[] {
  const olderFirst = [...list].sort((a, b) => cmpNum(a.connectedAt, b.connectedAt) || cmpNum(a.id, b.id))
  const members = new Map<string, EvictionCandidate[]>()
  for (const c of olderFirst) {
    const m = members.get(c.netgroup)
    if (m) m.push(c)
    else members.set(c.netgroup, [c])
  }
  const groups = [...members.values()].sort(
    (a, b) => cmpNum(b[0]!.keyedNetgroup, a[0]!.keyedNetgroup) || (a[0]!.netgroup < b[0]!.netgroup ? -1 : a[0]!.netgroup > b[0]!.netgroup ? 1 : 0),
  )
  const chosen = new Set<number>()
  for (let round = 0; chosen.size < EVICTION_PROTECT_NETGROUPS && chosen.size < list.length; round++) {
    for (const g of groups) {
      const c = g[round]
      if (!c || chosen.size >= EVICTION_PROTECT_NETGROUPS) continue
      chosen.add(c.id)
      kept.set(c.id, 'netgroup')
    }
  }
  return list.filter((c) => !chosen.has(c.id))
}

/**
 * Decide which inbound peer to evict (see the module doc), with the rule
 * that protected every other candidate.
 */
export function explainEviction(candidates: readonly EvictionCandidate[]): EvictionDecision {
  const kept = new Map<number, EvictionProtection>()
  let list: EvictionCandidate[] = []
  // Core's ProtectNoBanConnections and ProtectOutboundConnections.
  for (const c of candidates) {
    if (!c.inbound) kept.set(c.id, 'outbound')
    else if (c.manual) kept.set(c.id, 'manual')
    else if (c.noBan) kept.set(c.id, 'noban')
    else list.push(c)
  }
  list = protectNetgroups(list, kept)
  list = protectLast(list, byPing, EVICTION_PROTECT_PING, 'ping', kept)
  list = protectLast(list, byTx, EVICTION_PROTECT_TX, 'tx', kept)
  // As Core's code (not its comment): up to 8 of them whether or not they ever sent a block.
  list = protectLast(list, byBlockRelayOnly, EVICTION_PROTECT_BLOCK_RELAY_ONLY, 'block-relay-only', kept, (c) => !c.relayTxs && c.relevantServices)
  list = protectLast(list, byBlock, EVICTION_PROTECT_BLOCKS, 'block', kept)
  list = protectLast(list, youngerFirst, Math.floor(list.length / EVICTION_UPTIME_DIVISOR), 'uptime', kept)
  if (list.length === 0) return { evict: undefined, netgroup: undefined, protected: kept }

  // The group with the most connections left; ties go to the group whose youngest member is youngest.
  // Walking youngest first, each group's first member is its youngest (as Core's loop).
  list.sort(youngerFirst)
  const groups = new Map<string, EvictionCandidate[]>()
  let best: EvictionCandidate[] = []
  for (const c of list) {
    let g = groups.get(c.netgroup)
    if (!g) {
      g = []
      groups.set(c.netgroup, g)
    }
    g.push(c)
    if (g.length > best.length || (g.length === best.length && g[0]!.connectedAt > best[0]!.connectedAt)) best = g
  }
  const victim = best[0]!
  return { evict: victim.id, netgroup: victim.netgroup, protected: kept }
}

/** The inbound peer to evict, or undefined when every candidate is protected. */
export function selectInboundToEvict(candidates: readonly EvictionCandidate[]): number | undefined {
  return explainEviction(candidates).evict
}
