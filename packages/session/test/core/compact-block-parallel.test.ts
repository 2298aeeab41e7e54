/**
 * CompactBlockMachine, as a specification of two things beyond one peer's
 * reconstruction:
 *  - parallel attempts: in high-bandwidth mode up to 3 peers push the same
 *    block; each cmpctblock is an attempt of its own, the first to complete
 *    delivers, one peer's failure neither ends the others nor (unless
 *    provably wrong) gets anyone punished, and the full block is asked for
 *    once, when every attempt failed;
 *  - the extra transactions: a bounded ring of transactions seen but not in
 *    the mempool view, matched beside it.
 * Peers are plain strings; time is a number we pass in. Each peer's
 * cmpctblock has its own nonce, so its own short ids, as real peers' do.
 */
import { describe, expect, it } from 'vitest'
import { blockHash, hashToHex, InvType, txid, txSize, wtxid, type Block, type Transaction } from '@bitp2p/wire'
import {
  COMPACT_ATTEMPTS_PER_BLOCK_LIFETIME_FACTOR,
  COMPACT_EXTRA_TXS_PER_MESSAGE_DIVISOR,
  CompactBlockMachine,
  DEFAULT_BLOCKTXN_TIMEOUT_MS,
  DEFAULT_COMPACT_EXTRA_TXS,
  DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS,
  MAX_COMPACT_LEARNED_BYTES,
  MAX_COMPACT_PEERS_PER_BLOCK,
  type CompactAction,
  type CompactBlockConfig,
  type CompactCandidate,
} from '../../src/core/compact-block.js'
import { candidate, makeBlock, makeCmpct, makeTx } from './compact-fixtures.js'

const T0 = 1_000
const txs = (from: number, n: number, witness = true): Transaction[] => Array.from({ length: n }, (_, i) => makeTx(from + i, witness))
/** Each peer's own nonce, as real peers pick theirs. */
const NONCE: Record<string, bigint> = { a: 0x0a0a0a0a0a0a0a0an, b: 0x0b0b0b0b0b0b0b0bn, c: 0x0c0c0c0c0c0c0c0cn, d: 0x0d0d0d0d0d0d0d0dn }

function machine(cfg: CompactBlockConfig = {}): CompactBlockMachine<string> {
  return new CompactBlockMachine<string>(cfg)
}

/** `peer` pushes its cmpctblock of `block` (version 2, prefilled: the coinbase unless given); we hold `held`. */
function push(m: CompactBlockMachine<string>, now: number, peer: string, block: Block, held: readonly Transaction[], prefilled?: readonly number[]): void {
  m.cmpctblock(now, peer, makeCmpct(block, 2, { nonce: NONCE[peer]!, prefilled }), 2, held.map(candidate))
}

/** Actions as short lines: "send a getblocktxn 3,8", "block b mempool", "skipped c known"... */
function lines(actions: CompactAction<string>[]): string[] {
  return actions.map((a) => {
    switch (a.type) {
      case 'send':
        return a.message.command === 'getblocktxn' ? `send ${a.peer} getblocktxn ${a.message.indexes.join(',')}` : `send ${a.peer} ${a.message.command}`
      case 'request-block':
        return `request-block ${a.peer} ${a.item.type === InvType.MSG_WITNESS_BLOCK ? 'witness-block' : a.item.type}`
      case 'block':
        return `block ${a.peer} ${a.how}`
      case 'punish':
        return `punish ${a.peer} ${a.offense.kind}`
      default:
        return `${a.type} ${a.peer} ${a.reason}`
    }
  })
}

const serialize = (b: Block): string => JSON.stringify(b, (_, v) => (v instanceof Uint8Array ? hashToHex(v) : typeof v === 'bigint' ? `${v}n` : v))

