import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { TcpConnector, type TcpTransport } from '../src/index.js'
import { closed, sleep, until } from './helpers.js'

/**
 * A raw node:net server, so each test controls the far side's socket
 * directly (reset, FIN, pause) without going through TcpTransport.
 */
async function rawServer(): Promise<{ server: Server; port: number; next: () => Promise<Socket> }> {
  const sockets: Socket[] = []
  const waiting: ((s: Socket) => void)[] = []
  const server = createServer((s) => {
    s.on('error', () => {})
    rawSockets.push(s)
    const w = waiting.shift()
    if (w !== undefined) w(s)
    else sockets.push(s)
  })
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r))
  const { port } = server.address() as { port: number }
  const next = (): Promise<Socket> => {
    const s = sockets.shift()
    return s !== undefined ? Promise.resolve(s) : new Promise((r) => waiting.push(r))
  }
  return { server, port, next }
}

let servers: Server[] = []
let rawSockets: Socket[] = []
afterEach(async () => {
  for (const s of rawSockets) s.destroy()
  for (const s of servers) await new Promise((r) => s.close(r))
  servers = []
  rawSockets = []
})

async function connectedPair(options = {}): Promise<{ t: TcpTransport; s: Socket }> {
  const raw = await rawServer()
  servers.push(raw.server)
  const [t, s] = await Promise.all([new TcpConnector(options).connect({ host: '127.0.0.1', port: raw.port }), raw.next()])
  return { t, s }
}

/** Read everything `s` receives until it ends. */
function drainAll(s: Socket): Promise<number> {
  let n = 0
  return new Promise((resolve) => {
    s.on('data', (b: Uint8Array) => (n += b.length))
    s.on('end', () => resolve(n))
    s.on('close', () => resolve(n))
    s.resume()
  })
}

describe('TcpTransport close kinds', () => {
  it("maps a reset from the peer (resetAndDestroy) to 'reset' with ECONNRESET", async () => {
    const { t, s } = await connectedPair()
    const c = closed(t)
    t.onData(() => {})
    s.resetAndDestroy()
    const err = await c
    expect(err?.name).toBe('TransportError')
    expect(err?.code).toBe('reset')
    expect((err?.cause as { code?: string } | undefined)?.code).toBe('ECONNRESET')
  })

  it("maps the peer's FIN to 'remote'", async () => {
    const { t, s } = await connectedPair()
    const c = closed(t)
    t.onData(() => {})
    s.end()
    expect((await c)?.kind).toBe('remote')
  })

  it("reports a reset while sending as 'reset' and keeps send() from throwing", async () => {
    const { t, s } = await connectedPair()
    const c = closed(t)
    t.onData(() => {})
    s.resetAndDestroy()
    const chunk = new Uint8Array(64 * 1024)
    for (let i = 0; i < 50; i++) {
      expect(() => t.send(chunk)).not.toThrow()
      await sleep(1)
    }
    expect((await c)?.kind).toBe('reset')
  })

  it('fires onClose once even when FIN and errors race, and a late onClose still hears it', async () => {
    const { t, s } = await connectedPair()
    t.onData(() => {})
    s.end()
    // Our side answers the FIN with its own (allowHalfOpen false) in the same
    // turn as it reports the FIN: once the far side reads that, the close has
    // happened here. (A fixed sleep would race a busy event loop.)
    s.resume()
    await new Promise((r) => s.once('end', r))
    let calls = 0
    let arg: unknown
    t.onClose((e) => {
      calls++
      arg = e
    })
    t.close() // after the remote close: no second report
    await sleep(50)
    expect(calls).toBe(1)
    expect((arg as { kind?: string }).kind).toBe('remote')
  })
})

