/**
 * RequestScheduler: which peer is asked for which job, when a job moves to
 * another peer, and when it gives up. One sans-IO machine for every service
 * that spreads requests over peers and fails over: the pool's requests and
 * the block fetcher's blocks.
 *
 * The driver numbers its peers and reports them ready (`addPeer`) and gone
 * (`removePeer`); it submits jobs and reports each attempt's outcome
 * (`succeeded`, `failed`). The machine queues actions: 'assign' a job to a
 * peer, 'revoke' an attempt (the job settled another way), 'failover' (a job
 * left a peer) and 'failed' (a job gave up). Like every machine here it
 * takes the time with each input, exposes `nextDeadline()`, and a
 * `timeout(now)` that finds nothing due does nothing.
 *
 * Policy:
 *  - A job goes to a ready peer with room (fewer than `maxInFlightPerPeer`
 *    jobs) that has not tried it yet; when every ready peer has tried it,
 *    to any with room (one more chance each rather than none). Among the
 *    candidates: the least loaded ('least-loaded'), ties and 'round-robin'
 *    taking the next peer after the last one chosen, in id order (the
 *    driver numbers peers as it meets them).
 *  - Jobs are served group by group (a download, say), in submission
 *    order, retries first; a paused group (its consumer is behind) gets no
 *    new assignments; a job that finds no room waits, and so does the rest
 *    of its group.
 *  - A failed attempt counts: after `maxAttempts` the job fails
 *    'exhausted' with the last peer's failure.
 *  - Every job settles. With no ready peer at all, a waiting job gives up
 *    after `peerWaitMs` ('no-peers'); while peers exist but are busy it
 *    waits for room, and each attempt is bounded by the peer's own request
 *    deadline. So a job settles within maxAttempts x (attempt deadline +
 *    peerWaitMs) + peerWaitMs of its submission.
 */

/** How the scheduler picks among candidate peers. */
export type PeerSelection = 'least-loaded' | 'round-robin'

/** Settings of a RequestScheduler. */
export interface SchedulerConfig {
  /** Attempts per job, over peers, unless the job says otherwise. At least 1. */
  readonly maxAttempts: number
  /** Jobs one peer may hold at once (Infinity: no limit). */
  readonly maxInFlightPerPeer: number
  /** How long a waiting job bears having no ready peer at all before it fails 'no-peers'. */
  readonly peerWaitMs: number
  /** Default 'least-loaded'. */
  readonly selection?: PeerSelection
}

/** Why a job gave up. `F` is what the driver reports for one failed attempt. */
export type SchedulerFailure<F> =
  /** `attempts` attempts failed; `last` is the last one's failure. */
  | { readonly kind: 'exhausted'; readonly attempts: number; readonly last: F }
  /** No ready peer for `waitedMs` (the scheduler's peerWaitMs). */
  | { readonly kind: 'no-peers'; readonly waitedMs: number }
  /** cancel() was called. */
  | { readonly kind: 'aborted'; readonly reason?: unknown }
  /** stop() was called. */
  | { readonly kind: 'stopped' }

/** What the driver must do. */
export type SchedulerAction<F> =
  /** Ask `peer` for `job` (its `attempt`th attempt, from 1). */
  | { readonly type: 'assign'; readonly job: number; readonly peer: number; readonly attempt: number }
  /** Abandon `peer`'s attempt at `job`: the job settled otherwise, or was cancelled. */
  | { readonly type: 'revoke'; readonly job: number; readonly peer: number }
  /** `job` left `from` after `failure` (`attempts` made so far); `to` is its next peer, if one was free at once. */
  | { readonly type: 'failover'; readonly job: number; readonly from: number; readonly to: number | undefined; readonly failure: F; readonly attempts: number }
  /** `job` gave up; it is forgotten. */
  | { readonly type: 'failed'; readonly job: number; readonly failure: SchedulerFailure<F> }

/** Options of one job. */
export interface JobOptions {
  /** Jobs of one group are served in order and paused together. Default 0. */
  readonly group?: number
  /** Overrides the scheduler's maxAttempts for this job. */
  readonly maxAttempts?: number
}

interface Job<F> {
  readonly id: number
  readonly group: Group<F>
  readonly maxAttempts: number
  attempts: number
  readonly tried: Set<number>
  peer: number | undefined
  /** Which queue of its group holds it while it waits. */
  queued: 'fresh' | 'retry' | undefined
  /** When it last became unassigned (submitted or failed over). */
  waitingSince: number
}

