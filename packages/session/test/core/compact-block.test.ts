/**
 * CompactBlockMachine, as a specification: how a BIP152 cmpctblock becomes
 * a block from the transactions we hold, what is fetched, when the full
 * block is the fallback, and who is punished (only the provably wrong).
 * Peers are plain strings; time is a number we pass in.
 */
import { describe, expect, it } from 'vitest'
import { blockHash, hashToHex, InvType, txid, wtxid, type Block } from '@bitp2p/wire'
import {
  CompactBlockMachine,
  CompactTxPool,
  DEFAULT_BLOCKTXN_TIMEOUT_MS,
  DEFAULT_CMPCT_TIMEOUT_MS,
  DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS,
  RETIRED_COMPACT_KEPT,
  cmpctblockBytes,
  type CompactAction,
  type CompactBlockConfig,
} from '../../src/core/compact-block.js'
import { FRAME_HEADER_BYTES } from '../../src/core/meter.js'
import { candidate, makeBlock, makeCmpct, makeTx } from './compact-fixtures.js'
import { blockSize } from '@bitp2p/wire'

const T0 = 1_000
const txs = (from: number, n: number, witness = true) => Array.from({ length: n }, (_, i) => makeTx(from + i, witness))

function machine(cfg: CompactBlockConfig = {}): CompactBlockMachine<string> {
  return new CompactBlockMachine<string>(cfg)
}

/** The one action of a type among `actions`. */
function only<T extends CompactAction<string>['type']>(actions: CompactAction<string>[], type: T): Extract<CompactAction<string>, { type: T }> {
  const of = actions.filter((a) => a.type === type)
  expect(of.map((a) => a.type)).toEqual([type])
  return of[0] as Extract<CompactAction<string>, { type: T }>
}
const types = (actions: CompactAction<string>[]): string[] => actions.map((a) => a.type)
const serialize = (b: Block): string => JSON.stringify(b, (_, v) => (v instanceof Uint8Array ? hashToHex(v) : typeof v === 'bigint' ? `${v}n` : v))

