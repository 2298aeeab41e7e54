/**
 * Virtual miners of different hash rates race on competing branches while a
 * HeaderSync, connected to all of them, follows the most-work tip.
 *
 * Every miner is a real session Peer on the mock network, serving
 * getheaders from its own branch of one shared block tree (SyntheticChain:
 * real mined regtest blocks) and announcing each block it mines by inv. In
 * virtual time over four hours:
 *  - "fast" mines every 10 min on its own branch, starting from the common
 *    base with no head start;
 *  - "slow" mines every 25 min on its own branch, with a 4-block head start
 *    (the slow-node race: it leads first, then the fast miner overtakes);
 *  - "honest" mines every 15 min on the most-work tip it sees among the
 *    three (2-block head start), so it joins whichever branch leads;
 *  - "cheat" announces a long branch whose first header misses its
 *    proof-of-work target: it must be dropped as misbehaving;
 *  - "laggard" offers a short fork off the base after the others have
 *    moved on: it is stored as a side branch and never adopted.
 * Mining times get a seeded jitter in [0, 30 s) on top of their fixed
 * schedule (offsets chosen so that no two miners are ever within 30 s).
 *
 * Ten virtual seconds after every block, the client's tip must be the
 * most-work tip among the three honest miners (on equal work: the one
 * mined first, Core's first-seen rule), and every reorg event must match
 * the tree: the fork point is the common ancestor, the disconnected blocks
 * are exactly the old branch above it and the connected ones the new branch,
 * up to its first block with more work. The same seed gives the same tips
 * and the same network trace.
 */
import { describe, expect, it } from 'vitest'
import { blockHash, bytesEqual, hashToHex, InvType, regtest, type BlockHeader } from '@bitp2p/wire'
import { MockNetwork, type SyntheticBlock } from '@bitp2p/transport-mock'
import { HeaderSync, Peer, PeerList, SeededRandom, type SyncReorg } from '@bitp2p/session'
import { checkHeaderPow, type HeaderEntry } from '@bitp2p/session/chain'
import { SyntheticChain } from '../driver/services/helpers.js'

const MINUTE = 60_000
/** Virtual duration of the race. */
const RUN_MS = 240 * MINUTE
/** Blocks every miner shares before the race. */
const BASE_BLOCKS = 5
/** Seeded jitter added to each mining time: below the 30 s gap between schedules. */
const JITTER_MS = 30_000
/** When the client's tip is checked after each block. */
const SETTLE_MS = 10_000
/** When the cheat and the laggard make their offers. */
const CHEAT_AT = 45 * MINUTE
const LAGGARD_AT = 100 * MINUTE
/** Length of the cheat's branch (its first header has bad proof of work). */
const CHEAT_BLOCKS = 40
/** Length of the laggard's fork off the base. */
const LAGGARD_BLOCKS = 3

interface MinerSpec {
  readonly name: string
  readonly intervalMin: number
  readonly offsetMin: number
  readonly headStart: number
  /** Mines on the most-work tip among the honest miners instead of its own branch. */
  readonly follows: boolean
}

/** Offsets 10, 7, 3 min with intervals 10, 15, 25: any two schedules differ by at least a minute (mod 5 arithmetic). */
const MINERS: readonly MinerSpec[] = [
  { name: 'fast', intervalMin: 10, offsetMin: 10, headStart: 0, follows: false },
  { name: 'slow', intervalMin: 25, offsetMin: 3, headStart: 4, follows: false },
  { name: 'honest', intervalMin: 15, offsetMin: 7, headStart: 2, follows: true },
]
const CHEAT = MINERS.length
const LAGGARD = MINERS.length + 1

/** Core's getheaders answer on one branch (the one ending at `tip`), as SyntheticChain.locate does on its active chain. */
function locateOnBranch(tip: SyntheticBlock, locator: readonly Uint8Array[], hashStop: Uint8Array): BlockHeader[] {
  const branch: SyntheticBlock[] = []
  for (let b: SyntheticBlock | undefined = tip; b !== undefined; b = b.parent) branch[b.height] = b
  let fork = 0
  for (const hash of locator) {
    const b = branch.find((x) => bytesEqual(x.hash, hash))
    if (b !== undefined) {
      fork = b.height
      break
    }
  }
  const out: BlockHeader[] = []
  for (let h = fork + 1; h < branch.length && out.length < 2000; h++) {
    out.push(branch[h]!.header)
    if (bytesEqual(branch[h]!.hash, hashStop)) break
  }
  return out
}

