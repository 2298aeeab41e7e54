#!/usr/bin/env node
// Serves this folder (index.html and the bundle build.mjs writes) on
// 127.0.0.1 only, with examples/browser's static file server.
//
// Usage: node examples/light-browser/serve.mjs [port]   (default 8000; 0 picks a free port)
// Prints one JSON line when listening: {"listening":true,"url":"http://127.0.0.1:PORT/"}
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startServer as serveFolder } from '../browser/serve.mjs'

const HERE = fileURLToPath(new URL('./', import.meta.url))

/** Serve examples/light-browser/ on 127.0.0.1:`port` (0: a free port). */
export function startServer(port = 8000) {
  return serveFolder(port, HERE)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { url } = await startServer(Number(process.argv[2] ?? 8000))
  console.log(JSON.stringify({ listening: true, url }))
}