describe('CompactBlockMachine: reconstruction', () => {
  it('rebuilds a block from the candidates alone when every short id matches (version 2, wtxids)', () => {
    const body = txs(1, 20)
    const block = makeBlock(body)
    const m = machine()
    const cmpct = makeCmpct(block, 2)
    // Candidates in another order, plus unrelated ones.
    const pool = [...body].reverse().concat(txs(100, 30)).map(candidate)
    m.cmpctblock(T0, 'a', cmpct, 2, pool)
    const out = m.drain()
    const b = only(out, 'block')
    expect(b.how).toBe('mempool')
    expect(serialize(b.block)).toBe(serialize(block))
    expect(b.stats).toMatchObject({ txs: 21, prefilled: 1, fromMempool: 20, fetched: 0, collisions: 0, startedAt: T0, finishedAt: T0 })
    expect(b.stats.bytesReceived).toBe(FRAME_HEADER_BYTES + cmpctblockBytes(cmpct))
    expect(b.stats.fullBlockBytes).toBe(FRAME_HEADER_BYTES + blockSize(block))
    expect(b.stats.bytesReceived).toBeLessThan(b.stats.fullBlockBytes)
    expect(m.inFlight).toBe(0)
    expect(m.isKnown(blockHash(block.header))).toBe(true)
  })

  it('matches by txid in version 1', () => {
    const body = txs(1, 5, false)
    const block = makeBlock(body)
    const m = machine()
    m.cmpctblock(T0, 'a', makeCmpct(block, 1), 1, body.map(candidate))
    expect(only(m.drain(), 'block').how).toBe('mempool')
    // The same cmpctblock read as version 2 would look for wtxids: with witness txs those differ, nothing matches.
    const body2 = txs(50, 3)
    const block2 = makeBlock(body2)
    m.cmpctblock(T0, 'a', makeCmpct(block2, 1), 2, body2.map(candidate))
    const get = only(m.drain(), 'send').message
    expect(get).toMatchObject({ command: 'getblocktxn', indexes: [1, 2, 3] })
  })

  it('asks for the missing transactions with getblocktxn and completes with the blocktxn', () => {
    const body = txs(1, 10)
    const block = makeBlock(body)
    const m = machine()
    const have = body.filter((_, i) => i !== 2 && i !== 7)
    m.cmpctblock(T0, 'a', makeCmpct(block, 2), 2, have.map(candidate))
    const send = only(m.drain(), 'send')
    expect(send.peer).toBe('a')
    // Block indexes: the coinbase is 0, body[i] is i + 1.
    expect(send.message).toEqual({ command: 'getblocktxn', blockHash: blockHash(block.header), indexes: [3, 8] })
    expect(m.stageOf(blockHash(block.header))).toBe('blocktxn')
    expect(m.nextDeadline()).toBe(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS)

    m.blocktxn(T0 + 40, 'a', blockHash(block.header), [body[2]!, body[7]!])
    const b = only(m.drain(), 'block')
    expect(b.how).toBe('blocktxn')
    expect(serialize(b.block)).toBe(serialize(block))
    expect(b.stats).toMatchObject({ fromMempool: 8, fetched: 2, prefilled: 1, startedAt: T0, finishedAt: T0 + 40 })
    expect(m.nextDeadline()).toBeUndefined()
  })

  it('uses prefilled transactions beyond the coinbase at their indexes', () => {
    const body = txs(1, 6)
    const block = makeBlock(body)
    const m = machine()
    m.cmpctblock(T0, 'a', makeCmpct(block, 2, { prefilled: [0, 3, 6] }), 2, body.map(candidate))
    const b = only(m.drain(), 'block')
    expect(b.stats).toMatchObject({ prefilled: 3, fromMempool: 4 })
    expect(serialize(b.block)).toBe(serialize(block))
  })

  it('in low-bandwidth mode asks for the cmpctblock of an announced block, then rebuilds it', () => {
    const body = txs(1, 4)
    const block = makeBlock(body)
    const hash = blockHash(block.header)
    const m = machine()
    m.announced(T0, 'a', hash, 2)
    expect(only(m.drain(), 'request-block')).toEqual({ type: 'request-block', peer: 'a', hash, item: { type: InvType.MSG_CMPCT_BLOCK, hash } })
    expect(m.nextDeadline()).toBe(T0 + DEFAULT_CMPCT_TIMEOUT_MS)
    // A second announcement of the same block asks nothing.
    m.announced(T0 + 1, 'b', hash, 2)
    expect(m.drain()).toEqual([])
    m.cmpctblock(T0 + 30, 'a', makeCmpct(block, 2), 2, body.map(candidate))
    const b = only(m.drain(), 'block')
    expect(b.stats).toMatchObject({ startedAt: T0, finishedAt: T0 + 30 })
  })

  it('in low-bandwidth mode takes a full block in answer to its getdata(MSG_CMPCT_BLOCK)', () => {
    const block = makeBlock(txs(1, 4))
    const m = machine()
    m.announced(T0, 'a', blockHash(block.header), 2)
    m.drain()
    m.blockReceived(T0 + 3, 'a', block)
    const b = only(m.drain(), 'block')
    expect(b).toMatchObject({ how: 'full', fallback: undefined })
    expect(b.stats.bytesReceived).toBe(b.stats.fullBlockBytes)
  })
})

