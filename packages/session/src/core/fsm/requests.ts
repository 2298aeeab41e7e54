/**
 * Requests and the replies that answer them.
 *
 * A reply is matched by content, never as "the next message of that
 * command":
 *  - getheaders: a `headers` message whose first header's prevBlock is one
 *    of the locator hashes, or an empty `headers` (the peer has nothing
 *    after our locator). Several getheaders in flight are matched oldest
 *    first among those the reply connects to.
 *  - getdata: each item is answered by the object with that hash (`tx` by
 *    txid for MSG_TX / MSG_WITNESS_TX, by wtxid for MSG_WTX; `block`,
 *    `merkleblock` or `cmpctblock` by block hash for the block types; the
 *    BIP144 witness flag does not change the hash), or by a `notfound`
 *    listing it. A partial notfound settles the items it lists; the request
 *    completes when every item is settled.
 *  - ping: the `pong` with the same nonce.
 *
 * Streamed blocks. A block that arrives as a stream is claimed by its
 * request as soon as its first 80 bytes (the header, hence the hash) are
 * in: from then on the stream belongs to that request (`claimStream`), its
 * pieces count as progress (`streamProgress`) and its end settles the item
 * (`endStream`). A stream nobody asked for is unsolicited at once, not
 * after megabytes; its pieces are progress for nothing.
 *
 * Deadlines. Each request has one, `timeoutMs` after its last progress
 * (sending it, or any of its items arriving, or a piece of a stream that
 * answers one of this peer's block requests: a peer serves getdata in
 * order, so the blocks queued behind the one arriving are not stalled).
 * Defaults:
 *  - headers 30 s: a full reply is 162 KB, seconds on any working link;
 *  - data 60 s of no progress: Core's GETDATA_TX_INTERVAL for transactions;
 *  - ping 60 s.
 * Progress alone would let a peer hold a block request forever by dripping
 * a byte at a time, so a stream also has a total budget: `timeoutMs` plus
 * its length at MIN_BLOCK_STREAM_BYTES_PER_SEC from its first byte
 * (Core bounds a block download in time too, whatever arrives).
 * A request past its deadline is "stalled": the tracker retires it and the
 * peer machine reports it and, by policy, disconnects.
 *
 * Replies nobody asked for are reported as unsolicited; the peer machine
 * decides whether that is an offense. A reply to a request we gave up on
 * (cancelled or stalled) is "late", not unsolicited: the last
 * RETIRED_REQUESTS_KEPT retired requests are remembered for that.
 */
import {
  blockHash,
  bytesEqual,
  InvType,
  MSG_WITNESS_FLAG,
  toHex,
  txid,
  wtxid,
  hasWitness,
  type BlockHeader,
  type InvItem,
  type Message,
  type MessageOf,
  type KnownMessage,
} from '@bitp2p/wire'
import { MAX_INV_SIZE, MAX_LOCATOR_SZ } from '@bitp2p/wire/limits'
import type { Random } from '../ports.js'
import { LocalProtocolError } from './errors.js'
import type { Outbox } from './outbox.js'
import { pingNonce } from './ping.js'
import type { DisconnectReason } from './reasons.js'

/** Default deadline of a getheaders. */
export const HEADERS_REQUEST_TIMEOUT_MS = 30_000
/** Default deadline of a getdata, from its last progress. */
export const DATA_REQUEST_TIMEOUT_MS = 60_000
/** Default deadline of a user ping. */
export const PING_REQUEST_TIMEOUT_MS = 60_000
/**
 * Slowest steady rate a streamed block may arrive at: its request stalls
 * `timeoutMs` + length / this rate after the stream began (a 4 MB block
 * gets 400 s more than its deadline), however regularly bytes trickle in.
 */
export const MIN_BLOCK_STREAM_BYTES_PER_SEC = 10_000
/** Retired (cancelled or stalled) requests remembered so their late replies are not called unsolicited. */
export const RETIRED_REQUESTS_KEPT = 64
/** Bytes of a block hash. */
const HASH_BYTES = 32
const ZERO_HASH = new Uint8Array(HASH_BYTES)

/** What can be asked of a peer. */
export type PeerRequest =
  /** getheaders: the headers after the first locator hash the peer knows, up to hashStop. */
  | { readonly kind: 'headers'; readonly locator: readonly Uint8Array[]; readonly hashStop?: Uint8Array }
  /** getdata: these objects. */
  | { readonly kind: 'data'; readonly items: readonly InvItem[] }
  /** ping: a round trip. */
  | { readonly kind: 'ping' }

