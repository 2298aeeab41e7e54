/**
 * CompactRelay on the mock network, in virtual time: a scripted remote
 * speaks BIP152 (pushes a cmpctblock when asked for high-bandwidth mode,
 * answers getblocktxn and getdata for the block), the client runs the relay
 * with some of the block's transactions already held. Seeded; same seed,
 * same run.
 */
import { describe, expect, it } from 'vitest'
import { blockHash, InvType, MSG_WITNESS_FLAG, type Block, type KnownMessage, type Transaction } from '@bitp2p/wire'
import { PeerList, type Peer } from '@bitp2p/session'
import { CompactRelay, type CompactBlockEvent, type CompactVersion } from '@bitp2p/session/compact'
// The BIP152 fixtures are session's (its machine tests use them); turbo.json lists the file as an input here.
import { makeBlock, makeCmpct, makeTx } from '../../../../../../packages/session/test/core/compact-fixtures.js'
import { simulate } from './helpers.js'

const body: Transaction[] = Array.from({ length: 8 }, (_, i) => makeTx(i + 1, true))
const block: Block = makeBlock(body)

/** Remote behaviour: BIP152 for `block`; `blocktxn` decides what answers a getblocktxn. */
function serveCompact(peer: Peer, opts: { blocktxn?: (asked: readonly number[]) => Transaction[]; extra?: KnownMessage[] } = {}): void {
  peer.on('sendcmpct', (m) => {
    if (!m.announce) return
    peer.send(makeCmpct(block, Number(m.version) as CompactVersion))
    for (const x of opts.extra ?? []) peer.send(x)
  })
  peer.on('getblocktxn', (m) => {
    const txs = opts.blocktxn ? opts.blocktxn(m.indexes) : m.indexes.map((i) => block.txs[i]!)
    peer.send({ command: 'blocktxn', blockHash: m.blockHash, txs })
  })
  peer.on('getdata', (m) => {
    for (const it of m.items) if (((it.type & ~MSG_WITNESS_FLAG) >>> 0) === InvType.MSG_BLOCK) peer.send({ command: 'block', block })
  })
}

async function run(seed: string, script: (peer: Peer) => void, held: readonly Transaction[]) {
  const sim = await simulate({ seed, n: 1, script: (_, p) => script(p) })
  const client = sim.clients[0]!
  const relay = new CompactRelay({ source: new PeerList([client]), clock: sim.clock, highBandwidth: true })
  for (const tx of held) relay.addTx(tx)
  const blocks: CompactBlockEvent[] = []
  const log: string[] = []
  relay.on('block', (e) => blocks.push(e))
  relay.on('fallback', (f) => log.push(`fallback ${f.reason}`))
  relay.on('failed', (f) => log.push(`failed ${f.reason}`))
  relay.on('offense', (o) => log.push(`offense ${o.offense.kind}`))
  relay.start()
  await sim.run(2_000)
  relay.stop()
  return { client, blocks, log, relay }
}

describe('CompactRelay (mock network, high-bandwidth)', () => {
  it('rebuilds a pushed cmpctblock with one getblocktxn for the transactions it lacks', async () => {
    const { client, blocks, log, relay } = await run('cmpct-1', (p) => serveCompact(p), body.slice(2))
    expect(log).toEqual([])
    expect(blocks).toHaveLength(1)
    // The mock remote offers no NODE_WITNESS: version 1, short ids of txids.
    expect(blocks[0]).toMatchObject({ how: 'blocktxn', version: 1, stats: { fromMempool: 6, fetched: 2 } })
    expect(blockHash(blocks[0]!.block.header)).toEqual(blockHash(block.header))
    expect(relay.poolSize).toBe(0)
    expect(client.misbehaviorScore).toBe(0)
  })

  it('a blocktxn that does not fit: the full block, and the peer is not punished', async () => {
    const wrong = (asked: readonly number[]) => asked.map((i) => makeTx(100 + i, true))
    const { client, blocks, log } = await run('cmpct-2', (p) => serveCompact(p, { blocktxn: wrong }), body.slice(2))
    expect(log).toEqual(['fallback blocktxn-mismatch'])
    expect(blocks.map((b) => [b.how, b.fallback])).toEqual([['full', 'blocktxn-mismatch']])
    expect(client.misbehaviorScore).toBe(0)
    expect(client.state).toBe('ready')
  })

  it('a blocktxn for a block it was never asked about is scored', async () => {
    const other = makeBlock([makeTx(50, true)], { height: 9 })
    const stray: KnownMessage = { command: 'blocktxn', blockHash: blockHash(other.header), txs: other.txs }
    const { client, blocks, log } = await run('cmpct-3', (p) => serveCompact(p, { extra: [stray] }), body)
    expect(blocks.map((b) => b.how)).toEqual(['mempool'])
    expect(log).toEqual(['offense unsolicited-blocktxn'])
    expect(client.misbehaviorScore).toBe(10)
  })
})
