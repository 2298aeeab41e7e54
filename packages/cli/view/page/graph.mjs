// The network graph: our node in the middle, peers on a circle, and a dot
// that runs along an edge for every message, coloured by command.

const SVG = 'http://www.w3.org/2000/svg'
/** Radius of the peer circle (the viewBox is 660 wide, centred on 0). */
const RING = 235
const SELF_R = 46
const PEER_R = 34
/** Wall ms a dot takes along an edge. */
const DOT_MS = 900
/** Dots alive at once; further messages are counted, not drawn. */
const MAX_DOTS = 250

/** Fixed colours for the common commands; others get one from their name. */
const COMMAND_COLORS = {
  version: '#bc8cff',
  verack: '#a371f7',
  ping: '#6e7681',
  pong: '#8b949e',
  getheaders: '#39c5cf',
  headers: '#3fb950',
  inv: '#f7931a',
  getdata: '#d29922',
  block: '#f85149',
  tx: '#e3b341',
  sendheaders: '#58a6ff',
  wtxidrelay: '#79c0ff',
  sendaddrv2: '#1f6feb',
  sendcmpct: '#388bfd',
  feefilter: '#a5d6ff',
  addr: '#db61a2',
  addrv2: '#f778ba',
  getaddr: '#bf4b8a',
}

/** The colour of a command's dots and swatches. */
export function commandColor(command) {
  if (Object.hasOwn(COMMAND_COLORS, command)) return COMMAND_COLORS[command]
  let h = 0
  for (let i = 0; i < command.length; i++) h = (h * 31 + command.charCodeAt(i)) % 360
  return `hsl(${h} 70% 60%)`
}

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(SVG, name)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v))
  parent?.appendChild(e)
  return e
}

const short = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)
/** "/bitp2p-sim:0.1.0/fast/" -> "fast"; "/Satoshi:27.0.0/" -> "Satoshi:27.0.0". */
function agentName(ua) {
  const parts = ua.split('/').filter(Boolean)
  return parts.at(-1) ?? ua
}

/** Draws into an <svg>; call `update` with the tally after events, `message` per message event. */
export class Graph {
  #svg
  #edges
  #dots
  #nodes
  #self
  #peers = new Map()
  #alive = []
  #raf = 0

  constructor(svg) {
    this.#svg = svg
    this.#edges = el('g', { class: 'edges' }, svg)
    this.#dots = el('g', { class: 'dots' }, svg)
    this.#nodes = el('g', { class: 'nodes' }, svg)
    const self = el('g', { class: 'node self', 'data-peer': 0 }, this.#nodes)
    el('circle', { r: SELF_R }, self)
    el('text', { y: -10 }, self).textContent = 'us'
    this.#self = { g: self, height: el('text', { y: 12, class: 'height' }, self) }
  }

  /** Forget every peer and dot (a restarted playback). */
  reset() {
    for (const p of this.#peers.values()) {
      p.g.remove()
      p.edge.remove()
    }
    this.#peers.clear()
    for (const d of this.#alive) d.el.remove()
    this.#alive = []
    this.#self.height.textContent = ''
  }

  /** Bring nodes and edges up to date with the tally. */
  update(tally) {
    const tip = tally.tip
    this.#self.height.textContent = tip ? String(tip.height) : ''
    // In id order (the order we dialled), not the order handshakes finished.
    const list = [...tally.peers.values()].sort((a, b) => a.peer - b.peer)
    list.forEach((p, k) => {
      let v = this.#peers.get(p.peer)
      if (!v) {
        const edge = el('line', { class: 'edge', x1: 0, y1: 0 }, this.#edges)
        const g = el('g', { class: 'node peer', 'data-peer': p.peer }, this.#nodes)
        el('circle', { r: PEER_R }, g)
        const title = el('title', {}, g)
        const height = el('text', { y: 0, class: 'height' }, g)
        const name = el('text', { y: PEER_R + 14, class: 'name' }, g)
        const id = el('text', { y: PEER_R + 29, class: 'sub' }, g)
        v = { g, edge, name, height, id, title, x: 0, y: 0 }
        this.#peers.set(p.peer, v)
      }
      // Evenly on the ring, in order of arrival, starting at the top.
      const a = -Math.PI / 2 + (2 * Math.PI * k) / list.length
      v.x = RING * Math.cos(a)
      v.y = RING * Math.sin(a)
      v.g.setAttribute('transform', `translate(${v.x.toFixed(1)} ${v.y.toFixed(1)})`)
      v.edge.setAttribute('x2', v.x.toFixed(1))
      v.edge.setAttribute('y2', v.y.toFixed(1))
      const atTip = tip !== undefined && p.hash === tip.hash
      v.g.classList.toggle('at-tip', atTip && p.state !== 'removed')
      v.g.classList.toggle('removed', p.state === 'removed')
      v.edge.classList.toggle('removed', p.state === 'removed')
      v.g.setAttribute('data-height', p.height ?? '')
      v.name.textContent = short(agentName(p.userAgent), 18)
      v.height.textContent = p.height !== undefined ? String(p.height) : `(${p.startHeight})`
      v.id.textContent = `#${p.peer} ${p.address}`
      v.title.textContent = `#${p.peer} ${p.address} ${p.userAgent}${p.reason ? ` — ${p.reason}` : ''}`
    })
  }

  /** Is this peer drawn? */
  has(peer) {
    return this.#peers.has(peer)
  }

  /** Flash our node (a reorg). */
  flash() {
    const g = this.#self.g
    g.classList.remove('flash')
    void g.getBoundingClientRect() // restart the animation
    g.classList.add('flash')
  }

  /** Send a dot along the edge between `from` and `to` (0 is us). */
  message(from, to, command) {
    if (this.#alive.length >= MAX_DOTS) return
    const a = from === 0 ? { x: 0, y: 0 } : this.#peers.get(from)
    const b = to === 0 ? { x: 0, y: 0 } : this.#peers.get(to)
    if (!a || !b) return
    const dot = el('circle', { class: 'dot', r: 5, fill: commandColor(command), 'data-command': command }, this.#dots)
    this.#alive.push({ el: dot, a, b, start: performance.now() })
    if (this.#raf === 0) this.#raf = requestAnimationFrame((t) => this.#frame(t))
  }

  #frame(now) {
    this.#raf = 0
    const keep = []
    for (const d of this.#alive) {
      const f = (now - d.start) / DOT_MS
      if (f >= 1) {
        d.el.remove()
        continue
      }
      // Centre to centre: the dots layer lies under the nodes, so a dot seems to leave one circle and enter the other.
      const x = d.a.x + (d.b.x - d.a.x) * f
      const y = d.a.y + (d.b.y - d.a.y) * f
      d.el.setAttribute('cx', x.toFixed(1))
      d.el.setAttribute('cy', y.toFixed(1))
      keep.push(d)
    }
    this.#alive = keep
    if (keep.length > 0) this.#raf = requestAnimationFrame((t) => this.#frame(t))
  }
}
