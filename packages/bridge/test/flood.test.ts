// Memory stays bounded when one side floods and the other does not read.
// The misbehaving client runs in a child process (test/fixtures/flood-client.mjs)
// so that its unbounded send queue is not in this process's RSS.
import { afterEach, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Socket } from 'node:net'
import { WsConnector } from '@bitp2p/transport-ws'
import { startBridge, startEcho, startUpstream, sleep, waitFor, WsCtor } from './helpers.js'
import { forWork, scaled } from '../../../test/harness/timing.js'

const FLOOD_BYTES = 50 * 1024 * 1024
const MAX_BUFFERED = 256 * 1024
const MAX_FRAME = 64 * 1024
/**
 * One socket read: Node reads at most 64 KiB at a time, and the frames of
 * a read that is already in hand are still parsed after the WebSocket is
 * paused. This is the "one frame" of slack over the flow-control mark.
 */
const ONE_READ = 64 * 1024
const CLIENT = fileURLToPath(new URL('./fixtures/flood-client.mjs', import.meta.url))
/** Budget per MiB of the flood queued, relayed up to the mark and checked (the 50 MiB test takes about 5 s on an idle machine). */
const MIB_BUDGET_MS = 800
const FLOOD_TEST_TIMEOUT_MS = forWork(FLOOD_BYTES / (1024 * 1024), MIB_BUDGET_MS)

const children: ChildProcess[] = []
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
  while (cleanups.length > 0) await cleanups.pop()!()
})

/** Start the flood client; `lines` collects its JSON output. */
function child(args: string[]): { proc: ChildProcess; lines: Record<string, unknown>[] } {
  const proc = spawn(process.execPath, [CLIENT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(proc)
  const lines: Record<string, unknown>[] = []
  let buf = ''
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString()
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>)
      buf = buf.slice(nl + 1)
    }
  })
  return { proc, lines }
}

/** Wait until `read()` stops changing for `quietMs` (scaled: a starved process changes nothing for a while). */
async function settle(read: () => number, quietMs = scaled(400), maxMs = scaled(15_000)): Promise<number> {
  const until = Date.now() + maxMs
  let last = read()
  let since = Date.now()
  while (Date.now() < until) {
    await sleep(50)
    const now = read()
    if (now !== last) {
      last = now
      since = Date.now()
    } else if (Date.now() - since >= quietMs) return now
  }
  throw new Error('value never settled')
}

describe('bridge: flow control under a flood', () => {
  it('a client sending 50 MB to an upstream that never reads: bridge memory stays bounded', { timeout: FLOOD_TEST_TIMEOUT_MS }, async () => {
    // The upstream accepts and never reads (a net.Socket without a 'data' listener is paused).
    const stuck = await startUpstream(() => {})
    cleanups.push(() => stuck.close())
    const echo = await startEcho()
    cleanups.push(() => echo.close())
    const { bridge } = await startBridge({
      allow: [`127.0.0.1:${stuck.port}`, `127.0.0.1:${echo.port}`],
      allowPrivate: true,
      maxBufferedBytes: MAX_BUFFERED,
      maxFrameBytes: MAX_FRAME,
      // The dead flooder's FIN sits behind bytes the bridge no longer reads; the idle timer ends it.
      idleTimeoutMs: scaled(2_000),
    })
    cleanups.push(() => bridge.close())

    const rssBefore = process.memoryUsage().rss
    const flood = child([`${bridge.url}?peer=127.0.0.1:${stuck.port}`, 'flood', String(FLOOD_BYTES), String(MAX_FRAME)])
    await waitFor(() => flood.lines.some((l) => l.sent === FLOOD_BYTES), scaled(20_000), 'the child to queue 50 MB')
    const relayed = await settle(() => bridge.metrics().bytesToUpstream)
    const m = bridge.metrics()
    const rssGrowth = process.memoryUsage().rss - rssBefore

    // The flood was held back: most of it never left the client.
    expect(relayed).toBeLessThan(FLOOD_BYTES / 2)
    expect(relayed).toBeGreaterThan(0)
    // The bridge's own queue stayed at the mark plus one read.
    expect(m.peakBufferedToUpstream).toBeGreaterThan(0)
    expect(m.peakBufferedToUpstream).toBeLessThanOrEqual(MAX_BUFFERED + ONE_READ + MAX_FRAME)
    expect(m.bufferedToUpstream).toBeLessThanOrEqual(MAX_BUFFERED + ONE_READ + MAX_FRAME)
    // And the process did not grow by anything like the flood.
    expect(rssGrowth).toBeLessThan(20 * 1024 * 1024)

    // The bridge stays healthy: a good connection works meanwhile.
    const t = await new WsConnector({ url: bridge.url, WebSocket: WsCtor }).connect({ host: '127.0.0.1', port: echo.port })
    const back = new Promise<number[]>((resolve) => t.onData((b) => resolve([...b])))
    t.send(Uint8Array.of(42))
    expect(await back).toEqual([42])
    t.close()

    // The stuck relay is dropped by the idle timer, freeing its slot.
    flood.proc.kill('SIGKILL')
    await waitFor(() => bridge.metrics().connectionsCurrent === 0, scaled(10_000), 'the relay to close')
    expect(bridge.metrics().closes['idle-timeout']).toBe(1)
  })

  it('an upstream sending to a client that never reads: the WebSocket queue stays bounded', { timeout: FLOOD_TEST_TIMEOUT_MS }, async () => {
    let written = 0
    let upSocket: Socket | undefined
    // The upstream writes as fast as the bridge takes it, honouring backpressure itself.
    const source = await startUpstream((s) => {
      upSocket = s
      const chunk = new Uint8Array(64 * 1024).fill(0xcd)
      const pump = (): void => {
        while (written < FLOOD_BYTES) {
          written += chunk.length
          if (!s.write(chunk)) return void s.once('drain', pump)
        }
      }
      pump()
    })
    cleanups.push(() => source.close())
    const { bridge } = await startBridge({
      allow: [`127.0.0.1:${source.port}`],
      allowPrivate: true,
      maxBufferedBytes: MAX_BUFFERED,
      maxFrameBytes: MAX_FRAME,
    })
    cleanups.push(() => bridge.close())
    const stall = child([`${bridge.url}?peer=127.0.0.1:${source.port}`, 'stall'])
    await waitFor(() => stall.lines.some((l) => l.open === true), scaled(10_000), 'the child to connect')
    const relayed = await settle(() => bridge.metrics().bytesToClient)
    const m = bridge.metrics()
    expect(m.connectionsCurrent).toBe(1)
    expect(upSocket).toBeDefined()
    expect(relayed).toBeLessThan(FLOOD_BYTES / 2)
    expect(written).toBeLessThan(FLOOD_BYTES)
    expect(m.peakBufferedToClient).toBeGreaterThan(0)
    expect(m.peakBufferedToClient).toBeLessThanOrEqual(MAX_BUFFERED + ONE_READ)
    expect(m.bufferedToClient).toBeLessThanOrEqual(MAX_BUFFERED + ONE_READ)
  })
})