describe('CompactBlockMachine: parallel attempts at one block', () => {
  const body = txs(1, 10)
  const block = makeBlock(body)
  const hash = blockHash(block.header)
  // We lack body[4] (block index 5) when the first two cmpctblocks come.
  const held = body.filter((_, i) => i !== 4)

  it('three peers push one block; the third completes it from the mempool while two getblocktxns wait; their late answers are ignored, nobody is scored', () => {
    expect(MAX_COMPACT_PEERS_PER_BLOCK).toBe(3)
    const m = machine()
    push(m, T0, 'a', block, held)
    push(m, T0 + 1, 'b', block, held)
    expect(lines(m.drain())).toEqual(['send a getblocktxn 5', 'send b getblocktxn 5'])
    expect(m.attemptsInFlight).toBe(2)
    expect(m.stageOf(hash, 'a')).toBe('blocktxn')
    // body[4] reached the mempool meanwhile: c's cmpctblock needs no round trip.
    push(m, T0 + 2, 'c', block, body)
    const out = m.drain()
    expect(lines(out)).toEqual(['block c mempool'])
    const b = out[0] as Extract<CompactAction<string>, { type: 'block' }>
    expect(serialize(b.block)).toBe(serialize(block))
    expect(b.stats).toMatchObject({ attempts: 3, fromMempool: 10, fetched: 0, startedAt: T0, finishedAt: T0 + 2 })
    expect(m.inFlight).toBe(0)
    expect(m.attemptsInFlight).toBe(0)
    expect(m.nextDeadline()).toBeUndefined()
    // The cancelled attempts' answers: ignored, not 'unsolicited-blocktxn'.
    m.blocktxn(T0 + 30, 'a', hash, [body[4]!])
    m.blocktxn(T0 + 31, 'b', hash, [body[4]!])
    expect(m.drain()).toEqual([])
    // A confirmed block's transactions are of no use to a later one: not kept as extra.
    expect(m.extraSize).toBe(0)
  })

  it('a fourth peer is not taken on (maxPeersPerBlock), and one peer’s repeat is not a second attempt', () => {
    const m = machine()
    for (const p of ['a', 'b', 'c', 'd']) push(m, T0, p, block, held)
    push(m, T0, 'a', block, held)
    expect(lines(m.drain())).toEqual(['send a getblocktxn 5', 'send b getblocktxn 5', 'send c getblocktxn 5', 'skipped d busy', 'skipped a known'])
    // maxPeersPerBlock 1: the first peer only, as before parallel attempts.
    const one = machine({ maxPeersPerBlock: 1 })
    push(one, T0, 'a', block, held)
    push(one, T0, 'b', block, body)
    expect(lines(one.drain())).toEqual(['send a getblocktxn 5', 'skipped b busy'])
  })

  it('the total attempt cap holds over all blocks', () => {
    const m = machine({ maxAttemptsInFlight: 2 })
    const other = makeBlock(txs(50, 3), { height: 2 })
    push(m, T0, 'a', block, held)
    push(m, T0, 'b', block, held)
    push(m, T0, 'c', other, [])
    push(m, T0, 'c', block, held)
    expect(lines(m.drain())).toEqual(['send a getblocktxn 5', 'send b getblocktxn 5', 'skipped c busy', 'skipped c busy'])
  })

  it('a transaction an earlier attempt’s peer sent whole completes a later attempt', () => {
    const m = machine()
    // a prefills body[4] (index 5) but we also lack body[6] (index 7): a asks for it.
    push(
      m,
      T0,
      'a',
      block,
      body.filter((_, i) => i !== 4 && i !== 6),
      [0, 5],
    )
    expect(lines(m.drain())).toEqual(['send a getblocktxn 7'])
    // body[6] arrived meanwhile; b prefills only the coinbase: body[4] comes from what a sent.
    push(
      m,
      T0 + 1,
      'b',
      block,
      body.filter((_, i) => i !== 4),
    )
    const out = m.drain()
    expect(lines(out)).toEqual(['block b mempool'])
    expect((out[0] as Extract<CompactAction<string>, { type: 'block' }>).stats).toMatchObject({ fromMempool: 9, fromExtra: 1, attempts: 2 })
  })

  it('a wrong blocktxn from one peer ends only its attempt, unpunished; another peer’s attempt delivers', () => {
    const m = machine()
    push(m, T0, 'a', block, held)
    push(m, T0, 'b', block, held)
    m.drain()
    // a answers with the right count but a transaction that is not the block's: merkle mismatch.
    m.blocktxn(T0 + 5, 'a', hash, [makeTx(99, true)])
    expect(lines(m.drain())).toEqual(['attempt-failed a blocktxn-mismatch'])
    expect(m.stageOf(hash)).toBe('blocktxn')
    expect(m.stageOf(hash, 'a')).toBeUndefined()
    m.blocktxn(T0 + 6, 'b', hash, [body[4]!])
    const out = m.drain()
    expect(lines(out)).toEqual(['block b blocktxn'])
    expect(serialize((out[0] as Extract<CompactAction<string>, { type: 'block' }>).block)).toBe(serialize(block))
  })

  it('a blocktxn of the wrong count is punished and ends that attempt only; the others go on', () => {
    const m = machine()
    push(m, T0, 'a', block, held)
    push(m, T0, 'b', block, held)
    m.drain()
    m.blocktxn(T0 + 5, 'a', hash, [body[4]!, body[5]!])
    expect(lines(m.drain())).toEqual(['attempt-failed a invalid', 'punish a invalid-compact-block'])
    m.blocktxn(T0 + 6, 'b', hash, [body[4]!])
    expect(lines(m.drain())).toEqual(['block b blocktxn'])
  })

  it('every attempt fails: the full block is asked for from the earliest peer whose reconstruction failed, naming that peer’s own reason', () => {
    const m = machine()
    push(m, T0, 'a', block, held)
    push(m, T0, 'b', block, held)
    push(m, T0, 'c', block, held)
    m.drain()
    const all: CompactAction<string>[] = []
    m.blocktxn(T0 + 5, 'a', hash, [makeTx(98, true)])
    all.push(...m.drain())
    m.blocktxn(T0 + 6, 'b', hash, [makeTx(97, true)])
    all.push(...m.drain())
    m.timeout(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS)
    all.push(...m.drain())
    expect(lines(all)).toEqual([
      'attempt-failed a blocktxn-mismatch',
      'attempt-failed b blocktxn-mismatch',
      // a's own attempt failed on a mismatch (c's, the last, timed out).
      'fallback a blocktxn-mismatch',
      'request-block a witness-block',
    ])
    expect(m.stageOf(hash)).toBe('full')
    expect(m.nextDeadline()).toBe(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS)
    // Waiting for the full block: a fourth cmpctblock is not another attempt, c's late blocktxn is ignored.
    push(m, T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 1, 'd', block, body)
    m.blocktxn(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 2, 'c', hash, [body[4]!])
    expect(lines(m.drain())).toEqual(['skipped d known'])
    m.blockReceived(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 3, 'a', block)
    const out = m.drain()
    expect(lines(out)).toEqual(['block a full'])
    expect(out[0]).toMatchObject({ fallback: 'blocktxn-mismatch', stats: { attempts: 3 } })
  })

  it('the full block is asked of the next peer whose attempt failed when the one asked leaves, says notfound or stalls; the block fails only when none is left', () => {
    const m = machine()
    const cmpctB = makeCmpct(block, 2, { nonce: NONCE.b! })
    push(m, T0, 'a', block, held)
    // b's cmpctblock cannot be rebuilt (duplicate short ids); c's getblocktxn will time out.
    m.cmpctblock(T0, 'b', { ...cmpctB, shortIds: [cmpctB.shortIds[0]!, ...cmpctB.shortIds.slice(0, -1)] }, 2, held.map(candidate))
    push(m, T0, 'c', block, held)
    m.blocktxn(T0 + 1, 'a', hash, [makeTx(98, true)])
    m.timeout(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS)
    expect(lines(m.drain())).toEqual([
      'send a getblocktxn 5',
      'attempt-failed b duplicate-short-ids',
      'send c getblocktxn 5',
      'attempt-failed a blocktxn-mismatch',
      // b's attempt failed first: b is asked, naming its own reason.
      'fallback b duplicate-short-ids',
      'request-block b witness-block',
    ])
    // b leaves: a is asked.
    m.removePeer(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 1, 'b')
    expect(lines(m.drain())).toEqual(['fallback a blocktxn-mismatch', 'request-block a witness-block'])
    // a says notfound: c is asked, with a fresh deadline.
    const t = T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 2
    m.blockFailed(t, 'a', hash, 'notfound')
    expect(lines(m.drain())).toEqual(['fallback c blocktxn-timeout', 'request-block c witness-block'])
    expect(m.stageOf(hash, 'c')).toBe('full')
    expect(m.nextDeadline()).toBe(t + DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS)
    // a's block, late, is not the one asked for now: ignored.
    m.blockReceived(t + 1, 'a', block)
    expect(m.drain()).toEqual([])
    // c stalls too: nobody is left, the block fails, once.
    m.timeout(t + DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS)
    expect(lines(m.drain())).toEqual(['failed c timeout'])
    expect(m.inFlight).toBe(0)
    m.timeout(t + 2 * DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS)
    expect(m.drain()).toEqual([])
  })

  it('a peer that sends the real header with made-up short ids, then never serves the full block, does not stall the block: the next peer delivers it', () => {
    const m = machine()
    // a's short ids are made up: nothing matches, every transaction is asked for, and its answer is junk.
    const fake = { ...makeCmpct(block, 2, { nonce: NONCE.a! }), shortIds: Array.from({ length: 10 }, (_, i) => 1_000 + i) }
    m.cmpctblock(T0, 'a', fake, 2, held.map(candidate))
    push(m, T0 + 1, 'b', block, held)
    m.blocktxn(T0 + 2, 'a', hash, txs(600, 10))
    expect(lines(m.drain())).toEqual(['send a getblocktxn 1,2,3,4,5,6,7,8,9,10', 'send b getblocktxn 5', 'attempt-failed a blocktxn-mismatch'])
    m.timeout(T0 + 1 + DEFAULT_BLOCKTXN_TIMEOUT_MS)
    expect(lines(m.drain())).toEqual(['fallback a blocktxn-mismatch', 'request-block a witness-block'])
    // a never answers: after blockTimeoutMs, b is asked, and serves it.
    m.timeout(T0 + 1 + DEFAULT_BLOCKTXN_TIMEOUT_MS + DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS)
    expect(lines(m.drain())).toEqual(['fallback b blocktxn-timeout', 'request-block b witness-block'])
    m.blockReceived(T0 + 2 + DEFAULT_BLOCKTXN_TIMEOUT_MS + DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS, 'b', block)
    const out = m.drain()
    expect(lines(out)).toEqual(['block b full'])
    expect(out[0]).toMatchObject({ fallback: 'blocktxn-timeout', stats: { attempts: 2 } })
    expect(serialize((out[0] as Extract<CompactAction<string>, { type: 'block' }>).block)).toBe(serialize(block))
  })

  it('every attempt fails and the only peers left offended or left: the block fails, nothing is asked', () => {
    const m = machine()
    push(m, T0, 'a', block, held)
    push(m, T0, 'b', block, held)
    m.drain()
    m.removePeer(T0 + 1, 'a')
    m.blocktxn(T0 + 2, 'b', hash, [])
    expect(lines(m.drain())).toEqual(['attempt-failed a peer-gone', 'failed b invalid', 'punish b invalid-compact-block'])
    expect(m.inFlight).toBe(0)
  })

  it('a peer that leaves takes its attempts with it, and is no longer asked for the full block', () => {
    const m = machine()
    const other = makeBlock(txs(50, 3), { height: 2 })
    push(m, T0, 'a', block, held)
    push(m, T0, 'b', block, held)
    push(m, T0, 'a', other, [])
    m.drain()
    expect(m.inFlightOf('a')).toBe(2)
    // a's attempt at `block` failed first: a would be the one asked for the full block.
    m.blocktxn(T0 + 1, 'a', hash, [makeTx(99, true)])
    expect(lines(m.drain())).toEqual(['attempt-failed a blocktxn-mismatch'])
    m.removePeer(T0 + 2, 'a')
    // a's attempt at `other` was the only one: that block fails; `block` keeps b's attempt.
    expect(lines(m.drain())).toEqual(['failed a peer-gone'])
    expect(m.inFlightOf('a')).toBe(0)
    expect(m.attemptsInFlight).toBe(1)
    // b's getblocktxn times out: the full block comes from b, not from the peer that left.
    m.timeout(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS)
    expect(lines(m.drain())).toEqual(['fallback b blocktxn-timeout', 'request-block b witness-block'])
  })
})

