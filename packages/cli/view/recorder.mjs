// Turning SDK events into view events (see events.mjs), and keeping them:
// an append-only EventLog that players follow, trace files as JSON lines.
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { describeDisconnect, formatPeerAddress } from '@bitp2p/session'
import { blockHash, hashToHex } from '@bitp2p/wire'
import { applyEvent, checkEvent, createTally, SELF, summarize, TRACE_FORMAT } from './events.mjs'

/** Largest trace file --replay reads. */
export const MAX_TRACE_BYTES = 256 * 1024 * 1024
/**
 * Events an EventLog keeps in memory by default. A live view (`--peer`)
 * runs without end: past this the oldest events are dropped, and viewers
 * that join later start from the oldest one kept. A `--trace` file still
 * gets every event (it is written as they come).
 */
export const MAX_LIVE_EVENTS = 200_000
/** A full log drops this share of its cap at once (1/16), so dropping costs O(1) per event. */
const DROP_FRACTION = 16

/**
 * The events of one view, in order, and whether more may come. Listeners
 * hear every append and the end. Events are numbered from 0 in the order
 * they came; the log keeps at most `maxEvents` of them in memory, the
 * newest: event number `n` is `events[n - base]`, `at(n)` for short.
 */
export class EventLog {
  /** The kept events, oldest first. @type {object[]} */
  events = []
  /** Number of the oldest kept event: how many were dropped. */
  base = 0
  complete = false
  #listeners = new Set()
  #maxEvents

  /** @param {{ maxEvents?: number }} [opts] default MAX_LIVE_EVENTS; Infinity keeps everything */
  constructor({ maxEvents = MAX_LIVE_EVENTS } = {}) {
    if (!(maxEvents >= 1)) throw new RangeError(`maxEvents must be at least 1, got ${maxEvents}`)
    this.#maxEvents = maxEvents
  }

  /** Events appended so far, dropped ones included (the number the next one will get). */
  get total() {
    return this.base + this.events.length
  }

  /** Event number `n`, or undefined when it was dropped or has not come yet. */
  at(n) {
    return n >= this.base ? this.events[n - this.base] : undefined
  }

