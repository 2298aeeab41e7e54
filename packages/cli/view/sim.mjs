// The simulation `bitp2p view --sim` shows: virtual miners of different
// speeds race on competing branches while our node, a HeaderSync over one
// production Peer per miner, follows the most-work tip and reorganises.
//
// Everything runs on @bitp2p/transport-mock's in-memory network and virtual
// clock, from one seed: the same seed gives the same events (and the same
// trace file, byte for byte).
//
// The miners (a table, cycled when more peers are asked for):
//  - each is a production Peer (Peer.accept) on its own mock address,
//    serving getheaders from its own branch of one shared SyntheticChain
//    (real mined regtest blocks) and announcing each block it mines;
//  - blocks come as a Poisson process: exponential gaps of mean `meanMin`;
//  - a miner mines on the most-work block it knows, and it learns of the
//    other miners' blocks `lagMin` virtual minutes after they were mined. Two
//    blocks found within that lag compete, and our node reorganises when the
//    branch it did not pick is extended first; the "island" miner, badly
//    connected, builds longer side branches.
// With 4 or more peers the last one is a cheat: a quarter into the run it
// announces a long branch whose first header misses its proof-of-work
// target, and HeaderSync drops it (a peer-removed event).
import { HeaderSync, Peer, PeerList, SeededRandom } from '@bitp2p/session'
import { checkHeaderPow } from '@bitp2p/session/chain'
import { MockNetwork, SyntheticChain } from '@bitp2p/transport-mock'
import { VIRTUAL_PEER_SERVICES } from '@bitp2p/transport-mock/limits'
import { blockHash, bytesEqual, InvType, regtest } from '@bitp2p/wire'

/** Default number of virtual peers. */
export const DEFAULT_SIM_PEERS = 5
/** Default virtual duration, minutes. */
export const DEFAULT_SIM_MINUTES = 180
/** Most peers a simulation takes (the graph has room for about this many). */
export const MAX_SIM_PEERS = 32
/** Longest run, virtual minutes (a week). */
export const MAX_SIM_MINUTES = 7 * 24 * 60
/** Blocks every miner shares before the race. */
export const SIM_BASE_BLOCKS = 5
/** Peers from which the last one is a cheat. */
export const SIM_CHEAT_FROM_PEERS = 4
/** Length of the cheat's branch. */
const CHEAT_BLOCKS = 40
/** Link between our node and each miner. */
const LINK = { latency: 50, jitter: 20 }
/** Our node's address on the mock network. */
const OUR_HOST = '10.0.9.9'
const MINUTE = 60_000
/** Headers per getheaders reply (Core's MAX_HEADERS_RESULTS). */
const MAX_HEADERS = 2000

/** Miner profiles: mean minutes between blocks, minutes before it hears of others' blocks. */
export const MINER_PROFILES = Object.freeze([
  { name: 'fast', meanMin: 12, lagMin: 2 },
  { name: 'steady', meanMin: 18, lagMin: 4 },
  { name: 'slow', meanMin: 30, lagMin: 8 },
  { name: 'island', meanMin: 24, lagMin: 45 },
])

/** Core's getheaders answer on the branch ending at `tip`. */
function locateOnBranch(tip, locator, hashStop) {
  const branch = []
  for (let b = tip; b !== undefined; b = b.parent) branch[b.height] = b
  let fork = 0
  for (const hash of locator) {
    const b = branch.find((x) => bytesEqual(x.hash, hash))
    if (b !== undefined) {
      fork = b.height
      break
    }
  }
  const out = []
  for (let h = fork + 1; h < branch.length && out.length < MAX_HEADERS; h++) {
    out.push(branch[h].header)
    if (bytesEqual(branch[h].hash, hashStop)) break
  }
  return out
}

/** The roster for `peers`: miners from the table (cycled, each cycle slower), then the cheat. */
export function simRoster(peers) {
  const cheat = peers >= SIM_CHEAT_FROM_PEERS
  const miners = cheat ? peers - 1 : peers
  const out = []
  for (let i = 0; i < miners; i++) {
    const p = MINER_PROFILES[i % MINER_PROFILES.length]
    const cycle = Math.floor(i / MINER_PROFILES.length)
    out.push({ kind: 'miner', name: cycle === 0 ? p.name : `${p.name}-${cycle + 1}`, meanMin: p.meanMin * (1 + cycle), lagMin: p.lagMin })
  }
  if (cheat) out.push({ kind: 'cheat', name: 'cheat' })
  return out
}

/**
 * The network and virtual clock of a simulation. Make the Recorder with
 * `sim.clock.now()` as its time source, then `runSim(sim, recorder)`.
 */
export function createSim({ seed, peers = DEFAULT_SIM_PEERS, minutes = DEFAULT_SIM_MINUTES }) {
  const net = new MockNetwork({ seed: `view-${seed}`, defaultLink: LINK, trace: { record: false, hash: false } })
  return { seed, peers, minutes, net, clock: net.clock }
}

