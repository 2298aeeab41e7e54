/**
 * Bans and inbound admission, with eviction (Core's BanMan and
 * AttemptToEvictConnection).
 *
 *   inputs   ban(now, addr, ms, reason)  admit(now, remote)  admitted(now, peer)
 *            ready(peerId, relay)  latency / relayed(now, peerId, ...)  removed(peerId)
 *   outputs  'ban' and 'evicted' events; closes (through its port) the
 *            peers of a banned host and the evicted peer
 *
 * Rules:
 *  - a ban holds the host in the ban list and its backoff for the ban's
 *    time, and closes every live peer on the host (a 'banned' disconnect);
 *  - an inbound connection from a banned host is refused;
 *  - inbound slots full (or the pool at its cap): eviction on, one inbound
 *    peer chosen by eviction.ts (Core's SelectNodeToEvict) is closed
 *    (an 'evicted' disconnect) to make room; when every inbound peer is protected,
 *    or eviction is off, the newcomer is refused. Inbound peers already
 *    closing do not count (they leave as soon as the driver closes their
 *    transport); closing outbound attempts still do (an abort can take a
 *    while);
 *  - eviction decides on facts kept per inbound peer: connection time, the
 *    best ping, the last useful block and transaction, whether it relays
 *    transactions, its services, and the keyed hash of its network group
 *    (the key is drawn from the injected Random at the first eviction).
 */
import { hasServices } from '@bitp2p/wire'
import { sha256 } from '@bitp2p/wire/hash'
import type { DisconnectReason } from '../fsm/reasons.js'
import type { PeerAddress, Random } from '../ports.js'
import type { RetryTracker } from './backoff.js'
import type { BanList } from './banlist.js'
import { explainEviction, type EvictionCandidate, type EvictionDecision } from './eviction.js'
import { hostKey, isValidEndpoint, toEndpoint, type Endpoint } from './netgroup.js'
import type { PoolOutbox } from './outbox.js'
import type { PeerTable, PoolPeer } from './peers.js'
import type { PoolPeerInfo } from './types.js'

/** Bytes of the secret key of the keyed network-group hash (eviction step 1). */
const EVICTION_KEY_BYTES = 32
const UTF8 = new TextEncoder()

/** Settings of admission. */
export interface AdmissionConfig {
  readonly maxInbound: number
  readonly maxPeers: number
  /** Evict an inbound peer to make room for a new one. */
  readonly evictInbound: boolean
  /** Inbound peers from addresses for which this returns true are never evicted. */
  readonly noEvict: ((remote: PeerAddress) => boolean) | undefined
  /** Services that make an inbound peer relevant (full-relay or limited). */
  readonly fullServices: bigint
  readonly limitedServices: bigint
}

/** What admission asks of the pool. */
export interface AdmissionPorts {
  /** Close `peer` with `reason`. */
  close(now: number, peer: PoolPeer, reason: DisconnectReason): void
  /** The public view of `peer` (for the 'evicted' event). */
  view(peer: PoolPeer): PoolPeerInfo
}

/** What eviction knows of one inbound peer (driver ms; 0 = never). */
interface EvictionFacts {
  readonly connectedAt: number
  minPingMs: number | undefined
  lastBlockAt: number
  lastTxAt: number
  relayTxs: boolean
  readonly noEvict: boolean
}

/** Bans, inbound admission and eviction (see the module comment). */
export class Admission {
  readonly #out: PoolOutbox
  readonly #peers: PeerTable
  readonly #bans: BanList
  readonly #retry: RetryTracker
  readonly #random: Random
  readonly #unix: (now: number) => number
  readonly #config: AdmissionConfig
  readonly #ports: AdmissionPorts
  /** Eviction facts of live inbound peers, by id. */
  readonly #facts = new Map<number, EvictionFacts>()
  /** Secret key of the keyed group hash; drawn at the first eviction (so pools that never evict draw nothing). */
  #evictionKey: Uint8Array | undefined

  constructor(out: PoolOutbox, peers: PeerTable, bans: BanList, retry: RetryTracker, random: Random, unix: (now: number) => number, config: AdmissionConfig, ports: AdmissionPorts) {
    this.#out = out
    this.#peers = peers
    this.#bans = bans
    this.#retry = retry
    this.#random = random
    this.#unix = unix
    this.#config = config
    this.#ports = ports
  }

  /** Ban `ep`'s host until `durationMs` from now and close its peers. Returns the Unix-seconds expiry. */
  ban(now: number, ep: Endpoint, durationMs: number, reason: string): number {
    const nowS = this.#unix(now)
    const until = nowS + Math.ceil(durationMs / 1000)
    this.#bans.ban(ep, until, reason, nowS)
    this.#retry.holdUntil(ep, now + durationMs, now)
    const host = hostKey(ep)
    this.#out.event({ type: 'ban', host, until, reason })
    for (const p of this.#peers.values()) {
      if (p.endpoint && p.state !== 'closing' && hostKey(p.endpoint) === host) this.#ports.close(now, p, { kind: 'banned', reason })
    }
    return until
  }