  /** Append one event (ignored once complete); drops the oldest when the log is full. */
  push(ev) {
    if (this.complete) return
    if (this.events.length >= this.#maxEvents) {
      const drop = Math.min(this.events.length, Math.max(1, Math.ceil(this.#maxEvents / DROP_FRACTION)))
      this.events.splice(0, drop)
      this.base += drop
    }
    this.events.push(ev)
    for (const fn of [...this.#listeners]) fn(ev)
  }

  /** No more events will come. */
  finish() {
    if (this.complete) return
    this.complete = true
    for (const fn of [...this.#listeners]) fn(undefined)
  }

  /** Call `fn(event)` on each append and `fn(undefined)` at the end; returns the unsubscribe function. */
  listen(fn) {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }
}

/**
 * Write every event of `log` (those it still holds, then each new one) to
 * `path` as JSON lines. Call it before the log fills up: the file then has
 * every event, whatever the log drops later.
 */
export function writeTrace(log, path) {
  const fd = openSync(path, 'w')
  let open = true
  // Synchronous writes: a trace is complete even when Ctrl-C ends the process right after.
  const write = (ev) => {
    if (!open) return
    if (ev === undefined) {
      open = false
      return closeSync(fd)
    }
    writeSync(fd, `${JSON.stringify(ev)}\n`)
  }
  for (const ev of log.events) write(ev)
  if (log.complete) write(undefined)
  else log.listen(write)
  return () => write(undefined)
}

/**
 * Read a trace file into a complete EventLog. Every line must be a valid
 * event; the error names the first line that is not.
 */
export function readTrace(path) {
  // Checked before reading: a huge file must not be read into memory first.
  // (A device or pipe has no size to check: only regular files.)
  const st = statSync(path)
  if (!st.isFile()) throw new Error(`${path}: not a regular file`)
  if (st.size > MAX_TRACE_BYTES) throw new Error(`${path}: ${st.size} bytes, larger than ${MAX_TRACE_BYTES}`)
  const text = readFileSync(path, 'utf8')
  // The file's size is capped already: keep all of it, so a replay shows everything.
  const log = new EventLog({ maxEvents: Infinity })
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue
    let ev
    try {
      ev = JSON.parse(lines[i])
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not JSON (${e.message})`)
    }
    const bad = checkEvent(ev)
    if (bad !== undefined) throw new Error(`${path}:${i + 1}: ${bad}`)
    log.push(ev)
  }
  if (log.events.length === 0) throw new Error(`${path}: no events`)
  log.finish()
  return log
}

const entry = (e) => ({ height: e.height, hash: hashToHex(e.hash) })
/** A message event: one whole frame between us and peer `id`, in direction `dir`. */
const frameEvent = (t, id, dir, command, bytes) => ({ type: 'message', t, from: dir === 'in' ? id : SELF, to: dir === 'in' ? SELF : id, command, bytes })
/** Work as lowercase hex, like Core's chainwork without the zero padding. */
const workHex = (w) => w.toString(16)

/**
 * Produces the view events of one source into an EventLog: frames through
 * `watch(peer)` (the Peer's own 'frame' events: the connection machine
 * parses the stream, so this works for the encrypted v2 transport too),
 * handshakes and closes through `addPeer`, tips, reorgs and
 * per-peer heights through `watchSync`, transactions through
 * `watchMempool`. `now()` gives each event's `t`; `finish()` appends the
 * summary and ignores everything after it.
 */
export class Recorder {
  #log
  #now
  #tally = createTally()
  #done = false
  #nextId = 1
  /** Peer -> id, given when its handshake completed. */
  #ids = new WeakMap()
  /** Peers followed through `watch`. */
  #watched = new WeakSet()
  /** Peer -> frames seen before its handshake completed. */
  #early = new Map()
  /** id -> hash (bytes) of the last header it sent, until our tree has it. */
  #pendingHeights = new Map()
  /** Ids of the peers added. */
  #added = new Set()
  #sync

  /** @param {{ log: EventLog, now: () => number }} opts */
  constructor({ log, now }) {
    this.#log = log
    this.#now = now
  }

  /** The running tally of what was emitted. */
  get tally() {
    return this.#tally
  }

  /** The `t` events get now. */
  now() {
    return this.#now()
  }

  #emit(fields) {
    this.#append({ type: fields.type, t: this.#now(), ...fields })
  }

  #append(ev) {
    if (this.#done) return
    applyEvent(this.#tally, ev)
    this.#log.push(ev)
  }

  /** The first event: what this trace is. */
  start(meta) {
    this.#emit({ type: 'start', format: TRACE_FORMAT, ...meta })
  }

  /**
   * Follow `peer`'s frames from the start of its handshake (call it from
   * the Peer's `setup`): they are held until `addPeer` gives the peer its
   * number, and dropped if the connection never completes its handshake
   * (a v2 attempt that fell back to v1 leaves nothing behind, not even a
   * number).
   */
  watch(peer) {
    if (this.#watched.has(peer)) return
    this.#watched.add(peer)
    const early = []
    this.#early.set(peer, early)
    peer.on('frame', (dir, command, bytes) => {
      const id = this.#ids.get(peer)
      const t = this.#now()
      if (id === undefined) early.push({ t, dir, command, bytes })
      else this.#append(frameEvent(t, id, dir, command, bytes))
    })
    peer.once('close', () => this.#early.delete(peer))
  }

  /** A peer (followed through `watch`) finished its handshake. */
  addPeer(peer) {
    if (this.#ids.has(peer) || !this.#watched.has(peer)) return
    const id = this.#nextId++
    this.#ids.set(peer, id)
    this.#added.add(id)
    const v = peer.info.peer
    this.#emit({
      type: 'peer-added',
      peer: id,
      address: formatPeerAddress(peer.remote),
      userAgent: v.userAgent,
      version: v.version,
      services: v.services.toString(16),
      startHeight: v.startHeight,
    })
    // The handshake's frames, with the times they crossed.
    const early = this.#early.get(peer) ?? []
    this.#early.delete(peer)
    for (const f of early) this.#append(frameEvent(f.t, id, f.dir, f.command, f.bytes))
    peer.on('headers', (m) => {
      if (m.headers.length > 0) this.#pendingHeights.set(id, blockHash(m.headers.at(-1)))
    })
    peer.once('close', (reason) => {
      this.#pendingHeights.delete(id)
      this.#emit({ type: 'peer-removed', peer: id, reason: describeDisconnect(reason) })
    })
  }

  /** Report a HeaderSync's tips and reorgs, and settle per-peer heights once its tree has their headers. */
  watchSync(sync) {
    this.#sync = sync
    sync.on('reorg', (r) =>
      this.#emit({
        type: 'reorg',
        fork: entry(r.fork),
        disconnected: r.disconnected.map(entry),
        connected: r.connected.map(entry),
      }),
    )
    sync.on('tip', (tip) => {
      this.#emit({ type: 'tip', height: tip.height, hash: hashToHex(tip.hash), work: workHex(tip.chainWork) })
      this.#settleHeights()
    })
    sync.on('progress', () => this.#settleHeights())
  }

  /**
   * A header a peer sent counts once our tree accepted it (the tree is
   * updated after the message event, in a promise continuation; 'tip' and
   * 'progress' follow every headers message HeaderSync took).
   */
  #settleHeights() {
    const tree = this.#sync.tree
    for (const [id, hash] of this.#pendingHeights) {
      const e = tree.getByHash(hash)
      if (e === undefined) continue
      this.#pendingHeights.delete(id)
      const p = this.#tally.peers.get(id)
      const h = hashToHex(e.hash)
      if (p && (p.height !== e.height || p.hash !== h)) this.#emit({ type: 'height', peer: id, height: e.height, hash: h })
    }
  }

  /** Report a MempoolMonitor's new transactions. */
  watchMempool(monitor) {
    monitor.on('tx', (tx) => {
      // receivedFrom is the "host:port" label peer-added carries as address.
      let from = SELF
      for (const p of this.#tally.peers.values()) if (p.address === tx.receivedFrom) from = p.peer
      this.#emit({ type: 'tx', peer: from, txid: hashToHex(tx.txid), vsize: tx.vsize })
    })
  }

  /** Append the summary (the tally of everything so far) and stop recording; the log is complete. */
  finish() {
    if (this.#done) return
    this.#emit({ type: 'summary', ...summarize(this.#tally) })
    this.#done = true
    this.#log.finish()
  }
}
