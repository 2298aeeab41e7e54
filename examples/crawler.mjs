// crawler: find the nodes of a network by spreading from a few seeds. Each
// node is visited once: handshake, `getaddr`, and the addresses it answers
// with join the queue. At most --max-peers connections are open at once.
//
//   npm run build
//   node examples/crawler.mjs [seed host:port ...] [--max-peers 8] [--max-nodes 1000] [--addr-wait ms]
//   node examples/crawler.mjs --sim [--seed S] [--nodes 60] [--max-peers 8]
//
// Against real seeds (default 127.0.0.1:18444) it connects to whatever
// addresses the nodes announce, so point it only at networks you mean to
// crawl. With --sim it crawls an in-memory network of virtual Bitcoin nodes
// in virtual time (transport-mock), the same crawl code on a fake network:
// --nodes nodes listen at spreadHost(0..nodes-1), each announcing the next
// one and 3 random others; 8 more at spreadHost(nodes..nodes+7) form an
// island nobody announces; 4 announced addresses at spreadHost(nodes+8..)
// have nothing listening. BITP2P_NETWORK (default regtest) sets the network.
import { parseArgs } from 'node:util'
import { crawl, describeDisconnect, formatPeerAddress, parsePeerAddress, PeerAddressError, SeededRandom } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { MockNetwork, spreadHost, SyntheticChain, VirtualPeer } from '@bitp2p/transport-mock'
import { ipFromString, networkByName, Services } from '@bitp2p/wire'

/** The simulated network's shape (see above). */
const ISLAND = 8
const DEAD = 4
const RANDOM_LINKS = 3

/**
 * `s` with control characters replaced: the crawler prints what strangers
 * announce (user agents), and escape sequences in them would reach the terminal.
 */
const printable = (s) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')

/** A bad command line: reported with exit code 2 (1 is for a failed run). */
class UsageError extends Error {}