interface Violation {
  readonly at: number
  readonly what: string
}

interface RaceResult {
  /** "height:hash" of every 'tip' event, in order. */
  readonly tips: string[]
  readonly reorgs: { fork: number; disconnected: number; connected: number }[]
  readonly violations: Violation[]
  readonly checks: number
  readonly minedBy: Record<string, number>
  readonly finalTip: HeaderEntry
  readonly bestTip: SyntheticBlock
  readonly dropped: string[]
  readonly cheatClose: unknown
  readonly cheatHeaderKnown: boolean
  readonly laggardTip: SyntheticBlock
  readonly laggardStored: boolean
  readonly traceHash: string
}

async function race(seed: string): Promise<RaceResult> {
  const random = new SeededRandom(seed)
  const world = new SyntheticChain({ random: random.fork('world') })
  const base = world.fork(world.genesis.hash, BASE_BLOCKS).at(-1)!
  const t0 = base.header.time
  const tips: SyntheticBlock[] = MINERS.map((m) => (m.headStart > 0 ? world.fork(base.hash, m.headStart, { minerTag: `/${m.name}/` }).at(-1)! : base))
  const minedBy: Record<string, number> = Object.fromEntries(MINERS.map((m) => [m.name, m.headStart]))
  /** Most work among the honest tips; among equals the one added to the tree first. */
  const best = (): SyntheticBlock =>
    tips.reduce((a, b) => (b.chainWork > a.chainWork || (b.chainWork === a.chainWork && b.sequence < a.sequence) ? b : a))

  // The cheat's branch: 40 real blocks off the base, the first one re-nonced until it misses its target.
  const cheatBranch = world.fork(base.hash, CHEAT_BLOCKS, { minerTag: '/cheat/' }).map((b) => b.header)
  let badFirst = cheatBranch[0]!
  for (let nonce = 0; checkHeaderPow(badFirst, blockHash(badFirst), regtest).ok; nonce++) badFirst = { ...cheatBranch[0]!, nonce }
  const cheatHeaders = [badFirst, ...cheatBranch.slice(1)]

  const net = new MockNetwork({ seed, defaultLink: { latency: 50, jitter: 20 } })
  const clock = net.clock
  const remotes: Peer[] = []
  const addresses = []
  const n = MINERS.length + 2
  for (let i = 0; i < n; i++) {
    const listener = net.listen({ host: `10.0.1.${i + 1}`, port: 18444 })
    addresses.push(listener.address)
    listener.onConnection((t) => {
      void Peer.accept(t, {
        network: regtest,
        clock,
        random: random.fork(`miner-${i}`),
        userAgent: `/miner-${i}/`,
        startHeight: i < MINERS.length ? tips[i]!.height : i === CHEAT ? 0 : BASE_BLOCKS,
        setup: (peer) => {
          remotes[i] = peer
          peer.on('getheaders', (m) => {
            if (i === CHEAT) return void peer.send({ command: 'headers', headers: cheatHeaders })
            const tip = i < MINERS.length ? tips[i]! : laggardTip ?? base
            peer.send({ command: 'headers', headers: locateOnBranch(tip, m.locator, m.hashStop) })
          })
        },
      }).catch(() => undefined)
    })
  }
  let laggardTip: SyntheticBlock | undefined
  const connector = net.connector('10.0.9.9')
  const pending = addresses.map((addr, i) => Peer.connect(addr, { network: regtest, clock, random: random.fork(`client-${i}`), connector }))
  await clock.runAsync({ until: clock.now() + 1_000 })
  const clients = await Promise.all(pending)

  const sync = new HeaderSync({ source: new PeerList(clients), network: regtest, clock })
  const tipLog: string[] = []
  const reorgs: RaceResult['reorgs'] = []
  const violations: Violation[] = []
  const dropped: string[] = []
  let lastTip: HeaderEntry | undefined
  sync.on('tip', (t) => {
    tipLog.push(`${t.height}:${hashToHex(t.hash)}`)
    lastTip = t
  })
  sync.on('peer-dropped', (peer, offense) =>
    dropped.push(`${peer.remote.host} ${offense.kind}${offense.kind === 'invalid-header' ? ` ${offense.error.kind}` : ''}`),
  )
  sync.on('reorg', (r: SyncReorg) => checkReorg(r))
  const announce = (i: number, hash: Uint8Array): void => {
    const p = remotes[i]
    if (p?.state === 'ready') p.send({ command: 'inv', items: [{ type: InvType.MSG_BLOCK, hash }] })
  }

  /** A reorg must match the block tree exactly (see the module comment). */
  function checkReorg(r: SyncReorg): void {
    const at = clock.now()
    const bad = (what: string): void => void violations.push({ at, what })
    const old = lastTip ?? sync.tree.tip
    reorgs.push({ fork: r.fork.height, disconnected: r.disconnected.length, connected: r.connected.length })
    const oldTip = r.disconnected.at(-1)
    const newTip = r.connected.at(-1)
    if (!oldTip || !newTip) return bad('reorg with an empty side')
    if (!bytesEqual(oldTip.hash, old.hash)) bad(`reorg disconnected ${oldTip.height}, not the tip ${old.height}`)
    if (r.disconnected.length !== old.height - r.fork.height) bad('disconnected count is not old tip height - fork height')
    r.disconnected.forEach((e, k) => e.height !== r.fork.height + 1 + k && bad('disconnected heights not contiguous'))
    r.connected.forEach((e, k) => e.height !== r.fork.height + 1 + k && bad('connected heights not contiguous'))
    const oldBlock = world.get(oldTip.hash)
    const newBlock = world.get(newTip.hash)
    if (!oldBlock || !newBlock) return bad('reorg names a block the miners never mined')
    // The fork point is the last common ancestor: both branches pass through it and differ right above it.
    if (!bytesEqual(world.ancestorAt(oldBlock.hash, r.fork.height)!.hash, r.fork.hash)) bad('fork is not on the old branch')
    if (!bytesEqual(world.ancestorAt(newBlock.hash, r.fork.height)!.hash, r.fork.hash)) bad('fork is not on the new branch')
    if (bytesEqual(r.connected[0]!.hash, r.disconnected[0]!.hash)) bad('fork point is not the last common block')
    for (const e of r.connected) if (!bytesEqual(world.ancestorAt(newBlock.hash, e.height)!.hash, e.hash)) bad('connected block not on the new branch')
    // Strictly more work, and no more blocks than needed to get it (first-seen on ties).
    if (newBlock.chainWork <= oldBlock.chainWork) bad('reorg to a branch without more work')
    if (newBlock.parent!.chainWork > oldBlock.chainWork) bad('reorg happened later than the first block with more work')
  }

  // Mining schedules: miner i mines at offset + k * interval (+ jitter), announcing by inv; a check follows each block.
  let checks = 0
  const jitter = random.fork('jitter')
  const schedule = (i: number, k: number): void => {
    const m = MINERS[i]!
    const at = (m.offsetMin + k * m.intervalMin) * MINUTE + jitter.int(JITTER_MS)
    if (at > RUN_MS) return
    clock.setTimer(at - clock.now(), () => {
      const parent = m.follows ? best() : tips[i]!
      tips[i] = world.extend(parent.hash, { time: t0 + Math.floor(clock.now() / 1000), minerTag: `/${m.name}/` })
      minedBy[m.name]!++
      announce(i, tips[i]!.hash)
      clock.setTimer(SETTLE_MS, () => {
        checks++
        const want = best()
        const got = sync.tree.tip
        if (!bytesEqual(got.hash, want.hash)) {
          violations.push({ at: clock.now(), what: `tip ${got.height}:${hashToHex(got.hash).slice(0, 12)} but most work is ${want.height}:${hashToHex(want.hash).slice(0, 12)}` })
        }
      })
      schedule(i, k + 1)
    })
  }
  MINERS.forEach((_, i) => schedule(i, 0))
  clock.setTimer(CHEAT_AT - clock.now(), () => announce(CHEAT, blockHash(cheatBranch.at(-1)!)))
  clock.setTimer(LAGGARD_AT - clock.now(), () => {
    laggardTip = world.fork(base.hash, LAGGARD_BLOCKS, { minerTag: '/laggard/', time: t0 + Math.floor(clock.now() / 1000) }).at(-1)!
    announce(LAGGARD, laggardTip.hash)
  })

  await sync.start()
  await clock.runAsync({ until: RUN_MS + MINUTE })
  const result: RaceResult = {
    tips: tipLog,
    reorgs,
    violations,
    checks,
    minedBy,
    finalTip: sync.tree.tip,
    bestTip: best(),
    dropped,
    cheatClose: clients[CHEAT]!.closeReason,
    cheatHeaderKnown: cheatHeaders.some((h) => sync.tree.has(blockHash(h))),
    laggardTip: laggardTip!,
    laggardStored: laggardTip !== undefined && sync.tree.has(laggardTip.hash),
    traceHash: net.trace.hash(),
  }
  sync.stop()
  for (const c of clients) c.close()
  return result
}