/** The `kind` tag of a PeerRequest: 'headers', 'data' or 'ping'; deadlines and stall policies are set per kind. */
export type RequestKind = PeerRequest['kind']

/** A request as reported in events and disconnect reasons. */
export interface RequestSummary {
  readonly id: number
  readonly kind: RequestKind
  readonly request: PeerRequest
  readonly sentAt: number
}

/** One getdata item and what answered it. */
export interface DataReply {
  readonly item: InvItem
  /** The tx/block/merkleblock/cmpctblock; undefined for a block streamed out as 'payload' events. */
  readonly message: Message | undefined
}

/** A completed request's answer. */
export type RequestResult =
  | { readonly kind: 'headers'; readonly headers: readonly BlockHeader[] }
  | { readonly kind: 'data'; readonly found: readonly DataReply[]; readonly notFound: readonly InvItem[] }
  | { readonly kind: 'ping'; readonly nonce: bigint; readonly rttMs: number }

/** Why a request ended without an answer. */
export type RequestFailure =
  /**
   * No progress for `waitedMs`; or, with `stream`, a streamed block that
   * used up its time budget (see MIN_BLOCK_STREAM_BYTES_PER_SEC).
   */
  | { readonly kind: 'stalled'; readonly waitedMs: number; readonly stream?: StreamProgress }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'closed'; readonly reason: DisconnectReason }

/** How far a streamed block got before its budget ran out. */
export interface StreamProgress {
  readonly received: number
  readonly length: number
  /** Since the stream's first byte. */
  readonly elapsedMs: number
}

/** What claiming a stream found (see RequestTracker.claimStream). */
export type StreamClaim =
  /** The stream answers request `id`. */
  | { readonly type: 'owned'; readonly id: number }
  /** It answers a request we already gave up on. */
  | { readonly type: 'late' }
  /** Nobody asked for it. */
  | { readonly type: 'unsolicited' }

/** A request that completed with a message. */
export interface Completion {
  readonly id: number
  readonly result: RequestResult
}

/** What the tracker made of one message. */
export type MatchOutcome =
  /** Not a command that answers requests (inv, addr, ...). */
  | { readonly type: 'not-a-reply' }
  /** Answered (part of) one or more requests; `completed` lists those now complete. */
  | { readonly type: 'reply'; readonly completed: readonly Completion[] }
  /** Answers a request we already gave up on. */
  | { readonly type: 'late' }
  /**
   * A reply command that answers nothing. `nonConnecting` is set for
   * headers that arrived while a getheaders was in flight but connect to
   * none of their locators.
   */
  | { readonly type: 'unsolicited'; readonly nonConnecting: boolean }

/** The header of a block-like reply. */
export function replyHeader(msg: MessageOf<'block' | 'merkleblock' | 'cmpctblock'>): BlockHeader {
  return msg.command === 'block' ? msg.block.header : msg.header
}

interface Pending {
  readonly id: number
  readonly request: PeerRequest
  readonly sentAt: number
  readonly timeoutMs: number
  lastProgress: number
  /** data: items not yet settled, by match key (insertion order = request order). */
  readonly remaining: Map<string, InvItem>
  readonly found: DataReply[]
  readonly notFound: InvItem[]
  /** ping */
  readonly nonce: bigint
  /** The streamed block answering one of `remaining`'s items, while it arrives. */
  stream: { readonly item: InvItem; readonly length: number; readonly startedAt: number; received: number } | undefined
}

/** The match key of an inventory item: what hash a reply must carry. */
export function invItemKey(item: InvItem): string {
  const base = (item.type & ~MSG_WITNESS_FLAG) >>> 0
  switch (base) {
    case InvType.MSG_TX:
      return `t${toHex(item.hash)}`
    case InvType.MSG_WTX:
      return `w${toHex(item.hash)}`
    case InvType.MSG_BLOCK:
    case InvType.MSG_FILTERED_BLOCK:
    case InvType.MSG_CMPCT_BLOCK:
      return `b${toHex(item.hash)}`
    default:
      // Only a notfound can answer an item type we do not know.
      return `u${item.type >>> 0}:${toHex(item.hash)}`
  }
}

