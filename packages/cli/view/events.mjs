// The event vocabulary of `bitp2p view`, and the tally both ends keep of it.
//
// A view is fed one ordered sequence of small JSON events (a "trace"). The
// simulation, a live peer and a replayed file all produce the same
// vocabulary; the page draws it, the CLI writes it to a file as JSON lines.
// Every event has `type` and `t`: milliseconds since the source started
// (virtual time in a simulation, wall time for a live peer). Hashes are hex
// in RPC (display) order; peers are small integers, 0 (SELF) being our node.
//
//   start         source ('sim' | 'peer'), network, format (TRACE_FORMAT);
//                 for a simulation seed, peers, minutes; for a peer its address
//   peer-added    peer, address, userAgent, version, services (hex),
//                 startHeight: a handshake completed
//   peer-removed  peer, reason: the connection ended
//   message       from, to, command, bytes: one whole frame (header
//                 included) crossed the wire; from/to are SELF or a peer.
//                 command is as the Peer's frame events name it: the name,
//                 or '(invalid)', '(other)' (past 64 names), '(unframed)'.
//                 A handshake's frames follow its peer-added (their t may
//                 be a little earlier)
//   height        peer, height, hash: the last header a peer sent us that
//                 our tree accepted (the peer's tip as far as we know)
//   tip           height, hash, work (hex): our most-work tip moved
//   reorg         fork {height, hash}, disconnected [{height, hash}],
//                 connected [{height, hash}] (ascending): our tip moved to
//                 another branch
//   tx            peer, txid, vsize: a new mempool transaction (live peers)
//   summary       the tally of every event before it (see `summarize`):
//                 the last event of a finished trace
//
// This module is shared by the CLI (Node) and the page (served as
// /events.mjs), so it imports nothing.

/** Version of the vocabulary, carried by the `start` event. */
export const TRACE_FORMAT = 1
/** The peer id of our own node in `message.from` / `message.to`. */
export const SELF = 0
/** Transactions a tally remembers for display (the count is kept in full). */
export const RECENT_TXS = 20
/**
 * Distinct commands a tally counts by name, in order of first sight; the
 * rest are counted under OTHER_COMMAND. A peer names its commands, so
 * without a cap it could grow the tally (and every summary) without end.
 * 64, as session's FrameMeter (MAX_METERED_COMMANDS).
 */
export const MAX_COMMANDS = 64
/** The bucket for commands beyond MAX_COMMANDS (session's name for it). */
export const OTHER_COMMAND = '(other)'

/** Required fields of each event type, by their `typeof` ('?': null allowed too). */
export const EVENT_FIELDS = Object.freeze({
  start: { source: 'string', network: 'string', format: 'number' },
  'peer-added': { peer: 'number', address: 'string', userAgent: 'string', version: 'number', services: 'string', startHeight: 'number' },
  'peer-removed': { peer: 'number', reason: 'string' },
  message: { from: 'number', to: 'number', command: 'string', bytes: 'number' },
  height: { peer: 'number', height: 'number', hash: 'string' },
  tip: { height: 'number', hash: 'string', work: 'string' },
  reorg: { fork: 'object', disconnected: 'object', connected: 'object' },
  tx: { peer: 'number', txid: 'string', vsize: 'number' },
  summary: { tip: 'object?', peers: 'object', reorgs: 'number', messages: 'object', txs: 'number', events: 'number' },
})

/** The event types, in the order the vocabulary lists them. */
export const EVENT_TYPES = Object.freeze(Object.keys(EVENT_FIELDS))

/**
 * Check that `ev` is an event of the vocabulary (type, time, required
 * fields and their types). Returns an error message, or undefined if valid.
 */
export function checkEvent(ev) {
  if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) return 'not an object'
  if (!Object.hasOwn(EVENT_FIELDS, ev.type)) return `unknown type ${JSON.stringify(ev.type)}`
  if (typeof ev.t !== 'number' || !Number.isFinite(ev.t) || ev.t < 0) return `bad time ${JSON.stringify(ev.t)}`
  for (const [field, spec] of Object.entries(EVENT_FIELDS[ev.type])) {
    const v = ev[field]
    const kind = spec.replace('?', '')
    if (v === null && spec.endsWith('?')) continue
    if (typeof v !== kind || v === null || (kind === 'number' && !Number.isFinite(v))) return `${ev.type}: ${field} is not a ${kind}`
  }
  if (ev.type === 'reorg' && !(Array.isArray(ev.disconnected) && Array.isArray(ev.connected))) return 'reorg: disconnected and connected must be lists'
  return undefined
}

