// Issue 12, item 1, over real TCP on 127.0.0.1: one peer floods
// announcements, another announces a real transaction; MempoolMonitor must
// fetch the honest one while the flood goes on.
//
// Two loopback servers built from TcpListener and a session Peer (the
// handshake), in this process:
//  - the flooder writes maximal inv frames (50,000 fresh wtxids each, built
//    with wire's frame encoder) straight to its TcpTransport, as fast as the
//    socket drains, and never answers a getdata;
//  - the honest node holds a few transactions, announces each on cue and
//    answers getdata for them.
// The client dials both with TcpConnector and runs MempoolMonitor on them.
//
// No wall-clock thresholds: the assertions are on the order of events (the
// flood was on before each announcement and still on after each fetch) and
// on counters. Deadlines are safety nets, scaled().
//
// Before the per-peer policy, the first flood inv filled the monitor's
// global pending budget and the honest announcements were dropped: the
// wait for the first honest transaction timed out.
import { afterAll, describe, expect, it } from 'vitest'
import {
  MempoolMonitor,
  Peer,
  PeerList,
  RealtimeClock,
  SeededRandom,
  type MempoolTx,
  type Random,
} from '@bitp2p/session'
import { DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER, DEFAULT_MAX_IN_FLIGHT_PER_PEER } from '@bitp2p/session/limits'
import { InvType, regtest, toHex, txid, wtxid, type Transaction } from '@bitp2p/wire'
import { encodeFrame } from '@bitp2p/wire/codecs'
import { MAX_INV_SIZE } from '@bitp2p/wire/limits'
import { TcpConnector, TcpListener, type TcpTransport } from '../src/index.js'
import { TxFactory } from '@bitp2p/transport-mock'
import { scaled } from '../../../test/harness/timing.js'
import { sleep, until } from './helpers.js'

/** Honest transactions announced during the flood, one after the other. */
const HONEST_TXS = 3
/** The flooder stops after this many maximal invs (a bound, never reached in a passing run). */
const MAX_FLOOD_INVS = 5_000
/** The flooder waits while more than this many bytes sit in its socket buffer. */
const FLOOD_HIGH_WATER = 4 * 1024 * 1024
/** Bytes of the CompactSize count of a maximal inv, and of one item. */
const INV_COUNT_BYTES = 3
const INV_ITEM_BYTES = 36

/** A maximal inv frame: MAX_INV_SIZE MSG_WTX items, 128 random bits per hash. */
function floodFrame(random: Random): Uint8Array {
  const payload = new Uint8Array(INV_COUNT_BYTES + INV_ITEM_BYTES * MAX_INV_SIZE)
  const view = new DataView(payload.buffer)
  payload[0] = 0xfd
  view.setUint16(1, MAX_INV_SIZE, true)
  for (let i = 0, at = INV_COUNT_BYTES; i < MAX_INV_SIZE; i++, at += INV_ITEM_BYTES) {
    view.setUint32(at, InvType.MSG_WTX, true)
    for (let k = 4; k < 20; k += 4) view.setUint32(at + k, random.u32(), true)
  }
  return encodeFrame(regtest.magic, 'inv', payload)
}

const clock = new RealtimeClock()
const closers: (() => unknown)[] = []
afterAll(async () => {
  for (const c of closers.reverse()) await c()
})

/** A loopback server that completes the handshake with a session Peer and hands over the peer and its transport. */
async function server(setup: (peer: Peer, t: TcpTransport) => void): Promise<TcpListener> {
  const listener = await TcpListener.listen({ host: '127.0.0.1', port: 0 })
  closers.push(() => listener.close())
  listener.onConnection((t) => {
    Peer.accept(t, { network: regtest, clock, startHeight: 0 })
      .then((peer) => {
        closers.push(() => peer.close('test done'))
        setup(peer, t)
      })
      .catch(() => undefined)
  })
  return listener
}

