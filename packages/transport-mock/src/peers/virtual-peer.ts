/**
 * A virtual Bitcoin node on the mock network.
 *
 * A VirtualPeer speaks the real protocol with the production driver: every
 * connection it accepts (or dials) runs `Peer` from @bitp2p/session, with
 * the same PeerMachine, handshake, pinger and MessageDecoder a real client
 * uses (design rule 8: the simulation reuses the production driver). On top
 * of the driver it serves what a full node serves:
 *
 * - getheaders: the headers `SyntheticChain.locate` picks (Core's rules);
 * - getdata: blocks from the chain (without witnesses for MSG_BLOCK, with
 *   for MSG_WITNESS_BLOCK), transactions from its mempool (by txid, or by
 *   wtxid for MSG_WTX), and one `notfound` for the rest, after the objects;
 * - getaddr: its address list, as addrv2 to a peer that sent sendaddrv2,
 *   else as addr (at most MAX_ADDR_TO_SEND);
 * - mempool: an inv of its mempool;
 * - ping: answered by the driver itself.
 *
 * It announces blocks (headers to a peer that sent sendheaders, else inv),
 * transactions (inv by wtxid to wtxidrelay peers, else by txid; only to
 * peers whose version asked for relay) and gossips addresses.
 *
 * The `behavior` option makes it misbehave; see behavior.ts for each mode.
 * Everything runs on the network's virtual clock and the given seeded
 * random source, so a simulation with the same seed replays exactly.
 */
import { Peer, type Connector, type PeerAddress, type PeerOptions, type Random, type Transport } from '@bitp2p/session'
import { MAX_BLOCKS_TO_ANNOUNCE } from '@bitp2p/session/limits'
import { v2 } from '@bitp2p/session/v2'
import {
  BIP155Network,
  blockHash,
  InvType,
  MSG_WITNESS_FLAG,
  Services,
  toHex,
  txid,
  wtxid,
  type Block,
  type BlockHeader,
  type InvItem,
  type KnownMessage,
  type MessageOf,
  type NetworkParams,
  type TimestampedNetAddress,
  type Transaction,
} from '@bitp2p/wire'
import { isIPv4Mapped } from '@bitp2p/wire/codecs'
import { MAX_ADDR_TO_SEND, MAX_INV_SIZE } from '@bitp2p/wire/limits'
import { type AddrV2Entry } from '@bitp2p/wire/messages'
import type { MockListener, MockNetwork } from '../network.js'
import type { SyntheticBlock, SyntheticChain } from '../chain/index.js'
import {
  addrFloodFrame,
  BehaviorTransport,
  FLOOD_MESSAGES,
  invFloodFrame,
  isTriggered,
  NON_CONNECTING_REPLIES,
  TX_FLOOD_INTERVAL_MS,
  TX_FLOOD_MAX_BUFFERED,
  TX_FLOOD_MESSAGES,
  txFloodFrame,
  type MisbehaviorTrigger,
  type VirtualPeerBehavior,
} from './behavior.js'

/** The user agent virtual peers announce. */
export const VIRTUAL_PEER_USER_AGENT = '/bitp2p-virtual:0.1.0/'
/** Services virtual peers announce: a full, segwit-serving node. */
export const VIRTUAL_PEER_SERVICES = Services.NODE_NETWORK | Services.NODE_WITNESS

/** How long a slowloris peer waits for anything (a virtual day). */
export const SLOWLORIS_PATIENCE_MS = 24 * 60 * 60_000
const SLOWLORIS_PING = Object.freeze({ intervalMs: SLOWLORIS_PATIENCE_MS, pongIdleTimeoutMs: SLOWLORIS_PATIENCE_MS, pongTimeoutMs: SLOWLORIS_PATIENCE_MS })

/** Driver options a virtual peer lets you set (the rest it sets itself). */
export type VirtualPeerDriverOptions = Partial<Omit<PeerOptions, 'network' | 'clock' | 'random' | 'setup' | 'signal' | 'unixTimeOffsetMs'>>

