// The page of `bitp2p view`: reads the event feed (see ../server.mjs),
// folds every event into a tally (../events.mjs) and draws it. All numbers
// are also written as data-* attributes with stable ids, for tests.
import { applyEvent, createTally, SELF, summaryMismatches } from './events.mjs'
import { commandColor, Graph } from './graph.mjs'

/** Batches larger than this are not animated (fast playback): dots would only pile up. */
const ANIMATE_MAX_BATCH = 200

const $ = (id) => document.getElementById(id)
const params = new URLSearchParams(location.search)
const graph = new Graph($('graph'))

let tally = createTally()
let ws
let state = { speed: undefined, paused: false, live: false, complete: false, ended: false }
let renderQueued = false

/** "1:02:03" from ms. */
function clock(ms) {
  const s = Math.floor(ms / 1000)
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}

const shortHash = (h) => (h ? `${h.slice(0, 10)}…${h.slice(-6)}` : '–')
/** Work as hex (Core's chainwork without zero padding) -> a short decimal or hex. */
const workText = (w) => {
  const n = BigInt(`0x${w}`)
  return n < 10n ** 12n ? n.toString() : `0x${w}`
}

function setValue(id, value, text = String(value)) {
  const e = $(id)
  e.dataset.value = String(value)
  e.textContent = text
}

function cell(tr, text, cls) {
  const td = document.createElement('td')
  td.textContent = text
  if (cls) td.className = cls
  tr.appendChild(td)
  return td
}

function status() {
  const s = $('status')
  const name = !ws || ws.readyState === WebSocket.CONNECTING
    ? 'connecting'
    : ws.readyState !== WebSocket.OPEN && !state.ended
      ? 'disconnected'
      : state.ended
        ? 'done'
        : state.live
          ? 'live'
          : state.paused
            ? 'paused'
            : 'playing'
  s.dataset.state = name
  s.textContent = name
  $('pause').textContent = state.paused ? 'resume' : 'pause'
}

function render() {
  renderQueued = false
  const t = tally
  graph.update(t)

  setValue('tip-height', t.tip?.height ?? '', t.tip ? String(t.tip.height) : '–')
  setValue('tip-hash', t.tip?.hash ?? '', t.tip?.hash ?? '–')
  setValue('tip-work', t.tip?.work ?? '', t.tip ? workText(t.tip.work) : '–')
  setValue('virtual-time', t.time, clock(t.time))
  setValue('events-seen', t.events)
  let ready = 0
  for (const p of t.peers.values()) if (p.state === 'ready') ready++
  setValue('peer-count', ready)
  let total = 0
  for (const m of t.messages.values()) total += m.count
  setValue('message-total', total)
  setValue('reorg-count', t.reorgs.length)
  setValue('tx-count', t.txs)

  // Header height per peer.
  const peers = $('peers').tBodies[0]
  peers.replaceChildren()
  for (const p of [...t.peers.values()].sort((a, b) => a.peer - b.peer)) {
    const tr = document.createElement('tr')
    tr.dataset.peer = String(p.peer)
    tr.dataset.state = p.state
    tr.dataset.height = p.height === undefined ? '' : String(p.height)
    tr.dataset.hash = p.hash ?? ''
    tr.dataset.reason = p.reason ?? ''
    if (t.tip && p.hash === t.tip.hash) tr.className = 'at-tip'
    tr.title = p.reason ? `removed: ${p.reason}` : `${p.userAgent}, protocol ${p.version}, claimed height ${p.startHeight}`
    cell(tr, String(p.peer))
    cell(tr, p.address)
    cell(tr, p.userAgent, 'agent')
    cell(tr, p.height === undefined ? `(${p.startHeight})` : String(p.height), 'num')
    cell(tr, shortHash(p.hash), 'hash')
    cell(tr, p.state === 'removed' ? `dropped: ${p.reason}` : p.state, 'state')
    peers.appendChild(tr)
  }

  // Messages by command, most first (ties by name, so the order is stable).
  const rows = [...t.messages].sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1))
  const max = rows[0]?.[1].count ?? 1
  const body = $('messages').tBodies[0]
  body.replaceChildren()
  for (const [command, m] of rows) {
    const tr = document.createElement('tr')
    tr.dataset.command = command
    tr.dataset.count = String(m.count)
    tr.dataset.bytes = String(m.bytes)
    const name = cell(tr, '')
    const sw = document.createElement('span')
    sw.className = 'swatch'
    sw.style.background = commandColor(command)
    name.append(sw, command)
    cell(tr, String(m.count), 'num')
    const bar = cell(tr, '', 'bar')
    const fill = document.createElement('span')
    fill.style.width = `${Math.max(2, (100 * m.count) / max)}%`
    fill.style.background = commandColor(command)
    bar.appendChild(fill)
    tr.title = `${m.bytes} bytes`
    body.appendChild(tr)
  }

  // Reorg log, newest first.
  const list = $('reorgs')
  list.replaceChildren()
  for (let i = t.reorgs.length - 1; i >= 0; i--) {
    const r = t.reorgs[i]
    const li = document.createElement('li')
    li.dataset.forkHeight = String(r.fork.height)
    li.dataset.disconnected = String(r.disconnected.length)
    li.dataset.connected = String(r.connected.length)
    const depth = document.createElement('span')
    depth.className = 'depth'
    depth.textContent = `−${r.disconnected.length} +${r.connected.length}`
    li.title = `fork ${r.fork.hash}\nnew tip ${r.connected.at(-1)?.hash ?? ''}`
    li.append(`${clock(r.t)} fork at ${r.fork.height} (${r.fork.hash.slice(0, 8)}…) `, depth, ` → tip ${r.connected.at(-1)?.height ?? ''}`)
    if (i === t.reorgs.length - 1) li.className = 'new'
    list.appendChild(li)
  }
  $('no-reorgs').hidden = t.reorgs.length > 0

  // Transactions (live peers).
  $('txs').hidden = $('txs-title').hidden = t.txs === 0
  $('txs').replaceChildren(
    ...t.recentTxs.map((x) => {
      const li = document.createElement('li')
      li.dataset.txid = x.txid
      li.textContent = `${shortHash(x.txid)} ${x.vsize} vB`
      return li
    }),
  )

  // Does what we counted agree with the trace's own summary?
  const bad = summaryMismatches(t)
  const check = $('summary-check')
  check.dataset.match = bad === undefined ? '' : String(bad.length === 0)
  check.textContent =
    bad === undefined
      ? state.live
        ? 'live: the summary comes when the view stops'
        : 'waiting for the trace summary'
      : bad.length === 0
        ? '✓ every count on this page matches the trace summary'
        : `✗ differs from the trace summary: ${bad.join(', ')}`

  const start = t.start
  if (start) {
    $('source').textContent =
      start.source === 'sim'
        ? `simulation · seed ${start.seed} · ${start.peers} peers · ${start.minutes} virtual min · ${start.network}`
        : `live peer ${start.address ?? ''} · ${start.network}`
  }
  status()
}

