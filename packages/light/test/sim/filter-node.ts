/**
 * BIP157 nodes on the mock network: real session Peers (accepted on their
 * own MockNetwork listeners, 10.0.2.x:18444) serving a World's headers,
 * blocks and, through a FilterServer, its filters, advertising
 * NODE_COMPACT_FILTERS. A node may ignore some commands. The client dials
 * each with a real Peer; everything runs on the network's virtual clock,
 * seeded.
 */
import { Peer, SeededRandom } from '@bitp2p/session'
import { MockNetwork } from '@bitp2p/transport-mock'
import { InvType, MSG_WITNESS_FLAG, regtest, Services, toHex, txid, wtxid, type InvItem, type Transaction } from '@bitp2p/wire'
import type { FilterServer, World } from '../world.js'

/** One node's spec. */
export interface NodeSpec {
  readonly server: FilterServer
  /** Commands it never answers. */
  readonly ignores?: ReadonlySet<string>
  /** Services it announces (default NETWORK, WITNESS, COMPACT_FILTERS). */
  readonly services?: bigint
}

/** The network, the client's peers (in node order) and the nodes' own sides. */
export interface FilterNet {
  readonly net: MockNetwork
  readonly clock: MockNetwork['clock']
  readonly clients: Peer[]
  /** Each node's live sessions. */
  readonly sessions: Peer[][]
  /** Announce the world's tip to every session (headers to a client that sent sendheaders, inv otherwise). */
  announceTip(world: World): void
  /** Hold `tx` in every node's mempool and announce it (inv by txid). */
  announceTx(tx: Transaction): void
}

const SERVICES = Services.NODE_NETWORK | Services.NODE_WITNESS | Services.NODE_COMPACT_FILTERS

/** Start the nodes and connect a client to each. */
export async function startFilterNet(world: World, specs: readonly NodeSpec[], seed: string, latency = 20): Promise<FilterNet> {
  // Seeded jitter and chunking: each seed orders the nodes' replies differently.
  const net = new MockNetwork({ seed, defaultLink: { latency, jitter: 40, maxChunk: 1500 } })
  const clock = net.clock
  const random = new SeededRandom(seed)
  const sessions: Peer[][] = specs.map(() => [])
  /** Mempool of every node, by txid hex and by wtxid hex. */
  const mempool = new Map<string, Transaction>()
  const addresses = specs.map((spec, i) => {
    const listener = net.listen({ host: `10.0.2.${i + 1}`, port: 18444 })
    listener.onConnection((t) => {
      void Peer.accept(t, {
        network: regtest,
        clock,
        random: random.fork(`node-${i}`),
        services: spec.services ?? SERVICES,
        userAgent: `/filter-node-${i}/`,
        startHeight: world.chain.tip.height,
        unixTimeOffsetMs: world.chain.tip.header.time * 1000,
        setup: (peer) => {
          sessions[i]!.push(peer)
          peer.on('close', () => sessions[i]!.splice(sessions[i]!.indexOf(peer), 1))
          serve(peer, world, spec, mempool)
        },
      }).catch(() => undefined)
    })
    return listener.address
  })
  const connector = net.connector('10.0.9.9')
  const pending = addresses.map((addr, i) =>
    Peer.connect(addr, {
      network: regtest,
      clock,
      random: random.fork(`client-${i}`),
      connector,
      transport: 'v1',
      unixTimeOffsetMs: world.chain.tip.header.time * 1000,
    }),
  )
  await clock.runAsync({ until: clock.now() + 2_000 })
  const clients = await Promise.all(pending)
  return {
    net,
    clock,
    clients,
    sessions,
    announceTx(tx: Transaction) {
      mempool.set(toHex(txid(tx)), tx)
      mempool.set(toHex(wtxid(tx)), tx)
      for (const list of sessions) for (const s of list) if (s.state === 'ready') s.send({ command: 'inv', items: [{ type: InvType.MSG_TX, hash: txid(tx) }] })
    },
    announceTip(w: World) {
      for (const list of sessions) {
        for (const s of list) {
          if (s.state !== 'ready') continue
          s.send(s.features?.sendHeaders ? { command: 'headers', headers: [w.chain.tip.header] } : { command: 'inv', items: [{ type: InvType.MSG_BLOCK, hash: w.chain.tip.hash }] })
        }
      }
    },
  }
}

function serve(peer: Peer, world: World, spec: NodeSpec, mempool: ReadonlyMap<string, Transaction>): void {
  const send = (m: Parameters<Peer['send']>[0]): void => {
    if (peer.state === 'ready') peer.send(m)
  }
  peer.on('getheaders', (m) => send({ command: 'headers', headers: world.chain.locate(m.locator, m.hashStop).map((b) => b.header) }))
  peer.on('getdata', (m) => {
    const missing: InvItem[] = []
    for (const it of m.items) {
      const base = (it.type & ~MSG_WITNESS_FLAG) >>> 0
      const block = base === InvType.MSG_BLOCK ? world.chain.block(it.hash) : undefined
      const tx = base === InvType.MSG_TX || base === InvType.MSG_WTX ? mempool.get(toHex(it.hash)) : undefined
      if (block) send({ command: 'block', block })
      else if (tx) send({ command: 'tx', tx })
      else missing.push(it)
    }
    if (missing.length > 0) send({ command: 'notfound', items: missing })
  })
  for (const command of ['getcfcheckpt', 'getcfheaders', 'getcfilters'] as const) {
    peer.on(command, (m) => {
      if (spec.ignores?.has(command)) return
      for (const r of spec.server.reply(m)) send(r)
    })
  }
}
