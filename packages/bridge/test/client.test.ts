// The client against fake servers (ws WebSocketServer) that misbehave in
// controlled ways, plus the close-code mapping.
import { afterEach, describe, expect, it } from 'vitest'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage } from 'node:http'
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws'
import { WsConnector, bridgeCloseError, type WebSocketConstructor } from '@bitp2p/transport-ws'
import { SUBPROTOCOL_REFUSED, SUBPROTOCOL_V1 } from '@bitp2p/transport-ws'
import { rejection, sleep, startUpstream, waitFor, WsCtor } from './helpers.js'
import { scaled } from '../../../test/harness/timing.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

/** A fake bridge: selects `protocol` and hands each connection to `onConnection`. */
async function fakeBridge(
  protocol: string | false,
  onConnection: (ws: ServerSocket, req: IncomingMessage) => void = () => {},
): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => protocol })
  await new Promise<void>((r) => wss.once('listening', () => r()))
  wss.on('connection', onConnection)
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => r())
      }),
  )
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`
}

const peer = { host: '203.0.113.7', port: 8333 }

describe('bridgeCloseError', () => {
  const cases: [code: number, connected: boolean, kind: string][] = [
    [4000, false, 'refused'],
    [4001, false, 'refused'],
    [4002, false, 'refused'],
    [4003, false, 'refused'],
    [4004, false, 'refused'],
    [4005, false, 'refused'],
    [4006, false, 'refused'],
    [1001, false, 'refused'],
    [1006, false, 'connect-failed'],
    [1000, false, 'connect-failed'],
    [4007, true, 'remote'],
    [1000, true, 'remote'],
    [4011, true, 'reset'],
    [1006, true, 'reset'],
    [1009, true, 'reset'],
    [4008, true, 'refused'],
    [4009, true, 'refused'],
    [4010, true, 'refused'],
    [1001, true, 'refused'],
  ]
  it.each(cases)('code %i (connected: %s) is kind %s', (code, connected, kind) => {
    const err = bridgeCloseError(code, 'why', connected, '203.0.113.7:8333')
    expect(err.name).toBe('TransportError')
    expect(err.kind).toBe(kind)
    expect(err.cause).toMatchObject({ code, reason: 'why' })
    expect(err.message).toContain(`${code}`)
    expect(err.message).toContain('203.0.113.7:8333')
  })
  it('names the codes of the protocol', () => {
    expect(bridgeCloseError(4005, '', false, 'x:1').cause).toEqual({ code: 4005, name: 'bad-origin', reason: '' })
    expect(bridgeCloseError(4321, '', false, 'x:1').cause).toEqual({ code: 4321, name: 'code-4321', reason: '' })
  })
})

describe('WsConnector', () => {
  it('validates its options', () => {
    expect(() => new WsConnector({ url: 'http://bridge.example/', WebSocket: WsCtor })).toThrow(TypeError)
    expect(() => new WsConnector({ url: 'not a url', WebSocket: WsCtor })).toThrow()
    expect(() => new WsConnector({ url: 'ws://b/', WebSocket: WsCtor, token: 'has space' })).toThrow(RangeError)
    expect(() => new WsConnector({ url: 'ws://b/', WebSocket: WsCtor, connectTimeoutMs: -1 })).toThrow(RangeError)
    expect(() => new WsConnector({ url: 'ws://b/', WebSocket: WsCtor, maxFrameBytes: 0 })).toThrow(RangeError)
  })

  it.skipIf(typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'undefined')(
    'explains that Node 20 needs a WebSocket constructor',
    () => {
      expect(() => new WsConnector({ url: 'ws://b/' })).toThrow(/no global WebSocket/)
    },
  )

  it('opens no socket for an already-aborted signal', async () => {
    let made = 0
    const Counting = class extends (WsCtor as unknown as new (u: string, p?: string | string[]) => object) {
      constructor(url: string, protocols?: string | string[]) {
        made++
        super(url, protocols)
      }
    } as unknown as WebSocketConstructor
    const ac = new AbortController()
    ac.abort(new Error('no'))
    const err = await rejection(new WsConnector({ url: 'ws://127.0.0.1:9/', WebSocket: Counting }).connect(peer, ac.signal))
    expect(err.kind).toBe('aborted')
    expect(made).toBe(0)
  })

  it("names the peer in the URL and offers 'bitp2p.v1', 'bitp2p.refused' and the token", async () => {
    const seen: { url: string; protocols: string[] }[] = []
    const url = await fakeBridge(SUBPROTOCOL_V1, (ws, req) => {
      const offered = String(req.headers['sec-websocket-protocol']).split(',').map((p) => p.trim())
      seen.push({ url: req.url ?? '', protocols: offered })
      ws.close(4007, 'bye')
    })
    const c = new WsConnector({ url: url + 'relay?x=1', WebSocket: WsCtor, token: 'abc.DEF_~-9' })
    const t = await c.connect({ host: '[2001:db8::1]', port: 18444 })
    expect(t.remote).toEqual({ host: '2001:db8::1', port: 18444 })
    t.close()
    expect(seen).toEqual([{ url: '/relay?x=1&peer=%5B2001%3Adb8%3A%3A1%5D%3A18444', protocols: ['bitp2p.v1', 'bitp2p.refused', 'bitp2p.token.abc.DEF_~-9'] }])
  })

  it("fails with 'connect-failed' when the server is not a bitp2p bridge or not there", async () => {
    const url = await fakeBridge(false)
    const err = await rejection(new WsConnector({ url, WebSocket: WsCtor }).connect(peer))
    expect(err.kind).toBe('connect-failed')
    const dead = await startUpstream(() => {})
    const port = dead.port
    await dead.close()
    const err2 = await rejection(new WsConnector({ url: `ws://127.0.0.1:${port}/`, WebSocket: WsCtor }).connect(peer))
    expect(err2.kind).toBe('connect-failed')
  })

  it("times out with 'timeout' when the bridge never answers the upgrade", async () => {
    // Reads (so it sees the FIN) but never answers.
    const silent = await startUpstream((s) => s.resume())
    cleanups.push(() => silent.close())
    const CONNECT_TIMEOUT_MS = 150
    const started = Date.now()
    const err = await rejection(new WsConnector({ url: `ws://127.0.0.1:${silent.port}/`, WebSocket: WsCtor, connectTimeoutMs: CONNECT_TIMEOUT_MS }).connect(peer))
    expect(err.kind).toBe('timeout')
    expect(Date.now() - started).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 10) // never early
    // The abandoned socket is closed, not left open. (On a busy machine the
    // timer can fire before the server has taken the socket from its queue.)
    await waitFor(() => silent.sockets.length > 0, scaled(2_000), 'the server to accept the socket')
    expect(silent.sockets).toHaveLength(1)
    await waitFor(() => silent.sockets[0]!.destroyed, scaled(2_000), 'the abandoned socket to close')
  })

  it("waits for the close frame after 'bitp2p.refused' and reports its code", async () => {
    const url = await fakeBridge(SUBPROTOCOL_REFUSED, (ws) => setTimeout(() => ws.close(4002, `${peer.host}:${peer.port} is private`), 30))
    const err = await rejection(new WsConnector({ url, WebSocket: WsCtor }).connect(peer))
    expect(err.kind).toBe('refused')
    expect(err.cause).toEqual({ code: 4002, name: 'private-target', reason: '203.0.113.7:8333 is private' })
  })

  it('keeps bytes that arrive before onData, in order', async () => {
    const url = await fakeBridge(SUBPROTOCOL_V1, (ws) => {
      ws.send(Uint8Array.of(1, 2))
      ws.send(Uint8Array.of(3))
    })
    const t = await new WsConnector({ url, WebSocket: WsCtor }).connect(peer)
    await sleep(50)
    const got: number[] = []
    const chunks: Uint8Array[] = []
    t.onData((b) => {
      chunks.push(b)
      got.push(...b)
    })
    await waitFor(() => got.length >= 3, scaled(2_000), 'the three bytes')
    expect(got).toEqual([1, 2, 3])
    expect(chunks.every((c) => Object.getPrototypeOf(c) === Uint8Array.prototype)).toBe(true)
    t.close()
  })

  it('splits a large send into frames of at most maxFrameBytes, bytes intact', async () => {
    const sizes: number[] = []
    const received: number[] = []
    let resolveAll!: () => void
    const all = new Promise<void>((r) => (resolveAll = r))
    const url = await fakeBridge(SUBPROTOCOL_V1, (ws) =>
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        expect(isBinary).toBe(true)
        sizes.push(data.length)
        received.push(...data)
        if (received.length === 10_000) resolveAll()
      }),
    )
    const t = await new WsConnector({ url, WebSocket: WsCtor, maxFrameBytes: 4096 }).connect(peer)
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff)
    t.send(bytes)
    await all
    expect(sizes).toEqual([4096, 4096, 1808])
    expect(Uint8Array.from(received)).toEqual(bytes)
    t.close()
  })

  it("treats a text frame from the bridge as a protocol error (kind 'reset')", async () => {
    const url = await fakeBridge(SUBPROTOCOL_V1, (ws) => setTimeout(() => ws.send('not binary'), 20))
    const t = await new WsConnector({ url, WebSocket: WsCtor }).connect(peer)
    const got: Uint8Array[] = []
    t.onData((b) => got.push(b))
    const err = await new Promise((r) => t.onClose(r))
    expect(err).toMatchObject({ name: 'TransportError', code: 'reset' })
    expect((err as Error).message).toContain('text frame')
    expect(got).toHaveLength(0)
  })
})
