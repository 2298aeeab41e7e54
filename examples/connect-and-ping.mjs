// connect-and-ping: the smallest useful bitp2p program. Open one TCP
// connection to a Bitcoin node, do the version handshake, measure a few
// ping round trips, hang up.
//
//   npm run build                                   (once: examples use the built packages)
//   node examples/connect-and-ping.mjs [host:port]  (default 127.0.0.1:18444)
//
// The peer can also come from BITP2P_PEER, the network from BITP2P_NETWORK
// (mainnet, testnet3, testnet4, signet, regtest; default regtest). Nothing
// but that one address is contacted. To get a local regtest node, see
// examples/README.md.
import { describeDisconnect, formatPeerAddress, parsePeerAddress, Peer } from '@bitp2p/session'
import { v2 } from '@bitp2p/session/v2'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { networkByName, serviceNames } from '@bitp2p/wire'

/** Round trips to measure. */
const PINGS = 3
/** Connect + handshake deadline, ms. */
const TIMEOUT_MS = 10_000

async function main() {
  const addr = parsePeerAddress(process.argv[2] ?? process.env.BITP2P_PEER ?? '127.0.0.1:18444')
  const network = networkByName(process.env.BITP2P_NETWORK ?? 'regtest')
  if (!network) throw new Error(`unknown network '${process.env.BITP2P_NETWORK}'`)
  console.log(`connecting to ${formatPeerAddress(addr)} (${network.name})`)

  // Peer.connect opens the transport and resolves once both sides have
  // exchanged version and verack; it rejects with a typed PeerError otherwise.
  const peer = await Peer.connect(addr, {
    connector: new TcpConnector({ connectTimeoutMs: TIMEOUT_MS }),
    network, // the magic bytes and message size caps of the chain
    v2, // BIP324: the encrypted transport first; one more attempt in v1 if the node does not speak it
    handshakeTimeoutMs: TIMEOUT_MS,
  })
  const v = peer.info.peer
  console.log(`connected: ${v.userAgent}, protocol ${peer.info.negotiatedVersion}, height ${v.startHeight}, transport v${peer.transportVersion}`)
  // Over v2 both ends hold the same session id: compare it out of band (Core: getpeerinfo) to rule out a man in the middle.
  if (peer.sessionId) console.log(`session id: ${Buffer.from(peer.sessionId).toString('hex')}`)
  console.log(`services: ${serviceNames(v.services).join(' ') || 'none'}`)

  try {
    // ping() sends a BIP31 ping with a fresh nonce and resolves with the round trip in ms.
    for (let i = 1; i <= PINGS; i++) console.log(`ping ${i}: rtt ${(await peer.ping()).toFixed(2)} ms`)
    // The driver keeps round-trip statistics over every pong (its own keepalive pings too).
    const { min, smoothed, samples } = peer.rtt
    console.log(`rtt over ${samples} pongs: min ${min.toFixed(2)} ms, smoothed ${smoothed.toFixed(2)} ms`)
  } finally {
    peer.close('done')
  }
  // `closed` resolves with the typed reason the connection ended for.
  console.log(`closed (${describeDisconnect(await peer.closed)})`)
}

main().catch((e) => {
  console.error(`connect-and-ping failed: ${e.message}`)
  process.exitCode = 1
})
