// Remote nodes for the pool tests: real session Peers accepted on
// MockNetwork listeners, with scripted behaviour (addr answers, headers and
// blocks served, misbehaviour, stalls). Everything is seeded.
import { MockNetwork, type MockListener } from '@bitp2p/transport-mock'
import {
  blockHash,
  bytesEqual,
  ipFromString,
  regtest,
  Services,
  toHex,
  type Block,
  type BlockHeader,
  type FramingParams,
  type TimestampedNetAddress,
} from '@bitp2p/wire'
import { checkProofOfWork } from '@bitp2p/wire/consensus'
import { Peer, type PeerAddress, Pool, type PoolOptions, type Random, SeededRandom } from '@bitp2p/session'

/** Regtest framing (magic fabfb5da), Core's 4 MB caps, and regtest's powLimit (for the pool's block relay credit). */
export const NET: FramingParams & { readonly powLimit: bigint } = {
  magic: Uint8Array.of(0xfa, 0xbf, 0xb5, 0xda),
  maxMessageBytes: 4_000_000,
  maxBlockPayload: 4_000_000,
  powLimit: regtest.powLimit,
}
/** Regtest's easiest compact target: about half of all hashes meet it. */
export const REGTEST_BITS = 0x207fffff
/** Unix ms at virtual time 0. */
export const UNIX0 = 1_750_000_000_000
export const PORT = 8333
export const FULL = Services.NODE_NETWORK | Services.NODE_WITNESS
/** Host the pool dials from (198.18/15: never a real peer). */
export const POOL_HOST = '198.18.0.1'

/** A chain of `n` tiny blocks after an all-zero parent. */
export function makeChain(n: number): { headers: BlockHeader[]; blocks: Map<string, Block>; hashes: Uint8Array[] } {
  const headers: BlockHeader[] = []
  const blocks = new Map<string, Block>()
  const hashes: Uint8Array[] = []
  let prev: Uint8Array = new Uint8Array(32)
  for (let i = 0; i < n; i++) {
    const header: BlockHeader = { version: 1, prevBlock: prev, merkleRoot: new Uint8Array(32).fill(i & 255), time: 1_700_000_000 + i * 600, bits: 0x207fffff, nonce: i }
    const tx = {
      version: 1,
      inputs: [{ prevout: { txid: new Uint8Array(32), index: 0xffffffff }, scriptSig: Uint8Array.of(1, i & 255), sequence: 0xffffffff, witness: [] }],
      outputs: [{ value: 50n, scriptPubKey: Uint8Array.of(0x51) }],
      locktime: 0,
    }
    const h = blockHash(header)
    headers.push(header)
    hashes.push(h)
    blocks.set(toHex(h), { header, txs: [tx] })
    prev = h
  }
  return { headers, blocks, hashes }
}

/**
 * The first header from nonce 0 up whose proof of work against NET's
 * powLimit passes (`valid`) or fails (`!valid`), by checkProofOfWork.
 */
export function mineHeader(header: Omit<BlockHeader, 'nonce'>, valid = true): BlockHeader {
  // At regtest's difficulty a try passes about half the time: 1000 failures mean bits that never can.
  for (let nonce = 0; nonce < 1000; nonce++) {
    const h = { ...header, nonce }
    if (checkProofOfWork(blockHash(h), h.bits, NET).ok === valid) return h
  }
  throw new Error(`no nonce gives a ${valid ? 'valid' : 'failing'} proof of work at bits ${header.bits.toString(16)}`)
}

/** A one-transaction block at Unix time `time` (seconds), mined to pass (or fail) proof of work; `tag` makes it unique. */
export function mineBlock(tag: number, time: number, opts: { bits?: number; valid?: boolean } = {}): Block {
  const tx = {
    version: 1,
    inputs: [{ prevout: { txid: new Uint8Array(32), index: 0xffffffff }, scriptSig: Uint8Array.of(3, tag & 255, (tag >> 8) & 255), sequence: 0xffffffff, witness: [] }],
    outputs: [{ value: 50n, scriptPubKey: Uint8Array.of(0x51) }],
    locktime: 0,
  }
  const header = mineHeader({ version: 4, prevBlock: new Uint8Array(32).fill(tag & 255), merkleRoot: new Uint8Array(32).fill((tag >> 8) & 255), time, bits: opts.bits ?? REGTEST_BITS }, opts.valid ?? true)
  return { header, txs: [tx] }
}

/** Behaviour of a scripted node. */
export interface NodeBehaviour {
  /** Addresses it knows (with the services it gossips for them, FULL by default); getaddr answers draw `answerSize` of them at random. */
  known?: (PeerAddress & { services?: bigint })[]
  answerSize?: number
  services?: bigint
  /** Blocks and headers it serves. */
  chain?: ReturnType<typeof makeChain>
  /** After the handshake, send this many unsolicited blocks (5 x 20 points = a ban). */
  misbehave?: number
  /** Never answer getdata / getheaders (the requester stalls). */
  stall?: boolean
  /** Answer getdata after this many ms (a slow disk), so requests are in flight when churn strikes. */
  serveDelayMs?: number
  /** Close the connection when a getdata arrives (killed mid-request). */
  dieOnGetdata?: boolean
  /** Extra setup on each accepted peer. */
  setup?: (p: Peer) => void
}

/** A remote node: a listener whose connections are real session Peers. */
export class Node {
  readonly addr: PeerAddress
  readonly peers = new Set<Peer>()
  readonly received: string[] = []
  getaddrs = 0
  getdatas = 0
  #listener: MockListener | undefined
  readonly #net: MockNetwork
  readonly #random: Random