/** Keys an object message can satisfy, or undefined when it is no getdata reply. */
export function replyKeys(msg: Message): string[] | undefined {
  switch (msg.command) {
    case 'tx': {
      const id = txid(msg.tx)
      // Without a witness the wtxid is the txid (BIP141): skip the second hash.
      const wid = hasWitness(msg.tx) ? wtxid(msg.tx) : id
      return [`t${toHex(id)}`, `w${toHex(wid)}`]
    }
    case 'block':
      return [`b${toHex(blockHash(msg.block.header))}`]
    case 'merkleblock':
    case 'cmpctblock':
      return [`b${toHex(blockHash(msg.header))}`]
    default:
      return undefined
  }
}

/** Every kind's default deadline, shared by the trackers given no deadlines of their own. */
const DEFAULT_REQUEST_TIMEOUTS: Readonly<Record<RequestKind, number>> = Object.freeze({
  headers: HEADERS_REQUEST_TIMEOUT_MS,
  data: DATA_REQUEST_TIMEOUT_MS,
  ping: PING_REQUEST_TIMEOUT_MS,
})

/** The empty map every tracker starts with (deleting from or clearing it is a no-op; nothing sets into it). */
const NO_PENDING: ReadonlyMap<number, unknown> = new Map()

/** Outstanding requests of one peer. */
export class RequestTracker {
  private readonly out: Outbox
  private readonly random: Random
  private readonly protocolVersion: number
  private readonly timeouts: Readonly<Record<RequestKind, number>>
  /** Requests in flight by id; NO_PENDING (shared, never written) until the first, as most connections of a crawl or a simulation send none. */
  private pending: Map<number, Pending> = NO_PENDING as Map<number, Pending>
  private retired: Pending[] = []
  private nextId = 1

  constructor(out: Outbox, random: Random, protocolVersion: number, timeouts: Partial<Record<RequestKind, number>> = {}) {
    this.out = out
    this.random = random
    this.protocolVersion = protocolVersion
    // The defaults are one shared frozen object, not a copy per connection.
    this.timeouts =
      timeouts.headers === undefined && timeouts.data === undefined && timeouts.ping === undefined
        ? DEFAULT_REQUEST_TIMEOUTS
        : {
            headers: timeouts.headers ?? HEADERS_REQUEST_TIMEOUT_MS,
            data: timeouts.data ?? DATA_REQUEST_TIMEOUT_MS,
            ping: timeouts.ping ?? PING_REQUEST_TIMEOUT_MS,
          }
  }

  /** Requests in flight. */
  get size(): number {
    return this.pending.size
  }

  /** Summaries of the requests in flight, oldest first. */
  inFlight(): RequestSummary[] {
    return [...this.pending.values()].map(summary)
  }

  /**
   * Send a request. Returns its id (ids count up from 1 per peer).
   * Throws LocalProtocolError for a request the protocol cannot carry.
   */
  open(now: number, request: PeerRequest, timeoutMs?: number): number {
    const message = this.messageFor(request)
    const id = this.nextId++
    const remaining = new Map<string, InvItem>()
    if (request.kind === 'data') for (const it of request.items) remaining.set(invItemKey(it), it)
    const nonce = message.command === 'ping' ? message.nonce : 0n
    if (this.pending === NO_PENDING) this.pending = new Map()
    this.pending.set(id, {
      id,
      request,
      sentAt: now,
      timeoutMs: timeoutMs ?? this.timeouts[request.kind],
      lastProgress: now,
      remaining,
      found: [],
      notFound: [],
      nonce,
      stream: undefined,
    })
    this.out.send(message)
    return id
  }

  /** Register a getheaders/getdata the caller sent itself (peer.send): tracked like a request. */
  adopt(now: number, msg: KnownMessage): number | undefined {
    if (msg.command === 'getheaders') return this.open(now, { kind: 'headers', locator: msg.locator, hashStop: msg.hashStop })
    if (msg.command === 'getdata') return this.open(now, { kind: 'data', items: msg.items })
    return undefined
  }

  private messageFor(request: PeerRequest): KnownMessage {
    switch (request.kind) {
      case 'headers': {
        const { locator, hashStop } = request
        if (locator.length === 0 || locator.length > MAX_LOCATOR_SZ) {
          throw new LocalProtocolError(`getheaders locator must have 1..${MAX_LOCATOR_SZ} hashes, got ${locator.length}`)
        }
        return { command: 'getheaders', version: this.protocolVersion, locator, hashStop: hashStop ?? ZERO_HASH }
      }
      case 'data':
        if (request.items.length === 0 || request.items.length > MAX_INV_SIZE) {
          throw new LocalProtocolError(`getdata must have 1..${MAX_INV_SIZE} items, got ${request.items.length}`)
        }
        return { command: 'getdata', items: request.items }
      case 'ping':
        return { command: 'ping', nonce: pingNonce(this.random) }
    }
  }

