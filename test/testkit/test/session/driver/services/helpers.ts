/**
 * A client and scripted remote nodes on the mock network, in virtual time.
 *
 * Every remote is a real session Peer accepted on its own MockNetwork
 * listener (10.0.1.x:18444); `script` attaches its behaviour before the
 * handshake. The client dials each of them with a real Peer. Everything is
 * seeded.
 */
import { MockNetwork, SyntheticChain } from '@bitp2p/transport-mock'
import { InvType, MSG_WITNESS_FLAG, regtest, type InvItem } from '@bitp2p/wire'
import { Peer, type PeerOptions, SeededRandom, type Transport } from '@bitp2p/session'

export { SyntheticChain }

/** Client-side Peer options a test may set. */
export type ClientOptions = Partial<Pick<PeerOptions, 'streamBlocks' | 'wtxidRelay' | 'requestTimeouts' | 'onStall' | 'transport'>>

export interface Remote {
  /** The remote node's side of the connection. */
  readonly peer: Peer
  /** "host:port" of the remote as the client sees it. */
  readonly label: string
}

export interface Sim {
  readonly net: MockNetwork
  readonly clock: MockNetwork['clock']
  readonly random: SeededRandom
  /** The client's peers, in remote order. */
  readonly clients: Peer[]
  readonly remotes: Remote[]
  /** Run virtual time for `ms` more. */
  run(ms: number): Promise<void>
}

/**
 * Start `n` remotes and connect the client to each (in order). `script(i,
 * peer)` scripts remote i; `startHeight(i)` is what it claims in its version.
 */
export async function simulate(opts: {
  readonly seed: string
  readonly n: number
  readonly script?: (i: number, peer: Peer) => void
  readonly startHeight?: (i: number) => number
  readonly client?: ClientOptions
  readonly remoteWtxidRelay?: boolean
  readonly latency?: number
  /** Wrap remote i's transport (e.g. to drip its bytes). */
  readonly wrap?: (i: number, t: Transport, clock: MockNetwork['clock']) => Transport
}): Promise<Sim> {
  const net = new MockNetwork({ seed: opts.seed, defaultLink: { latency: opts.latency ?? 10 } })
  const clock = net.clock
  const random = new SeededRandom(opts.seed)
  const remotes: (Remote | undefined)[] = []
  const addresses = []
  for (let i = 0; i < opts.n; i++) {
    const listener = net.listen({ host: `10.0.1.${i + 1}`, port: 18444 })
    addresses.push(listener.address)
    listener.onConnection((raw) => {
      const t = opts.wrap ? opts.wrap(i, raw, clock) : raw
      void Peer.accept(t, {
        network: regtest,
        clock,
        random: random.fork(`remote-${i}`),
        userAgent: `/remote-${i}/`,
        startHeight: opts.startHeight?.(i) ?? 0,
        wtxidRelay: opts.remoteWtxidRelay ?? true,
        setup: (peer) => {
          remotes[i] = { peer, label: `10.0.1.${i + 1}:18444` }
          opts.script?.(i, peer)
        },
      }).catch(() => undefined)
    })
  }
  const connector = net.connector('10.0.9.9')
  const pending = addresses.map((addr, i) =>
    // v1 unless a test asks for v2: its handshake costs milliseconds of CPU per side, and these tests are about the services.
    Peer.connect(addr, { network: regtest, clock, random: random.fork(`client-${i}`), connector, transport: 'v1', ...opts.client }),
  )
  await clock.runAsync({ until: clock.now() + 1_000 })
  const clients = await Promise.all(pending)
  const run = async (ms: number): Promise<void> => {
    await clock.runAsync({ until: clock.now() + ms })
  }
  return { net, clock, random, clients, remotes: remotes.map((r) => r!), run }
}

/** Remote behaviour: answer getheaders from `chain` (Core's locate). */
export function serveHeaders(peer: Peer, chain: () => SyntheticChain, log?: { getheaders: number }): void {
  peer.on('getheaders', (m) => {
    if (log) log.getheaders++
    peer.send({ command: 'headers', headers: chain().locate(m.locator, m.hashStop).map((b) => b.header) })
  })
}

/** Remote behaviour: answer getdata for blocks from `chain`, notfound for the rest. */
export function serveBlocks(peer: Peer, chain: SyntheticChain, opts: { delayMs?: number; clock?: Sim['clock'] } = {}): void {
  peer.on('getdata', (m) => {
    const missing: InvItem[] = []
    for (const it of m.items) {
      const base = (it.type & ~MSG_WITNESS_FLAG) >>> 0
      const block = base === InvType.MSG_BLOCK ? chain.block(it.hash) : undefined
      if (!block) {
        missing.push(it)
        continue
      }
      const send = () => {
        if (peer.state === 'ready') peer.send({ command: 'block', block })
      }
      if (opts.delayMs && opts.clock) opts.clock.setTimer(opts.delayMs, send)
      else send()
    }
    if (missing.length > 0) peer.send({ command: 'notfound', items: missing })
  })
}

/** A regtest chain of `n` blocks on genesis (each with `txsPerBlock` synthetic transactions if given). */
export function mineChain(seed: string, n: number): SyntheticChain {
  const chain = new SyntheticChain({ random: new SeededRandom(seed) })
  chain.fork(chain.genesis.hash, n)
  return chain
}

/**
 * A transport that trickles every frame of `command` out `bytesPerTick`
 * bytes every `intervalMs` (virtual time); frames after it wait their turn.
 */
export function dripFrames(inner: Transport, clock: MockNetwork['clock'], command: string, bytesPerTick: number, intervalMs: number): Transport {
  const queue: { bytes: Uint8Array; drip: boolean }[] = []
  let busy = false
  const name = (frame: Uint8Array) => new TextDecoder().decode(frame.subarray(4, 16)).replace(/\0+$/, '')
  const pump = (): void => {
    while (queue.length > 0 && !busy) {
      const head = queue[0]!
      if (!head.drip) {
        inner.send(queue.shift()!.bytes)
        continue
      }
      busy = true
      let off = 0
      const tick = (): void => {
        inner.send(head.bytes.subarray(off, off + bytesPerTick))
        off += bytesPerTick
        if (off < head.bytes.length) {
          clock.setTimer(intervalMs, tick)
          return
        }
        queue.shift()
        busy = false
        pump()
      }
      tick()
    }
  }
  return {
    send: (bytes) => {
      queue.push({ bytes, drip: name(bytes) === command })
      pump()
    },
    close: (reason) => inner.close(reason),
    onData: (cb) => inner.onData(cb),
    onClose: (cb) => inner.onClose(cb),
    onDrain: (cb) => inner.onDrain(cb),
    get bufferedAmount() {
      return inner.bufferedAmount
    },
    remote: inner.remote,
  }
}
