// Shared parts for the pool managers' tests: one outbox, one peer table and
// the address book, ban list and backoff the managers read, all seeded.
import { SeededRandom } from '../../../src/core/random.js'
import { AddressBook } from '../../../src/core/pool/addrman.js'
import { RetryTracker } from '../../../src/core/pool/backoff.js'
import { BanList } from '../../../src/core/pool/banlist.js'
import { PoolOutbox } from '../../../src/core/pool/outbox.js'
import { PeerTable, type PoolPeer } from '../../../src/core/pool/peers.js'
import type { PoolAction, PoolEvent, PoolPeerInfo } from '../../../src/core/pool/types.js'

/** Unix ms at driver time 0 (the book and ban list keep Unix seconds). */
export const UNIX0 = 1_750_000_000_000

/** Driver ms to the book's Unix seconds. */
export const unix = (now: number): number => Math.floor((now + UNIX0) / 1000)

/** Everything queued so far, oldest first. */
export function drainOut(out: PoolOutbox): PoolAction[] {
  const acts: PoolAction[] = []
  for (let a = out.poll(); a; a = out.poll()) acts.push(a)
  return acts
}

/** The events among `acts`. */
export function eventsOf(acts: readonly PoolAction[]): PoolEvent[] {
  return acts.flatMap((a) => (a.type === 'event' ? [a.event] : []))
}

/** The public view of `p`, as the pool gives it (no requests, no gossip). */
export function viewOf(p: PoolPeer): PoolPeerInfo {
  return { id: p.id, addr: p.addr, slot: p.slot, direction: p.slot === 'inbound' ? 'inbound' : 'outbound', group: p.group, state: p.state, services: p.services, inflight: 0, addrsLearned: 0, addrsDropped: 0 }
}

/** A fresh, seeded world for one manager. */
export function world(seed = 'pool-manager') {
  const random = new SeededRandom(seed)
  return {
    random,
    out: new PoolOutbox(),
    peers: new PeerTable(),
    book: new AddressBook({ random }),
    bans: new BanList(),
    retry: new RetryTracker({ random, policy: { base: 1_000, cap: 600_000, factor: 2, maxAttempts: 10, jitter: 'none' }, forgetAfter: 24 * 3600_000 }),
  }
}
