/**
 * Interop step 8: bad actors on a real socket. Raw TCP clients connect to
 * our TcpListener, where every connection is handed to Peer.accept, and
 * send bytes no Bitcoin node would:
 *
 *  - garbage:      bytes that are not the network magic  -> framing BAD_MAGIC
 *  - wrong-magic:  a well-formed mainnet version frame    -> framing BAD_MAGIC
 *  - oversize:     a regtest `block` header announcing a payload above the
 *                  4 MB network cap                       -> framing OVERSIZE
 *  - oversize-cmd: a regtest `ping` header announcing 1 KB (its cap is 8)
 *                                                         -> framing OVERSIZE
 *
 * The frame decoder checks magic, command and caps before buffering
 * anything, so each is refused on its header alone. Each accept must reject
 * with PeerError reason { kind: 'framing', error.code }, the attacker's
 * socket must be closed by us, and the process must stay healthy: bcoin
 * then dials the same listener and completes a handshake and a ping.
 *
 * The bytes come from test/harness/hostile-bytes.ts, shared with the
 * hostile-peer harness, whose suite (packages/transport-tcp/test/
 * hostile.test.ts) plays these and many more modes in both directions.
 */
import { Peer, PeerError, type DisconnectReason, type Transport } from '@bitp2p/session'
import { mainnet, regtest, Services, type WireErrorCode } from '@bitp2p/wire'
import { TcpConnector, TcpListener } from '@bitp2p/transport-tcp'
import { frameHeader, noise, versionFrame } from '../harness/hostile-bytes.js'
import { LOOPBACK, type InteropNode } from './node.js'
import { check, checkEqual, CONNECT_TIMEOUT_MS, PING_TIMEOUT_MS, regtestPeerOptions, since, waitUntil, within } from './util.js'

/** One hostile client and the reason we expect. */
interface Attack {
  readonly name: string
  readonly bytes: Uint8Array
  readonly code: WireErrorCode
}

/** The result of one attack. */
export interface AttackResult {
  readonly name: string
  readonly reason: string
  readonly code: string
  /** From the attacker's first byte to its socket being closed by us. */
  readonly droppedMs: number
}

/** What step 8 measured. */
export interface BadActorsReport {
  readonly attacks: readonly AttackResult[]
  /** Handshake time of the good connection (bcoin) that followed. */
  readonly goodHandshakeMs: number
  readonly goodRttMs: number
  readonly ms: number
}

function attacks(): Attack[] {
  return [
    { name: 'garbage', bytes: noise(256), code: 'BAD_MAGIC' },
    { name: 'wrong-magic', bytes: versionFrame(mainnet, 1n), code: 'BAD_MAGIC' },
    { name: 'oversize', bytes: frameHeader(regtest.magic, 'block', regtest.maxMessageBytes + 1), code: 'OVERSIZE' },
    { name: 'oversize-cmd', bytes: frameHeader(regtest.magic, 'ping', 1_000), code: 'OVERSIZE' },
  ]
}

/** Step 8. Hostile clients against our listener, then a good connection from bcoin. */
export async function badActors(node: InteropNode): Promise<BadActorsReport> {
  const start = performance.now()
  const listener = await TcpListener.listen({ host: LOOPBACK, port: 0 })
  // Every accepted connection gets a Peer.accept; outcomes in arrival order.
  const outcomes: Promise<Peer | PeerError>[] = []
  const waiting: ((p: Promise<Peer | PeerError>) => void)[] = []
  listener.onConnection((t: Transport) => {
    // NETWORK|WITNESS: bcoin, dialling out at the end, refuses peers without them.
    const services = Services.NODE_NETWORK | Services.NODE_WITNESS
    const p = Peer.accept(t, regtestPeerOptions({ services })).catch((e: unknown) => {
      if (e instanceof PeerError) return e
      throw e
    })
    const w = waiting.shift()
    if (w) w(p)
    else outcomes.push(p)
  })
  const nextAccepted = (): Promise<Peer | PeerError> => {
    const p = outcomes.shift()
    return p ?? new Promise((resolve, reject) => waiting.push((q) => q.then(resolve, reject)))
  }

  try {
    const results: AttackResult[] = []
    const connector = new TcpConnector({ connectTimeoutMs: CONNECT_TIMEOUT_MS })
    for (const a of attacks()) {
      const raw = await connector.connect(listener.address)
      const closedByUs = new Promise<void>((resolve) => raw.onClose(() => resolve()))
      const sentAt = performance.now()
      raw.send(a.bytes)
      const outcome = await within(nextAccepted(), `our verdict on the ${a.name} client`)
      check(outcome instanceof PeerError, `the ${a.name} client completed a handshake`)
      const reason: DisconnectReason = outcome.reason
      check(reason.kind === 'framing', `${a.name}: reason ${reason.kind}, expected framing`)
      checkEqual(reason.error.code, a.code, `${a.name}: framing error code`)
      await within(closedByUs, `our close of the ${a.name} client`)
      results.push({ name: a.name, reason: reason.kind, code: reason.error.code, droppedMs: since(sentAt) })
    }
    // The listener forgets a socket on its own 'close' event, which may trail the client's.
    await waitUntil(() => listener.connections === 0, 'every hostile connection closed on our side')

    // Still healthy: a real node connects and talks.
    const dialAt = performance.now()
    await node.connectTo(listener.address)
    const good = await within(nextAccepted(), "bcoin's connection after the attacks")
    if (good instanceof PeerError) throw new Error(`the good connection failed: ${good.message}`)
    try {
      const goodHandshakeMs = since(dialAt)
      check(/bcoin/.test(good.info!.peer.userAgent), `good peer user agent ${good.info!.peer.userAgent}`)
      const goodRttMs = await good.ping({ timeoutMs: PING_TIMEOUT_MS })
      check(goodRttMs > 0, `good peer RTT ${goodRttMs} is not > 0`)
      return { attacks: results, goodHandshakeMs, goodRttMs, ms: since(start) }
    } finally {
      good.close('interop step 8 done')
    }
  } finally {
    await listener.close()
  }
}
