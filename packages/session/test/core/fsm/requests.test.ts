import { describe, expect, it } from 'vitest'
import {
  blockHash,
  InvType,
  PROTOCOL_VERSION,
  serializeBlockHeader,
  toHex,
  txid,
  wtxid,
  type Transaction,
  type BlockHeader,
  type InvItem,
  type MessageOf,
} from '@bitp2p/wire'
import { encodePayload } from '@bitp2p/wire/codecs'
import { LocalProtocolError } from '../../../src/core/fsm/errors.js'
import type { PeerEvent } from '../../../src/core/fsm/outbox.js'
import {
  DATA_REQUEST_TIMEOUT_MS,
  HEADERS_REQUEST_TIMEOUT_MS,
  invItemKey,
  MIN_BLOCK_STREAM_BYTES_PER_SEC,
  RETIRED_REQUESTS_KEPT,
} from '../../../src/core/fsm/requests.js'
import { hash, header, PeerHarness, readyOutbound } from './harness.js'

const responses = (ev: PeerEvent[]) => ev.flatMap((e) => (e.type === 'response' ? [e] : []))
const offenses = (ev: PeerEvent[]) => ev.flatMap((e) => (e.type === 'misbehavior' ? [e.offense.kind] : []))
const blockMsg = (h: BlockHeader): MessageOf<'block'> => ({ command: 'block', block: { header: h, txs: [] } })

describe('requests: getheaders', () => {
  it('sends getheaders with our version, the locator and a null hashStop', () => {
    const h = readyOutbound()
    const locator = [hash(3), hash(2), hash(1)]
    const id = h.request({ kind: 'headers', locator })
    expect(id).toBe(1)
    expect(h.sent()).toEqual([{ command: 'getheaders', version: PROTOCOL_VERSION, locator, hashStop: new Uint8Array(32) }])
  })

  it('matches a reply whose first header connects to any locator hash', () => {
    const h = readyOutbound()
    const id = h.request({ kind: 'headers', locator: [hash(3), hash(2), hash(1)] })
    const headers = [header(hash(2), 1), header(hash(9), 2)]
    h.received({ command: 'headers', headers })
    const ev = h.events()
    expect(ev.map((e) => e.type)).toEqual(['message', 'response'])
    expect(responses(ev)).toEqual([{ type: 'response', id, result: { kind: 'headers', headers } }])
    expect(h.machine.inFlight()).toEqual([])
  })

  it('matches an empty headers reply (nothing after our locator)', () => {
    const h = readyOutbound()
    const id = h.request({ kind: 'headers', locator: [hash(3)] })
    h.received({ command: 'headers', headers: [] })
    expect(responses(h.events())).toEqual([{ type: 'response', id, result: { kind: 'headers', headers: [] } }])
  })

  it('matches by content, not by order: the reply to the second request completes the second', () => {
    const h = readyOutbound()
    const first = h.request({ kind: 'headers', locator: [hash(1)] })
    const second = h.request({ kind: 'headers', locator: [hash(2)] })
    h.received({ command: 'headers', headers: [header(hash(2))] })
    expect(responses(h.events()).map((r) => r.id)).toEqual([second])
    expect(h.machine.inFlight().map((r) => r.id)).toEqual([first])
  })

  it('a reply that does not connect to the locator does not complete the request and scores non-connecting-headers', () => {
    const h = readyOutbound()
    h.request({ kind: 'headers', locator: [hash(3), hash(2)] })
    const headers = Array.from({ length: 9 }, (_, i) => header(hash(0x77), i))
    h.received({ command: 'headers', headers })
    const ev = h.events()
    expect(responses(ev)).toEqual([])
    expect(ev.map((e) => e.type)).toEqual(['message', 'unsolicited', 'misbehavior'])
    expect(ev[2]).toMatchObject({ type: 'misbehavior', score: 20, offense: { kind: 'non-connecting-headers', count: 9, prevBlock: hash(0x77) } })
    expect(h.machine.inFlight()).toHaveLength(1)
  })

  it('a short non-connecting headers message is a block announcement, not an offense', () => {
    const h = readyOutbound()
    h.request({ kind: 'headers', locator: [hash(3)] })
    h.received({ command: 'headers', headers: [header(hash(0x77))] })
    const ev = h.events()
    expect(ev.map((e) => e.type)).toEqual(['message', 'unsolicited'])
    expect(h.machine.inFlight()).toHaveLength(1)
  })

  it('scores unsolicited headers beyond an announcement', () => {
    const h = readyOutbound()
    h.received({ command: 'headers', headers: Array.from({ length: 9 }, (_, i) => header(hash(1), i)) })
    expect(offenses(h.events())).toEqual(['unsolicited-headers'])
  })

  it('refuses a locator the protocol cannot carry', () => {
    const h = readyOutbound()
    expect(() => h.request({ kind: 'headers', locator: [] })).toThrow(LocalProtocolError)
    expect(() => h.request({ kind: 'headers', locator: Array.from({ length: 102 }, () => hash(1)) })).toThrow(LocalProtocolError)
    expect(h.sent()).toEqual([])
  })
})

