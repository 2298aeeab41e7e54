// bitp2p demo --sim: the demo's walkthrough on a simulated network.
//
//   bitp2p demo --sim [--seed N]      (or: node packages/cli/demo/sim.mjs [--seed N])
//
// The same steps as examples/demo.mjs, with no bcoin and no sockets: two
// virtual regtest nodes from @bitp2p/transport-mock, each a real bitp2p
// Peer driver serving a mined SyntheticChain, on an in-memory MockNetwork
// whose VirtualClock moves only when events run.
//
// 1. builds the network: a chain of real regtest blocks, nodes A and B
// 2. connects a bitp2p Peer to both (and node B to node A)
// 3. syncs and validates the block headers from node A (HeaderSync)
// 4. watches a transaction arrive: node B gets a new one and announces
//    it; the MempoolMonitor fetches it
// 5. broadcasts a transaction to node A, which relays it to node B, which
//    announces it back to us
// 6. closes everything and prints the trace hash
//
// Every random draw comes from the seed and every callback runs from the
// virtual clock, so a seed gives byte-identical output and the same trace
// hash on every run; only the "(wall ...)" figures depend on the machine.
import { parseArgs } from 'node:util'
import { formatPeerAddress, HeaderSync, MempoolMonitor, Peer, PeerList, SeededRandom, singlePeer } from '@bitp2p/session'
import { hashToHex, InvType, regtest, toHex, txid, txVsize, wtxid } from '@bitp2p/wire'
import { MockNetwork, SyntheticChain, TxFactory, VirtualPeer } from '@bitp2p/transport-mock'
import { CommandLabeler } from '@bitp2p/transport-mock/peers'

/** Seed when none is given. */
const DEFAULT_SEED = 1
/** Blocks mined on top of genesis: two full getheaders batches of 2,000 and a short one. */
const BLOCKS = 4_500
/** Header time of block 1 (2024-01-01T00:00:00Z); blocks follow every 600 s. */
const FIRST_BLOCK_TIME_S = 1_704_067_200
/** One-way latency of every link, plus a seeded jitter in [0, JITTER_MS). */
const LATENCY_MS = 25
const JITTER_MS = 10
/** Where the nodes live (addresses exist only on the in-memory network) and where we dial from. */
const NODE_A = { host: '10.0.0.1', port: regtest.defaultPort }
const NODE_B = { host: '10.1.0.1', port: regtest.defaultPort }
const OUR_HOST = '192.0.2.1'
/** A step that has not finished after this much virtual time is a bug in the walkthrough. */
const STEP_LIMIT_MS = 10 * 60_000
/** Width of the progress bar. */
const BAR_WIDTH = 24

const short = (hex) => `${hex.slice(0, 16)}…${hex.slice(-8)}`

function parseSeed(argv) {
  const { values } = parseArgs({ args: argv, options: { seed: { type: 'string' } }, strict: true })
  if (values.seed === undefined) return DEFAULT_SEED
  if (!/^\d+$/.test(values.seed) || Number(values.seed) > 0xffffffff) throw new Error(`--seed must be an integer in [0, 2^32), got '${values.seed}'`)
  return Number(values.seed)
}

/**
 * Run virtual time, one instant at a time, until `promise` settles. After
 * each instant runAsync yields to promise continuations, so the walkthrough
 * resumes at the virtual time its answer arrived.
 */
async function drive(clock, promise, what) {
  let settled = false
  promise.then(
    () => (settled = true),
    () => (settled = true),
  )
  const deadline = clock.now() + STEP_LIMIT_MS
  await clock.runAsync({ until: clock.now() }) // continuations already due
  while (!settled) {
    const next = clock.nextEventTime()
    if (next === undefined || next > deadline) throw new Error(`simulation: '${what}' did not finish (virtual time ${clock.now()} ms)`)
    await clock.runAsync({ until: next })
  }
  return promise
}

/** A progress bar line: redrawn in place on a terminal, one line per update otherwise. */
function progressBar(out = process.stdout) {
  const tty = out.isTTY === true
  return {
    update(done, total, text) {
      const full = total > 0 ? Math.floor((Math.min(done, total) / total) * BAR_WIDTH) : BAR_WIDTH
      const line = `   [${'#'.repeat(full)}${'.'.repeat(BAR_WIDTH - full)}] ${text}`
      out.write(tty ? `\r${line}\x1b[K` : `${line}\n`)
    },
    end() {
      if (tty) out.write('\n')
    },
  }
}

/**
 * VirtualPeer serves blocks and its own transactions but does not fetch
 * what others announce. These few lines make a node relay like a full node:
 * on an announcement of a transaction it lacks, ask the announcer for it
 * (getdata), then hold it and announce it to its other peers.
 */
