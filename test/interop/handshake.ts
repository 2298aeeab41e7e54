/**
 * Interop step 1: version handshake, ping/pong and feature negotiation with
 * bcoin 1.0.2 over TCP.
 *
 * What bcoin 1.0.2 does after verack (lib/net/pool.js handleOpen), and so
 * what this step asserts:
 *  - it sends `sendcmpct` (BIP152) with announce = false (its blockMode 0)
 *    and version 1, because version 2 needs NODE_WITNESS in OUR services
 *    and we advertise none;
 *  - it sends `getaddr` (its address book is not full);
 *  - it does NOT send `sendheaders` (bcoin honours ours but never asks
 *    for headers announcements itself) nor `feefilter` (its feeRate is -1);
 *  - it speaks protocol 70015, below BIP339/BIP155's 70016, so neither side
 *    offers wtxidrelay or sendaddrv2.
 * Everything bcoin sends in handleOpen is written before it reads our ping,
 * so once our first pong is back every such message has arrived.
 */
import { Services, type Command } from '@bitp2p/wire'
import type { PeerFeatures } from '@bitp2p/session'
import type { InteropNode } from './node.js'
import { check, checkEqual, connectPeer, nextEvent, PING_TIMEOUT_MS, since } from './util.js'

/** bcoin 1.0.2's protocol version (lib/net/common.js PROTOCOL_VERSION). */
export const BCOIN_PROTOCOL_VERSION = 70015
/** BIP152 compact-block version 1 (no witness). */
const CMPCT_VERSION_1 = 1n

/** What step 1 measured. */
export interface HandshakeReport {
  readonly userAgent: string
  readonly peerVersion: number
  readonly negotiatedVersion: number
  readonly peerServices: bigint
  readonly startHeight: number
  /** Time from connect() to the handshake's completion. */
  readonly handshakeMs: number
  /** RTT of the automatic ping sent right after verack. */
  readonly firstRttMs: number
  /** RTT of an explicit peer.ping(). */
  readonly pingRttMs: number
  readonly features: PeerFeatures
  /** Commands bcoin sent after verack, in arrival order (de-duplicated). */
  readonly commandsAfterVerack: readonly Command[]
  readonly ms: number
}

/** Step 1. Connects, checks the handshake and features, pings, closes. */
export async function handshakeAndPing(node: InteropNode): Promise<HandshakeReport> {
  const start = performance.now()
  const seen: Command[] = []
  let firstRtt: Promise<unknown[]> | undefined
  const peer = await connectPeer(node, {
    setup: (p) => {
      p.on('message', (m) => {
        if (m.command !== 'unknown' && !seen.includes(m.command)) seen.push(m.command)
      })
      // Registered before the handshake: the first pong can arrive in the same read as verack.
      firstRtt = nextEvent(p, 'latency', 'first ping round trip')
      // Awaited below; if the handshake fails first, that error is the one to report.
      firstRtt.catch(() => {})
    },
  })
  const handshakeMs = since(start)
  try {
    const info = peer.info!
    check(/bcoin/.test(info.peer.userAgent), `user agent ${info.peer.userAgent} is not bcoin's`)
    checkEqual(info.direction, 'outbound', 'direction')
    checkEqual(info.peer.version, BCOIN_PROTOCOL_VERSION, "bcoin's protocol version")
    checkEqual(info.negotiatedVersion, BCOIN_PROTOCOL_VERSION, 'negotiated version (min of 70016 and 70015)')
    const need = Services.NODE_NETWORK | Services.NODE_WITNESS
    check((info.peer.services & need) === need, `bcoin services 0x${info.peer.services.toString(16)} lack NETWORK|WITNESS`)
    const height = await node.rpc('getblockcount', [])
    checkEqual(info.peer.startHeight, height, "bcoin's start height vs getblockcount")

    const [firstRttMs] = (await firstRtt!) as [number]
    check(firstRttMs > 0, `first RTT ${firstRttMs} ms is not > 0`)
    const pingRttMs = await peer.ping({ timeoutMs: PING_TIMEOUT_MS })
    check(pingRttMs > 0, `ping RTT ${pingRttMs} ms is not > 0`)
    check(peer.rtt.samples >= 2, `rtt stats count ${peer.rtt.samples} samples, expected >= 2`)

    const f = peer.features!
    check(seen.includes('sendcmpct'), `bcoin sent no sendcmpct (saw ${seen.join(', ')})`)
    checkEqual(f.compactBlocks?.announce, false, 'sendcmpct announce (bcoin blockMode 0)')
    checkEqual(f.compactBlocks?.version, CMPCT_VERSION_1, 'sendcmpct version (1: we lack NODE_WITNESS)')
    check(seen.includes('getaddr'), `bcoin sent no getaddr (saw ${seen.join(', ')})`)
    check(!seen.includes('sendheaders'), 'bcoin 1.0.2 sent sendheaders, which it is not known to do')
    checkEqual(f.sendHeaders, false, 'peer asked for headers announcements')
    check(!seen.includes('feefilter'), 'bcoin sent feefilter although its feeRate is -1')
    checkEqual(f.feeFilter, undefined, 'fee filter')
    checkEqual(f.wtxidRelay, false, 'wtxidrelay at protocol 70015')
    checkEqual(f.addrv2, false, 'sendaddrv2 at protocol 70015')

    return {
      userAgent: info.peer.userAgent,
      peerVersion: info.peer.version,
      negotiatedVersion: info.negotiatedVersion,
      peerServices: info.peer.services,
      startHeight: info.peer.startHeight,
      handshakeMs,
      firstRttMs,
      pingRttMs,
      features: f,
      commandsAfterVerack: seen,
      ms: since(start),
    }
  } finally {
    peer.close('interop step 1 done')
  }
}