/** Options of a VirtualPeer. */
export interface VirtualPeerOptions {
  /** The network it lives on (its clock drives the peer). */
  readonly net: MockNetwork
  /** Where it listens, and the host it dials from. */
  readonly address: PeerAddress
  /** The blocks it serves (may be shared between peers; it is only read, except by announceBlock's caller). */
  readonly chain: SyntheticChain
  /** Seeded source of its nonces and of the misbehaving modes' noise. */
  readonly random: Random
  /** Default 'honest'. */
  readonly behavior?: VirtualPeerBehavior
  /** When the triggered modes start (see behavior.ts). Default 'ready'. */
  readonly trigger?: MisbehaviorTrigger
  /** Network parameters; default the chain's. */
  readonly network?: NetworkParams
  /** Transactions it holds at start (entries from `mempoolEntry` skip rehashing when many peers share them). */
  readonly mempool?: Iterable<Transaction | MempoolEntry>
  /** Addresses it answers getaddr with. */
  readonly addresses?: readonly TimestampedNetAddress[]
  /** Unix ms = clock.now() + this, for version timestamps and addr times. Default: the chain tip's time. */
  readonly unixTimeOffsetMs?: number
  /** Handshake, ping and request settings of its driver. */
  readonly driver?: VirtualPeerDriverOptions
}

/** A transaction with its ids, computed once (share entries between peers to hash once). */
export interface MempoolEntry {
  readonly tx: Transaction
  readonly txid: Uint8Array
  readonly wtxid: Uint8Array
  readonly txidHex: string
  readonly wtxidHex: string
}

/** The mempool entry of `tx`. */
export function mempoolEntry(tx: Transaction): MempoolEntry {
  const id = txid(tx)
  const wid = wtxid(tx)
  return { tx, txid: id, wtxid: wid, txidHex: toHex(id), wtxidHex: toHex(wid) }
}

/** What a virtual peer has done so far. */
export interface VirtualPeerStats {
  /** Connections handed to a driver (accepted or dialled). */
  connections: number
  /** Handshakes completed. */
  handshakes: number
  headersServed: number
  blocksServed: number
  txsServed: number
  notFound: number
  addrServed: number
  announcements: number
  /** Maximal invs sent by a 'tx-flood' peer. */
  txFloodInvs: number
  /** Transaction items of getdata messages a 'tx-flood' peer left unanswered. */
  getdataIgnored: number
}

/** The empty session set every virtual peer starts with: shared, never written. */
const NO_SESSIONS: ReadonlySet<Peer> = new Set()

/** A mempool's index by txid and wtxid. */
interface MempoolIndex {
  readonly byTxid: Map<string, MempoolEntry>
  readonly byWtxid: Map<string, MempoolEntry>
}

/**
 * One index per frozen mempool array: a simulation hands every virtual peer
 * the same (frozen) array, and a million peers need not each build and hold
 * the same two maps. Only a frozen array is shared (it cannot change under
 * the index); weak, so an index goes with its array.
 */
const SHARED_INDEXES = new WeakMap<Iterable<Transaction | MempoolEntry>, MempoolIndex>()

function indexOf(mempool: Iterable<Transaction | MempoolEntry>): MempoolIndex {
  const shareable = Array.isArray(mempool) && Object.isFrozen(mempool)
  let index = shareable ? SHARED_INDEXES.get(mempool) : undefined
  if (index === undefined) {
    index = { byTxid: new Map(), byWtxid: new Map() }
    for (const t of mempool) {
      const e = 'tx' in t ? t : mempoolEntry(t)
      index.byTxid.set(e.txidHex, e)
      index.byWtxid.set(e.wtxidHex, e)
    }
    if (shareable) SHARED_INDEXES.set(mempool, index)
  }
  return index
}