describe('requests: getdata', () => {
  const b1 = header(hash(1), 1)
  const b2 = header(hash(1), 2)
  const item = (type: number, h: BlockHeader): InvItem => ({ type, hash: blockHash(h) })

  it('completes when every item is answered, in any order', () => {
    const h = readyOutbound()
    const items = [item(InvType.MSG_WITNESS_BLOCK, b1), item(InvType.MSG_BLOCK, b2)]
    const id = h.request({ kind: 'data', items })
    expect(h.sent()).toEqual([{ command: 'getdata', items }])
    h.received(blockMsg(b2))
    expect(responses(h.events())).toEqual([])
    h.received(blockMsg(b1))
    const [r] = responses(h.events())
    expect(r!.id).toBe(id)
    expect(r!.result).toEqual({
      kind: 'data',
      found: [
        { item: items[1], message: blockMsg(b2) },
        { item: items[0], message: blockMsg(b1) },
      ],
      notFound: [],
    })
  })

  it('a partial notfound settles only the items it lists', () => {
    const h = readyOutbound()
    const items = [item(InvType.MSG_WITNESS_BLOCK, b1), item(InvType.MSG_WITNESS_BLOCK, b2)]
    const id = h.request({ kind: 'data', items })
    h.received({ command: 'notfound', items: [items[1]!] })
    expect(responses(h.events())).toEqual([])
    expect(h.machine.inFlight()).toHaveLength(1)
    h.received(blockMsg(b1))
    expect(responses(h.events())).toEqual([
      { type: 'response', id, result: { kind: 'data', found: [{ item: items[0], message: blockMsg(b1) }], notFound: [items[1]] } },
    ])
  })

  it('a notfound with the base type settles a witness item (the flag does not change the hash)', () => {
    const h = readyOutbound()
    const id = h.request({ kind: 'data', items: [item(InvType.MSG_WITNESS_BLOCK, b1)] })
    h.received({ command: 'notfound', items: [item(InvType.MSG_BLOCK, b1)] })
    expect(responses(h.events()).map((r) => r.id)).toEqual([id])
    expect(invItemKey(item(InvType.MSG_WITNESS_TX, b1))).toBe(invItemKey(item(InvType.MSG_TX, b1)))
    expect(invItemKey(item(InvType.MSG_WTX, b1))).not.toBe(invItemKey(item(InvType.MSG_TX, b1)))
  })

  it('matches merkleblock to a filtered-block item', () => {
    const h = readyOutbound()
    const id = h.request({ kind: 'data', items: [item(InvType.MSG_FILTERED_BLOCK, b1)] })
    const mb: MessageOf<'merkleblock'> = { command: 'merkleblock', header: b1, totalTxs: 1, hashes: [hash(5)], flags: new Uint8Array([1]) }
    h.received(mb)
    expect(responses(h.events()).map((r) => r.id)).toEqual([id])
  })

  it('an unsolicited block is delivered, reported and scored', () => {
    const h = readyOutbound()
    h.received(blockMsg(b1))
    const ev = h.events()
    expect(ev.map((e) => e.type)).toEqual(['message', 'unsolicited', 'misbehavior'])
    expect(ev[2]).toMatchObject({ offense: { kind: 'unsolicited-block', command: 'block', hash: blockHash(b1) }, score: 20 })
  })

  it('an unsolicited cmpctblock (BIP152 high-bandwidth relay) is reported but not scored', () => {
    const h = readyOutbound()
    h.received({ command: 'cmpctblock', header: b1, nonce: 1n, shortIds: [], prefilledTxs: [] })
    expect(h.events().map((e) => e.type)).toEqual(['message', 'unsolicited'])
  })

  it('a notfound for things never asked for is ignored (as Core)', () => {
    const h = readyOutbound()
    h.received({ command: 'notfound', items: [item(InvType.MSG_TX, b1)] })
    expect(h.events().map((e) => e.type)).toEqual(['message'])
  })

  it('getdata sent with send() is tracked like a request', () => {
    const h = readyOutbound()
    const id = h.send({ command: 'getdata', items: [item(InvType.MSG_BLOCK, b1)] })
    expect(id).toBe(1)
    expect(h.sentCommands()).toEqual(['getdata'])
    h.received(blockMsg(b1))
    expect(responses(h.events()).map((r) => r.id)).toEqual([1])
    expect(h.machine.misbehaviorScore).toBe(0)
  })

  it('refuses an empty getdata', () => {
    expect(() => readyOutbound().request({ kind: 'data', items: [] })).toThrow(LocalProtocolError)
  })
})