describe('MempoolMonitor under an announcement flood over TCP (127.0.0.1)', () => {
  it('fetches each honest transaction while another peer floods maximal invs, within the per-peer budget', { timeout: scaled(90_000) }, async () => {
    // The flooder: maximal invs as fast as the socket takes them, getdata ignored.
    const flood = { sent: 0, running: true, getdata: 0 }
    closers.push(() => (flood.running = false))
    const flooder = await server((peer, t) => {
      peer.on('getdata', (m) => (flood.getdata += m.items.length))
      const random = new SeededRandom('tcp-flood')
      void (async () => {
        while (flood.running && peer.state === 'ready' && flood.sent < MAX_FLOOD_INVS) {
          if (t.bufferedAmount > FLOOD_HIGH_WATER) {
            await sleep(2)
            continue
          }
          t.send(floodFrame(random))
          flood.sent++
          // Let the event loop breathe between frames (the client runs in this process too).
          await sleep(0)
        }
      })()
    })

    // The honest node: holds HONEST_TXS transactions and serves them on getdata.
    const factory = new TxFactory(new SeededRandom('tcp-honest'))
    const txs: Transaction[] = Array.from({ length: HONEST_TXS }, () => factory.next())
    const served: string[] = []
    let honestPeer: Peer | undefined
    const honest = await server((peer) => {
      honestPeer = peer
      peer.on('getdata', (m) => {
        for (const it of m.items) {
          const tx = txs.find((t) => toHex(it.type === InvType.MSG_WTX ? wtxid(t) : txid(t)) === toHex(it.hash))
          if (tx) {
            served.push(toHex(txid(tx)))
            peer.send({ command: 'tx', tx })
          }
        }
      })
    })

    // The client: one monitor over both connections.
    const connector = new TcpConnector()
    const dial = (l: TcpListener): Promise<Peer> => Peer.connect(l.address, { network: regtest, clock, connector })
    const [floodClient, honestClient] = await Promise.all([dial(flooder), dial(honest)])
    closers.push(() => floodClient.close('test done'), () => honestClient.close('test done'))
    await until(() => honestPeer?.state === 'ready', 'the honest server side ready', scaled(5_000))
    const monitor = new MempoolMonitor({ source: new PeerList([floodClient, honestClient]), clock }).start()
    closers.push(() => monitor.stop())

    // Counters: flood invs received, and the worst budget use seen at each of them.
    let floodInvs = 0
    const worst = { announcements: 0, inFlight: 0, total: 0 }
    floodClient.on('inv', () => {
      floodInvs++
      // Read after the monitor handled this inv (its listener was attached first).
      worst.announcements = Math.max(worst.announcements, monitor.announcementsOf(floodClient))
      worst.inFlight = Math.max(worst.inFlight, monitor.inFlightTo(floodClient))
      worst.total = Math.max(worst.total, monitor.announcements)
    })
    const fetched = new Map<string, { tx: MempoolTx; floodInvs: number }>()
    monitor.on('tx', (t) => fetched.set(toHex(t.txid), { tx: t, floodInvs }))

    // The flood fills the flooder's budget first: at its cap, 100 in flight, the excess dropped.
    await until(() => monitor.droppedFrom(floodClient) > MAX_INV_SIZE, () => `two flood invs at the monitor (${floodInvs} so far)`, scaled(30_000))
    expect(monitor.announcementsOf(floodClient)).toBe(DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER)
    expect(monitor.inFlightTo(floodClient)).toBe(DEFAULT_MAX_IN_FLIGHT_PER_PEER)

    for (const tx of txs) {
      const id = toHex(txid(tx))
      const before = floodInvs
      honestPeer!.send({ command: 'inv', items: [{ type: InvType.MSG_WTX, hash: wtxid(tx) }] })
      await until(() => fetched.has(id), () => `honest tx ${id} fetched (flood invs: ${floodInvs}, pending ${monitor.pending})`, scaled(15_000))
      const at = fetched.get(id)!
      expect(at.tx.receivedFrom).toBe(at.tx.firstSeenBy)
      expect(at.floodInvs).toBeGreaterThanOrEqual(before)
      // ... and the flood is still going on after it.
      await until(() => floodInvs > at.floodInvs, () => `a flood inv after the fetch of ${id}`, scaled(15_000))
    }

    expect(served).toEqual(txs.map((t) => toHex(txid(t))))
    expect(floodClient.state).toBe('ready')
    expect(flood.running && flood.sent < MAX_FLOOD_INVS).toBe(true)
    // The flooder was asked for its first 100 hashes and nothing more.
    expect(flood.getdata).toBe(DEFAULT_MAX_IN_FLIGHT_PER_PEER)
    // The budget: never more than the cap for the flooder, nor peers x cap in all.
    expect(worst.announcements).toBe(DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER)
    expect(worst.inFlight).toBe(DEFAULT_MAX_IN_FLIGHT_PER_PEER)
    expect(worst.total).toBeLessThanOrEqual(2 * DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER)
    expect(monitor.ignoredAnnouncements).toBe(floodInvs * MAX_INV_SIZE - DEFAULT_MAX_ANNOUNCEMENTS_PER_PEER)
    console.log(
      `[mempool-flood tcp] flood invs sent ${flood.sent}, received ${floodInvs}; dropped ${monitor.ignoredAnnouncements}; ` +
        `honest txs fetched at flood inv ${[...fetched.values()].map((f) => f.floodInvs).join(', ')}`,
    )
    flood.running = false
  })
})