/** A fresh tally: what a view knows after no events. */
export function createTally() {
  return {
    /** Events applied (the summary event included). */
    events: 0,
    /** `t` of the latest event. */
    time: 0,
    /** The start event, once seen. */
    start: undefined,
    /** id -> { peer, address, userAgent, version, startHeight, height, hash, state, reason }, in order of arrival. */
    peers: new Map(),
    /** { height, hash, work } of our tip. */
    tip: undefined,
    /** Every reorg event, in order. */
    reorgs: [],
    /** command -> { count, bytes }, in order of first sight: MAX_COMMANDS names, then OTHER_COMMAND. */
    messages: new Map(),
    /** Transactions seen, and the last few. */
    txs: 0,
    recentTxs: [],
    /** The summary event, once seen, and the events counted before it. */
    summary: undefined,
  }
}

/** Fold one event into a tally (events are assumed checked). */
export function applyEvent(tally, ev) {
  tally.events++
  if (ev.t > tally.time) tally.time = ev.t
  switch (ev.type) {
    case 'start':
      tally.start = ev
      return
    case 'peer-added':
      tally.peers.set(ev.peer, {
        peer: ev.peer,
        address: ev.address,
        userAgent: ev.userAgent,
        version: ev.version,
        startHeight: ev.startHeight,
        height: undefined,
        hash: undefined,
        state: 'ready',
        reason: undefined,
      })
      return
    case 'peer-removed': {
      const p = tally.peers.get(ev.peer)
      if (p) {
        p.state = 'removed'
        p.reason = ev.reason
      }
      return
    }
    case 'message': {
      const key = tally.messages.has(ev.command) || tally.messages.size < MAX_COMMANDS ? ev.command : OTHER_COMMAND
      const m = tally.messages.get(key)
      if (m) {
        m.count++
        m.bytes += ev.bytes
      } else tally.messages.set(key, { count: 1, bytes: ev.bytes })
      return
    }
    case 'height': {
      const p = tally.peers.get(ev.peer)
      if (p) {
        p.height = ev.height
        p.hash = ev.hash
      }
      return
    }
    case 'tip':
      tally.tip = { height: ev.height, hash: ev.hash, work: ev.work }
      return
    case 'reorg':
      tally.reorgs.push(ev)
      return
    case 'tx':
      tally.txs++
      tally.recentTxs.unshift(ev)
      if (tally.recentTxs.length > RECENT_TXS) tally.recentTxs.pop()
      return
    case 'summary':
      tally.summary = { event: ev, before: summarize(tally, tally.events - 1) }
      return
  }
}

/**
 * The numbers of a tally, as a `summary` event carries them (without type
 * and t): tip, per-peer heights, reorg count, message counts by command,
 * transactions, and `events` (pass the count to report; default all).
 */
export function summarize(tally, events = tally.events) {
  // No prototype: a command off the network may be named "__proto__".
  const messages = Object.create(null)
  for (const [command, m] of tally.messages) messages[command] = m.count
  return {
    tip: tally.tip ? { ...tally.tip } : null,
    peers: [...tally.peers.values()].map((p) => ({ peer: p.peer, height: p.height ?? null, hash: p.hash ?? null, state: p.state })),
    reorgs: tally.reorgs.length,
    messages,
    txs: tally.txs,
    events,
  }
}

/**
 * Compare a tally's own numbers (up to its summary event) with what that
 * summary event says. Returns the fields that differ ([] when all agree),
 * or undefined when no summary was seen.
 */
export function summaryMismatches(tally) {
  if (!tally.summary) return undefined
  const { event, before } = tally.summary
  const out = []
  for (const key of ['tip', 'peers', 'reorgs', 'messages', 'txs', 'events']) {
    if (canonical(before[key]) !== canonical(event[key])) out.push(key)
  }
  return out
}

/** JSON with object keys sorted, so that key order does not count as a difference. */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v ?? null)
}