  /** Stop waiting for a request. Returns its summary, or undefined if it was not in flight. */
  cancel(id: number): RequestSummary | undefined {
    const p = this.pending.get(id)
    if (!p) return undefined
    this.retire(p)
    return summary(p)
  }

  /** Forget every request (the connection ended). Returns them, oldest first. */
  clear(): RequestSummary[] {
    const all = this.inFlight()
    this.pending.clear()
    this.retired = []
    return all
  }

  private retire(p: Pending): void {
    // A stream cut short did not deliver its item: a late copy is still 'late'.
    if (p.stream) p.remaining.set(invItemKey(p.stream.item), p.stream.item)
    this.pending.delete(p.id)
    this.retired.push(p)
    if (this.retired.length > RETIRED_REQUESTS_KEPT) this.retired.shift()
  }

  /** The earliest request deadline. */
  deadline(): { readonly id: number; readonly at: number } | undefined {
    let best: { id: number; at: number } | undefined
    for (const p of this.pending.values()) {
      const at = deadlineOf(p)
      if (!best || at < best.at) best = { id: p.id, at }
    }
    return best
  }

  /** When `deadline()` falls, without the request (the driver asks this after every input). */
  deadlineAt(): number | undefined {
    let best: number | undefined
    for (const p of this.pending.values()) {
      const at = deadlineOf(p)
      if (best === undefined || at < best) best = at
    }
    return best
  }

  /** Retire and return every request past its deadline (oldest first); none due: empty. */
  expire(now: number): { readonly request: RequestSummary; readonly waitedMs: number; readonly stream?: StreamProgress }[] {
    const out: { request: RequestSummary; waitedMs: number; stream?: StreamProgress }[] = []
    for (const p of [...this.pending.values()]) {
      if (now < deadlineOf(p)) continue
      this.retire(p)
      const s = p.stream
      const waitedMs = now - p.lastProgress
      // Still progressing, so it was the stream's budget that ran out.
      if (s && waitedMs < p.timeoutMs) {
        out.push({ request: summary(p), waitedMs, stream: { received: s.received, length: s.length, elapsedMs: now - s.startedAt } })
      } else {
        out.push({ request: summary(p), waitedMs })
      }
    }
    return out
  }

  /**
   * The first 80 bytes of a streamed block are in: the oldest request still
   * waiting for block `hash` owns the stream from now on.
   */
  claimStream(now: number, hash: Uint8Array, length: number): StreamClaim {
    const key = `b${toHex(hash)}`
    for (const p of this.pending.values()) {
      if (p.stream || !p.remaining.has(key)) continue
      const item = p.remaining.get(key)!
      p.remaining.delete(key)
      p.stream = { item, length, startedAt: now, received: 0 }
      p.lastProgress = now
      return { type: 'owned', id: p.id }
    }
    return this.findByKey([key], this.retired) ? { type: 'late' } : { type: 'unsolicited' }
  }

  /**
   * `bytes` more of the stream request `id` owns: progress for it and for
   * every other request of this peer waiting for a block (queued behind it).
   * A stream whose request was retired meanwhile is progress for nothing.
   */
  streamProgress(now: number, id: number, bytes: number): void {
    const owner = this.pending.get(id)
    if (!owner?.stream) return
    owner.stream.received += bytes
    for (const p of this.pending.values()) {
      if (p === owner) {
        p.lastProgress = now
        continue
      }
      if (p.request.kind !== 'data') continue
      for (const key of p.remaining.keys()) {
        if (key.startsWith('b')) {
          p.lastProgress = now
          break
        }
      }
    }
  }

  /** The stream request `id` owns ended whole: its item is found (`message`: the block, when it was gathered and decoded). */
  endStream(now: number, id: number, message: Message | undefined): MatchOutcome {
    const p = this.pending.get(id)
    if (!p?.stream) return { type: 'late' }
    p.found.push({ item: p.stream.item, message })
    p.stream = undefined
    p.lastProgress = now
    return { type: 'reply', completed: this.completeIfDone(p) }
  }