describe('requests: transactions', () => {
  it('matches a tx by txid for MSG_TX / MSG_WITNESS_TX and by wtxid for MSG_WTX', () => {
    const tx: Transaction = {
      version: 2,
      inputs: [{ prevout: { txid: hash(9), index: 0 }, scriptSig: new Uint8Array(), sequence: 0xffffffff, witness: [new Uint8Array([1, 2])] }],
      outputs: [{ value: 1000n, scriptPubKey: new Uint8Array([0x51]) }],
      locktime: 0,
    }
    expect(txid(tx)).not.toEqual(wtxid(tx)) // it has a witness
    const h = readyOutbound()
    const byTxid = h.request({ kind: 'data', items: [{ type: InvType.MSG_WITNESS_TX, hash: txid(tx) }] })
    const byWtxid = h.request({ kind: 'data', items: [{ type: InvType.MSG_WTX, hash: wtxid(tx) }] })
    h.received({ command: 'tx', tx })
    expect(responses(h.events()).map((r) => r.id)).toEqual([byTxid])
    h.received({ command: 'tx', tx })
    expect(responses(h.events()).map((r) => r.id)).toEqual([byWtxid])
    h.received({ command: 'tx', tx })
    expect(offenses(h.events())).toEqual(['unsolicited-tx'])
  })
})

