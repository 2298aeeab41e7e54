// The bridge's security rules, limits, close codes, metrics and logs,
// driven through the real client (with the `ws` constructor) on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'node:http'
import { WebSocket as NodeWebSocket } from 'ws'
import { encodeFrame } from '@bitp2p/wire/codecs'
import type { Transport, TransportError } from '@bitp2p/session'
import { WsConnector, type BridgeCloseInfo, type WebSocketConstructor } from '@bitp2p/transport-ws'
import type { Bridge } from '../src/bridge.js'
import { BridgeCloseCode, SUBPROTOCOL_REFUSED, SUBPROTOCOL_V1 } from '@bitp2p/transport-ws'
import { rejection, sleep, startBridge, startEcho, startUpstream, waitFor, WsCtor, type Upstream } from './helpers.js'
import { scaled } from '../../../test/harness/timing.js'

const REGTEST_MAGIC = Uint8Array.of(0xfa, 0xbf, 0xb5, 0xda)

/** Everything a test started, stopped after it. */
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

async function echo(): Promise<Upstream> {
  const u = await startEcho()
  cleanups.push(() => u.close())
  return u
}

async function bridgeWith(options: Parameters<typeof startBridge>[0]) {
  const b = await startBridge(options)
  cleanups.push(() => b.bridge.close())
  return b
}

const connector = (bridge: Bridge, extra: { token?: string; WebSocket?: WebSocketConstructor; connectTimeoutMs?: number } = {}) =>
  new WsConnector({ url: bridge.url, WebSocket: WsCtor, connectTimeoutMs: scaled(5_000), ...extra })

const info = (err: TransportError): BridgeCloseInfo => err.cause as BridgeCloseInfo

/** Send bytes and read the same number back (the upstream echoes). */
async function roundTrip(t: Transport, bytes: Uint8Array): Promise<Uint8Array> {
  const got: number[] = []
  const done = new Promise<void>((resolve) =>
    t.onData((chunk) => {
      got.push(...chunk)
      if (got.length >= bytes.length) resolve()
    }),
  )
  t.send(bytes)
  await done
  return Uint8Array.from(got)
}

/** Resolves with the first onClose argument. */
const closed = (t: Transport): Promise<TransportError | undefined> => new Promise((r) => t.onClose(r))

/** A raw `ws` client (no bitp2p client logic): resolves with the close code and reason. */
function rawClose(url: string, protocols: string[], onOpen?: (ws: NodeWebSocket) => void): Promise<{ code: number; reason: string; protocol: string }> {
  return new Promise((resolve) => {
    const ws = new NodeWebSocket(url, protocols)
    ws.on('error', () => {})
    ws.on('open', () => onOpen?.(ws))
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), protocol: ws.protocol }))
  })
}