interface Group<F> {
  readonly id: number
  paused: boolean
  /** Failed-over jobs, served first, oldest first. */
  readonly retries: Job<F>[]
  /** Jobs never assigned, in submission order, from `head`. */
  readonly fresh: Job<F>[]
  head: number
  /** Jobs of the group not yet settled (waiting or assigned). */
  size: number
}

interface PeerRec {
  readonly id: number
  inFlight: number
  /** Closing: keeps what it holds, takes nothing new. */
  draining: boolean
}

/** See the module comment. */
export class RequestScheduler<F> {
  readonly #maxAttempts: number
  readonly #maxInFlight: number
  readonly #peerWaitMs: number
  readonly #selection: PeerSelection
  readonly #jobs = new Map<number, Job<F>>()
  readonly #groups = new Map<number, Group<F>>()
  /** Ready peers, by id. */
  readonly #peers = new Map<number, PeerRec>()
  /** The same, in id order: the order candidates are considered in. */
  readonly #order: PeerRec[] = []
  readonly #out: SchedulerAction<F>[] = []
  #outHead = 0
  #nextJob = 1
  #cursor = -1
  /** Peers that take new jobs (ready, not draining). */
  #usable = 0
  /** Since when no peer has been usable (-Infinity: since before anything). */
  #starvedSince = -Infinity
  #stopped = false

  constructor(config: SchedulerConfig) {
    if (!Number.isInteger(config.maxAttempts) || config.maxAttempts < 1) {
      throw new RangeError(`RequestScheduler: maxAttempts must be an integer >= 1, got ${config.maxAttempts}`)
    }
    if (!(config.maxInFlightPerPeer >= 1)) throw new RangeError(`RequestScheduler: maxInFlightPerPeer must be >= 1, got ${config.maxInFlightPerPeer}`)
    if (!(config.peerWaitMs >= 0) || !Number.isFinite(config.peerWaitMs)) {
      throw new RangeError(`RequestScheduler: peerWaitMs must be a finite number >= 0, got ${config.peerWaitMs}`)
    }
    this.#maxAttempts = config.maxAttempts
    this.#maxInFlight = config.maxInFlightPerPeer
    this.#peerWaitMs = config.peerWaitMs
    this.#selection = config.selection ?? 'least-loaded'
  }

  // --- outputs -----------------------------------------------------------------

  /** The next action, or undefined when there is none. */
  poll(): SchedulerAction<F> | undefined {
    if (this.#outHead >= this.#out.length) {
      if (this.#out.length > 0) {
        this.#out.length = 0
        this.#outHead = 0
      }
      return undefined
    }
    return this.#out[this.#outHead++]
  }

