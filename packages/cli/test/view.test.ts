// `bitp2p view` (commands/view.mjs, view/): the CLI serves the page
// and its WebSocket feed; real Chromium (playwright, Debian's chromium)
// loads it. A seeded simulation is watched to its end, screenshots of it
// running and finished are saved, and every number the page shows (tip
// height and hash, per-peer heights, reorgs, messages by command, events,
// virtual time) must equal what this test computes from the trace file the
// CLI wrote. The same seed must give the same trace byte for byte, a replay
// of the trace must end on the same numbers, and a live view of a bcoin
// regtest node must show bcoin's height and follow a new block.
import { EventEmitter } from 'node:events'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright'
import { WebSocket as NodeWebSocket } from 'ws'
import { bcoinBudget, startBcoin, type BcoinNode } from '../../../test/harness/bcoin.js'
import { needs } from '../../../test/harness/needs.js'
import { CHROMIUM_PATH as CHROMIUM } from '../../../test/harness/requirements.js'
import { forWork, scaled } from '../../../test/harness/timing.js'
import { regtest } from '@bitp2p/wire'
// @ts-expect-error plain ES modules of the CLI, without type declarations
import { applyEvent, checkEvent, createTally, MAX_COMMANDS, OTHER_COMMAND, summarize, summaryMismatches } from '../view/events.mjs'
// @ts-expect-error plain ES modules of the CLI, without type declarations
import { parseSpeed, Player } from '../view/player.mjs'
// @ts-expect-error plain ES modules of the CLI, without type declarations
import { EventLog, MAX_LIVE_EVENTS, MAX_TRACE_BYTES, readTrace as readTraceLog, Recorder, writeTrace } from '../view/recorder.mjs'
// @ts-expect-error plain ES modules of the CLI, without type declarations
import { FEED_PATH, startViewServer } from '../view/server.mjs'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = join(ROOT, 'packages/cli/bitp2p.mjs')
const DISTS = ['wire', 'session', 'transport-tcp', 'transport-mock'].map((p) => join(ROOT, `packages/${p}/dist/index.js`))
const BUILT = DISTS.every((p) => existsSync(p))
/** Screenshots go here (gitignored: packages/[name]/test-output/). */
const OUT_DIR = fileURLToPath(new URL('../test-output/', import.meta.url))
/** The seed the page is checked on, and the virtual minutes it runs (the CLI default). */
const SEED = 7
const SIM_MINUTES = 180
/** How long the page may take to reach a state. */
const PAGE_WAIT_MS = scaled(15_000)
/** Budget of one `bitp2p view --sim` run to its trace (about 0.5 s on an idle machine). */
const SIM_RUN_BUDGET_MS = 10_000
/** Blocks bcoin mines at start. */
const BCOIN_BLOCKS = 20

if (!BUILT) console.warn('[view] skipped: build the packages first (npx turbo run build)')

/** A running `bitp2p view`, its URL, and its output so far. */
interface View {
  readonly child: ChildProcess
  readonly url: string
  stdout(): string
  stderr(): string
  /** Resolves when stdout has a line matching `re`. */
  line(re: RegExp, ms?: number): Promise<string>
  /** Ctrl-C; resolves with the exit code. */
  interrupt(): Promise<number | null>
}