describe('CompactBlockMachine: extra transactions', () => {
  const body = txs(1, 6)
  const block = makeBlock(body)
  const hash = blockHash(block.header)

  it('a transaction only among the extra ones completes the block with no getblocktxn', () => {
    expect(DEFAULT_COMPACT_EXTRA_TXS).toBe(100)
    const m = machine()
    m.addExtraTransaction(candidate(body[2]!))
    expect(m.extraSize).toBe(1)
    push(
      m,
      T0,
      'a',
      block,
      body.filter((_, i) => i !== 2),
    )
    const out = m.drain()
    expect(lines(out)).toEqual(['block a mempool'])
    expect((out[0] as Extract<CompactAction<string>, { type: 'block' }>).stats).toMatchObject({ fromMempool: 5, fromExtra: 1, fetched: 0 })
    // The block confirmed it: its place in the ring is free again.
    expect(m.extraSize).toBe(0)
  })

  it('the ring holds `extraTxs`, evicting the oldest; a transaction held already is not added twice', () => {
    const m = machine({ extraTxs: 2 })
    for (const i of [0, 1, 1, 2]) m.addExtraTransaction(candidate(body[i]!))
    expect(m.extraSize).toBe(2)
    // body[0] (index 1) was evicted; body[1] and body[2] are matched; the mempool holds the rest.
    push(m, T0, 'a', block, body.slice(3))
    expect(lines(m.drain())).toEqual(['send a getblocktxn 1'])
    // extraTxs 0 keeps none.
    const none = machine({ extraTxs: 0 })
    none.addExtraTransaction(candidate(body[0]!))
    expect(none.extraSize).toBe(0)
    expect(() => machine({ extraTxs: -1 })).toThrow(RangeError)
  })

  it('a late blocktxn for a block not delivered feeds the ring; the next peer’s cmpctblock uses it', () => {
    const m = machine()
    push(
      m,
      T0,
      'a',
      block,
      body.filter((_, i) => i !== 3),
    )
    m.timeout(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS)
    expect(lines(m.drain())).toEqual(['send a getblocktxn 4', 'fallback a blocktxn-timeout', 'request-block a witness-block'])
    m.blocktxn(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 1, 'a', hash, [body[3]!])
    expect(m.drain()).toEqual([])
    expect(m.extraSize).toBe(1)
    // The full block never comes; the block fails and b brings it again.
    m.blockFailed(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 2, 'a', hash, 'notfound')
    expect(lines(m.drain())).toEqual(['failed a notfound'])
    push(
      m,
      T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 3,
      'b',
      block,
      body.filter((_, i) => i !== 3),
    )
    expect(lines(m.drain())).toEqual(['block b mempool'])
  })

  it('a mismatched blocktxn’s transactions are kept as extra ones', () => {
    const m = machine()
    const stray = makeTx(77, true)
    push(m, T0, 'a', block, body.slice(1))
    m.blocktxn(T0 + 1, 'a', hash, [stray])
    expect(lines(m.drain())).toEqual(['send a getblocktxn 1', 'fallback a blocktxn-mismatch', 'request-block a witness-block'])
    expect(m.extraSize).toBe(1)
  })

  it('a second blocktxn from a peer that answered already (mismatched, or the wrong count) is unsolicited, as the winner’s is: punished, never kept', () => {
    const m = machine()
    push(m, T0, 'a', block, body.slice(1))
    push(m, T0, 'b', block, body.slice(1))
    push(m, T0, 'c', block, body.slice(1))
    m.drain()
    // a's answer mismatches: its one transaction is kept. Its repeat is not a late answer.
    m.blocktxn(T0 + 1, 'a', hash, [makeTx(90, true)])
    expect(m.extraSize).toBe(1)
    m.blocktxn(T0 + 2, 'a', hash, [makeTx(91, true)])
    // b's answer has the wrong count: punished; its repeat too, and nothing is kept.
    m.blocktxn(T0 + 3, 'b', hash, [makeTx(92, true), makeTx(93, true)])
    m.blocktxn(T0 + 4, 'b', hash, [makeTx(94, true)])
    expect(lines(m.drain())).toEqual([
      'attempt-failed a blocktxn-mismatch',
      'punish a unsolicited-blocktxn',
      'attempt-failed b invalid',
      'punish b invalid-compact-block',
      'punish b unsolicited-blocktxn',
    ])
    expect(m.extraSize).toBe(1)
    // c's getblocktxn is still unanswered when its attempt ends: its late answer is ignored and kept.
    m.timeout(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS)
    m.drain()
    m.blocktxn(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 1, 'c', hash, [makeTx(95, true)])
    expect(m.drain()).toEqual([])
    expect(m.extraSize).toBe(2)
  })

  it('one mismatched blocktxn of 150 transactions puts at most a quarter of the ring into it: what the app added stays', () => {
    expect(COMPACT_EXTRA_TXS_PER_MESSAGE_DIVISOR).toBe(4)
    const cap = DEFAULT_COMPACT_EXTRA_TXS / COMPACT_EXTRA_TXS_PER_MESSAGE_DIVISOR
    const big = makeBlock(txs(1, 150))
    const bigHash = blockHash(big.header)
    const m = machine()
    const added = txs(1_000, DEFAULT_COMPACT_EXTRA_TXS - cap)
    for (const tx of added) m.addExtraTransaction(candidate(tx))
    push(m, T0, 'a', big, [])
    m.blocktxn(T0 + 1, 'a', bigHash, txs(2_000, 150))
    expect(lines(m.drain()).slice(1)).toEqual(['fallback a blocktxn-mismatch', 'request-block a witness-block'])
    expect(m.extraSize).toBe(DEFAULT_COMPACT_EXTRA_TXS)
    // The oldest transaction the app added is still there: a block of it is rebuilt with no round trip.
    const next = makeBlock([added[0]!], { height: 2 })
    push(m, T0 + 2, 'b', next, [])
    const out = m.drain()
    expect(lines(out)).toEqual(['block b mempool'])
    expect(out[0]).toMatchObject({ stats: { fromExtra: 1 } })
  })

  it('a short id shared by a mempool transaction and an extra one: neither is trusted, the slot is fetched, nobody punished', () => {
    // Version 1 short ids are of txids: a witness variant of body[1] has its txid.
    const variant = makeTx(2, true, 9)
    expect(hashToHex(txid(variant))).toBe(hashToHex(txid(body[1]!)))
    expect(hashToHex(wtxid(variant))).not.toBe(hashToHex(wtxid(body[1]!)))
    const m = machine()
    m.addExtraTransaction(candidate(variant))
    m.cmpctblock(T0, 'a', makeCmpct(block, 1), 1, body.map(candidate))
    expect(lines(m.drain())).toEqual(['send a getblocktxn 2'])
    m.blocktxn(T0 + 1, 'a', hash, [body[1]!])
    const out = m.drain()
    expect(lines(out)).toEqual(['block a blocktxn'])
    expect(out[0]).toMatchObject({ stats: { collisions: 1, fromMempool: 5, fetched: 1 } })
  })

  it('an extra transaction that only shares the short id fills the slot: the commitments fail, the full block follows, nobody punished', () => {
    const variant = makeTx(2, true, 9)
    const m = machine()
    m.addExtraTransaction(candidate(variant))
    const held: CompactCandidate[] = body.filter((_, i) => i !== 1).map(candidate)
    m.cmpctblock(T0, 'a', makeCmpct(block, 1), 1, held)
    expect(lines(m.drain())).toEqual(['fallback a mempool-mismatch', 'request-block a 2'])
    m.blockReceived(T0 + 1, 'a', block)
    expect(lines(m.drain())).toEqual(['block a full'])
  })
})

