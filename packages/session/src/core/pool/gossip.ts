/**
 * Address gossip (addr relay), after Core's PeerManager: what the pool asks
 * of its peers' address books and what it takes from them.
 *
 *   inputs   added(now, peerId)  ready(now, peerId, addrv2)  askAddresses(now, peerId)
 *            removed(peerId)
 *            message(now, peerId, ..., msg)   (addr, addrv2, getaddr)
 *   outputs  send(getaddr | addr | addrv2), 'addr' events
 *
 * Rules:
 *  - getaddr once to each outbound peer, when it is ready; the answer it
 *    earns is granted up front in the peer's rate limiter (Core does so);
 *  - addr/addrv2 entries pass a per-peer token bucket (addr-rate.ts); the
 *    accepted ones go to the address book with the peer as their source;
 *  - a getaddr is answered for inbound peers only, once per connection
 *    (Core), from the book's getAddr sample, as addrv2 when the peer sent
 *    sendaddrv2, else as addr (entries addr cannot carry are left out).
 */
import type { Message, TimestampedNetAddress } from '@bitp2p/wire'
import type { AddrV2Entry } from '@bitp2p/wire/messages'
import type { PeerAddress } from '../ports.js'
import { AddrRateLimiter, type AddrRateOptions } from './addr-rate.js'
import type { AddressBook } from './addrman.js'
import { endpointToAddrV2, endpointToNetAddress, type Endpoint } from './netgroup.js'
import type { PoolOutbox } from './outbox.js'

/** What gossip keeps per connection. */
interface GossipRec {
  readonly rate: AddrRateLimiter
  /** The peer sent sendaddrv2 (known once ready). */
  addrv2: boolean
  getaddrSent: boolean
  getaddrAnswered: boolean
  addrsLearned: number
}

/** Addr relay with the pool's peers (see the module comment). */
export class AddrRelay {
  readonly #out: PoolOutbox
  readonly #book: AddressBook
  readonly #unix: (now: number) => number
  readonly #rate: AddrRateOptions | undefined
  readonly #peers = new Map<number, GossipRec>()

  /** `unix` turns driver ms into the book's Unix seconds; `rate` is the per-peer limit (Core's by default). */
  constructor(out: PoolOutbox, book: AddressBook, unix: (now: number) => number, rate?: AddrRateOptions) {
    this.#out = out
    this.#book = book
    this.#unix = unix
    this.#rate = rate
  }

  /** A connection to `peerId` began (its rate limiter starts with one token). */
  added(now: number, peerId: number): void {
    this.#peers.set(peerId, { rate: new AddrRateLimiter(now, this.#rate), addrv2: false, getaddrSent: false, getaddrAnswered: false, addrsLearned: 0 })
  }

  /** `peerId` is gone. */
  removed(peerId: number): void {
    this.#peers.delete(peerId)
  }

  /** Addresses accepted from `peerId`'s gossip. */
  learned(peerId: number): number {
    return this.#peers.get(peerId)?.addrsLearned ?? 0
  }

  /** Addresses of `peerId`'s gossip dropped by the rate limit. */
  dropped(peerId: number): number {
    return this.#peers.get(peerId)?.rate.dropped ?? 0
  }

  /** `peerId` completed its handshake; `addrv2`: it asked for addrv2 (sendaddrv2). */
  ready(now: number, peerId: number, addrv2: boolean): void {
    const g = this.#peers.get(peerId)
    if (g) g.addrv2 = addrv2
    void now
  }

  /** Ask (outbound) `peerId` for addresses: once per connection, with room granted for the answer. */
  askAddresses(now: number, peerId: number): void {
    const g = this.#peers.get(peerId)
    if (!g || g.getaddrSent) return
    g.getaddrSent = true
    g.rate.grant(now)
    this.#out.act({ type: 'send', peerId, message: { command: 'getaddr' } })
  }

  /**
   * A message from ready `peerId` (`source`: its address, for the book;
   * `inbound`: its direction). Returns how many addresses were new to the
   * book (the pool may then fill its slots); other commands are ignored.
   */
  message(now: number, peerId: number, source: Endpoint | PeerAddress, inbound: boolean, msg: Message): number {
    const g = this.#peers.get(peerId)
    if (!g) return 0
    switch (msg.command) {
      case 'addr':
      case 'addrv2': {
        const all = msg.addresses as readonly (TimestampedNetAddress | AddrV2Entry)[]
        const n = g.rate.take(now, all.length)
        const added = n > 0 ? this.#book.add(all.slice(0, n), source, this.#unix(now)) : 0
        g.addrsLearned += n
        this.#out.event({ type: 'addr', peerId, received: all.length, accepted: n, added })
        return added
      }
      case 'getaddr': {
        // Core answers inbound peers only, once per connection.
        if (!inbound || g.getaddrAnswered) return 0
        g.getaddrAnswered = true
        const entries = this.#book.getAddr({ now: this.#unix(now) })
        if (g.addrv2) {
          this.#out.act({ type: 'send', peerId, message: { command: 'addrv2', addresses: entries.map((e) => endpointToAddrV2(e.addr, e.services, e.time)), skipped: 0 } })
        } else {
          const addresses: TimestampedNetAddress[] = []
          for (const e of entries) {
            const a = endpointToNetAddress(e.addr, e.services, e.time)
            if (a) addresses.push(a)
          }
          this.#out.act({ type: 'send', peerId, message: { command: 'addr', addresses } })
        }
        return 0
      }
      default:
        return 0
    }
  }
}