function startView(args: readonly string[]): Promise<View> {
  const child = spawn(process.execPath, [CLI, 'view', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)))
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s))
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s))
  const line = async (re: RegExp, ms = PAGE_WAIT_MS): Promise<string> => {
    const deadline = Date.now() + ms
    for (;;) {
      const hit = out.split('\n').find((l) => re.test(l))
      if (hit !== undefined) return hit
      if (child.exitCode !== null) throw new Error(`bitp2p view exited (${child.exitCode}) before printing ${re}: ${err}`)
      if (Date.now() > deadline) throw new Error(`bitp2p view printed no ${re} in ${ms} ms; stdout: ${out} stderr: ${err}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  const view = {
    child,
    url: '',
    stdout: () => out,
    stderr: () => err,
    line,
    interrupt: async () => {
      if (child.exitCode === null) child.kill('SIGINT')
      return exited
    },
  }
  return line(/^view: http:\/\//).then(
    (l) => ({ ...view, url: l.slice('view: '.length).trim() }),
    (e) => {
      child.kill('SIGKILL')
      throw e
    },
  )
}

/** What the page shows, as its data attributes say. */
interface Numbers {
  tipHeight: string
  tipHash: string
  tipWork: string
  reorgs: string
  events: string
  time: string
  messageTotal: string
  peers: Record<string, { height: string; hash: string; state: string; reason: string; status: string }>
  messages: Record<string, string>
}

async function readPage(page: Page): Promise<Numbers> {
  return page.evaluate(() => {
    const v = (id: string): string => document.getElementById(id)!.dataset.value ?? ''
    const peers: Record<string, { height: string; hash: string; state: string; reason: string; status: string }> = {}
    for (const tr of Array.from(document.querySelectorAll<HTMLElement>('#peers tbody tr'))) {
      const status = tr.querySelector<HTMLElement>('td.state')?.textContent ?? ''
      peers[tr.dataset.peer!] = { height: tr.dataset.height!, hash: tr.dataset.hash!, state: tr.dataset.state!, reason: tr.dataset.reason!, status }
    }
    const messages: Record<string, string> = {}
    for (const tr of Array.from(document.querySelectorAll<HTMLElement>('#messages tbody tr'))) messages[tr.dataset.command!] = tr.dataset.count!
    return {
      tipHeight: v('tip-height'),
      tipHash: v('tip-hash'),
      tipWork: v('tip-work'),
      reorgs: v('reorg-count'),
      events: v('events-seen'),
      time: v('virtual-time'),
      messageTotal: v('message-total'),
      peers,
      messages,
    }
  })
}

interface TraceEvent {
  type: string
  t: number
  [k: string]: any
}

const readTrace = (file: string): TraceEvent[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as TraceEvent)

/** The page's numbers, computed here from the trace alone (not with the CLI's own tally). */
function expectedFrom(events: readonly TraceEvent[]): Numbers {
  let tip: TraceEvent | undefined
  let reorgs = 0
  let time = 0
  const peers: Numbers['peers'] = {}
  const messages: Record<string, number> = {}
  for (const ev of events) {
    time = Math.max(time, ev.t)
    if (ev.type === 'tip') tip = ev
    else if (ev.type === 'reorg') reorgs++
    else if (ev.type === 'peer-added') peers[ev.peer] = { height: '', hash: '', state: 'ready', reason: '', status: 'ready' }
    else if (ev.type === 'peer-removed') Object.assign(peers[ev.peer]!, { state: 'removed', reason: ev.reason, status: `dropped: ${ev.reason}` })
    else if (ev.type === 'height') Object.assign(peers[ev.peer]!, { height: String(ev.height), hash: ev.hash })
    else if (ev.type === 'message') messages[ev.command] = (messages[ev.command] ?? 0) + 1
  }
  return {
    tipHeight: String(tip?.height ?? ''),
    tipHash: tip?.hash ?? '',
    tipWork: tip?.work ?? '',
    reorgs: String(reorgs),
    events: String(events.length),
    time: String(time),
    messageTotal: String(Object.values(messages).reduce((a, b) => a + b, 0)),
    peers,
    messages: Object.fromEntries(Object.entries(messages).map(([k, n]) => [k, String(n)])),
  }
}

const pageErrors = (page: Page): string[] => {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())))
  return errors
}

describe('the event tally and the player (no browser)', () => {
  const ev = (type: string, t: number, fields: Record<string, unknown> = {}): TraceEvent => ({ type, t, ...fields })
  const trace = [
    ev('start', 0, { source: 'sim', network: 'regtest', format: 1 }),
    ev('peer-added', 10, { peer: 1, address: '10.0.1.1:18444', userAgent: '/a/', version: 70016, services: '9', startHeight: 5 }),
    ev('message', 20, { from: 1, to: 0, command: 'headers', bytes: 106 }),
    ev('height', 20, { peer: 1, height: 6, hash: 'aa' }),
    ev('tip', 20, { height: 6, hash: 'aa', work: 'e' }),
    ev('message', 5_000, { from: 0, to: 1, command: 'ping', bytes: 32 }),
    ev('reorg', 9_000, { fork: { height: 5, hash: 'f0' }, disconnected: [{ height: 6, hash: 'aa' }], connected: [{ height: 6, hash: 'bb' }, { height: 7, hash: 'cc' }] }),
    ev('tip', 9_000, { height: 7, hash: 'cc', work: '10' }),
    ev('peer-removed', 10_000, { peer: 1, reason: 'local' }),
  ]

  it('checks events, tallies them, and notices a summary that disagrees', () => {
    for (const e of trace) expect(checkEvent(e)).toBeUndefined()
    expect(checkEvent({ type: 'tip', t: 1, height: '7', hash: 'cc', work: '10' })).toMatch(/height/)
    expect(checkEvent({ type: 'warp', t: 1 })).toMatch(/unknown type/)
    expect(checkEvent({ type: 'tip', t: -1, height: 7, hash: 'cc', work: '10' })).toMatch(/time/)
    const tally = createTally()
    for (const e of trace) applyEvent(tally, e)
    const s = summarize(tally)
    expect(s).toMatchObject({ tip: { height: 7, hash: 'cc' }, reorgs: 1, events: trace.length, peers: [{ peer: 1, height: 6, hash: 'aa', state: 'removed' }] })
    expect({ ...s.messages }).toEqual({ headers: 1, ping: 1 })
    expect(summaryMismatches(tally)).toBeUndefined()
    const agreeing = createTally()
    for (const e of [...trace, ev('summary', 10_000, s)]) applyEvent(agreeing, e)
    expect(summaryMismatches(agreeing)).toEqual([])
    const disagreeing = createTally()
    for (const e of [...trace, ev('summary', 10_000, { ...s, reorgs: 2, messages: { headers: 1 } })]) applyEvent(disagreeing, e)
    expect(summaryMismatches(disagreeing)).toEqual(['reorgs', 'messages'])
  })

  describe('Player', () => {
    beforeEach(() => void vi.useFakeTimers())
    afterEach(() => void vi.useRealTimers())

    /** A player over `log` whose sent events are collected; its wall clock is the faked Date. */
    const play = (log: any, speed: number) => {
      const sent: TraceEvent[] = []
      const messages: any[] = []
      const player = new Player(log, {
        speed,
        now: () => Date.now(),
        send: (m: any) => {
          messages.push(m)
          if (m.kind === 'events') sent.push(...m.events)
        },
      })
      player.start()
      return { player, sent, messages, ended: () => messages.some((m) => m.kind === 'end') }
    }
    const logOf = (events: readonly TraceEvent[], complete = true): any => {
      const log = new EventLog()
      for (const e of events) log.push(e)
      if (complete) log.finish()
      return log
    }

    it('sends each event when the playback clock (speed x wall time) reaches it, then the end', async () => {
      const p = play(logOf(trace), 1000) // 1 wall ms = 1 virtual s
      await vi.advanceTimersByTimeAsync(1)
      expect(p.sent.map((e) => e.t)).toEqual([0, 10, 20, 20, 20])
      await vi.advanceTimersByTimeAsync(4) // 5 virtual s
      expect(p.sent.at(-1)!.t).toBe(5_000)
      expect(p.ended()).toBe(false)
      await vi.advanceTimersByTimeAsync(5)
      expect(p.sent).toEqual(trace)
      expect(p.ended()).toBe(true)
      p.player.close()
    })

    it('changes speed and pauses without skipping or repeating events', async () => {
      const p = play(logOf(trace), 1)
      await vi.advanceTimersByTimeAsync(100)
      expect(p.sent).toHaveLength(5)
      p.player.setPaused(true)
      await vi.advanceTimersByTimeAsync(60_000)
      expect(p.sent).toHaveLength(5)
      p.player.setPaused(false)
      p.player.setSpeed(parseSpeed('max'))
      await vi.advanceTimersByTimeAsync(5)
      expect(p.sent).toEqual(trace)
      expect(p.ended()).toBe(true)
      expect(p.messages.filter((m) => m.kind === 'state').map((m) => [m.speed, m.paused])).toEqual([[1, false], [1, true], [1, false], ['max', false]])
      // A restart (still as fast as possible) sends everything again, after a reset.
      p.player.restart()
      await vi.advanceTimersByTimeAsync(5)
      expect(p.sent).toEqual([...trace, ...trace])
      expect(p.messages.map((m) => m.kind).filter((k) => k === 'reset' || k === 'end')).toEqual(['end', 'reset', 'end'])
      p.player.close()
    })

    it('follows a log that is still growing, and ends when it completes', async () => {
      const log = logOf(trace.slice(0, 5), false)
      const p = play(log, 1000)
      await vi.advanceTimersByTimeAsync(100) // the clock is past every time the log will hold
      expect(p.sent).toHaveLength(5)
      for (const e of trace.slice(5)) log.push(e)
      await vi.advanceTimersByTimeAsync(1)
      expect(p.sent).toEqual(trace)
      expect(p.ended()).toBe(false)
      log.finish()
      await vi.advanceTimersByTimeAsync(1)
      expect(p.ended()).toBe(true)
      p.player.close()
    })

    it('parses speeds: numbers, and 0 / max / Infinity for as fast as possible', () => {
      expect([parseSpeed('300'), parseSpeed('0.5'), parseSpeed('0'), parseSpeed('max'), parseSpeed('Infinity'), parseSpeed(60)]).toEqual([300, 0.5, Infinity, Infinity, Infinity, 60])
      expect([parseSpeed('-1'), parseSpeed('fast'), parseSpeed(''), parseSpeed(NaN)]).toEqual([undefined, undefined, undefined, undefined])
    })
  })
})

describe('the view server and trace files (no browser)', () => {
  const trace = [
    { type: 'start', t: 0, source: 'sim', network: 'regtest', format: 1 },
    { type: 'tip', t: 5, height: 1, hash: 'aa', work: '2' },
  ]
  let dir: string
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'bitp2p-view-unit-'))))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  /** GET `path` from the server with the given Host header: status and headers. */
  const get = (port: number, path: string, host: string): Promise<{ status: number; headers: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }))
      })
      req.on('error', reject)
      req.end()
    })

  /** A feed connection: the first message, or how it failed. */
  const feed = (url: string, origin: string | undefined): Promise<{ hello?: any; error?: string }> =>
    new Promise((resolve) => {
      const ws = new NodeWebSocket(url, origin === undefined ? {} : { origin })
      ws.once('message', (data) => {
        resolve({ hello: JSON.parse(String(data)) })
        ws.close()
      })
      ws.once('unexpected-response', (_req, res) => {
        resolve({ error: `HTTP ${res.statusCode}` })
        ws.terminate()
      })
      ws.once('error', (e) => resolve({ error: e.message }))
    })

  it('serves only its own host names and origins (no DNS rebinding, no cross-site feed), and caps what a page may send', async () => {
    const log = new EventLog()
    for (const e of trace) log.push(e)
    log.finish()
    const server = await startViewServer({ log, port: 0, speed: Infinity, source: 'sim' })
    try {
      const own = `127.0.0.1:${server.port}`
      const page = await get(server.port, '/', own)
      expect(page.status).toBe(200)
      expect(page.headers['content-security-policy']).toContain("default-src 'self'")
      expect((await get(server.port, '/', `localhost:${server.port}`)).status).toBe(200)
      // A name that resolves to 127.0.0.1 only through an attacker's DNS is refused.
      expect((await get(server.port, '/', `evil.example:${server.port}`)).status).toBe(421)
      // Only the listed files: no path into the rest of the checkout.
      expect((await get(server.port, '/../../package.json', own)).status).toBe(404)
      expect((await get(server.port, '/recorder.mjs', own)).status).toBe(404)

      const url = `ws://${own}${FEED_PATH}`
      expect((await feed(url, `http://${own}`)).hello).toMatchObject({ kind: 'hello', source: 'sim', speed: 'max', live: false })
      expect((await feed(url, undefined)).hello).toMatchObject({ kind: 'hello' }) // a non-browser client
      expect((await feed(url, 'http://evil.example')).error).toMatch(/^HTTP 4\d\d$/)
      expect((await feed(url, `https://${own}`)).error).toMatch(/^HTTP 4\d\d$/)

      // A page message above the cap closes the feed (1009, message too big).
      const ws = new NodeWebSocket(url, { origin: `http://${own}` })
      await new Promise((r) => ws.once('open', r))
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)))
      ws.send(JSON.stringify({ kind: 'speed', speed: 1, pad: 'x'.repeat(2_000) }))
      expect(await closed).toBe(1009)
    } finally {
      await server.close()
    }
  })

  it('readTrace reads a written trace back, and refuses non-files and files over the cap before reading them', () => {
    const ok = join(dir, 'ok.jsonl')
    writeFileSync(ok, trace.map((e) => JSON.stringify(e)).join('\n') + '\n')
    const log = readTraceLog(ok)
    expect(log.events).toEqual(trace)
    expect(log.complete).toBe(true)
    // A sparse file just over the cap: refused by its size, without reading 256 MiB.
    const big = join(dir, 'big.jsonl')
    writeFileSync(big, '')
    truncateSync(big, MAX_TRACE_BYTES + 1)
    expect(() => readTraceLog(big)).toThrow(`${MAX_TRACE_BYTES + 1} bytes, larger than ${MAX_TRACE_BYTES}`)
    expect(() => readTraceLog(dir)).toThrow('not a regular file')
    // A device reads without end: refused before the first byte.
    if (existsSync('/dev/zero')) expect(() => readTraceLog('/dev/zero')).toThrow('not a regular file')
    const bad = join(dir, 'bad.jsonl')
    writeFileSync(bad, `${JSON.stringify(trace[0])}\n{"type":"tip","t":1}\n`)
    expect(() => readTraceLog(bad)).toThrow(`${bad}:2: tip: height is not a number`)
  })
})