/** A node on the mock network that serves a synthetic chain; see the module documentation. */
export class VirtualPeer {
  readonly address: PeerAddress
  readonly behavior: VirtualPeerBehavior
  readonly chain: SyntheticChain
  readonly network: NetworkParams
  readonly stats: VirtualPeerStats = {
    connections: 0,
    handshakes: 0,
    headersServed: 0,
    blocksServed: 0,
    txsServed: 0,
    notFound: 0,
    addrServed: 0,
    announcements: 0,
    txFloodInvs: 0,
    getdataIgnored: 0,
  }
  readonly #net: MockNetwork
  readonly #random: Random
  readonly #trigger: MisbehaviorTrigger
  readonly #driver: VirtualPeerDriverOptions
  readonly #unixTimeOffsetMs: number
  // Mempool by txid and by wtxid (hex keys for lookup only; order is insertion order). Peers built
  // from the same mempool array share one index until one of them adds a transaction (#ownIndex).
  #byTxid: Map<string, MempoolEntry>
  #byWtxid: Map<string, MempoolEntry>
  #ownIndex: boolean
  #addresses: TimestampedNetAddress[]
  // Open sessions; NO_SESSIONS (shared, never written) until the first connection.
  #sessions: Set<Peer> = NO_SESSIONS as Set<Peer>
  #listener: MockListener | undefined
  #floodFrames: Uint8Array[] | undefined

  constructor(opts: VirtualPeerOptions) {
    this.#net = opts.net
    this.address = { host: opts.address.host, port: opts.address.port }
    this.chain = opts.chain
    this.network = opts.network ?? opts.chain.params
    this.#random = opts.random
    this.behavior = opts.behavior ?? 'honest'
    this.#trigger = opts.trigger ?? 'ready'
    this.#driver = opts.driver ?? {}
    this.#unixTimeOffsetMs = opts.unixTimeOffsetMs ?? opts.chain.tip.header.time * 1000
    this.#addresses = [...(opts.addresses ?? [])]
    const mempool = opts.mempool ?? []
    const index = indexOf(mempool)
    this.#byTxid = index.byTxid
    this.#byWtxid = index.byWtxid
    this.#ownIndex = !(Array.isArray(mempool) && Object.isFrozen(mempool))
  }