describe('CompactBlockMachine: what attempts may cost', () => {
  it('one attempt per peer per block: a peer whose attempt ended cannot start another while others run', () => {
    const body = txs(1, 4)
    const block = makeBlock(body)
    const cmpct = makeCmpct(block, 2, { nonce: NONCE.a! })
    const dup = { ...cmpct, shortIds: [cmpct.shortIds[0]!, ...cmpct.shortIds.slice(0, -1)] }
    const m = machine()
    push(m, T0, 'b', block, body.slice(1))
    // a's cmpctblock cannot be rebuilt (duplicate short ids): its attempt ends, b's goes on.
    m.cmpctblock(T0 + 1, 'a', dup, 2, [])
    m.cmpctblock(T0 + 2, 'a', dup, 2, [])
    m.cmpctblock(T0 + 3, 'a', cmpct, 2, body.map(candidate))
    expect(lines(m.drain())).toEqual(['send b getblocktxn 1', 'attempt-failed a duplicate-short-ids', 'skipped a known', 'skipped a known'])
    expect(m.attemptsInFlight).toBe(1)
  })

  it('what attempts taught a block is capped at its transaction count, whatever peers send whole', () => {
    const body = txs(1, 3)
    const block = makeBlock(body)
    const hash = blockHash(block.header)
    const m = machine()
    // b's cmpctblock (4 transactions) is read first: the cap is 4; the coinbase it prefilled is the first learned.
    push(m, T0, 'b', block, [])
    // a lies: the block's header with 5 prefilled transactions, three strangers before body[2]. Not the block:
    // its attempt fails. Of what it sent, the three strangers fill the cap; body[2] is not kept.
    const strangers = txs(500, 3)
    const prefilled = [block.txs[0]!, ...strangers, body[2]!].map((tx, index) => ({ index, tx }))
    m.cmpctblock(T0 + 1, 'a', { command: 'cmpctblock', header: block.header, nonce: 7n, shortIds: [], prefilledTxs: prefilled }, 2, [])
    expect(lines(m.drain())).toEqual(['send b getblocktxn 1,2,3', 'attempt-failed a mempool-mismatch'])
    // c's cmpctblock with body[0] and body[1] in the mempool: body[2] is still asked for.
    push(m, T0 + 2, 'c', block, body.slice(0, 2))
    expect(lines(m.drain())).toEqual(['send c getblocktxn 3'])
    m.blocktxn(T0 + 3, 'c', hash, [body[2]!])
    expect(lines(m.drain())).toEqual(['block c blocktxn'])
  })

  it('a peer that left holds no place in the rebuild: back again, its cmpctblock is an attempt of its own', () => {
    const body = txs(1, 4)
    const block = makeBlock(body)
    const m = machine()
    push(m, T0, 'a', block, body.slice(1))
    push(m, T0, 'b', block, body.slice(1))
    m.removePeer(T0 + 1, 'a')
    push(m, T0 + 2, 'a', block, body.slice(1))
    expect(lines(m.drain())).toEqual(['send a getblocktxn 1', 'send b getblocktxn 1', 'attempt-failed a peer-gone', 'send a getblocktxn 1'])
  })

  it('a peer reconnecting again and again cannot keep one rebuild open: a block takes on at most 2 x maxPeersPerBlock attempts over its life', () => {
    const lifetime = COMPACT_ATTEMPTS_PER_BLOCK_LIFETIME_FACTOR * MAX_COMPACT_PEERS_PER_BLOCK
    expect(lifetime).toBe(6)
    const body = txs(1, 4)
    const block = makeBlock(body)
    const m = machine()
    // Each connection (p0, p1, ...) pushes the block, then the previous one drops: one attempt is always live.
    const all: string[] = []
    for (let i = 0; i < 1_000; i++) {
      m.cmpctblock(T0 + i, `p${i}`, makeCmpct(block, 2, { nonce: BigInt(i + 1) }), 2, body.slice(1).map(candidate))
      if (i > 0) m.removePeer(T0 + i, `p${i - 1}`)
      all.push(...lines(m.drain()))
    }
    // The first rebuild: six attempts, the seventh skipped, and it ends when the sixth's peer leaves.
    expect(all.slice(0, 14)).toEqual([
      'send p0 getblocktxn 1',
      'send p1 getblocktxn 1',
      'attempt-failed p0 peer-gone',
      'send p2 getblocktxn 1',
      'attempt-failed p1 peer-gone',
      'send p3 getblocktxn 1',
      'attempt-failed p2 peer-gone',
      'send p4 getblocktxn 1',
      'attempt-failed p3 peer-gone',
      'send p5 getblocktxn 1',
      'attempt-failed p4 peer-gone',
      'skipped p6 busy',
      'failed p5 peer-gone',
      'send p7 getblocktxn 1',
    ])
    // Over all 1,000 connections: every rebuild ended within its cap, each with one 'failed'.
    let taken = 0
    let rebuilds = 0
    for (const l of all) {
      if (l.includes('getblocktxn')) taken++
      if (l.startsWith('failed')) {
        expect(taken).toBeLessThanOrEqual(lifetime)
        taken = 0
        rebuilds++
      }
    }
    expect(rebuilds).toBeGreaterThan(100)
    expect(m.inFlight).toBe(1)
    expect(m.attemptsInFlight).toBeLessThanOrEqual(1)
  })

  it('what attempts taught a block is capped by bytes too (MAX_COMPACT_LEARNED_BYTES), whatever peers send whole', () => {
    const body = txs(1, 10)
    const block = makeBlock(body)
    const m = machine()
    // b's cmpctblock is read first (cap 11 transactions by count); the coinbase it prefilled is the first learned.
    push(m, T0, 'b', block, [])
    // a prefills two made-up transactions that, with the coinbase, fill the byte cap exactly, then body[2]:
    // the count cap (11) is far, the byte cap is reached, body[2] is not kept.
    const first = bigTx(500, 2_000_000)
    const second = bigTx(501, MAX_COMPACT_LEARNED_BYTES - txSize(block.txs[0]!) - 2_000_000)
    const prefilled = [block.txs[0]!, first, second, body[2]!].map((tx, index) => ({ index, tx }))
    m.cmpctblock(T0 + 1, 'a', { command: 'cmpctblock', header: block.header, nonce: 7n, shortIds: [], prefilledTxs: prefilled }, 2, [])
    expect(lines(m.drain())).toEqual(['send b getblocktxn 1,2,3,4,5,6,7,8,9,10', 'attempt-failed a mempool-mismatch'])
    // c holds everything but body[2] (index 3): it is still asked for.
    push(
      m,
      T0 + 2,
      'c',
      block,
      body.filter((_, i) => i !== 2),
    )
    expect(lines(m.drain())).toEqual(['send c getblocktxn 3'])
  })
})

/** A made-up transaction of exactly `size` serialized bytes (one output whose script takes the room). */
function bigTx(n: number, size: number): Transaction {
  const base = makeTx(n)
  let len = size
  for (;;) {
    const tx: Transaction = { ...base, outputs: [{ value: 1n, scriptPubKey: new Uint8Array(len) }] }
    const got = txSize(tx)
    if (got === size) return tx
    len += size - got
  }
}
