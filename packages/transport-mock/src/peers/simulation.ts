/**
 * A seeded simulation: one production `Peer` driver against many virtual
 * peers on the mock network, in virtual time.
 *
 * `new Simulation({ seed, peers: n })` builds, from the seed alone:
 * - a MockNetwork (seeded faults, a hashed trace whose data events are
 *   labelled with their P2P commands by a CommandLabeler);
 * - one SyntheticChain of real regtest blocks (coinbase plus factory
 *   transactions), shared by every virtual peer, and a few mempool
 *   transactions;
 * - n VirtualPeers listening on distinct addresses, each in its own /16
 *   (spreadHost), each knowing a few of the others' addresses for getaddr.
 *
 * The driver dials from SIM_DRIVER_HOST with `connect(i)` (a production
 * Peer on the network's connector and virtual clock) or runs the standard
 * exchange with `visit(i)`: handshake, one ping round trip, getheaders from
 * genesis, getdata for the last header's block, close. Every random draw
 * comes from forks of one SeededRandom, and every callback runs from the
 * virtual clock, so the same seed and the same calls give the same
 * `traceHash()`.
 */
import { Peer, PeerError, RequestError, SeededRandom, type ConnectOptions, type DisconnectReason, type PeerAddress } from '@bitp2p/session'
import { blockHash, InvType, ipFromString, regtest, type NetworkParams, type TimestampedNetAddress } from '@bitp2p/wire'
import { MockNetwork, type LinkOptions } from '../network.js'
import type { RunOptions, VirtualClock } from '../scheduler.js'
import type { TraceOptions } from '../trace.js'
import { SyntheticChain, TxFactory } from '../chain/index.js'
import { spreadHost } from './addresses.js'
import type { MisbehaviorTrigger, VirtualPeerBehavior } from './behavior.js'
import { CommandLabeler } from './labeler.js'
import { mempoolEntry, VIRTUAL_PEER_SERVICES, VirtualPeer, type MempoolEntry, type VirtualPeerDriverOptions } from './virtual-peer.js'

/** The host the production driver dials from (TEST-NET-1, RFC 5737: never a virtual peer's). */
export const SIM_DRIVER_HOST = '192.0.2.1'
/** Default blocks mined on top of genesis. */
export const DEFAULT_SIM_CHAIN_LENGTH = 8
/** Default transactions per block after the coinbase. */
export const DEFAULT_SIM_TXS_PER_BLOCK = 2
/** Default mempool transactions every virtual peer holds. */
export const DEFAULT_SIM_MEMPOOL_SIZE = 4
/** Default addresses of other virtual peers each one answers getaddr with. */
export const DEFAULT_SIM_ADDRESSES_PER_PEER = 8
/** Default virtual ms the driver waits for a connection to be accepted. */
export const DEFAULT_SIM_CONNECT_TIMEOUT_MS = 10_000
/** Seconds between the synthetic blocks' timestamps (regtest's target spacing). */
const BLOCK_SPACING_S = 600
/** Header time of the first synthetic block: 2024-01-01T00:00:00Z. */
const FIRST_BLOCK_TIME_S = 1_704_067_200

/** Options of a Simulation. */
export interface SimulationOptions {
  /** Seeds everything: the network, the chain, every peer's nonces. */
  readonly seed: number | string
  /** Number of virtual peers (each in its own /16). */
  readonly peers: number
  /** The link between the driver and every virtual peer (mock network defaults otherwise). */
  readonly link?: LinkOptions
  /** Behaviour of peer i: `behaviors[i]` (missing: 'honest') or `behaviors(i)`. */
  readonly behaviors?: readonly (VirtualPeerBehavior | undefined)[] | ((index: number) => VirtualPeerBehavior)
  /** When the triggered misbehaviours start. Default 'ready'. */
  readonly trigger?: MisbehaviorTrigger
  /** Network parameters. Default regtest. */
  readonly network?: NetworkParams
  readonly chainLength?: number
  readonly txsPerBlock?: number
  readonly mempoolSize?: number
  readonly addressesPerPeer?: number
  /** Label data events with P2P commands (they then enter the hash). Default true. */
  readonly label?: boolean
  /** What the trace keeps. Default `{ record: false }`: hash only. */
  readonly trace?: TraceOptions
  /** Options of every production Peer the driver opens (its `transport` is v1 unless given). */
  readonly driver?: Partial<Omit<ConnectOptions, 'connector' | 'network' | 'clock' | 'random'>>
  /** Options of the virtual peers' own drivers. */
  readonly virtualDriver?: VirtualPeerDriverOptions
  /** Connect timeout of the driver's connector, virtual ms. Default DEFAULT_SIM_CONNECT_TIMEOUT_MS. */
  readonly connectTimeout?: number
}