function queueRender() {
  if (renderQueued) return
  renderQueued = true
  // requestAnimationFrame pauses in background tabs; a timeout keeps the numbers moving there too.
  if (document.hidden) setTimeout(render, 100)
  else requestAnimationFrame(render)
}

function onEvents(events) {
  const draw = state.speed !== 'max' && events.length <= ANIMATE_MAX_BATCH
  for (const ev of events) {
    applyEvent(tally, ev)
    if (draw && ev.type === 'reorg') graph.flash()
    if (draw && ev.type === 'message') {
      // The peer's node must exist before its first dot.
      if (!graph.has(ev.from === SELF ? ev.to : ev.from)) graph.update(tally)
      graph.message(ev.from, ev.to, ev.command)
    }
  }
  queueRender()
}

function onMessage(msg) {
  switch (msg.kind) {
    case 'hello':
      state.live = msg.live
      $('speed-control').hidden = $('pause').hidden = $('restart').hidden = msg.live
      $('time-label').textContent = msg.live ? 'time' : 'virtual time'
      if (params.has('speed') && !msg.live) send({ kind: 'speed', speed: params.get('speed') })
      break
    case 'state': {
      state = { ...state, speed: msg.speed, paused: msg.paused, live: msg.live, complete: msg.complete }
      const sel = $('speed')
      const v = String(msg.speed)
      if (![...sel.options].some((o) => o.value === v)) sel.add(new Option(`${v}×`, v))
      sel.value = v
      break
    }
    case 'events':
      onEvents(msg.events)
      return
    case 'end':
      state.ended = true
      break
    case 'reset':
      tally = createTally()
      state.ended = false
      graph.reset()
      break
  }
  queueRender()
}

function send(msg) {
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg))
}

function connect() {
  ws = new WebSocket(`ws://${location.host}/feed`)
  ws.onmessage = (e) => onMessage(JSON.parse(e.data))
  ws.onopen = ws.onclose = () => queueRender()
}

$('speed').addEventListener('change', (e) => send({ kind: 'speed', speed: e.target.value }))
$('pause').addEventListener('click', () => send({ kind: state.paused ? 'resume' : 'pause' }))
$('restart').addEventListener('click', () => send({ kind: 'restart' }))
connect()
render()
