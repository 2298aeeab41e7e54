import { describe, expect, it } from 'vitest'
import { blockTxids, concatBytes, hashToHex, parseBlock, regtest, serializeBlock, toHex, type Block } from '@bitp2p/wire'
import { blockWtxids } from '@bitp2p/wire/consensus'
import { type BlockChunkEvent, type BlockDoneEvent, BlockFetcher, BlockFetchError, PeerList, SeededRandom } from '@bitp2p/session'
import { HeaderTree } from '@bitp2p/session/chain'
import { TxFactory } from '@bitp2p/transport-mock'
import { dripFrames, serveBlocks, simulate, SyntheticChain } from './helpers.js'

/** 50 blocks of 1..6 synthetic transactions after the coinbase (most segwit: witness commitments). */
function chainWithTxs(seed: string, n = 50): SyntheticChain {
  const random = new SeededRandom(seed)
  const chain = new SyntheticChain({ random: random.fork('chain') })
  const factory = new TxFactory(random.fork('txs'))
  let parent = chain.genesis
  for (let h = 1; h <= n; h++) {
    parent = chain.extend(parent.hash, { time: parent.header.time + 600, txs: factory.batch(1 + random.int(6)) })
  }
  return chain
}

function treeOf(chain: SyntheticChain): HeaderTree {
  const tree = new HeaderTree(regtest)
  for (let h = 1; h <= chain.tip.height; h++) tree.accept(chain.atHeight(h)!.header)
  return tree
}

