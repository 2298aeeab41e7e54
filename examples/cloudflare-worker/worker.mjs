// A Cloudflare Worker that speaks Bitcoin P2P over TCP, with no bridge:
// each request connects to one node with CloudflareConnector (connect() of
// cloudflare:sockets), completes the version handshake, downloads and
// validates the node's block headers, and answers with the result as JSON.
//
//   npx wrangler dev       (wrangler.toml beside this file)
//   curl http://127.0.0.1:8787/
//
// The node is configured, not taken from the request: a worker that dials
// whatever a client names is an open TCP proxy. BITCOIN_PEER is host:port,
// BITCOIN_NETWORK is mainnet, testnet3, testnet4, signet or regtest.
//
// A TCP socket belongs to the request that opened it: the peer is opened,
// used and closed within this one fetch(). Keep it to a few thousand
// headers per request (a worker's CPU time is limited); a long-lived peer
// belongs in a Durable Object.
import { HeaderSync, parsePeerAddress, Peer, PeerAddressError, RealtimeClock, singlePeer } from '@bitp2p/session'
import { CloudflareConnector } from '@bitp2p/transport-cloudflare'
import { hashToHex, networkByName } from '@bitp2p/wire'

/** Deadline of each getheaders (bcoin sends nothing back when it has nothing new; HeaderSync then takes the silence as "nothing new"). */
const HEADERS_TIMEOUT_MS = 10_000
/** Give up on the TCP connect after this long. */
const CONNECT_TIMEOUT_MS = 5_000

export default {
  async fetch(request, env) {
    let addr
    try {
      addr = parsePeerAddress(env.BITCOIN_PEER ?? '')
    } catch (e) {
      if (!(e instanceof PeerAddressError)) throw e
      return Response.json({ error: `BITCOIN_PEER: ${e.message}` }, { status: 500 })
    }
    const network = networkByName(env.BITCOIN_NETWORK ?? 'regtest')
    if (!network) return Response.json({ error: `unknown network '${env.BITCOIN_NETWORK}'` }, { status: 500 })

    const clock = new RealtimeClock()
    let peer
    try {
      peer = await Peer.connect(addr, {
        connector: new CloudflareConnector({ connectTimeoutMs: CONNECT_TIMEOUT_MS }),
        network,
        clock,
        userAgent: '/bitp2p-worker-example:0.1.0/',
      })
    } catch (e) {
      // A TransportError ('connect-failed', 'timeout'...) or a handshake failure.
      return Response.json({ error: e.message, code: e.code ?? null }, { status: 502 })
    }
    const sync = new HeaderSync({ source: singlePeer(peer), network, clock, requestTimeoutMs: HEADERS_TIMEOUT_MS })
    try {
      await sync.start()
      const tip = await sync.synced(request.signal)
      return Response.json({
        peer: { userAgent: peer.info.peer.userAgent, version: peer.info.peer.version, startHeight: peer.info.peer.startHeight },
        height: tip.height,
        tip: hashToHex(tip.hash),
      })
    } catch (e) {
      return Response.json({ error: e.message }, { status: 502 })
    } finally {
      sync.stop()
      peer.close('request done')
    }
  },
}