describe('CompactBlockMachine: collisions fall back without punishing', () => {
  it('two of the block’s own short ids equal: the full block, at once', () => {
    const body = txs(1, 4)
    const block = makeBlock(body)
    const cmpct = makeCmpct(block, 2)
    const dup = { ...cmpct, shortIds: [cmpct.shortIds[0]!, cmpct.shortIds[0]!, ...cmpct.shortIds.slice(2)] }
    const m = machine()
    m.cmpctblock(T0, 'a', dup, 2, body.map(candidate))
    const out = m.drain()
    expect(types(out)).toEqual(['fallback', 'request-block'])
    expect(only(out, 'fallback').reason).toBe('duplicate-short-ids')
    expect(only(out, 'request-block').item).toEqual({ type: InvType.MSG_WITNESS_BLOCK, hash: blockHash(block.header) })
    m.blockReceived(T0 + 50, 'a', block)
    const b = only(m.drain(), 'block')
    expect(b.how).toBe('full')
    expect(b.fallback).toBe('duplicate-short-ids')
    expect(b.stats.bytesReceived).toBe(FRAME_HEADER_BYTES + cmpctblockBytes(dup) + FRAME_HEADER_BYTES + blockSize(block))
  })

  it('two candidates with one slot’s short id: neither is trusted, the slot is fetched', () => {
    // Version 1 short ids are of txids: two witness variants of one transaction share the txid.
    const body = txs(1, 4)
    const block = makeBlock(body, { height: 2 })
    const variant = makeTx(2, true, 9)
    expect(hashToHex(txid(variant))).toBe(hashToHex(txid(body[1]!)))
    expect(hashToHex(wtxid(variant))).not.toBe(hashToHex(wtxid(body[1]!)))
    const m = machine()
    m.cmpctblock(T0, 'a', makeCmpct(block, 1), 1, [...body, variant].map(candidate))
    const out = m.drain()
    expect(types(out)).toEqual(['send'])
    expect(only(out, 'send').message).toMatchObject({ command: 'getblocktxn', indexes: [2] })
    m.blocktxn(T0 + 5, 'a', blockHash(block.header), [body[1]!])
    const b = only(m.drain(), 'block')
    expect(b.how).toBe('blocktxn')
    expect(b.stats.collisions).toBe(1)
    expect(serialize(b.block)).toBe(serialize(block))
  })

  it('a filled block that fails its commitments (our candidate only shared the short id): the full block, unpunished', () => {
    // We hold another witness of body[0]: same txid, so version 1 takes it; the witness commitment then fails.
    const body = txs(1, 3)
    const block = makeBlock(body)
    const ours = [makeTx(1, true, 7), body[1]!, body[2]!]
    const m = machine()
    m.cmpctblock(T0, 'a', makeCmpct(block, 1), 1, ours.map(candidate))
    const out = m.drain()
    expect(types(out)).toEqual(['fallback', 'request-block'])
    expect(only(out, 'fallback').reason).toBe('mempool-mismatch')
    // A version 1 peer is asked for the block without the witness flag.
    expect(only(out, 'request-block').item.type).toBe(InvType.MSG_BLOCK)
    m.blockReceived(T0 + 9, 'a', block)
    expect(only(m.drain(), 'block')).toMatchObject({ how: 'full', fallback: 'mempool-mismatch' })
  })

  it('a blocktxn of the right count whose transactions do not fit: the full block, unpunished', () => {
    const body = txs(1, 5)
    const block = makeBlock(body)
    const m = machine()
    m.cmpctblock(T0, 'a', makeCmpct(block, 2), 2, body.slice(1).map(candidate))
    expect(only(m.drain(), 'send').message).toMatchObject({ indexes: [1] })
    m.blocktxn(T0 + 5, 'a', blockHash(block.header), [makeTx(99, true)])
    const out = m.drain()
    expect(types(out)).toEqual(['fallback', 'request-block'])
    expect(only(out, 'fallback').reason).toBe('blocktxn-mismatch')
    m.blockReceived(T0 + 10, 'a', block)
    expect(only(m.drain(), 'block')).toMatchObject({ how: 'full', fallback: 'blocktxn-mismatch' })
  })
})