describe('a view that runs for ever keeps bounded memory (no browser)', () => {
  const msg = (t: number, command = 'ping'): TraceEvent => ({ type: 'message', t, from: 1, to: 0, command, bytes: 32 })

  it('an EventLog never holds more than its cap, drops the oldest first, and defaults to MAX_LIVE_EVENTS', () => {
    const cap = 10
    const log = new EventLog({ maxEvents: cap })
    for (let i = 0; i < 95; i++) {
      log.push(msg(i))
      expect(log.events.length).toBeLessThanOrEqual(cap)
      // What is kept is the newest, in order, numbered from the first event ever pushed.
      expect(log.total).toBe(i + 1)
      expect(log.events.map((e: TraceEvent) => e.t)).toEqual(Array.from({ length: log.events.length }, (_, k) => log.base + k))
      expect(log.at(i)!.t).toBe(i)
    }
    expect(log.base).toBeGreaterThan(80)
    expect(log.at(log.base - 1)).toBeUndefined()

    expect(MAX_LIVE_EVENTS).toBe(200_000)
    const live = new EventLog()
    for (let i = 0; i <= MAX_LIVE_EVENTS; i++) live.push(msg(i))
    expect(live.events.length).toBeLessThanOrEqual(MAX_LIVE_EVENTS)
    expect(live.events.at(-1).t).toBe(MAX_LIVE_EVENTS)
    expect(live.total).toBe(MAX_LIVE_EVENTS + 1)
  })

  it('the trace file still gets every event the log dropped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bitp2p-view-cap-'))
    try {
      const file = join(dir, 'all.jsonl')
      const log = new EventLog({ maxEvents: 4 })
      const stop = writeTrace(log, file)
      for (let i = 0; i < 30; i++) log.push(msg(i))
      log.finish()
      stop()
      expect(log.events.length).toBeLessThanOrEqual(4)
      expect(readTrace(file).map((e) => e.t)).toEqual(Array.from({ length: 30 }, (_, i) => i))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  describe('players over a trimmed log', () => {
    beforeEach(() => void vi.useFakeTimers())
    afterEach(() => void vi.useRealTimers())

    const player = (log: any, opts: Record<string, unknown> = {}) => {
      const sent: TraceEvent[] = []
      const messages: any[] = []
      const p = new Player(log, {
        speed: Infinity,
        now: () => Date.now(),
        send: (m: any) => {
          messages.push(m)
          if (m.kind === 'events') sent.push(...m.events)
        },
        ...opts,
      })
      p.start()
      return { p, sent, messages }
    }

    it('a player started after trimming plays from the oldest kept event, then what comes', async () => {
      const log = new EventLog({ maxEvents: 8 })
      for (let i = 0; i < 50; i++) log.push(msg(i))
      const kept = log.events.map((e: TraceEvent) => e.t)
      expect(kept[0]).toBe(log.base)
      const late = player(log)
      await vi.advanceTimersByTimeAsync(5)
      expect(late.sent.map((e) => e.t)).toEqual(kept)
      for (let i = 50; i < 53; i++) log.push(msg(i))
      log.finish()
      await vi.advanceTimersByTimeAsync(5)
      expect(late.sent.map((e) => e.t)).toEqual([...kept, 50, 51, 52])
      expect(late.messages.at(-1)).toEqual({ kind: 'end', events: 53 })
      late.p.close()
    })

    it('a live viewer that joins late gets the kept history at once; a paused one that falls behind resumes at the oldest kept', async () => {
      const log = new EventLog({ maxEvents: 8 })
      for (let i = 0; i < 20; i++) log.push(msg(i))
      const live = player(log, { live: true, origin: () => 19 })
      await vi.advanceTimersByTimeAsync(1)
      expect(live.sent.map((e) => e.t)).toEqual(log.events.map((e: TraceEvent) => e.t))
      live.p.close()

      const slow = player(log, { speed: 1 })
      await vi.advanceTimersByTimeAsync(1)
      slow.p.setPaused(true)
      const before = slow.sent.length
      for (let i = 20; i < 60; i++) log.push(msg(i))
      slow.p.setPaused(false)
      slow.p.setSpeed(Infinity)
      await vi.advanceTimersByTimeAsync(5)
      const after = slow.sent.slice(before).map((e) => e.t)
      // Nothing repeated, nothing out of order, and it went on from the oldest event still kept.
      expect(after).toEqual(log.events.map((e: TraceEvent) => e.t))
      slow.p.close()
    })
  })

  it('a tally names at most MAX_COMMANDS commands; the rest share the (other) bucket, nothing is lost', () => {
    expect(MAX_COMMANDS).toBe(64)
    expect(OTHER_COMMAND).toBe('(other)')
    const tally = createTally()
    for (let i = 0; i < 1_000; i++) applyEvent(tally, msg(i, `c${i}`))
    expect(tally.messages.size).toBe(MAX_COMMANDS + 1)
    expect([...tally.messages.keys()].slice(0, MAX_COMMANDS)).toEqual(Array.from({ length: MAX_COMMANDS }, (_, i) => `c${i}`))
    expect(tally.messages.get(OTHER_COMMAND)).toEqual({ count: 1_000 - MAX_COMMANDS, bytes: (1_000 - MAX_COMMANDS) * 32 })
    // A name seen before the cap keeps its own row.
    applyEvent(tally, msg(1_000, 'c3'))
    expect(tally.messages.get('c3')!.count).toBe(2)
    expect(Object.keys(summarize(tally).messages)).toHaveLength(MAX_COMMANDS + 1)
  })

  it('a peer sending 1,000 distinct commands (and us 1,000 more) leaves at most 64 names and (other) in the recorder', async () => {
    const log = new EventLog()
    const recorder = new Recorder({ log, now: () => 0 })
    // A Peer as the recorder sees it: its 'frame' events (the connection machine's meter) and its handshake result.
    const peer = Object.assign(new EventEmitter(), {
      remote: { host: '127.0.0.1', port: 18444 },
      info: { peer: { userAgent: '/flood/', version: 70016, services: 1n, startHeight: 0 } },
    })
    recorder.watch(peer)
    recorder.addPeer(peer)
    for (let i = 0; i < 1_000; i++) {
      peer.emit('frame', 'in', `in${i}`, 25)
      peer.emit('frame', 'out', `out${i}`, 25)
    }
    const names = [...recorder.tally.messages.keys()]
    expect(names.length).toBeLessThanOrEqual(MAX_COMMANDS + 1)
    expect(names).toContain(OTHER_COMMAND)
    let count = 0
    for (const m of recorder.tally.messages.values()) count += m.count
    expect(count).toBe(2_000)
  })
})

