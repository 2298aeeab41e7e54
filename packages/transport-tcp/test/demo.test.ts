// Runs the README's demo (examples/demo.mjs, on the built packages) as a
// newcomer would and checks what it prints, its exit code, and that the
// bcoin node it started is gone afterwards.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { TcpConnector } from '../src/index.js'
import { rejection } from './helpers.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const DISTS = ['wire', 'session', 'transport-tcp'].map((p) => `${ROOT}packages/${p}/dist/index.js`)
const DEMO_TIMEOUT_MS = 60_000

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['examples/demo.mjs'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const timer = setTimeout(() => child.kill('SIGKILL'), DEMO_TIMEOUT_MS)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Math.round(performance.now() - t0) })
    })
  })
}

describe('examples/demo.mjs', () => {
  it('starts bcoin, syncs headers, receives and broadcasts a transaction, closes, exits 0', { timeout: DEMO_TIMEOUT_MS + 5_000 }, async () => {
    const missing = DISTS.filter((d) => !existsSync(d))
    expect(missing, 'run `npx turbo run build` first').toEqual([])

    const r = await runDemo()
    console.log(`[demo] ${r.ms} ms, exit ${r.code}`)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '')
    const expected: RegExp[] = [
      /^bitp2p demo: /,
      /^1\. Starting bcoin \(regtest, 127\.0\.0\.1 only\) and mining 200 blocks$/,
      /^bcoin v1\.0\.2 ready in \d+ ms: P2P on 127\.0\.0\.1:\d+, height 200$/,
      /^2\. Connecting with a bitp2p Peer over TCP$/,
      /^handshake done in \d+ ms: \/bcoin:v1\.0\.2\/ protocol 70015, its height 200$/,
      /^ping \d+\.\d\d ms$/,
      /^3\. Syncing block headers from genesis/,
      /^headers 200\/200 \(100%\), \d+ headers\/s$/,
      /^tip [0-9a-f]{16}…[0-9a-f]{8} at height 200 matches bcoin's best block$/,
      /^4\. Watching a transaction arrive from bcoin$/,
      /^bcoin's wallet paid 1 BTC; bcoin announced it to us \(inv\) after \d+ ms$/,
      /^fetched it \(getdata\): txid [0-9a-f]{16}…[0-9a-f]{8}, \d+ vbytes, 1 input\(s\)$/,
      /^output 0: +\d+\.\d{8} BTC {2}p2pkh [0-9a-f]{16}…[0-9a-f]{8}$/,
      /^output 1: +\d+\.\d{8} BTC {2}p2pkh [0-9a-f]{16}…[0-9a-f]{8}$/,
      /^5\. Broadcasting a transaction$/,
      /^bcoin's wallet signed 0\.1 BTC without sending it: txid [0-9a-f]{16}…[0-9a-f]{8}$/,
      /^announced it to bcoin \(inv\)$/,
      /^bcoin asked for it \(getdata\); sending it \(tx\)$/,
      /^in bcoin's mempool after \d+ ms$/,
      /^6\. Closing$/,
      /^connection closed, bcoin stopped$/,
      /^done$/,
    ]
    expect(lines).toHaveLength(expected.length)
    lines.forEach((l, i) => expect(l).toMatch(expected[i]!))
    // One of the two outputs is the 1 BTC payment.
    expect(lines.filter((l) => / 1\.00000000 BTC /.test(l))).toHaveLength(1)

    // The node it started is gone: its P2P port refuses connections.
    const port = Number(r.stdout.match(/P2P on 127\.0\.0\.1:(\d+)/)![1])
    const err = await rejection(new TcpConnector({ connectTimeoutMs: 2_000 }).connect({ host: '127.0.0.1', port }))
    expect(err.kind).toBe('connect-failed')
  })
})
