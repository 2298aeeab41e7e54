/**
 * Interop step 7: bcoin dials us. Our TcpListener accepts on 127.0.0.1,
 * bcoin connects with `addnode host:port onetry`, and Peer.accept completes
 * the handshake in the inbound direction (bcoin's version first, ours in
 * reply). bcoin checks an outbound peer's services (NETWORK, and WITNESS
 * once segwit is active), so we advertise both. From bcoin's side the
 * connection must be outbound, to our address, with our user agent.
 */
import { Peer, type Transport } from '@bitp2p/session'
import { DEFAULT_USER_AGENT } from '@bitp2p/session/limits'
import { Services } from '@bitp2p/wire'
import { TcpListener } from '@bitp2p/transport-tcp'
import { LOOPBACK, type InteropNode } from './node.js'
import { check, checkEqual, PING_TIMEOUT_MS, regtestPeerOptions, since, waitUntil, within } from './util.js'

/** What step 7 measured. */
export interface InboundReport {
  readonly userAgent: string
  readonly startHeight: number
  /** From addnode to our handshake completing. */
  readonly handshakeMs: number
  readonly rttMs: number
  /** What bcoin sent first after verack, in order (it starts syncing from us). */
  readonly commandsAfterVerack: readonly string[]
  readonly ms: number
}

/** bcoin's getpeerinfo entry, the fields we read. */
interface BcoinPeerInfo {
  readonly addr: string
  readonly subver: string
  readonly inbound: boolean
}

/** Step 7. bcoin opens a connection to our listener; we complete the handshake with Peer.accept. */
export async function inboundFromBcoin(node: InteropNode): Promise<InboundReport> {
  const start = performance.now()
  const listener = await TcpListener.listen({ host: LOOPBACK, port: 0 })
  try {
    const accepted = new Promise<Transport>((resolve) => listener.onConnection(resolve))
    const seen: string[] = []
    const dialAt = performance.now()
    await node.connectTo(listener.address)
    const transport = await within(accepted, "bcoin's connection to our listener")
    const peer = await Peer.accept(
      transport,
      regtestPeerOptions({
        services: Services.NODE_NETWORK | Services.NODE_WITNESS,
        setup: (p) => p.on('message', (m) => seen.push(m.command)),
      }),
    )
    const handshakeMs = since(dialAt)
    try {
      const info = peer.info!
      checkEqual(info.direction, 'inbound', 'direction')
      check(/bcoin/.test(info.peer.userAgent), `user agent ${info.peer.userAgent} is not bcoin's`)
      checkEqual(info.peer.startHeight, await node.rpc('getblockcount', []), "bcoin's start height")
      const rttMs = await peer.ping({ timeoutMs: PING_TIMEOUT_MS })
      check(rttMs > 0, `ping RTT ${rttMs} ms is not > 0`)

      // bcoin's view: an outbound connection to our port, speaking our user agent.
      const ours = `${LOOPBACK}:${listener.address.port}`
      let mine: BcoinPeerInfo | undefined
      await waitUntil(async () => {
        const peers: BcoinPeerInfo[] = await node.rpc('getpeerinfo', [])
        mine = peers.find((p) => p.addr === ours)
        return mine !== undefined
      }, `bcoin's getpeerinfo entry for ${ours}`)
      checkEqual(mine!.inbound, false, 'bcoin sees the connection as inbound')
      checkEqual(mine!.subver, DEFAULT_USER_AGENT, 'our user agent as bcoin saw it')
      check(seen.includes('getheaders') || seen.includes('getblocks'), `bcoin did not start syncing from us (saw ${seen.join(', ')})`)

      return { userAgent: info.peer.userAgent, startHeight: info.peer.startHeight, handshakeMs, rttMs, commandsAfterVerack: seen, ms: since(start) }
    } finally {
      peer.close('interop step 7 done')
    }
  } finally {
    await listener.close()
  }
}