describe('miners racing on competing branches', () => {
  it('HeaderSync ends on the most-work tip, reports every reorg exactly, drops the invalid-PoW peer, ignores a low-work fork', async () => {
    const r = await race('miners-1')
    if (process.env.SIM_VERBOSE) console.log(JSON.stringify({ minedBy: r.minedBy, reorgs: r.reorgs, tips: r.tips.length, checks: r.checks, final: r.finalTip.height }))

    expect(r.violations).toEqual([])
    // One check per block mined during the race (head starts excluded).
    expect(r.checks).toBe(Object.values(r.minedBy).reduce((a, b) => a + b, 0) - MINERS.reduce((a, m) => a + m.headStart, 0))
    expect(bytesEqual(r.finalTip.hash, r.bestTip.hash)).toBe(true)
    expect(r.finalTip.chainWork).toBe(r.bestTip.chainWork)
    // Exact for this seed (design rule 8): who mined what, every reorg (the slow miner led at first
    // and was overtaken: the first reorg leaves a branch it mined, at the base), the tips and the
    // final height. Re-pinned only on purpose, from SIM_VERBOSE=1's line.
    expect({ minedBy: r.minedBy, reorgs: r.reorgs, tips: r.tips.length, checks: r.checks, final: r.finalTip.height }).toEqual({
      minedBy: { fast: 23, slow: 14, honest: 18 },
      reorgs: [
        { fork: BASE_BLOCKS, disconnected: 16, connected: 17 },
        { fork: 22, disconnected: 2, connected: 3 },
        { fork: 25, disconnected: 2, connected: 3 },
      ],
      tips: 22,
      checks: 49,
      final: 29,
    })

    // The cheat: dropped as misbehaving for its first header, none of its headers kept.
    expect(r.dropped).toEqual(['10.0.1.4 invalid-header bad-pow'])
    expect(r.cheatClose).toMatchObject({ kind: 'misbehaving', score: 100, last: { kind: 'invalid-header', error: { kind: 'bad-pow' } } })
    expect(r.cheatHeaderKnown).toBe(false)

    // The laggard's short fork was downloaded and stored as a side branch, never adopted.
    expect(r.laggardStored).toBe(true)
    expect(r.laggardTip.chainWork).toBeLessThan(r.finalTip.chainWork)
    expect(r.tips.some((t) => t.endsWith(hashToHex(r.laggardTip.hash)))).toBe(false)
  })

  it('same seed, same race: identical tip sequence, reorgs and trace; another seed differs', async () => {
    const a = await race('miners-2')
    const b = await race('miners-2')
    expect(a.violations).toEqual([])
    if (process.env.SIM_VERBOSE) console.log(JSON.stringify({ seed: 'miners-2', tips: a.tips.length, reorgs: a.reorgs.length }))
    // Exact for this seed (design rule 8).
    expect({ tips: a.tips.length, reorgs: a.reorgs.length }).toEqual({ tips: 22, reorgs: 3 })
    expect(b.tips).toEqual(a.tips)
    expect(b.reorgs).toEqual(a.reorgs)
    expect(b.traceHash).toBe(a.traceHash)
    const c = await race('miners-3')
    expect(c.violations).toEqual([])
    expect(c.tips).not.toEqual(a.tips)
  })
})
