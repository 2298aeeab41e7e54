/**
 * Every promise the services hand out settles, within a bound computed from
 * their options, whatever the peers do.
 *
 * 1,000 seeded fault schedules. Each one: a client with three peers on the
 * mock network, every remote playing a behaviour drawn from the seed
 * (honest, silent, wrong block, notfound to everything, a corrupted block,
 * a block trickled out, a liar about its height, a remote that dies at a
 * random moment), on links with seeded latency, jitter and loss (a loss is
 * a reset). The client runs HeaderSync.synced(), BlockFetcher.fetch() of
 * the chain's blocks and Broadcaster.broadcast() of a transaction at once,
 * and each promise must settle (resolve, or reject with its typed error)
 * before its bound, in virtual time. The same seed gives the same outcomes.
 */
import { describe, expect, it } from 'vitest'
import { InvType, MSG_WITNESS_FLAG, regtest, type Block, type InvItem, type Transaction } from '@bitp2p/wire'
import { MockNetwork, TxFactory } from '@bitp2p/transport-mock'
import { BlockFetcher, BlockFetchError, Broadcaster, HeaderSync, HeaderSyncError, Peer, PeerError, PeerList, SeededRandom, type Transport } from '@bitp2p/session'
import { MIN_BLOCK_STREAM_BYTES_PER_SEC } from '@bitp2p/session/limits'
import { v2 } from '@bitp2p/session/v2'
import { dripFrames, SyntheticChain } from '../driver/services/helpers.js'

const SCHEDULES = Number(process.env.SETTLE_N ?? 1_000)
const REMOTES = 3
const BLOCKS = 6
const BEHAVIOURS = ['honest', 'silent', 'wrong-block', 'notfound', 'corrupt-block', 'trickle', 'liar', 'dies'] as const
type Behaviour = (typeof BEHAVIOURS)[number]

// The services' options, and the bounds they imply.
const HEADERS_TIMEOUT = 5_000
const BLOCK_TIMEOUT = 3_000
const PEER_WAIT = 8_000
const ATTEMPTS = 3
const BROADCAST_DEADLINE = 20_000
/** Connecting and handshaking, before the services start. */
const SETUP_MS = 2_000
/** Latency, jitter and queueing on the way, per step (generous: links here are <= 60 ms each way). */
const SLACK_MS = 1_000

/**
 * A block request ends within its idle deadline plus its stream budget
 * (timeout + length at the minimum rate), and a peer serves its requests
 * in order, so an attempt waits at most for every block ahead of it too.
 */
function fetchBound(maxBlockBytes: number): number {
  const perBlock = 2 * BLOCK_TIMEOUT + Math.ceil((maxBlockBytes * 1000) / MIN_BLOCK_STREAM_BYTES_PER_SEC) + SLACK_MS
  const attempt = BLOCKS * perBlock
  return ATTEMPTS * (attempt + PEER_WAIT) + PEER_WAIT + SLACK_MS
}
/** Each remote can hold the sync for one getheaders deadline before it is set aside or dropped; then the no-peers wait. */
const SYNC_BOUND = (REMOTES + 1) * (HEADERS_TIMEOUT + SLACK_MS) + PEER_WAIT + SLACK_MS

interface Outcome {
  readonly behaviours: readonly Behaviour[]
  readonly sync: string
  readonly fetch: string
  readonly broadcast: string
  readonly times: { readonly sync: number; readonly fetch: number; readonly broadcast: number }
  readonly bounds: { readonly sync: number; readonly fetch: number; readonly broadcast: number }
}

/** What a settled promise gave: 'ok' or the typed error's class and kind; anything else fails the test. */
function describeSettled(p: Promise<unknown>, at: (label: string) => void): Promise<void> {
  return p.then(
    () => at('ok'),
    (e: unknown) => {
      if (e instanceof BlockFetchError || e instanceof HeaderSyncError) return at(`${e.name}:${e.code}`)
      at(`untyped:${String(e)}`)
    },
  )
}

