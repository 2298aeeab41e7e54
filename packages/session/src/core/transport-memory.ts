/**
 * TransportMemory: peers known to speak only v1 (their BIP324 v2 handshake
 * was refused or garbled), so a 'v2-first' connect goes straight to v1 next
 * time. A Pool keeps one; give one to Peer.connect to get the same.
 */
import { formatPeerAddress } from './peer-address.js'
import type { PeerAddress } from './ports.js'

/** Largest number of peers a TransportMemory remembers (the oldest is forgotten first). */
export const TRANSPORT_MEMORY_SIZE = 10_000

/**
 * Peers known to speak only v1 (their v2 handshake was refused or garbled),
 * by "host:port", so a 'v2-first' connect goes straight to v1 next time.
 * Bounded: the oldest entries are forgotten past TRANSPORT_MEMORY_SIZE.
 */
export class TransportMemory {
  readonly #v1 = new Set<string>()
  readonly #limit: number

  constructor(limit = TRANSPORT_MEMORY_SIZE) {
    this.#limit = limit
  }

  /** True when `addr` is known to speak only v1. */
  isV1Only(addr: PeerAddress): boolean {
    return this.#v1.has(formatPeerAddress(addr))
  }

  /** Remember that `addr` speaks only v1. */
  rememberV1Only(addr: PeerAddress): void {
    const k = formatPeerAddress(addr)
    this.#v1.delete(k)
    this.#v1.add(k)
    if (this.#v1.size > this.#limit) this.#v1.delete(this.#v1.values().next().value!)
  }

  /** Forget what is known of `addr` (it may have been upgraded). */
  forget(addr: PeerAddress): void {
    this.#v1.delete(formatPeerAddress(addr))
  }

  /** Peers remembered. */
  get size(): number {
    return this.#v1.size
  }
}

