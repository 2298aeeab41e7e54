// The client in headless Chromium, on the browser's own WebSocket, through
// bridges started by test/bridge.global.ts to a TCP echo upstream.
import { describe, expect, inject, it } from 'vitest'
import type { TransportError } from '@bitp2p/session'
import { WsConnector } from '@bitp2p/transport-ws'

const echo = { host: '127.0.0.1', port: inject('echoPort') }

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p
  } catch (e) {
    return e as TransportError
  }
  throw new Error('expected a rejection')
}

describe('WsConnector in the browser', () => {
  it('runs in real headless Chromium, not Node', () => {
    expect(navigator.userAgent).toMatch(/HeadlessChrome\/\d+/)
    expect(typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node).toBe('undefined')
    expect(typeof WebSocket).toBe('function')
  })

  it('round-trips bytes through the bridge to a TCP echo upstream', async () => {
    // No WebSocket option: the browser's own is used.
    const t = await new WsConnector({ url: inject('openBridgeUrl') }).connect(echo)
    expect(t.remote).toEqual(echo)
    const sent = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 13 + 5) & 0xff)
    const received = new Uint8Array(sent.length)
    let n = 0
    const done = new Promise<void>((resolve) =>
      t.onData((b) => {
        expect(Object.getPrototypeOf(b)).toBe(Uint8Array.prototype)
        received.set(b, n)
        n += b.length
        if (n === sent.length) resolve()
      }),
    )
    t.send(sent)
    // The browser reports its send queue; it drains to 0.
    const drained = new Promise<void>((resolve) => t.onDrain(resolve))
    await done
    if (t.bufferedAmount > 0) await drained
    expect(t.bufferedAmount).toBe(0)
    expect(received).toEqual(sent)
    const closed = new Promise((r) => t.onClose(r))
    t.close()
    expect(await closed).toBeUndefined()
  })

  it("gets a typed 'refused' error for a target off the allowlist", async () => {
    const port = inject('refusedPort')
    const err = await rejection(new WsConnector({ url: inject('openBridgeUrl') }).connect({ host: '127.0.0.1', port }))
    expect(err.name).toBe('TransportError')
    expect(err.kind).toBe('refused')
    expect(err.cause).toEqual({ code: 4001, name: 'not-allowed', reason: `127.0.0.1:${port} is not on the allowlist` })
  })

  it('sends the token as a subprotocol: 4004 without it, past the check (4002 private-target) with it', async () => {
    const url = inject('strictBridgeUrl')
    const noToken = await rejection(new WsConnector({ url }).connect(echo))
    expect(noToken).toMatchObject({ code: 'refused', cause: { code: 4004, name: 'unauthorized' } })
    const withToken = await rejection(new WsConnector({ url, token: inject('strictToken') }).connect(echo))
    expect(withToken).toMatchObject({ code: 'refused', cause: { code: 4002, name: 'private-target' } })
  })

  it("reports an unreachable bridge as 'connect-failed'", async () => {
    const err = await rejection(new WsConnector({ url: 'ws://127.0.0.1:1/' }).connect(echo))
    expect(err.kind).toBe('connect-failed')
  })
})
