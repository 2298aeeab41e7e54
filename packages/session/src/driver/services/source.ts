/**
 * PeerSource: where the services (header sync, mempool monitor,
 * broadcaster, block fetcher) get their peers.
 *
 * The services never open or choose connections themselves. They ask a
 * source for the ready peers it holds, hear when one joins or leaves, and
 * hand back a peer that served invalid data. A Pool implements this for
 * many managed connections; `PeerList` (below) is the small in-memory
 * source for one peer (`singlePeer`) or a fixed handful, e.g. in tests.
 *
 * The contract:
 *  - `peers()` lists the ready peers now, in a stable order (the source's);
 *    a service may iterate it and attach listeners;
 *  - 'peer' fires for every peer that becomes ready after the service
 *    subscribed, 'peer-closed' once for every listed peer that closes;
 *  - `pick` chooses one peer for a job among those passing `filter` and not
 *    in `exclude` (a Pool may prefer fast or diverse peers; PeerList takes
 *    the first in order);
 *  - `drop(peer, offense)` reports a peer that served invalid data: the
 *    source must stop offering it and close it. A Pool also scores or bans
 *    its address.
 */
import { EventEmitter } from 'eventemitter3'
import type { WireError } from '@bitp2p/wire'
import type { Offense } from '../../core/fsm/misbehavior.js'
import type { DisconnectReason } from '../../core/fsm/reasons.js'
import { formatPeerAddress } from '../../core/peer-address.js'
import type { Peer } from '../peer.js'

/** Events of a PeerSource. */
export interface PeerSourceEvents {
  /** A peer became ready (after the listener was attached). */
  peer: [peer: Peer]
  /** A listed peer closed; it is no longer in peers(). */
  'peer-closed': [peer: Peer, reason: DisconnectReason]
}

/** What a service wants of the peer it picks. */
export interface PickOptions {
  /** Peers not to pick (e.g. ones that just failed this job). */
  readonly exclude?: ReadonlySet<Peer>
  /** Only peers for which this returns true. */
  readonly filter?: (peer: Peer) => boolean
}

/** Invalid data a service found a peer serving: the reason to drop it (an Offense scored 100). */
export type ServiceOffense = Extract<Offense, { kind: 'invalid-header' | 'invalid-block' | 'invalid-filter' | 'invalid-compact-block' }>

/** The peers the services run on; see the module comment. */
export interface PeerSource {
  /** Ready peers now, in the source's order. */
  peers(): readonly Peer[]
  /** One ready peer for a job, or undefined when none qualifies. */
  pick(opts?: PickOptions): Peer | undefined
  /** Report a peer that served invalid data: it is closed and not offered again. */
  drop(peer: Peer, offense: ServiceOffense): void
  /** Call `cb` on each `event` (see PeerSourceEvents) until `off`; EventEmitter semantics. */
  on<E extends keyof PeerSourceEvents>(event: E, cb: (...args: PeerSourceEvents[E]) => void): unknown
  /** Stop calling `cb` (the same function given to `on`) for `event`. */
  off<E extends keyof PeerSourceEvents>(event: E, cb: (...args: PeerSourceEvents[E]) => void): unknown
}

/** One line for logs and close reasons, e.g. "invalid-header: bad-pow". */
export function describeServiceOffense(o: ServiceOffense): string {
  switch (o.kind) {
    case 'invalid-header':
      return `invalid-header: ${o.error.kind}`
    case 'invalid-block':
      return `invalid-block: ${o.hash} ${o.error.code}`
    case 'invalid-filter':
      return `invalid-filter: block ${o.hash} at height ${o.height}: ${o.detail}`
    case 'invalid-compact-block':
      return `invalid-compact-block: ${o.hash} ${o.detail}`
  }
}

/**
 * Attach a service to a source: `onPeer` runs for every peer ready now and
 * for each one that becomes ready later, `onClosed` for each listed peer
 * that closes. Returns the function that stops listening (it does not
 * call `onClosed`: the service detaches what it holds itself).
 */
export function watchPeers(
  source: PeerSource,
  onPeer: (peer: Peer) => void,
  onClosed: (peer: Peer, reason: DisconnectReason) => void,
): () => void {
  for (const p of source.peers()) onPeer(p)
  source.on('peer', onPeer)
  source.on('peer-closed', onClosed)
  return () => {
    source.off('peer', onPeer)
    source.off('peer-closed', onClosed)
  }
}

/** "host:port" of a peer, the name the services report peers by: `formatPeerAddress(peer.remote)`. */
export function peerLabel(peer: Peer): string {
  return formatPeerAddress(peer.remote)
}

/**
 * A PeerSource over peers the caller connected: no dialing, no
 * replacement. Closed peers leave the list; `add` lists another one.
 *
 * Dropping a peer punishes it with the offense (Peer.punish): it scores
 * 100, so the peer closes as 'misbehaving' and leaves the list.
 */
export class PeerList extends EventEmitter<PeerSourceEvents> implements PeerSource {
  private readonly list: Peer[] = []

  constructor(peers: readonly Peer[] = []) {
    super()
    for (const p of peers) this.add(p)
  }

  /** List a ready peer ('peer' fires). A closed or already listed peer is ignored. */
  add(peer: Peer): void {
    if (this.list.includes(peer) || peer.state !== 'ready') return
    this.list.push(peer)
    peer.once('close', (reason) => {
      const i = this.list.indexOf(peer)
      if (i < 0) return
      this.list.splice(i, 1)
      this.emit('peer-closed', peer, reason)
    })
    this.emit('peer', peer)
  }

  peers(): readonly Peer[] {
    return this.list.slice()
  }

  pick(opts: PickOptions = {}): Peer | undefined {
    for (const p of this.list) {
      if (opts.exclude?.has(p)) continue
      if (opts.filter && !opts.filter(p)) continue
      return p
    }
    return undefined
  }

  drop(peer: Peer, offense: ServiceOffense): void {
    peer.punish(offense)
  }
}

/** A PeerSource of exactly one peer, for services run on a single connection. */
export function singlePeer(peer: Peer): PeerList {
  return new PeerList([peer])
}
