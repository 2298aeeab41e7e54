// mempool-monitor: a live feed of the transactions a node relays. Each
// announced transaction is fetched once, decoded and printed.
//
//   npm run build
//   node examples/mempool-monitor.mjs [host:port] [--count N]   (default 127.0.0.1:18444)
//
// Runs until Ctrl-C, or until N transactions were printed. To see one on a
// local regtest node, make its wallet pay something (examples/README.md).
// BITP2P_PEER and BITP2P_NETWORK (default regtest) work as in
// connect-and-ping.mjs.
import { parseArgs } from 'node:util'
import { MempoolMonitor, parsePeerAddress, Peer, RealtimeClock, singlePeer } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { hashToHex, networkByName } from '@bitp2p/wire'

const SATS_PER_BTC = 100_000_000n
const btc = (sats) => `${sats / SATS_PER_BTC}.${(sats % SATS_PER_BTC).toString().padStart(8, '0')}`

async function main() {
  const { values, positionals } = parseArgs({ options: { count: { type: 'string' } }, allowPositionals: true })
  const addr = parsePeerAddress(positionals[0] ?? process.env.BITP2P_PEER ?? '127.0.0.1:18444')
  const network = networkByName(process.env.BITP2P_NETWORK ?? 'regtest')
  if (!network) throw new Error(`unknown network '${process.env.BITP2P_NETWORK}'`)
  const count = values.count === undefined ? Infinity : Number(values.count)
  // (Not a number would never be reached: the feed would run forever.)
  if (!(Number.isInteger(count) && count >= 1) && count !== Infinity) throw new Error(`--count must be a positive integer, got '${values.count}'`)

  // Ctrl-C ends the loop below through this signal; everything then closes normally.
  const stop = new AbortController()
  process.once('SIGINT', () => stop.abort())

  const clock = new RealtimeClock()
  // `relay` (the default) asks the node to announce its transactions to us.
  const peer = await Peer.connect(addr, { connector: new TcpConnector(), network, clock })
  // If the connection drops, end the feed too.
  peer.closed.then(() => stop.abort())

  // The monitor listens for `inv` announcements, asks for each new
  // transaction with `getdata` (once, however many peers announce it) and
  // hands out the decoded transactions.
  const monitor = new MempoolMonitor({ source: singlePeer(peer), clock }).start()
  console.log(`connected to ${peer.info.peer.userAgent}; watching for transactions (Ctrl-C to stop)`)

  let seen = 0
  try {
    for await (const t of monitor.stream({ signal: stop.signal })) {
      const out = t.tx.outputs.reduce((sum, o) => sum + o.value, 0n)
      console.log(
        `tx ${hashToHex(t.txid)}: ${t.vsize} vB, ${t.tx.inputs.length} in, ${t.tx.outputs.length} out, ` +
          `${btc(out)} BTC, first seen by ${t.firstSeenBy}`,
      )
      if (++seen >= count) break // leaving the loop ends this iterator
    }
  } finally {
    monitor.stop()
    peer.close('done')
  }
  console.log(`${seen} transaction(s); closed`)
}

main().catch((e) => {
  console.error(`mempool-monitor failed: ${e.message}`)
  process.exitCode = 1
})