describe('CompactBlockMachine: offenses, only for the provably wrong', () => {
  it('a cmpctblock of no transactions', () => {
    const block = makeBlock(txs(1, 1))
    const m = machine()
    m.cmpctblock(T0, 'a', { ...makeCmpct(block, 2), shortIds: [], prefilledTxs: [] }, 2, [])
    const p = only(m.drain(), 'punish')
    expect(p).toMatchObject({ peer: 'a', offense: { kind: 'invalid-compact-block', detail: 'no transactions' } })
    expect(m.inFlight).toBe(0)
  })

  it('a header that fails proof of work, when the network’s limit is given', () => {
    // bits 0x03000001: target 1, which no real hash meets.
    const block = makeBlock(txs(1, 1), { bits: 0x03000001 })
    const m = machine({ powLimit: (1n << 255n) - 1n })
    m.cmpctblock(T0, 'a', makeCmpct(block, 2), 2, [])
    expect(only(m.drain(), 'punish').offense).toMatchObject({ kind: 'invalid-header', error: { kind: 'bad-pow' } })
    // Without a limit the header is not judged.
    const m2 = machine()
    m2.cmpctblock(T0, 'a', makeCmpct(block, 2), 2, [])
    expect(types(m2.drain())).toEqual(['send'])
  })

  it('a blocktxn of another count than asked: punished, the block fails', () => {
    const body = txs(1, 5)
    const block = makeBlock(body)
    const m = machine()
    m.cmpctblock(T0, 'a', makeCmpct(block, 2), 2, body.slice(2).map(candidate))
    expect(only(m.drain(), 'send').message).toMatchObject({ indexes: [1, 2] })
    m.blocktxn(T0 + 5, 'a', blockHash(block.header), [body[0]!])
    const out = m.drain()
    expect(types(out)).toEqual(['failed', 'punish'])
    expect(only(out, 'failed').reason).toBe('invalid')
    expect(only(out, 'punish').offense).toMatchObject({ kind: 'invalid-compact-block', detail: 'blocktxn carries 1 transactions, getblocktxn asked for 2' })
  })

  it('a blocktxn for a block we asked nothing of: unsolicited; from another peer than asked: unsolicited too', () => {
    const body = txs(1, 3)
    const block = makeBlock(body)
    const m = machine()
    m.blocktxn(T0, 'a', blockHash(block.header), [body[0]!])
    expect(only(m.drain(), 'punish').offense).toEqual({ kind: 'unsolicited-blocktxn', hash: hashToHex(blockHash(block.header)) })
    m.cmpctblock(T0, 'a', makeCmpct(block, 2), 2, [])
    m.drain()
    m.blocktxn(T0, 'b', blockHash(block.header), body)
    expect(only(m.drain(), 'punish').peer).toBe('b')
    // 'a' still completes.
    m.blocktxn(T0, 'a', blockHash(block.header), body)
    expect(only(m.drain(), 'block').how).toBe('blocktxn')
  })

  it('a late blocktxn, after we gave up waiting for it, is ignored', () => {
    const body = txs(1, 3)
    const block = makeBlock(body)
    const hash = blockHash(block.header)
    const m = machine()
    m.cmpctblock(T0, 'a', makeCmpct(block, 2), 2, [])
    m.drain()
    m.timeout(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS - 1)
    expect(m.drain()).toEqual([])
    m.timeout(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS)
    const out = m.drain()
    expect(types(out)).toEqual(['fallback', 'request-block'])
    expect(only(out, 'fallback').reason).toBe('blocktxn-timeout')
    expect(m.nextDeadline()).toBe(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS)
    m.blocktxn(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 1, 'a', hash, body)
    expect(m.drain()).toEqual([])
    m.blockReceived(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 2, 'a', block)
    expect(only(m.drain(), 'block').how).toBe('full')
  })

  it('remembers at most RETIRED_COMPACT_KEPT rebuilds given up on', () => {
    const m = machine({ maxBlocksInFlight: 1_000, maxBlocksPerPeer: 1_000, maxAttemptsInFlight: 1_000 })
    const blocks = Array.from({ length: RETIRED_COMPACT_KEPT + 1 }, (_, i) => makeBlock([makeTx(i)], { height: i + 1 }))
    for (const b of blocks) m.cmpctblock(T0, 'a', makeCmpct(b, 2), 2, [])
    m.timeout(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS)
    m.drain()
    // The oldest one's late blocktxn is now unsolicited; the newest one's is late.
    m.blocktxn(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 1, 'a', blockHash(blocks.at(-1)!.header), [makeTx(0)])
    expect(m.drain()).toEqual([])
    m.blocktxn(T0 + DEFAULT_BLOCKTXN_TIMEOUT_MS + 1, 'a', blockHash(blocks[0]!.header), [makeTx(0)])
    expect(only(m.drain(), 'punish').offense.kind).toBe('unsolicited-blocktxn')
  })

  it('a full block whose transactions do not match its header: invalid-block, and the block fails', () => {
    const body = txs(1, 3)
    const block = makeBlock(body)
    const cmpct = makeCmpct(block, 2)
    const m = machine()
    m.cmpctblock(T0, 'a', { ...cmpct, shortIds: [cmpct.shortIds[0]!, cmpct.shortIds[0]!, cmpct.shortIds[2]!] }, 2, [])
    m.drain()
    m.blockReceived(T0 + 1, 'a', { header: block.header, txs: [block.txs[0]!, body[1]!, body[0]!, body[2]!] })
    const out = m.drain()
    expect(types(out)).toEqual(['failed', 'punish'])
    expect(only(out, 'punish').offense).toMatchObject({ kind: 'invalid-block', error: { code: 'BAD_MERKLE_ROOT' } })
  })
})

