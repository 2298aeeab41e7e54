// broadcast-tx: send a signed transaction into the network the way nodes
// do (announce it with `inv`, serve it to whoever asks with `getdata`) and
// report what happened to it.
//
//   npm run build
//   node examples/broadcast-tx.mjs <rawtx-hex> [host:port] [--deadline ms]   (default 127.0.0.1:18444)
//
// The transaction must already be signed (e.g. by a wallet's
// "create without sending" call; examples/README.md shows one for a local
// bcoin). The broadcast ends when a peer announces it back to us (it is in
// that peer's mempool and spreading), or at the deadline. A node never
// announces a transaction back to the peer it got it from, so with a single
// peer expect "fetched by" and then the deadline. BITP2P_PEER and
// BITP2P_NETWORK (default regtest) work as in connect-and-ping.mjs.
import { parseArgs } from 'node:util'
import { Broadcaster, parsePeerAddress, Peer, PeerAddressError, RealtimeClock, singlePeer } from '@bitp2p/session'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { fromHex, hashToHex, networkByName, parseTx } from '@bitp2p/wire'

/** Default time the broadcast may take, ms. */
const DEFAULT_DEADLINE_MS = 10_000

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

async function main() {
  const { values, positionals } = parseCommandLine({ options: { deadline: { type: 'string' } }, allowPositionals: true })
  if (!positionals[0]) throw new UsageError('usage: broadcast-tx.mjs <rawtx-hex> [host:port] [--deadline ms]')
  // Checked before anything connects: a deadline that is not a number would never end the broadcast.
  const deadlineMs = intArg(values, 'deadline', DEFAULT_DEADLINE_MS, 1)
  const tx = parseTx(fromHex(positionals[0])) // throws a WireError on anything but one whole transaction
  const addr = parsePeerAddress(positionals[1] ?? process.env.BITP2P_PEER ?? '127.0.0.1:18444')
  const network = networkByName(process.env.BITP2P_NETWORK ?? 'regtest')
  if (!network) throw new Error(`unknown network '${process.env.BITP2P_NETWORK}'`)

  const clock = new RealtimeClock()
  const peer = await Peer.connect(addr, { connector: new TcpConnector(), network, clock })
  console.log(`connected to ${peer.info.peer.userAgent}`)

  // The Broadcaster works over any PeerSource: one peer here, a whole Pool in a wallet.
  const broadcaster = new Broadcaster({ source: singlePeer(peer), clock })
  broadcaster.on('announced', (_txid, p) => console.log(`announced to ${p} (inv)`))
  broadcaster.on('fetched', (_txid, p) => console.log(`fetched by ${p} (getdata, we answered with tx)`))
  broadcaster.on('seen', (_txid, p) => console.log(`seen from ${p}: it announced the tx back`))
  broadcaster.on('rejected', (_txid, r) => console.log(`rejected by ${r.peer}: ${r.reason}`))

  let result
  try {
    result = await broadcaster.broadcast(tx, { deadlineMs })
  } finally {
    peer.close('done')
  }
  // The result says what the protocol can prove: who was told, who asked, who echoed it.
  console.log(`txid ${hashToHex(result.txid)}`)
  console.log(`outcome: ${result.outcome}`)
  console.log(`announcedTo: ${result.announcedTo.join(', ') || '-'}`)
  console.log(`fetchedBy: ${result.fetchedBy.join(', ') || '-'}`)
  console.log(`seenFrom: ${result.seenFrom.join(', ') || '-'}`)
  console.log(`rejectedBy: ${result.rejectedBy.map((r) => `${r.peer} (${r.reason})`).join(', ') || '-'}`)
  if (result.fetchedBy.length === 0 && result.seenFrom.length === 0) {
    console.error('no peer fetched or announced the transaction')
    process.exitCode = 1
  }
}

main().catch((e) => {
  console.error(e instanceof UsageError || e instanceof PeerAddressError ? `broadcast-tx: ${e.message}` : `broadcast-tx failed: ${e.message}`)
  process.exitCode = e instanceof UsageError || e instanceof PeerAddressError ? 2 : 1
})
