// spv-sync: download and validate the block headers of a node's best
// chain (what an SPV wallet does first), optionally keeping them on disk so
// the next run resumes where this one stopped.
//
//   npm run build
//   node examples/spv-sync.mjs [host:port] [--store dir]   (default 127.0.0.1:18444)
//
// Every header is checked (it links to its parent, meets its proof-of-work
// target, has the right difficulty and a sane timestamp) before it joins
// the chain. With --store, the chain is written to <dir>/headers.dat
// (80 bytes a header) and loaded again on the next run. BITP2P_PEER and
// BITP2P_NETWORK (default regtest) work as in connect-and-ping.mjs.
import { parseArgs } from 'node:util'
import { HeaderSync, parsePeerAddress, Peer, RealtimeClock, singlePeer } from '@bitp2p/session'
import { FileHeaderStore } from '@bitp2p/session/node'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { hashToHex, networkByName } from '@bitp2p/wire'

/**
 * Deadline of each getheaders, ms. bcoin (unlike Bitcoin Core) sends no
 * reply at all to a getheaders it has nothing new for; when the deadline
 * passes, HeaderSync takes the silence as "nothing new" (a stalled
 * getheaders is only reported: the peer stays connected).
 */
const HEADERS_TIMEOUT_MS = 5_000
/** A peer that claims more headers but let a getheaders time out is asked again after this long without a new tip. */
const STALE_TIP_MS = 15_000

async function main() {
  const { values, positionals } = parseArgs({ options: { store: { type: 'string' } }, allowPositionals: true })
  const addr = parsePeerAddress(positionals[0] ?? process.env.BITP2P_PEER ?? '127.0.0.1:18444')
  const network = networkByName(process.env.BITP2P_NETWORK ?? 'regtest')
  if (!network) throw new Error(`unknown network '${process.env.BITP2P_NETWORK}'`)

  // Open the store first: a bad directory fails before any network traffic.
  const store = values.store ? await FileHeaderStore.open(values.store) : undefined
  const stored = await store?.tip()
  console.log(stored ? `store ${values.store}: resuming from stored height ${stored.height}` : 'starting from genesis')

  // One clock for the peer and the sync: real time here, virtual time in simulations.
  const clock = new RealtimeClock()
  const peer = await Peer.connect(addr, { connector: new TcpConnector(), network, clock })
  console.log(`connected to ${peer.info.peer.userAgent}, which claims height ${peer.info.peer.startHeight}`)

  // HeaderSync runs over a PeerSource: here just this one peer (a Pool works the same way).
  const sync = new HeaderSync({
    source: singlePeer(peer),
    network,
    clock,
    store, // loaded by start(), then every header joining the best chain is written to it
    requestTimeoutMs: HEADERS_TIMEOUT_MS,
    staleTipMs: STALE_TIP_MS,
    // The RealtimeClock also gives wall time, which enables the "not more than 2 h in the future" rule.
  })
  sync.on('progress', (p) => console.log(`height ${p.height}/${p.peerHeight}, ${Math.round(p.headersPerSecond)} headers/s`))
  sync.on('reorg', (r) => console.log(`reorg at height ${r.fork.height}: -${r.disconnected.length} +${r.connected.length} blocks`))
  sync.on('error', (e) => console.error(`store write failed: ${e.message}`))

  try {
    await sync.start()
    if (stored) console.log(`loaded ${sync.tree.height - sync.tree.baseHeight + 1} headers, tip height ${sync.tree.height}`)
    const tip = await sync.synced() // caught up: the peer has nothing beyond our tip
    console.log(`synced: tip ${hashToHex(tip.hash)} at height ${tip.height}`)
  } finally {
    sync.stop()
    await sync.flush() // wait for the last store writes
    peer.close('done')
    await store?.close()
  }
  if (store) console.log(`headers saved in ${values.store}`)
}

main().catch((e) => {
  console.error(`spv-sync failed: ${e.message}`)
  process.exitCode = 1
})