  /** True when `addr` is banned at `now`. */
  isBanned(now: number, addr: PeerAddress | Endpoint): boolean {
    const ep = toEndpoint(addr)
    return ep !== undefined && isValidEndpoint(ep) && this.#bans.isBanned(ep, this.#unix(now))
  }

  /**
   * May an inbound connection from `remote` be taken? Refused (false) when
   * banned, or when the slots are full and nobody may be evicted; with
   * eviction on and the slots full, the victim is closed first.
   */
  admit(now: number, remote: PeerAddress): boolean {
    if (this.isBanned(now, remote)) return false
    let inbound = 0
    let occupied = 0
    for (const p of this.#peers.values()) {
      if (p.slot !== 'inbound') occupied++
      else if (p.state !== 'closing') {
        occupied++
        inbound++
      }
    }
    if (inbound >= this.#config.maxInbound || occupied >= this.#config.maxPeers) {
      if (!this.#config.evictInbound) return false
      const victim = this.decision().evict
      if (victim === undefined) return false
      const p = this.#peers.get(victim)!
      this.#ports.close(now, p, { kind: 'evicted' })
      this.#out.event({ type: 'evicted', peer: this.#ports.view(p), by: remote })
    }
    return true
  }

  /** Inbound `peer` was taken: eviction starts keeping its facts. */
  admitted(now: number, peer: PoolPeer): void {
    const noEvict = this.#config.noEvict !== undefined && this.#config.noEvict(peer.addr)
    this.#facts.set(peer.id, { connectedAt: now, minPingMs: undefined, lastBlockAt: 0, lastTxAt: 0, relayTxs: false, noEvict })
  }

  /** `peerId` completed its handshake; `relay`: it asked for transactions (its version's relay flag). */
  ready(peerId: number, relay: boolean): void {
    const f = this.#facts.get(peerId)
    if (f) f.relayTxs = relay
  }

  /** A ping round trip of `peerId` (ms); eviction keeps the minimum. */
  latency(now: number, peerId: number, rttMs: number): void {
    const f = this.#facts.get(peerId)
    if (f && Number.isFinite(rttMs) && rttMs >= 0 && (f.minPingMs === undefined || rttMs < f.minPingMs)) f.minPingMs = rttMs
    void now
  }

  /** `peerId` brought us a useful transaction or block at `now`. */
  relayed(now: number, peerId: number, kind: 'tx' | 'block'): void {
    const f = this.#facts.get(peerId)
    if (!f) return
    if (kind === 'tx') f.lastTxAt = now
    else f.lastBlockAt = now
  }

  /** `peerId` is gone. */
  removed(peerId: number): void {
    this.#facts.delete(peerId)
  }

  /** The facts eviction.ts decides on, for every live inbound peer (id order). */
  candidates(): EvictionCandidate[] {
    const out: EvictionCandidate[] = []
    for (const p of this.#peers.values()) {
      if (p.slot !== 'inbound' || p.state === 'closing') continue
      const f = this.#facts.get(p.id)!
      out.push({
        id: p.id,
        netgroup: p.group,
        keyedNetgroup: this.#keyedGroup(p.group),
        connectedAt: f.connectedAt,
        minPingMs: f.minPingMs,
        lastBlockAt: f.lastBlockAt,
        lastTxAt: f.lastTxAt,
        relayTxs: f.relayTxs,
        relevantServices: hasServices(p.services, this.#config.fullServices) || hasServices(p.services, this.#config.limitedServices),
        inbound: true,
        noBan: f.noEvict,
        manual: false,
      })
    }
    return out
  }

  /** Which inbound peer a newcomer would evict now, and why the others are kept. */
  decision(): EvictionDecision {
    return explainEviction(this.candidates())
  }

  /** Core's nKeyedNetGroup: 48 bits of SHA-256(secret key || group), so outsiders cannot tell which groups step 1 keeps. */
  #keyedGroup(group: string): number {
    if (!this.#evictionKey) {
      const key = new Uint8Array(EVICTION_KEY_BYTES)
      const dv = new DataView(key.buffer)
      for (let i = 0; i < EVICTION_KEY_BYTES; i += 4) dv.setUint32(i, this.#random.u32(), true)
      this.#evictionKey = key
    }
    const g = UTF8.encode(group)
    const buf = new Uint8Array(EVICTION_KEY_BYTES + g.length)
    buf.set(this.#evictionKey)
    buf.set(g, EVICTION_KEY_BYTES)
    const d = sha256(buf)
    return d[0]! * 2 ** 40 + d[1]! * 2 ** 32 + ((d[2]! << 24) >>> 0) + (d[3]! << 16) + (d[4]! << 8) + d[5]!
  }
}