describe('bridge: refusals', () => {
  it('refuses a target outside the allowlist with 4001, and stays healthy', async () => {
    const up = await echo()
    const { bridge, events } = await bridgeWith({ allow: [`127.0.0.1:${up.port}`], allowPrivate: true })
    const c = connector(bridge)
    const err = await rejection(c.connect({ host: '127.0.0.1', port: up.port + 1 === 65536 ? 1 : up.port + 1 }))
    expect(err.name).toBe('TransportError')
    expect(err.kind).toBe('refused')
    expect(info(err)).toMatchObject({ code: 4001, name: 'not-allowed' })
    expect(err.message).toContain('4001 not-allowed')
    // Nothing reached the upstream; a good connection still works.
    expect(up.sockets).toHaveLength(0)
    const t = await c.connect({ host: '127.0.0.1', port: up.port })
    expect(await roundTrip(t, Uint8Array.of(1, 2, 3))).toEqual(Uint8Array.of(1, 2, 3))
    t.close()
    expect(bridge.metrics().refusals['not-allowed']).toBe(1)
    expect(events.find((e) => e.event === 'refused')).toMatchObject({ code: 4001, name: 'not-allowed', client: '127.0.0.1' })
  })

  it('refuses an allowlisted loopback target without allowPrivate with 4002', async () => {
    const up = await echo()
    const { bridge } = await bridgeWith({ allow: [`127.0.0.1:${up.port}`, `[::1]:${up.port}`, `[::ffff:127.0.0.1]:${up.port}`] })
    const c = connector(bridge)
    for (const host of ['127.0.0.1', '::1', '[::ffff:127.0.0.1]']) {
      const err = await rejection(c.connect({ host, port: up.port }))
      expect(err.kind).toBe('refused')
      expect(info(err)).toMatchObject({ code: 4002, name: 'private-target' })
      expect(info(err).reason).toContain('loopback')
    }
    expect(up.sockets).toHaveLength(0)
    expect(bridge.metrics().refusals['private-target']).toBe(3)
  })

  it('refuses a DNS name that resolves to a disallowed address, and connects to the checked address only', async () => {
    const up = await echo()
    const lookups: string[] = []
    const table: Record<string, string[]> = {
      'good.test': ['127.0.0.1'],
      // One listed address and one not: the whole name is refused.
      'mixed.test': ['127.0.0.1', '10.1.2.3'],
      // Not listed by name; its only address is listed.
      'alias.test': ['127.0.0.1'],
    }
    const resolve = async (name: string): Promise<string[]> => {
      lookups.push(name)
      const a = table[name]
      if (a === undefined) throw new Error('ENOTFOUND')
      return a
    }
    // With allowPrivate: the allowlist decides.
    const open = await bridgeWith({ allow: [`good.test:${up.port}`, `127.0.0.1:${up.port}`], allowPrivate: true, resolve })
    const c = connector(open.bridge)
    const mixed = await rejection(c.connect({ host: 'mixed.test', port: up.port }))
    expect(info(mixed)).toMatchObject({ code: 4001, name: 'not-allowed' })
    expect(info(mixed).reason).not.toContain('10.1.2.3') // internal addresses stay out of the reason
    const unknown = await rejection(c.connect({ host: 'nowhere.test', port: up.port }))
    expect(info(unknown).code).toBe(4001)
    const good = await c.connect({ host: 'GOOD.test', port: up.port })
    expect(good.remote).toEqual({ host: 'GOOD.test', port: up.port })
    expect(await roundTrip(good, Uint8Array.of(7))).toEqual(Uint8Array.of(7))
    good.close()
    const alias = await c.connect({ host: 'alias.test', port: up.port })
    alias.close()
    // One lookup per attempt: the bridge never resolves a name twice.
    expect(lookups).toEqual(['mixed.test', 'nowhere.test', 'good.test', 'alias.test'])
    expect(open.events.filter((e) => e.event === 'open').map((e) => (e as { upstream: string }).upstream)).toEqual([
      `127.0.0.1:${up.port}`,
      `127.0.0.1:${up.port}`,
    ])

    // Without allowPrivate: a listed name resolving to loopback is refused.
    const strict = await bridgeWith({ allow: [`good.test:${up.port}`], resolve })
    const err = await rejection(connector(strict.bridge).connect({ host: 'good.test', port: up.port }))
    expect(info(err)).toMatchObject({ code: 4002, name: 'private-target' })
    expect(up.sockets).toHaveLength(2)
  })

  it('limits connections per client address (4003) and in total (4003)', async () => {
    const up = await echo()
    const { bridge } = await bridgeWith({ allow: [`127.0.0.1:${up.port}`], allowPrivate: true, maxPerIp: 2 })
    const c = connector(bridge)
    const peer = { host: '127.0.0.1', port: up.port }
    const a = await c.connect(peer)
    const b = await c.connect(peer)
    const err = await rejection(c.connect(peer))
    expect(err.kind).toBe('refused')
    expect(info(err)).toMatchObject({ code: 4003, name: 'too-many-connections' })
    expect(info(err).reason).toContain('your address')
    // A slot frees when a connection ends.
    const bClosed = closed(b)
    b.close()
    await bClosed
    await waitFor(() => bridge.metrics().connectionsCurrent === 1, scaled(5_000), 'the bridge to see the close')
    const d = await c.connect(peer)
    expect(await roundTrip(d, Uint8Array.of(4))).toEqual(Uint8Array.of(4))
    a.close()
    d.close()

    const total = await bridgeWith({ allow: [`127.0.0.1:${up.port}`], allowPrivate: true, maxConnections: 1 })
    const c2 = connector(total.bridge)
    const only = await c2.connect(peer)
    const err2 = await rejection(c2.connect(peer))
    expect(info(err2)).toMatchObject({ code: 4003 })
    expect(info(err2).reason).toContain('connection limit')
    only.close()
    expect(bridge.metrics().refusals['too-many-connections']).toBe(1)
    expect(total.bridge.metrics().refusals['too-many-connections']).toBe(1)
  })

  it('requires the token (4004), compared as a subprotocol, never echoed back', async () => {
    const up = await echo()
    const { bridge } = await bridgeWith({ allow: [`127.0.0.1:${up.port}`], allowPrivate: true, token: 's3cret-Token_1' })
    const peer = { host: '127.0.0.1', port: up.port }
    const none = await rejection(connector(bridge).connect(peer))
    expect(info(none)).toMatchObject({ code: 4004, name: 'unauthorized' })
    const wrong = await rejection(connector(bridge, { token: 's3cret-Token_2' }).connect(peer))
    expect(info(wrong)).toMatchObject({ code: 4004, name: 'unauthorized' })
    const t = await connector(bridge, { token: 's3cret-Token_1' }).connect(peer)
    expect(await roundTrip(t, Uint8Array.of(9, 9))).toEqual(Uint8Array.of(9, 9))
    t.close()
    // The raw handshake: the selected protocol is the verdict, not the token.
    const raw = await rawClose(`${bridge.url}?peer=127.0.0.1:${up.port}`, [SUBPROTOCOL_V1, 'bitp2p.token.s3cret-Token_1'], (ws) => ws.close())
    expect(raw.protocol).toBe(SUBPROTOCOL_V1)
    expect(bridge.metrics().refusals.unauthorized).toBe(2)
    expect(up.sockets).toHaveLength(2)
  })

  it('checks the Origin (4005) when origins are configured', async () => {
    const up = await echo()
    const { bridge } = await bridgeWith({ allow: [`127.0.0.1:${up.port}`], allowPrivate: true, origins: ['https://app.example'] })
    const withOrigin = (origin: string): WebSocketConstructor =>
      class extends NodeWebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { origin })
        }
      } as unknown as WebSocketConstructor
    const peer = { host: '127.0.0.1', port: up.port }
    const evil = await rejection(connector(bridge, { WebSocket: withOrigin('https://evil.example') }).connect(peer))
    expect(info(evil)).toMatchObject({ code: 4005, name: 'bad-origin' })
    // No Origin header at all (a non-browser client) is refused too.
    const missing = await rejection(connector(bridge).connect(peer))
    expect(info(missing).code).toBe(4005)
    const t = await connector(bridge, { WebSocket: withOrigin('https://app.example') }).connect(peer)
    t.close()
    expect(bridge.metrics().refusals['bad-origin']).toBe(2)
  })

  it('refuses a malformed request (4000) and reports a failed upstream connect (4006)', async () => {
    const up = await echo()
    // A port with nothing listening: take a free one and release it.
    const dead = await startUpstream(() => {})
    const deadPort = dead.port
    await dead.close()
    const { bridge } = await bridgeWith({ allow: [`127.0.0.1:${up.port}`, `127.0.0.1:${deadPort}`], allowPrivate: true })
    const noPeer = await rawClose(bridge.url, [SUBPROTOCOL_V1, SUBPROTOCOL_REFUSED])
    expect(noPeer).toMatchObject({ code: 4000, protocol: SUBPROTOCOL_REFUSED })
    const badPeer = await rawClose(`${bridge.url}?peer=${encodeURIComponent('::1:80')}`, [SUBPROTOCOL_V1, SUBPROTOCOL_REFUSED])
    expect(badPeer.code).toBe(4000)
    // A client that does not speak bitp2p.v1 is refused too (no subprotocol selected).
    const noProto = await rawClose(`${bridge.url}?peer=127.0.0.1:${up.port}`, [])
    expect(noProto).toMatchObject({ code: 4000, protocol: '' })
    const err = await rejection(connector(bridge).connect({ host: '127.0.0.1', port: deadPort }))
    expect(err.kind).toBe('refused')
    expect(info(err)).toMatchObject({ code: 4006, name: 'upstream-connect-failed' })
    expect(info(err).reason).toContain('ECONNREFUSED')
    const m = bridge.metrics()
    expect(m.refusals['bad-request']).toBe(3)
    expect(m.refusals['upstream-connect-failed']).toBe(1)
    expect(m.connectionsPending).toBe(0)
  })
})