/** Options of `Simulation.visit`. */
export interface VisitOptions {
  /** The last step to run: 'ping' stops after the handshake and first ping. Default 'block' (every step). */
  readonly upTo?: 'ping' | 'block'
}

/** Options of `Simulation.visitAll`. */
export interface VisitAllOptions extends VisitOptions {
  /**
   * Visits in flight at once: the first `concurrency` start together and
   * each that ends starts the next (by index), so connections held at once,
   * and the memory they take, stay bounded however many peers there are.
   * Default: all at once. A positive integer.
   */
  readonly concurrency?: number
  /** Each visit's result, as it ends (results are not kept otherwise). */
  readonly onResult?: (result: VisitResult) => void
}

/** What `Simulation.visitAll` reports once every visit has ended. */
export interface VisitAllSummary {
  /** Visits run (one per virtual peer). */
  readonly visits: number
  /** Visits that ended ok. */
  readonly ok: number
  /** How many visits ended at each step ('done' for completed ones). */
  readonly byStep: Readonly<Record<VisitStep, number>>
}

/** Where a visit ended. */
export type VisitStep = 'connect' | 'ping' | 'headers' | 'block' | 'done'

/** The outcome of `Simulation.visit`. */
export interface VisitResult {
  /** Index of the virtual peer. */
  readonly peer: number
  /** True when every step completed and the driver closed the connection itself. */
  readonly ok: boolean
  /** The step that was running when the connection ended ('done' if all completed). */
  readonly step: VisitStep
  /** Round trip of the driver's first ping, virtual ms. */
  readonly rttMs?: number
  /** Headers returned by the getheaders from genesis. */
  readonly headers?: number
  /** Hash of the block fetched by getdata. */
  readonly blockHash?: Uint8Array
  /** Transactions in that block. */
  readonly blockTxs?: number
  /** Why the connection ended ('local' after a complete visit, or after a failed request that kept the peer). */
  readonly reason: DisconnectReason
  /** The request failure that ended the visit, if one did. */
  readonly failure?: RequestError['failure']
}

/** One driver against many virtual peers; see the module documentation. */
export class Simulation {
  readonly net: MockNetwork
  readonly clock: VirtualClock
  readonly network: NetworkParams
  readonly chain: SyntheticChain
  readonly peers: readonly VirtualPeer[]
  /** The mempool every virtual peer starts with. */
  readonly mempool: readonly MempoolEntry[]
  /** Labels data events with P2P commands (undefined when `label: false`). */
  readonly labeler: CommandLabeler | undefined
  readonly driverHost = SIM_DRIVER_HOST
  readonly #random: SeededRandom
  readonly #driver: SimulationOptions['driver']
  readonly #connectTimeout: number
  #dials = 0

  constructor(opts: SimulationOptions) {
    const n = opts.peers
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`Simulation: peers must be a non-negative integer, got ${n}`)
    this.#random = new SeededRandom(opts.seed)
    this.network = opts.network ?? regtest
    this.net = new MockNetwork({ seed: opts.seed, defaultLink: opts.link, trace: opts.trace ?? { record: false } })
    this.clock = this.net.clock
    this.#driver = opts.driver
    this.#connectTimeout = opts.connectTimeout ?? DEFAULT_SIM_CONNECT_TIMEOUT_MS
    if (opts.label ?? true) {
      this.labeler = new CommandLabeler(this.network.magic)
      this.net.onDeliver(this.labeler.hook)
    }