function relayTransactions(node) {
  const asked = new Set()
  for (const session of node.sessions) {
    session.on('inv', (m) => {
      for (const item of m.items) {
        if (item.type !== InvType.MSG_TX && item.type !== InvType.MSG_WTX) continue
        const key = toHex(item.hash)
        if (asked.has(key) || node.transaction(item.hash)) continue
        asked.add(key)
        const want = item.type === InvType.MSG_WTX ? item : { type: InvType.MSG_WITNESS_TX, hash: item.hash }
        session.getData([want]).then(
          (got) => got.found.forEach((f) => f.message.command === 'tx' && node.addTransaction(f.message.tx)),
          () => asked.delete(key), // the announcer went away: another may announce it again
        )
      }
    })
  }
}

async function main() {
  const seed = parseSeed(process.argv.slice(2))
  const wallStart = performance.now()
  const random = new SeededRandom(seed)
  console.log(`bitp2p demo --sim: a Bitcoin P2P session on a simulated network (seed ${seed})\n`)

  // 1. The network, the chain and two nodes.
  console.log('1. Building a simulated regtest network (in memory, virtual time)')
  const net = new MockNetwork({ seed, defaultLink: { latency: LATENCY_MS, jitter: JITTER_MS }, trace: { record: false } })
  const clock = net.clock
  net.onDeliver(new CommandLabeler(regtest.magic).hook) // label each delivery with its P2P commands (part of the trace hash)
  const at = (ms = clock.now()) => `t=${(ms / 1000).toFixed(3)} s`
  const chain = new SyntheticChain({ random: random.fork('chain'), params: regtest })
  const t0 = performance.now()
  chain.fork(chain.genesis.hash, BLOCKS, { time: FIRST_BLOCK_TIME_S, spacing: 600 })
  const tip = chain.tip
  console.log(`   mined ${BLOCKS} regtest blocks (wall ${Math.round(performance.now() - t0)} ms): tip ${short(hashToHex(tip.hash))}`)
  const txs = new TxFactory(random.fork('txs'))
  for (let h = 1; h <= 10; h++) txs.fund(chain.atHeight(h).block.txs[0]) // coinbases to spend
  // Unix time on the virtual clock: time 0 is the tip's timestamp (headers are not "in the future").
  const unixTimeOffsetMs = tip.header.time * 1000
  const nodeA = new VirtualPeer({ net, address: NODE_A, chain, random: random.fork('node-a'), unixTimeOffsetMs })
  const nodeB = new VirtualPeer({ net, address: NODE_B, chain, random: random.fork('node-b'), unixTimeOffsetMs })
  nodeA.listen()
  nodeB.listen()
  const names = new Map([
    [formatPeerAddress(NODE_A), 'node A'],
    [formatPeerAddress(NODE_B), 'node B'],
  ])
  const nameOf = (label) => names.get(label) ?? label
  console.log(`   node A on ${formatPeerAddress(NODE_A)}, node B on ${formatPeerAddress(NODE_B)}, both serving the chain`)
  console.log(`   links: ${LATENCY_MS} ms one way + up to ${JITTER_MS} ms seeded jitter\n`)

  // 2. Connect and shake hands (the production Peer driver, on the mock network's connector and clock).
  console.log('2. Connecting with a bitp2p Peer to both nodes (node B also connects to node A)')
  const connector = net.connector(OUR_HOST, { timeout: 10_000 })
  const open = (addr, name) =>
    Peer.connect(addr, { connector, network: regtest, clock, random: random.fork(`us-${name}`), unixTimeOffsetMs })
  const [a, b] = await drive(clock, Promise.all([open(NODE_A, 'a'), open(NODE_B, 'b'), nodeB.connect(NODE_A)]), 'connect')
  for (const [peer, name] of [[a, 'node A'], [b, 'node B']]) {
    const v = peer.info.peer
    console.log(`   handshake with ${name} done by ${at()}: ${v.userAgent} protocol ${peer.info.negotiatedVersion}, its height ${v.startHeight}`)
  }
  const rtt = await drive(clock, a.ping(), 'ping')
  console.log(`   ping node A: ${rtt.toFixed(2)} ms\n`)
  relayTransactions(nodeA)
  relayTransactions(nodeB)

  // 3. Header sync: HeaderSync asks node A for headers after our tip until it has no more.
  console.log('3. Syncing block headers from node A (each one checked: linkage, proof of work, difficulty, time)')
  const sync = new HeaderSync({ source: singlePeer(a), network: regtest, clock, unixTimeOffsetMs })
  const bar = progressBar()
  sync.on('progress', (p) => {
    const pct = Math.floor((100 * p.height) / p.peerHeight)
    bar.update(p.height, p.peerHeight, `headers ${p.height}/${p.peerHeight} (${pct}%), ${Math.round(p.headersPerSecond)} headers/s (virtual)`)
  })
  await drive(clock, sync.start(), 'header sync start')
  const synced = await drive(clock, sync.synced(), 'header sync')
  bar.end()
  sync.stop()
  const ours = hashToHex(synced.hash)
  const same = ours === hashToHex(tip.hash)
  console.log(`   tip ${short(ours)} at height ${synced.height} ${same ? 'matches' : 'DIFFERS FROM'} node A's chain, by ${at()}\n`)
  if (!same) throw new Error(`our tip ${ours} is not the chain's ${hashToHex(tip.hash)}`)

  // 4. A transaction arrives: node B gets a new one and announces it (inv); we fetch it (getdata).
  console.log('4. Watching a transaction arrive')
  const monitor = new MempoolMonitor({ source: new PeerList([a, b]), clock }).start()
  const arrived = new Promise((resolve) => monitor.once('tx', resolve))
  // Node A will hear of it from node B and announce it to us too: listen from now on.
  const [incoming] = txs.batch(1)
  const announced = new Set([hashToHex(txid(incoming)), hashToHex(wtxid(incoming))])
  const relayedByA = new Promise((resolve) => {
    const onInv = (m) => {
      if (!m.items.some((i) => announced.has(hashToHex(i.hash)))) return
      a.off('inv', onInv)
      resolve(clock.now())
    }
    a.on('inv', onInv)
  })
  nodeB.addTransaction(incoming)
  console.log(`   node B has a new transaction and announces it to its peers (inv)`)
  const got = await drive(clock, arrived, 'mempool tx')
  console.log(`   fetched it (getdata) from ${nameOf(got.receivedFrom)} by ${at()}: txid ${short(hashToHex(got.txid))}, ${got.vsize} vbytes, ${got.tx.inputs.length} input(s), ${got.tx.outputs.length} output(s)`)
  console.log(`   first seen by ${nameOf(got.firstSeenBy)}`)
  const relayedAt = await drive(clock, relayedByA, 'relay by node A')
  console.log(`   node A announced it too at ${at(relayedAt)}: it fetched it from node B\n`)
  monitor.stop()

  // 5. Broadcast: we announce a transaction to node A only; it travels A -> B -> back to us.
  console.log('5. Broadcasting a transaction')
  const [outgoing] = txs.batch(1)
  const ids = new Set([hashToHex(txid(outgoing)), hashToHex(wtxid(outgoing))])
  console.log(`   a new transaction: txid ${short(hashToHex(txid(outgoing)))}, ${txVsize(outgoing)} vbytes`)
  a.on('getdata', (m) => {
    if (!m.items.some((i) => ids.has(hashToHex(i.hash)))) return
    console.log(`   node A asked for it (getdata) by ${at()}; sending it (tx)`)
    a.send({ command: 'tx', tx: outgoing })
  })
  const backFromB = new Promise((resolve) => {
    const onInv = (m) => {
      if (!m.items.some((i) => ids.has(hashToHex(i.hash)))) return
      b.off('inv', onInv)
      resolve()
    }
    b.on('inv', onInv)
  })
  const item = a.features?.wtxidRelay ? { type: InvType.MSG_WTX, hash: wtxid(outgoing) } : { type: InvType.MSG_TX, hash: txid(outgoing) }
  a.send({ command: 'inv', items: [item] })
  console.log('   announced it to node A (inv)')
  await drive(clock, backFromB, 'broadcast')
  console.log(`   node B announced it to us by ${at()}: it went us -> node A -> node B -> us\n`)

  // 6. Close every connection, let the closes arrive, and check nothing is left running.
  console.log('6. Closing')
  a.close('demo done')
  b.close('demo done')
  nodeA.close()
  nodeB.close()
  await drive(clock, Promise.all([a.closed, b.closed]), 'close')
  await clock.runAsync() // deliver the last closes; nothing periodic is left, so this ends
  console.log(`   connections closed, ${clock.pendingTimers} timers left, ${(clock.now() / 1000).toFixed(3)} s of virtual time`)
  console.log(`   trace hash ${net.traceHash()}`)
  console.log(`   (wall ${Math.round(performance.now() - wallStart)} ms)`)
  console.log('\ndone')
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`demo failed: ${e?.stack ?? e}`)
    process.exit(1)
  },
)