describe('requests: deadlines and stalls', () => {
  const b1 = header(hash(1), 1)
  const b2 = header(hash(1), 2)
  const items = [
    { type: InvType.MSG_BLOCK, hash: blockHash(b1) },
    { type: InvType.MSG_BLOCK, hash: blockHash(b2) },
  ]

  it('arms a named per-request deadline with the default for its kind', () => {
    const h = readyOutbound()
    h.request({ kind: 'headers', locator: [hash(1)] })
    h.request({ kind: 'data', items })
    h.request({ kind: 'ping' })
    const r = h.machine.deadlines().filter((d) => d.name === 'request')
    expect(r).toEqual([{ name: 'request', at: h.now + HEADERS_REQUEST_TIMEOUT_MS, requestId: 1 }])
  })

  it('a stalled request is reported, fails, and (by default) disconnects with "stalled"', () => {
    const h = readyOutbound({ ping: { intervalMs: 1e9, pongIdleTimeoutMs: 1e9, pongTimeoutMs: 1e9 } })
    const sentAt = h.now
    const id = h.request({ kind: 'data', items })
    h.elapse(DATA_REQUEST_TIMEOUT_MS - 1)
    expect(h.disconnected()).toBeUndefined()
    h.elapse(1)
    const summary = { id, kind: 'data', request: { kind: 'data', items }, sentAt }
    const ev = h.events()
    expect(ev).toEqual([
      { type: 'stalled', request: summary, waitedMs: DATA_REQUEST_TIMEOUT_MS },
      { type: 'request-failed', request: summary, failure: { kind: 'stalled', waitedMs: DATA_REQUEST_TIMEOUT_MS } },
    ])
    expect(h.disconnected()).toEqual({ kind: 'stalled', request: summary, waitedMs: DATA_REQUEST_TIMEOUT_MS })
  })

  it('progress on any item pushes the deadline back', () => {
    const h = readyOutbound({ ping: { intervalMs: 1e9, pongIdleTimeoutMs: 1e9, pongTimeoutMs: 1e9 } })
    h.request({ kind: 'data', items })
    h.elapse(50_000)
    h.received(blockMsg(b1))
    h.elapse(DATA_REQUEST_TIMEOUT_MS - 1)
    expect(h.disconnected()).toBeUndefined()
    h.elapse(1)
    expect(h.disconnected()?.kind).toBe('stalled')
  })

  it('with onStall "report" the peer stays, and a late reply is neither unsolicited nor an offense', () => {
    const h = readyOutbound({ onStall: 'report', ping: { intervalMs: 1e9, pongIdleTimeoutMs: 1e9, pongTimeoutMs: 1e9 } })
    h.request({ kind: 'data', items: [items[0]!] })
    h.elapse(DATA_REQUEST_TIMEOUT_MS)
    expect(h.events().map((e) => e.type)).toEqual(['stalled', 'request-failed'])
    expect(h.disconnected()).toBeUndefined()
    h.received(blockMsg(b1))
    expect(h.events().map((e) => e.type)).toEqual(['message'])
    expect(h.machine.misbehaviorScore).toBe(0)
  })

  it('honours a per-request timeout', () => {
    const h = readyOutbound()
    h.request({ kind: 'data', items: [items[0]!] }, { timeoutMs: 500 })
    h.elapse(499)
    expect(h.disconnected()).toBeUndefined()
    h.elapse(1)
    expect(h.disconnected()?.kind).toBe('stalled')
  })

  it('by default a stalled getheaders is reported but does not disconnect', () => {
    const h = readyOutbound()
    h.request({ kind: 'headers', locator: [hash(1)] }, { timeoutMs: 500 })
    h.elapse(500)
    expect(h.events().map((e) => e.type)).toEqual(['stalled', 'request-failed'])
    expect(h.disconnected()).toBeUndefined()
  })

  it('cancel fails the request and tolerates its late reply', () => {
    const h = readyOutbound()
    const id = h.request({ kind: 'headers', locator: [hash(1)] })
    expect(h.machine.cancel(h.now, id)).toBe(true)
    expect(h.machine.cancel(h.now, id)).toBe(false)
    h.received({ command: 'headers', headers: Array.from({ length: 9 }, (_, i) => header(hash(1), i)) })
    expect(h.events().map((e) => e.type)).toEqual(['request-failed', 'message'])
    expect(h.machine.misbehaviorScore).toBe(0)
  })

  it(`remembers only the last ${RETIRED_REQUESTS_KEPT} retired requests`, () => {
    const h = readyOutbound()
    const first = h.request({ kind: 'data', items: [items[0]!] })
    h.machine.cancel(h.now, first)
    for (let i = 0; i < RETIRED_REQUESTS_KEPT; i++) h.machine.cancel(h.now, h.request({ kind: 'headers', locator: [hash(7)] }))
    h.events()
    h.received(blockMsg(b1))
    expect(offenses(h.events())).toEqual(['unsolicited-block'])
  })

  it('closing fails every request in flight, then disconnects', () => {
    const h = readyOutbound()
    h.request({ kind: 'headers', locator: [hash(1)] })
    h.request({ kind: 'ping' })
    h.machine.close(h.now, { kind: 'local', reason: 'bye' })
    const actions = h.machine.drain()
    expect(actions.map((a) => (a.type === 'event' ? `${a.event.type}` : a.type))).toEqual(['request-failed', 'request-failed', 'disconnect'])
    expect(actions[0]).toMatchObject({ event: { failure: { kind: 'closed', reason: { kind: 'local', reason: 'bye' } } } })
  })
})