/** `--name` as a whole number of at least `min`, or `fallback` when absent; anything else is a usage error. */
function intArg(values, name, fallback, min) {
  const v = values[name]
  if (v === undefined) return fallback
  const n = /^\d+$/.test(v) ? Number(v) : NaN
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got '${v}'`)
  return n
}

/** parseArgs, its errors (unknown option, missing value) reported as usage errors. */
function parseCommandLine(config) {
  try {
    return parseArgs(config)
  } catch (e) {
    throw new UsageError(e.message)
  }
}

/** The simulated network described in the header comment. */
function simulatedNetwork(seed, n, network) {
  const net = new MockNetwork({ seed, defaultLink: { latency: 40, jitter: 30 } })
  const random = new SeededRandom(seed)
  const chain = new SyntheticChain({ random: random.fork('chain'), params: network })
  // An addr entry for node i, as a node would announce it.
  const services = Services.NODE_NETWORK | Services.NODE_WITNESS
  const entry = (i) => ({ time: chain.tip.header.time, services, host: ipFromString(spreadHost(i)), port: network.defaultPort })
  const links = random.fork('links')
  const knows = (i) => {
    if (i >= n) return [entry(n + ((i - n + 1) % ISLAND)), entry(0)] // island: knows its neighbour and the network
    const out = [entry((i + 1) % n)] // the ring makes every one of the n reachable from node 0
    for (let k = 0; k < RANDOM_LINKS; k++) out.push(entry(links.int(n)))
    if (i % Math.ceil(n / DEAD) === 0) out.push(entry(n + ISLAND + Math.floor(i / Math.ceil(n / DEAD)))) // a dead address
    return out
  }
  const nodes = Array.from({ length: n + ISLAND }, (_, i) => {
    const address = { host: spreadHost(i), port: network.defaultPort }
    const vp = new VirtualPeer({ net, address, chain, random: random.fork(`node-${i}`), addresses: knows(i) })
    vp.listen()
    return vp
  })
  const close = () => nodes.forEach((vp) => vp.close())
  return { net, random, close, seeds: [{ host: spreadHost(0), port: network.defaultPort }] }
}

/** A Connector that counts the transports it has open (from connect until their close), to watch the cap. */
function counting(inner, gauge) {
  return {
    async connect(addr, signal) {
      const t = await inner.connect(addr, signal)
      gauge.peak = Math.max(gauge.peak, ++gauge.open)
      return {
        remote: t.remote,
        get bufferedAmount() {
          return t.bufferedAmount
        },
        send: (bytes) => t.send(bytes),
        close: (reason) => t.close(reason),
        onData: (cb) => t.onData(cb),
        onDrain: (cb) => t.onDrain(cb),
        onClose: (cb) => t.onClose((err) => (gauge.open--, cb(err))),
      }
    },
  }
}

async function main() {
  const str = { type: 'string' }
  const options = { sim: { type: 'boolean' }, seed: str, nodes: str, 'max-peers': str, 'max-nodes': str, 'addr-wait': str }
  const { values, positionals } = parseCommandLine({ options, allowPositionals: true })
  const network = networkByName(process.env.BITP2P_NETWORK ?? 'regtest')
  if (!network) throw new Error(`unknown network '${process.env.BITP2P_NETWORK}'`)
  // Every number checked before anything starts (NaN would make a cap that never holds).
  const maxPeers = intArg(values, 'max-peers', 8, 1)
  const nodes = intArg(values, 'nodes', 60, 1)
  const maxNodes = intArg(values, 'max-nodes', 1000, 1)
  const addrWaitMs = intArg(values, 'addr-wait', 10_000, 0)
  const sim = values.sim ? simulatedNetwork(values.seed ?? 'crawler', nodes, network) : undefined
  const seeds = sim?.seeds ?? (positionals.length > 0 ? positionals : [process.env.BITP2P_PEER ?? '127.0.0.1:18444']).map((text) => parsePeerAddress(text))
  const what = sim ? `a simulated network of ${nodes} reachable nodes` : network.name
  console.log(`crawling ${what} from ${seeds.map(formatPeerAddress).join(', ')}, at most ${maxPeers} connections at once`)

  const gauge = { open: 0, peak: 0 }
  const items = crawl({
    seeds,
    network,
    concurrency: maxPeers, // the cap: connections in progress at once
    maxNodes, // total visits
    addrWaitMs, // how long to wait for a getaddr answer
    connector: counting(sim ? sim.net.connector('192.0.2.1') : new TcpConnector(), gauge),
    // In the simulation, time and randomness come from the mock network, so every run is the same.
    ...(sim ? { clock: sim.net.clock, random: sim.random.fork('crawler') } : {}),
  })
  const running = sim?.net.clock.runAsync() // virtual time moves while there is something to do
  let ok = 0
  let failed = 0
  for await (const item of items) {
    const where = formatPeerAddress(item.address)
    if (item.type === 'node') {
      ok++
      console.log(`node ${where}: ${printable(item.userAgent)} protocol ${item.version} height ${item.startHeight}, ${item.addrsLearned} addresses (${item.newAddrs} new)`)
    } else {
      failed++
      console.log(`failed ${where}: ${describeDisconnect(item.reason)}`)
    }
  }
  console.log(`done: ${ok} node(s) answered, ${failed} address(es) failed; at most ${gauge.peak} connections were open at once (cap ${maxPeers})`)
  if (sim) {
    sim.close()
    await running
    console.log(`virtual time ${(sim.net.now() / 1000).toFixed(1)} s; trace ${sim.net.traceHash()}`)
  }
}

main().catch((e) => {
  console.error(e instanceof UsageError || e instanceof PeerAddressError ? `crawler: ${e.message}` : `crawler failed: ${e.message}`)
  process.exitCode = e instanceof UsageError || e instanceof PeerAddressError ? 2 : 1
})