describe.each([
  ['streamed payloads', true],
  ['whole block messages', false],
])('BlockFetcher over %s', (_name, streamBlocks) => {
  it('fetches 50 blocks over 3 peers within the window; chunks match a whole-block parse', async () => {
    const chain = chainWithTxs('bf-50')
    const outstanding = [0, 0, 0]
    const maxOutstanding = [0, 0, 0]
    const served = [0, 0, 0]
    let clock = (): import('@bitp2p/session').Clock => {
      throw new Error('no clock yet')
    }
    const sim = await simulate({
      seed: 'bf-50',
      n: 3,
      client: { streamBlocks },
      script: (i, p) => {
        // Each block is sent 40 ms after its getdata: requests pile up to the window.
        p.on('getdata', () => {
          outstanding[i]!++
          maxOutstanding[i] = Math.max(maxOutstanding[i]!, outstanding[i]!)
        })
        p.on('getdata', (m) => {
          for (const it of m.items) {
            const block = chain.block(it.hash)!
            clock().setTimer(40, () => {
              outstanding[i]!--
              served[i]!++
              p.send({ command: 'block', block })
            })
          }
        })
      },
    })
    clock = () => sim.clock
    const tree = treeOf(chain)
    const fetcher = new BlockFetcher({ source: new PeerList(sim.clients), network: regtest, tree, chunkSize: 200, maxInFlightPerPeer: 4 })
    const download = fetcher.fetchRange(1, 50)
    // Which path the client's Peers take: streamed payload pieces, or decoded block messages.
    let payloadEvents = 0
    let blockMessages = 0
    for (const c of sim.clients) {
      c.on('payload', () => payloadEvents++)
      c.on('block', () => blockMessages++)
    }
    const chunks = new Map<string, BlockChunkEvent[]>()
    const blocks: BlockDoneEvent[] = []
    const consumed = (async () => {
      for await (const ev of download) {
        if (ev.type === 'block') blocks.push(ev)
        else {
          const key = toHex(ev.hash)
          if (!chunks.has(key)) chunks.set(key, [])
          chunks.get(key)!.push(ev)
        }
      }
    })()
    await sim.run(10_000)
    await consumed
    expect(await download.done).toEqual({ blocks: 50, bytes: blocks.reduce((s, b) => s + b.size, 0) })

    expect(blocks).toHaveLength(50)
    if (streamBlocks) expect([payloadEvents > 0, blockMessages]).toEqual([true, 0])
    else expect([payloadEvents, blockMessages]).toEqual([0, 50])
    expect(new Set(blocks.map((b) => b.height))).toEqual(new Set(Array.from({ length: 50 }, (_, i) => i + 1)))
    expect(maxOutstanding.every((m) => m <= 4)).toBe(true)
    expect(maxOutstanding.some((m) => m === 4)).toBe(true)
    expect(served.every((s) => s > 0)).toBe(true)
    expect(served.reduce((a, b) => a + b)).toBe(50)

    for (const b of blocks) {
      const sb = chain.get(b.hash)!
      const raw = serializeBlock(sb.block as Block)
      const parsed = parseBlock(raw)
      expect(b.height).toBe(sb.height)
      expect(b.size).toBe(raw.length)
      expect(b.txCount).toBe(parsed.txs.length)
      expect(b.merkleRootVerified).toBe(true)
      expect(b.witnessCommitment).toBe(parsed.txs.slice(1).some((t) => t.inputs.some((i) => (i.witness?.length ?? 0) > 0)) ? 'verified' : 'none')
      // The chunks are the block, in order, 200 bytes each but the last.
      const cs = chunks.get(toHex(b.hash))!
      expect(cs.map((c) => c.chunkIndex)).toEqual(cs.map((_, i) => i))
      expect(b.chunks).toBe(cs.length)
      expect(toHex(concatBytes(...cs.map((c) => c.bytes)))).toBe(toHex(raw))
      expect(cs.slice(0, -1).every((c) => c.bytes.length === 200)).toBe(true)
      cs.forEach((c, i) => expect(c.offset).toBe(i * 200))
      // Transactions: offsets, lengths and ids as a whole-block parse gives them, each in the chunk where it ends.
      const txs = cs.flatMap((c) => c.txs.map((t) => ({ ...t, chunk: c.chunkIndex })))
      const txids = blockTxids(parsed)
      const wtxids = blockWtxids(parsed)
      expect(txs.map((t) => [t.index, t.offset, t.length, toHex(t.txid), toHex(t.wtxid)])).toEqual(
        parsed.txLayouts.map((l, i) => [i, l.start, l.end - l.start, toHex(txids[i]!), toHex(wtxids[i]!)]),
      )
      for (const t of txs) expect(Math.floor((t.offset + t.length - 1) / 200)).toBe(t.chunk)
    }
  })

  it('fails over from a stalling peer', async () => {
    const chain = chainWithTxs('bf-stall', 12)
    const asked = [0, 0]
    const sim = await simulate({
      seed: 'bf-stall',
      n: 2,
      client: { streamBlocks },
      script: (i, p) => {
        p.on('getdata', () => asked[i]!++)
        // Remote 0 accepts getdata and never answers.
        if (i === 1) serveBlocks(p, chain)
      },
    })
    const fetcher = new BlockFetcher({ source: new PeerList(sim.clients), network: regtest, maxInFlightPerPeer: 3, timeoutMs: 2_000 })
    const hashes = Array.from({ length: 12 }, (_, h) => chain.atHeight(h + 1)!.hash)
    const download = fetcher.fetch(hashes)
    const retries: string[] = []
    download.on('retry', (r) => retries.push(`${hashToHex(r.hash)} ${r.previousPeer}`))
    const got: string[] = []
    download.on('block', (b) => got.push(hashToHex(b.hash)))
    await sim.run(10_000)
    await download.done

    expect(new Set(got)).toEqual(new Set(hashes.map(hashToHex)))
    expect(asked[0]).toBe(3)
    expect(retries).toHaveLength(3)
    expect(retries.every((r) => r.endsWith(sim.remotes[0]!.label))).toBe(true)
    // The Peer's stall policy disconnected the silent peer.
    expect(sim.clients[0]!.closeReason?.kind).toBe('stalled')
  })

  it('rejects a corrupted block with a typed error and gets it from another peer', async () => {
    const chain = chainWithTxs('bf-bad', 6)
    const target = chain.atHeight(4)!
    const good = target.block!
    // Same header, one output value changed: the merkle root no longer matches.
    const tx1 = good.txs[1]!
    const corrupted: Block = {
      header: good.header,
      txs: [good.txs[0]!, { ...tx1, outputs: [{ ...tx1.outputs[0]!, value: tx1.outputs[0]!.value + 1n }, ...tx1.outputs.slice(1)] }, ...good.txs.slice(2)],
    }
    const sim = await simulate({
      seed: 'bf-bad',
      n: 2,
      client: { streamBlocks },
      script: (i, p) => {
        if (i === 1) return serveBlocks(p, chain)
        p.on('getdata', (m) => {
          for (const it of m.items) p.send({ command: 'block', block: toHex(it.hash) === toHex(target.hash) ? corrupted : chain.block(it.hash)! })
        })
      },
    })
    const fetcher = new BlockFetcher({ source: new PeerList(sim.clients), network: regtest, chunkSize: 100 })
    const download = fetcher.fetch([target.hash])
    const invalid: BlockFetchError[] = []
    download.on('invalid-block', (e) => invalid.push(e))
    const done: BlockDoneEvent[] = []
    download.on('block', (b) => done.push(b))
    await sim.run(5_000)
    await download.done

    expect(invalid).toHaveLength(1)
    expect(invalid[0]).toBeInstanceOf(BlockFetchError)
    expect(invalid[0]!.code).toBe('invalid-block')
    expect(invalid[0]!.error?.code).toBe('BAD_MERKLE_ROOT')
    expect(invalid[0]!.hash).toBe(hashToHex(target.hash))
    expect(invalid[0]!.peer).toBe(sim.remotes[0]!.label)
    expect(sim.clients[0]!.closeReason).toMatchObject({
      kind: 'misbehaving',
      score: 100,
      last: { kind: 'invalid-block', hash: hashToHex(target.hash), error: { code: 'BAD_MERKLE_ROOT' } },
    })
    expect(done.map((b) => b.peer)).toEqual([sim.remotes[1]!.label])
  })
})