describe('CompactBlockMachine: deadlines, peers and bounds', () => {
  it('a cmpctblock asked for and never sent fails at its deadline; a full block too', () => {
    const m = machine()
    const block = makeBlock(txs(1, 2))
    const hash = blockHash(block.header)
    m.announced(T0, 'a', hash, 2)
    m.drain()
    m.timeout(T0 + DEFAULT_CMPCT_TIMEOUT_MS)
    expect(only(m.drain(), 'failed')).toMatchObject({ peer: 'a', reason: 'timeout' })
    // Failed, not delivered: another peer may still bring it.
    expect(m.isKnown(hash)).toBe(false)
    const cmpct = makeCmpct(block, 2)
    m.cmpctblock(T0, 'b', { ...cmpct, shortIds: [cmpct.shortIds[0]!, cmpct.shortIds[0]!] }, 2, [])
    m.drain()
    m.timeout(T0 + DEFAULT_COMPACT_FULL_BLOCK_TIMEOUT_MS)
    expect(only(m.drain(), 'failed')).toMatchObject({ peer: 'b', reason: 'timeout' })
    expect(m.nextDeadline()).toBeUndefined()
  })

  it('the driver reports a failed full block request (notfound): the block fails', () => {
    const m = machine()
    const block = makeBlock(txs(1, 2))
    const cmpct = makeCmpct(block, 2)
    m.cmpctblock(T0, 'a', { ...cmpct, shortIds: [cmpct.shortIds[0]!, cmpct.shortIds[0]!] }, 2, [])
    m.drain()
    m.blockFailed(T0 + 1, 'b', blockHash(block.header), 'notfound') // not the peer asked: ignored
    expect(m.drain()).toEqual([])
    m.blockFailed(T0 + 1, 'a', blockHash(block.header), 'notfound')
    expect(only(m.drain(), 'failed').reason).toBe('notfound')
  })

  it('a peer that leaves fails its rebuilds', () => {
    const m = machine()
    const b1 = makeBlock(txs(1, 2), { height: 1 })
    const b2 = makeBlock(txs(1, 2), { height: 2 })
    m.cmpctblock(T0, 'a', makeCmpct(b1, 2), 2, [])
    m.cmpctblock(T0, 'b', makeCmpct(b2, 2), 2, [])
    m.drain()
    m.removePeer(T0 + 1, 'a')
    expect(only(m.drain(), 'failed')).toMatchObject({ peer: 'a', reason: 'peer-gone', hash: blockHash(b1.header) })
    expect(m.inFlight).toBe(1)
    expect(m.inFlightOf('a')).toBe(0)
  })

  it('repeats are skipped as known; beyond the caps, as busy', () => {
    const m = machine({ maxBlocksInFlight: 3, maxBlocksPerPeer: 2 })
    const blocks = [1, 2, 3, 4].map((h) => makeBlock(txs(h * 10, 2), { height: h }))
    m.cmpctblock(T0, 'a', makeCmpct(blocks[0]!, 2), 2, [])
    m.cmpctblock(T0, 'a', makeCmpct(blocks[0]!, 2), 2, []) // a repeat from one peer
    m.cmpctblock(T0, 'b', makeCmpct(blocks[0]!, 2), 2, []) // a second peer: an attempt of its own
    m.cmpctblock(T0, 'a', makeCmpct(blocks[1]!, 2), 2, [])
    m.cmpctblock(T0, 'a', makeCmpct(blocks[2]!, 2), 2, []) // a's third: per-peer cap
    m.cmpctblock(T0, 'b', makeCmpct(blocks[2]!, 2), 2, [])
    m.cmpctblock(T0, 'c', makeCmpct(blocks[3]!, 2), 2, []) // fourth overall: total cap
    const out = m.drain()
    expect(out.map((a) => (a.type === 'skipped' ? `skipped ${a.peer} ${a.reason}` : `${a.type} ${a.peer}`))).toEqual([
      'send a',
      'skipped a known',
      'send b',
      'send a',
      'skipped a busy',
      'send b',
      'skipped c busy',
    ])
    expect(m.inFlight).toBe(3)
    expect(m.attemptsInFlight).toBe(4)
    // Delivered blocks stay known.
    const body = blocks[0]!.txs.slice(1)
    m.blocktxn(T0 + 1, 'a', blockHash(blocks[0]!.header), body)
    expect(only(m.drain(), 'block').how).toBe('blocktxn')
    m.cmpctblock(T0 + 2, 'c', makeCmpct(blocks[0]!, 2), 2, [])
    expect(only(m.drain(), 'skipped').reason).toBe('known')
  })

  it('rejects bad limits', () => {
    expect(() => machine({ maxBlocksInFlight: 0 })).toThrow(RangeError)
    expect(() => machine({ blocktxnTimeoutMs: 1.5 })).toThrow(RangeError)
  })
})

describe('CompactTxPool', () => {
  it('holds candidates by txid, oldest first, evicting the oldest beyond either cap', () => {
    const pool = new CompactTxPool({ maxTxs: 3 })
    const t = [1, 2, 3, 4].map((n) => makeTx(n))
    for (const x of t) pool.add(candidate(x))
    pool.add(candidate(t[3]!)) // held already: no-op
    expect(pool.size).toBe(3)
    expect([...pool.candidates()].map((c) => hashToHex(c.txid))).toEqual(t.slice(1).map((x) => hashToHex(txid(x))))
    pool.remove([txid(t[2]!)])
    expect(pool.has(txid(t[2]!))).toBe(false)
    expect(pool.size).toBe(2)
    const one = blockSize({ header: makeBlock([]).header, txs: [t[0]!] }) - 81
    const byBytes = new CompactTxPool({ maxBytes: 2 * one })
    for (const x of t) byBytes.add(candidate(x))
    expect(byBytes.size).toBe(2)
    expect(byBytes.bytes).toBe(2 * one)
  })
})