describe('bridge: relaying and closes', () => {
  it("maps the upstream's FIN to 4007 (kind 'remote') after delivering its last bytes", async () => {
    const up = await startUpstream((s) => s.end(Uint8Array.of(5, 6, 7)))
    cleanups.push(() => up.close())
    const { bridge, events } = await bridgeWith({ allow: [`127.0.0.1:${up.port}`], allowPrivate: true })
    const t = await connector(bridge).connect({ host: '127.0.0.1', port: up.port })
    const got: number[] = []
    t.onData((b) => got.push(...b))
    const err = await closed(t)
    expect(got).toEqual([5, 6, 7])
    expect(err?.code).toBe('remote')
    expect(info(err!)).toMatchObject({ code: 4007, name: 'upstream-closed' })
    await waitFor(() => events.some((e) => e.event === 'close'))
    expect(events.find((e) => e.event === 'close')).toMatchObject({ code: 4007, bytesToClient: 3, bytesToUpstream: 0 })
    expect(bridge.metrics().closes['upstream-closed']).toBe(1)
  })

  it("maps an upstream reset to 4011 (kind 'reset')", async () => {
    const up = await startUpstream((s) => setTimeout(() => s.resetAndDestroy(), 20))
    cleanups.push(() => up.close())
    const { bridge } = await bridgeWith({ allow: [`127.0.0.1:${up.port}`], allowPrivate: true })
    const t = await connector(bridge).connect({ host: '127.0.0.1', port: up.port })
    const err = await closed(t)
    expect(err?.code).toBe('reset')
    expect(info(err!)).toMatchObject({ code: 4011, name: 'upstream-reset' })
    expect(info(err!).reason).toContain('ECONNRESET')
  })

  it('closes an idle connection with 4008, and counts bytes both ways while active', async () => {
    // The idle timeout is ten gaps long, and scaled, so a busy event loop
    // stretching one gap does not close the connection early.
    const IDLE_MS = scaled(1_000)
    const GAP_MS = 100
    const up = await echo()
    const { bridge } = await bridgeWith({ allow: [`127.0.0.1:${up.port}`], allowPrivate: true, idleTimeoutMs: IDLE_MS })
    const t = await connector(bridge).connect({ host: '127.0.0.1', port: up.port })
    const done = closed(t)
    // Traffic every GAP_MS keeps it open for longer than the timeout...
    const started = performance.now()
    let rounds = 0
    while (performance.now() - started < IDLE_MS + 2 * GAP_MS) {
      expect(await roundTrip(t, Uint8Array.of(rounds & 0xff))).toEqual(Uint8Array.of(rounds & 0xff))
      rounds++
      await sleep(GAP_MS)
    }
    expect(bridge.metrics().connectionsCurrent).toBe(1)
    // ...silence closes it.
    const err = await done
    expect(err?.code).toBe('refused')
    expect(info(err!)).toMatchObject({ code: 4008, name: 'idle-timeout' })
    const m = bridge.metrics()
    expect(m.bytesToUpstream).toBe(rounds)
    expect(m.bytesToClient).toBe(rounds)
    await waitFor(() => bridge.metrics().closes['idle-timeout'] === 1)
  })

  it('relays valid P2P frames and drops a client sending garbage with 4009 (validateFraming, v2 off)', async () => {
    const up = await echo()
    const { bridge } = await bridgeWith({
      allow: [`127.0.0.1:${up.port}`],
      allowPrivate: true,
      validateFraming: { magic: REGTEST_MAGIC, maxMessageBytes: 4_000_000, v2: false },
    })
    const c = connector(bridge)
    const peer = { host: '127.0.0.1', port: up.port }
    const t = await c.connect(peer)
    const ping = encodeFrame(REGTEST_MAGIC, 'ping', Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))
    // Split mid-header and mid-payload: validation is streaming.
    const got = roundTrip(t, ping)
    await sleep(0)
    expect(await got).toEqual(ping)
    t.close()

    const bad = await c.connect(peer)
    const done = closed(bad)
    bad.send(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'))
    const err = await done
    expect(err?.code).toBe('refused')
    expect(info(err!)).toMatchObject({ code: 4009, name: 'framing-violation' })
    expect(info(err!).reason).toContain('BAD_MAGIC')

    // A frame with a wrong checksum is caught too.
    const corrupt = encodeFrame(REGTEST_MAGIC, 'ping', Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))
    corrupt[corrupt.length - 1]! ^= 1
    const bad2 = await c.connect(peer)
    const done2 = closed(bad2)
    bad2.send(corrupt)
    expect(info((await done2)!).reason).toContain('BAD_CHECKSUM')
    await waitFor(() => bridge.metrics().closes['framing-violation'] === 2)
  })

  it('with v2 (the default) a stream that does not start with the magic is BIP324 ciphertext: relayed unread, counted; v1 streams are still checked', async () => {
    const up = await echo()
    const { bridge } = await bridgeWith({
      allow: [`127.0.0.1:${up.port}`],
      allowPrivate: true,
      validateFraming: { magic: REGTEST_MAGIC, maxMessageBytes: 4_000_000 },
    })
    const c = connector(bridge)
    const peer = { host: '127.0.0.1', port: up.port }
    // A v2 initiator's first bytes: a 64-byte key and garbage, random-looking.
    const key = Uint8Array.from({ length: 200 }, (_, i) => (i * 97 + 13) & 0xff)
    const t = await c.connect(peer)
    const got = roundTrip(t, key)
    expect(await got).toEqual(key)
    t.close()
    await waitFor(() => bridge.metrics().v2Connections === 1)
    // A stream that starts as v1 and then breaks its framing is still refused.
    const corrupt = encodeFrame(REGTEST_MAGIC, 'ping', Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))
    corrupt[corrupt.length - 1]! ^= 1
    const bad = await c.connect(peer)
    const done = closed(bad)
    bad.send(corrupt)
    expect(info((await done)!).reason).toContain('BAD_CHECKSUM')
    expect(bridge.metrics().v2Connections).toBe(1)
  })

  it('closes a client that sends a text frame with 1003', async () => {
    const up = await echo()
    const { bridge } = await bridgeWith({ allow: [`127.0.0.1:${up.port}`], allowPrivate: true })
    const r = await rawClose(`${bridge.url}?peer=127.0.0.1:${up.port}`, [SUBPROTOCOL_V1], (ws) => ws.send('hello'))
    expect(r.code).toBe(1003)
    await waitFor(() => bridge.metrics().closes['unsupported-data'] === 1)
    expect(bridge.metrics().bytesToUpstream).toBe(0)
  })

  it('closes a client frame over maxFrameBytes with 1009, and logs the code the client received', async () => {
    const up = await echo()
    const { bridge } = await bridgeWith({ allow: [`127.0.0.1:${up.port}`], allowPrivate: true, maxFrameBytes: 1_024 })
    const r = await rawClose(`${bridge.url}?peer=127.0.0.1:${up.port}`, [SUBPROTOCOL_V1], (ws) => ws.send(new Uint8Array(1_025)))
    expect(r.code).toBe(1009)
    await waitFor(() => Object.keys(bridge.metrics().closes).length > 0)
    expect(bridge.metrics().closes).toEqual({ 'message-too-big': 1 })
    expect(bridge.metrics().bytesToUpstream).toBe(0)
  })

  it('shuts down cleanly: every connection gets 1001, new ones are refused, close() resolves', async () => {
    const up = await echo()
    const { bridge, events } = await startBridge({ allow: [`127.0.0.1:${up.port}`], allowPrivate: true })
    cleanups.push(() => up.close())
    const c = connector(bridge)
    const peer = { host: '127.0.0.1', port: up.port }
    const ts = await Promise.all([c.connect(peer), c.connect(peer)])
    const errs = Promise.all(ts.map(closed))
    await bridge.close()
    for (const err of await errs) {
      expect(err?.code).toBe('refused')
      expect(info(err!)).toMatchObject({ code: 1001, name: 'going-away' })
    }
    expect(bridge.metrics().connectionsCurrent).toBe(0)
    expect(bridge.metrics().closes['going-away']).toBe(2)
    expect(events.at(-1)).toEqual({ event: 'shutdown', connections: 2 })
    const after = await rejection(c.connect(peer))
    expect(after.kind).toBe('connect-failed')
    await bridge.close() // idempotent
  })

  it('abandons the upstream connect when the client gives up while the bridge is still checking', async () => {
    const up = await echo()
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const { bridge, events } = await bridgeWith({
      allow: [`slow.test:${up.port}`],
      allowPrivate: true,
      resolve: async () => {
        await gate
        return ['127.0.0.1']
      },
    })
    const ac = new AbortController()
    const p = connector(bridge).connect({ host: 'slow.test', port: up.port }, ac.signal)
    await waitFor(() => bridge.metrics().connectionsPending === 1)
    ac.abort(new Error('user gave up'))
    const err = await rejection(p)
    expect(err.kind).toBe('aborted')
    await waitFor(() => bridge.metrics().connectionsPending === 0, scaled(5_000), 'the slot to be released')
    release()
    await waitFor(() => events.some((e) => e.event === 'abandoned'))
    await sleep(50)
    expect(up.sockets).toHaveLength(0)
    expect(bridge.metrics().connectionsCurrent).toBe(0)
  })

  it('serves a health check over plain HTTP and answers 426 otherwise', async () => {
    const { bridge } = await bridgeWith({ allow: [] })
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: bridge.address.port, path }, (res) => {
          let body = ''
          res.on('data', (d) => (body += d))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        })
        req.on('error', reject)
        req.end()
      })
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' })
    expect((await get('/')).status).toBe(426)
  })

  it('refuses everything with the default empty allowlist and keeps exact refusal counts', async () => {
    const up = await echo()
    const { bridge } = await bridgeWith({ allow: [], allowPrivate: true })
    const c = connector(bridge)
    for (let i = 0; i < 3; i++) {
      const err = await rejection(c.connect({ host: '127.0.0.1', port: up.port }))
      expect(info(err).code).toBe(BridgeCloseCode.notAllowed)
    }
    const m = bridge.metrics()
    expect(m.refusals).toEqual({
      'bad-request': 0,
      'not-allowed': 3,
      'private-target': 0,
      'too-many-connections': 0,
      unauthorized: 0,
      'bad-origin': 0,
      'upstream-connect-failed': 0,
      'going-away': 0,
    })
    expect(m.connectionsTotal).toBe(0)
    expect(up.sockets).toHaveLength(0)
  })
})