describe('TcpTransport reading', () => {
  it('keeps bytes that arrive before onData, and delivers them before the close', async () => {
    const { t, s } = await connectedPair()
    const events: string[] = []
    t.onClose((e) => events.push(`close:${e?.code}`))
    s.end(Uint8Array.of(1, 2, 3, 4, 5))
    await sleep(50)
    expect(events).toEqual([]) // paused: the FIN waits behind the unread bytes
    const got: number[] = []
    const done = new Promise<void>((r) =>
      t.onData((b) => {
        expect(Object.getPrototypeOf(b)).toBe(Uint8Array.prototype)
        got.push(...b)
        events.push(`data:${b.length}`)
        if (got.length === 5) r()
      }),
    )
    await done
    await until(() => events.some((e) => e.startsWith('close')), () => `the close after the data; events ${events.join(' ')}`)
    expect(got).toEqual([1, 2, 3, 4, 5])
    expect(events.at(-1)).toBe('close:remote')
    expect(events.filter((e) => e.startsWith('close')).length).toBe(1)
  })
})

describe('TcpTransport close and destroy', () => {
  it('close() flushes queued bytes, then sends FIN', async () => {
    const { t, s } = await connectedPair()
    s.pause()
    const big = new Uint8Array(16 * 1024 * 1024).fill(0xab)
    t.send(big)
    expect(t.bufferedAmount).toBeGreaterThan(0)
    t.close()
    // The peer starts reading only now: every queued byte still arrives, then the FIN.
    expect(await drainAll(s)).toBe(big.length)
    expect(await closed(t)).toBeUndefined()
  })

  it('close() gives up on a peer that stops reading after closeLingerMs', async () => {
    const { t, s } = await connectedPair({ closeLingerMs: 150 })
    s.pause()
    t.send(new Uint8Array(16 * 1024 * 1024))
    t.close()
    // The bytes cannot leave (the peer's window is full), so they stay queued...
    await sleep(50)
    expect(t.bufferedAmount).toBeGreaterThan(0)
    // ...until the linger runs out and the socket, with its queue, is destroyed.
    await sleep(250)
    expect(t.bufferedAmount).toBe(0)
    expect(await closed(t)).toBeUndefined()
  })

  it('destroy() discards queued bytes and closes at once, without an error', async () => {
    const { t, s } = await connectedPair()
    s.pause()
    const sClosed = new Promise<void>((r) => s.once('close', () => r()))
    t.send(new Uint8Array(16 * 1024 * 1024))
    t.destroy()
    expect(t.bufferedAmount).toBe(0)
    expect(await closed(t)).toBeUndefined()
    s.resume()
    await sClosed
  })

  it("close(reason) reports kind 'local' with the reason as cause", async () => {
    const { t } = await connectedPair()
    const reason = { code: 'misbehaving' }
    t.close(reason)
    const err = await closed(t)
    expect(err?.code).toBe('local')
    expect(err?.cause).toBe(reason)
  })

  it('fires onClose from a microtask, not inside close()', () => {
    return connectedPair().then(async ({ t }) => {
      let fired = false
      t.onClose(() => (fired = true))
      t.close()
      expect(fired).toBe(false)
      await Promise.resolve()
      await Promise.resolve()
      expect(fired).toBe(true)
    })
  })
})

describe('TcpTransport backpressure', () => {
  it('fires onDrain once per fill, with bufferedAmount back at 0', async () => {
    const { t, s } = await connectedPair()
    s.pause()
    const drains: number[] = []
    t.onDrain(() => drains.push(t.bufferedAmount))
    const size = 16 * 1024 * 1024
    t.send(new Uint8Array(size))
    t.send(new Uint8Array(1024))
    expect(t.bufferedAmount).toBeGreaterThan(1024)
    await sleep(50)
    expect(drains).toEqual([])
    let n = 0
    const all = new Promise<void>((r) =>
      s.on('data', (b: Uint8Array) => {
        n += b.length
        if (n === size + 1024) r()
      }),
    )
    s.resume()
    await all
    await until(() => drains.length > 0, 'onDrain')
    expect(drains).toEqual([0])
    t.close()
  })
})