needs('chromium').describe.skipIf(!BUILT)('bitp2p view in Chromium (needs `npx turbo run build`)', () => {
  let browser: Browser
  let dir: string
  const views: View[] = []
  const start = async (args: readonly string[]): Promise<View> => {
    const v = await startView(args)
    views.push(v)
    return v
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bitp2p-view-'))
    mkdirSync(OUT_DIR, { recursive: true })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    })
  }, scaled(30_000))

  afterAll(async () => {
    await browser?.close()
    for (const v of views) if (v.child.exitCode === null) v.child.kill('SIGKILL')
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('shows a seeded simulation running and then exactly the numbers of its trace; Ctrl-C exits 130', { timeout: scaled(60_000) }, async () => {
    const trace = join(dir, 'sim-7.jsonl')
    const view = await start(['--sim', '--seed', String(SEED), '--trace', trace, '--port', '0'])
    expect(view.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)

    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } })
    const errors = pageErrors(page)
    await page.goto(view.url)
    // The default speed (300x) paces the feed: a while in, the graph is drawn, dots fly, the end is far.
    await page.waitForFunction(() => Number(document.getElementById('virtual-time')!.dataset.value) > 20 * 60_000, undefined, { timeout: PAGE_WAIT_MS })
    await page.waitForSelector('#graph .dot', { timeout: PAGE_WAIT_MS })
    expect(await page.locator('#status').getAttribute('data-state')).toBe('playing')
    expect(await page.locator('#speed').inputValue()).toBe('300')
    const running = await readPage(page)
    expect(Number(running.time)).toBeLessThan(SIM_MINUTES * 60_000 / 2)
    expect(Object.keys(running.peers).length).toBe(5)
    const runningShot = join(OUT_DIR, 'view-sim-running.png')
    await page.screenshot({ path: runningShot })
    console.log(`[view] screenshot of the running simulation: ${runningShot}`)

    // As fast as possible, through the page's speed control, to the end.
    await page.selectOption('#speed', 'max')
    await page.waitForSelector('#status[data-state="done"]', { timeout: PAGE_WAIT_MS })
    await view.line(/^view: trace written to /)
    const events = readTrace(trace)
    const want = expectedFrom(events)
    const got = await readPage(page)
    // Let the last dots land, for a still picture.
    await page.waitForFunction(() => document.querySelectorAll('#graph .dot').length === 0, undefined, { timeout: PAGE_WAIT_MS })
    const finalShot = join(OUT_DIR, 'view-sim-final.png')
    await page.screenshot({ path: finalShot })
    console.log(`[view] screenshot of the finished simulation: ${finalShot}`)

    expect(got).toEqual(want)
    // A real race: blocks were mined, some reorgs happened, the cheat was dropped.
    expect(Number(want.tipHeight)).toBeGreaterThan(15)
    expect(Number(want.reorgs)).toBeGreaterThan(0)
    expect(Object.values(want.peers).filter((p) => p.state === 'removed')).toHaveLength(1)
    expect(Number(want.messages.headers)).toBeGreaterThan(10)
    expect(want.time).toBe(String(SIM_MINUTES * 60_000))
    // The trace ends with its own summary, and the page agrees with it.
    expect(events[0]!.type).toBe('start')
    expect(events.at(-1)).toMatchObject({ type: 'summary', tip: { height: Number(want.tipHeight), hash: want.tipHash }, reorgs: Number(want.reorgs) })
    expect(await page.locator('#summary-check').getAttribute('data-match')).toBe('true')
    // The reorg log lists each reorg with its fork point.
    const forks = events.filter((e) => e.type === 'reorg').map((e) => String(e.fork.height)).reverse()
    expect(await page.locator('#reorgs li').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.forkHeight))).toEqual(forks)
    // The dropped peer says why, in words (the trace's reason), not just a colour.
    const dropped = Object.values(got.peers).find((p) => p.state === 'removed')!
    expect(dropped.reason.length).toBeGreaterThan(0)
    expect(dropped.status).toBe(`dropped: ${dropped.reason}`)
    // Us and a peer elsewhere are told apart: different stroke colours.
    const strokes = await page.evaluate(() => {
      const stroke = (sel: string): string => getComputedStyle(document.querySelector(sel)!).stroke
      return { self: stroke('#graph .self circle'), elsewhere: getComputedStyle(document.documentElement).getPropertyValue('--warn').trim() }
    })
    expect(strokes.self).not.toBe('')
    expect(strokes.self).not.toMatch(/rgb\(247, 147, 26\)|rgb\(210, 153, 34\)/) // neither the brand orange nor the warn colour
    // Narrow windows: nothing is clipped or pushed off screen; the page reflows to one column.
    for (const width of [800, 600]) {
      await page.setViewportSize({ width, height: 800 })
      const fit = await page.evaluate(() => {
        const right = (id: string): number => document.getElementById(id)!.getBoundingClientRect().right
        return { scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, side: right('side'), graph: right('graph-panel') }
      })
      expect(fit.scroll, `page width at ${width}px`).toBeLessThanOrEqual(fit.client)
      expect(fit.side, `right column at ${width}px`).toBeLessThanOrEqual(fit.client)
      expect(fit.graph, `graph at ${width}px`).toBeLessThanOrEqual(fit.client)
    }
    await page.screenshot({ path: join(OUT_DIR, 'view-sim-narrow.png'), fullPage: true })
    expect(errors).toEqual([])
    await page.close()

    expect(await view.interrupt()).toBe(130)
    expect(view.stderr()).toContain('interrupted')
  })

  it('the same seed writes the same trace byte for byte; another seed does not', { timeout: forWork(3, SIM_RUN_BUDGET_MS) }, async () => {
    const run = async (seed: number, file: string): Promise<Buffer> => {
      const v = await start(['--sim', '--seed', String(seed), '--trace', file, '--port', '0'])
      await v.line(/^view: trace written to /)
      expect(await v.interrupt()).toBe(130)
      return readFileSync(file)
    }
    const a = await run(SEED, join(dir, 'a.jsonl'))
    const b = await run(SEED, join(dir, 'b.jsonl'))
    const c = await run(SEED + 1, join(dir, 'c.jsonl'))
    expect(a.length).toBeGreaterThan(10_000)
    expect(b.equals(a)).toBe(true)
    expect(c.equals(a)).toBe(false)
  })

  it('replays a trace at high speed to the same final numbers', { timeout: scaled(30_000) }, async () => {
    const trace = join(dir, 'replayed.jsonl')
    const sim = await start(['--sim', '--seed', String(SEED), '--peers', '6', '--minutes', '120', '--trace', trace])
    await sim.line(/^view: trace written to /)
    await sim.interrupt()
    const want = expectedFrom(readTrace(trace))

    const view = await start(['--replay', trace, '--speed', '100000'])
    await view.line(/^view: replaying .* \(\d+ events\)$/)
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } })
    const errors = pageErrors(page)
    await page.goto(view.url)
    await page.waitForSelector('#status[data-state="done"]', { timeout: PAGE_WAIT_MS })
    expect(await page.locator('#speed').inputValue()).toBe('100000')
    expect(await readPage(page)).toEqual(want)
    expect(Object.keys(want.peers)).toHaveLength(6)
    expect(await page.locator('#summary-check').getAttribute('data-match')).toBe('true')

    // Restart from the page: the same numbers again.
    await page.selectOption('#speed', 'max')
    await page.click('#restart')
    await page.waitForSelector('#status[data-state="done"]', { timeout: PAGE_WAIT_MS })
    expect(await readPage(page)).toEqual(want)
    expect(errors).toEqual([])
    await page.close()
    expect(await view.interrupt()).toBe(130)
  })

  needs('bcoin').describe('--peer against bcoin regtest', () => {
    let node: BcoinNode
    beforeAll(async () => {
      node = await startBcoin({ mine: BCOIN_BLOCKS })
    }, bcoinBudget(BCOIN_BLOCKS))
    afterAll(async () => {
      await node?.stop()
    })

    it("shows bcoin's height and tip live, follows a new block, and writes a trace with a summary", { timeout: scaled(60_000) }, async () => {
      const trace = join(dir, 'live.jsonl')
      const view = await start(['--peer', `127.0.0.1:${node.p2p.port}`, '--network', 'regtest', '--trace', trace])
      await view.line(/^view: connected to .*bcoin/)
      const page = await browser.newPage({ viewport: { width: 1400, height: 800 } })
      const errors = pageErrors(page)
      await page.goto(view.url)
      await page.waitForSelector(`#tip-height[data-value="${BCOIN_BLOCKS}"]`, { timeout: PAGE_WAIT_MS })
      const best = (await node.rpc('getbestblockhash', [])) as string
      expect(await page.locator('#tip-hash').getAttribute('data-value')).toBe(best)
      expect(await page.locator('#status').getAttribute('data-state')).toBe('live')
      const row = page.locator('#peers tbody tr[data-peer="1"]')
      await expect.poll(() => row.getAttribute('data-height'), { timeout: PAGE_WAIT_MS }).toBe(String(BCOIN_BLOCKS))
      expect(await row.getAttribute('data-hash')).toBe(best)
      expect(await row.locator('.agent').textContent()).toMatch(/bcoin/)

      const [mined] = await node.mine(1)
      await page.waitForSelector(`#tip-height[data-value="${BCOIN_BLOCKS + 1}"]`, { timeout: PAGE_WAIT_MS })
      expect(await page.locator('#tip-hash').getAttribute('data-value')).toBe(mined)
      await expect.poll(() => row.getAttribute('data-height'), { timeout: PAGE_WAIT_MS }).toBe(String(BCOIN_BLOCKS + 1))
      const liveShot = join(OUT_DIR, 'view-bcoin-live.png')
      await page.screenshot({ path: liveShot })
      console.log(`[view] screenshot of the live bcoin view: ${liveShot}`)
      const got = await readPage(page)
      expect(errors).toEqual([])
      await page.close()

      expect(await view.interrupt()).toBe(130)
      const events = readTrace(trace)
      const want = expectedFrom(events.slice(0, -1)) // everything the page could have seen before Ctrl-C's summary
      expect(events.at(-1)).toMatchObject({ type: 'summary', tip: { height: BCOIN_BLOCKS + 1, hash: mined } })
      expect(got.tipHash).toBe(want.tipHash)
      expect(got.peers['1']).toEqual(want.peers['1'])
      expect(got.peers['1']).toEqual({ height: String(BCOIN_BLOCKS + 1), hash: mined, state: 'ready', reason: '', status: 'ready' })
      expect(Number(got.messages.headers)).toBeGreaterThan(0)
    })
  })
})