  /** Drivers of the live connections, oldest first. */
  get sessions(): readonly Peer[] {
    return [...this.#sessions]
  }

  /** Live connections. */
  get sessionCount(): number {
    return this.#sessions.size
  }

  /** Transactions held, in arrival order. */
  get mempool(): readonly Transaction[] {
    return Array.from(this.#byTxid.values(), (e) => e.tx)
  }

  /** Addresses it answers getaddr with. */
  get addresses(): readonly TimestampedNetAddress[] {
    return this.#addresses
  }

  /** The mempool transaction with this txid (or wtxid), if held. */
  transaction(id: Uint8Array): Transaction | undefined {
    const key = toHex(id)
    return (this.#byTxid.get(key) ?? this.#byWtxid.get(key))?.tx
  }

  /**
   * Start accepting connections on `address`.
   * @throws Error if something already listens there.
   */
  listen(): MockListener {
    if (this.#listener !== undefined) return this.#listener
    const l = this.#net.listen(this.address)
    l.onConnection((t) => this.#start(t))
    this.#listener = l
    return l
  }

  /**
   * Dial `addr` from this peer's host and complete the handshake. Rejects
   * with the driver's PeerError, as Peer.connect does.
   */
  connect(addr: PeerAddress, opts: { readonly timeout?: number; readonly signal?: AbortSignal } = {}): Promise<Peer> {
    const inner = this.#net.connector(this.address.host, { timeout: opts.timeout })
    let shaped: BehaviorTransport | undefined
    const connector: Connector = {
      connect: async (a, signal) => {
        shaped = this.#shape(await inner.connect(a, signal))
        return shaped
      },
    }
    return Peer.connect(addr, {
      ...this.#options(),
      transport: this.behavior === 'honest' ? (this.#driver?.transport ?? 'v1') : 'v1',
      connector,
      signal: opts.signal,
      setup: (peer) => this.#attach(peer, shaped!),
    })
  }

  /** Stop listening and close every connection. */
  close(): void {
    void this.#listener?.close()
    this.#listener = undefined
    for (const s of [...this.#sessions]) s.close('virtual peer closed')
  }

  /** Add a block announcement: headers to peers that sent sendheaders, inv to the others. */
  announceBlock(block: SyntheticBlock): void {
    for (const s of this.#sessions) {
      if (s.state !== 'ready') continue
      const msg: KnownMessage = s.features?.sendHeaders
        ? { command: 'headers', headers: [block.header] }
        : { command: 'inv', items: [{ type: InvType.MSG_BLOCK, hash: block.hash }] }
      this.#send(s, msg)
      this.stats.announcements++
    }
  }

  /** Hold `tx` and announce it to every peer that asked for transaction relay. */
  addTransaction(tx: Transaction): void {
    const e = mempoolEntry(tx)
    if (this.#byTxid.has(e.txidHex)) return
    this.#remember(e)
    const id = e.txid
    const wid = e.wtxid
    for (const s of this.#sessions) {
      if (s.state !== 'ready' || !s.info?.peer.relay) continue
      const item: InvItem = s.features?.wtxidRelay ? { type: InvType.MSG_WTX, hash: wid } : { type: InvType.MSG_TX, hash: id }
      this.#send(s, { command: 'inv', items: [item] })
      this.stats.announcements++
    }
  }

  /** Add addresses to the list and gossip them to every connected peer (addrv2 where negotiated). */
  gossipAddresses(addresses: readonly TimestampedNetAddress[]): void {
    this.#addresses.push(...addresses)
    const batch = addresses.slice(0, MAX_ADDR_TO_SEND)
    for (const s of this.#sessions) {
      if (s.state !== 'ready') continue
      this.#send(s, addrMessage(batch, s.features?.addrv2 ?? false))
      this.stats.announcements++
    }
  }

  // --- connections ---------------------------------------------------------

  #options(): Omit<PeerOptions, 'setup'> {
    return {
      services: VIRTUAL_PEER_SERVICES,
      userAgent: VIRTUAL_PEER_USER_AGENT,
      startHeight: this.chain.tip.height,
      // A slowloris peer is patient: its own pings would be answered only
      // after its dribble, so it neither pings nor gives up on pongs.
      ...(this.behavior === 'slowloris' ? { ping: SLOWLORIS_PING } : {}),
      // Accepting, an honest peer takes v2 and v1 clients alike (a v1 client costs nothing);
      // dialling, it speaks v1 unless its driver options say otherwise (v2's handshake is CPU a big simulation feels).
      // A misbehaving one speaks v1 only: its modes rewrite v1 frames.
      ...(this.behavior === 'honest' ? { v2, transport: 'v2-first' as const, ...this.#driver } : { ...this.#driver, transport: 'v1' as const }),
      network: this.network,
      clock: this.#net.clock,
      random: this.#random,
      unixTimeOffsetMs: this.#unixTimeOffsetMs,
    }
  }

  #shape(t: Transport): BehaviorTransport {
    const shaped = new BehaviorTransport(t, { behavior: this.behavior, network: this.network, clock: this.#net.clock, random: this.#random })
    this.stats.connections++
    if (isTriggered(this.behavior) && this.#trigger === 'connect') this.#fire(shaped)
    return shaped
  }

  #start(t: Transport): void {
    // An honest peer's driver writes straight into the mock transport.
    const shaped = this.behavior === 'honest' ? undefined : this.#shape(t)
    if (shaped === undefined) this.stats.connections++
    // A failed handshake is the other side's business; the driver's 'close' ends the session.
    Peer.accept(shaped ?? t, { ...this.#options(), setup: (peer) => this.#attach(peer, shaped) }).catch(() => undefined)
  }

  /** Start a triggered mode: arm the transport, and send the floods. */
  #fire(shaped: BehaviorTransport): void {
    shaped.arm()
    if (this.behavior !== 'inv-flood' && this.behavior !== 'addr-flood') return
    for (const frame of this.#flood()) shaped.raw(frame)
  }

  #flood(): Uint8Array[] {
    if (this.#floodFrames === undefined) {
      // One over-limit frame, sent FLOOD_MESSAGES times (the network does not copy buffers).
      const frame =
        this.behavior === 'inv-flood'
          ? invFloodFrame(this.network, this.#random)
          : addrFloodFrame(this.network, this.#random, Math.floor((this.#net.now() + this.#unixTimeOffsetMs) / 1000))
      this.#floodFrames = Array.from({ length: FLOOD_MESSAGES }, () => frame)
    }
    return this.#floodFrames
  }

  #attach(peer: Peer, shaped: BehaviorTransport | undefined): void {
    if (this.#sessions === NO_SESSIONS) this.#sessions = new Set()
    this.#sessions.add(peer)
    peer.on('ready', () => {
      this.stats.handshakes++
      if (shaped === undefined) return
      shaped.handshakeDone()
      if (isTriggered(this.behavior) && this.#trigger === 'ready') this.#fire(shaped)
      if (this.behavior === 'tx-flood') this.#txFlood(peer, shaped)
    })
    peer.on('close', () => this.#sessions.delete(peer))
    peer.on('getheaders', (m) => this.#onGetheaders(peer, m))
    peer.on('getdata', (m) => this.#onGetdata(peer, m))
    peer.on('getaddr', () => this.#onGetaddr(peer))
    peer.on('mempool', () => this.#onMempool(peer))
  }

  /** 'tx-flood': a maximal inv every TX_FLOOD_INTERVAL_MS, TX_FLOOD_MESSAGES beats, until the connection closes. */
  #txFlood(peer: Peer, shaped: BehaviorTransport): void {
    const clock = this.#net.clock
    const byWtxid = peer.features?.wtxidRelay ?? false
    let beats = 0
    let timer: (() => void) | undefined
    const beat = (): void => {
      timer = undefined
      if (peer.state !== 'ready') return
      if (shaped.bufferedAmount <= TX_FLOOD_MAX_BUFFERED) {
        shaped.raw(txFloodFrame(this.network, this.#random, byWtxid))
        this.stats.txFloodInvs++
      }
      if (++beats < TX_FLOOD_MESSAGES) timer = clock.setTimer(TX_FLOOD_INTERVAL_MS, beat)
    }
    peer.on('close', () => timer?.())
    beat()
  }

  // --- serving ---------------------------------------------------------------

  /** Send if the connection is still up (a handler may run after an earlier send closed it). */
  #send(peer: Peer, msg: KnownMessage): void {
    if (peer.state === 'ready') peer.send(msg)
  }

  #onGetheaders(peer: Peer, m: MessageOf<'getheaders'>): void {
    if (this.behavior === 'non-connecting-headers') {
      for (let i = 0; i < NON_CONNECTING_REPLIES; i++) this.#send(peer, { command: 'headers', headers: this.#nonConnectingHeaders() })
      return
    }
    const blocks = this.chain.locate(m.locator, m.hashStop)
    this.#send(peer, { command: 'headers', headers: blocks.map((b) => b.header) })
    this.stats.headersServed += blocks.length
  }

  #onGetdata(peer: Peer, m: MessageOf<'getdata'>): void {
    const missing: InvItem[] = []
    for (const item of m.items) {
      if (peer.state !== 'ready') return
      const witness = (item.type & MSG_WITNESS_FLAG) !== 0
      const base = (item.type & ~MSG_WITNESS_FLAG) >>> 0
      if (base === InvType.MSG_BLOCK) {
        const block = this.chain.block(item.hash)
        if (block === undefined) missing.push(item)
        else {
          this.#send(peer, { command: 'block', block: witness ? block : stripBlockWitness(block) })
          this.stats.blocksServed++
        }
      } else if (base === InvType.MSG_TX || base === InvType.MSG_WTX) {
        // A transaction flooder announces what it will never deliver.
        if (this.behavior === 'tx-flood') {
          this.stats.getdataIgnored++
          continue
        }
        const key = toHex(item.hash)
        const tx = (base === InvType.MSG_WTX ? this.#byWtxid.get(key) : this.#byTxid.get(key))?.tx
        if (tx === undefined) missing.push(item)
        else {
          this.#send(peer, { command: 'tx', tx: witness || base === InvType.MSG_WTX ? tx : stripWitness(tx) })
          this.stats.txsServed++
        }
      } else {
        // Filtered and compact blocks are not served.
        missing.push(item)
      }
    }
    if (missing.length > 0) {
      this.#send(peer, { command: 'notfound', items: missing })
      this.stats.notFound += missing.length
    }
  }

  #onGetaddr(peer: Peer): void {
    const batch = this.#addresses.slice(0, MAX_ADDR_TO_SEND)
    this.#send(peer, addrMessage(batch, peer.features?.addrv2 ?? false))
    this.stats.addrServed += batch.length
  }

  #onMempool(peer: Peer): void {
    const wtxids = peer.features?.wtxidRelay ?? false
    const items: InvItem[] = []
    for (const e of this.#byTxid.values()) {
      items.push(wtxids ? { type: InvType.MSG_WTX, hash: e.wtxid } : { type: InvType.MSG_TX, hash: e.txid })
      if (items.length === MAX_INV_SIZE) {
        this.#send(peer, { command: 'inv', items: items.splice(0) })
      }
    }
    if (items.length > 0) this.#send(peer, { command: 'inv', items })
  }

  /** MAX_BLOCKS_TO_ANNOUNCE + 1 chained headers after a random hash: too many for an announcement, connecting to nothing. */
  #nonConnectingHeaders(): BlockHeader[] {
    let prev = randomHash(this.#random)
    const tip = this.chain.tip.header
    const out: BlockHeader[] = []
    for (let i = 0; i <= MAX_BLOCKS_TO_ANNOUNCE; i++) {
      const h: BlockHeader = { version: tip.version, prevBlock: prev, merkleRoot: randomHash(this.#random), time: tip.time + 600 * (i + 1), bits: tip.bits, nonce: i }
      out.push(h)
      prev = blockHash(h)
    }
    return out
  }

  #remember(e: MempoolEntry): void {
    if (!this.#ownIndex) {
      // Copy on first write: the shared index stays what every other peer started with.
      this.#byTxid = new Map(this.#byTxid)
      this.#byWtxid = new Map(this.#byWtxid)
      this.#ownIndex = true
    }
    this.#byTxid.set(e.txidHex, e)
    this.#byWtxid.set(e.wtxidHex, e)
  }
}

function randomHash(random: Random): Uint8Array {
  const h = new Uint8Array(32)
  for (let i = 0; i < 32; i += 4) {
    const v = random.u32()
    h[i] = v & 0xff
    h[i + 1] = (v >>> 8) & 0xff
    h[i + 2] = (v >>> 16) & 0xff
    h[i + 3] = v >>> 24
  }
  return h
}

/** A transaction as a non-witness peer receives it (MSG_TX, MSG_BLOCK). */
function stripWitness(tx: Transaction): Transaction {
  if (tx.inputs.every((i) => i.witness.length === 0)) return tx
  return { ...tx, inputs: tx.inputs.map((i) => (i.witness.length === 0 ? i : { ...i, witness: [] })) }
}

function stripBlockWitness(block: Block): Block {
  return { header: block.header, txs: block.txs.map(stripWitness) }
}

/** addr or addrv2 for a batch of IP addresses. */
function addrMessage(batch: readonly TimestampedNetAddress[], v2: boolean): KnownMessage {
  if (!v2) return { command: 'addr', addresses: batch }
  const addresses: AddrV2Entry[] = batch.map((a) =>
    isIPv4Mapped(a.host)
      ? { time: a.time, services: a.services, networkId: BIP155Network.IPV4, addr: a.host.slice(12), port: a.port }
      : { time: a.time, services: a.services, networkId: BIP155Network.IPV6, addr: a.host.slice(), port: a.port },
  )
  return { command: 'addrv2', addresses, skipped: 0 }
}