function chainOf(seed: string): SyntheticChain {
  const random = new SeededRandom(seed)
  const chain = new SyntheticChain({ random: random.fork('chain') })
  const factory = new TxFactory(random.fork('txs'))
  let parent = chain.genesis
  for (let h = 1; h <= BLOCKS; h++) parent = chain.extend(parent.hash, { time: parent.header.time + 600, txs: factory.batch(1 + random.int(4)) })
  return chain
}

/** A block with one output value changed: its merkle root no longer matches. */
function corrupt(b: Block): Block {
  const tx = b.txs[0]!
  return { header: b.header, txs: [{ ...tx, outputs: [{ ...tx.outputs[0]!, value: tx.outputs[0]!.value + 1n }, ...tx.outputs.slice(1)] }, ...b.txs.slice(1)] }
}

/** Remote behaviour on its session Peer. */
function play(peer: Peer, b: Behaviour, chain: SyntheticChain, clock: MockNetwork['clock'], random: SeededRandom): void {
  if (b === 'silent') return
  if (b === 'dies') {
    clock.setTimer(random.int(20_000), () => peer.close('dies'))
  }
  peer.on('getheaders', (m) => peer.send({ command: 'headers', headers: chain.locate(m.locator, m.hashStop).map((x) => x.header) }))
  peer.on('inv', (m) => {
    const want = m.items.filter((it) => (it.type & ~MSG_WITNESS_FLAG) >>> 0 === InvType.MSG_TX || it.type === InvType.MSG_WTX)
    if (want.length > 0 && b !== 'notfound') peer.send({ command: 'getdata', items: want })
  })
  peer.on('getdata', (m) => {
    const missing: InvItem[] = []
    for (const it of m.items) {
      const block = chain.block(it.hash)
      if ((it.type & ~MSG_WITNESS_FLAG) >>> 0 !== InvType.MSG_BLOCK || !block || b === 'notfound') {
        missing.push(it)
        continue
      }
      if (b === 'wrong-block') peer.send({ command: 'block', block: chain.atHeight(1)!.block! })
      else if (b === 'corrupt-block') peer.send({ command: 'block', block: corrupt(block) })
      else peer.send({ command: 'block', block })
    }
    if (missing.length > 0) peer.send({ command: 'notfound', items: missing })
  })
}

