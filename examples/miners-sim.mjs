// miners-sim: a deterministic simulation of miners racing on competing
// branches, with a HeaderSync client following the most-work chain.
//
//   npm run build
//   node examples/miners-sim.mjs [--seed S]
//
// Runs four virtual hours on the in-memory network of @bitp2p/transport-mock
// in well under a second: no sockets, no real time. Three miners, each a
// real bitp2p Peer serving getheaders from its own branch of real
// (regtest-difficulty) blocks and announcing each new block with `inv`:
//   fast     one block every 10 min, starts from the shared base
//   slow     one block every 25 min, but with a 4-block head start
//   follower one block every 15 min, always on the best tip it sees
// The slow miner leads at first (and the follower joins it); the fast one
// overtakes them: the client reorganises to the fast branch. Everything random (block contents, mining jitter, link
// jitter) comes from the seed, so the same seed prints the same lines and
// the same trace hash (a SHA-256 over every delivery on the network).
import { parseArgs } from 'node:util'
import { HeaderSync, Peer, PeerList, SeededRandom } from '@bitp2p/session'
import { MockNetwork, SyntheticChain } from '@bitp2p/transport-mock'
import { bytesEqual, hashToHex, InvType, regtest } from '@bitp2p/wire'

const MINUTE = 60_000
const RUN_MS = 240 * MINUTE
const BASE_BLOCKS = 5
/** Random delay added to each block (below the 1-minute gaps between the schedules). */
const JITTER_MS = 30_000
const MINERS = [
  { name: 'fast', everyMin: 10, offsetMin: 10, headStart: 0 },
  { name: 'slow', everyMin: 25, offsetMin: 3, headStart: 4 },
  { name: 'follower', everyMin: 15, offsetMin: 7, headStart: 2, follows: true },
]

const { values } = parseArgs({ options: { seed: { type: 'string', default: 'miners' } } })
const random = new SeededRandom(values.seed)
const net = new MockNetwork({ seed: values.seed, defaultLink: { latency: 50, jitter: 20 } })
const clock = net.clock
const at = () => `[${String(Math.floor(clock.now() / MINUTE)).padStart(3)} min]`
const short = (hash) => hashToHex(hash).slice(0, 12)

// One tree of real blocks; each miner's branch is the path from its tip down to genesis.
const world = new SyntheticChain({ random: random.fork('world') })
const base = world.fork(world.genesis.hash, BASE_BLOCKS).at(-1)
const minedBy = new Map() // block hash hex -> miner name
const tips = MINERS.map((m) => {
  const blocks = world.fork(base.hash, m.headStart, { minerTag: `/${m.name}/` })
  for (const b of blocks) minedBy.set(hashToHex(b.hash), m.name)
  return blocks.at(-1) ?? base
})
/** Most work wins; on equal work the block seen first (Core's rule). */
const best = () => tips.reduce((a, b) => (b.chainWork > a.chainWork || (b.chainWork === a.chainWork && b.sequence < a.sequence) ? b : a))

/** Core's getheaders answer on the branch ending at `tip`: the headers after the first locator hash on it. */
function headersAfter(tip, locator) {
  const onBranch = (b) => b !== undefined && b.height <= tip.height && bytesEqual(world.ancestorAt(tip.hash, b.height).hash, b.hash)
  const meet = locator.map((h) => world.get(h)).find(onBranch)
  const out = []
  for (let h = (meet?.height ?? 0) + 1; h <= tip.height && out.length < 2000; h++) out.push(world.ancestorAt(tip.hash, h).header)
  return out
}

// The miners listen; each accepted connection is a real Peer serving that miner's branch.
const remotes = []
const addresses = MINERS.map((m, i) => {
  const listener = net.listen({ host: `10.0.1.${i + 1}`, port: 18444 })
  listener.onConnection((t) =>
    Peer.accept(t, {
      network: regtest,
      clock,
      random: random.fork(m.name),
      userAgent: `/${m.name}/`,
      startHeight: tips[i].height,
      setup: (p) => {
        remotes[i] = p
        p.on('getheaders', (msg) => p.send({ command: 'headers', headers: headersAfter(tips[i], msg.locator) }))
      },
    }).catch(() => undefined),
  )
  return listener.address
})

// The client: one Peer per miner, one HeaderSync over all of them.
const connector = net.connector('10.0.9.9')
const connecting = addresses.map((a, i) => Peer.connect(a, { network: regtest, clock, random: random.fork(`client-${i}`), connector }))
await clock.runAsync({ until: clock.now() + 1_000 })
const clients = await Promise.all(connecting)
const sync = new HeaderSync({ source: new PeerList(clients), network: regtest, clock })
let reorgs = 0
sync.on('tip', (t) => console.log(`${at()} tip ${t.height} ${short(t.hash)} (${minedBy.get(hashToHex(t.hash)) ?? 'base'})`))
sync.on('reorg', (r) => {
  reorgs++
  const by = (list) => minedBy.get(hashToHex(list.at(-1).hash))
  const off = `${r.disconnected.length} blocks off (tip by ${by(r.disconnected)})`
  console.log(`${at()} reorg at height ${r.fork.height}: ${off}, ${r.connected.length} on (tip by ${by(r.connected)})`)
})

// Mining: miner i finds block k at offset + k * interval, plus seeded jitter, and announces it.
const jitter = random.fork('jitter')
const count = Object.fromEntries(MINERS.map((m) => [m.name, 0]))
function schedule(i, k) {
  const m = MINERS[i]
  const when = (m.offsetMin + k * m.everyMin) * MINUTE + jitter.int(JITTER_MS)
  if (when > RUN_MS) return
  clock.setTimer(when - clock.now(), () => {
    tips[i] = world.extend((m.follows ? best() : tips[i]).hash, { time: base.header.time + Math.floor(clock.now() / 1000), minerTag: `/${m.name}/` })
    minedBy.set(hashToHex(tips[i].hash), m.name)
    count[m.name]++
    remotes[i]?.send({ command: 'inv', items: [{ type: InvType.MSG_BLOCK, hash: tips[i].hash }] })
    schedule(i, k + 1)
  })
}
MINERS.forEach((_, i) => schedule(i, 0))

await sync.start()
await clock.runAsync({ until: RUN_MS + MINUTE })
const tip = sync.tree.tip
const want = best()
console.log(`mined during the race: ${MINERS.map((m) => `${m.name} ${count[m.name]}`).join(', ')}`)
const verdict = bytesEqual(tip.hash, want.hash) ? 'the most-work tip' : 'NOT the most-work tip'
console.log(`final tip ${tip.height} ${hashToHex(tip.hash)}: ${verdict}; ${reorgs} reorg(s)`)
console.log(`trace ${net.traceHash()}`)
sync.stop()
for (const c of clients) c.close()
await clock.runAsync() // deliver the closes; nothing is left to run after them
if (!bytesEqual(tip.hash, want.hash)) process.exitCode = 1
