/**
 * Two peers on the mock network, in virtual time: Alice dials Bob, they
 * handshake, Alice asks for headers and measures a ping, then hangs up.
 *
 * Bob answers getheaders with three headers that continue Alice's locator.
 * Everything is seeded, so the output is the same on every run. Executed by
 * test/session/examples/two-peers.test.ts.
 */
import { MockNetwork } from '@bitp2p/transport-mock'
import { blockHash, hashToHex, type BlockHeader, type FramingParams } from '@bitp2p/wire'
import { Peer, SeededRandom } from '@bitp2p/session'
import { v2 } from '@bitp2p/session/v2'

/** Regtest framing: magic fabfb5da and Core's 4 MB caps (wire's `regtest` params satisfy this too). */
const REGTEST: FramingParams = { magic: Uint8Array.of(0xfa, 0xbf, 0xb5, 0xda), maxMessageBytes: 4_000_000, maxBlockPayload: 4_000_000 }

/** A chain of `n` headers after `prev` (no proof of work: the peers do not validate). */
function chainAfter(prev: Uint8Array, n: number): BlockHeader[] {
  const out: BlockHeader[] = []
  for (let i = 0; i < n; i++) {
    const h: BlockHeader = { version: 4, prevBlock: prev, merkleRoot: new Uint8Array(32).fill(i), time: 1_700_000_000 + i * 600, bits: 0x207fffff, nonce: i }
    out.push(h)
    prev = blockHash(h)
  }
  return out
}

/** Runs the example; returns what happened, one line per event. */
export async function runTwoPeers(seed = 'two-peers'): Promise<string[]> {
  const log: string[] = []
  const net = new MockNetwork({ seed, defaultLink: { latency: 25 } })
  const clock = net.clock
  const random = new SeededRandom(seed)

  // Bob listens and serves headers.
  const listener = net.listen({ host: '10.0.0.1', port: 18444 })
  listener.onConnection((transport) => {
    void Peer.accept(transport, {
      network: REGTEST,
      clock,
      random: random.fork('bob'),
      userAgent: '/bob:1.0/',
      v2,
      setup: (bob) => {
        bob.on('getheaders', (m) => bob.send({ command: 'headers', headers: chainAfter(m.locator[0]!, 3) }))
        bob.on('close', (reason) => log.push(`${net.now()} ms bob: closed (${reason.kind})`))
      },
    }).catch((e: unknown) => log.push(`bob: ${String(e)}`))
  })

  // Alice dials, syncs a little, and leaves.
  const alice = (async () => {
    const peer = await Peer.connect(listener.address, {
      network: REGTEST,
      clock,
      random: random.fork('alice'),
      connector: net.connector('10.0.0.2'),
      userAgent: '/alice:1.0/',
      v2, // BIP324: the encrypted transport, v1 as a fallback
    })
    const info = peer.info!
    log.push(
      `${net.now()} ms alice: connected to ${info.peer.userAgent} (transport v${peer.transportVersion}, version ${info.negotiatedVersion}, wtxidrelay ${info.features.wtxidRelay})`,
    )
    const genesis = new Uint8Array(32)
    const headers = await peer.getHeaders([genesis])
    log.push(`${net.now()} ms alice: ${headers.length} headers, tip ${hashToHex(blockHash(headers[headers.length - 1]!)).slice(0, 16)}...`)
    const rtt = await peer.ping()
    log.push(`${net.now()} ms alice: ping ${rtt} ms`)
    peer.close('done')
    log.push(`${net.now()} ms alice: closed (${(await peer.closed).kind})`)
  })()

  await clock.runAsync({ until: 60_000 })
  await alice
  return log
}
