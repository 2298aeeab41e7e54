/**
 * Where addresses come from besides gossip: the fixed seeds given at
 * construction, addresses the user or a DNS seed lookup adds, and the DNS
 * seeds themselves (Core's ThreadDNSAddressSeed).
 *
 *   inputs   start(now)  stop()  timeout(now, readyOutbound)  add(now, entries, source)
 *   outputs  resolve(host, port)
 *   timer    nextDeadline(): the delayed DNS seed check
 *
 * Rules: fixed seeds enter the book with the full-relay services and no
 * time penalty. DNS seeds are asked at start when the book is empty;
 * otherwise, after DNS_SEED_DELAY_MS, only when fewer than
 * DNS_SEED_MIN_OUTBOUND outbound peers are ready by then. Plain addresses
 * added later get the full-relay services and the current time.
 */
import type { PeerAddress } from '../ports.js'
import type { AddressBook, AddressInput } from './addrman.js'
import type { PoolOutbox } from './outbox.js'

/** Core queries DNS seeds after 11 s when the address book was not empty, if still short of peers. */
export const DNS_SEED_DELAY_MS = 11_000
/** ...short meaning fewer than this many outbound peers ready (Core: 2). */
export const DNS_SEED_MIN_OUTBOUND = 2
/** The source the book records for fixed seeds. */
const FIXED_SEEDS_SOURCE: PeerAddress = { host: 'fixed-seeds', port: 0 }

/** Settings of address sourcing. */
export interface SeedsConfig {
  /** Addresses added to the book at construction (IP literals). */
  readonly seeds: readonly PeerAddress[]
  /** DNS seed names. */
  readonly dnsSeeds: readonly string[]
  /** Port of addresses from DNS seeds. */
  readonly defaultPort: number
  /** Services assumed of an address given without any. */
  readonly services: bigint
}

/** Fixed seeds, DNS seeds and user-given addresses (see the module comment). */
export class AddressSources {
  readonly #out: PoolOutbox
  readonly #book: AddressBook
  readonly #unix: (now: number) => number
  readonly #config: SeedsConfig
  #dnsAt: number | undefined

  /** Adds the fixed seeds to `book` (at driver time 0). */
  constructor(out: PoolOutbox, book: AddressBook, unix: (now: number) => number, config: SeedsConfig) {
    this.#out = out
    this.#book = book
    this.#unix = unix
    this.#config = config
    if (config.seeds.length > 0) {
      const t = unix(0)
      book.add(
        config.seeds.map((addr) => ({ addr, services: config.services, time: t })),
        FIXED_SEEDS_SOURCE,
        t,
        { timePenalty: 0 },
      )
    }
  }

  /** When the delayed DNS seed check is due. */
  nextDeadline(): number | undefined {
    return this.#dnsAt
  }

  /** Ask the DNS seeds now when the book is empty, else look again after DNS_SEED_DELAY_MS. */
  start(now: number): void {
    if (this.#config.dnsSeeds.length === 0) return
    if (this.#book.size === 0) this.#resolve()
    else this.#dnsAt = now + DNS_SEED_DELAY_MS
  }

  /** No more DNS seed checks. */
  stop(): void {
    this.#dnsAt = undefined
  }

  /** The delayed check: ask the DNS seeds when `readyOutbound()` is still short of DNS_SEED_MIN_OUTBOUND. */
  timeout(now: number, readyOutbound: () => number): void {
    if (this.#dnsAt === undefined || now < this.#dnsAt) return
    this.#dnsAt = undefined
    if (readyOutbound() < DNS_SEED_MIN_OUTBOUND) this.#resolve()
  }

  /** Add `entries` to the book (plain addresses get the full-relay services and `now`); returns how many were new. */
  add(now: number, entries: readonly (PeerAddress | AddressInput)[], source: PeerAddress): number {
    const t = this.#unix(now)
    const inputs: AddressInput[] = entries.map((e) => ('services' in e ? e : { addr: e, services: this.#config.services, time: t }))
    return this.#book.add(inputs, source, t, { timePenalty: 0 })
  }

  #resolve(): void {
    for (const host of this.#config.dnsSeeds) this.#out.act({ type: 'resolve', host, port: this.#config.defaultPort })
  }
}