  constructor(
    net: MockNetwork,
    addr: PeerAddress,
    readonly behaviour: NodeBehaviour,
    seed: string,
  ) {
    this.#net = net
    this.addr = addr
    this.#random = new SeededRandom(seed)
  }

  get online(): boolean {
    return this.#listener !== undefined
  }

  up(): this {
    if (this.#listener) return this
    const l = this.#net.listen(this.addr)
    this.#listener = l
    l.onConnection((t) => {
      void Peer.accept(t, {
        network: NET,
        clock: this.#net.clock,
        random: this.#random,
        unixTimeOffsetMs: UNIX0,
        services: this.behaviour.services ?? FULL,
        startHeight: this.behaviour.chain?.headers.length ?? 0,
        userAgent: '/node:1/',
        setup: (p) => this.#serve(p),
      }).catch(() => undefined)
    })
    return this
  }

  /** Stop listening and drop every connection. */
  down(): this {
    void this.#listener?.close()
    this.#listener = undefined
    for (const p of [...this.peers]) p.close('node down')
    return this
  }

  #serve(p: Peer): void {
    const b = this.behaviour
    this.peers.add(p)
    p.once('close', () => this.peers.delete(p))
    b.setup?.(p)
    p.on('message', (m) => {
      this.received.push(m.command)
      if (m.command === 'getaddr') {
        this.getaddrs++
        const known = b.known ?? []
        const want = Math.min(b.answerSize ?? 20, known.length)
        const pool = known.slice()
        const addresses: TimestampedNetAddress[] = []
        for (let i = 0; i < want; i++) {
          const j = i + this.#random.int(pool.length - i)
          ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
          const a = pool[i]!
          addresses.push({ time: Math.floor(UNIX0 / 1000) + Math.floor(this.#net.now() / 1000) - 600, services: a.services ?? FULL, host: ipFromString(a.host), port: a.port })
        }
        p.send({ command: 'addr', addresses })
      } else if (m.command === 'getdata') {
        this.getdatas++
        if (b.dieOnGetdata) return p.close('dying')
        if (b.stall || !b.chain) return
        const chain = b.chain
        const answer = (): void => {
          if (p.state !== 'ready') return
          for (const item of m.items) {
            const block = chain.blocks.get(toHex(item.hash))
            if (block) p.send({ command: 'block', block })
            else p.send({ command: 'notfound', items: [item] })
          }
        }
        if (b.serveDelayMs) this.#net.clock.setTimer(b.serveDelayMs, answer)
        else answer()
      } else if (m.command === 'getheaders') {
        if (b.stall || !b.chain) return
        const { headers, hashes } = b.chain
        let from = 0
        for (const loc of m.locator) {
          const i = hashes.findIndex((h) => bytesEqual(h, loc))
          if (i >= 0) {
            from = i + 1
            break
          }
        }
        p.send({ command: 'headers', headers: headers.slice(from, from + 2000) })
      }
    })
    if (b.misbehave && b.chain) {
      p.once('ready', () => {
        const blocks = [...b.chain!.blocks.values()]
        for (let i = 0; i < b.misbehave!; i++) p.send({ command: 'block', block: blocks[i % blocks.length]! })
      })
    }
  }
}

/** A public IPv4 host in /16 group `g` (0-based), host number `h` in it. */
export function hostIn(g: number, h: number): string {
  // 11.0 .. 99.255: no reserved block in range.
  const a = 11 + Math.floor(g / 256)
  const b = g % 256
  return `${a}.${b}.${(h >> 8) & 255}.${(h & 255) || 1}`
}

/** A new network and pool options on it. */
export function setup(seed: string, extra: Partial<PoolOptions> = {}): { net: MockNetwork; options: PoolOptions } {
  const net = new MockNetwork({ seed, defaultLink: { latency: 20 } })
  const options: PoolOptions = {
    network: NET,
    connector: net.connector(POOL_HOST, { timeout: 5_000 }),
    clock: net.clock,
    random: new SeededRandom(`pool:${seed}`),
    unixTimeOffsetMs: UNIX0,
    peer: { userAgent: '/pool-test:1/' },
    ...extra,
  }
  return { net, options }
}

/** Run virtual time for `ms`. */
export async function run(net: MockNetwork, ms: number): Promise<void> {
  await net.clock.runAsync({ until: net.now() + ms })
}

/** The invariants a pool must hold at every moment. */
export function checkCaps(pool: Pool): string | undefined {
  const c = pool.machine.counts()
  const l = pool.machine.limits
  if (c.total > l.maxPeers) return `total ${c.total} > ${l.maxPeers}`
  if (c.fullRelay > l.outboundFullRelay) return `full-relay ${c.fullRelay} > ${l.outboundFullRelay}`
  if (c.limited > l.outboundLimited) return `limited ${c.limited} > ${l.outboundLimited}`
  if (c.inbound > l.maxInbound) return `inbound ${c.inbound} > ${l.maxInbound}`
  if (c.feeler > 1) return `${c.feeler} feelers at once`
  const groups = new Set<string>()
  for (const p of pool.connections()) {
    // Feelers are exempt from the one-per-group rule (as Core's).
    if (p.direction !== 'outbound' || p.slot === 'feeler') continue
    if (groups.has(p.group)) return `two outbound peers in ${p.group}`
    groups.add(p.group)
  }
  return undefined
}

/** Record every cap violation seen at any pool event. */
export function watchCaps(pool: Pool): string[] {
  const violations: string[] = []
  const check = (): void => {
    const v = checkCaps(pool)
    if (v) violations.push(`${v} at ${pool.stats().peers.total}`)
  }
  for (const e of ['peer-added', 'peer-removed', 'connect-failed', 'ban', 'addr', 'failover', 'evicted', 'feeler'] as const) pool.on(e, check)
  return violations
}