    // The chain: real blocks whose transactions spend earlier coinbases.
    this.chain = new SyntheticChain({ random: this.#random.fork('chain'), params: this.network })
    const factory = new TxFactory(this.#random.fork('txs'))
    const txsPerBlock = opts.txsPerBlock ?? DEFAULT_SIM_TXS_PER_BLOCK
    const length = opts.chainLength ?? DEFAULT_SIM_CHAIN_LENGTH
    for (let h = 1; h <= length; h++) {
      const txs = h === 1 ? [] : factory.batch(txsPerBlock)
      const b = this.chain.extend(this.chain.tip.hash, { time: FIRST_BLOCK_TIME_S + h * BLOCK_SPACING_S, txs })
      factory.fund(b.block!.txs[0]!)
    }
    // Frozen: every virtual peer then shares one index of it (see VirtualPeer).
    this.mempool = Object.freeze(factory.batch(opts.mempoolSize ?? DEFAULT_SIM_MEMPOOL_SIZE).map(mempoolEntry))

    // The peers, each in its own /16, each knowing a few others.
    const hosts = Array.from({ length: n }, (_, i) => spreadHost(i))
    const port = this.network.defaultPort
    const addrTime = this.chain.tip.header.time
    // One address entry per peer, shared by every list it is drawn into (nobody modifies them).
    const entries: readonly TimestampedNetAddress[] = hosts.map((h) => Object.freeze({ time: addrTime, services: VIRTUAL_PEER_SERVICES, host: ipFromString(h), port }))
    const pick = this.#random.fork('addresses')
    const perPeer = Math.min(opts.addressesPerPeer ?? DEFAULT_SIM_ADDRESSES_PER_PEER, Math.max(0, n - 1))
    const behaviorOf = (i: number): VirtualPeerBehavior =>
      typeof opts.behaviors === 'function' ? opts.behaviors(i) : (opts.behaviors?.[i] ?? 'honest')
    const peers: VirtualPeer[] = []
    for (let i = 0; i < n; i++) {
      const addresses: TimestampedNetAddress[] = []
      for (let k = 0; k < perPeer; k++) {
        let j = pick.int(n - 1)
        if (j >= i) j++ // never itself
        addresses.push(entries[j]!)
      }
      const p = new VirtualPeer({
        net: this.net,
        address: { host: hosts[i]!, port },
        chain: this.chain,
        random: this.#random.fork(`virtual-${i}`),
        behavior: behaviorOf(i),
        trigger: opts.trigger,
        network: this.network,
        mempool: this.mempool,
        addresses,
        driver: opts.virtualDriver,
      })
      p.listen()
      peers.push(p)
    }
    this.peers = peers
  }

  /** Current virtual time, ms. */
  now(): number {
    return this.clock.now()
  }

  /** The trace hash so far (hex SHA-256; labels included). */
  traceHash(): string {
    return this.net.traceHash()
  }

  /** Run virtual time (clock.runAsync) until idle, or as `options` say. Returns events run. */
  run(options?: RunOptions): Promise<number> {
    return this.clock.runAsync(options)
  }

  /**
   * Open a production Peer from the driver host to virtual peer `target`
   * (an index or an address) and complete the handshake. Each call draws
   * its own fork of the seed, in call order.
   */
  connect(target: number | PeerAddress, opts: Partial<Omit<ConnectOptions, 'connector' | 'network' | 'clock' | 'random'>> = {}): Promise<Peer> {
    const addr = typeof target === 'number' ? this.#peerAt(target).address : target
    const dial = this.#dials++
    return Peer.connect(addr, {
      unixTimeOffsetMs: this.chain.tip.header.time * 1000,
      // v1 unless the driver options ask for v2: its handshake is milliseconds of CPU per connection, which thousands of virtual peers feel.
      transport: 'v1',
      ...this.#driver,
      ...opts,
      network: this.network,
      clock: this.clock,
      random: this.#random.fork(`driver-${dial}`),
      connector: this.net.connector(this.driverHost, { timeout: this.#connectTimeout }),
    })
  }

  /**
   * The standard exchange with virtual peer `i`: handshake, the driver's
   * first ping round trip, getheaders from genesis, getdata (witness block)
   * for the last header returned, then a local close. Never rejects for a
   * connection that ends early: the result carries the step and the typed
   * reason. With `upTo: 'ping'` it closes after the ping.
   */
  async visit(i: number, opts: VisitOptions = {}): Promise<VisitResult> {
    let rttMs: number | undefined
    let firstRtt: Promise<number> | undefined
    let peer: Peer
    try {
      peer = await this.connect(i, {
        setup: (p) => {
          // The first ping goes out with the verack: listen before the handshake ends.
          firstRtt = new Promise<number>((resolve, reject) => {
            const onClose = (reason: DisconnectReason) => reject(new PeerError(reason))
            p.once('close', onClose)
            p.once('latency', (ms) => {
              p.off('close', onClose)
              resolve(ms)
            })
          })
          firstRtt.catch(() => undefined)
        },
      })
    } catch (e) {
      if (e instanceof PeerError) return { peer: i, ok: false, step: 'connect', reason: e.reason }
      throw e
    }
    let step: VisitStep = 'ping'
    let headers: number | undefined
    try {
      rttMs = await firstRtt!
      if (opts.upTo === 'ping') {
        step = 'done'
        peer.close('visit complete')
        return { peer: i, ok: true, step, rttMs, reason: await peer.closed }
      }
      step = 'headers'
      const hs = await peer.getHeaders([this.chain.genesis.hash])
      headers = hs.length
      if (hs.length === 0) throw new Error(`virtual peer ${i} returned no headers`)
      step = 'block'
      const hash = blockHash(hs[hs.length - 1]!)
      const data = await peer.getData([{ type: InvType.MSG_WITNESS_BLOCK, hash }])
      const found = data.found[0]?.message
      const blockTxs = found?.command === 'block' ? found.block.txs.length : undefined
      step = 'done'
      peer.close('visit complete')
      const reason = await peer.closed
      return { peer: i, ok: data.notFound.length === 0, step, rttMs, headers, blockHash: hash, blockTxs, reason }
    } catch (e) {
      if (!(e instanceof RequestError || e instanceof PeerError || peer.state === 'closed')) throw e
      const failure = e instanceof RequestError ? e.failure : undefined
      // A failed request may keep the connection (a stalled getheaders does by default): end the visit here.
      if (peer.state !== 'closed') peer.close(`visit: ${step} request ${failure?.kind ?? 'failed'}`)
      const reason = await peer.closed
      return { peer: i, ok: false, step, rttMs, headers, reason, failure }
    }
  }

  /**
   * `visit` every virtual peer, in index order, at most `concurrency` at a
   * time (see VisitAllOptions). Like `visit`, it only makes progress while
   * the clock runs: start it, then `await sim.run()`; it settles once every
   * visit has ended (a visit never rejects for a connection that ends early,
   * so this rejects only for a bug: an exception thrown inside a visit or by
   * `onResult`). The same seed and the same options give the same trace.
   */
  visitAll(opts: VisitAllOptions = {}): Promise<VisitAllSummary> {
    const total = this.peers.length
    const limit = opts.concurrency ?? Math.max(total, 1)
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`Simulation.visitAll: concurrency must be a positive integer, got ${limit}`)
    const byStep: Record<VisitStep, number> = { connect: 0, ping: 0, headers: 0, block: 0, done: 0 }
    const visitOpts: VisitOptions = { upTo: opts.upTo }
    let ok = 0
    let started = 0
    let ended = 0
    return new Promise<VisitAllSummary>((resolve, reject) => {
      let failed = false
      const next = (): void => {
        const i = started++
        this.visit(i, visitOpts).then(
          (r) => {
            if (failed) return
            byStep[r.step]++
            if (r.ok) ok++
            ended++
            try {
              opts.onResult?.(r)
            } catch (e) {
              failed = true
              reject(e)
              return
            }
            if (started < total) next()
            else if (ended === total) resolve({ visits: total, ok, byStep })
          },
          (e: unknown) => {
            if (failed) return
            failed = true
            reject(e)
          },
        )
      }
      if (total === 0) resolve({ visits: 0, ok: 0, byStep })
      for (let k = 0; k < Math.min(limit, total); k++) next()
    })
  }

  #peerAt(i: number): VirtualPeer {
    const p = this.peers[i]
    if (p === undefined) throw new RangeError(`Simulation: no virtual peer ${i} (have ${this.peers.length})`)
    return p
  }
}