describe('requests: ping', () => {
  it('matches the pong with the same nonce, with its RTT', () => {
    const h = readyOutbound()
    const keepalive = h.lastSent('ping')!.nonce
    const id = h.request({ kind: 'ping' })
    const nonce = h.lastSent('ping')!.nonce
    expect(nonce).not.toBe(keepalive)
    h.elapse(30)
    h.received({ command: 'pong', nonce: nonce })
    const ev = h.events()
    expect(responses(ev)).toEqual([{ type: 'response', id, result: { kind: 'ping', nonce, rttMs: 30 } }])
    expect(ev.find((e) => e.type === 'latency')).toMatchObject({ rttMs: 30 })
    expect(h.machine.rtt.samples).toBe(1)
    // The keepalive ping is still waiting for its own pong.
    expect(h.machine.deadlines().map((d) => d.name)).toContain('pong-wait')
  })
})

describe('requests: streamed blocks', () => {
  const b1 = header(hash(1), 1)
  const raw = serializeBlockHeader(b1)

  // The pieces go out as 'payload' events (streamBlocks); gathering whole blocks is specified below.
  const quiet = { streamBlocks: true, ping: { intervalMs: 1e9, pongIdleTimeoutMs: 1e9, pongTimeoutMs: 1e9 } }
  const item = (h: BlockHeader): InvItem => ({ type: InvType.MSG_WITNESS_BLOCK, hash: blockHash(h) })
  const payloads = (ev: PeerEvent[]) => ev.flatMap((e) => (e.type === 'payload' ? [e] : []))

  it('is held back until its header is in, then every piece carries the request id; its end answers the item', () => {
    const h = readyOutbound(quiet)
    const id = h.request({ kind: 'data', items: [item(b1)] })
    h.receivedEvent({ type: 'payload-start', command: 'block', length: 81 })
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 0, bytes: raw.subarray(0, 50) })
    // 50 bytes name no block yet: nothing goes out.
    expect(payloads(h.events())).toEqual([])
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 50, bytes: Uint8Array.of(...raw.subarray(50), 0) })
    h.receivedEvent({ type: 'payload-end', command: 'block', length: 81, wireBytes: 105 })
    const ev = h.events()
    // The header goes out as one piece, then the rest of the piece that completed it.
    expect(payloads(ev).map((p) => [p.event.type, 'offset' in p.event ? p.event.offset : -1, 'bytes' in p.event ? p.event.bytes.length : -1, p.requestId])).toEqual([
      ['payload-start', -1, -1, id],
      ['payload-chunk', 0, 80, id],
      ['payload-chunk', 80, 1, id],
      ['payload-end', -1, -1, id],
    ])
    expect(responses(ev)).toEqual([{ type: 'response', id, result: { kind: 'data', found: [{ item: item(b1), message: undefined }], notFound: [] } }])
  })

  it('each piece of a claimed stream is progress, for it and for the block requests queued behind it', () => {
    const h = readyOutbound(quiet)
    const b2 = header(hash(2), 2)
    const first = h.request({ kind: 'data', items: [item(b1)] })
    const queued = h.request({ kind: 'data', items: [item(b2)] })
    // 4 MB: a budget of 460 s.
    h.receivedEvent({ type: 'payload-start', command: 'block', length: 4_000_000 })
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 0, bytes: raw })
    for (let i = 0; i < 3; i++) {
      h.elapse(DATA_REQUEST_TIMEOUT_MS - 10)
      h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 80 + i, bytes: new Uint8Array(1) })
    }
    expect(h.disconnected()).toBeUndefined()
    expect(h.machine.inFlight().map((r) => r.id)).toEqual([first, queued])
  })

  it('a trickle cannot hold a request forever: the stream stalls when its budget (deadline + length at the minimum rate) runs out', () => {
    const h = readyOutbound(quiet)
    const length = 100_000
    h.request({ kind: 'data', items: [item(b1)] })
    h.receivedEvent({ type: 'payload-start', command: 'block', length })
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 0, bytes: raw })
    const began = h.now
    const budget = DATA_REQUEST_TIMEOUT_MS + (length * 1000) / MIN_BLOCK_STREAM_BYTES_PER_SEC
    // A byte every 30 s: always progress, never enough.
    let offset = 80
    while (!h.disconnected() && h.now - began < 2 * budget) {
      h.elapse(30_000)
      if (!h.disconnected()) h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: offset++, bytes: new Uint8Array(1) })
    }
    const reason = h.disconnected()
    expect(reason).toMatchObject({ kind: 'stalled', stream: { received: offset, length, elapsedMs: budget } })
    expect(reason?.kind === 'stalled' && reason.waitedMs).toBeLessThan(DATA_REQUEST_TIMEOUT_MS)
  })

  it('a stream nobody asked for is scored at its header and is progress for no request', () => {
    const h = readyOutbound(quiet)
    const b2 = header(hash(2), 2)
    const id = h.request({ kind: 'data', items: [item(b2)] })
    h.receivedEvent({ type: 'payload-start', command: 'block', length: 200_000 })
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 0, bytes: raw })
    expect(offenses(h.peekEvents('misbehavior').map((e) => e as PeerEvent))).toEqual(['unsolicited-block'])
    expect(payloads(h.events()).map((p) => p.requestId)).toEqual([undefined, undefined])
    h.elapse(DATA_REQUEST_TIMEOUT_MS - 10)
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 80, bytes: new Uint8Array(1000) })
    h.elapse(20)
    expect(h.disconnected()).toMatchObject({ kind: 'stalled', request: { id }, waitedMs: DATA_REQUEST_TIMEOUT_MS })
  })

  it('the rest of a stream whose request stalled is late, not unsolicited', () => {
    const h = readyOutbound({ ...quiet, onStall: { data: 'report' } })
    const id = h.request({ kind: 'data', items: [item(b1)] })
    h.receivedEvent({ type: 'payload-start', command: 'block', length: 1_000 })
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 0, bytes: raw })
    h.elapse(DATA_REQUEST_TIMEOUT_MS)
    expect(h.events().filter((e) => e.type === 'request-failed')).toMatchObject([{ request: { id }, failure: { kind: 'stalled' } }])
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 80, bytes: new Uint8Array(920) })
    h.receivedEvent({ type: 'payload-end', command: 'block', length: 1_000, wireBytes: 1_024 })
    // The same block again, whole: late too (its item was put back when the request retired).
    h.receivedEvent({ type: 'payload-start', command: 'block', length: 1_000 })
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 0, bytes: raw })
    const ev = h.events()
    expect(offenses(ev)).toEqual([])
    expect(responses(ev)).toEqual([])
    expect(h.disconnected()).toBeUndefined()
  })

  it('without streamBlocks the pieces are gathered (and count as progress), then the decoded block answers its item as a message', () => {
    const h = readyOutbound({ ping: quiet.ping })
    // A block of 1 MB (one transaction with a big output): a stream budget of 160 s.
    const tx: Transaction = {
      version: 1,
      inputs: [{ prevout: { txid: new Uint8Array(32), index: 0 }, scriptSig: Uint8Array.of(1, 1), sequence: 0xffffffff, witness: [] }],
      outputs: [{ value: 0n, scriptPubKey: new Uint8Array(1_000_000) }],
      locktime: 0,
    }
    const block: MessageOf<'block'> = { command: 'block', block: { header: b1, txs: [tx] } }
    const payload = encodePayload(block, { protocolVersion: PROTOCOL_VERSION, maxBlockPayload: 4_000_000 })
    const id = h.request({ kind: 'data', items: [item(b1)] })
    h.receivedEvent({ type: 'payload-start', command: 'block', length: payload.length })
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 0, bytes: payload.subarray(0, 81) })
    h.elapse(DATA_REQUEST_TIMEOUT_MS - 10)
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 81, bytes: payload.subarray(81) })
    h.elapse(DATA_REQUEST_TIMEOUT_MS - 10)
    expect(h.disconnected()).toBeUndefined()
    h.receivedEvent({ type: 'payload-end', command: 'block', length: payload.length, wireBytes: payload.length + 24 })
    const ev = h.events()
    expect(payloads(ev)).toEqual([])
    // The same block, decoded: one message event, and the response carries it.
    const messages = ev.flatMap((e) => (e.type === 'message' && e.message.command === 'block' ? [e.message] : []))
    expect(messages.map((m) => [toHex(blockHash(m.block.header)), m.block.txs.map((t) => toHex(txid(t)))])).toEqual([[toHex(blockHash(b1)), [toHex(txid(tx))]]])
    const [r] = responses(ev)
    expect(r).toMatchObject({ type: 'response', id, result: { kind: 'data', notFound: [] } })
    expect(r!.result.kind === 'data' && r!.result.found.map((f) => [f.item, f.message])).toEqual([[item(b1), messages[0]]])
  })

  it('without streamBlocks a gathered block that does not decode is a malformed payload, and its request waits on', () => {
    const h = readyOutbound({ ping: quiet.ping })
    const id = h.request({ kind: 'data', items: [item(b1)] })
    // A header and a transaction count of 3, then nothing: not a block.
    const bad = Uint8Array.of(...raw, 3)
    h.receivedEvent({ type: 'payload-start', command: 'block', length: bad.length })
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 0, bytes: bad })
    h.receivedEvent({ type: 'payload-end', command: 'block', length: bad.length, wireBytes: bad.length + 24 })
    expect(offenses(h.events())).toEqual(['malformed-payload'])
    expect(h.machine.inFlight().map((r) => r.id)).toEqual([id])
    // The block itself, whole and valid, still answers it.
    const block = blockMsg(b1)
    h.received(block)
    expect(responses(h.events())).toEqual([{ type: 'response', id, result: { kind: 'data', found: [{ item: item(b1), message: block }], notFound: [] } }])
  })

  it('an unsolicited streamed block is scored', () => {
    const h = readyOutbound({ streamBlocks: true })
    h.receivedEvent({ type: 'payload-start', command: 'block', length: 80 })
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 0, bytes: raw })
    h.receivedEvent({ type: 'payload-end', command: 'block', length: 80, wireBytes: 104 })
    expect(offenses(h.events())).toEqual(['unsolicited-block'])
  })

  it('a streamed block shorter than a header is malformed', () => {
    const h = readyOutbound()
    h.receivedEvent({ type: 'payload-start', command: 'block', length: 10 })
    h.receivedEvent({ type: 'payload-chunk', command: 'block', offset: 0, bytes: raw.subarray(0, 10) })
    h.receivedEvent({ type: 'payload-end', command: 'block', length: 10, wireBytes: 34 })
    expect(offenses(h.events())).toEqual(['malformed-payload'])
  })

  it('a streamed payload before the handshake is an offense', () => {
    const h = new PeerHarness({ direction: 'outbound' }).start()
    h.receivedEvent({ type: 'payload-start', command: 'block', length: 80 })
    expect(offenses(h.events())).toEqual(['before-handshake'])
  })
})
