// The view's web server: the static page over node:http and the event feed
// over a WebSocket (the `ws` package), on 127.0.0.1 only.
//
// Feed protocol (JSON text messages on ws://127.0.0.1:<port>/feed):
//   server -> page
//     { kind: 'hello', source, format, speed, live }    on connect
//     { kind: 'state', speed, paused, live, complete }   after every change
//     { kind: 'events', events: [...] }                   events, in order
//     { kind: 'end', events: n }                          the log is complete: n events in all, every
//                                                         one kept was sent (a live log drops its oldest
//                                                         past MAX_LIVE_EVENTS, recorder.mjs)
//     { kind: 'reset' }                                   playback restarts: forget what you have
//   page -> server
//     { kind: 'speed', speed: number | 'max' }            0 and 'max': as fast as possible
//     { kind: 'pause' } | { kind: 'resume' } | { kind: 'restart' }
//
// Every viewer gets its own Player (player.mjs) over the shared EventLog.
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { WebSocketServer } from 'ws'
import { TRACE_FORMAT } from './events.mjs'
import { parseSpeed, Player, speedJson } from './player.mjs'

/** The only address the view listens on. */
export const VIEW_HOST = '127.0.0.1'
/** Path of the WebSocket feed. */
export const FEED_PATH = '/feed'
/** Largest message a page may send. */
const MAX_CLIENT_MESSAGE_BYTES = 1024

/** The files the server serves, by URL path: [file relative to this module, content type]. */
const STATIC = new Map([
  ['/', ['page/index.html', 'text/html; charset=utf-8']],
  ['/index.html', ['page/index.html', 'text/html; charset=utf-8']],
  ['/app.mjs', ['page/app.mjs', 'text/javascript; charset=utf-8']],
  ['/graph.mjs', ['page/graph.mjs', 'text/javascript; charset=utf-8']],
  ['/style.css', ['page/style.css', 'text/css; charset=utf-8']],
  ['/events.mjs', ['events.mjs', 'text/javascript; charset=utf-8']],
])

/**
 * Serve the page and the feed of `log`. `speed` is the default playback
 * speed; `live` makes every viewer follow the present (see Player).
 * Resolves once listening, with the URL and `close()`.
 */
export async function startViewServer({ log, port = 0, speed, live = false, origin, source }) {
  const players = new Set()
  let allowedHosts = new Set()
  const allowedOrigin = (o) => [...allowedHosts].some((h) => o === `http://${h}`)

  const server = createServer(async (req, res) => {
    // Only our own names: a page on another site cannot reach us by DNS rebinding.
    if (!allowedHosts.has(req.headers.host ?? '')) return void res.writeHead(421).end('misdirected request\n')
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const entry = STATIC.get(path)
    if (req.method !== 'GET' || entry === undefined) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    try {
      const body = await readFile(new URL(entry[0], import.meta.url))
      res.writeHead(200, {
        'content-type': entry[1],
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      })
      res.end(body)
    } catch {
      res.writeHead(500).end()
    }
  })

  const wss = new WebSocketServer({
    server,
    path: FEED_PATH,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    // Pages of other origins may not read the feed (a missing Origin is a non-browser client).
    verifyClient: ({ req }) => allowedHosts.has(req.headers.host ?? '') && (req.headers.origin === undefined || allowedOrigin(req.headers.origin)),
  })

  wss.on('connection', (ws) => {
    const send = (msg) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg))
    }
    const player = new Player(log, { send, buffered: () => ws.bufferedAmount, speed, live, origin })
    players.add(player)
    send({ kind: 'hello', source, format: TRACE_FORMAT, speed: speedJson(live ? 1 : speed), live })
    ws.on('message', (data) => {
      let msg
      try {
        msg = JSON.parse(String(data))
      } catch {
        return
      }
      if (msg?.kind === 'speed') {
        const s = parseSpeed(msg.speed)
        if (s !== undefined) player.setSpeed(s)
      } else if (msg?.kind === 'pause') player.setPaused(true)
      else if (msg?.kind === 'resume') player.setPaused(false)
      else if (msg?.kind === 'restart') player.restart()
    })
    ws.on('close', () => {
      player.close()
      players.delete(player)
    })
    ws.on('error', () => ws.terminate())
    player.start()
  })

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, VIEW_HOST, resolve)
  })
  const actual = server.address().port
  allowedHosts = new Set([`${VIEW_HOST}:${actual}`, `localhost:${actual}`])
  return {
    url: `http://${VIEW_HOST}:${actual}/`,
    port: actual,
    /** Close every feed and stop listening. */
    close() {
      for (const p of players) p.close()
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      server.closeAllConnections?.()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
