/**
 * The pool's connections: one record per live connection (dialling,
 * handshaking, ready or closing), by id and by address, with the counts
 * the slot rules read. The managers share this table; what each of them
 * keeps per peer beyond it (gossip, eviction facts, feeler results) stays
 * in the manager.
 *
 * Ids count up from 1 and are never reused, so iterating the table (a Map
 * in insertion order) goes in id order.
 */
import type { PeerAddress } from '../ports.js'
import { retryKey } from './backoff.js'
import { groupToString, isValidEndpoint, nameGroup, netGroup, toEndpoint, type Endpoint } from './netgroup.js'
import type { PoolCounts, PoolPeerState, SlotType } from './types.js'

/** One live connection of the pool. */
export interface PoolPeer {
  readonly id: number
  readonly addr: PeerAddress
  /** retryKey(addr): the address as the backoff and the table know it. */
  readonly key: string
  /** The address as an IP endpoint (undefined for a name). */
  readonly endpoint: Endpoint | undefined
  /** Printable network group. */
  readonly group: string
  readonly slot: SlotType
  state: PoolPeerState
  /** Completed its handshake (it may be closing since). */
  wasReady: boolean
  /** From the peer's version message (0 before ready). */
  services: bigint
}

/** The live connections (see the module comment). */
export class PeerTable {
  readonly #peers = new Map<number, PoolPeer>()
  /** retryKey -> peer id, for every live peer. */
  readonly #byKey = new Map<string, number>()
  #nextId = 1

  /** A new connection to or from `addr`. */
  add(addr: PeerAddress, slot: SlotType, state: PoolPeerState): PoolPeer {
    const ep = toEndpoint(addr)
    const endpoint = ep && isValidEndpoint(ep) ? ep : undefined
    const p: PoolPeer = {
      id: this.#nextId++,
      addr,
      key: retryKey(addr),
      endpoint,
      group: groupToString(endpoint ? netGroup(endpoint) : nameGroup(addr.host)),
      slot,
      state,
      wasReady: false,
      services: 0n,
    }
    this.#peers.set(p.id, p)
    this.#byKey.set(p.key, p.id)
    return p
  }

  /** Forget `p` (its address stays taken when a newer connection holds it). */
  delete(p: PoolPeer): void {
    this.#peers.delete(p.id)
    if (this.#byKey.get(p.key) === p.id) this.#byKey.delete(p.key)
  }

  /** The connection `id`, if live. */
  get(id: number): PoolPeer | undefined {
    return this.#peers.get(id)
  }

  /** Is a live connection on `key` (a retryKey)? */
  hasKey(key: string): boolean {
    return this.#byKey.has(key)
  }

  /** Live connections, feelers and closing ones included. */
  get size(): number {
    return this.#peers.size
  }

  /** Every live connection, in id order. */
  values(): IterableIterator<PoolPeer> {
    return this.#peers.values()
  }

  /** Connections in `slot`, whatever their state. */
  slotCount(slot: SlotType): number {
    let n = 0
    for (const p of this.#peers.values()) if (p.slot === slot) n++
    return n
  }

  /** Network groups of the outbound slots (feelers hold none: they are exempt from the one-per-group rule, as in Core). */
  outboundGroups(): Set<string> {
    const s = new Set<string>()
    for (const p of this.#peers.values()) if (p.slot !== 'inbound' && p.slot !== 'feeler') s.add(p.group)
    return s
  }

  /** Ids of ready peers, in id order. */
  readyIds(): number[] {
    const out: number[] = []
    for (const p of this.#peers.values()) if (p.state === 'ready') out.push(p.id)
    return out
  }

  /** Connections by state and by slot. */
  counts(): PoolCounts {
    let connecting = 0
    let handshaking = 0
    let ready = 0
    let closing = 0
    let inbound = 0
    let fullRelay = 0
    let limited = 0
    let feeler = 0
    for (const p of this.#peers.values()) {
      if (p.state === 'connecting') connecting++
      else if (p.state === 'handshaking') handshaking++
      else if (p.state === 'ready') ready++
      else closing++
      if (p.slot === 'inbound') inbound++
      else if (p.slot === 'full-relay') fullRelay++
      else if (p.slot === 'limited') limited++
      else feeler++
    }
    return { connecting, handshaking, ready, closing, outbound: fullRelay + limited, inbound, fullRelay, limited, feeler, total: this.#peers.size }
  }
}