async function schedule(seed: number): Promise<Outcome> {
  const random = new SeededRandom(`settle-${seed}`)
  const chain = chainOf(`settle-chain-${seed % 16}`)
  const tx: Transaction = new TxFactory(random.fork('tx')).next()
  const net = new MockNetwork({
    seed: `settle-${seed}`,
    defaultLink: { latency: 5 + random.int(50), jitter: random.int(10), loss: random.float() < 0.2 ? 0.002 : 0, maxChunk: random.float() < 0.5 ? 1 + random.int(600) : Infinity },
  })
  const clock = net.clock
  const behaviours: Behaviour[] = Array.from({ length: REMOTES }, () => BEHAVIOURS[random.int(BEHAVIOURS.length)]!)
  const streamBlocks = random.float() < 0.5
  // One schedule in eight speaks v2 (its handshake is milliseconds of CPU per side; the rest stay v1).
  const transport = random.float() < 0.125 ? 'v2-first' : 'v1'
  for (let i = 0; i < REMOTES; i++) {
    const b = behaviours[i]!
    const listener = net.listen({ host: `10.0.1.${i + 1}`, port: 18444 })
    listener.onConnection((raw) => {
      const t: Transport = b === 'trickle' ? dripFrames(raw, clock, 'block', 200, 1_000) : raw
      void Peer.accept(t, {
        network: regtest,
        clock,
        random: random.fork(`remote-${i}`),
        startHeight: b === 'liar' ? 1_000 : BLOCKS,
        setup: (peer) => play(peer, b, chain, clock, random.fork(`play-${i}`)),
      }).catch(() => undefined)
    })
  }
  const connector = net.connector('10.0.9.9', { timeout: SETUP_MS / 2 })
  const connecting = Array.from({ length: REMOTES }, (_, i) =>
    Peer.connect({ host: `10.0.1.${i + 1}`, port: 18444 }, { network: regtest, clock, random: random.fork(`client-${i}`), connector, streamBlocks, transport, v2 }),
  )
  const connected = Promise.allSettled(connecting)
  await clock.runAsync({ until: clock.now() + SETUP_MS })
  const clients: Peer[] = []
  for (const r of await connected) {
    if (r.status === 'fulfilled') clients.push(r.value)
    else expect(r.reason).toBeInstanceOf(PeerError)
  }
  const source = new PeerList(clients)

  const sync = new HeaderSync({ source, network: regtest, clock, requestTimeoutMs: HEADERS_TIMEOUT, peerWaitMs: PEER_WAIT, staleTipMs: 10 * 60_000 })
  const fetcher = new BlockFetcher({ source, network: regtest, clock, timeoutMs: BLOCK_TIMEOUT, peerWaitMs: PEER_WAIT, maxAttempts: ATTEMPTS })
  const broadcaster = new Broadcaster({ source, clock })
  const start = clock.now()
  const results: Record<'sync' | 'fetch' | 'broadcast', string | undefined> = { sync: undefined, fetch: undefined, broadcast: undefined }
  const times = { sync: -1, fetch: -1, broadcast: -1 }
  const record = (k: keyof typeof results) => (label: string) => {
    results[k] = label
    times[k] = clock.now() - start
  }
  await sync.start()
  const hashes = Array.from({ length: BLOCKS }, (_, h) => chain.atHeight(h + 1)!.hash)
  const maxBlockBytes = Math.max(...hashes.map((h) => chain.rawBlock(h)!.length))
  const bounds = { sync: SYNC_BOUND, fetch: fetchBound(maxBlockBytes), broadcast: BROADCAST_DEADLINE + SLACK_MS }
  const all = Promise.all([
    describeSettled(sync.synced(), record('sync')),
    describeSettled(fetcher.fetch(hashes).done, record('fetch')),
    describeSettled(broadcaster.broadcast(tx, { deadlineMs: BROADCAST_DEADLINE, reannounceMs: 5_000 }), record('broadcast')),
  ])
  // Run virtual time until everything settled, never past the largest bound.
  const limit = start + Math.max(bounds.sync, bounds.fetch, bounds.broadcast) + 1
  while (Object.values(results).includes(undefined) && clock.now() < limit) await clock.runAsync({ until: Math.min(limit, clock.now() + 1_000) })
  sync.stop()
  for (const c of clients) c.close()
  await clock.runAsync({ until: clock.now() + 1_000 })
  if (!Object.values(results).includes(undefined)) await all
  return {
    behaviours,
    sync: results.sync ?? 'unsettled',
    fetch: results.fetch ?? 'unsettled',
    broadcast: results.broadcast ?? 'unsettled',
    times,
    bounds,
  }
}

describe('every fetch, broadcast and sync promise settles', () => {
  it(`within its bound, across ${SCHEDULES} seeded fault schedules`, { timeout: 600_000 }, async () => {
    const tally = new Map<string, number>()
    for (let seed = 0; seed < SCHEDULES; seed++) {
      const o = await schedule(seed)
      for (const k of ['sync', 'fetch', 'broadcast'] as const) {
        const what = `seed ${seed} (${o.behaviours.join(', ')}): ${k} ${o[k]} after ${o.times[k]} ms, bound ${o.bounds[k]} ms`
        expect(o[k], what).not.toBe('unsettled')
        expect(o[k], what).not.toMatch(/^untyped/)
        expect(o.times[k], what).toBeLessThanOrEqual(o.bounds[k])
        tally.set(`${k} ${o[k]}`, (tally.get(`${k} ${o[k]}`) ?? 0) + 1)
      }
    }
    console.log('settle outcomes:', Object.fromEntries([...tally].sort()))
  })

  it('the same seed gives the same outcomes and times', async () => {
    for (const seed of [3, 17, 404]) expect(await schedule(seed)).toEqual(await schedule(seed))
  })
})
