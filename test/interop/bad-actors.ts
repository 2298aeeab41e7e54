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
 */
import { Peer, PeerError, type DisconnectReason, type Transport } from '@bitp2p/session'
import { encodeMessage, ipFromString, mainnet, regtest, Services, type WireErrorCode } from '@bitp2p/wire'
import { TcpConnector, TcpListener } from '@bitp2p/transport-tcp'
import { LOOPBACK, type InteropNode } from './node.js'
import { check, checkEqual, CONNECT_TIMEOUT_MS, PING_TIMEOUT_MS, regtestPeerOptions, since, waitUntil, within } from './util.js'

/** A frame header: magic (4), command (12), length (4), checksum (4). */
const FRAME_HEADER_BYTES = 24

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

/** A frame header for `command` announcing `length` payload bytes (checksum left zero: never reached). */
function frameHeader(magic: Uint8Array, command: string, length: number): Uint8Array {
  const h = new Uint8Array(FRAME_HEADER_BYTES)
  h.set(magic, 0)
  for (let i = 0; i < command.length; i++) h[4 + i] = command.charCodeAt(i)
  new DataView(h.buffer).setUint32(16, length, true)
  return h
}

/** Deterministic noise (xorshift32) starting with 'G', as a stray HTTP request would: not regtest's 0xfa. */
function garbage(n: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = 0x2545f491
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0x7f
  }
  out[0] = 0x47 // 'G', as in "GET / HTTP/1.1"
  return out
}

function attacks(): Attack[] {
  const loopback = { services: 0n, host: ipFromString(LOOPBACK), port: 0 }
  const mainnetVersion = encodeMessage(
    {
      command: 'version',
      version: 70016,
      services: 0n,
      timestamp: 0n,
      addrRecv: loopback,
      addrFrom: loopback,
      nonce: 1n,
      userAgent: '/bad-actor:0/',
      startHeight: 0,
      relay: false,
    },
    mainnet,
  )
  return [
    { name: 'garbage', bytes: garbage(256), code: 'BAD_MAGIC' },
    { name: 'wrong-magic', bytes: mainnetVersion, code: 'BAD_MAGIC' },
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