  /** When timeout() has something to do: the first 'no-peers' deadline, if no peer is usable. */
  nextDeadline(): number | undefined {
    if (this.#usable > 0) return undefined
    let first: number | undefined
    for (const g of this.#groups.values()) {
      for (const j of waitingJobs(g)) {
        const at = Math.max(j.waitingSince, this.#starvedSince) + this.#peerWaitMs
        if (first === undefined || at < first) first = at
      }
    }
    return first
  }

  /** Fail every job that has waited peerWaitMs with no ready peer. */
  timeout(now: number): void {
    if (this.#usable > 0) return
    for (const g of [...this.#groups.values()]) {
      for (const j of [...waitingJobs(g)]) {
        const since = Math.max(j.waitingSince, this.#starvedSince)
        if (now >= since + this.#peerWaitMs) this.#fail(j, { kind: 'no-peers', waitedMs: now - since })
      }
    }
  }

  // --- queries -----------------------------------------------------------------

  /** Jobs not yet settled. */
  get size(): number {
    return this.#jobs.size
  }

  /** Jobs assigned to `peer`. */
  inFlight(peer: number): number {
    return this.#peers.get(peer)?.inFlight ?? 0
  }

  /** The peer `job` is assigned to, if any. */
  assignedTo(job: number): number | undefined {
    return this.#jobs.get(job)?.peer
  }

  /** True while `job` is neither done nor failed. */
  has(job: number): boolean {
    return this.#jobs.has(job)
  }

  /** The peer the policy would pick now among those passing `filter` (room not required), or undefined. */
  choose(filter?: (peer: number) => boolean): number | undefined {
    const all = this.#order.filter((p) => !p.draining && (!filter || filter(p.id)))
    const pick = this.#best(all)
    if (pick) this.#cursor = pick.id
    return pick?.id
  }

  // --- inputs: peers -----------------------------------------------------------

  /** `peer` is ready for jobs. */
  addPeer(now: number, peer: number): void {
    if (this.#peers.has(peer) || this.#stopped) return
    const rec = { id: peer, inFlight: 0, draining: false }
    this.#peers.set(peer, rec)
    this.#usable++
    let i = this.#order.length
    while (i > 0 && this.#order[i - 1]!.id > peer) i--
    this.#order.splice(i, 0, rec)
    this.#pump(now)
  }

  /** `peer` is gone: each job it held fails over with `failure`. */
  removePeer(now: number, peer: number, failure: F): void {
    const rec = this.#peers.get(peer)
    if (!rec) return
    this.#peers.delete(peer)
    removeFrom(this.#order, rec)
    if (!rec.draining) this.#unusable(now)
    const moved: Job<F>[] = []
    for (const j of this.#jobs.values()) if (j.peer === peer) moved.push(j)
    for (const j of moved) {
      j.peer = undefined
      this.#requeue(now, j, failure)
    }
    this.#pump(now)
    for (const j of moved) this.#failedOver(j, peer, failure)
  }

  /** `peer` is closing: it takes no new job; what it holds stays until removePeer. */
  drainPeer(now: number, peer: number): void {
    const rec = this.#peers.get(peer)
    if (!rec || rec.draining) return
    rec.draining = true
    this.#unusable(now)
  }

  #unusable(now: number): void {
    this.#usable--
    if (this.#usable === 0) this.#starvedSince = now
  }

  // --- inputs: jobs ------------------------------------------------------------

  /** Queue a job; returns its id. Throws once stopped. */
  submit(now: number, opts: JobOptions = {}): number {
    if (this.#stopped) throw new Error('RequestScheduler: stopped')
    const maxAttempts = opts.maxAttempts ?? this.#maxAttempts
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`RequestScheduler: maxAttempts must be an integer >= 1, got ${maxAttempts}`)
    const group = this.#group(opts.group ?? 0)
    const job: Job<F> = { id: this.#nextJob++, group, maxAttempts, attempts: 0, tried: new Set(), peer: undefined, queued: 'fresh', waitingSince: now }
    this.#jobs.set(job.id, job)
    group.fresh.push(job)
    group.size++
    this.#pump(now)
    return job.id
  }

  /**
   * `peer` delivered `job`. An answer from a peer the job already left
   * still counts (the current attempt is revoked).
   * @returns false when the job was no longer outstanding (drop the answer).
   */
  succeeded(now: number, job: number, peer: number): boolean {
    const j = this.#jobs.get(job)
    if (!j) return false
    if (j.peer !== undefined && j.peer !== peer) this.#emit({ type: 'revoke', job, peer: j.peer })
    this.#settle(j)
    this.#pump(now)
    return true
  }

  /** `peer`'s attempt at `job` failed: try another peer, or give up after maxAttempts. Stale reports are ignored. */
  failed(now: number, job: number, peer: number, failure: F): void {
    const j = this.#jobs.get(job)
    if (!j || j.peer !== peer) return
    this.#unassign(j)
    this.#requeue(now, j, failure)
    this.#pump(now)
    this.#failedOver(j, peer, failure)
  }

  /** Give up `job` ('aborted'); an attempt in flight is revoked. */
  cancel(now: number, job: number, reason?: unknown): void {
    const j = this.#jobs.get(job)
    if (!j) return
    this.#fail(j, { kind: 'aborted', reason })
    this.#pump(now)
  }

  /** Forget every job of `group` without 'failed' actions (their owner settled them); attempts in flight are revoked. */
  dropGroup(now: number, group: number): void {
    const g = this.#groups.get(group)
    if (!g) return
    for (const j of [...this.#jobs.values()]) {
      if (j.group !== g) continue
      if (j.peer !== undefined) this.#emit({ type: 'revoke', job: j.id, peer: j.peer })
      this.#settle(j)
    }
    this.#groups.delete(group)
    this.#pump(now)
  }

  /** Pause or resume new assignments for `group` (attempts in flight go on). */
  setPaused(now: number, group: number, paused: boolean): void {
    const g = this.#groups.get(group)
    if (!g || g.paused === paused) return
    g.paused = paused
    if (!paused) this.#pump(now)
  }

  /** Fail every job ('stopped') and refuse new ones. */
  stop(now: number): void {
    this.#stopped = true
    for (const j of [...this.#jobs.values()]) this.#fail(j, { kind: 'stopped' })
    void now
  }

  // --- internals ---------------------------------------------------------------

  #emit(a: SchedulerAction<F>): void {
    this.#out.push(a)
  }

  #group(id: number): Group<F> {
    let g = this.#groups.get(id)
    if (!g) {
      g = { id, paused: false, retries: [], fresh: [], head: 0, size: 0 }
      this.#groups.set(id, g)
    }
    return g
  }

  #unassign(j: Job<F>): void {
    if (j.peer === undefined) return
    const p = this.#peers.get(j.peer)
    if (p) p.inFlight--
    j.peer = undefined
  }

  /** Remove a settled job from every structure. */
  #settle(j: Job<F>): void {
    this.#unassign(j)
    if (!this.#jobs.delete(j.id)) return
    const g = j.group
    g.size--
    if (j.queued === 'retry') removeFrom(g.retries, j)
    if (j.queued === 'fresh') g.fresh.splice(g.fresh.indexOf(j, g.head), 1)
    j.queued = undefined
    if (g.size === 0) {
      g.fresh.length = 0
      g.head = 0
    }
  }

  #fail(j: Job<F>, failure: SchedulerFailure<F>): void {
    if (j.peer !== undefined) this.#emit({ type: 'revoke', job: j.id, peer: j.peer })
    this.#settle(j)
    this.#emit({ type: 'failed', job: j.id, failure })
  }

  /** `j` (unassigned) failed with `failure`: queue it again, or give up after maxAttempts. */
  #requeue(now: number, j: Job<F>, failure: F): void {
    if (j.attempts >= j.maxAttempts) {
      this.#fail(j, { kind: 'exhausted', attempts: j.attempts, last: failure })
      return
    }
    j.waitingSince = now
    j.queued = 'retry'
    j.group.retries.push(j)
  }

  /** Report a requeued job's move (after the pump, so `to` is where it went at once). */
  #failedOver(j: Job<F>, from: number, failure: F): void {
    if (!this.#jobs.has(j.id)) return
    // Counted before the move: an assignment made at once has already added one.
    const attempts = j.peer === undefined ? j.attempts : j.attempts - 1
    this.#emit({ type: 'failover', job: j.id, from, to: j.peer, failure, attempts })
  }

  /** Assign what can be assigned, group by group. */
  #pump(now: number): void {
    if (this.#usable === 0) return
    for (const g of this.#groups.values()) {
      while (this.#assignHead(g)) {
        // keep going while the head of the group finds room
      }
    }
    void now
  }

  /** Try to assign the first waiting job of `g`; returns it if assigned. */
  #assignHead(g: Group<F>): Job<F> | undefined {
    if (g.paused || this.#usable === 0) return undefined
    const j = g.retries.length > 0 ? g.retries[0] : g.fresh[g.head]
    if (!j) return undefined
    const peer = this.#pick(j)
    if (!peer) return undefined
    if (g.retries.length > 0) g.retries.shift()
    else g.head++
    j.queued = undefined
    if (g.head > 1024 && g.head * 2 > g.fresh.length) {
      g.fresh.splice(0, g.head)
      g.head = 0
    }
    j.peer = peer.id
    j.attempts++
    j.tried.add(peer.id)
    peer.inFlight++
    this.#cursor = peer.id
    this.#emit({ type: 'assign', job: j.id, peer: peer.id, attempt: j.attempts })
    return j
  }

  /** A peer with room for `j`: untried ones first; tried ones only when every ready peer has tried it. */
  #pick(j: Job<F>): PeerRec | undefined {
    const untried: PeerRec[] = []
    let untriedExist = false
    const roomy: PeerRec[] = []
    for (const p of this.#order) {
      if (p.draining) continue
      const hasRoom = p.inFlight < this.#maxInFlight
      if (!j.tried.has(p.id)) {
        untriedExist = true
        if (hasRoom) untried.push(p)
      }
      if (hasRoom) roomy.push(p)
    }
    if (untried.length > 0) return this.#best(untried)
    // Untried peers are busy: wait for one of them rather than repeat a failure.
    if (untriedExist) return undefined
    return this.#best(roomy)
  }

  /** Among `candidates` (in id order): round-robin from the cursor, least loaded first if so configured. */
  #best(candidates: readonly PeerRec[]): PeerRec | undefined {
    if (candidates.length === 0) return undefined
    let start = candidates.findIndex((p) => p.id > this.#cursor)
    if (start < 0) start = 0
    let best = candidates[start]!
    if (this.#selection === 'least-loaded') {
      for (let k = 1; k < candidates.length; k++) {
        const p = candidates[(start + k) % candidates.length]!
        if (p.inFlight < best.inFlight) best = p
      }
    }
    return best
  }
}

function* waitingJobs<F>(g: Group<F>): Generator<Job<F>> {
  yield* g.retries
  for (let i = g.head; i < g.fresh.length; i++) yield g.fresh[i]!
}

function removeFrom<T>(list: T[], x: T): void {
  const i = list.indexOf(x)
  if (i >= 0) list.splice(i, 1)
}