  /** The stream request `id` owned ended but was no block: the item is awaited again (and the request may stall). */
  abandonStream(id: number): void {
    const p = this.pending.get(id)
    if (!p?.stream) return
    p.remaining.set(invItemKey(p.stream.item), p.stream.item)
    p.stream = undefined
  }

  /** Offer a message from the peer. */
  match(now: number, msg: Message): MatchOutcome {
    switch (msg.command) {
      case 'headers':
        return this.matchHeaders(msg)
      case 'notfound':
        return this.matchNotFound(now, msg)
      case 'pong':
        return this.matchPong(now, msg.nonce)
      default: {
        const keys = replyKeys(msg)
        return keys ? this.matchObject(now, keys, msg) : { type: 'not-a-reply' }
      }
    }
  }

  private matchHeaders(msg: MessageOf<'headers'>): MatchOutcome {
    let sawHeadersRequest = false
    const connects = (p: Pending): boolean => {
      if (p.request.kind !== 'headers') return false
      sawHeadersRequest = true
      if (msg.headers.length === 0) return true
      const prev = msg.headers[0]!.prevBlock
      return p.request.locator.some((h) => bytesEqual(h, prev))
    }
    for (const p of this.pending.values()) {
      if (connects(p)) {
        this.pending.delete(p.id)
        return { type: 'reply', completed: [{ id: p.id, result: { kind: 'headers', headers: msg.headers } }] }
      }
    }
    const nonConnecting = sawHeadersRequest
    for (const p of this.retired) if (connects(p)) return { type: 'late' }
    return { type: 'unsolicited', nonConnecting }
  }

  private matchPong(now: number, nonce: bigint): MatchOutcome {
    for (const p of this.pending.values()) {
      if (p.request.kind === 'ping' && p.nonce === nonce) {
        this.pending.delete(p.id)
        return { type: 'reply', completed: [{ id: p.id, result: { kind: 'ping', nonce, rttMs: now - p.sentAt } }] }
      }
    }
    for (const p of this.retired) if (p.request.kind === 'ping' && p.nonce === nonce) return { type: 'late' }
    return { type: 'unsolicited', nonConnecting: false }
  }

  /** The first pending request (oldest) still waiting for one of `keys`. */
  private findByKey(keys: readonly string[], pool: Iterable<Pending>): { p: Pending; key: string } | undefined {
    for (const p of pool) for (const key of keys) if (p.remaining.has(key)) return { p, key }
    return undefined
  }

  private matchObject(now: number, keys: readonly string[], msg: Message | undefined): MatchOutcome {
    const hit = this.findByKey(keys, this.pending.values())
    if (!hit) return this.findByKey(keys, this.retired) ? { type: 'late' } : { type: 'unsolicited', nonConnecting: false }
    const { p, key } = hit
    const item = p.remaining.get(key)!
    p.remaining.delete(key)
    p.found.push({ item, message: msg })
    p.lastProgress = now
    return { type: 'reply', completed: this.completeIfDone(p) }
  }

  private matchNotFound(now: number, msg: MessageOf<'notfound'>): MatchOutcome {
    const touched: Pending[] = []
    let any = false
    for (const it of msg.items) {
      const hit = this.findByKey([invItemKey(it)], this.pending.values())
      if (!hit) continue
      any = true
      hit.p.notFound.push(hit.p.remaining.get(hit.key)!)
      hit.p.remaining.delete(hit.key)
      hit.p.lastProgress = now
      if (!touched.includes(hit.p)) touched.push(hit.p)
    }
    // Core ignores notfound for things it did not ask for; so do we (no offense).
    if (!any) return { type: 'unsolicited', nonConnecting: false }
    return { type: 'reply', completed: touched.flatMap((p) => this.completeIfDone(p)) }
  }

  private completeIfDone(p: Pending): Completion[] {
    if (p.remaining.size > 0 || p.stream) return []
    this.pending.delete(p.id)
    return [{ id: p.id, result: { kind: 'data', found: p.found, notFound: p.notFound } }]
  }
}

/** When `p` stalls: `timeoutMs` after its last progress, and for a stream no later than its budget. */
function deadlineOf(p: Pending): number {
  const idle = p.lastProgress + p.timeoutMs
  const s = p.stream
  if (!s) return idle
  return Math.min(idle, s.startedAt + p.timeoutMs + Math.ceil((s.length * 1000) / MIN_BLOCK_STREAM_BYTES_PER_SEC))
}

function summary(p: Pending): RequestSummary {
  return { id: p.id, kind: p.request.kind, request: p.request, sentAt: p.sentAt }
}
