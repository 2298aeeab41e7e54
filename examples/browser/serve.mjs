#!/usr/bin/env node
// A tiny static file server for the example page, on 127.0.0.1 only.
//
// Usage: node examples/browser/serve.mjs [port] [folder]
//   port: default 8000; 0 picks a free port. folder: default this one
//   (examples/light-browser/serve.mjs serves its own folder with it).
// Prints one JSON line when listening: {"listening":true,"url":"http://127.0.0.1:PORT/"}
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = fileURLToPath(new URL('./', import.meta.url))
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' }

/** Serve files under `root` (default: this folder); nothing outside it, nothing but GET/HEAD. */
export function startServer(port = 8000, root = HERE) {
  const base = resolve(root) + sep
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end()
      return
    }
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const file = normalize(join(base, path.endsWith('/') ? path + 'index.html' : path))
    if (!file.startsWith(base) || file.slice(base.length).split(sep).includes('..')) {
      res.writeHead(403).end()
      return
    }
    try {
      const body = await readFile(file)
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : body)
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
    }
  })
  return new Promise((done, fail) => {
    server.once('error', fail)
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address()
      done({ server, url: `http://127.0.0.1:${actual}/` })
    })
  })
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { url } = await startServer(Number(process.argv[2] ?? 8000), process.argv[3] ?? HERE)
  console.log(JSON.stringify({ listening: true, url }))
}