describe.each([
  ['streamed payloads', true],
  ['whole block messages', false],
])('BlockFetcher: every download settles (%s)', (_name, streamBlocks) => {
  const timeoutMs = 2_000
  const peerWaitMs = 5_000

  /** One remote that answers every getdata with the wrong block (block 1 of the chain). */
  const wrongBlock = (chain: SyntheticChain) => (i: number, p: import('@bitp2p/session').Peer) => {
    if (i === 0) p.on('getdata', () => p.send({ command: 'block', block: chain.atHeight(1)!.block! }))
    else serveBlocks(p, chain)
  }

  it('a peer that answers with another block is scored, stalls, and is dropped; with no peer left the download fails "no-peers" after peerWaitMs', async () => {
    const chain = chainWithTxs('bf-wrong', 3)
    const sim = await simulate({ seed: 'bf-wrong', n: 1, client: { streamBlocks }, script: wrongBlock(chain) })
    const offenses: string[] = []
    sim.clients[0]!.on('misbehavior', (o) => offenses.push(o.kind))
    const fetcher = new BlockFetcher({ source: new PeerList(sim.clients), network: regtest, clock: sim.clock, timeoutMs, peerWaitMs })
    const start = sim.clock.now()
    const download = fetcher.fetch([chain.tip.hash])
    let settledAt: number | undefined
    const outcome = download.done.then(
      () => 'resolved',
      (e: unknown) => ((settledAt = sim.clock.now()), e),
    )
    const iterated = (async () => {
      try {
        for await (const _ of download) void _
        return 'ended'
      } catch (e) {
        return e
      }
    })()
    await sim.run(30_000)

    expect(offenses).toEqual(['unsolicited-block'])
    expect(sim.clients[0]!.closeReason).toMatchObject({ kind: 'stalled', waitedMs: timeoutMs })
    const err = await outcome
    expect(err).toBeInstanceOf(BlockFetchError)
    expect(err).toMatchObject({ code: 'no-peers', hash: hashToHex(chain.tip.hash), waitedMs: peerWaitMs })
    expect(await iterated).toBe(err)
    // Stall, then the wait: within one stall deadline, the wait and a few link latencies of the start.
    expect(settledAt! - start).toBeLessThanOrEqual(timeoutMs + peerWaitMs + 100)
  })

  it('a peer that turns up within peerWaitMs takes the block over', async () => {
    const chain = chainWithTxs('bf-late-peer', 3)
    const sim = await simulate({ seed: 'bf-late-peer', n: 2, client: { streamBlocks }, script: wrongBlock(chain) })
    const source = new PeerList([sim.clients[0]!])
    const fetcher = new BlockFetcher({ source, network: regtest, clock: sim.clock, timeoutMs, peerWaitMs })
    const download = fetcher.fetch([chain.tip.hash])
    const blocks: BlockDoneEvent[] = []
    download.on('block', (b) => blocks.push(b))
    await sim.run(timeoutMs + peerWaitMs - 1_000)
    expect(source.peers()).toEqual([])
    source.add(sim.clients[1]!)
    await sim.run(1_000)
    expect(await download.done).toMatchObject({ blocks: 1 })
    expect(blocks.map((b) => [hashToHex(b.hash), b.peer])).toEqual([[hashToHex(chain.tip.hash), sim.remotes[1]!.label]])
  })

  it('a block trickled out slowly stalls when its stream budget runs out and is fetched from another peer', async () => {
    const chain = chainWithTxs('bf-drip', 3)
    const sim = await simulate({
      seed: 'bf-drip',
      n: 2,
      client: { streamBlocks },
      // Remote 0 sends blocks 100 bytes every 500 ms: steady progress at 200 B/s, far below MIN_BLOCK_STREAM_BYTES_PER_SEC.
      wrap: (i, t, clock) => (i === 0 ? dripFrames(t, clock, 'block', 100, 500) : t),
      script: (_, p) => serveBlocks(p, chain),
    })
    const fetcher = new BlockFetcher({ source: new PeerList(sim.clients), network: regtest, clock: sim.clock, timeoutMs, maxInFlightPerPeer: 1 })
    const target = chain.tip.hash
    const download = fetcher.fetch([target])
    const retries: string[] = []
    download.on('retry', (r) => retries.push(r.previousPeer))
    const blocks: BlockDoneEvent[] = []
    download.on('block', (b) => blocks.push(b))
    await sim.run(60_000)
    await download.done

    expect(retries).toEqual([sim.remotes[0]!.label])
    expect(blocks.map((b) => b.peer)).toEqual([sim.remotes[1]!.label])
    // Every piece was progress (a Peer gathering whole blocks counts them too); the stream's time budget ended it.
    const reason = sim.clients[0]!.closeReason
    expect(reason).toMatchObject({ kind: 'stalled', stream: { length: blocks[0]!.size } })
    expect(reason?.kind === 'stalled' && reason.waitedMs).toBeLessThan(timeoutMs)
  })
})

describe('BlockFetcher', () => {
  it('fails the download with "exhausted" after maxAttempts notfound answers', async () => {
    const chain = chainWithTxs('bf-exhaust', 2)
    const sim = await simulate({ seed: 'bf-exhaust', n: 1, script: (_, p) => p.on('getdata', (m) => p.send({ command: 'notfound', items: m.items })) })
    const fetcher = new BlockFetcher({ source: new PeerList(sim.clients), network: regtest, maxAttempts: 2 })
    const download = fetcher.fetch([chain.tip.hash])
    const iterated = (async () => {
      try {
        for await (const _ of download) void _
        return 'ended'
      } catch (e) {
        return e
      }
    })()
    await sim.run(2_000)
    const err = await download.done.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BlockFetchError)
    expect((err as BlockFetchError).code).toBe('exhausted')
    expect(await iterated).toBe(err)
  })

  it('refuses a chunk size too small to hold a header and the transaction count', () => {
    expect(() => new BlockFetcher({ source: new PeerList(), network: regtest, chunkSize: 88 })).toThrow(RangeError)
  })
})
