// connect-and-ping on Deno: the same program as ../connect-and-ping.mjs,
// written for Deno. The packages are the same built npm packages; their
// TCP transport runs on Deno's node:net.
//
//   npm run build     (in the repository root, once)
//   deno run --allow-net=127.0.0.1:18444 --allow-env=BITP2P_PEER,BITP2P_NETWORK \
//     examples/deno/connect-and-ping.ts [host:port]        (default 127.0.0.1:18444)
//
// Deno's permissions make the promise of every example checkable: with
// --allow-net=<that address> the program cannot reach anything else.
// BITP2P_NETWORK: mainnet, testnet3, testnet4, signet or regtest (default).
import { describeDisconnect, formatPeerAddress, parsePeerAddress, Peer } from '@bitp2p/session'
import { v2 } from '@bitp2p/session/v2'
import { TcpConnector } from '@bitp2p/transport-tcp'
import { networkByName, serviceNames } from '@bitp2p/wire'

const PINGS = 3
const TIMEOUT_MS = 10_000

async function main(): Promise<void> {
  const addr = parsePeerAddress(Deno.args[0] ?? Deno.env.get('BITP2P_PEER') ?? '127.0.0.1:18444')
  const network = networkByName(Deno.env.get('BITP2P_NETWORK') ?? 'regtest')
  if (!network) throw new Error(`unknown network '${Deno.env.get('BITP2P_NETWORK')}'`)
  console.log(`deno ${Deno.version.deno}: connecting to ${formatPeerAddress(addr)} (${network.name})`)

  const peer = await Peer.connect(addr, { connector: new TcpConnector({ connectTimeoutMs: TIMEOUT_MS }), network, v2, handshakeTimeoutMs: TIMEOUT_MS })
  const v = peer.info!.peer
  console.log(`connected: ${v.userAgent}, protocol ${peer.info!.negotiatedVersion}, height ${v.startHeight}, transport v${peer.transportVersion}`)
  console.log(`services: ${serviceNames(v.services).join(' ') || 'none'}`)
  try {
    for (let i = 1; i <= PINGS; i++) console.log(`ping ${i}: rtt ${(await peer.ping()).toFixed(2)} ms`)
  } finally {
    peer.close('done')
  }
  console.log(`closed (${describeDisconnect(await peer.closed)})`)
}

main().catch((e) => {
  console.error(`connect-and-ping failed: ${e.message}`)
  Deno.exitCode = 1
})