/** Run `sim` (from createSim) for its minutes; events go to `recorder`. Resolves with our final tip. */
export async function runSim(sim, recorder) {
  const { net, clock, seed, minutes } = sim
  const random = new SeededRandom(`view-${seed}`)
  const roster = simRoster(sim.peers)
  const runMs = minutes * MINUTE

  const world = new SyntheticChain({ random: random.fork('world') })
  const base = world.fork(world.genesis.hash, SIM_BASE_BLOCKS).at(-1)
  const t0 = base.header.time
  recorder.start({ source: 'sim', network: regtest.name, seed, peers: sim.peers, minutes })

  // Miner state: its tip, and every block mined so far (what each miner hears of, after its lag).
  const tips = roster.map(() => base)
  const mined = []
  const remotes = []

  // The cheat: a real branch off the base whose first header is re-nonced until it misses its target.
  const cheatIndex = roster.findIndex((r) => r.kind === 'cheat')
  let cheatHeaders = []
  let cheating = false
  if (cheatIndex >= 0) {
    const branch = world.fork(base.hash, CHEAT_BLOCKS, { minerTag: '/cheat/' }).map((b) => b.header)
    let bad = branch[0]
    for (let nonce = 0; checkHeaderPow(bad, blockHash(bad), regtest).ok; nonce++) bad = { ...branch[0], nonce }
    cheatHeaders = [bad, ...branch.slice(1)]
  }

  // Each virtual peer: a listener whose connections run the production Peer driver.
  const addresses = roster.map((r, i) => {
    const listener = net.listen({ host: `10.0.${i + 1}.1`, port: regtest.defaultPort })
    listener.onConnection((t) => {
      Peer.accept(t, {
        network: regtest,
        clock,
        random: random.fork(`peer-${i}`),
        userAgent: `/bitp2p-sim:0.1.0/${r.name}/`,
        services: VIRTUAL_PEER_SERVICES,
        startHeight: tips[i].height,
        unixTimeOffsetMs: t0 * 1000,
        setup: (peer) => {
          remotes[i] = peer
          peer.on('getheaders', (m) => {
            if (peer.state !== 'ready') return
            const headers = r.kind === 'cheat' && cheating ? cheatHeaders : locateOnBranch(tips[i], m.locator, m.hashStop)
            peer.send({ command: 'headers', headers })
          })
        },
      }).catch(() => undefined)
    })
    return listener.address
  })

  const announce = (i, block) => {
    const p = remotes[i]
    if (p?.state !== 'ready') return
    p.send(
      p.features?.sendHeaders
        ? { command: 'headers', headers: [block.header] }
        : { command: 'inv', items: [{ type: InvType.MSG_BLOCK, hash: block.hash }] },
    )
  }

  /** The most-work block miner i knows at `now`: its own tip, or one mined at least lag ago (own tip first on ties, then first mined). */
  const parentFor = (i, now) => {
    const horizon = now - roster[i].lagMin * MINUTE
    let best = tips[i]
    for (const m of mined) {
      if (m.at > horizon) break
      if (m.block.chainWork > best.chainWork) best = m.block
    }
    return best
  }

  // Poisson mining: exponential gaps from each miner's own seeded stream.
  roster.forEach((r, i) => {
    if (r.kind !== 'miner') return
    const gaps = random.fork(`mining-${i}`)
    const next = () => {
      const gap = Math.max(1_000, Math.round(-Math.log(1 - gaps.float()) * r.meanMin * MINUTE))
      if (clock.now() + gap > runMs) return
      clock.setTimer(gap, () => {
        const now = clock.now()
        const parent = parentFor(i, now)
        const block = world.extend(parent.hash, { time: t0 + Math.floor(now / 1000), minerTag: `/${r.name}/` })
        tips[i] = block
        mined.push({ at: now, block })
        announce(i, block)
        next()
      })
    }
    next()
  })
  if (cheatIndex >= 0) {
    clock.setTimer(Math.floor(runMs / 4), () => {
      cheating = true
      const p = remotes[cheatIndex]
      if (p?.state === 'ready') p.send({ command: 'inv', items: [{ type: InvType.MSG_BLOCK, hash: blockHash(cheatHeaders.at(-1)) }] })
    })
  }

  // Our node: one production Peer per virtual peer, its frames followed by the recorder, feeding one HeaderSync.
  const list = new PeerList()
  const sync = new HeaderSync({ source: list, network: regtest, clock })
  recorder.watchSync(sync)
  await sync.start()
  const connector = net.connector(OUR_HOST, { timeout: 10_000 })
  const clients = addresses.map((addr, i) =>
    Peer.connect(addr, {
      network: regtest,
      clock,
      random: random.fork(`client-${i}`),
      connector,
      unixTimeOffsetMs: t0 * 1000,
      setup: (peer) => {
        recorder.watch(peer)
        peer.once('ready', () => recorder.addPeer(peer))
      },
    }).then(
      (peer) => (list.add(peer), peer),
      () => undefined,
    ),
  )

  await clock.runAsync({ until: runMs })
  const tip = sync.tree.tip
  recorder.finish()
  sync.stop()
  for (const c of await Promise.all(clients)) c?.close('simulation over')
  for (const p of remotes) p?.close('simulation over')
  return tip
}
